//! WeChat official-account APIs used by H5 pages:
//! - the JS-SDK `wx.config` signature: SHA1 over
//!   `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` (WeChat JS-SDK
//!   documentation, appendix 1; the test reproduces its example);
//! - the `jsapi_ticket`, fetched with the account's `access_token`
//!   (`cgi-bin/token`, `cgi-bin/ticket/getticket`) and kept in the cache until
//!   shortly before it expires;
//! - web OAuth: a page's `code` exchanged for the visitor's openid
//!   (`sns/oauth2/access_token`).

use std::sync::Arc;
use std::time::Duration;

use huddle_actors::cache::Cache;
use serde::Deserialize;
use sha1::{Digest, Sha1};

use crate::config::WechatConfig;

/// Cached tokens are dropped this long before WeChat expires them.
const EXPIRY_MARGIN_SECS: u64 = 300;

/// The JS-SDK signature of `url` (without its `#fragment`).
pub fn jssdk_signature(jsapi_ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let text =
        format!("jsapi_ticket={jsapi_ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}");
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// A WeChat API call failed.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// WeChat could not be reached, or answered something unreadable.
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
    /// WeChat answered with an error code (e.g. 40029 invalid code).
    #[error("WeChat refused: {code} {message}")]
    Refused {
        /// `errcode`.
        code: i64,
        /// `errmsg`.
        message: String,
    },
}

#[derive(Deserialize)]
struct Answer {
    errcode: Option<i64>,
    errmsg: Option<String>,
    access_token: Option<String>,
    ticket: Option<String>,
    openid: Option<String>,
    expires_in: Option<u64>,
}

/// A client for one official account.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    config: WechatConfig,
    cache: Arc<dyn Cache>,
}

impl WechatClient {
    /// A client for `config`, caching tokens in `cache`.
    pub fn new(config: WechatConfig, http: reqwest::Client, cache: Arc<dyn Cache>) -> Self {
        Self {
            http,
            config,
            cache,
        }
    }

    /// The AppID.
    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// Calls `path` with `query`. The query carries the AppSecret, OAuth codes
    /// and access tokens, and a reqwest error prints its URL, so errors name
    /// only the path.
    async fn call(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer, WechatError> {
        let url = format!("{}{path}", self.config.api_base);
        let response = self
            .http
            .get(&url)
            .query(query)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| WechatError::Unavailable(format!("{path}: {}", e.without_url())))?;
        let status = response.status();
        let answer: Answer = response.json().await.map_err(|e| {
            WechatError::Unavailable(format!(
                "{path}: HTTP {status}, unreadable answer: {}",
                e.without_url()
            ))
        })?;
        match answer.errcode {
            Some(code) if code != 0 => Err(WechatError::Refused {
                code,
                message: answer.errmsg.unwrap_or_default(),
            }),
            _ => Ok(answer),
        }
    }

    fn ttl(expires_in: Option<u64>) -> Duration {
        Duration::from_secs(
            expires_in
                .unwrap_or(7200)
                .saturating_sub(EXPIRY_MARGIN_SECS)
                .max(60),
        )
    }

    async fn cached_or(
        &self,
        key: &str,
        fetch: impl std::future::Future<Output = Result<(String, Duration), WechatError>>,
    ) -> Result<String, WechatError> {
        if let Ok(Some(value)) = self.cache.get(key).await {
            return Ok(value);
        }
        let (value, ttl) = fetch.await?;
        if let Err(e) = self.cache.set(key, &value, ttl).await {
            tracing::warn!(error = %e, key, "cannot cache a WeChat token");
        }
        Ok(value)
    }

    async fn access_token(&self) -> Result<String, WechatError> {
        let key = format!("wechat:access_token:{}", self.config.app_id);
        self.cached_or(&key, async {
            let a = self
                .call(
                    "/cgi-bin/token",
                    &[
                        ("grant_type", "client_credential"),
                        ("appid", &self.config.app_id),
                        ("secret", self.config.app_secret.expose()),
                    ],
                )
                .await?;
            let token = a
                .access_token
                .ok_or_else(|| WechatError::Unavailable("no access_token in the answer".into()))?;
            Ok((token, Self::ttl(a.expires_in)))
        })
        .await
    }

    /// The current `jsapi_ticket` (cached until shortly before it expires).
    pub async fn jsapi_ticket(&self) -> Result<String, WechatError> {
        let key = format!("wechat:jsapi_ticket:{}", self.config.app_id);
        self.cached_or(&key, async {
            let token = self.access_token().await?;
            let a = self
                .call(
                    "/cgi-bin/ticket/getticket",
                    &[("access_token", &token), ("type", "jsapi")],
                )
                .await?;
            let ticket = a
                .ticket
                .ok_or_else(|| WechatError::Unavailable("no ticket in the answer".into()))?;
            Ok((ticket, Self::ttl(a.expires_in)))
        })
        .await
    }

    /// The openid behind an OAuth `code` (each code works once).
    pub async fn openid_for_code(&self, code: &str) -> Result<String, WechatError> {
        let a = self
            .call(
                "/sns/oauth2/access_token",
                &[
                    ("appid", &self.config.app_id),
                    ("secret", self.config.app_secret.expose()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await?;
        a.openid
            .filter(|o| !o.is_empty())
            .ok_or_else(|| WechatError::Unavailable("no openid in the answer".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the WeChat JS-SDK documentation (appendix 1).
    #[test]
    fn documentation_example() {
        assert_eq!(
            jssdk_signature(
                "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                "Wm3WZYTPz0wzccnW",
                "1414587457",
                "http://mp.weixin.qq.com?params=value",
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }

    /// A WeChat that cannot be reached: the errors (which the H5 routes log at
    /// warn) name the path, never the AppSecret, the OAuth code or the URL.
    #[actix_web::test]
    async fn errors_carry_no_secret_and_no_code() {
        let clock = Arc::new(huddle_actors::ManualClock::new(1_700_000_000_000));
        let cache = Arc::new(huddle_actors::cache::MemoryCache::new(clock));
        let client = WechatClient::new(
            WechatConfig {
                app_id: "wx0123456789abcdef".into(),
                app_secret: crate::config::Secret::new("wx-app-secret-7f3a9c"),
                api_base: "http://127.0.0.1:1".into(),
            },
            reqwest::Client::new(),
            cache,
        );
        let ticket = client.jsapi_ticket().await.unwrap_err().to_string();
        let openid = client
            .openid_for_code("oauth-code-5be1d2")
            .await
            .unwrap_err()
            .to_string();
        for e in [&ticket, &openid] {
            assert!(e.starts_with("WeChat unavailable: /"), "{e}");
            for secret in [
                "wx-app-secret-7f3a9c",
                "oauth-code-5be1d2",
                "secret=",
                "127.0.0.1",
            ] {
                assert!(!e.contains(secret), "{secret} in {e:?}");
            }
        }
    }

    #[test]
    fn the_fragment_is_not_signed() {
        let a = jssdk_signature("t", "n", "1", "https://h5.example/room/1#share");
        assert_eq!(
            a,
            jssdk_signature("t", "n", "1", "https://h5.example/room/1")
        );
    }
}
