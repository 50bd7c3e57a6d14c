//! `/room/*`: create, get, list, voice tokens, live members, close, cache, invite.

use huddle::clients::rtc::agora::{parse_006, parse_007, Privilege};
use serde_json::{json, Value};

use crate::helpers::*;

const NO_SUCH_ROOM: &str = "活动不存在";

/// Asserts the business failure 400000 with its message.
#[track_caller]
fn no_such_room(res: &Resp) {
    assert_eq!(res.business(400000), NO_SUCH_ROOM);
}
const UNKNOWN_ID: &str = "00112233445566778899aabbccddeeff";
const INVITE_TITLE: &str = "有人邀请你参加活动";

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

fn member_uids(room: &Value) -> Vec<String> {
    room["memberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uid"].as_str().unwrap().to_owned())
        .collect()
}

fn member<'v>(room: &'v Value, uid: &str) -> Option<&'v Value> {
    room["memberList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uid"] == uid)
}

/// A host with a club; the club's id.
async fn host_with_club(app: &TestApp, mobile: &str) -> (Session, String) {
    let host = app.user(mobile, "Host").await;
    let club = app.create_club(&host, "Club").await;
    (host, id(&club, "clubId"))
}

#[actix_web::test]
async fn create_room_answers_the_seed_shape() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300001").await;
    let now = app.clock_now();
    let res = app
        .post("/room")
        .user(&a)
        .param("name", "产品活动")
        .param("clubId", &k)
        .send()
        .await;
    assert_eq!(res.body["message"], "Success");
    let r = res.ok();
    assert_keys(
        r,
        &[
            "uid",
            "createTime",
            "name",
            "clubId",
            "inviteOnly",
            "roomId",
        ],
    );
    assert_id(&r["roomId"]);
    assert_eq!(r["uid"], a.uid.as_str());
    assert_eq!(r["createTime"], now);
    assert_eq!(r["name"], "产品活动");
    assert_eq!(r["clubId"], k.as_str());
    assert_eq!(r["inviteOnly"], 0);

    // explicit inviteOnly=0
    let r = app
        .post("/room")
        .user(&a)
        .param("name", "Open")
        .param("clubId", &k)
        .param("inviteOnly", 0)
        .send()
        .await;
    assert_eq!(r.ok()["inviteOnly"], 0);

    // invite-only: no club needed, clubId ""
    let r = app.create_private_room(&a, "Private").await;
    assert_keys(
        &r,
        &[
            "uid",
            "createTime",
            "name",
            "clubId",
            "inviteOnly",
            "roomId",
        ],
    );
    assert_eq!(r["clubId"], "");
    assert_eq!(r["inviteOnly"], 1);
    // invite-only ignores a clubId
    let r = app
        .post("/room")
        .user(&a)
        .param("name", "Private 2")
        .param("clubId", &k)
        .param("inviteOnly", 1)
        .send()
        .await;
    let r = r.ok();
    assert_eq!(r["clubId"], "");
    assert_eq!(r["inviteOnly"], 1);
}

#[actix_web::test]
async fn create_room_validates_its_params() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300002").await;
    let outsider = app.user("13800300003", "Outsider").await;
    let bad = [
        app.post("/room").param("clubId", &k),
        app.post("/room")
            .param("name", "x".repeat(101))
            .param("clubId", &k),
        app.post("/room").param("name", "No club"),
        app.post("/room")
            .param("name", "No club")
            .param("inviteOnly", 0),
        app.post("/room")
            .param("name", "R")
            .param("clubId", &k)
            .param("inviteOnly", 2),
        app.post("/room")
            .param("name", "R")
            .param("clubId", &k)
            .param("inviteOnly", "yes"),
        app.post("/room")
            .param("name", "R")
            .param("clubId", &k)
            .param("inviteOnly", -1),
    ];
    for call in bad {
        call.user(&a).send().await.protocol(400, "Params Not Valid");
    }
    // 100 characters fit
    app.post("/room")
        .user(&a)
        .param("name", "活".repeat(100))
        .param("clubId", &k)
        .send()
        .await
        .ok();
    assert_eq!(
        app.post("/room")
            .user(&a)
            .param("name", "R")
            .param("clubId", UNKNOWN_ID)
            .send()
            .await
            .business(500000),
        "圈子不存在"
    );
    app.post("/room")
        .user(&outsider)
        .param("name", "R")
        .param("clubId", &k)
        .send()
        .await
        .protocol(403, "Forbidden");
}

#[actix_web::test]
async fn get_room_answers_the_seed_shape() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300004").await;
    let b = app.user("13800300005", "Bob").await;
    let created = app.create_room(&a, "测试", &k).await;
    let r = id(&created, "roomId");

    let room = app.room(&b, &r).await;
    assert_room(&room);
    assert!(room.get("clubResult").is_some(), "{room}");
    assert_eq!(room["roomId"], r.as_str());
    assert_eq!(room["uid"], a.uid.as_str());
    assert_eq!(room["name"], "测试");
    assert_eq!(room["clubId"], k.as_str());
    assert_eq!(room["inviteOnly"], 0);
    assert_eq!(room["createTime"], created["createTime"]);
    let club = &room["clubResult"];
    assert_eq!(club["clubId"], k.as_str());
    assert_eq!(
        club["joined"], 0,
        "joined is the caller's (B is not a member)"
    );
    assert_eq!(club["memberTotal"], 1);
    assert_eq!(app.room(&a, &r).await["clubResult"]["joined"], 1);

    // invite-only rooms have no clubResult
    let p = app.create_private_room(&a, "Private").await;
    let room = app.room(&a, &id(&p, "roomId")).await;
    assert_room(&room);
    assert!(room.get("clubResult").is_none(), "{room}");
    assert_eq!(room["clubId"], "");
    assert_eq!(room["inviteOnly"], 1);

    no_such_room(&app.get_as(&a, &format!("/room/{UNKNOWN_ID}")).await);
    for bad in ["nothex", "00112233445566778899AABBCCDDEEFF", "0011"] {
        app.get_as(&a, &format!("/room/{bad}"))
            .await
            .protocol(400, "Params Not Valid");
        app.post_as(&a, &format!("/room/{bad}/token"))
            .await
            .protocol(400, "Params Not Valid");
    }
}

#[actix_web::test]
async fn room_list_shows_my_clubs_open_rooms_and_my_private_rooms() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300006").await;
    let b = app.user("13800300007", "Bob").await;
    let (c, k2) = host_with_club(&app, "13800300008").await;
    app.join_club(&b, &k).await;
    app.clock.advance(5);
    let r1 = id(&app.create_room(&a, "R1", &k).await, "roomId");
    app.clock.advance(5);
    let r2 = id(&app.create_room(&a, "R2", &k).await, "roomId");
    app.clock.advance(5);
    let p = id(&app.create_private_room(&a, "P").await, "roomId");
    app.clock.advance(5);
    let r3 = id(&app.create_room(&c, "R3", &k2).await, "roomId");
    app.clock.advance(5);
    let closed = id(&app.create_room(&a, "Closed", &k).await, "roomId");
    app.post_as(&a, &format!("/room/{closed}/close")).await.ok();

    let listed = |list: &Value| ids(list["list"].as_array().unwrap(), "roomId");
    assert_eq!(
        listed(&app.page(&a, "/room", 10, None).await),
        vec![p.clone(), r2.clone(), r1.clone()]
    );
    assert_eq!(
        listed(&app.page(&b, "/room", 10, None).await),
        vec![r2.clone(), r1.clone()],
        "B sees the open rooms of K, not A's private room"
    );
    assert_eq!(
        listed(&app.page(&c, "/room", 10, None).await),
        vec![r3.clone()]
    );

    // once invited, B sees the private room too
    app.post_as(&a, &format!("/room/{p}/invite/{}", b.uid))
        .await
        .ok();
    let page = app.page(&b, "/room", 10, None).await;
    assert_eq!(listed(&page), vec![p.clone(), r2.clone(), r1.clone()]);

    let item = &page["list"][1];
    assert_keys(item, &["createTime", "roomId", "roomResult", "sequenceId"]);
    let room = app.room(&b, &r2).await;
    assert_eq!(item["createTime"], room["createTime"]);
    assert_eq!(
        item["sequenceId"],
        format!("{}:{r2}", room["createTime"]).as_str()
    );
    assert_room(&item["roomResult"]);
    assert_eq!(
        item["roomResult"], room,
        "roomResult is the room as GET shows it"
    );
    assert_room(&page["list"][0]["roomResult"]);
}

#[actix_web::test]
async fn room_list_under_concurrent_inserts() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300009").await;
    let b = app.user("13800300010", "Bob").await;
    app.join_club(&b, &k).await;
    let mut rooms = Vec::new();
    for i in 0..6 {
        app.clock.advance(8);
        rooms.push(id(
            &app.create_room(&a, &format!("R{i}"), &k).await,
            "roomId",
        ));
    }
    let want: Vec<String> = rooms.iter().rev().cloned().collect();
    for count in [2, 3, 4] {
        assert_eq!(
            ids(&app.walk(&b, "/room", count, None).await, "roomId"),
            want
        );
    }
    let first = app.page(&b, "/room", 2, None).await;
    let last = text(&first["list"][1]["sequenceId"]);
    let mut new = Vec::new();
    for i in 0..2 {
        app.clock.advance(8);
        new.push(id(
            &app.create_room(&a, &format!("New{i}"), &k).await,
            "roomId",
        ));
    }
    let rest = app.walk(&b, "/room", 2, Some(last)).await;
    assert_eq!(ids(&rest, "roomId"), want[2..].to_vec());
    let fresh = app.page(&b, "/room", 2, None).await;
    assert_eq!(
        ids(fresh["list"].as_array().unwrap(), "roomId"),
        vec![new[1].clone(), new[0].clone()]
    );
}

#[actix_web::test]
async fn voice_tokens_are_agora_006_with_the_right_privileges() {
    let app = spawn_huddle().await;
    let (host, k) = host_with_club(&app, "13800300011").await;
    let listener = app.user("13800300012", "Listener").await;
    let r = id(&app.create_room(&host, "Room", &k).await, "roomId");
    let now_secs = app.clock_now() / 1000;

    let res = app.post_as(&listener, &format!("/room/{r}/token")).await;
    let out = res.ok();
    assert_keys(out, &["roomId", "token"]);
    assert_eq!(out["roomId"], r.as_str());
    let token = out["token"].as_str().unwrap();
    assert!(token.starts_with(&format!("006{AGORA_APP_ID}")), "{token}");
    let parsed = parse_006(token).unwrap();
    assert_eq!(parsed.app_id, AGORA_APP_ID);
    parsed.verify(AGORA_CERT, &r, &listener.uid).unwrap();
    assert!(parsed.verify(AGORA_CERT, &r, &host.uid).is_err());
    assert_eq!(
        parsed.privileges.keys().copied().collect::<Vec<u16>>(),
        vec![Privilege::JoinChannel.code()],
        "a listener may only join"
    );
    assert!(!parsed.has_privilege(Privilege::PublishAudio));
    for expire in parsed.privileges.values() {
        let expire = i64::from(*expire);
        assert!(
            expire > now_secs && expire <= now_secs + 3600 + 1,
            "privileges expire with the token lifetime: {expire} vs now {now_secs}"
        );
    }

    let token = app.room_token(&host, &r).await;
    let parsed = parse_006(&token).unwrap();
    parsed.verify(AGORA_CERT, &r, &host.uid).unwrap();
    assert_eq!(
        parsed.privileges.keys().copied().collect::<Vec<u16>>(),
        vec![
            Privilege::JoinChannel.code(),
            Privilege::PublishAudio.code()
        ],
        "the host may join and speak"
    );
    assert!(parsed.has_privilege(Privilege::PublishAudio));
}

#[actix_web::test]
async fn voice_tokens_switch_to_007() {
    let app = spawn_huddle_with(|c| {
        c.agora_token_version = huddle::config::AgoraTokenVersion::V007;
    })
    .await;
    let (host, k) = host_with_club(&app, "13800300013").await;
    let listener = app.user("13800300014", "Listener").await;
    let r = id(&app.create_room(&host, "Room", &k).await, "roomId");

    let token = app.room_token(&listener, &r).await;
    assert!(token.starts_with("007"), "{token}");
    let parsed = parse_007(&token).unwrap();
    assert_eq!(parsed.app_id, AGORA_APP_ID);
    assert_eq!(parsed.channel, r);
    assert_eq!(parsed.account, listener.uid);
    parsed.verify(AGORA_CERT).unwrap();
    assert!(parsed.has_privilege(Privilege::JoinChannel));
    assert!(!parsed.has_privilege(Privilege::PublishAudio));

    let token = app.room_token(&host, &r).await;
    let parsed = parse_007(&token).unwrap();
    parsed.verify(AGORA_CERT).unwrap();
    assert_eq!(parsed.account, host.uid);
    assert!(parsed.has_privilege(Privilege::JoinChannel));
    assert!(parsed.has_privilege(Privilege::PublishAudio));
}

#[actix_web::test]
async fn a_token_makes_the_caller_a_member_until_the_grace_period_ends_without_a_websocket() {
    let app = spawn_huddle_with(|c| c.room_grace_ms = 120_000).await;
    let (host, k) = host_with_club(&app, "13800300015").await;
    let b = app.user("13800300016", "Bob").await;
    let r = id(&app.create_room(&host, "Room", &k).await, "roomId");

    let before = app.room(&b, &r).await;
    assert!(!member_uids(&before).contains(&b.uid));
    let total_before = before["memberTotal"].as_i64().unwrap();

    app.room_token(&b, &r).await;
    let room = app.room(&b, &r).await;
    assert_room(&room);
    let me = member(&room, &b.uid).expect("B is a live member after taking a token");
    assert_eq!(me["allowLive"], 0);
    assert_eq!(me["nickname"], "Bob");
    assert_eq!(room["memberTotal"], total_before + 1);
    // taking another token does not count twice
    app.room_token(&b, &r).await;
    let room = app.room(&b, &r).await;
    assert_eq!(room["memberTotal"], total_before + 1);
    assert_eq!(
        member_uids(&room).iter().filter(|u| **u == b.uid).count(),
        1
    );

    app.room_token(&host, &r).await;
    let room = app.room(&b, &r).await;
    let h = member(&room, &host.uid).expect("the host is live after a token");
    assert_eq!(h["allowLive"], 1);

    app.clock.advance(119_000);
    let room = app.room(&host, &r).await;
    assert!(member(&room, &b.uid).is_some(), "still inside the lifetime");
    app.clock.advance(2_000);
    let room = app.room(&host, &r).await;
    assert!(
        member(&room, &b.uid).is_none(),
        "gone once the grace period passed with no WebSocket join: {room}"
    );
    assert!(member(&room, &host.uid).is_none(), "{room}");
    assert_eq!(room["memberTotal"], total_before, "{room}");

    // a fresh token admits again
    app.room_token(&b, &r).await;
    assert!(member(&app.room(&host, &r).await, &b.uid).is_some());
}

#[actix_web::test]
async fn only_the_host_closes_a_room_and_closed_rooms_are_gone() {
    let app = spawn_huddle().await;
    let (host, k) = host_with_club(&app, "13800300017").await;
    let b = app.user("13800300018", "Bob").await;
    app.join_club(&b, &k).await;
    let r = id(&app.create_room(&host, "Room", &k).await, "roomId");
    app.room_token(&b, &r).await;

    // B (even as a live member) cannot close A's room
    app.post_as(&b, &format!("/room/{r}/close"))
        .await
        .protocol(403, "Forbidden");
    assert!(member(&app.room(&b, &r).await, &b.uid).is_some());

    let res = app.post_as(&host, &format!("/room/{r}/close")).await;
    assert_eq!(
        res.body,
        json!({"result": {}, "message": "Success", "status": 1})
    );
    for s in [&host, &b] {
        assert_eq!(
            app.get_as(s, &format!("/room/{r}")).await.business(400000),
            NO_SUCH_ROOM
        );
        no_such_room(&app.post_as(s, &format!("/room/{r}/token")).await);
    }
    no_such_room(&app.post_as(&host, &format!("/room/{r}/close")).await);
    no_such_room(
        &app.post_as(&host, &format!("/room/{r}/invite/{}", b.uid))
            .await,
    );
    assert_eq!(app.page(&b, "/room", 10, None).await["list"], json!([]));
    no_such_room(&app.post_as(&b, &format!("/room/{UNKNOWN_ID}/close")).await);
}

#[actix_web::test]
async fn a_host_who_blocked_the_caller_keeps_them_out_with_400001() {
    let app = spawn_huddle().await;
    let (host, k) = host_with_club(&app, "13800300019").await;
    let b = app.user("13800300020", "Bob").await;
    let c = app.user("13800300021", "Carol").await;
    let r = id(&app.create_room(&host, "Room", &k).await, "roomId");
    app.post_as(&host, &format!("/user/{}/block", b.uid))
        .await
        .ok();
    app.get_as(&b, &format!("/room/{r}")).await.business(400001);
    app.post_as(&b, &format!("/room/{r}/token"))
        .await
        .business(400001);
    assert!(member(&app.room(&c, &r).await, &b.uid).is_none());
    // others are not affected
    app.room(&c, &r).await;
    app.room_token(&c, &r).await;
    // B blocking the host does not keep the host out of their own room
    app.post_as(&b, &format!("/user/{}/block", host.uid))
        .await
        .ok();
    app.room_token(&host, &r).await;
    // unblocked: back in
    app.delete_as(&host, &format!("/user/{}/block", b.uid))
        .await
        .ok();
    app.room(&b, &r).await;
    app.room_token(&b, &r).await;
}

#[actix_web::test]
async fn cache_ids_are_stable_per_sharer_and_room() {
    let app = spawn_huddle().await;
    let (host, k) = host_with_club(&app, "13800300022").await;
    let b = app.user("13800300023", "Bob").await;
    let r1 = id(&app.create_room(&host, "R1", &k).await, "roomId");
    let r2 = id(&app.create_room(&host, "R2", &k).await, "roomId");
    let cache = |s: &Session, r: &str| {
        let call = app.post(&format!("/room/{r}/cache")).user(s);
        async move {
            let res = call.send().await;
            let v = res.ok().clone();
            assert!(hex32(&v), "a 32-hex roomCacheId: {v}");
            v
        }
    };
    let first = cache(&b, &r1).await;
    app.clock.advance(1_000);
    assert_eq!(
        cache(&b, &r1).await,
        first,
        "same sharer + same room → same id"
    );
    assert_ne!(cache(&b, &r2).await, first);
    no_such_room(&app.post_as(&b, &format!("/room/{UNKNOWN_ID}/cache")).await);
}

#[actix_web::test]
async fn invite_only_rooms_are_for_the_host_and_invitees() {
    let app = spawn_huddle().await;
    let (host, k) = host_with_club(&app, "13800300024").await;
    let b = app.user("13800300025", "Bob").await;
    let stranger = app.user("13800300026", "Eve").await;
    app.join_club(&b, &k).await;
    let p = id(&app.create_private_room(&host, "Private").await, "roomId");

    for s in [&stranger, &b] {
        app.get_as(s, &format!("/room/{p}"))
            .await
            .protocol(403, "Forbidden");
        app.post_as(s, &format!("/room/{p}/token"))
            .await
            .protocol(403, "Forbidden");
    }
    app.room(&host, &p).await;
    app.room_token(&host, &p).await;

    app.post_as(&host, &format!("/room/{p}/invite/{}", b.uid))
        .await
        .ok();
    let room = app.room(&b, &p).await;
    assert_room(&room);
    let token = app.room_token(&b, &p).await;
    let parsed = parse_006(&token).unwrap();
    parsed.verify(AGORA_CERT, &p, &b.uid).unwrap();
    assert!(!parsed.has_privilege(Privilege::PublishAudio));
    assert!(member(&app.room(&host, &p).await, &b.uid).is_some());
    // still closed to the stranger
    app.get_as(&stranger, &format!("/room/{p}"))
        .await
        .protocol(403, "Forbidden");
    app.post_as(&stranger, &format!("/room/{p}/token"))
        .await
        .protocol(403, "Forbidden");
}

#[actix_web::test]
async fn invites_need_a_relation_and_send_a_message() {
    let app = spawn_huddle().await;
    let (a, k) = host_with_club(&app, "13800300027").await;
    let b = app.user("13800300028", "Bob").await; // shares club K with A
    let d = app.user("13800300029", "Dan").await; // sent A (and B) his card
    let e = app.user("13800300030", "Erin").await; // holds A's card only
    let c = app.user("13800300031", "Carl").await; // no relation
    app.join_club(&b, &k).await;
    for to in [&a, &b] {
        app.post_as(&d, &format!("/user/{}/card", to.uid))
            .await
            .ok();
    }
    app.post_as(&a, &format!("/user/{}/card", e.uid)).await.ok();
    let p = id(&app.create_private_room(&a, "Private").await, "roomId");
    let invite = |from: &Session, to: &str| {
        app.post(&format!("/room/{p}/invite/{to}"))
            .user(from)
            .send()
    };

    let res = invite(&a, &b.uid).await;
    assert_eq!(
        res.body,
        json!({"result": {}, "message": "邀请成功", "status": 1})
    );
    invite(&a, &d.uid).await.ok();
    invite(&a, &e.uid).await.protocol(403, "Forbidden"); // E holds A's card, A does not hold E's
    invite(&a, &c.uid).await.protocol(403, "Forbidden");
    invite(&a, &a.uid).await.protocol(400, "Params Not Valid");
    assert_eq!(
        invite(&a, "0123456789abcdef0123456789abcdef")
            .await
            .business(200002),
        "用户不存在"
    );
    invite(&a, "NOTAUID")
        .await
        .protocol(400, "Params Not Valid");
    no_such_room(
        &app.post_as(&a, &format!("/room/{UNKNOWN_ID}/invite/{}", b.uid))
            .await,
    );

    // B got the invite message
    let url = format!("chaoqer://room/{p}");
    let msgs = app.messages(&b).await;
    let invites = messages_where(&msgs, 2, &url);
    assert_eq!(invites.len(), 1, "{msgs:#?}");
    let m = invites[0];
    assert_eq!(m["messageBody"]["title"], INVITE_TITLE);
    assert_eq!(m["originUid"], a.uid.as_str());
    assert_eq!(m["uid"], b.uid.as_str());
    assert_eq!(m["unread"], 1);
    for item in &msgs {
        assert_message_item(item, &b.uid);
    }
    // nobody refused got one
    for s in [&e, &c] {
        assert!(messages_where(&app.messages(s).await, 2, &url).is_empty());
    }

    // an invited but not live member cannot invite yet
    invite(&b, &d.uid).await.protocol(403, "Forbidden");
    app.room_token(&b, &p).await;
    invite(&b, &d.uid).await.ok(); // B holds D's card
    invite(&b, &c.uid).await.protocol(403, "Forbidden");
    // the stranger can neither join nor invite
    invite(&c, &b.uid).await.protocol(403, "Forbidden");

    let d_invites: Vec<Value> = messages_where(&app.messages(&d).await, 2, &url)
        .into_iter()
        .cloned()
        .collect();
    let mut from: Vec<String> = d_invites
        .iter()
        .map(|m| m["originUid"].as_str().unwrap().to_owned())
        .collect();
    from.sort();
    let mut want = vec![a.uid.clone(), b.uid.clone()];
    want.sort();
    assert_eq!(from, want);
    // D can now take a token for the private room
    app.room_token(&d, &p).await;
}

#[actix_web::test]
async fn invites_into_an_open_room_need_a_live_inviter() {
    let app = spawn_huddle_with(|c| c.room_grace_ms = 60_000).await;
    let (a, k) = host_with_club(&app, "13800300032").await;
    let b = app.user("13800300033", "Bob").await;
    let d = app.user("13800300034", "Dan").await;
    app.join_club(&b, &k).await;
    app.join_club(&d, &k).await;
    let r = id(&app.create_room(&a, "Open", &k).await, "roomId");
    let invite = |from: &Session, to: &str| {
        app.post(&format!("/room/{r}/invite/{to}"))
            .user(from)
            .send()
    };
    // B is a club member but not in the room
    invite(&b, &d.uid).await.protocol(403, "Forbidden");
    app.room_token(&b, &r).await;
    invite(&b, &d.uid).await.ok();
    let msgs = app.messages(&d).await;
    let m = messages_where(&msgs, 2, &format!("chaoqer://room/{r}"));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["originUid"], b.uid.as_str());
    // B never joined over a WebSocket: after the grace period B is no longer live
    app.clock.advance(61_000);
    invite(&b, &d.uid).await.protocol(403, "Forbidden");
    // the host needs no token
    invite(&a, &d.uid).await.ok();
}
