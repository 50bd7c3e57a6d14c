//! Rooms (活动): the durable part (who hosts, which club, invites, closed or
//! not, share caches). Live membership is the room actor's state.

use actix::Message;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::page::{keyset, PageQuery};
use super::{repo_handlers, RepoResult};
use crate::db::Db;
use crate::ids::{ClubId, RoomCacheId, RoomId, Uid};

/// A stored room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Its id (also the RTC channel name).
    pub room_id: RoomId,
    /// The host.
    pub uid: Uid,
    /// Title.
    pub name: String,
    /// The club it belongs to (none for invite-only rooms and rooms started from events).
    pub club_id: Option<ClubId>,
    /// Only the host and invitees may enter.
    pub invite_only: bool,
    /// Creation time (ms).
    pub created_at: i64,
    /// When the host closed it.
    pub closed_at: Option<i64>,
}

const ROOM_COLUMNS: &str =
    "r.room_id, r.uid, r.name, r.club_id, r.invite_only, r.created_at, r.closed_at";

pub(crate) fn room(row: &AnyRow) -> RepoResult<Room> {
    let club_id: Option<String> = row.try_get("club_id")?;
    Ok(Room {
        room_id: RoomId::parse(&row.try_get::<String, _>("room_id")?)?,
        uid: Uid::parse(&row.try_get::<String, _>("uid")?)?,
        name: row.try_get("name")?,
        club_id: club_id.as_deref().map(ClubId::parse).transpose()?,
        invite_only: row.try_get::<i64, _>("invite_only")? != 0,
        created_at: row.try_get("created_at")?,
        closed_at: row.try_get("closed_at")?,
    })
}

pub(crate) async fn insert_room<'c, E>(executor: E, room: &Room) -> RepoResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO rooms (room_id, uid, name, club_id, invite_only, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(room.room_id.as_str())
        .bind(room.uid.as_str())
        .bind(&room.name)
        .bind(room.club_id.as_ref().map(|c| c.as_str().to_owned()))
        .bind(i64::from(room.invite_only))
        .bind(room.created_at)
        .execute(executor)
        .await?;
    Ok(())
}

/// Stores a new room.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct CreateRoom {
    /// The room.
    pub room: Room,
}

async fn create_room(db: Db, m: CreateRoom) -> RepoResult<()> {
    insert_room(db.pool(), &m.room).await
}

/// A room by id (open or closed).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<Room>>")]
pub struct GetRoom {
    /// Which room.
    pub room_id: RoomId,
}

async fn get_room(db: Db, m: GetRoom) -> RepoResult<Option<Room>> {
    let row = sqlx::query(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.room_id = $1"
    ))
    .bind(m.room_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(room).transpose()
}

/// The uids invited to a room.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Uid>>")]
pub struct RoomInvitees {
    /// Which room.
    pub room_id: RoomId,
}

async fn room_invitees(db: Db, m: RoomInvitees) -> RepoResult<Vec<Uid>> {
    let uids: Vec<String> = sqlx::query_scalar("SELECT uid FROM room_invites WHERE room_id = $1")
        .bind(m.room_id.as_str())
        .fetch_all(db.pool())
        .await?;
    uids.iter().map(|u| Ok(Uid::parse(u)?)).collect()
}

/// Records an invite (idempotent).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct AddInvite {
    /// Which room.
    pub room_id: RoomId,
    /// Who is invited.
    pub uid: Uid,
    /// Who invites.
    pub inviter: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn add_invite(db: Db, m: AddInvite) -> RepoResult<()> {
    sqlx::query("INSERT INTO room_invites (room_id, uid, inviter_uid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, uid) DO NOTHING")
        .bind(m.room_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.inviter.as_str())
        .bind(m.now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Closes a room; false when it was already closed or does not exist.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct CloseRoom {
    /// Which room.
    pub room_id: RoomId,
    /// Now (ms).
    pub now: i64,
}

async fn close_room(db: Db, m: CloseRoom) -> RepoResult<bool> {
    let done =
        sqlx::query("UPDATE rooms SET closed_at = $1 WHERE room_id = $2 AND closed_at IS NULL")
            .bind(m.now)
            .bind(m.room_id.as_str())
            .execute(db.pool())
            .await?
            .rows_affected();
    Ok(done == 1)
}

/// The open rooms `uid` may see, newest first: rooms of clubs they joined, rooms
/// they host, rooms they were invited to, and rooms started from events they
/// created, host or follow.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Room>>")]
pub struct ListRoomsFor {
    /// Who asks.
    pub uid: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_rooms_for(db: Db, m: ListRoomsFor) -> RepoResult<Vec<Room>> {
    let (t, id) = m.page.bounds();
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.closed_at IS NULL AND {} AND ( \
             r.uid = $1 \
          OR (r.invite_only = 0 AND r.club_id IN (SELECT club_id FROM club_members WHERE uid = $1)) \
          OR r.room_id IN (SELECT room_id FROM room_invites WHERE uid = $1) \
          OR r.room_id IN (SELECT e.room_id FROM events e WHERE e.room_id IS NOT NULL AND (e.uid = $1 \
                OR e.event_id IN (SELECT event_id FROM event_members WHERE uid = $1) \
                OR e.event_id IN (SELECT event_id FROM event_subscribers WHERE uid = $1)))) \
         ORDER BY r.created_at DESC, r.room_id DESC LIMIT $4",
        keyset("r.created_at", "r.room_id", 2, 3)
    );
    let rows = sqlx::query(&sql)
        .bind(m.uid.as_str())
        .bind(t)
        .bind(id)
        .bind(m.page.count)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(room).collect()
}

/// The share token of (room, sharer), created on first use.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<RoomCacheId>")]
pub struct GetOrCreateRoomCache {
    /// Which room.
    pub room_id: RoomId,
    /// Who shares.
    pub uid: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn get_or_create_room_cache(db: Db, m: GetOrCreateRoomCache) -> RepoResult<RoomCacheId> {
    sqlx::query("INSERT INTO room_caches (room_cache_id, room_id, uid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, uid) DO NOTHING")
        .bind(RoomCacheId::new().as_str())
        .bind(m.room_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.now)
        .execute(db.pool())
        .await?;
    let id: String =
        sqlx::query_scalar("SELECT room_cache_id FROM room_caches WHERE room_id = $1 AND uid = $2")
            .bind(m.room_id.as_str())
            .bind(m.uid.as_str())
            .fetch_one(db.pool())
            .await?;
    Ok(RoomCacheId::parse(&id)?)
}

repo_handlers!(
    CreateRoom => create_room,
    GetRoom => get_room,
    RoomInvitees => room_invitees,
    AddInvite => add_invite,
    CloseRoom => close_room,
    ListRoomsFor => list_rooms_for,
    GetOrCreateRoomCache => get_or_create_room_cache,
);
