//! Signing in: browser sessions, login throttling and one-time password links.

use sqlx::Row;

use super::users::User;
use super::{Store, StoreError, StoreResult};
use crate::secrets;
use crate::time::{now_ms, HOUR_MS};

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
}
