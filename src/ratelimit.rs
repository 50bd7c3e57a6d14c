//! Request and action rate limits (OWASP API4): how often one user, one
//! address or one connection may call.
//!
//! Every limit is a fixed window counted in the shared [`Cache`]: node memory
//! on one node, Redis with several nodes, so every node counts the same
//! requests. A call past a limit gets the 429 envelope with `Retry-After` (the
//! seconds until its window ends). A refused call counts in the window that
//! refused it, so a client that keeps hammering stays refused until that
//! window ends. A limit of 0 is off.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use huddle_actors::cache::{Cache, Window};
use huddle_actors::{SharedClock, Uid};

use crate::envelope::ApiError;

/// Requests per second (the burst) and per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Most requests in one second; 0: no per-second limit.
    pub per_second: u32,
    /// Most requests in one minute; 0: no per-minute limit.
    pub per_minute: u32,
}

/// Actions limited per user per hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `POST /room`.
    CreateRoom,
    /// `POST /room/{id}/invite/{uid}`.
    Invite,
    /// `POST /account/captcha/send`, per address.
    SendCaptcha,
}

impl Action {
    fn key(self) -> &'static str {
        match self {
            Self::CreateRoom => "room",
            Self::Invite => "invite",
            Self::SendCaptcha => "captcha",
        }
    }
}

/// Every limit, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Signed API requests of one logged-in user.
    pub user: Rate,
    /// Signed API requests from one client address.
    pub ip: Rate,
    /// Rooms one user may open per hour.
    pub rooms_per_hour: u32,
    /// Invitations one user may send per hour.
    pub invites_per_hour: u32,
    /// Captcha sends from one address per hour.
    pub captchas_per_ip_per_hour: u32,
    /// Frames one WebSocket may send per second (a [`MessageBudget`]).
    pub ws_messages_per_second: u32,
    /// WebSockets one user may hold open on one node.
    pub ws_connections_per_user: u32,
}

impl Limits {
    /// No limit at all (load tests, test suites).
    pub const fn off() -> Self {
        const NONE: Rate = Rate {
            per_second: 0,
            per_minute: 0,
        };
        Self {
            user: NONE,
            ip: NONE,
            rooms_per_hour: 0,
            invites_per_hour: 0,
            captchas_per_ip_per_hour: 0,
            ws_messages_per_second: 0,
            ws_connections_per_user: 0,
        }
    }
}

/// The frames one WebSocket may still send: a token bucket holding at most
/// `per_second` tokens, refilled continuously at `per_second` a second. A
/// connection may so send `per_second` frames at once, then `per_second` a
/// second. Counted in the connection's own actor: no shared state, no I/O.
#[derive(Debug, Clone)]
pub struct MessageBudget {
    per_second: u32,
    tokens: f64,
    refilled_at: Instant,
}

impl MessageBudget {
    /// A full budget of `per_second` (0: unlimited) at `now`.
    pub fn new(per_second: u32, now: Instant) -> Self {
        Self {
            per_second,
            tokens: f64::from(per_second),
            refilled_at: now,
        }
    }

    /// The rate (0: unlimited).
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Spends one frame's token at `now`; false when the connection is over
    /// its rate (nothing is spent then).
    pub fn take(&mut self, now: Instant) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let rate = f64::from(self.per_second);
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts calls against [`Limits`].
#[derive(Clone)]
pub struct Limiter {
    limits: Limits,
    cache: Arc<dyn Cache>,
    clock: SharedClock,
}

impl Limiter {
    /// A limiter counting in `cache` by `clock`.
    pub fn new(limits: Limits, cache: Arc<dyn Cache>, clock: SharedClock) -> Self {
        Self {
            limits,
            cache,
            clock,
        }
    }

    /// One signed request from `ip`.
    pub async fn request_from(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.rate(&format!("ip:{ip}"), self.limits.ip).await
    }

    /// One signed request by `uid`.
    pub async fn request_by(&self, uid: &Uid) -> Result<(), ApiError> {
        self.rate(&format!("user:{uid}"), self.limits.user).await
    }

    /// One `action` by `who` (a uid or an address).
    pub async fn action(&self, action: Action, who: &str) -> Result<(), ApiError> {
        let limit = match action {
            Action::CreateRoom => self.limits.rooms_per_hour,
            Action::Invite => self.limits.invites_per_hour,
            Action::SendCaptcha => self.limits.captchas_per_ip_per_hour,
        };
        self.window(&format!("{}:{who}", action.key()), limit, 3_600_000)
            .await
    }

    /// Counts one call in `who`'s second and minute windows: one cache call
    /// (one Redis round trip), the minute not counted when the second refuses.
    async fn rate(&self, who: &str, rate: Rate) -> Result<(), ApiError> {
        self.windows(&[
            (format!("{who}:s"), rate.per_second, 1_000),
            (format!("{who}:m"), rate.per_minute, 60_000),
        ])
        .await
    }

    /// Counts one call in the current `window_ms` window of `key`.
    async fn window(&self, key: &str, limit: u32, window_ms: i64) -> Result<(), ApiError> {
        self.windows(&[(key.to_owned(), limit, window_ms)]).await
    }

    /// Counts one call in the current window of each `(key, limit,
    /// window_ms)` whose limit is not 0, in order; the first over its limit
    /// refuses with the seconds until that window ends.
    async fn windows(&self, windows: &[(String, u32, i64)]) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let slots: Vec<(String, i64, i64, Duration)> = windows
            .iter()
            .filter(|(_, limit, _)| *limit > 0)
            .map(|(key, limit, window_ms)| {
                let slot = now.div_euclid(*window_ms);
                let ttl =
                    Duration::from_millis(u64::try_from(*window_ms).unwrap_or(3_600_000) + 1_000);
                (
                    format!("rl:{key}:{slot}"),
                    i64::from(*limit),
                    *window_ms,
                    ttl,
                )
            })
            .collect();
        if slots.is_empty() {
            return Ok(());
        }
        let counted: Vec<Window<'_>> = slots
            .iter()
            .map(|(key, limit, _, ttl)| Window {
                key,
                ttl: *ttl,
                limit: *limit,
            })
            .collect();
        let counts = self.cache.incr_windows(&counted).await?;
        for ((_, limit, window_ms, _), count) in slots.iter().zip(counts) {
            if count > *limit {
                let slot = now.div_euclid(*window_ms);
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: retry_after(now, slot, *window_ms),
                });
            }
        }
        Ok(())
    }
}

/// Whole seconds from `now` to the end of window `slot` (at least 1).
fn retry_after(now: i64, slot: i64, window_ms: i64) -> u64 {
    let left_ms = (slot + 1) * window_ms - now;
    u64::try_from((left_ms + 999) / 1_000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_actors::cache::MemoryCache;
    use huddle_actors::clock::{Clock, ManualClock};

    fn limiter(limits: Limits) -> (Arc<ManualClock>, Limiter) {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let cache = Arc::new(MemoryCache::new(clock.clone()));
        (clock.clone(), Limiter::new(limits, cache, clock))
    }

    const OFF: Limits = Limits::off();

    fn retry(e: ApiError) -> u64 {
        match e {
            ApiError::TooManyRequests { retry_after_secs } => retry_after_secs,
            other => panic!("not a 429: {other:?}"),
        }
    }

    #[test]
    fn a_message_budget_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut budget = MessageBudget::new(10, start);
        assert!((0..10).all(|_| budget.take(start)), "the burst");
        assert!(!budget.take(start), "the 11th at once is over");
        assert!(
            !budget.take(start),
            "a refusal spends nothing, and earns nothing"
        );
        let later = start + Duration::from_millis(100);
        assert!(budget.take(later), "100 ms earn one frame at 10/s");
        assert!(!budget.take(later));
        let much_later = later + Duration::from_secs(60);
        let sent = (0..100).filter(|_| budget.take(much_later)).count();
        assert_eq!(sent, 10, "idle time refills to the burst, not beyond");
        // a steady 10/s never runs dry
        let mut t = much_later + Duration::from_secs(1);
        for _ in 0..1_000 {
            t += Duration::from_millis(100);
            assert!(budget.take(t));
        }
    }

    #[test]
    fn a_zero_budget_is_unlimited() {
        let now = Instant::now();
        let mut budget = MessageBudget::new(0, now);
        assert!((0..100_000).all(|_| budget.take(now)));
    }

    #[actix_web::test]
    async fn a_burst_is_cut_at_the_per_second_limit_and_resets_with_the_second() {
        let (clock, l) = limiter(Limits {
            user: Rate {
                per_second: 3,
                per_minute: 100,
            },
            ..OFF
        });
        let uid = Uid::new();
        for _ in 0..3 {
            l.request_by(&uid).await.unwrap();
        }
        assert_eq!(retry(l.request_by(&uid).await.unwrap_err()), 1);
        // another user is not affected
        l.request_by(&Uid::new()).await.unwrap();
        clock.advance(1_000);
        l.request_by(&uid).await.unwrap();
    }

    #[actix_web::test]
    async fn the_minute_limit_says_how_long_to_wait() {
        let (clock, l) = limiter(Limits {
            ip: Rate {
                per_second: 0,
                per_minute: 5,
            },
            ..OFF
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        // 20 s into a minute window
        clock.advance(60_000 - clock.now_ms().rem_euclid(60_000) + 20_000);
        for _ in 0..5 {
            l.request_from(ip).await.unwrap();
        }
        assert_eq!(retry(l.request_from(ip).await.unwrap_err()), 40);
        clock.advance(39_500);
        assert_eq!(retry(l.request_from(ip).await.unwrap_err()), 1);
        clock.advance(500);
        l.request_from(ip).await.unwrap();
    }

    #[actix_web::test]
    async fn hourly_actions_and_zero_meaning_off() {
        let (_, l) = limiter(Limits {
            rooms_per_hour: 2,
            ..OFF
        });
        l.action(Action::CreateRoom, "u").await.unwrap();
        l.action(Action::CreateRoom, "u").await.unwrap();
        assert!(retry(l.action(Action::CreateRoom, "u").await.unwrap_err()) <= 3_600);
        for _ in 0..1_000 {
            l.action(Action::Invite, "u").await.unwrap();
            l.request_by(&Uid::new()).await.unwrap();
        }
    }
}
