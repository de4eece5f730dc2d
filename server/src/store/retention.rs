//! Retention: occurrences older than a project's max age, and beyond the newest N of an issue,
//! are deleted in small batches, so ingest is never blocked for long. Issue totals (count,
//! first/last seen, hourly buckets) stay exact: only stored occurrences go. Span counts per
//! service and hour (and the calls between services) older than the project's max age go too.

use sqlx::Row;

use super::{Backend, Store, StoreResult};
use crate::config::RetentionConfig;
use crate::time::now_ms;

/// Rows deleted per transaction: small enough that a writer waiting behind it barely notices.
const BATCH: i64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub max_age_days: i64,
    pub max_occurrences_per_issue: i64,
}

/// The server-wide defaults, from the `retention` settings.
impl From<&RetentionConfig> for RetentionPolicy {
    fn from(c: &RetentionConfig) -> Self {
        RetentionPolicy {
            max_age_days: c.max_age_days,
            max_occurrences_per_issue: c.max_occurrences_per_issue,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub too_old: u64,
    pub over_issue_cap: u64,
    /// Rows of `service_hours` and `service_edges`.
    pub span_counts: u64,
}

impl Store {
    /// One pass over every project; per-project settings override `defaults`.
    pub async fn sweep_retention(&self, defaults: RetentionPolicy) -> StoreResult<Swept> {
        let rows = sqlx::query(
            "SELECT id, retention_days, max_occurrences_per_issue FROM projects ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut swept = Swept::default();
        for row in rows {
            let project: i64 = row.try_get("id")?;
            let days: Option<i64> = row.try_get("retention_days")?;
            let cap: Option<i64> = row.try_get("max_occurrences_per_issue")?;
            let cutoff = now_ms() - days.unwrap_or(defaults.max_age_days).max(1) * 86_400_000;
            swept.too_old += self.delete_older_than(project, cutoff).await?;
            swept.span_counts += self.delete_span_counts_before(project, cutoff).await?;
            let cap = cap.unwrap_or(defaults.max_occurrences_per_issue).max(1);
            swept.over_issue_cap += self.trim_issues(project, cap).await?;
        }
        // Sent mail is kept a week for the cool-down, the cap and the activity history.
        sqlx::query("DELETE FROM outbox WHERE sent_at < $1")
            .bind(now_ms() - 7 * 86_400_000)
            .execute(&self.pool)
            .await?;
        // Minute counts only matter for spike windows.
        sqlx::query("DELETE FROM issue_minutes WHERE minute < $1")
            .bind((now_ms() - 86_400_000) / 60_000)
            .execute(&self.pool)
            .await?;
        // A session can be updated for 5 days (Sentry's rule); its marks are not needed after.
        sqlx::query("DELETE FROM session_marks WHERE at < $1")
            .bind(now_ms() - 5 * 86_400_000)
            .execute(&self.pool)
            .await?;
        if self.backend == Backend::Sqlite && swept != Swept::default() {
            // Give freed pages back to the file system (the database uses incremental vacuum).
            sqlx::query("PRAGMA incremental_vacuum")
                .execute(&self.pool)
                .await?;
        }
        Ok(swept)
    }

    async fn delete_older_than(&self, project: i64, cutoff: i64) -> StoreResult<u64> {
        self.delete_in_batches(
            "DELETE FROM occurrences WHERE id IN (SELECT id FROM occurrences \
             WHERE project_id = $1 AND received_at < $2 LIMIT $3)",
            project,
            cutoff,
        )
        .await
    }

    /// Span counts of hours that ended by `cutoff` (an hour partly within the bound stays),
    /// oldest first, a batch of hours per transaction: a batch that deleted fewer rows than
    /// `BATCH` held fewer hours than that, so it was the last.
    async fn delete_span_counts_before(&self, project: i64, cutoff: i64) -> StoreResult<u64> {
        let mut total = 0;
        for table in ["service_hours", "service_edges"] {
            total += self
                .delete_in_batches(
                    &format!(
                        "DELETE FROM {table} WHERE project_id = $1 AND hour IN \
                         (SELECT DISTINCT hour FROM {table} WHERE project_id = $1 AND hour < $2 \
                         ORDER BY hour LIMIT $3)"
                    ),
                    project,
                    cutoff - crate::time::HOUR_MS + 1,
                )
                .await?;
        }
        Ok(total)
    }

    /// Runs `sql` (binding `a`, `b` and the batch size) until it deletes less than a batch,
    /// one short transaction per batch so waiting writers get their turn.
    async fn delete_in_batches(&self, sql: &str, a: i64, b: i64) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let deleted = sqlx::query(sql)
                .bind(a)
                .bind(b)
                .bind(BATCH)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            total += deleted;
            if deleted < BATCH as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Keeps the newest `cap` occurrences of each issue that may have more.
    async fn trim_issues(&self, project: i64, cap: i64) -> StoreResult<u64> {
        // An issue never stores more occurrences than it counted, so only these can be over.
        let candidates: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM issues WHERE project_id = $1 AND count > $2")
                .bind(project)
                .bind(cap)
                .fetch_all(&self.pool)
                .await?;
        let mut total = 0;
        for issue in candidates {
            let oldest_kept: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM occurrences WHERE issue_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2",
            )
            .bind(issue)
            .bind(cap - 1)
            .fetch_optional(&self.pool)
            .await?;
            let Some(oldest_kept) = oldest_kept else {
                continue;
            };
            total += self
                .delete_in_batches(
                    "DELETE FROM occurrences WHERE id IN (SELECT id FROM occurrences \
                     WHERE issue_id = $1 AND id < $2 LIMIT $3)",
                    issue,
                    oldest_kept,
                )
                .await?;
        }
        Ok(total)
    }

    /// Sets a project's retention (`None`: the server default).
    pub async fn set_retention(
        &self,
        project_id: i64,
        max_age_days: Option<i64>,
        max_occurrences_per_issue: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE projects SET retention_days = $2, max_occurrences_per_issue = $3 WHERE id = $1",
        )
        .bind(project_id)
        .bind(max_age_days)
        .bind(max_occurrences_per_issue)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A consistent copy of the SQLite database, taken while the server runs.
    pub async fn backup_sqlite(&self, path: &str) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(super::StoreError::Invalid(
                "backup copies SQLite databases; for PostgreSQL use pg_dump".into(),
            ));
        }
        if std::path::Path::new(path).exists() {
            return Err(super::StoreError::Invalid(format!("{path} already exists")));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
