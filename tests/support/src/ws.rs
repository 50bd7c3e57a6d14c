//! The WebSocket client for `/ws` and the H5 live stream: signed connects,
//! request/ack by id, and a buffer so that frames read while waiting for one
//! thing are not lost for the next assertion.
//!
//! Frames are handed out as `F`: [`Value`] by default (the black-box suite),
//! or [`Frame`] (the multi-node suite), which also keeps the frame's exact
//! text and arrival time to compare nodes and measure latency.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client::{Api, Session};

/// How long any expected frame may take by default.
pub const WAIT: Duration = Duration::from_secs(10);

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server frame: parsed, its exact text, and when it was read.
#[derive(Debug, Clone)]
pub struct Frame {
    pub v: Value,
    pub text: String,
    pub at: Instant,
}

impl std::ops::Deref for Frame {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.v
    }
}

/// What a client hands frames out as.
pub trait Received: From<Frame> + std::fmt::Debug {
    fn value(&self) -> &Value;
}

impl From<Frame> for Value {
    fn from(f: Frame) -> Self {
        f.v
    }
}

impl Received for Value {
    fn value(&self) -> &Value {
        self
    }
}

impl Received for Frame {
    fn value(&self) -> &Value {
        &self.v
    }
}

/// How a refused upgrade looked.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

/// A connected client.
pub struct WsClient<F: Received = Value> {
    /// Who it talks to, for messages (a node's name).
    pub node: String,
    stream: Stream,
    /// Frames read but not consumed yet, in arrival order.
    pending: VecDeque<F>,
    next_id: u64,
    /// Set once the connection ended: (code, reason).
    pub closed: Option<(u16, String)>,
    /// The first frame (`hello`, or `watching` on the live stream).
    pub hello: Value,
}

/// What one read gave.
enum Read<F> {
    Frame(F),
    Closed,
    Timeout,
}

/// Connects `as_user` to `target` and reads `hello`.
pub async fn connect_as<F: Received>(target: &impl Api, s: &Session) -> WsClient<F> {
    WsClient::connect_to(&target.ws_url(s), &[], "hello", &target.label())
        .await
        .unwrap_or_else(|r| {
            panic!(
                "websocket upgrade on {}: refused with HTTP {}: {}",
                target.label(),
                r.status,
                r.body
            )
        })
}

impl WsClient<Value> {
    /// Connects to `url` with extra headers; the refusal when the server answers without upgrading.
    pub async fn connect(url: &str, headers: &[(&str, String)]) -> Result<Self, Refused> {
        Self::connect_to(url, headers, "hello", "server").await
    }

    /// Like [`Self::connect`], for a stream whose first frame is `first`
    /// (kept in `hello`).
    pub async fn connect_first(
        url: &str,
        headers: &[(&str, String)],
        first: &str,
    ) -> Result<Self, Refused> {
        Self::connect_to(url, headers, first, "server").await
    }

    /// Connects with a tiny receive buffer, for a client that does not read.
    pub async fn connect_slow(url: &str) -> Self {
        let addr: std::net::SocketAddr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {url}"));
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let tcp = socket.connect(addr).await.expect("connect");
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("websocket upgrade");
        let mut client = Self::new(stream, "server");
        client.hello = client.next_of("hello").await.value().clone();
        client
    }

    /// Closes from the client side, waiting up to [`WAIT`] for the server's
    /// close (so the server has let go of it when this returns).
    pub async fn close(mut self) {
        self.shut(WAIT).await;
    }
}

impl WsClient<Frame> {
    /// Connects to `url` on node `node` and reads `hello`; the refusal when
    /// the upgrade is refused with an HTTP response.
    pub async fn try_connect(url: &str, node: &str) -> Result<Self, Refused> {
        Self::connect_to(url, &[], "hello", node).await
    }

    /// Closes like an app going away, waiting up to 2 s for the server's close.
    pub async fn close(&mut self) {
        self.shut(Duration::from_secs(2)).await;
    }

    /// Reads for `ms`; the text of every frame buffered and read that
    /// matches `pred` (all are consumed).
    pub async fn texts_for(&mut self, ms: u64, pred: impl Fn(&Frame) -> bool) -> Vec<String> {
        self.drain_for(ms)
            .await
            .into_iter()
            .filter(|f| pred(f))
            .map(|f| f.text)
            .collect()
    }
}

impl<F: Received> WsClient<F> {
    fn new(stream: Stream, node: &str) -> Self {
        Self {
            node: node.to_owned(),
            stream,
            pending: VecDeque::new(),
            next_id: 0,
            closed: None,
            hello: Value::Null,
        }
    }

    /// Connects to `url` with extra headers and reads the first frame, of type `first`.
    pub async fn connect_to(
        url: &str,
        headers: &[(&str, String)],
        first: &str,
        node: &str,
    ) -> Result<Self, Refused> {
        let mut request = url
            .into_client_request()
            .unwrap_or_else(|e| panic!("not a websocket URL {url}: {e}"));
        for (k, v) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName =
                k.parse().expect("header name");
            request
                .headers_mut()
                .insert(name, v.parse().expect("header value"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => {
                let mut client = Self::new(stream, node);
                client.hello = client.next_of(first).await.value().clone();
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
            Err(e) => panic!("websocket connect to {node} failed: {e}"),
        }
    }

    /// Forgets buffered frames.
    pub fn drop_pending(&mut self) {
        self.pending.clear();
    }

    /// Forgets buffered frames.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) {
        let node = self.node.clone();
        self.stream
            .send(Message::Text(text.into()))
            .await
            .unwrap_or_else(|e| panic!("send on {node}: {e}"));
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

    /// Sends `op` and returns its answer (`ack`, `error` or `pong` with the same id).
    pub async fn request(&mut self, op: &str, fields: Value) -> F {
        let id = self.send_op(op, fields).await;
        self.take(|f| {
            let f = f.value();
            f["id"] == id && ["ack", "error", "pong"].contains(&f["type"].as_str().unwrap_or(""))
        })
        .await
    }

    /// Like [`WsClient::request`], asserting an ack.
    pub async fn ok(&mut self, op: &str, fields: Value) -> F {
        let answer = self.request(op, fields).await;
        assert_eq!(
            answer.value()["type"],
            "ack",
            "{op} on {} failed: {}",
            self.node,
            answer.value()
        );
        answer
    }

    /// Like [`WsClient::request`], asserting an error with `code`.
    pub async fn refused(&mut self, op: &str, fields: Value, code: &str) -> F {
        let answer = self.request(op, fields).await;
        let v = answer.value();
        assert_eq!(v["type"], "error", "{op} should fail: {v}");
        assert_eq!(v["code"], code, "{v}");
        answer
    }

    /// Joins a room (after a token) and returns the ack.
    pub async fn join(&mut self, room_id: &str) -> F {
        self.ok("join", json!({ "roomId": room_id })).await
    }

    /// An application-level ping; true when the pong came within `within`.
    pub async fn pings(&mut self, within: Duration) -> bool {
        if self.closed.is_some() {
            return false;
        }
        let id = self.send_op("ping", json!({})).await;
        self.take_within(within, |f| {
            f.value()["type"] == "pong" && f.value()["id"] == id
        })
        .await
        .is_some()
    }

    /// The next frame, buffered ones first; panics after [`WAIT`] or on a close.
    pub async fn next(&mut self) -> F {
        if let Some(f) = self.pending.pop_front() {
            return f;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        match self.read(deadline).await {
            Read::Frame(f) => f,
            Read::Closed => panic!("{}: closed: {:?}", self.node, self.closed),
            Read::Timeout => panic!("{}: no frame within {WAIT:?}", self.node),
        }
    }

    /// The first frame (buffered or new) matching `pred` within [`WAIT`];
    /// others stay buffered. Panics otherwise.
    pub async fn take(&mut self, pred: impl Fn(&F) -> bool) -> F {
        match self.take_within(WAIT, pred).await {
            Some(f) => f,
            None => panic!(
                "{}: no matching frame within {WAIT:?} (closed: {:?}); buffered: {:#?}",
                self.node, self.closed, self.pending
            ),
        }
    }

    /// Like [`WsClient::take`] with its own deadline; `None` when nothing
    /// matched before it or the connection closed.
    pub async fn take_within(&mut self, within: Duration, pred: impl Fn(&F) -> bool) -> Option<F> {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i);
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.read(deadline).await {
                Read::Frame(f) if pred(&f) => return Some(f),
                Read::Frame(f) => self.pending.push_back(f),
                Read::Closed | Read::Timeout => return None,
            }
        }
    }

    /// The first frame of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> F {
        self.take(|f| f.value()["type"] == kind).await
    }

    /// The first room event of type `kind` about `room_id`.
    pub async fn room_event(&mut self, kind: &str, room_id: &str) -> F {
        self.take(|f| f.value()["type"] == kind && f.value()["roomId"] == room_id)
            .await
    }

    /// Takes the room events of `room` (frames with a seq) until one
    /// satisfies `last` (included); panics after [`WAIT`] without it.
    pub async fn room_events_until(&mut self, room: &str, last: impl Fn(&F) -> bool) -> Vec<F> {
        let mut out = Vec::new();
        loop {
            let f = self
                .take(|f| f.value()["roomId"] == room && f.value()["seq"].is_i64())
                .await;
            let done = last(&f);
            out.push(f);
            if done {
                return out;
            }
        }
    }

    /// Reads for `ms` and returns (and consumes) every frame buffered and read.
    pub async fn drain_for(&mut self, ms: u64) -> Vec<F> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Read::Frame(f) = self.read(deadline).await {
            self.pending.push_back(f);
        }
        self.pending.drain(..).collect()
    }

    /// Reads until the server closes; returns (code, reason) and the frames before it.
    pub async fn until_closed(&mut self) -> ((u16, String), Vec<F>) {
        let mut frames: Vec<F> = self.pending.drain(..).collect();
        loop {
            let deadline = tokio::time::Instant::now() + WAIT;
            match self.read(deadline).await {
                Read::Frame(f) => frames.push(f),
                Read::Closed => break,
                Read::Timeout => panic!("{}: not closed within {WAIT:?}", self.node),
            }
        }
        (self.closed.clone().unwrap_or_default(), frames)
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

    /// Closes like an app going away (a close frame, 1000), waiting up to
    /// `within` for the server's answer.
    async fn shut(&mut self, within: Duration) {
        if self.closed.is_some() {
            return;
        }
        let _ = self.stream.close(None).await;
        let deadline = tokio::time::Instant::now() + within;
        while let Read::Frame(_) = self.read(deadline).await {}
        self.closed.get_or_insert((1000, String::new()));
    }

    /// One frame from the socket before `deadline`.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Read<F> {
        if self.closed.is_some() {
            return Read::Closed;
        }
        loop {
            let Ok(msg) = tokio::time::timeout_at(deadline, self.stream.next()).await else {
                return Read::Timeout;
            };
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let text = t.to_string();
                    let v = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("{}: frame is not JSON: {text}", self.node));
                    return Read::Frame(F::from(Frame {
                        v,
                        text,
                        at: Instant::now(),
                    }));
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(
                        frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new())),
                    );
                    return Read::Closed;
                }
                Some(Ok(_)) => continue, // ping/pong/binary: not protocol frames
                Some(Err(_)) | None => {
                    self.closed.get_or_insert((1006, String::new()));
                    return Read::Closed;
                }
            }
        }
    }
}

/// The seqs of room events.
pub fn seqs<F: Received>(events: &[F]) -> Vec<i64> {
    events
        .iter()
        .map(|f| f.value()["seq"].as_i64().expect("room events have a seq"))
        .collect()
}

/// Asserts that room events seen by one client have strictly consecutive seqs.
#[track_caller]
pub fn assert_gap_free<F: Received>(events: &[F]) {
    for pair in events.windows(2) {
        let (a, b) = (pair[0].value(), pair[1].value());
        assert_eq!(
            b["seq"].as_i64(),
            a["seq"].as_i64().map(|s| s + 1),
            "seq gap between {a} and {b}"
        );
    }
}

/// Asserts that seqs go up by exactly 1, starting right after `after`.
#[track_caller]
pub fn assert_gap_free_after<F: Received>(what: &str, after: i64, events: &[F]) {
    for (expected, f) in (after + 1..).zip(events) {
        assert_eq!(
            f.value()["seq"].as_i64(),
            Some(expected),
            "{what}: seq gap or repeat at {} (expected seq {expected}); seqs: {:?}",
            f.value(),
            seqs(events)
        );
    }
}
