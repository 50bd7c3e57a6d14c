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

use actix_http::ws::{CloseCode, CloseReason, ProtocolError};
use actix_web_actors::ws::WebsocketContext;

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
