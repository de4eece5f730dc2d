//! `GET /api/v1/projects/{slug}/services?hours=24`: the services seen in the project's
//! OpenTelemetry spans, each with its spans and error spans over the last `hours` (1 to 720),
//! error rate, open issues, last error and its calls to other services.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::services::ServiceSummary;
use crate::time::{self, now_ms, HOUR_MS};

/// The longest window asked for: 30 days.
pub const MAX_HOURS: i64 = 720;

#[derive(Deserialize)]
pub(super) struct Window {
    hours: Option<i64>,
}

pub fn service_json(s: &ServiceSummary) -> Value {
    json!({
        "name": s.name,
        "spans": s.spans,
        "error_spans": s.error_spans,
        "error_rate": s.error_rate(),
        "open_issues": s.open_issues,
        "last_error": s.last_error.map(time::json),
        "calls": s.calls.iter().map(|(to, calls)| json!({ "to": to, "calls": calls })).collect::<Vec<_>>(),
    })
}

pub async fn list_services(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    window: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    let hours = window.hours.unwrap_or(24);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(ApiError::BadRequest(format!(
            "hours must be between 1 and {MAX_HOURS}, not {hours}"
        )));
    }
    let project = user.visible_project(&state, &slug).await?;
    let services = state
        .store
        .services(project.id, now_ms() - hours * HOUR_MS)
        .await?;
    let services: Vec<Value> = services.iter().map(service_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "hours": hours, "services": services })))
}
