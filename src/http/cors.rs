//! CORS for browser pages on other origins (`HUDDLE_CORS_ORIGINS`).
//!
//! The H5 share pages may be hosted on their own domain (the seed's
//! `https://dev-h5.chaoqer.com/...`) and call `/h5/*` from the browser. Only
//! the routes in [`BROWSER_ROUTES`] answer cross-origin, and only to the
//! exact origins listed; everything else (the mobile API, the docs) stays
//! same-origin. Built on the maintained `actix-cors` middleware:
//!
//! - a preflight from a listed origin answers 204 with the allowed methods and
//!   headers, `Vary: Origin` and a max-age;
//! - a request from a listed origin gets `Access-Control-Allow-Origin` (its own
//!   origin, never `*`), `Vary: Origin`;
//! - an unlisted origin gets no CORS header at all (a preflight answers the
//!   400 envelope), so the browser refuses the response; requests without an
//!   `Origin` (apps, curl, same-origin GETs) pass untouched.

use std::collections::HashSet;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::Error;

/// Path prefixes of the routes meant for browsers on other origins.
pub const BROWSER_ROUTES: &[&str] = &["/h5/"];

/// Request headers a cross-origin page may send.
pub const ALLOWED_HEADERS: [&str; 5] = [
    "Authorization",
    "Content-Type",
    "Client-Type",
    "Version-Name",
    "Version-Code",
];

/// Methods the browser routes answer.
pub const ALLOWED_METHODS: [&str; 2] = ["GET", "POST"];

/// How long a browser may keep a preflight's answer (seconds; Chromium caps it
/// at 7,200).
pub const MAX_AGE_SECS: usize = 7_200;

/// The origins allowed to call [`BROWSER_ROUTES`] from a browser: exact
/// `scheme://host[:port]` strings, as the browser sends them in `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Arc<HashSet<String>>);

impl CorsOrigins {
    /// Comma-separated origins; empty: same origin only.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut origins = HashSet::new();
        for raw in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            origins.insert(Self::origin(raw)?);
        }
        Ok(Self(Arc::new(origins)))
    }

    fn origin(raw: &str) -> Result<String, String> {
        let bad =
            |why: &str| format!("{raw:?} is not an origin ({why}; e.g. https://h5.example.com)");
        let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err(bad("it needs a host and no user"));
        }
        let bare = url.path() == "/" && !raw.ends_with('/');
        if !bare || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no path, query or trailing slash"));
        }
        // What the browser sends: lower-case host, default port left out.
        Ok(url.origin().ascii_serialization())
    }

    /// No origin is listed (same origin only).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `origin` is listed.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.contains(origin)
    }

    /// The listed origins, sorted (for logs and docs).
    pub fn list(&self) -> Vec<String> {
        let mut list: Vec<String> = self.0.iter().cloned().collect();
        list.sort();
        list
    }
}

/// Whether `path` is one of the [`BROWSER_ROUTES`].
pub fn is_browser_route(path: &str) -> bool {
    BROWSER_ROUTES.iter().any(|prefix| path.starts_with(prefix))
}

/// The middleware for one worker.
pub fn middleware(origins: &CorsOrigins) -> Cors {
    let origins = origins.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            is_browser_route(head.uri.path()) && origin.to_str().is_ok_and(|o| origins.allows(o))
        })
        .allowed_methods(ALLOWED_METHODS)
        .allowed_headers(ALLOWED_HEADERS)
        .max_age(MAX_AGE_SECS)
        // An unlisted origin passes without CORS headers (the browser then
        // refuses it), so same-origin pages and apps are never blocked here.
        .block_on_origin_mismatch(false)
}

/// A preflight that `actix-cors` accepted answers 204 No Content (it answers
/// 200 with an empty body).
pub async fn preflight_no_content(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    if preflight
        && res.status() == StatusCode::OK
        && res
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        *res.response_mut().status_mut() = StatusCode::NO_CONTENT;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_normalised_as_browsers_send_them() {
        let o = CorsOrigins::parse(" https://dev-h5.chaoqer.com, http://127.0.0.1:8081 ,").unwrap();
        assert!(o.allows("https://dev-h5.chaoqer.com"));
        assert!(o.allows("http://127.0.0.1:8081"));
        assert!(!o.allows("https://evil.chaoqer.com"));
        assert!(!o.allows("http://127.0.0.1:8082"));
        // a default port and upper case are written as the browser writes them
        let o = CorsOrigins::parse("HTTPS://H5.Example.com:443").unwrap();
        assert_eq!(o.list(), ["https://h5.example.com"]);
        assert!(CorsOrigins::parse("").unwrap().is_empty());
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_its_reason() {
        for bad in [
            "h5.example.com",
            "https://h5.example.com/",
            "https://h5.example.com/page",
            "ftp://h5.example.com",
            "https://user@h5.example.com",
            "*",
        ] {
            let err = CorsOrigins::parse(bad).unwrap_err();
            assert!(err.contains("is not an origin"), "{bad}: {err}");
        }
    }

    #[test]
    fn only_the_h5_api_is_a_browser_route() {
        assert!(is_browser_route("/h5/session"));
        assert!(is_browser_route("/h5/room/abc"));
        assert!(!is_browser_route("/room/abc"));
        assert!(!is_browser_route("/account/login/captcha"));
        assert!(!is_browser_route("/h5"));
    }
}
