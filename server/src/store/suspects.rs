//! What an issue's page names as its suspects: the deploy after which it appeared (first, or
//! again after a resolution) and the commits of that release and the few before it that
//! changed files of its in-app frames (`releases::suspects`).

use serde::Serialize;
use serde_json::Value;

use super::issues::Issue;
use super::releases::{Deploy, DEPLOY_COLUMNS};
use super::{Store, StoreResult};
use crate::releases::suspects::{in_app_files, suspect_commits, SuspectCommit, RELEASES_BEFORE};

/// Deploys looked at before the issue appeared.
const DEPLOYS_SCANNED: i64 = 200;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Suspects {
    /// When the issue appeared: first seen, or its latest regression.
    pub appeared_at: i64,
    /// The release it appeared in (first seen in, or last seen in for a regression).
    pub release: Option<String>,
    pub deploy: Option<Deploy>,
    pub commits: Vec<SuspectCommit>,
}

impl Store {
    /// The suspects of `issue`, whose latest event is `event`.
    pub async fn suspects(&self, issue: &Issue, event: Option<&Value>) -> StoreResult<Suspects> {
        let regressed = issue.regressed_at.filter(|&t| t > issue.first_seen);
        let appeared_at = regressed.unwrap_or(issue.first_seen);
        let release = match regressed {
            Some(_) => self.issue_release_state(issue.id).await?.last_release,
            None => issue.first_release.clone(),
        };
        let environments: Vec<String> = self
            .issue_facet(issue.id, "environment")
            .await?
            .into_iter()
            .map(|(env, _)| env)
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id \
             WHERE d.project_id = $1 AND d.date_finished <= $2 \
             AND d.status IN ('succeeded', 'started') \
             ORDER BY d.date_finished DESC, d.id DESC LIMIT $3"
        ))
        .bind(issue.project_id)
        .bind(appeared_at)
        .bind(DEPLOYS_SCANNED)
        .fetch_all(&self.pool)
        .await?;
        let deploys: Vec<Deploy> = rows
            .iter()
            .map(Deploy::from_row)
            .collect::<StoreResult<_>>()?;
        // Where the issue was seen (every environment when its events name none).
        let in_its_env =
            |d: &&Deploy| environments.is_empty() || environments.contains(&d.environment);
        // The latest deploy of its release before it appeared; else the latest deploy there.
        let deploy = deploys
            .iter()
            .filter(in_its_env)
            .find(|d| Some(&d.version) == release.as_ref())
            .or_else(|| deploys.iter().find(in_its_env))
            .cloned();

        let mut commits = Vec::new();
        let files = event.map(in_app_files).unwrap_or_default();
        let culprit = release.as_ref().or(deploy.as_ref().map(|d| &d.version));
        if let (Some(culprit), false) = (culprit, files.is_empty()) {
            let releases = self.releases(issue.project_id).await?;
            if let Some(at) = releases.iter().position(|r| &r.version == culprit) {
                let window: Vec<(&str, &Value)> = releases[at..]
                    .iter()
                    .take(RELEASES_BEFORE + 1)
                    .map(|r| (r.version.as_str(), &r.commits))
                    .collect();
                commits = suspect_commits(&window, &files);
            }
        }
        Ok(Suspects {
            appeared_at,
            release,
            deploy,
            commits,
        })
    }
}
