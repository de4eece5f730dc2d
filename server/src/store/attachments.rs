//! Files sent with events: stored compressed beside their occurrence, deleted with it
//! (retention deletes occurrences; the foreign key takes their attachments along).

use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError, StoreResult};
use crate::time::now_ms;

/// An attachment ready to store: its bytes already compressed (zstd).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: Option<String>,
    /// Sentry's `attachment_type`: `event.attachment`, `event.minidump`,
    /// `event.applecrashreport`, `event.view_hierarchy`, `unreal.context`…
    pub attachment_type: String,
    /// Bytes as sent.
    pub size: i64,
    /// zstd of the bytes.
    pub data: Vec<u8>,
}

/// What the occurrence page lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub project_id: i64,
    pub occurrence_id: i64,
    pub name: String,
    pub content_type: Option<String>,
    pub attachment_type: String,
    pub size: i64,
    pub stored_size: i64,
    pub created_at: i64,
}

const INFO_COLUMNS: &str = "id, project_id, occurrence_id, name, content_type, attachment_type, \
     size, stored_size, created_at";

impl AttachmentInfo {
    fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Self> {
        Ok(AttachmentInfo {
            id: r.try_get("id")?,
            project_id: r.try_get("project_id")?,
            occurrence_id: r.try_get("occurrence_id")?,
            name: r.try_get("name")?,
            content_type: r.try_get("content_type")?,
            attachment_type: r.try_get("attachment_type")?,
            size: r.try_get("size")?,
            stored_size: r.try_get("stored_size")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// The SQL that stores one attachment of an occurrence, shared by the ingest batch and
/// [`Store::attach`]: `$1` project, `$2` occurrence id, then the attachment's columns.
pub(super) const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (project_id, occurrence_id, \
     name, content_type, attachment_type, size, stored_size, data, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

impl Store {
    /// Stores attachments for an occurrence already stored (they came in a later envelope).
    pub async fn attach(
        &self,
        project_id: i64,
        event: Uuid,
        attachments: &[NewAttachment],
    ) -> StoreResult<i64> {
        let occurrence: i64 =
            sqlx::query("SELECT id FROM occurrences WHERE project_id = $1 AND uuid = $2")
                .bind(project_id)
                .bind(event.simple().to_string())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?
                .try_get("id")?;
        let mut tx = self.begin_write().await?;
        for a in attachments {
            sqlx::query(INSERT_ATTACHMENT)
                .bind(project_id)
                .bind(occurrence)
                .bind(&a.name)
                .bind(a.content_type.as_deref())
                .bind(&a.attachment_type)
                .bind(a.size)
                .bind(a.data.len() as i64)
                .bind(a.data.as_slice())
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(occurrence)
    }

    pub async fn attachments_of(&self, occurrence_id: i64) -> StoreResult<Vec<AttachmentInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {INFO_COLUMNS} FROM attachments WHERE occurrence_id = $1 ORDER BY id"
        ))
        .bind(occurrence_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AttachmentInfo::from_row).collect()
    }

    /// One attachment and its bytes, uncompressed.
    pub async fn attachment(&self, id: i64) -> StoreResult<(AttachmentInfo, Vec<u8>)> {
        let row = sqlx::query(&format!(
            "SELECT {INFO_COLUMNS}, data FROM attachments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let info = AttachmentInfo::from_row(&row)?;
        let blob: Vec<u8> = row.try_get("data")?;
        let data = zstd::bulk::decompress(&blob, (info.size.max(0) as usize).max(1))
            .map_err(|e| StoreError::Invalid(format!("stored attachment {id} is corrupt: {e}")))?;
        Ok((info, data))
    }

    /// The issue an occurrence is in (to check who may download its attachments).
    pub async fn occurrence_issue(&self, occurrence_id: i64) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT issue_id FROM occurrences WHERE id = $1")
            .bind(occurrence_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("issue_id").map_err(Into::into))
            .transpose()
    }

    /// Attachments a project keeps: how many, and their stored (compressed) bytes.
    pub async fn attachment_usage(&self, project_id: i64) -> StoreResult<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(stored_size), 0) AS BIGINT) AS bytes \
             FROM attachments WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get("bytes")?))
    }
}
