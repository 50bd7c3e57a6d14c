//! Blocks and cards (名片) between users.

use actix::Message;

use super::message::{insert_messages, Delivery, NewMessage};
use super::page::{newest_first, PageQuery};
use super::profile::{user_view, UserView, USER_VIEW_COLUMNS};
use super::row::from_row;
use super::{repo_handlers, RepoResult, Statement};
use crate::db::Db;
use crate::ids::Uid;

/// A list entry: when it happened, and the other user.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Creation time (ms) of the block or card.
    pub created_at: i64,
    /// The other user as the viewer sees them.
    pub user: UserView,
}

/// `uid` blocks `target` (idempotent).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct Block {
    /// Who blocks.
    pub uid: Uid,
    /// Whom.
    pub target: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn block(db: Db, m: Block) -> RepoResult<()> {
    sqlx::query("INSERT INTO blocks (uid, blocked_uid, created_at) VALUES ($1, $2, $3) ON CONFLICT (uid, blocked_uid) DO NOTHING")
        .bind(m.uid.as_str())
        .bind(m.target.as_str())
        .bind(m.now)
        .run(&db)
        .await
}

/// `uid` unblocks `target` (idempotent).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct Unblock {
    /// Who.
    pub uid: Uid,
    /// Whom.
    pub target: Uid,
}

async fn unblock(db: Db, m: Unblock) -> RepoResult<()> {
    sqlx::query("DELETE FROM blocks WHERE uid = $1 AND blocked_uid = $2")
        .bind(m.uid.as_str())
        .bind(m.target.as_str())
        .run(&db)
        .await
}

/// Has `by` blocked `whom`?
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct IsBlocked {
    /// The possible blocker.
    pub by: Uid,
    /// The possibly blocked.
    pub whom: Uid,
}

async fn is_blocked(db: Db, m: IsBlocked) -> RepoResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM blocks WHERE uid = $1 AND blocked_uid = $2")
            .bind(m.by.as_str())
            .bind(m.whom.as_str())
            .fetch_one(db.pool())
            .await?;
    Ok(n > 0)
}

/// The users `viewer` has blocked, newest first.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Entry>>")]
pub struct ListBlocks {
    /// Whose list.
    pub viewer: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_blocks(db: Db, m: ListBlocks) -> RepoResult<Vec<Entry>> {
    let sql = format!(
        "SELECT b.created_at AS e_created_at, {USER_VIEW_COLUMNS} FROM blocks b JOIN profiles p ON p.uid = b.blocked_uid \
         WHERE b.uid = $1 AND {}",
        newest_first("b.created_at", "b.blocked_uid", 1)
    );
    entries(&db, &sql, &m.viewer, &m.page).await
}

/// A page of entries: `sql` binds the viewer as `$1` and ends with [`newest_first`].
async fn entries(db: &Db, sql: &str, viewer: &Uid, page: &PageQuery) -> RepoResult<Vec<Entry>> {
    let rows = page
        .fetch(db, sqlx::query(sql).bind(viewer.as_str()))
        .await?;
    rows.iter()
        .map(|row| from_row! { row, "e_", Entry { created_at; user: user_view(row)? } })
        .collect()
}

/// `from` sends their card to `to`. The first time, the card and `to`'s inbox
/// message (`notice`) are written in one transaction, so a crash cannot keep
/// one without the other; answers the message then, `None` when `to` already
/// held the card.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<Delivery>>")]
pub struct SendCard {
    /// The card's owner.
    pub from: Uid,
    /// Who receives it.
    pub to: Uid,
    /// The message `to` gets the first time.
    pub notice: NewMessage,
    /// Now (ms).
    pub now: i64,
}

async fn send_card(db: Db, m: SendCard) -> RepoResult<Option<Delivery>> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "INSERT INTO cards (holder_uid, owner_uid, created_at) VALUES ($1, $2, $3) ON CONFLICT (holder_uid, owner_uid) DO NOTHING",
    )
    .bind(m.to.as_str())
    .bind(m.from.as_str())
    .bind(m.now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done != 1 {
        return Ok(None);
    }
    let delivered = insert_messages(&mut tx, vec![m.notice], m.now).await?;
    tx.commit().await?;
    Ok(delivered.into_iter().next())
}

/// Removes `owner`'s card from `holder`'s card holder (idempotent).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct DeleteCard {
    /// Whose holder.
    pub holder: Uid,
    /// Whose card.
    pub owner: Uid,
}

async fn delete_card(db: Db, m: DeleteCard) -> RepoResult<()> {
    sqlx::query("DELETE FROM cards WHERE holder_uid = $1 AND owner_uid = $2")
        .bind(m.holder.as_str())
        .bind(m.owner.as_str())
        .run(&db)
        .await
}

/// The cards `viewer` has received, newest first.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Entry>>")]
pub struct ListCards {
    /// Whose holder.
    pub viewer: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_cards(db: Db, m: ListCards) -> RepoResult<Vec<Entry>> {
    let sql = format!(
        "SELECT c0.created_at AS e_created_at, {USER_VIEW_COLUMNS} FROM cards c0 JOIN profiles p ON p.uid = c0.owner_uid \
         WHERE c0.holder_uid = $1 AND {}",
        newest_first("c0.created_at", "c0.owner_uid", 1)
    );
    entries(&db, &sql, &m.viewer, &m.page).await
}

/// May `inviter` invite `invitee`: does the inviter hold the invitee's card, or
/// do they share a club?
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct MayInvite {
    /// Who invites.
    pub inviter: Uid,
    /// Whom.
    pub invitee: Uid,
}

async fn may_invite(db: Db, m: MayInvite) -> RepoResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM cards WHERE holder_uid = $1 AND owner_uid = $2) + \
                (SELECT COUNT(*) FROM club_members a JOIN club_members b ON a.club_id = b.club_id \
                 WHERE a.uid = $1 AND b.uid = $2)",
    )
    .bind(m.inviter.as_str())
    .bind(m.invitee.as_str())
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

repo_handlers!(
    Block => block,
    Unblock => unblock,
    IsBlocked => is_blocked,
    ListBlocks => list_blocks,
    SendCard => send_card,
    DeleteCard => delete_card,
    ListCards => list_cards,
    MayInvite => may_invite,
);
