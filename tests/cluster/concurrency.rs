//! Concurrent writes through two nodes: hundreds of users join one club or
//! take voice tokens for one room at the same time, half through each node.
//! Counts must come out exact on both nodes, and every listener sees every
//! join once, in one gap-free sequence.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;

use crate::harness::*;

/// Requests in flight at once while loading.
const PARALLEL: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn club_joins_through_two_nodes_keep_an_exact_member_total() {
    let Some(env) = gate("club_joins_through_two_nodes_keep_an_exact_member_total") else {
        return;
    };
    const JOINERS: usize = 300;
    let first = 3;
    let cluster = Cluster::start(
        &env,
        Spec {
            users: first + JOINERS,
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (cluster.a(), cluster.b());
    let host = a.user(0, "Host").await;
    let club = a.create_club(&host, "Crowd").await;
    let base = a.club(&host, &club).await["memberTotal"]
        .as_i64()
        .expect("memberTotal");
    // one subscriber per node
    let watcher_a = a.user(1, "WatcherA").await;
    let watcher_b = b.user(2, "WatcherB").await;
    let mut sub_a = a.ws(&watcher_a).await;
    let mut sub_b = b.ws(&watcher_b).await;
    sub_a.ok("subscribe", json!({ "clubId": club })).await;
    sub_b.ok("subscribe", json!({ "clubId": club })).await;

    let started = Instant::now();
    let users = cluster.users(first..first + JOINERS, PARALLEL).await;
    let signed_in = started.elapsed();
    let nodes = &cluster.nodes;
    let club_ref = &club;
    let results: Vec<(String, Resp)> = futures_util::stream::iter(users.iter().enumerate())
        .map(|(i, s)| async move {
            let node = &nodes[i % 2];
            let res = node.post_as(s, &format!("/club/{club_ref}/join")).await;
            (s.uid.clone(), res)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    eprintln!(
        "club joins: {JOINERS} users signed in in {signed_in:?}, joined in {:?}",
        started.elapsed() - signed_in
    );
    for (uid, res) in &results {
        assert!(res.is_ok(), "join of {uid}: {}", res.text);
    }
    let want = base + i64::try_from(JOINERS).expect("small");
    for (node, s) in [(a, &watcher_a), (b, &watcher_b)] {
        let c = node.club(s, &club).await;
        assert_eq!(
            c["memberTotal"].as_i64(),
            Some(want),
            "memberTotal on {}: {c}",
            node.id
        );
    }
    let joiners: BTreeSet<String> = users.iter().map(|s| s.uid.clone()).collect();
    for sub in [&mut sub_a, &mut sub_b] {
        let node = sub.node.clone();
        let mut seen = BTreeSet::new();
        let mut totals = Vec::new();
        while seen.len() < JOINERS {
            let Some(f) = sub
                .take_within(Duration::from_secs(10), |f| {
                    f["type"] == "club.member_joined"
                })
                .await
            else {
                panic!(
                    "on {node}: {} of {JOINERS} club.member_joined arrived",
                    seen.len()
                );
            };
            assert_eq!(f["clubId"], club.as_str(), "on {node}: {}", f.text);
            let uid = f["uid"].as_str().unwrap_or_default().to_owned();
            assert!(joiners.contains(&uid), "on {node}: {}", f.text);
            assert!(seen.insert(uid), "on {node}: twice: {}", f.text);
            totals.push(f["memberTotal"].as_i64().unwrap_or_default());
        }
        let dupes = sub
            .texts_for(500, |f| f["type"] == "club.member_joined")
            .await;
        assert!(dupes.is_empty(), "on {node}: more joins: {dupes:#?}");
        assert_eq!(
            totals.iter().max().copied(),
            Some(want),
            "on {node}: the last join announces the exact total"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_room_members_through_two_nodes_are_counted_exactly() {
    let Some(env) = gate("five_hundred_room_members_through_two_nodes_are_counted_exactly") else {
        return;
    };
    const JOINERS: usize = 500;
    let first = 3;
    let cluster = Cluster::start(
        &env,
        Spec {
            users: first + JOINERS,
            // tokens without a socket: nobody may time out while the test counts
            grace_ms: 120_000,
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (cluster.a(), cluster.b());
    let (_host, club, room) = cluster.hosted_room(0, 0).await;
    let near = a.user(1, "Near").await;
    let far = b.user(2, "Far").await;
    a.join_club(&near, &club).await;
    b.join_club(&far, &club).await;
    let (mut ws_a, _) = a.member_socket(&near, &room).await;
    let (mut ws_b, far_seq) = b.member_socket(&far, &room).await;
    let caught_up = ws_a
        .room_events_until(&room, |f| f["seq"].as_i64() == Some(far_seq))
        .await;
    assert_eq!(
        caught_up.last().map(|f| f["member"]["uid"].clone()),
        Some(json!(far.uid))
    );

    let started = Instant::now();
    let users = cluster.users(first..first + JOINERS, PARALLEL).await;
    let signed_in = started.elapsed();
    let nodes = &cluster.nodes;
    let room_ref = &room;
    let results: Vec<(String, Resp)> = futures_util::stream::iter(users.iter().enumerate())
        .map(|(i, s)| async move {
            let node = &nodes[i % 2];
            let res = node.post_as(s, &format!("/room/{room_ref}/token")).await;
            (s.uid.clone(), res)
        })
        .buffer_unordered(PARALLEL * 2)
        .collect()
        .await;
    eprintln!(
        "room tokens: {JOINERS} users signed in in {signed_in:?}, took tokens in {:?}",
        started.elapsed() - signed_in
    );
    for (uid, res) in &results {
        assert!(res.is_ok(), "token of {uid}: {}", res.text);
    }

    let joiners: BTreeSet<String> = users.iter().map(|s| s.uid.clone()).collect();
    let mut everyone = joiners.clone();
    everyone.insert(near.uid.clone());
    everyone.insert(far.uid.clone());
    for (node, s) in [(a, &near), (b, &far)] {
        let r = node.room(s, &room).await;
        let listed: BTreeSet<String> = r["memberList"]
            .as_array()
            .expect("memberList")
            .iter()
            .map(|m| id(m, "uid"))
            .collect();
        assert_eq!(
            r["memberTotal"].as_i64(),
            Some(i64::try_from(everyone.len()).expect("small")),
            "memberTotal on {}",
            node.id
        );
        assert_eq!(
            r["memberList"].as_array().map(Vec::len),
            Some(everyone.len()),
            "memberList on {} has duplicates or misses",
            node.id
        );
        let missing = everyone.difference(&listed).count();
        let strangers = listed.difference(&everyone).count();
        assert!(
            missing == 0 && strangers == 0,
            "GET /room on {}: {missing} members missing, {strangers} unknown uids listed",
            node.id
        );
    }

    let mut streams = Vec::new();
    for ws in [&mut ws_a, &mut ws_b] {
        let node = ws.node.clone();
        let mut events = Vec::with_capacity(JOINERS);
        while events.len() < JOINERS {
            let Some(f) = ws
                .take_within(Duration::from_secs(10), |f| {
                    f["roomId"] == room.as_str() && f["seq"].is_i64()
                })
                .await
            else {
                panic!(
                    "on {node}: {} of {JOINERS} room.member_joined arrived",
                    events.len()
                );
            };
            assert_eq!(f["type"], "room.member_joined", "on {node}: {}", f.text);
            events.push(f);
        }
        assert_gap_free(&format!("member joins on {node}"), far_seq, &events);
        let uids: BTreeSet<String> = events
            .iter()
            .map(|f| f["member"]["uid"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            uids.len(),
            JOINERS,
            "on {node}: every joiner exactly once ({} distinct uids)",
            uids.len()
        );
        assert!(
            uids == joiners,
            "on {node}: joins of users who did not join"
        );
        let more = ws.texts_for(500, |f| f["roomId"] == room.as_str()).await;
        assert!(more.is_empty(), "on {node}: more room events: {more:#?}");
        streams.push(events);
    }
    for (x, y) in streams[0].iter().zip(&streams[1]) {
        assert_eq!(x.text, y.text, "A and B got different frames for one seq");
    }
}
