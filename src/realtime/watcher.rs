//! A read-only WebSocket for share pages: `GET /h5/room/{roomCacheId}/live`.
//! The watcher gets the room's event frames (the same `room.*` frames members
//! get), first a `watching` frame with the seq the stream starts after, and
//! is closed (1000) after `room.closed`. It sends nothing but pongs; text it
//! sends is ignored, the frame cap, the heartbeat and the message rate apply
//! as for members (over the rate, a watcher is closed with 1008 at once).

use std::time::Instant;

use actix::prelude::*;
use actix_http::ws::ProtocolError;
use actix_web_actors::ws;
use huddle_actors::outbound::{close, ConnId, Outbound};
use huddle_actors::room::{Detach, RoomActor, RoomError, Watch};
use huddle_actors::RoomId;
use serde_json::json;

use super::hub;
use super::SessionDeps;
use crate::ratelimit::MessageBudget;

/// Close code when the room has as many watchers as it accepts (RFC 6455
/// registry: "Try Again Later").
const TRY_AGAIN_LATER: u16 = 1013;

/// One share page following one room.
pub struct RoomWatcher {
    conn: ConnId,
    room_id: RoomId,
    room: Addr<RoomActor>,
    deps: SessionDeps,
    last_heard: Instant,
    /// Frames it may still send now; a watcher over it is closed (1008).
    budget: MessageBudget,
}

impl RoomWatcher {
    /// A watcher of the room `room` (its actor) for a share page.
    pub fn new(room_id: RoomId, room: Addr<RoomActor>, deps: SessionDeps) -> Self {
        Self {
            conn: ConnId::next(),
            room_id,
            room,
            budget: MessageBudget::new(deps.limits.messages_per_second, Instant::now()),
            deps,
            last_heard: Instant::now(),
        }
    }

    fn close(ctx: &mut ws::WebsocketContext<Self>, code: u16, reason: &str) {
        super::close_socket(ctx, code, reason);
    }
}

impl Actor for RoomWatcher {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.deps.limits.outbound_limit);
        let outbox = ctx.address().recipient();
        self.deps.hub.do_send(hub::ConnectWatcher {
            conn: self.conn,
            outbox: outbox.clone(),
        });
        let watch = Watch {
            conn: self.conn,
            outbox,
        };
        // Nothing else is handled until the room answered: the `watching`
        // frame goes out before any event.
        self.room
            .send(watch)
            .into_actor(self)
            .map(|answer, act, ctx| match answer {
                Ok(Ok(seq)) => ctx.text(
                    json!({
                        "type": "watching",
                        "roomId": act.room_id,
                        "seq": seq,
                        "ts": act.deps.clock.now_ms(),
                    })
                    .to_string(),
                ),
                Ok(Err(RoomError::Forbidden(why))) => Self::close(ctx, TRY_AGAIN_LATER, why),
                _ => Self::close(ctx, close::NORMAL, "room closed"),
            })
            .wait(ctx);
        let limits = self.deps.limits.clone();
        super::keep_alive(ctx, limits.ping_interval, limits.idle_timeout);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.room.do_send(Detach { conn: self.conn });
        self.deps.hub.do_send(hub::Disconnect { conn: self.conn });
    }
}

impl super::Heard for RoomWatcher {
    fn last_heard(&self) -> Instant {
        self.last_heard
    }
}

impl Handler<Outbound> for RoomWatcher {
    type Result = ();

    fn handle(&mut self, msg: Outbound, ctx: &mut Self::Context) {
        if super::write_outbound(ctx, msg).is_some() {
            Self::close(ctx, close::NORMAL, "room closed");
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for RoomWatcher {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        if let Ok(msg) = &item {
            if super::counts_toward_rate(msg) && !self.budget.take(Instant::now()) {
                return Self::close(ctx, close::POLICY_VIOLATION, "too many messages");
            }
        }
        match item {
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(_) => {}
            Err(e) if super::is_oversized(&e) => {
                Self::close(ctx, close::TOO_BIG, "message larger than the frame cap")
            }
            Err(_) => Self::close(ctx, close::PROTOCOL_ERROR, "protocol error"),
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
