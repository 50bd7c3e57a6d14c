//! The messages a room answers. Each checks what it can on the actor's state,
//! persists durable changes first, then makes the event: numbered here on one
//! node ([`RoomActor::commit`]), proposed to Redis for a shared room
//! ([`SharedRoom::propose`]; the event comes back through the replica).

use std::future::Future;
use std::pin::Pin;

use actix::prelude::*;
use serde_json::Value;

use super::frames::{self, LeaveReason, RoomEvent};
use super::shared::{Op, Outcome, SharedRoom};
use super::{LiveMember, MemberCard, RoomActor, RoomError, RoomSnapshot, MAX_WATCHERS};
use crate::ids::Uid;
use crate::outbound::{ConnId, Frame, Outbound, Outbox};
use crate::repo::message::{Delivery, NewMessage};
use crate::repo::room::{AddInvite, CloseRoom, LoadRoomRoles, RemoveFromRoom, Room, SetSpeaker};
use crate::repo::{RepoActor, RepoResult};

type Reply<T> = ResponseActFuture<RoomActor, Result<T, RoomError>>;

fn ready<T: 'static>(result: Result<T, RoomError>) -> Reply<T> {
    Box::pin(fut::ready(result))
}

type Proposal = Pin<Box<dyn Future<Output = Result<Outcome, RoomError>>>>;

/// What a host's change answers (see [`RoomActor::persist_then`]).
type HostReply = AtomicResponse<RoomActor, Result<(), RoomError>>;

impl RoomActor {
    /// Proposes `event` (made by `op` on `uid`) to Redis.
    fn propose(&self, shared: &SharedRoom, op: Op, uid: &Uid, event: RoomEvent) -> Proposal {
        let shared = shared.clone();
        let uid = uid.clone();
        let now = self.clock.now_ms();
        let deadline = now + self.settings.grace_ms;
        Box::pin(async move { shared.propose(op, &uid, &event, now, deadline).await })
    }

    /// Makes `event` happen on either path; the reply is whether it changed anything.
    fn make(
        &mut self,
        ctx: &mut Context<Self>,
        op: Op,
        uid: &Uid,
        event: RoomEvent,
    ) -> Reply<bool> {
        match &self.shared {
            Some(shared) => Box::pin(
                self.propose(shared, op, uid, event)
                    .into_actor(self)
                    .map(|outcome, _, _| Ok(matches!(outcome?, Outcome::Applied(_)))),
            ),
            None => {
                self.commit(ctx, event);
                ready(Ok(true))
            }
        }
    }

    /// [`make`](Self::make), answering only whether it worked.
    fn make_quiet(
        &mut self,
        ctx: &mut Context<Self>,
        op: Op,
        uid: &Uid,
        event: RoomEvent,
    ) -> Reply<()> {
        Box::pin(self.make(ctx, op, uid, event).map(|r, _, _| r.map(drop)))
    }

    /// A host's change: writes `persist` (unless the checks that made it
    /// failed) through the repository, then `then` applies it and makes its
    /// event. A failed write changes nothing. The whole runs before the room
    /// handles another message.
    fn persist_then<M, T>(
        &mut self,
        persist: Result<M, RoomError>,
        then: impl FnOnce(&mut Self, &mut Context<Self>) -> Reply<()> + 'static,
    ) -> HostReply
    where
        M: Message<Result = RepoResult<T>> + Send + 'static,
        T: Send + 'static,
        RepoActor: Handler<M>,
    {
        let persist = match persist {
            Ok(persist) => persist,
            Err(e) => return AtomicResponse::new(ready(Err(e))),
        };
        let repo = self.repo.clone();
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .then(move |result, act, ctx| match result {
                    Ok(_) => then(act, ctx),
                    Err(e) => ready(Err(e.into())),
                }),
        ))
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

impl RoomActor {
    fn admit_checks(&self, uid: &Uid) -> Result<(), RoomError> {
        self.is_open()?;
        if self.removed.contains(uid) {
            return Err(RoomError::Forbidden("the host removed you from this room"));
        }
        if !self.may_enter(uid) {
            return Err(RoomError::Forbidden("this room is invite-only"));
        }
        Ok(())
    }

    fn admit_here(&mut self, ctx: &mut Context<Self>, msg: Admit) -> Result<LiveMember, RoomError> {
        self.admit_checks(&msg.uid)?;
        self.sweep(ctx);
        let now = self.clock.now_ms();
        self.last_active = now;
        if let Some(m) = self.members.get_mut(&msg.uid) {
            m.card = msg.card;
            self.members_json.invalidate();
            if m.conns.is_empty() {
                // A new token restarts the time to attach.
                m.detached_since = Some(now);
            }
        } else {
            let event = self.join_event(&msg.uid, &msg.card, now);
            self.commit(ctx, event);
        }
        self.live_member(&msg.uid).ok_or(RoomError::NotMember)
    }

    fn admit_shared(&mut self, shared: SharedRoom, msg: Admit) -> Reply<LiveMember> {
        // An invite made on another node may be newer than this replica's
        // roles: the database decides before refusing.
        let roles = (!self.may_enter(&msg.uid)).then(|| {
            let repo = self.repo.clone();
            let load = LoadRoomRoles {
                room_id: self.room.room_id.clone(),
            };
            async move { repo.run(load).await }
        });
        let refresh = async move {
            match roles {
                Some(load) => load.await.map(Some),
                None => Ok(None),
            }
        };
        Box::pin(refresh.into_actor(self).then(move |roles, act, _| {
            let checked = roles.map_err(RoomError::from).and_then(|roles| {
                if let Some(roles) = roles {
                    act.invitees.extend(roles.invitees);
                    act.removed.extend(roles.removed);
                }
                act.admit_checks(&msg.uid)
            });
            let proposal = checked.map(|()| {
                let now = act.clock.now_ms();
                let event = act.join_event(&msg.uid, &msg.card, now);
                (act.propose(&shared, Op::Join, &msg.uid, event), now)
            });
            async move {
                let (proposal, now) = proposal?;
                Ok::<_, RoomError>((proposal.await?, now))
            }
            .into_actor(act)
            .map(move |result, act, _| {
                let (_, now) = result?;
                Ok(act.live_member(&msg.uid).unwrap_or(LiveMember {
                    allow_live: act.allow_live(&msg.uid),
                    uid: msg.uid,
                    hand_raised: false,
                    joined_at: now,
                }))
            })
        }))
    }
}

impl Handler<Admit> for RoomActor {
    type Result = Reply<LiveMember>;

    fn handle(&mut self, msg: Admit, ctx: &mut Self::Context) -> Self::Result {
        match self.shared.clone() {
            Some(shared) => {
                if let Err(e) = self.is_open() {
                    return ready(Err(e));
                }
                self.admit_shared(shared, msg)
            }
            None => ready(self.admit_here(ctx, msg)),
        }
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

impl RoomActor {
    /// Runs `then` once this replica knows `uid` as a member: a member admitted
    /// on another node may not have reached this replica yet, so an unknown
    /// member makes it reload from Redis first.
    fn when_known<T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        uid: &Uid,
        then: impl FnOnce(&mut Self, &mut Context<Self>) -> Result<T, RoomError> + 'static,
    ) -> Reply<T> {
        self.sweep(ctx);
        match &self.shared {
            Some(shared) if !self.members.contains_key(uid) && self.room.closed_at.is_none() => {
                let shared = shared.clone();
                Box::pin(async move { shared.load().await }.into_actor(self).map(
                    move |loaded, act, ctx| {
                        act.apply_reload(ctx, loaded?);
                        then(act, ctx)
                    },
                ))
            }
            _ => ready(then(self, ctx)),
        }
    }
}

impl Handler<Attach> for RoomActor {
    type Result = Reply<()>;

    fn handle(&mut self, msg: Attach, ctx: &mut Self::Context) -> Self::Result {
        let uid = msg.uid.clone();
        self.when_known(ctx, &uid, move |act, _| {
            act.attach(msg.conn, &msg.uid, msg.outbox)?;
            let ack = frames::joined_frame(msg.request_id.as_ref(), act.seq, &act.state_json());
            act.send(msg.conn, Outbound::Frame(ack));
            Ok(())
        })
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
    type Result = Reply<()>;

    fn handle(&mut self, msg: Resume, ctx: &mut Self::Context) -> Self::Result {
        let uid = msg.uid.clone();
        self.when_known(ctx, &uid, move |act, _| {
            act.attach(msg.conn, &msg.uid, msg.outbox)?;
            let now = act.clock.now_ms();
            let reply = match act.history.since(msg.last_seq, act.seq, now) {
                Some(missed) => {
                    let mut frames: Vec<Frame> = Vec::with_capacity(missed.len() + 1);
                    frames.push(frames::resumed_frame(
                        msg.request_id.as_ref(),
                        &act.room.room_id,
                        act.seq,
                        missed.len(),
                    ));
                    frames.extend(missed);
                    Outbound::Frames(frames)
                }
                None => Outbound::Frame(frames::not_recovered_frame(
                    msg.request_id.as_ref(),
                    act.seq,
                    &act.state_json(),
                )),
            };
            act.send(msg.conn, reply);
            Ok(())
        })
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
    type Result = Reply<()>;

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.is_open() {
            return ready(Err(e));
        }
        if self.shared.is_none() && !self.members.contains_key(&msg.uid) {
            return ready(Err(RoomError::NotMember));
        }
        let event = RoomEvent::MemberLeft {
            uid: msg.uid.clone(),
            reason: LeaveReason::Left,
        };
        self.make_quiet(ctx, Op::Leave, &msg.uid, event)
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
    type Result = Reply<bool>;

    fn handle(&mut self, msg: SetHand, ctx: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.is_open() {
            return ready(Err(e));
        }
        if self.shared.is_none() {
            match self.members.get(&msg.uid) {
                None => return ready(Err(RoomError::NotMember)),
                Some(m) if m.hand_raised == msg.raised => return ready(Ok(false)),
                Some(_) => {}
            }
        }
        let uid = msg.uid.clone();
        let (op, event) = if msg.raised {
            (Op::HandUp, RoomEvent::HandRaised { uid })
        } else {
            (Op::HandDown, RoomEvent::HandLowered { uid })
        };
        self.make(ctx, op, &msg.uid, event)
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
    type Result = HostReply;

    fn handle(&mut self, msg: ChangeSpeaker, _: &mut Self::Context) -> Self::Result {
        let persist = self
            .host_only(&msg.by, "only the host can change who speaks")
            .and_then(|()| {
                if msg.uid == self.room.uid {
                    return Err(RoomError::BadRequest("the host always speaks"));
                }
                if msg.allowed && !self.members.contains_key(&msg.uid) {
                    return Err(RoomError::BadRequest("uid is not a member of this room"));
                }
                Ok(SetSpeaker {
                    room_id: self.room.room_id.clone(),
                    uid: msg.uid.clone(),
                    by: msg.by,
                    allowed: msg.allowed,
                    now: self.clock.now_ms(),
                })
            });
        self.persist_then(persist, move |act, ctx| {
            let uid = msg.uid;
            if msg.allowed == act.speakers.contains(&uid) {
                return ready(Ok(()));
            }
            let (op, event) = if msg.allowed {
                (Op::SpeakerOn, RoomEvent::SpeakerAdded { uid: uid.clone() })
            } else {
                (
                    Op::SpeakerOff,
                    RoomEvent::SpeakerRemoved { uid: uid.clone() },
                )
            };
            act.make_quiet(ctx, op, &uid, event)
        })
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
    type Result = HostReply;

    fn handle(&mut self, msg: RemoveMember, _: &mut Self::Context) -> Self::Result {
        let persist = self
            .host_only(&msg.by, "only the host can remove members")
            .and_then(|()| {
                if msg.uid == self.room.uid {
                    return Err(RoomError::BadRequest("the host cannot be removed"));
                }
                Ok(RemoveFromRoom {
                    room_id: self.room.room_id.clone(),
                    uid: msg.uid.clone(),
                    by: msg.by.clone(),
                    now: self.clock.now_ms(),
                })
            });
        self.persist_then(persist, move |act, ctx| {
            act.removed.insert(msg.uid.clone());
            act.speakers.remove(&msg.uid);
            if act.shared.is_none() && !act.members.contains_key(&msg.uid) {
                return ready(Ok(()));
            }
            let event = RoomEvent::MemberRemoved {
                uid: msg.uid.clone(),
                by: msg.by,
            };
            // The removed member's connections hear it too, then are detached.
            act.make_quiet(ctx, Op::Remove, &msg.uid, event)
        })
    }
}

/// The room as `viewer` may see it.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<RoomSnapshot, RoomError>")]
pub struct Snapshot {
    /// Who looks.
    pub viewer: Uid,
    /// Whether the live members are wanted (an empty list otherwise: a token
    /// or an invite only needs the room, and copying thousands of members
    /// for every token made a join storm quadratic).
    pub members: bool,
}

impl Handler<Snapshot> for RoomActor {
    type Result = Result<RoomSnapshot, RoomError>;

    fn handle(&mut self, msg: Snapshot, ctx: &mut Self::Context) -> Self::Result {
        self.is_open()?;
        self.sweep(ctx);
        let members = if msg.members {
            self.ordered_members()
                .into_iter()
                .filter_map(|(uid, _)| self.live_member(uid))
                .collect()
        } else {
            Vec::new()
        };
        Ok(RoomSnapshot {
            room: self.room.clone(),
            members,
            viewer_invited: self.room.uid == msg.viewer || self.invitees.contains(&msg.viewer),
        })
    }
}

/// `inviter` (the host or a live member) invites `invitee`. Persisted with
/// the invitee's inbox message before answering; answers the room and the
/// stored message.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(Room, Vec<Delivery>), RoomError>")]
pub struct Invite {
    /// Who invites.
    pub inviter: Uid,
    /// Whom.
    pub invitee: Uid,
    /// The message the invitee gets.
    pub notice: NewMessage,
}

impl Handler<Invite> for RoomActor {
    type Result = Reply<(Room, Vec<Delivery>)>;

    fn handle(&mut self, msg: Invite, ctx: &mut Self::Context) -> Self::Result {
        let uid = msg.inviter.clone();
        let invitee = msg.invitee.clone();
        let repo = self.repo.clone();
        let checked = self.when_known(ctx, &uid, move |act, _| {
            act.is_open()?;
            if act.room.uid != msg.inviter && !act.members.contains_key(&msg.inviter) {
                return Err(RoomError::Forbidden(
                    "only the host or a member in the room can invite",
                ));
            }
            let now = act.clock.now_ms();
            act.last_active = now;
            Ok(AddInvite {
                room_id: act.room.room_id.clone(),
                uid: msg.invitee.clone(),
                inviter: msg.inviter,
                notice: msg.notice,
                now,
            })
        });
        Box::pin(checked.then(move |persist, act, _| {
            async move { Ok(repo.run(persist?).await?) }
                .into_actor(act)
                .map(move |result: Result<Vec<Delivery>, RoomError>, act, _| {
                    let delivered = result?;
                    act.invitees.insert(invitee);
                    Ok((act.room.clone(), delivered))
                })
        }))
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
    type Result = HostReply;

    fn handle(&mut self, msg: Close, _: &mut Self::Context) -> Self::Result {
        let persist = self
            .host_only(&msg.by, "only the host can close the room")
            .map(|()| CloseRoom {
                room_id: self.room.room_id.clone(),
                now: self.clock.now_ms(),
            });
        self.persist_then(persist, move |act, ctx| {
            let by = msg.by.clone();
            act.make_quiet(ctx, Op::Close, &by, RoomEvent::Closed { by: msg.by })
        })
    }
}
