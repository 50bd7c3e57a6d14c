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

pub mod frames;
pub mod history;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;
use serde_json::Value;

use crate::bus::{Bus, Notification};
use crate::clock::SharedClock;
use crate::ids::{RoomId, Uid};
use crate::outbound::{cut_off, offer, ConnId, Frame, Offered, Outbound, Outbox};
use crate::registry::Registry;
use crate::repo::room::{
    AddInvite, CloseRoom, GetRoom, LoadRoomRoles, RemoveFromRoom, ReserveSeqs, Room, RoomRoles,
    SetSpeaker,
};
use crate::repo::{Repo, RepoError};
use frames::{LeaveReason, MemberJson, RoomEvent, RoomStateJson};
use history::History;

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
    /// Live members, in join order.
    pub members: Vec<LiveMember>,
    /// The viewer is the host or was invited.
    pub viewer_invited: bool,
}

struct Member {
    card: MemberCard,
    hand_raised: bool,
    joined_at: i64,
    /// Admission order (ties of `joined_at` keep it).
    order: u64,
    /// This member's connections attached to the room.
    conns: HashSet<ConnId>,
    /// Since when no connection is attached (`None` while one is).
    detached_since: Option<i64>,
}

struct Conn {
    uid: Uid,
    outbox: Outbox,
}

/// The live state of one open room.
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
    /// The last seq used.
    seq: i64,
    /// seqs up to this bound are reserved for this actor.
    seq_bound: i64,
    /// A reservation is in flight.
    reserving: bool,
    /// The next member's admission order.
    next_order: u64,
    history: History,
    settings: RoomSettings,
    last_active: i64,
    repo: Repo,
    clock: SharedClock,
    bus: Bus,
    registry: Registry<RoomId, RoomActor>,
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

    fn ordered_members(&self) -> Vec<(&Uid, &Member)> {
        let mut members: Vec<(&Uid, &Member)> = self.members.iter().collect();
        members.sort_by_key(|(_, m)| m.order);
        members
    }

    fn state_json(&self) -> RoomStateJson {
        let members = self
            .ordered_members()
            .into_iter()
            .map(|(uid, m)| self.member_json(uid, m))
            .collect();
        RoomStateJson::new(&self.room, members)
    }

    /// Stamps `event` with the next seq, records it and sends it to every connection.
    fn emit(&mut self, ctx: &mut Context<Self>, event: RoomEvent) {
        self.seq += 1;
        let now = self.clock.now_ms();
        self.last_active = now;
        let frame = frames::event_frame(&self.room.room_id, self.seq, now, &event);
        self.history.push(self.seq, now, frame.clone());
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
        if !self.reserving && self.seq_bound - self.seq < SEQ_BLOCK / 2 {
            self.reserve_seqs(ctx, false);
        }
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

    /// Members whose grace period is over leave.
    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let deadline = self.clock.now_ms() - self.settings.grace_ms;
        let gone: Vec<Uid> = self
            .members
            .iter()
            .filter(|(_, m)| m.detached_since.is_some_and(|t| t <= deadline))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in gone {
            self.drop_member(&uid);
            self.emit(
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
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.reserve_seqs(ctx, true);
        ctx.run_interval(self.settings.sweep_every, |act, ctx| {
            act.sweep(ctx);
            let now = act.clock.now_ms();
            if act.members.is_empty()
                && act.conns.is_empty()
                && act.watchers.is_empty()
                && now - act.last_active > IDLE_STOP_MS
            {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.remove(&self.room.room_id, &ctx.address());
    }
}

/// `uid` took a voice token: they are a member now (or still), with a grace
/// period to attach a connection. Refused when removed by the host.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<LiveMember, RoomError>")]
pub struct Admit {
    /// Who.
    pub uid: Uid,
    /// What they show.
    pub card: MemberCard,
}

impl Handler<Admit> for RoomActor {
    type Result = Result<LiveMember, RoomError>;

    fn handle(&mut self, msg: Admit, ctx: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        if self.removed.contains(&msg.uid) {
            return Err(RoomError::Forbidden("the host removed you from this room"));
        }
        if !self.may_enter(&msg.uid) {
            return Err(RoomError::Forbidden("this room is invite-only"));
        }
        self.sweep(ctx);
        let now = self.clock.now_ms();
        self.last_active = now;
        let allow_live = self.allow_live(&msg.uid);
        if let Some(m) = self.members.get_mut(&msg.uid) {
            m.card = msg.card;
            if m.conns.is_empty() {
                // A new token restarts the time to attach.
                m.detached_since = Some(now);
            }
            return Ok(LiveMember {
                uid: msg.uid,
                allow_live,
                hand_raised: m.hand_raised,
                joined_at: m.joined_at,
            });
        }
        let member = Member {
            card: msg.card,
            hand_raised: false,
            joined_at: now,
            order: self.next_order,
            conns: HashSet::new(),
            detached_since: Some(now),
        };
        self.next_order += 1;
        let json = self.member_json(&msg.uid, &member);
        self.members.insert(msg.uid.clone(), member);
        self.emit(ctx, RoomEvent::MemberJoined { member: json });
        Ok(LiveMember {
            uid: msg.uid,
            allow_live,
            hand_raised: false,
            joined_at: now,
        })
    }
}

/// A connection of member `uid` joins the room's stream; the room answers on
/// the outbox with the join ack (its state as of the current seq) before any
/// later event.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct Attach {
    /// The connection.
    pub conn: ConnId,
    /// Its user.
    pub uid: Uid,
    /// Where frames go.
    pub outbox: Outbox,
    /// The client's request id, echoed in the ack.
    pub request_id: Option<Value>,
}

impl Handler<Attach> for RoomActor {
    type Result = Result<(), RoomError>;

    fn handle(&mut self, msg: Attach, ctx: &mut Self::Context) -> Self::Result {
        self.sweep(ctx);
        self.attach(msg.conn, &msg.uid, msg.outbox)?;
        let ack = frames::joined_frame(msg.request_id.as_ref(), self.seq, &self.state_json());
        self.send(msg.conn, Outbound::Frame(ack));
        Ok(())
    }
}

/// Like [`Attach`], for a client that saw events up to `last_seq`: the room
/// replays what came after, or answers `recovered: false` with its state.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct Resume {
    /// The connection.
    pub conn: ConnId,
    /// Its user.
    pub uid: Uid,
    /// Where frames go.
    pub outbox: Outbox,
    /// The client's request id, echoed in the ack.
    pub request_id: Option<Value>,
    /// The last seq the client saw.
    pub last_seq: i64,
}

impl Handler<Resume> for RoomActor {
    type Result = Result<(), RoomError>;

    fn handle(&mut self, msg: Resume, ctx: &mut Self::Context) -> Self::Result {
        self.sweep(ctx);
        self.attach(msg.conn, &msg.uid, msg.outbox)?;
        let now = self.clock.now_ms();
        let reply = match self.history.since(msg.last_seq, self.seq, now) {
            Some(missed) => {
                let mut frames: Vec<Frame> = Vec::with_capacity(missed.len() + 1);
                frames.push(frames::resumed_frame(
                    msg.request_id.as_ref(),
                    &self.room.room_id,
                    self.seq,
                    missed.len(),
                ));
                frames.extend(missed);
                Outbound::Frames(frames)
            }
            None => Outbound::Frame(frames::not_recovered_frame(
                msg.request_id.as_ref(),
                self.seq,
                &self.state_json(),
            )),
        };
        self.send(msg.conn, reply);
        Ok(())
    }
}

/// A read-only connection (a share page) follows the room's events; answers
/// the last seq used, so the watcher knows where the stream starts.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<i64, RoomError>")]
pub struct Watch {
    /// The connection.
    pub conn: ConnId,
    /// Where its frames go.
    pub outbox: Outbox,
}

impl Handler<Watch> for RoomActor {
    type Result = Result<i64, RoomError>;

    fn handle(&mut self, msg: Watch, _: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        if self.watchers.len() >= MAX_WATCHERS && !self.watchers.contains_key(&msg.conn) {
            return Err(RoomError::Forbidden(
                "this room has too many viewers right now",
            ));
        }
        self.watchers.insert(msg.conn, msg.outbox);
        Ok(self.seq)
    }
}

/// A connection is gone (closed, timed out, failed): the room forgets it.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Detach {
    /// The connection.
    pub conn: ConnId,
}

impl Handler<Detach> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Detach, _: &mut Self::Context) {
        self.detach(msg.conn);
    }
}

/// `uid` leaves the room now (every connection of theirs is detached).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct Leave {
    /// Who.
    pub uid: Uid,
}

impl Handler<Leave> for RoomActor {
    type Result = Result<(), RoomError>;

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        if !self.members.contains_key(&msg.uid) {
            return Err(RoomError::NotMember);
        }
        // Everyone, the leaver's own connections included, hears it first.
        self.emit(
            ctx,
            RoomEvent::MemberLeft {
                uid: msg.uid.clone(),
                reason: LeaveReason::Left,
            },
        );
        self.drop_member(&msg.uid);
        Ok(())
    }
}

/// A member raises or lowers their hand; answers whether anything changed.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<bool, RoomError>")]
pub struct SetHand {
    /// Who.
    pub uid: Uid,
    /// Raised or lowered.
    pub raised: bool,
}

impl Handler<SetHand> for RoomActor {
    type Result = Result<bool, RoomError>;

    fn handle(&mut self, msg: SetHand, ctx: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        let member = self.members.get_mut(&msg.uid).ok_or(RoomError::NotMember)?;
        if member.hand_raised == msg.raised {
            return Ok(false);
        }
        member.hand_raised = msg.raised;
        let uid = msg.uid;
        self.emit(
            ctx,
            if msg.raised {
                RoomEvent::HandRaised { uid }
            } else {
                RoomEvent::HandLowered { uid }
            },
        );
        Ok(true)
    }
}

/// The host allows a member to speak, or stops allowing it. Persisted first.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct ChangeSpeaker {
    /// Who asks (must be the host).
    pub by: Uid,
    /// Whom.
    pub uid: Uid,
    /// May speak or not.
    pub allowed: bool,
}

impl Handler<ChangeSpeaker> for RoomActor {
    type Result = AtomicResponse<Self, Result<(), RoomError>>;

    fn handle(&mut self, msg: ChangeSpeaker, _: &mut Self::Context) -> Self::Result {
        let check = self
            .host_only(&msg.by, "only the host can change who speaks")
            .and_then(|()| {
                if msg.uid == self.room.uid {
                    return Err(RoomError::BadRequest("the host always speaks"));
                }
                if msg.allowed && !self.members.contains_key(&msg.uid) {
                    return Err(RoomError::BadRequest("uid is not a member of this room"));
                }
                Ok(())
            });
        if let Err(e) = check {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let repo = self.repo.clone();
        let persist = SetSpeaker {
            room_id: self.room.room_id.clone(),
            uid: msg.uid.clone(),
            by: msg.by,
            allowed: msg.allowed,
            now: self.clock.now_ms(),
        };
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    result?;
                    let uid = msg.uid;
                    if msg.allowed {
                        if !act.speakers.insert(uid.clone()) {
                            return Ok(());
                        }
                        if let Some(m) = act.members.get_mut(&uid) {
                            m.hand_raised = false;
                        }
                        act.emit(ctx, RoomEvent::SpeakerAdded { uid });
                    } else if act.speakers.remove(&uid) {
                        act.emit(ctx, RoomEvent::SpeakerRemoved { uid });
                    }
                    Ok(())
                }),
        ))
    }
}

/// The host removes `uid`: out of the room now, and refused a new token or join.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct RemoveMember {
    /// Who asks (must be the host).
    pub by: Uid,
    /// Whom.
    pub uid: Uid,
}

impl Handler<RemoveMember> for RoomActor {
    type Result = AtomicResponse<Self, Result<(), RoomError>>;

    fn handle(&mut self, msg: RemoveMember, _: &mut Self::Context) -> Self::Result {
        let check = self
            .host_only(&msg.by, "only the host can remove members")
            .and_then(|()| {
                if msg.uid == self.room.uid {
                    Err(RoomError::BadRequest("the host cannot be removed"))
                } else {
                    Ok(())
                }
            });
        if let Err(e) = check {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let repo = self.repo.clone();
        let persist = RemoveFromRoom {
            room_id: self.room.room_id.clone(),
            uid: msg.uid.clone(),
            by: msg.by.clone(),
            now: self.clock.now_ms(),
        };
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    result?;
                    act.removed.insert(msg.uid.clone());
                    act.speakers.remove(&msg.uid);
                    if act.members.contains_key(&msg.uid) {
                        // The removed member's connections hear it too, then are detached.
                        act.emit(
                            ctx,
                            RoomEvent::MemberRemoved {
                                uid: msg.uid.clone(),
                                by: msg.by,
                            },
                        );
                        act.drop_member(&msg.uid);
                    }
                    Ok(())
                }),
        ))
    }
}

/// The room as `viewer` may see it.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<RoomSnapshot, RoomError>")]
pub struct Snapshot {
    /// Who looks.
    pub viewer: Uid,
}

impl Handler<Snapshot> for RoomActor {
    type Result = Result<RoomSnapshot, RoomError>;

    fn handle(&mut self, msg: Snapshot, ctx: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        self.sweep(ctx);
        let members = self
            .ordered_members()
            .into_iter()
            .map(|(uid, m)| LiveMember {
                uid: uid.clone(),
                allow_live: self.allow_live(uid),
                hand_raised: m.hand_raised,
                joined_at: m.joined_at,
            })
            .collect();
        Ok(RoomSnapshot {
            room: self.room.clone(),
            members,
            viewer_invited: self.room.uid == msg.viewer || self.invitees.contains(&msg.viewer),
        })
    }
}

/// `inviter` (the host or a live member) invites `invitee`. Persisted before answering.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Room, RoomError>")]
pub struct Invite {
    /// Who invites.
    pub inviter: Uid,
    /// Whom.
    pub invitee: Uid,
}

impl Handler<Invite> for RoomActor {
    type Result = ResponseActFuture<Self, Result<Room, RoomError>>;

    fn handle(&mut self, msg: Invite, ctx: &mut Self::Context) -> Self::Result {
        self.sweep(ctx);
        let refusal = if self.room.closed_at.is_some() {
            Some(RoomError::NotFound)
        } else if self.room.uid != msg.inviter && !self.members.contains_key(&msg.inviter) {
            Some(RoomError::Forbidden(
                "only the host or a member in the room can invite",
            ))
        } else {
            None
        };
        if let Some(e) = refusal {
            return Box::pin(fut::ready(Err(e)));
        }
        let now = self.clock.now_ms();
        self.last_active = now;
        let repo = self.repo.clone();
        let persist = AddInvite {
            room_id: self.room.room_id.clone(),
            uid: msg.invitee.clone(),
            inviter: msg.inviter,
            now,
        };
        Box::pin(async move { repo.run(persist).await }.into_actor(self).map(
            move |result, act, _| {
                result?;
                act.invitees.insert(msg.invitee);
                Ok(act.room.clone())
            },
        ))
    }
}

/// The host closes the room: persisted, every connection told and detached,
/// the actor stops.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct Close {
    /// Who asks.
    pub by: Uid,
}

impl Handler<Close> for RoomActor {
    type Result = AtomicResponse<Self, Result<(), RoomError>>;

    fn handle(&mut self, msg: Close, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.host_only(&msg.by, "only the host can close the room") {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let now = self.clock.now_ms();
        let repo = self.repo.clone();
        let persist = CloseRoom {
            room_id: self.room.room_id.clone(),
            now,
        };
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .map(move |result, act, ctx| {
                    result?;
                    act.emit(ctx, RoomEvent::Closed { by: msg.by });
                    act.room.closed_at = Some(now);
                    let uids: Vec<Uid> = act.members.keys().cloned().collect();
                    for uid in uids {
                        act.drop_member(&uid);
                    }
                    for (_, outbox) in act.watchers.drain() {
                        let _ = offer(
                            &outbox,
                            Outbound::Detached {
                                room_id: act.room.room_id.clone(),
                            },
                        );
                    }
                    act.bus.publish(Notification::RoomClosed {
                        room_id: act.room.room_id.clone(),
                    });
                    ctx.stop();
                    Ok(())
                }),
        ))
    }
}

/// Finds or starts room actors.
#[derive(Clone)]
pub struct Rooms {
    registry: Registry<RoomId, RoomActor>,
    repo: Repo,
    clock: SharedClock,
    bus: Bus,
    settings: RoomSettings,
}

impl Rooms {
    /// Room actors on `arbiters` threads.
    pub fn new(
        repo: Repo,
        clock: SharedClock,
        bus: Bus,
        settings: RoomSettings,
        arbiters: usize,
    ) -> Self {
        Self {
            registry: Registry::new(arbiters),
            repo,
            clock,
            bus,
            settings,
        }
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
        let (repo, clock, bus, registry, settings) = (
            self.repo.clone(),
            self.clock.clone(),
            self.bus.clone(),
            self.registry.clone(),
            self.settings.clone(),
        );
        let now = clock.now_ms();
        self.registry
            .get_or_start(room.room_id.clone(), move || RoomActor {
                room,
                invitees: roles.invitees.into_iter().collect(),
                speakers: roles.speakers.into_iter().collect(),
                removed: roles.removed.into_iter().collect(),
                members: HashMap::new(),
                conns: HashMap::new(),
                watchers: HashMap::new(),
                seq: 0,
                seq_bound: 0,
                reserving: false,
                next_order: 0,
                history: History::new(settings.history_events, settings.history_ms),
                settings,
                last_active: now,
                repo,
                clock,
                bus,
                registry,
            })
    }

    /// The live members of a room whose actor runs (none otherwise), for lists.
    pub async fn live_snapshot(&self, room_id: &RoomId, viewer: &Uid) -> Option<RoomSnapshot> {
        let addr = self.registry.running(room_id)?;
        addr.send(Snapshot {
            viewer: viewer.clone(),
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
