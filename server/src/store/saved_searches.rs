//! Saved searches: a name for a query of the search language, a user's own or shared with a
//! project's members, and each user's default for a list.

use sqlx::Row;

use super::{Store, StoreError, StoreResult};
use crate::time::now_ms;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub id: i64,
    pub user_id: i64,
    /// None: the list across projects.
    pub project_id: Option<i64>,
    pub name: String,
    pub query: String,
    pub shared: bool,
    pub is_default: bool,
}

const COLUMNS: &str = "id, user_id, project_id, name, query, shared, is_default";

impl SavedSearch {
    fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Self> {
        Ok(SavedSearch {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            project_id: r.try_get("project_id")?,
            name: r.try_get("name")?,
            query: r.try_get("query")?,
            shared: r.try_get::<i64, _>("shared")? != 0,
            is_default: r.try_get::<i64, _>("is_default")? != 0,
        })
    }
}

impl Store {
    /// Saves a query (it must parse) under a name; as the default, it replaces the user's
    /// previous default for the same list.
    pub async fn save_search(
        &self,
        user_id: i64,
        project_id: Option<i64>,
        name: &str,
        query: &str,
        shared: bool,
        is_default: bool,
    ) -> StoreResult<SavedSearch> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "a saved search needs a name of at most 200 characters".into(),
            ));
        }
        if shared && project_id.is_none() {
            return Err(StoreError::Invalid(
                "only a project's searches can be shared".into(),
            ));
        }
        if let Err(e) = crate::query::parse(query) {
            return Err(StoreError::Invalid(format!(
                "the query does not parse: {e}"
            )));
        }
        let mut tx = self.begin_write().await?;
        if is_default {
            clear_default(&mut tx, user_id, project_id).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO saved_searches (user_id, project_id, name, query, shared, is_default, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(user_id)
        .bind(project_id)
        .bind(name)
        .bind(query)
        .bind(i64::from(shared))
        .bind(i64::from(is_default))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SavedSearch {
            id,
            user_id,
            project_id,
            name: name.to_owned(),
            query: query.to_owned(),
            shared,
            is_default,
        })
    }

    /// The searches a user sees beside a list: their own, then those shared in the project.
    pub async fn saved_searches(
        &self,
        user_id: i64,
        project_id: Option<i64>,
    ) -> StoreResult<Vec<SavedSearch>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saved_searches WHERE \
             ((project_id = $2 OR (project_id IS NULL AND $2 IS NULL)) \
             AND (user_id = $1 OR shared = 1)) \
             ORDER BY CASE WHEN user_id = $1 THEN 0 ELSE 1 END, name, id"
        ))
        .bind(user_id)
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(SavedSearch::from_row).collect()
    }

    /// The user's default query for a list, if they chose one.
    pub async fn default_search(
        &self,
        user_id: i64,
        project_id: Option<i64>,
    ) -> StoreResult<Option<String>> {
        Ok(self
            .saved_searches(user_id, project_id)
            .await?
            .into_iter()
            .find(|s| s.is_default && s.user_id == user_id)
            .map(|s| s.query))
    }

    /// Deletes one of the user's own saved searches.
    pub async fn delete_saved_search(&self, user_id: i64, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM saved_searches WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn clear_default(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    project_id: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE saved_searches SET is_default = 0 WHERE user_id = $1 \
         AND (project_id = $2 OR (project_id IS NULL AND $2 IS NULL))",
    )
    .bind(user_id)
    .bind(project_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
