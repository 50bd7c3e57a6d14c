//! Failures: a node killed with SIGKILL (its room members time out once, seen
//! from the surviving nodes), Redis going away and coming back (nodes report
//! not ready, REST and sockets keep working, cross-node events resume), and
//! PostgreSQL cut off by a proxy (503 fast, sockets up, recovery without a
//! restart).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

/// The next room event of `room` on `ws`, waiting up to `within`.
async fn event_within(ws: &mut WsClient, room: &str, within: Duration) -> Option<Frame> {
    ws.take_within(within, |f| f["roomId"] == room && f["seq"].is_i64())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_of_a_killed_node_leave_once_after_the_grace_period() {
    let Some(env) = gate("members_of_a_killed_node_leave_once_after_the_grace_period") else {
        return;
    };
    const GRACE_MS: u64 = 2_000;
    let mut cluster = Cluster::start(
        &env,
        Spec {
            nodes: 3,
            grace_ms: GRACE_MS,
            tick_ms: 200,
            ..Spec::default()
        },
    )
    .await;
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let (a, b, c) = (cluster.a(), cluster.b(), cluster.c());
    let wes = c.user(1, "Wes").await;
    let xia = b.user(2, "Xia").await;
    let yan = b.user(3, "Yan").await;
    c.join_club(&wes, &club).await;
    b.join_club(&xia, &club).await;
    b.join_club(&yan, &club).await;
    let (mut obs_a, _) = a.member_socket(&host, &room).await;
    let (mut obs_c, _) = c.member_socket(&wes, &room).await;
    let (mut ws_x, _) = b.member_socket(&xia, &room).await;
    let (_ws_y, y_seq) = b.member_socket(&yan, &room).await;
    // B works before it dies: Xia's hand reaches A and C
    ws_x.ok("raise_hand", json!({ "roomId": room })).await;
    for obs in [&mut obs_a, &mut obs_c] {
        let node = obs.node.clone();
        let hand = obs
            .take(|f| f["type"] == "room.hand_raised" && f["uid"] == xia.uid.as_str())
            .await;
        assert_eq!(hand["seq"].as_i64(), Some(y_seq + 1), "on {node}");
        obs.clear();
    }
    let before = y_seq + 1;

    let killed = Instant::now();
    cluster.nodes[1].kill();
    let (a, c) = (cluster.a(), cluster.c());

    let gone: BTreeSet<String> = [xia.uid.clone(), yan.uid.clone()].into();
    let mut seen = Vec::new();
    for obs in [&mut obs_a, &mut obs_c] {
        let node = obs.node.clone();
        let mut events = Vec::new();
        let mut left = BTreeSet::new();
        while left != gone {
            let f = event_within(obs, &room, Duration::from_secs(20))
                .await
                .unwrap_or_else(|| {
                    panic!(
                        "on {node}: B's members did not leave within 20 s of the kill; \
                         events so far: {:#?}",
                        events.iter().map(|f: &Frame| &f.text).collect::<Vec<_>>()
                    )
                });
            assert_eq!(f["type"], "room.member_left", "on {node}: {}", f.text);
            assert_eq!(f["reason"], "timeout", "on {node}: {}", f.text);
            let uid = f["uid"].as_str().unwrap_or_default().to_owned();
            assert!(left.insert(uid), "on {node}: announced twice: {}", f.text);
            events.push(f);
        }
        let waited = events[0].at.duration_since(killed);
        assert!(
            waited >= Duration::from_millis(GRACE_MS / 2),
            "on {node}: the first left {waited:?} after the kill, before the {GRACE_MS} ms grace period"
        );
        eprintln!("node kill: B's first member left as seen on {node} after {waited:?}");
        assert_gap_free(&format!("member_left on {node}"), before, &events);
        seen.push(events);
    }
    for (x, y) in seen[0].iter().zip(&seen[1]) {
        assert_eq!(x.text, y.text, "A and C announce the same frames");
    }
    // announced once: nothing else comes, from any surviving node
    for obs in [&mut obs_a, &mut obs_c] {
        let node = obs.node.clone();
        let more = obs.texts_for(2_000, |f| f["roomId"] == room.as_str()).await;
        assert!(more.is_empty(), "on {node}: more room events: {more:#?}");
    }
    let mut expected = vec![host.uid.clone(), wes.uid.clone()];
    expected.sort();
    for (node, s) in [(a, &host), (c, &wes)] {
        let mut members = node.room_members(s, &room).await;
        members.sort();
        assert_eq!(members, expected, "GET /room on {}", node.id);
    }
    // the seq goes on without a gap
    obs_a.ok("raise_hand", json!({ "roomId": room })).await;
    let hand = obs_c
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == host.uid.as_str())
        .await;
    assert_eq!(hand["seq"].as_i64(), Some(before + 3), "{}", hand.text);
}

/// `GET /user/{uid}/profile` as `viewer`: a signed, database-backed request;
/// `Err` without an answer in 10 s.
async fn profile_of(node: &Node, viewer: &Session, uid: &str) -> Result<Resp, String> {
    node.get(&format!("/user/{uid}/profile"))
        .user(viewer)
        .try_send(Duration::from_secs(10))
        .await
}

/// `/readyz` answers 200 with `status: ready` (and `redis: up` when reported).
async fn ready(node: &Node) -> bool {
    match node.readyz().await {
        Ok(r) => r.is_ok() && r.body["result"]["status"] == "ready",
        Err(_) => false,
    }
}

/// `/readyz` answers the 503 envelope.
async fn unready(node: &Node) -> bool {
    matches!(node.readyz().await, Ok(r) if r.status == 503)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_survive_a_redis_restart_and_resume_cross_node_events() {
    let Some(env) = gate("nodes_survive_a_redis_restart_and_resume_cross_node_events") else {
        return;
    };
    let mut cluster = Cluster::start(
        &env,
        Spec {
            grace_ms: 10_000,
            ..Spec::default()
        },
    )
    .await;
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let (a, b) = (cluster.a(), cluster.b());
    for node in [a, b] {
        let res = node.readyz().await.expect("readyz answers");
        let r = res.ok();
        assert_eq!(r["status"], "ready", "{}", res.text);
        assert_eq!(r["database"], "up", "{}", res.text);
        assert_eq!(r["redis"], "up", "{}", res.text);
        assert_eq!(r["node"], node.id.as_str(), "{}", res.text);
    }
    let lee = b.user(1, "Lee").await;
    b.join_club(&lee, &club).await;
    let (mut ws_a, _) = a.member_socket(&host, &room).await;
    let (mut ws_b, lee_seq) = b.member_socket(&lee, &room).await;
    let joined = ws_a
        .take(|f| f["type"] == "room.member_joined" && f["member"]["uid"] == lee.uid.as_str())
        .await;
    assert_eq!(joined["seq"].as_i64(), Some(lee_seq));
    ws_a.clear();

    cluster.redis.kill();
    let (a, b) = (cluster.a(), cluster.b());
    for node in [a, b] {
        assert!(
            eventually(Duration::from_secs(5), || unready(node)).await,
            "node {}: /readyz still not 503 5 s after Redis died: {:?}",
            node.id,
            node.readyz().await
        );
        node.readyz().await.expect("readyz answers").unavailable();
        // REST on the database still works, signed and authenticated
        let profile = node
            .get(&format!("/user/{}/profile", lee.uid))
            .user(&host)
            .try_send(Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("node {}: REST hangs without Redis: {e}", node.id));
        assert_eq!(
            profile.ok()["nickname"],
            "Lee",
            "node {}: {}",
            node.id,
            profile.text
        );
    }
    for ws in [&mut ws_a, &mut ws_b] {
        assert!(
            ws.pings(Duration::from_secs(3)).await,
            "node {}: the socket did not stay up without Redis ({:?})",
            ws.node,
            ws.closed
        );
    }

    let restarted = Instant::now();
    cluster.redis.restart().await;
    let (a, b) = (cluster.a(), cluster.b());
    for node in [a, b] {
        assert!(
            eventually(Duration::from_secs(6), || ready(node)).await,
            "node {}: /readyz not 200 within 6 s of Redis coming back: {:?}",
            node.id,
            node.readyz().await
        );
    }
    eprintln!(
        "redis restart: both nodes ready after {:?}",
        restarted.elapsed()
    );
    for ws in [&mut ws_a, &mut ws_b] {
        let stray = ws.texts_for(0, |f| f["type"] != "pong").await;
        assert!(
            stray.is_empty(),
            "node {}: events during the outage: {stray:#?}",
            ws.node
        );
    }
    // a hand raised on A reaches B, and one raised on B reaches A
    ws_a.ok("raise_hand", json!({ "roomId": room })).await;
    let on_b = ws_b
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == host.uid.as_str())
        .await;
    let on_a = ws_a
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == host.uid.as_str())
        .await;
    assert_eq!(on_a.text, on_b.text, "the same frame on both nodes");
    let seq = on_b["seq"].as_i64().unwrap_or_default();
    assert!(
        seq > lee_seq,
        "the seq went back after the Redis restart: {} after {lee_seq}",
        on_b.text
    );
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    let lee_hand = ws_a
        .take(|f| f["type"] == "room.hand_raised" && f["uid"] == lee.uid.as_str())
        .await;
    assert_eq!(lee_hand["seq"].as_i64(), Some(seq + 1), "{}", lee_hand.text);
    // both are still members, on both nodes
    let mut expected = vec![host.uid.clone(), lee.uid.clone()];
    expected.sort();
    for (node, s) in [(a, &host), (b, &lee)] {
        let mut members = node.room_members(s, &room).await;
        members.sort();
        assert_eq!(members, expected, "GET /room on {}", node.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_outage_fails_fast_keeps_sockets_and_recovers_without_a_restart() {
    let Some(env) =
        gate("a_postgres_outage_fails_fast_keeps_sockets_and_recovers_without_a_restart")
    else {
        return;
    };
    let cluster = Cluster::start(
        &env,
        Spec {
            grace_ms: 10_000,
            pg_proxy: true,
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (cluster.a(), cluster.b());
    let (host, club, room) = cluster.hosted_room(0, 0).await;
    let lee = b.user(1, "Lee").await;
    b.join_club(&lee, &club).await;
    let (mut ws_a, _) = a.member_socket(&host, &room).await;
    let (mut ws_b, _) = b.member_socket(&lee, &room).await;
    let profile = |node| profile_of(node, &host, &lee.uid);
    for node in [a, b] {
        profile(node).await.expect("answers").ok();
    }

    cluster.proxy.as_ref().expect("proxy").cut();
    for node in [a, b] {
        // twice: once on pooled connections that just died, once on new ones
        for attempt in 1..=2 {
            let started = Instant::now();
            let res = profile(node).await.unwrap_or_else(|e| {
                panic!(
                    "node {} (attempt {attempt}): no answer in 10 s without PostgreSQL: {e}",
                    node.id
                )
            });
            let took = started.elapsed();
            res.unavailable();
            assert!(
                took < Duration::from_secs(5),
                "node {} (attempt {attempt}): the 503 took {took:?}",
                node.id
            );
        }
        let ready = node.readyz().await.expect("readyz answers");
        ready.unavailable();
    }
    for ws in [&mut ws_a, &mut ws_b] {
        assert!(
            ws.pings(Duration::from_secs(3)).await,
            "node {}: the socket did not stay up without PostgreSQL ({:?})",
            ws.node,
            ws.closed
        );
    }

    cluster.proxy.as_ref().expect("proxy").restore();
    for node in [a, b] {
        let back = eventually(Duration::from_secs(10), || async {
            matches!(profile(node).await, Ok(r) if r.is_ok())
        })
        .await;
        assert!(
            back,
            "node {}: still failing 10 s after PostgreSQL came back: {:?}",
            node.id,
            profile(node).await
        );
        assert!(ready(node).await, "node {}: /readyz", node.id);
    }
    for ws in [&mut ws_a, &mut ws_b] {
        assert!(ws.pings(Duration::from_secs(3)).await, "node {}", ws.node);
    }
    // the room still works across nodes
    ws_b.ok("raise_hand", json!({ "roomId": room })).await;
    ws_a.take(|f| f["type"] == "room.hand_raised" && f["uid"] == lee.uid.as_str())
        .await;
}
