//! Projects, their ingest keys, users, API tokens and memberships.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_ms, Store, StoreError, StoreResult};
use crate::secrets;

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

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
}

impl User {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(User {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            password_hash: row.try_get("password_hash")?,
        })
    }
}

/// What an ingest key grants: which project, under which rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOwner {
    pub project_id: i64,
    pub rate_limit_per_minute: Option<i64>,
}

const PROJECT_COLUMNS: &str = "id, slug, name, created_at";
pub(super) const USER_COLUMNS: &str = "id, email, is_admin, password_hash";

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
            "SELECT k.project_id, p.rate_limit_per_minute FROM project_keys k \
             JOIN projects p ON p.id = k.project_id WHERE k.token = $1 AND k.revoked_at IS NULL",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(KeyOwner {
                project_id: r.try_get("project_id")?,
                rate_limit_per_minute: r.try_get("rate_limit_per_minute")?,
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

    pub async fn create_user(
        &self,
        email: &str,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> StoreResult<User> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(StoreError::Invalid(format!(
                "{email:?} is not an email address"
            )));
        }
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("user {email} already exists")));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(&email)
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        User::from_row(&row)
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        User::from_row(&row)
    }

    /// Makes a new API token for a user; only its hash is stored, so this is the one chance
    /// to show it.
    pub async fn create_api_token(&self, user_id: i64, name: Option<&str>) -> StoreResult<String> {
        let token = secrets::new_api_token();
        sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(secrets::token_hash(&token))
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    pub async fn user_for_api_token(&self, token: &str) -> StoreResult<Option<User>> {
        let hash = secrets::token_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.email, u.is_admin, u.password_hash, t.last_used_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // "Last used" for the settings page, written at most once a minute per token, and
        // only then, so API reads do not take the write lock.
        let now = now_ms();
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|t| t < now - 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
                .bind(&hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        User::from_row(&row).map(Some)
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
