//! A node-local memory of recently checked sessions, so a logged-in call does
//! not read its session row on every request (`docs/performance.md`: the read
//! was a quarter of the work of a small authenticated GET).
//!
//! An entry is trusted for `ttl`; after that the row is read again. Changes
//! made through this node (logout, profile init) drop the entries at once;
//! changes the node cannot see (a freeze by the `huddle account` CLI, a logout
//! on another node) apply within `ttl`. A zero `ttl` turns the cache off.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use huddle_actors::repo::session::SessionRecord;
use huddle_actors::{SessionId, Uid};

/// The most entries kept; past it, expired entries are swept, and if that
/// frees nothing the whole map is dropped (every session is then read again).
const MAX_ENTRIES: usize = 100_000;

/// Recently checked sessions, by id.
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<SessionId, (SessionRecord, Instant)>>,
}

impl SessionCache {
    /// Entries live `ttl`; zero keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, (SessionRecord, Instant)>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every critical section is one map call), so a poisoned lock is
        // still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session if it was checked less than `ttl` ago.
    pub fn get(&self, session_id: &SessionId) -> Option<SessionRecord> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries();
        let (record, at) = entries.get(session_id)?;
        (at.elapsed() < self.ttl).then(|| record.clone())
    }

    /// Remembers a session just read from the database.
    pub fn put(&self, record: SessionRecord) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(record.session_id.clone(), (record, Instant::now()));
    }

    /// Forgets one session (logout).
    pub fn forget(&self, session_id: &SessionId) {
        self.entries().remove(session_id);
    }

    /// Forgets every session of `uid` (their account or profile changed).
    pub fn forget_user(&self, uid: &Uid) {
        self.entries().retain(|_, (record, _)| &record.uid != uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(uid: &Uid) -> SessionRecord {
        SessionRecord {
            session_id: SessionId::new(),
            uid: uid.clone(),
            access_secret: "secret".into(),
            expire_at: i64::MAX,
            revoked_at: None,
            account_frozen: false,
            has_profile: true,
        }
    }

    #[test]
    fn entries_are_trusted_for_the_ttl_only() {
        let cache = SessionCache::new(Duration::from_millis(40));
        let r = record(&Uid::new());
        cache.put(r.clone());
        assert_eq!(cache.get(&r.session_id).map(|s| s.uid), Some(r.uid.clone()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&r.session_id).is_none());
    }

    #[test]
    fn forgetting_a_session_or_a_user_drops_only_theirs() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let (alice, bob) = (Uid::new(), Uid::new());
        let (a1, a2, b) = (record(&alice), record(&alice), record(&bob));
        for r in [&a1, &a2, &b] {
            cache.put(r.clone());
        }
        cache.forget(&a1.session_id);
        assert!(cache.get(&a1.session_id).is_none());
        assert!(cache.get(&a2.session_id).is_some());
        cache.forget_user(&alice);
        assert!(cache.get(&a2.session_id).is_none());
        assert!(cache.get(&b.session_id).is_some());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        let r = record(&Uid::new());
        cache.put(r.clone());
        assert!(cache.get(&r.session_id).is_none());
    }
}
