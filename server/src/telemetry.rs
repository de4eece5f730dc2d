//! Logs go to stderr (stdout is for command output, e.g. `listening on ...`).

use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// `RUST_LOG` (or `BUGLE_LOG`) picks the level; `info` by default.
pub fn init(format: LogFormat) {
    let filter = std::env::var("BUGLE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Header carrying the request id: taken from the client (or a proxy) when sane, else made.
pub const REQUEST_ID: &str = "x-request-id";

/// A request id for logs and the response: the caller's when it looks like an id.
pub fn request_id(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// An error and its causes on one line, `outer: cause: root`, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Gives every request an id (in its log lines and the `x-request-id` response header) and
/// logs method, path (never the query: it may hold a key), status and duration.
pub fn log_request<S>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
{
    let id = request_id(req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", id = %id);
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let started = Instant::now();
    let response = span.in_scope(|| srv.call(req));
    async move {
        let mut response = response.await?;
        if let Ok(value) = HeaderValue::from_str(&id) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID), value);
        }
        tracing::debug!(%method, path, status = response.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3, "request");
        Ok(response)
    }
    .instrument(span)
}

#[cfg(test)]
mod tests {
    use super::request_id;

    #[test]
    fn request_ids_are_kept_when_sane_and_made_otherwise() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        assert_eq!(request_id(None).len(), 32);
        assert_eq!(request_id(Some("bad id\n")).len(), 32);
    }
}
