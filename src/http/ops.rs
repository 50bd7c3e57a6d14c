//! Operations endpoints outside the signed API: liveness and readiness.

use actix_web::web;
use huddle_actors::repo::Ping;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::{envelope, of, Auth, Method, Res, RouteDoc, Tag, BASE};
use crate::envelope::{ok, ApiError, ApiResult, SUCCESS};
use crate::state::AppState;

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Get,
        path: "/healthz",
        handler: Some(|r| r.to(healthz)),
        tags: &[Tag::Ops],
        summary: "Liveness: the process serves HTTP",
        auth: Auth::None,
        reply: envelope(Res::Schema(of::<Health>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/readyz",
        handler: Some(|r| r.to(readyz)),
        tags: &[Tag::Ops],
        summary: "Readiness: the database answers (503 otherwise)",
        auth: Auth::None,
        reply: envelope(Res::Schema(of::<Ready>()), SUCCESS),
        errors: &[503],
        ..BASE
    },
];

/// Liveness.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `up`.
    status: &'static str,
}

/// Readiness.
#[derive(Serialize, ToSchema)]
pub(crate) struct Ready {
    /// `ready`.
    status: &'static str,
    /// `up`.
    database: &'static str,
    /// `up`; only with Redis (several nodes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    redis: Option<&'static str>,
    /// This node's id; only with Redis.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    node: Option<String>,
}

/// The process is up and serving HTTP.
async fn healthz() -> ApiResult {
    ok(Health { status: "up" })
}

/// The database (and Redis, when configured) answer; otherwise 503.
async fn readyz(state: web::Data<AppState>) -> ApiResult {
    if let Err(e) = state.repo.run(Ping).await {
        tracing::warn!(error = %e, "not ready");
        return Err(ApiError::Unavailable("database unreachable".into()));
    }
    let ready = Ready {
        status: "ready",
        database: "up",
        redis: None,
        node: None,
    };
    let Some(cluster) = &state.cluster else {
        return ok(ready);
    };
    if !cluster.is_ready() {
        return Err(ApiError::Unavailable(format!(
            "redis unreachable (node {})",
            cluster.node_id()
        )));
    }
    ok(Ready {
        redis: Some("up"),
        node: Some(cluster.node_id().to_string()),
        ..ready
    })
}
