//! `health`: liveness and readiness. Documented at the root (`/health`, `/ready`), where
//! probes expect them, and also answered under the API's base path.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::ApiState;
use crate::wire::health::HealthStatus;

const TAG: &str = "health";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready);
}

/// `GET /health`.
pub(crate) async fn liveness() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus::UP)
}

/// `GET /ready`: 200 UP or 503 DOWN, as the app's readiness check says.
pub(crate) async fn readiness(state: web::Data<ApiState>) -> HttpResponse {
    if (state.readiness)().await {
        HttpResponse::Ok().json(HealthStatus::UP)
    } else {
        HttpResponse::ServiceUnavailable().json(HealthStatus::DOWN)
    }
}

/// Liveness
///
/// The process answers requests.
#[utoipa::path(
    tag = TAG,
    operation_id = "health",
    responses((status = 200, description = "Alive", body = HealthStatus,
        example = json!({"status": "UP"})))
)]
#[get("/health")]
async fn health() -> HttpResponse {
    liveness().await
}

/// Readiness
///
/// The service can serve requests: its database is reachable.
#[utoipa::path(
    tag = TAG,
    operation_id = "ready",
    responses(
        (status = 200, description = "Ready", body = HealthStatus, example = json!({"status": "UP"})),
        (status = 503, description = "Not ready", body = HealthStatus, example = json!({"status": "DOWN"}))
    )
)]
#[get("/ready")]
async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    readiness(state).await
}
