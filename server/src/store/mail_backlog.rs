//! Mail that could not go out in time (SMTP down or refusing for long): the worker folds it
//! into one digest per project and recipient instead of sending it late one by one.

use sqlx::Row as _;

use super::notify::Notification;
use super::{Store, StoreResult};
use crate::time::now_ms;

impl Store {
    /// Every other unsent mail of `first`'s project and recipient created before `before`,
    /// due or not, claimed for this worker.
    pub async fn claim_stale_mail(
        &self,
        first: &Notification,
        before: i64,
    ) -> StoreResult<Vec<Notification>> {
        let now = now_ms();
        let lock = super::notify::skip_locked(self.backend);
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT id, issue_id, kind, detail, attempts, created_at, rule_id, reason FROM outbox \
             WHERE project_id = $1 AND channel_id IS NULL AND sent_at IS NULL AND id <> $2 \
             AND recipient IS NOT DISTINCT FROM $3 AND created_at < $4 \
             AND (claimed_until IS NULL OR claimed_until < $5) ORDER BY id {lock}"
        ))
        .bind(first.project_id)
        .bind(first.id)
        .bind(first.recipient.as_deref())
        .bind(before)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            super::notify::lease(&mut tx, id, now).await?;
            claimed.push(Notification {
                id,
                project_id: first.project_id,
                issue_id: row.try_get("issue_id")?,
                kind: row.try_get("kind")?,
                detail: row.try_get("detail")?,
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
                channel_id: None,
                rule_id: row.try_get("rule_id")?,
                recipient: first.recipient.clone(),
                reason: row.try_get("reason")?,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }
}
