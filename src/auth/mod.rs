//! Authentication and request verification: the one extractor every API route uses.
//!
//! - [`PublicCall`]: routes with "鉴权: 无" (signed with the default secret).
//! - [`UserCall`]: routes with "鉴权: 用户登录": `Authorization: Basic
//!   base64(uid:accessToken)`, a live session, signed with the session's secret.
//!
//! Both read the parameters (query, form or JSON, body capped), check `ts`
//! against the ±300 s window, verify `sign`, and refuse a repeated `(caller,
//! sign)` inside the window with business code -1 without running the handler.

pub mod address;
pub mod h5;
pub mod params;
pub mod session_cache;
pub mod sessions;
pub mod signature;
pub(crate) mod signed;
pub mod token;

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use huddle_actors::{SessionId, Uid};

pub use params::Params;

/// A key for one purpose derived from a server secret (HMAC-SHA256 of the
/// label), so one configured secret yields independent keys.
pub fn derive_key(secret: &[u8], label: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

use crate::envelope::{ApiError, BusinessCode};
use crate::state::AppState;
use params::BodyKind;
use signature::SIGN_WINDOW_MS;

/// `Client-Type`: 0 Web, 1 iOS, 2 Android.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// 0 (also when the header is missing).
    Web,
    /// 1
    Ios,
    /// 2
    Android,
}

impl ClientType {
    /// The wire value.
    pub fn code(self) -> i64 {
        match self {
            Self::Web => 0,
            Self::Ios => 1,
            Self::Android => 2,
        }
    }
}

/// What the app says about itself in headers.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// `Client-Type`.
    pub client_type: ClientType,
    /// `Version-Name`.
    pub version_name: Option<String>,
    /// `Version-Code`.
    pub version_code: Option<i64>,
}

impl ClientInfo {
    /// Reads `Client-Type`, `Version-Name` and `Version-Code`.
    pub fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let text = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let client_type = match text("Client-Type") {
            None | Some("0") => ClientType::Web,
            Some("1") => ClientType::Ios,
            Some("2") => ClientType::Android,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "Client-Type must be 0 (Web), 1 (iOS) or 2 (Android)".into(),
                ))
            }
        };
        let version_code = text("Version-Code")
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::BadRequest("Version-Code must be an integer".into()))
            })
            .transpose()?;
        Ok(Self {
            client_type,
            version_name: text("Version-Name").map(str::to_owned),
            version_code,
        })
    }
}

/// A verified call to a route that needs no login.
#[derive(Debug)]
pub struct PublicCall {
    /// The signed parameters.
    pub params: Params,
    /// Header information.
    pub client: ClientInfo,
    /// The caller's address (the TCP peer), for per-address limits.
    pub address: Option<std::net::IpAddr>,
}

/// A verified call by a logged-in user.
#[derive(Debug)]
pub struct UserCall {
    /// The signed parameters.
    pub params: Params,
    /// Header information.
    pub client: ClientInfo,
    /// The caller.
    pub uid: Uid,
    /// The caller's session.
    pub session_id: SessionId,
    /// The caller has initialised their profile.
    pub has_profile: bool,
}

/// A logged-in caller whose profile is initialised; everyone else gets 200000.
/// Every route but `/user/profile/init` and `/account/logout` takes this.
#[derive(Debug)]
pub struct Profiled(pub UserCall);

impl std::ops::Deref for Profiled {
    type Target = UserCall;
    fn deref(&self) -> &UserCall {
        &self.0
    }
}

impl FromRequest for Profiled {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let call = UserCall::from_request(req, payload);
        Box::pin(async move {
            let call = call.await?;
            if !call.has_profile {
                return Err(ApiError::business(BusinessCode::ProfileNotInitialised));
            }
            Ok(Self(call))
        })
    }
}

fn state(req: &HttpRequest) -> Result<Data<AppState>, ApiError> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing from app data")))
}

/// Reads the body up to `limit` bytes; more → 413 (checked on Content-Length
/// first, then while reading).
pub(crate) async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    let too_large =
        || ApiError::PayloadTooLarge(format!("request body is larger than {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn read_params(
    req: &HttpRequest,
    payload: Payload,
    state: &AppState,
) -> Result<Params, ApiError> {
    let body = read_body(req, payload, state.config.max_body_bytes).await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let kind = BodyKind::from_content_type(content_type, body.len())?;
    Params::parse(req.query_string(), kind, &body)
}

/// The caller's address: the TCP peer, or what a trusted proxy says it is
/// (`HUDDLE_TRUSTED_PROXIES`, see [`address`]).
pub fn client_address(state: &AppState, req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(state.config.trusted_proxies.client_address(peer, forwarded))
}

/// Counts one request against the caller's address; answers the address.
pub(crate) async fn limit_address(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<std::net::IpAddr>, ApiError> {
    let address = client_address(state, req);
    if let Some(ip) = address {
        state.limiter.request_from(ip).await?;
    }
    Ok(address)
}

/// Checks `ts`, `sign`, and the replay window for `caller` (a uid, or "-").
pub(crate) async fn verify_signature(
    state: &AppState,
    params: &Params,
    secret: &str,
    caller: &str,
) -> Result<(), ApiError> {
    let ts: i64 = params
        .optional("ts")
        .ok_or_else(|| ApiError::Unauthorized("ts is required".into()))?
        .parse()
        .map_err(|_| ApiError::Unauthorized("ts must be milliseconds since the epoch".into()))?;
    signature::check_ts(ts, state.clock.now_ms()).map_err(ApiError::Unauthorized)?;
    let sign = params
        .optional("sign")
        .ok_or_else(|| ApiError::Unauthorized("sign is required".into()))?;
    if !signature::verify(params.iter(), secret, sign) {
        return Err(ApiError::Unauthorized(
            "sign does not match the parameters".into(),
        ));
    }
    let window = Duration::from_millis(u64::try_from(2 * SIGN_WINDOW_MS).unwrap_or(600_000));
    let replay_key = format!("replay:{caller}:{}", sign.to_ascii_lowercase());
    if !state.cache.set_if_absent(&replay_key, "1", window).await? {
        return Err(ApiError::business(BusinessCode::Repeated));
    }
    Ok(())
}

impl signed::SignedCall for PublicCall {
    type Caller = Option<std::net::IpAddr>;
    const BEFORE_LOGIN: bool = true;

    async fn identify(door: &signed::Door<'_>) -> Result<Self::Caller, ApiError> {
        Ok(door.address)
    }

    fn replay_scope(_: &Self::Caller) -> String {
        "-".to_owned()
    }

    fn verified(
        address: Self::Caller,
        client: ClientInfo,
        params: Params,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            params,
            client,
            address,
        })
    }
}

impl signed::SignedCall for UserCall {
    type Caller = huddle_actors::repo::session::SessionRecord;
    // A logged-in user counts per user only: thousands of users may share one
    // address (carrier-grade NAT, an office gateway), so per-address limits
    // are for calls made before login.
    const BEFORE_LOGIN: bool = false;

    async fn identify(door: &signed::Door<'_>) -> Result<Self::Caller, ApiError> {
        let authorization = match door.req.headers().get(header::AUTHORIZATION) {
            None => {
                return Err(ApiError::Unauthorized(
                    "Authorization header is required".into(),
                ))
            }
            Some(_) => door
                .authorization()
                .ok_or_else(|| ApiError::Unauthorized("malformed Authorization header".into()))?,
        };
        let session = door.state.sessions.authenticate(authorization).await?;
        door.state.limiter.request_by(&session.uid).await?;
        Ok(session)
    }

    fn secret(session: &Self::Caller) -> &str {
        &session.access_secret
    }

    fn replay_scope(session: &Self::Caller) -> String {
        session.uid.to_string()
    }

    fn verified(
        session: Self::Caller,
        client: ClientInfo,
        params: Params,
    ) -> Result<Self, ApiError> {
        if session.account_frozen {
            return Err(ApiError::business(BusinessCode::AccountFrozen));
        }
        Ok(Self {
            params,
            client,
            uid: session.uid,
            session_id: session.session_id,
            has_profile: session.has_profile,
        })
    }
}

signed::signed_extractors!(PublicCall, UserCall);
