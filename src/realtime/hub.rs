//! The hub: one actor per node that knows every WebSocket connection of the
//! node by user and by subscription, listens to the [`Bus`] and turns
//! user-addressed and topic notifications into frames (`message.new`,
//! `room.invited`, `event.reminder`, `event.started`, `club.member_joined`,
//! `club.member_left`). Room events do not pass here: rooms fan out to their
//! own connections.
//!
//! With Redis, the hub also keeps this node subscribed to exactly the user and
//! topic channels its connections need (first connection of a user or topic
//! acquires the channel, the last one releases it).

use std::collections::{HashMap, HashSet};

use actix::prelude::*;
use huddle_actors::bus::{Bus, Notification};
use huddle_actors::cluster::{keys, Subscriptions};
use huddle_actors::outbound::{close, cut_off, offer, ConnId, Frame, Offered, Outbound, Outbox};
use huddle_actors::{SharedClock, Uid};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::protocol::Topic;
use crate::clients::push::OfflinePush;
use crate::http::views::MessageJson;

/// Most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 100;

struct HubConn {
    uid: Uid,
    outbox: Outbox,
    topics: HashSet<Topic>,
}

/// Connections of this node, by user and by topic.
pub struct Hub {
    conns: HashMap<ConnId, HubConn>,
    users: HashMap<Uid, HashSet<ConnId>>,
    topics: HashMap<Topic, HashSet<ConnId>>,
    /// Read-only connections (share pages): only told to close at shutdown.
    watchers: HashMap<ConnId, Outbox>,
    bus: Bus,
    clock: SharedClock,
    offline: Option<OfflinePush>,
    subscriptions: Option<Subscriptions>,
}

fn topic_channel(topic: &Topic) -> String {
    match topic {
        Topic::Club(id) => keys::club_channel(id),
        Topic::Event(id) => keys::event_channel(id),
    }
}

impl Hub {
    /// A hub listening to `bus`.
    pub fn new(bus: Bus, clock: SharedClock) -> Self {
        Self {
            conns: HashMap::new(),
            users: HashMap::new(),
            topics: HashMap::new(),
            watchers: HashMap::new(),
            bus,
            clock,
            offline: None,
            subscriptions: None,
        }
    }

    /// Keeps the node's Redis subscriptions to what its connections need.
    pub fn with_subscriptions(mut self, subscriptions: Subscriptions) -> Self {
        self.subscriptions = Some(subscriptions);
        self
    }

    fn release(&self, channel: String) {
        if let Some(s) = &self.subscriptions {
            s.release(channel);
        }
    }

    fn acquire(&self, channel: String) {
        if let Some(s) = &self.subscriptions {
            s.acquire_later(channel);
        }
    }

    /// Hands an inbox message to push.
    fn push_offline(&self, delivery: huddle_actors::repo::message::Delivery) {
        if let Some(push) = &self.offline {
            push.offer(delivery);
        }
    }

    /// Hands inbox messages of users with no connection here to `push`.
    pub fn with_offline_push(mut self, push: OfflinePush) -> Self {
        self.offline = Some(push);
        self
    }

    fn forget(&mut self, conn: ConnId) {
        self.watchers.remove(&conn);
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(set) = self.users.get_mut(&c.uid) {
            set.remove(&conn);
            if set.is_empty() {
                self.users.remove(&c.uid);
                self.release(keys::user_channel(&c.uid));
            }
        }
        for topic in c.topics {
            self.unlink(&topic, conn);
        }
    }

    fn unlink(&mut self, topic: &Topic, conn: ConnId) {
        if let Some(set) = self.topics.get_mut(topic) {
            if !set.remove(&conn) {
                return;
            }
            if set.is_empty() {
                self.topics.remove(topic);
                self.release(topic_channel(topic));
            }
        }
    }

    fn send_to(&mut self, targets: impl IntoIterator<Item = ConnId>, frame: &Frame) {
        let mut dropped = Vec::new();
        for conn in targets {
            let Some(c) = self.conns.get(&conn) else {
                continue;
            };
            match offer(&c.outbox, Outbound::Frame(frame.clone())) {
                Offered::Queued => {}
                Offered::Full => {
                    cut_off(&c.outbox);
                    dropped.push(conn);
                }
                Offered::Gone => dropped.push(conn),
            }
        }
        for conn in dropped {
            self.forget(conn);
        }
    }

    fn user_conns<'a>(&self, uids: impl IntoIterator<Item = &'a Uid>) -> HashSet<ConnId> {
        uids.into_iter()
            .filter_map(|u| self.users.get(u))
            .flatten()
            .copied()
            .collect()
    }

    fn topic_conns(&self, topic: &Topic) -> HashSet<ConnId> {
        self.topics.get(topic).cloned().unwrap_or_default()
    }

    /// An event's recipients and its topic's subscribers.
    fn event_conns(
        &self,
        recipients: &[Uid],
        event_id: &huddle_actors::EventId,
    ) -> HashSet<ConnId> {
        let mut targets = self.user_conns(recipients);
        targets.extend(self.topic_conns(&Topic::Event(event_id.clone())));
        targets
    }

    fn route(&mut self, notification: Notification) {
        let ts = self.clock.now_ms();
        let (targets, frame): (HashSet<ConnId>, Value) = match notification {
            Notification::Message(d) => {
                let conns = self.user_conns([&d.message.uid]);
                if conns.is_empty() {
                    // Clustered, the publishing node learns from Redis whether
                    // any node took it (`Undelivered`); while Redis is down,
                    // this node is all it can know of.
                    if !self.bus.is_clustered() || !self.bus.remote_up() {
                        self.push_offline(d);
                    }
                    return;
                }
                (
                    conns,
                    json!({
                        "type": "message.new",
                        "ts": ts,
                        "message": MessageJson::from(&d.message),
                        "unreadTotal": d.unread_total,
                    }),
                )
            }
            Notification::RoomInvited {
                room_id,
                room_name,
                inviter,
                inviter_nickname,
                invitee,
            } => (
                self.user_conns([&invitee]),
                json!({
                    "type": "room.invited",
                    "roomId": room_id,
                    "ts": ts,
                    "roomName": room_name,
                    "inviter": { "uid": inviter, "nickname": inviter_nickname },
                }),
            ),
            Notification::ClubMemberJoined {
                club_id,
                uid,
                member_total,
            } => (
                self.topic_conns(&Topic::Club(club_id.clone())),
                json!({
                    "type": "club.member_joined",
                    "clubId": club_id,
                    "ts": ts,
                    "uid": uid,
                    "memberTotal": member_total,
                }),
            ),
            Notification::ClubMemberLeft {
                club_id,
                uid,
                member_total,
            } => (
                self.topic_conns(&Topic::Club(club_id.clone())),
                json!({
                    "type": "club.member_left",
                    "clubId": club_id,
                    "ts": ts,
                    "uid": uid,
                    "memberTotal": member_total,
                }),
            ),
            Notification::EventReminder {
                event_id,
                name,
                event_time,
                recipients,
            } => (
                self.event_conns(&recipients, &event_id),
                json!({
                    "type": "event.reminder",
                        "eventId": event_id,
                        "ts": ts,
                        "name": name,
                    "eventTime": event_time,
                }),
            ),
            Notification::EventStarted {
                event_id,
                name,
                room_id,
                recipients,
            } => (
                self.event_conns(&recipients, &event_id),
                json!({
                    "type": "event.started",
                        "eventId": event_id,
                        "ts": ts,
                        "name": name,
                    "roomId": room_id,
                }),
            ),
            Notification::Undelivered(d) => {
                self.push_offline(d);
                return;
            }
        };
        if targets.is_empty() {
            return;
        }
        let frame: Frame = frame.to_string().into();
        self.send_to(targets, &frame);
    }
}

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let receiver = self.bus.subscribe();
        ctx.add_stream(futures_util::stream::unfold(receiver, next_notification));
    }
}

async fn next_notification(
    mut rx: broadcast::Receiver<Notification>,
) -> Option<(Notification, broadcast::Receiver<Notification>)> {
    loop {
        match rx.recv().await {
            Ok(n) => return Some((n, rx)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "hub fell behind the bus; notifications lost");
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

impl StreamHandler<Notification> for Hub {
    fn handle(&mut self, item: Notification, _: &mut Self::Context) {
        self.route(item);
    }

    fn finished(&mut self, _: &mut Self::Context) {
        // The bus lives as long as the server; keep serving registrations.
    }
}

/// A connection opened; answered `true` when it can receive notifications,
/// `false` when its user already holds `limit` connections on this node (the
/// connection is then not registered).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Connect {
    /// Which.
    pub conn: ConnId,
    /// Whose.
    pub uid: Uid,
    /// Where frames go.
    pub outbox: Outbox,
    /// Most connections of one user on this node (0: no limit).
    pub limit: usize,
}

impl Handler<Connect> for Hub {
    /// Answers once the user's channel is subscribed (at once on one node).
    type Result = ResponseFuture<bool>;

    fn handle(&mut self, msg: Connect, _: &mut Self::Context) -> Self::Result {
        let conns = self.users.entry(msg.uid.clone()).or_default();
        if msg.limit > 0 && conns.len() >= msg.limit {
            return Box::pin(async { false });
        }
        let first = conns.is_empty();
        conns.insert(msg.conn);
        let subscribed = match (&self.subscriptions, first) {
            (Some(subscriptions), true) => {
                let (subscriptions, channel) =
                    (subscriptions.clone(), keys::user_channel(&msg.uid));
                Some(async move {
                    subscriptions.acquire(channel).await;
                })
            }
            _ => None,
        };
        self.conns.insert(
            msg.conn,
            HubConn {
                uid: msg.uid,
                outbox: msg.outbox,
                topics: HashSet::new(),
            },
        );
        Box::pin(async move {
            if let Some(subscribed) = subscribed {
                subscribed.await;
            }
            true
        })
    }
}

/// How many connections `uid` holds on this node (checked before an upgrade).
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountConnections {
    /// Whose.
    pub uid: Uid,
}

impl Handler<CountConnections> for Hub {
    type Result = usize;

    fn handle(&mut self, msg: CountConnections, _: &mut Self::Context) -> usize {
        self.users.get(&msg.uid).map_or(0, HashSet::len)
    }
}

/// A read-only connection opened (a share page watching a room).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConnectWatcher {
    /// Which.
    pub conn: ConnId,
    /// Where a close goes.
    pub outbox: Outbox,
}

impl Handler<ConnectWatcher> for Hub {
    type Result = ();

    fn handle(&mut self, msg: ConnectWatcher, _: &mut Self::Context) {
        self.watchers.insert(msg.conn, msg.outbox);
    }
}

/// A connection closed (every exit path sends this).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    /// Which.
    pub conn: ConnId,
}

impl Handler<Disconnect> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Self::Context) {
        self.forget(msg.conn);
    }
}

/// Subscribe a connection to a topic; `false` past [`MAX_SUBSCRIPTIONS`].
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Subscribe {
    /// Which connection.
    pub conn: ConnId,
    /// To what.
    pub topic: Topic,
}

impl Handler<Subscribe> for Hub {
    type Result = bool;

    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> bool {
        let Some(c) = self.conns.get_mut(&msg.conn) else {
            return false;
        };
        if !c.topics.contains(&msg.topic) && c.topics.len() >= MAX_SUBSCRIPTIONS {
            return false;
        }
        c.topics.insert(msg.topic.clone());
        let conns = self.topics.entry(msg.topic.clone()).or_default();
        let first = conns.is_empty();
        if conns.insert(msg.conn) && first {
            self.acquire(topic_channel(&msg.topic));
        }
        true
    }
}

/// Unsubscribe a connection from a topic (no-op when not subscribed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    /// Which connection.
    pub conn: ConnId,
    /// From what.
    pub topic: Topic,
}

impl Handler<Unsubscribe> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        if let Some(c) = self.conns.get_mut(&msg.conn) {
            c.topics.remove(&msg.topic);
        }
        self.unlink(&msg.topic, msg.conn);
    }
}

/// Closes every connection with 1001 (server shutting down); answers how many.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

impl Handler<CloseAll> for Hub {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) -> usize {
        let n = self.conns.len() + self.watchers.len();
        if n > 0 {
            tracing::info!(connections = n, "closing websockets");
        }
        let outboxes = self
            .conns
            .values()
            .map(|c| &c.outbox)
            .chain(self.watchers.values());
        for outbox in outboxes {
            outbox.do_send(Outbound::Close {
                code: close::GOING_AWAY,
                reason: "server shutting down",
            });
        }
        n
    }
}
