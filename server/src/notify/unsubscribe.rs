//! `/unsubscribe/{token}`: the link in every mail. GET shows what will happen and a button;
//! POST (the button, or a mail client's RFC 8058 one-click request) stops the mail.

use actix_web::{web, HttpResponse};

use super::templates::escape;
use crate::error::ApiError;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    r.get("/unsubscribe/{token}", confirm)
        .post("/unsubscribe/{token}", unsubscribe);
}

fn page(body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Bugle mail</title></head>\
             <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto\">{body}</body></html>"
        ))
}

async fn confirm(
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let email = state
        .store
        .subscription_email(&token)
        .await?
        .ok_or_else(|| ApiError::NotFound("unknown unsubscribe link".into()))?;
    Ok(page(&format!(
        "<h1>Stop Bugle mail?</h1><p>No more notification mail will be sent to <b>{}</b>.</p>\
         <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
        escape(&email)
    )))
}

async fn unsubscribe(
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let email = state.store.unsubscribe(&token).await?;
    tracing::info!("an address unsubscribed from mail");
    Ok(page(&format!(
        "<h1>Unsubscribed</h1><p><b>{}</b> will get no more notification mail.</p>",
        escape(&email)
    )))
}
