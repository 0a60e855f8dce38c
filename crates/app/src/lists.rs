//! Work lists: the cases a person works through, filtered, ordered by a column (the next
//! deadline first by default, so that what is overdue leads) and paged. The same list serves an
//! agent's work, a unit's queue, the supervisors' team view and a company's open cases.

use crate::{App, AppError, AppResult, Person};
use jiff::{SignedDuration, Timestamp};
use redress_domain::records::{Unit, User, WorkList, WorkRow};
use redress_domain::search::Part;
use redress_domain::view::sees_consumer_name;
use redress_domain::{CaseKind, FieldErrors, Permission, Status, WorkOrder};
use redress_store::{AgentLoad, CaseFilter, WorkQuery};

/// Rows on a page unless the person asks for another number.
pub const PER_PAGE: i64 = 25;
/// The most rows one page holds.
pub const MAX_PER_PAGE: i64 = 100;
/// A work list counts its cases up to this many; a longer one says it holds "more than" this
/// many. Counting stops there so that a list of a million cases costs no more than one of ten
/// thousand: its pages are found by walking an index in the order shown.
pub const LIST_COUNT_LIMIT: u32 = 10_000;

/// Whose cases a list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The person asking.
    Me,
    /// Nobody yet.
    Nobody,
    /// A staff member, by user name.
    User(String),
}

/// Which cases, in what order, which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub status: Option<Status>,
    pub kind: Option<CaseKind>,
    /// A unit's code.
    pub unit: Option<String>,
    pub assignee: Option<Assignee>,
    pub company_id: Option<i64>,
    /// One person's cases (those who may see consumers).
    pub consumer_id: Option<i64>,
    /// Words the reference, the consumer's name, the company's name or the description
    /// contains.
    pub text: Option<String>,
    /// Open cases only (the default); closed ones too when false.
    pub open_only: bool,
    /// Only cases with a running clock already past its due instant.
    pub overdue_only: bool,
    pub order: WorkOrder,
    pub descending: bool,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
}

impl Default for ListRequest {
    fn default() -> Self {
        ListRequest {
            status: None,
            kind: None,
            unit: None,
            assignee: None,
            company_id: None,
            consumer_id: None,
            text: None,
            open_only: true,
            overdue_only: false,
            order: WorkOrder::Due,
            descending: false,
            page: 1,
            per_page: PER_PAGE,
        }
    }
}

impl ListRequest {
    /// Reads a list request from named words (a query string), naming each field that is not
    /// understood. Empty words mean "any".
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> AppResult<ListRequest> {
        let mut errors = FieldErrors::new();
        let word = |name: &str| get(name).map(str::trim).filter(|s| !s.is_empty());
        let mut r = ListRequest::default();
        if let Some(s) = word("status") {
            match s.parse() {
                Ok(v) => r.status = Some(v),
                Err(_) => errors.push("status", "unknown_value", "Choose one of the options."),
            }
        }
        if let Some(s) = word("kind") {
            match s.parse() {
                Ok(v) => r.kind = Some(v),
                Err(_) => errors.push("kind", "unknown_value", "Choose one of the options."),
            }
        }
        if let Some(s) = word("unit") {
            if redress_domain::validate::is_clean_text(s, false) && s.len() <= 40 {
                r.unit = Some(s.to_string());
            } else {
                errors.push("unit", "unknown_value", "Choose one of the units.");
            }
        }
        if let Some(s) = word("assignee") {
            r.assignee = Some(match s {
                "me" => Assignee::Me,
                "none" => Assignee::Nobody,
                u if redress_domain::validate::is_clean_text(u, false) && u.len() <= 64 => {
                    Assignee::User(u.to_string())
                }
                _ => {
                    errors.push("assignee", "unknown_value", "Choose one of the staff.");
                    Assignee::Me
                }
            });
        }
        if let Some(s) = word("company") {
            match s.parse::<i64>() {
                Ok(v) if v > 0 => r.company_id = Some(v),
                _ => errors.push("company", "unknown_value", "Choose one of the companies."),
            }
        }
        if let Some(s) = word("consumer") {
            match s.parse::<i64>() {
                Ok(v) if v > 0 => r.consumer_id = Some(v),
                _ => errors.push("consumer", "unknown_value", "Choose a person on file."),
            }
        }
        if let Some(s) = word("q") {
            if !redress_domain::validate::is_clean_text(s, false) || s.chars().count() > 200 {
                errors.push("q", "invalid", "Enter up to 200 characters, on one line.");
            } else if s.chars().count() < 2 {
                errors.push("q", "too_short", "Enter at least 2 characters.");
            } else {
                r.text = Some(s.to_string());
            }
        }
        match word("closed") {
            None | Some("0") => {}
            Some("1") => r.open_only = false,
            Some(_) => errors.push("closed", "unknown_value", "Use 1 to include closed cases."),
        }
        match word("overdue") {
            None | Some("0") => {}
            Some("1") => r.overdue_only = true,
            Some(_) => errors.push("overdue", "unknown_value", "Use 1 for overdue cases only."),
        }
        if let Some(s) = word("sort") {
            match s.parse() {
                Ok(v) => r.order = v,
                Err(_) => errors.push("sort", "unknown_value", "Choose one of the columns."),
            }
        }
        match word("dir") {
            None | Some("asc") => {}
            Some("desc") => r.descending = true,
            Some(_) => errors.push("dir", "unknown_value", "Use asc or desc."),
        }
        if let Some(s) = word("page") {
            match s.parse::<i64>() {
                Ok(v) if (1..=100_000).contains(&v) => r.page = v,
                _ => errors.push("page", "out_of_range", "Enter a page number from 1."),
            }
        }
        if let Some(s) = word("per_page") {
            match s.parse::<i64>() {
                Ok(v) if (1..=MAX_PER_PAGE).contains(&v) => r.per_page = v,
                _ => errors.push(
                    "per_page",
                    "out_of_range",
                    "Enter a number of rows from 1 to 100.",
                ),
            }
        }
        AppError::unless_empty(errors)?;
        Ok(r)
    }
}

/// One page of a list, and where it stands among the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseList {
    pub rows: Vec<WorkRow>,
    /// The cases the list holds, counted up to a limit (`more`: it holds more than that).
    pub total: i64,
    pub more: bool,
    pub page: i64,
    pub per_page: i64,
    /// Where the words searched for are, by case reference (from text the reader may see).
    pub snippets: std::collections::HashMap<String, Vec<redress_domain::search::SnippetPart>>,
}

impl CaseList {
    /// How many pages the list has (at least one; of a list counted only in part, the pages
    /// counted).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }

    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        self.page < self.pages() || (self.more && self.rows.len() as i64 == self.per_page)
    }
}

/// What the supervisors' team view shows: each person's load and the cases due soon or overdue.
pub struct Team {
    pub loads: Vec<AgentLoad>,
    pub due: CaseList,
}

impl App {
    /// The id of the unit a list names by code; a code that names none is a field error.
    async fn unit_id(&self, code: Option<&str>) -> AppResult<Option<i64>> {
        match code {
            Some(code) => Ok(Some(
                self.store
                    .unit_by_code(code)
                    .await
                    .map_err(|_| {
                        AppError::field("unit", "unknown_value", "Choose one of the units.")
                    })?
                    .id,
            )),
            None => Ok(None),
        }
    }

    /// A page of cases as the person may see them (a company user only its company's; analysts
    /// without consumers' names). A unit or a person that does not exist is a field error.
    pub async fn case_list(&self, person: &Person, r: &ListRequest) -> AppResult<CaseList> {
        self.case_list_due_by(person, r, None).await
    }

    async fn case_list_due_by(
        &self,
        person: &Person,
        r: &ListRequest,
        due_by: Option<Timestamp>,
    ) -> AppResult<CaseList> {
        person.require(Permission::CaseRead)?;
        if r.consumer_id.is_some() && !person.may(Permission::ConsumerRead) {
            return Err(AppError::Forbidden);
        }
        let unit_id = self.unit_id(r.unit.as_deref()).await?;
        let (assignee_id, unassigned_only) = match &r.assignee {
            None => (None, false),
            Some(Assignee::Me) => (Some(person.user.id), false),
            Some(Assignee::Nobody) => (None, true),
            Some(Assignee::User(name)) => {
                let found = self
                    .store
                    .users()
                    .await?
                    .into_iter()
                    .find(|u| &u.username == name)
                    .ok_or_else(|| {
                        AppError::field("assignee", "unknown_value", "Choose one of the staff.")
                    })?;
                (Some(found.id), false)
            }
        };
        let now = self.clock.now();
        let due_before = match (r.overdue_only, due_by) {
            (true, _) => Some(now),
            (false, Some(at)) => Some(at),
            (false, None) => None,
        };
        let terms = r
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(redress_domain::search::SearchTerms::parse);
        if let Some(Err(_)) = terms {
            // Nothing searchable was typed (only punctuation): nothing matches it.
            return Ok(CaseList {
                rows: Vec::new(),
                total: 0,
                more: false,
                page: r.page.max(1),
                per_page: r.per_page,
                snippets: Default::default(),
            });
        }
        let query = WorkQuery {
            filter: CaseFilter {
                status: r.status,
                kind: r.kind,
                unit_id,
                assignee_id,
                company_id: r.company_id,
                consumer_id: r.consumer_id,
                open_only: r.open_only,
                unassigned_only,
                limit: r.per_page.clamp(1, MAX_PER_PAGE),
                ..CaseFilter::default()
            },
            due_before,
            text: terms.clone().and_then(Result::ok).map(|t| {
                let t = t.as_you_type();
                let parts = redress_domain::search::searchable_parts(person.audience());
                redress_store::TextQuery::new(&t, parts)
            }),
            order: r.order,
            descending: r.descending,
            offset: (r.page.max(1) - 1) * r.per_page,
            count_limit: i64::from(self.settings.list_count_limit.max(1)),
        };
        let WorkList {
            mut rows,
            total,
            more,
        } = self.store.work_list(&query, person.scope()).await?;
        // The last page of a list counted in part tells how many it holds.
        let shown = rows.len() as i64;
        let (total, more) = if more && shown > 0 && shown < query.filter.limit {
            (query.offset + shown, false)
        } else {
            (total, more)
        };
        if !sees_consumer_name(person.audience()) {
            for row in &mut rows {
                row.consumer = None;
            }
        }
        let mut snippets = std::collections::HashMap::new();
        if let Some(Ok(t)) = terms {
            let t = t.as_you_type();
            let parts = redress_domain::search::searchable_parts(person.audience());
            let references = rows.iter().map(|r| r.case.reference.clone()).collect();
            for (reference, texts) in self.store.search_texts(references).await? {
                // The consumer's details are searched but never quoted in a snippet.
                let found = [Part::Head, Part::Shared, Part::Internal]
                    .iter()
                    .zip(texts.iter())
                    .filter(|(p, _)| parts.contains(p))
                    .find_map(|(_, text)| t.snippet(text, 160));
                if let Some(s) = found {
                    snippets.insert(reference, s);
                }
            }
        }
        Ok(CaseList {
            rows,
            total,
            more,
            page: r.page.max(1),
            per_page: r.per_page,
            snippets,
        })
    }

    /// The units and the staff who work cases, for a list's filters (staff).
    pub async fn list_choices(&self, person: &Person) -> AppResult<(Vec<Unit>, Vec<User>)> {
        if person.is_company() {
            return Err(AppError::Forbidden);
        }
        let units = self.store.units().await?;
        let staff = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.role.works_cases())
            .collect();
        Ok((units, staff))
    }

    /// A company's open cases by their next due date, overdue first (company users).
    pub async fn company_cases(&self, person: &Person, page: i64) -> AppResult<CaseList> {
        if !person.is_company() {
            return Err(AppError::Forbidden);
        }
        self.case_list(
            person,
            &ListRequest {
                page,
                ..ListRequest::default()
            },
        )
        .await
    }

    /// The team's load and its cases due within two days or overdue, in one unit or office-wide
    /// (those who assign).
    pub async fn team(&self, person: &Person, unit: Option<&str>, page: i64) -> AppResult<Team> {
        person.require(Permission::CaseAssign)?;
        let unit_id = self.unit_id(unit).await?;
        let now = self.clock.now();
        let bounds = crate::supervision::age_bounds(now, &self.office.time_zone);
        let soon = now + SignedDuration::from_hours(48);
        let loads = self
            .store
            .agent_loads(unit_id, now, soon, bounds.today)
            .await?
            .into_iter()
            .filter(|l| l.role.works_cases())
            .collect();
        let due = self
            .case_list_due_by(
                person,
                &ListRequest {
                    unit: unit.map(str::to_string),
                    page,
                    ..ListRequest::default()
                },
                Some(soon),
            )
            .await?;
        Ok(Team { loads, due })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> AppResult<ListRequest> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListRequest::parse(|k| m.get(k).map(String::as_str))
    }

    #[test]
    fn an_empty_request_is_open_cases_by_next_deadline() {
        let r = parse(&[]).expect("parses");
        assert_eq!(r, ListRequest::default());
        assert!(r.open_only);
        assert_eq!(r.order, WorkOrder::Due);
        assert_eq!((r.page, r.per_page), (1, PER_PAGE));
    }

    #[test]
    fn each_word_is_read() {
        let r = parse(&[
            ("status", "pending_company"),
            ("kind", "complaint"),
            ("unit", "CALL"),
            ("assignee", "none"),
            ("company", "7"),
            ("closed", "1"),
            ("overdue", "1"),
            ("sort", "consumer"),
            ("dir", "desc"),
            ("page", "3"),
            ("per_page", "50"),
        ])
        .expect("parses");
        assert_eq!(r.status, Some(Status::PendingCompany));
        assert_eq!(r.kind, Some(CaseKind::Complaint));
        assert_eq!(r.unit.as_deref(), Some("CALL"));
        assert_eq!(r.assignee, Some(Assignee::Nobody));
        assert_eq!(r.company_id, Some(7));
        assert!(!r.open_only && r.overdue_only && r.descending);
        assert_eq!(r.order, WorkOrder::Consumer);
        assert_eq!((r.page, r.per_page), (3, 50));
        assert_eq!(
            parse(&[("assignee", "jdoe")]).expect("parses").assignee,
            Some(Assignee::User("jdoe".into()))
        );
    }

    #[test]
    fn every_wrong_word_is_named() {
        let e = parse(&[
            ("status", "sleeping"),
            ("sort", "shoe_size"),
            ("dir", "up"),
            ("page", "0"),
            ("per_page", "1000"),
            ("company", "x"),
            ("overdue", "yes"),
        ])
        .expect_err("refused");
        let AppError::Validation(f) = e else {
            panic!("a validation error")
        };
        assert_eq!(
            f.fields(),
            vec![
                "status", "company", "overdue", "sort", "dir", "page", "per_page"
            ]
        );
    }

    #[test]
    fn pages_round_up_and_never_fall_below_one() {
        let list = |total| CaseList {
            rows: vec![],
            total,
            more: false,
            page: 1,
            per_page: 25,
            snippets: Default::default(),
        };
        assert_eq!(list(0).pages(), 1);
        assert_eq!(list(25).pages(), 1);
        assert_eq!(list(26).pages(), 2);
        // A list counted in part goes on while its pages are full.
        let row = || WorkRow {
            case: redress_domain::records::CaseSummary {
                reference: "NYC-2026-000001".into(),
                kind: CaseKind::Complaint,
                channel: redress_domain::Channel::Phone,
                status: Status::New,
                priority: redress_domain::Priority::Normal,
                flags: vec![],
                category: None,
                company: None,
                unit: None,
                assignee: None,
                opened_at: Timestamp::UNIX_EPOCH,
                updated_at: Timestamp::UNIX_EPOCH,
                version: 1,
            },
            consumer: None,
            assignee_name: None,
            next_deadline: None,
        };
        let counted_in_part = |page, rows: usize| CaseList {
            rows: (0..rows).map(|_| row()).collect(),
            total: 50,
            more: true,
            page,
            per_page: 25,
            snippets: Default::default(),
        };
        assert!(counted_in_part(1, 25).has_next());
        assert!(counted_in_part(2, 25).has_next());
        assert!(counted_in_part(3, 25).has_next());
        assert!(!counted_in_part(3, 24).has_next());
        assert!(!list(25).has_next() && list(26).has_next());
    }
}
