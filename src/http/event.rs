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

use super::pagination::{self, PageResult};
use super::path_id;
use super::room::room_json;
use super::views::{EventJson, RoomJson};
use crate::auth::{text_limit, Params, Profiled};
use crate::envelope::{ok, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// Event name limit (characters).
pub const NAME_MAX: usize = 100;
/// Event description limit (characters).
pub const DESC_MAX: usize = 300;
/// Most hosts/guests per event.
pub const MEMBERS_MAX: usize = 20;

/// `/event/*`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/event").post(create_event).get(list_events))
        .service(
            web::resource("/event/{eventId}")
                .get(get_event)
                .put(update_event)
                .delete(delete_event),
        )
        .service(web::resource("/event/{eventId}/notify").post(notify))
        .service(web::resource("/event/{eventId}/start").post(start));
}

async fn event_input(state: &AppState, call: &Profiled) -> Result<EventDraft, ApiError> {
    let params: &Params = &call.params;
    let name = text_limit("name", params.required("name")?, NAME_MAX)?.to_owned();
    let description =
        text_limit("desc", params.optional("desc").unwrap_or(""), DESC_MAX)?.to_owned();
    let event_time = params.int("eventTime")?;
    if event_time <= state.clock.now_ms() {
        return Err(ApiError::BadRequest(
            "eventTime must be in the future".into(),
        ));
    }
    if params.optional("memberUidList").is_none() {
        return Err(ApiError::BadRequest("memberUidList is required".into()));
    }
    let mut members: Vec<Uid> = Vec::new();
    for text in params.string_list("memberUidList")? {
        let uid =
            Uid::parse(&text).map_err(|e| ApiError::BadRequest(format!("memberUidList: {e}")))?;
        if !members.contains(&uid) {
            members.push(uid);
        }
    }
    if members.is_empty() || members.len() > MEMBERS_MAX {
        return Err(ApiError::BadRequest(format!(
            "memberUidList must hold 1 to {MEMBERS_MAX} uids"
        )));
    }
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
        name,
        description,
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
        Some(room) => {
            let members = state
                .rooms
                .live_snapshot(&room.room_id, viewer)
                .await
                .map(|s| s.members)
                .unwrap_or_default();
            Some(room_json(state, room, viewer, &members).await?)
        }
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventItem {
    event_id: String,
    event_result: EventJson,
    /// The seed's example carries the event's creation time here.
    event_time: i64,
    sequence_id: String,
}

async fn list_events(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let page = pagination::keyset(&call.params)?;
    let count = page.count;
    let views = state
        .repo
        .run(ListEvents {
            viewer: call.uid.clone(),
            page,
        })
        .await?;
    let mut list = Vec::with_capacity(views.len());
    for view in &views {
        list.push(EventItem {
            event_id: view.event.event_id.to_string(),
            event_result: event_json(&state, view, &call.uid).await?,
            event_time: view.event.created_at,
            sequence_id: pagination::sequence_id(
                view.event.created_at,
                view.event.event_id.as_str(),
            ),
        });
    }
    ok(PageResult::new(count, list))
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
    let members = state
        .rooms
        .live_snapshot(&room.room_id, &call.uid)
        .await
        .map(|s| s.members)
        .unwrap_or_default();
    let room_json: RoomJson = room_json(&state, &room, &call.uid, &members).await?;
    ok(EventJson::new(&event, view.notify, Some(room_json)))
}
