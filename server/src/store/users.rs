//! Users: accounts and passwords, API tokens, and which mails each address gets.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError, StoreResult};
use crate::secrets;
use crate::time::now_ms;

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

pub(super) const USER_COLUMNS: &str = "id, email, is_admin, password_hash";

#[derive(Debug, Clone)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub scope: TokenScope,
}

impl Store {
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

    pub async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Makes a new API token for a user; only its hash is stored, so this is the one chance
    /// to show it.
    pub async fn create_api_token(&self, user_id: i64, name: Option<&str>) -> StoreResult<String> {
        self.create_scoped_api_token(user_id, name, &TokenScope::default())
            .await
    }

    pub async fn create_scoped_api_token(
        &self,
        user_id: i64,
        name: Option<&str>,
        scope: &TokenScope,
    ) -> StoreResult<String> {
        let token = secrets::new_api_token();
        let projects = scope
            .projects
            .as_ref()
            .map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at, scope, project_ids) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user_id)
        .bind(secrets::token_hash(&token))
        .bind(name)
        .bind(now_ms())
        .bind(if scope.write { "write" } else { "read" })
        .bind(projects)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    pub async fn user_for_api_token(&self, token: &str) -> StoreResult<Option<User>> {
        Ok(self.api_token_user(token).await?.map(|(user, _)| user))
    }

    /// The user and scope of an API token, read from the database on every request: a revoked
    /// token is refused at once, by every instance.
    pub async fn api_token_user(&self, token: &str) -> StoreResult<Option<(User, TokenScope)>> {
        let hash = secrets::token_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.email, u.is_admin, u.password_hash, t.last_used_at, t.scope, \
             t.project_ids FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // "Last used" for the settings page, written at most once a minute per token, and
        // only then, so API reads do not take the write lock. Bookkeeping: while the database
        // cannot be written (read-only, full, locked) reads are still served.
        let now = now_ms();
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|t| t < now - 60_000) {
            let noted =
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
                    .bind(&hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::from);
            match noted {
                Ok(_) => {}
                Err(e) if e.is_unavailable() || e.is_transient() => {
                    tracing::warn!(error = %crate::telemetry::error_chain(&e), "token use not noted");
                }
                Err(e) => return Err(e),
            }
        }
        let scope = TokenScope::from_columns(row.try_get("scope")?, row.try_get("project_ids")?);
        User::from_row(&row).map(|u| Some((u, scope)))
    }

    pub async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, scope, project_ids FROM api_tokens \
             WHERE user_id = $1 ORDER BY id",
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
                    scope: TokenScope::from_columns(r.try_get("scope")?, r.try_get("project_ids")?),
                })
            })
            .collect()
    }

    /// Deletes one of the user's own tokens; another user's (or no) token is `NotFound`.
    pub async fn delete_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
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

/// What an API token may do: `write` (default) or only read, on every project its user can see
/// or only on `projects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    pub write: bool,
    pub projects: Option<Vec<i64>>,
}

impl TokenScope {
    /// From the `scope` ("read" or "write") and `project_ids` ("1,2" or NULL) columns.
    fn from_columns(scope: String, projects: Option<String>) -> Self {
        TokenScope {
            write: scope != "read",
            projects: projects.map(|p| {
                p.split(',')
                    .filter_map(|id| id.trim().parse().ok())
                    .collect()
            }),
        }
    }
}

impl Default for TokenScope {
    fn default() -> Self {
        TokenScope {
            write: true,
            projects: None,
        }
    }
}
