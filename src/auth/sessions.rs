//! Login sessions: opened at login, checked on every logged-in call, revoked at
//! logout. The access token is a JWT naming the session; the session row holds
//! the signing secret and decides validity.

use base64::Engine;
use huddle_actors::repo::session::{CreateSession, FindSession, RevokeSession, SessionRecord};
use huddle_actors::repo::Repo;
use huddle_actors::{ids::random_hex32, SessionId, SharedClock, Uid};
use serde::Serialize;

use super::session_cache::SessionCache;
use super::token::{Claims, TokenKeys};
use crate::envelope::ApiError;

/// What login returns (`result` of `/account/login/captcha`): a new session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoginResult)]
pub struct LoginTokens {
    /// The account's id.
    pub uid: String,
    /// Session expiry (ms).
    pub expire_time: i64,
    /// The JWT sent back in `Authorization: Basic base64(uid:accessToken)`.
    pub access_token: String,
    /// The per-session signing secret.
    pub access_secret: String,
}

/// Opens, checks and revokes sessions.
pub struct Sessions {
    keys: TokenKeys,
    repo: Repo,
    clock: SharedClock,
    ttl_ms: i64,
    cache: SessionCache,
}

fn unauthorized(why: &str) -> ApiError {
    ApiError::Unauthorized(why.to_owned())
}

impl Sessions {
    /// Sessions signed with `jwt_secret`, living `ttl_days`; a checked
    /// session is trusted for `cache_ttl` before its row is read again.
    pub fn new(
        jwt_secret: &[u8],
        repo: Repo,
        clock: SharedClock,
        ttl_days: u32,
        cache_ttl: std::time::Duration,
    ) -> Self {
        Self {
            keys: TokenKeys::new(jwt_secret),
            repo,
            clock,
            ttl_ms: i64::from(ttl_days) * 24 * 60 * 60 * 1000,
            cache: SessionCache::new(cache_ttl),
        }
    }

    /// Opens a session for `uid`.
    pub async fn open(&self, uid: &Uid, client_type: i64) -> Result<LoginTokens, ApiError> {
        let now = self.clock.now_ms();
        let expire_at = now + self.ttl_ms;
        let session_id = SessionId::new();
        let access_secret = random_hex32();
        let access_token = self
            .keys
            .issue(&Claims {
                sub: uid.to_string(),
                sid: session_id.to_string(),
                iat: now / 1000,
                exp: expire_at / 1000,
            })
            .map_err(ApiError::internal)?;
        self.repo
            .run(CreateSession {
                session_id,
                uid: uid.clone(),
                access_secret: access_secret.clone(),
                client_type,
                now,
                expire_at,
            })
            .await?;
        Ok(LoginTokens {
            uid: uid.to_string(),
            expire_time: expire_at,
            access_token,
            access_secret,
        })
    }

    /// Checks an `Authorization: Basic base64(uid:accessToken)` header value and
    /// answers the live session it names.
    pub async fn authenticate(&self, authorization: &str) -> Result<SessionRecord, ApiError> {
        let encoded = authorization
            .strip_prefix("Basic ")
            .ok_or_else(|| unauthorized("Authorization must be Basic base64(uid:accessToken)"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| unauthorized("Authorization is not valid base64"))?;
        let (uid, token) = decoded
            .split_once(':')
            .ok_or_else(|| unauthorized("Authorization must hold uid:accessToken"))?;
        self.authenticate_pair(uid, token).await
    }

    /// Checks a `uid` and its `accessToken` (as the Basic header carries them,
    /// or the WebSocket query string).
    pub async fn authenticate_pair(
        &self,
        uid: &str,
        token: &str,
    ) -> Result<SessionRecord, ApiError> {
        let uid = Uid::parse(uid).map_err(|_| unauthorized("uid is not a valid uid"))?;
        let claims = self
            .keys
            .verify(token)
            .ok_or_else(|| unauthorized("access token is not valid"))?;
        if claims.sub != uid.as_str() {
            return Err(unauthorized("access token belongs to another uid"));
        }
        let session_id =
            SessionId::parse(&claims.sid).map_err(|_| unauthorized("access token is not valid"))?;
        self.check(session_id, &uid).await
    }

    /// Checks that the session `session_id` of `uid` still works (not
    /// revoked, not expired); the cache answers within its time to live. A
    /// frozen account is for the caller to refuse (`account_frozen`).
    pub async fn check(&self, session_id: SessionId, uid: &Uid) -> Result<SessionRecord, ApiError> {
        let session = match self.cache.get(&session_id) {
            Some(session) => session,
            None => {
                let session = self
                    .repo
                    .run(FindSession { session_id })
                    .await?
                    .ok_or_else(|| unauthorized("session not found"))?;
                // Only sessions that work are remembered, so an unfreeze
                // (CLI) applies at once.
                if session.revoked_at.is_none() && !session.account_frozen {
                    self.cache.put(session.clone());
                }
                session
            }
        };
        if session.uid != *uid {
            return Err(unauthorized("access token belongs to another uid"));
        }
        if session.revoked_at.is_some() {
            return Err(unauthorized("session ended (logged out)"));
        }
        if self.clock.now_ms() >= session.expire_at {
            return Err(unauthorized("session expired, log in again"));
        }
        Ok(session)
    }

    /// Ends a session (logout).
    pub async fn revoke(&self, session_id: &SessionId) -> Result<(), ApiError> {
        self.cache.forget(session_id);
        self.repo
            .run(RevokeSession {
                session_id: session_id.clone(),
                now: self.clock.now_ms(),
            })
            .await?;
        // A request that read the row before the revocation committed may
        // have put it back meanwhile.
        self.cache.forget(session_id);
        Ok(())
    }

    /// Forgets what this node remembers of `uid`'s sessions, after a change
    /// to their account or profile.
    pub fn account_changed(&self, uid: &Uid) {
        self.cache.forget_user(uid);
    }
}
