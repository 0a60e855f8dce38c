//! Saved searches: a case list's filters kept under a name, for a person or for a unit.

use crate::audit::append_audit;
use crate::rows::{instant, micros};
use crate::tx::{Engine, Row, args, job};
use crate::{Actor, Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
pub use redress_domain::records::SavedSearch;

/// A saved search's columns, with its unit's code and its author's user name.
macro_rules! saved_select {
    () => {
        "SELECT s.id, s.name, s.params, s.created_at, un.code AS unit_code, \
         cb.username AS created_by, s.user_id, s.unit_id \
         FROM saved_searches s LEFT JOIN units un ON un.id = s.unit_id \
         LEFT JOIN users cb ON cb.id = s.created_by "
    };
}
const SAVED_FOR: &str = concat!(
    saved_select!(),
    "WHERE s.user_id = $1 OR s.unit_id = $2 OR (s.unit_id IS NOT NULL AND s.created_by = $1) \
     ORDER BY s.unit_id IS NOT NULL, lower(s.name), s.id"
);
const SAVED_ONE: &str = concat!(saved_select!(), "WHERE s.id = $1");
const SAVED_NAMED: &str = "SELECT id FROM saved_searches \
     WHERE name = $1 AND ((user_id = $2) OR (unit_id = $3))";
const SAVED_COUNT: &str =
    "SELECT COUNT(*) AS n FROM saved_searches WHERE user_id = $1 OR unit_id = $2";
const INSERT_SAVED: &str = "INSERT INTO saved_searches (name, user_id, unit_id, params, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const DELETE_SAVED: &str = "DELETE FROM saved_searches WHERE id = $1";

/// A saved search and whose it is.
#[derive(Debug, Clone)]
pub struct SavedSearchRow {
    pub search: SavedSearch,
    /// The person whose own search it is.
    pub user_id: Option<i64>,
    /// The unit whose search it is.
    pub unit_id: Option<i64>,
}

/// A search to keep: for a person (`user_id`) or for a unit (`unit_id`), never both.
#[derive(Debug, Clone)]
pub struct NewSavedSearch {
    pub name: String,
    pub user_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// The filters by name.
    pub params: std::collections::BTreeMap<String, String>,
}

#[async_trait]
pub trait SavedSearches {
    /// A person's own searches, then their unit's (and those they made for other units).
    async fn saved_searches_for(
        &self,
        user_id: i64,
        unit_id: Option<i64>,
    ) -> Result<Vec<SavedSearchRow>>;
    async fn saved_search(&self, id: i64) -> Result<Option<SavedSearchRow>>;
    /// How many searches the person or the unit keeps.
    async fn saved_search_count(&self, user_id: Option<i64>, unit_id: Option<i64>) -> Result<i64>;
    /// Keeps a search, audited; a name the owner already uses is refused as a duplicate.
    async fn save_search(
        &self,
        actor: &Actor,
        s: &NewSavedSearch,
        at: Timestamp,
    ) -> Result<SavedSearchRow>;
    /// Forgets a search, audited.
    async fn delete_saved_search(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()>;
}

fn saved(r: &Row) -> Result<SavedSearchRow> {
    let text = r.text("params")?;
    let params: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("saved search params {text:?}: {e}")))?;
    Ok(SavedSearchRow {
        search: SavedSearch {
            id: r.int("id")?,
            name: r.text("name")?,
            unit: r.opt_text("unit_code")?,
            href: SavedSearch::href_of(&params),
            params,
            created_by: r.opt_text("created_by")?,
            created_at: instant(r.int("created_at")?)?,
        },
        user_id: r.opt_int("user_id")?,
        unit_id: r.opt_int("unit_id")?,
    })
}

#[async_trait]
impl<E: Engine> SavedSearches for E {
    async fn saved_searches_for(
        &self,
        user_id: i64,
        unit_id: Option<i64>,
    ) -> Result<Vec<SavedSearchRow>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(SAVED_FOR, args![user_id, unit_id]).await?;
                rows.iter().map(saved).collect()
            })
        }))
        .await
    }

    async fn saved_search(&self, id: i64) -> Result<Option<SavedSearchRow>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.optional(SAVED_ONE, args![id])
                    .await?
                    .as_ref()
                    .map(saved)
                    .transpose()
            })
        }))
        .await
    }

    async fn saved_search_count(&self, user_id: Option<i64>, unit_id: Option<i64>) -> Result<i64> {
        self.read(job(move |tx| {
            Box::pin(async move { tx.one(SAVED_COUNT, args![user_id, unit_id]).await?.int("n") })
        }))
        .await
    }

    async fn save_search(
        &self,
        actor: &Actor,
        s: &NewSavedSearch,
        at: Timestamp,
    ) -> Result<SavedSearchRow> {
        let (actor, s) = (actor.clone(), s.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx
                    .optional(SAVED_NAMED, args![s.name.as_str(), s.user_id, s.unit_id])
                    .await?
                    .is_some()
                {
                    return Err(StoreError::Duplicate("saved_searches_name".into()));
                }
                let id = tx
                    .one(
                        INSERT_SAVED,
                        args![
                            s.name.as_str(),
                            s.user_id,
                            s.unit_id,
                            serde_json::to_string(&s.params)
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                            actor.user_id,
                            micros(at)
                        ],
                    )
                    .await?
                    .int("id")?;
                let detail = serde_json::json!({
                    "name": s.name, "user_id": s.user_id, "unit_id": s.unit_id,
                    "params": s.params,
                });
                append_audit(
                    tx,
                    &actor,
                    "search",
                    "saved_search.save",
                    &format!("saved_search:{id}"),
                    &detail.to_string(),
                    at,
                )
                .await?;
                saved(&tx.one(SAVED_ONE, args![id]).await?)
            })
        }))
        .await
    }

    async fn delete_saved_search(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let Some(r) = tx.optional(SAVED_ONE, args![id]).await? else {
                    return Err(StoreError::NotFound);
                };
                let old = saved(&r)?;
                tx.execute(DELETE_SAVED, args![id]).await?;
                let detail = serde_json::json!({
                    "name": old.search.name, "user_id": old.user_id, "unit_id": old.unit_id,
                    "params": old.search.params,
                });
                append_audit(
                    tx,
                    &actor,
                    "search",
                    "saved_search.delete",
                    &format!("saved_search:{id}"),
                    &detail.to_string(),
                    at,
                )
                .await?;
                Ok(())
            })
        }))
        .await
    }
}
