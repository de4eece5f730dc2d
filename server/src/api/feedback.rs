//! User feedback and attachments through the API.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn project_feedback(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = state.store.project_by_slug(&slug).await?;
    user.check_project(&state, project.id).await?;
    let feedback = state.store.project_feedback(project.id, 200).await?;
    Ok(HttpResponse::Ok().json(json!({ "feedback": feedback })))
}

/// An attachment's bytes, as a download (never rendered inline).
pub async fn download_attachment(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (info, data) = state.store.attachment(*id).await?;
    user.check_project(&state, info.project_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(info.name)],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(data))
}
