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
use crate::cache::{Cache, CacheResult, MemoryCache, Window};

/// Counter that starts its expiry when it is created.
const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n";

/// [`Cache::incr_windows`] in one round trip: ARGV holds (ttl ms, limit)
/// per key.
const WINDOWS_SCRIPT: &str = r"
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[2 * i - 1]) end
  counts[i] = n
  if n > tonumber(ARGV[2 * i]) then break end
end
return counts";

/// The shared cache, with a local fallback during Redis outages.
pub struct RedisCache {
    cluster: Cluster,
    fallback: Arc<MemoryCache>,
    incr: Script,
    windows: Script,
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
            windows: Script::new(WINDOWS_SCRIPT),
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

    async fn incr_windows(&self, windows: &[Window<'_>]) -> CacheResult<Vec<i64>> {
        if let Some(mut c) = self.connection() {
            let mut invocation = self.windows.prepare_invoke();
            for w in windows {
                invocation
                    .key(keys::cache_key(w.key))
                    .arg(ttl_ms(w.ttl))
                    .arg(w.limit);
            }
            match invocation.invoke_async::<Vec<i64>>(&mut c).await {
                Ok(counts) => return Ok(counts),
                Err(e) => self.degrade(&e.to_string()),
            }
        }
        self.fallback.incr_windows(windows).await
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

    #[tokio::test]
    async fn windows_count_in_order_and_stop_at_the_first_refusal() {
        let Some(c) = cache().await else { return };
        let (s, m) = (key("s"), key("m"));
        let ttl = Duration::from_secs(60);
        let windows = [
            Window {
                key: &s,
                ttl,
                limit: 2,
            },
            Window {
                key: &m,
                ttl,
                limit: 100,
            },
        ];
        assert_eq!(c.incr_windows(&windows).await.unwrap(), [1, 1]);
        assert_eq!(c.incr_windows(&windows).await.unwrap(), [2, 2]);
        // the second window refuses: the minute is not counted
        assert_eq!(c.incr_windows(&windows).await.unwrap(), [3]);
        assert_eq!(c.incr(&m, ttl).await.unwrap(), 3);
        // the same answers as the memory cache's, and nothing fell back
        let mem = MemoryCache::new(Arc::new(SystemClock));
        let (s2, m2) = (key("s2"), key("m2"));
        let local = [
            Window {
                key: &s2,
                ttl,
                limit: 2,
            },
            Window {
                key: &m2,
                ttl,
                limit: 100,
            },
        ];
        for expected in [vec![1, 1], vec![2, 2], vec![3]] {
            assert_eq!(mem.incr_windows(&local).await.unwrap(), expected);
        }
        assert!(c.fallback.is_empty());
    }

    /// A redis-server of this test's own, so its command counts are ours.
    struct PrivateRedis(std::process::Child, String);

    impl Drop for PrivateRedis {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn private_redis() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH (the multi-node suite needs it too)");
        PrivateRedis(child, format!("redis://127.0.0.1:{port}"))
    }

    async fn command_calls(url: &str, command: &str) -> u64 {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut c)
            .await
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    }

    /// What a rate-limited request costs on Redis: its second and minute
    /// windows are one EVALSHA (one round trip), not one per window.
    #[tokio::test]
    async fn a_rate_limit_check_is_one_round_trip() {
        if cache().await.is_none() {
            return;
        }
        let redis = private_redis();
        let cluster = Cluster::start(&redis.1, "cache-rtt").unwrap();
        assert!(
            cluster.wait_up(Duration::from_secs(5)).await,
            "private redis-server"
        );
        let c = RedisCache::new(cluster, Arc::new(MemoryCache::new(Arc::new(SystemClock))));
        let (s, m) = (key("s"), key("m"));
        let ttl = Duration::from_secs(60);
        let windows = [
            Window {
                key: &s,
                ttl,
                limit: 1_000,
            },
            Window {
                key: &m,
                ttl,
                limit: 1_000,
            },
        ];
        c.incr_windows(&windows).await.unwrap(); // loads the script
        let before = command_calls(&redis.1, "evalsha").await;
        const CHECKS: u64 = 100;
        for _ in 0..CHECKS {
            c.incr_windows(&windows).await.unwrap();
        }
        let evalsha = command_calls(&redis.1, "evalsha").await - before;
        eprintln!("rate-limit-rtt: {CHECKS} checks of 2 windows: {evalsha} EVALSHA");
        assert_eq!(evalsha, CHECKS, "one script call per check");
        assert_eq!(
            c.incr(&m, ttl).await.unwrap(),
            i64::try_from(CHECKS).unwrap() + 2
        );
        assert!(c.fallback.is_empty());
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
