//! Routing: the unit a new case goes to when whoever opened it chose none (the portal, an email,
//! an import, a call taken by someone outside any unit). An administrator keeps an ordered list of
//! rules; each names conditions on what arrived (channel, kind, category, company), every one
//! optional, and a unit. The first rule whose conditions all hold decides, so a last rule without
//! conditions is the office's intake unit and no case is left where nobody looks.

use crate::case::{CaseKind, Channel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoutingRule {
    pub id: i64,
    /// Rules are tried in this order (then by id); the first that matches decides.
    pub position: i64,
    /// Only cases that arrived this way.
    pub channel: Option<Channel>,
    /// Only cases of this kind.
    pub kind: Option<CaseKind>,
    /// Only cases filed under this category or below it (`Energy` covers
    /// `Energy > Electric > Billing`).
    pub category: Option<String>,
    /// Only cases about this company.
    pub company_id: Option<i64>,
    /// The unit the case goes to (its code).
    pub unit: String,
}

/// What is known of a case as it arrives.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub channel: Channel,
    pub kind: CaseKind,
    /// The category path, if any.
    pub category: Option<&'a str>,
    pub company_id: Option<i64>,
}

impl RoutingRule {
    /// Whether every condition of the rule holds for this arrival.
    pub fn matches(&self, a: &Arrival<'_>) -> bool {
        self.channel.is_none_or(|c| c == a.channel)
            && self.kind.is_none_or(|k| k == a.kind)
            && self.company_id.is_none_or(|id| Some(id) == a.company_id)
            && self
                .category
                .as_deref()
                .is_none_or(|prefix| a.category.is_some_and(|path| under(path, prefix)))
    }

    /// A rule without conditions: everything that reaches it goes to its unit.
    pub fn catches_all(&self) -> bool {
        self.channel.is_none()
            && self.kind.is_none()
            && self.category.is_none()
            && self.company_id.is_none()
    }
}

/// Whether `path` is `prefix` or a category below it.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(" > "))
}

/// The rule that decides where a case goes: the first, in position order, that matches.
pub fn route<'a>(rules: &'a [RoutingRule], arrival: &Arrival<'_>) -> Option<&'a RoutingRule> {
    let mut ordered: Vec<&RoutingRule> = rules.iter().collect();
    ordered.sort_by_key(|r| (r.position, r.id));
    ordered.into_iter().find(|r| r.matches(arrival))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(id: i64, position: i64, unit: &str) -> RoutingRule {
        RoutingRule {
            id,
            position,
            channel: None,
            kind: None,
            category: None,
            company_id: None,
            unit: unit.into(),
        }
    }

    fn arrival(category: Option<&str>) -> Arrival<'_> {
        Arrival {
            channel: Channel::Web,
            kind: CaseKind::Complaint,
            category,
            company_id: Some(7),
        }
    }

    #[test]
    fn the_first_matching_rule_in_position_order_decides() {
        let mut hotline = rule(1, 10, "HOTLINE");
        hotline.channel = Some(Channel::Hotline);
        let mut energy = rule(2, 20, "ENERGY");
        energy.category = Some("Energy".into());
        let intake = rule(3, 99, "CALL");
        let rules = vec![intake.clone(), energy.clone(), hotline];
        assert_eq!(
            route(&rules, &arrival(Some("Energy > Electric > Billing"))).map(|r| r.unit.as_str()),
            Some("ENERGY")
        );
        assert_eq!(
            route(&rules, &arrival(Some("Energetic"))).map(|r| r.unit.as_str()),
            Some("CALL"),
            "a category only matches whole names"
        );
        assert_eq!(
            route(&rules, &arrival(None)).map(|r| r.unit.as_str()),
            Some("CALL")
        );
        assert!(intake.catches_all() && !energy.catches_all());
        assert_eq!(route(&[], &arrival(None)), None);
    }

    #[test]
    fn every_condition_must_hold() {
        let mut r = rule(1, 1, "U");
        r.kind = Some(CaseKind::Complaint);
        r.company_id = Some(7);
        assert!(r.matches(&arrival(None)));
        r.company_id = Some(8);
        assert!(!r.matches(&arrival(None)));
        r.company_id = None;
        r.channel = Some(Channel::Phone);
        assert!(!r.matches(&arrival(None)));
    }

    proptest! {
        /// A rule without conditions at the end catches every case: nothing is left unrouted.
        #[test]
        fn a_catch_all_leaves_nothing_unrouted(
            positions in proptest::collection::vec(0i64..50, 0..8),
            company in proptest::option::of(0i64..10),
            web in any::<bool>(),
        ) {
            let mut rules: Vec<RoutingRule> = positions
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let mut r = rule(i as i64 + 1, *p, "SOME");
                    r.company_id = Some(i as i64);
                    r
                })
                .collect();
            rules.push(rule(1000, 1000, "INTAKE"));
            let a = Arrival {
                channel: if web { Channel::Web } else { Channel::Phone },
                kind: CaseKind::Inquiry,
                category: None,
                company_id: company,
            };
            let chosen = route(&rules, &a).expect("routed");
            prop_assert!(chosen.matches(&a));
            // No rule placed earlier matched.
            for r in &rules {
                if (r.position, r.id) < (chosen.position, chosen.id) {
                    prop_assert!(!r.matches(&a));
                }
            }
        }
    }
}
