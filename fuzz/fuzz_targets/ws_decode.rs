//! The WebSocket frame decoder, `huddle::realtime::protocol::decode`, and the
//! frames built from its result (`Refusal::frame`, `ack`, `pong`).
//!
//! Input: one text frame, as UTF-8 when valid, lossily converted otherwise
//! (the server closes a non-UTF-8 text frame with 1007 before decoding, but
//! the decoder must not care). See README.md for the invariants.

#![no_main]

use huddle::realtime::protocol::{
    ack, decode, pong, ClientOp, ErrorCode, Refusal, Request, Topic, OPS,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// Longest accepted string id (`MAX_ID_CHARS`).
const MAX_ID_CHARS: usize = huddle::realtime::protocol::MAX_ID_CHARS;

/// A refusal's message names what was wrong; it never echoes the frame at
/// length (an unknown op is shown cut to 32 characters).
const MAX_MESSAGE_CHARS: usize = 256;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let decoded = decode(&text);
    assert_eq!(decode(&text), decoded, "decoding is deterministic");
    match decoded {
        Ok(request) => check_request(&text, &request),
        Err(refusal) => check_refusal(&text, &refusal),
    }
});

fn check_request(text: &str, request: &Request) {
    let name = request.op.name();
    assert!(OPS.contains(&name), "op without a wire name: {name:?}");

    // The frame was a JSON object naming that op.
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("accepted a frame that is not JSON ({e}): {text:?}"),
    };
    let Value::Object(fields) = &value else {
        panic!("accepted a frame that is not an object: {text:?}");
    };
    assert_eq!(fields.get("op"), Some(&Value::from(name)));
    check_id(request.id.as_ref());
    match fields.get("id") {
        None | Some(Value::Null) => assert_eq!(request.id, None),
        Some(id) => assert_eq!(request.id.as_ref(), Some(id)),
    }

    // Written back as a canonical frame, it decodes to the same request.
    let canonical = encode(request);
    match decode(&canonical) {
        Ok(again) => {
            assert_eq!(again.op, request.op, "round trip of {canonical}");
            assert_same_id(again.id.as_ref(), request.id.as_ref());
        }
        Err(e) => panic!("canonical frame {canonical} refused: {e:?}"),
    }

    // The answers built for it are JSON objects carrying exactly that id.
    let id = id_member(request.id.as_ref());
    let answer = ack(request.id.as_ref(), name, &[]);
    parse_object(&answer);
    assert_eq!(&*answer, format!(r#"{{"type":"ack","op":"{name}"{id}}}"#));
    let answer = pong(request.id.as_ref(), 5);
    parse_object(&answer);
    assert_eq!(&*answer, format!(r#"{{"type":"pong"{id},"ts":5}}"#));
}

/// `,"id":<id>` as the server writes it, or nothing.
fn id_member(id: Option<&Value>) -> String {
    id.map(|id| format!(r#","id":{id}"#)).unwrap_or_default()
}

/// The same id, except that a number that is not an exact integer may come
/// back a unit in the last place away: serde_json (without its
/// `float_roundtrip` feature) does not parse every float correctly rounded, so
/// reading back what it wrote can differ in the last bit.
fn assert_same_id(again: Option<&Value>, id: Option<&Value>) {
    match (again, id) {
        (Some(Value::Number(a)), Some(Value::Number(b))) if a.is_f64() && b.is_f64() => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (a - b).abs() <= b.abs() * 4.0 * f64::EPSILON,
                "id {a} became {b}"
            );
        }
        _ => assert_eq!(again, id),
    }
}

fn check_refusal(text: &str, refusal: &Refusal) {
    // A refusal by the decoder is the client's fault and counts toward the
    // bad-frame limit; the other codes come from executing an op.
    assert!(
        matches!(
            refusal.code,
            ErrorCode::BadFrame | ErrorCode::UnknownOp | ErrorCode::BadRequest
        ),
        "decode refused with {refusal:?}"
    );
    assert!(refusal.code.is_misbehaviour());
    if let Some(op) = refusal.op {
        assert!(OPS.contains(&op), "refusal names an unknown op {op:?}");
    }
    check_id(refusal.id.as_ref());
    let chars = refusal.message.chars().count();
    assert!(
        chars <= MAX_MESSAGE_CHARS,
        "{chars}-character message for a {}-byte frame: {:?}",
        text.len(),
        refusal.message
    );

    let frame = refusal.frame();
    let sent = parse_object(&frame);
    assert_eq!(sent.get("type"), Some(&Value::from("error")));
    let code = serde_json::to_value(refusal.code).ok();
    assert!(matches!(code, Some(Value::String(_))), "{code:?}");
    assert_eq!(sent.get("code"), code.as_ref());
    assert_eq!(
        sent.get("message"),
        Some(&Value::from(refusal.message.as_str()))
    );
    assert_eq!(sent.get("op"), refusal.op.map(Value::from).as_ref());
    assert_eq!(sent.contains_key("id"), refusal.id.is_some());
    // Exactly these members, in this order, with the id as the server holds it.
    let id = id_member(refusal.id.as_ref());
    let op = refusal
        .op
        .map(|op| format!(r#","op":"{op}""#))
        .unwrap_or_default();
    let code = code.unwrap_or_default();
    let message = Value::from(refusal.message.as_str());
    assert_eq!(
        &*frame,
        format!(r#"{{"type":"error"{id}{op},"code":{code},"message":{message}}}"#)
    );
}

/// An id is absent, a number, or a string of at most `MAX_ID_CHARS` characters.
fn check_id(id: Option<&Value>) {
    match id {
        None | Some(Value::Number(_)) => {}
        Some(Value::String(s)) => assert!(s.chars().count() <= MAX_ID_CHARS, "{s:?}"),
        Some(other) => panic!("id {other:?} echoed"),
    }
}

fn parse_object(frame: &str) -> Map<String, Value> {
    match serde_json::from_str(frame) {
        Ok(Value::Object(m)) => m,
        Ok(other) => panic!("frame is not an object: {other}"),
        Err(e) => panic!("frame is not JSON ({e}): {frame:?}"),
    }
}

/// The frame a well-behaved client would send for `request`.
fn encode(request: &Request) -> String {
    let mut m = Map::new();
    m.insert("op".into(), Value::from(request.op.name()));
    if let Some(id) = &request.id {
        m.insert("id".into(), id.clone());
    }
    let mut put = |k: &str, v: &str| {
        m.insert(k.into(), Value::from(v));
    };
    match &request.op {
        ClientOp::Join { room_id }
        | ClientOp::Leave { room_id }
        | ClientOp::RaiseHand { room_id }
        | ClientOp::LowerHand { room_id } => put("roomId", room_id.as_str()),
        ClientOp::Resume { room_id, last_seq } => {
            put("roomId", room_id.as_str());
            m.insert("lastSeq".into(), Value::from(*last_seq));
        }
        ClientOp::Subscribe(topic) | ClientOp::Unsubscribe(topic) => match topic {
            Topic::Club(id) => put("clubId", id.as_str()),
            Topic::Event(id) => put("eventId", id.as_str()),
        },
        ClientOp::SpeakerAdd { room_id, uid }
        | ClientOp::SpeakerRemove { room_id, uid }
        | ClientOp::MemberRemove { room_id, uid } => {
            put("roomId", room_id.as_str());
            put("uid", uid.as_str());
        }
        ClientOp::Ping => {}
    }
    Value::Object(m).to_string()
}
