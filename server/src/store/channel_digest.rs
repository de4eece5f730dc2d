//! The hourly cap per channel: alerts it stops are not dropped but held in one digest row per
//! channel, due when the channel's last hour has room again (`notify::digest` sends it).

use sqlx::Row as _;

use super::{Store, StoreResult};
use crate::time::now_ms;

impl Store {
    /// Holds back an alert the channel's hourly cap stops (claimed row `id`): it joins the
    /// channel's open digest (`detail`: `{"count", "issues"}`), or becomes that digest, due at
    /// `due` (when the cap allows again). One digest per channel goes out for all of them.
    pub async fn hold_for_digest(
        &self,
        id: i64,
        channel_id: i64,
        issue_id: i64,
        due: i64,
        max_listed: usize,
    ) -> StoreResult<()> {
        let now = now_ms();
        let lock = super::notify::skip_locked(self.backend);
        let mut tx = self.begin_write().await?;
        let open = sqlx::query(&format!(
            "SELECT id, detail FROM outbox WHERE channel_id = $1 AND kind = 'digest' \
             AND sent_at IS NULL AND id <> $2 AND (claimed_until IS NULL OR claimed_until < $3) \
             ORDER BY id LIMIT 1 {lock}"
        ))
        .bind(channel_id)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (target, mut count, mut issues) = match &open {
            Some(row) => {
                let detail: Option<String> = row.try_get("detail")?;
                let (count, issues) = digest_of(detail.as_deref());
                (row.try_get::<i64, _>("id")?, count, issues)
            }
            None => (id, 0, Vec::new()),
        };
        count += 1;
        if issues.len() < max_listed && !issues.contains(&issue_id) {
            issues.push(issue_id);
        }
        let detail = serde_json::json!({"count": count, "issues": issues}).to_string();
        if target == id {
            sqlx::query(
                "UPDATE outbox SET kind = 'digest', detail = $2, created_at = $3, \
                 next_attempt_at = $4, claimed_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(&detail)
            .bind(now)
            .bind(due)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE outbox SET detail = $2 WHERE id = $1")
                .bind(target)
                .bind(&detail)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE outbox SET sent_at = $2, claimed_until = NULL, \
                 last_error = 'held: in an hourly cap digest' WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a claimed row back, due at `due`, without counting an attempt.
    pub async fn reschedule_alert(&self, id: i64, due: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET claimed_until = NULL, next_attempt_at = $2 WHERE id = $1")
            .bind(id)
            .bind(due)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When the channel's hourly window has room again: an hour after the oldest alert
    /// delivered within the last hour (now when there is none).
    pub async fn channel_window_frees_at(&self, channel_id: i64) -> StoreResult<i64> {
        let now = now_ms();
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(sent_at) FROM outbox WHERE channel_id = $1 AND sent_at >= $2 \
             AND last_error IS NULL",
        )
        .bind(channel_id)
        .bind(now - 3_600_000)
        .fetch_one(&self.pool)
        .await?;
        Ok(oldest.map_or(now, |t| t + 3_600_000))
    }
}

/// (alerts counted, issues listed) of a digest's detail.
pub fn digest_of(detail: Option<&str>) -> (usize, Vec<i64>) {
    let v: serde_json::Value = detail
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let count = v["count"].as_u64().unwrap_or(0) as usize;
    let issues = v["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i.as_i64()).collect())
        .unwrap_or_default();
    (count, issues)
}
