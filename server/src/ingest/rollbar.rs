//! Rollbar's item API, so every Rollbar SDK can report to Bugle: `POST /api/1/item/`.
//!
//! The project token comes from `X-Rollbar-Access-Token`, the body's `access_token`, or a
//! form-encoded `payload` field holding the JSON. Answers Rollbar's shapes: `200 {"err": 0,
//! "result": {"id": null, "uuid": ..}}` after the commit, `{"err": 1, "message": ..}` with
//! Rollbar's status codes otherwise. A resent `data.uuid` is stored once.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use serde_json::{json, Value};

use super::{content_encoding, decode_body, map_error, prepare, read_body};
use crate::error::ApiError;
use crate::protocol::{fill_client_ip, rollbar};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in ["/api/1/item/", "/api/1/item"] {
        cfg.route(path, web::post().to(ingest));
    }
}

async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = handle(&req, payload, &state).await;
    state
        .metrics
        .count_event("rollbar", &super::outcome(&result));
    match result {
        Ok(committed) => HttpResponse::Ok().json(json!({
            "err": 0,
            "result": {"id": null, "uuid": committed.uuid.to_string()},
        })),
        Err(e) => {
            let mut response = HttpResponse::build(e.status_code());
            if let Some(secs) = e.retry_after() {
                // Read by rollbar.js to back off; the window resets after `secs`.
                let reset = Utc::now().timestamp() + secs as i64;
                response
                    .insert_header(("Retry-After", secs.to_string()))
                    .insert_header(("X-Rate-Limit-Remaining", "0"))
                    .insert_header(("X-Rate-Limit-Reset", reset.to_string()))
                    .insert_header(("X-Rate-Limit-Remaining-Seconds", secs.to_string()));
            }
            // Log as the shared error type does, then answer in Rollbar's shape.
            let _ = e.error_response();
            response.json(json!({"err": 1, "message": e.detail()}))
        }
    }
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<crate::store::Committed, ApiError> {
    let received_at = Utc::now();
    let header_token = req
        .headers()
        .get("x-rollbar-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if let Some(token) = &header_token {
        state.keys.project_for(&state.store, token).await?;
    }
    let limits = &state.config.ingest;
    let body = read_body(req, payload, limits.max_body_bytes).await?;
    let body = decode_body(content_encoding(req), &body, limits.max_event_bytes)?;
    let json = json_body(req, &body)?;
    let body: Value = serde_json::from_slice(&json)
        .map_err(|e| ApiError::BadRequest(format!("payload is not valid JSON: {e}")))?;
    let token = header_token
        .or_else(|| rollbar::rollbar_token(&body).map(str::to_owned))
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "missing access token: send X-Rollbar-Access-Token or access_token".into(),
            )
        })?;
    let project_id = state.keys.project_for(&state.store, &token).await?;
    let data = rollbar::item_data(&body).map_err(map_error)?;
    let mut event = rollbar::event_from_rollbar(data).map_err(map_error)?;
    let peer = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);
    fill_client_ip(&mut event, peer.as_deref());
    let occurrence = prepare(project_id, event, "rollbar", Some(&json), received_at)?;
    Ok(state.writer.submit(occurrence).await?)
}

/// The JSON document: the body itself, or the `payload` field of a form-encoded body.
fn json_body(req: &HttpRequest, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok(body.to_vec());
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid form body: {e}")))?;
    fields
        .into_iter()
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_bytes())
        .ok_or_else(|| ApiError::BadRequest("form body has no `payload` field".into()))
}
