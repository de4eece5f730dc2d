//! What the dashboard needs beyond ingest and the JSON API: sign-in sessions, login
//! throttling, one-time password links, user and project administration, project summaries.

use sqlx::Row;

use super::admin::{Project, User, USER_COLUMNS};
use super::{now_ms, Store, StoreError, StoreResult};
use crate::secrets;

/// A signed-in browser: who, and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// The first start's setup: creates the first admin.
    FirstAdmin,
    /// An existing user (created by an admin) chooses a password.
    SetPassword(i64),
}

#[derive(Debug, Clone)]
pub struct ProjectKey {
    pub id: i64,
    pub token: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectSettings {
    pub rate_limit_per_minute: Option<i64>,
    pub retention_days: Option<i64>,
    pub max_occurrences_per_issue: Option<i64>,
}

/// One row of the projects page.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub project: Project,
    pub open_issues: i64,
    /// Occurrences per hour over the last 24 hours, oldest first (24 values).
    pub hourly: Vec<i64>,
}

pub const HOUR_MS: i64 = 3_600_000;

impl Store {
    /// Starts a session; returns the cookie value (shown once, stored hashed).
    pub async fn create_session(&self, user_id: i64, ttl_ms: i64) -> StoreResult<String> {
        let token = secrets::new_session_token();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secrets::token_hash(&token))
        .bind(user_id)
        .bind(secrets::new_session_token())
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The live session behind a cookie value, if any.
    pub async fn session(&self, token: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.is_admin, u.password_hash, s.csrf FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(secrets::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                user: User::from_row(&r)?,
                csrf: r.try_get("csrf")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(secrets::token_hash(token))
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed sign-in under each key (e.g. the email and the client address).
    pub async fn record_login_failure(&self, keys: &[&str]) -> StoreResult<()> {
        let now = now_ms();
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(*key)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        // Old rows are of no use; dropping them here keeps the table small without a job.
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now - 24 * HOUR_MS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn login_failures_since(&self, key: &str, since: i64) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// A one-time link token, valid for `ttl_ms`.
    pub async fn create_password_link(
        &self,
        purpose: LinkPurpose,
        ttl_ms: i64,
    ) -> StoreResult<String> {
        let token = secrets::new_session_token();
        let now = now_ms();
        let user_id = match purpose {
            LinkPurpose::FirstAdmin => None,
            LinkPurpose::SetPassword(id) => Some(id),
        };
        sqlx::query(
            "INSERT INTO password_links (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(secrets::token_hash(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// What an unused, unexpired link is for, and for whom.
    pub async fn password_link(
        &self,
        token: &str,
    ) -> StoreResult<Option<(LinkPurpose, Option<User>)>> {
        let row = sqlx::query(
            "SELECT user_id FROM password_links WHERE token_hash = $1 AND used_at IS NULL \
             AND expires_at > $2",
        )
        .bind(secrets::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        match row.try_get::<Option<i64>, _>("user_id")? {
            None => Ok(Some((LinkPurpose::FirstAdmin, None))),
            Some(id) => Ok(Some((
                LinkPurpose::SetPassword(id),
                Some(self.user(id).await?),
            ))),
        }
    }

    /// Uses a link once: creates the first admin or sets the user's password. A setup link
    /// stops working as soon as any user exists, so a leaked log line grants nothing later.
    pub async fn redeem_password_link(
        &self,
        token: &str,
        email: Option<&str>,
        password_hash: &str,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE password_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
             AND expires_at > $2 RETURNING user_id",
        )
        .bind(secrets::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Invalid("this link has expired or was already used".into()))?;
        let user_id = match row.try_get::<Option<i64>, _>("user_id")? {
            Some(id) => {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(id)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&mut *tx)
                    .await?;
                if users > 0 {
                    return Err(StoreError::Conflict(
                        "setup is done: an administrator exists; sign in instead".into(),
                    ));
                }
                let email = email.unwrap_or_default().trim().to_lowercase();
                if !email.contains('@') || email.len() > 254 {
                    return Err(StoreError::Invalid(format!(
                        "{email:?} is not an email address"
                    )));
                }
                sqlx::query_scalar(
                    "INSERT INTO users (email, password_hash, is_admin, created_at) \
                     VALUES ($1, $2, 1, $3) RETURNING id",
                )
                .bind(&email)
                .bind(password_hash)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        self.user(user_id).await
    }

    pub async fn user(&self, id: i64) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        User::from_row(&row)
    }

    pub async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(User::from_row).collect()
    }

    /// Sets a new password and ends the user's other sessions.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(secrets::token_hash(keep_session))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
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
            "SELECT rate_limit_per_minute, retention_days, max_occurrences_per_issue \
             FROM projects WHERE id = $1",
        )
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ProjectSettings {
            rate_limit_per_minute: row.try_get("rate_limit_per_minute")?,
            retention_days: row.try_get("retention_days")?,
            max_occurrences_per_issue: row.try_get("max_occurrences_per_issue")?,
        })
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

    /// Which kinds of mail an address gets (`None`: all) and whether it unsubscribed.
    pub async fn mail_preferences(&self, email: &str) -> StoreResult<(Option<String>, bool)> {
        let row =
            sqlx::query("SELECT kinds, unsubscribed_at FROM mail_subscriptions WHERE email = $1")
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Ok((None, false)),
            Some(r) => Ok((
                r.try_get("kinds")?,
                r.try_get::<Option<i64>, _>("unsubscribed_at")?.is_some(),
            )),
        }
    }

    /// Saves the kinds of mail an address wants; saving from the settings page opts back in.
    pub async fn save_mail_preferences(&self, email: &str, kinds: &[&str]) -> StoreResult<()> {
        self.set_mail_kinds(email, Some(&kinds.join(","))).await?;
        sqlx::query("UPDATE mail_subscriptions SET unsubscribed_at = NULL WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
