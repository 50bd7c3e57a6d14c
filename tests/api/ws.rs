//! A WebSocket test client for `/ws`: signed connects, request/ack by id, and
//! a buffer so that frames read while waiting for one thing are not lost for
//! the next assertion.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle::auth::signature;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{Session, TestApp};

/// How long any expected frame may take.
pub const WAIT: Duration = Duration::from_secs(10);

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connected client.
pub struct WsClient {
    stream: Stream,
    /// Frames read but not consumed yet, in arrival order.
    pending: VecDeque<Value>,
    next_id: u64,
    /// Set once the server closed: (code, reason).
    pub closed: Option<(u16, String)>,
    /// The `hello` frame.
    pub hello: Value,
}

/// How a refused upgrade looked.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

/// The `/ws` URL on `addr` for `s`, credentials in the query, signed at `ts`.
pub fn signed_ws_url(addr: &str, s: &Session, ts: i64) -> String {
    let ts = ts.to_string();
    let params = [
        ("accessToken", s.token.as_str()),
        ("ts", ts.as_str()),
        ("uid", s.uid.as_str()),
    ];
    let sign = signature::sign(params.iter().copied(), &s.secret);
    format!(
        "ws://{addr}/ws?uid={}&accessToken={}&ts={ts}&sign={sign}",
        s.uid, s.token
    )
}

impl TestApp {
    /// The signed `/ws` URL for `s` (credentials in the query).
    pub fn ws_url(&self, s: &Session) -> String {
        signed_ws_url(&self.addr.to_string(), s, self.fresh_ts())
    }

    /// Connects as `s` and reads `hello`.
    pub async fn ws(&self, s: &Session) -> WsClient {
        let url = self.ws_url(s);
        WsClient::connect(&url, &[])
            .await
            .expect("websocket upgrade")
    }
}

impl WsClient {
    /// Connects to `url` with extra headers; the refusal when the server answers without upgrading.
    pub async fn connect(url: &str, headers: &[(&str, String)]) -> Result<Self, Refused> {
        Self::connect_first(url, headers, "hello").await
    }

    /// Like [`Self::connect`], for a stream whose first frame is `first`
    /// (kept in `hello`).
    pub async fn connect_first(
        url: &str,
        headers: &[(&str, String)],
        first: &str,
    ) -> Result<Self, Refused> {
        let mut request = url.into_client_request().unwrap();
        for (k, v) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = k.parse().unwrap();
            request
                .headers_mut()
                .insert(name, v.parse().expect("header value"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => {
                let mut client = Self {
                    stream,
                    pending: VecDeque::new(),
                    next_id: 0,
                    closed: None,
                    hello: Value::Null,
                };
                client.hello = client.next_of(first).await;
                Ok(client)
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = res
                    .body()
                    .as_ref()
                    .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                    .unwrap_or(Value::Null);
                Err(Refused {
                    status,
                    body,
                    retry_after,
                })
            }
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Connects with a tiny receive buffer, for a client that does not read.
    pub async fn connect_slow(url: &str) -> Self {
        let addr: std::net::SocketAddr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("websocket upgrade");
        let mut client = Self {
            stream,
            pending: VecDeque::new(),
            next_id: 0,
            closed: None,
            hello: Value::Null,
        };
        client.hello = client.next_of("hello").await;
        client
    }

    /// Forgets buffered frames.
    pub fn drop_pending(&mut self) {
        self.pending.clear();
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send text");
    }

    /// Sends any frame.
    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.expect("send frame");
    }

    /// Sends any frame; false once the connection is gone (a flood may
    /// outrun the server's close).
    pub async fn try_send(&mut self, message: Message) -> bool {
        self.stream.send(message).await.is_ok()
    }

    /// Sends `op` with `fields` and an id, without waiting; returns the id.
    pub async fn send_op(&mut self, op: &str, fields: Value) -> Value {
        self.next_id += 1;
        let id = json!(format!("r{}", self.next_id));
        let mut frame = fields;
        frame["op"] = json!(op);
        frame["id"] = id.clone();
        self.send_text(&frame.to_string()).await;
        id
    }

    /// Sends `op` and returns its answer (`ack` or `error` with the same id).
    pub async fn request(&mut self, op: &str, fields: Value) -> Value {
        let id = self.send_op(op, fields).await;
        self.take(|f| {
            f["id"] == id && ["ack", "error", "pong"].contains(&f["type"].as_str().unwrap_or(""))
        })
        .await
    }

    /// Like [`WsClient::request`], asserting an ack.
    pub async fn ok(&mut self, op: &str, fields: Value) -> Value {
        let answer = self.request(op, fields).await;
        assert_eq!(answer["type"], "ack", "{op} failed: {answer}");
        answer
    }

    /// Like [`WsClient::request`], asserting an error with `code`.
    pub async fn refused(&mut self, op: &str, fields: Value, code: &str) -> Value {
        let answer = self.request(op, fields).await;
        assert_eq!(answer["type"], "error", "{op} should fail: {answer}");
        assert_eq!(answer["code"], code, "{answer}");
        answer
    }

    /// Joins a room (after a token) and returns the ack.
    pub async fn join(&mut self, room_id: &str) -> Value {
        self.ok("join", json!({ "roomId": room_id })).await
    }

    /// The next frame, buffered ones first.
    pub async fn next(&mut self) -> Value {
        if let Some(f) = self.pending.pop_front() {
            return f;
        }
        self.read().await.expect("a frame, not a close")
    }

    /// The first frame (buffered or new) matching `pred`; others stay buffered.
    pub async fn take(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let f = self
                .read()
                .await
                .unwrap_or_else(|| panic!("closed while waiting: {:?}", self.closed));
            if pred(&f) {
                return f;
            }
            self.pending.push_back(f);
        }
    }

    /// The first frame of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        self.take(|f| f["type"] == kind).await
    }

    /// The first room event of type `kind` about `room_id`.
    pub async fn room_event(&mut self, kind: &str, room_id: &str) -> Value {
        self.take(|f| f["type"] == kind && f["roomId"] == room_id)
            .await
    }

    /// Reads one text frame from the socket; `None` once closed.
    async fn read(&mut self) -> Option<Value> {
        if self.closed.is_some() {
            return None;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let Ok(msg) = tokio::time::timeout_at(deadline, self.stream.next()).await else {
                panic!(
                    "no frame within {WAIT:?}; buffered meanwhile: {:?}",
                    self.pending
                );
            };
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(&t).expect("server frames are JSON"))
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(
                        frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new())),
                    );
                    return None;
                }
                Some(Ok(_)) => continue, // ping/pong/binary: not protocol frames
                Some(Err(_)) | None => {
                    self.closed.get_or_insert((1006, String::new()));
                    return None;
                }
            }
        }
    }

    /// Reads until the server closes; returns (code, reason) and the frames before it.
    pub async fn until_closed(&mut self) -> ((u16, String), Vec<Value>) {
        let mut frames: Vec<Value> = self.pending.drain(..).collect();
        while let Some(f) = self.read().await {
            frames.push(f);
        }
        (self.closed.clone().unwrap(), frames)
    }

    /// Asserts that nothing but pings arrives for `ms`.
    pub async fn quiet_for(&mut self, ms: u64) {
        assert!(
            self.pending.is_empty(),
            "unexpected frames: {:?}",
            self.pending
        );
        if let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(ms), self.stream.next()).await
        {
            if matches!(msg, Message::Text(_)) {
                panic!("unexpected frame: {msg:?}");
            }
        }
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // drain until the server's close arrives
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.stream.next().await {}
        })
        .await;
    }
}

/// Asserts that room events seen by one client have strictly consecutive seqs.
pub fn assert_gap_free(events: &[Value]) {
    for pair in events.windows(2) {
        let (a, b) = (
            pair[0]["seq"].as_i64().unwrap(),
            pair[1]["seq"].as_i64().unwrap(),
        );
        assert_eq!(b, a + 1, "seq gap between {} and {}", pair[0], pair[1]);
    }
}
