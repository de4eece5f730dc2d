//! Sentry's user feedback API, as older SDKs and scripts call it:
//! `POST /api/0/projects/{organization}/{project}/user-feedback/` with
//! `{"event_id", "name", "email", "comments"}`, authenticated with the project's DSN
//! (`Authorization: DSN <dsn>`) or an API token (`Authorization: Bearer <token>`). One Bugle is
//! one organization: its slug is not checked; the project is the slug in the path.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::read_body;
use crate::error::ApiError;
use crate::protocol::sentry;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::feedback::NewFeedback;

pub fn routes(r: &mut Routes) {
    for path in [
        "/api/0/projects/{org}/{project}/user-feedback/",
        "/api/0/projects/{org}/{project}/user-feedback",
    ] {
        r.post(path, submit);
    }
}

#[derive(Deserialize)]
struct Report {
    event_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    comments: Option<String>,
}

async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, slug) = path.into_inner();
    let project = state.store.project_by_slug(&slug).await?;
    let auth = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if let Some(dsn) = auth.strip_prefix("DSN ") {
        let (key, _) = sentry::key_from_dsn(dsn.trim()).ok_or_else(|| {
            ApiError::Unauthorized("the DSN in `Authorization: DSN` does not parse".into())
        })?;
        let admitted = state.keys.admit(&state.store, &key).await?;
        if admitted.project_id != project.id {
            return Err(ApiError::Forbidden(format!(
                "the DSN is not project {slug}'s"
            )));
        }
    } else if let Some(token) = auth.strip_prefix("Bearer ") {
        // As for the JSON API: a write token, limited to the project if limited at all.
        let (user, scope) = state
            .store
            .api_token_user(token.trim())
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown API token".into()))?;
        if !scope.write {
            return Err(ApiError::Forbidden(
                "this API token is read-only: create one with `--scope write`".into(),
            ));
        }
        let in_scope = scope
            .projects
            .as_ref()
            .is_none_or(|ids| ids.contains(&project.id));
        if !in_scope || !state.store.can_access(&user, project.id).await? {
            return Err(ApiError::NotFound("not found".into()));
        }
    } else {
        return Err(ApiError::Unauthorized(
            "send `Authorization: DSN <the project's DSN>` or `Authorization: Bearer <API token>`"
                .into(),
        ));
    }
    let body = read_body(&req, payload, state.config.ingest.max_body_bytes).await?;
    let report: Report = crate::json::parse(&body, "user feedback")?;
    let event = match report.event_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(
            Uuid::parse_str(id)
                .map_err(|_| ApiError::BadRequest(format!("event_id {id:?} is not an event id")))?,
        ),
    };
    let comments = report
        .comments
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("`comments` is required".into()))?;
    let feedback = NewFeedback {
        project_id: project.id,
        event,
        name: report.name.filter(|n| !n.trim().is_empty()),
        email: report.email.filter(|e| !e.trim().is_empty()),
        comments,
        url: None,
        source: "api",
    };
    let id = state.store.add_feedback(&feedback).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": id.to_string(),
        "eventID": event.map(|e| e.simple().to_string()),
        "name": feedback.name,
        "email": feedback.email,
        "comments": feedback.comments,
        "dateCreated": crate::time::json(crate::time::now_ms()),
    })))
}
