//! Builds the OpenAPI document from the route table: component schemas,
//! parameters, request bodies, responses, security schemes.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::table::*;
use crate::auth::signature::{self, DEFAULT_ACCESS_SECRET, SIGN_WINDOW_MS};
use crate::envelope::{ApiError, BusinessCode};
use crate::http::{pagination, push};

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

pub(crate) fn code_name(code: BusinessCode) -> &'static str {
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

pub(crate) fn operation_id(route: &RouteDoc) -> String {
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

pub(crate) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(crate) fn hex32(description: &str, example: &str) -> Value {
    json!({
        "type": "string",
        "pattern": "^[0-9a-f]{32}$",
        "description": description,
        "example": example,
    })
}

pub(crate) fn text(description: &str, example: &str) -> Value {
    json!({ "type": "string", "description": description, "example": example })
}

pub(crate) fn int(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "description": description, "example": example })
}

pub(crate) fn flag(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "enum": [0, 1], "description": description, "example": example })
}

pub(crate) fn millis(description: &str, example: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "description": format!("{description} (ms since the epoch)"), "example": example })
}

/// An object schema; properties marked `?` at the end of their name are optional.
pub(crate) fn object(description: &str, props: Vec<(&str, Value)>) -> Value {
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

pub(crate) fn array_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

pub(crate) fn nullable(mut schema: Value) -> Value {
    if let Some(obj) = schema.as_object_mut() {
        if obj.contains_key("$ref") {
            return json!({ "allOf": [schema], "nullable": true });
        }
        obj.insert("nullable".into(), Value::Bool(true));
    }
    schema
}

pub(crate) const UID_A: &str = "6ce4443c8fcd4a2b8b407bda86ab4408";
pub(crate) const UID_B: &str = "800fd752a5284eeb82396fe7478175eb";
pub(crate) const CLUB_ID: &str = "ea01330db4ad49288dce2b8bcb00240b";
pub(crate) const ROOM_ID: &str = "cda55a0bfb834f5ab18eb0867f01017a";
pub(crate) const EVENT_ID: &str = "6bdcf14e7fd742bcb9198d60e5452d8c";
pub(crate) const AVATAR: &str = "https://cdn.example.com/image/6ce4443c8fcd4a2b8b407bda86ab4408/avatar/49d8ec7c29474523868a73eb0d395557.jpg";

pub(crate) fn component_schemas() -> Map<String, Value> {
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
                ("redis?", text("up; only with HUDDLE_REDIS_URL.", "up")),
                (
                    "node?",
                    text("This node's id; only with HUDDLE_REDIS_URL.", "a"),
                ),
            ],
        ),
    );
    s
}

/// The schema of one parameter as it travels in a query string, a header, a
/// path or a form (`json = false`), or in a JSON body (`json = true`).
pub(crate) fn param_schema(p: &ParamDoc, json: bool) -> Value {
    let mut schema = match p.ty {
        Ty::Text(0) => json!({ "type": "string" }),
        Ty::Text(max) => json!({ "type": "string", "maxLength": max }),
        Ty::Hex32 => json!({ "type": "string", "pattern": "^[0-9a-f]{32}$" }),
        Ty::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Ty::Millis => int64_schema(),
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
    // A required text parameter is trimmed and must not be blank (else 400).
    if p.required && p.location != Loc::Path && matches!(p.ty, Ty::Text(_)) {
        schema["minLength"] = Value::from(1);
        schema["pattern"] = Value::from(NOT_BLANK_PATTERN);
    }
    schema
}

/// Text with at least one character that is not white space as Rust's
/// `str::trim` sees it (Unicode `White_Space`): what a required text
/// parameter needs, since the server trims it and refuses it blank.
pub const NOT_BLANK_PATTERN: &str =
    "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// `Version-Name`: visible ASCII, what a header value can carry and the server reads.
pub const VERSION_NAME_PATTERN: &str = "^[\\x20-\\x7e]*$";

/// An integer the server reads as `i64` (a larger one is 400).
pub(crate) fn int64_schema() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
}

pub(crate) fn example_param(p: &ParamDoc) -> Option<Value> {
    let v = match (p.name, p.ty) {
        ("uid", _) => json!(UID_A),
        ("clubId", _) => json!(CLUB_ID),
        ("roomId", _) => json!(ROOM_ID),
        ("eventId", _) => json!(EVENT_ID),
        ("countryCode", _) => json!("86"),
        ("mobile", _) => json!("13800000000"),
        ("captcha", _) => json!("123456"),
        // Contains slashes: OpenAPI path parameters normally cannot, so the
        // example tells clients (and fuzzers) that this one does.
        ("key", _) => json!(format!("image/{UID_A}/avatar/{EVENT_ID}.jpg")),
        ("count", _) => json!(10),
        (_, Ty::List(_)) => json!("[\"6ce4443c8fcd4a2b8b407bda86ab4408\"]"),
        _ => return None,
    };
    Some(v)
}

/// A parameter object (query, path or header).
pub(crate) fn parameter(p: &ParamDoc) -> Value {
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
pub(crate) fn request_body(route: &RouteDoc) -> Value {
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
pub(crate) fn protocol_failures() -> Vec<(u16, &'static str, ApiError)> {
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

pub(crate) fn component_responses() -> Map<String, Value> {
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

pub(crate) fn failure_ref(status: u16) -> Option<Value> {
    protocol_failures()
        .into_iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, name, _)| json!({ "$ref": format!("#/components/responses/{name}") }))
}

/// An example value for `schema`, from the `example`s of its parts.
pub(crate) fn example_of(schema: &Value, schemas: &Map<String, Value>, depth: usize) -> Value {
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

pub(crate) fn result_schema(result: Res) -> Value {
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

pub(crate) fn route_codes(route: &RouteDoc) -> Vec<BusinessCode> {
    let mut codes: Vec<BusinessCode> = Vec::new();
    for code in route.auth.codes().iter().chain(route.codes) {
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    codes.sort_by_key(|c| c.code());
    codes
}

pub(crate) fn route_statuses(route: &RouteDoc) -> BTreeSet<u16> {
    route
        .auth
        .statuses()
        .iter()
        .chain(route.errors)
        .copied()
        .collect()
}

pub(crate) fn success_response(route: &RouteDoc, schemas: &Map<String, Value>) -> (u16, Value) {
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
            for t in crate::clients::storage::local::IMAGE_CONTENT_TYPES {
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

pub(crate) fn signing_rule() -> String {
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

pub(crate) fn info_description() -> String {
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
        max_count = pagination::MAX_COUNT,
    )
}

pub(crate) fn operation(route: &RouteDoc, schemas: &Map<String, Value>) -> Value {
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
    let (status, mut success) = success_response(route, schemas);
    let links = links(route);
    if !links.is_empty() {
        success["links"] = Value::Object(links);
    }
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
        for t in crate::clients::storage::local::IMAGE_CONTENT_TYPES {
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

/// What a created resource leads to: (source, target operations, path
/// parameter, JSON pointer into the success envelope).
pub(crate) const LINKS: &[(&str, &[&str], &str, &str)] = &[
    (
        "post_club",
        &[
            "get_club_clubId",
            "get_club_clubId_member",
            "post_club_clubId_join",
            "post_club_clubId_leave",
            "post_h5_club_clubId",
        ],
        "clubId",
        "/result/clubId",
    ),
    (
        "post_room",
        &[
            "get_room_roomId",
            "post_room_roomId_token",
            "post_room_roomId_cache",
            "post_room_roomId_close",
        ],
        "roomId",
        "/result/roomId",
    ),
    (
        "post_room_roomId_cache",
        &["post_h5_room_roomCacheId"],
        "roomCacheId",
        "/result",
    ),
    (
        "post_event",
        &[
            "get_event_eventId",
            "put_event_eventId",
            "post_event_eventId_notify",
            "post_event_eventId_start",
            "post_h5_event_eventId",
            "delete_event_eventId",
        ],
        "eventId",
        "/result/eventId",
    ),
];

/// The OpenAPI `links` of a route's success response (for clients, and for
/// stateful testing that chains a creation with what it enables).
pub(crate) fn links(route: &RouteDoc) -> Map<String, Value> {
    let id = operation_id(route);
    let mut out = Map::new();
    for (source, targets, parameter, pointer) in LINKS {
        if *source != id {
            continue;
        }
        for target in *targets {
            out.insert(
                (*target).to_owned(),
                json!({
                    "operationId": target,
                    "parameters": { *parameter: format!("$response.body#{pointer}") },
                    "description": format!("`{parameter}` of the created resource."),
                }),
            );
        }
    }
    out
}

pub(crate) fn component_parameters() -> Value {
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
            "description": "The app's version string: visible ASCII (an HTTP header cannot carry other text; the server ignores a value it cannot read).", "schema": { "type": "string", "pattern": VERSION_NAME_PATTERN, "maxLength": 64 }, "example": "0.1.7",
        },
        "Version-Code": {
            "name": "Version-Code", "in": "header", "required": false,
            "description": "The app's integer version (400 when not an integer).", "schema": int64_schema(), "example": 19,
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
