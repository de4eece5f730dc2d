//! Browser security reports, Sentry's way: `POST /api/{project_id}/security/` (and Sentry's
//! older `/api/{project_id}/csp-report/`) with `?sentry_key=KEY`, optionally
//! `&sentry_environment=ENV&sentry_release=REL`, named in a `report-uri` / `report-to`
//! directive, a `Reporting-Endpoints` header, or the `report-uri` of `Public-Key-Pins`,
//! `Expect-CT` and `Expect-Staple`. The bodies and what they become are
//! [`crate::protocol::security`]'s.
//!
//! Browsers send no auth header, so the key is the query's; `X-Sentry-Auth` or
//! `Authorization: Sentry ...` also work. No key is 401, an unknown one or another project's
//! 403, as on the other Sentry routes. The `Content-Type` is not trusted (browsers send
//! `application/csp-report`, `application/reports+json`, `application/json` or
//! `application/expect-ct-report+json`): the report type is read from the body. Undecodable
//! JSON, or JSON of no known report shape, is 400 with `{"detail"}`.
//!
//! Success is `201 Created` with an empty body, as Sentry answers (browsers read only the
//! status, and the Reporting API only cares that it is 2xx), once every occurrence of the
//! request is committed; `200` with an empty body when there was nothing to store (an empty
//! batch, or one of only non-security report types, which are counted in
//! `bugle_skipped_items_total{type="report:<type>"}` and dropped). Each report counts against
//! the project's rate limit; reports past it are dropped and the answer is 429. Cross-origin
//! Reporting API uploads are preflighted: OPTIONS is answered with the CORS headers of the
//! other ingest routes.

use actix_web::http::header::USER_AGENT;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use futures_util::future::join_all;

use super::sentry::{check_project, key_from_request, preflight, with_cors};
use super::{content_encoding, decode_body, prepare, read_body, Admitted};
use crate::error::ApiError;
use crate::protocol::security::{self, Received, Report, Skipped};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::Committed;

pub fn routes(r: &mut Routes) {
    for path in [
        "/api/{project_id}/security/",
        "/api/{project_id}/security",
        "/api/{project_id}/csp-report/",
        "/api/{project_id}/csp-report",
    ] {
        r.post(path, ingest)
            .add(actix_web::http::Method::OPTIONS, path, preflight);
    }
}

/// The metrics protocol label of these occurrences.
const PROTOCOL: &str = "security";

async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    project_id: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = match read_reports(&req, payload, &project_id, &state).await {
        Ok(request) => commit(request, &state).await,
        Err(e) => {
            // A refusal of the whole request; each report's own outcome is counted by `commit`.
            state.metrics.count_event(PROTOCOL, e.reason());
            Err(e)
        }
    };
    let response = match result {
        Ok(stored) if stored > 0 => HttpResponse::Created().finish(),
        Ok(_) => HttpResponse::Ok().finish(),
        Err(e) => e.error_response(),
    };
    with_cors(response)
}

/// A request let in, with its reports mapped.
struct Incoming {
    project_id: i64,
    key: String,
    admitted: Admitted,
    reports: Vec<Report>,
    received_at: DateTime<Utc>,
}

/// Checks the key (before reading the body), reads and maps the body.
async fn read_reports(
    req: &HttpRequest,
    payload: web::Payload,
    project_id: &str,
    state: &AppState,
) -> Result<Incoming, ApiError> {
    let received_at = Utc::now();
    let project_id: i64 = project_id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no project {project_id:?}")))?;
    let key = key_from_request(req).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing Sentry key: add ?sentry_key=KEY to the report URI (or send X-Sentry-Auth)"
                .into(),
        )
    })?;
    let admitted = check_project(state, &key, project_id).await?;
    let limits = &state.config.ingest;
    let body = read_body(req, payload, limits.max_body_bytes).await?;
    let body = decode_body(content_encoding(req), &body, limits.max_event_bytes)?;

    let query = Query::of(req);
    let user_agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
    let received = Received {
        at: received_at,
        environment: query.environment.as_deref(),
        release: query.release.as_deref(),
        user_agent,
    };
    let reports = security::reports_from_body(&body, &received)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    for skipped in &reports.skipped {
        match skipped {
            Skipped::OtherType(ty) => state.metrics.count_skipped_item(&format!("report:{ty}")),
            Skipped::Invalid(reason) => {
                tracing::debug!(%reason, "security report entry skipped");
                state.metrics.count_skipped_item("report:invalid");
            }
        }
    }
    Ok(Incoming {
        project_id,
        key,
        admitted,
        reports: reports.reports,
        received_at,
    })
}

/// Commits the reports, all at once; returns how many were stored. The first report was
/// counted against the rate limit when the key was checked, each further one counts too:
/// those past the limit are dropped and the answer is the limit's 429.
async fn commit(request: Incoming, state: &AppState) -> Result<usize, ApiError> {
    let total = request.reports.len();
    let mut limited = None;
    let mut occurrences = Vec::with_capacity(total);
    for (i, report) in request.reports.into_iter().enumerate() {
        if i > 0 {
            if let Err(e) = state.keys.admit(&state.store, &request.key).await {
                for _ in i..total {
                    state.metrics.count_event(PROTOCOL, e.reason());
                }
                limited = Some(e);
                break;
            }
        }
        let prepared = prepare(
            request.project_id,
            &request.admitted.rules,
            report.event,
            PROTOCOL,
            Some(&report.raw),
            request.received_at,
        );
        match prepared {
            Ok(occurrence) => occurrences.push(occurrence),
            Err(e) => {
                state.metrics.count_event(PROTOCOL, e.reason());
                return Err(e);
            }
        }
    }
    let results = join_all(
        occurrences
            .into_iter()
            .map(|occurrence| state.writer.submit(occurrence)),
    )
    .await;
    let mut stored = 0;
    let mut failure = None;
    for result in results {
        let result: Result<Committed, ApiError> = result.map_err(ApiError::from);
        state
            .metrics
            .count_event(PROTOCOL, &super::outcome(result.as_ref()));
        match result {
            Ok(_) => stored += 1,
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    match failure.or(limited) {
        Some(e) => {
            tracing::debug!(stored, total, error = %e, "security reports not all stored");
            Err(e)
        }
        None => Ok(stored),
    }
}

/// `?sentry_environment=` and `?sentry_release=` (empty values are absent).
#[derive(Default)]
struct Query {
    environment: Option<String>,
    release: Option<String>,
}

impl Query {
    fn of(req: &HttpRequest) -> Query {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let mut query = Query::default();
        for (k, v) in pairs {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            match k.as_str() {
                "sentry_environment" => query.environment = Some(v.to_owned()),
                "sentry_release" => query.release = Some(v.to_owned()),
                _ => {}
            }
        }
        query
    }
}
