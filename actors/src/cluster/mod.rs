//! Several nodes as one: the Redis link shared by everything cross-node.
//!
//! One [`Cluster`] per node holds
//! - a **command connection**: a `redis` [`ConnectionManager`], one multiplexed
//!   TCP connection that pipelines the commands of every task and reconnects
//!   by itself. Redis serves one client's commands in order on one thread, so
//!   a pool of connections would add sockets, not throughput; huddle issues no
//!   blocking command that could hold the connection;
//! - a **subscriber connection** (RESP3, pushes delivered to a dispatcher
//!   task), subscribed only to the channels this node's sockets need
//!   ([`Subscriptions`], reference counted);
//! - a **health loop**: every [`HEARTBEAT`] it refreshes the node's heartbeat
//!   key. A failure marks Redis down (callers fail fast instead of waiting, the
//!   node reports not ready); the first success after that bumps the
//!   *generation*, which resubscribes every channel and tells every room
//!   replica to re-register its members and reload ([`RoomWire::Resync`]).
//!
//! [`keys`] names every key and channel; [`cache`] is the Redis [`crate::cache::Cache`].

pub mod cache;
pub mod keys;
mod subscriptions;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix::prelude::*;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::mpsc;

use crate::ids::RoomId;
use crate::outbound::Frame;
pub use subscriptions::Subscriptions;

/// How often the node refreshes its heartbeat key and checks Redis.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// A node's heartbeat key lives this long without a refresh.
const NODE_TTL_MS: u64 = 5_000;
/// Tries to resubscribe after a reconnect before giving up until the next.
const RESUBSCRIBE_ATTEMPTS: u32 = 20;
/// Longest wait for one Redis reply before the call fails.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1_500);

/// Redis failed or is marked down.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The link is down (known from the health loop): failing fast.
    #[error("redis is unreachable")]
    Down,
    /// A command failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// What the subscriber delivers to a room replica.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub enum RoomWire {
    /// A payload published on the room's channel (an event frame).
    Payload(Frame),
    /// Redis came back: re-register what this node knows, reload, then
    /// answer on the sender.
    Resync(tokio::sync::oneshot::Sender<()>),
}

/// How long a node waits for its room replicas to resynchronise before it
/// reports ready again anyway.
const RESYNC_TIMEOUT: Duration = Duration::from_secs(3);

struct Health {
    /// Redis answered the last heartbeat: commands may be sent.
    up: Arc<AtomicBool>,
    /// Linked and resynchronised after the last outage: ready for traffic.
    ready: AtomicBool,
    generation: AtomicU64,
    /// Generations already announced to listeners.
    announced: AtomicU64,
}

/// The node's link to Redis (cheap to clone).
#[derive(Clone)]
pub struct Cluster {
    node_id: Arc<str>,
    commands: ConnectionManager,
    health: Arc<Health>,
    subscriptions: Subscriptions,
    rooms: Arc<Mutex<HashMap<RoomId, Recipient<RoomWire>>>>,
    notifications: Arc<OnceLock<mpsc::UnboundedSender<Frame>>>,
}

fn client(url: &str, resp3: bool) -> redis::RedisResult<redis::Client> {
    let info = url.into_connection_info()?;
    let info = if resp3 {
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        info.set_redis_settings(settings)
    } else {
        info
    };
    redis::Client::open(info)
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

impl Cluster {
    /// Links this node (`node_id`) to Redis at `url` and starts the health loop
    /// and the subscriber. Redis may be down now: the node starts anyway, not
    /// ready, and links up when Redis answers. Must run inside a Tokio runtime.
    pub fn start(url: &str, node_id: &str) -> Result<Self, ClusterError> {
        let commands =
            ConnectionManager::new_lazy_with_config(client(url, false)?, manager_config())?;
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let subscriber = ConnectionManager::new_lazy_with_config(
            client(url, true)?,
            manager_config().set_push_sender(push_tx),
        )?;
        let up = Arc::new(AtomicBool::new(false));
        let cluster = Self {
            node_id: node_id.into(),
            commands,
            health: Arc::new(Health {
                ready: AtomicBool::new(false),
                up: up.clone(),
                generation: AtomicU64::new(0),
                announced: AtomicU64::new(0),
            }),
            subscriptions: Subscriptions::start(subscriber, up),
            rooms: Arc::default(),
            notifications: Arc::default(),
        };
        tokio::spawn(cluster.clone().dispatch(push_rx));
        tokio::spawn(cluster.clone().health_loop());
        Ok(cluster)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether Redis answered the last heartbeat.
    pub fn is_up(&self) -> bool {
        self.health.up.load(Ordering::Acquire)
    }

    /// Up, and everything this node holds was re-registered after the last
    /// outage (what `/readyz` reports).
    pub fn is_ready(&self) -> bool {
        self.is_up() && self.health.ready.load(Ordering::Acquire)
    }

    /// The command connection, when Redis is up (fails fast otherwise).
    pub fn connection(&self) -> Result<ConnectionManager, ClusterError> {
        if self.is_up() {
            Ok(self.commands.clone())
        } else {
            Err(ClusterError::Down)
        }
    }

    /// Waits until Redis answers (at most `timeout`); true when up.
    pub async fn wait_up(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.is_up() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// The channel subscriptions of this node.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// Routes the payloads of `room_id`'s channel to `replica` (the room's
    /// actor on this node). The caller also acquires the channel.
    pub fn register_room(&self, room_id: RoomId, replica: Recipient<RoomWire>) {
        if let Ok(mut rooms) = self.rooms.lock() {
            rooms.insert(room_id, replica);
        }
    }

    /// Stops routing `room_id` to a replica.
    pub fn unregister_room(&self, room_id: &RoomId) {
        if let Ok(mut rooms) = self.rooms.lock() {
            rooms.remove(room_id);
        }
    }

    /// Where payloads of user and topic channels go (the bus; set once).
    pub fn set_notification_sink(&self, sink: mpsc::UnboundedSender<Frame>) {
        let _ = self.notifications.set(sink);
    }

    async fn health_loop(self) {
        let key = keys::node_key(&self.node_id);
        let mut ticker = tokio::time::interval(HEARTBEAT);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let mut conn = self.commands.clone();
            let mut beat = redis::cmd("SET");
            beat.arg(&key)
                .arg(format!("pid={}", std::process::id()))
                .arg("PX")
                .arg(NODE_TTL_MS);
            let result =
                tokio::time::timeout(RESPONSE_TIMEOUT, beat.query_async::<()>(&mut conn)).await;
            let ok = matches!(result, Ok(Ok(())));
            let was_up = self.health.up.swap(ok, Ordering::AcqRel);
            match (was_up, ok) {
                (false, true) => {
                    let generation = self.health.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    if generation == 1 {
                        tracing::info!(node = %self.node_id, "redis linked");
                    } else {
                        tracing::warn!(node = %self.node_id, "redis is back: resubscribing and re-registering presence");
                    }
                    self.resync(generation).await;
                }
                (true, false) => {
                    self.health.ready.store(false, Ordering::Release);
                    let error = match result {
                        Ok(Err(e)) => e.to_string(),
                        _ => "no answer in time".to_owned(),
                    };
                    tracing::error!(node = %self.node_id, error = %error, "redis unreachable: serving REST and local sockets, not ready");
                }
                _ => {}
            }
        }
    }

    /// Tells every room replica to resynchronise (first, so that it handles
    /// that before any later change), resubscribes (retrying while the
    /// subscriber connection comes back), waits for the replicas, and
    /// reports ready.
    async fn resync(&self, generation: u64) {
        let first = self.health.announced.swap(generation, Ordering::AcqRel) == 0;
        let replicas: Vec<Recipient<RoomWire>> = if first {
            // The first link: replicas load as they start, nothing to redo.
            Vec::new()
        } else {
            self.rooms
                .lock()
                .map(|r| r.values().cloned().collect())
                .unwrap_or_default()
        };
        let mut pending = Vec::with_capacity(replicas.len());
        for replica in replicas {
            let (tx, rx) = tokio::sync::oneshot::channel();
            replica.do_send(RoomWire::Resync(tx));
            pending.push(rx);
        }
        let mut attempt = 0;
        while !self.subscriptions.resubscribe_all().await {
            attempt += 1;
            if attempt >= RESUBSCRIBE_ATTEMPTS || !self.is_up() {
                tracing::warn!(node = %self.node_id, "resubscribing failed; retried on the next reconnect");
                self.health.up.store(false, Ordering::Release);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let all = futures_util::future::join_all(pending);
        if tokio::time::timeout(RESYNC_TIMEOUT, all).await.is_err() {
            tracing::warn!(node = %self.node_id, "some rooms are still resynchronising");
        }
        self.health.ready.store(true, Ordering::Release);
    }

    async fn dispatch(self, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
        while let Some(push) = pushes.recv().await {
            match push.kind {
                PushKind::Message => {
                    let mut data = push.data.into_iter();
                    let (Some(channel), Some(payload)) = (data.next(), data.next()) else {
                        continue;
                    };
                    let (Ok(channel), Ok(payload)) = (
                        redis::from_redis_value::<String>(channel),
                        redis::from_redis_value::<String>(payload),
                    ) else {
                        continue;
                    };
                    self.route(&channel, payload.into());
                }
                PushKind::Disconnection => {
                    tracing::debug!(node = %self.node_id, "subscriber connection lost");
                    // The health loop resubscribes when it sees Redis again; a
                    // lone subscriber drop (Redis still up) is repaired here.
                    let cluster = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(HEARTBEAT).await;
                        if cluster.is_up() && !cluster.subscriptions.resubscribe_all().await {
                            // Let the health loop treat it as an outage and resync.
                            cluster.health.up.store(false, Ordering::Release);
                        }
                    });
                }
                _ => {}
            }
        }
    }

    fn route(&self, channel: &str, payload: Frame) {
        match keys::classify(channel) {
            Some(keys::ChannelKind::Room(room_id)) => {
                let replica = self
                    .rooms
                    .lock()
                    .ok()
                    .and_then(|r| r.get(&room_id).cloned());
                if let Some(replica) = replica {
                    replica.do_send(RoomWire::Payload(payload));
                }
            }
            Some(keys::ChannelKind::Notifications) => {
                if let Some(sink) = self.notifications.get() {
                    let _ = sink.send(payload);
                }
            }
            None => {}
        }
    }
}
