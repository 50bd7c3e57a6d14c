//! `/event/*`: create, edit, delete, get, list, notify, start; reminders on
//! the injected clock.

use serde_json::{json, Value};

use crate::helpers::*;

const NO_SUCH_EVENT: &str = "日程不存在";
const UNKNOWN_EVENT: &str = "abcdefabcdefabcdefabcdefabcdef12";
const HOUR: i64 = 3_600_000;

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn sorted_uids(uids: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = uids.iter().map(|u| (*u).to_owned()).collect();
    out.sort();
    out
}

fn reminder_url(event_id: &str) -> String {
    format!("chaoqer://event/{event_id}")
}

/// How many reminders for `event_id` are in `msgs`.
fn reminders(msgs: &[Value], event_id: &str) -> usize {
    messages_where(msgs, 3, &reminder_url(event_id)).len()
}

#[actix_web::test]
async fn create_event_answers_the_seed_shape() {
    let app = spawn_huddle().await;
    let a = app.user("13800400001", "Alice").await;
    let b = app.user("13800400002", "Bob").await;
    let now = app.clock_now();
    let when = now + 5 * HOUR;
    // form: memberUidList is JSON text; duplicates are dropped
    let res = app
        .post("/event")
        .user(&a)
        .param("name", "测试日程")
        .param("desc", "测试介绍")
        .param("eventTime", when)
        .param(
            "memberUidList",
            json!([a.uid, b.uid, b.uid, a.uid]).to_string(),
        )
        .send()
        .await;
    assert_eq!(res.body["message"], "Success");
    let r = res.ok();
    assert_event(r, false);
    assert_eq!(r["createTime"], now);
    assert_eq!(r["desc"], "测试介绍");
    assert_eq!(r["eventTime"], when);
    assert_eq!(r["eventTimeStatus"], 0);
    assert_eq!(r["name"], "测试日程");
    assert_eq!(r["notify"], 0);
    assert_eq!(r["uid"], a.uid.as_str());
    assert_eq!(
        sorted(&r["memberUidList"]),
        sorted_uids(&[&a.uid, &b.uid]),
        "duplicates dropped"
    );

    // JSON body: a real array, eventTime a number; desc defaults to ""
    let res = app
        .post("/event")
        .user(&b)
        .via(Transport::Json)
        .param("name", "JSON")
        .json_param("eventTime", json!(when))
        .json_param("memberUidList", json!([a.uid]))
        .send()
        .await;
    let r = res.ok();
    assert_event(r, false);
    assert_eq!(r["desc"], "");
    assert_eq!(r["uid"], b.uid.as_str());
    assert_eq!(r["memberUidList"], json!([a.uid]));
    assert_eq!(r["eventTime"], when);
}

#[actix_web::test]
async fn create_event_validates_its_params() {
    let app = spawn_huddle().await;
    let a = app.user("13800400003", "Alice").await;
    let now = app.clock_now();
    let later = now + HOUR;
    let members = json!([a.uid]).to_string();
    let base =
        |name: Option<String>, desc: Option<String>, time: Option<String>, list: Option<String>| {
            let mut call = app.post("/event").user(&a);
            if let Some(v) = name {
                call = call.param("name", v);
            }
            if let Some(v) = desc {
                call = call.param("desc", v);
            }
            if let Some(v) = time {
                call = call.param("eventTime", v);
            }
            if let Some(v) = list {
                call = call.param("memberUidList", v);
            }
            call
        };
    let ok_name = || Some("Name".to_owned());
    let ok_time = || Some(later.to_string());
    let ok_list = || Some(members.clone());
    let cases = vec![
        (None, None, ok_time(), ok_list()),
        (Some("x".repeat(101)), None, ok_time(), ok_list()),
        (ok_name(), Some("d".repeat(301)), ok_time(), ok_list()),
        (ok_name(), None, None, ok_list()),
        (ok_name(), None, Some("soon".to_owned()), ok_list()),
        (ok_name(), None, Some((now - 1_000).to_string()), ok_list()),
        (ok_name(), None, Some(now.to_string()), ok_list()),
        (ok_name(), None, ok_time(), None),
        (ok_name(), None, ok_time(), Some(String::new())),
        (ok_name(), None, ok_time(), Some("abc".to_owned())),
        (ok_name(), None, ok_time(), Some("[]".to_owned())),
        (ok_name(), None, ok_time(), Some("{}".to_owned())),
        (ok_name(), None, ok_time(), Some("[1,2]".to_owned())),
        (ok_name(), None, ok_time(), Some(format!("\"{}\"", a.uid))),
    ];
    for (n, d, t, l) in cases {
        let what = format!("{n:?} {d:?} {t:?} {l:?}");
        let res = base(n, d, t, l).send().await;
        assert_eq!(res.status, 400, "{what}: {}", res.text);
        res.protocol(400, "Params Not Valid");
    }
    // limits are characters: 100-char name and 300-char desc fit
    base(
        Some("日".repeat(100)),
        Some("程".repeat(300)),
        ok_time(),
        ok_list(),
    )
    .send()
    .await
    .ok();
    // an unknown member is 200002
    let unknown = json!([a.uid, "0123456789abcdef0123456789abcdef"]).to_string();
    assert_eq!(
        base(ok_name(), None, ok_time(), Some(unknown))
            .send()
            .await
            .business(200002),
        "用户不存在"
    );
    // a past eventTime in a JSON body too
    app.post("/event")
        .user(&a)
        .via(Transport::Json)
        .param("name", "Past")
        .json_param("eventTime", json!(now - 60_000))
        .json_param("memberUidList", json!([a.uid]))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.post("/event")
        .user(&a)
        .via(Transport::Json)
        .param("name", "Empty")
        .json_param("eventTime", json!(later))
        .json_param("memberUidList", json!([]))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    // nothing was created by the refused calls
    let all = app.walk(&a, "/event", 100, None).await;
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[actix_web::test]
async fn member_lists_hold_1_to_20_uids() {
    let app = spawn_huddle().await;
    let a = app.user("13800400004", "Alice").await;
    let mut uids = Vec::new();
    for i in 0..21 {
        uids.push(
            app.user(&format!("138004001{:02}", i), &format!("M{i}"))
                .await
                .uid,
        );
    }
    let later = app.clock_now() + HOUR;
    let r = app
        .post("/event")
        .user(&a)
        .param("name", "Twenty")
        .param("eventTime", later)
        .json_param("memberUidList", json!(&uids[..20]))
        .send()
        .await;
    assert_eq!(r.ok()["memberUidList"].as_array().unwrap().len(), 20);
    app.post("/event")
        .user(&a)
        .param("name", "Twenty-one")
        .param("eventTime", later)
        .json_param("memberUidList", json!(uids))
        .send()
        .await
        .protocol(400, "Params Not Valid");
}

#[actix_web::test]
async fn get_event_and_notify() {
    let app = spawn_huddle().await;
    let a = app.user("13800400005", "Alice").await;
    let b = app.user("13800400006", "Bob").await;
    let c = app.user("13800400007", "Carol").await;
    let created = app
        .create_event(&a, "Event", app.clock_now() + HOUR, &[&a.uid, &b.uid])
        .await;
    let e = id(&created, "eventId");
    let res = app.get(&format!("/event/{e}")).user(&c).send().await;
    let r = res.ok();
    assert_event(r, false);
    assert_eq!(r, &created, "GET answers the event as created");

    for _ in 0..2 {
        let res = app.post_as(&c, &format!("/event/{e}/notify")).await;
        assert_eq!(
            res.body,
            json!({"result": {}, "message": "Success", "status": 1})
        );
    }
    let r = app.get(&format!("/event/{e}")).user(&c).send().await;
    assert_eq!(r.ok()["notify"], 1, "C subscribed");
    let r = app.get(&format!("/event/{e}")).user(&b).send().await;
    assert_eq!(r.ok()["notify"], 0, "B did not");

    for call in [
        app.get(&format!("/event/{UNKNOWN_EVENT}")),
        app.post(&format!("/event/{UNKNOWN_EVENT}/notify")),
        app.post(&format!("/event/{UNKNOWN_EVENT}/start")),
        app.delete(&format!("/event/{UNKNOWN_EVENT}")),
        app.put(&format!("/event/{UNKNOWN_EVENT}"))
            .param("name", "X")
            .param("eventTime", app.clock_now() + HOUR)
            .json_param("memberUidList", json!([a.uid])),
    ] {
        assert_eq!(call.user(&a).send().await.business(600000), NO_SUCH_EVENT);
    }
    for bad in ["nothex", "ABCDEFABCDEFABCDEFABCDEFABCDEF12", "abc"] {
        app.get_as(&a, &format!("/event/{bad}"))
            .await
            .protocol(400, "Params Not Valid");
    }
}

#[actix_web::test]
async fn edit_event_updates_it_for_the_creator_only() {
    let app = spawn_huddle().await;
    let a = app.user("13800400008", "Alice").await;
    let b = app.user("13800400009", "Bob").await;
    let c = app.user("13800400010", "Carol").await;
    let created = app
        .create_event(&a, "Before", app.clock_now() + HOUR, &[&a.uid])
        .await;
    let e = id(&created, "eventId");
    app.clock.advance(1_000);
    let when = app.clock_now() + 2 * HOUR;
    let res = app
        .put(&format!("/event/{e}"))
        .user(&a)
        .param("name", "After")
        .param("desc", "new desc")
        .param("eventTime", when)
        .json_param("memberUidList", json!([b.uid, c.uid]))
        .send()
        .await;
    let r = res.ok().clone();
    assert_event(&r, false);
    assert_eq!(r["eventId"], e.as_str());
    assert_eq!(r["createTime"], created["createTime"], "createTime stays");
    assert_eq!(r["name"], "After");
    assert_eq!(r["desc"], "new desc");
    assert_eq!(r["eventTime"], when);
    assert_eq!(sorted(&r["memberUidList"]), sorted_uids(&[&b.uid, &c.uid]));
    assert_eq!(r["uid"], a.uid.as_str());
    let got = app.get(&format!("/event/{e}")).user(&a).send().await;
    assert_eq!(got.ok(), &r);

    // the same validation as create
    app.put(&format!("/event/{e}"))
        .user(&a)
        .param("name", "Past")
        .param("eventTime", app.clock_now() - 1)
        .json_param("memberUidList", json!([a.uid]))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    app.put(&format!("/event/{e}"))
        .user(&a)
        .param("name", "x".repeat(101))
        .param("eventTime", when)
        .json_param("memberUidList", json!([a.uid]))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    let got = app.get(&format!("/event/{e}")).user(&a).send().await;
    assert_eq!(got.ok(), &r, "refused edits change nothing");
}

#[actix_web::test]
async fn another_user_cannot_edit_delete_or_start_my_event() {
    let app = spawn_huddle().await;
    let a = app.user("13800400011", "Alice").await;
    let b = app.user("13800400012", "Bob").await;
    let created = app
        .create_event(&a, "Mine", app.clock_now() + HOUR, &[&a.uid, &b.uid])
        .await;
    let e = id(&created, "eventId");
    // B is even a member of the event: still not the creator
    app.put(&format!("/event/{e}"))
        .user(&b)
        .param("name", "Hijacked")
        .param("eventTime", app.clock_now() + 2 * HOUR)
        .json_param("memberUidList", json!([b.uid]))
        .send()
        .await
        .protocol(403, "Forbidden");
    app.delete_as(&b, &format!("/event/{e}"))
        .await
        .protocol(403, "Forbidden");
    app.post_as(&b, &format!("/event/{e}/start"))
        .await
        .protocol(403, "Forbidden");
    let got = app.get(&format!("/event/{e}")).user(&a).send().await;
    assert_eq!(got.ok(), &created, "unchanged, not started, not deleted");
    // B may subscribe, like anyone
    app.post_as(&b, &format!("/event/{e}/notify")).await.ok();
}

#[actix_web::test]
async fn deleted_events_are_gone() {
    let app = spawn_huddle().await;
    let a = app.user("13800400013", "Alice").await;
    let keep = app
        .create_event(&a, "Keep", app.clock_now() + HOUR, &[&a.uid])
        .await;
    app.clock.advance(1);
    let e = id(
        &app.create_event(&a, "Drop", app.clock_now() + HOUR, &[&a.uid])
            .await,
        "eventId",
    );
    let res = app.delete(&format!("/event/{e}")).user(&a).send().await;
    assert_eq!(
        res.body,
        json!({"result": {}, "message": "Success", "status": 1})
    );
    for call in [
        app.get(&format!("/event/{e}")),
        app.delete(&format!("/event/{e}")),
        app.post(&format!("/event/{e}/notify")),
        app.post(&format!("/event/{e}/start")),
    ] {
        assert_eq!(call.user(&a).send().await.business(600000), NO_SUCH_EVENT);
    }
    let all = app.walk(&a, "/event", 10, None).await;
    assert_eq!(ids(&all, "eventId"), vec![id(&keep, "eventId")]);
}

#[actix_web::test]
async fn event_list_pages_all_events_newest_created_first() {
    let app = spawn_huddle().await;
    let a = app.user("13800400014", "Alice").await;
    let b = app.user("13800400015", "Bob").await;
    let mut events = Vec::new();
    for i in 0..6 {
        app.clock.advance(10);
        let by = if i % 2 == 0 { &a } else { &b };
        // event times deliberately not in creation order
        let when = app.clock_now() + (6 - i) * HOUR;
        events.push(
            app.create_event(by, &format!("E{i}"), when, &[&a.uid])
                .await,
        );
    }
    let first = app.page(&b, "/event", 2, None).await;
    let item = &first["list"][0];
    assert_keys(item, &["eventId", "eventResult", "eventTime", "sequenceId"]);
    let newest = &events[5];
    assert_eq!(item["eventId"], newest["eventId"]);
    assert_event(&item["eventResult"], false);
    assert_eq!(item["eventResult"], *newest);
    assert_eq!(
        item["eventTime"], newest["createTime"],
        "the item's eventTime is the event's createTime"
    );
    assert_eq!(
        item["sequenceId"],
        format!("{}:{}", newest["createTime"], text(&newest["eventId"])).as_str()
    );
    let want: Vec<String> = events.iter().rev().map(|e| id(e, "eventId")).collect();
    for count in [2, 3, 4] {
        for viewer in [&a, &b] {
            let all = app.walk(viewer, "/event", count, None).await;
            assert_eq!(ids(&all, "eventId"), want, "all events, for everyone");
        }
    }
}

#[actix_web::test]
async fn event_list_under_concurrent_inserts() {
    let app = spawn_huddle().await;
    let a = app.user("13800400016", "Alice").await;
    let mut events = Vec::new();
    for i in 0..5 {
        app.clock.advance(10);
        let when = app.clock_now() + HOUR;
        events.push(id(
            &app.create_event(&a, &format!("E{i}"), when, &[&a.uid])
                .await,
            "eventId",
        ));
    }
    let first = app.page(&a, "/event", 2, None).await;
    let last = text(&first["list"][1]["sequenceId"]);
    let mut new = Vec::new();
    for i in 0..2 {
        app.clock.advance(10);
        let when = app.clock_now() + HOUR;
        new.push(id(
            &app.create_event(&a, &format!("New{i}"), when, &[&a.uid])
                .await,
            "eventId",
        ));
    }
    let rest = app.walk(&a, "/event", 2, Some(last)).await;
    assert_eq!(
        ids(&rest, "eventId"),
        vec![events[2].clone(), events[1].clone(), events[0].clone()]
    );
    let fresh = app.page(&a, "/event", 2, None).await;
    assert_eq!(
        ids(fresh["list"].as_array().unwrap(), "eventId"),
        vec![new[1].clone(), new[0].clone()]
    );
}

#[actix_web::test]
async fn starting_an_event_opens_a_room_and_tells_members_and_subscribers() {
    let app = spawn_huddle().await;
    let creator = app.user("13800400017", "Creator").await;
    let member = app.user("13800400018", "Member").await;
    let sub = app.user("13800400019", "Sub").await;
    let both = app.user("13800400020", "Both").await;
    let outsider = app.user("13800400021", "Out").await;
    let created = app
        .create_event(
            &creator,
            "测试活动",
            app.clock_now() + HOUR,
            &[&creator.uid, &member.uid, &both.uid],
        )
        .await;
    let e = id(&created, "eventId");
    for s in [&sub, &both] {
        app.post_as(s, &format!("/event/{e}/notify")).await.ok();
    }
    app.clock.advance(500);
    let started_at = app.clock_now();
    let res = app.post_as(&creator, &format!("/event/{e}/start")).await;
    let r = res.ok().clone();
    assert_event(&r, true);
    assert_eq!(r["eventId"], e.as_str());
    assert_eq!(r["eventTimeStatus"], 1);
    let room_id = id(&r, "roomId");
    let room = &r["roomResult"];
    assert_eq!(room["roomId"], room_id.as_str());
    assert_eq!(
        room["name"], "测试活动",
        "the room is named after the event"
    );
    assert_eq!(room["uid"], creator.uid.as_str(), "the creator hosts");
    assert_eq!(room["clubId"], "");
    assert_eq!(room["inviteOnly"], 0);
    assert_eq!(room["createTime"], started_at);

    // GET shows it started; starting again answers the same room
    let got = app.get(&format!("/event/{e}")).user(&member).send().await;
    let got = got.ok();
    assert_event(got, true);
    assert_eq!(got["roomId"], room_id.as_str());
    let again = app.post_as(&creator, &format!("/event/{e}/start")).await;
    assert_eq!(again.ok()["roomId"], room_id.as_str());

    // the room is a real, open room
    let open = app.room(&outsider, &room_id).await;
    assert_room(&open);
    assert_eq!(open["uid"], creator.uid.as_str());
    let token = app.room_token(&creator, &room_id).await;
    let parsed = huddle::clients::rtc::agora::parse_006(&token).unwrap();
    parsed.verify(AGORA_CERT, &room_id, &creator.uid).unwrap();
    assert!(parsed.has_privilege(huddle::clients::rtc::agora::Privilege::PublishAudio));
    app.room_token(&member, &room_id).await;

    // members and subscribers (not the creator) got one message each
    let url = format!("chaoqer://room/{room_id}");
    for s in [&member, &sub, &both] {
        let msgs = app.messages(s).await;
        let started = messages_where(&msgs, 4, &url);
        assert_eq!(started.len(), 1, "{msgs:#?}");
        assert_eq!(started[0]["uid"], s.uid.as_str());
        for item in &msgs {
            assert_message_item(item, &s.uid);
        }
    }
    for s in [&creator, &outsider] {
        assert!(messages_where(&app.messages(s).await, 4, &url).is_empty());
    }
}

#[actix_web::test]
async fn reminders_fire_once_when_the_clock_reaches_event_time() {
    let app = spawn_huddle().await;
    let creator = app.user("13800400022", "Creator").await;
    let member = app.user("13800400023", "Member").await;
    let sub = app.user("13800400024", "Sub").await;
    let both = app.user("13800400025", "Both").await;
    let outsider = app.user("13800400026", "Out").await;
    let sentinel = app.user("13800400027", "Sentinel").await;
    let t0 = app.clock_now();

    let e = id(
        &app.create_event(
            &creator,
            "Standup",
            t0 + 60_000,
            &[&creator.uid, &member.uid, &both.uid],
        )
        .await,
        "eventId",
    );
    // the creator is not a member of this one and does not subscribe
    let other = id(
        &app.create_event(&creator, "Other", t0 + 60_000, &[&member.uid])
            .await,
        "eventId",
    );
    for s in [&sub, &both] {
        app.post_as(s, &format!("/event/{e}/notify")).await.ok();
    }
    let s1 = id(
        &app.create_event(&sentinel, "S1", t0 + 50_000, &[&sentinel.uid])
            .await,
        "eventId",
    );

    // 59 s: the sentinel (due at 50 s) proves the scheduler looked; nothing else yet
    app.clock.advance(59_000);
    app.poll_messages(&sentinel, "the 50 s sentinel", |m| reminders(m, &s1) >= 1)
        .await;
    for s in [&creator, &member, &sub, &both] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &e), 0, "too early: {msgs:#?}");
        assert_eq!(reminders(&msgs, &other), 0, "too early: {msgs:#?}");
    }

    // 61 s: every member and every subscriber gets exactly one
    app.clock.advance(2_000);
    for s in [&member, &sub, &both, &creator] {
        let msgs = app
            .poll_messages(s, "the reminder", |m| reminders(m, &e) >= 1)
            .await;
        assert_eq!(reminders(&msgs, &e), 1, "{msgs:#?}");
        let m = messages_where(&msgs, 3, &reminder_url(&e))[0];
        assert_eq!(m["uid"], s.uid.as_str());
        assert_eq!(m["messageType"], 0);
        for item in &msgs {
            assert_message_item(item, &s.uid);
        }
    }
    app.poll_messages(&member, "the other reminder", |m| reminders(m, &other) >= 1)
        .await;

    // later ticks add nothing: a second sentinel proves the scheduler ran again
    let now = app.clock_now();
    let s2 = id(
        &app.create_event(&sentinel, "S2", now + 10_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(20_000);
    app.poll_messages(&sentinel, "the second sentinel", |m| reminders(m, &s2) >= 1)
        .await;
    for s in [&member, &sub, &both, &creator] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &e), 1, "no duplicate: {msgs:#?}");
    }
    let member_msgs = app.messages(&member).await;
    assert_eq!(reminders(&member_msgs, &other), 1);
    let creator_msgs = app.messages(&creator).await;
    assert_eq!(
        reminders(&creator_msgs, &other),
        0,
        "the creator is neither a member nor a subscriber of `other`"
    );
    let outsider_msgs = app.messages(&outsider).await;
    assert_eq!(reminders(&outsider_msgs, &e), 0);
    assert_eq!(reminders(&outsider_msgs, &other), 0);
}

#[actix_web::test]
async fn deleted_events_send_no_reminder() {
    let app = spawn_huddle().await;
    let creator = app.user("13800400028", "Creator").await;
    let member = app.user("13800400029", "Member").await;
    let sub = app.user("13800400030", "Sub").await;
    let sentinel = app.user("13800400031", "Sentinel").await;
    let t0 = app.clock_now();
    let e = id(
        &app.create_event(
            &creator,
            "Doomed",
            t0 + 60_000,
            &[&creator.uid, &member.uid],
        )
        .await,
        "eventId",
    );
    app.post_as(&sub, &format!("/event/{e}/notify")).await.ok();
    app.delete_as(&creator, &format!("/event/{e}")).await.ok();
    let s1 = id(
        &app.create_event(&sentinel, "S1", t0 + 60_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(61_000);
    app.poll_messages(&sentinel, "the sentinel", |m| reminders(m, &s1) >= 1)
        .await;
    app.clock.advance(60_000);
    let s2 = id(
        &app.create_event(&sentinel, "S2", app.clock_now() + 1_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(2_000);
    app.poll_messages(&sentinel, "the second sentinel", |m| reminders(m, &s2) >= 1)
        .await;
    for s in [&creator, &member, &sub] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &e), 0, "deleted: {msgs:#?}");
    }
}

#[actix_web::test]
async fn editing_event_time_reschedules_the_reminder() {
    let app = spawn_huddle().await;
    let creator = app.user("13800400032", "Creator").await;
    let member = app.user("13800400033", "Member").await;
    let sub = app.user("13800400034", "Sub").await;
    let sentinel = app.user("13800400035", "Sentinel").await;
    let t0 = app.clock_now();
    let later = id(
        &app.create_event(&creator, "Later", t0 + 60_000, &[&member.uid])
            .await,
        "eventId",
    );
    let sooner = id(
        &app.create_event(&creator, "Sooner", t0 + 300_000, &[&member.uid])
            .await,
        "eventId",
    );
    for e in [&later, &sooner] {
        app.post_as(&sub, &format!("/event/{e}/notify")).await.ok();
    }
    let edit = |e: &str, when: i64| {
        app.put(&format!("/event/{e}"))
            .user(&creator)
            .param("name", "Moved")
            .param("eventTime", when)
            .json_param("memberUidList", json!([member.uid]))
            .send()
    };
    edit(&later, t0 + 120_000).await.ok(); // 60 s → 120 s
    edit(&sooner, t0 + 90_000).await.ok(); // 300 s → 90 s
    let sentinel_at = |at: i64| {
        let sentinel = &sentinel;
        let app = &app;
        async move {
            id(
                &app.create_event(sentinel, "Sentinel", at, &[&sentinel.uid])
                    .await,
                "eventId",
            )
        }
    };
    let s1 = sentinel_at(t0 + 61_000).await;
    let s2 = sentinel_at(t0 + 121_000).await;
    let s3 = sentinel_at(t0 + 301_000).await;

    // 62 s: the old time of `later` passed, nothing fires
    app.clock.advance(62_000);
    app.poll_messages(&sentinel, "sentinel 1", |m| reminders(m, &s1) >= 1)
        .await;
    for s in [&member, &sub] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &later), 0, "{msgs:#?}");
        assert_eq!(reminders(&msgs, &sooner), 0, "{msgs:#?}");
    }
    // 122 s: both fire (sooner at its new 90 s, later at its new 120 s)
    app.clock.advance(60_000);
    for s in [&member, &sub] {
        let msgs = app
            .poll_messages(s, "both rescheduled reminders", |m| {
                reminders(m, &later) >= 1 && reminders(m, &sooner) >= 1
            })
            .await;
        assert_eq!(reminders(&msgs, &later), 1);
        assert_eq!(reminders(&msgs, &sooner), 1);
    }
    app.poll_messages(&sentinel, "sentinel 2", |m| reminders(m, &s2) >= 1)
        .await;
    // 302 s: the old time of `sooner` brings no second reminder
    app.clock.advance(180_000);
    app.poll_messages(&sentinel, "sentinel 3", |m| reminders(m, &s3) >= 1)
        .await;
    for s in [&member, &sub] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &later), 1, "{msgs:#?}");
        assert_eq!(reminders(&msgs, &sooner), 1, "{msgs:#?}");
    }
}
