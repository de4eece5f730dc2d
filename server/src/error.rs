//! The one error type at the HTTP boundary and the one place that picks its status.
//!
//! Bodies are `{"detail": "...", "causes": [...]}` (the shape Sentry SDKs read). A 5xx is logged
//! with its whole cause chain and the client sees only that something failed on our side.

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::store::writer::SubmitError;
use crate::store::StoreError;
use crate::telemetry::error_chain;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedEncoding(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{detail}")]
    Overloaded { detail: String, retry_after: u64 },
    #[error("the project's rate limit of {limit} events per minute is used up, retry in {retry_after} s")]
    RateLimited { limit: u64, retry_after: u64 },
    #[error("{detail}")]
    Unavailable { detail: String, retry_after: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// Seconds a client should wait before retrying, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. }
            | ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedEncoding(_) => "unsupported_encoding",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The text shown to the client: precise for its mistakes, opaque for ours.
    pub fn detail(&self) -> String {
        self.to_string()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Overloaded { .. } | ApiError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %error_chain(self), "request failed");
        } else {
            tracing::debug!(%status, error = %self, "request rejected");
        }
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            if !status.is_server_error() {
                causes.push(s.to_string());
            }
            source = s.source();
        }
        let mut resp = HttpResponse::build(status);
        if let Some(secs) = self.retry_after() {
            resp.insert_header((RETRY_AFTER, HeaderValue::from(secs)));
        }
        resp.json(json!({ "detail": self.detail(), "causes": causes }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            e if e.is_unavailable() => {
                tracing::error!(error = %error_chain(&e), "database unavailable");
                ApiError::Unavailable {
                    detail: "the database is unavailable, retry later".into(),
                    retry_after: 2,
                }
            }
            e if e.is_transient() => ApiError::Unavailable {
                detail: "the database is busy, retry later".into(),
                retry_after: 1,
            },
            e => ApiError::Internal(e.into()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::QueueFull => ApiError::Overloaded {
                detail: "the server is busy storing other events, retry later".into(),
                retry_after: 1,
            },
            SubmitError::Stopped => ApiError::Unavailable {
                detail: "the server is shutting down, retry later".into(),
                retry_after: 5,
            },
            SubmitError::Store(_) => ApiError::Unavailable {
                detail: "the event could not be stored, retry later".into(),
                retry_after: 5,
            },
            SubmitError::TimedOut(t) => ApiError::Unavailable {
                detail: format!(
                    "the database did not store the event within {} ms, retry later",
                    t.as_millis()
                ),
                retry_after: 2,
            },
        }
    }
}
