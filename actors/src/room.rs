//! One [`RoomActor`] per open room holds its live state: who is in it now, who
//! may speak, who was invited. Durable changes (invites, closing) go through the
//! repository before the actor answers; live membership is memory only.
//!
//! [`Rooms`] finds the actor of a room, starting it from the database when the
//! room is open and none runs (after a restart, or after it went idle).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix::prelude::*;

use crate::bus::{Bus, Notification};
use crate::clock::SharedClock;
use crate::ids::{RoomId, Uid};
use crate::registry::Registry;
use crate::repo::room::{AddInvite, CloseRoom, GetRoom, Room, RoomInvitees};
use crate::repo::{Repo, RepoError};

/// An idle room actor (no live member) stops after this long; it restarts on demand.
const IDLE_STOP_MS: i64 = 10 * 60 * 1000;
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(30);

/// Why a room refused.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// Unknown, or closed.
    #[error("room not found or closed")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Persistence failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The actor is gone (shutting down).
    #[error("room actor unavailable: {0}")]
    Mailbox(#[from] MailboxError),
}

/// A live member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMember {
    /// Who.
    pub uid: Uid,
    /// May speak (`allowLive`).
    pub allow_live: bool,
    /// When they joined (ms).
    pub joined_at: i64,
    /// Membership ends then unless renewed (ms).
    pub expires_at: i64,
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

/// The live state of one open room.
pub struct RoomActor {
    room: Room,
    invitees: HashSet<Uid>,
    speakers: HashSet<Uid>,
    members: HashMap<Uid, LiveMember>,
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

    fn prune(&mut self, now: i64) {
        self.members.retain(|_, m| m.expires_at > now);
    }

    fn allow_live(&self, uid: &Uid) -> bool {
        self.room.uid == *uid || self.speakers.contains(uid)
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HOUSEKEEPING_EVERY, |act, ctx| {
            let now = act.clock.now_ms();
            act.prune(now);
            if act.members.is_empty() && now - act.last_active > IDLE_STOP_MS {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.remove(&self.room.room_id, &ctx.address());
    }
}

/// Admits `uid` as a live member until `now + ttl_ms` (a voice token was issued).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<LiveMember, RoomError>")]
pub struct Admit {
    /// Who.
    pub uid: Uid,
    /// Membership lifetime (the token's).
    pub ttl_ms: i64,
}

impl Handler<Admit> for RoomActor {
    type Result = Result<LiveMember, RoomError>;

    fn handle(&mut self, msg: Admit, _: &mut Self::Context) -> Self::Result {
        if self.room.closed_at.is_some() {
            return Err(RoomError::NotFound);
        }
        if !self.may_enter(&msg.uid) {
            return Err(RoomError::Forbidden("this room is invite-only"));
        }
        let now = self.clock.now_ms();
        self.last_active = now;
        self.prune(now);
        let allow_live = self.allow_live(&msg.uid);
        let member = self
            .members
            .entry(msg.uid.clone())
            .or_insert_with(|| LiveMember {
                uid: msg.uid,
                allow_live,
                joined_at: now,
                expires_at: now,
            });
        member.expires_at = now + msg.ttl_ms;
        member.allow_live = allow_live;
        Ok(member.clone())
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

    fn handle(&mut self, msg: Snapshot, _: &mut Self::Context) -> Self::Result {
        if self.room.closed_at.is_some() {
            return Err(RoomError::NotFound);
        }
        self.prune(self.clock.now_ms());
        let mut members: Vec<LiveMember> = self.members.values().cloned().collect();
        members.sort_by(|a, b| {
            a.joined_at
                .cmp(&b.joined_at)
                .then_with(|| a.uid.cmp(&b.uid))
        });
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

    fn handle(&mut self, msg: Invite, _: &mut Self::Context) -> Self::Result {
        let now = self.clock.now_ms();
        self.prune(now);
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

/// The host closes the room: persisted, members removed, the actor stops.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), RoomError>")]
pub struct Close {
    /// Who asks.
    pub by: Uid,
}

impl Handler<Close> for RoomActor {
    type Result = ResponseActFuture<Self, Result<(), RoomError>>;

    fn handle(&mut self, msg: Close, _: &mut Self::Context) -> Self::Result {
        if self.room.closed_at.is_some() {
            return Box::pin(fut::ready(Err(RoomError::NotFound)));
        }
        if self.room.uid != msg.by {
            return Box::pin(fut::ready(Err(RoomError::Forbidden(
                "only the host can close the room",
            ))));
        }
        let now = self.clock.now_ms();
        let repo = self.repo.clone();
        let persist = CloseRoom {
            room_id: self.room.room_id.clone(),
            now,
        };
        Box::pin(async move { repo.run(persist).await }.into_actor(self).map(
            move |result, act, ctx| {
                result?;
                act.room.closed_at = Some(now);
                act.members.clear();
                act.bus.publish(Notification::RoomClosed {
                    room_id: act.room.room_id.clone(),
                });
                ctx.stop();
                Ok(())
            },
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
}

impl Rooms {
    /// Stops every actor and its threads (shutdown).
    pub fn stop(&self) {
        self.registry.stop();
    }

    /// Room actors on `arbiters` threads.
    pub fn new(repo: Repo, clock: SharedClock, bus: Bus, arbiters: usize) -> Self {
        Self {
            registry: Registry::new(arbiters),
            repo,
            clock,
            bus,
        }
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
        let invitees = self
            .repo
            .run(RoomInvitees {
                room_id: room_id.clone(),
            })
            .await?;
        Ok(self.start(room, invitees.into_iter().collect()))
    }

    /// Starts the actor of a room just created.
    pub fn start(&self, room: Room, invitees: HashSet<Uid>) -> Addr<RoomActor> {
        let (repo, clock, bus, registry) = (
            self.repo.clone(),
            self.clock.clone(),
            self.bus.clone(),
            self.registry.clone(),
        );
        let now = clock.now_ms();
        self.registry
            .get_or_start(room.room_id.clone(), move || RoomActor {
                room,
                invitees,
                speakers: HashSet::new(),
                members: HashMap::new(),
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
