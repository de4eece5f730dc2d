//! Downloading an event's attachments: always as a download, never rendered by the browser
//! (an attachment is whatever a client sent, HTML included).

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};

use super::issues::visible_issue;
use super::session::SignedIn;
use super::WebError;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    r.get("/attachments/{id}", download);
}

async fn download(
    me: SignedIn,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (info, data) = state.store.attachment(*id).await?;
    let occurrence = state
        .store
        .occurrence_issue(info.occurrence_id)
        .await?
        .ok_or(WebError::NotFound)?;
    // Who may see the issue may download its files; anyone else gets 404, as for pages.
    visible_issue(&state, me.user(), occurrence).await?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(info.name.clone())],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(data))
}
