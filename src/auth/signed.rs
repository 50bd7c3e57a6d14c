//! The one shape of every signed call. [`PublicCall`](super::PublicCall),
//! [`UserCall`](super::UserCall) and [`H5Call`](super::h5::H5Call) differ only
//! in who the caller is and which secret signs; [`SignedCall`] names those
//! parts and [`extract`] runs the steps in the same order for all three:
//!
//! 1. calls made before login count against the caller's address
//!    (`BEFORE_LOGIN`; a logged-in user counts per user, in `identify`);
//! 2. the app's headers (`Client-Type`, `Version-Name`, `Version-Code`);
//! 3. the caller, from the headers alone, before the body is read (401, 429);
//! 4. the parameters (query, form or JSON; 400, 413, 415);
//! 5. `ts`, `sign` with the caller's secret, and the replay window (401, -1);
//! 6. what the caller must still pass once verified (a frozen account).

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;

use super::{limit_address, read_params, state, verify_signature, ClientInfo, Params};
use crate::envelope::ApiError;
use crate::state::AppState;

/// A kind of signed call: how its caller is found and what it signs with.
pub(crate) trait SignedCall: Sized + 'static {
    /// Who calls (a session, an H5 session, an address).
    type Caller: 'static;
    /// Counted per address (calls made before login).
    const BEFORE_LOGIN: bool;

    /// The caller, from the headers alone.
    async fn identify(door: &Door<'_>) -> Result<Self::Caller, ApiError>;

    /// The secret the call is signed with: the default (pre-login) secret
    /// unless the caller has one of its own.
    fn secret(_caller: &Self::Caller) -> &str {
        super::signature::DEFAULT_ACCESS_SECRET
    }

    /// Whose replay window the sign is remembered in.
    fn replay_scope(caller: &Self::Caller) -> String;

    /// The verified call (may still refuse it, e.g. a frozen account).
    fn verified(caller: Self::Caller, client: ClientInfo, params: Params)
        -> Result<Self, ApiError>;
}

/// What a caller is identified from, before the body is read.
pub(crate) struct Door<'a> {
    /// The server.
    pub state: &'a AppState,
    /// The request (headers only).
    pub req: &'a HttpRequest,
    /// The caller's address, for calls before login (counted already).
    pub address: Option<IpAddr>,
}

impl Door<'_> {
    /// The `Authorization` header as text; `None` when missing or not text.
    pub fn authorization(&self) -> Option<&str> {
        self.req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
    }
}

/// Runs the steps of the module doc for `C`.
pub(crate) fn extract<C: SignedCall>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<C, ApiError>> {
    let req = req.clone();
    let payload = payload.take();
    Box::pin(async move {
        let state = state(&req)?;
        let address = if C::BEFORE_LOGIN {
            limit_address(&state, &req).await?
        } else {
            None
        };
        let client = ClientInfo::from_request(&req)?;
        let door = Door {
            state: &state,
            req: &req,
            address,
        };
        let caller = C::identify(&door).await?;
        let params = read_params(&req, payload, &state).await?;
        verify_signature(
            &state,
            &params,
            C::secret(&caller),
            &C::replay_scope(&caller),
        )
        .await?;
        C::verified(caller, client, params)
    })
}

/// `impl FromRequest` for signed call types, through [`extract`].
macro_rules! signed_extractors {
    ($($call:ty),+ $(,)?) => {$(
        impl actix_web::FromRequest for $call {
            type Error = $crate::envelope::ApiError;
            type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

            fn from_request(
                req: &actix_web::HttpRequest,
                payload: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                $crate::auth::signed::extract::<Self>(req, payload)
            }
        }
    )+};
}
pub(crate) use signed_extractors;
