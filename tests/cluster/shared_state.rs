//! State the nodes share through Redis, seen by clients: a room's recent
//! events (a member who comes back on another node `resume`s there and gets
//! exactly what it missed, or a snapshot when the gap is out of the window),
//! who is online (an inbox message is pushed once by the cluster when the
//! user has no socket on any node, and not at all when a node holds one), and
//! the cache (a signed request is a replay on every node once one node took
//! it; a captcha code sent through one node logs in through another, once).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

/// Events a room keeps for `resume` in the resume test (small, to reach the edge).
const HISTORY: i64 = 16;

/// The room events of `room` on `ws` until (and with) seq `last`.
async fn events_through(ws: &mut WsClient, room: &str, last: i64) -> Vec<Frame> {
    ws.room_events_until(room, |f| f["seq"].as_i64() >= Some(last))
        .await
}

/// Sends `resume` on `ws` and returns the frame right after (it must be the
/// ack: nothing may come before it).
async fn resume(ws: &mut WsClient, room: &str, last_seq: i64) -> (Value, Frame) {
    let id = ws
        .send_op("resume", json!({ "roomId": room, "lastSeq": last_seq }))
        .await;
    let first = ws.take(|_| true).await;
    (id, first)
}

/// The next `n` frames on `ws`, whatever they are, in arrival order.
async fn next_frames(ws: &mut WsClient, n: usize) -> Vec<Frame> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(ws.take(|_| true).await);
    }
    out
}

/// Asserts a `recovered: false` ack of a resume: the room now, its seq now.
#[track_caller]
fn assert_snapshot(ack: &Frame, id: &Value, room: &str, seq: i64, members: &[&Session]) {
    assert_eq!(ack["type"], "ack", "{}", ack.text);
    assert_eq!(ack["op"], "resume", "{}", ack.text);
    assert_eq!(&ack["id"], id, "{}", ack.text);
    assert_eq!(ack["roomId"], room, "{}", ack.text);
    assert_eq!(ack["recovered"], false, "{}", ack.text);
    assert_eq!(ack["seq"].as_i64(), Some(seq), "the seq now: {}", ack.text);
    assert!(
        ack.get("replayed").is_none(),
        "no replayed without recovery: {}",
        ack.text
    );
    let got: BTreeSet<&str> = ack["room"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("a room snapshot with members: {}", ack.text))
        .iter()
        .map(|m| m["uid"].as_str().unwrap_or(""))
        .collect();
    let want: BTreeSet<&str> = members.iter().map(|s| s.uid.as_str()).collect();
    assert_eq!(got, want, "the snapshot's members: {}", ack.text);
    assert_eq!(ack["room"]["roomId"], room, "{}", ack.text);
}

/// `uid`'s `handRaised` in a snapshot.
fn hand_in(ack: &Frame, uid: &str) -> i64 {
    ack["room"]["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["uid"] == uid))
        .and_then(|m| m["handRaised"].as_i64())
        .unwrap_or_else(|| panic!("{uid} with handRaised in {}", ack.text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resume_on_another_node_replays_exactly_the_missed_events() {
    let Some(env) = gate("resume_on_another_node_replays_exactly_the_missed_events") else {
        return;
    };
    let cluster = Cluster::start(
        &env,
        Spec {
            nodes: 3,
            grace_ms: 20_000,
            extra_env: vec![("HUDDLE_ROOM_HISTORY_EVENTS".to_owned(), HISTORY.to_string())],
            ..Spec::default()
        },
    )
    .await;
    let (a, b, c) = (cluster.a(), cluster.b(), cluster.c());
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let ann = b.user(1, "Ann").await;
    let max = a.user(2, "Max").await;
    let cat = a.user(3, "Cat").await;
    b.join_club(&ann, &club).await;
    a.join_club(&max, &club).await;
    a.join_club(&cat, &club).await;

    // the listener on A (the host), Ann on B, Max on A
    let (mut obs_a, _) = a.member_socket(&host, &room).await;
    let (mut ws_ann, _) = b.member_socket(&ann, &room).await;
    let (mut ws_max, max_joined) = a.member_socket(&max, &room).await;
    ws_ann.ok("raise_hand", json!({ "roomId": room })).await;
    let seen = ws_max
        .room_events_until(&room, |f| {
            f["type"] == "room.hand_raised" && f["uid"] == ann.uid.as_str()
        })
        .await;
    let last_seen = seen.last().and_then(|f| f["seq"].as_i64()).expect("a seq");
    assert_eq!(
        last_seen,
        max_joined + 1,
        "Ann's hand right after Max joined"
    );
    events_through(&mut obs_a, &room, last_seen).await;

    // Max's phone loses the connection; meanwhile, on A and on B:
    ws_max.close().await;
    ws_ann.ok("lower_hand", json!({ "roomId": room })).await; // B
    let (mut ws_cat, _) = a.member_socket(&cat, &room).await; // A: a join
    ws_cat.ok("raise_hand", json!({ "roomId": room })).await; // A
    b.post(&format!("/room/{room}/speaker/{}", cat.uid)) // REST on B
        .user(&host)
        .send()
        .await
        .ok();
    ws_ann.ok("raise_hand", json!({ "roomId": room })).await; // B
    let missed = obs_a
        .room_events_until(&room, |f| {
            f["type"] == "room.hand_raised" && f["uid"] == ann.uid.as_str()
        })
        .await;
    assert_gap_free("the listener on A", last_seen, &missed);
    let kinds: Vec<(&str, &str)> = missed
        .iter()
        .map(|f| {
            let who = if f["type"] == "room.member_joined" {
                &f["member"]["uid"]
            } else {
                &f["uid"]
            };
            (f["type"].as_str().unwrap_or(""), who.as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("room.hand_lowered", ann.uid.as_str()),
            ("room.member_joined", cat.uid.as_str()),
            ("room.hand_raised", cat.uid.as_str()),
            ("room.speaker_added", cat.uid.as_str()),
            ("room.hand_raised", ann.uid.as_str()),
        ],
        "what Max missed, as the listener on A saw it (Max's own drop is no event)"
    );
    let k = missed.len();
    let s = last_seen + i64::try_from(k).expect("few");

    // back within the grace period, on B
    let mut back = b.ws(&max).await;
    let (id, ack) = resume(&mut back, &room, last_seen).await;
    assert_eq!(
        ack["type"], "ack",
        "the first frame answers the resume: {}",
        ack.text
    );
    assert_eq!(ack["op"], "resume", "{}", ack.text);
    assert_eq!(ack["id"], id, "{}", ack.text);
    assert_eq!(ack["roomId"], room.as_str(), "{}", ack.text);
    assert_eq!(ack["recovered"], true, "{}", ack.text);
    assert_eq!(ack["replayed"].as_u64(), Some(k as u64), "{}", ack.text);
    assert_eq!(ack["seq"].as_i64(), Some(s), "{}", ack.text);
    assert!(
        ack.get("room").is_none(),
        "no snapshot when recovered: {}",
        ack.text
    );
    let replayed = next_frames(&mut back, k).await;
    assert_gap_free("the replay on B", last_seen, &replayed);
    for (got, want) in replayed.iter().zip(&missed) {
        assert_eq!(
            got.text, want.text,
            "the replay on B is the very frame the listener on A got"
        );
    }
    // then live, from S+1, the same frame everywhere
    ws_ann.ok("lower_hand", json!({ "roomId": room })).await;
    let live_b = back.take(|_| true).await;
    assert_eq!(live_b["seq"].as_i64(), Some(s + 1), "{}", live_b.text);
    let live_a = events_through(&mut obs_a, &room, s + 1).await;
    assert_eq!(live_a.len(), 1, "{:?}", seqs(&live_a));
    assert_eq!(live_b.text, live_a[0].text);
    // Max kept his place: his hand works without a new token, and he is listed
    let raised = back.ok("raise_hand", json!({ "roomId": room })).await;
    assert_eq!(raised["changed"], true, "{}", raised.text);
    let mine = back
        .take(|f| f["roomId"] == room.as_str() && f["seq"].is_i64())
        .await;
    assert_eq!(mine["seq"].as_i64(), Some(s + 2), "{}", mine.text);
    assert_eq!(mine["type"], "room.hand_raised", "{}", mine.text);
    assert_eq!(mine["uid"], max.uid.as_str(), "{}", mine.text);
    let extra = back.texts_for(300, |_| true).await;
    assert!(extra.is_empty(), "nothing twice on B: {extra:#?}");
    let members = b.room_members(&ann, &room).await;
    assert!(
        members.contains(&max.uid),
        "Max is still listed: {members:?}"
    );
    let on_a = events_through(&mut obs_a, &room, s + 2).await;
    assert!(
        on_a.iter().all(|f| f["type"] != "room.member_left"),
        "Max never left: {:?}",
        on_a.iter().map(|f| &f.text).collect::<Vec<_>>()
    );
    let now = s + 2;
    let everyone = [&host, &ann, &max, &cat];

    // a lastSeq the room never had: a snapshot, and nothing replayed
    let mut tablet = b.ws(&max).await;
    let (id, ack) = resume(&mut tablet, &room, now + 1_000).await;
    assert_snapshot(&ack, &id, &room, now, &everyone);
    assert_eq!(hand_in(&ack, &max.uid), 1, "{}", ack.text);
    assert_eq!(hand_in(&ack, &ann.uid), 0, "{}", ack.text);
    let after = tablet.texts_for(300, |_| true).await;
    assert!(after.is_empty(), "no frames after a snapshot: {after:#?}");

    // Max goes away again; the room moves on past its window
    back.close().await;
    tablet.close().await;
    let toggles = HISTORY + 5; // odd: Ann's hand ends up raised
    for i in 0..toggles {
        let op = if i % 2 == 0 {
            "raise_hand"
        } else {
            "lower_hand"
        };
        ws_ann.ok(op, json!({ "roomId": room })).await;
    }
    let last = now + toggles;
    let recent = events_through(&mut obs_a, &room, last).await;
    assert_gap_free("the toggles on A", now, &recent);
    assert_eq!(recent.len() as i64, toggles);

    // on C, which never had the room: the history comes from Redis.
    // The oldest lastSeq still inside the window replays the whole window …
    let edge = last - HISTORY;
    let mut cold = c.ws(&max).await;
    let (id, ack) = resume(&mut cold, &room, edge).await;
    assert_eq!(ack["type"], "ack", "{}", ack.text);
    assert_eq!(ack["id"], id, "{}", ack.text);
    assert_eq!(ack["recovered"], true, "lastSeq {edge}: {}", ack.text);
    assert_eq!(ack["replayed"].as_i64(), Some(HISTORY), "{}", ack.text);
    assert_eq!(ack["seq"].as_i64(), Some(last), "{}", ack.text);
    let replayed = next_frames(&mut cold, usize::try_from(HISTORY).expect("small")).await;
    let window = &recent[recent.len() - replayed.len()..];
    for (got, want) in replayed.iter().zip(window) {
        assert_eq!(got.text, want.text, "the replay on C is what A got");
    }
    cold.close().await;
    // … one before it is out: a snapshot
    let mut cold = c.ws(&max).await;
    let (id, ack) = resume(&mut cold, &room, edge - 1).await;
    assert_snapshot(&ack, &id, &room, last, &everyone);
    cold.close().await;
    // and where Max really was (older than the window): a snapshot of now
    let mut cold = c.ws(&max).await;
    let (id, ack) = resume(&mut cold, &room, now).await;
    assert_snapshot(&ack, &id, &room, last, &everyone);
    assert_eq!(hand_in(&ack, &ann.uid), 1, "Ann's hand now: {}", ack.text);
    assert_eq!(hand_in(&ack, &max.uid), 1, "{}", ack.text);
    let after = cold.texts_for(300, |_| true).await;
    assert!(after.is_empty(), "no frames after a snapshot: {after:#?}");
    // and live events reach C from the next seq
    ws_ann.ok("lower_hand", json!({ "roomId": room })).await;
    let live_c = cold.take(|f| f["roomId"] == room.as_str()).await;
    assert_eq!(live_c["seq"].as_i64(), Some(last + 1), "{}", live_c.text);
    assert_eq!(live_c["type"], "room.hand_lowered", "{}", live_c.text);
    cold.close().await;
    let last = last + 1;

    // resuming while the room is busy: replay and live meet without a gap or
    // a repeat (Ann toggles from B while Max resumes on A)
    let toggles = 40;
    let busy_room = room.clone();
    let toggler = tokio::spawn(async move {
        for i in 0..toggles {
            let op = if i % 2 == 0 {
                "raise_hand"
            } else {
                "lower_hand"
            };
            ws_ann.send_op(op, json!({ "roomId": busy_room })).await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        for _ in 0..toggles {
            let ack = ws_ann.take(|f| f["op"].is_string()).await;
            assert_eq!(ack["type"], "ack", "{}", ack.text);
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut busy = a.ws(&max).await;
    let (_, ack) = resume(&mut busy, &room, last).await;
    toggler.await.expect("the toggles");
    let end = last + toggles;
    assert_eq!(ack["type"], "ack", "{}", ack.text);
    let from = if ack["recovered"] == true {
        last
    } else {
        ack["seq"].as_i64().expect("the seq now")
    };
    let stream = events_through(&mut busy, &room, end).await;
    assert_gap_free("replay then live on A", from, &stream);
    assert_eq!(
        stream.last().and_then(|f| f["seq"].as_i64()),
        Some(end),
        "{:?}",
        seqs(&stream)
    );
    let on_a = events_through(&mut obs_a, &room, end).await;
    let tail = &on_a[on_a.len() - stream.len()..];
    for (got, want) in stream.iter().zip(tail) {
        assert_eq!(got.text, want.text, "the same frames as the listener on A");
    }
    let extra = busy.texts_for(300, |_| true).await;
    assert!(extra.is_empty(), "nothing twice: {extra:#?}");
}

/// The host invites `whom` into `room` through `node`.
async fn invite(node: &Node, room: &str, host: &Session, whom: &Session) {
    let res = node
        .post_as(host, &format!("/room/{room}/invite/{}", whom.uid))
        .await;
    res.ok();
    assert_eq!(res.body["message"], "邀请成功", "{}", res.text);
}

/// JPush pushes addressed to `registration_id`.
fn pushes_to(jpush: &FakeService, registration_id: &str) -> Vec<Seen> {
    jpush
        .requests("/v3/push")
        .into_iter()
        .filter(|r| {
            r.json()["audience"]["registration_id"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == registration_id))
        })
        .collect()
}

/// Waits for a push to `registration_id`, lets 1.5 s pass for any duplicate
/// (another node pushing too), and answers the one push there must be.
async fn the_one_push(jpush: &FakeService, registration_id: &str, who: &str) -> Seen {
    assert!(
        eventually(WAIT, || async {
            !pushes_to(jpush, registration_id).is_empty()
        })
        .await,
        "{who} gets a push"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut pushes = pushes_to(jpush, registration_id);
    assert_eq!(
        pushes.len(),
        1,
        "{who}: one push for the cluster, not one per node: {:#?}",
        pushes.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    pushes.remove(0)
}

/// Asserts one JPush request: to exactly `registration_id` on `platform`,
/// showing an invite to `room`, with the iOS badge `badge`.
#[track_caller]
fn assert_invite_push(push: &Seen, registration_id: &str, platform: &str, room: &str, badge: i64) {
    let body = push.json();
    assert_eq!(push.method, "POST", "{}", push.body);
    assert_eq!(
        push.header("authorization"),
        Some("Basic N2Q0MzFlNDJkZmE2YTZkNjkzYWMyZDA0OjVlOTg3YWM2ZDJlMDRkOTVhOWQ4ZjBkMQ=="),
        "appKey:masterSecret"
    );
    assert_eq!(body["platform"], json!([platform]), "{}", push.body);
    assert_eq!(
        body["audience"]["registration_id"],
        json!([registration_id]),
        "{}",
        push.body
    );
    let n = &body["notification"];
    assert_eq!(n["android"]["title"], "有人邀请你参加活动", "{}", push.body);
    assert_eq!(
        n["android"]["alert"], "Host 邀请你加入「Live」",
        "{}",
        push.body
    );
    assert_eq!(n["alert"], "Host 邀请你加入「Live」", "{}", push.body);
    assert_eq!(
        n["android"]["extras"]["url"],
        format!("chaoqer://room/{room}"),
        "{}",
        push.body
    );
    assert_eq!(n["ios"]["badge"], badge, "{}", push.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_users_are_pushed_once_by_the_cluster_and_online_ones_are_not() {
    let Some(env) = gate("offline_users_are_pushed_once_by_the_cluster_and_online_ones_are_not")
    else {
        return;
    };
    let jpush = FakeService::answering(Reply::json_text(
        200,
        r#"{"sendno":"0","msg_id":"54043192223"}"#,
    ))
    .await;
    let cluster = Cluster::start(
        &env,
        Spec {
            extra_env: env_vars([
                ("HUDDLE_PUSH_PROVIDER", "jpush".to_owned()),
                (
                    "HUDDLE_JPUSH_APP_KEY",
                    "7d431e42dfa6a6d693ac2d04".to_owned(),
                ),
                (
                    "HUDDLE_JPUSH_MASTER_SECRET",
                    "5e987ac6d2e04d95a9d8f0d1".to_owned(),
                ),
                ("HUDDLE_JPUSH_BASE_URL", jpush.url()),
            ]),
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (cluster.a(), cluster.b());
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let xia = b.user(1, "Xia").await;
    let yan = a.user(2, "Yan").await;
    b.join_club(&xia, &club).await;
    a.join_club(&yan, &club).await;
    // Xia's Android phone binds through B, Yan's iPhone through A
    let (xia_id, yan_id) = ("160a3797c8e7f1a2b3c", "1a0018970a5a1b2c3d4");
    b.post(&format!("/push/{xia_id}"))
        .user(&xia)
        .header("Client-Type", "2")
        .send()
        .await
        .ok();
    a.post(&format!("/push/{yan_id}"))
        .user(&yan)
        .header("Client-Type", "1")
        .send()
        .await
        .ok();

    // Xia is online on B only; the invite is made through A
    let channel = format!("huddle:user:{}", xia.uid);
    let mut phone = b.ws(&xia).await;
    assert!(
        eventually(WAIT, || async {
            cluster.redis.subscribers(&channel).await == 1
        })
        .await,
        "B subscribes to Xia's channel while it holds her socket"
    );
    invite(a, &room, &host, &xia).await;
    let invited = phone.next_of("room.invited").await;
    assert_eq!(invited["roomId"], room.as_str(), "{}", invited.text);
    let message = phone.next_of("message.new").await;
    assert_eq!(message["unreadTotal"], 1, "{}", message.text);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let wrong: Vec<String> = jpush
        .requests("/v3/push")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert!(
        wrong.is_empty(),
        "Xia was online on B: no push at all: {wrong:#?}"
    );

    // Xia closes the app: B lets go of her channel; the next invite is pushed once
    phone.close().await;
    assert!(
        eventually(WAIT, || async {
            cluster.redis.subscribers(&channel).await == 0
        })
        .await,
        "B released Xia's channel after her last socket closed"
    );
    invite(a, &room, &host, &xia).await;
    let to_xia = the_one_push(&jpush, xia_id, "Xia, offline everywhere").await;
    assert_invite_push(&to_xia, xia_id, "android", &room, 2);

    // Yan never had a socket: an invite through B is pushed once too
    invite(b, &room, &host, &yan).await;
    let to_yan = the_one_push(&jpush, yan_id, "Yan, never online").await;
    assert_invite_push(&to_yan, yan_id, "ios", &room, 1);
    assert_eq!(
        jpush.requests("/v3/push").len(),
        2,
        "two pushes in all (Xia's second invite, Yan's)"
    );
    // the inbox holds every invite, read through the other node
    let unread = a.get("/user/message/unread_total").user(&xia).send().await;
    assert_eq!(unread.ok(), &json!(2), "{}", unread.text);
}

/// The code of the newest SMS the gateway got for `mobile`.
fn last_code(sms: &FakeService, mobile: &str) -> Option<String> {
    sms.requests("/sms/send").iter().rev().find_map(|r| {
        let v = r.json();
        (v["mobile"] == mobile).then(|| v["code"].as_str().unwrap_or_default().to_owned())
    })
}

/// SMS the gateway got for `mobile`.
fn sms_count(sms: &FakeService, mobile: &str) -> usize {
    sms.requests("/sms/send")
        .iter()
        .filter(|r| r.json()["mobile"] == mobile)
        .count()
}

/// `POST /account/login/captcha` through `node`.
async fn login(node: &Node, mobile: &str, code: &str) -> Resp {
    node.post("/account/login/captcha")
        .param("mobile", mobile)
        .param("captcha", code)
        .send()
        .await
}

/// Asserts the business failure the app shows as `message` (status 0, result 0).
#[track_caller]
fn assert_refused(res: &Resp, message: &str) {
    assert_eq!(
        res.body,
        json!({ "result": 0, "message": message, "status": 0 }),
        "HTTP {}: {}",
        res.status,
        res.text
    );
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_signing_replay_window_and_captcha_codes_are_shared_by_the_nodes() {
    let Some(env) = gate("the_signing_replay_window_and_captcha_codes_are_shared_by_the_nodes")
    else {
        return;
    };
    let sms = FakeService::answering(Reply::json_text(200, r#"{"ok":true}"#)).await;
    let cluster = Cluster::start(
        &env,
        Spec {
            extra_env: env_vars([
                ("HUDDLE_SMS_PROVIDER", "http".to_owned()),
                ("HUDDLE_SMS_HTTP_URL", format!("{}/sms/send", sms.url())),
                ("HUDDLE_SMS_HTTP_AUTH", "Bearer sms-test-key".to_owned()),
            ]),
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (cluster.a(), cluster.b());
    let replayed =
        json!({ "result": -1, "message": "短时间内重复调用(直接忽略请求)", "status": 0 });

    // (a) one signed request: taken by A, a replay on B (and on A)
    let ann = a.user(0, "Ann").await;
    let bob = b.user(1, "Bob").await;
    let profile = a
        .get(&format!("/user/{}/profile", bob.uid))
        .user(&ann)
        .signed_once();
    let first = profile.send_to(a).await;
    assert_eq!(first.ok()["nickname"], "Bob", "{}", first.text);
    for node in [b, a] {
        let again = profile.send_to(node).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.body, replayed, "the same sign on node {}", node.id);
    }
    // a signed socket URL, used on A, is refused on B (a leaked URL is no login)
    let url = a.ws_url(&ann);
    let mut first_socket = WsClient::try_connect(&url, "a")
        .await
        .unwrap_or_else(|r| panic!("the fresh URL on A: HTTP {}: {}", r.status, r.body));
    let elsewhere = url.replacen(&a.addr.to_string(), &b.addr.to_string(), 1);
    match WsClient::try_connect(&elsewhere, "b").await {
        Ok(_) => panic!("the URL used on A opened a socket on B"),
        Err(refused) => {
            let body = &refused.body;
            assert_eq!(refused.status, 401, "{body}");
            assert_eq!(body["status"], 0, "{body}");
        }
    }
    first_socket.close().await;
    // a request with side effects, first through B: the replay through A is not executed
    let mobile = "13700000001";
    let send_code = a
        .post("/account/captcha")
        .param("mobile", mobile)
        .signed_once();
    let sent = send_code.send_to(b).await;
    assert_eq!(sent.ok(), &json!({}), "{}", sent.text);
    assert_eq!(sent.body["message"], "验证码已发送，请注意查收");
    let again = send_code.send_to(a).await;
    assert_eq!(again.body, replayed, "{}", again.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sms_count(&sms, mobile), 1, "the replay sent no second SMS");

    // (b) the code sent through B logs in through A, once
    let code = last_code(&sms, mobile).expect("the gateway got the code");
    assert_eq!(code.len(), 6, "{code}");
    let seen = &sms.requests("/sms/send")[0];
    assert_eq!(seen.header("authorization"), Some("Bearer sms-test-key"));
    // a new code for the same number within a minute: refused on every node
    let too_soon = a
        .post("/account/captcha")
        .param("mobile", mobile)
        .send()
        .await;
    assert_refused(&too_soon, "验证码发送过于频繁，请60秒后再试");
    let res = login(a, mobile, &code).await;
    let r = res.ok();
    let uid = id(r, "uid");
    assert!(r["accessToken"].is_string(), "{}", res.text);
    assert_eq!(res.body["message"], "注册成功", "{}", res.text);
    // used: refused through either node
    for node in [b, a] {
        let reuse = login(node, mobile, &code).await;
        assert_refused(&reuse, "验证码已失效，请重新获取");
    }
    assert!(!uid.is_empty());

    // one code, logins racing through both nodes: exactly one gets in
    let mobile = "13700000003";
    b.post("/account/captcha")
        .param("mobile", mobile)
        .send()
        .await
        .ok();
    let code = last_code(&sms, mobile).expect("the third number's code");
    let tries = [a, b, a, b, a, b, a, b]
        .into_iter()
        .map(|node| login(node, mobile, &code));
    let answers = futures_util::future::join_all(tries).await;
    let winners: Vec<&Resp> = answers.iter().filter(|r| r.is_ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "one code, one login: {:#?}",
        answers.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for res in answers.iter().filter(|r| !r.is_ok()) {
        assert_refused(res, "验证码已失效，请重新获取");
    }

    // wrong tries are counted across nodes: the fifth burns the code
    let mobile = "13700000002";
    a.post("/account/captcha")
        .param("mobile", mobile)
        .send()
        .await
        .ok();
    let code = last_code(&sms, mobile).expect("the second number's code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for node in [b, a, b, a] {
        assert_refused(&login(node, mobile, wrong).await, "验证码错误");
    }
    assert_refused(
        &login(b, mobile, wrong).await,
        "验证码错误次数过多，请重新获取",
    );
    let late = login(a, mobile, &code).await;
    assert_refused(&late, "验证码已失效，请重新获取");
}
