//! Link previews (`POST /app/link/preview/{linkMD5}`): fetch a page once,
//! read its OpenGraph/`<title>`/description/image, and keep the result by the
//! link's MD5.
//!
//! Fetching a URL a user typed is a classic server-side request forgery hole,
//! so every hop goes through [`guard`]: the whole fetch has one deadline, at
//! most [`MAX_REDIRECTS`] redirects each checked like the first URL, at most
//! the configured number of bytes read, and the connection goes to the address
//! the guard checked.

pub mod guard;
pub mod html;

use std::time::Duration;

use futures_util::StreamExt;
use huddle_actors::repo::app::LinkPreview;

use crate::config::LinkPreviewConfig;
use guard::Refusal;

/// Redirects followed.
pub const MAX_REDIRECTS: usize = 3;

/// Why there is no preview.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The guard refused the link or a redirect.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The deadline passed.
    #[error("the page did not answer within {0} ms")]
    Timeout(u64),
    /// The page could not be fetched (connection, status, too many redirects).
    #[error("the page could not be fetched: {0}")]
    Fetch(String),
}

/// The link the client sent, as the md5 is computed: `http://` is prepended
/// when it has no scheme (`example.com/a`); a link with another scheme
/// (`ftp://…`) keeps it, and the guard refuses it.
pub fn normalise_link(link: &str) -> String {
    let trimmed = link.trim();
    let has_scheme = trimmed.split_once("://").is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if has_scheme {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_link;

    #[test]
    fn only_links_without_a_scheme_get_http() {
        assert_eq!(normalise_link("blog.toby.vip/a"), "http://blog.toby.vip/a");
        assert_eq!(
            normalise_link(" https://blog.toby.vip/a "),
            "https://blog.toby.vip/a"
        );
        assert_eq!(normalise_link("HTTP://x.example"), "HTTP://x.example");
        assert_eq!(normalise_link("ftp://x.example/f"), "ftp://x.example/f");
        assert_eq!(
            normalise_link("x.example/?next=http://y"),
            "http://x.example/?next=http://y"
        );
    }
}

/// Fetches previews.
#[derive(Clone)]
pub struct Previewer {
    config: LinkPreviewConfig,
}

impl Previewer {
    /// A previewer with `config`'s limits.
    pub fn new(config: LinkPreviewConfig) -> Self {
        Self { config }
    }

    /// Fetches `link` and reads its preview.
    pub async fn fetch(&self, link: &str) -> Result<LinkPreview, PreviewError> {
        let url =
            url::Url::parse(link).map_err(|e| PreviewError::Fetch(format!("not a URL: {e}")))?;
        let deadline = Duration::from_millis(self.config.timeout_ms);
        tokio::time::timeout(deadline, self.follow(url))
            .await
            .map_err(|_| PreviewError::Timeout(self.config.timeout_ms))?
    }

    async fn follow(&self, mut url: url::Url) -> Result<LinkPreview, PreviewError> {
        for _ in 0..=MAX_REDIRECTS {
            let cleared = guard::clear(&url, &self.config.allow).await?;
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("huddle-link-preview/1.0 (+https://example.invalid/huddle)")
                .no_proxy();
            if let Some(domain) = &cleared.domain {
                // Connect to the address the guard checked, not a fresh lookup.
                builder = builder.resolve(domain, cleared.addr);
            }
            let client = builder
                .build()
                .map_err(|e| PreviewError::Fetch(e.to_string()))?;
            let response = client
                .get(url.clone())
                .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
                .send()
                .await
                .map_err(|e| PreviewError::Fetch(e.to_string()))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        PreviewError::Fetch(format!("HTTP {status} without Location"))
                    })?;
                url = url
                    .join(location)
                    .map_err(|e| PreviewError::Fetch(format!("bad redirect {location:?}: {e}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(PreviewError::Fetch(format!("HTTP {status}")));
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if content_type.starts_with("image/") {
                return Ok(LinkPreview {
                    url: url.to_string(),
                    title: url.host_str().unwrap_or_default().to_owned(),
                    description: String::new(),
                    image: url.to_string(),
                });
            }
            let body = self.read_capped(response).await?;
            let meta = html::page_meta(&String::from_utf8_lossy(&body));
            let absolute = |v: Option<String>| {
                v.and_then(|v| url.join(&v).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(|u| u.to_string())
            };
            return Ok(LinkPreview {
                title: meta
                    .title
                    .unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned()),
                description: meta.description.unwrap_or_default(),
                image: absolute(meta.image).unwrap_or_default(),
                url: absolute(meta.url).unwrap_or_else(|| url.to_string()),
            });
        }
        Err(PreviewError::Fetch(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// The body, cut at the byte cap (a preview only needs the head).
    async fn read_capped(&self, response: reqwest::Response) -> Result<Vec<u8>, PreviewError> {
        let cap = self.config.max_bytes;
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| PreviewError::Fetch(e.to_string()))?;
            let room = cap - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= cap {
                break;
            }
        }
        Ok(body)
    }
}
