//! The API described for machines and people:
//!
//! - `GET /docs-json`: an OpenAPI 3.0.3 document of every HTTP route the server
//!   registers, built from [`ROUTES`] (a typed table kept next to the routes it
//!   describes; the black-box test `tests/api/openapi.rs` fails when a route is
//!   registered but missing here, or documented but not registered).
//! - `GET /docs`: Swagger UI rendering that document. Its files come from the
//!   `utoipa-swagger-ui` crate (`vendored`: the Swagger UI release is inside a
//!   crate from crates.io) and are embedded in the binary; nothing is fetched
//!   from anywhere else at build or run time.
//!
//! Parameter limits, business codes, error texts and the signing example are
//! taken from the code itself (the handlers' constants, [`BusinessCode`],
//! [`ApiError`], [`signature`]), so the document cannot drift from them.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::{app, club, event, page, push, user};
use crate::auth::signature::{self, DEFAULT_ACCESS_SECRET, SIGN_WINDOW_MS};
use crate::envelope::{ApiError, BusinessCode};

/// `/docs-json`, `/docs`, `/docs/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/docs-json").get(docs_json))
        .service(web::resource("/docs").get(docs_index))
        .service(web::resource("/docs/{file:.*}").get(docs_file));
}

// ---------------------------------------------------------------------------
// The route table
// ---------------------------------------------------------------------------

/// An HTTP method a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

impl Method {
    /// Upper case, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }

    /// The key of an operation in an OpenAPI path item.
    fn key(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Head => "head",
            Self::Post => "post",
            Self::Put => "put",
            Self::Delete => "delete",
        }
    }
}

/// How a route authenticates its caller (which extractor the handler takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Reads no credentials and no signature.
    None,
    /// `PublicCall`: signed with the default secret; no login ("鉴权: 无").
    Signed,
    /// `UserCall`: `Authorization: Basic base64(uid:accessToken)`, signed with
    /// the session's `accessSecret` ("鉴权: 用户登录").
    User,
    /// `Profiled`: [`Auth::User`] whose profile is initialised (else 200000).
    Profiled,
    /// `H5Call`: `Authorization: Bearer <h5Token>` (from `POST /h5/session`),
    /// signed with the default secret ("鉴权: 微信登录").
    H5,
    /// `GET /ws`: a logged-in user by the Basic header or by `uid` and
    /// `accessToken` in the query; `ts`/`sign` in the query, signed with the
    /// session's `accessSecret`.
    Socket,
    /// `GET /h5/room/{roomCacheId}/live`: the H5 token in the `h5Token` query
    /// parameter (browsers cannot set headers on a WebSocket); not signed.
    H5Query,
}

impl Auth {
    /// Takes `ts` and `sign` and the app's headers (`Client-Type`, ...).
    fn signed(self) -> bool {
        matches!(self, Self::Signed | Self::User | Self::Profiled | Self::H5)
    }

    /// The business codes every route with this authentication may answer.
    fn codes(self) -> &'static [BusinessCode] {
        match self {
            Self::Signed | Self::H5 => &[BusinessCode::Repeated],
            Self::User => &[BusinessCode::Repeated, BusinessCode::AccountFrozen],
            Self::Profiled => &[
                BusinessCode::Repeated,
                BusinessCode::AccountFrozen,
                BusinessCode::ProfileNotInitialised,
            ],
            Self::None | Self::Socket | Self::H5Query => &[],
        }
    }

    /// The protocol failures every route with this authentication may answer.
    fn statuses(self) -> &'static [u16] {
        match self {
            Self::Signed | Self::User | Self::Profiled | Self::H5 => {
                &[400, 401, 413, 415, 500, 503]
            }
            Self::Socket => &[400, 401, 500, 503],
            Self::H5Query => &[400, 401, 404, 500, 503],
            Self::None => &[500],
        }
    }

    /// The OpenAPI `security` requirement (alternatives).
    fn security(self) -> Value {
        match self {
            Self::None | Self::H5Query => json!([]),
            Self::Signed => json!([{ "requestSign": [] }]),
            Self::User | Self::Profiled => json!([{ "basicAuth": [], "requestSign": [] }]),
            Self::H5 => json!([{ "h5Bearer": [], "requestSign": [] }]),
            Self::Socket => json!([
                { "basicAuth": [], "requestSign": [] },
                { "requestSign": [] }
            ]),
        }
    }

    /// A line for the operation's description.
    fn explain(self) -> String {
        let secret = DEFAULT_ACCESS_SECRET;
        match self {
            Self::None => "**Auth:** none; not signed.".to_owned(),
            Self::Signed => format!(
                "**Auth:** none (鉴权: 无); signed (`ts`, `sign`) with the default accessSecret `{secret}`."
            ),
            Self::User => "**Auth:** user login (鉴权: 用户登录): `Authorization: Basic base64(uid:accessToken)`; signed with the session's `accessSecret`.".to_owned(),
            Self::Profiled => "**Auth:** user login (鉴权: 用户登录): `Authorization: Basic base64(uid:accessToken)`; signed with the session's `accessSecret`; the profile must be initialised (`POST /user/profile/init`), else business code 200000.".to_owned(),
            Self::H5 => format!(
                "**Auth:** H5 session (鉴权: 微信登录): `Authorization: Bearer <h5Token>` from `POST /h5/session`; signed with the default accessSecret `{secret}`."
            ),
            Self::Socket => "**Auth:** user login, by `Authorization: Basic base64(uid:accessToken)` or by `uid` and `accessToken` in the query; `ts` and `sign` in the query, signed with the session's `accessSecret` over every query parameter but `sign`. Every upgrade needs a fresh `ts`/`sign`. Refusals come before the upgrade, as HTTP responses with the envelope.".to_owned(),
            Self::H5Query => "**Auth:** the H5 token (`POST /h5/session`) in the `h5Token` query parameter; not signed.".to_owned(),
        }
    }
}

/// A group of operations: the seed's sections plus this server's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// SMS login.
    Account,
    /// Profiles, blocks, messages, cards.
    User,
    /// Clubs.
    Club,
    /// Rooms.
    Room,
    /// Events.
    Event,
    /// Image uploads.
    Aliyun,
    /// Push registration.
    Push,
    /// App versions, feedback, reports, link previews.
    App,
    /// H5 share pages' API.
    H5,
    /// WebSockets.
    Realtime,
    /// Browser pages.
    Pages,
    /// Health checks and these docs.
    Ops,
}

/// Every tag, in the document's order.
pub const TAGS: [Tag; 12] = [
    Tag::Account,
    Tag::User,
    Tag::Club,
    Tag::Room,
    Tag::Event,
    Tag::Aliyun,
    Tag::Push,
    Tag::App,
    Tag::H5,
    Tag::Realtime,
    Tag::Pages,
    Tag::Ops,
];

impl Tag {
    /// The tag's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::User => "User",
            Self::Club => "Club",
            Self::Room => "Room",
            Self::Event => "Event",
            Self::Aliyun => "Aliyun",
            Self::Push => "Push",
            Self::App => "App",
            Self::H5 => "H5",
            Self::Realtime => "Realtime",
            Self::Pages => "Pages",
            Self::Ops => "Ops",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Account => "SMS captcha, login/registration, logout.",
            Self::User => "Profiles, blocks, messages, cards (名片).",
            Self::Club => "Clubs (圈子).",
            Self::Room => "Live rooms (活动): voice tokens, share caches, invites, host controls.",
            Self::Event => "Scheduled events (日程) and their reminders.",
            Self::Aliyun => "Image uploads: presigned PUT addresses; with the local store, the PUT itself and the images.",
            Self::Push => "Push registration ids.",
            Self::App => "App versions, feedback, reports, link previews.",
            Self::H5 => "What share pages show to people without the app (鉴权: 微信登录).",
            Self::Realtime => "WebSockets (protocol: docs/realtime.md).",
            Self::Pages => "Pages for browsers: share pages, the browser client, their files.",
            Self::Ops => "Health checks and this documentation.",
        }
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// The query string.
    Query,
    /// The body (form or JSON); the query string is accepted too.
    Body,
    /// A path segment (never signed).
    Path,
    /// A request header.
    Header,
}

/// A parameter's type and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Text of at most this many characters (0: no limit of its own).
    Text(usize),
    /// 32 lowercase hex (an id).
    Hex32,
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// Milliseconds since the epoch.
    Millis,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// Text matching this regular expression.
    Pattern(&'static str),
    /// A list of at most this many strings: a JSON array in a JSON body,
    /// JSON text (`["a","b"]`) in the query string or a form.
    List(usize),
}

/// One parameter of a route.
#[derive(Debug, Clone, Copy)]
pub struct ParamDoc {
    /// Its name.
    pub name: &'static str,
    /// Where it travels.
    pub location: Loc,
    /// Must be present (and not blank).
    pub required: bool,
    /// Type and limits.
    pub ty: Ty,
    /// What it means.
    pub description: &'static str,
}

const fn param(
    name: &'static str,
    location: Loc,
    required: bool,
    ty: Ty,
    description: &'static str,
) -> ParamDoc {
    ParamDoc {
        name,
        location,
        required,
        ty,
        description,
    }
}

/// `result` of a JSON envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Res {
    /// `{}`.
    Empty,
    /// A component schema.
    Schema(&'static str),
    /// `{"page": {"count"}, "list": [<component>]}`.
    Page(&'static str),
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The JSON envelope with this `result` and success `message`.
    Envelope {
        /// The result's shape.
        result: Res,
        /// The success message.
        message: &'static str,
    },
    /// An HTML page.
    Html,
    /// A share page: HTML, also for an unknown id of a known kind (404).
    SharePage,
    /// 302 to this location.
    Redirect(&'static str),
    /// 101: a WebSocket.
    WebSocket,
    /// An uploaded image.
    Image,
    /// A file under `web/`.
    WebAsset,
    /// A Swagger UI file.
    DocsAsset,
    /// This OpenAPI document.
    OpenApi,
}

/// One operation: a method on a path, as registered.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// The method.
    pub method: Method,
    /// The actix pattern exactly as registered (`/upload/{key:.+}`).
    pub path: &'static str,
    /// Groups; the first is the seed's section.
    pub tags: &'static [Tag],
    /// One line.
    pub summary: &'static str,
    /// More detail (Markdown); may be empty.
    pub description: &'static str,
    /// Authentication.
    pub auth: Auth,
    /// Path, query, body and header parameters (without `ts`/`sign`).
    pub params: &'static [ParamDoc],
    /// The success answer.
    pub reply: Reply,
    /// Business codes of this route beyond those its [`Auth`] implies.
    pub codes: &'static [BusinessCode],
    /// Protocol failures (HTTP statuses) beyond those its [`Auth`] implies.
    pub errors: &'static [u16],
}

const BASE: RouteDoc = RouteDoc {
    method: Method::Get,
    path: "/",
    tags: &[],
    summary: "",
    description: "",
    auth: Auth::Profiled,
    params: &[],
    reply: Reply::Envelope {
        result: Res::Empty,
        message: "Success",
    },
    codes: &[],
    errors: &[],
};

const fn envelope(result: Res, message: &'static str) -> Reply {
    Reply::Envelope { result, message }
}

const EMPTY: Reply = envelope(Res::Empty, "Success");

// Path parameters.
const P_UID: ParamDoc = param("uid", Loc::Path, true, Ty::Hex32, "A user's uid.");
const P_CLUB: ParamDoc = param("clubId", Loc::Path, true, Ty::Hex32, "A club's id.");
const P_ROOM: ParamDoc = param("roomId", Loc::Path, true, Ty::Hex32, "A room's id.");
const P_EVENT: ParamDoc = param("eventId", Loc::Path, true, Ty::Hex32, "An event's id.");
const P_ROOM_CACHE: ParamDoc = param(
    "roomCacheId",
    Loc::Path,
    true,
    Ty::Hex32,
    "A share token from `POST /room/{roomId}/cache`.",
);

// Cursor pages.
const LAST_ID: ParamDoc = param(
    "lastId",
    Loc::Query,
    false,
    Ty::Text(0),
    "Absent: the first page. Otherwise the `sequenceId` of the previous page's last item.",
);
const COUNT: ParamDoc = param(
    "count",
    Loc::Query,
    true,
    Ty::Int(0, page::MAX_COUNT),
    "Items per page (newest first); echoed in `result.page.count`.",
);
const PAGE: &[ParamDoc] = &[LAST_ID, COUNT];

const PROFILE_PARAMS: [ParamDoc; 3] = [
    param(
        "nickname",
        Loc::Body,
        true,
        Ty::Text(user::NICKNAME_MAX),
        "Display name (昵称).",
    ),
    param(
        "avatar",
        Loc::Body,
        true,
        Ty::Text(user::URL_MAX),
        "Avatar URL (头像), e.g. an `imageURL` from `POST /aliyun/image/upload`.",
    ),
    param(
        "bio",
        Loc::Body,
        false,
        Ty::Text(user::BIO_MAX),
        "Self-description (介绍).",
    ),
];

const EVENT_PARAMS: [ParamDoc; 4] = [
    param(
        "name",
        Loc::Body,
        true,
        Ty::Text(event::NAME_MAX),
        "Title (标题).",
    ),
    param(
        "desc",
        Loc::Body,
        false,
        Ty::Text(event::DESC_MAX),
        "Description (介绍).",
    ),
    param(
        "eventTime",
        Loc::Body,
        true,
        Ty::Millis,
        "When it starts, ms since the epoch; must be in the future.",
    ),
    param(
        "memberUidList",
        Loc::Body,
        true,
        Ty::List(event::MEMBERS_MAX),
        "Hosts and guests (主持人或者嘉宾): 1 or more uids of existing users, e.g. `[\"uid1\",\"uid2\"]`.",
    ),
];

const CAPTCHA_PHONE: [ParamDoc; 2] = [
    param(
        "countryCode",
        Loc::Body,
        false,
        Ty::Pattern("^\\+?[0-9]{1,4}$"),
        "Country calling code (国家地区码), default 86; a leading `+` is dropped.",
    ),
    param(
        "mobile",
        Loc::Body,
        true,
        Ty::Pattern("^[0-9]{4,15}$"),
        "Mobile number (手机号), national digits.",
    ),
];

const HOST_CONTROL: &[ParamDoc] = &[P_ROOM, P_UID];

/// Every operation the server registers.
pub const ROUTES: &[RouteDoc] = &[
    // ---- Account
    RouteDoc {
        method: Method::Post,
        path: "/account/captcha",
        tags: &[Tag::Account],
        summary: "Send an SMS captcha (获取短信验证码)",
        description: "One code per number per 60 s and 10 per 24 h; a code is 6 digits, valid 5 minutes, single use. Send limits and SMS failures answer business code 0 with the reason in `message`.",
        auth: Auth::Signed,
        params: &CAPTCHA_PHONE,
        reply: envelope(Res::Empty, crate::captcha::messages::SENT),
        codes: &[BusinessCode::Default],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/account/login/captcha",
        tags: &[Tag::Account],
        summary: "Log in with an SMS captcha, registering on first use (短信验证码登录/注册账号)",
        description: "`message` is 登录成功, or 注册成功 when the account was created. Every login is a new session. A wrong, expired or used code answers business code 0 with the reason.",
        auth: Auth::Signed,
        params: &[
            CAPTCHA_PHONE[0],
            CAPTCHA_PHONE[1],
            param(
                "captcha",
                Loc::Body,
                true,
                Ty::Pattern("^[0-9]{4,6}$"),
                "The SMS code (短信验证码).",
            ),
        ],
        reply: envelope(Res::Schema("LoginResult"), "登录成功"),
        codes: &[BusinessCode::Default, BusinessCode::AccountFrozen],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/account/logout",
        tags: &[Tag::Account],
        summary: "Log out (退出登录)",
        description: "The session's token stops working at once; other devices stay logged in.",
        auth: Auth::User,
        reply: envelope(Res::Empty, "退出成功"),
        ..BASE
    },
    // ---- User
    RouteDoc {
        method: Method::Post,
        path: "/user/profile/init",
        tags: &[Tag::User],
        summary: "Initialise my profile (初始化用户资料)",
        auth: Auth::User,
        params: &PROFILE_PARAMS,
        reply: envelope(Res::Schema("Profile"), "Success"),
        codes: &[BusinessCode::ProfileAlreadyInitialised],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/user/profile",
        tags: &[Tag::User],
        summary: "Update my profile (更新用户资料)",
        description: "`bio` absent keeps the current one.",
        params: &PROFILE_PARAMS,
        reply: envelope(Res::Schema("Profile"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/{uid}/profile",
        tags: &[Tag::User],
        summary: "A user's profile (获取用户资料)",
        params: &[P_UID],
        reply: envelope(Res::Schema("Profile"), "Success"),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/block",
        tags: &[Tag::User],
        summary: "The users I have blocked, a page (分页获取黑名单列表)",
        params: PAGE,
        reply: envelope(Res::Page("UserItem"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/user/{uid}/block",
        tags: &[Tag::User],
        summary: "Block a user (拉黑用户)",
        description: "`uid` must be another, existing user (400 for yourself).",
        params: &[P_UID],
        reply: envelope(Res::Empty, "拉黑成功"),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/user/{uid}/block",
        tags: &[Tag::User],
        summary: "Unblock a user (取消拉黑用户)",
        params: &[P_UID],
        reply: envelope(Res::Empty, "取消拉黑成功"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/message",
        tags: &[Tag::User],
        summary: "My messages, a page (分页获取消息列表)",
        description: "Newest first; the returned messages are marked read. `lastId` is the numeric `sequenceId` of the previous page's last item.",
        params: PAGE,
        reply: envelope(Res::Page("MessageItem"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/message/unread_total",
        tags: &[Tag::User],
        summary: "How many of my messages are unread (获取未读消息总数)",
        reply: envelope(Res::Schema("UnreadTotal"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/user/{uid}/card",
        tags: &[Tag::User],
        summary: "Send my card to a user (发送名片)",
        description: "The user gets a message the first time. Refused with business code 0 when they have blocked me.",
        params: &[P_UID],
        reply: envelope(Res::Empty, "对方已收到你的名片"),
        codes: &[BusinessCode::Default, BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/user/{uid}/card",
        tags: &[Tag::User],
        summary: "Remove a user's card from my holder (删除名片)",
        params: &[P_UID],
        reply: envelope(Res::Empty, "删除成功"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/card",
        tags: &[Tag::User],
        summary: "The cards I have received, a page (分页获取名片列表)",
        params: PAGE,
        reply: envelope(Res::Page("UserItem"), "Success"),
        ..BASE
    },
    // ---- Club
    RouteDoc {
        method: Method::Post,
        path: "/club",
        tags: &[Tag::Club],
        summary: "Create a club (创建圈子)",
        description: "The creator joins it. `joined` is left out of the result, as in the seed.",
        params: &[
            param(
                "name",
                Loc::Body,
                true,
                Ty::Text(club::NAME_MAX),
                "Name (名称).",
            ),
            param(
                "cover",
                Loc::Body,
                true,
                Ty::Text(user::URL_MAX),
                "Cover image URL (封面).",
            ),
        ],
        reply: envelope(Res::Schema("Club"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club/{clubId}",
        tags: &[Tag::Club],
        summary: "A club (获取圈子)",
        params: &[P_CLUB],
        reply: envelope(Res::Schema("Club"), "Success"),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club",
        tags: &[Tag::Club],
        summary: "The clubs I have joined, a page (分页获取圈子列表)",
        params: PAGE,
        reply: envelope(Res::Page("ClubItem"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club/{clubId}/member",
        tags: &[Tag::Club],
        summary: "A club's members, a page (分页获取圈子成员列表)",
        description: "Members only (403 otherwise).",
        params: &[P_CLUB, LAST_ID, COUNT],
        reply: envelope(Res::Page("UserItem"), "Success"),
        codes: &[BusinessCode::ClubNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/club/{clubId}/join",
        tags: &[Tag::Club],
        summary: "Join a club (加入圈子)",
        params: &[P_CLUB],
        reply: envelope(Res::Schema("Club"), "Success"),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/club/{clubId}/leave",
        tags: &[Tag::Club],
        summary: "Leave a club (退出圈子)",
        params: &[P_CLUB],
        reply: EMPTY,
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    // ---- Room
    RouteDoc {
        method: Method::Post,
        path: "/room",
        tags: &[Tag::Room],
        summary: "Open a room (创建活动)",
        description: "A public room belongs to a club the creator has joined (403 otherwise); `inviteOnly=1` ignores `clubId`.",
        params: &[
            param(
                "name",
                Loc::Body,
                true,
                Ty::Text(club::NAME_MAX),
                "Topic (主题).",
            ),
            param(
                "clubId",
                Loc::Body,
                false,
                Ty::Hex32,
                "The club (圈子ID); required unless `inviteOnly` is 1.",
            ),
            param(
                "inviteOnly",
                Loc::Body,
                false,
                Ty::Int(0, 1),
                "1: private, only invited people may join (私密). Default 0.",
            ),
        ],
        reply: envelope(Res::Schema("CreatedRoom"), "Success"),
        codes: &[BusinessCode::ClubNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/room/{roomId}",
        tags: &[Tag::Room],
        summary: "A room with its live members (获取活动)",
        description: "An invite-only room is visible to its host and invited people only (403).",
        params: &[P_ROOM],
        reply: envelope(Res::Schema("Room"), "Success"),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/room",
        tags: &[Tag::Room],
        summary: "Open rooms in my clubs and invite-only rooms I host or was invited to, a page (分页获取活动列表)",
        params: PAGE,
        reply: envelope(Res::Page("RoomItem"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/token",
        tags: &[Tag::Room],
        summary: "Join a room: a voice (RTC) token (获取活动声网Token)",
        description: "Admits the caller as a live member (room open; invite-only: host or invited, else 403; no host has blocked the caller, else 400001). The caller stays a member until they leave over the WebSocket, stay disconnected past the grace period, or the room closes.",
        params: &[P_ROOM],
        reply: envelope(Res::Schema("RoomToken"), "Success"),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/close",
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
        tags: &[Tag::Room],
        summary: "A share token for the room (获取活动Cache)",
        description: "`result` is a `roomCacheId` for (room, caller): `/h5/room/{roomCacheId}` and `/s/room/{roomCacheId}` show the room.",
        params: &[P_ROOM],
        reply: envelope(Res::Schema("RoomCacheId"), "Success"),
        codes: &[BusinessCode::RoomNotFound, BusinessCode::RoomBlocked],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/room/{roomId}/invite/{uid}",
        tags: &[Tag::Room],
        summary: "Invite a user to a room (邀请用户加入活动)",
        description: "By the host or a live member who holds the invitee's card or shares a club with them (else 403). The invitee gets a message and a realtime push, and may then join even an invite-only room.",
        params: &[P_ROOM, P_UID],
        reply: envelope(Res::Empty, "邀请成功"),
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
        tags: &[Tag::Room],
        summary: "Remove a member from a room, host only",
        description: "The member leaves at once and gets no new token for the room.",
        params: HOST_CONTROL,
        reply: EMPTY,
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        errors: &[403],
        ..BASE
    },
    // ---- Event
    RouteDoc {
        method: Method::Post,
        path: "/event",
        tags: &[Tag::Event],
        summary: "Schedule an event (创建日程)",
        params: &EVENT_PARAMS,
        reply: envelope(Res::Schema("Event"), "Success"),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/event/{eventId}",
        tags: &[Tag::Event],
        summary: "Edit an event, creator only (编辑日程)",
        params: &[
            P_EVENT,
            EVENT_PARAMS[0],
            EVENT_PARAMS[1],
            EVENT_PARAMS[2],
            EVENT_PARAMS[3],
        ],
        reply: envelope(Res::Schema("Event"), "Success"),
        codes: &[BusinessCode::EventNotFound, BusinessCode::UserNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/event/{eventId}",
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
        tags: &[Tag::Event],
        summary: "An event (获取日程)",
        params: &[P_EVENT],
        reply: envelope(Res::Schema("Event"), "Success"),
        codes: &[BusinessCode::EventNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/event",
        tags: &[Tag::Event],
        summary: "Events, a page (分页获取日程列表)",
        params: PAGE,
        reply: envelope(Res::Page("EventItem"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/event/{eventId}/notify",
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
        tags: &[Tag::Event],
        summary: "Open a room from an event, creator only (通过日程开始活动)",
        description: "The result carries `eventTimeStatus` 1, `roomId` and `roomResult`; subscribers are told.",
        params: &[P_EVENT],
        reply: envelope(Res::Schema("Event"), "Success"),
        codes: &[BusinessCode::EventNotFound],
        errors: &[403],
        ..BASE
    },
    // ---- Aliyun (uploads)
    RouteDoc {
        method: Method::Post,
        path: "/aliyun/image/upload",
        tags: &[Tag::Aliyun],
        summary: "A presigned address to upload an image (创建上传图片凭证)",
        description: "PUT the image bytes to `uploadAddress` (with its `Content-Type`) before it expires; the image is then at `imageURL`. The object is `image/{uid}/{imageDir}/{imageId}.jpg` on the configured store (local, S3 or OSS).",
        params: &[param(
            "imageDir",
            Loc::Body,
            true,
            Ty::OneOf(&["avatar", "cover", "room", "feedback"]),
            "Image folder (图片目录): avatar 头像 / cover 封面 / room 活动 / feedback 反馈.",
        )],
        reply: envelope(Res::Schema("UploadTicket"), "Success"),
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/upload/{key:.+}",
        tags: &[Tag::Aliyun],
        summary: "Upload an image to a presigned address (local store)",
        description: "The `uploadAddress` of `POST /aliyun/image/upload` when `HUDDLE_STORAGE=local`: the body is the image (JPEG, PNG, GIF or WebP, at most `HUDDLE_STORAGE_MAX_IMAGE_BYTES`). A missing, expired or wrong signature is 403; with another store this path answers 404.",
        auth: Auth::None,
        params: &[
            param(
                "key",
                Loc::Path,
                true,
                Ty::Pattern("^image/[0-9a-f]{32}/(avatar|cover|room|feedback)/[0-9a-f]{32}\\.jpg$"),
                "The object key, `image/{uid}/{imageDir}/{imageId}.jpg` (it contains slashes).",
            ),
            param(
                "Expires",
                Loc::Query,
                true,
                Ty::Text(0),
                "Expiry of the address (seconds since the epoch), from the presigned address.",
            ),
            param(
                "Signature",
                Loc::Query,
                true,
                Ty::Text(0),
                "The address's signature, from the presigned address.",
            ),
        ],
        reply: EMPTY,
        errors: &[400, 403, 404, 413, 415, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/image/{uid}/{dir}/{file}",
        tags: &[Tag::Aliyun],
        summary: "An uploaded image (local store)",
        description: "The `imageURL` of an image uploaded to the local store. Immutable: cached for a year.",
        auth: Auth::None,
        params: &IMAGE_PARAMS,
        reply: Reply::Image,
        errors: &[404],
        ..BASE
    },
    RouteDoc {
        method: Method::Head,
        path: "/image/{uid}/{dir}/{file}",
        tags: &[Tag::Aliyun],
        summary: "An uploaded image's headers (local store)",
        auth: Auth::None,
        params: &IMAGE_PARAMS,
        reply: Reply::Image,
        errors: &[404],
        ..BASE
    },
    // ---- Push
    RouteDoc {
        method: Method::Post,
        path: "/push/{jPushId}",
        tags: &[Tag::Push],
        summary: "Bind a push registration id to me and my Client-Type (更新JPushID)",
        params: &[param(
            "jPushId",
            Loc::Path,
            true,
            Ty::Pattern(JPUSH_ID_PATTERN),
            "The JPush registration id.",
        )],
        reply: EMPTY,
        ..BASE
    },
    // ---- App
    RouteDoc {
        method: Method::Get,
        path: "/app/version/upgrade",
        tags: &[Tag::App],
        summary: "The newest app version for my Client-Type (获取最新版本)",
        description: "Not signed (鉴权: 否, 参数校验: 否); only `Client-Type` is read. With no version published for the client type, `result` is `{}`.",
        auth: Auth::None,
        params: &[CLIENT_TYPE],
        reply: envelope(Res::Schema("AppVersionOrEmpty"), "Success"),
        errors: &[400, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/feedback",
        tags: &[Tag::App],
        summary: "Send feedback (反馈)",
        params: &[
            param(
                "originFeedbackType",
                Loc::Body,
                true,
                Ty::Int(0, 1),
                "Where from (反馈来源类型): 0 App / 1 Room.",
            ),
            param(
                "originId",
                Loc::Body,
                true,
                Ty::Text(64),
                "Source id (反馈来源ID): a roomId of an existing room when originFeedbackType is 1.",
            ),
            param(
                "feedbackType",
                Loc::Body,
                true,
                Ty::Int(0, 99),
                "Kind (反馈类型): 0 default.",
            ),
            param(
                "feedbackContent",
                Loc::Body,
                true,
                Ty::Text(app::FEEDBACK_MAX),
                "The feedback (反馈内容).",
            ),
            param(
                "feedbackImageList",
                Loc::Body,
                false,
                Ty::List(app::FEEDBACK_IMAGES_MAX),
                "Images I uploaded (反馈图片), by `imageId` or `imageURL`, e.g. `[\"img1\",\"img2\"]`.",
            ),
        ],
        reply: envelope(Res::Empty, "反馈成功"),
        codes: &[BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/report",
        tags: &[Tag::App],
        summary: "Report a user or a room (投诉)",
        params: &[
            param(
                "originReportType",
                Loc::Body,
                true,
                Ty::Int(1, 2),
                "What is reported (来源类型): 1 user / 2 room.",
            ),
            param(
                "originId",
                Loc::Body,
                true,
                Ty::Hex32,
                "The reported uid or roomId (投诉来源ID); not yourself.",
            ),
            param(
                "reportReasonType",
                Loc::Body,
                true,
                Ty::Int(1, 5),
                "Reason (投诉原因类别): 1 illegal / 2 pornography / 3 violence / 4 advertising / 5 other.",
            ),
            param(
                "reason",
                Loc::Body,
                true,
                Ty::Text(app::REASON_MAX),
                "Details (投诉原因).",
            ),
        ],
        reply: envelope(Res::Empty, "投诉成功"),
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/link/preview/{linkMD5}",
        tags: &[Tag::App],
        summary: "A link's preview (获取链接预览)",
        description: "`linkMD5` must be the md5 of `link` (with `http://` prepended when it has no scheme), else 400. The page is fetched once (behind an SSRF guard) and the preview cached by MD5. A page that cannot be fetched answers business code 0; a fetch past its deadline 504.",
        params: &[
            param(
                "linkMD5",
                Loc::Path,
                true,
                Ty::Hex32,
                "md5 of the link, 32 lowercase hex.",
            ),
            param(
                "link",
                Loc::Body,
                true,
                Ty::Text(app::LINK_MAX),
                "The link (http:// or https://; `http://` is assumed without a scheme).",
            ),
        ],
        reply: envelope(Res::Schema("LinkPreview"), "Success"),
        codes: &[BusinessCode::Default],
        errors: &[504],
        ..BASE
    },
    // ---- H5
    RouteDoc {
        method: Method::Post,
        path: "/h5/session",
        tags: &[Tag::H5],
        summary: "Open an H5 session: a WeChat login or a guest",
        description: "With WeChat configured and an OAuth `code`, a WeChat session (401 when WeChat refuses the code; 400 for a `code` when WeChat is not configured); without `code`, a guest session. The `h5Token` authenticates the other `/h5/*` calls (`Authorization: Bearer`).",
        auth: Auth::Signed,
        params: &[param(
            "code",
            Loc::Body,
            false,
            Ty::Text(256),
            "The WeChat OAuth code of the page; absent for a guest session.",
        )],
        reply: envelope(Res::Schema("H5Session"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/weixin/config",
        tags: &[Tag::H5],
        summary: "WeChat JS-SDK config for a page (获取微信Config)",
        description: "503 when WeChat is not configured on this server.",
        auth: Auth::H5,
        params: &[param(
            "url",
            Loc::Body,
            true,
            Ty::Text(2048),
            "The page's http(s) URL (当前路径URL); any `#fragment` is dropped.",
        )],
        reply: envelope(Res::Schema("WeixinConfig"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/room/{roomCacheId}",
        tags: &[Tag::H5],
        summary: "A shared room as a stranger sees it (获取活动)",
        description: "`fromMember` is the sharer; `closed` is 1 once the room has ended.",
        auth: Auth::H5,
        params: &[P_ROOM_CACHE],
        reply: envelope(Res::Schema("H5Room"), "Success"),
        codes: &[BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/h5/room/{roomCacheId}/live",
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
        tags: &[Tag::H5],
        summary: "A club as a stranger sees it (获取圈子)",
        auth: Auth::H5,
        params: &[P_CLUB],
        reply: envelope(Res::Schema("Club"), "Success"),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/profile/{uid}",
        tags: &[Tag::H5],
        summary: "A profile as a stranger sees it (获取用户资料)",
        auth: Auth::H5,
        params: &[P_UID],
        reply: envelope(Res::Schema("H5Member"), "Success"),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/h5/event/{eventId}",
        tags: &[Tag::H5],
        summary: "An event as a stranger sees it (获取日程)",
        auth: Auth::H5,
        params: &[P_EVENT],
        reply: envelope(Res::Schema("H5Event"), "Success"),
        codes: &[BusinessCode::EventNotFound],
        ..BASE
    },
    // ---- Realtime
    RouteDoc {
        method: Method::Get,
        path: "/ws",
        tags: &[Tag::Realtime],
        summary: "The WebSocket of a logged-in device",
        description: "Upgrades to the realtime WebSocket: live room membership, hands, host controls, inbox/invite/event/club pushes, resume by sequence number, heartbeats. The first frame is `hello`. The protocol (every op, event, error and close code) is in docs/realtime.md.",
        auth: Auth::Socket,
        params: &[
            param(
                "uid",
                Loc::Query,
                false,
                Ty::Hex32,
                "With `accessToken`, instead of the Authorization header.",
            ),
            param(
                "accessToken",
                Loc::Query,
                false,
                Ty::Text(0),
                "With `uid`, instead of the Authorization header.",
            ),
        ],
        reply: Reply::WebSocket,
        ..BASE
    },
    // ---- Pages
    RouteDoc {
        method: Method::Get,
        path: "/",
        tags: &[Tag::Pages],
        summary: "Redirect to the browser client",
        auth: Auth::None,
        reply: Reply::Redirect("/app/"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/app",
        tags: &[Tag::Pages],
        summary: "Redirect to the browser client",
        auth: Auth::None,
        reply: Reply::Redirect("/app/"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/app/",
        tags: &[Tag::Pages],
        summary: "The browser live-room client",
        auth: Auth::None,
        reply: Reply::Html,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/s/{kind}/{id}",
        tags: &[Tag::Pages],
        summary: "A share page with OpenGraph tags",
        description: "What a share link opens: the title, description and image are in the HTML (for link unfurlers that run no script); the page's script then reads the H5 routes and follows a room live. An unknown kind or id is 404.",
        auth: Auth::None,
        params: &[
            param(
                "kind",
                Loc::Path,
                true,
                Ty::OneOf(&["room", "club", "event", "profile"]),
                "What is shared.",
            ),
            param(
                "id",
                Loc::Path,
                true,
                Ty::Hex32,
                "A roomCacheId (room), clubId, eventId or uid (profile).",
            ),
        ],
        reply: Reply::SharePage,
        errors: &[404, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/web/{path:.+}",
        tags: &[Tag::Pages],
        summary: "A file of the browser pages (scripts, styles, images)",
        auth: Auth::None,
        params: &[param(
            "path",
            Loc::Path,
            true,
            Ty::Text(0),
            "The file under `web/`, e.g. `share.css` (may contain slashes).",
        )],
        reply: Reply::WebAsset,
        errors: &[404],
        ..BASE
    },
    // ---- Ops
    RouteDoc {
        method: Method::Get,
        path: "/healthz",
        tags: &[Tag::Ops],
        summary: "Liveness: the process serves HTTP",
        auth: Auth::None,
        reply: envelope(Res::Schema("Health"), "Success"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/readyz",
        tags: &[Tag::Ops],
        summary: "Readiness: the database answers (503 otherwise)",
        auth: Auth::None,
        reply: envelope(Res::Schema("Ready"), "Success"),
        errors: &[503],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/docs-json",
        tags: &[Tag::Ops],
        summary: "This OpenAPI document",
        auth: Auth::None,
        reply: Reply::OpenApi,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/docs",
        tags: &[Tag::Ops],
        summary: "Browsable API documentation (Swagger UI)",
        auth: Auth::None,
        reply: Reply::Html,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/docs/{file:.*}",
        tags: &[Tag::Ops],
        summary: "A Swagger UI file (served by huddle itself)",
        description: "Empty `file` (`/docs/`) is the page itself.",
        auth: Auth::None,
        params: &[param(
            "file",
            Loc::Path,
            true,
            Ty::Text(0),
            "e.g. `swagger-ui-bundle.js`, `swagger-ui.css`, `swagger-initializer.js`.",
        )],
        reply: Reply::DocsAsset,
        errors: &[404],
        ..BASE
    },
];

const JPUSH_ID_PATTERN: &str = "^[A-Za-z0-9_-]+$";

const IMAGE_PARAMS: [ParamDoc; 3] = [
    param("uid", Loc::Path, true, Ty::Hex32, "The uploader's uid."),
    param(
        "dir",
        Loc::Path,
        true,
        Ty::OneOf(&["avatar", "cover", "room", "feedback"]),
        "The image folder.",
    ),
    param(
        "file",
        Loc::Path,
        true,
        Ty::Pattern("^[0-9a-f]{32}\\.jpg$"),
        "`{imageId}.jpg`.",
    ),
];

const CLIENT_TYPE: ParamDoc = param(
    "Client-Type",
    Loc::Header,
    false,
    Ty::Int(0, 2),
    "0 Web, 1 iOS, 2 Android (missing = 0); anything else is 400.",
);

/// Every business code, in the seed's order. `code_name` matches on
/// [`BusinessCode`] exhaustively, so a new code does not compile until it is
/// named there; add it here too.
pub const ALL_CODES: [BusinessCode; 13] = [
    BusinessCode::Repeated,
    BusinessCode::Default,
    BusinessCode::AccountNotFound,
    BusinessCode::AccountExists,
    BusinessCode::AccountFrozen,
    BusinessCode::ProfileNotInitialised,
    BusinessCode::ProfileAlreadyInitialised,
    BusinessCode::UserNotFound,
    BusinessCode::MessageNotFound,
    BusinessCode::RoomNotFound,
    BusinessCode::RoomBlocked,
    BusinessCode::ClubNotFound,
    BusinessCode::EventNotFound,
];

fn code_name(code: BusinessCode) -> &'static str {
    match code {
        BusinessCode::Repeated => "Repeated",
        BusinessCode::Default => "Default",
        BusinessCode::AccountNotFound => "AccountNotFound",
        BusinessCode::AccountExists => "AccountExists",
        BusinessCode::AccountFrozen => "AccountFrozen",
        BusinessCode::ProfileNotInitialised => "ProfileNotInitialised",
        BusinessCode::ProfileAlreadyInitialised => "ProfileAlreadyInitialised",
        BusinessCode::UserNotFound => "UserNotFound",
        BusinessCode::MessageNotFound => "MessageNotFound",
        BusinessCode::RoomNotFound => "RoomNotFound",
        BusinessCode::RoomBlocked => "RoomBlocked",
        BusinessCode::ClubNotFound => "ClubNotFound",
        BusinessCode::EventNotFound => "EventNotFound",
    }
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/// The OpenAPI template of an actix pattern: `{name:regex}` becomes `{name}`
/// (the regex may itself hold braces, e.g. `{uid:[a-f0-9]{32}}`).
pub fn openapi_path(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '{' {
            out.push(c);
            continue;
        }
        out.push('{');
        let mut depth = 1;
        let mut in_name = true;
        for c in chars.by_ref() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ':' if depth == 1 => in_name = false,
                _ => {}
            }
            if in_name && depth == 1 {
                out.push(c);
            }
        }
        out.push('}');
    }
    out
}

/// The placeholder names of an OpenAPI template, in order.
pub fn path_params(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn operation_id(route: &RouteDoc) -> String {
    let mut id = route.method.key().to_owned();
    for segment in openapi_path(route.path).split('/') {
        let segment = segment.trim_matches(|c| c == '{' || c == '}');
        if segment.is_empty() {
            continue;
        }
        id.push('_');
        id.extend(
            segment
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    if route.path.ends_with('/') && route.path.len() > 1 {
        id.push_str("_index");
    }
    if route.path == "/" {
        id.push_str("_root");
    }
    id
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn hex32(description: &str, example: &str) -> Value {
    json!({
        "type": "string",
        "pattern": "^[0-9a-f]{32}$",
        "description": description,
        "example": example,
    })
}

fn text(description: &str, example: &str) -> Value {
    json!({ "type": "string", "description": description, "example": example })
}

fn int(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "description": description, "example": example })
}

fn flag(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "enum": [0, 1], "description": description, "example": example })
}

fn millis(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "description": format!("{description} (ms since the epoch)"), "example": example })
}

/// An object schema; properties marked `?` at the end of their name are optional.
fn object(description: &str, props: Vec<(&str, Value)>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, schema) in props {
        match name.strip_suffix('?') {
            Some(optional) => {
                properties.insert(optional.to_owned(), schema);
            }
            None => {
                required.push(Value::from(name));
                properties.insert(name.to_owned(), schema);
            }
        }
    }
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    })
}

fn array_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn nullable(mut schema: Value) -> Value {
    if let Some(obj) = schema.as_object_mut() {
        if obj.contains_key("$ref") {
            return json!({ "allOf": [schema], "nullable": true });
        }
        obj.insert("nullable".into(), Value::Bool(true));
    }
    schema
}

const UID_A: &str = "6ce4443c8fcd4a2b8b407bda86ab4408";
const UID_B: &str = "800fd752a5284eeb82396fe7478175eb";
const CLUB_ID: &str = "ea01330db4ad49288dce2b8bcb00240b";
const ROOM_ID: &str = "cda55a0bfb834f5ab18eb0867f01017a";
const EVENT_ID: &str = "6bdcf14e7fd742bcb9198d60e5452d8c";
const AVATAR: &str = "https://cdn.example.com/image/6ce4443c8fcd4a2b8b407bda86ab4408/avatar/49d8ec7c29474523868a73eb0d395557.jpg";

fn component_schemas() -> Map<String, Value> {
    let business_codes: Vec<Value> = ALL_CODES.iter().map(|c| Value::from(c.code())).collect();
    let mut s = Map::new();
    let mut add = |name: &str, schema: Value| {
        s.insert(name.to_owned(), schema);
    };
    add(
        "Envelope",
        object(
            "Every JSON answer: success (HTTP 200, status 1), business failure (HTTP 200, status 0, result = business code) or protocol failure (HTTP 4xx/5xx, status 0, result 0).",
            vec![
                ("result", json!({ "description": "Success: the route's result (object, array or scalar; `{}` by default). Failure: the business code, or 0." })),
                ("message", text("\"Success\", the route's own text, or what went wrong.", "Success")),
                ("status", json!({ "type": "integer", "enum": [0, 1], "description": "1 success, 0 failure.", "example": 1 })),
            ],
        ),
    );
    add(
        "BusinessFailure",
        object(
            "HTTP 200 with a business code (see `x-business-codes`).",
            vec![
                (
                    "result",
                    json!({ "type": "integer", "enum": business_codes, "description": "The business code.", "example": BusinessCode::ProfileNotInitialised.code() }),
                ),
                (
                    "message",
                    text(
                        "The code's text, or a specific one.",
                        BusinessCode::ProfileNotInitialised.message(),
                    ),
                ),
                (
                    "status",
                    json!({ "type": "integer", "enum": [0], "example": 0 }),
                ),
            ],
        ),
    );
    add(
        "ProtocolFailure",
        object(
            "HTTP 4xx/5xx. `message` starts with the seed's text for the status (`Params Not Valid`, `Authorized Failed`, ...), followed by `: ` and the detail where that helps.",
            vec![
                ("result", json!({ "type": "integer", "enum": [0], "example": 0 })),
                ("message", text("The seed's text for the status, then the detail.", &ApiError::BadRequest("count must be between 0 and 100".into()).to_string())),
                ("status", json!({ "type": "integer", "enum": [0], "example": 0 })),
            ],
        ),
    );
    add(
        "Empty",
        json!({ "type": "object", "description": "`{}`", "properties": {}, "example": {} }),
    );
    add(
        "PageInfo",
        object(
            "`result.page` of a list.",
            vec![("count", int("The requested count, echoed.", 10))],
        ),
    );
    add(
        "LoginResult",
        object(
            "A new session.",
            vec![
                ("uid", hex32("The account.", "2701a6fbd0464da99789c9ad1ca1c654")),
                ("expireTime", millis("When the session expires", 1_608_207_590_160)),
                ("accessToken", text("With uid, the Basic credentials: `Authorization: Basic base64(uid:accessToken)`.", "c184241930be43b5bc36812ce3de56b5")),
                ("accessSecret", text("Signs this session's calls (see `requestSign`).", "e31bc25bcc6641a1a998eacb6ca9d244")),
            ],
        ),
    );
    add(
        "Profile",
        object(
            "A profile (userProfileResult of single-user routes).",
            vec![
                (
                    "uid",
                    hex32("The user.", "861da0739b7542e69b81fe4baebfd816"),
                ),
                ("nickname", text("Display name.", "Toby")),
                ("avatar", text("Avatar URL.", AVATAR)),
                ("bio", text("Self-description.", "你好哇...")),
                ("blocked", flag("I have blocked this user.", 0)),
            ],
        ),
    );
    add(
        "UserProfileResult",
        object(
            "A user in a list.",
            vec![
                ("avatar", text("Avatar URL.", AVATAR)),
                ("bio", text("Self-description.", "开心就好")),
                ("sendCard", flag("I have sent this user my card.", 1)),
                ("cardTotal", int("Cards this user has received.", 3)),
                ("blocked", flag("I have blocked this user.", 0)),
                ("nickname", text("Display name.", "Tony")),
                ("uid", hex32("The user.", UID_A)),
            ],
        ),
    );
    add(
        "UserItem",
        object(
            "A list item about a user (blocks, cards, club members).",
            vec![
                (
                    "createTime",
                    millis("When the relation began", 1_616_747_477_657),
                ),
                (
                    "sequenceId",
                    text(
                        "Cursor: pass as `lastId` for the next page.",
                        "1616747477657:6ce4443c8fcd4a2b8b407bda86ab4408",
                    ),
                ),
                ("uid", hex32("The user.", UID_A)),
                ("userProfileResult", schema_ref("UserProfileResult")),
            ],
        ),
    );
    add(
        "MessageBody",
        object(
            "What a message says.",
            vec![
                ("title", text("Title.", "有人邀请你参加活动")),
                ("content", text("Text.", "Toby 邀请你加入活动")),
                (
                    "url",
                    text(
                        "App link.",
                        "chaoqer://room/73470423d7154aeb89cb61aec025a7f2",
                    ),
                ),
            ],
        ),
    );
    add(
        "Message",
        object(
            "userMessageResult.",
            vec![
                ("createTime", millis("When it was sent", 1_617_987_103_576)),
                ("messageBody", schema_ref("MessageBody")),
                (
                    "messageId",
                    int("Id (also the cursor).", 1_617_987_103_601_000),
                ),
                ("messageType", int("Always 0.", 0)),
                (
                    "originPushType",
                    int("What caused it (0 system, 1 card, 2 room invite, ...).", 2),
                ),
                (
                    "originUid",
                    text(
                        "Who caused it; empty for the system.",
                        "a5f00712b45b499eb15e99d77138d02d",
                    ),
                ),
                ("uid", hex32("The recipient.", UID_A)),
                ("unread", flag("Not read yet.", 1)),
            ],
        ),
    );
    add(
        "MessageItem",
        object(
            "A `/user/message` item.",
            vec![
                ("messageId", int("Id.", 1_617_987_103_601_000)),
                (
                    "sequenceId",
                    text(
                        "Cursor: pass as `lastId` for the next page.",
                        "1617987103601000",
                    ),
                ),
                ("userMessageResult", schema_ref("Message")),
            ],
        ),
    );
    add(
        "UnreadTotal",
        json!({ "type": "integer", "format": "int64", "description": "Unread messages.", "example": 5 }),
    );
    add(
        "Club",
        object(
            "A club. `joined` is absent on creation; `inviteOnly` (always 0) appears only inside a room's `clubResult`.",
            vec![
                ("clubId", hex32("The club.", CLUB_ID)),
                ("inviteOnly?", flag("Inside clubResult only.", 0)),
                ("cover", text("Cover image URL.", "https://cdn.example.com/image/6ce4443c8fcd4a2b8b407bda86ab4408/cover/759d404cbe07494785a1c498dc328373.jpg")),
                ("createTime", millis("Created", 1_614_426_859_268)),
                ("memberTotal", int("Members.", 3)),
                ("joined?", flag("I am a member.", 1)),
                ("name", text("Name.", "Bug交流圈")),
                ("uid", hex32("The creator.", UID_A)),
            ],
        ),
    );
    add(
        "ClubItem",
        object(
            "A `GET /club` item.",
            vec![
                ("clubId", hex32("The club.", CLUB_ID)),
                ("clubResult", schema_ref("Club")),
                ("createTime", millis("When I joined", 1_614_421_213_477)),
                (
                    "sequenceId",
                    text(
                        "Cursor: pass as `lastId` for the next page.",
                        "1614421213477:ea01330db4ad49288dce2b8bcb00240b",
                    ),
                ),
            ],
        ),
    );
    add(
        "Member",
        object(
            "A live member of a room.",
            vec![
                (
                    "allowLive",
                    flag("May speak (the host and those the host allowed).", 1),
                ),
                ("avatar", text("Avatar URL.", AVATAR)),
                ("bio", text("Self-description.", "有bug别找我！")),
                ("blocked", flag("I have blocked this user.", 0)),
                ("cardTotal", int("Cards this user has received.", 0)),
                ("nickname", text("Display name.", "Toby")),
                ("sendCard", flag("I have sent this user my card.", 0)),
                ("uid", hex32("The user.", UID_A)),
            ],
        ),
    );
    add(
        "CreatedRoom",
        object(
            "A room just opened.",
            vec![
                ("uid", hex32("The host.", UID_A)),
                ("createTime", millis("Opened", 1_614_433_968_620)),
                ("name", text("Topic.", "产品活动")),
                (
                    "clubId",
                    text("The club; empty for an invite-only room.", CLUB_ID),
                ),
                ("inviteOnly", flag("Private.", 0)),
                ("roomId", hex32("The room.", ROOM_ID)),
            ],
        ),
    );
    add(
        "Room",
        object(
            "A room with its live members.",
            vec![
                (
                    "clubId",
                    text("The club; empty for an invite-only room.", CLUB_ID),
                ),
                ("clubResult?", schema_ref("Club")),
                ("createTime", millis("Opened", 1_616_559_267_214)),
                ("inviteOnly", flag("Private.", 0)),
                ("memberList", array_of(schema_ref("Member"))),
                ("memberTotal", int("Live members.", 1)),
                ("name", text("Topic.", "测试")),
                ("roomId", hex32("The room.", ROOM_ID)),
                ("uid", hex32("The host.", UID_A)),
            ],
        ),
    );
    add(
        "RoomItem",
        object(
            "A `GET /room` item.",
            vec![
                ("createTime", millis("Opened", 1_614_434_249_522)),
                ("roomId", hex32("The room.", ROOM_ID)),
                ("roomResult", schema_ref("Room")),
                (
                    "sequenceId",
                    text(
                        "Cursor: pass as `lastId` for the next page.",
                        "1614434249522:cda55a0bfb834f5ab18eb0867f01017a",
                    ),
                ),
            ],
        ),
    );
    add(
        "RoomToken",
        object(
            "A voice token for the RTC channel named after the room.",
            vec![
                ("roomId", hex32("The room (the RTC channel).", ROOM_ID)),
                ("token", text("The RTC (Agora) token; join and publish privileges expire after HUDDLE_RTC_TOKEN_TTL_SECS.", "006e1f4ad5c2fb14f2c8f2e4b9b5a9f1c1aIAD...")),
            ],
        ),
    );
    add(
        "RoomCacheId",
        hex32(
            "A share token for (room, sharer).",
            "992058c18549424ea76c1c0d958fcdc1",
        ),
    );
    add(
        "Event",
        object(
            "An event; `roomId` and `roomResult` once started.",
            vec![
                ("createTime", millis("Created", 1_620_732_258_091)),
                ("desc", text("Description.", "测试介绍")),
                ("eventId", hex32("The event.", EVENT_ID)),
                ("eventTime", millis("When it starts", 1_620_748_800_000)),
                ("eventTimeStatus", flag("1 once started.", 0)),
                ("memberUidList", array_of(hex32("A host or guest.", UID_B))),
                ("name", text("Title.", "测试日程")),
                ("notify", flag("I subscribed to its reminder.", 0)),
                ("roomId?", hex32("The room it opened.", ROOM_ID)),
                ("roomResult?", schema_ref("Room")),
                ("uid", hex32("The creator.", UID_B)),
            ],
        ),
    );
    add(
        "H5Event",
        json!({
            "description": "An event as a stranger sees it: the app's event view plus its hosts and guests.",
            "allOf": [
                schema_ref("Event"),
                object(
                    "Hosts and guests.",
                    vec![(
                        "memberList",
                        array_of(schema_ref("Member")),
                    )],
                ),
            ],
        }),
    );
    add(
        "EventItem",
        object(
            "A `GET /event` item.",
            vec![
                ("eventId", hex32("The event.", EVENT_ID)),
                ("eventResult", schema_ref("Event")),
                (
                    "eventTime",
                    millis(
                        "The event's creation time, as in the seed's example",
                        1_620_736_603_909,
                    ),
                ),
                (
                    "sequenceId",
                    text(
                        "Cursor: pass as `lastId` for the next page.",
                        "1620736603909:6bdcf14e7fd742bcb9198d60e5452d8c",
                    ),
                ),
            ],
        ),
    );
    add(
        "UploadTicket",
        object(
            "Where to PUT an image and where it will be.",
            vec![
                ("uploadAddress", text("Presigned PUT address (expires after HUDDLE_STORAGE_UPLOAD_TTL_SECS).", "https://huddle.example.com/upload/image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg?Expires=1608622430&Signature=...")),
                ("imageId", hex32("The image.", "56da4708cf5348708c775f0cb09d7520")),
                ("imageURL", text("Public address once uploaded.", "https://huddle.example.com/image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg")),
            ],
        ),
    );
    add(
        "AppVersion",
        object(
            "An app release.",
            vec![
                ("clientType", int("1 iOS, 2 Android, 0 Web.", 1)),
                ("createTime", millis("Published", 1_618_818_435_105)),
                (
                    "downloadUrl",
                    text(
                        "Where to get it.",
                        "https://apps.apple.com/cn/app/id1556448380",
                    ),
                ),
                ("forcedUpgrade", flag("Older versions must upgrade.", 0)),
                ("versionCode", int("Integer version.", 19)),
                ("versionDesc", text("Release notes.", "1. 增加了名片夹功能")),
                (
                    "versionId",
                    hex32("The release.", "14205a41a5b5dd563fbc816b9a4c4df8"),
                ),
                ("versionName", text("Version string.", "0.1.7")),
            ],
        ),
    );
    add(
        "AppVersionOrEmpty",
        json!({ "oneOf": [schema_ref("AppVersion"), schema_ref("Empty")] }),
    );
    add(
        "LinkPreview",
        object(
            "A link's preview.",
            vec![
                (
                    "image",
                    text("Image URL.", "https://blog.example.com/cover.jpeg"),
                ),
                ("description", text("Description.", "创业吧，趁年轻！")),
                ("title", text("Title.", "创业路上之职业技能篇")),
                (
                    "url",
                    text("The page.", "https://blog.example.com/archives/1"),
                ),
            ],
        ),
    );
    add(
        "H5Session",
        object(
            "An H5 session.",
            vec![
                ("h5Token", text("`Authorization: Bearer <h5Token>` on `/h5/*`; `h5Token` query parameter of the live WebSocket.", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...")),
                ("guest", flag("1 for a guest session, 0 for a WeChat login.", 1)),
                ("expireTime", millis("When it expires", 1_700_086_400_000)),
            ],
        ),
    );
    add(
        "WeixinConfig",
        object(
            "`wx.config` parameters.",
            vec![
                ("signature", text("JS-SDK signature (sha1).", "7746a74050c1639706bc84ec59c139b26a73a0a2")),
                ("appId", text("Official account AppID.", "wxdf43cbdae5004909")),
                ("jsapi_ticket", text("The ticket signed.", "LIKLckvwlJT9cWIhEQTwfGnwmIrYHQ03Uc50v2sITHQ0yEHz5cqR-Q89_0UySQZSfFHhrzwhsblt_nYlgVAP8g")),
                ("nonceStr", text("Nonce.", "25499f0d0e0642108148becb7e408451")),
                ("url", text("The page URL signed (no fragment).", "https://h5.example.com/s/room/992058c18549424ea76c1c0d958fcdc1")),
                ("timestamp", text("Seconds since the epoch, as text.", "1616667594")),
            ],
        ),
    );
    add(
        "H5Member",
        object(
            "A person as a stranger sees them: no phone number, no viewer-specific flags.",
            vec![
                ("avatar", text("Avatar URL.", AVATAR)),
                ("bio", text("Self-description.", "开心就好")),
                ("nickname", text("Display name.", "Tony")),
                ("uid", hex32("The user.", UID_A)),
                ("blocked?", flag("Always 0 (absent on `fromMember`).", 0)),
            ],
        ),
    );
    add(
        "H5Room",
        object(
            "A shared room as a stranger sees it.",
            vec![
                ("closed", flag("The room has ended.", 0)),
                (
                    "clubId",
                    text("The club; empty for an invite-only room.", CLUB_ID),
                ),
                ("clubResult", nullable(schema_ref("Club"))),
                ("createTime", millis("Opened", 1_616_597_173_743)),
                ("fromMember", nullable(schema_ref("H5Member"))),
                ("memberList", array_of(schema_ref("H5Member"))),
                ("memberTotal", int("Live members.", 1)),
                ("name", text("Topic.", "测试")),
                ("inviteOnly", flag("Private.", 0)),
                (
                    "roomCacheId",
                    hex32("The share token.", "992058c18549424ea76c1c0d958fcdc1"),
                ),
                ("roomId", hex32("The room.", ROOM_ID)),
                ("uid", hex32("The host.", UID_A)),
            ],
        ),
    );
    add(
        "Health",
        object("Liveness.", vec![("status", text("Always up.", "up"))]),
    );
    add(
        "Ready",
        object(
            "Readiness.",
            vec![
                ("status", text("ready.", "ready")),
                ("database", text("up.", "up")),
            ],
        ),
    );
    s
}

/// The schema of one parameter as it travels in a query string, a header, a
/// path or a form (`json = false`), or in a JSON body (`json = true`).
fn param_schema(p: &ParamDoc, json: bool) -> Value {
    let mut schema = match p.ty {
        Ty::Text(0) => json!({ "type": "string" }),
        Ty::Text(max) => json!({ "type": "string", "maxLength": max }),
        Ty::Hex32 => json!({ "type": "string", "pattern": "^[0-9a-f]{32}$" }),
        Ty::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Ty::Millis => json!({ "type": "integer", "format": "int64" }),
        Ty::OneOf(values) => json!({ "type": "string", "enum": values }),
        Ty::Pattern(pattern) => json!({ "type": "string", "pattern": pattern }),
        Ty::List(max) if json => {
            json!({ "type": "array", "items": { "type": "string" }, "maxItems": max })
        }
        Ty::List(_) => {
            json!({ "type": "string", "description": "JSON text of an array of strings" })
        }
    };
    if p.name == "jPushId" {
        schema["maxLength"] = Value::from(push::REGISTRATION_ID_MAX);
    }
    schema
}

fn example_param(p: &ParamDoc) -> Option<Value> {
    let v = match (p.name, p.ty) {
        ("uid", _) => json!(UID_A),
        ("clubId", _) => json!(CLUB_ID),
        ("roomId", _) => json!(ROOM_ID),
        ("eventId", _) => json!(EVENT_ID),
        ("countryCode", _) => json!("86"),
        ("mobile", _) => json!("13800000000"),
        ("captcha", _) => json!("123456"),
        ("count", _) => json!(10),
        (_, Ty::List(_)) => json!("[\"6ce4443c8fcd4a2b8b407bda86ab4408\"]"),
        _ => return None,
    };
    Some(v)
}

/// A parameter object (query, path or header).
fn parameter(p: &ParamDoc) -> Value {
    let location = match p.location {
        Loc::Query | Loc::Body => "query",
        Loc::Path => "path",
        Loc::Header => "header",
    };
    let mut v = json!({
        "name": p.name,
        "in": location,
        "required": p.required || p.location == Loc::Path,
        "description": p.description,
        "schema": param_schema(p, false),
    });
    if let Some(example) = example_param(p) {
        v["example"] = example;
    }
    v
}

/// The request body of a POST/PUT/DELETE API route: its body parameters plus
/// `ts` and `sign`, as a form and as a flat JSON object.
fn request_body(route: &RouteDoc) -> Value {
    let body: Vec<&ParamDoc> = route
        .params
        .iter()
        .filter(|p| p.location == Loc::Body)
        .collect();
    let schema = |json: bool| {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &body {
            let mut s = param_schema(p, json);
            s["description"] = Value::from(p.description);
            if let Some(example) = example_param(p) {
                s["example"] = match (json, p.ty) {
                    (true, Ty::List(_)) => json!([UID_A]),
                    _ => example,
                };
            }
            properties.insert(p.name.to_owned(), s);
            if p.required {
                required.push(Value::from(p.name));
            }
        }
        if route.auth.signed() {
            properties.insert("ts".into(), schema_ref("Ts"));
            properties.insert("sign".into(), schema_ref("Sign"));
            required.push("ts".into());
            required.push("sign".into());
        }
        json!({ "type": "object", "required": required, "properties": properties })
    };
    json!({
        "required": true,
        "description": "A flat JSON object or a form; the same parameters may also travel in the query string (query and body merge; a parameter given twice is 400). Any other Content-Type with a non-empty body is 415; more than HUDDLE_MAX_BODY_BYTES is 413.",
        "content": {
            "application/json": { "schema": schema(true) },
            "application/x-www-form-urlencoded": { "schema": schema(false) },
        }
    })
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// (status, component name, example error).
fn protocol_failures() -> Vec<(u16, &'static str, ApiError)> {
    use actix_web::http::StatusCode;
    vec![
        (400, "BadRequest", ApiError::BadRequest("count must be between 0 and 100".into())),
        (401, "Unauthorized", ApiError::Unauthorized("sign does not match the parameters".into())),
        (403, "Forbidden", ApiError::Forbidden("only the event's creator can do this".into())),
        (404, "NotFound", ApiError::NotFound),
        (405, "MethodNotAllowed", ApiError::MethodNotAllowed),
        (413, "PayloadTooLarge", ApiError::PayloadTooLarge("request body is larger than 102400 bytes".into())),
        (415, "UnsupportedMediaType", ApiError::UnsupportedMediaType("text/plain is not accepted; use application/json or application/x-www-form-urlencoded".into())),
        (429, "TooManyRequests", ApiError::TooManyRequests { retry_after_secs: 60 }),
        (500, "InternalServerError", ApiError::internal(anyhow::anyhow!("example"))),
        (503, "ServiceUnavailable", ApiError::Unavailable("database unavailable".into())),
        (504, "GatewayTimeout", ApiError::Status(StatusCode::GATEWAY_TIMEOUT)),
    ]
}

fn component_responses() -> Map<String, Value> {
    let mut out = Map::new();
    for (status, name, error) in protocol_failures() {
        let message = error.to_string();
        let seed = message.split(':').next().unwrap_or_default().to_owned();
        let mut response = json!({
            "description": format!("{seed}: a protocol failure (HTTP {status}); `message` is \"{seed}\", then `: ` and the detail where there is one."),
            "content": {
                "application/json": {
                    "schema": schema_ref("ProtocolFailure"),
                    "example": { "result": 0, "message": message, "status": 0 },
                }
            }
        });
        if status == 429 {
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds until a retry may succeed.", "schema": { "type": "integer" } }
            });
        }
        out.insert(name.to_owned(), response);
    }
    out
}

fn failure_ref(status: u16) -> Option<Value> {
    protocol_failures()
        .into_iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, name, _)| json!({ "$ref": format!("#/components/responses/{name}") }))
}

/// An example value for `schema`, from the `example`s of its parts.
fn example_of(schema: &Value, schemas: &Map<String, Value>, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return schemas
            .get(name)
            .map(|s| example_of(s, schemas, depth + 1))
            .unwrap_or(Value::Null);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            match example_of(part, schemas, depth + 1) {
                Value::Object(fields) => merged.extend(fields),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(|v| v.get(0)) {
            return example_of(first, schemas, depth + 1);
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    out.insert(k.clone(), example_of(v, schemas, depth + 1));
                }
            }
            Value::Object(out)
        }
        Some("array") => match schema.get("items") {
            Some(items) => json!([example_of(items, schemas, depth + 1)]),
            None => json!([]),
        },
        Some("integer") => json!(0),
        Some("string") => json!(""),
        _ => Value::Null,
    }
}

fn result_schema(result: Res) -> Value {
    match result {
        Res::Empty => schema_ref("Empty"),
        Res::Schema(name) => schema_ref(name),
        Res::Page(item) => json!({
            "type": "object",
            "required": ["page", "list"],
            "properties": {
                "page": schema_ref("PageInfo"),
                "list": { "type": "array", "items": schema_ref(item), "description": "At most `count` items, newest first." },
            }
        }),
    }
}

fn route_codes(route: &RouteDoc) -> Vec<BusinessCode> {
    let mut codes: Vec<BusinessCode> = Vec::new();
    for code in route.auth.codes().iter().chain(route.codes) {
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    codes.sort_by_key(|c| c.code());
    codes
}

fn route_statuses(route: &RouteDoc) -> BTreeSet<u16> {
    route
        .auth
        .statuses()
        .iter()
        .chain(route.errors)
        .copied()
        .collect()
}

fn success_response(route: &RouteDoc, schemas: &Map<String, Value>) -> (u16, Value) {
    let binary = json!({ "type": "string", "format": "binary" });
    match route.reply {
        Reply::Envelope { result, message } => {
            let success = json!({
                "type": "object",
                "required": ["result", "message", "status"],
                "properties": {
                    "result": result_schema(result),
                    "message": { "type": "string", "example": message },
                    "status": { "type": "integer", "enum": [1], "example": 1 },
                }
            });
            let codes = route_codes(route);
            let mut examples = Map::new();
            examples.insert(
                "success".into(),
                json!({
                    "summary": "Success",
                    "value": {
                        "result": example_of(&result_schema(result), schemas, 0),
                        "message": message,
                        "status": 1,
                    }
                }),
            );
            for code in &codes {
                examples.insert(
                    format!("code {}", code.code()),
                    json!({
                        "summary": format!("{}: {}", code.code(), code.message()),
                        "value": { "result": code.code(), "message": code.message(), "status": 0 },
                    }),
                );
            }
            let schema = if codes.is_empty() {
                success
            } else {
                json!({ "oneOf": [success, schema_ref("BusinessFailure")] })
            };
            let description = if codes.is_empty() {
                format!("Success: `{{\"result\": …, \"message\": \"{message}\", \"status\": 1}}`.")
            } else {
                let list: Vec<String> = codes
                    .iter()
                    .map(|c| format!("{} {}", c.code(), c.message()))
                    .collect();
                format!(
                    "Success (`status` 1, `message` \"{message}\"), or a business failure (`status` 0, `result` = business code: {}).",
                    list.join("; ")
                )
            };
            (
                200,
                json!({
                    "description": description,
                    "content": { "application/json": { "schema": schema, "examples": examples } }
                }),
            )
        }
        Reply::Html | Reply::SharePage => (
            200,
            json!({
                "description": "An HTML page.",
                "content": { "text/html; charset=utf-8": { "schema": { "type": "string" } } }
            }),
        ),
        Reply::Redirect(location) => (
            302,
            json!({
                "description": format!("Found: redirects to `{location}`."),
                "headers": { "Location": { "schema": { "type": "string" }, "example": location } }
            }),
        ),
        Reply::WebSocket => (
            101,
            json!({
                "description": "Switching Protocols: the connection is now a WebSocket (UTF-8 JSON text frames; see docs/realtime.md).",
                "headers": {
                    "Upgrade": { "schema": { "type": "string", "enum": ["websocket"] } },
                    "Sec-WebSocket-Accept": { "schema": { "type": "string" } },
                }
            }),
        ),
        Reply::Image => {
            let mut content = Map::new();
            for t in crate::storage::local::IMAGE_CONTENT_TYPES {
                content.insert((*t).to_owned(), json!({ "schema": binary }));
            }
            (
                200,
                json!({
                    "description": "The image (its type sniffed from its bytes).",
                    "headers": { "Cache-Control": { "schema": { "type": "string" }, "example": "public, max-age=31536000, immutable" } },
                    "content": content,
                }),
            )
        }
        Reply::WebAsset => (
            200,
            json!({
                "description": "The file, with a Content-Type from its extension.",
                "content": {
                    "text/html; charset=utf-8": { "schema": { "type": "string" } },
                    "text/css; charset=utf-8": { "schema": { "type": "string" } },
                    "text/javascript; charset=utf-8": { "schema": { "type": "string" } },
                    "application/json": { "schema": { "type": "string" } },
                    "image/svg+xml": { "schema": { "type": "string" } },
                    "image/png": { "schema": binary },
                    "image/jpeg": { "schema": binary },
                    "image/x-icon": { "schema": binary },
                    "text/plain; charset=utf-8": { "schema": { "type": "string" } },
                    "application/octet-stream": { "schema": binary },
                }
            }),
        ),
        Reply::DocsAsset => (
            200,
            json!({
                "description": "The file, with a Content-Type from its extension.",
                "content": {
                    "text/html": { "schema": { "type": "string" } },
                    "text/css": { "schema": { "type": "string" } },
                    "text/javascript": { "schema": { "type": "string" } },
                    "application/json": { "schema": { "type": "string" } },
                    "image/png": { "schema": binary },
                }
            }),
        ),
        Reply::OpenApi => (
            200,
            json!({
                "description": "This document (OpenAPI 3.0.3).",
                "content": { "application/json": { "schema": { "type": "object" } } }
            }),
        ),
    }
}

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

fn signing_rule() -> String {
    let example: [(&str, &str); 3] = [
        ("countryCode", "86"),
        ("mobile", "13800000000"),
        ("ts", "1608207590160"),
    ];
    let canonical = signature::canonical_string(example, DEFAULT_ACCESS_SECRET);
    let sign = signature::sign(example, DEFAULT_ACCESS_SECRET);
    let window_s = SIGN_WINDOW_MS / 1000;
    let replay_s = 2 * window_s;
    format!(
        "Request signing (客户端公共参数). Every signed call carries `ts` (the client's clock, ms since the epoch) and `sign`, in the query string, a form body or a flat JSON body (they merge):\n\n\
         ```\nsign = md5_hex_lower( join(\"$$$\", sorted \"key=value\" of every parameter but sign)\n                      + \"$$$accessSecret=\" + accessSecret )\n```\n\n\
         - Keys sort bytewise ascending (upper case before lower case). The value is the string sent; in a JSON body a non-string value is signed as its compact JSON text (`1`, `true`, `[\"a\",\"b\"]`). Path segments are not parameters and are not signed.\n\
         - `accessSecret` is the default `{DEFAULT_ACCESS_SECRET}` before login, on the Account routes, on `POST /h5/session` and on the H5 routes; on logged-in routes it is the `accessSecret` that `POST /account/login/captcha` returned (the default is refused there).\n\
         - `|server time - ts|` over {SIGN_WINDOW_MS} ms ({window_s} s), or a missing or wrong `sign` (hex case ignored), is HTTP 401.\n\
         - The same sign from the same caller again within {replay_s} s answers HTTP 200 `{{\"result\": -1, \"message\": \"{repeated}\", \"status\": 0}}` and the call is not executed: every call needs a fresh `ts`.\n\n\
         Example: `countryCode=86`, `mobile=13800000000`, `ts=1608207590160` before login:\n\n\
         ```\ncanonical: {canonical}\nsign:      {sign}\n```\n\n\
         `huddle sign [--secret S] [--ts MS] key=value ...` prints every step for your own parameters.",
        repeated = BusinessCode::Repeated.message(),
    )
}

fn info_description() -> String {
    let mut codes = String::from("| code | name | message |\n|---|---|---|\n");
    for c in ALL_CODES {
        codes.push_str(&format!(
            "| {} | {} | {} |\n",
            c.code(),
            code_name(c),
            c.message()
        ));
    }
    let mut statuses = String::from("| HTTP | message |\n|---|---|\n");
    for (status, _, error) in protocol_failures() {
        statuses.push_str(&format!("| {status} | {error} |\n"));
    }
    format!(
        "The mobile API of huddle, a realtime server for live audio-room apps, plus its WebSockets, browser pages and operations routes. Generated from the server's own route table: every route the server registers is here.\n\n\
         ## Envelope\n\
         Every JSON answer is `{{\"result\", \"message\", \"status\"}}` (schema `Envelope`):\n\n\
         - success: HTTP 200, `status` 1, `result` the route's result, `message` \"Success\" or the route's text;\n\
         - business failure: HTTP 200, `status` 0, `result` the business code (below), `message` its text;\n\
         - protocol failure: HTTP 4xx/5xx, `status` 0, `result` 0, `message` the text for the status, then `: ` and the detail. Match on the HTTP status, not the text. No route answers an HTML or plain-text error.\n\n\
         A registered path called with a method it does not list answers 405; an unknown path 404. Every response carries `X-Request-Id`.\n\n\
         {statuses}\n\
         ## Business codes\n\
         Also in `x-business-codes`; each operation lists those it may answer in its own `x-business-codes`.\n\n\
         {codes}\n\
         ## Headers\n\
         `Authorization: Basic base64(uid:accessToken)` on logged-in routes (`basicAuth`), `Authorization: Bearer <h5Token>` on H5 routes (`h5Bearer`), `Client-Type` (0 Web, 1 iOS, 2 Android; missing = 0), `Version-Name`, `Version-Code` (integer).\n\n\
         ## Signing\n\
         See the `requestSign` security scheme. Identifiers are 32 lowercase hex, times are ms since the epoch, flags are 0/1 integers. Cursor pages take `lastId` (the last item's `sequenceId`) and `count` (0..={max_count}).",
        max_count = page::MAX_COUNT,
    )
}

fn operation(route: &RouteDoc, schemas: &Map<String, Value>) -> Value {
    let mut parameters: Vec<Value> = Vec::new();
    for p in route.params.iter().filter(|p| p.location == Loc::Path) {
        parameters.push(parameter(p));
    }
    for p in route
        .params
        .iter()
        .filter(|p| matches!(p.location, Loc::Query | Loc::Header))
    {
        parameters.push(parameter(p));
    }
    let has_body = matches!(route.method, Method::Post | Method::Put | Method::Delete);
    let signed = route.auth.signed();
    if signed && !has_body {
        parameters.push(json!({ "$ref": "#/components/parameters/ts" }));
        parameters.push(json!({ "$ref": "#/components/parameters/sign" }));
    }
    if route.auth == Auth::Socket {
        parameters.push(json!({ "$ref": "#/components/parameters/ts" }));
        parameters.push(json!({ "$ref": "#/components/parameters/sign" }));
    }
    if signed {
        for name in ["Client-Type", "Version-Name", "Version-Code"] {
            parameters.push(json!({ "$ref": format!("#/components/parameters/{name}") }));
        }
    }
    if route.reply == Reply::WebSocket {
        for name in ["Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"] {
            parameters.push(json!({ "$ref": format!("#/components/parameters/{name}") }));
        }
    }

    let mut description = route.description.to_owned();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&route.auth.explain());

    let mut responses = Map::new();
    let (status, success) = success_response(route, schemas);
    responses.insert(status.to_string(), success);
    for status in route_statuses(route) {
        if let Some(r) = failure_ref(status) {
            responses.insert(status.to_string(), r);
        }
    }
    if route.reply == Reply::SharePage {
        responses.insert(
            "404".into(),
            json!({
                "description": "Not found: for an unknown or malformed id of a known kind, the share page saying so (没有找到 · Not found); for an unknown kind, the JSON envelope.",
                "content": {
                    "text/html; charset=utf-8": { "schema": { "type": "string" } },
                    "application/json": {
                        "schema": schema_ref("ProtocolFailure"),
                        "example": { "result": 0, "message": ApiError::NotFound.to_string(), "status": 0 },
                    },
                }
            }),
        );
    }

    let mut op = Map::new();
    op.insert(
        "tags".into(),
        route.tags.iter().map(|t| Value::from(t.name())).collect(),
    );
    op.insert("summary".into(), route.summary.into());
    op.insert("description".into(), description.into());
    op.insert("operationId".into(), operation_id(route).into());
    op.insert("parameters".into(), parameters.into());
    if has_body && route.path.starts_with("/upload/") {
        let mut content = Map::new();
        for t in crate::storage::local::IMAGE_CONTENT_TYPES {
            content.insert(
                (*t).to_owned(),
                json!({ "schema": { "type": "string", "format": "binary" } }),
            );
        }
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "description": "The image bytes; `Content-Type` must name its type.", "content": content }),
        );
    } else if has_body && (signed || route.params.iter().any(|p| p.location == Loc::Body)) {
        op.insert("requestBody".into(), request_body(route));
    }
    op.insert("responses".into(), responses.into());
    op.insert("security".into(), route.auth.security());
    op.insert(
        "x-business-codes".into(),
        route_codes(route)
            .iter()
            .map(|c| Value::from(c.code()))
            .collect(),
    );
    op.insert("x-actix-pattern".into(), route.path.into());
    Value::Object(op)
}

fn component_parameters() -> Value {
    json!({
        "ts": {
            "name": "ts", "in": "query", "required": true,
            "description": "The client's clock, ms since the epoch (see `requestSign`).",
            "schema": schema_ref("Ts"),
        },
        "sign": {
            "name": "sign", "in": "query", "required": true,
            "description": "The request signature (see `requestSign`).",
            "schema": schema_ref("Sign"),
        },
        "Client-Type": parameter(&CLIENT_TYPE),
        "Version-Name": {
            "name": "Version-Name", "in": "header", "required": false,
            "description": "The app's version string.", "schema": { "type": "string" }, "example": "0.1.7",
        },
        "Version-Code": {
            "name": "Version-Code", "in": "header", "required": false,
            "description": "The app's integer version (400 when not an integer).", "schema": { "type": "integer" }, "example": 19,
        },
        "Upgrade": {
            "name": "Upgrade", "in": "header", "required": true,
            "description": "A WebSocket upgrade (with `Connection: Upgrade`); anything else is 400 once authenticated.",
            "schema": { "type": "string", "enum": ["websocket"] },
        },
        "Sec-WebSocket-Key": {
            "name": "Sec-WebSocket-Key", "in": "header", "required": true,
            "description": "RFC 6455 handshake key.", "schema": { "type": "string" },
        },
        "Sec-WebSocket-Version": {
            "name": "Sec-WebSocket-Version", "in": "header", "required": true,
            "description": "RFC 6455 version.", "schema": { "type": "string", "enum": ["13"] },
        },
    })
}

/// The OpenAPI document of every route in [`ROUTES`].
pub fn document() -> Value {
    let mut schemas = component_schemas();
    schemas.insert(
        "Ts".into(),
        json!({ "type": "integer", "format": "int64", "description": format!("ms since the epoch, within ±{SIGN_WINDOW_MS} ms of the server's clock."), "example": 1_608_207_590_160_i64 }),
    );
    schemas.insert(
        "Sign".into(),
        json!({ "type": "string", "pattern": "^[0-9a-fA-F]{32}$", "description": "md5 hex of the canonical string (see `requestSign`).", "example": signature::sign([("countryCode", "86"), ("mobile", "13800000000"), ("ts", "1608207590160")], DEFAULT_ACCESS_SECRET) }),
    );

    let mut paths = Map::new();
    for route in ROUTES {
        let template = openapi_path(route.path);
        let item = paths
            .entry(template)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(route.method.key().into(), operation(route, &schemas));
        }
    }

    let business_codes: Vec<Value> = ALL_CODES
        .iter()
        .map(|c| json!({ "code": c.code(), "name": code_name(*c), "message": c.message() }))
        .collect();

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "huddle API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": info_description(),
            "license": { "name": "MIT OR Apache-2.0" },
        },
        "tags": TAGS.iter().map(|t| json!({ "name": t.name(), "description": t.description() })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Logged-in routes (鉴权: 用户登录): `Authorization: Basic base64(uid:accessToken)`, with `uid` and `accessToken` from `POST /account/login/captcha`. Such calls are signed with that login's `accessSecret` (see `requestSign`).",
                },
                "h5Bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "H5 routes (鉴权: 微信登录): `Authorization: Bearer <h5Token>`, the `h5Token` from `POST /h5/session` (a WeChat login or a guest). Such calls are signed with the default accessSecret (see `requestSign`).",
                },
                "requestSign": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "sign",
                    "description": signing_rule(),
                },
            },
            "schemas": schemas,
            "responses": component_responses(),
            "parameters": component_parameters(),
        },
        "x-business-codes": business_codes,
    })
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

async fn docs_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DOCUMENT.as_str())
}

/// Where Swagger UI's files are served from.
const DOCS_BASE: &str = "/docs/";

static SWAGGER_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::new(["/docs-json"])
            // The default would show a badge fetched from validator.swagger.io.
            .validator_url("none")
            .query_config_enabled(false)
            .filter(true)
            .persist_authorization(false)
            .display_request_duration(true),
    )
});

/// Swagger UI's page with every relative `href`/`src` made absolute under
/// [`DOCS_BASE`], so it works at `/docs` as well as `/docs/`.
pub fn rewrite_index(html: &str) -> String {
    let mut out = html.replace("<title>Swagger UI</title>", "<title>huddle API</title>");
    for attr in ["href=\"", "src=\""] {
        let mut result = String::with_capacity(out.len() + 64);
        let mut rest = out.as_str();
        while let Some(at) = rest.find(attr) {
            let (before, after) = rest.split_at(at + attr.len());
            result.push_str(before);
            let relative = !(after.starts_with('/')
                || after.starts_with('#')
                || after.starts_with("data:")
                || after.split('"').next().is_some_and(|v| v.contains("://")));
            if relative {
                result.push_str(DOCS_BASE);
                rest = after.strip_prefix("./").unwrap_or(after);
            } else {
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn swagger_file(file: &str) -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve(file, SWAGGER_CONFIG.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("Swagger UI file {file}: {e}")))?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(found.bytes.into_owned()))
}

async fn docs_index() -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve("index.html", SWAGGER_CONFIG.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("Swagger UI index: {e}")))?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("Swagger UI index is missing")))?;
    let html = String::from_utf8(found.bytes.into_owned())
        .map_err(|_| ApiError::internal(anyhow::anyhow!("Swagger UI index is not UTF-8")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(rewrite_index(&html)))
}

async fn docs_file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match path.as_str() {
        "" | "index.html" => docs_index().await,
        file => swagger_file(file),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn actix_patterns_become_templates() {
        assert_eq!(openapi_path("/upload/{key:.+}"), "/upload/{key}");
        assert_eq!(
            openapi_path("/user/{uid:[a-f0-9]{32}}/profile"),
            "/user/{uid}/profile"
        );
        assert_eq!(
            openapi_path("/room/{roomId}/invite/{uid}"),
            "/room/{roomId}/invite/{uid}"
        );
        assert_eq!(
            path_params("/room/{roomId}/invite/{uid}"),
            ["roomId", "uid"]
        );
        assert_eq!(openapi_path("/docs/{file:.*}"), "/docs/{file}");
    }

    #[test]
    fn templates_are_well_formed_and_unique() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            let template = openapi_path(route.path);
            assert!(template.starts_with('/'), "{}", route.path);
            assert!(!template.contains("//"), "{}", route.path);
            let mut depth = 0;
            for c in template.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                assert!((0..=1).contains(&depth), "{}", route.path);
            }
            assert_eq!(depth, 0, "{}", route.path);
            let names = path_params(&template);
            for name in &names {
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{}: placeholder {name:?}",
                    route.path
                );
            }
            let unique: HashSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{}", route.path);
            let declared: Vec<&str> = route
                .params
                .iter()
                .filter(|p| p.location == Loc::Path)
                .map(|p| p.name)
                .collect();
            assert_eq!(declared, names, "{}: path parameters", route.path);
            assert!(
                seen.insert((route.method, template.clone())),
                "{} {template} documented twice",
                route.method.as_str()
            );
        }
    }

    #[test]
    fn every_route_is_described() {
        for route in ROUTES {
            let at = format!("{} {}", route.method.as_str(), route.path);
            assert!(!route.summary.is_empty(), "{at}");
            assert!(!route.tags.is_empty(), "{at}");
            if route.method == Method::Get || route.method == Method::Head {
                assert!(
                    route.params.iter().all(|p| p.location != Loc::Body),
                    "{at}: a GET takes no body"
                );
            }
            let names: Vec<&str> = route.params.iter().map(|p| p.name).collect();
            let unique: HashSet<&&str> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{at}: a parameter twice");
            assert!(!names.contains(&"ts") && !names.contains(&"sign"), "{at}");
        }
        for tag in TAGS {
            assert!(
                ROUTES.iter().any(|r| r.tags.contains(&tag)),
                "tag {} has no route",
                tag.name()
            );
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let ids: HashSet<String> = ROUTES.iter().map(operation_id).collect();
        assert_eq!(ids.len(), ROUTES.len());
    }

    #[test]
    fn business_codes_are_all_listed_once() {
        let codes: HashSet<i64> = ALL_CODES.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ALL_CODES.len());
        let names: HashSet<&str> = ALL_CODES.iter().map(|c| code_name(*c)).collect();
        assert_eq!(names.len(), ALL_CODES.len());
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_complete_and_its_refs_resolve() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.0.3");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').expect("local ref");
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
        let operations: usize = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().expect("path item").len())
            .sum();
        assert_eq!(operations, ROUTES.len());
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                assert!(op["security"].is_array(), "{method} {path}");
            }
        }
        let signed = &doc["paths"]["/account/captcha"]["post"];
        let form = &signed["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(form["properties"]["ts"]["$ref"], "#/components/schemas/Ts");
        assert!(form["required"]
            .as_array()
            .expect("required")
            .contains(&json!("sign")));
        let get = &doc["paths"]["/user/block"]["get"];
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str().or_else(|| p["$ref"].as_str()))
            .collect();
        assert!(params.contains(&"count") && params.contains(&"#/components/parameters/sign"));
    }

    #[test]
    fn the_signing_example_matches_the_readme() {
        assert!(signing_rule().contains("49d80eb45ea4d89c692dbc48ed8de534"));
    }

    #[test]
    fn index_assets_become_absolute() {
        let html = r#"<link href="./swagger-ui.css" /><link href="index.css" /><script src="./swagger-ui-bundle.js"></script><a href="https://x.example/">x</a><link href="/abs.css">"#;
        let out = rewrite_index(html);
        assert!(out.contains(r#"href="/docs/swagger-ui.css""#), "{out}");
        assert!(out.contains(r#"href="/docs/index.css""#), "{out}");
        assert!(out.contains(r#"src="/docs/swagger-ui-bundle.js""#), "{out}");
        assert!(out.contains(r#"href="https://x.example/""#), "{out}");
        assert!(out.contains(r#"href="/abs.css""#), "{out}");
    }

    #[test]
    fn swagger_ui_is_embedded_and_points_at_the_document() {
        let init = utoipa_swagger_ui::serve("swagger-initializer.js", SWAGGER_CONFIG.clone())
            .expect("serves")
            .expect("embedded");
        let text = String::from_utf8(init.bytes.into_owned()).expect("utf-8");
        assert!(text.contains("\"/docs-json\""), "{text}");
        assert!(text.contains("\"validatorUrl\": \"none\""), "{text}");
        assert!(
            utoipa_swagger_ui::serve("swagger-ui-bundle.js", SWAGGER_CONFIG.clone())
                .expect("serves")
                .is_some()
        );
    }
}
