//! The bus: every state change a client can observe is published here after it
//! is persisted. The realtime layer (each node's hub) subscribes and forwards
//! to sockets.
//!
//! On one node the bus is an in-process broadcast. With Redis
//! ([`Bus::clustered`]) a notification is published on the channels of the
//! users and topics it concerns ([`crate::cluster::keys`]); every node
//! subscribed to one of them (because a local socket needs it) receives it
//! once, however many of its channels it matched (notifications carry an id,
//! and a node drops the ids it has seen), and routes it to its sockets. A
//! message that no node took (`PUBLISH` answered 0 for the user's channel)
//! comes back to the publishing node as [`Notification::Undelivered`], for a
//! push notification. While Redis is down, notifications stay on the node.

use std::collections::{HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::cluster::{keys, Cluster};
use crate::ids::{ClubId, EventId, RoomId, Uid};
use crate::outbound::Frame;
use crate::repo::message::Delivery;

/// Ids of notifications received from Redis that a node remembers, to drop
/// the copies that arrive on a second channel.
const SEEN_IDS: usize = 8192;

/// Something clients may need to hear about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// A new inbox message for `message.uid`.
    Message(Delivery),
    /// Someone was invited into a room.
    RoomInvited {
        /// Which room.
        room_id: RoomId,
        /// Its title.
        room_name: String,
        /// Who invited.
        inviter: Uid,
        /// The inviter's nickname.
        inviter_nickname: String,
        /// Who is invited.
        invitee: Uid,
    },
    /// An event's reminder went out.
    EventReminder {
        /// Which event.
        event_id: EventId,
        /// Its name.
        name: String,
        /// When it starts (ms).
        event_time: i64,
        /// Who was reminded (subscribers, hosts and guests).
        recipients: Vec<Uid>,
    },
    /// An event's room was opened.
    EventStarted {
        /// Which event.
        event_id: EventId,
        /// Its name.
        name: String,
        /// The room it opened.
        room_id: RoomId,
        /// Who was told (subscribers, hosts and guests).
        recipients: Vec<Uid>,
    },
    /// Someone joined a club.
    ClubMemberJoined {
        /// Which club.
        club_id: ClubId,
        /// Who.
        uid: Uid,
        /// Members now.
        member_total: i64,
    },
    /// Someone left a club.
    ClubMemberLeft {
        /// Which club.
        club_id: ClubId,
        /// Who.
        uid: Uid,
        /// Members now.
        member_total: i64,
    },
    /// An inbox message that no node had a socket for (clustered buses only;
    /// the publishing node hands it to push).
    Undelivered(Delivery),
}

impl Notification {
    /// The Redis channels a notification goes to (empty: this node only).
    fn channels(&self) -> Vec<String> {
        match self {
            Self::Message(d) => vec![keys::user_channel(&d.message.uid)],
            Self::RoomInvited { invitee, .. } => vec![keys::user_channel(invitee)],
            Self::EventReminder {
                event_id,
                recipients,
                ..
            }
            | Self::EventStarted {
                event_id,
                recipients,
                ..
            } => std::iter::once(keys::event_channel(event_id))
                .chain(recipients.iter().map(keys::user_channel))
                .collect(),
            Self::ClubMemberJoined { club_id, .. } | Self::ClubMemberLeft { club_id, .. } => {
                vec![keys::club_channel(club_id)]
            }
            Self::Undelivered(_) => Vec::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    id: String,
    n: Notification,
}

/// An in-process broadcast of [`Notification`]s, bridged over Redis when
/// clustered. Slow subscribers lose the oldest items (they are told how many)
/// instead of growing without bound.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Notification>,
    remote: Option<Remote>,
}

#[derive(Clone)]
struct Remote {
    cluster: Cluster,
    outgoing: mpsc::UnboundedSender<Notification>,
}

impl Bus {
    /// A bus keeping up to `capacity` undelivered items per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx, remote: None }
    }

    /// A bus shared by every node on `cluster`'s Redis. Must run inside a
    /// Tokio runtime.
    pub fn clustered(capacity: usize, cluster: Cluster) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let (incoming_tx, incoming_rx) = mpsc::unbounded_channel();
        cluster.set_notification_sink(incoming_tx);
        tokio::spawn(publish_remote(cluster.clone(), tx.clone(), outgoing_rx));
        tokio::spawn(receive_remote(tx.clone(), incoming_rx));
        Self {
            tx,
            remote: Some(Remote { cluster, outgoing }),
        }
    }

    /// Publishes to every current subscriber (none is fine); clustered: to
    /// every node whose sockets need it.
    pub fn publish(&self, notification: Notification) {
        match &self.remote {
            Some(remote) if !notification.channels().is_empty() => {
                if let Err(e) = remote.outgoing.send(notification) {
                    let _ = self.tx.send(e.0);
                }
            }
            _ => {
                let _ = self.tx.send(notification);
            }
        }
    }

    /// Whether notifications go through Redis (then a node sees only what
    /// its sockets subscribed to).
    pub fn is_clustered(&self) -> bool {
        self.remote.is_some()
    }

    /// Clustered and Redis answers now.
    pub fn remote_up(&self) -> bool {
        self.remote.as_ref().is_some_and(|r| r.cluster.is_up())
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.tx.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new(4096)
    }
}

/// Publishes notifications in the order they were made; when Redis fails,
/// delivers them on this node instead.
async fn publish_remote(
    cluster: Cluster,
    local: broadcast::Sender<Notification>,
    mut outgoing: mpsc::UnboundedReceiver<Notification>,
) {
    while let Some(notification) = outgoing.recv().await {
        let channels = notification.channels();
        let wire = Wire {
            id: uuid::Uuid::new_v4().simple().to_string(),
            n: notification,
        };
        let Ok(payload) = serde_json::to_string(&wire) else {
            continue;
        };
        let notification = wire.n;
        let Ok(mut connection) = cluster.connection() else {
            let _ = local.send(notification);
            continue;
        };
        let mut pipe = redis::pipe();
        for channel in &channels {
            pipe.cmd("PUBLISH").arg(channel).arg(&payload);
        }
        match pipe.query_async::<Vec<i64>>(&mut connection).await {
            Ok(receivers) => {
                if let Notification::Message(delivery) = notification {
                    if receivers.first().copied().unwrap_or(0) == 0 {
                        let _ = local.send(Notification::Undelivered(delivery));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot publish to redis; delivering on this node only");
                let _ = local.send(notification);
            }
        }
    }
}

/// Hands notifications from Redis to this node's subscribers, once per id.
async fn receive_remote(
    local: broadcast::Sender<Notification>,
    mut incoming: mpsc::UnboundedReceiver<Frame>,
) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut order: VecDeque<String> = VecDeque::new();
    while let Some(payload) = incoming.recv().await {
        let Ok(wire) = serde_json::from_str::<Wire>(&payload) else {
            tracing::warn!("dropping a malformed notification from redis");
            continue;
        };
        if !seen.insert(wire.id.clone()) {
            continue;
        }
        order.push_back(wire.id);
        if order.len() > SEEN_IDS {
            if let Some(old) = order.pop_front() {
                seen.remove(&old);
            }
        }
        let _ = local.send(wire.n);
    }
}
