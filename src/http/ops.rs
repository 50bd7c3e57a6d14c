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

/// The database answers; otherwise 503.
async fn readyz(state: web::Data<AppState>) -> ApiResult {
    match state.repo.run(Ping).await {
        Ok(()) => ok(json!({"status": "ready", "database": "up"})),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::Unavailable("database unreachable".into()))
        }
    }
}
