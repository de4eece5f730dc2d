use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

pub async fn list_projects(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let projects = state.store.projects_for_user(&user.0).await?;
    let projects: Vec<_> = projects
        .iter()
        .filter(|p| user.may_see(p.id))
        .map(|p| {
            json!({
                "id": p.id,
                "slug": p.slug,
                "name": p.name,
                "created_at": time::json(p.created_at),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "projects": projects })))
}
