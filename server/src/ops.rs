//! What operators and orchestrators call: liveness, readiness, Prometheus metrics.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::routes::Routes;
use crate::state::AppState;
use crate::telemetry::error_chain;

pub fn routes(r: &mut Routes) {
    r.get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/metrics", metrics_page);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 503 with the reason when the database does not answer `SELECT 1` within the store timeout,
/// or (SQLite) answers but its folder is read-only or out of room, or another process holds its
/// write lock, so no commit can succeed.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let timeout = state.config.store_timeout();
    let reason = match tokio::time::timeout(timeout, state.store.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("database unavailable: {}", error_chain(&e))),
        Err(_) => Some(format!(
            "database did not answer within {} ms",
            timeout.as_millis()
        )),
    };
    let reason = reason.or_else(|| {
        let problem = state.store.disk_problem()?;
        Some(format!("database unavailable: {problem}"))
    });
    let reason = reason.or_else(|| {
        state.store.write_locked().then(|| {
            format!(
                "database unavailable: another process holds the SQLite database's write lock; \
                 ingest gave up on it after {} ms",
                timeout.as_millis()
            )
        })
    });
    if let Some(detail) = reason {
        return Err(ApiError::Unavailable {
            detail,
            retry_after: 2,
        });
    }
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
    let mut body = state.metrics.render_all(
        state.writer.queue_depth(),
        state.store.pending_notifications().await.ok(),
        state.store.channel_alerts_by_kind().await.ok().as_deref(),
    );
    if let Some(bytes) = state.store.sqlite_memory_bytes() {
        body.push_str(
            "# HELP bugle_sqlite_memory_bytes What SQLite holds in memory: every connection's \
             page cache and statements.\n# TYPE bugle_sqlite_memory_bytes gauge\n",
        );
        body.push_str(&format!("bugle_sqlite_memory_bytes {bytes}\n"));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body))
}
