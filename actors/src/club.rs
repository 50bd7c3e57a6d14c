//! One [`ClubActor`] per active club: joins and leaves of a club go through it
//! in order, are persisted (the member count changes atomically in the same
//! transaction), and are published on the bus with the new member count.

use std::time::Duration;

use actix::prelude::*;

use crate::bus::{Bus, Notification};
use crate::clock::SharedClock;
use crate::ids::{ClubId, Uid};
use crate::registry::Registry;
use crate::repo::club::{Club, JoinClub, LeaveClub};
use crate::repo::{Repo, RepoResult};

const IDLE_STOP: Duration = Duration::from_secs(10 * 60);

/// The live side of one club.
pub struct ClubActor {
    club_id: ClubId,
    /// Last known member count (the database is the truth).
    member_total: Option<i64>,
    repo: Repo,
    clock: SharedClock,
    bus: Bus,
    registry: Registry<ClubId, ClubActor>,
    idle_timer: Option<SpawnHandle>,
}

impl ClubActor {
    fn touch(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.idle_timer.take() {
            ctx.cancel_future(timer);
        }
        self.idle_timer = Some(ctx.run_later(IDLE_STOP, |_, ctx| ctx.stop()));
    }
}

impl Actor for ClubActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.touch(ctx);
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.remove(&self.club_id, &ctx.address());
    }
}

/// `uid` joins. `None` when the club does not exist.
#[derive(Message, Debug, Clone)]
#[rtype(result = "RepoResult<Option<Club>>")]
pub struct Join {
    /// Who.
    pub uid: Uid,
}

impl Handler<Join> for ClubActor {
    type Result = AtomicResponse<Self, RepoResult<Option<Club>>>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        self.touch(ctx);
        let repo = self.repo.clone();
        let persist = JoinClub {
            club_id: self.club_id.clone(),
            uid: msg.uid.clone(),
            now: self.clock.now_ms(),
        };
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .map(move |result, act, _| {
                    let Some((club, added)) = result? else {
                        return Ok(None);
                    };
                    act.member_total = Some(club.member_total);
                    if added {
                        act.bus.publish(Notification::ClubMemberJoined {
                            club_id: club.club_id.clone(),
                            uid: msg.uid,
                            member_total: club.member_total,
                        });
                    }
                    Ok(Some(club))
                }),
        ))
    }
}

/// `uid` leaves. `None` when the club does not exist.
#[derive(Message, Debug, Clone)]
#[rtype(result = "RepoResult<Option<()>>")]
pub struct Leave {
    /// Who.
    pub uid: Uid,
}

impl Handler<Leave> for ClubActor {
    type Result = AtomicResponse<Self, RepoResult<Option<()>>>;

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) -> Self::Result {
        self.touch(ctx);
        let repo = self.repo.clone();
        let persist = LeaveClub {
            club_id: self.club_id.clone(),
            uid: msg.uid.clone(),
        };
        AtomicResponse::new(Box::pin(
            async move { repo.run(persist).await }
                .into_actor(self)
                .map(move |result, act, _| {
                    let Some(removed) = result? else {
                        return Ok(None);
                    };
                    if removed {
                        let total = act.member_total.map(|n| n - 1).unwrap_or(0).max(0);
                        act.member_total = Some(total);
                        act.bus.publish(Notification::ClubMemberLeft {
                            club_id: act.club_id.clone(),
                            uid: msg.uid,
                            member_total: total,
                        });
                    }
                    Ok(Some(()))
                }),
        ))
    }
}

/// Finds or starts club actors.
#[derive(Clone)]
pub struct Clubs {
    registry: Registry<ClubId, ClubActor>,
    repo: Repo,
    clock: SharedClock,
    bus: Bus,
}

impl Clubs {
    /// Stops every actor and its threads (shutdown).
    pub fn stop(&self) {
        self.registry.stop();
    }

    /// Club actors on `arbiters` threads.
    pub fn new(repo: Repo, clock: SharedClock, bus: Bus, arbiters: usize) -> Self {
        Self {
            registry: Registry::new(arbiters),
            repo,
            clock,
            bus,
        }
    }

    fn actor(&self, club_id: &ClubId) -> Addr<ClubActor> {
        let (id, repo, clock, bus, registry) = (
            club_id.clone(),
            self.repo.clone(),
            self.clock.clone(),
            self.bus.clone(),
            self.registry.clone(),
        );
        self.registry
            .get_or_start(club_id.clone(), move || ClubActor {
                club_id: id,
                member_total: None,
                repo,
                clock,
                bus,
                registry,
                idle_timer: None,
            })
    }

    /// `uid` joins `club_id`; `None` when the club does not exist.
    pub async fn join(&self, club_id: &ClubId, uid: &Uid) -> RepoResult<Option<Club>> {
        self.actor(club_id).send(Join { uid: uid.clone() }).await?
    }

    /// `uid` leaves `club_id`; `None` when the club does not exist.
    pub async fn leave(&self, club_id: &ClubId, uid: &Uid) -> RepoResult<Option<()>> {
        self.actor(club_id).send(Leave { uid: uid.clone() }).await?
    }
}
