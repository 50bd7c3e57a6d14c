//! Operations endpoints outside the signed API: liveness and readiness.

use actix_web::web;
use huddle_actors::repo::Ping;
use serde_json::json;

use crate::envelope::{ok, ApiError, ApiResult};
use crate::state::AppState;

/// `/healthz`, `/readyz`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

/// The process is up and serving HTTP.
async fn healthz() -> ApiResult {
    ok(json!({"status": "up"}))
}

/// The database (and Redis, when configured) answer; otherwise 503.
async fn readyz(state: web::Data<AppState>) -> ApiResult {
    if let Err(e) = state.repo.run(Ping).await {
        tracing::warn!(error = %e, "not ready");
        return Err(ApiError::Unavailable("database unreachable".into()));
    }
    let Some(cluster) = &state.cluster else {
        return ok(json!({"status": "ready", "database": "up"}));
    };
    if !cluster.is_ready() {
        return Err(ApiError::Unavailable(format!(
            "redis unreachable (node {})",
            cluster.node_id()
        )));
    }
    ok(json!({
        "status": "ready",
        "database": "up",
        "redis": "up",
        "node": cluster.node_id(),
    }))
}
