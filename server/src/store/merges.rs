//! The hashes that point to issues: listing them, merging issues, splitting hashes off.

use sqlx::Row;

use super::ingest::{IssueDelta, NewOccurrence};
use super::issues::Issue;
use super::{Store, StoreError, StoreResult};
use crate::grouping::GROUPING_VERSION;
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

    /// Splits `hashes` off `issue_id` into a new issue, with the retained occurrences in `moved`
    /// (their row ids, re-prepared so their counts and breakdowns are known): the new issue gets
    /// those hashes, occurrences and counts, the old one keeps the rest. Later events with the
    /// moved hashes land in the new issue. Occurrences retention already removed stay counted
    /// where they were.
    pub async fn split_issue(
        &self,
        issue_id: i64,
        hashes: &[String],
        moved: &[(i64, NewOccurrence)],
        actor: &str,
    ) -> StoreResult<Issue> {
        let old = self.issue(issue_id).await?;
        if old.status == "merged" {
            return Err(StoreError::Conflict(
                "the issue was merged into another".into(),
            ));
        }
        let own: Vec<String> = self
            .issue_hashes(issue_id)
            .await?
            .into_iter()
            .map(|h| h.hash)
            .collect();
        if hashes.is_empty() {
            return Err(StoreError::Invalid(
                "choose at least one hash to split off".into(),
            ));
        }
        if let Some(h) = hashes.iter().find(|h| !own.contains(h)) {
            return Err(StoreError::Invalid(format!(
                "hash {h} does not point to issue {issue_id}"
            )));
        }
        if own.iter().all(|h| hashes.contains(h)) {
            return Err(StoreError::Invalid(
                "keep at least one hash on the issue: splitting off all of them moves nothing"
                    .into(),
            ));
        }
        let mut delta = IssueDelta::default();
        for (_, occ) in moved {
            delta.add(occ);
        }
        let now = now_ms();
        let (first_seen, last_seen) = if delta.count > 0 {
            (delta.first_seen, delta.last_seen)
        } else {
            (now, now)
        };
        let (title, culprit, level, components) = match moved.first() {
            Some((_, occ)) => (
                occ.grouping.title.clone(),
                occ.grouping.culprit.clone(),
                occ.level.as_str().to_owned(),
                serde_json::to_string(&occ.grouping.components).expect("strings serialize"),
            ),
            None => (
                old.title.clone(),
                old.culprit.clone(),
                old.level.clone(),
                serde_json::to_string(&old.components).expect("strings serialize"),
            ),
        };
        let mut tx = self.begin_write().await?;
        let new_id: i64 = sqlx::query(
            "INSERT INTO issues (project_id, title, culprit, level, status, count, first_seen, \
             last_seen, grouping_version, components) \
             VALUES ($1, $2, $3, $4, 'unresolved', $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(old.project_id)
        .bind(&title)
        .bind(&culprit)
        .bind(&level)
        .bind(delta.count)
        .bind(first_seen)
        .bind(last_seen)
        .bind(i64::from(GROUPING_VERSION))
        .bind(&components)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for hash in hashes {
            sqlx::query("UPDATE issue_hashes SET issue_id = $3 WHERE issue_id = $1 AND hash = $2")
                .bind(issue_id)
                .bind(hash)
                .bind(new_id)
                .execute(&mut *tx)
                .await?;
        }
        let mut count = 0i64;
        for (id, _) in moved {
            count +=
                sqlx::query("UPDATE occurrences SET issue_id = $3 WHERE id = $2 AND issue_id = $1")
                    .bind(issue_id)
                    .bind(id)
                    .bind(new_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as i64;
        }
        if count != delta.count {
            return Err(StoreError::Conflict(
                "occurrences changed while splitting (retention ran?): try again".into(),
            ));
        }
        sqlx::query("UPDATE issues SET count = CASE WHEN count > $2 THEN count - $2 ELSE 0 END WHERE id = $1")
            .bind(issue_id)
            .bind(count)
            .execute(&mut *tx)
            .await?;
        for (&hour, &n) in &delta.hours {
            for (sql, issue, n) in [
                (
                    "UPDATE issue_hourly SET count = count - $3 WHERE issue_id = $1 AND hour = $2",
                    issue_id,
                    n,
                ),
                (
                    "INSERT INTO issue_hourly (issue_id, hour, count) VALUES ($1, $2, $3)",
                    new_id,
                    n,
                ),
            ] {
                sqlx::query(sql)
                    .bind(issue)
                    .bind(hour)
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for ((facet, value), &(n, last)) in &delta.facets {
            sqlx::query(
                "UPDATE issue_facets SET count = count - $4 WHERE issue_id = $1 AND facet = $2 AND value = $3",
            )
            .bind(issue_id)
            .bind(*facet)
            .bind(value)
            .bind(n)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_id)
            .bind(*facet)
            .bind(value)
            .bind(n)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        }
        for sql in [
            "DELETE FROM issue_hourly WHERE issue_id = $1 AND count <= 0",
            "DELETE FROM issue_facets WHERE issue_id = $1 AND count <= 0",
        ] {
            sqlx::query(sql).bind(issue_id).execute(&mut *tx).await?;
        }
        let what = format!("{} hash(es), {count} occurrence(s)", hashes.len());
        for (issue, detail) in [
            (
                issue_id,
                format!("{what} split off into #{new_id} by {actor}"),
            ),
            (new_id, format!("{what} split off #{issue_id} by {actor}")),
        ] {
            sqlx::query(
                "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'split', $3)",
            )
            .bind(issue)
            .bind(now)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.issue(new_id).await
    }
}
