//! Server-wide settings that survive restarts (the generated JWT secret).

use actix::Message;

use super::{repo_handlers, RepoResult, Statement};
use crate::db::Db;

/// Returns the stored value of `key`, storing `value_if_absent` first when
/// there is none. Concurrent first starts agree on one value.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<String>")]
pub struct GetOrInitSetting {
    /// Setting name.
    pub key: String,
    /// Value to store when the setting does not exist yet.
    pub value_if_absent: String,
    /// Creation time (ms).
    pub now: i64,
}

async fn get_or_init_setting(db: Db, msg: GetOrInitSetting) -> RepoResult<String> {
    sqlx::query(
        "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&msg.key)
    .bind(&msg.value_if_absent)
    .bind(msg.now)
    .run(&db)
    .await?;
    let value: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(&msg.key)
        .fetch_one(db.pool())
        .await?;
    Ok(value)
}

repo_handlers!(GetOrInitSetting => get_or_init_setting);
