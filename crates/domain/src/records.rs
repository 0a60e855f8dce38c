//! What the office keeps: the records that the store returns and the API shows.

use crate::case::*;
use crate::role::Role;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Office {
    pub code: String,
    pub name: String,
    /// IANA time zone, e.g. `America/New_York`.
    pub time_zone: String,
    /// The hour (office time, 0–23) the office opens: working-hour clocks count from then.
    #[serde(default = "default_opening_hour")]
    pub opens_at: i8,
    /// The hour (office time, 0–23) the office closes: a deadline falls due then on its day.
    #[serde(default = "default_closing_hour")]
    pub closes_at: i8,
}

fn default_opening_hour() -> i8 {
    9
}

fn default_closing_hour() -> i8 {
    crate::clock::CUTOFF_HOUR
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub office: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub industry: String,
    /// Customers served, for complaints-per-100,000 figures.
    pub customer_count: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    /// The name in Spanish, once an administrator gave it.
    pub name_es: Option<String>,
    /// The names from the root down, joined by ` > `, e.g. `Energy > Electric > Billing`.
    pub path: String,
}

impl Category {
    /// The category's own name in Spanish (or in English until it has a Spanish one).
    pub fn name_in(&self, spanish: bool) -> &str {
        match (&self.name_es, spanish) {
            (Some(es), true) if !es.is_empty() => es,
            _ => &self.name,
        }
    }
}

/// The separator between category names in a path.
pub const CATEGORY_SEPARATOR: &str = " > ";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Unit code.
    pub unit: Option<String>,
    /// For company users: the company whose cases they see.
    pub company_id: Option<i64>,
    pub active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consumer {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Address,
    pub preferred_language: Language,
    pub account_numbers: Vec<String>,
    pub created_at: Timestamp,
    /// When staff decided this record is the same person as another: the record kept.
    pub merged_into: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompanyRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseLink {
    pub kind: LinkKind,
    /// The other case.
    pub reference: String,
    /// `outgoing` when this case points at the other (e.g. this is a duplicate of it).
    pub direction: String,
    /// The other case's company (decides whether a company user may see the link).
    #[serde(skip)]
    pub company_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub reference: String,
    pub office: String,
    pub kind: CaseKind,
    pub channel: Channel,
    pub status: Status,
    /// The state within the kind's lifecycle (see `GET /lifecycles`); absent on cases opened
    /// before lifecycles, which count as the first state with their status.
    pub stage: Option<String>,
    /// The lifecycle the case follows (a lifecycle file's name, e.g. `utility_complaint`);
    /// `null` for cases opened before a kind could have several, which follow its general one.
    pub lifecycle: Option<String>,
    pub priority: Priority,
    pub flags: Vec<Flag>,
    pub category: Option<String>,
    pub consumer_id: i64,
    /// Absent for roles that may not see consumers' personal data.
    pub consumer: Option<Consumer>,
    pub company: Option<CompanyRef>,
    pub account_number: Option<String>,
    /// Exact decimal text with two places, e.g. `"125.40"`.
    pub amount_in_dispute: Option<String>,
    pub description: String,
    pub unit: Option<String>,
    pub assignee: Option<String>,
    /// When merged: the surviving case.
    pub merged_into: Option<String>,
    pub links: Vec<CaseLink>,
    /// What the lifecycle's transitions recorded (mailing dates, hearing dates, amounts in
    /// cents, outcomes).
    pub facts: Vec<CaseFact>,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A case as listed: enough to triage, without contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub reference: String,
    pub kind: CaseKind,
    pub channel: Channel,
    pub status: Status,
    pub priority: Priority,
    pub flags: Vec<Flag>,
    pub category: Option<String>,
    pub company: Option<CompanyRef>,
    pub unit: Option<String>,
    pub assignee: Option<String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A case as a work list shows it: the summary, who the consumer is (for those who may see
/// it), the assignee's name, and the deadline that comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkRow {
    pub case: CaseSummary,
    pub consumer: Option<String>,
    pub assignee_name: Option<String>,
    pub next_deadline: Option<NextDeadline>,
}

/// The running clock of a case that falls due first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextDeadline {
    pub clock: String,
    pub due_at: Timestamp,
}

/// One page of a work list and how many cases the list holds in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkList {
    pub rows: Vec<WorkRow>,
    /// The cases the list holds, counted up to a limit (see `more`).
    pub total: i64,
    /// The list holds more cases than `total`, where counting stopped.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// Position in the case's timeline, from 1.
    pub seq: i64,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub body: String,
    pub visibility: Visibility,
    /// Structured details: call direction and duration, status from/to, assignment...
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub author: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub chain: String,
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub filename: String,
    /// Decided from the file's content.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub visibility: Visibility,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
}

/// A deadline clock as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseClock {
    /// e.g. `company_response`, `foil_first_response`.
    pub name: String,
    /// The rule's source in the deadline table (e.g. `C26`).
    pub source: String,
    pub started_at: Timestamp,
    /// When it is due: a business day at the office's cut-off time, moved later by pauses.
    pub due_at: Timestamp,
    pub state: crate::clock::ClockState,
    pub paused_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    /// `legal`, `target` or `window` (absent on clocks started before lifecycles).
    pub kind: Option<crate::lifecycle::ClockKind>,
}

/// A value a lifecycle transition recorded on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseFact {
    pub name: String,
    pub value: String,
    pub set_at: Timestamp,
}

/// A root cause on the office's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RootCause {
    /// A stable code, e.g. `billing_error`.
    pub code: String,
    pub name: String,
    /// The Spanish name, when there is one.
    pub name_es: Option<String>,
    /// Where it stands in the list (smaller first).
    pub position: i64,
    /// Whether a case can still be closed with it.
    pub active: bool,
}

/// A search of the case list kept under a name, for one person or for a whole unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SavedSearch {
    pub id: i64,
    pub name: String,
    /// The unit's code for a unit's search (everyone in the unit sees it); absent for the
    /// person's own.
    pub unit: Option<String>,
    /// The case list's filters by name (`status`, `q`, ...), as `/cases` takes them.
    pub params: std::collections::BTreeMap<String, String>,
    /// The case list with these filters, e.g. `/cases?q=meter&status=open`.
    pub href: String,
    /// Who saved it (a user name).
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

impl SavedSearch {
    /// The case list's address with these filters.
    pub fn href_of(params: &std::collections::BTreeMap<String, String>) -> String {
        let pairs: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
            .collect();
        if pairs.is_empty() {
            "/cases".into()
        } else {
            format!("/cases?{}", pairs.join("&"))
        }
    }
}

/// A query string's name or value: everything but letters, digits and `-_.~` escaped.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod saved_search_tests {
    use super::SavedSearch;

    #[test]
    fn the_href_escapes_what_a_query_string_cannot_hold() {
        let params = [("q", "gas & water"), ("status", "open")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            SavedSearch::href_of(&params),
            "/cases?q=gas%20%26%20water&status=open"
        );
        assert_eq!(SavedSearch::href_of(&Default::default()), "/cases");
    }
}
