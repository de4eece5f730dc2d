//! Projects: their ingest keys, members, settings, and the summaries the projects page shows.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::users::User;
use super::{Store, StoreError, StoreResult};
use crate::secrets;
use crate::time::{now_ms, HOUR_MS};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Project {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

impl Project {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Project {
            id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// What an ingest key grants: which project, under which rate limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    pub project_id: i64,
    pub rate_limit_per_minute: Option<i64>,
    /// The project's grouping rules as typed (see `grouping::rules`).
    pub grouping_rules: Option<String>,
}

const PROJECT_COLUMNS: &str = "id, slug, name, created_at";

/// A URL- and shell-friendly slug: lowercase ASCII letters, digits and single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "project".to_owned()
    } else {
        slug.chars().take(50).collect()
    }
}

#[derive(Debug, Clone)]
pub struct ProjectKey {
    pub id: i64,
    pub token: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectSettings {
    pub rate_limit_per_minute: Option<i64>,
    pub retention_days: Option<i64>,
    pub max_occurrences_per_issue: Option<i64>,
    /// Grouping rules as typed (`grouping::rules`); applied to new events.
    pub grouping_rules: Option<String>,
}

/// One row of the projects page.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub project: Project,
    pub open_issues: i64,
    /// Occurrences per hour over the last 24 hours, oldest first (24 values).
    pub hourly: Vec<i64>,
}

impl Store {
    /// Creates a project with a unique slug (derived from the name unless given) and its first
    /// ingest key; returns both.
    pub async fn create_project(
        &self,
        name: &str,
        slug: Option<&str>,
    ) -> StoreResult<(Project, String)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a project needs a name".into()));
        }
        let base = slugify(slug.unwrap_or(name));
        let mut tx = self.begin_write().await?;
        let mut candidate = base.clone();
        let mut n = 1;
        loop {
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1")
                .bind(&candidate)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_none() {
                break;
            }
            if slug.is_some() {
                return Err(StoreError::Conflict(format!("slug {candidate:?} is taken")));
            }
            n += 1;
            candidate = format!("{base}-{n}");
        }
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO projects (slug, name, created_at) VALUES ($1, $2, $3) RETURNING {PROJECT_COLUMNS}"
        ))
        .bind(&candidate)
        .bind(name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let project = Project::from_row(&row)?;
        let token = secrets::new_project_key();
        sqlx::query("INSERT INTO project_keys (project_id, token, created_at) VALUES ($1, $2, $3)")
            .bind(project.id)
            .bind(&token)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((project, token))
    }

    pub async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects ORDER BY name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Project::from_row).collect()
    }

    /// The projects a user may see: all for admins, their memberships otherwise.
    pub async fn projects_for_user(&self, user: &User) -> StoreResult<Vec<Project>> {
        if user.is_admin {
            return self.list_projects().await;
        }
        let rows = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects p WHERE EXISTS \
             (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1) \
             ORDER BY name, id"
        ))
        .bind(user.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Project::from_row).collect()
    }

    pub async fn project_by_slug(&self, slug: &str) -> StoreResult<Project> {
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Project::from_row(&row)
    }

    /// The project an ingest key belongs to, unless the key is unknown or revoked.
    pub async fn project_for_key(&self, token: &str) -> StoreResult<Option<KeyOwner>> {
        let row = sqlx::query(
            "SELECT k.project_id, p.rate_limit_per_minute, p.grouping_rules FROM project_keys k \
             JOIN projects p ON p.id = k.project_id WHERE k.token = $1 AND k.revoked_at IS NULL",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(KeyOwner {
                project_id: r.try_get("project_id")?,
                rate_limit_per_minute: r.try_get("rate_limit_per_minute")?,
                grouping_rules: r.try_get("grouping_rules")?,
            })
        })
        .transpose()
    }

    /// Sets how many events per minute a project may send (`None`: unlimited).
    pub async fn set_rate_limit(
        &self,
        project_id: i64,
        per_minute: Option<i64>,
    ) -> StoreResult<()> {
        if per_minute.is_some_and(|n| n < 1) {
            return Err(StoreError::Invalid(
                "a rate limit must be at least 1 per minute".into(),
            ));
        }
        sqlx::query("UPDATE projects SET rate_limit_per_minute = $2 WHERE id = $1")
            .bind(project_id)
            .bind(per_minute)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The project's active ingest keys, oldest first.
    pub async fn project_keys(&self, project_id: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT token FROM project_keys WHERE project_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn add_member(&self, project_id: i64, user_id: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO project_members (project_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(project_id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn can_access(&self, user: &User, project_id: i64) -> StoreResult<bool> {
        if user.is_admin {
            return Ok(true);
        }
        let member: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM project_members WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project_id)
        .bind(user.id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(member.is_some())
    }

    /// All of a project's ingest keys, revoked ones included, oldest first.
    pub async fn project_key_list(&self, project_id: i64) -> StoreResult<Vec<ProjectKey>> {
        let rows = sqlx::query(
            "SELECT id, token, created_at, revoked_at FROM project_keys WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectKey {
                    id: r.try_get("id")?,
                    token: r.try_get("token")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    pub async fn create_project_key(&self, project_id: i64) -> StoreResult<String> {
        let token = secrets::new_project_key();
        sqlx::query("INSERT INTO project_keys (project_id, token, created_at) VALUES ($1, $2, $3)")
            .bind(project_id)
            .bind(&token)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    pub async fn revoke_project_key(&self, project_id: i64, key_id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE project_keys SET revoked_at = $3 WHERE id = $1 AND project_id = $2 \
             AND revoked_at IS NULL",
        )
        .bind(key_id)
        .bind(project_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn project_members(&self, project_id: i64) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.is_admin, u.password_hash FROM project_members m \
             JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(User::from_row).collect()
    }

    pub async fn remove_member(&self, project_id: i64, user_id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn project_settings(&self, project_id: i64) -> StoreResult<ProjectSettings> {
        let row = sqlx::query(
            "SELECT rate_limit_per_minute, retention_days, max_occurrences_per_issue, \
             grouping_rules FROM projects WHERE id = $1",
        )
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ProjectSettings {
            rate_limit_per_minute: row.try_get("rate_limit_per_minute")?,
            retention_days: row.try_get("retention_days")?,
            max_occurrences_per_issue: row.try_get("max_occurrences_per_issue")?,
            grouping_rules: row.try_get("grouping_rules")?,
        })
    }

    /// Saves a project's grouping rules (`None` or blank: none). The caller has parsed them.
    pub async fn set_grouping_rules(
        &self,
        project_id: i64,
        rules: Option<&str>,
    ) -> StoreResult<()> {
        let rules = rules.filter(|r| !r.trim().is_empty());
        let done = sqlx::query("UPDATE projects SET grouping_rules = $2 WHERE id = $1")
            .bind(project_id)
            .bind(rules)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The projects page: open issues and the last 24 hours per project, summed from the
    /// issues' hourly counters (one index probe per issue, not one row per occurrence).
    pub async fn project_summaries(
        &self,
        projects: Vec<Project>,
    ) -> StoreResult<Vec<ProjectSummary>> {
        let now = now_ms();
        let first_hour = (now / HOUR_MS - 23) * HOUR_MS;
        let mut out = Vec::with_capacity(projects.len());
        for project in projects {
            let open_issues: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM issues WHERE project_id = $1 AND status IN ('unresolved', 'regressed')",
            )
            .bind(project.id)
            .fetch_one(&self.pool)
            .await?;
            let rows = sqlx::query(
                "SELECT h.hour / $3 AS hour, CAST(SUM(h.count) AS BIGINT) AS n FROM issues i \
                 JOIN issue_hourly h ON h.issue_id = i.id AND h.hour >= $2 \
                 WHERE i.project_id = $1 AND i.last_seen >= $2 GROUP BY h.hour",
            )
            .bind(project.id)
            .bind(first_hour)
            .bind(HOUR_MS)
            .fetch_all(&self.pool)
            .await?;
            let mut hourly = vec![0i64; 24];
            for r in rows {
                let hour: i64 = r.try_get("hour")?;
                let slot = hour - first_hour / HOUR_MS;
                if (0..24).contains(&slot) {
                    hourly[slot as usize] += r.try_get::<i64, _>("n")?;
                }
            }
            out.push(ProjectSummary {
                project,
                open_issues,
                hourly,
            });
        }
        Ok(out)
    }
}

/// Marks the project's alert or ownership rules changed, in the transaction that changes
/// them (`project_rules` keeps rules per process by this version). The version is
/// the time in milliseconds (or one more than the last, if that is not older), so a project
/// made later under a reused id never matches rules cached for an earlier one.
pub(super) async fn bump_rules_version<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    project_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE projects SET rules_version = CASE WHEN rules_version >= $2 \
         THEN rules_version + 1 ELSE $2 END WHERE id = $1",
    )
    .bind(project_id)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slugify("Checkout API"), "checkout-api");
        assert_eq!(slugify("  Ümlaut & Co.  "), "mlaut-co");
        assert_eq!(slugify("!!!"), "project");
    }
}
