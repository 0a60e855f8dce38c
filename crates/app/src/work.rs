//! An agent's day: their work and what falls due today, finding a person or a case, taking a
//! contact in (the case, the call, an answer on the call), everything the case page shows, and
//! keeping a session alive.

use crate::cases::{CreateCase, Intake};
use crate::consumers::{SearchFrom, lookup_of_text};
use crate::lists::{Assignee, CaseList, ListRequest};
use crate::steps::CaseLifecycle;
use crate::{App, AppError, AppResult, Person, case_reference};
use jiff::Timestamp;
use redress_domain::records::*;
use redress_domain::{CaseKind, EntryType, Permission, Reference, Status, Visibility, WorkOrder};
use redress_store::{CaseFilter, NewEntry, Scope, UnitQueue};

/// A person's work: their open cases, the latest cases, the unit queues (for those who assign)
/// and the deadlines of their cases that fall due by the end of today.
pub struct MyWork {
    /// The person's open cases by next deadline (a company user: the company's open cases).
    pub mine: CaseList,
    /// The request `mine` answers, for its column links.
    pub mine_request: ListRequest,
    /// The cases the person may see, the latest change first.
    pub recent: CaseList,
    pub recent_request: ListRequest,
    pub queues: Vec<UnitQueue>,
    /// (reference, case kind, clock, due at, already overdue)
    pub due: Vec<(String, CaseKind, String, Timestamp, bool)>,
}

/// What a search found.
pub enum Found {
    /// The text was the reference of a case the person may see.
    Case(String),
    /// The people on file the text names by phone, email or account number (none for those
    /// who may not see consumers).
    People(Vec<Consumer>),
}

/// A call taken with a new case: its length and the words that describe it.
pub struct IntakeCall {
    pub seconds: i64,
    pub body: String,
}

/// Who the ids and user names of a case's timeline are, for people: each user's name and each
/// unit's name.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// user id -> (user name, display name)
    pub people: std::collections::HashMap<i64, (String, String)>,
    /// unit id -> (code, name)
    pub units: std::collections::HashMap<i64, (String, String)>,
}

impl Names {
    /// The display name of a user name (the user name itself when unknown).
    pub fn person(&self, username: &str) -> String {
        self.people
            .values()
            .find(|(u, _)| u == username)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| username.to_string())
    }
    /// The name of a unit by code (the code itself when unknown).
    pub fn unit(&self, code: &str) -> String {
        self.units
            .values()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| code.to_string())
    }
}

/// Rows of a case's audit trail on one page of the case page.
pub const AUDIT_ROWS: i64 = 50;

/// One page of a case's audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditTrail {
    pub rows: Vec<AuditRecord>,
    /// Rows in the whole trail.
    pub total: i64,
    /// From 1.
    pub page: i64,
}

/// Everything the case page shows, as the person may see it.
pub struct CaseFile {
    pub case: Case,
    pub entries: Vec<TimelineEntry>,
    /// A page of the case's audit trail (those who may read it).
    pub audit: AuditTrail,
    pub attachments: Vec<Attachment>,
    /// Where the case stands, the steps the person may take, its clocks.
    pub stage: CaseLifecycle,
    /// The units and active staff a case may be assigned to, for those who assign.
    pub assignable: Option<(Vec<Unit>, Vec<User>)>,
    /// Other consumer records that may be this case's consumer (those who may see consumers).
    pub duplicates: Vec<Consumer>,
    /// Who the people and units the case names are.
    pub names: Names,
    /// The companies and categories a case may be corrected to, for those who may change it.
    pub editable: Option<(Vec<Company>, Vec<Category>)>,
    /// The consumer's other cases, newest first (those who may see consumers; at most 20).
    pub other_cases: Vec<CaseSummary>,
}

impl App {
    /// The person's work and today's deadlines.
    pub async fn my_work(&self, person: &Person) -> AppResult<MyWork> {
        let mine_request = ListRequest {
            assignee: (!person.is_company()).then_some(Assignee::Me),
            per_page: 15,
            ..ListRequest::default()
        };
        let mine = self.case_list(person, &mine_request).await?;
        let recent_request = ListRequest {
            order: WorkOrder::Activity,
            open_only: false,
            per_page: 10,
            ..ListRequest::default()
        };
        let recent = self.case_list(person, &recent_request).await?;
        let now = self.clock.now();
        let end_of_today = jiff::tz::TimeZone::get(&self.office.time_zone)
            .ok()
            .and_then(|tz| now.to_zoned(tz).end_of_day().ok())
            .map(|z| z.timestamp())
            .unwrap_or(now);
        let due = self
            .store
            .deadlines_for(person.user.id, end_of_today)
            .await?
            .into_iter()
            .map(|(r, kind, name, at)| (r, kind, name, at, at < now))
            .collect();
        let queues = if person.may(Permission::CaseAssign) {
            self.store.unit_queues().await?
        } else {
            vec![]
        };
        Ok(MyWork {
            mine,
            mine_request,
            recent,
            recent_request,
            queues,
            due,
        })
    }

    /// Finds what a person typed: a case by its whole reference, else the people on file with
    /// that phone, email or account number (for those who may see consumers; audited). The
    /// cases whose words match are a work list ([`App::case_list`] with `text`).
    pub async fn search(&self, person: &Person, text: &str) -> AppResult<Found> {
        let text = text.trim();
        if let Ok(r) = text.to_ascii_uppercase().parse::<Reference>() {
            let r = r.to_string();
            if self
                .store
                .case(&person.actor(), &r, person.scope(), false, self.clock.now())
                .await
                .is_ok()
            {
                return Ok(Found::Case(r));
            }
        }
        let mut people = Vec::new();
        if person.may(Permission::ConsumerRead)
            && !text.is_empty()
            && let Some(lookup) = lookup_of_text(text)
        {
            people = self
                .find_consumers(person, &lookup, SearchFrom::Page)
                .await?;
        }
        Ok(Found::People(people))
    }

    /// The companies and categories the intake screen offers.
    pub async fn intake_lists(&self, person: &Person) -> AppResult<(Vec<Company>, Vec<Category>)> {
        person.require(Permission::CaseCreate)?;
        Ok((
            self.store.companies().await?,
            self.store.categories().await?,
        ))
    }

    /// The person on file an agent chose to file for (the view is audited); `None` when there
    /// is no such record or it was merged into another.
    pub async fn chosen_consumer(&self, person: &Person, id: i64) -> AppResult<Option<Consumer>> {
        if !person.may(Permission::ConsumerRead) {
            return Ok(None);
        }
        match self.view_consumer(person, id).await {
            Ok(c) if c.merged_into.is_none() => Ok(Some(c)),
            Ok(_) | Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes a contact in at the intake screen: opens the case, records the call that brought
    /// it (if any), and closes it when the agent answered it on the call.
    pub async fn take_in(
        &self,
        person: &Person,
        case: CreateCase,
        call: Option<IntakeCall>,
        answered: bool,
    ) -> AppResult<Case> {
        let (opened, _) = self.open_case(Intake::Staff(person), case, None).await?;
        if let Some(call) = call.filter(|c| c.seconds > 0) {
            let entry = NewEntry {
                entry_type: EntryType::Call,
                body: call.body,
                visibility: Visibility::Internal,
                data: serde_json::json!({"direction": "inbound", "duration_seconds": call.seconds}),
                at: self.clock.now(),
                author_id: Some(person.user.id),
            };
            self.store
                .add_entry(&person.actor(), &opened.reference, &entry, Scope::default())
                .await?;
        }
        if answered {
            self.change_status(
                person,
                &opened.reference,
                Status::Closed,
                Some("Answered on the call"),
                None,
                &crate::steps::Closing::default(),
            )
            .await?;
        }
        Ok(opened)
    }

    /// Everything the case page shows. Reading the case is audited (by the store when the
    /// consumer's record is shown, here when it is not).
    pub async fn case_file(
        &self,
        person: &Person,
        reference: &str,
        spanish: bool,
        audit_page: i64,
    ) -> AppResult<CaseFile> {
        let reference = case_reference(reference)?;
        let now = self.clock.now();
        let with_pii = person.user.role.sees_consumer_details();
        let full = self
            .store
            .case(&person.actor(), &reference, person.scope(), with_pii, now)
            .await?;
        if !with_pii {
            self.audit_case_view(person, &reference).await?;
        }
        // What this role may see of it: the same rule as the API's (where the case stands is
        // worked out from the whole case, and shows only derived dates).
        let case = self.case_for(person.audience(), full.clone());
        let company_only = person.is_company().then_some(Visibility::Company);
        let entries = self
            .store
            .timeline(
                &person.actor(),
                &reference,
                person.scope(),
                company_only,
                now,
            )
            .await?;
        let audit = if person.may(Permission::AuditRead) {
            let page = audit_page.max(1);
            let (rows, total) = self
                .store
                .audit_page_for_subject(&reference, AUDIT_ROWS, (page - 1) * AUDIT_ROWS)
                .await?;
            AuditTrail { rows, total, page }
        } else {
            AuditTrail::default()
        };
        let attachments = self
            .store
            .attachments(&reference, person.scope(), company_only)
            .await?;
        let clocks = self.store.clocks(&reference, person.scope(), now).await?;
        let stage = self
            .describe_stage(&full, &clocks, Some(person.user.role), spanish)
            .await?;
        // Users and units are read once: for their names on the page, and for assigners the
        // staff and units a case may go to.
        let (users, units) = (self.store.users().await?, self.store.units().await?);
        let assignable = if person.may(Permission::CaseAssign) && case.status != Status::Merged {
            let staff = users
                .iter()
                .filter(|s| s.active && s.role.works_cases())
                .cloned()
                .collect();
            Some((units.clone(), staff))
        } else {
            None
        };
        let duplicates = match (&case.consumer, person.may(Permission::ConsumerRead)) {
            (Some(mine), true) => {
                self.store
                    .consumer_duplicates(&person.actor(), mine.id, 20, now)
                    .await?
            }
            _ => vec![],
        };
        let editable = if person.may(Permission::CaseUpdate) && case.status != Status::Merged {
            Some((
                self.store.companies().await?,
                self.store.categories().await?,
            ))
        } else {
            None
        };
        let names = Names {
            people: users
                .into_iter()
                .map(|u| (u.id, (u.username, u.display_name)))
                .collect(),
            units: units
                .into_iter()
                .map(|u| (u.id, (u.code, u.name)))
                .collect(),
        };
        let other_cases = if person.may(Permission::ConsumerRead) {
            self.store
                .cases(
                    &CaseFilter {
                        consumer_id: Some(full.consumer_id),
                        limit: 21,
                        ..CaseFilter::default()
                    },
                    person.scope(),
                )
                .await?
                .into_iter()
                .map(|(_, c)| c)
                .filter(|c| c.reference != reference)
                .take(20)
                .collect()
        } else {
            vec![]
        };
        Ok(CaseFile {
            case,
            entries,
            audit,
            attachments,
            stage,
            assignable,
            editable,
            names,
            duplicates,
            other_cases,
        })
    }

    /// "Same person: merge" from a case: the case's consumer and another record are one person.
    /// The newer record is merged into the one on file longer.
    pub async fn merge_case_consumer(
        &self,
        person: &Person,
        reference: &str,
        other: Option<i64>,
    ) -> AppResult<Consumer> {
        person.require(Permission::ConsumerMerge)?;
        let reference = case_reference(reference)?;
        let case = self
            .store
            .case(
                &person.actor(),
                &reference,
                person.scope(),
                true,
                self.clock.now(),
            )
            .await?;
        let Some(other) = other.filter(|o| *o != case.consumer_id) else {
            return Err(AppError::field(
                "other",
                "unknown_consumer",
                "Choose a record from the list.",
            ));
        };
        let (from, into) = if other > case.consumer_id {
            (other, case.consumer_id)
        } else {
            (case.consumer_id, other)
        };
        Ok(self
            .store
            .merge_consumers(&person.actor(), from, into, self.clock.now())
            .await?)
    }

    /// Keeps a session alive for its full length from now; returns when it now ends.
    pub async fn renew_session(&self, secret: &str) -> AppResult<Timestamp> {
        let until =
            self.clock.now() + jiff::SignedDuration::from_hours(crate::accounts::SESSION_HOURS);
        self.extend_session(secret, until).await?;
        Ok(until)
    }
}
