//! Ownership rules (`crate::ownership`) per project, and applying them to a new issue in the
//! ingest commit: the owner (a user by email) is assigned, the rule that matched is kept on
//! the issue, and a channel owner gets the new-issue alert.

use sqlx::Row as _;

use super::batch_tx::{BatchTx, Col};
use super::{Store, StoreError, StoreResult};
use crate::ownership::{self, Owner, Site};
use crate::time::now_ms;

impl Store {
    /// The project's rules as written ("" when it has none).
    pub async fn ownership_rules(&self, project_id: i64) -> StoreResult<String> {
        let row = sqlx::query("SELECT rules FROM ownership_rules WHERE project_id = $1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .unwrap_or_default())
    }

    /// Saves rules that parse (the error names the line); empty text removes them.
    pub async fn set_ownership_rules(&self, project_id: i64, rules: &str) -> StoreResult<()> {
        ownership::parse(rules).map_err(StoreError::Invalid)?;
        if rules.trim().is_empty() {
            sqlx::query("DELETE FROM ownership_rules WHERE project_id = $1")
                .bind(project_id)
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO ownership_rules (project_id, rules, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
        )
        .bind(project_id)
        .bind(rules)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A project's parsed rules, read in the ingest transaction (None: it has none).
pub(super) async fn rules_in(
    tx: &mut impl BatchTx,
    project_id: i64,
) -> StoreResult<Option<Vec<ownership::Rule>>> {
    let rows = tx
        .rows(
            "SELECT rules FROM ownership_rules WHERE project_id = $1",
            &[project_id.into()],
            &[Col::Text],
        )
        .await?;
    // Saved rules parsed when saved; ones that no longer do assign nobody.
    Ok(rows
        .first()
        .and_then(|r| ownership::parse(r.text(0)).ok())
        .filter(|r| !r.is_empty()))
}

/// Assigns a new issue to the first rule's owner that matches its first occurrence; returns
/// the channel name when the owner is a channel (it gets the new-issue alert).
pub(super) async fn assign_new_issue(
    tx: &mut impl BatchTx,
    rules: &[ownership::Rule],
    issue_id: i64,
    event_zstd: &[u8],
) -> StoreResult<Option<String>> {
    let Some(event) = zstd::bulk::decompress(event_zstd, 64 * 1024 * 1024)
        .ok()
        .and_then(|json| serde_json::from_slice::<crate::event::Event>(&json).ok())
    else {
        return Ok(None);
    };
    let Some(rule) = ownership::owner_of(rules, &Site::of(&event)) else {
        return Ok(None);
    };
    match &rule.owner {
        Owner::Email(email) => {
            tx.run(
                "UPDATE issues SET owner_rule = $1, assignee_id = \
                 (SELECT id FROM users WHERE LOWER(email) = $2) WHERE id = $3",
                &[
                    rule.text.as_str().into(),
                    email.as_str().into(),
                    issue_id.into(),
                ],
            )
            .await?;
            Ok(None)
        }
        Owner::Channel(name) => {
            tx.run(
                "UPDATE issues SET owner_rule = $1 WHERE id = $2",
                &[rule.text.as_str().into(), issue_id.into()],
            )
            .await?;
            Ok(Some(name.clone()))
        }
    }
}

/// The new-issue alert for the owning channel, unless routing already queued it.
pub(super) async fn alert_owner_channel(
    tx: &mut impl BatchTx,
    project_id: i64,
    issue_id: i64,
    channel: &str,
) -> StoreResult<()> {
    tx.run(
        "INSERT INTO outbox (project_id, issue_id, kind, created_at, next_attempt_at, channel_id) \
         SELECT $1, $2, 'new_issue', $3, $3, c.id FROM channels c \
         WHERE c.project_id = $1 AND c.name = $4 AND c.disabled_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM outbox o WHERE o.issue_id = $2 AND o.channel_id = c.id AND o.kind = 'new_issue')",
        &[
            project_id.into(),
            issue_id.into(),
            now_ms().into(),
            channel.into(),
        ],
    )
    .await
}
