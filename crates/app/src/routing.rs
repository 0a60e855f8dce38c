//! Routing: every new case lands in a unit's queue. When whoever opened a case chose no unit
//! (the portal, a caller outside any unit, later an email or an import), the office's routing
//! rules choose one; administrators keep the rules, supervisors see what is not yet assigned.

use crate::{App, AppError, AppResult, Person};
use redress_domain::routing::{Arrival, RoutingRule, route};
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{CaseKind, Channel, Permission};
use redress_store::StoreError;
use serde::Deserialize;
use utoipa::ToSchema;

/// A routing rule to add. Every condition is optional; a rule without any catches every case that
/// reaches it (the office's intake unit, placed last).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoutingRule {
    /// Where the rule stands in the order rules are tried (lowest first); after the last rule
    /// when absent.
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    /// A category path from `/api/v1/categories`; cases filed under it or below it match.
    pub category: Option<String>,
    /// A company id from `/api/v1/companies`.
    pub company_id: Option<i64>,
    /// The unit's code.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 64)]
    pub unit: Option<String>,
}

impl App {
    /// The routing rules, in the order they are tried.
    pub async fn routing_rules(&self, person: &Person) -> AppResult<Vec<RoutingRule>> {
        person.require(Permission::ReferenceDataRead)?;
        Ok(self.store.routing_rules().await?)
    }

    /// Adds a routing rule (administrators and managers); each condition must name something
    /// that exists.
    pub async fn add_routing_rule(
        &self,
        person: &Person,
        b: NewRoutingRule,
    ) -> AppResult<RoutingRule> {
        person.require(Permission::ReferenceDataWrite)?;
        let mut errors = FieldErrors::new();
        let unit = v::required_text(&mut errors, "unit", b.unit.as_deref(), 64);
        if let Some(code) = &unit {
            self.lookup_unit(&mut errors, "unit", code).await?;
        }
        let category = match b
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(path) => self
                .lookup_category_record(&mut errors, "category", path)
                .await?
                .map(|c| c.path),
            None => None,
        };
        if let Some(id) = b.company_id {
            self.lookup_company(&mut errors, "company_id", id).await?;
        }
        if b.position.is_some_and(|p| !(0..=1_000_000).contains(&p)) {
            errors.push("position", "out_of_range", "From 0 to 1000000.");
        }
        AppError::unless_empty(errors)?;
        let position = match b.position {
            Some(p) => p,
            None => self
                .store
                .routing_rules()
                .await?
                .iter()
                .map(|r| r.position)
                .max()
                .map_or(10, |p| p + 10),
        };
        let rule = RoutingRule {
            id: 0,
            position,
            channel: b.channel,
            kind: b.kind,
            category,
            company_id: b.company_id,
            unit: unit.unwrap_or_default(),
        };
        Ok(self
            .store
            .add_routing_rule(&person.actor(), &rule, self.clock.now())
            .await?)
    }

    /// Removes a routing rule.
    pub async fn remove_routing_rule(&self, person: &Person, id: i64) -> AppResult<()> {
        person.require(Permission::ReferenceDataWrite)?;
        Ok(self
            .store
            .remove_routing_rule(&person.actor(), id, self.clock.now())
            .await?)
    }

    /// The unit a case goes to when nobody chose one: the first routing rule that matches.
    pub(crate) async fn route_new_case(&self, arrival: &Arrival<'_>) -> AppResult<Option<i64>> {
        let rules = self.store.routing_rules().await?;
        let Some(rule) = route(&rules, arrival) else {
            return Ok(None);
        };
        match self.store.unit_by_code(&rule.unit).await {
            Ok(u) => Ok(Some(u.id)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
