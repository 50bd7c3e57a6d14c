//! Seed section "Room" (活动): create, view, list, voice token, close, share cache, invite.

use actix_web::web;
use huddle_actors::bus::Notification;
use huddle_actors::notices;
use huddle_actors::repo::club::GetClub;
use huddle_actors::repo::profile::GetUserViews;
use huddle_actors::repo::room::{CreateRoom, GetOrCreateRoomCache, ListRoomsFor, Room, RoomRoles};
use huddle_actors::repo::social::{IsBlocked, MayInvite};
use huddle_actors::room::{
    Admit, ChangeSpeaker, Close, Invite, LiveMember, MemberCard, RemoveMember, RoomSnapshot,
    Snapshot,
};
use huddle_actors::{ClubId, RoomId, Uid};
use serde::Serialize;
use utoipa::ToSchema;

use super::club::existing_club;
use super::inputs::{inputs, require, Bit, Deferred, FromParams, RoomName};
use super::openapi::{
    envelope, of, Method, ParamDoc, Res, RouteDoc, Tag, BASE, EMPTY, P_ROOM, P_UID,
};
use super::pagination::{self, KeysetPage};
use super::path_id;
use super::user::existing_user;
use super::views::{flag, ClubJson, Flag, MemberJson, RoomJson};
use crate::auth::{Profiled, UserCall};
use crate::envelope::{ok, ok_with, ApiError, ApiResult, BusinessCode, Empty, SUCCESS};
use crate::ratelimit::Action;
use crate::state::AppState;

/// `POST /room/{roomId}/invite/{uid}`'s message.
pub const INVITED: &str = "邀请成功";

inputs! {
    /// `POST /room`.
    pub struct NewRoom {
        name: required RoomName = "name", Body, "Topic (主题).";
        invite_only: optional Bit = "inviteOnly", Body, "1: private, only invited people may join (私密). Default 0.";
        club_id: optional Deferred<ClubId> = "clubId", Body, "The club (圈子ID); required unless `inviteOnly` is 1.";
    }
}

/// A host control's path: the room and the member.
const HOST_CONTROL: &[ParamDoc] = &[P_ROOM, P_UID];

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/room",
        handler: Some(|r| r.to(create_room)),
        tags: &[Tag::Room],
        summary: "Open a room (创建活动)",
        description: "A public room belongs to a club the creator has joined (403 otherwise); `inviteOnly=1` ignores `clubId`.",
        input: &[NewRoom::PARAMS],
        reply: envelope(Res::Schema(of::<CreatedRoom>()), SUCCESS),
        codes: &[BusinessCode::ClubNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/room/{roomId}",
        handler: Some(|r| r.to(get_room)),
        tags: &[Tag::Room],
        summary: "A room with its live members (获取活动)",
        description: "An invite-only room is visible to its host and invited people only (403).",
        params: &[P_ROOM],
        reply: envelope(Res::Schema(of::<RoomJson>()), SUCCESS),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/room",
        handler: Some(|r| r.to(list_rooms)),
        tags: &[Tag::Room],
        summary: "Open rooms in my clubs and invite-only rooms I host or was invited to, a page (分页获取活动列表)",
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<RoomItem>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/token",
        handler: Some(|r| r.to(token)),
        tags: &[Tag::Room],
        summary: "Join a room: a voice (RTC) token (获取活动声网Token)",
        description: "Admits the caller as a live member (room open; invite-only: host or invited, else 403; no host has blocked the caller, else 400001). The caller stays a member until they leave over the WebSocket, stay disconnected past the grace period, or the room closes.",
        params: &[P_ROOM],
        reply: envelope(Res::Schema(of::<TokenResult>()), SUCCESS),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/close",
        handler: Some(|r| r.to(close)),
        tags: &[Tag::Room],
        summary: "Close a room, host only (主持人关闭活动)",
        params: &[P_ROOM],
        reply: EMPTY,
        codes: &[BusinessCode::RoomNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/cache",
        handler: Some(|r| r.to(cache)),
        tags: &[Tag::Room],
        summary: "A share token for the room (获取活动Cache)",
        description: "`result` is a `roomCacheId` for (room, caller): `/h5/room/{roomCacheId}` and `/s/room/{roomCacheId}` show the room.",
        params: &[P_ROOM],
        reply: envelope(Res::Hex32("A share token for (room, sharer): `roomCacheId`."), SUCCESS),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/invite/{uid}",
        handler: Some(|r| r.to(invite)),
        tags: &[Tag::Room],
        summary: "Invite a user to a room (邀请用户加入活动)",
        description: "By the host or a live member who holds the invitee's card or shares a club with them (else 403). The invitee gets a message and a realtime push, and may then join even an invite-only room.",
        params: &[P_ROOM, P_UID],
        reply: envelope(Res::Empty, INVITED),
        codes: &[
            BusinessCode::UserNotFound,
            BusinessCode::RoomNotFound,
            BusinessCode::RoomBlocked,
        ],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/speaker/{uid}",
        handler: Some(|r| r.to(|state, call, path| change_speaker(state, call, path, true))),
        tags: &[Tag::Room],
        summary: "Let a member speak, host only",
        params: HOST_CONTROL,
        reply: EMPTY,
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/room/{roomId}/speaker/{uid}",
        handler: Some(|r| r.to(|state, call, path| change_speaker(state, call, path, false))),
        tags: &[Tag::Room],
        summary: "Take the floor back from a member, host only",
        params: HOST_CONTROL,
        reply: EMPTY,
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/remove/{uid}",
        handler: Some(|r| r.to(remove_member)),
        tags: &[Tag::Room],
        summary: "Remove a member from a room, host only",
        description: "The member leaves at once and gets no new token for the room.",
        params: HOST_CONTROL,
        reply: EMPTY,
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        errors: &[403],
        ..BASE
    },
];

/// A room's `clubResult` as `viewer` sees it (`inviteOnly` 0, as the seed
/// shows it); `None` for an invite-only room.
pub async fn club_result(
    state: &AppState,
    room: &Room,
    viewer: &Uid,
) -> Result<Option<ClubJson>, ApiError> {
    let Some(club_id) = &room.club_id else {
        return Ok(None);
    };
    Ok(state
        .repo
        .run(GetClub {
            club_id: club_id.clone(),
            viewer: viewer.clone(),
        })
        .await?
        .map(|(club, joined)| ClubJson {
            invite_only: Some(Flag::NO),
            ..ClubJson::new(&club, Some(joined))
        }))
}

/// [`room_json`] with the room's live members as `viewer` sees them now
/// (none when the room is not running).
pub async fn live_room_json(
    state: &AppState,
    room: &Room,
    viewer: &Uid,
) -> Result<RoomJson, ApiError> {
    let members = state
        .rooms
        .live_snapshot(&room.room_id, viewer)
        .await
        .map(|s| s.members)
        .unwrap_or_default();
    room_json(state, room, viewer, &members).await
}

/// A room as `viewer` sees it, with its club and live members.
pub async fn room_json(
    state: &AppState,
    room: &Room,
    viewer: &Uid,
    members: &[LiveMember],
) -> Result<RoomJson, ApiError> {
    let club_result = club_result(state, room, viewer).await?;
    let views = state
        .repo
        .run(GetUserViews {
            viewer: viewer.clone(),
            uids: members.iter().map(|m| m.uid.clone()).collect(),
        })
        .await?;
    let member_list: Vec<MemberJson> = views
        .iter()
        .map(|v| {
            let allow_live = members.iter().any(|m| m.uid == v.uid && m.allow_live);
            MemberJson::new(v, allow_live)
        })
        .collect();
    Ok(RoomJson {
        club_id: club_id_text(room),
        club_result,
        create_time: room.created_at,
        invite_only: flag(room.invite_only),
        member_total: i64::try_from(member_list.len()).unwrap_or(i64::MAX),
        member_list,
        name: room.name.clone(),
        room_id: room.room_id.to_string(),
        uid: room.uid.to_string(),
    })
}

/// [`visible_room`], and 403 when it is invite-only and the caller is neither
/// the host nor invited: what may be shown or shared of a room.
async fn readable_room(
    state: &AppState,
    call: &UserCall,
    room_id: &RoomId,
    with_members: bool,
) -> Result<RoomSnapshot, ApiError> {
    let snapshot = visible_room(state, call, room_id, with_members).await?;
    if snapshot.room.invite_only && !snapshot.viewer_invited {
        return Err(ApiError::Forbidden("this room is invite-only".into()));
    }
    Ok(snapshot)
}

/// The open room (400000 otherwise) after checking that no host blocked the
/// caller (400001); its live members only `with_members`.
async fn visible_room(
    state: &AppState,
    call: &UserCall,
    room_id: &RoomId,
    with_members: bool,
) -> Result<RoomSnapshot, ApiError> {
    let snapshot = state
        .rooms
        .ask(
            room_id,
            Snapshot {
                viewer: call.uid.clone(),
                members: with_members,
            },
        )
        .await?;
    if snapshot.room.uid != call.uid {
        let blocked = state
            .repo
            .run(IsBlocked {
                by: snapshot.room.uid.clone(),
                whom: call.uid.clone(),
            })
            .await?;
        if blocked {
            return Err(ApiError::business(BusinessCode::RoomBlocked));
        }
    }
    Ok(snapshot)
}

/// A room just opened.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedRoom {
    /// The host (32 hex).
    uid: String,
    /// Opened (ms since the epoch).
    create_time: i64,
    /// Topic.
    name: String,
    /// The club; empty for an invite-only room.
    club_id: String,
    /// Private: only invited people may join.
    invite_only: Flag,
    /// The room (32 hex).
    room_id: String,
}

async fn create_room(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let input = NewRoom::from_params(&call.params)?;
    let invite_only = input.invite_only.is_some_and(|Bit(on)| on);
    let club_id = if invite_only {
        None
    } else {
        let club_id = require(input.club_id, "clubId")?.parse()?;
        let (_, joined) = existing_club(&state, &club_id, &call.uid).await?;
        if !joined {
            return Err(ApiError::Forbidden(
                "join the club before opening a room in it".into(),
            ));
        }
        Some(club_id)
    };
    let room = Room {
        room_id: RoomId::new(),
        uid: call.uid.clone(),
        name: input.name.into_string(),
        club_id,
        invite_only,
        created_at: state.clock.now_ms(),
        closed_at: None,
    };
    state
        .limiter
        .action(Action::CreateRoom, call.uid.as_str())
        .await?;
    state.repo.run(CreateRoom { room: room.clone() }).await?;
    state.rooms.start(room.clone(), RoomRoles::default());
    ok(CreatedRoom {
        uid: room.uid.to_string(),
        create_time: room.created_at,
        club_id: club_id_text(&room),
        name: room.name,
        invite_only: flag(room.invite_only),
        room_id: room.room_id.to_string(),
    })
}

/// A room's `clubId` as the seed shows it: "" for a room in no club.
pub(crate) fn club_id_text(room: &Room) -> String {
    room.club_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

async fn get_room(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let room_id = path_id(&path, RoomId::parse)?;
    let snapshot = readable_room(&state, &call, &room_id, true).await?;
    ok(room_json(&state, &snapshot.room, &call.uid, &snapshot.members).await?)
}

/// A `GET /room` item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoomItem {
    /// Opened (ms since the epoch).
    create_time: i64,
    /// The room (32 hex).
    room_id: String,
    /// The room.
    room_result: RoomJson,
    /// Cursor: pass as `lastId` for the next page.
    sequence_id: String,
}

async fn list_rooms(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let (state, viewer) = (&**state, &call.uid);
    let uid = call.uid.clone();
    pagination::keyset_list(
        state,
        &call.params,
        |page| ListRoomsFor { uid, page },
        |room: Room| async move {
            Ok(RoomItem {
                create_time: room.created_at,
                room_id: room.room_id.to_string(),
                room_result: live_room_json(state, &room, viewer).await?,
                sequence_id: pagination::sequence_id(room.created_at, room.room_id.as_str()),
            })
        },
    )
    .await
}

/// A voice token for the RTC channel named after the room.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RoomToken)]
pub(crate) struct TokenResult {
    /// The room (the RTC channel).
    room_id: String,
    /// The RTC (Agora) token; join and publish privileges expire after HUDDLE_RTC_TOKEN_TTL_SECS.
    token: String,
}

async fn token(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let room_id = path_id(&path, RoomId::parse)?;
    visible_room(&state, &call, &room_id, false).await?;
    let me = existing_user(&state, &call.uid, &call.uid).await?;
    let member = state
        .rooms
        .ask(
            &room_id,
            Admit {
                uid: call.uid.clone(),
                card: MemberCard {
                    nickname: me.nickname,
                    avatar: me.avatar,
                },
            },
        )
        .await?;
    let token = state
        .rtc
        .issue(
            room_id.as_str(),
            call.uid.as_str(),
            member.allow_live,
            state.clock.now_ms(),
        )
        .map_err(ApiError::internal)?;
    ok(TokenResult {
        room_id: room_id.to_string(),
        token,
    })
}

async fn close(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let room_id = path_id(&path, RoomId::parse)?;
    state
        .rooms
        .ask(
            &room_id,
            Close {
                by: call.uid.clone(),
            },
        )
        .await?;
    ok(Empty {})
}

async fn cache(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let room_id = path_id(&path, RoomId::parse)?;
    readable_room(&state, &call, &room_id, false).await?;
    let id = state
        .repo
        .run(GetOrCreateRoomCache {
            room_id,
            uid: call.uid.clone(),
            now: state.clock.now_ms(),
        })
        .await?;
    ok(id.to_string())
}

async fn invite(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (room_id, invitee) = path.into_inner();
    let room_id = path_id(&room_id, RoomId::parse)?;
    let invitee = path_id(&invitee, Uid::parse)?;
    if invitee == call.uid {
        return Err(ApiError::BadRequest("you cannot invite yourself".into()));
    }
    existing_user(&state, &call.uid, &invitee).await?;
    let snapshot = visible_room(&state, &call, &room_id, false).await?;
    let allowed = state
        .repo
        .run(MayInvite {
            inviter: call.uid.clone(),
            invitee: invitee.clone(),
        })
        .await?;
    if !allowed {
        return Err(ApiError::Forbidden(
            "you can invite people whose card you hold or who share a club with you".into(),
        ));
    }
    state
        .limiter
        .action(Action::Invite, call.uid.as_str())
        .await?;
    let me = existing_user(&state, &call.uid, &call.uid).await?;
    // The invitation and its inbox message are one transaction (the room
    // actor persists both): a crash cannot keep one without the other.
    let (room, delivered) = state
        .rooms
        .ask(
            &room_id,
            Invite {
                inviter: call.uid.clone(),
                invitee: invitee.clone(),
                notice: notices::room_invite(&invitee, &call.uid, &me.nickname, &snapshot.room),
            },
        )
        .await?;
    state.publish_messages(delivered);
    state.bus.publish(Notification::RoomInvited {
        room_id: room.room_id.clone(),
        room_name: room.name.clone(),
        inviter: call.uid.clone(),
        inviter_nickname: me.nickname,
        invitee,
    });
    ok_with(Empty {}, INVITED)
}

/// The room and the target of a host control, both valid ids of existing things.
async fn host_control_target(
    state: &AppState,
    call: &Profiled,
    path: web::Path<(String, String)>,
) -> Result<(RoomId, Uid), ApiError> {
    let (room_id, uid) = path.into_inner();
    let room_id = path_id(&room_id, RoomId::parse)?;
    let uid = path_id(&uid, Uid::parse)?;
    existing_user(state, &call.uid, &uid).await?;
    Ok((room_id, uid))
}

async fn change_speaker(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<(String, String)>,
    allowed: bool,
) -> ApiResult {
    let (room_id, uid) = host_control_target(&state, &call, path).await?;
    let by = call.uid.clone();
    state
        .rooms
        .ask(&room_id, ChangeSpeaker { by, uid, allowed })
        .await?;
    ok(Empty {})
}

/// `POST /room/{roomId}/remove/{uid}`: the host removes someone (no new token, no join).
async fn remove_member(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (room_id, uid) = host_control_target(&state, &call, path).await?;
    let by = call.uid.clone();
    state.rooms.ask(&room_id, RemoveMember { by, uid }).await?;
    ok(Empty {})
}
