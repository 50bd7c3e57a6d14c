//! The bus: every state change a client can observe is published here after it
//! is persisted. The realtime layer subscribes and forwards to sockets; with
//! several nodes the bus is bridged over Redis.

use tokio::sync::broadcast;

use crate::ids::{ClubId, EventId, RoomId, Uid};
use crate::repo::message::Delivery;

/// Something clients may need to hear about.
#[derive(Debug, Clone)]
pub enum Notification {
    /// A new inbox message for `message.uid`.
    Message(Delivery),
    /// The host closed a room.
    RoomClosed {
        /// Which room.
        room_id: RoomId,
    },
    /// Someone was invited into a room.
    RoomInvited {
        /// Which room.
        room_id: RoomId,
        /// Its title.
        room_name: String,
        /// Who invited.
        inviter: Uid,
        /// The inviter's nickname.
        inviter_nickname: String,
        /// Who is invited.
        invitee: Uid,
    },
    /// An event's reminder went out.
    EventReminder {
        /// Which event.
        event_id: EventId,
        /// Its name.
        name: String,
        /// When it starts (ms).
        event_time: i64,
        /// Who was reminded (subscribers, hosts and guests).
        recipients: Vec<Uid>,
    },
    /// An event's room was opened.
    EventStarted {
        /// Which event.
        event_id: EventId,
        /// Its name.
        name: String,
        /// The room it opened.
        room_id: RoomId,
        /// Who was told (subscribers, hosts and guests).
        recipients: Vec<Uid>,
    },
    /// Someone joined a club.
    ClubMemberJoined {
        /// Which club.
        club_id: ClubId,
        /// Who.
        uid: Uid,
        /// Members now.
        member_total: i64,
    },
    /// Someone left a club.
    ClubMemberLeft {
        /// Which club.
        club_id: ClubId,
        /// Who.
        uid: Uid,
        /// Members now.
        member_total: i64,
    },
}

/// An in-process broadcast of [`Notification`]s. Slow subscribers lose the
/// oldest items (they are told how many) instead of growing without bound.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Notification>,
}

impl Bus {
    /// A bus keeping up to `capacity` undelivered items per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Publishes to every current subscriber (none is fine).
    pub fn publish(&self, notification: Notification) {
        let _ = self.tx.send(notification);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.tx.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new(4096)
    }
}
