//! Short-lived shared state with time-to-live: captcha codes, send limits, the
//! signing replay window, rate-limit buckets, room share caches.
//!
//! [`Cache`] is the seam between the embedded default ([`MemoryCache`], one
//! process) and the scale-out implementation on Redis (several nodes). Every
//! operation is atomic, so callers never read-modify-write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::SharedClock;

/// The cache could not answer.
#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

/// What a cache operation answers.
pub type CacheResult<T> = Result<T, CacheError>;

/// Key-value store with per-key expiry. Keys are namespaced by the caller
/// (`captcha:code:86:138...`).
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value of a live key.
    async fn get(&self, key: &str) -> CacheResult<Option<String>>;
    /// Stores `value` for `ttl`, replacing any previous value.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()>;
    /// Stores `value` for `ttl` only when the key is absent; true when stored.
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool>;
    /// Removes a key; true when it existed. Two concurrent deletes of one key:
    /// exactly one answers true (used to consume single-use codes).
    async fn delete(&self, key: &str) -> CacheResult<bool>;
    /// Adds one to a counter and answers the new value; a new counter starts at
    /// 1 and expires `ttl` after its creation.
    async fn incr(&self, key: &str, ttl: Duration) -> CacheResult<i64>;

    /// Counts one call in each window in order, as [`Cache::incr`] does, and
    /// stops after the first whose count passes its limit (later windows are
    /// not counted). Answers the counts made. Shared caches do it in one round
    /// trip; this default is one `incr` per window.
    async fn incr_windows(&self, windows: &[Window<'_>]) -> CacheResult<Vec<i64>> {
        let mut counts = Vec::with_capacity(windows.len());
        for w in windows {
            let n = self.incr(w.key, w.ttl).await?;
            counts.push(n);
            if n > w.limit {
                break;
            }
        }
        Ok(counts)
    }
}

/// One rate-limit window for [`Cache::incr_windows`].
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// The counter's key (its window's slot included).
    pub key: &'a str,
    /// How long the counter lives from its first call.
    pub ttl: Duration,
    /// Counts above this are refused.
    pub limit: i64,
}

struct Entry {
    value: String,
    expires_at: i64,
}

/// The embedded default: a map behind a mutex, expiring by the injected clock.
pub struct MemoryCache {
    clock: SharedClock,
    state: Mutex<MemoryState>,
}

struct MemoryState {
    entries: HashMap<String, Entry>,
    writes_since_sweep: usize,
}

/// Expired entries are swept after this many writes, bounding memory by the
/// number of keys written within one TTL.
const SWEEP_EVERY: usize = 1024;

impl MemoryCache {
    /// An empty cache on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            state: Mutex::new(MemoryState {
                entries: HashMap::new(),
                writes_since_sweep: 0,
            }),
        }
    }

    /// Number of keys held (live or not yet swept).
    pub fn len(&self) -> usize {
        self.lock().map(|s| s.entries.len()).unwrap_or(0)
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> CacheResult<std::sync::MutexGuard<'_, MemoryState>> {
        self.state
            .lock()
            .map_err(|_| CacheError("memory cache lock poisoned".into()))
    }

    fn expiry(&self, ttl: Duration) -> i64 {
        self.clock
            .now_ms()
            .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
    }

    /// Stores `value` under `key` until `expires_at`; every
    /// [`SWEEP_EVERY`] stores, drops what has expired.
    fn store(&self, state: &mut MemoryState, key: &str, value: String, expires_at: i64) {
        state
            .entries
            .insert(key.to_owned(), Entry { value, expires_at });
        state.writes_since_sweep += 1;
        if state.writes_since_sweep >= SWEEP_EVERY {
            state.writes_since_sweep = 0;
            let now = self.clock.now_ms();
            state.entries.retain(|_, e| e.expires_at > now);
        }
    }
}

impl MemoryState {
    fn live(&self, key: &str, now: i64) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.expires_at > now)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        let now = self.clock.now_ms();
        Ok(self.lock()?.live(key, now).map(|e| e.value.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        let expires_at = self.expiry(ttl);
        let mut state = self.lock()?;
        self.store(&mut state, key, value.to_owned(), expires_at);
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        let now = self.clock.now_ms();
        let expires_at = self.expiry(ttl);
        let mut state = self.lock()?;
        if state.live(key, now).is_some() {
            return Ok(false);
        }
        self.store(&mut state, key, value.to_owned(), expires_at);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> CacheResult<bool> {
        let now = self.clock.now_ms();
        let mut state = self.lock()?;
        Ok(state
            .entries
            .remove(key)
            .is_some_and(|e| e.expires_at > now))
    }

    async fn incr(&self, key: &str, ttl: Duration) -> CacheResult<i64> {
        let now = self.clock.now_ms();
        let expires_at = self.expiry(ttl);
        let mut state = self.lock()?;
        let current = state
            .live(key, now)
            .map(|e| (e.value.parse::<i64>().unwrap_or(0), e.expires_at));
        let (value, expires_at) = match current {
            Some((n, exp)) => (n.saturating_add(1), exp),
            None => (1, expires_at),
        };
        self.store(&mut state, key, value.to_string(), expires_at);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    fn cache() -> (Arc<ManualClock>, MemoryCache) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        (clock.clone(), MemoryCache::new(clock))
    }

    #[actix::test]
    async fn values_expire_with_the_clock() {
        let (clock, c) = cache();
        c.set("k", "v", Duration::from_secs(5)).await.unwrap();
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some("v"));
        clock.advance(4_999);
        assert!(c.get("k").await.unwrap().is_some());
        clock.advance(1);
        assert!(c.get("k").await.unwrap().is_none());
    }

    #[actix::test]
    async fn set_if_absent_only_once_per_ttl() {
        let (clock, c) = cache();
        assert!(c
            .set_if_absent("k", "1", Duration::from_secs(60))
            .await
            .unwrap());
        assert!(!c
            .set_if_absent("k", "2", Duration::from_secs(60))
            .await
            .unwrap());
        clock.advance(60_000);
        assert!(c
            .set_if_absent("k", "3", Duration::from_secs(60))
            .await
            .unwrap());
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some("3"));
    }

    #[actix::test]
    async fn delete_consumes_once() {
        let (_, c) = cache();
        c.set("code", "123456", Duration::from_secs(60))
            .await
            .unwrap();
        assert!(c.delete("code").await.unwrap());
        assert!(!c.delete("code").await.unwrap());
    }

    #[actix::test]
    async fn counters_keep_their_first_expiry() {
        let (clock, c) = cache();
        assert_eq!(c.incr("n", Duration::from_secs(10)).await.unwrap(), 1);
        clock.advance(9_000);
        assert_eq!(c.incr("n", Duration::from_secs(10)).await.unwrap(), 2);
        clock.advance(1_000);
        assert_eq!(c.incr("n", Duration::from_secs(10)).await.unwrap(), 1);
    }

    #[actix::test]
    async fn expired_entries_are_swept() {
        let (clock, c) = cache();
        for i in 0..SWEEP_EVERY - 1 {
            c.set(&format!("k{i}"), "v", Duration::from_secs(1))
                .await
                .unwrap();
        }
        assert_eq!(c.len(), SWEEP_EVERY - 1);
        clock.advance(2_000);
        // the SWEEP_EVERY-th write sweeps everything that expired
        c.set("fresh", "v", Duration::from_secs(1)).await.unwrap();
        assert_eq!(c.len(), 1);
    }
}
