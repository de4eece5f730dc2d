//! What users said about errors (Sentry user reports and the feedback widget). A report names
//! the event it is about, which may be stored before or after it, or never: its issue is known
//! then, or found later through the event's occurrence.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError, StoreResult};
use crate::time::now_ms;

/// Longest comment kept, in chars; the widget allows about 4,000.
pub const MAX_COMMENTS: usize = 8_192;

#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub project_id: i64,
    pub event: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub comments: String,
    pub url: Option<String>,
    /// `user_report`, `feedback` or `api`.
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub id: i64,
    pub project_id: i64,
    /// The event's uuid (32 hex digits), when the report named one.
    pub event_uuid: Option<String>,
    pub issue_id: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub comments: String,
    pub url: Option<String>,
    pub source: String,
    pub created_at: i64,
}

/// Feedback with its issue: the one stored, else the one its event's occurrence is in now.
const FEEDBACK: &str = "SELECT f.id, f.project_id, f.event_uuid, \
     COALESCE(f.issue_id, (SELECT o.issue_id FROM occurrences o \
       WHERE o.project_id = f.project_id AND o.uuid = f.event_uuid)) AS issue_id, \
     f.name, f.email, f.comments, f.url, f.source, f.created_at FROM feedback f";

impl Feedback {
    fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Self> {
        Ok(Feedback {
            id: r.try_get("id")?,
            project_id: r.try_get("project_id")?,
            event_uuid: r.try_get("event_uuid")?,
            issue_id: r.try_get("issue_id")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            comments: r.try_get("comments")?,
            url: r.try_get("url")?,
            source: r.try_get("source")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

impl Store {
    /// Stores a report; its issue is recorded when its event is already stored.
    pub async fn add_feedback(&self, f: &NewFeedback) -> StoreResult<i64> {
        if f.comments.trim().is_empty() {
            return Err(StoreError::Invalid("feedback needs comments".into()));
        }
        let uuid = f.event.map(|u| u.simple().to_string());
        let comments: String = f.comments.chars().take(MAX_COMMENTS).collect();
        let id = sqlx::query(
            "INSERT INTO feedback (project_id, event_uuid, issue_id, name, email, comments, url, \
             source, created_at) VALUES ($1, $2, (SELECT issue_id FROM occurrences \
             WHERE project_id = $1 AND uuid = $2), $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(f.project_id)
        .bind(uuid.as_deref())
        .bind(f.name.as_deref())
        .bind(f.email.as_deref())
        .bind(&comments)
        .bind(f.url.as_deref())
        .bind(f.source)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?
        .try_get("id")?;
        Ok(id)
    }

    /// An issue's feedback, newest first.
    pub async fn issue_feedback(&self, issue_id: i64) -> StoreResult<Vec<Feedback>> {
        let rows = sqlx::query(&format!(
            "SELECT * FROM ({FEEDBACK}) AS x WHERE issue_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200"
        ))
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Feedback::from_row).collect()
    }

    /// The feedback about one event.
    pub async fn event_feedback(&self, project_id: i64, event: Uuid) -> StoreResult<Vec<Feedback>> {
        let rows = sqlx::query(&format!(
            "{FEEDBACK} WHERE f.project_id = $1 AND f.event_uuid = $2 ORDER BY f.created_at DESC, f.id DESC"
        ))
        .bind(project_id)
        .bind(event.simple().to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Feedback::from_row).collect()
    }

    /// A project's newest feedback.
    pub async fn project_feedback(
        &self,
        project_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Feedback>> {
        let rows = sqlx::query(&format!(
            "{FEEDBACK} WHERE f.project_id = $1 ORDER BY f.created_at DESC, f.id DESC LIMIT $2"
        ))
        .bind(project_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Feedback::from_row).collect()
    }

    /// How many reports each of these issues has (issues without any are left out).
    pub async fn feedback_counts(&self, issue_ids: &[i64]) -> StoreResult<HashMap<i64, i64>> {
        let mut out = HashMap::new();
        if issue_ids.is_empty() {
            return Ok(out);
        }
        let list = issue_ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // Ids are integers from the store, not user input.
        let rows = sqlx::query(&format!(
            "SELECT issue_id, COUNT(*) AS n FROM ({FEEDBACK} WHERE f.project_id IN \
             (SELECT project_id FROM issues WHERE id IN ({list}))) AS x \
             WHERE issue_id IN ({list}) GROUP BY issue_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            out.insert(r.try_get("issue_id")?, r.try_get("n")?);
        }
        Ok(out)
    }
}
