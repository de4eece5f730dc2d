//! What operators and orchestrators call: liveness, readiness, Prometheus metrics.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_page));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await?;
    if !state.writer.is_running() {
        return Err(ApiError::Unavailable {
            detail: "the writer has stopped".into(),
            retry_after: 5,
        });
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

async fn metrics_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return Err(ApiError::Unauthorized(
                "metrics need `Authorization: Bearer <metrics token>`".into(),
            ));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render_with(
            state.writer.queue_depth(),
            state.store.pending_notifications().await.ok(),
        )))
}
