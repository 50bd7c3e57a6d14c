//! One WebSocket session: connect from a source address, greet, then follow
//! commands (join, emit) while reading every frame: seq checks, deliveries,
//! latencies, and for join-storm the member view.
//!
//! Three wire protocols: huddle's `/ws`, the peers' plain WebSocket protocol
//! (`benches/peers/`), and Socket.IO v4 over a raw WebSocket.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::api::User;
use crate::stats::Stats;

type Ws = WebSocketStream<TcpStream>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// huddle `/ws`: signed URL, `join` / `raise_hand` / `lower_hand`.
    Huddle,
    /// The peers' plain WebSocket protocol: `join` / `emit` / `room.event`.
    Ws,
    /// The same workload over Engine.IO v4 / Socket.IO.
    SocketIo,
}

/// What every connection shares: the rooms, the emitters' send times, counters.
pub struct World {
    pub proto: Proto,
    /// `host:port` as written in URLs.
    pub server: String,
    pub server_addr: SocketAddr,
    pub stats: Arc<Stats>,
    /// The run's monotonic epoch: embedded timestamps are µs since it.
    pub epoch: Instant,
    /// Room ids on the wire.
    pub rooms: Vec<String>,
    pub room_index: HashMap<String, usize>,
    /// Events that happened per room (huddle: acked toggles; peers: emits sent).
    pub room_events: Vec<AtomicU64>,
    /// Connections joined per room.
    pub room_members: Vec<AtomicU64>,
    /// Highest seq anyone saw per room.
    pub room_max_seq: Vec<AtomicU64>,
    /// huddle: emitter uid → slot in `sends`.
    pub emitter_slots: HashMap<String, usize>,
    /// huddle: per emitter slot, the send instant (µs since epoch, +1; 0 = unset)
    /// of its nth toggle.
    pub sends: Vec<Box<[AtomicU64]>>,
    /// join-storm: uid → user number, for the per-connection member view.
    pub storm: Option<HashMap<String, u32>>,
    pub storm_users: usize,
    /// join-storm (huddle): per user, when its token request was sent (µs + 1).
    pub join_sent: Vec<AtomicU64>,
    /// Per connection: the last seq it saw + 1 (0 = none yet).
    pub conn_last_seq: Vec<AtomicU64>,
    pub stop: watch::Receiver<bool>,
    pub ws_config: WebSocketConfig,
}

impl World {
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// Who a connection is.
pub struct ConnSpec {
    pub idx: usize,
    /// The uid on the wire (peers) or the huddle uid.
    pub uid: String,
    pub user: Option<Arc<User>>,
    pub source: Option<IpAddr>,
}

pub enum Cmd {
    /// Join a room; the answer is the join's seq.
    Join {
        room: usize,
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// One scenario event: huddle toggles the hand (n even: raise), the peers emit.
    Emit { room: usize, slot: usize, n: u32 },
}

#[derive(Debug, Clone)]
pub struct RoomReport {
    pub room: usize,
    pub join_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

/// What a connection saw, handed back when it ends.
#[derive(Debug, Default)]
pub struct ConnReport {
    pub connected: bool,
    pub rooms: Vec<RoomReport>,
    /// join-storm: bit per user this connection knows as a member.
    pub view: Option<Vec<u64>>,
    /// join-storm: members announced twice (or announced while already known).
    pub dups: u64,
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", default, borrow)]
    ty: Option<&'a str>,
    #[serde(rename = "roomId", default, borrow)]
    room_id: Option<&'a str>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default, borrow)]
    uid: Option<&'a str>,
    #[serde(default, borrow)]
    from: Option<&'a str>,
    #[serde(default)]
    t: Option<u64>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, borrow)]
    op: Option<&'a str>,
    #[serde(default)]
    changed: Option<bool>,
    #[serde(default, borrow)]
    code: Option<&'a str>,
    #[serde(default, borrow)]
    member: Option<MemberRef<'a>>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct MemberRef<'a> {
    #[serde(borrow)]
    uid: &'a str,
}

#[derive(Deserialize)]
struct AckRoom<'a> {
    #[serde(default, borrow)]
    room: Option<RoomSnap<'a>>,
}

#[derive(Deserialize)]
struct RoomSnap<'a> {
    #[serde(default, borrow)]
    members: Vec<MemberRef<'a>>,
}

fn ws_url(world: &World, spec: &ConnSpec) -> Result<String, String> {
    Ok(match world.proto {
        Proto::Huddle => spec
            .user
            .as_ref()
            .ok_or("a huddle connection needs a user")?
            .ws_url(&world.server),
        Proto::Ws => format!("ws://{}/ws?uid={}", world.server, spec.uid),
        Proto::SocketIo => format!(
            "ws://{}/socket.io/?EIO=4&transport=websocket&uid={}",
            world.server, spec.uid
        ),
    })
}

async fn connect(world: &World, spec: &ConnSpec) -> Result<Ws, (&'static str, String)> {
    let url = ws_url(world, spec).map_err(|e| ("connect", e))?;
    let socket = if world.server_addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| ("connect_socket", e.to_string()))?;
    if let Some(ip) = spec.source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| ("connect_bind", format!("bind {ip}: {e}")))?;
    }
    let tcp = socket
        .connect(world.server_addr)
        .await
        .map_err(|e| ("connect_tcp", e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    match tokio_tungstenite::client_async_with_config(url, tcp, Some(world.ws_config)).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(res)) => {
            let body = res
                .body()
                .as_ref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(200)
                        .collect::<String>()
                })
                .unwrap_or_default();
            Err(("connect_refused", format!("HTTP {}: {body}", res.status())))
        }
        Err(e) => Err(("connect_upgrade", e.to_string())),
    }
}

/// The next text frame (pings and pongs skipped).
async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(f))) => return Err(format!("closed: {f:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed".into()),
        }
    }
}

/// Waits for `hello` (huddle, ws) or does the Engine.IO/Socket.IO handshake.
async fn greet(ws: &mut Ws, proto: Proto) -> Result<(), String> {
    match proto {
        Proto::Huddle | Proto::Ws => loop {
            let t = next_text(ws).await?;
            if t.contains("\"hello\"") {
                return Ok(());
            }
        },
        Proto::SocketIo => {
            let open = next_text(ws).await?;
            if !open.starts_with('0') {
                return Err(format!("expected an Engine.IO open packet, got {open}"));
            }
            ws.send(Message::text("40"))
                .await
                .map_err(|e| e.to_string())?;
            loop {
                let t = next_text(ws).await?;
                if t.starts_with("40") {
                    return Ok(());
                } else if t == "2" {
                    ws.send(Message::text("3"))
                        .await
                        .map_err(|e| e.to_string())?;
                } else if t.starts_with("44") {
                    return Err(format!("namespace refused: {t}"));
                }
            }
        }
    }
}

struct RoomState {
    room: usize,
    join_seq: Option<u64>,
    last_seq: Option<u64>,
}

/// A join waiting for its answer: (request id, room, reply).
type PendingJoin = (u64, usize, oneshot::Sender<Result<u64, String>>);

struct State {
    world: Arc<World>,
    idx: usize,
    uid: String,
    next_id: u64,
    rooms: Vec<RoomState>,
    /// Joins waiting for their answer: (id, room, reply).
    pending: Vec<PendingJoin>,
    /// huddle: hand events seen per emitter slot.
    counts: HashMap<usize, u32>,
    view: Option<Vec<u64>>,
    dups: u64,
}

impl State {
    async fn command(&mut self, ws: &mut Ws, cmd: Cmd) -> Result<(), String> {
        let w = self.world.clone();
        match cmd {
            Cmd::Join { room, reply } => {
                self.next_id += 1;
                let id = self.next_id;
                if !self.rooms.iter().any(|r| r.room == room) {
                    self.rooms.push(RoomState {
                        room,
                        join_seq: None,
                        last_seq: None,
                    });
                }
                if w.storm.is_some() && self.view.is_none() {
                    self.view = Some(vec![0u64; w.storm_users.div_ceil(64)]);
                }
                let rid = &w.rooms[room];
                let text = match w.proto {
                    Proto::Huddle | Proto::Ws => {
                        format!(r#"{{"op":"join","id":{id},"roomId":"{rid}"}}"#)
                    }
                    Proto::SocketIo => format!(r#"42{id}["join",{{"roomId":"{rid}"}}]"#),
                };
                self.pending.push((id, room, reply));
                ws.send(Message::text(text))
                    .await
                    .map_err(|e| e.to_string())
            }
            Cmd::Emit { room, slot, n } => {
                let rid = &w.rooms[room];
                let uid = &self.uid;
                let text = match w.proto {
                    Proto::Huddle => {
                        self.next_id += 1;
                        let id = self.next_id;
                        let op = if n % 2 == 0 {
                            "raise_hand"
                        } else {
                            "lower_hand"
                        };
                        if let Some(cell) = w.sends.get(slot).and_then(|s| s.get(n as usize)) {
                            cell.store(w.now_us() + 1, Ordering::Release);
                        }
                        format!(r#"{{"op":"{op}","id":{id},"roomId":"{rid}"}}"#)
                    }
                    Proto::Ws => format!(
                        r#"{{"op":"emit","roomId":"{rid}","from":"{uid}","t":{}}}"#,
                        w.now_us()
                    ),
                    Proto::SocketIo => format!(
                        r#"42["emit",{{"roomId":"{rid}","from":"{uid}","t":{}}}]"#,
                        w.now_us()
                    ),
                };
                w.stats.events_sent.fetch_add(1, Ordering::Relaxed);
                if w.proto != Proto::Huddle {
                    w.room_events[room].fetch_add(1, Ordering::Relaxed);
                }
                ws.send(Message::text(text))
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Handles one text frame; an error ends the connection.
    async fn text(&mut self, ws: &mut Ws, t: &str) -> Result<(), String> {
        let w = self.world.clone();
        match w.proto {
            Proto::Huddle | Proto::Ws => match serde_json::from_str::<Frame>(t) {
                Ok(f) => self.frame(&f, t),
                Err(e) => w.stats.error_with("bad_frame", format!("{e}: {t}")),
            },
            Proto::SocketIo => {
                if t == "2" {
                    return ws.send(Message::text("3")).await.map_err(|e| e.to_string());
                }
                if let Some(rest) = t.strip_prefix("42") {
                    match serde_json::from_str::<(&str, Frame)>(rest) {
                        Ok(("room.event", f)) => self.room_event("room.event", &f),
                        Ok(("error", _)) => w.stats.error_with("server_error", t),
                        Ok(_) => {}
                        Err(e) => w.stats.error_with("bad_frame", format!("{e}: {t}")),
                    }
                } else if let Some(rest) = t.strip_prefix("43") {
                    let open = rest.find('[').unwrap_or(rest.len());
                    let id: Option<u64> = rest[..open].parse().ok();
                    match serde_json::from_str::<Vec<Frame>>(&rest[open..]) {
                        Ok(args) => match args.first() {
                            Some(f) => self.ack(id, f, t),
                            None => w.stats.error_with("bad_frame", t),
                        },
                        Err(e) => w.stats.error_with("bad_frame", format!("{e}: {t}")),
                    }
                } else if t.starts_with("41") || t == "1" {
                    return Err(format!("server disconnected: {t}"));
                } else if t.starts_with("44") {
                    w.stats.error_with("server_error", t);
                }
            }
        }
        Ok(())
    }

    fn frame(&mut self, f: &Frame, raw: &str) {
        match f.ty.unwrap_or("") {
            "ack" => self.ack(f.id, f, raw),
            "error" => {
                let pos =
                    f.id.and_then(|id| self.pending.iter().position(|p| p.0 == id));
                if let Some(pos) = pos {
                    let (_, _, reply) = self.pending.swap_remove(pos);
                    let _ = reply.send(Err(raw.chars().take(300).collect()));
                } else {
                    let code = f.code.unwrap_or("unknown");
                    self.world
                        .stats
                        .error_with(&format!("op_error_{code}"), raw);
                }
            }
            ty if ty.starts_with("room.") => self.room_event(ty, f),
            _ => {} // hello, pong, user and topic events
        }
    }

    fn ack(&mut self, id: Option<u64>, f: &Frame, raw: &str) {
        let w = self.world.clone();
        let pos = id.and_then(|id| self.pending.iter().position(|p| p.0 == id));
        if let Some(pos) = pos {
            let (_, room, reply) = self.pending.swap_remove(pos);
            let Some(seq) = f.seq.filter(|_| f.error.is_none()) else {
                let _ = reply.send(Err(format!(
                    "join answer without seq: {}",
                    raw.chars().take(300).collect::<String>()
                )));
                return;
            };
            if let Some(rs) = self.rooms.iter_mut().find(|r| r.room == room) {
                rs.join_seq = Some(seq);
                if rs.last_seq.is_none_or(|l| l < seq) {
                    rs.last_seq = Some(seq);
                    w.conn_last_seq[self.idx].store(seq + 1, Ordering::Relaxed);
                }
                w.room_max_seq[room].fetch_max(seq, Ordering::Relaxed);
            }
            if w.proto == Proto::Huddle && w.storm.is_some() {
                match serde_json::from_str::<AckRoom>(raw) {
                    Ok(AckRoom {
                        room: Some(snapshot),
                    }) => {
                        for m in &snapshot.members {
                            self.mark(m.uid);
                        }
                    }
                    _ => w.stats.error("join_ack_without_room"),
                }
            }
            w.room_members[room].fetch_add(1, Ordering::Relaxed);
            let _ = reply.send(Ok(seq));
            return;
        }
        match f.op {
            Some("raise_hand") | Some("lower_hand") => {
                if f.changed == Some(true) {
                    w.stats.events_acked.fetch_add(1, Ordering::Relaxed);
                    if let Some(&room) = f.room_id.and_then(|r| w.room_index.get(r)) {
                        w.room_events[room].fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    w.stats.error("hand_unchanged");
                }
            }
            _ => {}
        }
    }

    /// A member seen in join-storm: set its bit, count it twice as a duplicate.
    fn mark(&mut self, uid: &str) {
        let (Some(index), Some(view)) = (
            self.world.storm.as_ref().and_then(|m| m.get(uid)),
            self.view.as_mut(),
        ) else {
            return;
        };
        let (word, bit) = (*index as usize / 64, 1u64 << (index % 64));
        if view[word] & bit != 0 {
            self.dups += 1;
        }
        view[word] |= bit;
    }

    fn room_event(&mut self, ty: &str, f: &Frame) {
        let w = self.world.clone();
        let Some(&room) = f.room_id.and_then(|r| w.room_index.get(r)) else {
            w.stats.error("event_of_unknown_room");
            return;
        };
        let Some(rs) = self.rooms.iter_mut().find(|r| r.room == room) else {
            w.stats.error("event_of_room_not_joined");
            return;
        };
        if let Some(seq) = f.seq {
            match rs.last_seq {
                Some(l) if seq == l + 1 => {}
                Some(l) if seq > l + 1 => {
                    w.stats.seq_gaps.fetch_add(1, Ordering::Relaxed);
                    w.stats
                        .seq_missing
                        .fetch_add(seq - l - 1, Ordering::Relaxed);
                }
                Some(_) => {
                    w.stats.seq_out_of_order.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
            if rs.last_seq.is_none_or(|l| seq > l) {
                rs.last_seq = Some(seq);
                w.conn_last_seq[self.idx].store(seq + 1, Ordering::Relaxed);
                w.room_max_seq[room].fetch_max(seq, Ordering::Relaxed);
            }
        }
        let now = w.now_us();
        match ty {
            "room.event" => {
                w.stats.deliveries.fetch_add(1, Ordering::Relaxed);
                w.stats.last_delivery_us.fetch_max(now, Ordering::Relaxed);
                if let Some(t) = f.t {
                    w.stats.latency.record(self.idx, now.saturating_sub(t));
                }
                if let Some(from) = f.from {
                    if w.storm.is_some() {
                        self.mark(from);
                    }
                }
            }
            "room.hand_raised" | "room.hand_lowered" => {
                w.stats.deliveries.fetch_add(1, Ordering::Relaxed);
                w.stats.last_delivery_us.fetch_max(now, Ordering::Relaxed);
                let sent = f
                    .uid
                    .and_then(|uid| w.emitter_slots.get(uid))
                    .and_then(|&slot| {
                        let c = self.counts.entry(slot).or_insert(0);
                        let n = *c as usize;
                        *c += 1;
                        let v = w.sends.get(slot)?.get(n)?.load(Ordering::Acquire);
                        (v > 0).then(|| v - 1)
                    });
                match sent {
                    Some(sent) => w.stats.latency.record(self.idx, now.saturating_sub(sent)),
                    None => {
                        w.stats.latency_unmatched.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            "room.member_joined" => {
                // Membership events are the deliveries of join-storm only.
                if let (Some(m), Some(storm)) = (&f.member, w.storm.as_ref()) {
                    w.stats.deliveries.fetch_add(1, Ordering::Relaxed);
                    w.stats.last_delivery_us.fetch_max(now, Ordering::Relaxed);
                    // Token request sent → membership event received.
                    let sent = storm
                        .get(m.uid)
                        .and_then(|&i| w.join_sent.get(i as usize))
                        .map(|c| c.load(Ordering::Acquire))
                        .unwrap_or(0);
                    if sent > 0 {
                        w.stats
                            .latency
                            .record(self.idx, now.saturating_sub(sent - 1));
                    }
                    self.mark(m.uid);
                }
            }
            _ => {}
        }
    }

    fn into_report(self, mut report: ConnReport) -> ConnReport {
        report.rooms = self
            .rooms
            .iter()
            .map(|r| RoomReport {
                room: r.room,
                join_seq: r.join_seq,
                last_seq: r.last_seq,
            })
            .collect();
        report.view = self.view;
        report.dups = self.dups;
        report
    }
}

/// Runs one connection until the world stops (or the server closes it).
pub async fn run(
    world: Arc<World>,
    spec: ConnSpec,
    connect_permits: Arc<Semaphore>,
    ready: oneshot::Sender<Result<(), (&'static str, String)>>,
    mut cmds: mpsc::Receiver<Cmd>,
) -> ConnReport {
    let mut report = ConnReport::default();
    let mut stop = world.stop.clone();
    let permit = tokio::select! {
        p = connect_permits.acquire_owned() => p.ok(),
        _ = stop.wait_for(|s| *s) => None,
    };
    if permit.is_none() {
        let _ = ready.send(Err(("stopped", String::new())));
        return report;
    }
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut ws = connect(&world, &spec).await?;
        greet(&mut ws, world.proto)
            .await
            .map_err(|e| ("connect_greeting", e))?;
        Ok::<_, (&'static str, String)>(ws)
    })
    .await;
    drop(permit);
    let mut ws = match attempt {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            let _ = ready.send(Err(e));
            return report;
        }
        Err(_) => {
            let _ = ready.send(Err(("connect_timeout", "no hello within 30 s".into())));
            return report;
        }
    };
    report.connected = true;
    let _ = ready.send(Ok(()));
    let mut st = State {
        world: world.clone(),
        idx: spec.idx,
        uid: spec.uid.clone(),
        next_id: 0,
        rooms: Vec::new(),
        pending: Vec::new(),
        counts: HashMap::new(),
        view: None,
        dups: 0,
    };
    let mut cmds_open = true;
    let mut server_closed = false;
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            cmd = cmds.recv(), if cmds_open => match cmd {
                Some(cmd) => {
                    if let Err(e) = st.command(&mut ws, cmd).await {
                        world.stats.error_with("ws_send", e);
                        server_closed = true;
                        break;
                    }
                }
                None => cmds_open = false,
            },
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if let Err(e) = st.text(&mut ws, t.as_str()).await {
                        world.stats.error_with("ws_closed", e);
                        server_closed = true;
                        break;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    world.stats.error("ws_closed");
                    world
                        .stats
                        .error_with(&format!("ws_close_{code}"), format!("conn {}: {reason}", spec.idx));
                    server_closed = true;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    world.stats.error("ws_closed");
                    world.stats.error_with("ws_error", e.to_string());
                    server_closed = true;
                    break;
                }
                None => {
                    world.stats.error("ws_closed");
                    server_closed = true;
                    break;
                }
            },
        }
    }
    if !server_closed {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
    }
    for (_, _, reply) in st.pending.drain(..) {
        let _ = reply.send(Err("connection ended".into()));
    }
    st.into_report(report)
}
