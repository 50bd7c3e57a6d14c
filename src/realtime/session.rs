//! [`MemberSession`]: one actor per WebSocket connection. It decodes client
//! ops, asks the room actors and the hub, writes what they send, keeps the
//! heartbeat, and on every exit path (close, timeout, error, slow consumer,
//! server shutdown) detaches itself from every room and from the hub in
//! `stopped`, which actix runs whichever way the actor ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, ProtocolError};
use bytes::BytesMut;
use huddle_actors::outbound::{close, ConnId, Outbound};
use huddle_actors::repo::club::GetClub;
use huddle_actors::repo::event::GetEvent;
use huddle_actors::repo::Repo;
use huddle_actors::room::{
    Attach, ChangeSpeaker, Detach, Leave, RemoveMember, Resume, RoomActor, RoomError, Rooms,
    SetHand,
};
use huddle_actors::{RoomId, SessionId, SharedClock, Uid};
use serde_json::Value;

use super::hub::{self, Hub};
use super::protocol::{self, ClientOp, ErrorCode, Hello, Refusal, Request, Topic};
use crate::auth::sessions::Sessions;
use crate::envelope::ApiError;
use crate::ratelimit::MessageBudget;

/// Most rooms one connection may have joined at once.
pub const MAX_ROOMS_PER_CONNECTION: usize = 8;

/// Per-connection limits (from the configuration).
#[derive(Debug, Clone)]
pub struct WsLimits {
    /// Server ping interval.
    pub ping_interval: Duration,
    /// Silence before closing.
    pub idle_timeout: Duration,
    /// Frames queued before the connection is a slow consumer.
    pub outbound_limit: usize,
    /// Largest message (bytes, fragments included).
    pub max_frame_bytes: usize,
    /// Malformed frames tolerated.
    pub max_bad_frames: u32,
    /// How often the connection checks its login session again.
    pub session_check: Duration,
    /// Frames a connection may send per second (0: no limit).
    pub messages_per_second: u32,
    /// Connections one user may hold on this node (0: no limit).
    pub connections_per_user: usize,
}

/// What a session needs from the node.
#[derive(Clone)]
pub struct SessionDeps {
    /// Login sessions (re-checked while connected).
    pub sessions: Arc<Sessions>,
    /// Room actors.
    pub rooms: Rooms,
    /// The node's hub.
    pub hub: Addr<Hub>,
    /// The repository (subscription checks).
    pub repo: Repo,
    /// The clock.
    pub clock: SharedClock,
    /// Limits.
    pub limits: Arc<WsLimits>,
}

/// One WebSocket connection of one user.
pub struct MemberSession {
    conn: ConnId,
    uid: Uid,
    /// The login session the upgrade was authenticated with.
    session_id: SessionId,
    deps: SessionDeps,
    /// Rooms this connection joined, for detaching on exit.
    joined: HashMap<RoomId, Addr<RoomActor>>,
    /// Last time anything arrived from the client.
    last_heard: Instant,
    /// Malformed frames so far.
    bad_frames: u32,
    /// A fragmented message being reassembled (text?, bytes so far).
    partial: Option<(bool, BytesMut)>,
    /// Frames this connection may still send now.
    budget: MessageBudget,
}

impl MemberSession {
    /// A connection of `uid`, logged in with `session_id`.
    pub fn new(uid: Uid, session_id: SessionId, deps: SessionDeps) -> Self {
        Self {
            conn: ConnId::next(),
            uid,
            session_id,
            joined: HashMap::new(),
            last_heard: Instant::now(),
            bad_frames: 0,
            partial: None,
            budget: MessageBudget::new(deps.limits.messages_per_second, Instant::now()),
            deps,
        }
    }

    fn close(ctx: &mut ws::WebsocketContext<Self>, code: u16, reason: &str) {
        super::close_socket(ctx, code, reason);
    }

    fn refuse(&mut self, refusal: &Refusal, ctx: &mut ws::WebsocketContext<Self>) {
        ctx.text(refusal.frame());
        if refusal.code.is_misbehaviour() {
            self.bad_frames += 1;
            if self.bad_frames > self.deps.limits.max_bad_frames {
                let reason = if refusal.code == ErrorCode::RateLimited {
                    "too many messages"
                } else {
                    "too many bad frames"
                };
                Self::close(ctx, close::POLICY_VIOLATION, reason);
            }
        }
    }

    /// Spends a frame from the budget; over it, the frame is refused (an
    /// `error` frame `rate_limited`, counted as a bad frame) and `false`
    /// returned. A fragment over the budget closes the connection at once: a
    /// fragmented message cannot be half refused.
    fn within_rate(&mut self, msg: &ws::Message, ctx: &mut ws::WebsocketContext<Self>) -> bool {
        if !super::counts_toward_rate(msg) || self.budget.take(Instant::now()) {
            return true;
        }
        if let ws::Message::Continuation(_) = msg {
            self.partial = None;
            Self::close(ctx, close::POLICY_VIOLATION, "too many messages");
            return false;
        }
        let id = match msg {
            ws::Message::Text(text) => match protocol::decode(text) {
                Ok(request) => request.id,
                Err(refusal) => refusal.id,
            },
            _ => None,
        };
        let refusal = Refusal {
            id,
            op: None,
            code: ErrorCode::RateLimited,
            message: format!(
                "more than {} frames a second: slow down",
                self.budget.per_second()
            ),
        };
        self.refuse(&refusal, ctx);
        false
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        match protocol::decode(text) {
            Ok(request) => self.run(request, ctx),
            Err(refusal) => self.refuse(&refusal, ctx),
        }
    }

    /// Runs an op. Ops of one connection run one at a time, in the order they
    /// arrived (`ctx.wait`), so their effects and answers keep that order.
    fn run(&mut self, request: Request, ctx: &mut ws::WebsocketContext<Self>) {
        let Request { id, op } = request;
        let name = op.name();
        let rooms = self.deps.rooms.clone();
        let uid = self.uid.clone();
        let conn = self.conn;
        match op {
            ClientOp::Ping => ctx.text(protocol::pong(id.as_ref(), self.deps.clock.now_ms())),
            ClientOp::Join { room_id } | ClientOp::Resume { room_id, .. }
                if !self.joined.contains_key(&room_id)
                    && self.joined.len() >= MAX_ROOMS_PER_CONNECTION =>
            {
                self.refuse(
                    &Refusal {
                        id,
                        op: Some(name),
                        code: ErrorCode::TooMany,
                        message: format!(
                            "a connection may be in at most {MAX_ROOMS_PER_CONNECTION} rooms"
                        ),
                    },
                    ctx,
                );
            }
            ClientOp::Join { room_id } => {
                let attach = Attach {
                    conn,
                    uid,
                    outbox: ctx.address().recipient(),
                    request_id: id.clone(),
                };
                self.enter(room_id, id, name, ctx, attach);
            }
            ClientOp::Resume { room_id, last_seq } => {
                let resume = Resume {
                    conn,
                    uid,
                    outbox: ctx.address().recipient(),
                    request_id: id.clone(),
                    last_seq,
                };
                self.enter(room_id, id, name, ctx, resume);
            }
            ClientOp::Leave { room_id } => {
                let ack_room = room_id.clone();
                self.answer(ctx, id, name, async move {
                    rooms.ask(&room_id, Leave { uid }).await?;
                    Ok(vec![("roomId", Value::from(ack_room.to_string()))])
                });
            }
            ClientOp::RaiseHand { room_id } | ClientOp::LowerHand { room_id } => {
                let raised = name == "raise_hand";
                self.answer(ctx, id, name, async move {
                    let changed = rooms.ask(&room_id, SetHand { uid, raised }).await?;
                    Ok(vec![
                        ("roomId", Value::from(room_id.to_string())),
                        ("changed", Value::from(changed)),
                    ])
                });
            }
            ClientOp::SpeakerAdd { room_id, uid: whom }
            | ClientOp::SpeakerRemove { room_id, uid: whom } => {
                let allowed = name == "speaker_add";
                self.answer(ctx, id, name, async move {
                    let change = ChangeSpeaker {
                        by: uid,
                        uid: whom.clone(),
                        allowed,
                    };
                    rooms.ask(&room_id, change).await?;
                    Ok(vec![
                        ("roomId", Value::from(room_id.to_string())),
                        ("uid", Value::from(whom.to_string())),
                    ])
                });
            }
            ClientOp::MemberRemove { room_id, uid: whom } => {
                self.answer(ctx, id, name, async move {
                    let remove = RemoveMember {
                        by: uid,
                        uid: whom.clone(),
                    };
                    rooms.ask(&room_id, remove).await?;
                    Ok(vec![
                        ("roomId", Value::from(room_id.to_string())),
                        ("uid", Value::from(whom.to_string())),
                    ])
                });
            }
            ClientOp::Subscribe(topic) => {
                let (repo, hub) = (self.deps.repo.clone(), self.deps.hub.clone());
                self.answer(ctx, id, name, async move {
                    let exists = match &topic {
                        Topic::Club(club_id) => repo
                            .run(GetClub {
                                club_id: club_id.clone(),
                                viewer: uid,
                            })
                            .await
                            .map(|c| c.is_some()),
                        Topic::Event(event_id) => repo
                            .run(GetEvent {
                                event_id: event_id.clone(),
                                viewer: uid,
                            })
                            .await
                            .map(|e| e.is_some()),
                    }
                    .map_err(|e| OpError::from(RoomError::from(e)))?;
                    if !exists {
                        return Err(OpError(ErrorCode::NotFound, "no such club or event".into()));
                    }
                    let field = topic_field(&topic);
                    let subscribed = hub
                        .send(hub::Subscribe { conn, topic })
                        .await
                        .map_err(|e| OpError::from(RoomError::from(e)))?;
                    if !subscribed {
                        return Err(OpError(
                            ErrorCode::TooMany,
                            format!(
                                "a connection may hold at most {} subscriptions",
                                hub::MAX_SUBSCRIPTIONS
                            ),
                        ));
                    }
                    Ok(vec![field])
                });
            }
            ClientOp::Unsubscribe(topic) => {
                let field = topic_field(&topic);
                self.deps.hub.do_send(hub::Unsubscribe { conn, topic });
                ctx.text(protocol::ack(id.as_ref(), name, &[field]));
            }
        }
    }

    /// Joins (or resumes) a room: the room writes the ack itself, in line with its events.
    fn enter<M>(
        &mut self,
        room_id: RoomId,
        id: Option<Value>,
        op: &'static str,
        ctx: &mut ws::WebsocketContext<Self>,
        attach: M,
    ) where
        M: Message<Result = Result<(), RoomError>> + Send + 'static,
        RoomActor: Handler<M>,
    {
        let rooms = self.deps.rooms.clone();
        let target = room_id.clone();
        let fut = async move {
            let addr = rooms.open(&target).await?;
            addr.send(attach).await??;
            Ok::<_, RoomError>(addr)
        };
        ctx.wait(
            fut.into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(addr) => {
                        act.joined.insert(room_id, addr);
                    }
                    Err(e) => {
                        let OpError(code, message) = e.into();
                        act.refuse(
                            &Refusal {
                                id,
                                op: Some(op),
                                code,
                                message,
                            },
                            ctx,
                        );
                    }
                }),
        );
    }

    /// Runs `work` and answers with an ack carrying its fields, or an error.
    fn answer<Fut>(
        &mut self,
        ctx: &mut ws::WebsocketContext<Self>,
        id: Option<Value>,
        op: &'static str,
        work: Fut,
    ) where
        Fut: std::future::Future<Output = Result<Vec<(&'static str, Value)>, OpError>> + 'static,
    {
        ctx.wait(
            work.into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(fields) => ctx.text(protocol::ack(id.as_ref(), op, &fields)),
                    Err(OpError(code, message)) => act.refuse(
                        &Refusal {
                            id,
                            op: Some(op),
                            code,
                            message,
                        },
                        ctx,
                    ),
                }),
        );
    }

    /// Closes the connection (4003) once its session was logged out, expired,
    /// or its account frozen. An outage keeps it open: it is checked again.
    fn check_session(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let sessions = self.deps.sessions.clone();
        let (session_id, uid) = (self.session_id.clone(), self.uid.clone());
        let check = async move { sessions.check(session_id, &uid).await };
        ctx.spawn(check.into_actor(self).map(|result, act, ctx| {
            let reason = match result {
                Ok(session) if session.account_frozen => "account frozen",
                Ok(_) => return,
                Err(ApiError::Unauthorized(_)) => "session ended: log in again",
                Err(e) => {
                    tracing::debug!(conn = act.conn.get(), error = %e, "session check failed");
                    return;
                }
            };
            Self::close(ctx, close::SESSION_ENDED, reason);
        }));
    }

    fn on_fragment(
        &mut self,
        item: actix_http::ws::Item,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> Option<(bool, BytesMut)> {
        let (text, chunk, last) = match item {
            actix_http::ws::Item::FirstText(b) => (Some(true), b, false),
            actix_http::ws::Item::FirstBinary(b) => (Some(false), b, false),
            actix_http::ws::Item::Continue(b) => (None, b, false),
            actix_http::ws::Item::Last(b) => (None, b, true),
        };
        match (text, self.partial.as_mut()) {
            (Some(is_text), None) => self.partial = Some((is_text, BytesMut::from(&chunk[..]))),
            (None, Some((_, buf))) => buf.extend_from_slice(&chunk),
            _ => {
                Self::close(ctx, close::PROTOCOL_ERROR, "unexpected continuation frame");
                return None;
            }
        }
        let size = self.partial.as_ref().map_or(0, |(_, b)| b.len());
        if size > self.deps.limits.max_frame_bytes {
            self.partial = None;
            Self::close(ctx, close::TOO_BIG, "message larger than the frame cap");
            return None;
        }
        if last {
            self.partial.take()
        } else {
            None
        }
    }
}

fn topic_field(topic: &Topic) -> (&'static str, Value) {
    match topic {
        Topic::Club(c) => ("clubId", Value::from(c.to_string())),
        Topic::Event(e) => ("eventId", Value::from(e.to_string())),
    }
}

/// A failed op, as an `error` frame will say it.
struct OpError(ErrorCode, String);

impl From<RoomError> for OpError {
    fn from(e: RoomError) -> Self {
        match e {
            RoomError::NotFound => Self(ErrorCode::NotFound, "room not found or closed".into()),
            RoomError::Forbidden(why) => Self(ErrorCode::Forbidden, why.into()),
            RoomError::NotMember => Self(ErrorCode::NotMember, e.to_string()),
            RoomError::BadRequest(why) => Self(ErrorCode::BadRequest, why.into()),
            RoomError::Repo(e) => {
                tracing::error!(error = %e, "websocket op failed");
                Self(ErrorCode::Unavailable, "try again later".into())
            }
            RoomError::Mailbox(e) => {
                tracing::warn!(error = %e, "room actor unavailable");
                Self(ErrorCode::Unavailable, "try again later".into())
            }
            RoomError::Unavailable(why) => {
                tracing::warn!(error = %why, "shared room state unavailable");
                Self(ErrorCode::Unavailable, "try again later".into())
            }
        }
    }
}

impl Actor for MemberSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.deps.limits.outbound_limit);
        let connect = self.deps.hub.send(hub::Connect {
            conn: self.conn,
            uid: self.uid.clone(),
            outbox: ctx.address().recipient(),
            limit: self.deps.limits.connections_per_user,
        });
        let limits = self.deps.limits.clone();
        // `hello` only once the hub (and, with Redis, the user's channel)
        // listens for this connection: nothing addressed to the user after
        // `hello` is missed. Nothing else is handled meanwhile.
        ctx.wait(connect.into_actor(self).map(|admitted, act, ctx| {
            let limits = &act.deps.limits;
            if let Ok(false) = admitted {
                // Another upgrade of the same user won the race past the door.
                Self::close(
                    ctx,
                    close::POLICY_VIOLATION,
                    "too many connections for this user",
                );
                return;
            }
            ctx.text(
                Hello {
                    kind: "hello",
                    uid: act.uid.clone(),
                    conn_id: act.conn.get(),
                    ts: act.deps.clock.now_ms(),
                    ping_interval_ms: u64::try_from(limits.ping_interval.as_millis()).unwrap_or(0),
                    idle_timeout_ms: u64::try_from(limits.idle_timeout.as_millis()).unwrap_or(0),
                    max_frame_bytes: limits.max_frame_bytes,
                }
                .frame(),
            );
        }));
        super::keep_alive(ctx, limits.ping_interval, limits.idle_timeout);
        ctx.run_interval(self.deps.limits.session_check, |act, ctx| {
            act.check_session(ctx)
        });
        tracing::debug!(conn = self.conn.get(), uid = %self.uid, "websocket open");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for room in self.joined.values() {
            room.do_send(Detach { conn: self.conn });
        }
        self.deps.hub.do_send(hub::Disconnect { conn: self.conn });
        tracing::debug!(conn = self.conn.get(), uid = %self.uid, "websocket closed");
    }
}

impl super::Heard for MemberSession {
    fn last_heard(&self) -> Instant {
        self.last_heard
    }
}

impl Handler<Outbound> for MemberSession {
    type Result = ();

    fn handle(&mut self, msg: Outbound, ctx: &mut Self::Context) {
        if let Some(room_id) = super::write_outbound(ctx, msg) {
            self.joined.remove(&room_id);
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for MemberSession {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        if let Ok(msg) = &item {
            if !self.within_rate(msg, ctx) {
                return;
            }
        }
        match item {
            Ok(ws::Message::Text(text)) => self.on_text(&text, ctx),
            Ok(ws::Message::Binary(_)) => self.refuse(
                &Refusal::bad_frame("binary frames are not supported; send JSON text"),
                ctx,
            ),
            Ok(ws::Message::Continuation(item)) => {
                if let Some((is_text, bytes)) = self.on_fragment(item, ctx) {
                    match (is_text, std::str::from_utf8(&bytes)) {
                        (true, Ok(text)) => self.on_text(text, ctx),
                        (true, Err(_)) => {
                            Self::close(ctx, close::INVALID_PAYLOAD, "text is not valid UTF-8")
                        }
                        (false, _) => self.refuse(
                            &Refusal::bad_frame("binary frames are not supported; send JSON text"),
                            ctx,
                        ),
                    }
                }
            }
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(e) if super::is_oversized(&e) => {
                Self::close(ctx, close::TOO_BIG, "message larger than the frame cap")
            }
            Err(e) => {
                tracing::debug!(conn = self.conn.get(), error = %e, "websocket protocol error");
                // actix reports a text frame that is not UTF-8 only as an I/O
                // error whose text names UTF-8; there is no typed variant.
                let code = if e.to_string().contains("utf") {
                    close::INVALID_PAYLOAD
                } else {
                    close::PROTOCOL_ERROR
                };
                Self::close(ctx, code, "protocol error");
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
