//! Events across nodes: a room's events reach members on every node as the
//! very same frames with one gap-free seq; an invite made through one node
//! reaches every socket of the invitee, on every node, exactly once; and how much
//! slower a cross-node delivery is than a same-node one.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

/// The next room event of `room` on `ws`.
async fn next_event(ws: &mut WsClient, room: &str) -> Frame {
    ws.take(|f| f["roomId"] == room && f["seq"].is_i64()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn room_events_reach_every_node_as_the_same_frames_with_one_gap_free_seq() {
    let Some(env) = gate("room_events_reach_every_node_as_the_same_frames_with_one_gap_free_seq")
    else {
        return;
    };
    let cluster = Cluster::start(&env, Spec::default()).await;
    let (a, b) = (cluster.a(), cluster.b());
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let ann = b.user(1, "Ann").await;
    let bob = a.user(2, "Bob").await;
    let cat = b.user(3, "Cat").await;
    b.join_club(&ann, &club).await;
    a.join_club(&bob, &club).await;
    b.join_club(&cat, &club).await;

    // the two observers: the host on A, Ann on B
    let (mut obs_a, host_seq) = a.member_socket(&host, &room).await;
    let (mut obs_b, ann_seq) = b.member_socket(&ann, &room).await;
    let ann_joined = next_event(&mut obs_a, &room).await;
    assert_eq!(
        ann_joined["type"], "room.member_joined",
        "{}",
        ann_joined.text
    );
    assert_eq!(ann_joined["member"]["uid"], ann.uid.as_str());
    assert_eq!(ann_joined["member"]["nickname"], "Ann");
    assert_eq!(
        ann_joined["seq"].as_i64(),
        Some(host_seq + 1),
        "a token taken on B is the next event of the room on A"
    );
    assert_eq!(ann_seq, host_seq + 1, "B's join ack carries the room's seq");

    // what happens, alternating nodes; each step is acknowledged before the next
    a.room_token(&bob, &room).await;
    b.room_token(&cat, &room).await;
    let mut ws_bob = a.ws(&bob).await;
    ws_bob.join(&room).await;
    let mut ws_cat = b.ws(&cat).await;
    ws_cat.join(&room).await;
    // both nodes list the same four members
    let mut on_a = a.room_members(&host, &room).await;
    let mut on_b = b.room_members(&ann, &room).await;
    on_a.sort();
    on_b.sort();
    let mut everyone = vec![
        host.uid.clone(),
        ann.uid.clone(),
        bob.uid.clone(),
        cat.uid.clone(),
    ];
    everyone.sort();
    assert_eq!(on_a, everyone, "GET /room on A");
    assert_eq!(on_b, everyone, "GET /room on B");

    ws_bob.ok("raise_hand", json!({ "roomId": room })).await;
    ws_cat.ok("raise_hand", json!({ "roomId": room })).await;
    ws_cat.ok("lower_hand", json!({ "roomId": room })).await;
    // a host control over REST on B while the host's socket is on A
    b.post_as(&host, &format!("/room/{room}/speaker/{}", bob.uid))
        .await
        .ok();
    // and back, over REST on A
    a.call(Method::DELETE, &format!("/room/{room}/speaker/{}", bob.uid))
        .user(&host)
        .send()
        .await
        .ok();
    ws_bob.ok("leave", json!({ "roomId": room })).await;
    // a kick over REST on A of a member whose socket is on B
    a.post_as(&host, &format!("/room/{room}/remove/{}", cat.uid))
        .await
        .ok();
    let detached = ws_cat
        .take(|f| f["type"] == "room.member_removed" && f["uid"] == cat.uid.as_str())
        .await;
    assert_eq!(detached["by"], host.uid.as_str(), "{}", detached.text);
    // removed on A, refused on B
    b.post_as(&cat, &format!("/room/{room}/token"))
        .await
        .forbidden();
    b.post_as(&host, &format!("/room/{room}/close")).await.ok();

    let closed = |f: &Frame| f["type"] == "room.closed";
    let seen_a = obs_a.room_events_until(&room, closed).await;
    let seen_b = obs_b.room_events_until(&room, closed).await;
    assert_gap_free("host on A", ann_seq, &seen_a);
    assert_gap_free("Ann on B", ann_seq, &seen_b);
    let expected = [
        ("room.member_joined", bob.uid.as_str()),
        ("room.member_joined", cat.uid.as_str()),
        ("room.hand_raised", bob.uid.as_str()),
        ("room.hand_raised", cat.uid.as_str()),
        ("room.hand_lowered", cat.uid.as_str()),
        ("room.speaker_added", bob.uid.as_str()),
        ("room.speaker_removed", bob.uid.as_str()),
        ("room.member_left", bob.uid.as_str()),
        ("room.member_removed", cat.uid.as_str()),
        ("room.closed", host.uid.as_str()),
    ];
    let kinds: Vec<(String, String)> = seen_a
        .iter()
        .map(|f| {
            let who = if f["type"] == "room.member_joined" {
                &f["member"]["uid"]
            } else if f["type"] == "room.closed" {
                &f["by"]
            } else {
                &f["uid"]
            };
            (
                f["type"].as_str().unwrap_or("").to_owned(),
                who.as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(t, u)| ((*t).to_owned(), (*u).to_owned()))
        .collect();
    assert_eq!(
        kinds, want,
        "the room's events in order, as the host on A saw them"
    );
    for f in seen_a.iter().filter(|f| f["type"] == "room.member_left") {
        assert_eq!(f["reason"], "left", "{}", f.text);
    }
    for (x, y) in seen_a.iter().zip(&seen_b) {
        assert_eq!(x.v, y.v, "A and B got different events for one seq");
        assert_eq!(x.text, y.text, "A and B got different frame text");
    }
    // the members saw the same frames too
    let bob_hand = ws_bob
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == cat.uid.as_str())
        .await;
    assert_eq!(bob_hand.text, seen_a[3].text, "Bob on A, Cat's hand from B");

    // the room is gone on both nodes
    for (node, s) in [(a, &ann), (b, &bob)] {
        node.post_as(s, &format!("/room/{room}/token"))
            .await
            .business(400_000);
        node.get_as(s, &format!("/room/{room}"))
            .await
            .business(400_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invite_reaches_every_socket_of_the_invitee_on_every_node_exactly_once() {
    let Some(env) =
        gate("an_invite_reaches_every_socket_of_the_invitee_on_every_node_exactly_once")
    else {
        return;
    };
    let cluster = Cluster::start(
        &env,
        Spec {
            nodes: 3,
            ..Spec::default()
        },
    )
    .await;
    let (a, b, c) = (cluster.a(), cluster.b(), cluster.c());
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let ivy = b.user(1, "Ivy").await;
    let sam = b.user(2, "Sam").await;
    b.join_club(&ivy, &club).await;
    c.join_club(&sam, &club).await;
    let (_host_ws, _) = a.member_socket(&host, &room).await;
    // Ivy has a phone on B, a tablet on C and a laptop on A (where the
    // invite is made); Sam, a bystander, is on B
    let mut phone = b.ws(&ivy).await;
    let mut tablet = c.ws(&ivy).await;
    let mut laptop = a.ws(&ivy).await;
    let mut bystander = b.ws(&sam).await;

    let res = a
        .post_as(&host, &format!("/room/{room}/invite/{}", ivy.uid))
        .await;
    res.ok();
    assert_eq!(res.body["message"], "邀请成功");

    for ws in [&mut phone, &mut tablet, &mut laptop] {
        let node = ws.node.clone();
        let invited = ws.next_of("room.invited").await;
        assert_eq!(invited["roomId"], room.as_str(), "on {node}");
        assert_eq!(invited["roomName"], "Live", "on {node}");
        assert_eq!(invited["inviter"]["uid"], host.uid.as_str(), "on {node}");
        assert_eq!(invited["inviter"]["nickname"], "Host", "on {node}");
        let message = ws.next_of("message.new").await;
        assert_eq!(message["unreadTotal"], 1, "on {node}: {}", message.text);
        assert_eq!(
            message["message"]["messageBody"]["url"],
            format!("chaoqer://room/{room}"),
            "on {node}: {}",
            message.text
        );
        // nothing more: not a second copy from another node
        let more = ws.drain_for(1_500).await;
        let dupes: Vec<&String> = more
            .iter()
            .filter(|f| f["type"] == "room.invited" || f["type"] == "message.new")
            .map(|f| &f.text)
            .collect();
        assert!(dupes.is_empty(), "on {node}: delivered again: {dupes:#?}");
    }
    let others = bystander.texts_for(200, |_| true).await;
    assert!(others.is_empty(), "Sam got Ivy's invite: {others:#?}");
    // the inbox, read through a third node, holds it once
    let inbox = c
        .get("/user/message")
        .user(&ivy)
        .param("count", 20)
        .send()
        .await;
    let list = inbox.ok()["list"].as_array().cloned().unwrap_or_default();
    let invites = list
        .iter()
        .filter(|i| {
            i["userMessageResult"]["messageBody"]["url"] == format!("chaoqer://room/{room}")
        })
        .count();
    assert_eq!(invites, 1, "{}", inbox.text);
}

/// Hand toggles by `mover`, timed from the op's send to each listener's
/// receipt; the listeners must get the same frame with the next seq.
async fn time_toggles(
    room: &str,
    mover: &Session,
    ws_mover: &mut WsClient,
    listeners: &mut [&mut WsClient],
    mut seq: i64,
    count: usize,
) -> Vec<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(count); listeners.len()];
    for i in 0..count {
        let (op, kind) = if i % 2 == 0 {
            ("raise_hand", "room.hand_raised")
        } else {
            ("lower_hand", "room.hand_lowered")
        };
        let sent = std::time::Instant::now();
        let id = ws_mover.send_op(op, json!({ "roomId": room })).await;
        seq += 1;
        let mut text: Option<String> = None;
        for (listener, times) in listeners.iter_mut().zip(times.iter_mut()) {
            let f = next_event(listener, room).await;
            assert_eq!(f["type"], kind, "{}", f.text);
            assert_eq!(f["uid"], mover.uid.as_str(), "{}", f.text);
            assert_eq!(f["seq"].as_i64(), Some(seq), "gap-free: {}", f.text);
            if let Some(t) = &text {
                assert_eq!(&f.text, t, "the same frame everywhere");
            }
            text = Some(f.text.clone());
            times.push(f.at.duration_since(sent));
        }
        let ack = ws_mover
            .take(|f| f["id"] == id && (f["type"] == "ack" || f["type"] == "error"))
            .await;
        assert_eq!(ack["type"], "ack", "{}", ack.text);
        ws_mover.clear();
    }
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cross_node_delivery_latency_is_measured_against_same_node() {
    let Some(env) = gate("cross_node_delivery_latency_is_measured_against_same_node") else {
        return;
    };
    const TOGGLES: usize = 200;
    const WARMUP: usize = 10;

    // Baseline: one node on the embedded bus (no Redis), same database kind.
    let single = Cluster::start(
        &env,
        Spec {
            nodes: 1,
            redis: false,
            ..Spec::default()
        },
    )
    .await;
    let solo = single.a();
    let (_host, club, room) = single.hosted_room(0, 0).await;
    let mover = solo.user(1, "Mover").await;
    let near = solo.user(2, "Near").await;
    solo.join_club(&mover, &club).await;
    solo.join_club(&near, &club).await;
    let (mut ws_mover, _) = solo.member_socket(&mover, &room).await;
    let (mut ws_near, near_seq) = solo.member_socket(&near, &room).await;
    ws_mover.clear();
    let mut embedded = time_toggles(
        &room,
        &mover,
        &mut ws_mover,
        &mut [&mut ws_near],
        near_seq,
        WARMUP + TOGGLES,
    )
    .await
    .remove(0)
    .split_off(WARMUP);
    drop(single);

    let cluster = Cluster::start(&env, Spec::default()).await;
    let (a, b) = (cluster.a(), cluster.b());
    let (_host, club, room) = cluster.hosted_room(0, 0).await;
    let mover = a.user(1, "Mover").await;
    let near = a.user(2, "Near").await;
    let far = b.user(3, "Far").await;
    a.join_club(&mover, &club).await;
    a.join_club(&near, &club).await;
    b.join_club(&far, &club).await;
    let (mut ws_mover, _) = a.member_socket(&mover, &room).await;
    let (mut ws_near, _) = a.member_socket(&near, &room).await;
    let (mut ws_far, far_seq) = b.member_socket(&far, &room).await;
    // the near listener catches up to the far one's join
    let caught_up = ws_near
        .room_events_until(&room, |f| f["seq"].as_i64() == Some(far_seq))
        .await;
    assert_eq!(
        caught_up.last().map(|f| f["member"]["uid"].clone()),
        Some(json!(far.uid)),
        "A saw B's member join as seq {far_seq}"
    );
    ws_mover.clear();
    let mut times = time_toggles(
        &room,
        &mover,
        &mut ws_mover,
        &mut [&mut ws_near, &mut ws_far],
        far_seq,
        WARMUP + TOGGLES,
    )
    .await;
    let mut cross_node = times.remove(1).split_off(WARMUP);
    let mut same_node = times.remove(0).split_off(WARMUP);

    let (cross_median, cross_p99) = median_p99(&mut cross_node);
    let (same_median, same_p99) = median_p99(&mut same_node);
    let (solo_median, solo_p99) = median_p99(&mut embedded);
    eprintln!(
        "cluster-latency: cross-node median={cross_median:.2}ms p99={cross_p99:.2}ms; \
         same-node (via Redis) median={same_median:.2}ms p99={same_p99:.2}ms; \
         single node without Redis median={solo_median:.2}ms p99={solo_p99:.2}ms \
         (n={TOGGLES} hand toggles each)"
    );
    let limit = Duration::from_secs(1).as_secs_f64() * 1000.0;
    for (what, p99) in [
        ("cross-node", cross_p99),
        ("same-node", same_p99),
        ("single node", solo_p99),
    ] {
        assert!(p99 < limit, "{what} p99 {p99:.1} ms");
    }
}
