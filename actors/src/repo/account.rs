//! Accounts: one per (country code, mobile), created on first SMS login.

use actix::Message;

use super::row::from_row;
use super::{repo_handlers, RepoResult, Statement};
use crate::db::Db;
use crate::ids::Uid;

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's id.
    pub uid: Uid,
    /// Country calling code, digits only (e.g. "86").
    pub country_code: String,
    /// National number, digits only.
    pub mobile: String,
    /// Frozen accounts cannot log in or call logged-in routes (business code 100002).
    pub frozen: bool,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Finds the account of a mobile number, creating it when there is none.
/// Answers the account and whether this call created it.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<(Account, bool)>")]
pub struct FindOrCreateAccount {
    /// Country calling code.
    pub country_code: String,
    /// National number.
    pub mobile: String,
    /// Creation time (ms) when created.
    pub now: i64,
}

async fn find_or_create_account(db: Db, msg: FindOrCreateAccount) -> RepoResult<(Account, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO accounts (uid, country_code, mobile, frozen, created_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (country_code, mobile) DO NOTHING",
    )
    .bind(Uid::new().as_str())
    .bind(&msg.country_code)
    .bind(&msg.mobile)
    .bind(msg.now)
    .changed(&db)
    .await?
        == 1;
    let row = sqlx::query(
        "SELECT uid, country_code, mobile, frozen, created_at FROM accounts \
         WHERE country_code = $1 AND mobile = $2",
    )
    .bind(&msg.country_code)
    .bind(&msg.mobile)
    .fetch_one(db.pool())
    .await?;
    Ok((account_from_row(&row)?, inserted))
}

fn account_from_row(row: &sqlx::any::AnyRow) -> RepoResult<Account> {
    from_row! { row, Account { uid, country_code, mobile, frozen, created_at } }
}

/// Freezes or unfreezes an account. Answers false when the uid is unknown.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct SetFrozen {
    /// Whose account.
    pub uid: Uid,
    /// The new state.
    pub frozen: bool,
}

async fn set_frozen(db: Db, msg: SetFrozen) -> RepoResult<bool> {
    let done = sqlx::query("UPDATE accounts SET frozen = $1 WHERE uid = $2")
        .bind(i64::from(msg.frozen))
        .bind(msg.uid.as_str())
        .changed(&db)
        .await?;
    Ok(done == 1)
}

repo_handlers!(
    FindOrCreateAccount => find_or_create_account,
    SetFrozen => set_frozen,
);
