//! Seed section "Event" (日程): schedule, edit, delete, view, list, subscribe, start.

use actix_web::web;
use huddle_actors::bus::Notification;
use huddle_actors::notices;
use huddle_actors::repo::event::{
    CreateEvent, DeleteEvent, Event, EventDraft, EventView, GetEvent, ListEvents, StartEvent,
    Subscribe, UpdateEvent,
};
use huddle_actors::repo::profile::GetUserViews;
use huddle_actors::repo::room::Room;
use huddle_actors::scheduler::{Schedule, Unschedule};
use huddle_actors::{EventId, RoomId, Uid};
use serde::Serialize;
use utoipa::ToSchema;

use super::inputs::{inputs, EventDesc, EventName, FromParams, MemberUids, Millis};
use super::openapi::{envelope, of, Method, Res, RouteDoc, Tag, BASE, EMPTY, P_EVENT};
use super::pagination::{self, KeysetPage};
use super::path_id;
use super::room::live_room_json;
use super::views::EventJson;
use crate::auth::Profiled;
use crate::envelope::{ok, ApiError, ApiResult, BusinessCode, Empty, SUCCESS};
use crate::state::AppState;

inputs! {
    /// `POST /event`, `PUT /event/{eventId}`.
    pub struct EventFields {
        name: required EventName = "name", Body, "Title (标题).";
        desc: optional EventDesc = "desc", Body, "Description (介绍).";
        event_time: required Millis = "eventTime", Body, "When it starts, ms since the epoch; must be in the future.";
        member_uid_list: required MemberUids = "memberUidList", Body, "Hosts and guests (主持人或者嘉宾): 1 or more uids of existing users, e.g. `[\"uid1\",\"uid2\"]`.";
    }
}

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/event",
        handler: Some(|r| r.to(create_event)),
        tags: &[Tag::Event],
        summary: "Schedule an event (创建日程)",
        input: &[EventFields::PARAMS],
        reply: envelope(Res::Schema(of::<EventJson>()), SUCCESS),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/event/{eventId}",
        handler: Some(|r| r.to(update_event)),
        tags: &[Tag::Event],
        summary: "Edit an event, creator only (编辑日程)",
        params: &[P_EVENT],
        input: &[EventFields::PARAMS],
        reply: envelope(Res::Schema(of::<EventJson>()), SUCCESS),
        codes: &[BusinessCode::EventNotFound, BusinessCode::UserNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/event/{eventId}",
        handler: Some(|r| r.to(delete_event)),
        tags: &[Tag::Event],
        summary: "Delete an event, creator only (删除日程)",
        params: &[P_EVENT],
        reply: EMPTY,
        codes: &[BusinessCode::EventNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/event/{eventId}",
        handler: Some(|r| r.to(get_event)),
        tags: &[Tag::Event],
        summary: "An event (获取日程)",
        params: &[P_EVENT],
        reply: envelope(Res::Schema(of::<EventJson>()), SUCCESS),
        codes: &[BusinessCode::EventNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/event",
        handler: Some(|r| r.to(list_events)),
        tags: &[Tag::Event],
        summary: "Events, a page (分页获取日程列表)",
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<EventItem>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/event/{eventId}/notify",
        handler: Some(|r| r.to(notify)),
        tags: &[Tag::Event],
        summary: "Subscribe to an event's reminder (预约日程)",
        description: "At `eventTime` every subscriber and member gets a message and a realtime push.",
        params: &[P_EVENT],
        reply: EMPTY,
        codes: &[BusinessCode::EventNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/event/{eventId}/start",
        handler: Some(|r| r.to(start)),
        tags: &[Tag::Event],
        summary: "Open a room from an event, creator only (通过日程开始活动)",
        description: "The result carries `eventTimeStatus` 1, `roomId` and `roomResult`; subscribers are told.",
        params: &[P_EVENT],
        reply: envelope(Res::Schema(of::<EventJson>()), SUCCESS),
        codes: &[BusinessCode::EventNotFound],
        errors: &[403],
        ..BASE
    },
];

/// [`EventFields`], with an `eventTime` in the future and members who exist.
async fn event_input(state: &AppState, call: &Profiled) -> Result<EventDraft, ApiError> {
    let fields = EventFields::from_params(&call.params)?;
    let Millis(event_time) = fields.event_time;
    if event_time <= state.clock.now_ms() {
        return Err(ApiError::BadRequest(
            "eventTime must be in the future".into(),
        ));
    }
    let members = fields.member_uid_list.into_vec();
    let known = state
        .repo
        .run(GetUserViews {
            viewer: call.uid.clone(),
            uids: members.clone(),
        })
        .await?;
    if known.len() != members.len() {
        return Err(ApiError::business(BusinessCode::UserNotFound));
    }
    Ok(EventDraft {
        name: fields.name.into_string(),
        description: fields.desc.map(EventDesc::into_string).unwrap_or_default(),
        event_time,
        members,
    })
}

fn not_found() -> ApiError {
    ApiError::business(BusinessCode::EventNotFound)
}

/// The event as `viewer` sees it; 600000 when there is none.
pub async fn existing_event(
    state: &AppState,
    event_id: &EventId,
    viewer: &Uid,
) -> Result<EventView, ApiError> {
    state
        .repo
        .run(GetEvent {
            event_id: event_id.clone(),
            viewer: viewer.clone(),
        })
        .await?
        .ok_or_else(not_found)
}

/// The creator's own event (403 for anyone else).
async fn own_event(state: &AppState, call: &Profiled, path: &str) -> Result<EventView, ApiError> {
    let event_id = path_id(path, EventId::parse)?;
    let view = existing_event(state, &event_id, &call.uid).await?;
    if view.event.uid != call.uid {
        return Err(ApiError::Forbidden(
            "only the event's creator can do this".into(),
        ));
    }
    Ok(view)
}

/// The seed's event view (with its room, when started) for `viewer`.
pub async fn event_json(
    state: &AppState,
    view: &EventView,
    viewer: &Uid,
) -> Result<EventJson, ApiError> {
    let room = match &view.room {
        Some(room) => Some(live_room_json(state, room, viewer).await?),
        None => None,
    };
    Ok(EventJson::new(&view.event, view.notify, room))
}

/// Arms the reminder unless it already went out.
fn schedule(state: &AppState, event: &Event) {
    if event.reminded_at.is_none() {
        state.scheduler.do_send(Schedule {
            event_id: event.event_id.clone(),
            at: event.event_time,
        });
    }
}

async fn create_event(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let draft = event_input(&state, &call).await?;
    let event = state
        .repo
        .run(CreateEvent {
            event_id: EventId::new(),
            uid: call.uid.clone(),
            draft,
            now: state.clock.now_ms(),
        })
        .await?;
    schedule(&state, &event);
    ok(EventJson::new(&event, false, None))
}

async fn update_event(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let view = own_event(&state, &call, &path).await?;
    let draft = event_input(&state, &call).await?;
    let event = state
        .repo
        .run(UpdateEvent {
            event_id: view.event.event_id.clone(),
            draft,
            now: state.clock.now_ms(),
        })
        .await?
        .ok_or_else(not_found)?;
    schedule(&state, &event);
    let view = existing_event(&state, &event.event_id, &call.uid).await?;
    ok(event_json(&state, &view, &call.uid).await?)
}

async fn delete_event(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let view = own_event(&state, &call, &path).await?;
    let event_id = view.event.event_id;
    state.scheduler.do_send(Unschedule {
        event_id: event_id.clone(),
    });
    if !state.repo.run(DeleteEvent { event_id }).await? {
        return Err(not_found());
    }
    ok(Empty {})
}

async fn get_event(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let event_id = path_id(&path, EventId::parse)?;
    let view = existing_event(&state, &event_id, &call.uid).await?;
    ok(event_json(&state, &view, &call.uid).await?)
}

/// A `GET /event` item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventItem {
    /// The event (32 hex).
    event_id: String,
    /// The event.
    event_result: EventJson,
    /// The event's creation time (ms since the epoch), as in the seed's example.
    event_time: i64,
    /// Cursor: pass as `lastId` for the next page.
    sequence_id: String,
}

async fn list_events(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let (state, viewer) = (&**state, &call.uid);
    let uid = call.uid.clone();
    pagination::keyset_list(
        state,
        &call.params,
        |page| ListEvents { viewer: uid, page },
        |view: EventView| async move {
            Ok(EventItem {
                event_id: view.event.event_id.to_string(),
                event_result: event_json(state, &view, viewer).await?,
                event_time: view.event.created_at,
                sequence_id: pagination::sequence_id(
                    view.event.created_at,
                    view.event.event_id.as_str(),
                ),
            })
        },
    )
    .await
}

async fn notify(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let event_id = path_id(&path, EventId::parse)?;
    let found = state
        .repo
        .run(Subscribe {
            event_id,
            uid: call.uid.clone(),
            now: state.clock.now_ms(),
        })
        .await?;
    if !found {
        return Err(not_found());
    }
    ok(Empty {})
}

async fn start(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let view = own_event(&state, &call, &path).await?;
    let now = state.clock.now_ms();
    let opened = RoomId::new();
    let new_room = Room {
        room_id: opened.clone(),
        uid: call.uid.clone(),
        name: view.event.name.clone(),
        club_id: None,
        invite_only: false,
        created_at: now,
        closed_at: None,
    };
    let (event, room, messages) = state
        .repo
        .run(StartEvent {
            event_id: view.event.event_id.clone(),
            new_room,
            compose: notices::event_started,
            now,
        })
        .await?
        .ok_or_else(not_found)?;
    state.rooms.start(room.clone(), Default::default());
    let recipients = messages.iter().map(|d| d.message.uid.clone()).collect();
    state.publish_messages(messages);
    if room.room_id == opened {
        state.bus.publish(Notification::EventStarted {
            event_id: event.event_id.clone(),
            name: event.name.clone(),
            room_id: room.room_id.clone(),
            recipients,
        });
    }
    let room_json = live_room_json(&state, &room, &call.uid).await?;
    ok(EventJson::new(&event, view.notify, Some(room_json)))
}
