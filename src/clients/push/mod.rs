//! Push notifications for users with no live WebSocket.
//!
//! The hub hands every inbox message whose recipient has no connection on
//! this node to [`OfflinePush`]; a worker task looks up the user's bound
//! registration ids (`POST /push/{jPushId}`) and sends one notification through
//! the configured provider: [`PushProvider::Log`] (the default, no
//! credentials) or [`jpush::JPushClient`] (JPush REST API v3).

pub mod jpush;

use huddle_actors::repo::app::{PushTarget, PushTargets};
use huddle_actors::repo::message::Delivery;
use huddle_actors::repo::Repo;
use tokio::sync::mpsc;

use crate::config::PushProviderConfig;

/// Messages waiting for the push worker; more are dropped (and logged).
const QUEUE: usize = 4096;

/// What a device shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushNote {
    /// Title line.
    pub title: String,
    /// Body.
    pub content: String,
    /// Deep link (`chaoqer://…`), in the extras.
    pub url: String,
    /// Unread messages (the iOS badge).
    pub badge: i64,
}

impl From<&Delivery> for PushNote {
    fn from(d: &Delivery) -> Self {
        Self {
            title: d.message.title.clone(),
            content: d.message.content.clone(),
            url: d.message.url.clone(),
            badge: d.unread_total,
        }
    }
}

/// A push that could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The provider could not be reached or answered 5xx.
    #[error("push provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request.
    #[error("push refused: {0}")]
    Refused(String),
}

/// Where pushes go.
pub enum PushProvider {
    /// Written to the log.
    Log,
    /// JPush.
    JPush(jpush::JPushClient),
}

impl PushProvider {
    /// The provider `config` selects.
    pub fn new(config: &PushProviderConfig, http: reqwest::Client) -> Self {
        match config {
            PushProviderConfig::Log => Self::Log,
            PushProviderConfig::JPush(c) => Self::JPush(jpush::JPushClient::new(c, http)),
        }
    }

    /// Sends `note` to `targets` (one user's devices).
    pub async fn send(&self, targets: &[PushTarget], note: &PushNote) -> Result<(), PushError> {
        match self {
            Self::Log => {
                tracing::info!(
                    devices = targets.len(),
                    title = %note.title,
                    url = %note.url,
                    "push (log provider)"
                );
                Ok(())
            }
            Self::JPush(client) => client.push(targets, note).await,
        }
    }
}

/// The hub's handle to the push worker.
#[derive(Clone)]
pub struct OfflinePush {
    tx: mpsc::Sender<Delivery>,
}

impl OfflinePush {
    /// Starts the worker on the current runtime.
    pub fn start(repo: Repo, provider: PushProvider) -> Self {
        let (tx, mut rx) = mpsc::channel::<Delivery>(QUEUE);
        actix_web::rt::spawn(async move {
            while let Some(delivery) = rx.recv().await {
                deliver(&repo, &provider, &delivery).await;
            }
        });
        Self { tx }
    }

    /// Queues a message for a user with no live connection; never waits.
    pub fn offer(&self, delivery: Delivery) {
        if let Err(e) = self.tx.try_send(delivery) {
            tracing::warn!(error = %e, "push queue full or closed; push dropped");
        }
    }
}

async fn deliver(repo: &Repo, provider: &PushProvider, delivery: &Delivery) {
    let uid = delivery.message.uid.clone();
    let targets = match repo.run(PushTargets { uid: uid.clone() }).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(%uid, error = %e, "cannot load push registrations");
            return;
        }
    };
    if targets.is_empty() {
        return;
    }
    match provider.send(&targets, &PushNote::from(delivery)).await {
        Ok(()) => tracing::debug!(%uid, devices = targets.len(), "pushed"),
        Err(e) => tracing::warn!(%uid, error = %e, "push failed"),
    }
}
