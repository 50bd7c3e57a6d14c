//! Request parameters and their signature: `BodyKind::from_content_type`,
//! `Params::parse`, then `canonical_string` / `sign` / `verify` / `check_ts`
//! over whatever parsed.
//!
//! Input format (so that seeds are readable text):
//!
//! ```text
//! <Content-Type header value, or a single "-" for no header>\n
//! <query string>\n
//! <body bytes, up to the end>
//! ```
//!
//! Missing lines are empty. See README.md for the invariants.

#![no_main]

use huddle::auth::params::{BodyKind, Params};
use huddle::auth::signature::{
    canonical_string, check_ts, sign, verify, DEFAULT_ACCESS_SECRET, SIGN_WINDOW_MS,
};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// A session secret as login hands them out (32 hex).
const SESSION_SECRET: &str = "e31bc25bcc6641a1a998eacb6ca9d244";

const ACCESS_SECRET_PREFIX: &str = "accessSecret=";

fuzz_target!(|data: &[u8]| {
    let (content_type, query, body) = split(data);
    let content_type = content_type.as_deref();

    let kinds = match BodyKind::from_content_type(content_type, body.len()) {
        Ok(kind) => {
            if body.is_empty() {
                assert_eq!(kind, BodyKind::None, "an empty body has no kind");
            } else {
                assert_ne!(
                    kind,
                    BodyKind::None,
                    "a non-empty body was classified as none"
                );
            }
            // The media type is case-insensitive.
            let upper = content_type.map(str::to_ascii_uppercase);
            let again = BodyKind::from_content_type(upper.as_deref(), body.len());
            assert_eq!(again.ok(), Some(kind), "content type {content_type:?}");
            vec![kind]
        }
        Err(_) => {
            assert!(!body.is_empty(), "an empty body never needs a content type");
            // The server stops here (415); keep exploring the parsers anyway.
            vec![BodyKind::Form, BodyKind::Json]
        }
    };

    for kind in kinds {
        let Ok(params) = Params::parse(&query, kind, body) else {
            continue;
        };
        let again = Params::parse(&query, kind, body);
        assert_eq!(
            again.as_ref().ok(),
            Some(&params),
            "parsing is deterministic"
        );
        check_count(&params, &query, kind, body);
        check_params(&params);
        check_transports(&params);
        check_signature(&params);
        check_timestamp(&params, data);
    }
});

/// Splits the input into (content type, query, body).
fn split(data: &[u8]) -> (Option<String>, String, &[u8]) {
    let (content_type, rest) = line(data);
    let (query, body) = line(rest);
    let content_type = if content_type == b"-" {
        None
    } else {
        Some(String::from_utf8_lossy(content_type).into_owned())
    };
    (
        content_type,
        String::from_utf8_lossy(query).into_owned(),
        body,
    )
}

fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Every pair sent is one parameter: a key given twice (in the query, the
/// body, or across both) is refused rather than silently merged, as its
/// signed value would be ambiguous (`Params::parse`'s promise).
fn check_count(params: &Params, query: &str, kind: BodyKind, body: &[u8]) {
    let in_query = url::form_urlencoded::parse(query.as_bytes()).count();
    let in_body = match kind {
        BodyKind::None => 0,
        BodyKind::Form => url::form_urlencoded::parse(body).count(),
        BodyKind::Json => match serde_json::from_slice::<Members>(body) {
            Ok(members) => members.0,
            Err(e) => panic!("parsed as params but is not a JSON object: {e}"),
        },
    };
    assert_eq!(
        params.iter().count(),
        in_query + in_body,
        "parameters lost or merged: {params:?}"
    );
}

/// The number of members of a JSON object, duplicates included.
struct Members(usize);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut n = 0;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Members(n))
            }
        }
        deserializer.deserialize_map(Count)
    }
}

/// Keys are non-empty, unique and in bytewise order; the getters agree.
fn check_params(params: &Params) {
    let mut previous: Option<&str> = None;
    for (key, value) in params.iter() {
        assert!(!key.is_empty(), "empty key accepted");
        if let Some(prev) = previous {
            assert!(
                prev.as_bytes() < key.as_bytes(),
                "keys not strictly increasing: {prev:?} then {key:?}"
            );
        }
        previous = Some(key);
        assert_eq!(params.get(key), Some(value));

        let trimmed = value.trim();
        let optional = params.optional(key);
        assert_eq!(optional, (!trimmed.is_empty()).then_some(trimmed));
        assert_eq!(params.required(key).ok(), optional);
        match params.int(key) {
            Ok(n) => assert_eq!(trimmed.parse::<i64>().ok(), Some(n)),
            Err(_) => assert!(trimmed.is_empty() || trimmed.parse::<i64>().is_err()),
        }
        match params.int_or(key, 7) {
            Ok(n) if trimmed.is_empty() => assert_eq!(n, 7),
            Ok(n) => assert_eq!(trimmed.parse::<i64>().ok(), Some(n)),
            Err(_) => assert!(trimmed.parse::<i64>().is_err()),
        }
        if let Ok(list) = params.string_list(key) {
            if trimmed.is_empty() {
                assert!(list.is_empty());
            }
        }
    }
    // A key that is not there (the input may well contain "\0absent").
    let mut absent = String::from("\u{0}absent");
    while params.iter().any(|(k, _)| k == absent) {
        absent.push('!');
    }
    let absent = absent.as_str();
    assert_eq!(params.get(absent), None);
    assert!(params.required(absent).is_err());
    assert_eq!(params.int_or(absent, -3).ok(), Some(-3));
    assert_eq!(params.string_list(absent).ok(), Some(Vec::new()));
}

/// The same parameters sent as a query string, a form body or a JSON object of
/// strings parse to the same `Params` (what the client signed is what the
/// server checks, whichever transport it chose).
fn check_transports(params: &Params) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let mut json = serde_json::Map::new();
    for (key, value) in params.iter() {
        form.append_pair(key, value);
        json.insert(key.to_owned(), serde_json::Value::from(value));
    }
    let form = form.finish();
    let json = serde_json::Value::Object(json).to_string();

    let as_query = Params::parse(&form, BodyKind::None, b"");
    assert_eq!(as_query.as_ref().ok(), Some(params), "query {form:?}");
    let as_form = Params::parse("", BodyKind::Form, form.as_bytes());
    assert_eq!(as_form.as_ref().ok(), Some(params), "form {form:?}");
    let as_json = Params::parse("", BodyKind::Json, json.as_bytes());
    assert_eq!(as_json.as_ref().ok(), Some(params), "json {json}");
}

fn check_signature(params: &Params) {
    let signed: Vec<(&str, &str)> = params.iter().filter(|(k, _)| *k != "sign").collect();
    for (secret, other) in [
        (DEFAULT_ACCESS_SECRET, SESSION_SECRET),
        (SESSION_SECRET, DEFAULT_ACCESS_SECRET),
    ] {
        let canonical = canonical_string(params.iter(), secret);
        // Its exact length: "k=v" joined by "$$$", then "$$$accessSecret=<secret>".
        let pairs: usize = signed.iter().map(|(k, v)| k.len() + 1 + v.len()).sum();
        let expected_len = pairs + 3 * signed.len() + ACCESS_SECRET_PREFIX.len() + secret.len();
        assert_eq!(canonical.len(), expected_len, "{canonical:?}");
        assert!(canonical.ends_with(&format!("{ACCESS_SECRET_PREFIX}{secret}")));
        match signed.first() {
            Some((k, v)) => {
                assert!(canonical.starts_with(&format!("{k}={v}$$$")));
                assert!(canonical.ends_with(&format!("$$${ACCESS_SECRET_PREFIX}{secret}")));
            }
            None => assert_eq!(canonical, format!("{ACCESS_SECRET_PREFIX}{secret}")),
        }
        // `sign` itself never takes part.
        assert_eq!(canonical_string(signed.iter().copied(), secret), canonical);

        let good = sign(params.iter(), secret);
        assert_eq!(good.len(), 32);
        assert!(
            good.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{good}"
        );
        assert!(verify(params.iter(), secret, &good));
        assert!(verify(params.iter(), secret, &good.to_ascii_uppercase()));
        assert!(!verify(params.iter(), other, &good), "another secret");
        assert!(!verify(params.iter(), secret, ""));
        assert!(!verify(params.iter(), secret, &good[..31]));
        assert!(!verify(params.iter(), secret, &format!("{good}0")));
        let mut flipped = good.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8_lossy(&flipped).into_owned();
        assert!(!verify(params.iter(), secret, &flipped));
        // Dropping a signed parameter changes the canonical string (it gets
        // shorter), so the signature no longer matches.
        if let Some((first, _)) = signed.first() {
            let fewer = params.iter().filter(|(k, _)| k != first);
            assert!(!verify(fewer, secret, &good), "without {first:?}");
        }
    }
    // A `sign` the client sent is accepted exactly when it is the signature,
    // in any ASCII case, after the trimming the extractor does.
    if let Some(given) = params.optional("sign") {
        let expected = sign(params.iter(), DEFAULT_ACCESS_SECRET);
        assert_eq!(
            verify(params.iter(), DEFAULT_ACCESS_SECRET, given),
            given.to_ascii_lowercase() == expected,
            "sign {given:?}"
        );
    }
}

/// `check_ts` accepts exactly |now - ts| <= SIGN_WINDOW_MS, without overflow.
fn check_timestamp(params: &Params, data: &[u8]) {
    let from_input = data
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_le_bytes)
        .unwrap_or(0);
    let ts_values = [
        params.optional("ts").and_then(|t| t.parse::<i64>().ok()),
        Some(from_input),
    ];
    for ts in ts_values.into_iter().flatten() {
        let nows = [
            ts,
            ts.saturating_add(SIGN_WINDOW_MS),
            ts.saturating_add(SIGN_WINDOW_MS + 1),
            ts.saturating_sub(SIGN_WINDOW_MS),
            ts.saturating_sub(SIGN_WINDOW_MS + 1),
            1_608_207_590_160,
            from_input,
            0,
            i64::MIN,
            i64::MAX,
        ];
        for now in nows {
            let within = (i128::from(now) - i128::from(ts)).abs() <= i128::from(SIGN_WINDOW_MS);
            let result = check_ts(ts, now);
            assert_eq!(result.is_ok(), within, "ts {ts} now {now}: {result:?}");
        }
    }
}
