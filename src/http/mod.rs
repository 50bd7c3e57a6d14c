//! HTTP routes, one module per seed section, and the two middlewares every
//! response passes through: request logging (with a request id) and the JSON
//! error envelope for statuses produced outside the handlers (404, 405, ...).

pub mod account;
pub mod app;
pub mod club;
pub mod cors;
pub mod event;
pub mod h5;
pub mod inputs;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod pagination;
pub mod push;
pub mod room;
pub mod upload;
pub mod user;
pub mod views;

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse, ResponseError};
use tracing::Instrument;

use crate::envelope::ApiError;
use crate::state::AppState;

/// Registers every route: exactly the documented ones ([`openapi::register`]).
pub fn routes(cfg: &mut web::ServiceConfig) {
    openapi::register(cfg);
}

/// A path segment that must be an id; anything else is 400.
pub fn path_id<T>(
    text: &str,
    parse: fn(&str) -> Result<T, huddle_actors::IdError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// This server's public base URL (no trailing slash): `HUDDLE_PUBLIC_URL`, or
/// the scheme and host the request came in on.
pub fn public_base(state: &AppState, req: &actix_web::HttpRequest) -> String {
    if let Some(url) = &state.config.services.public_url {
        return url.clone();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// For paths no route matches.
pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.error_response()
}

fn is_json(res: &HttpResponse<impl MessageBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Rewrites any error response that is not already a JSON envelope (actix's own
/// 405, a framework 400, ...) into the contract's envelope. (Handler errors are
/// already envelopes: [`ApiError`] renders them.)
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let page = res
        .response()
        .extensions()
        .get::<pages::HtmlPage>()
        .is_some();
    if (status.is_client_error() || status.is_server_error()) && !is_json(res.response()) && !page {
        let envelope = ApiError::from_status(status).error_response();
        let (req, _) = res.into_parts();
        Ok(ServiceResponse::new(req, envelope).map_into_right_body())
    } else {
        Ok(res.map_into_left_body())
    }
}

/// Logs one line per request (method, path, status, latency, request id) and
/// returns the id in `X-Request-Id`. Everything logged while handling the
/// request carries the same id.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            tracing::info!(status = res.status().as_u16(), latency_ms, "request");
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static("x-request-id"), value);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(error = %e, latency_ms, "request failed");
            Err(e)
        }
    }
}
