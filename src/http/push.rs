//! Seed section "Push": `POST /push/{jPushId}` binds a push registration id to
//! the caller and their client type (see [`crate::clients::push`] for delivery).

use actix_web::web;
use huddle_actors::repo::app::BindPush;

use super::openapi::{param, Loc, Method, RouteDoc, Tag, Ty, BASE, EMPTY};
use crate::auth::Profiled;
use crate::envelope::{ok, ApiError, ApiResult, Empty};
use crate::state::AppState;

/// Longest registration id accepted (JPush ids are about 20 characters).
pub const REGISTRATION_ID_MAX: usize = 128;

/// The characters of a registration id.
pub const JPUSH_ID_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[RouteDoc {
    method: Method::Post,
    path: "/push/{jPushId}",
    handler: Some(|r| r.to(bind)),
    tags: &[Tag::Push],
    summary: "Bind a push registration id to me and my Client-Type (更新JPushID)",
    params: &[param(
        "jPushId",
        Loc::Path,
        true,
        Ty::Pattern(JPUSH_ID_PATTERN),
        "The JPush registration id.",
    )],
    reply: EMPTY,
    ..BASE
}];

async fn bind(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let id = path.into_inner();
    let valid = !id.is_empty()
        && id.len() <= REGISTRATION_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ApiError::BadRequest(format!(
            "jPushId must be 1 to {REGISTRATION_ID_MAX} letters, digits, '-' or '_'"
        )));
    }
    state
        .repo
        .run(BindPush {
            registration_id: id,
            uid: call.uid.clone(),
            client_type: call.client.client_type.code(),
            now: state.clock.now_ms(),
        })
        .await?;
    ok(Empty {})
}
