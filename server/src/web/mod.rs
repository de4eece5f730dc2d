//! The dashboard: server-rendered HTML (askama templates compiled into the binary), static
//! assets embedded, a little progressive JavaScript.
//!
//! Safety rules kept here for every page: templates escape every value (an event's text is
//! attacker-controlled); every page checks the signed-in user may see the project (404
//! otherwise, as the API does); every POST goes through [`session::Posted`], which checks the
//! session's CSRF token; responses carry a Content-Security-Policy without inline script.

mod account;
mod alert_rules;
mod attachments;
mod channels;
mod feedback;
mod grouping;
mod issues;
mod ownership;
mod projects;
mod releases;
mod search;
mod services;
mod session;
mod view;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;

use crate::routes::Routes;
use crate::store::StoreError;

pub use session::{announce_setup_link, SESSION_COOKIE};

pub fn routes(r: &mut Routes) {
    r.get("/", session::home)
        .get("/static/{name}", static_asset);
    session::routes(r);
    projects::routes(r);
    issues::routes(r);
    search::routes(r);
    grouping::routes(r);
    channels::routes(r);
    alert_rules::routes(r);
    ownership::routes(r);
    attachments::routes(r);
    feedback::routes(r);
    releases::routes(r);
    services::routes(r);
    account::routes(r);
}

/// Bytes as people read them: `812 B`, `14.2 KB`, `3.1 MB`.
pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    match b {
        b if b < 1024.0 => format!("{bytes} B"),
        b if b < 1024.0 * 1024.0 => format!("{:.1} KB", b / 1024.0),
        b if b < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MB", b / 1048576.0),
        b => format!("{:.1} GB", b / 1073741824.0),
    }
}

/// No script but our own file, no inline style or script, no framing, forms only to us.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML response with the dashboard's security headers.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    resp.body(body)
}

pub fn render(page: &impl Template) -> Result<HttpResponse, WebError> {
    render_with(StatusCode::OK, page)
}

/// A page answering a form that needs fixing (401, 422, ...).
pub fn render_with(status: StatusCode, page: &impl Template) -> Result<HttpResponse, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(html(status, body))
}

/// After a POST: back to a page with GET (so a reload does not resend the form).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Errors of dashboard pages, shown as pages.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("this page does not exist, or you have no access to it")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// Not signed in: go to the login page, then come back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("the database is busy; try again in a moment")]
    Busy,
    /// Down, restarting, read-only or out of disk: nothing the user did, nothing to fix here.
    #[error("the database is unavailable right now; the server keeps trying to reach it. Try again in a minute (operators: see /readyz and the server log)")]
    Unavailable,
    #[error("something went wrong on our side; the server log has the details")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Conflict(m) => WebError::Conflict(m),
            StoreError::Invalid(m) => WebError::BadRequest(m),
            e if e.is_unavailable() => {
                tracing::error!(error = %crate::telemetry::error_chain(&e), "database unavailable");
                WebError::Unavailable
            }
            e if e.is_transient() => WebError::Busy,
            e => WebError::Internal(e.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Busy | WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignIn { next } = self {
            let to = format!("/login?next={}", view::url_encode(next));
            return redirect(&to);
        }
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %crate::telemetry::error_chain(self), "page failed");
        }
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: self.to_string(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title>Error".into());
        let mut resp = html(status, body);
        if matches!(
            self,
            WebError::TooManyAttempts(_) | WebError::Busy | WebError::Unavailable
        ) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        resp
    }
}

/// Static files, compiled in. Names carry no version, so caches revalidate after an hour.
async fn static_asset(name: web::Path<String>) -> Result<HttpResponse, WebError> {
    let (body, kind): (&'static str, &str) = match name.as_str() {
        "app.css" => (include_str!("../../static/app.css"), "text/css"),
        "app.js" => (include_str!("../../static/app.js"), "text/javascript"),
        "favicon.svg" => (include_str!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return Err(WebError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(format!("{kind}; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}
