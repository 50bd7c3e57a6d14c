//! H5 sessions ("鉴权: 微信登录"): people who open a share page without the
//! app. `POST /h5/session` gives a short-lived bearer token: a WeChat session
//! (the OAuth `code` exchanged for an openid) when WeChat is configured and the
//! page has a code, a guest session otherwise. The token is an HS256 JWT under
//! a key of its own, so app tokens and H5 tokens never stand in for each other.
//! H5 calls carry `Authorization: Bearer <h5Token>` and are signed with the
//! default secret.

use huddle_actors::SharedClock;

use super::token::{Claims, TokenKeys};
use super::{ClientInfo, Params};
use crate::envelope::ApiError;

/// Who holds an H5 session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H5Session {
    /// Session id (32 hex).
    pub sid: String,
    /// WeChat openid; `None` for a guest.
    pub openid: Option<String>,
    /// Expiry (ms).
    pub expire_at: i64,
}

/// Issues and checks H5 tokens.
#[derive(Clone)]
pub struct H5Sessions {
    keys: TokenKeys,
    clock: SharedClock,
    ttl_ms: i64,
}

const GUEST: &str = "guest";
const WECHAT_PREFIX: &str = "wx:";

impl H5Sessions {
    /// Tokens signed with `key`, living `ttl_secs`.
    pub fn new(key: &[u8], clock: SharedClock, ttl_secs: u64) -> Self {
        Self {
            keys: TokenKeys::new(key),
            clock,
            ttl_ms: i64::try_from(ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        }
    }

    /// A new session (a guest's when `openid` is `None`) and its token.
    pub fn open(&self, openid: Option<&str>) -> Result<(String, H5Session), ApiError> {
        let now = self.clock.now_ms();
        let session = H5Session {
            sid: huddle_actors::ids::random_hex32(),
            openid: openid.map(str::to_owned),
            expire_at: now.saturating_add(self.ttl_ms),
        };
        let claims = Claims {
            sub: match openid {
                Some(o) => format!("{WECHAT_PREFIX}{o}"),
                None => GUEST.to_owned(),
            },
            sid: session.sid.clone(),
            iat: now.div_euclid(1000),
            exp: session.expire_at.div_euclid(1000),
        };
        let token = self.keys.issue(&claims).map_err(ApiError::internal)?;
        Ok((token, session))
    }

    /// The session of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Result<H5Session, ApiError> {
        let claims = self
            .keys
            .verify(token)
            .ok_or_else(|| ApiError::Unauthorized("invalid H5 token".into()))?;
        let expire_at = claims.exp.saturating_mul(1000);
        if self.clock.now_ms() >= expire_at {
            return Err(ApiError::Unauthorized(
                "H5 session expired: open a new one with POST /h5/session".into(),
            ));
        }
        let openid = if claims.sub == GUEST {
            None
        } else {
            Some(
                claims
                    .sub
                    .strip_prefix(WECHAT_PREFIX)
                    .ok_or_else(|| ApiError::Unauthorized("invalid H5 token".into()))?
                    .to_owned(),
            )
        };
        Ok(H5Session {
            sid: claims.sid,
            openid,
            expire_at,
        })
    }
}

/// A verified H5 call.
#[derive(Debug)]
pub struct H5Call {
    /// The signed parameters.
    pub params: Params,
    /// Header information.
    pub client: ClientInfo,
    /// The H5 session.
    pub session: H5Session,
}

impl super::signed::SignedCall for H5Call {
    type Caller = H5Session;
    const BEFORE_LOGIN: bool = true;

    async fn identify(door: &super::signed::Door<'_>) -> Result<Self::Caller, ApiError> {
        let token = door
            .authorization()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "Authorization: Bearer <h5Token> is required (POST /h5/session)".into(),
                )
            })?;
        door.state.h5_sessions.verify(token.trim())
    }

    fn replay_scope(session: &Self::Caller) -> String {
        format!("h5:{}", session.sid)
    }

    fn verified(
        session: Self::Caller,
        client: ClientInfo,
        params: Params,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            params,
            client,
            session,
        })
    }
}

super::signed::signed_extractors!(H5Call);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use huddle_actors::ManualClock;

    use super::*;

    #[test]
    fn tokens_name_their_holder_and_expire() {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let sessions = H5Sessions::new(b"key", clock.clone(), 60);
        let (guest_token, guest) = sessions.open(None).expect("issued");
        let (wx_token, _) = sessions.open(Some("oAbc")).expect("issued");
        assert_eq!(sessions.verify(&guest_token).expect("valid"), guest);
        assert_eq!(
            sessions.verify(&wx_token).expect("valid").openid.as_deref(),
            Some("oAbc")
        );
        let other = H5Sessions::new(b"another key", clock.clone(), 60);
        assert!(other.verify(&guest_token).is_err(), "another key");
        clock.advance(60_000);
        assert!(sessions.verify(&guest_token).is_err(), "expired");
    }
}
