//! Services seen in OpenTelemetry spans: spans and error spans per service and hour, and the
//! calls between services (`service_hours`, `service_edges`). Spans are counted, not stored;
//! each request adds its counts with `+= excluded`, so several instances add up exactly.

use std::collections::BTreeMap;

use sqlx::Row;

use super::search::tag_facet;
use super::{Store, StoreResult};

/// What one OTLP request adds, all in the hour it was received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanCounts {
    /// Unix ms at the start of the hour.
    pub hour: i64,
    /// (spans, error spans) by service.
    pub services: BTreeMap<String, (i64, i64)>,
    /// Calls by (caller, callee).
    pub edges: BTreeMap<(String, String), i64>,
}

impl SpanCounts {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.edges.is_empty()
    }
}

/// One service of a project, over a window of hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    pub name: String,
    pub spans: i64,
    pub error_spans: i64,
    /// Unresolved or regressed issues whose occurrences carry this service.
    pub open_issues: i64,
    /// Unix ms of the latest occurrence of this service, any time.
    pub last_error: Option<i64>,
    /// Calls to other services in the window: (callee, calls), most calls first.
    pub calls: Vec<(String, i64)>,
}

impl ServiceSummary {
    /// Error spans per span, 0 without spans.
    pub fn error_rate(&self) -> f64 {
        if self.spans == 0 {
            0.0
        } else {
            self.error_spans as f64 / self.spans as f64
        }
    }
}

impl Store {
    /// Adds a request's span counts in one transaction (rows in key order, so two instances
    /// adding to the same rows on PostgreSQL cannot deadlock).
    pub async fn add_span_counts(&self, project_id: i64, counts: &SpanCounts) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (service, (spans, errors)) in &counts.services {
            sqlx::query(
                "INSERT INTO service_hours (project_id, service, hour, spans, error_spans) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, service, hour) DO UPDATE \
                 SET spans = service_hours.spans + excluded.spans, \
                 error_spans = service_hours.error_spans + excluded.error_spans",
            )
            .bind(project_id)
            .bind(service.as_str())
            .bind(counts.hour)
            .bind(*spans)
            .bind(*errors)
            .execute(&mut *tx)
            .await?;
        }
        for ((caller, callee), calls) in &counts.edges {
            sqlx::query(
                "INSERT INTO service_edges (project_id, caller, callee, hour, calls) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, caller, callee, hour) \
                 DO UPDATE SET calls = service_edges.calls + excluded.calls",
            )
            .bind(project_id)
            .bind(caller.as_str())
            .bind(callee.as_str())
            .bind(counts.hour)
            .bind(*calls)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The project's services with spans or calls since `since` (unix ms, rounded down to its
    /// hour), or with open issues; by name.
    pub async fn services(&self, project_id: i64, since: i64) -> StoreResult<Vec<ServiceSummary>> {
        let hour = since - since.rem_euclid(crate::time::HOUR_MS);
        let mut by_name: BTreeMap<String, ServiceSummary> = BTreeMap::new();

        let hours = sqlx::query(
            "SELECT service, CAST(SUM(spans) AS BIGINT) AS spans, \
             CAST(SUM(error_spans) AS BIGINT) AS errors FROM service_hours \
             WHERE project_id = $1 AND hour >= $2 GROUP BY service",
        )
        .bind(project_id)
        .bind(hour)
        .fetch_all(&self.pool)
        .await?;
        let edges = sqlx::query(
            "SELECT caller, callee, CAST(SUM(calls) AS BIGINT) AS calls FROM service_edges \
             WHERE project_id = $1 AND hour >= $2 GROUP BY caller, callee",
        )
        .bind(project_id)
        .bind(hour)
        .fetch_all(&self.pool)
        .await?;
        let issues = sqlx::query(
            "SELECT f.value AS service, \
             CAST(SUM(CASE WHEN i.status IN ('unresolved', 'regressed') THEN 1 ELSE 0 END) AS BIGINT) \
             AS open, \
             MAX(f.last_seen) AS last_seen \
             FROM issue_facets f JOIN issues i ON i.id = f.issue_id \
             WHERE i.project_id = $1 AND f.facet = $2 AND i.status <> 'merged' \
             GROUP BY f.value",
        )
        .bind(project_id)
        .bind(tag_facet("service"))
        .fetch_all(&self.pool)
        .await?;

        let blank = |name: &str| ServiceSummary {
            name: name.to_owned(),
            spans: 0,
            error_spans: 0,
            open_issues: 0,
            last_error: None,
            calls: Vec::new(),
        };
        for r in &hours {
            let name: String = r.try_get("service")?;
            let s = by_name.entry(name.clone()).or_insert_with(|| blank(&name));
            s.spans = sum(r, "spans")?;
            s.error_spans = sum(r, "errors")?;
        }
        for r in &edges {
            let caller: String = r.try_get("caller")?;
            let callee: String = r.try_get("callee")?;
            by_name
                .entry(callee.clone())
                .or_insert_with(|| blank(&callee));
            let s = by_name
                .entry(caller.clone())
                .or_insert_with(|| blank(&caller));
            s.calls.push((callee, sum(r, "calls")?));
        }
        for r in &issues {
            let open = sum(r, "open")?;
            let name: String = r.try_get("service")?;
            // A service seen only in issues long closed and without recent spans is history.
            if open == 0 && !by_name.contains_key(&name) {
                continue;
            }
            let s = by_name.entry(name.clone()).or_insert_with(|| blank(&name));
            s.open_issues = open;
            s.last_error = r.try_get("last_seen")?;
        }
        let mut out: Vec<ServiceSummary> = by_name.into_values().collect();
        for s in &mut out {
            s.calls
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        Ok(out)
    }
}

fn sum(r: &sqlx::any::AnyRow, col: &str) -> StoreResult<i64> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}
