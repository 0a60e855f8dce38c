//! Saved searches: the case list's filters kept under a name, for the person who saves them or
//! for a whole unit (a senior agent or supervisor saves a unit's queue once, and everyone in the
//! unit finds it on their case list). Saving and forgetting one are audited.

use crate::lists::{Assignee, ListRequest};
use crate::search::CasePage;
use crate::{App, AppError, AppResult, Person};
use redress_domain::records::SavedSearch;
use redress_domain::validate as v;
use redress_domain::{FieldErrors, Permission, Role};
use redress_store::{NewSavedSearch, SavedSearchRow, StoreError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The case list's filters a saved search keeps (its page, the one thing it does not).
pub const SAVED_PARAMS: &[&str] = &[
    "q", "status", "kind", "unit", "assignee", "company", "consumer", "closed", "overdue", "sort",
    "dir", "per_page",
];

/// The most searches one person, or one unit, keeps.
pub const SAVED_MAX: i64 = 50;

/// The longest name of a saved search.
pub const SAVED_NAME_MAX: usize = 80;

/// A search to keep.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchInput {
    /// What the list is called, e.g. `Shut-offs this week` (1 to 80 characters, unique among
    /// the owner's).
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// The case list's filters by name, as `/cases` takes them: `q`, `status`, `kind`, `unit`,
    /// `assignee` (`me`, `none` or a user name), `company`, `consumer`, `closed` (`1`: closed
    /// cases too), `overdue` (`1`), `sort`, `dir`, `per_page`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// A unit's code, to share the search with everyone in that unit (senior agents and
    /// supervisors of the unit; supervisors, managers and administrators for any unit). Absent:
    /// the search is the person's own.
    #[serde(default)]
    pub unit: Option<String>,
}

impl App {
    /// The person's own saved searches, then their unit's (and those they keep for other units).
    pub async fn saved_searches(&self, person: &Person) -> AppResult<Vec<SavedSearch>> {
        person.require(Permission::CaseRead)?;
        let unit_id = self.own_unit_id(person).await?;
        Ok(self
            .store
            .saved_searches_for(person.user.id, unit_id)
            .await?
            .into_iter()
            .map(|r| r.search)
            .collect())
    }

    /// The units the person may keep searches for (their own, or any for those who run units).
    pub async fn units_for_saved_searches(
        &self,
        person: &Person,
    ) -> AppResult<Vec<redress_domain::records::Unit>> {
        if !person.may(Permission::CaseAssign) {
            return Ok(vec![]);
        }
        let units = self.store.units().await?;
        Ok(units
            .into_iter()
            .filter(|u| manages_any_unit(person) || person.user.unit.as_deref() == Some(&u.code))
            .collect())
    }

    async fn own_unit_id(&self, person: &Person) -> AppResult<Option<i64>> {
        match &person.user.unit {
            Some(code) => match self.store.unit_by_code(code).await {
                Ok(u) => Ok(Some(u.id)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            },
            None => Ok(None),
        }
    }

    /// Keeps a search under a name, for the person or (with `unit`) for a unit. Each filter is
    /// checked as the case list checks it, and named (`params.status`) when wrong.
    pub async fn save_search(
        &self,
        person: &Person,
        input: SavedSearchInput,
    ) -> AppResult<SavedSearch> {
        person.require(Permission::CaseRead)?;
        let mut errors = FieldErrors::new();
        let name = v::required_text(&mut errors, "name", Some(&input.name), SAVED_NAME_MAX);
        let mut params = BTreeMap::new();
        for (k, val) in &input.params {
            let val = val.trim();
            if !SAVED_PARAMS.contains(&k.as_str()) {
                errors.push(
                    format!("params.{k}"),
                    "unknown_parameter",
                    format!("Known filters: {}.", SAVED_PARAMS.join(", ")),
                );
            } else if !val.is_empty() {
                params.insert(k.clone(), val.to_string());
            }
        }
        let request = match ListRequest::parse(|k| params.get(k).map(String::as_str)) {
            Ok(r) => Some(r),
            Err(AppError::Validation(f)) => {
                for e in f.0 {
                    errors.push(format!("params.{}", e.field), &e.code, e.message);
                }
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(r) = &request {
            if r.consumer_id.is_some() && !person.may(Permission::ConsumerRead) {
                errors.push(
                    "params.consumer",
                    "forbidden",
                    "Your role does not see consumers.",
                );
            }
            if let Some(code) = &r.unit {
                match self.store.unit_by_code(code).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => {
                        errors.push("params.unit", "unknown_unit", "No such unit.")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some(Assignee::User(name)) = &r.assignee {
                self.lookup_staff(&mut errors, "params.assignee", name)
                    .await?;
            }
        }
        let mut unit_id = None;
        if let Some(code) = input
            .unit
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            match self.store.unit_by_code(code).await {
                Ok(u) => {
                    if !may_keep_for_unit(person, &u.code) {
                        errors.push(
                            "unit",
                            "forbidden",
                            "Only the unit's senior agents and supervisors keep its searches.",
                        );
                    }
                    unit_id = Some(u.id);
                }
                Err(StoreError::NotFound) => {
                    errors.push("unit", "unknown_unit", "No such unit; see /api/v1/units.")
                }
                Err(e) => return Err(e.into()),
            }
        }
        AppError::unless_empty(errors)?;
        let user_id = unit_id.is_none().then_some(person.user.id);
        if self.store.saved_search_count(user_id, unit_id).await? >= SAVED_MAX {
            return Err(AppError::field(
                "name",
                "too_many",
                &format!("At most {SAVED_MAX} saved searches each; forget one first."),
            ));
        }
        let new = NewSavedSearch {
            name: name.unwrap_or_default(),
            user_id,
            unit_id,
            params,
        };
        match self
            .store
            .save_search(&person.actor(), &new, self.clock.now())
            .await
        {
            Ok(r) => Ok(r.search),
            Err(StoreError::Duplicate(_)) => Err(AppError::field(
                "name",
                "duplicate",
                "A saved search already has this name; choose another.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A saved search the person may use: their own, their unit's, or one they keep for a unit.
    async fn reachable_saved_search(&self, person: &Person, id: i64) -> AppResult<SavedSearchRow> {
        person.require(Permission::CaseRead)?;
        let Some(row) = self.store.saved_search(id).await? else {
            return Err(AppError::NotFound);
        };
        let own_unit = self.own_unit_id(person).await?;
        let reachable = row.user_id == Some(person.user.id)
            || (row.unit_id.is_some() && row.unit_id == own_unit)
            || row
                .search
                .unit
                .as_deref()
                .is_some_and(|u| may_keep_for_unit(person, u));
        if reachable {
            Ok(row)
        } else {
            Err(AppError::NotFound)
        }
    }

    pub async fn saved_search(&self, person: &Person, id: i64) -> AppResult<SavedSearch> {
        Ok(self.reachable_saved_search(person, id).await?.search)
    }

    /// Forgets a saved search: the person's own, or a unit's for those who keep the unit's.
    pub async fn forget_saved_search(&self, person: &Person, id: i64) -> AppResult<()> {
        let row = self.reachable_saved_search(person, id).await?;
        let may = row.user_id == Some(person.user.id)
            || row
                .search
                .unit
                .as_deref()
                .is_some_and(|u| may_keep_for_unit(person, u));
        if !may {
            return Err(AppError::Forbidden);
        }
        self.store
            .delete_saved_search(&person.actor(), id, self.clock.now())
            .await?;
        Ok(())
    }

    /// Runs a saved search as the API's case search does (`cursor` and `limit` page it).
    pub async fn run_saved_search(
        &self,
        person: &Person,
        id: i64,
        paging: &HashMap<String, String>,
    ) -> AppResult<CasePage> {
        let row = self.reachable_saved_search(person, id).await?;
        let mut q = search_params(person, &row.search.params);
        for (k, val) in paging {
            if k == "cursor" || k == "limit" {
                q.insert(k.clone(), val.clone());
            } else {
                return Err(AppError::field(
                    k,
                    "unknown_parameter",
                    "Known parameters: cursor, limit.",
                ));
            }
        }
        self.list_cases(person, &q).await
    }
}

/// Supervisors, managers and administrators keep any unit's searches.
fn manages_any_unit(person: &Person) -> bool {
    matches!(
        person.user.role,
        Role::Supervisor | Role::Manager | Role::Admin
    )
}

/// Whether the person keeps (saves and forgets) the searches of a unit.
pub fn may_keep_for_unit(person: &Person, unit: &str) -> bool {
    person.may(Permission::CaseAssign)
        && (manages_any_unit(person) || person.user.unit.as_deref() == Some(unit))
}

/// The case list's filters (see [`SAVED_PARAMS`]) as the case search names them
/// ([`crate::search::LIST_PARAMS`]): what a saved search runs, and what the list's downloads hold.
pub fn search_params(person: &Person, p: &BTreeMap<String, String>) -> HashMap<String, String> {
    let mut q = HashMap::new();
    for k in ["q", "status", "kind", "unit", "company", "consumer"] {
        if let Some(v) = p.get(k) {
            q.insert(k.to_string(), v.clone());
        }
    }
    match p.get("assignee").map(String::as_str) {
        Some("me") => {
            q.insert("assignee".into(), person.user.username.clone());
        }
        Some("none") => {
            q.insert("unassigned".into(), "true".into());
        }
        Some(u) => {
            q.insert("assignee".into(), u.to_string());
        }
        None => {}
    }
    if p.get("closed").map(String::as_str) != Some("1") {
        q.insert("open".into(), "true".into());
    }
    if p.get("overdue").map(String::as_str) == Some("1") {
        q.insert("overdue".into(), "true".into());
    }
    if p.get("sort").map(String::as_str) == Some("age") {
        let oldest = p.get("dir").map(String::as_str) == Some("desc");
        q.insert(
            "sort".into(),
            if oldest { "oldest" } else { "newest" }.into(),
        );
    }
    q
}
