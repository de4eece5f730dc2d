//! Ownership rules (`crate::ownership`) per project, and applying them to a new issue in the
//! ingest commit: the owner (a user by email) is assigned, the rule that matched is kept on
//! the issue, an email owner gets the new-issue mail first and a channel owner the alert.

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
        let mut tx = self.begin_write().await?;
        if rules.trim().is_empty() {
            sqlx::query("DELETE FROM ownership_rules WHERE project_id = $1")
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO ownership_rules (project_id, rules, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id) DO UPDATE SET rules = excluded.rules, \
                 updated_at = excluded.updated_at",
            )
            .bind(project_id)
            .bind(rules)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        super::projects::bump_rules_version(&mut *tx, project_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A project's parsed rules, read in the ingest transaction (None: it has none;
/// `project_rules` keeps them).
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

/// Assigns a new issue to the owner of the first rule that matches its first occurrence (a
/// user by email; a channel owns it without an assignee) and keeps the rule on the issue.
/// Returns the rule, for [`queue_for_owner`].
pub(super) async fn assign_new_issue(
    tx: &mut impl BatchTx,
    rules: &[ownership::Rule],
    issue_id: i64,
    event_zstd: &[u8],
) -> StoreResult<Option<ownership::Rule>> {
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
        }
        Owner::Channel(_) => {
            tx.run(
                "UPDATE issues SET owner_rule = $1 WHERE id = $2",
                &[rule.text.as_str().into(), issue_id.into()],
            )
            .await?;
        }
    }
    Ok(Some(rule.clone()))
}

/// The owner's own new-issue mail (when mail is on), queued before the project's so it is sent
/// first; the project's mail then skips the owner (`notify::recipients_of`).
pub(super) async fn mail_owner(
    tx: &mut impl BatchTx,
    project_id: i64,
    issue_id: i64,
    rule: &ownership::Rule,
) -> StoreResult<()> {
    let Owner::Email(email) = &rule.owner else {
        return Ok(());
    };
    tx.run(
        "INSERT INTO outbox (project_id, issue_id, kind, created_at, next_attempt_at, recipient, reason) \
         VALUES ($1, $2, 'new_issue', $3, $3, $4, $5)",
        &[
            project_id.into(),
            issue_id.into(),
            now_ms().into(),
            email.as_str().into(),
            reason(rule).as_str().into(),
        ],
    )
    .await
}

/// The new-issue alert for the owning channel, unless routing already queued it (then that
/// row's reason stands: the owner hears once).
pub(super) async fn alert_owner_channel(
    tx: &mut impl BatchTx,
    project_id: i64,
    issue_id: i64,
    rule: &ownership::Rule,
) -> StoreResult<()> {
    let Owner::Channel(channel) = &rule.owner else {
        return Ok(());
    };
    tx.run(
        "INSERT INTO outbox (project_id, issue_id, kind, created_at, next_attempt_at, channel_id, reason) \
         SELECT $1, $2, 'new_issue', $3, $3, c.id, $4 FROM channels c \
         WHERE c.project_id = $1 AND c.name = $5 AND c.disabled_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM outbox o WHERE o.issue_id = $2 AND o.channel_id = c.id AND o.kind = 'new_issue')",
        &[
            project_id.into(),
            issue_id.into(),
            now_ms().into(),
            // SQLite numbers parameters in order of appearance: keep them in order.
            reason(rule).as_str().into(),
            channel.as_str().into(),
        ],
    )
    .await
}

/// What an owner's alert says about why it was sent.
fn reason(rule: &ownership::Rule) -> String {
    format!("ownership: {}", rule.text)
}
