//! The WebSocket protocol's client side: decoding a text frame into a
//! [`Request`], and the frames a connection answers with (`hello`, `ack`,
//! `error`, `pong`). Room events are composed by the room actor
//! (`huddle_actors::room::frames`), user and topic events by the hub.
//! `docs/realtime.md` is the reference for all of them.

use huddle_actors::outbound::Frame;
use huddle_actors::{ClubId, EventId, RoomId, Uid};
use serde::Serialize;
use serde_json::{Map, Value};

/// Longest accepted request `id` (characters, when a string).
pub const MAX_ID_CHARS: usize = 64;

/// What a client can subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `club.member_joined` / `club.member_left` of a club.
    Club(ClubId),
    /// `event.reminder` / `event.started` of an event.
    Event(EventId),
}

/// A client operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOp {
    /// Start receiving a room's events (needs a voice token first).
    Join {
        /// Which room.
        room_id: RoomId,
    },
    /// Leave a room.
    Leave {
        /// Which room.
        room_id: RoomId,
    },
    /// Join again after a reconnect, replaying what came after `last_seq`.
    Resume {
        /// Which room.
        room_id: RoomId,
        /// The last seq the client saw.
        last_seq: i64,
    },
    /// Receive a club's or an event's updates.
    Subscribe(Topic),
    /// Stop receiving them.
    Unsubscribe(Topic),
    /// Raise my hand.
    RaiseHand {
        /// Which room.
        room_id: RoomId,
    },
    /// Lower my hand.
    LowerHand {
        /// Which room.
        room_id: RoomId,
    },
    /// Host: allow `uid` to speak.
    SpeakerAdd {
        /// Which room.
        room_id: RoomId,
        /// Whom.
        uid: Uid,
    },
    /// Host: stop allowing `uid` to speak.
    SpeakerRemove {
        /// Which room.
        room_id: RoomId,
        /// Whom.
        uid: Uid,
    },
    /// Host: remove `uid` from the room.
    MemberRemove {
        /// Which room.
        room_id: RoomId,
        /// Whom.
        uid: Uid,
    },
    /// Application-level ping.
    Ping,
}

impl ClientOp {
    /// The op's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Join { .. } => "join",
            Self::Leave { .. } => "leave",
            Self::Resume { .. } => "resume",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::RaiseHand { .. } => "raise_hand",
            Self::LowerHand { .. } => "lower_hand",
            Self::SpeakerAdd { .. } => "speaker_add",
            Self::SpeakerRemove { .. } => "speaker_remove",
            Self::MemberRemove { .. } => "member_remove",
            Self::Ping => "ping",
        }
    }
}

/// A decoded client frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The client's id for this request, echoed in the answer.
    pub id: Option<Value>,
    /// What to do.
    pub op: ClientOp,
}

/// The `code` of an `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a JSON object, not UTF-8, or a binary frame.
    BadFrame,
    /// `op` is missing or unknown.
    UnknownOp,
    /// A field is missing or invalid.
    BadRequest,
    /// No such (open) room, club or event.
    NotFound,
    /// Not allowed (not the host, removed, invite-only).
    Forbidden,
    /// Not a member of the room: take a voice token first.
    NotMember,
    /// A per-connection limit (rooms, subscriptions).
    TooMany,
    /// The connection sent more frames a second than it may; not executed.
    RateLimited,
    /// The server could not do it now; retry later.
    Unavailable,
}

impl ErrorCode {
    /// Counts toward `HUDDLE_WS_MAX_BAD_FRAMES` (the client sent garbage, or
    /// sent too fast).
    pub fn is_misbehaviour(self) -> bool {
        matches!(
            self,
            Self::BadFrame | Self::UnknownOp | Self::BadRequest | Self::RateLimited
        )
    }
}

/// Why a frame was refused, with the id if one could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The request id, when the frame had a readable one.
    pub id: Option<Value>,
    /// The op, when known.
    pub op: Option<&'static str>,
    /// Machine-readable.
    pub code: ErrorCode,
    /// Human-readable.
    pub message: String,
}

impl Refusal {
    /// A refusal of a request that could not be read.
    pub fn bad_frame(message: impl Into<String>) -> Self {
        Self {
            id: None,
            op: None,
            code: ErrorCode::BadFrame,
            message: message.into(),
        }
    }

    /// The `error` frame.
    pub fn frame(&self) -> Frame {
        to_frame(&ErrorFrame {
            kind: "error",
            id: self.id.as_ref(),
            op: self.op,
            code: self.code,
            message: &self.message,
        })
    }
}

/// Every op name `decode` knows, as on the wire (docs/realtime.md, "Ops").
pub const OPS: &[&str] = &[
    "join",
    "leave",
    "resume",
    "subscribe",
    "unsubscribe",
    "raise_hand",
    "lower_hand",
    "speaker_add",
    "speaker_remove",
    "member_remove",
    "ping",
];

/// Decodes one text frame.
pub fn decode(text: &str) -> Result<Request, Refusal> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Refusal::bad_frame(format!("not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(Refusal::bad_frame("a frame must be a JSON object"));
    };
    let id = match fields.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_ID_CHARS => {
            Some(Value::String(s.clone()))
        }
        Some(Value::Number(n)) => Some(Value::Number(n.clone())),
        Some(_) => {
            return Err(Refusal {
                id: None,
                op: None,
                code: ErrorCode::BadRequest,
                message: format!(
                    "id must be a number or a string of at most {MAX_ID_CHARS} characters"
                ),
            })
        }
    };
    let refuse = |op: Option<&'static str>, code: ErrorCode, message: String| Refusal {
        id: id.clone(),
        op,
        code,
        message,
    };
    let op_name = match fields.get("op") {
        Some(Value::String(op)) => op.as_str(),
        Some(_) => {
            return Err(refuse(
                None,
                ErrorCode::UnknownOp,
                "op must be a string".into(),
            ))
        }
        None => return Err(refuse(None, ErrorCode::UnknownOp, "op is required".into())),
    };
    let Some(op_name) = OPS.iter().copied().find(|o| *o == op_name) else {
        let shown: String = op_name.chars().take(32).collect();
        return Err(refuse(
            None,
            ErrorCode::UnknownOp,
            format!("unknown op {shown:?}; see docs/realtime.md"),
        ));
    };
    let fields = Fields {
        fields: &fields,
        op: op_name,
    };
    let op = (|| {
        Ok(match op_name {
            "join" => ClientOp::Join {
                room_id: fields.id("roomId", RoomId::parse)?,
            },
            "leave" => ClientOp::Leave {
                room_id: fields.id("roomId", RoomId::parse)?,
            },
            "resume" => ClientOp::Resume {
                room_id: fields.id("roomId", RoomId::parse)?,
                last_seq: fields.seq("lastSeq")?,
            },
            "subscribe" => ClientOp::Subscribe(fields.topic()?),
            "unsubscribe" => ClientOp::Unsubscribe(fields.topic()?),
            "raise_hand" => ClientOp::RaiseHand {
                room_id: fields.id("roomId", RoomId::parse)?,
            },
            "lower_hand" => ClientOp::LowerHand {
                room_id: fields.id("roomId", RoomId::parse)?,
            },
            "speaker_add" => ClientOp::SpeakerAdd {
                room_id: fields.id("roomId", RoomId::parse)?,
                uid: fields.id("uid", Uid::parse)?,
            },
            "speaker_remove" => ClientOp::SpeakerRemove {
                room_id: fields.id("roomId", RoomId::parse)?,
                uid: fields.id("uid", Uid::parse)?,
            },
            "member_remove" => ClientOp::MemberRemove {
                room_id: fields.id("roomId", RoomId::parse)?,
                uid: fields.id("uid", Uid::parse)?,
            },
            _ => ClientOp::Ping,
        })
    })()
    .map_err(|message: String| refuse(Some(op_name), ErrorCode::BadRequest, message))?;
    Ok(Request { id, op })
}

struct Fields<'a> {
    fields: &'a Map<String, Value>,
    op: &'static str,
}

impl Fields<'_> {
    fn id<T, E>(&self, key: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<T, String> {
        match self.fields.get(key) {
            Some(Value::String(s)) => {
                parse(s).map_err(|_| format!("{key} must be 32 lowercase hex characters"))
            }
            Some(_) => Err(format!("{key} must be a string")),
            None => Err(format!("{} needs {key}", self.op)),
        }
    }

    fn seq(&self, key: &str) -> Result<i64, String> {
        match self.fields.get(key).and_then(Value::as_i64) {
            Some(n) if n >= 0 => Ok(n),
            _ => Err(format!("{} needs {key}, an integer >= 0", self.op)),
        }
    }

    fn topic(&self) -> Result<Topic, String> {
        match (self.fields.get("clubId"), self.fields.get("eventId")) {
            (Some(_), None) => Ok(Topic::Club(self.id("clubId", ClubId::parse)?)),
            (None, Some(_)) => Ok(Topic::Event(self.id("eventId", EventId::parse)?)),
            _ => Err(format!(
                "{} needs exactly one of clubId or eventId",
                self.op
            )),
        }
    }
}

fn to_frame(value: &impl Serialize) -> Frame {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".to_owned())
        .into()
}

#[derive(Serialize)]
struct ErrorFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<&'static str>,
    code: ErrorCode,
    message: &'a str,
}

/// The `ack` of a request that has no other answer; `extra` fields are added
/// (`roomId`, `changed`, `clubId`, ...).
pub fn ack(id: Option<&Value>, op: &'static str, extra: &[(&str, Value)]) -> Frame {
    let mut m = Map::new();
    m.insert("type".into(), Value::from("ack"));
    m.insert("op".into(), Value::from(op));
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    for (k, v) in extra {
        m.insert((*k).to_owned(), v.clone());
    }
    to_frame(&m)
}

/// The answer to `ping`.
pub fn pong(id: Option<&Value>, ts: i64) -> Frame {
    let mut m = Map::new();
    m.insert("type".into(), Value::from("pong"));
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    m.insert("ts".into(), Value::from(ts));
    to_frame(&m)
}

/// The first frame of every connection.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// Always "hello".
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Who the connection belongs to.
    pub uid: Uid,
    /// This connection's number (for support and logs).
    pub conn_id: u64,
    /// Server time (ms).
    pub ts: i64,
    /// The server pings this often.
    pub ping_interval_ms: u64,
    /// Silence longer than this closes the connection.
    pub idle_timeout_ms: u64,
    /// Largest accepted message.
    pub max_frame_bytes: usize,
}

impl Hello {
    /// The frame.
    pub fn frame(&self) -> Frame {
        to_frame(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "0123456789abcdef0123456789abcdef";
    const USER: &str = "fedcba9876543210fedcba9876543210";

    // Found by fuzz/fuzz_targets/ws_decode.rs: without serde_json's
    // `float_roundtrip`, a float id came back one unit in the last place off.
    #[test]
    fn float_ids_are_echoed_exactly() {
        for id in ["3.9223372036022547e21", "0.1", "1e-7", "123456789.12345679"] {
            let request = decode(&format!(r#"{{"op":"ping","id":{id}}}"#)).unwrap();
            let sent: Value = serde_json::from_str(id).unwrap();
            assert_eq!(request.id.as_ref(), Some(&sent), "{id}");
            let pong: Value = serde_json::from_str(&pong(request.id.as_ref(), 0)).unwrap();
            assert_eq!(pong["id"], sent, "{id}");
            assert_eq!(pong["id"].as_f64(), id.parse::<f64>().ok(), "{id}");
        }
    }

    #[test]
    fn decodes_every_op() {
        let room = RoomId::parse(ROOM).unwrap();
        let uid = Uid::parse(USER).unwrap();
        let cases = [
            (
                format!(r#"{{"op":"join","roomId":"{ROOM}"}}"#),
                ClientOp::Join {
                    room_id: room.clone(),
                },
            ),
            (
                format!(r#"{{"op":"leave","roomId":"{ROOM}"}}"#),
                ClientOp::Leave {
                    room_id: room.clone(),
                },
            ),
            (
                format!(r#"{{"op":"resume","roomId":"{ROOM}","lastSeq":41}}"#),
                ClientOp::Resume {
                    room_id: room.clone(),
                    last_seq: 41,
                },
            ),
            (
                format!(r#"{{"op":"subscribe","clubId":"{ROOM}"}}"#),
                ClientOp::Subscribe(Topic::Club(ClubId::parse(ROOM).unwrap())),
            ),
            (
                format!(r#"{{"op":"unsubscribe","eventId":"{ROOM}"}}"#),
                ClientOp::Unsubscribe(Topic::Event(EventId::parse(ROOM).unwrap())),
            ),
            (
                format!(r#"{{"op":"raise_hand","roomId":"{ROOM}"}}"#),
                ClientOp::RaiseHand {
                    room_id: room.clone(),
                },
            ),
            (
                format!(r#"{{"op":"lower_hand","roomId":"{ROOM}"}}"#),
                ClientOp::LowerHand {
                    room_id: room.clone(),
                },
            ),
            (
                format!(r#"{{"op":"speaker_add","roomId":"{ROOM}","uid":"{USER}"}}"#),
                ClientOp::SpeakerAdd {
                    room_id: room.clone(),
                    uid: uid.clone(),
                },
            ),
            (
                format!(r#"{{"op":"speaker_remove","roomId":"{ROOM}","uid":"{USER}"}}"#),
                ClientOp::SpeakerRemove {
                    room_id: room.clone(),
                    uid: uid.clone(),
                },
            ),
            (
                format!(r#"{{"op":"member_remove","roomId":"{ROOM}","uid":"{USER}"}}"#),
                ClientOp::MemberRemove {
                    room_id: room.clone(),
                    uid,
                },
            ),
            (r#"{"op":"ping"}"#.to_owned(), ClientOp::Ping),
        ];
        for (text, op) in cases {
            assert_eq!(decode(&text).unwrap(), Request { id: None, op }, "{text}");
        }
    }

    #[test]
    fn echoes_string_and_number_ids() {
        assert_eq!(
            decode(r#"{"op":"ping","id":"a1"}"#).unwrap().id,
            Some(Value::from("a1"))
        );
        assert_eq!(
            decode(r#"{"op":"ping","id":7}"#).unwrap().id,
            Some(Value::from(7))
        );
        let long = "x".repeat(MAX_ID_CHARS + 1);
        let e = decode(&format!(r#"{{"op":"ping","id":"{long}"}}"#)).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = decode(r#"{"op":"ping","id":{"a":1}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
    }

    #[test]
    fn refuses_garbage_with_a_code_and_the_id_when_readable() {
        for text in ["", "nope", "[1,2]", "\"join\"", "{\"op\":"] {
            assert_eq!(
                decode(text).unwrap_err().code,
                ErrorCode::BadFrame,
                "{text:?}"
            );
        }
        let e = decode(r#"{"id":3,"op":"dance"}"#).unwrap_err();
        assert_eq!((e.code, e.id), (ErrorCode::UnknownOp, Some(Value::from(3))));
        assert_eq!(
            decode(r#"{"op":5}"#).unwrap_err().code,
            ErrorCode::UnknownOp
        );
        assert_eq!(
            decode(r#"{"id":1}"#).unwrap_err().code,
            ErrorCode::UnknownOp
        );
        let e = decode(r#"{"id":"j","op":"join","roomId":"ABC"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(e.op, Some("join"));
        assert!(e.message.contains("roomId"), "{}", e.message);
        let e = decode(&format!(
            r#"{{"op":"resume","roomId":"{ROOM}","lastSeq":-1}}"#
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = decode(&format!(
            r#"{{"op":"subscribe","clubId":"{ROOM}","eventId":"{ROOM}"}}"#
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
    }

    #[test]
    fn error_frames_carry_id_op_code_and_message() {
        let e = decode(r#"{"id":"q","op":"join"}"#).unwrap_err();
        assert_eq!(
            &*e.frame(),
            r#"{"type":"error","id":"q","op":"join","code":"bad_request","message":"join needs roomId"}"#
        );
    }

    #[test]
    fn acks_and_pongs() {
        let id = Value::from(9);
        assert_eq!(
            &*ack(Some(&id), "leave", &[("roomId", Value::from(ROOM))]),
            format!(r#"{{"type":"ack","op":"leave","id":9,"roomId":"{ROOM}"}}"#)
        );
        assert_eq!(&*pong(None, 5), r#"{"type":"pong","ts":5}"#);
    }
}
