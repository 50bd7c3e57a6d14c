//! The JSON frames a room sends over WebSockets (`docs/realtime.md` is their
//! reference). Room events are stamped with `roomId`, `seq` and `ts`; acks of
//! `join` and `resume` are composed here too, because the room sends them in
//! line with its events.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{RoomId, Uid};
use crate::outbound::Frame;
use crate::repo::room::Room;

/// A member as realtime clients see them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MemberJson {
    /// Who.
    pub uid: Uid,
    /// Nickname when they took their token.
    pub nickname: String,
    /// Avatar when they took their token.
    pub avatar: String,
    /// 1 when they may speak.
    pub allow_live: u8,
    /// 1 while their hand is raised.
    pub hand_raised: u8,
    /// When they entered (ms).
    pub joined_at: i64,
}

/// Why a member left.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// They sent `leave`.
    Left,
    /// No connection of theirs was in the room for the grace period.
    Timeout,
}

/// Something that happened in a room, in the order it happened.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RoomEvent {
    /// `room.member_joined`
    MemberJoined {
        /// The new member.
        member: MemberJson,
    },
    /// `room.member_left`
    MemberLeft {
        /// Who.
        uid: Uid,
        /// Why.
        reason: LeaveReason,
    },
    /// `room.member_removed`
    MemberRemoved {
        /// Who was removed.
        uid: Uid,
        /// The host.
        by: Uid,
    },
    /// `room.hand_raised`
    HandRaised {
        /// Who.
        uid: Uid,
    },
    /// `room.hand_lowered`
    HandLowered {
        /// Who.
        uid: Uid,
    },
    /// `room.speaker_added`
    SpeakerAdded {
        /// Who may now speak.
        uid: Uid,
    },
    /// `room.speaker_removed`
    SpeakerRemoved {
        /// Who may no longer speak.
        uid: Uid,
    },
    /// `room.closed`
    Closed {
        /// The host.
        by: Uid,
    },
}

impl RoomEvent {
    /// The `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MemberJoined { .. } => "room.member_joined",
            Self::MemberLeft { .. } => "room.member_left",
            Self::MemberRemoved { .. } => "room.member_removed",
            Self::HandRaised { .. } => "room.hand_raised",
            Self::HandLowered { .. } => "room.hand_lowered",
            Self::SpeakerAdded { .. } => "room.speaker_added",
            Self::SpeakerRemoved { .. } => "room.speaker_removed",
            Self::Closed { .. } => "room.closed",
        }
    }
}

/// An event frame read back (frames travel between nodes as their JSON text).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parsed {
    #[serde(rename = "type")]
    kind: String,
    seq: i64,
    ts: i64,
    uid: Option<Uid>,
    by: Option<Uid>,
    reason: Option<LeaveReason>,
    member: Option<MemberJson>,
}

/// `(seq, ts, event)` of an event frame made by [`event_frame`]; `None` for
/// anything else.
pub fn parse_event(frame: &str) -> Option<(i64, i64, RoomEvent)> {
    let p: Parsed = serde_json::from_str(frame).ok()?;
    let event = match p.kind.as_str() {
        "room.member_joined" => RoomEvent::MemberJoined { member: p.member? },
        "room.member_left" => RoomEvent::MemberLeft {
            uid: p.uid?,
            reason: p.reason?,
        },
        "room.member_removed" => RoomEvent::MemberRemoved {
            uid: p.uid?,
            by: p.by?,
        },
        "room.hand_raised" => RoomEvent::HandRaised { uid: p.uid? },
        "room.hand_lowered" => RoomEvent::HandLowered { uid: p.uid? },
        "room.speaker_added" => RoomEvent::SpeakerAdded { uid: p.uid? },
        "room.speaker_removed" => RoomEvent::SpeakerRemoved { uid: p.uid? },
        "room.closed" => RoomEvent::Closed { by: p.by? },
        _ => return None,
    };
    Some((p.seq, p.ts, event))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stamped<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: &'a RoomId,
    seq: i64,
    ts: i64,
    #[serde(flatten)]
    event: &'a RoomEvent,
}

fn to_frame(value: &impl Serialize) -> Frame {
    // Serialising these plain structs cannot fail (string keys, no maps with
    // non-string keys); an empty object keeps the connection usable if it did.
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".to_owned())
        .into()
}

/// The frame of `event`, the `seq`-th of `room_id`, at `ts`.
pub fn event_frame(room_id: &RoomId, seq: i64, ts: i64, event: &RoomEvent) -> Frame {
    to_frame(&Stamped {
        kind: event.kind(),
        room_id,
        seq,
        ts,
        event,
    })
}

/// A room's live state, as `join` answers it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomStateJson {
    /// Which room.
    pub room_id: RoomId,
    /// Title.
    pub name: String,
    /// The host.
    pub uid: Uid,
    /// Its club ("" when none).
    pub club_id: String,
    /// 1 for invite-only rooms.
    pub invite_only: u8,
    /// Members in join order: a JSON array of [`MemberJson`], kept as text
    /// between snapshots (`members_json.rs`).
    pub members: Box<serde_json::value::RawValue>,
}

impl RoomStateJson {
    /// The state of `room` with `members`.
    pub fn new(room: &Room, members: Box<serde_json::value::RawValue>) -> Self {
        Self {
            room_id: room.room_id.clone(),
            name: room.name.clone(),
            uid: room.uid.clone(),
            club_id: room
                .club_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            invite_only: u8::from(room.invite_only),
            members,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ack<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    op: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    room_id: &'a RoomId,
    seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replayed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a RoomStateJson>,
}

/// The ack of `join`: the room now, as of `seq`.
pub fn joined_frame(id: Option<&Value>, seq: i64, room: &RoomStateJson) -> Frame {
    to_frame(&Ack {
        kind: "ack",
        op: "join",
        id,
        room_id: &room.room_id,
        seq,
        recovered: None,
        replayed: None,
        room: Some(room),
    })
}

/// The ack of a `resume` that replays `replayed` events next.
pub fn resumed_frame(id: Option<&Value>, room_id: &RoomId, seq: i64, replayed: usize) -> Frame {
    to_frame(&Ack {
        kind: "ack",
        op: "resume",
        id,
        room_id,
        seq,
        recovered: Some(true),
        replayed: Some(replayed),
        room: None,
    })
}

/// The ack of a `resume` whose gap is gone: a fresh snapshot instead.
pub fn not_recovered_frame(id: Option<&Value>, seq: i64, room: &RoomStateJson) -> Frame {
    to_frame(&Ack {
        kind: "ack",
        op: "resume",
        id,
        room_id: &room.room_id,
        seq,
        recovered: Some(false),
        replayed: None,
        room: Some(room),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stamped_with_room_seq_and_time() {
        let room = RoomId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let uid = Uid::parse("fedcba9876543210fedcba9876543210").unwrap();
        let frame = event_frame(&room, 7, 1_700_000_000_000, &RoomEvent::HandRaised { uid });
        assert_eq!(
            &*frame,
            r#"{"type":"room.hand_raised","roomId":"0123456789abcdef0123456789abcdef","seq":7,"ts":1700000000000,"uid":"fedcba9876543210fedcba9876543210"}"#
        );
    }

    #[test]
    fn every_event_frame_reads_back_as_itself() {
        let room = RoomId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let uid = Uid::parse("fedcba9876543210fedcba9876543210").unwrap();
        let events = [
            RoomEvent::MemberJoined {
                member: MemberJson {
                    uid: uid.clone(),
                    nickname: "A \"quoted\" 名字".into(),
                    avatar: "https://x/a.jpg".into(),
                    allow_live: 1,
                    hand_raised: 0,
                    joined_at: 5,
                },
            },
            RoomEvent::MemberLeft {
                uid: uid.clone(),
                reason: LeaveReason::Left,
            },
            RoomEvent::MemberRemoved {
                uid: uid.clone(),
                by: uid.clone(),
            },
            RoomEvent::HandRaised { uid: uid.clone() },
            RoomEvent::HandLowered { uid: uid.clone() },
            RoomEvent::SpeakerAdded { uid: uid.clone() },
            RoomEvent::SpeakerRemoved { uid: uid.clone() },
            RoomEvent::Closed { by: uid },
        ];
        for event in events {
            let frame = event_frame(&room, 9, 10, &event);
            let (seq, ts, back) = parse_event(&frame).unwrap();
            assert_eq!((seq, ts), (9, 10));
            assert_eq!(event_frame(&room, 9, 10, &back), frame);
        }
        assert!(parse_event(r#"{"type":"room.unknown","seq":1,"ts":1}"#).is_none());
        assert!(parse_event("not json").is_none());
    }

    #[test]
    fn leave_reasons_are_snake_case() {
        let room = RoomId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let uid = Uid::parse("fedcba9876543210fedcba9876543210").unwrap();
        let frame = event_frame(
            &room,
            1,
            2,
            &RoomEvent::MemberLeft {
                uid,
                reason: LeaveReason::Timeout,
            },
        );
        assert!(frame.ends_with(r#""reason":"timeout"}"#), "{frame}");
    }
}
