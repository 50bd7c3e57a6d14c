//! User messages (the in-app inbox): created by cards, invites, event reminders
//! and event starts; listing marks them read.

use std::sync::atomic::{AtomicI64, Ordering};

use actix::Message;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use super::row::from_row;
use super::{repo_handlers, RepoError, RepoResult};
use crate::db::Db;
use crate::ids::Uid;

/// Where a message comes from (`originPushType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// 0: the system.
    System = 0,
    /// 1: someone sent you their card.
    Card = 1,
    /// 2: someone invited you to a room.
    RoomInvite = 2,
    /// 3: an event you follow is about to start.
    EventReminder = 3,
    /// 4: an event you follow has started.
    EventStarted = 4,
}

/// A message to be created.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Recipient.
    pub uid: Uid,
    /// Title line.
    pub title: String,
    /// Body text.
    pub content: String,
    /// Deep link (`chaoqer://room/…`, `chaoqer://event/…`, `chaoqer://profile/…`).
    pub url: String,
    /// Why it was sent.
    pub origin: Origin,
    /// Who caused it ("" for the system).
    pub origin_uid: String,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredMessage {
    /// `messageId`: ms × 1000 + a sequence, increasing.
    pub message_id: i64,
    /// Recipient.
    pub uid: Uid,
    /// Title line.
    pub title: String,
    /// Body text.
    pub content: String,
    /// Deep link.
    pub url: String,
    /// `originPushType`.
    pub origin_push_type: i64,
    /// `originUid`.
    pub origin_uid: String,
    /// Unread when listed.
    pub unread: bool,
    /// Creation time (ms).
    pub created_at: i64,
}

static LAST_ID: AtomicI64 = AtomicI64::new(0);

/// Message ids: `now_ms * 1000 + n`, strictly increasing within a process;
/// a collision with another node is retried by the insert.
fn next_message_id(now: i64) -> i64 {
    let candidate = now.saturating_mul(1000) + i64::from(rand::random::<u16>() % 100);
    let mut last = LAST_ID.load(Ordering::SeqCst);
    loop {
        let id = candidate.max(last + 1);
        match LAST_ID.compare_exchange(last, id, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return id,
            Err(seen) => last = seen,
        }
    }
}

/// Inserts messages inside a transaction (used by every operation that notifies).
pub(crate) async fn insert_messages(
    tx: &mut Transaction<'static, Any>,
    messages: Vec<NewMessage>,
    now: i64,
) -> RepoResult<Vec<Delivery>> {
    let mut stored = Vec::with_capacity(messages.len());
    for m in messages {
        let mut attempts = 0;
        let message_id = loop {
            let id = next_message_id(now);
            let done = sqlx::query(
                "INSERT INTO messages (message_id, uid, title, content, url, message_type, origin_push_type, origin_uid, unread, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, 1, $8) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(id)
            .bind(m.uid.as_str())
            .bind(&m.title)
            .bind(&m.content)
            .bind(&m.url)
            .bind(m.origin as i64)
            .bind(&m.origin_uid)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if done == 1 {
                break id;
            }
            attempts += 1;
            if attempts > 8 {
                return Err(RepoError::Conflict(
                    "could not allocate a message id".into(),
                ));
            }
        };
        stored.push(StoredMessage {
            message_id,
            uid: m.uid,
            title: m.title,
            content: m.content,
            url: m.url,
            origin_push_type: m.origin as i64,
            origin_uid: m.origin_uid,
            unread: true,
            created_at: now,
        });
    }
    let mut unread: std::collections::HashMap<Uid, i64> = std::collections::HashMap::new();
    for m in &stored {
        if !unread.contains_key(&m.uid) {
            let total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE uid = $1 AND unread = 1")
                    .bind(m.uid.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
            unread.insert(m.uid.clone(), total);
        }
    }
    Ok(stored
        .into_iter()
        .map(|message| Delivery {
            unread_total: unread.get(&message.uid).copied().unwrap_or(0),
            message,
        })
        .collect())
}

/// A message just written, with its recipient's unread total right after the
/// write (what a realtime `message.new` carries).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// The message.
    pub message: StoredMessage,
    /// The recipient's unread messages, this one included.
    pub unread_total: i64,
}

/// Creates messages (one transaction).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<Delivery>>")]
pub struct CreateMessages {
    /// What to create.
    pub messages: Vec<NewMessage>,
    /// Now (ms).
    pub now: i64,
}

async fn create_messages(db: Db, m: CreateMessages) -> RepoResult<Vec<Delivery>> {
    let mut tx = db.begin_write().await?;
    let stored = insert_messages(&mut tx, m.messages, m.now).await?;
    tx.commit().await?;
    Ok(stored)
}

fn stored_message(row: &AnyRow) -> RepoResult<StoredMessage> {
    from_row! { row, StoredMessage {
        message_id, uid, title, content, url, origin_push_type, origin_uid, unread, created_at,
    } }
}

/// A page of `uid`'s messages, newest first; the returned ones become read.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<StoredMessage>>")]
pub struct ListMessages {
    /// Whose inbox.
    pub uid: Uid,
    /// Messages with an id below this; `None` = newest.
    pub before: Option<i64>,
    /// How many.
    pub count: i64,
}

async fn list_messages(db: Db, m: ListMessages) -> RepoResult<Vec<StoredMessage>> {
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(
        "SELECT message_id, uid, title, content, url, origin_push_type, origin_uid, unread, created_at FROM messages \
         WHERE uid = $1 AND message_id < $2 ORDER BY message_id DESC LIMIT $3",
    )
    .bind(m.uid.as_str())
    .bind(m.before.unwrap_or(i64::MAX))
    .bind(m.count)
    .fetch_all(&mut *tx)
    .await?;
    let messages: Vec<StoredMessage> =
        rows.iter().map(stored_message).collect::<RepoResult<_>>()?;
    if let (Some(newest), Some(oldest)) = (messages.first(), messages.last()) {
        sqlx::query("UPDATE messages SET unread = 0 WHERE uid = $1 AND message_id <= $2 AND message_id >= $3 AND unread = 1")
            .bind(m.uid.as_str())
            .bind(newest.message_id)
            .bind(oldest.message_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(messages)
}

/// How many unread messages `uid` has.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<i64>")]
pub struct UnreadTotal {
    /// Whose inbox.
    pub uid: Uid,
}

async fn unread_total(db: Db, m: UnreadTotal) -> RepoResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE uid = $1 AND unread = 1")
            .bind(m.uid.as_str())
            .fetch_one(db.pool())
            .await?,
    )
}

repo_handlers!(
    CreateMessages => create_messages,
    ListMessages => list_messages,
    UnreadTotal => unread_total,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_increase_and_look_like_ms_times_1000() {
        let a = next_message_id(1_617_987_103_601);
        let b = next_message_id(1_617_987_103_601);
        assert!(b > a);
        assert!(a >= 1_617_987_103_601_000);
    }
}
