//! Login sessions: created at login, looked up on every logged-in call,
//! revoked at logout.

use actix::Message;

use super::row::from_row;
use super::{repo_handlers, RepoResult, Statement};
use crate::db::Db;
use crate::ids::{SessionId, Uid};

/// A new login session.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct CreateSession {
    /// The session's id (carried in the access token).
    pub session_id: SessionId,
    /// Whose session.
    pub uid: Uid,
    /// The per-session signing secret handed to the client at login.
    pub access_secret: String,
    /// 0 Web, 1 iOS, 2 Android.
    pub client_type: i64,
    /// Creation time (ms).
    pub now: i64,
    /// Expiry (ms).
    pub expire_at: i64,
}

async fn create_session(db: Db, msg: CreateSession) -> RepoResult<()> {
    sqlx::query(
        "INSERT INTO sessions (session_id, uid, access_secret, client_type, created_at, expire_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(msg.session_id.as_str())
    .bind(msg.uid.as_str())
    .bind(&msg.access_secret)
    .bind(msg.client_type)
    .bind(msg.now)
    .bind(msg.expire_at)
    .run(&db)
    .await
}

/// A session as the authentication layer sees it, with its account's state.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The session's id.
    pub session_id: SessionId,
    /// Whose session.
    pub uid: Uid,
    /// The signing secret.
    pub access_secret: String,
    /// Expiry (ms).
    pub expire_at: i64,
    /// Set when the session was revoked (logout).
    pub revoked_at: Option<i64>,
    /// Whether the account is frozen now.
    pub account_frozen: bool,
    /// Whether the user has initialised their profile.
    pub has_profile: bool,
}

/// Looks a session up by id.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<SessionRecord>>")]
pub struct FindSession {
    /// Which session.
    pub session_id: SessionId,
}

async fn find_session(db: Db, msg: FindSession) -> RepoResult<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT s.session_id, s.uid, s.access_secret, s.expire_at, s.revoked_at, a.frozen AS account_frozen, \
         (SELECT COUNT(*) FROM profiles p WHERE p.uid = s.uid) AS has_profile \
         FROM sessions s JOIN accounts a ON a.uid = s.uid WHERE s.session_id = $1",
    )
    .bind(msg.session_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        from_row! { &row, SessionRecord {
            session_id, uid, access_secret, expire_at, revoked_at, account_frozen, has_profile,
        } }
    })
    .transpose()
}

/// Revokes a session (logout). Answers false when it was already revoked.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct RevokeSession {
    /// Which session.
    pub session_id: SessionId,
    /// Revocation time (ms).
    pub now: i64,
}

async fn revoke_session(db: Db, msg: RevokeSession) -> RepoResult<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL",
    )
    .bind(msg.now)
    .bind(msg.session_id.as_str())
    .changed(&db)
    .await?;
    Ok(done == 1)
}

repo_handlers!(
    CreateSession => create_session,
    FindSession => find_session,
    RevokeSession => revoke_session,
);
