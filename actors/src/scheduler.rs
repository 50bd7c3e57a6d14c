//! The event scheduler: one actor per node keeps every pending reminder in time
//! order and, on each tick of the injected clock, fires those that are due.
//! Firing is a conditional update in the database, so a reminder goes out
//! exactly once even with several nodes or after a restart.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use actix::prelude::*;

use crate::bus::{Bus, Notification};
use crate::clock::SharedClock;
use crate::ids::EventId;
use crate::notices;
use crate::repo::event::{FireReminder, PendingReminders};
use crate::repo::Repo;

/// Pending reminders, checked every `tick`.
pub struct EventScheduler {
    due: BTreeSet<(i64, EventId)>,
    times: HashMap<EventId, i64>,
    repo: Repo,
    clock: SharedClock,
    bus: Bus,
    tick: Duration,
}

impl EventScheduler {
    /// A scheduler checking every `tick` (real time) against `clock`.
    pub fn new(repo: Repo, clock: SharedClock, bus: Bus, tick: Duration) -> Self {
        Self {
            due: BTreeSet::new(),
            times: HashMap::new(),
            repo,
            clock,
            bus,
            tick,
        }
    }

    fn schedule(&mut self, event_id: EventId, at: i64) {
        self.unschedule(&event_id);
        self.due.insert((at, event_id.clone()));
        self.times.insert(event_id, at);
    }

    fn unschedule(&mut self, event_id: &EventId) {
        if let Some(at) = self.times.remove(event_id) {
            self.due.remove(&(at, event_id.clone()));
        }
    }

    fn fire_due(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now_ms();
        while let Some((at, event_id)) = self.due.first().cloned() {
            if at > now {
                break;
            }
            self.unschedule(&event_id);
            let repo = self.repo.clone();
            let fire = FireReminder {
                event_id: event_id.clone(),
                compose: notices::event_reminder,
                now,
            };
            ctx.spawn(async move { repo.run(fire).await }.into_actor(self).map(
                move |result, act, _| match result {
                    Ok(Some((event, deliveries))) => {
                        let recipients = deliveries.iter().map(|d| d.message.uid.clone()).collect();
                        for d in deliveries {
                            act.bus.publish(Notification::Message(d));
                        }
                        act.bus.publish(Notification::EventReminder {
                            event_id: event.event_id,
                            name: event.name,
                            event_time: event.event_time,
                            recipients,
                        });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(event = %event_id, error = %e, "reminder failed; retrying next tick");
                        if !act.times.contains_key(&event_id) {
                            act.schedule(event_id, at);
                        }
                    }
                },
            ));
        }
    }
}

impl Actor for EventScheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let repo = self.repo.clone();
        ctx.wait(
            async move { repo.run(PendingReminders).await }
                .into_actor(self)
                .map(|result, act, _| match result {
                    Ok(pending) => {
                        for (event_id, at) in pending {
                            act.schedule(event_id, at);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot load pending reminders"),
                }),
        );
        ctx.run_interval(self.tick, |act, ctx| act.fire_due(ctx));
    }
}

/// Arms (or re-arms) an event's reminder.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Schedule {
    /// Which event.
    pub event_id: EventId,
    /// When (ms).
    pub at: i64,
}

impl Handler<Schedule> for EventScheduler {
    type Result = ();
    fn handle(&mut self, msg: Schedule, _: &mut Self::Context) {
        self.schedule(msg.event_id, msg.at);
    }
}

/// Disarms an event's reminder (deleted).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Unschedule {
    /// Which event.
    pub event_id: EventId,
}

impl Handler<Unschedule> for EventScheduler {
    type Result = ();
    fn handle(&mut self, msg: Unschedule, _: &mut Self::Context) {
        self.unschedule(&msg.event_id);
    }
}

/// Stops the scheduler (shutdown).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Stop;

impl Handler<Stop> for EventScheduler {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
