//! Scheduled events (日程): hosts/guests, subscribers, reminders, and starting a
//! room from an event. Reminder and start notifications are written in the same
//! transaction as the state change, so they happen exactly once.

use actix::Message;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use super::message::{insert_messages, Delivery, NewMessage};
use super::page::{newest_first, PageQuery};
use super::room::{insert_room, room, Room, ROOM_COLUMNS};
use super::row::{column, from_row};
use super::{repo_handlers, RepoResult};
use crate::db::Db;
use crate::ids::{EventId, RoomId, Uid};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its id.
    pub event_id: EventId,
    /// The creator.
    pub uid: Uid,
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// When it takes place (ms).
    pub event_time: i64,
    /// The room opened from it, once started.
    pub room_id: Option<RoomId>,
    /// Hosts and guests, in the order given.
    pub members: Vec<Uid>,
    /// When the reminder went out.
    pub reminded_at: Option<i64>,
    /// Creation time (ms).
    pub created_at: i64,
}

const EVENT_COLUMNS: &str = "e.event_id, e.uid, e.name, e.description, e.event_time, e.room_id, e.reminded_at, e.created_at";

fn event_row(row: &AnyRow) -> RepoResult<Event> {
    from_row! { row, Event {
        event_id, uid, name, description, event_time, room_id, reminded_at, created_at;
        members: Vec::new(),
    } }
}

async fn load_members<'c, E>(executor: E, event: &mut Event) -> RepoResult<()>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let uids: Vec<String> =
        sqlx::query_scalar("SELECT uid FROM event_members WHERE event_id = $1 ORDER BY position")
            .bind(event.event_id.as_str())
            .fetch_all(executor)
            .await?;
    event.members = uids
        .iter()
        .map(|u| Uid::parse(u))
        .collect::<Result<_, _>>()?;
    Ok(())
}

async fn write_members(
    tx: &mut Transaction<'static, Any>,
    event_id: &EventId,
    members: &[Uid],
) -> RepoResult<()> {
    sqlx::query("DELETE FROM event_members WHERE event_id = $1")
        .bind(event_id.as_str())
        .execute(&mut **tx)
        .await?;
    for (position, uid) in members.iter().enumerate() {
        sqlx::query("INSERT INTO event_members (event_id, uid, position) VALUES ($1, $2, $3)")
            .bind(event_id.as_str())
            .bind(uid.as_str())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn fetch_event(
    tx: &mut Transaction<'static, Any>,
    event_id: &EventId,
) -> RepoResult<Option<Event>> {
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events e WHERE e.event_id = $1"
    ))
    .bind(event_id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let mut event = event_row(&row)?;
            load_members(&mut **tx, &mut event).await?;
            Ok(Some(event))
        }
    }
}

/// Who hears about an event: its members and subscribers (each once).
async fn recipients(
    tx: &mut Transaction<'static, Any>,
    event_id: &EventId,
) -> RepoResult<Vec<Uid>> {
    let uids: Vec<String> = sqlx::query_scalar(
        "SELECT uid FROM event_members WHERE event_id = $1 UNION SELECT uid FROM event_subscribers WHERE event_id = $1",
    )
    .bind(event_id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    let mut uids: Vec<Uid> = uids
        .iter()
        .map(|u| Uid::parse(u))
        .collect::<Result<_, _>>()?;
    uids.sort();
    uids.dedup();
    Ok(uids)
}

/// What the creator writes of an event, on creation and on every edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// When (ms).
    pub event_time: i64,
    /// Hosts and guests, in the order given.
    pub members: Vec<Uid>,
}

/// Creates an event.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Event>")]
pub struct CreateEvent {
    /// New id.
    pub event_id: EventId,
    /// Creator.
    pub uid: Uid,
    /// Its contents.
    pub draft: EventDraft,
    /// Now (ms).
    pub now: i64,
}

async fn create_event(db: Db, m: CreateEvent) -> RepoResult<Event> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO events (event_id, uid, name, description, event_time, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(m.event_id.as_str())
    .bind(m.uid.as_str())
    .bind(&m.draft.name)
    .bind(&m.draft.description)
    .bind(m.draft.event_time)
    .bind(m.now)
    .execute(&mut *tx)
    .await?;
    write_members(&mut tx, &m.event_id, &m.draft.members).await?;
    tx.commit().await?;
    let EventDraft {
        name,
        description,
        event_time,
        members,
    } = m.draft;
    Ok(Event {
        event_id: m.event_id,
        uid: m.uid,
        name,
        description,
        event_time,
        room_id: None,
        members,
        reminded_at: None,
        created_at: m.now,
    })
}

/// Edits an event. A new `event_time` re-arms the reminder. `None` when unknown.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<Event>>")]
pub struct UpdateEvent {
    /// Which event.
    pub event_id: EventId,
    /// Its new contents.
    pub draft: EventDraft,
    /// Now (ms).
    pub now: i64,
}

async fn update_event(db: Db, m: UpdateEvent) -> RepoResult<Option<Event>> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE events SET name = $1, description = $2, \
         reminded_at = CASE WHEN event_time <> $3 THEN NULL ELSE reminded_at END, \
         event_time = $3, updated_at = $4 WHERE event_id = $5",
    )
    .bind(&m.draft.name)
    .bind(&m.draft.description)
    .bind(m.draft.event_time)
    .bind(m.now)
    .bind(m.event_id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(None);
    }
    write_members(&mut tx, &m.event_id, &m.draft.members).await?;
    let event = fetch_event(&mut tx, &m.event_id).await?;
    tx.commit().await?;
    Ok(event)
}

/// Deletes an event with its members and subscribers. False when unknown.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct DeleteEvent {
    /// Which event.
    pub event_id: EventId,
}

async fn delete_event(db: Db, m: DeleteEvent) -> RepoResult<bool> {
    let mut tx = db.begin_write().await?;
    for table in ["event_members", "event_subscribers"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE event_id = $1"))
            .bind(m.event_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let done = sqlx::query("DELETE FROM events WHERE event_id = $1")
        .bind(m.event_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(done == 1)
}

/// An event, whether `viewer` subscribed, and its room when started.
#[derive(Debug, Clone)]
pub struct EventView {
    /// The event.
    pub event: Event,
    /// `viewer` subscribed to the reminder.
    pub notify: bool,
    /// The room opened from it.
    pub room: Option<Room>,
}

async fn event_view(db: &Db, row: &AnyRow) -> RepoResult<EventView> {
    let mut event = event_row(row)?;
    load_members(db.pool(), &mut event).await?;
    let room = match &event.room_id {
        Some(room_id) => sqlx::query(&format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.room_id = $1"
        ))
        .bind(room_id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(room)
        .transpose()?,
        None => None,
    };
    Ok(EventView {
        event,
        notify: column(row, "notify")?,
        room,
    })
}

/// One event as `viewer` sees it.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<EventView>>")]
pub struct GetEvent {
    /// Which event.
    pub event_id: EventId,
    /// Who asks.
    pub viewer: Uid,
}

async fn get_event(db: Db, m: GetEvent) -> RepoResult<Option<EventView>> {
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS}, (SELECT COUNT(*) FROM event_subscribers s WHERE s.event_id = e.event_id AND s.uid = $2) AS notify \
         FROM events e WHERE e.event_id = $1"
    ))
    .bind(m.event_id.as_str())
    .bind(m.viewer.as_str())
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(row) => Ok(Some(event_view(&db, &row).await?)),
        None => Ok(None),
    }
}

/// All events, newest created first.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<EventView>>")]
pub struct ListEvents {
    /// Who asks.
    pub viewer: Uid,
    /// Which page.
    pub page: PageQuery,
}

async fn list_events(db: Db, m: ListEvents) -> RepoResult<Vec<EventView>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, (SELECT COUNT(*) FROM event_subscribers s WHERE s.event_id = e.event_id AND s.uid = $1) AS notify \
         FROM events e WHERE {}",
        newest_first("e.created_at", "e.event_id", 1)
    );
    let rows = m
        .page
        .fetch(&db, sqlx::query(&sql).bind(m.viewer.as_str()))
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in &rows {
        views.push(event_view(&db, row).await?);
    }
    Ok(views)
}

/// `uid` subscribes to an event's reminder (idempotent). False when unknown.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct Subscribe {
    /// Which event.
    pub event_id: EventId,
    /// Who.
    pub uid: Uid,
    /// Now (ms).
    pub now: i64,
}

async fn subscribe(db: Db, m: Subscribe) -> RepoResult<bool> {
    let mut tx = db.begin_write().await?;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_id = $1")
        .bind(m.event_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if exists == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO event_subscribers (event_id, uid, created_at) VALUES ($1, $2, $3) ON CONFLICT (event_id, uid) DO NOTHING")
        .bind(m.event_id.as_str())
        .bind(m.uid.as_str())
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Builds one notification for a recipient.
pub type ComposeEventMessage = fn(&Event, Option<&Room>, &Uid) -> NewMessage;

/// Opens a room from an event (or answers the open room it already has) and, when
/// a room was opened, notifies members and subscribers but the creator.
/// `None` when the event does not exist.
#[derive(Message)]
#[rtype(result = "RepoResult<Option<(Event, Room, Vec<Delivery>)>>")]
pub struct StartEvent {
    /// Which event.
    pub event_id: EventId,
    /// The room to open if there is none yet.
    pub new_room: Room,
    /// The "event started" message.
    pub compose: ComposeEventMessage,
    /// Now (ms).
    pub now: i64,
}

async fn start_event(db: Db, m: StartEvent) -> RepoResult<Option<(Event, Room, Vec<Delivery>)>> {
    let mut tx = db.begin_write().await?;
    let Some(event) = fetch_event(&mut tx, &m.event_id).await? else {
        return Ok(None);
    };
    if let Some(room_id) = &event.room_id {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.room_id = $1 AND r.closed_at IS NULL"
        );
        let existing = sqlx::query(&sql)
            .bind(room_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let open = room(&row)?;
            tx.commit().await?;
            return Ok(Some((event, open, Vec::new())));
        }
    }
    insert_room(&mut *tx, &m.new_room).await?;
    // Conditional on the room we saw, so two concurrent starts open one room.
    let done = sqlx::query("UPDATE events SET room_id = $1, updated_at = $2 WHERE event_id = $3 AND (room_id = $4 OR ($4 = '' AND room_id IS NULL))")
        .bind(m.new_room.room_id.as_str())
        .bind(m.now)
        .bind(m.event_id.as_str())
        .bind(event.room_id.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        drop(tx);
        return Box::pin(start_event(db, m)).await;
    }
    let mut event = event;
    event.room_id = Some(m.new_room.room_id.clone());
    let messages: Vec<NewMessage> = recipients(&mut tx, &m.event_id)
        .await?
        .iter()
        .filter(|uid| **uid != event.uid)
        .map(|uid| (m.compose)(&event, Some(&m.new_room), uid))
        .collect();
    let stored = insert_messages(&mut tx, messages, m.now).await?;
    tx.commit().await?;
    Ok(Some((event, m.new_room, stored)))
}

/// Events whose reminder has not gone out: (event, time).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<(EventId, i64)>>")]
pub struct PendingReminders;

async fn pending_reminders(db: Db, _: PendingReminders) -> RepoResult<Vec<(EventId, i64)>> {
    let rows = sqlx::query("SELECT event_id, event_time FROM events WHERE reminded_at IS NULL")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((column(r, "event_id")?, column(r, "event_time")?)))
        .collect()
}

/// Sends an event's reminder if it is due and has not gone out (exactly once,
/// also with several nodes). Answers the messages written (empty when not due,
/// already sent, or deleted).
#[derive(Message)]
#[rtype(result = "RepoResult<Option<(Event, Vec<Delivery>)>>")]
pub struct FireReminder {
    /// Which event.
    pub event_id: EventId,
    /// The reminder message.
    pub compose: ComposeEventMessage,
    /// Now (ms).
    pub now: i64,
}

async fn fire_reminder(db: Db, m: FireReminder) -> RepoResult<Option<(Event, Vec<Delivery>)>> {
    let mut tx = db.begin_write().await?;
    let claimed = sqlx::query("UPDATE events SET reminded_at = $1 WHERE event_id = $2 AND reminded_at IS NULL AND event_time <= $1")
        .bind(m.now)
        .bind(m.event_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    let Some(event) = fetch_event(&mut tx, &m.event_id).await? else {
        return Ok(None);
    };
    let messages: Vec<NewMessage> = recipients(&mut tx, &m.event_id)
        .await?
        .iter()
        .map(|uid| (m.compose)(&event, None, uid))
        .collect();
    let stored = insert_messages(&mut tx, messages, m.now).await?;
    tx.commit().await?;
    Ok(Some((event, stored)))
}

repo_handlers!(
    CreateEvent => create_event,
    UpdateEvent => update_event,
    DeleteEvent => delete_event,
    GetEvent => get_event,
    ListEvents => list_events,
    Subscribe => subscribe,
    StartEvent => start_event,
    PendingReminders => pending_reminders,
    FireReminder => fire_reminder,
);
