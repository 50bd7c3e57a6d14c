//! Access tokens: HS256 JWTs naming the user and the login session.
//!
//! The token proves who the caller is; the session row decides whether it is
//! still valid (revoked at logout, expiry), so logout takes effect at once.
//! Expiry is checked against huddle's injected clock, not the JWT library's.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What an access token carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// Issued at (s since the epoch).
    pub iat: i64,
    /// Expires at (s since the epoch).
    pub exp: i64,
}

/// The HS256 keys made from the server's JWT secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    /// Keys for `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by the caller with huddle's clock (testable, one source of time).
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs `claims`.
    pub fn issue(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Checks the signature and algorithm; expiry is left to the caller. The
    /// HMAC is compared in constant time (jsonwebtoken recomputes it and
    /// compares with `ring::constant_time::verify_slices_are_equal`).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "2701a6fbd0464da99789c9ad1ca1c654".into(),
            sid: "c184241930be43b5bc36812ce3de56b5".into(),
            iat: 1_600_000_000,
            exp: 1_602_592_000,
        }
    }

    #[test]
    fn round_trip() {
        let keys = TokenKeys::new(b"secret");
        let token = keys.issue(&claims()).unwrap();
        assert_eq!(keys.verify(&token), Some(claims()));
    }

    #[test]
    fn other_secret_or_tampering_is_refused() {
        let token = TokenKeys::new(b"secret").issue(&claims()).unwrap();
        assert_eq!(TokenKeys::new(b"other").verify(&token), None);
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push('x');
        assert_eq!(TokenKeys::new(b"secret").verify(&tampered), None);
        assert_eq!(TokenKeys::new(b"secret").verify("not-a-jwt"), None);
    }

    #[test]
    fn only_the_exact_signature_passes() {
        let keys = TokenKeys::new(b"secret");
        let token = keys.issue(&claims()).unwrap();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        // the right one; one of the same length but wrong; shorter; longer
        assert!(keys.verify(&token).is_some());
        let mut wrong: Vec<char> = signature.chars().collect();
        wrong[0] = if wrong[0] == 'A' { 'B' } else { 'A' };
        let wrong: String = wrong.into_iter().collect();
        for sig in [
            wrong.as_str(),
            &signature[..signature.len() - 1],
            &format!("{signature}A"),
            "",
        ] {
            assert_eq!(keys.verify(&format!("{signed}.{sig}")), None, "{sig}");
        }
    }

    #[test]
    fn alg_none_is_refused() {
        // header {"alg":"none","typ":"JWT"} with the same claims and no signature
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = b64.encode(serde_json::to_vec(&claims()).unwrap());
        let token = format!("{header}.{body}.");
        assert_eq!(TokenKeys::new(b"secret").verify(&token), None);
    }
}
