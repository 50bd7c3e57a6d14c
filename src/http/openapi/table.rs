//! The route table: one typed [`RouteDoc`] per registered route, with its
//! parameters, authentication, answer and business codes.

use serde_json::{json, Value};

use crate::auth::signature::DEFAULT_ACCESS_SECRET;
use crate::envelope::BusinessCode;
use crate::http::{app, club, event, pagination, user};

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
    pub(crate) fn key(self) -> &'static str {
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
    pub(crate) fn signed(self) -> bool {
        matches!(self, Self::Signed | Self::User | Self::Profiled | Self::H5)
    }

    /// The business codes every route with this authentication may answer.
    pub(crate) fn codes(self) -> &'static [BusinessCode] {
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
    pub(crate) fn statuses(self) -> &'static [u16] {
        match self {
            Self::Signed | Self::User | Self::Profiled => &[400, 401, 413, 415, 429, 500, 503],
            Self::H5 => &[400, 401, 413, 415, 429, 500, 503],
            Self::Socket => &[400, 401, 500, 503],
            Self::H5Query => &[400, 401, 404, 500, 503],
            Self::None => &[500],
        }
    }

    /// The OpenAPI `security` requirement (alternatives).
    pub(crate) fn security(self) -> Value {
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
    pub(crate) fn explain(self) -> String {
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

    pub(crate) fn description(self) -> &'static str {
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

pub(crate) const fn param(
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

pub(crate) const BASE: RouteDoc = RouteDoc {
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

pub(crate) const fn envelope(result: Res, message: &'static str) -> Reply {
    Reply::Envelope { result, message }
}

pub(crate) const EMPTY: Reply = envelope(Res::Empty, "Success");

// Path parameters.
pub(crate) const P_UID: ParamDoc = param("uid", Loc::Path, true, Ty::Hex32, "A user's uid.");
pub(crate) const P_CLUB: ParamDoc = param("clubId", Loc::Path, true, Ty::Hex32, "A club's id.");
pub(crate) const P_ROOM: ParamDoc = param("roomId", Loc::Path, true, Ty::Hex32, "A room's id.");
pub(crate) const P_EVENT: ParamDoc = param("eventId", Loc::Path, true, Ty::Hex32, "An event's id.");
pub(crate) const P_ROOM_CACHE: ParamDoc = param(
    "roomCacheId",
    Loc::Path,
    true,
    Ty::Hex32,
    "A share token from `POST /room/{roomId}/cache`.",
);

// Cursor pages.
pub(crate) const LAST_ID: ParamDoc = param(
    "lastId",
    Loc::Query,
    false,
    Ty::Text(0),
    "Absent: the first page. Otherwise the `sequenceId` of the previous page's last item.",
);
pub(crate) const COUNT: ParamDoc = param(
    "count",
    Loc::Query,
    true,
    Ty::Int(0, pagination::MAX_COUNT),
    "Items per page (newest first); echoed in `result.page.count`.",
);
pub(crate) const PAGE: &[ParamDoc] = &[LAST_ID, COUNT];

pub(crate) const PROFILE_PARAMS: [ParamDoc; 3] = [
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

pub(crate) const EVENT_PARAMS: [ParamDoc; 4] = [
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

pub(crate) const CAPTCHA_PHONE: [ParamDoc; 2] = [
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

pub(crate) const HOST_CONTROL: &[ParamDoc] = &[P_ROOM, P_UID];

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
        reply: envelope(Res::Empty, crate::clients::captcha::messages::SENT),
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
        errors: &[403],
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
        description: "The `uploadAddress` of `POST /aliyun/image/upload` when `HUDDLE_STORAGE=local`: the body is the image (JPEG, PNG, GIF or WebP, at most `HUDDLE_STORAGE_MAX_IMAGE_BYTES`). A missing, expired or wrong signature is 403; a full image store is 503 (`the image store is out of space`, nothing stored); with another store this path answers 404.",
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

pub(crate) const JPUSH_ID_PATTERN: &str = "^[A-Za-z0-9_-]+$";

pub(crate) const IMAGE_PARAMS: [ParamDoc; 3] = [
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

pub(crate) const CLIENT_TYPE: ParamDoc = param(
    "Client-Type",
    Loc::Header,
    false,
    Ty::Int(0, 2),
    "0 Web, 1 iOS, 2 Android (missing = 0); anything else is 400.",
);
