//! Clubs (圈子) and their members. Member counts change in the same
//! transaction as the membership row, by an atomic UPDATE, never in memory.

use actix::Message;
use sqlx::any::AnyRow;

use super::page::{newest_first, PageQuery};
use super::profile::{user_view, UserView, USER_VIEW_COLUMNS};
use super::row::{column, from_row};
use super::{repo_handlers, RepoResult};
use crate::db::Db;
use crate::ids::{ClubId, Uid};

/// A stored club.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Club {
    /// Its id.
    pub club_id: ClubId,
    /// The creator (owner).
    pub uid: Uid,
    /// Name.
    pub name: String,
    /// Cover image URL.
    pub cover: String,
    /// Current members.
    pub member_total: i64,
    /// Creation time (ms).
    pub created_at: i64,
}

const CLUB_COLUMNS: &str = "cl.club_id, cl.uid, cl.name, cl.cover, cl.member_total, cl.created_at";

pub(crate) fn club(row: &AnyRow) -> RepoResult<Club> {
    from_row! { row, Club { club_id, uid, name, cover, member_total, created_at } }
}

/// Creates a club; the creator is its first member.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Club>")]
pub struct CreateClub {
    /// New id.
    pub club_id: ClubId,
    /// Creator.
    pub uid: Uid,
    /// Name.
    pub name: String,
    /// Cover URL.
    pub cover: String,
    /// Now (ms).
    pub now: i64,
}

async fn create_club(db: Db, m: CreateClub) -> RepoResult<Club> {
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO clubs (club_id, uid, name, cover, member_total, created_at) VALUES ($1, $2, $3, $4, 1, $5)")
        .bind(m.club_id.as_str())
        .bind(m.uid.as_str())
        .bind(&m.name)
        .bind(&m.cover)
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO club_members (club_id, uid, created_at) VALUES ($1, $2, $3)")
        .bind(m.club_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Club {
        club_id: m.club_id,
        uid: m.uid,
        name: m.name,
        cover: m.cover,
        member_total: 1,
        created_at: m.now,
    })
}

/// A club and whether `viewer` is a member.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<(Club, bool)>>")]
pub struct GetClub {
    /// Which club.
    pub club_id: ClubId,
    /// Who asks.
    pub viewer: Uid,
}

async fn get_club(db: Db, m: GetClub) -> RepoResult<Option<(Club, bool)>> {
    let sql = format!(
        "SELECT {CLUB_COLUMNS}, (SELECT COUNT(*) FROM club_members cm WHERE cm.club_id = cl.club_id AND cm.uid = $2) AS joined \
         FROM clubs cl WHERE cl.club_id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(m.club_id.as_str())
        .bind(m.viewer.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((club(&r)?, column(&r, "joined")?)))
        .transpose()
}

/// The clubs `uid` has joined, newest join first: (join time, club).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<(i64, Club)>>")]
pub struct ListMyClubs {
    /// Whose clubs.
    pub uid: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_my_clubs(db: Db, m: ListMyClubs) -> RepoResult<Vec<(i64, Club)>> {
    let sql = format!(
        "SELECT cm.created_at AS joined_at, {CLUB_COLUMNS} FROM club_members cm JOIN clubs cl ON cl.club_id = cm.club_id \
         WHERE cm.uid = $1 AND {}",
        newest_first("cm.created_at", "cm.club_id", 1)
    );
    let rows = m
        .page
        .fetch(&db, sqlx::query(&sql).bind(m.uid.as_str()))
        .await?;
    rows.iter()
        .map(|r| Ok((column(r, "joined_at")?, club(r)?)))
        .collect()
}

/// A club's members as `viewer` sees them, newest join first: (join time, user).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<(i64, UserView)>>")]
pub struct ListClubMembers {
    /// Which club.
    pub club_id: ClubId,
    /// Who asks.
    pub viewer: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_club_members(db: Db, m: ListClubMembers) -> RepoResult<Vec<(i64, UserView)>> {
    let sql = format!(
        "SELECT cm.created_at AS joined_at, {USER_VIEW_COLUMNS} FROM club_members cm JOIN profiles p ON p.uid = cm.uid \
         WHERE cm.club_id = $2 AND {}",
        newest_first("cm.created_at", "cm.uid", 2)
    );
    let query = sqlx::query(&sql)
        .bind(m.viewer.as_str())
        .bind(m.club_id.as_str());
    let rows = m.page.fetch(&db, query).await?;
    rows.iter()
        .map(|r| Ok((column(r, "joined_at")?, user_view(r)?)))
        .collect()
}

async fn club_exists(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    club_id: &ClubId,
) -> RepoResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clubs WHERE club_id = $1")
        .bind(club_id.as_str())
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// `uid` joins a club (idempotent). `None` when the club does not exist;
/// otherwise the club after the change and whether this call added the member.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<(Club, bool)>>")]
pub struct JoinClub {
    /// Which club.
    pub club_id: ClubId,
    /// Who joins.
    pub uid: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn join_club(db: Db, m: JoinClub) -> RepoResult<Option<(Club, bool)>> {
    let mut tx = db.begin_write().await?;
    if !club_exists(&mut tx, &m.club_id).await? {
        return Ok(None);
    }
    let added = sqlx::query("INSERT INTO club_members (club_id, uid, created_at) VALUES ($1, $2, $3) ON CONFLICT (club_id, uid) DO NOTHING")
        .bind(m.club_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if added {
        sqlx::query("UPDATE clubs SET member_total = member_total + 1 WHERE club_id = $1")
            .bind(m.club_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let row = sqlx::query(&format!(
        "SELECT {CLUB_COLUMNS} FROM clubs cl WHERE cl.club_id = $1"
    ))
    .bind(m.club_id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((club(&row)?, added)))
}

/// `uid` leaves a club (idempotent). `None` when the club does not exist;
/// otherwise whether this call removed the member.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<bool>>")]
pub struct LeaveClub {
    /// Which club.
    pub club_id: ClubId,
    /// Who leaves.
    pub uid: Uid,
}

async fn leave_club(db: Db, m: LeaveClub) -> RepoResult<Option<bool>> {
    let mut tx = db.begin_write().await?;
    if !club_exists(&mut tx, &m.club_id).await? {
        return Ok(None);
    }
    let removed = sqlx::query("DELETE FROM club_members WHERE club_id = $1 AND uid = $2")
        .bind(m.club_id.as_str())
        .bind(m.uid.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if removed {
        sqlx::query("UPDATE clubs SET member_total = member_total - 1 WHERE club_id = $1")
            .bind(m.club_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(removed))
}

repo_handlers!(
    CreateClub => create_club,
    GetClub => get_club,
    ListMyClubs => list_my_clubs,
    ListClubMembers => list_club_members,
    JoinClub => join_club,
    LeaveClub => leave_club,
);
