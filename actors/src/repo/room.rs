//! Rooms (活动): the durable part (who hosts, which club, invites, closed or
//! not, share caches). Live membership is the room actor's state.

use actix::Message;
use sqlx::any::AnyRow;

use super::message::{insert_messages, Delivery, NewMessage};
use super::page::{newest_first, PageQuery};
use super::row::{column, from_row};
use super::{repo_handlers, RepoResult, Statement};
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

/// The columns [`room`] reads, of `rooms r`.
pub(crate) const ROOM_COLUMNS: &str =
    "r.room_id, r.uid, r.name, r.club_id, r.invite_only, r.created_at, r.closed_at";

pub(crate) fn room(row: &AnyRow) -> RepoResult<Room> {
    from_row! { row, Room { room_id, uid, name, club_id, invite_only, created_at, closed_at } }
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

/// Records an invite (idempotent).
/// The invitation and the invitee's inbox message (`notice`) are written in
/// one transaction, so a crash cannot keep one without the other; answers the
/// stored message.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Delivery>>")]
pub struct AddInvite {
    /// Which room.
    pub room_id: RoomId,
    /// Who is invited.
    pub uid: Uid,
    /// Who invites.
    pub inviter: Uid,
    /// The message the invitee gets (every time they are invited).
    pub notice: NewMessage,
    /// Now (ms).
    pub now: i64,
}

async fn add_invite(db: Db, m: AddInvite) -> RepoResult<Vec<Delivery>> {
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO room_invites (room_id, uid, inviter_uid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, uid) DO NOTHING")
        .bind(m.room_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.inviter.as_str())
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    let delivered = insert_messages(&mut tx, vec![m.notice], m.now).await?;
    tx.commit().await?;
    Ok(delivered)
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
            .changed(&db)
            .await?;
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
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.closed_at IS NULL AND ( \
             r.uid = $1 \
          OR (r.invite_only = 0 AND r.club_id IN (SELECT club_id FROM club_members WHERE uid = $1)) \
          OR r.room_id IN (SELECT room_id FROM room_invites WHERE uid = $1) \
          OR r.room_id IN (SELECT e.room_id FROM events e WHERE e.room_id IS NOT NULL AND (e.uid = $1 \
                OR e.event_id IN (SELECT event_id FROM event_members WHERE uid = $1) \
                OR e.event_id IN (SELECT event_id FROM event_subscribers WHERE uid = $1)))) \
         AND {}",
        newest_first("r.created_at", "r.room_id", 1)
    );
    let rows = m
        .page
        .fetch(&db, sqlx::query(&sql).bind(m.uid.as_str()))
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
        .run(&db)
        .await?;
    let id: String =
        sqlx::query_scalar("SELECT room_cache_id FROM room_caches WHERE room_id = $1 AND uid = $2")
            .bind(m.room_id.as_str())
            .bind(m.uid.as_str())
            .fetch_one(db.pool())
            .await?;
    Ok(RoomCacheId::parse(&id)?)
}

/// The (room, sharer) behind a share token.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<(RoomId, Uid)>>")]
pub struct FindRoomCache {
    /// The share token.
    pub room_cache_id: RoomCacheId,
}

async fn find_room_cache(db: Db, m: FindRoomCache) -> RepoResult<Option<(RoomId, Uid)>> {
    let row = sqlx::query("SELECT room_id, uid FROM room_caches WHERE room_cache_id = $1")
        .bind(m.room_cache_id.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((column(&r, "room_id")?, column(&r, "uid")?)))
        .transpose()
}

/// Who holds a role in a room: invited, allowed to speak, removed by the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomRoles {
    /// Invited (may enter an invite-only room).
    pub invitees: Vec<Uid>,
    /// Allowed to speak (`allowLive`).
    pub speakers: Vec<Uid>,
    /// Removed by the host (refused a token and a join).
    pub removed: Vec<Uid>,
}

/// The roles of a room, loaded when its actor starts.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<RoomRoles>")]
pub struct LoadRoomRoles {
    /// Which room.
    pub room_id: RoomId,
}

async fn uids_of(db: &Db, sql: &str, room_id: &RoomId) -> RepoResult<Vec<Uid>> {
    let uids: Vec<String> = sqlx::query_scalar(sql)
        .bind(room_id.as_str())
        .fetch_all(db.pool())
        .await?;
    uids.iter().map(|u| Ok(Uid::parse(u)?)).collect()
}

async fn load_room_roles(db: Db, m: LoadRoomRoles) -> RepoResult<RoomRoles> {
    Ok(RoomRoles {
        invitees: uids_of(
            &db,
            "SELECT uid FROM room_invites WHERE room_id = $1",
            &m.room_id,
        )
        .await?,
        speakers: uids_of(
            &db,
            "SELECT uid FROM room_speakers WHERE room_id = $1",
            &m.room_id,
        )
        .await?,
        removed: uids_of(
            &db,
            "SELECT uid FROM room_removals WHERE room_id = $1",
            &m.room_id,
        )
        .await?,
    })
}

/// Allows (or stops allowing) `uid` to speak in a room; idempotent.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct SetSpeaker {
    /// Which room.
    pub room_id: RoomId,
    /// Who.
    pub uid: Uid,
    /// The host deciding.
    pub by: Uid,
    /// Allowed or not.
    pub allowed: bool,
    /// Now (ms).
    pub now: i64,
}

async fn set_speaker(db: Db, m: SetSpeaker) -> RepoResult<()> {
    let query = if m.allowed {
        sqlx::query("INSERT INTO room_speakers (room_id, uid, granted_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, uid) DO NOTHING")
            .bind(m.room_id.as_str())
            .bind(m.uid.as_str())
            .bind(m.by.as_str())
            .bind(m.now)
    } else {
        sqlx::query("DELETE FROM room_speakers WHERE room_id = $1 AND uid = $2")
            .bind(m.room_id.as_str())
            .bind(m.uid.as_str())
    };
    query.run(&db).await
}

/// The host removes `uid` from a room: recorded (deny list), speaker role dropped.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct RemoveFromRoom {
    /// Which room.
    pub room_id: RoomId,
    /// Who is removed.
    pub uid: Uid,
    /// The host.
    pub by: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn remove_from_room(db: Db, m: RemoveFromRoom) -> RepoResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO room_removals (room_id, uid, removed_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, uid) DO NOTHING")
        .bind(m.room_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.by.as_str())
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM room_speakers WHERE room_id = $1 AND uid = $2")
        .bind(m.room_id.as_str())
        .bind(m.uid.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Reserves the next `block` sequence numbers of a room's events and answers
/// the new upper bound: the caller may use `(bound - block, bound]`. An atomic
/// update, so two actors (or nodes) never get the same numbers.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<i64>")]
pub struct ReserveSeqs {
    /// Which room.
    pub room_id: RoomId,
    /// How many.
    pub block: i64,
}

async fn reserve_seqs(db: Db, m: ReserveSeqs) -> RepoResult<i64> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE rooms SET seq_reserved = seq_reserved + $1 WHERE room_id = $2")
        .bind(m.block)
        .bind(m.room_id.as_str())
        .execute(&mut *tx)
        .await?;
    let bound: i64 = sqlx::query_scalar("SELECT seq_reserved FROM rooms WHERE room_id = $1")
        .bind(m.room_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(bound)
}

repo_handlers!(
    CreateRoom => create_room,
    GetRoom => get_room,
    LoadRoomRoles => load_room_roles,
    SetSpeaker => set_speaker,
    RemoveFromRoom => remove_from_room,
    ReserveSeqs => reserve_seqs,
    AddInvite => add_invite,
    CloseRoom => close_room,
    ListRoomsFor => list_rooms_for,
    GetOrCreateRoomCache => get_or_create_room_cache,
    FindRoomCache => find_room_cache,
);
