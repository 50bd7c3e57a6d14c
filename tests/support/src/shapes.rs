//! Shape checks of the objects the API answers with: exact key sets, ids,
//! flags and times (`assert_room`, `assert_event`, …). The schema check of
//! [`crate::schema`] already holds every response to the document; these
//! say more than a schema can (a club's `clubId` equals its room's, a message
//! item's `sequenceId` is its `messageId` as text).

use serde_json::Value;

/// Whether `v` is a 32-char lowercase hex string.
pub fn hex32(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The sorted keys of a JSON object.
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Asserts that the object `v` has exactly the keys `expected`.
#[track_caller]
pub fn assert_keys(v: &Value, expected: &[&str]) {
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(keys(v), want, "{v}");
}

/// Asserts that `v` is a 0/1 integer flag.
#[track_caller]
pub fn assert_flag(v: &Value) {
    assert!(matches!(v.as_i64(), Some(0 | 1)), "not a 0/1 flag: {v}");
}

/// Asserts that `v` is an integer (milliseconds since the epoch).
#[track_caller]
pub fn assert_ms(v: &Value) {
    assert!(
        v.is_i64() && v.as_i64().unwrap() > 1_500_000_000_000,
        "not a ms integer: {v}"
    );
}

/// Asserts that `v` is a 32-char lowercase hex id.
#[track_caller]
pub fn assert_id(v: &Value) {
    assert!(hex32(v), "not a 32-hex id: {v}");
}

/// The text of a string or number value (ids that may be either).
#[track_caller]
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

/// `item[key]` of every item of a list, as text.
#[track_caller]
pub fn ids(list: &[Value], key: &str) -> Vec<String> {
    list.iter().map(|i| text(&i[key])).collect()
}

/// The keys of the user profile (`PUT /user/profile`, `GET /user/{uid}/profile`).
pub const PROFILE_KEYS: &[&str] = &["uid", "nickname", "avatar", "bio", "blocked"];
/// `userProfileResult` in lists.
pub const USER_PROFILE_RESULT_KEYS: &[&str] = &[
    "avatar",
    "bio",
    "sendCard",
    "cardTotal",
    "blocked",
    "nickname",
    "uid",
];
/// The club object (`GET /club/{clubId}`).
pub const CLUB_KEYS: &[&str] = &[
    "clubId",
    "cover",
    "createTime",
    "memberTotal",
    "joined",
    "name",
    "uid",
];
/// A `memberList` entry of a room.
pub const ROOM_MEMBER_KEYS: &[&str] = &[
    "allowLive",
    "avatar",
    "bio",
    "blocked",
    "cardTotal",
    "nickname",
    "sendCard",
    "uid",
];
/// The event object before it starts.
pub const EVENT_KEYS: &[&str] = &[
    "createTime",
    "desc",
    "eventId",
    "eventTime",
    "eventTimeStatus",
    "memberUidList",
    "name",
    "notify",
    "uid",
];

/// A user profile result as `GET /user/{uid}/profile` and lists show it.
#[track_caller]
pub fn assert_user_profile_result(v: &Value) {
    assert_keys(v, USER_PROFILE_RESULT_KEYS);
    assert_id(&v["uid"]);
    assert!(v["nickname"].is_string() && v["avatar"].is_string() && v["bio"].is_string());
    assert_flag(&v["sendCard"]);
    assert_flag(&v["blocked"]);
    assert!(v["cardTotal"].is_i64(), "{v}");
}

/// A club object (`joined` included).
#[track_caller]
pub fn assert_club(v: &Value) {
    assert_keys(v, CLUB_KEYS);
    assert_id(&v["clubId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_flag(&v["joined"]);
    assert!(v["memberTotal"].is_i64() && v["name"].is_string() && v["cover"].is_string());
}

/// A room object as `GET /room/{roomId}` answers it.
#[track_caller]
pub fn assert_room(v: &Value) {
    let has_club = v["clubId"].as_str().is_some_and(|s| !s.is_empty());
    let mut expected = vec![
        "clubId",
        "createTime",
        "inviteOnly",
        "memberList",
        "memberTotal",
        "name",
        "roomId",
        "uid",
    ];
    if has_club {
        expected.push("clubResult");
        // the club object, plus `inviteOnly: 0` as the seed's room examples show it
        let club = &v["clubResult"];
        let mut club_keys = CLUB_KEYS.to_vec();
        club_keys.push("inviteOnly");
        assert_keys(club, &club_keys);
        assert_eq!(club["inviteOnly"], 0, "{v}");
        let mut plain = club.clone();
        plain.as_object_mut().unwrap().remove("inviteOnly");
        assert_club(&plain);
        assert_eq!(v["clubResult"]["clubId"], v["clubId"], "{v}");
        assert_id(&v["clubId"]);
    } else {
        assert_eq!(v["clubId"], "", "{v}");
    }
    assert_keys(v, &expected);
    assert_id(&v["roomId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_flag(&v["inviteOnly"]);
    assert!(v["memberTotal"].is_i64() && v["name"].is_string(), "{v}");
    for m in v["memberList"].as_array().unwrap() {
        assert_keys(m, ROOM_MEMBER_KEYS);
        assert_flag(&m["allowLive"]);
        assert_flag(&m["blocked"]);
        assert_flag(&m["sendCard"]);
        assert!(m["cardTotal"].is_i64());
        assert_id(&m["uid"]);
    }
}

/// An event object; `started` adds `roomId` and `roomResult`.
#[track_caller]
pub fn assert_event(v: &Value, started: bool) {
    let mut expected = EVENT_KEYS.to_vec();
    if started {
        expected.extend(["roomId", "roomResult"]);
        assert_id(&v["roomId"]);
        assert_room(&v["roomResult"]);
        assert_eq!(v["roomResult"]["roomId"], v["roomId"]);
        assert_eq!(v["eventTimeStatus"], 1, "{v}");
    } else {
        assert_eq!(v["eventTimeStatus"], 0, "{v}");
    }
    assert_keys(v, &expected);
    assert_id(&v["eventId"]);
    assert_id(&v["uid"]);
    assert_ms(&v["createTime"]);
    assert_ms(&v["eventTime"]);
    assert_flag(&v["notify"]);
    assert!(v["name"].is_string() && v["desc"].is_string(), "{v}");
    for uid in v["memberUidList"].as_array().unwrap() {
        assert_id(uid);
    }
}

/// A message item of `GET /user/message`.
#[track_caller]
pub fn assert_message_item(item: &Value, recipient: &str) {
    assert_keys(item, &["messageId", "sequenceId", "userMessageResult"]);
    assert!(item["messageId"].is_i64(), "{item}");
    assert_eq!(
        item["sequenceId"].as_str().unwrap(),
        item["messageId"].to_string()
    );
    let m = &item["userMessageResult"];
    assert_keys(
        m,
        &[
            "createTime",
            "messageBody",
            "messageId",
            "messageType",
            "originPushType",
            "originUid",
            "uid",
            "unread",
        ],
    );
    assert_keys(&m["messageBody"], &["title", "content", "url"]);
    for k in ["title", "content", "url"] {
        assert!(m["messageBody"][k].is_string(), "{m}");
    }
    assert_ms(&m["createTime"]);
    assert_eq!(m["messageId"], item["messageId"]);
    assert_eq!(m["messageType"], 0);
    assert!(m["originPushType"].is_i64());
    assert!(m["originUid"].is_string());
    assert_eq!(m["uid"], recipient);
    assert_flag(&m["unread"]);
}

/// Messages (`userMessageResult`s) of a list with `originPushType` `kind` and `url`.
pub fn messages_where<'v>(items: &'v [Value], kind: i64, url: &str) -> Vec<&'v Value> {
    items
        .iter()
        .map(|i| &i["userMessageResult"])
        .filter(|m| m["originPushType"] == kind && m["messageBody"]["url"] == url)
        .collect()
}
