//! What every handler can reach: configuration, the repository, the cache, the
//! clock and the services built on them. Built once in `startup` and shared by
//! all workers.

use std::sync::Arc;

use actix::Addr;
use huddle_actors::bus::{Bus, Notification};
use huddle_actors::cache::Cache;
use huddle_actors::club::Clubs;
use huddle_actors::cluster::Cluster;
use huddle_actors::repo::message::{CreateMessages, Delivery, NewMessage};
use huddle_actors::repo::Repo;
use huddle_actors::room::Rooms;
use huddle_actors::scheduler::EventScheduler;
use huddle_actors::SharedClock;

use crate::auth::h5::H5Sessions;
use crate::auth::sessions::Sessions;
use crate::clients::captcha::Captcha;
use crate::clients::linkpreview::Previewer;
use crate::clients::rtc::RtcTokens;
use crate::clients::storage::Uploads;
use crate::clients::wechat::WechatClient;
use crate::config::Config;
use crate::envelope::ApiError;
use crate::realtime::SessionDeps;

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
    pub sessions: Arc<Sessions>,
    /// Request and action rate limits.
    pub limiter: crate::ratelimit::Limiter,
    /// SMS captcha codes.
    pub captcha: Captcha,
    /// Room actors.
    pub rooms: Rooms,
    /// Club actors.
    pub clubs: Clubs,
    /// The event reminder scheduler.
    pub scheduler: Addr<EventScheduler>,
    /// Observable changes, for the realtime layer.
    pub bus: Bus,
    /// Voice tokens.
    pub rtc: RtcTokens,
    /// What WebSocket sessions need (hub, rooms, limits).
    pub realtime: SessionDeps,
    /// Image upload addresses (local, S3 or OSS).
    pub uploads: Uploads,
    /// Link preview fetching.
    pub previews: Previewer,
    /// H5 (share page) sessions.
    pub h5_sessions: H5Sessions,
    /// The Redis link, when several nodes share state.
    pub cluster: Option<Cluster>,
    /// WeChat, when configured.
    pub wechat: Option<WechatClient>,
}

impl AppState {
    /// Writes inbox messages, then publishes them.
    pub async fn deliver(&self, messages: Vec<NewMessage>) -> Result<(), ApiError> {
        let stored = self
            .repo
            .run(CreateMessages {
                messages,
                now: self.clock.now_ms(),
            })
            .await?;
        self.publish_messages(stored);
        Ok(())
    }

    /// Publishes messages already written.
    pub fn publish_messages(&self, messages: Vec<Delivery>) {
        for m in messages {
            self.bus.publish(Notification::Message(m));
        }
    }
}
