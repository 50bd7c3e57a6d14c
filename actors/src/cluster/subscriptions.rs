//! The channels this node listens to, reference counted: a channel is
//! subscribed while at least one local socket (or room replica) needs it.
//!
//! One task owns the counts and the subscriber connection, so acquire and
//! release of one channel are applied in the order they were asked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};

/// Channels per SUBSCRIBE when resubscribing everything.
const RESUBSCRIBE_BATCH: usize = 512;
/// Longest wait for a SUBSCRIBE to be confirmed.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);

enum Command {
    Acquire(String, Option<oneshot::Sender<bool>>),
    Release(String),
    ResubscribeAll(oneshot::Sender<bool>),
    Count(oneshot::Sender<usize>),
}

/// A handle to the node's subscriptions (cheap to clone).
#[derive(Clone)]
pub struct Subscriptions {
    commands: mpsc::UnboundedSender<Command>,
}

impl Subscriptions {
    pub(super) fn start(connection: ConnectionManager, up: Arc<AtomicBool>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(connection, up, rx));
        Self { commands: tx }
    }

    /// Needs `channel`; answers once Redis confirmed the subscription (false
    /// when it could not; it is retried when Redis comes back).
    pub async fn acquire(&self, channel: String) -> bool {
        let (tx, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::Acquire(channel, Some(tx)))
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Needs `channel`, without waiting for the confirmation.
    pub fn acquire_later(&self, channel: String) {
        let _ = self.commands.send(Command::Acquire(channel, None));
    }

    /// No longer needs `channel` (one release per acquire).
    pub fn release(&self, channel: String) {
        let _ = self.commands.send(Command::Release(channel));
    }

    /// Subscribes again to every needed channel (after Redis came back);
    /// false when Redis refused or did not answer.
    pub async fn resubscribe_all(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::ResubscribeAll(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// How many channels are needed now.
    pub async fn count(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Count(tx)).is_err() {
            return 0;
        }
        rx.await.unwrap_or(0)
    }
}

async fn subscribe(
    connection: &mut ConnectionManager,
    up: &AtomicBool,
    channels: &[String],
) -> bool {
    if !up.load(Ordering::Acquire) {
        // Fail fast while Redis is down; everything needed is resubscribed
        // when it comes back.
        return false;
    }
    match tokio::time::timeout(SUBSCRIBE_TIMEOUT, connection.subscribe(channels)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "subscribe failed");
            false
        }
        Err(_) => false,
    }
}

async fn run(
    mut connection: ConnectionManager,
    up: Arc<AtomicBool>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Acquire(channel, ack) => {
                let count = counts.entry(channel.clone()).or_insert(0);
                *count += 1;
                let ok = if *count == 1 {
                    subscribe(&mut connection, &up, std::slice::from_ref(&channel)).await
                } else {
                    true
                };
                if let Some(ack) = ack {
                    let _ = ack.send(ok);
                }
            }
            Command::Release(channel) => {
                let Some(count) = counts.get_mut(&channel) else {
                    continue;
                };
                *count -= 1;
                if *count == 0 {
                    counts.remove(&channel);
                    if !up.load(Ordering::Acquire) {
                        continue;
                    }
                    let unsubscribe = connection.unsubscribe(&channel);
                    let _ = tokio::time::timeout(SUBSCRIBE_TIMEOUT, unsubscribe).await;
                }
            }
            Command::ResubscribeAll(done) => {
                let channels: Vec<String> = counts.keys().cloned().collect();
                let mut ok = true;
                for batch in channels.chunks(RESUBSCRIBE_BATCH) {
                    if !subscribe(&mut connection, &up, batch).await {
                        ok = false;
                        break;
                    }
                }
                let _ = done.send(ok);
            }
            Command::Count(answer) => {
                let _ = answer.send(counts.len());
            }
        }
    }
}
