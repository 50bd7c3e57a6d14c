//! WebSocket abuse: message floods, ping floods, fragment floods, too many
//! connections of one user. The server answers or closes with the documented
//! code and the other clients keep being served. The memory side (join/leave
//! storms, oversized frames, clients that never read) runs against the real
//! binary, whose memory can be read alone: `ws_memory.rs`.

use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;
use crate::ws::WsClient;

/// A text fragment: the first of a message (`first`) or a continuation.
pub fn fragment(payload: &'static [u8], first: bool, last: bool) -> Message {
    let data = if first { Data::Text } else { Data::Continue };
    Message::Frame(Frame::message(
        Bytes::from_static(payload),
        OpCode::Data(data),
        last,
    ))
}

#[actix_web::test]
async fn a_connection_over_its_message_rate_is_refused_then_closed() {
    let app = spawn_huddle_with(|c| {
        c.limits.ws_messages_per_second = 20;
        c.ws_max_bad_frames = 5;
    })
    .await;
    let a = app.user("13800600101", "Ann").await;
    let b = app.user("13800600102", "Bob").await;
    let mut bystander = app.ws(&b).await;

    // under the limit: 20 at once, and 20 more a second later, all answered
    let mut ws = app.ws(&a).await;
    for round in 0..2 {
        let mut ids = Vec::new();
        for _ in 0..20 {
            ids.push(ws.send_op("ping", json!({})).await);
        }
        for id in ids {
            let answer = ws.take(|f| f["id"] == id).await;
            assert_eq!(answer["type"], "pong", "round {round}: {answer}");
        }
        tokio::time::sleep(Duration::from_millis(1_050)).await;
    }
    ws.close().await;

    // over it: the burst is served, the rest refused with its id, and the
    // sixth refusal (5 tolerated) closes with 1008
    let mut ws = app.ws(&a).await;
    for i in 0..60 {
        let ping = json!({ "op": "ping", "id": i }).to_string();
        if !ws.try_send(Message::Text(ping.into())).await {
            break;
        }
    }
    let ((code, reason), frames) = ws.until_closed().await;
    assert_eq!((code, reason.as_str()), (1008, "too many messages"));
    let pongs = frames.iter().filter(|f| f["type"] == "pong").count();
    assert!((20..=25).contains(&pongs), "the burst is served: {pongs}");
    let refused: Vec<_> = frames
        .iter()
        .filter(|f| f["type"] == "error" && f["code"] == "rate_limited")
        .collect();
    assert_eq!(refused.len(), 6, "{frames:?}");
    assert!(refused[0]["id"].is_number(), "{}", refused[0]);
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("20 frames a second"),
        "{}",
        refused[0]
    );
    assert_eq!(bystander.request("ping", json!({})).await["type"], "pong");

    // control pings count too: a ping flood gets refusals, then 1008
    let mut ws = app.ws(&a).await;
    for _ in 0..2_000 {
        if !ws.try_send(Message::Ping(Bytes::new())).await {
            break;
        }
    }
    let ((code, _), frames) = ws.until_closed().await;
    assert_eq!(code, 1008, "{frames:?}");
    assert_eq!(frames.len(), 6, "only the refusals are written: {frames:?}");
    assert!(frames.iter().all(|f| f["code"] == "rate_limited"));

    // a flood of empty fragments (which never reach the size cap) is closed
    // at the first fragment over the rate
    let mut ws = app.ws(&a).await;
    ws.send_raw(fragment(br#"{"op":"ping","#, true, false))
        .await;
    for _ in 0..2_000 {
        if !ws.try_send(fragment(b"", false, false)).await {
            break;
        }
    }
    let ((code, reason), frames) = ws.until_closed().await;
    assert_eq!((code, reason.as_str()), (1008, "too many messages"));
    assert!(frames.is_empty(), "{frames:?}");

    // the bystander was never slowed down or touched
    for _ in 0..3 {
        assert_eq!(bystander.request("ping", json!({})).await["type"], "pong");
    }
    assert!(bystander.closed.is_none());
}

#[actix_web::test]
async fn a_user_may_hold_only_so_many_connections() {
    let app = spawn_huddle_with(|c| {
        c.limits.ws_connections_per_user = 3;
        c.ws_idle_timeout_ms = 30_000;
    })
    .await;
    let a = app.user("13800600111", "Ann").await;
    let b = app.user("13800600112", "Bob").await;

    // under the limit: three devices
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.ws(&a).await);
    }
    // the fourth is refused before the upgrade, with the envelope
    let refused = WsClient::connect(&app.ws_url(&a), &[])
        .await
        .err()
        .expect("a fourth connection is refused");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["status"], 0);
    assert_eq!(refused.body["message"], "Too Many Requests");
    assert_eq!(
        refused.retry_after.as_deref(),
        Some("30"),
        "a dead connection is gone within the idle timeout"
    );
    // another user is not affected, and the three still work
    let mut other = app.ws(&b).await;
    assert_eq!(other.request("ping", json!({})).await["type"], "pong");
    for ws in &mut open {
        assert_eq!(ws.request("ping", json!({})).await["type"], "pong");
    }

    // closing one frees its place
    open.pop().unwrap().close().await;
    let mut again = None;
    for _ in 0..100 {
        match WsClient::connect(&app.ws_url(&a), &[]).await {
            Ok(ws) => {
                again = Some(ws);
                break;
            }
            Err(r) => {
                assert_eq!(r.status, 429);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    open.push(again.expect("a closed connection's place is free again"));

    // upgrades racing past the door: exactly as many as fit get `hello`
    for ws in open.drain(..) {
        ws.close().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let attempts: Vec<_> = (0..8).map(|_| attempt_raw(app.ws_url(&a))).collect();
    let outcomes = futures_util::future::join_all(attempts).await;
    let admitted = outcomes
        .iter()
        .filter(|o| matches!(o, Raw::Hello { .. }))
        .count();
    assert_eq!(admitted, 3, "{outcomes:?}");
    for o in &outcomes {
        assert!(
            matches!(o, Raw::Hello { .. } | Raw::Status(429) | Raw::Close(1008)),
            "{o:?}"
        );
    }
}

/// How a raw upgrade attempt ended.
enum Raw {
    /// `hello` came; the stream is held open.
    Hello {
        _stream: Box<dyn std::any::Any + Send>,
    },
    /// Refused before the upgrade with this HTTP status.
    Status(u16),
    /// Upgraded, then closed with this code before `hello`.
    Close(u16),
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raw::Hello { .. } => write!(f, "hello"),
            Raw::Status(s) => write!(f, "HTTP {s}"),
            Raw::Close(c) => write!(f, "close {c}"),
        }
    }
}

async fn attempt_raw(url: String) -> Raw {
    use futures_util::StreamExt;
    let (mut stream, _) = match tokio_tungstenite::connect_async(url.as_str()).await {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            return Raw::Status(res.status().as_u16())
        }
        Err(e) => panic!("upgrade failed: {e}"),
    };
    match stream.next().await {
        Some(Ok(Message::Text(t))) if t.contains("\"hello\"") => Raw::Hello {
            _stream: Box::new(stream),
        },
        Some(Ok(Message::Close(Some(frame)))) => Raw::Close(u16::from(frame.code)),
        other => panic!("unexpected first message: {other:?}"),
    }
}

#[actix_web::test]
async fn a_socket_closes_once_its_session_is_logged_out_or_its_account_frozen() {
    let app = spawn_huddle_with(|c| c.ws_session_check_ms = 100).await;
    let a = app.user("13800600121", "Ann").await;
    let b = app.user("13800600122", "Bob").await;
    let c = app.user("13800600123", "Cat").await;
    let mut ws_a = app.ws(&a).await;
    let mut ws_b = app.ws(&b).await;
    let mut ws_c = app.ws(&c).await;
    // a second login of Ann (another device) is another session: it stays
    app.clock.advance(61_000); // one captcha per number per minute
    let a2 = app.login("13800600121").await;
    let mut ws_a2 = app.ws(&a2).await;

    app.post("/account/logout").user(&a).send().await.ok();
    let ((code, reason), _) = ws_a.until_closed().await;
    assert_eq!(
        (code, reason.as_str()),
        (4003, "session ended: log in again")
    );

    let out = app.cli(&["account", "freeze", &b.uid]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ((code, reason), _) = ws_b.until_closed().await;
    assert_eq!((code, reason.as_str()), (4003, "account frozen"));

    // the others are untouched, well past several checks
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for ws in [&mut ws_c, &mut ws_a2] {
        assert_eq!(ws.request("ping", json!({})).await["type"], "pong");
        assert!(ws.closed.is_none());
    }
}

#[actix_web::test]
async fn a_share_page_watcher_over_the_rate_is_closed() {
    let app = spawn_huddle_with(|c| c.limits.ws_messages_per_second = 20).await;
    let host = app.user("13800600131", "Host").await;
    let club = app.create_club(&host, "Watched").await;
    let room = app
        .create_room(&host, "Live", club["clubId"].as_str().unwrap())
        .await;
    let room_id = room["roomId"].as_str().unwrap();
    let cache = app.room_cache(&host, room_id).await;
    let token = app.h5_session().await;
    let live = format!("ws://{}/h5/room/{cache}/live?h5Token={token}", app.addr);
    // within the rate: pings are answered and the stream stays open
    let mut calm = WsClient::connect_first(&live, &[], "watching")
        .await
        .unwrap();
    for _ in 0..10 {
        assert!(calm.try_send(Message::Ping(Bytes::new())).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(calm.closed.is_none());
    // a flood is closed at once with 1008
    let mut flood = WsClient::connect_first(&live, &[], "watching")
        .await
        .unwrap();
    for _ in 0..2_000 {
        if !flood.try_send(Message::Ping(Bytes::new())).await {
            break;
        }
    }
    let ((code, reason), _) = flood.until_closed().await;
    assert_eq!((code, reason.as_str()), (1008, "too many messages"));
    // the calm watcher still gets the room's events
    let b = app.user("13800600132", "Bob").await;
    app.join_club(&b, club["clubId"].as_str().unwrap()).await;
    app.room_token(&b, room_id).await;
    let mut ws_b = app.ws(&b).await;
    ws_b.join(room_id).await;
    let joined = calm.next_of("room.member_joined").await;
    assert_eq!(joined["member"]["uid"], b.uid.as_str());
}
