//! Grouping through the API: a project's rules (read, save, preview) and splitting hashes off
//! an issue.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::issues::visible_issue;
use super::{issue_json, ApiUser};
use crate::error::ApiError;
use crate::grouping::rules::{self, Rules};
use crate::regroup;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesBody {
    rules: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unmerge {
    hashes: Vec<String>,
}

/// Rules as typed; a parse error is a 400 naming its line and column.
pub fn parse_rules(text: &str) -> Result<Rules, ApiError> {
    rules::parse(text).map_err(|e| ApiError::BadRequest(format!("invalid grouping rules: {e}")))
}

pub async fn get_rules(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let settings = state.store.project_settings(project.id).await?;
    Ok(HttpResponse::Ok().json(json!({"rules": settings.grouping_rules.unwrap_or_default()})))
}

pub async fn put_rules(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let body: RulesBody = crate::json::parse(&body, "request")?;
    parse_rules(&body.rules)?;
    state
        .store
        .set_grouping_rules(project.id, Some(&body.rules))
        .await?;
    // New events of this instance use them at once; other instances within the key cache's TTL.
    state.keys.forget_project(project.id);
    Ok(HttpResponse::Ok().json(json!({"rules": body.rules})))
}

pub async fn preview_rules(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let body: RulesBody = crate::json::parse(&body, "request")?;
    let rules = parse_rules(&body.rules)?;
    let preview = regroup::preview_project(&state.store, project.id, &rules).await?;
    Ok(HttpResponse::Ok().json(preview))
}

pub async fn unmerge(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Unmerge = crate::json::parse(&body, "request")?;
    let issue = visible_issue(&state, &user, *id).await?;
    let new = regroup::split_off(&state.store, &issue, &body.hashes, &user.0.email).await?;
    Ok(HttpResponse::Ok().json(issue_json(&new)))
}
