//! Saved searches through the API: the same ones the dashboard lists beside the issue list
//! (the token's user's own, then those shared in the project), saved with a query that must
//! parse, and deleted by their owner.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::saved_searches::SavedSearch;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSearch {
    name: String,
    query: String,
    #[serde(default)]
    shared: bool,
    /// The user's default for the list (replaces their previous default).
    #[serde(default)]
    default: bool,
}

fn search_json(s: &SavedSearch) -> Value {
    json!({
        "id": s.id,
        "user_id": s.user_id,
        "project_id": s.project_id,
        "name": s.name,
        "query": s.query,
        "shared": s.shared,
        "default": s.is_default,
    })
}

async fn list(
    user: &ApiUser,
    state: &AppState,
    project_id: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let saved = state.store.saved_searches(user.0.id, project_id).await?;
    let searches: Vec<Value> = saved.iter().map(search_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "searches": searches })))
}

async fn save(
    user: &ApiUser,
    state: &AppState,
    project_id: Option<i64>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let body: NewSearch = crate::json::parse(body, "saved search")?;
    let saved = state
        .store
        .save_search(
            user.0.id,
            project_id,
            &body.name,
            &body.query,
            body.shared,
            body.default,
        )
        .await?;
    Ok(HttpResponse::Created().json(search_json(&saved)))
}

pub async fn project_searches(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    list(&user, &state, Some(project.id)).await
}

pub async fn save_project_search(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    save(&user, &state, Some(project.id), &body).await
}

/// The searches of the list across projects.
pub async fn all_searches(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    list(&user, &state, None).await
}

pub async fn save_search(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    save(&user, &state, None, &body).await
}

/// Deletes one of the user's own searches (someone else's shared one is 404).
pub async fn delete_search(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.store.delete_saved_search(user.0.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
