//! What live actors send to WebSocket connections. A connection is known to
//! rooms and to the hub only as an [`Outbox`] (a `Recipient<Outbound>`), so the
//! live model does not depend on the socket type.
//!
//! Frames are JSON text serialised once per event and shared ([`Frame`]), so a
//! fan-out to 2,000 listeners copies a pointer 2,000 times, not the text.
//!
//! Delivery never waits: [`offer`] uses `try_send`, and a connection whose
//! queue (its mailbox, bounded by `HUDDLE_WS_OUTBOUND_LIMIT`) is full is a slow
//! consumer: the sender drops it and asks it to close with
//! [`close::SLOW_CONSUMER`].

use std::sync::atomic::{AtomicU64, Ordering};

use actix::prelude::*;

use crate::ids::RoomId;

/// One WebSocket connection on this node (unique for the process lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

impl ConnId {
    /// A fresh id.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number (for logs).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A JSON text frame, serialised once and shared by every recipient (cloning
/// it bumps a reference count; the socket layer writes it without a copy).
pub type Frame = bytestring::ByteString;

/// Something for a connection to do.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum Outbound {
    /// Write one text frame.
    Frame(Frame),
    /// Write these frames in order (a resume replay, an ack followed by events).
    Frames(Vec<Frame>),
    /// The connection no longer belongs to this room (left, removed, closed).
    Detached {
        /// Which room.
        room_id: RoomId,
    },
    /// Close the socket with this code and reason.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Human-readable reason.
        reason: &'static str,
    },
}

/// How actors reach a connection.
pub type Outbox = Recipient<Outbound>;

/// The outcome of [`offer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Queued.
    Queued,
    /// The connection's queue is full: a slow consumer.
    Full,
    /// The connection is gone.
    Gone,
}

/// Queues `msg` for a connection without waiting.
pub fn offer(outbox: &Outbox, msg: Outbound) -> Offered {
    match outbox.try_send(msg) {
        Ok(()) => Offered::Queued,
        Err(SendError::Full(_)) => Offered::Full,
        Err(SendError::Closed(_)) => Offered::Gone,
    }
}

/// Tells a slow consumer to close (bypasses the full queue; it is the last thing it gets).
pub fn cut_off(outbox: &Outbox) {
    outbox.do_send(Outbound::Close {
        code: close::SLOW_CONSUMER,
        reason: "slow consumer: outbound queue full",
    });
}

/// WebSocket close codes huddle uses (documented in `docs/realtime.md`).
pub mod close {
    /// The client closed, or the server closes normally.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the WebSocket protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Too many bad frames.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame or message larger than the cap.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Nothing heard from the client within the idle timeout.
    pub const HEARTBEAT_TIMEOUT: u16 = 4001;
    /// The client did not read fast enough; its queue overflowed.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The connection's session ended: logged out, expired, or the account
    /// was frozen.
    pub const SESSION_ENDED: u16 = 4003;
}
