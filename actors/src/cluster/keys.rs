//! Every Redis key and pub/sub channel huddle uses, in one place
//! (`docs/operations.md` lists them for operators).
//!
//! Room keys share a hash tag (`{room:ID}`), so a Redis Cluster keeps one
//! room's keys on one shard and its Lua scripts stay single-shard.

use crate::ids::{ClubId, EventId, RoomId, Uid};

/// Prefix of everything huddle writes.
pub const PREFIX: &str = "huddle";

/// The keys of one room's live state.
#[derive(Debug, Clone)]
pub struct RoomKeys {
    /// `INCR` counter: the last seq used.
    pub seq: String,
    /// Hash uid → that member's `room.member_joined` frame.
    pub members: String,
    /// Sorted set uid → presence deadline (ms); refreshed while a node holds a
    /// connection of the member, swept when it passes.
    pub presence: String,
    /// Set of uids whose hand is raised.
    pub hands: String,
    /// Set of uids the host removed (refused at join).
    pub removed: String,
    /// List of the latest event frames (for `resume` on any node).
    pub history: String,
    /// Present once the room closed.
    pub closed: String,
    /// The pub/sub channel of the room's events.
    pub channel: String,
}

impl RoomKeys {
    /// The keys of `room_id`.
    pub fn new(room_id: &RoomId) -> Self {
        let tag = format!("{PREFIX}:{{room:{room_id}}}");
        Self {
            seq: format!("{tag}:seq"),
            members: format!("{tag}:members"),
            presence: format!("{tag}:presence"),
            hands: format!("{tag}:hands"),
            removed: format!("{tag}:removed"),
            history: format!("{tag}:history"),
            closed: format!("{tag}:closed"),
            channel: room_channel(room_id),
        }
    }

    /// The keys in the order the room scripts take them.
    pub fn all(&self) -> [&str; 7] {
        [
            &self.seq,
            &self.members,
            &self.presence,
            &self.hands,
            &self.removed,
            &self.history,
            &self.closed,
        ]
    }
}

/// Channel of one room's events (and `reload` notes).
pub fn room_channel(room_id: &RoomId) -> String {
    format!("{PREFIX}:room:{room_id}")
}

/// Channel of notifications addressed to one user.
pub fn user_channel(uid: &Uid) -> String {
    format!("{PREFIX}:user:{uid}")
}

/// Channel of a club's topic (`club.member_joined` / `club.member_left`).
pub fn club_channel(club_id: &ClubId) -> String {
    format!("{PREFIX}:club:{club_id}")
}

/// Channel of an event's topic (`event.reminder` / `event.started`).
pub fn event_channel(event_id: &EventId) -> String {
    format!("{PREFIX}:event:{event_id}")
}

/// A node's heartbeat key (value: its description; expires when it stops refreshing).
pub fn node_key(node_id: &str) -> String {
    format!("{PREFIX}:node:{node_id}")
}

/// Prefix of cache entries (captcha codes, limits, replay window, room caches).
pub fn cache_key(key: &str) -> String {
    format!("{PREFIX}:cache:{key}")
}

/// What a channel name addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// A room's events.
    Room(RoomId),
    /// A user's or topic's notifications.
    Notifications,
}

/// Classifies an incoming channel name.
pub fn classify(channel: &str) -> Option<ChannelKind> {
    let rest = channel.strip_prefix(PREFIX)?.strip_prefix(':')?;
    if let Some(id) = rest.strip_prefix("room:") {
        return RoomId::parse(id).ok().map(ChannelKind::Room);
    }
    ["user:", "club:", "event:"]
        .iter()
        .any(|p| rest.starts_with(p))
        .then_some(ChannelKind::Notifications)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_keys_share_one_hash_tag_and_channels_classify() {
        let room = RoomId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let keys = RoomKeys::new(&room);
        for key in keys.all() {
            assert!(
                key.starts_with("huddle:{room:0123456789abcdef0123456789abcdef}:"),
                "{key}"
            );
        }
        assert_eq!(classify(&keys.channel), Some(ChannelKind::Room(room)));
        let uid = Uid::parse("fedcba9876543210fedcba9876543210").unwrap();
        assert_eq!(
            classify(&user_channel(&uid)),
            Some(ChannelKind::Notifications)
        );
        assert_eq!(classify("other:room:x"), None);
        assert_eq!(classify("huddle:room:not-an-id"), None);
    }
}
