//! What each audience may see of a case: the one rule behind every representation of a case
//! that leaves Redress, in the API and on the pages alike.
//!
//! - **Staff** who may see consumers see everything; staff who may not (analysts) see the case
//!   without the consumer's record.
//! - **A company** sees its own cases with the consumer's name, contact details and address
//!   (it must reach them to resolve the complaint), but only the account number the case is
//!   about, only the facts its lifecycle marks `visible_to = ["company"]`, and only links to
//!   cases that are also its own.
//! - **The consumer** (the portal) sees their own contact details without account numbers held
//!   with other companies, the facts marked for them, and no links.

use crate::lifecycle::{Addressee, Lifecycle};
use crate::records::Case;
use crate::role::{Permission, Role};

/// Who is looking at a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Staff, with or without the right to see consumers' personal data.
    Staff { consumer_details: bool },
    /// A company user: only that company's cases reach them at all.
    Company { company_id: i64 },
    /// The consumer, on the portal.
    Consumer,
}

impl Audience {
    /// The audience of a signed-in user.
    pub fn of(role: Role, company_id: Option<i64>) -> Audience {
        match (role, company_id) {
            (Role::Company, Some(id)) => Audience::Company { company_id: id },
            // A company user with no company sees no company's details.
            (Role::Company, None) => Audience::Company { company_id: -1 },
            (r, _) => Audience::Staff {
                consumer_details: r.allows(Permission::ConsumerRead),
            },
        }
    }

    /// The party this audience is, for facts and letters.
    fn party(self) -> Option<Addressee> {
        match self {
            Audience::Staff { .. } => None,
            Audience::Company { .. } => Some(Addressee::Company),
            Audience::Consumer => Some(Addressee::Consumer),
        }
    }
}

/// Whether this audience sees who a case's consumer is in a work list: staff who may see
/// consumers, and the company the case is about (it must reach them).
pub fn sees_consumer_name(audience: Audience) -> bool {
    match audience {
        Audience::Staff { consumer_details } => consumer_details,
        Audience::Company { .. } | Audience::Consumer => true,
    }
}

/// The case as `audience` may see it. `lifecycle` is the case kind's (it says which facts are
/// shared); links carry the company of the case they point at.
pub fn case_for(audience: Audience, mut case: Case, lifecycle: Option<&Lifecycle>) -> Case {
    match audience {
        Audience::Staff {
            consumer_details: true,
        } => return case,
        Audience::Staff {
            consumer_details: false,
        } => {
            case.consumer = None;
            return case;
        }
        Audience::Company { .. } | Audience::Consumer => {}
    }
    let party = audience.party();
    case.facts.retain(|f| {
        party.is_some_and(|p| lifecycle.is_some_and(|lc| lc.fact_visible_to(&f.name, p)))
    });
    if let Some(c) = case.consumer.as_mut() {
        // Accounts with other companies are none of this company's (or the portal's) business.
        c.account_numbers
            .retain(|a| case.account_number.as_deref() == Some(a.as_str()));
        c.merged_into = None;
    }
    match audience {
        Audience::Company { company_id } => {
            case.links.retain(|l| l.company_id == Some(company_id));
            let survivor_shown = case
                .merged_into
                .as_ref()
                .is_some_and(|m| case.links.iter().any(|l| &l.reference == m));
            if !survivor_shown {
                case.merged_into = None;
            }
        }
        _ => {
            case.links.clear();
            case.merged_into = None;
        }
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::*;
    use crate::lifecycle::Lifecycles;
    use crate::records::{Address, CaseFact, CaseLink, Consumer};

    fn case() -> Case {
        let at = jiff::Timestamp::UNIX_EPOCH;
        Case {
            reference: "NYC-2026-000001".into(),
            office: "NYC".into(),
            kind: CaseKind::Complaint,
            channel: Channel::Phone,
            status: Status::Open,
            stage: None,
            lifecycle: None,
            priority: Priority::Normal,
            flags: vec![],
            category: None,
            consumer_id: 1,
            consumer: Some(Consumer {
                id: 1,
                name: "Ana Díaz".into(),
                phone: Some("518-555-0100".into()),
                email: None,
                address: Address::default(),
                preferred_language: Language::Es,
                account_numbers: vec!["CE-1".into(), "NG-9".into()],
                created_at: at,
                merged_into: None,
            }),
            company: None,
            account_number: Some("CE-1".into()),
            amount_in_dispute: None,
            description: "Billed twice".into(),
            unit: None,
            assignee: None,
            merged_into: None,
            links: vec![
                CaseLink {
                    kind: LinkKind::Related,
                    reference: "NYC-2026-000002".into(),
                    direction: "outgoing".into(),
                    company_id: Some(7),
                },
                CaseLink {
                    kind: LinkKind::Related,
                    reference: "NYC-2026-000003".into(),
                    direction: "outgoing".into(),
                    company_id: Some(8),
                },
            ],
            facts: ["reason", "findings", "response", "decision", "unknown"]
                .iter()
                .map(|n| CaseFact {
                    name: (*n).into(),
                    value: format!("{n} text"),
                    set_at: at,
                })
                .collect(),
            opened_at: at,
            closed_at: None,
            updated_at: at,
            version: 1,
        }
    }

    fn names(c: &Case) -> Vec<&str> {
        c.facts.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn each_audience_sees_its_share() {
        let packs = Lifecycles::shipped().expect("packs");
        let lc = packs.by_id("utility_complaint");
        let staff = case_for(Audience::of(Role::Agent, None), case(), lc);
        assert_eq!(staff, case());
        let analyst = case_for(Audience::of(Role::Analyst, None), case(), lc);
        assert!(analyst.consumer.is_none());
        assert_eq!(analyst.facts.len(), 5);

        let company = case_for(Audience::of(Role::Company, Some(7)), case(), lc);
        assert_eq!(names(&company), ["response", "decision"]);
        let consumer = company
            .consumer
            .as_ref()
            .expect("the company reaches the consumer");
        assert_eq!(consumer.account_numbers, ["CE-1"]);
        assert_eq!(company.links.len(), 1);
        assert_eq!(company.links[0].reference, "NYC-2026-000002");

        let portal = case_for(Audience::Consumer, case(), lc);
        assert_eq!(names(&portal), ["decision"]);
        assert!(portal.links.is_empty());
        // Without a lifecycle nothing is shared.
        assert!(case_for(Audience::Consumer, case(), None).facts.is_empty());
    }
}
