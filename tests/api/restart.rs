//! Stopping the server and starting it on the same database (same config,
//! same clock) loses nothing, and reminders fire exactly once across restarts.

use huddle::clients::rtc::agora::parse_006;
use serde_json::Value;

use crate::helpers::*;

fn id(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap().to_owned()
}

fn reminders(msgs: &[Value], event_id: &str) -> usize {
    messages_where(msgs, 3, &format!("chaoqer://event/{event_id}")).len()
}

#[actix_web::test]
async fn everything_survives_a_restart() {
    let mut app = spawn_huddle().await;
    let a = app.user("13800500001", "Alice").await;
    let b = app.user("13800500002", "Bob").await;
    let c = app.user("13800500003", "Carol").await;
    let sentinel = app.user("13800500004", "Sentinel").await;
    let t0 = app.clock_now();

    // block, card (+ message), club + membership
    app.post_as(&a, &format!("/user/{}/block", c.uid))
        .await
        .ok();
    app.post_as(&b, &format!("/user/{}/card", a.uid)).await.ok();
    let k = id(&app.create_club(&a, "Club").await, "clubId");
    app.clock.advance(5);
    app.join_club(&b, &k).await;
    // an open room, a private room with an invite, a closed room
    app.clock.advance(5);
    let r = id(&app.create_room(&a, "Open", &k).await, "roomId");
    app.clock.advance(5);
    let p = id(&app.create_private_room(&a, "Private").await, "roomId");
    app.post_as(&a, &format!("/room/{p}/invite/{}", b.uid))
        .await
        .ok();
    app.clock.advance(5);
    let x = id(&app.create_room(&a, "Closed", &k).await, "roomId");
    app.post_as(&a, &format!("/room/{x}/close")).await.ok();
    // an event with a member and a subscriber
    let e = id(
        &app.create_event(&a, "Event", t0 + 60_000, &[&a.uid, &b.uid])
            .await,
        "eventId",
    );
    app.post_as(&c, &format!("/event/{e}/notify")).await.ok();

    let before_profile = app
        .get_as(&a, &format!("/user/{}/profile", b.uid))
        .await
        .ok()
        .clone();
    let before_club = app.get_as(&b, &format!("/club/{k}")).await.ok().clone();
    let before_room = app.room(&b, &r).await;
    let before_event = app.get_as(&c, &format!("/event/{e}")).await.ok().clone();

    app.restart().await;

    // sessions, profiles
    let profile = app.get_as(&a, &format!("/user/{}/profile", b.uid)).await;
    assert_eq!(profile.ok(), &before_profile);
    // block
    let blocks = app.walk(&a, "/user/block", 10, None).await;
    assert_eq!(ids(&blocks, "uid"), vec![c.uid.clone()]);
    let seen = app.get_as(&a, &format!("/user/{}/profile", c.uid)).await;
    assert_eq!(seen.ok()["blocked"], 1);
    // card and the unread card message
    let cards = app.walk(&a, "/user/card", 10, None).await;
    assert_eq!(ids(&cards, "uid"), vec![b.uid.clone()]);
    assert_eq!(app.unread_total(&a).await, 1);
    let msgs = app.messages(&a).await;
    let card_msgs = messages_where(&msgs, 1, &format!("chaoqer://profile/{}", b.uid));
    assert_eq!(card_msgs.len(), 1, "{msgs:#?}");
    assert_eq!(card_msgs[0]["unread"], 1);
    // the invite message
    let b_msgs = app.messages(&b).await;
    assert_eq!(
        messages_where(&b_msgs, 2, &format!("chaoqer://room/{p}")).len(),
        1,
        "{b_msgs:#?}"
    );
    // club and membership
    let club = app.get(&format!("/club/{k}")).user(&b).send().await;
    assert_eq!(club.ok(), &before_club);
    assert_eq!(before_club["memberTotal"], 2);
    assert_eq!(before_club["joined"], 1);
    let clubs = app.walk(&b, "/club", 10, None).await;
    assert_eq!(ids(&clubs, "clubId"), vec![k.clone()]);
    let members = app.walk(&a, &format!("/club/{k}/member"), 10, None).await;
    assert_eq!(ids(&members, "uid"), vec![b.uid.clone(), a.uid.clone()]);
    // rooms: open still open, invite still valid, closed still closed
    assert_eq!(app.room(&b, &r).await, before_room);
    let token = app.room_token(&b, &r).await;
    parse_006(&token)
        .unwrap()
        .verify(AGORA_CERT, &r, &b.uid)
        .unwrap();
    app.room(&b, &p).await;
    app.room_token(&b, &p).await;
    // a stranger (not blocked by the host) is still kept out of the private room
    app.get_as(&sentinel, &format!("/room/{p}"))
        .await
        .protocol(403, "Forbidden");
    // and C, whom the host blocked, is kept out of the open room
    app.get_as(&c, &format!("/room/{r}")).await.business(400001);
    for s in [&a, &b] {
        assert_eq!(
            app.get_as(s, &format!("/room/{x}")).await.business(400000),
            "活动不存在"
        );
        app.post_as(s, &format!("/room/{x}/token"))
            .await
            .business(400000);
    }
    let rooms = app.walk(&b, "/room", 10, None).await;
    assert_eq!(ids(&rooms, "roomId"), vec![p.clone(), r.clone()]);
    // event and subscription
    let event = app.get(&format!("/event/{e}")).user(&c).send().await;
    assert_eq!(event.ok(), &before_event);
    assert_eq!(before_event["notify"], 1);
    let events = app.walk(&c, "/event", 10, None).await;
    assert_eq!(ids(&events, "eventId"), vec![e.clone()]);

    // the reminder still fires, once, for the member, the subscriber and the creator-member
    app.clock.advance(61_000);
    for s in [&a, &b, &c] {
        let msgs = app
            .poll_messages(s, "the reminder after a restart", |m| reminders(m, &e) >= 1)
            .await;
        assert_eq!(reminders(&msgs, &e), 1, "{msgs:#?}");
    }
    let s1 = id(
        &app.create_event(&sentinel, "S1", app.clock_now() + 1_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(2_000);
    app.poll_messages(&sentinel, "the sentinel", |m| reminders(m, &s1) >= 1)
        .await;
    for s in [&a, &b, &c] {
        assert_eq!(reminders(&app.messages(s).await, &e), 1);
    }
}

#[actix_web::test]
async fn reminders_fire_exactly_once_across_restarts() {
    let mut app = spawn_huddle().await;
    let creator = app.user("13800500010", "Creator").await;
    let member = app.user("13800500011", "Member").await;
    let sub = app.user("13800500012", "Sub").await;
    let sentinel = app.user("13800500013", "Sentinel").await;
    let t0 = app.clock_now();
    let first = id(
        &app.create_event(&creator, "First", t0 + 60_000, &[&member.uid])
            .await,
        "eventId",
    );
    let during_downtime = id(
        &app.create_event(&creator, "Downtime", t0 + 200_000, &[&member.uid])
            .await,
        "eventId",
    );
    let deleted = id(
        &app.create_event(&creator, "Deleted", t0 + 100_000, &[&member.uid])
            .await,
        "eventId",
    );
    for e in [&first, &during_downtime, &deleted] {
        app.post_as(&sub, &format!("/event/{e}/notify")).await.ok();
    }
    app.delete_as(&creator, &format!("/event/{deleted}"))
        .await
        .ok();

    // fires once, then a restart does not fire it again
    app.clock.advance(61_000);
    for s in [&member, &sub] {
        app.poll_messages(s, "the first reminder", |m| reminders(m, &first) >= 1)
            .await;
    }
    app.restart().await;
    let s1 = id(
        &app.create_event(&sentinel, "S1", app.clock_now() + 1_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(2_000);
    app.poll_messages(&sentinel, "sentinel 1", |m| reminders(m, &s1) >= 1)
        .await;
    for s in [&member, &sub] {
        assert_eq!(reminders(&app.messages(s).await, &first), 1);
    }

    // due while the server is down: fires once after the start
    app.stop_server().await;
    app.clock.advance(200_000);
    app.start_server().await;
    for s in [&member, &sub] {
        let msgs = app
            .poll_messages(s, "the reminder due during downtime", |m| {
                reminders(m, &during_downtime) >= 1
            })
            .await;
        assert_eq!(reminders(&msgs, &during_downtime), 1, "{msgs:#?}");
    }
    app.restart().await;
    let s2 = id(
        &app.create_event(&sentinel, "S2", app.clock_now() + 1_000, &[&sentinel.uid])
            .await,
        "eventId",
    );
    app.clock.advance(2_000);
    app.poll_messages(&sentinel, "sentinel 2", |m| reminders(m, &s2) >= 1)
        .await;
    for s in [&member, &sub] {
        let msgs = app.messages(s).await;
        assert_eq!(reminders(&msgs, &first), 1, "{msgs:#?}");
        assert_eq!(reminders(&msgs, &during_downtime), 1, "{msgs:#?}");
        assert_eq!(reminders(&msgs, &deleted), 0, "{msgs:#?}");
    }
}
