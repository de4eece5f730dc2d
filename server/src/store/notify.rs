//! The notification outbox, recipients and unsubscribe tokens.

use sqlx::Row;

use super::{Backend, Store, StoreError, StoreResult};
use crate::secrets;
use crate::time::now_ms;

/// A claimed outbox row: one mail to send.
#[derive(Debug, Clone)]
pub struct Notification {
    pub id: i64,
    pub project_id: i64,
    pub issue_id: i64,
    pub kind: String,
    pub detail: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    /// The channel an alert row is for; None: a mail.
    pub channel_id: Option<i64>,
    /// The alert rule that queued it (None: no rules, each channel's own filter decides).
    pub rule_id: Option<i64>,
    /// A mail for this one address only (an issue's owner); None: the project's recipients.
    pub recipient: Option<String>,
    /// Why a channel alert no rule queued was queued (`ownership: <rule>`).
    pub reason: Option<String>,
}

/// How long a claim lasts before another worker may take the row (a crashed instance's mail
/// is sent by another after this).
const LEASE_MS: i64 = 120_000;

/// Writes a notification inside the transaction that commits its cause: one row for mail
/// (only when mail is on, so rows never pile up unsent) and one per enabled channel of the
/// project.
pub(super) async fn enqueue(
    tx: &mut impl super::batch_tx::BatchTx,
    mail: bool,
    project_id: i64,
    issue_id: i64,
    kind: &str,
    detail: Option<&str>,
) -> StoreResult<()> {
    let args = [
        project_id.into(),
        issue_id.into(),
        kind.into(),
        detail.into(),
        now_ms().into(),
    ];
    if mail {
        tx.run(
            "INSERT INTO outbox (project_id, issue_id, kind, detail, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
            &args,
        )
        .await?;
    }
    tx.run(
        "INSERT INTO outbox (project_id, issue_id, kind, detail, created_at, next_attempt_at, channel_id) \
         SELECT $1, $2, $3, $4, $5, $5, id FROM channels WHERE project_id = $1 AND disabled_at IS NULL",
        &args,
    )
    .await
}

/// What a claiming SELECT adds on PostgreSQL so that several instances take different rows
/// (SQLite's one writer needs nothing).
pub(super) fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

/// Leases a claimed outbox row to this worker for [`LEASE_MS`] from `now`.
pub(super) async fn lease(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE outbox SET claimed_until = $2 WHERE id = $1")
        .bind(id)
        .bind(now + LEASE_MS)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Takes the oldest due notification for this worker, or `None`. With several instances
    /// on PostgreSQL, `FOR UPDATE SKIP LOCKED` lets each row go to exactly one of them.
    pub async fn claim_notification(&self) -> StoreResult<Option<Notification>> {
        self.claim_outbox_row("channel_id IS NULL").await
    }

    /// The oldest due outbox row matching `filter` (mail or channel alerts), claimed.
    pub(super) async fn claim_outbox_row(&self, filter: &str) -> StoreResult<Option<Notification>> {
        let now = now_ms();
        let lock = super::notify::skip_locked(self.backend);
        // Idle workers ask every poll: look without the write lock first, so an empty outbox
        // never makes the ingest writer wait.
        let due: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT 1 FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) AND {filter} LIMIT 1"
        ))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT id, project_id, issue_id, kind, detail, attempts, created_at, channel_id, rule_id, \
             recipient, reason FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) AND {filter} ORDER BY id LIMIT 1 {lock}"
        ))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let notification = Notification {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            issue_id: row.try_get("issue_id")?,
            kind: row.try_get("kind")?,
            detail: row.try_get("detail")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            channel_id: row.try_get("channel_id")?,
            rule_id: row.try_get("rule_id")?,
            recipient: row.try_get("recipient")?,
            reason: row.try_get("reason")?,
        };
        super::notify::lease(&mut tx, notification.id, now).await?;
        tx.commit().await?;
        Ok(Some(notification))
    }

    pub async fn mark_notification_sent(&self, id: i64, note: Option<&str>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .bind(note)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a row back for a later attempt after `retry_in_ms`.
    pub async fn mark_notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_in_ms: i64,
    ) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, \
             next_attempt_at = $2, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(now + retry_in_ms)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Notifications not sent yet, for metrics.
    pub async fn pending_notifications(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND channel_id IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Mails of an issue sent since `since` (unix ms), for the cool-down.
    pub async fn mails_sent_since(&self, issue_id: i64, since: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE issue_id = $1 AND sent_at >= $2 AND last_error IS NULL \
             AND channel_id IS NULL",
        )
        .bind(issue_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Mails actually sent in the last hour, for the hourly cap.
    pub async fn mails_sent_in_last_hour(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at >= $1 AND last_error IS NULL AND channel_id IS NULL",
        )
        .bind(now_ms() - 3_600_000)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Who hears about a project: its members and its extra addresses, minus those who
    /// unsubscribed; each with their unsubscribe token.
    pub async fn recipients(
        &self,
        project_id: i64,
        kind: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let emails: Vec<String> = sqlx::query_scalar(
            "SELECT u.email FROM project_members m JOIN users u ON u.id = m.user_id \
             WHERE m.project_id = $1 \
             UNION SELECT email FROM project_recipients WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for email in emails {
            if let Some(token) = self.subscribed(&email, kind).await? {
                out.push((email, token));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The unsubscribe token of `email` when it still wants mail of `kind` (None: it
    /// unsubscribed, or from this kind).
    pub async fn subscribed(&self, email: &str, kind: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "INSERT INTO mail_subscriptions (email, token) VALUES ($1, $2) \
             ON CONFLICT (email) DO UPDATE SET email = excluded.email \
             RETURNING token, unsubscribed_at, kinds",
        )
        .bind(email)
        .bind(secrets::new_api_token())
        .fetch_one(&self.pool)
        .await?;
        let unsubscribed: Option<i64> = row.try_get("unsubscribed_at")?;
        let kinds: Option<String> = row.try_get("kinds")?;
        let wanted = kinds.is_none_or(|k| k.split(',').any(|k| k.trim() == kind));
        Ok(if unsubscribed.is_none() && wanted {
            Some(row.try_get("token")?)
        } else {
            None
        })
    }

    /// The owners an issue's `kind` mail went (or goes) to on their own, so the project's
    /// mail about it skips them.
    pub async fn owner_recipients(&self, issue_id: i64, kind: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT recipient FROM outbox WHERE issue_id = $1 AND kind = $2 \
             AND recipient IS NOT NULL AND channel_id IS NULL",
        )
        .bind(issue_id)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Which kinds of mail an address gets (`None`: all).
    pub async fn set_mail_kinds(&self, email: &str, kinds: Option<&str>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mail_subscriptions (email, token, kinds) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET kinds = excluded.kinds",
        )
        .bind(email.trim().to_lowercase())
        .bind(secrets::new_api_token())
        .bind(kinds)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Other due new-issue notifications of the project created within a minute of `created_at`
    /// (a burst), claimed for this worker when there are at least `min` of them.
    pub async fn claim_burst(
        &self,
        first: &Notification,
        min: i64,
    ) -> StoreResult<Vec<Notification>> {
        let now = now_ms();
        let lock = super::notify::skip_locked(self.backend);
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT id, project_id, issue_id, kind, detail, attempts, rule_id, reason FROM outbox \
             WHERE project_id = $1 AND kind = 'new_issue' AND sent_at IS NULL AND id <> $2 \
             AND channel_id IS NOT DISTINCT FROM $6 AND recipient IS NOT DISTINCT FROM $7 \
             AND created_at BETWEEN $3 AND $4 \
             AND (claimed_until IS NULL OR claimed_until < $5) ORDER BY id {lock}"
        ))
        .bind(first.project_id)
        .bind(first.id)
        .bind(first.created_at - 60_000)
        .bind(first.created_at + 60_000)
        .bind(now)
        .bind(first.channel_id)
        .bind(first.recipient.as_deref())
        .fetch_all(&mut *tx)
        .await?;
        if (rows.len() as i64) + 1 < min {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut claimed = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            super::notify::lease(&mut tx, id, now).await?;
            claimed.push(Notification {
                id,
                project_id: row.try_get("project_id")?,
                issue_id: row.try_get("issue_id")?,
                kind: row.try_get("kind")?,
                detail: row.try_get("detail")?,
                attempts: row.try_get("attempts")?,
                created_at: first.created_at,
                channel_id: first.channel_id,
                rule_id: row.try_get("rule_id")?,
                recipient: first.recipient.clone(),
                reason: row.try_get("reason")?,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Takes every notification marked `held` (once: concurrent workers get disjoint rows) and
    /// returns their (project, issue).
    /// Whether any notification is marked `held` (a cheap read, asked on idle polls).
    pub async fn has_held(&self, held: &str) -> StoreResult<bool> {
        let any: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM outbox WHERE last_error = $1 LIMIT 1")
                .bind(held)
                .fetch_optional(&self.pool)
                .await?;
        Ok(any.is_some())
    }

    pub async fn take_held(&self, held: &str) -> StoreResult<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "UPDATE outbox SET last_error = 'held: listed in a digest' WHERE last_error = $1 \
             RETURNING project_id, issue_id",
        )
        .bind(held)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("project_id")?, r.try_get("issue_id")?)))
            .collect()
    }

    /// Whether a note about held-back mail went to this project within the last hour.
    pub async fn cap_note_sent_recently(&self, project_id: i64) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE project_id = $1 AND last_error = 'cap note' AND sent_at >= $2",
        )
        .bind(project_id)
        .bind(now_ms() - 3_600_000)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Stops mail to the address behind an unsubscribe token; returns the address.
    pub async fn unsubscribe(&self, token: &str) -> StoreResult<String> {
        let email: Option<String> = sqlx::query_scalar(
            "UPDATE mail_subscriptions SET unsubscribed_at = $2 WHERE token = $1 RETURNING email",
        )
        .bind(token)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        email.ok_or(StoreError::NotFound)
    }

    /// The address behind an unsubscribe token, if the token is known.
    pub async fn subscription_email(&self, token: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT email FROM mail_subscriptions WHERE token = $1")
                .bind(token)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn add_recipient(&self, project_id: i64, email: &str) -> StoreResult<()> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(StoreError::Invalid(format!(
                "{email:?} is not an email address"
            )));
        }
        sqlx::query(
            "INSERT INTO project_recipients (project_id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(project_id)
        .bind(email)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_recipient(&self, project_id: i64, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM project_recipients WHERE project_id = $1 AND email = $2")
            .bind(project_id)
            .bind(email.trim().to_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn project_recipients(&self, project_id: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT email FROM project_recipients WHERE project_id = $1 ORDER BY email",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn project(&self, id: i64) -> StoreResult<super::projects::Project> {
        let slug: String = sqlx::query_scalar("SELECT slug FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.project_by_slug(&slug).await
    }
}
