//! Request signing ("客户端公共参数").
//!
//! `sign = md5_hex_lower(join("$$$", sorted("key=value" for every parameter but
//! sign)) + "$$$accessSecret=" + accessSecret)`. Keys sort bytewise ascending;
//! `accessSecret` is the session's (returned by login) or, before login and on
//! routes without a session, [`DEFAULT_ACCESS_SECRET`].

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// The secret used before login ("用户未登录是使用默认值").
pub const DEFAULT_ACCESS_SECRET: &str = "Hx!0k!K}5E.]EoP";

/// `|server_now - ts|` above this (ms) is refused with 401.
pub const SIGN_WINDOW_MS: i64 = 300_000;

/// The exact string that is hashed. `params` must iterate in bytewise key order
/// (a `BTreeMap<String, String>` does); the `sign` parameter itself is skipped.
pub fn canonical_string<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    access_secret: &str,
) -> String {
    let mut out = String::new();
    for (key, value) in params.into_iter().filter(|(k, _)| *k != "sign") {
        if !out.is_empty() {
            out.push_str("$$$");
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    if !out.is_empty() {
        out.push_str("$$$");
    }
    out.push_str("accessSecret=");
    out.push_str(access_secret);
    out
}

/// The lowercase hex MD5 signature of `params` under `access_secret`.
pub fn sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    access_secret: &str,
) -> String {
    hex::encode(Md5::digest(
        canonical_string(params, access_secret).as_bytes(),
    ))
}

/// True when `given` is the signature of `params`; compared in constant time.
/// Upper-case hex is accepted as the same signature.
pub fn verify<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    access_secret: &str,
    given: &str,
) -> bool {
    let expected = sign(params, access_secret);
    let given = given.to_ascii_lowercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Why a timestamp is refused.
pub fn check_ts(ts: i64, now_ms: i64) -> Result<(), String> {
    let skew = now_ms.saturating_sub(ts).saturating_abs();
    if skew > SIGN_WINDOW_MS {
        Err(format!(
            "ts is {skew} ms away from server time (allowed ±{SIGN_WINDOW_MS} ms)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn iter(m: &BTreeMap<String, String>) -> impl Iterator<Item = (&str, &str)> {
        m.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    #[test]
    fn canonical_string_sorts_keys_and_skips_sign() {
        let m = map(&[
            ("ts", "1608207590160"),
            ("mobile", "13800000000"),
            ("countryCode", "86"),
            ("sign", "ignored"),
        ]);
        assert_eq!(
            canonical_string(iter(&m), DEFAULT_ACCESS_SECRET),
            "countryCode=86$$$mobile=13800000000$$$ts=1608207590160$$$accessSecret=Hx!0k!K}5E.]EoP"
        );
    }

    #[test]
    fn keys_sort_bytewise_upper_before_lower() {
        let m = map(&[("b", "1"), ("B", "2"), ("a", "3")]);
        assert_eq!(
            canonical_string(iter(&m), "s"),
            "B=2$$$a=3$$$b=1$$$accessSecret=s"
        );
    }

    // Vectors computed by hand with `printf '%s' '<canonical>' | md5sum`.
    #[test]
    fn default_secret_vector() {
        let m = map(&[
            ("countryCode", "86"),
            ("mobile", "13800000000"),
            ("ts", "1608207590160"),
        ]);
        assert_eq!(
            sign(iter(&m), DEFAULT_ACCESS_SECRET),
            "49d80eb45ea4d89c692dbc48ed8de534"
        );
    }

    #[test]
    fn session_secret_vector() {
        let m = map(&[("ts", "1700000000000")]);
        assert_eq!(
            sign(iter(&m), "e31bc25bcc6641a1a998eacb6ca9d244"),
            "b63d355725296ec4b4893c4237b9dba4"
        );
    }

    #[test]
    fn verify_accepts_the_right_sign_only() {
        let m = map(&[("a", "1"), ("ts", "5")]);
        let good = sign(iter(&m), "secret");
        assert!(verify(iter(&m), "secret", &good));
        assert!(verify(iter(&m), "secret", &good.to_ascii_uppercase()));
        assert!(!verify(iter(&m), "other", &good));
        let tampered = map(&[("a", "2"), ("ts", "5")]);
        assert!(!verify(iter(&tampered), "secret", &good));
        assert!(!verify(iter(&m), "secret", ""));
    }

    #[test]
    fn ts_window_is_inclusive_at_300s() {
        assert!(check_ts(1_000_000, 1_300_000).is_ok());
        assert!(check_ts(1_300_000, 1_000_000).is_ok());
        assert!(check_ts(999_999, 1_300_000).is_err());
        assert!(check_ts(1_300_001, 1_000_000).is_err());
        assert!(check_ts(i64::MIN, 1_000_000).is_err());
    }
}
