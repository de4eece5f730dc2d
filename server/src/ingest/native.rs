//! `POST /api/v1/events`: Bugle's own ingest API (PROTOCOLS.md §1, README "Native event API").
//!
//! Auth: `Authorization: Bearer <project token>` or `X-Bugle-Token`. Body: one event JSON,
//! optionally compressed. Answers `200 {"uuid", "issue_id"}` only after the commit.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::json;

use super::{content_encoding, decode_body, outcome, prepare, read_body};
use crate::error::ApiError;
use crate::event::Event;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::Committed;

fn project_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let headers = req.headers();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let token = bearer.or_else(|| headers.get("x-bugle-token").and_then(|v| v.to_str().ok()));
    match token.map(str::trim) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(ApiError::Unauthorized(
            "missing project token: send `Authorization: Bearer <project token>`".into(),
        )),
    }
}

/// `X-Bugle-Dropped: N`: events the client lost since its last delivered send (the Rust client
/// sends it; capped so one bad header cannot wrap the counter).
fn client_dropped(req: &HttpRequest) -> Option<u64> {
    let n: u64 = req
        .headers()
        .get("x-bugle-dropped")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (n > 0).then_some(n.min(1_000_000))
}

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/events", ingest_event);
}

pub async fn ingest_event(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = handle(&req, payload, &state).await;
    state
        .metrics
        .count_event("native", &outcome(result.as_ref()));
    let committed = result?;
    Ok(HttpResponse::Ok().json(json!({
        "uuid": committed.uuid,
        "issue_id": committed.issue_id,
    })))
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Committed, ApiError> {
    let received_at = Utc::now();
    let admitted = state.keys.admit(&state.store, project_token(req)?).await?;
    let limits = &state.config.ingest;
    let body = read_body(req, payload, limits.max_body_bytes).await?;
    let json = decode_body(content_encoding(req), &body, limits.max_event_bytes)?;
    let event: Event = crate::json::parse(&json, "event")?;
    let occurrence = prepare(
        admitted.project_id,
        &admitted.rules,
        event,
        "native",
        None,
        received_at,
    )?;
    let committed = state.writer.submit(occurrence).await?;
    // Counted once the event is committed: the client resends the count with its next event
    // otherwise, and only a caller holding a project key can raise it.
    if let Some(n) = client_dropped(req) {
        state.metrics.count_client_dropped(n);
    }
    Ok(committed)
}
