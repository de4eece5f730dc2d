//! A project's releases a page at a time, newest first in release order, with what is shown
//! beside each (events and issues from the issues' release facets, issues first seen in it,
//! deploys, session health). Everything is read for the shown versions only, through indexes
//! that start with the version, so a page costs the same at 10 releases or 10,000.

use std::collections::HashMap;

use sqlx::Row;

use super::issues::{Issue, ISSUE_COLUMNS};
use super::release_health::ReleaseHealth;
use super::releases::{Deploy, Release, DEPLOY_COLUMNS, RELEASE_COLUMNS};
use super::sql::{Arg, SqlBuilder};
use super::{Store, StoreResult};

/// What the lists show of one release besides its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleaseCounts {
    /// Events of the release, over its issues.
    pub events: i64,
    /// Issues with at least one event of the release.
    pub issues: i64,
    /// Issues first seen in the release.
    pub new_issues: i64,
}

/// `?, ?, ...` and the values for an `IN` list of versions.
fn version_list(versions: &[&str]) -> (String, Vec<Arg>) {
    (
        vec!["?"; versions.len()].join(", "),
        versions
            .iter()
            .map(|v| Arg::Text((*v).to_owned()))
            .collect(),
    )
}

impl Store {
    /// Up to `limit` releases from `offset` on, newest first, and whether more follow.
    pub async fn releases_page(
        &self,
        project_id: i64,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(Vec<Release>, bool)> {
        let order = self.release_order(project_id).await?;
        let mut versions: Vec<&str> = order.newest_first().skip(offset).take(limit + 1).collect();
        let more = versions.len() > limit;
        versions.truncate(limit);
        if versions.is_empty() {
            return Ok((Vec::new(), more));
        }
        let (list, args) = version_list(&versions);
        let mut q = SqlBuilder::new(&format!("SELECT {RELEASE_COLUMNS} FROM releases WHERE "));
        q.push("project_id = ?", vec![Arg::Int(project_id)]);
        q.push(&format!(" AND version IN ({list})"), args);
        let mut by_version: HashMap<String, Release> = q
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Release::from_row(row).map(|r| (r.version.clone(), r)))
            .collect::<StoreResult<_>>()?;
        let releases = versions
            .iter()
            .filter_map(|v| by_version.remove(*v))
            .collect();
        Ok((releases, more))
    }

    /// Events, issues and new issues of each of `versions` (missing: none).
    pub async fn release_counts(
        &self,
        project_id: i64,
        versions: &[&str],
    ) -> StoreResult<HashMap<String, ReleaseCounts>> {
        let mut out: HashMap<String, ReleaseCounts> = HashMap::new();
        if versions.is_empty() {
            return Ok(out);
        }
        let (list, args) = version_list(versions);
        let mut q = SqlBuilder::new(
            "SELECT f.value AS version, CAST(SUM(f.count) AS BIGINT) AS events, COUNT(*) AS issues \
             FROM issue_facets f JOIN issues i ON i.id = f.issue_id WHERE f.facet = 'release' AND ",
        );
        q.push(&format!("f.value IN ({list})"), args);
        q.push(
            " AND i.project_id = ? AND i.status <> 'merged' GROUP BY f.value",
            vec![Arg::Int(project_id)],
        );
        for row in q.query().fetch_all(&self.pool).await? {
            let c = out.entry(row.try_get("version")?).or_default();
            c.events = row.try_get("events")?;
            c.issues = row.try_get("issues")?;
        }
        let (list, args) = version_list(versions);
        let mut q =
            SqlBuilder::new("SELECT first_release AS version, COUNT(*) AS n FROM issues WHERE ");
        q.push("project_id = ?", vec![Arg::Int(project_id)]);
        q.push(
            &format!(
                " AND first_release IN ({list}) AND status <> 'merged' GROUP BY first_release"
            ),
            args,
        );
        for row in q.query().fetch_all(&self.pool).await? {
            out.entry(row.try_get("version")?).or_default().new_issues = row.try_get("n")?;
        }
        Ok(out)
    }

    /// The deploys of the releases with `release_ids`, newest first.
    pub async fn deploys_of(&self, release_ids: &[i64]) -> StoreResult<Vec<Deploy>> {
        if release_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = vec!["?"; release_ids.len()].join(", ");
        let mut q = SqlBuilder::new(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id WHERE "
        ));
        q.push(
            &format!("d.release_id IN ({list}) ORDER BY d.date_finished DESC, d.id DESC"),
            release_ids.iter().map(|&id| Arg::Int(id)).collect(),
        );
        q.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Deploy::from_row)
            .collect()
    }

    /// Issues first seen in a release, most events first, read in one query (the release
    /// page lists them).
    pub async fn new_issues_of(
        &self,
        project_id: i64,
        version: &str,
        limit: i64,
    ) -> StoreResult<Vec<Issue>> {
        let mut q = SqlBuilder::new(&format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE "));
        q.push(
            "project_id = ? AND first_release = ? AND status <> 'merged' ORDER BY count DESC, id LIMIT ?",
            vec![
                Arg::Int(project_id),
                Arg::Text(version.to_owned()),
                Arg::Int(limit),
            ],
        );
        self.fetch_issues(&q).await
    }

    /// Session health of each of `versions`, per environment.
    pub async fn health_of(
        &self,
        project_id: i64,
        versions: &[&str],
    ) -> StoreResult<ReleaseHealth> {
        if versions.is_empty() {
            return Ok(ReleaseHealth::new());
        }
        let (list, args) = version_list(versions);
        let mut sessions = SqlBuilder::new(
            "SELECT release, environment, status, CAST(SUM(count) AS BIGINT) AS n \
             FROM release_sessions WHERE ",
        );
        sessions.push("project_id = ?", vec![Arg::Int(project_id)]);
        sessions.push(
            &format!(" AND release IN ({list}) GROUP BY release, environment, status"),
            args,
        );
        let (list, args) = version_list(versions);
        let mut users = SqlBuilder::new(
            "SELECT release, environment, COUNT(*) AS n, CAST(SUM(crashed) AS BIGINT) AS crashed \
             FROM release_users WHERE ",
        );
        users.push("project_id = ?", vec![Arg::Int(project_id)]);
        users.push(
            &format!(" AND release IN ({list}) GROUP BY release, environment"),
            args,
        );
        let sessions = sessions.query().fetch_all(&self.pool).await?;
        let users = users.query().fetch_all(&self.pool).await?;
        super::release_health::health_from_rows(&sessions, &users)
    }
}
