//! [`RedisCache`]: the [`Cache`] shared by every node (captcha codes and send
//! limits, the signing replay window, rate-limit buckets, room share caches).
//!
//! Every operation is one atomic Redis command or script. While Redis is
//! down the node keeps serving from a local [`MemoryCache`] (logged once per
//! outage): a captcha sent during an outage is only known to the node that
//! sent it, and the replay window and limits are per node until Redis is back.
//! That is the price of "REST keeps working"; `docs/operations.md` says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::{keys, Cluster};
use crate::cache::{Cache, CacheResult, MemoryCache};

/// Counter that starts its expiry when it is created.
const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n";

/// The shared cache, with a local fallback during Redis outages.
pub struct RedisCache {
    cluster: Cluster,
    fallback: Arc<MemoryCache>,
    incr: Script,
    /// The fallback is in use (for logging the outage once).
    degraded: AtomicBool,
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisCache {
    /// A cache on `cluster`, falling back to `fallback` while Redis is down.
    pub fn new(cluster: Cluster, fallback: Arc<MemoryCache>) -> Self {
        Self {
            cluster,
            fallback,
            incr: Script::new(INCR_SCRIPT),
            degraded: AtomicBool::new(false),
        }
    }

    fn connection(&self) -> Option<redis::aio::ConnectionManager> {
        match self.cluster.connection() {
            Ok(c) => {
                if self.degraded.swap(false, Ordering::AcqRel) {
                    tracing::info!("cache back on redis");
                }
                Some(c)
            }
            Err(_) => {
                self.degrade("redis is down");
                None
            }
        }
    }

    fn degrade(&self, why: &str) {
        if !self.degraded.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                reason = why,
                "cache falls back to this node's memory until redis is back"
            );
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        if let Some(mut c) = self.connection() {
            match redis::cmd("GET")
                .arg(keys::cache_key(key))
                .query_async::<Option<String>>(&mut c)
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.get(key).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        if let Some(mut c) = self.connection() {
            match redis::cmd("SET")
                .arg(keys::cache_key(key))
                .arg(value)
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async::<()>(&mut c)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.set(key, value, ttl).await
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        if let Some(mut c) = self.connection() {
            match redis::cmd("SET")
                .arg(keys::cache_key(key))
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async::<Option<String>>(&mut c)
                .await
            {
                Ok(v) => return Ok(v.is_some()),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.set_if_absent(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> CacheResult<bool> {
        if let Some(mut c) = self.connection() {
            match redis::cmd("DEL")
                .arg(keys::cache_key(key))
                .query_async::<i64>(&mut c)
                .await
            {
                Ok(n) => return Ok(n > 0),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.delete(key).await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> CacheResult<i64> {
        if let Some(mut c) = self.connection() {
            match self
                .incr
                .key(keys::cache_key(key))
                .arg(ttl_ms(ttl))
                .invoke_async::<i64>(&mut c)
                .await
            {
                Ok(n) => return Ok(n),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.incr(key, ttl).await
    }
}

/// Against a real Redis (`HUDDLE_TEST_REDIS_URL`); `.ci/run` sets it. Without
/// it these say so and pass on a fresh machine, except under `CI=true`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    async fn cache() -> Option<RedisCache> {
        let Ok(url) = std::env::var("HUDDLE_TEST_REDIS_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: HUDDLE_TEST_REDIS_URL must be set"
            );
            eprintln!("skipped: set HUDDLE_TEST_REDIS_URL to test the Redis cache");
            return None;
        };
        let cluster = Cluster::start(&url, "cache-test").unwrap();
        assert!(
            cluster.wait_up(Duration::from_secs(5)).await,
            "Redis at {url} does not answer"
        );
        let fallback = Arc::new(MemoryCache::new(Arc::new(SystemClock)));
        Some(RedisCache::new(cluster, fallback))
    }

    fn key(name: &str) -> String {
        format!("test:{}:{name}", uuid::Uuid::new_v4().simple())
    }

    #[tokio::test]
    async fn values_expire_and_set_if_absent_wins_once() {
        let Some(c) = cache().await else { return };
        let k = key("v");
        c.set(&k, "1", Duration::from_millis(300)).await.unwrap();
        assert_eq!(c.get(&k).await.unwrap().as_deref(), Some("1"));
        assert!(!c
            .set_if_absent(&k, "2", Duration::from_secs(5))
            .await
            .unwrap());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(c.get(&k).await.unwrap(), None);
        assert!(c
            .set_if_absent(&k, "3", Duration::from_secs(5))
            .await
            .unwrap());
        assert_eq!(c.get(&k).await.unwrap().as_deref(), Some("3"));
        // nothing went to the local fallback
        assert!(c.fallback.is_empty());
    }

    #[tokio::test]
    async fn concurrent_deletes_consume_once_and_counters_keep_their_first_expiry() {
        let Some(c) = cache().await else { return };
        let c = Arc::new(c);
        let k = key("code");
        c.set(&k, "123456", Duration::from_secs(60)).await.unwrap();
        let deletes: Vec<_> = (0..20)
            .map(|_| {
                let (c, k) = (c.clone(), k.clone());
                tokio::spawn(async move { c.delete(&k).await.unwrap() })
            })
            .collect();
        let mut consumed = 0;
        for d in deletes {
            consumed += usize::from(d.await.unwrap());
        }
        assert_eq!(consumed, 1, "exactly one delete consumes the code");

        let n = key("n");
        let incrs: Vec<_> = (0..50)
            .map(|_| {
                let (c, n) = (c.clone(), n.clone());
                tokio::spawn(async move { c.incr(&n, Duration::from_millis(500)).await.unwrap() })
            })
            .collect();
        let mut seen = Vec::new();
        for i in incrs {
            seen.push(i.await.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=50).collect::<Vec<i64>>(), "no lost increment");
        assert_eq!(c.incr(&n, Duration::from_secs(60)).await.unwrap(), 51);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            c.incr(&n, Duration::from_secs(60)).await.unwrap(),
            1,
            "the counter expired with its first TTL"
        );
    }
}
