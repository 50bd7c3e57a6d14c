//! A room actor as the replica of a shared room (see [`super::shared`]):
//! loading from Redis when it starts, applying the frames of the room's
//! channel in seq order, reloading when it sees a gap, pushing its members'
//! presence deadlines every tick, and re-registering after a Redis outage.

use std::collections::{HashMap, HashSet};

use actix::prelude::*;

use super::frames::{self, RoomEvent};
use super::history::History;
use super::shared::{Loaded, Reseed};
use super::{Member, MemberCard, RoomActor, RoomError};
use crate::cluster::RoomWire;
use crate::ids::Uid;

impl RoomActor {
    /// Subscribes to the room's channel, then loads its state; nothing else
    /// is handled until both are done. A replica that cannot load stops.
    pub(super) fn start_replica(&mut self, ctx: &mut Context<Self>) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        shared
            .cluster()
            .register_room(self.room.room_id.clone(), ctx.address().recipient());
        let channel = shared.channel().to_owned();
        let load = async move {
            if !shared.cluster().subscriptions().acquire(channel).await {
                return Err(RoomError::Unavailable(
                    "cannot subscribe to the room's channel".into(),
                ));
            }
            shared.load().await
        };
        ctx.wait(load.into_actor(self).map(|loaded, act, ctx| {
            if !act.apply_loaded(
                ctx,
                loaded,
                "cannot load the shared room; stopping its replica",
            ) {
                ctx.stop();
            }
        }));
    }

    /// Replaces the live state by Redis's. Events this replica missed are
    /// sent to its connections when Redis still holds all of them; otherwise
    /// clients see the seq jump and `resume` (which answers with a snapshot).
    pub(super) fn apply_reload(&mut self, ctx: &mut Context<Self>, loaded: Loaded) {
        let old_seq = self.seq;
        let missed: Vec<_> = loaded
            .history
            .iter()
            .filter(|(seq, _, _)| *seq > old_seq)
            .cloned()
            .collect();
        let contiguous = missed
            .iter()
            .enumerate()
            .all(|(i, (seq, _, _))| *seq == old_seq + 1 + i as i64);
        for (_, _, frame) in &missed {
            match frames::parse_event(frame).map(|(_, _, e)| e) {
                Some(RoomEvent::SpeakerAdded { uid }) => {
                    self.speakers.insert(uid);
                }
                Some(RoomEvent::SpeakerRemoved { uid }) => {
                    self.speakers.remove(&uid);
                }
                Some(RoomEvent::MemberRemoved { uid, .. }) => {
                    self.removed.insert(uid);
                }
                _ => {}
            }
        }
        self.removed.extend(loaded.removed);
        let hands: HashSet<Uid> = loaded.hands.into_iter().collect();
        let now = self.clock.now_ms();
        let mut members = HashMap::new();
        for (seq, member, frame) in loaded.members {
            let previous = self.members.remove(&member.uid);
            let conns = previous.map(|m| m.conns).unwrap_or_default();
            members.insert(
                member.uid.clone(),
                Member {
                    card: MemberCard {
                        nickname: member.nickname,
                        avatar: member.avatar,
                    },
                    hand_raised: hands.contains(&member.uid),
                    joined_at: member.joined_at,
                    order: seq,
                    detached_since: conns.is_empty().then_some(now),
                    conns,
                    join_frame: frame,
                },
            );
        }
        // Whoever this replica had and Redis has not left meanwhile.
        let gone: Vec<Uid> = self.members.keys().cloned().collect();
        for uid in gone {
            self.drop_member(&uid);
        }
        self.members = members;
        self.members_json.invalidate();
        self.history = History::new(self.settings.history_events, self.settings.history_ms);
        for (seq, ts, frame) in loaded.history {
            self.history.push(seq, ts, frame);
        }
        if loaded.seq >= self.seq {
            self.seq = loaded.seq;
        }
        self.last_active = now;
        if contiguous {
            for (_, _, frame) in &missed {
                self.fan_out(frame);
            }
        }
        if loaded.closed {
            self.room.closed_at.get_or_insert(now);
            self.close_locally(ctx);
        }
    }

    /// Pushes the deadlines of the members connected here and sweeps the
    /// expired ones (their `room.member_left` comes back on the channel).
    pub(super) fn tick(&mut self, ctx: &mut Context<Self>) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        if !shared.cluster().is_up() {
            return;
        }
        let now = self.clock.now_ms();
        let deadline = now + self.settings.grace_ms;
        let present: Vec<Uid> = self
            .members
            .iter()
            .filter(|(_, m)| !m.conns.is_empty())
            .map(|(uid, _)| uid.clone())
            .collect();
        let room_id = self.room.room_id.clone();
        ctx.spawn(
            async move {
                if let Err(e) = shared.tick(now, deadline, &present).await {
                    tracing::debug!(room = %room_id, error = %e, "presence tick failed");
                }
            }
            .into_actor(self),
        );
    }

    /// Redis came back: re-register what this replica knows, then reload;
    /// `done` hears when it is over.
    fn resync(&mut self, ctx: &mut Context<Self>, done: tokio::sync::oneshot::Sender<()>) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let now = self.clock.now_ms();
        let reseed = Reseed {
            seq: self.seq,
            known: self
                .members
                .iter()
                .map(|(uid, m)| (uid.clone(), m.join_frame.clone()))
                .collect(),
            local: self
                .members
                .iter()
                .filter(|(_, m)| !m.conns.is_empty())
                .map(|(uid, m)| (uid.clone(), self.join_event(uid, &m.card, m.joined_at)))
                .collect(),
            removed: self.removed.iter().cloned().collect(),
        };
        let deadline = now + self.settings.grace_ms;
        let room_id = self.room.room_id.clone();
        ctx.wait(
            async move {
                let lost = shared.reseed(reseed, now, deadline).await?;
                if lost {
                    tracing::warn!(room = %room_id, "redis had lost this room's live state; restored it");
                }
                shared.load().await
            }
            .into_actor(self)
            .map(move |loaded, act, ctx| {
                act.apply_loaded(ctx, loaded, "resync failed; retried when redis is back");
                let _ = done.send(());
            }),
        );
    }

    /// Reloads when events were missed.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        ctx.wait(
            async move { shared.load().await }
                .into_actor(self)
                .map(|loaded, act, ctx| {
                    act.apply_loaded(ctx, loaded, "reload failed");
                }),
        );
    }

    /// Applies a load from Redis; logs `failure` and answers false when it failed.
    fn apply_loaded(
        &mut self,
        ctx: &mut Context<Self>,
        loaded: Result<Loaded, RoomError>,
        failure: &str,
    ) -> bool {
        match loaded {
            Ok(loaded) => {
                self.apply_reload(ctx, loaded);
                true
            }
            Err(e) => {
                tracing::warn!(room = %self.room.room_id, error = %e, "{failure}");
                false
            }
        }
    }
}

impl Handler<RoomWire> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: RoomWire, ctx: &mut Self::Context) {
        match msg {
            RoomWire::Payload(frame) => {
                let Some((seq, ts, event)) = frames::parse_event(&frame) else {
                    tracing::warn!(room = %self.room.room_id, "dropping a malformed room frame");
                    return;
                };
                if seq <= self.seq {
                    return;
                }
                if seq == self.seq + 1 {
                    self.apply(ctx, seq, ts, event, frame);
                } else {
                    tracing::debug!(room = %self.room.room_id, have = self.seq, got = seq, "missed room events; reloading");
                    self.reload(ctx);
                }
            }
            RoomWire::Resync(done) => self.resync(ctx, done),
        }
    }
}
