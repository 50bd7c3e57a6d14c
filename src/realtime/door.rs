//! `GET /ws`: authenticates the upgrade like a REST call, then hands the
//! connection to a [`MemberSession`]. Credentials come either as query
//! parameters (`uid`, `accessToken`: browsers cannot set headers on a
//! WebSocket) or as the REST `Authorization: Basic base64(uid:accessToken)`
//! header; in both cases the query carries `ts` and `sign`, signed with the
//! session's `accessSecret` over every query parameter but `sign`. Any failure
//! is answered before the upgrade with HTTP 401 and the envelope.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use huddle_actors::Uid;

use super::frame_guard::FrameGuard;
use super::hub;
use super::session::MemberSession;
use crate::auth::params::{BodyKind, Params};
use crate::auth::verify_signature;
use crate::envelope::ApiError;
use crate::http::inputs::{inputs, Deferred, FromParams};
use crate::http::openapi::{Auth, Method, Reply, RouteDoc, Tag, BASE};
use crate::state::AppState;

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Get,
        path: "/ws",
        handler: Some(|r| r.to(upgrade)),
        tags: &[Tag::Realtime],
        summary: "The WebSocket of a logged-in device",
        description: "Upgrades to the realtime WebSocket: live room membership, hands, host controls, inbox/invite/event/club pushes, resume by sequence number, heartbeats. The first frame is `hello`. The protocol (every op, event, error and close code) is in docs/realtime.md.",
        auth: Auth::Socket,
        input: &[QueryCredentials::PARAMS],
        reply: Reply::WebSocket,
        ..BASE
    },
];

inputs! {
    /// `GET /ws` without an Authorization header: the credentials in the query.
    pub struct QueryCredentials {
        uid: optional Deferred<Uid> = "uid", Query, "With `accessToken`, instead of the Authorization header.";
        access_token: optional String = "accessToken", Query, "With `uid`, instead of the Authorization header.";
    }
}

/// Every refusal before the upgrade is a 401, except an outage (503).
fn as_unauthorized(e: ApiError) -> ApiError {
    match e {
        ApiError::Unauthorized(_) | ApiError::Unavailable(_) => e,
        ApiError::Business { .. } => ApiError::Unauthorized(
            "sign already used: every connection needs a fresh ts and sign".into(),
        ),
        // The detail alone: the 401 adds its own prefix.
        ApiError::BadRequest(detail) => ApiError::Unauthorized(detail),
        other => ApiError::Unauthorized(other.to_string()),
    }
}

async fn upgrade(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string(), BodyKind::None, &[]).map_err(as_unauthorized)?;
    let session = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
            state.sessions.authenticate(value).await?
        }
        None => {
            let credentials = QueryCredentials::from_params(&params).map_err(as_unauthorized)?;
            let (Some(uid), Some(token)) = (credentials.uid, credentials.access_token) else {
                return Err(ApiError::Unauthorized(
                    "uid and accessToken (query) or an Authorization header are required".into(),
                ));
            };
            state.sessions.authenticate_pair(uid.text(), &token).await?
        }
    };
    verify_signature(
        &state,
        &params,
        &session.access_secret,
        session.uid.as_str(),
    )
    .await
    .map_err(as_unauthorized)?;
    if session.account_frozen {
        return Err(ApiError::Unauthorized("account frozen".into()));
    }
    let limits = state.realtime.limits.clone();
    if limits.connections_per_user > 0 {
        let open = state
            .realtime
            .hub
            .send(hub::CountConnections {
                uid: session.uid.clone(),
            })
            .await
            .map_err(|e| ApiError::Unavailable(format!("realtime hub: {e}")))?;
        if open >= limits.connections_per_user {
            // A dead connection of this user is closed within the idle timeout.
            return Err(ApiError::TooManyRequests {
                retry_after_secs: limits.idle_timeout.as_secs().max(1),
            });
        }
    }
    let actor = MemberSession::new(session.uid, session.session_id, state.realtime.clone());
    let payload = FrameGuard::new(payload, limits.max_frame_bytes);
    ws::WsResponseBuilder::new(actor, &req, payload)
        .frame_size(limits.max_frame_bytes)
        .start()
        .map_err(|e| ApiError::BadRequest(format!("not a WebSocket upgrade: {e}")))
}
