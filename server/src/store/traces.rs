//! Occurrences by trace id, whichever protocol brought them (OTLP, Sentry `contexts.trace`,
//! the Bugle client): the "errors in this trace" of an occurrence, across projects.

use sqlx::Row;

use super::{Store, StoreError, StoreResult};

/// One occurrence of a trace, with what the list shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceOccurrence {
    pub id: i64,
    pub uuid: String,
    pub project_id: i64,
    pub project_name: String,
    pub issue_id: i64,
    pub title: String,
    /// The client's time, unix ms.
    pub timestamp: i64,
    /// The event's `service` tag (OTLP's `service.name`, or set by hand).
    pub service: Option<String>,
}

/// Occurrences read for one trace at most; the rest are not listed.
pub const MAX_TRACE_OCCURRENCES: i64 = 200;

impl Store {
    /// The occurrences of `trace_id` (as stored: lowercase hex) in `project_ids`, oldest first.
    pub async fn trace_occurrences(
        &self,
        trace_id: &str,
        project_ids: &[i64],
    ) -> StoreResult<Vec<TraceOccurrence>> {
        if project_ids.is_empty() {
            return Ok(Vec::new());
        }
        // The projects in the query, not after it: the limit counts visible occurrences only,
        // however many a trace has in projects the viewer may not see.
        let visible: Vec<String> = (0..project_ids.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT o.id, o.uuid, o.project_id, o.issue_id, o.timestamp, o.event, \
             i.title, p.name AS project_name FROM occurrences o \
             JOIN issues i ON i.id = o.issue_id JOIN projects p ON p.id = o.project_id \
             WHERE o.trace_id = $1 AND o.project_id IN ({}) ORDER BY o.timestamp, o.id LIMIT $2",
            visible.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(trace_id).bind(MAX_TRACE_OCCURRENCES);
        for id in project_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for r in rows {
            let project_id: i64 = r.try_get("project_id")?;
            let blob: Vec<u8> = r.try_get("event")?;
            let json = zstd::bulk::decompress(&blob, 64 * 1024 * 1024)
                .map_err(|e| StoreError::Invalid(format!("stored event is corrupt: {e}")))?;
            let event: serde_json::Value = serde_json::from_slice(&json)
                .map_err(|e| StoreError::Invalid(format!("stored event is corrupt: {e}")))?;
            out.push(TraceOccurrence {
                id: r.try_get("id")?,
                uuid: r.try_get("uuid")?,
                project_id,
                project_name: r.try_get("project_name")?,
                issue_id: r.try_get("issue_id")?,
                title: r.try_get("title")?,
                timestamp: r.try_get("timestamp")?,
                service: event["tags"]["service"].as_str().map(str::to_owned),
            });
        }
        Ok(out)
    }
}
