//! Seed section "H5" ("鉴权: 微信登录"): what share pages show to people
//! without the app, and the WeChat JS-SDK config for them.
//!
//! - `POST /h5/session`: an H5 session (WeChat OAuth `code`, or a guest).
//! - `POST /h5/weixin/config`: `wx.config` parameters for a page URL.
//! - `POST /h5/room/{roomCacheId}`, `/h5/club/{clubId}`, `/h5/profile/{uid}`,
//!   `/h5/event/{eventId}`: the seed's views, as a stranger sees them: no
//!   phone number, no viewer-specific flags (`joined`, `blocked` are 0).
//! - `GET /h5/room/{roomCacheId}/live`: a read-only WebSocket of the room's
//!   events ([`crate::realtime::watcher`]).
//!
//! A share token resolves through the cache layer (TTL
//! `HUDDLE_H5_ROOM_CACHE_TTL_SECS`) and, on a miss, the database, so links keep
//! working after a restart and across nodes.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use huddle_actors::repo::profile::{GetUserView, GetUserViews, UserView};
use huddle_actors::repo::room::{FindRoomCache, GetRoom, Room};
use huddle_actors::room::{RoomError, Snapshot};
use huddle_actors::{ClubId, EventId, RoomCacheId, RoomId, Uid};
use serde::Serialize;
use utoipa::ToSchema;

use super::event::{event_json, existing_event};
use super::inputs::{inputs, Deferred, FromParams, OAuthCode, PageUrl};
use super::openapi::{
    envelope, of, param, Auth, Loc, Method, Reply, Res, RouteDoc, Tag, Ty, BASE, P_CLUB, P_EVENT,
    P_ROOM_CACHE, P_UID,
};
use super::path_id;
use super::views::{flag, ClubJson, EventJson, Flag, MemberJson};
use crate::auth::h5::H5Call;
use crate::auth::PublicCall;
use crate::clients::wechat::{jssdk_signature, WechatError};
use crate::envelope::{ok, ApiError, ApiResult, BusinessCode, SUCCESS};
use crate::realtime::watcher::RoomWatcher;
use crate::state::AppState;

/// The viewer of every H5 view: an id no account has (v4 ids are never all
/// zeros), so "has the viewer blocked / joined / sent a card" is always no.
pub fn stranger() -> Uid {
    match Uid::parse("00000000000000000000000000000000") {
        Ok(uid) => uid,
        Err(_) => unreachable!("32 zeros are a valid id"),
    }
}

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/h5/session",
        handler: Some(|r| r.to(open_session)),
        tags: &[Tag::H5],
        summary: "Open an H5 session: a WeChat login or a guest",
        description: "With WeChat configured and an OAuth `code`, a WeChat session (401 when WeChat refuses the code; 400 for a `code` when WeChat is not configured); without `code`, a guest session. The `h5Token` authenticates the other `/h5/*` calls (`Authorization: Bearer`).",
        auth: Auth::Signed,
        input: &[SessionInput::PARAMS],
        reply: envelope(Res::Schema(of::<SessionJson>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/weixin/config",
        handler: Some(|r| r.to(weixin_config)),
        tags: &[Tag::H5],
        summary: "WeChat JS-SDK config for a page (获取微信Config)",
        description: "503 when WeChat is not configured on this server.",
        auth: Auth::H5,
        input: &[WeixinInput::PARAMS],
        reply: envelope(Res::Schema(of::<WeixinConfigJson>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/room/{roomCacheId}",
        handler: Some(|r| r.to(room)),
        tags: &[Tag::H5],
        summary: "A shared room as a stranger sees it (获取活动)",
        description: "`fromMember` is the sharer; `closed` is 1 once the room has ended.",
        auth: Auth::H5,
        params: &[P_ROOM_CACHE],
        reply: envelope(Res::Schema(of::<H5Room>()), SUCCESS),
        codes: &[BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/h5/room/{roomCacheId}/live",
        handler: Some(|r| r.to(watch_room)),
        tags: &[Tag::H5, Tag::Realtime],
        summary: "Follow a shared room live: a read-only WebSocket",
        description: "Upgrades to a WebSocket that carries the room's events to people without the app (see docs/realtime.md). An unknown share token or room answers 404 before the upgrade.",
        auth: Auth::H5Query,
        params: &[
            P_ROOM_CACHE,
            param(
                "h5Token",
                Loc::Query,
                true,
                Ty::Text(0),
                "The `h5Token` from `POST /h5/session`.",
            ),
        ],
        reply: Reply::WebSocket,
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/club/{clubId}",
        handler: Some(|r| r.to(club)),
        tags: &[Tag::H5],
        summary: "A club as a stranger sees it (获取圈子)",
        auth: Auth::H5,
        params: &[P_CLUB],
        reply: envelope(Res::Schema(of::<ClubJson>()), SUCCESS),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/profile/{uid}",
        handler: Some(|r| r.to(profile)),
        tags: &[Tag::H5],
        summary: "A profile as a stranger sees it (获取用户资料)",
        auth: Auth::H5,
        params: &[P_UID],
        reply: envelope(Res::Schema(of::<H5Member>()), SUCCESS),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/event/{eventId}",
        handler: Some(|r| r.to(event)),
        tags: &[Tag::H5],
        summary: "An event as a stranger sees it (获取日程)",
        auth: Auth::H5,
        params: &[P_EVENT],
        reply: envelope(Res::Schema(of::<H5Event>()), SUCCESS),
        codes: &[BusinessCode::EventNotFound],
        ..BASE
    },
];

impl From<WechatError> for ApiError {
    fn from(e: WechatError) -> Self {
        tracing::warn!(error = %e, "WeChat call failed");
        match e {
            WechatError::Unavailable(_) => Self::Unavailable("WeChat unavailable".into()),
            WechatError::Refused { .. } => Self::Unavailable(e.to_string()),
        }
    }
}

/// An H5 session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = H5Session)]
pub(crate) struct SessionJson {
    /// `Authorization: Bearer <h5Token>` on `/h5/*`; `h5Token` query parameter of the live WebSocket.
    h5_token: String,
    /// 1 for a guest session, 0 for a WeChat login.
    guest: Flag,
    /// When it expires (ms since the epoch).
    expire_time: i64,
}

inputs! {
    /// `POST /h5/session`.
    pub struct SessionInput {
        code: optional Deferred<OAuthCode> = "code", Body, "The WeChat OAuth code of the page; absent for a guest session.";
    }
}

inputs! {
    /// `POST /h5/weixin/config`.
    pub struct WeixinInput {
        url: required PageUrl = "url", Body, "The page's http(s) URL (当前路径URL); any `#fragment` is dropped.";
    }
}

async fn open_session(state: web::Data<AppState>, call: PublicCall) -> ApiResult {
    let code = SessionInput::from_params(&call.params)?.code;
    let openid = match (code, &state.wechat) {
        (None, _) => None,
        (Some(_), None) => return Err(ApiError::BadRequest(
            "code: WeChat login is not configured on this server; omit code for a guest session"
                .into(),
        )),
        (Some(code), Some(wechat)) => {
            let code = code.parse()?;
            match wechat.openid_for_code(code.as_str()).await {
                Ok(openid) => Some(openid),
                Err(WechatError::Refused { code, message }) => {
                    return Err(ApiError::Unauthorized(format!(
                        "WeChat refused the code ({code} {message})"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (token, session) = state.h5_sessions.open(openid.as_deref())?;
    ok(SessionJson {
        h5_token: token,
        guest: flag(session.openid.is_none()),
        expire_time: session.expire_at,
    })
}

/// `wx.config` parameters.
#[derive(Serialize, ToSchema)]
#[schema(as = WeixinConfig)]
pub(crate) struct WeixinConfigJson {
    /// JS-SDK signature (sha1).
    signature: String,
    /// Official account AppID.
    #[serde(rename = "appId")]
    app_id: String,
    /// The ticket signed.
    jsapi_ticket: String,
    /// Nonce.
    #[serde(rename = "nonceStr")]
    nonce_str: String,
    /// The page URL signed (no fragment).
    url: String,
    /// Seconds since the epoch, as text.
    timestamp: String,
}

async fn weixin_config(state: web::Data<AppState>, call: H5Call) -> ApiResult {
    let url = WeixinInput::from_params(&call.params)?.url.into_string();
    let parsed = url::Url::parse(&url).map_err(|e| ApiError::BadRequest(format!("url: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::BadRequest(
            "url must be an http(s) page address".into(),
        ));
    }
    let wechat = state
        .wechat
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("WeChat is not configured on this server".into()))?;
    let ticket = wechat.jsapi_ticket().await?;
    let nonce = huddle_actors::ids::random_hex32();
    let timestamp = state.clock.now_ms().div_euclid(1000).to_string();
    let url = url.split('#').next().unwrap_or_default().to_owned();
    ok(WeixinConfigJson {
        signature: jssdk_signature(&ticket, &nonce, &timestamp, &url),
        app_id: wechat.app_id().to_owned(),
        jsapi_ticket: ticket,
        nonce_str: nonce,
        url,
        timestamp,
    })
}

/// A person on an H5 page: what a stranger may see (no phone number, no
/// viewer-specific flags).
#[derive(Serialize, ToSchema)]
pub struct H5Member {
    /// Avatar URL.
    avatar: String,
    /// Self-description.
    bio: String,
    /// Display name.
    nickname: String,
    /// The user (32 hex).
    uid: String,
    /// Always 0; absent on `fromMember`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    blocked: Option<Flag>,
}

impl H5Member {
    /// Display name.
    pub fn nickname(&self) -> &str {
        &self.nickname
    }
    /// Avatar URL.
    pub fn avatar(&self) -> &str {
        &self.avatar
    }
    /// Self-description.
    pub fn bio(&self) -> &str {
        &self.bio
    }

    fn new(v: &UserView, with_blocked: bool) -> Self {
        Self {
            avatar: v.avatar.clone(),
            bio: v.bio.clone(),
            nickname: v.nickname.clone(),
            uid: v.uid.to_string(),
            blocked: with_blocked.then_some(Flag::NO),
        }
    }
}

/// The H5 room view: a shared room as a stranger sees it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct H5Room {
    /// The room has ended.
    pub closed: Flag,
    /// The club; empty for an invite-only room.
    pub club_id: String,
    /// The club; null for an invite-only room.
    #[schema(required = true)]
    pub club_result: Option<ClubJson>,
    /// Opened (ms since the epoch).
    pub create_time: i64,
    /// The sharer; null when unknown.
    #[schema(required = true)]
    pub from_member: Option<H5Member>,
    /// The live members.
    pub member_list: Vec<H5Member>,
    /// Live members.
    pub member_total: i64,
    /// Topic.
    pub name: String,
    /// Private: only invited people may join.
    pub invite_only: Flag,
    /// The share token (32 hex).
    pub room_cache_id: String,
    /// The room (32 hex).
    pub room_id: String,
    /// The host (32 hex).
    pub uid: String,
}

fn cache_key(id: &RoomCacheId) -> String {
    format!("h5:room_cache:{id}")
}

/// The (room, sharer) of a share token: cache first, then the database;
/// 400000 when the token is unknown.
pub async fn resolve_share(state: &AppState, id: &RoomCacheId) -> Result<(RoomId, Uid), ApiError> {
    let key = cache_key(id);
    let cached = state.cache.get(&key).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cache unavailable; reading the share link from the database");
        None
    });
    if let Some((room, uid)) = cached.as_deref().and_then(|v| v.split_once(':')) {
        if let (Ok(room), Ok(uid)) = (RoomId::parse(room), Uid::parse(uid)) {
            return Ok((room, uid));
        }
    }
    let (room_id, uid) = state
        .repo
        .run(FindRoomCache {
            room_cache_id: id.clone(),
        })
        .await?
        .ok_or_else(|| ApiError::business(BusinessCode::RoomNotFound))?;
    let ttl = Duration::from_secs(state.config.services.h5_room_cache_ttl_secs);
    if let Err(e) = state
        .cache
        .set(&key, &format!("{room_id}:{uid}"), ttl)
        .await
    {
        tracing::warn!(error = %e, "cannot cache a share link");
    }
    Ok((room_id, uid))
}

async fn user_views(state: &AppState, uids: Vec<Uid>) -> Result<Vec<UserView>, ApiError> {
    let mut views = state
        .repo
        .run(GetUserViews {
            viewer: stranger(),
            uids: uids.clone(),
        })
        .await?;
    views.sort_by_key(|v| uids.iter().position(|u| *u == v.uid));
    Ok(views)
}

/// The room behind a share token as a stranger sees it.
pub async fn room_view(state: &AppState, id: &RoomCacheId) -> Result<(Room, H5Room), ApiError> {
    let (room_id, sharer) = resolve_share(state, id).await?;
    let room = state
        .repo
        .run(GetRoom {
            room_id: room_id.clone(),
        })
        .await?
        .ok_or_else(|| ApiError::business(BusinessCode::RoomNotFound))?;
    let live = if room.closed_at.is_some() {
        None
    } else {
        match state
            .rooms
            .ask(
                &room_id,
                Snapshot {
                    viewer: stranger(),
                    members: true,
                },
            )
            .await
        {
            Ok(snapshot) => Some(snapshot.members),
            Err(RoomError::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let closed = live.is_none();
    let members = user_views(
        state,
        live.unwrap_or_default()
            .into_iter()
            .map(|m| m.uid)
            .collect(),
    )
    .await?;
    // A stranger has joined no club: `joined` is 0.
    let club_result = super::room::club_result(state, &room, &stranger()).await?;
    let from_member = state
        .repo
        .run(GetUserView {
            viewer: stranger(),
            uid: sharer,
        })
        .await?
        .map(|v| H5Member::new(&v, false));
    let view = H5Room {
        closed: flag(closed),
        club_id: super::room::club_id_text(&room),
        club_result,
        create_time: room.created_at,
        from_member,
        member_total: i64::try_from(members.len()).unwrap_or(i64::MAX),
        member_list: members.iter().map(|v| H5Member::new(v, true)).collect(),
        name: room.name.clone(),
        invite_only: flag(room.invite_only),
        room_cache_id: id.to_string(),
        room_id: room.room_id.to_string(),
        uid: room.uid.to_string(),
    };
    Ok((room, view))
}

async fn room(state: web::Data<AppState>, _call: H5Call, path: web::Path<String>) -> ApiResult {
    let id = path_id(&path, RoomCacheId::parse)?;
    ok(room_view(&state, &id).await?.1)
}

/// A club as a stranger sees it.
pub async fn club_view(state: &AppState, club_id: &ClubId) -> Result<ClubJson, ApiError> {
    let (club, _) = super::club::existing_club(state, club_id, &stranger()).await?;
    Ok(ClubJson::new(&club, Some(false)))
}

async fn club(state: web::Data<AppState>, _call: H5Call, path: web::Path<String>) -> ApiResult {
    let club_id = path_id(&path, ClubId::parse)?;
    ok(club_view(&state, &club_id).await?)
}

/// A profile as a stranger sees it.
pub async fn profile_view(state: &AppState, uid: &Uid) -> Result<H5Member, ApiError> {
    let view = super::user::existing_user(state, &stranger(), uid).await?;
    Ok(H5Member::new(&view, true))
}

async fn profile(state: web::Data<AppState>, _call: H5Call, path: web::Path<String>) -> ApiResult {
    let uid = path_id(&path, Uid::parse)?;
    ok(profile_view(&state, &uid).await?)
}

/// The H5 event: the app's event view plus `memberList` (its hosts and
/// guests), as the seed's H5 example shows it.
async fn event(state: web::Data<AppState>, _call: H5Call, path: web::Path<String>) -> ApiResult {
    let event_id = path_id(&path, EventId::parse)?;
    let view = existing_event(&state, &event_id, &stranger()).await?;
    let member_list: Vec<MemberJson> = user_views(&state, view.event.members.clone())
        .await?
        .iter()
        .map(|v| MemberJson::new(v, false))
        .collect();
    ok(H5Event {
        event: event_json(&state, &view, &stranger()).await?,
        member_list,
    })
}

/// An event as a stranger sees it: the app's event view plus its hosts and guests.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct H5Event {
    #[serde(flatten)]
    event: EventJson,
    /// Hosts and guests.
    member_list: Vec<MemberJson>,
}

#[derive(serde::Deserialize)]
struct LiveQuery {
    #[serde(rename = "h5Token")]
    h5_token: Option<String>,
}

/// Browsers cannot set headers on a WebSocket: the token comes in the query.
async fn watch_room(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LiveQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    crate::auth::limit_address(&state, &req).await?;
    let token = query
        .h5_token
        .as_deref()
        .ok_or_else(|| ApiError::Unauthorized("h5Token is required".into()))?;
    state.h5_sessions.verify(token)?;
    let id = RoomCacheId::parse(&path).map_err(|_| ApiError::NotFound)?;
    let (room_id, _) = match resolve_share(&state, &id).await {
        Err(ApiError::Business { .. }) => return Err(ApiError::NotFound),
        other => other?,
    };
    let room = match state.rooms.open(&room_id).await {
        Err(RoomError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    let watcher = RoomWatcher::new(room_id, room, state.realtime.clone());
    let payload = crate::realtime::frame_guard::FrameGuard::new(
        payload,
        state.realtime.limits.max_frame_bytes,
    );
    ws::WsResponseBuilder::new(watcher, &req, payload)
        .frame_size(state.realtime.limits.max_frame_bytes)
        .start()
        .map_err(|e| ApiError::BadRequest(format!("not a WebSocket upgrade: {e}")))
}
