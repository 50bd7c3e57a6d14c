//! WebSocket abuse against the real binary, whose memory is read alone from
//! `/proc/<pid>/status`: 10,000 join/leave toggles, oversized frames,
//! half-sent fragmented messages, empty-fragment and ping floods, and clients
//! that never read. After each phase the test checks the answers and close
//! codes, that a bystander in the same room was answered all along, and that
//! the server's memory stayed within a bound it prints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::Session;
use crate::remote::{clean_env, huddle_binary, Remote, Server, TEST_NUMBERS};
use crate::ws::WsClient;

const TOGGLERS: usize = 10;
const TOGGLES_EACH: usize = 1_000;

fn fragment(payload: Vec<u8>, first: bool, last: bool) -> Message {
    let data = if first { Data::Text } else { Data::Continue };
    Message::Frame(Frame::message(
        Bytes::from(payload),
        OpCode::Data(data),
        last,
    ))
}

/// The server's memory across the phases.
struct Memory<'a> {
    server: &'a Server,
    baseline_kib: u64,
    phase_start_kib: u64,
    report: Vec<String>,
}

impl<'a> Memory<'a> {
    fn new(server: &'a Server) -> Self {
        let (rss, _) = server.memory_kib();
        Self {
            server,
            baseline_kib: rss,
            phase_start_kib: rss,
            report: Vec::new(),
        }
    }

    /// A phase begins: its growth is measured from here.
    fn start(&mut self) {
        self.phase_start_kib = self.server.memory_kib().0;
    }

    /// Asserts the peak since the phase began grew at most `bound_mib` over
    /// the phase's start (the peak is the process's high-water mark, so a
    /// phase that buffered what it was sent shows even if it freed it since).
    fn check(&mut self, phase: &str, bound_mib: u64) {
        let (rss, peak) = self.server.memory_kib();
        let growth = peak.saturating_sub(self.phase_start_kib) / 1024;
        let line = format!(
            "{phase}: RSS {} MiB, peak {} MiB, +{growth} MiB over the phase's start (bound {bound_mib})",
            rss / 1024,
            peak / 1024
        );
        eprintln!("ws_memory: {line}");
        self.report.push(line.clone());
        assert!(growth <= bound_mib, "memory not bounded: {line}");
    }
}

/// A bystander's ping round trips while `done` is false.
async fn ping_until(ws: &mut WsClient, done: &AtomicBool) -> Vec<Duration> {
    let mut rtts = Vec::new();
    while !done.load(Ordering::SeqCst) {
        let sent = Instant::now();
        let pong = ws.request("ping", json!({})).await;
        assert_eq!(pong["type"], "pong", "{pong}");
        rtts.push(sent.elapsed());
        ws.drop_pending();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rtts
}

fn assert_served(phase: &str, rtts: &mut [Duration]) {
    assert!(!rtts.is_empty(), "{phase}: the bystander pinged");
    rtts.sort();
    let median = rtts[rtts.len() / 2];
    let max = rtts[rtts.len() - 1];
    eprintln!(
        "ws_memory: {phase}: bystander {} pings, median {median:?}, max {max:?}",
        rtts.len()
    );
    assert!(
        max < Duration::from_secs(3),
        "{phase}: bystander waited {max:?}"
    );
}

/// Runs `abuse` while a bystander pings; returns the abuse's result.
async fn with_bystander<T>(
    phase: &str,
    bystander: &mut WsClient,
    abuse: impl std::future::Future<Output = T>,
) -> T {
    let done = AtomicBool::new(false);
    let abuse = async {
        let out = abuse.await;
        done.store(true, Ordering::SeqCst);
        out
    };
    let (out, mut rtts) = tokio::join!(abuse, ping_until(bystander, &done));
    assert_served(phase, &mut rtts);
    out
}

async fn toggle(remote: &Remote, s: &Session, room: &str) -> WsClient {
    let mut ws = WsClient::connect(&remote.ws_url(s), &[])
        .await
        .expect("websocket upgrade");
    for _ in 0..TOGGLES_EACH {
        remote
            .post(&format!("/room/{room}/token"), s, &[])
            .await
            .ok();
        ws.join(room).await;
        ws.ok("leave", json!({ "roomId": room })).await;
        ws.drop_pending();
    }
    ws
}

/// Reads the host's stream until every toggle was seen; checks order.
async fn observe_toggles(host: &mut WsClient, togglers: &[Session]) {
    let mut seq = None::<i64>;
    let mut last: std::collections::HashMap<String, String> = Default::default();
    let (mut joins, mut lefts) = (0, 0);
    while joins + lefts < 2 * TOGGLERS * TOGGLES_EACH {
        let f: Value = host.next().await;
        let kind = f["type"].as_str().unwrap_or_default();
        if !kind.starts_with("room.") {
            continue;
        }
        let s = f["seq"].as_i64().unwrap();
        if let Some(prev) = seq {
            assert_eq!(s, prev + 1, "gap-free seqs: {f}");
        }
        seq = Some(s);
        let uid = match kind {
            "room.member_joined" => f["member"]["uid"].as_str(),
            "room.member_left" => f["uid"].as_str(),
            _ => None,
        };
        let Some(uid) = uid.filter(|u| togglers.iter().any(|t| t.uid == *u)) else {
            continue;
        };
        let previous = last.insert(uid.to_owned(), kind.to_owned());
        assert_ne!(
            previous.as_deref(),
            Some(kind),
            "joins and leaves alternate: {f}"
        );
        if kind == "room.member_joined" {
            joins += 1;
        } else {
            lefts += 1;
        }
    }
    assert_eq!((joins, lefts), (10_000, 10_000));
}

#[actix_web::test]
async fn abuse_leaves_memory_bounded_and_bystanders_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(huddle_binary());
    clean_env(&mut cmd);
    cmd.arg("serve")
        .current_dir(dir.path())
        .env("HUDDLE_HTTP_ADDR", "127.0.0.1:0")
        .env("HUDDLE_LOG_FORMAT", "json")
        .env("HUDDLE_LOG", "warn,huddle::startup=info")
        .env("HUDDLE_WORKERS", "2")
        .env("HUDDLE_SMS_TEST_NUMBERS", TEST_NUMBERS)
        // request limits off (one address, 10,000 token calls); the WebSocket
        // limits on, the frame rate high enough for the toggles
        .env("HUDDLE_RATE_USER_PER_SECOND", "0")
        .env("HUDDLE_RATE_USER_PER_MINUTE", "0")
        .env("HUDDLE_RATE_IP_PER_SECOND", "0")
        .env("HUDDLE_RATE_IP_PER_MINUTE", "0")
        .env("HUDDLE_WS_MESSAGES_PER_SECOND", "1000")
        .env("HUDDLE_SOCKET_SEND_BUFFER_BYTES", "8192");
    let server = Server::start(cmd);
    let remote = Remote::new(&server);

    let host = remote.sign_in("13900020000", "Host").await;
    let club = remote
        .post(
            "/club",
            &host,
            &[
                ("name", "Abuse".into()),
                ("cover", "https://cdn.example.com/c.jpg".into()),
            ],
        )
        .await
        .ok()["clubId"]
        .as_str()
        .unwrap()
        .to_owned();
    let room = remote
        .post(
            "/room",
            &host,
            &[("name", "Target".into()), ("clubId", club.clone())],
        )
        .await
        .ok()["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bystander = remote.sign_in("13900020099", "Bystander").await;
    let mut togglers = Vec::new();
    for i in 0..TOGGLERS {
        togglers.push(
            remote
                .sign_in(&format!("139000201{i:02}"), &format!("T{i}"))
                .await,
        );
    }
    for s in togglers.iter().chain([&bystander]) {
        remote
            .post(&format!("/club/{club}/join"), s, &[])
            .await
            .ok();
    }
    let (mut ws_host, _) = remote.join_room(&host, &room).await;
    let (mut ws_by, _) = remote.join_room(&bystander, &room).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut memory = Memory::new(&server);

    // 1. 10,000 join/leave toggles: every one seen once, in order
    let started = Instant::now();
    let sockets = with_bystander("toggles", &mut ws_by, async {
        let toggles = join_all(togglers.iter().map(|s| toggle(&remote, s, &room)));
        let (sockets, ()) = tokio::join!(toggles, observe_toggles(&mut ws_host, &togglers));
        sockets
    })
    .await;
    eprintln!("ws_memory: toggles took {:?}", started.elapsed());
    for ws in sockets {
        ws.close().await;
    }
    memory.check("10,000 join/leave toggles", 32);
    memory.start();

    // 2. oversized frames: 20 × 4 MiB, each closed at its header (1009)
    with_bystander("oversized", &mut ws_by, async {
        for round in 0..2 {
            let closes = join_all(togglers.iter().map(|s| async {
                let mut ws = WsClient::connect(&remote.ws_url(s), &[]).await.unwrap();
                ws.try_send(Message::Text("x".repeat(4 << 20).into())).await;
                ws.until_closed().await.0 .0
            }))
            .await;
            for code in closes {
                // the close frame may be lost to the reset of the unread rest
                assert!(code == 1009 || code == 1006, "round {round}: {code}");
            }
        }
    })
    .await;
    memory.check("20 frames of 4 MiB", 8);
    memory.start();

    // 3. half-sent fragmented messages held open, then pushed over the cap
    let mut held = Vec::new();
    for s in &togglers {
        let mut ws = WsClient::connect(&remote.ws_url(s), &[]).await.unwrap();
        ws.send_raw(fragment(vec![b' '; 4096], true, false)).await;
        for _ in 0..14 {
            ws.send_raw(fragment(vec![b' '; 4096], false, false)).await;
        }
        held.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    memory.check("10 × 60 KiB of unfinished messages held", 8);
    with_bystander("fragments over the cap", &mut ws_by, async {
        for ws in &mut held {
            ws.try_send(fragment(vec![b' '; 8192], false, false)).await;
            assert_eq!(ws.until_closed().await.0 .0, 1009);
        }
    })
    .await;

    // 4. empty-fragment and ping floods: cut off by the frame rate (1008)
    memory.start();
    let remote_ref = &remote;
    with_bystander("floods", &mut ws_by, async {
        let codes = join_all(togglers.iter().enumerate().map(|(i, s)| async move {
            let mut ws = WsClient::connect(&remote_ref.ws_url(s), &[]).await.unwrap();
            if i % 2 == 0 {
                ws.send_raw(fragment(b"{".to_vec(), true, false)).await;
                for _ in 0..5_000 {
                    if !ws.try_send(fragment(Vec::new(), false, false)).await {
                        break;
                    }
                }
            } else {
                for _ in 0..20_000 {
                    if !ws.try_send(Message::Ping(Bytes::new())).await {
                        break;
                    }
                }
            }
            ws.until_closed().await.0 .0
        }))
        .await;
        assert!(codes.iter().all(|c| *c == 1008), "{codes:?}");
    })
    .await;
    memory.check("5 empty-fragment floods, 5 ping floods", 8);
    memory.start();

    // 5. ten members that never read while the host makes 3,000 events
    let mut slow = Vec::new();
    for s in &togglers {
        remote
            .post(&format!("/room/{room}/token"), s, &[])
            .await
            .ok();
        let mut ws = WsClient::connect_slow(&remote.ws_url(s)).await;
        ws.join(&room).await;
        slow.push(ws);
    }
    with_bystander("never-reading members", &mut ws_by, async {
        for batch in 0..30 {
            let mut ids = Vec::new();
            for i in 0..100 {
                let op = if (batch * 100 + i) % 2 == 0 {
                    "raise_hand"
                } else {
                    "lower_hand"
                };
                ids.push(ws_host.send_op(op, json!({ "roomId": room })).await);
            }
            for id in ids {
                let answer = ws_host.take(|f| f["id"] == id).await;
                assert_eq!(answer["type"], "ack", "{answer}");
            }
            ws_host.drop_pending();
            // the host stays under its 1,000 frames a second
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    })
    .await;
    memory.check("10 never-reading members, 3,000 events", 16);
    for mut ws in slow {
        let ((code, reason), _) = ws.until_closed().await;
        assert_eq!(code, 4008, "{reason}");
    }

    // afterwards: the room still works, and memory comes back down
    ws_host.ok("raise_hand", json!({ "roomId": room })).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let (rss, _) = server.memory_kib();
    let line = format!(
        "after: RSS {} MiB (+{} over the baseline of {} MiB)",
        rss / 1024,
        rss.saturating_sub(memory.baseline_kib) / 1024,
        memory.baseline_kib / 1024
    );
    eprintln!("ws_memory: {line}");
    assert!(
        rss.saturating_sub(memory.baseline_kib) / 1024 <= 32,
        "memory came back: {line}\n{}",
        memory.report.join("\n")
    );
}
