//! What every handler can reach: configuration, the repository, the cache, the
//! clock and the services built on them. Built once in `startup` and shared by
//! all workers.

use std::sync::Arc;

use huddle_actors::cache::Cache;
use huddle_actors::repo::Repo;
use huddle_actors::SharedClock;

use crate::auth::sessions::Sessions;
use crate::captcha::Captcha;
use crate::config::Config;

/// Shared application state.
pub struct AppState {
    /// Effective configuration.
    pub config: Arc<Config>,
    /// The repository actors.
    pub repo: Repo,
    /// Short-lived shared state (captcha, replay window, limits).
    pub cache: Arc<dyn Cache>,
    /// The source of "now".
    pub clock: SharedClock,
    /// Login sessions.
    pub sessions: Sessions,
    /// SMS captcha codes.
    pub captcha: Captcha,
}
