//! Benchmark peer "actix-broadcast": the workload protocol (benches/peers/README.md)
//! on the same stack as huddle (actix 0.13, actix-web 4, actix-web-actors 4.3)
//! with nothing else: no auth, no persistence, no cluster. It is the ceiling
//! for our stack on the machine it runs on.
//!
//! - `GET /ws?uid=U`: one [`Session`] actor per WebSocket connection, its
//!   mailbox bounded by `PEER_OUTBOUND_LIMIT` (1024, as huddle's default). A
//!   connection whose mailbox is full is a slow consumer and is closed with
//!   4008 (as huddle does).
//! - Rooms live in [`Shard`] actors (a registry split by hash of the room id,
//!   `PEER_SHARDS` of them, default one per CPU, each on its own arbiter
//!   thread). The shard owning a room sends the join ack and the events, so an
//!   ack always precedes that room's events on the connection. An event is
//!   serialised once into a [`ByteString`] and every member gets a clone of it
//!   (a reference count bump), never a copy of the text.
//! - A room exists while it has members; an emit into a room without members
//!   answers an error. Its seq starts again from 0 when it is next created.
//! - `GET /room/{id}`: a JSON body shaped like huddle's room detail envelope
//!   (~1 KB, 5 members), serialised per request: the "bare actix-web JSON
//!   handler" baseline for the REST scenario.
//!
//! Listens on `PEER_ADDR` (default 127.0.0.1:9001), prints `listening <addr>`,
//! raises its own soft fd limit to the hard limit, and exits on SIGTERM/SIGINT
//! (open connections are dropped after one second).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Close code for a connection that does not keep up (huddle's `SLOW_CONSUMER`).
const SLOW_CONSUMER: u16 = 4008;

// ---------------------------------------------------------------- messages

/// What a shard sends a connection.
#[derive(Message)]
#[rtype(result = "()")]
enum Out {
    /// Write this text frame.
    Frame(ByteString),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// How a shard reaches a connection.
type Outbox = Recipient<Out>;

#[derive(Message)]
#[rtype(result = "()")]
struct Join {
    room: String,
    id: Value,
    conn: u64,
    outbox: Outbox,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Emit {
    room: String,
    from: String,
    t: Number,
    outbox: Outbox,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Leave {
    room: String,
    conn: u64,
}

// ---------------------------------------------------------------- frames

#[derive(Serialize)]
#[serde(tag = "type")]
enum ServerFrame<'a> {
    #[serde(rename = "hello")]
    Hello { uid: &'a str },
    #[serde(rename = "ack")]
    Ack {
        op: &'static str,
        #[serde(skip_serializing_if = "Value::is_null")]
        id: &'a Value,
        #[serde(rename = "roomId")]
        room_id: &'a str,
        seq: u64,
    },
    #[serde(rename = "room.event")]
    Event {
        #[serde(rename = "roomId")]
        room_id: &'a str,
        seq: u64,
        from: &'a str,
        t: &'a Number,
    },
    #[serde(rename = "pong")]
    Pong {
        #[serde(skip_serializing_if = "Value::is_null")]
        id: &'a Value,
    },
    #[serde(rename = "error")]
    Error { message: &'a str },
}

impl ServerFrame<'_> {
    fn encode(&self) -> ByteString {
        // Serialising these plain structs cannot fail.
        ByteString::from(serde_json::to_string(self).unwrap_or_default())
    }
}

/// What a client sends.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum ClientOp {
    Join {
        #[serde(rename = "roomId")]
        room_id: String,
        #[serde(default)]
        id: Value,
    },
    Emit {
        #[serde(rename = "roomId")]
        room_id: String,
        from: String,
        t: Number,
    },
    Leave {
        #[serde(rename = "roomId")]
        room_id: String,
    },
    Ping {
        #[serde(default)]
        id: Value,
    },
}

// ---------------------------------------------------------------- rooms

/// The shards, indexed by hash of the room id.
#[derive(Clone)]
struct Shards(Arc<[Addr<Shard>]>);

impl Shards {
    fn of(&self, room: &str) -> &Addr<Shard> {
        let mut h = DefaultHasher::new();
        room.hash(&mut h);
        &self.0[(h.finish() % self.0.len() as u64) as usize]
    }
}

/// A part of the room registry: the rooms whose id hashes to it.
#[derive(Default)]
struct Shard {
    rooms: HashMap<String, Room>,
}

#[derive(Default)]
struct Room {
    seq: u64,
    members: HashMap<u64, Outbox>,
}

impl Actor for Shard {
    type Context = Context<Self>;
}

/// Queues `frame` without waiting; `false` if the connection is gone or full
/// (then it is asked to close and should be dropped from the room).
fn offer(outbox: &Outbox, frame: ByteString) -> bool {
    match outbox.try_send(Out::Frame(frame)) {
        Ok(()) => true,
        Err(SendError::Full(_)) => {
            outbox.do_send(Out::Close(SLOW_CONSUMER, "slow consumer"));
            false
        }
        Err(SendError::Closed(_)) => false,
    }
}

impl Shard {
    fn remove(&mut self, room_id: &str, conn: u64) {
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.members.remove(&conn);
            if room.members.is_empty() {
                self.rooms.remove(room_id);
            }
        }
    }
}

impl Handler<Join> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Join, _: &mut Context<Self>) {
        let room = self.rooms.entry(msg.room.clone()).or_default();
        let ack = ServerFrame::Ack {
            op: "join",
            id: &msg.id,
            room_id: &msg.room,
            seq: room.seq,
        }
        .encode();
        if offer(&msg.outbox, ack) {
            room.members.insert(msg.conn, msg.outbox);
        } else if room.members.is_empty() {
            self.rooms.remove(&msg.room);
        }
    }
}

impl Handler<Emit> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Emit, _: &mut Context<Self>) {
        let Some(room) = self.rooms.get_mut(&msg.room) else {
            let error = ServerFrame::Error {
                message: "no such room",
            };
            offer(&msg.outbox, error.encode());
            return;
        };
        room.seq += 1;
        let frame = ServerFrame::Event {
            room_id: &msg.room,
            seq: room.seq,
            from: &msg.from,
            t: &msg.t,
        }
        .encode();
        let mut dropped = Vec::new();
        for (conn, outbox) in &room.members {
            if !offer(outbox, frame.clone()) {
                dropped.push(*conn);
            }
        }
        for conn in dropped {
            self.remove(&msg.room, conn);
        }
    }
}

impl Handler<Leave> for Shard {
    type Result = ();

    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        self.remove(&msg.room, msg.conn);
    }
}

// ---------------------------------------------------------------- connections

/// One WebSocket connection.
struct Session {
    conn: u64,
    uid: String,
    rooms: HashSet<String>,
    shards: Shards,
    outbound_limit: usize,
}

impl Actor for Session {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.outbound_limit);
        ctx.text(ServerFrame::Hello { uid: &self.uid }.encode());
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for room in self.rooms.drain() {
            let conn = self.conn;
            self.shards.of(&room).do_send(Leave { room, conn });
        }
    }
}

impl Session {
    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let op = match serde_json::from_str::<ClientOp>(text) {
            Ok(op) => op,
            Err(e) => {
                let message = format!("bad request: {e}");
                ctx.text(ServerFrame::Error { message: &message }.encode());
                return;
            }
        };
        match op {
            ClientOp::Join { room_id, id } => {
                self.rooms.insert(room_id.clone());
                self.shards.of(&room_id).do_send(Join {
                    room: room_id,
                    id,
                    conn: self.conn,
                    outbox: ctx.address().recipient(),
                });
            }
            ClientOp::Emit { room_id, from, t } => {
                self.shards.of(&room_id).do_send(Emit {
                    room: room_id,
                    from,
                    t,
                    outbox: ctx.address().recipient(),
                });
            }
            ClientOp::Leave { room_id } => {
                if self.rooms.remove(&room_id) {
                    let conn = self.conn;
                    self.shards.of(&room_id).do_send(Leave {
                        room: room_id,
                        conn,
                    });
                }
            }
            ClientOp::Ping { id } => ctx.text(ServerFrame::Pong { id: &id }.encode()),
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Session {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match msg {
            Ok(ws::Message::Text(text)) => self.on_text(&text, ctx),
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Binary(_)) | Ok(ws::Message::Continuation(_)) => ctx.text(
                ServerFrame::Error {
                    message: "text frames only",
                }
                .encode(),
            ),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(_) => ctx.stop(),
        }
    }
}

impl Handler<Out> for Session {
    type Result = ();

    fn handle(&mut self, msg: Out, ctx: &mut Self::Context) {
        match msg {
            Out::Frame(frame) => ctx.text(frame),
            Out::Close(code, reason) => {
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Other(code),
                    description: Some(reason.to_owned()),
                }));
                ctx.stop();
            }
        }
    }
}

/// What the handlers share.
struct Peer {
    shards: Shards,
    outbound_limit: usize,
}

#[derive(Deserialize)]
struct WsQuery {
    uid: String,
}

async fn ws_route(
    req: HttpRequest,
    stream: web::Payload,
    query: web::Query<WsQuery>,
    peer: web::Data<Peer>,
) -> actix_web::Result<HttpResponse> {
    static NEXT_CONN: AtomicU64 = AtomicU64::new(1);
    let session = Session {
        conn: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
        uid: query.into_inner().uid,
        rooms: HashSet::new(),
        shards: peer.shards.clone(),
        outbound_limit: peer.outbound_limit,
    };
    ws::start(session, &req, stream)
}

// ---------------------------------------------------------------- REST baseline

/// The room detail as huddle's `GET /room/{roomId}` returns it (docs/api.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoomDetail<'a> {
    club_id: &'a str,
    club_result: Club<'a>,
    create_time: u64,
    invite_only: u8,
    member_list: [Member<'a>; 5],
    member_total: u32,
    name: &'a str,
    room_id: &'a str,
    uid: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Club<'a> {
    club_id: &'a str,
    invite_only: u8,
    cover: &'a str,
    create_time: u64,
    member_total: u32,
    joined: u8,
    name: &'a str,
    uid: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Member<'a> {
    allow_live: u8,
    avatar: &'a str,
    bio: &'a str,
    blocked: u8,
    card_total: u32,
    nickname: &'a str,
    send_card: u8,
    uid: &'a str,
}

#[derive(Serialize)]
struct Envelope<T> {
    result: T,
    message: &'static str,
    status: u8,
}

const UIDS: [&str; 5] = [
    "6ce4443c8fcd4a2b8b407bda86ab4408",
    "800fd752a5284eeb82396fe7478175eb",
    "0b6d2c8e9f1a4e0c9a4f3c6d8e2b7a15",
    "4f2a9c1d7e3b4a8c9d0e1f2a3b4c5d6e",
    "9e8d7c6b5a4f4e3d8c2b1a0f9e8d7c6b",
];

const AVATARS: [&str; 5] = [
    "https://cdn.example.com/a/49d8ec7c29474523868a73eb0d395557.jpg",
    "https://cdn.example.com/a/1f0c2d3e4b5a49687a8b9c0d1e2f3a4b.jpg",
    "",
    "https://cdn.example.com/a/7c6b5a4f3e2d41c0b9a8f7e6d5c4b3a2.jpg",
    "",
];

fn member(i: usize) -> Member<'static> {
    Member {
        allow_live: u8::from(i < 2),
        avatar: AVATARS[i],
        bio: if i == 0 { "有bug别找我！" } else { "" },
        blocked: 0,
        card_total: 3,
        nickname: ["Toby", "Mia", "小王", "Lee", "Ana"][i],
        send_card: 0,
        uid: UIDS[i],
    }
}

async fn room_route(path: web::Path<String>) -> HttpResponse {
    let room_id = path.into_inner();
    let club_id = "ea01330db4ad49288dce2b8bcb00240b";
    HttpResponse::Ok().json(Envelope {
        result: RoomDetail {
            club_id,
            club_result: Club {
                club_id,
                invite_only: 0,
                cover: "https://cdn.example.com/c/759d404cbe07494785a1c498dc328373.jpg",
                create_time: 1_614_426_859_268,
                member_total: 3,
                joined: 1,
                name: "Bug交流圈",
                uid: UIDS[0],
            },
            create_time: 1_616_559_267_214,
            invite_only: 0,
            member_list: [member(0), member(1), member(2), member(3), member(4)],
            member_total: 5,
            name: "测试",
            room_id: &room_id,
            uid: UIDS[0],
        },
        message: "Success",
        status: 1,
    })
}

// ---------------------------------------------------------------- main

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("PEER_ADDR").unwrap_or_else(|_| "127.0.0.1:9001".into());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = env_usize("PEER_WORKERS", cpus);
    let shard_count = env_usize("PEER_SHARDS", cpus);
    let outbound_limit = env_usize("PEER_OUTBOUND_LIMIT", 1024);

    // Raise the soft fd limit as far as the hard limit allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => eprintln!("fd limit {n}"),
        Err(e) => eprintln!("could not raise the fd limit: {e}"),
    }

    let shards: Arc<[Addr<Shard>]> = (0..shard_count)
        .map(|_| Shard::start_in_arbiter(&Arbiter::new().handle(), |_| Shard::default()))
        .collect();
    let peer = web::Data::new(Peer {
        shards: Shards(shards),
        outbound_limit,
    });

    let server = HttpServer::new(move || {
        App::new()
            .app_data(peer.clone())
            .route("/ws", web::get().to(ws_route))
            .route("/room/{id}", web::get().to(room_route))
    })
    .workers(workers)
    .backlog(4096)
    // actix-server's default is 25,000 per worker; leave the fd limit in charge.
    .max_connections(1_000_000)
    .shutdown_timeout(1)
    .bind(&addr)?;
    for a in server.addrs() {
        println!("listening {a}");
    }
    eprintln!("{workers} workers, {shard_count} room shards, outbound limit {outbound_limit}");
    // Handles SIGTERM/SIGINT itself: stops accepting, then drops connections after shutdown_timeout.
    server.run().await
}
