//! One [`RoomActor`] per open room holds its live state: who is in it, which
//! connections listen, who may speak, whose hand is up, who was invited or
//! removed, and the room's event stream (`seq`, bounded history).
//!
//! Membership: a voice token ([`Admit`]) makes the caller a member; a WebSocket
//! [`Attach`] ties connections to them. A member with no connection for the
//! grace period (`HUDDLE_ROOM_GRACE_MS`) leaves; so does one who sends `leave`,
//! is removed by the host, or whose room closes.
//!
//! Durable changes (invites, speakers, removals, closing) go through the
//! repository before the actor answers or publishes; live membership, hands
//! and history are memory only. Every observable change is one [`RoomEvent`]
//! with the next `seq`, fanned out to the attached connections without waiting
//! (see [`crate::outbound`]).
//!
//! [`Rooms`] finds the actor of a room, starting it from the database when the
//! room is open and none runs (after a restart, or after it went idle).
//!
//! Two ways to number events, one actor: on one node the actor is the room's
//! authority and numbers events itself ([`RoomActor::commit`], seqs reserved
//! in blocks in the database). With Redis ([`shared`]) every node's actor is a
//! replica: changes are proposed to Redis, which numbers and publishes them,
//! and every replica applies what comes back ([`replica`]). Both paths end in
//! [`RoomActor::apply`], the one place where an event changes the state and
//! reaches the sockets. Handlers live in [`handlers`].

pub mod frames;
mod handlers;
pub mod history;
mod members_json;
mod replica;
pub mod shared;

pub use handlers::{
    Admit, Attach, ChangeSpeaker, Close, Detach, Invite, Leave, RemoveMember, Resume, SetHand,
    Snapshot, Watch,
};

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;

use crate::clock::SharedClock;
use crate::cluster::Cluster;
use crate::ids::{RoomId, Uid};
use crate::outbound::{cut_off, offer, ConnId, Frame, Offered, Outbound, Outbox};
use crate::registry::Registry;
use crate::repo::room::{GetRoom, LoadRoomRoles, ReserveSeqs, Room, RoomRoles};
use crate::repo::{Repo, RepoError};
use frames::{LeaveReason, MemberJson, RoomEvent, RoomStateJson};
use history::History;
use members_json::MembersJson;
use shared::SharedRoom;

/// An idle room actor (no member, no connection) stops after this long; it restarts on demand.
const IDLE_STOP_MS: i64 = 10 * 60 * 1000;
/// Sequence numbers reserved in the database per round trip.
const SEQ_BLOCK: i64 = 10_000;
/// Read-only watchers (share pages) one room accepts.
pub const MAX_WATCHERS: usize = 10_000;

/// Why a room refused.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// Unknown, or closed.
    #[error("room not found or closed")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The caller is not a live member (take a voice token first).
    #[error("not a member of this room: take a voice token first")]
    NotMember,
    /// The request makes no sense for this room.
    #[error("{0}")]
    BadRequest(&'static str),
    /// Persistence failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The actor is gone (shutting down).
    #[error("room actor unavailable: {0}")]
    Mailbox(#[from] MailboxError),
    /// Redis (shared rooms) is unreachable.
    #[error("live room state unavailable: {0}")]
    Unavailable(String),
}

/// Tunables of every room.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// A member with no connection leaves after this long (ms).
    pub grace_ms: i64,
    /// Events kept for `resume`.
    pub history_events: usize,
    /// Oldest event kept for `resume` (ms).
    pub history_ms: i64,
    /// How often grace periods are checked (real time).
    pub sweep_every: Duration,
}

impl Default for RoomSettings {
    fn default() -> Self {
        Self {
            grace_ms: 30_000,
            history_events: 256,
            history_ms: 300_000,
            sweep_every: Duration::from_secs(1),
        }
    }
}

/// What a member shows of themselves (taken when they ask for a token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberCard {
    /// Nickname.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: String,
}

/// A live member, as REST views need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMember {
    /// Who.
    pub uid: Uid,
    /// May speak (`allowLive`).
    pub allow_live: bool,
    /// Hand raised.
    pub hand_raised: bool,
    /// When they joined (ms).
    pub joined_at: i64,
}

/// A room's state as a viewer may see it.
#[derive(Debug, Clone)]
pub struct RoomSnapshot {
    /// The durable room.
    pub room: Room,
    /// Live members, in join order (empty unless asked for).
    pub members: Vec<LiveMember>,
    /// The viewer is the host or was invited.
    pub viewer_invited: bool,
}

struct Member {
    card: MemberCard,
    hand_raised: bool,
    joined_at: i64,
    /// Admission order: the seq of their `room.member_joined`.
    order: i64,
    /// Their `room.member_joined` frame (re-registered if Redis loses it).
    join_frame: Frame,
    /// This member's connections attached to the room.
    conns: HashSet<ConnId>,
    /// Since when no connection is attached (`None` while one is).
    detached_since: Option<i64>,
}

struct Conn {
    uid: Uid,
    outbox: Outbox,
}

/// The live state of one open room (on one node, or this node's replica of a
/// shared room).
pub struct RoomActor {
    room: Room,
    invitees: HashSet<Uid>,
    speakers: HashSet<Uid>,
    removed: HashSet<Uid>,
    members: HashMap<Uid, Member>,
    conns: HashMap<ConnId, Conn>,
    /// Read-only connections (H5 share pages): they get every event, and are
    /// not members.
    watchers: HashMap<ConnId, Outbox>,
    /// The last seq applied.
    seq: i64,
    /// seqs up to this bound are reserved for this actor (one node).
    seq_bound: i64,
    /// A reservation is in flight (one node).
    reserving: bool,
    history: History,
    settings: RoomSettings,
    last_active: i64,
    repo: Repo,
    clock: SharedClock,
    registry: Registry<RoomId, RoomActor>,
    /// Set when the room is shared through Redis.
    shared: Option<SharedRoom>,
    /// `members` as JSON text, for snapshots.
    members_json: MembersJson,
}

impl RoomActor {
    fn may_enter(&self, uid: &Uid) -> bool {
        !self.room.invite_only || self.room.uid == *uid || self.invitees.contains(uid)
    }

    fn allow_live(&self, uid: &Uid) -> bool {
        self.room.uid == *uid || self.speakers.contains(uid)
    }

    fn is_open(&self) -> Result<(), RoomError> {
        if self.room.closed_at.is_some() {
            Err(RoomError::NotFound)
        } else {
            Ok(())
        }
    }

    fn host_only(&self, by: &Uid, what: &'static str) -> Result<(), RoomError> {
        self.is_open()?;
        if self.room.uid != *by {
            return Err(RoomError::Forbidden(what));
        }
        Ok(())
    }

    fn member_json(&self, uid: &Uid, m: &Member) -> MemberJson {
        MemberJson {
            uid: uid.clone(),
            nickname: m.card.nickname.clone(),
            avatar: m.card.avatar.clone(),
            allow_live: u8::from(self.allow_live(uid)),
            hand_raised: u8::from(m.hand_raised),
            joined_at: m.joined_at,
        }
    }

    fn live_member(&self, uid: &Uid) -> Option<LiveMember> {
        self.members.get(uid).map(|m| LiveMember {
            uid: uid.clone(),
            allow_live: self.allow_live(uid),
            hand_raised: m.hand_raised,
            joined_at: m.joined_at,
        })
    }

    fn ordered_members(&self) -> Vec<(&Uid, &Member)> {
        let mut members: Vec<(&Uid, &Member)> = self.members.iter().collect();
        members.sort_by_key(|(_, m)| m.order);
        members
    }

    fn state_json(&mut self) -> RoomStateJson {
        let mut list = std::mem::take(&mut self.members_json);
        let members = list.array(self.seq, || {
            self.ordered_members()
                .into_iter()
                .map(|(uid, m)| self.member_json(uid, m))
                .collect()
        });
        self.members_json = list;
        RoomStateJson::new(&self.room, members)
    }

    /// The join event of a new member `uid` now.
    fn join_event(&self, uid: &Uid, card: &MemberCard, now: i64) -> RoomEvent {
        RoomEvent::MemberJoined {
            member: MemberJson {
                uid: uid.clone(),
                nickname: card.nickname.clone(),
                avatar: card.avatar.clone(),
                allow_live: u8::from(self.allow_live(uid)),
                hand_raised: 0,
                joined_at: now,
            },
        }
    }

    /// One node: numbers `event` with the next seq and applies it.
    fn commit(&mut self, ctx: &mut Context<Self>, event: RoomEvent) {
        let seq = self.seq + 1;
        let now = self.clock.now_ms();
        let frame = frames::event_frame(&self.room.room_id, seq, now, &event);
        self.apply(ctx, seq, now, event, frame);
        if !self.reserving && self.seq_bound - self.seq < SEQ_BLOCK / 2 {
            self.reserve_seqs(ctx, false);
        }
    }

    /// Event `seq` happened: the state changes and every connection hears it.
    /// The one place where both paths (local commit, shared replica) meet.
    fn apply(
        &mut self,
        ctx: &mut Context<Self>,
        seq: i64,
        ts: i64,
        event: RoomEvent,
        frame: Frame,
    ) {
        self.seq = seq;
        self.last_active = self.clock.now_ms();
        self.history.push(seq, ts, frame.clone());
        match &event {
            RoomEvent::MemberJoined { member } => {
                let is_new = !self.members.contains_key(&member.uid);
                let m = self
                    .members
                    .entry(member.uid.clone())
                    .or_insert_with(|| Member {
                        card: MemberCard::default(),
                        hand_raised: false,
                        joined_at: member.joined_at,
                        order: seq,
                        conns: HashSet::new(),
                        detached_since: Some(ts),
                        join_frame: frame.clone(),
                    });
                m.card = MemberCard {
                    nickname: member.nickname.clone(),
                    avatar: member.avatar.clone(),
                };
                m.joined_at = member.joined_at;
                m.order = seq;
                m.hand_raised = member.hand_raised != 0;
                m.join_frame = frame.clone();
                if is_new {
                    let json = self.member_json(&member.uid, &self.members[&member.uid]);
                    self.members_json.appended(seq, &json);
                }
            }
            RoomEvent::HandRaised { uid } | RoomEvent::HandLowered { uid } => {
                let raised = matches!(event, RoomEvent::HandRaised { .. });
                if let Some(m) = self.members.get_mut(uid) {
                    m.hand_raised = raised;
                }
            }
            RoomEvent::SpeakerAdded { uid } => {
                self.speakers.insert(uid.clone());
                if let Some(m) = self.members.get_mut(uid) {
                    m.hand_raised = false;
                }
            }
            RoomEvent::SpeakerRemoved { uid } => {
                self.speakers.remove(uid);
            }
            RoomEvent::MemberLeft { .. }
            | RoomEvent::MemberRemoved { .. }
            | RoomEvent::Closed { .. } => {}
        }
        // Leavers' own connections hear it too, before they are detached.
        self.fan_out(&frame);
        match event {
            RoomEvent::MemberLeft { uid, .. } => {
                self.drop_member(&uid);
            }
            RoomEvent::MemberRemoved { uid, .. } => {
                self.removed.insert(uid.clone());
                self.speakers.remove(&uid);
                self.drop_member(&uid);
            }
            RoomEvent::Closed { .. } => {
                self.room.closed_at = Some(ts);
                self.close_locally(ctx);
            }
            _ => {}
        }
    }

    /// Sends `frame` to every connection and watcher; full queues are cut off.
    fn fan_out(&mut self, frame: &Frame) {
        let mut failed = Vec::new();
        for (conn, outbox) in self
            .conns
            .iter()
            .map(|(conn, c)| (conn, &c.outbox))
            .chain(self.watchers.iter())
        {
            match offer(outbox, Outbound::Frame(frame.clone())) {
                Offered::Queued => {}
                outcome => failed.push((*conn, outcome)),
            }
        }
        for (conn, outcome) in failed {
            self.dropped(conn, outcome);
        }
    }

    /// The room closed: every member and watcher is detached, the actor stops.
    fn close_locally(&mut self, ctx: &mut Context<Self>) {
        let uids: Vec<Uid> = self.members.keys().cloned().collect();
        for uid in uids {
            self.drop_member(&uid);
        }
        for (_, outbox) in self.watchers.drain() {
            let _ = offer(
                &outbox,
                Outbound::Detached {
                    room_id: self.room.room_id.clone(),
                },
            );
        }
        ctx.stop();
    }

    /// Queues `msg` for one connection; a full queue cuts the connection off.
    fn send(&mut self, conn: ConnId, msg: Outbound) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match offer(&c.outbox, msg) {
            Offered::Queued => {}
            outcome => self.dropped(conn, outcome),
        }
    }

    /// A connection could not take a frame: a full queue cuts it off (4008),
    /// a closed one is gone; either way the room forgets it.
    fn dropped(&mut self, conn: ConnId, outcome: Offered) {
        if outcome == Offered::Full {
            let outbox = self
                .conns
                .get(&conn)
                .map(|c| &c.outbox)
                .or_else(|| self.watchers.get(&conn));
            if let Some(outbox) = outbox {
                tracing::info!(room = %self.room.room_id, conn = conn.get(), "slow consumer cut off");
                cut_off(outbox);
            }
        }
        self.detach(conn);
    }

    /// Forgets a connection; its member starts the grace period if it was their last.
    fn detach(&mut self, conn: ConnId) {
        if self.watchers.remove(&conn).is_some() {
            return;
        }
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&c.uid) {
            m.conns.remove(&conn);
            if m.conns.is_empty() && m.detached_since.is_none() {
                m.detached_since = Some(self.clock.now_ms());
            }
        }
    }

    /// Drops a member and tells their connections they are out of the room.
    fn drop_member(&mut self, uid: &Uid) -> bool {
        let Some(member) = self.members.remove(uid) else {
            return false;
        };
        for conn in member.conns {
            if let Some(c) = self.conns.remove(&conn) {
                let _ = offer(
                    &c.outbox,
                    Outbound::Detached {
                        room_id: self.room.room_id.clone(),
                    },
                );
            }
        }
        true
    }

    /// One node: members whose grace period is over leave. (Shared rooms
    /// sweep in Redis, see [`replica`].)
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        if self.shared.is_some() {
            return;
        }
        let deadline = self.clock.now_ms() - self.settings.grace_ms;
        let gone: Vec<Uid> = self
            .members
            .iter()
            .filter(|(_, m)| m.detached_since.is_some_and(|t| t <= deadline))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in gone {
            self.commit(
                ctx,
                RoomEvent::MemberLeft {
                    uid,
                    reason: LeaveReason::Timeout,
                },
            );
        }
    }

    fn attach(&mut self, conn: ConnId, uid: &Uid, outbox: Outbox) -> Result<(), RoomError> {
        self.is_open()?;
        if self.removed.contains(uid) {
            return Err(RoomError::Forbidden("the host removed you from this room"));
        }
        let member = self.members.get_mut(uid).ok_or(RoomError::NotMember)?;
        member.conns.insert(conn);
        member.detached_since = None;
        self.conns.insert(
            conn,
            Conn {
                uid: uid.clone(),
                outbox,
            },
        );
        self.last_active = self.clock.now_ms();
        Ok(())
    }

    fn reserve_seqs(&mut self, ctx: &mut Context<Self>, first: bool) {
        self.reserving = true;
        let repo = self.repo.clone();
        let reserve = ReserveSeqs {
            room_id: self.room.room_id.clone(),
            block: SEQ_BLOCK,
        };
        let done = async move { repo.run(reserve).await }.into_actor(self).map(
            move |result, act, ctx| {
                act.reserving = false;
                match result {
                    Ok(bound) => {
                        if bound - SEQ_BLOCK != act.seq_bound {
                            // Not right after the numbers we hold (first block,
                            // or another owner reserved meanwhile): continue
                            // from the start of the new block.
                            act.seq = act.seq.max(bound - SEQ_BLOCK);
                        }
                        act.seq_bound = bound;
                    }
                    Err(e) if first => {
                        tracing::error!(room = %act.room.room_id, error = %e, "cannot reserve event numbers; stopping the room actor");
                        ctx.stop();
                    }
                    Err(e) => {
                        tracing::warn!(room = %act.room.room_id, error = %e, "cannot reserve more event numbers yet");
                    }
                }
            },
        );
        if first {
            // Nothing is handled before the first block is known.
            ctx.wait(done);
        } else {
            ctx.spawn(done);
        }
    }

    /// No connection, watcher (and, on one node, member) for the idle time.
    fn idle(&self, now: i64) -> bool {
        (self.shared.is_some() || self.members.is_empty())
            && self.conns.is_empty()
            && self.watchers.is_empty()
            && now - self.last_active > IDLE_STOP_MS
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.shared.is_some() {
            self.start_replica(ctx);
        } else {
            self.reserve_seqs(ctx, true);
        }
        ctx.run_interval(self.settings.sweep_every, |act, ctx| {
            if act.shared.is_some() {
                act.tick(ctx);
            } else {
                act.sweep(ctx);
            }
            if act.idle(act.clock.now_ms()) {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.remove(&self.room.room_id, &ctx.address());
        if let Some(shared) = &self.shared {
            shared.cluster().unregister_room(&self.room.room_id);
            shared
                .cluster()
                .subscriptions()
                .release(shared.channel().to_owned());
        }
    }
}

/// Finds or starts room actors.
#[derive(Clone)]
pub struct Rooms {
    registry: Registry<RoomId, RoomActor>,
    repo: Repo,
    clock: SharedClock,
    settings: RoomSettings,
    cluster: Option<Cluster>,
}

impl Rooms {
    /// Room actors on `arbiters` threads.
    pub fn new(repo: Repo, clock: SharedClock, settings: RoomSettings, arbiters: usize) -> Self {
        Self {
            registry: Registry::new(arbiters),
            repo,
            clock,
            settings,
            cluster: None,
        }
    }

    /// Rooms shared by every node on `cluster` (see [`shared`]).
    pub fn with_cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// Stops every actor and its threads (shutdown).
    pub fn stop(&self) {
        self.registry.stop();
    }

    /// The actor of an open room, started from the database if needed;
    /// `NotFound` for unknown or closed rooms.
    pub async fn open(&self, room_id: &RoomId) -> Result<Addr<RoomActor>, RoomError> {
        if let Some(addr) = self.registry.running(room_id) {
            return Ok(addr);
        }
        if self.cluster.as_ref().is_some_and(|c| !c.is_up()) {
            return Err(RoomError::Unavailable("redis is unreachable".into()));
        }
        let room = self
            .repo
            .run(GetRoom {
                room_id: room_id.clone(),
            })
            .await?
            .filter(|r| r.closed_at.is_none())
            .ok_or(RoomError::NotFound)?;
        let roles = self
            .repo
            .run(LoadRoomRoles {
                room_id: room_id.clone(),
            })
            .await?;
        Ok(self.start(room, roles))
    }

    /// Starts the actor of a room (just created, or loaded with its roles).
    pub fn start(&self, room: Room, roles: RoomRoles) -> Addr<RoomActor> {
        let (repo, clock, registry, settings) = (
            self.repo.clone(),
            self.clock.clone(),
            self.registry.clone(),
            self.settings.clone(),
        );
        let shared = self
            .cluster
            .clone()
            .map(|cluster| SharedRoom::new(cluster, room.room_id.clone(), settings.history_events));
        let now = clock.now_ms();
        self.registry
            .get_or_start(room.room_id.clone(), move || RoomActor {
                room,
                invitees: roles.invitees.into_iter().collect(),
                speakers: roles.speakers.into_iter().collect(),
                removed: roles.removed.into_iter().collect(),
                members: HashMap::new(),
                members_json: MembersJson::default(),
                conns: HashMap::new(),
                watchers: HashMap::new(),
                seq: 0,
                seq_bound: 0,
                reserving: false,
                history: History::new(settings.history_events, settings.history_ms),
                settings,
                last_active: now,
                repo,
                clock,
                registry,
                shared,
            })
    }

    /// The live members of a room whose actor runs (none otherwise), for lists.
    /// Shared rooms start their replica here (their members may be on other nodes).
    pub async fn live_snapshot(&self, room_id: &RoomId, viewer: &Uid) -> Option<RoomSnapshot> {
        let addr = match &self.cluster {
            Some(_) => self.open(room_id).await.ok()?,
            None => self.registry.running(room_id)?,
        };
        addr.send(Snapshot {
            viewer: viewer.clone(),
            members: true,
        })
        .await
        .ok()?
        .ok()
    }

    /// Sends `msg` to the open room's actor, restarting it once if it stopped meanwhile.
    pub async fn ask<M, T>(&self, room_id: &RoomId, msg: M) -> Result<T, RoomError>
    where
        M: Message<Result = Result<T, RoomError>> + Send + Clone + 'static,
        T: Send + 'static,
        RoomActor: Handler<M>,
    {
        let addr = self.open(room_id).await?;
        match addr.send(msg.clone()).await {
            Ok(result) => result,
            Err(MailboxError::Closed) => self.open(room_id).await?.send(msg).await?,
            Err(e) => Err(e.into()),
        }
    }
}
