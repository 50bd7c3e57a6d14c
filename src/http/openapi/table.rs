//! The route docs: one typed [`RouteDoc`] per registered route (its
//! authentication, parameters, answer and business codes), declared by each
//! section next to its handlers and listed here in [`ROUTES`].

use std::borrow::Cow;
use std::sync::LazyLock;

use serde_json::{json, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::auth::signature::DEFAULT_ACCESS_SECRET;
use crate::envelope::BusinessCode;
use crate::envelope::SUCCESS;
use crate::http::{account, app, club, event, h5, ops, pages, push, room, upload, user};

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
    /// The method for actix's router.
    pub fn actix(self) -> actix_web::http::Method {
        match self {
            Self::Get => actix_web::http::Method::GET,
            Self::Head => actix_web::http::Method::HEAD,
            Self::Post => actix_web::http::Method::POST,
            Self::Put => actix_web::http::Method::PUT,
            Self::Delete => actix_web::http::Method::DELETE,
        }
    }

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

/// A [`ParamDoc`].
pub const fn param(
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
#[derive(Debug, Clone, Copy)]
pub enum Res {
    /// `{}`.
    Empty,
    /// A component schema derived from a `Serialize` struct ([`of`]).
    Schema(Shape),
    /// `{"page": {"count"}, "list": [<component>]}`.
    Page(Shape),
    /// An integer, described so.
    Int(&'static str),
    /// A 32-hex id, described so.
    Hex32(&'static str),
}

/// A type whose schema is derived (`#[derive(ToSchema)]`): its component
/// name and how to collect its schema and those it refers to.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The component name.
    pub name: fn() -> Cow<'static, str>,
    /// Adds the schema and every schema it refers to.
    pub collect: fn(&mut Vec<(String, RefOr<Schema>)>),
}

/// The [`Shape`] of `T`.
pub const fn of<T: ToSchema>() -> Shape {
    Shape {
        name: T::name,
        collect: collect::<T>,
    }
}

fn collect<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// The success `message` of a route: the constants its handler answers with.
#[derive(Debug, Clone, Copy)]
pub enum Messages {
    /// Always this one.
    One(&'static str),
    /// One of these (the first is the usual one).
    Either(&'static [&'static str]),
}

impl Messages {
    /// Every message, the usual one first.
    pub fn all(&self) -> &[&'static str] {
        match self {
            Self::One(message) => std::slice::from_ref(message),
            Self::Either(messages) => messages,
        }
    }
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// The JSON envelope with this `result` and success `message`.
    Envelope {
        /// The result's shape.
        result: Res,
        /// The success messages.
        messages: Messages,
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
    /// The handler, on the route for [`Self::method`]: `|r| r.to(handler)`.
    /// The server registers exactly the documented routes with these
    /// ([`super::register`]), so a route cannot be served undocumented.
    pub handler: Option<Handler>,
    /// Groups; the first is the seed's section.
    pub tags: &'static [Tag],
    /// One line.
    pub summary: &'static str,
    /// More detail (Markdown); may be empty.
    pub description: &'static str,
    /// Authentication.
    pub auth: Auth,
    /// Path, query and header parameters read outside a typed input (without
    /// `ts`/`sign`).
    pub params: &'static [ParamDoc],
    /// The typed inputs the handler decodes (`PARAMS` of an
    /// `inputs!` struct), in decoding order.
    pub input: &'static [&'static [ParamDoc]],
    /// The success answer.
    pub reply: Reply,
    /// Business codes of this route beyond those its [`Auth`] implies.
    pub codes: &'static [BusinessCode],
    /// Protocol failures (HTTP statuses) beyond those its [`Auth`] implies.
    pub errors: &'static [u16],
}

impl RouteDoc {
    /// Every parameter: [`Self::params`], then [`Self::input`].
    pub fn all_params(&self) -> impl Iterator<Item = &'static ParamDoc> {
        self.params
            .iter()
            .chain(self.input.iter().flat_map(|input| input.iter()))
    }
}

/// Puts a handler on a route: `|r| r.to(handler)`.
pub type Handler = fn(actix_web::Route) -> actix_web::Route;

/// What a route without its own values has: a profiled user's call answering
/// `{}` with "Success".
pub const BASE: RouteDoc = RouteDoc {
    method: Method::Get,
    path: "/",
    handler: None,
    tags: &[],
    summary: "",
    description: "",
    auth: Auth::Profiled,
    params: &[],
    input: &[],
    reply: EMPTY,
    codes: &[],
    errors: &[],
};

/// The JSON envelope with `result` and the success `message`.
pub const fn envelope(result: Res, message: &'static str) -> Reply {
    Reply::Envelope {
        result,
        messages: Messages::One(message),
    }
}

/// `{}` with "Success".
pub const EMPTY: Reply = envelope(Res::Empty, SUCCESS);

// Path parameters.
/// `{uid}`.
pub const P_UID: ParamDoc = param("uid", Loc::Path, true, Ty::Hex32, "A user's uid.");
/// `{clubId}`.
pub const P_CLUB: ParamDoc = param("clubId", Loc::Path, true, Ty::Hex32, "A club's id.");
/// `{roomId}`.
pub const P_ROOM: ParamDoc = param("roomId", Loc::Path, true, Ty::Hex32, "A room's id.");
/// `{eventId}`.
pub const P_EVENT: ParamDoc = param("eventId", Loc::Path, true, Ty::Hex32, "An event's id.");
/// `{roomCacheId}`.
pub const P_ROOM_CACHE: ParamDoc = param(
    "roomCacheId",
    Loc::Path,
    true,
    Ty::Hex32,
    "A share token from `POST /room/{roomId}/cache`.",
);

/// `Client-Type`: read by every signed route, and alone by the upgrade check.
pub const CLIENT_TYPE: ParamDoc = param(
    "Client-Type",
    Loc::Header,
    false,
    Ty::Int(0, 2),
    "0 Web, 1 iOS, 2 Android (missing = 0); anything else is 400.",
);

/// Every operation the server registers: each section's `DOCS`, kept next
/// to its handlers, in the order of the tags.
pub static ROUTES: LazyLock<Vec<RouteDoc>> = LazyLock::new(|| {
    [
        account::DOCS,
        user::DOCS,
        club::DOCS,
        room::DOCS,
        event::DOCS,
        upload::DOCS,
        push::DOCS,
        app::DOCS,
        h5::DOCS,
        crate::realtime::door::DOCS,
        pages::DOCS,
        ops::DOCS,
        super::DOCS,
    ]
    .concat()
});
