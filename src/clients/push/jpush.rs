//! JPush REST API v3 client: `POST {base}/v3/push` with HTTP Basic
//! `appKey:masterSecret`, audience by registration id, a notification with
//! android and ios blocks, and `options.apns_production` always set.

use std::time::Duration;

use base64::Engine;
use huddle_actors::repo::app::PushTarget;
use serde_json::{json, Value};

use super::{PushError, PushNote};
use crate::config::JPushConfig;

/// Seconds an undelivered push is kept by JPush (1 day).
const TIME_TO_LIVE_SECS: i64 = 86_400;

/// A JPush application.
pub struct JPushClient {
    http: reqwest::Client,
    url: String,
    authorization: String,
    apns_production: bool,
    timeout: Duration,
}

impl JPushClient {
    /// A client for `config`.
    pub fn new(config: &JPushConfig, http: reqwest::Client) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            config.app_key,
            config.master_secret.expose()
        ));
        Self {
            http,
            url: format!("{}/v3/push", config.base_url),
            authorization: format!("Basic {basic}"),
            apns_production: config.apns_production,
            timeout: Duration::from_millis(config.timeout_ms),
        }
    }

    /// The request body for `note` to `targets`; `None` when no target is a
    /// phone (web registrations are not JPush's).
    pub fn body(&self, targets: &[PushTarget], note: &PushNote) -> Option<Value> {
        let ids: Vec<&str> = targets
            .iter()
            .filter(|t| matches!(t.client_type, 1 | 2))
            .map(|t| t.registration_id.as_str())
            .collect();
        if ids.is_empty() {
            return None;
        }
        let mut platforms = Vec::new();
        if targets.iter().any(|t| t.client_type == 2) {
            platforms.push("android");
        }
        if targets.iter().any(|t| t.client_type == 1) {
            platforms.push("ios");
        }
        Some(json!({
            "platform": platforms,
            "audience": { "registration_id": ids },
            "notification": {
                "alert": note.content,
                "android": {
                    "alert": note.content,
                    "title": note.title,
                    "extras": { "url": note.url },
                },
                "ios": {
                    "alert": { "title": note.title, "body": note.content },
                    "sound": "default",
                    "badge": note.badge,
                    "extras": { "url": note.url },
                },
            },
            "options": {
                "time_to_live": TIME_TO_LIVE_SECS,
                "apns_production": self.apns_production,
            },
        }))
    }

    /// Sends one push; a network error or 5xx is retried once.
    pub async fn push(&self, targets: &[PushTarget], note: &PushNote) -> Result<(), PushError> {
        let Some(body) = self.body(targets, note) else {
            return Ok(());
        };
        match self.send_once(&body).await {
            Err(PushError::Unavailable(first)) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.send_once(&body)
                    .await
                    .map_err(|e| PushError::Unavailable(format!("{first}; retry: {e}")))
            }
            other => other,
        }
    }

    async fn send_once(&self, body: &Value) -> Result<(), PushError> {
        let response = self
            .http
            .post(&self.url)
            .header("Authorization", &self.authorization)
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| PushError::Unavailable(e.to_string()))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() {
            Err(PushError::Unavailable(format!("HTTP {status}: {text}")))
        } else {
            Err(PushError::Refused(format!("HTTP {status}: {text}")))
        }
    }
}
