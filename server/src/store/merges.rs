//! The hashes that point to issues: listing them, merging issues, splitting hashes off.

use sqlx::Row;

use super::issues::Issue;
use super::{Store, StoreError, StoreResult};
use crate::time::now_ms;

/// One hash that points to an issue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssueHash {
    pub hash: String,
    /// The grouping algorithm's version that made it.
    pub version: i64,
}

impl Store {
    /// The hashes that point to an issue, newest algorithm first.
    pub async fn issue_hashes(&self, issue_id: i64) -> StoreResult<Vec<IssueHash>> {
        let rows = sqlx::query(
            "SELECT hash, grouping_version FROM issue_hashes WHERE issue_id = $1 \
             ORDER BY grouping_version DESC, hash",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IssueHash {
                    hash: r.try_get("hash")?,
                    version: r.try_get("grouping_version")?,
                })
            })
            .collect()
    }

    /// Moves everything of `source` into `target`: occurrences, counters, hashes (so later events
    /// of either kind land in `target`). `source` stays as a pointer (`status = merged`).
    pub async fn merge_issues(&self, source: i64, target: i64) -> StoreResult<Issue> {
        if source == target {
            return Err(StoreError::Invalid(
                "an issue cannot be merged into itself".into(),
            ));
        }
        let (src, dst) = (self.issue(source).await?, self.issue(target).await?);
        if src.project_id != dst.project_id {
            return Err(StoreError::Invalid(
                "issues of different projects cannot be merged".into(),
            ));
        }
        if src.status == "merged" || dst.status == "merged" {
            return Err(StoreError::Conflict("the issue was already merged".into()));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let statements = [
            "UPDATE occurrences SET issue_id = $2 WHERE issue_id = $1",
            "UPDATE issue_hashes SET issue_id = $2 WHERE issue_id = $1",
            "UPDATE issues SET merged_into = $2 WHERE merged_into = $1",
            "INSERT INTO issue_hourly (issue_id, hour, count) \
             SELECT $2, hour, count FROM issue_hourly WHERE issue_id = $1 \
             ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count",
            "DELETE FROM issue_hourly WHERE issue_id = $1",
            "INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) \
             SELECT $2, facet, value, count, last_seen FROM issue_facets WHERE issue_id = $1 \
             ON CONFLICT (issue_id, facet, value) DO UPDATE SET count = issue_facets.count + excluded.count, \
             last_seen = CASE WHEN issue_facets.last_seen < excluded.last_seen \
             THEN excluded.last_seen ELSE issue_facets.last_seen END",
            "DELETE FROM issue_facets WHERE issue_id = $1",
        ];
        for sql in statements {
            sqlx::query(sql)
                .bind(source)
                .bind(target)
                .execute(&mut *tx)
                .await?;
        }
        // Counts are added from the row as it is now, inside the transaction, so events
        // committed meanwhile are not lost.
        sqlx::query(
            "UPDATE issues SET count = issues.count + s.count, \
             first_seen = CASE WHEN issues.first_seen > s.first_seen THEN s.first_seen ELSE issues.first_seen END, \
             last_seen = CASE WHEN issues.last_seen < s.last_seen THEN s.last_seen ELSE issues.last_seen END \
             FROM (SELECT count, first_seen, last_seen FROM issues WHERE id = $1) AS s WHERE issues.id = $2",
        )
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE issues SET status = 'merged', merged_into = $2 WHERE id = $1")
            .bind(source)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        for (issue, detail) in [
            (source, format!("merged into #{target}")),
            (target, format!("#{source} merged in")),
        ] {
            sqlx::query(
                "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'merged', $3)",
            )
            .bind(issue)
            .bind(now)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.issue(target).await
    }
}
