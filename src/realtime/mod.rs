//! The realtime layer: WebSockets next to the REST routes.
//!
//! - [`door`]: `GET /ws`, authentication before the upgrade.
//! - [`session`]: one `MemberSession` actor per connection (ops in, frames out,
//!   heartbeat, limits, cleanup on every exit path).
//! - [`hub`]: one actor per node routing bus notifications to users' and
//!   subscribers' connections.
//! - [`protocol`]: client ops and the frames that answer them.
//! - [`frame_guard`]: refuses an oversized frame at its header, before the codec
//!   would buffer it.
//!
//! Room events come from the room actors themselves (`huddle_actors::room`).
//! `docs/realtime.md` documents the protocol.

pub mod door;
pub mod frame_guard;
pub mod hub;
pub mod protocol;
pub mod session;
pub mod watcher;

pub use session::{SessionDeps, WsLimits};

use std::time::{Duration, Instant};

use actix::AsyncContext;
use actix_http::ws::{CloseCode, CloseReason, ProtocolError};
use actix_web_actors::ws::WebsocketContext;
use huddle_actors::outbound::Outbound;
use huddle_actors::RoomId;

/// A socket actor that remembers when its client was last heard from.
pub(crate) trait Heard: actix::Actor<Context = WebsocketContext<Self>> {
    /// When the client last sent anything (a pong included).
    fn last_heard(&self) -> Instant;
}

/// Pings every `interval` and closes with 4001 a client silent for longer
/// than `idle_timeout`.
pub(crate) fn keep_alive<A: Heard>(
    ctx: &mut WebsocketContext<A>,
    interval: Duration,
    idle_timeout: Duration,
) {
    ctx.run_interval(interval, move |act, ctx| {
        if act.last_heard().elapsed() > idle_timeout {
            tracing::debug!("websocket heartbeat timeout");
            close_socket(
                ctx,
                huddle_actors::outbound::close::HEARTBEAT_TIMEOUT,
                "heartbeat timeout",
            );
        } else {
            ctx.ping(b"");
        }
    });
}

/// Writes what a room or the hub sent to a socket; answers the room of a
/// `Detached` notice, which each kind of socket handles its own way.
pub(crate) fn write_outbound<A>(ctx: &mut WebsocketContext<A>, msg: Outbound) -> Option<RoomId>
where
    A: actix::Actor<Context = WebsocketContext<A>>,
{
    match msg {
        Outbound::Frame(frame) => ctx.text(frame),
        Outbound::Frames(frames) => {
            for frame in frames {
                ctx.text(frame);
            }
        }
        Outbound::Detached { room_id } => return Some(room_id),
        Outbound::Close { code, reason } => close_socket(ctx, code, reason),
    }
    None
}

/// Whether a frame from the client counts against its `MessageBudget`: every
/// data frame, fragment and ping; not pongs (answers) or close.
pub(crate) fn counts_toward_rate(msg: &actix_web_actors::ws::Message) -> bool {
    use actix_web_actors::ws::Message;
    matches!(
        msg,
        Message::Text(_) | Message::Binary(_) | Message::Continuation(_) | Message::Ping(_)
    )
}

/// Whether `e` is a frame over the cap: the codec's own check (a complete
/// frame) or the [`frame_guard`]'s (a header).
pub(crate) fn is_oversized(e: &ProtocolError) -> bool {
    matches!(e, ProtocolError::Overflow) || e.to_string().contains(frame_guard::OVERSIZED)
}

/// Sends a close frame with `code` and `reason`, then stops the actor.
pub(crate) fn close_socket<A>(ctx: &mut WebsocketContext<A>, code: u16, reason: &str)
where
    A: actix::Actor<Context = WebsocketContext<A>>,
{
    ctx.close(Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(reason.to_owned()),
    }));
    actix::ActorContext::stop(ctx);
}
