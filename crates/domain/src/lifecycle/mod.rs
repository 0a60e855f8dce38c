//! Case lifecycles as data: each case kind's states, the transitions between them (who may take
//! each, what it requires, which clocks it starts, stops, pauses or resumes), its clocks and
//! the termination hold. A lifecycle is read from a TOML file and checked as a whole before it
//! is used; every mistake is reported with the file, line and reason.
//!
//! The types are here; `parse` reads and checks a file, `plan` checks a transition and works
//! out what it does, `letters` fills in form letters and `hold` says whether the termination
//! hold is on.

mod hold;
mod letters;
mod parse;
mod plan;
#[cfg(test)]
mod tests;

pub use hold::{Hold, HoldRule, HoldStatus};
pub use letters::{Addressee, Letter, LetterContext, LetterDef};
pub use parse::{length_text, parse_length};
pub use plan::{
    ClockEffect, ClockPolicy, ClockStart, DATE_RANGE_YEARS, DueAt, Plan, TransitionError,
};

use crate::clock::Length;
use crate::{CaseKind, Priority, Role, Status};
use serde::{Deserialize, Serialize};

/// When a notice goes to the consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "on", content = "transition")]
pub enum NoticeOn {
    /// The acknowledgement, when a case is opened from any channel that gave an address.
    Opened,
    /// An update when this step is taken.
    Step(String),
    /// The company has answered on the case (its representative wrote on it).
    CompanyResponse,
    /// A reminder, this many calendar days before the clock (a deadline the consumer must
    /// meet, such as the window to ask for a review) falls due.
    #[serde(rename = "reminder")]
    Reminder { clock: String, days_before: u32 },
}

/// A notice that keeps the consumer informed, written like a letter (in English and Spanish,
/// with the same placeholders and `{{status_link}}`), sent by email in the consumer's language.
/// `required` notices are those the law calls for: a consumer cannot opt out of them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeDef {
    pub name: String,
    pub on: NoticeOn,
    pub required: bool,
    pub letter: LetterDef,
}

/// A mistake in a lifecycle file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct LifecycleError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct State {
    pub name: String,
    /// The general status this state counts as in queues and reports.
    pub status: Status,
    pub label: String,
    pub label_es: String,
    pub hold: Hold,
    /// What the public sees (Open311 maps every state to `open` or `closed`).
    pub public: String,
}

/// What happens when a clock comes due or is missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "action", content = "to")]
pub enum Action {
    /// Raise the case's priority to at least this.
    RaisePriority(Priority),
    /// Email the assignee (and the unit's supervisors).
    Notify,
    /// Move the case to this unit (by code), clearing the assignee: the next tier.
    MoveUnit(String),
    /// Take this lifecycle transition as the system (e.g. constructive denial).
    Transition(String),
}

/// How a clock's length is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Due {
    /// A period after the start.
    #[schema(value_type = String)]
    After(Length),
    /// The date in a field of the transition that starts the clock (e.g. the hearing date).
    On(String),
}

/// Legal clocks come from a rule and cannot be edited; targets are the office's own;
/// windows are the time a party has to act (they never escalate against staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    Legal,
    Target,
    Window,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Legal => "legal",
            ClockKind::Target => "target",
            ClockKind::Window => "window",
        }
    }
}

impl<'de> Deserialize<'de> for ClockKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "legal" => Ok(ClockKind::Legal),
            "target" => Ok(ClockKind::Target),
            "window" => Ok(ClockKind::Window),
            other => Err(serde::de::Error::custom(format!(
                "unknown clock kind {other}"
            ))),
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::RaisePriority(p) => write!(f, "priority {p}"),
            Action::Notify => f.write_str("notify"),
            Action::MoveUnit(u) => write!(f, "unit {u}"),
            Action::Transition(t) => write!(f, "→ {t}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockDef {
    pub name: String,
    pub label: String,
    pub label_es: String,
    /// The rule, e.g. `16 NYCRR 12.5(a)(1) (C09)`.
    pub source: String,
    pub kind: ClockKind,
    pub due: Due,
    /// A date field of the starting transition that the clock counts from (e.g. the mailing
    /// date); without it the clock starts at the transition.
    pub starts_on: Option<String>,
    /// How long before the due instant the due-soon actions run.
    #[schema(value_type = Option<String>)]
    pub warn: Option<Length>,
    pub on_due_soon: Vec<Action>,
    pub on_overdue: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "options")]
pub enum FieldKind {
    Date,
    Text,
    Money,
    /// A whole number from 0 (a page count).
    Number,
    Choice(Vec<String>),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
    pub label: String,
    pub label_es: String,
    /// A date that must be at least this many calendar days after the day of the transition
    /// (notice).
    pub min_notice_days: Option<u32>,
    /// A date that may not be later than the day of the transition (e.g. a mailing date).
    pub not_future: bool,
    /// The date the step's letter is mailed: left empty, the letter goes to the print queue and
    /// the date is recorded when its batch is marked mailed (the clocks that count from it
    /// start then). Typed in, the letter was mailed outside Redress on that date.
    pub mailing_date: bool,
    /// A date that may not be later than this clock's due date (the one the step starts, or
    /// the case's running one): an approximate date within the legal deadline.
    pub not_after: Option<String>,
    /// An amount that may not be less than this money field's recorded value (a payment and
    /// the fee it pays).
    pub at_least: Option<String>,
    /// For a choice: what each option is called, in English and in Spanish (same order).
    pub option_labels: Vec<String>,
    pub option_labels_es: Vec<String>,
    /// Who besides staff may read the value a step records (`visible_to` in the file; empty,
    /// the default, keeps it internal: staff reasons, inspection findings).
    pub visible_to: Vec<Addressee>,
}

impl ClockDef {
    /// How long it runs, in words: `15 calendar days from mailed_on`, `on hearing_on`.
    pub fn length_text(&self) -> String {
        match (&self.due, &self.starts_on) {
            (Due::After(len), Some(f)) => format!("{} from {f}", length_text(*len)),
            (Due::After(len), None) => length_text(*len),
            (Due::On(f), _) => format!("on {f}"),
        }
    }

    /// What happens when it is missed, in words (`priority high, notify`); empty for nothing.
    pub fn overdue_text(&self) -> String {
        self.on_overdue
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FieldDef {
    /// What a choice's option is called in a language (the word itself when unnamed).
    pub fn option_label(&self, value: &str, spanish: bool) -> String {
        let FieldKind::Choice(options) = &self.kind else {
            return value.to_string();
        };
        let labels = if spanish {
            &self.option_labels_es
        } else {
            &self.option_labels
        };
        options
            .iter()
            .position(|o| o == value)
            .and_then(|i| labels.get(i))
            .cloned()
            .unwrap_or_else(|| value.replace('_', " "))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transition {
    pub name: String,
    pub label: String,
    pub label_es: String,
    pub from: Vec<String>,
    pub to: String,
    pub roles: Vec<Role>,
    /// Fields that must be given.
    pub requires: Vec<String>,
    /// Fields that may be given.
    pub optional: Vec<String>,
    pub start: Vec<String>,
    /// Clocks ended as met (the awaited act happened).
    pub stop: Vec<String>,
    /// Clocks ended as stopped (no longer relevant).
    pub cancel: Vec<String>,
    pub pause: Vec<String>,
    pub resume: Vec<String>,
    /// Priority the case is raised to (never lowered).
    pub priority: Option<Priority>,
    /// Taken only by the scheduler (e.g. constructive denial when a deadline passes).
    pub system: bool,
    /// Only by someone with no earlier work on the case (e.g. a recommended determination by
    /// staff new to the case, 16 NYCRR 12.14(a)).
    pub independent: bool,
    /// Opens a case of this kind for the same consumer and company, linked to this one (a
    /// hotline call that becomes a complaint).
    pub opens: Option<CaseKind>,
    /// Running clocks the opened case keeps, due on the same day (a medical certificate).
    pub carry: Vec<String>,
}

/// Which cases of its kind a lifecycle is for, beside the kind's general one: those about a
/// company in one of these industries, or filed under one of these top-level categories (both
/// compared without regard to case). Empty: the kind's general lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Applies {
    pub industries: Vec<String>,
    pub categories: Vec<String>,
}

impl Applies {
    pub fn is_general(&self) -> bool {
        self.industries.is_empty() && self.categories.is_empty()
    }

    /// Whether a case about a company of `industry`, filed under the top-level category
    /// `category`, takes this lifecycle.
    pub fn matches(&self, industry: Option<&str>, category: Option<&str>) -> bool {
        let has = |list: &[String], v: Option<&str>| {
            v.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v.trim())))
        };
        has(&self.industries, industry) || has(&self.categories, category)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lifecycle {
    /// Its file's name without `.toml`: what a case records as the lifecycle it follows.
    pub id: String,
    pub kind: CaseKind,
    /// Which cases of the kind it is for (empty: the kind's general lifecycle).
    pub applies: Applies,
    pub version: u32,
    pub name: String,
    pub name_es: String,
    pub source: String,
    /// The file it was read from.
    pub file: String,
    pub initial: String,
    /// Clocks started when a case is opened.
    pub open_starts: Vec<String>,
    pub hold: Option<HoldRule>,
    pub states: Vec<State>,
    pub clocks: Vec<ClockDef>,
    pub fields: Vec<FieldDef>,
    pub transitions: Vec<Transition>,
    /// Form letters a transition produces, with placeholders filled from the case.
    pub letters: Vec<LetterDef>,
    /// Notices to the consumer (the acknowledgement on opening).
    pub notices: Vec<NoticeDef>,
}

impl Lifecycle {
    /// Whether a recorded fact may be shown to a party. Facts no field declares (and fields
    /// without `visible_to`) are internal.
    pub fn fact_visible_to(&self, fact: &str, who: Addressee) -> bool {
        self.fields
            .iter()
            .any(|f| f.name == fact && f.visible_to.contains(&who))
    }
}

impl Lifecycle {
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    pub fn clock(&self, name: &str) -> Option<&ClockDef> {
        self.clocks.iter().find(|c| c.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The state a case is in: its recorded stage when this lifecycle still has it, otherwise
    /// the first state with the case's status (cases opened before a lifecycle changed keep
    /// working).
    pub fn current<'a>(&'a self, stage: Option<&str>, status: Status) -> &'a State {
        stage
            .and_then(|s| self.state(s))
            .or_else(|| self.states.iter().find(|s| s.status == status))
            .or_else(|| self.state(&self.initial))
            .unwrap_or(&self.states[0])
    }

    /// The transitions a role may take from a state (system transitions excluded).
    pub fn available<'a>(&'a self, stage: &str, role: Option<Role>) -> Vec<&'a Transition> {
        self.transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f == stage))
            .filter(|t| match role {
                Some(r) => !t.system && t.roles.contains(&r),
                None => !t.system,
            })
            .collect()
    }
}

/// The lifecycles in force: each kind's general one, and others for some of its cases (a
/// utility's customers, an insurer's claimants).
#[derive(Debug, Clone, Default)]
pub struct Lifecycles(pub Vec<Lifecycle>);

impl Lifecycles {
    /// Reads a set of files, each `(name, text)`. Each kind has one general lifecycle (no
    /// `[applies]`) and any number that apply to some of its cases; ids are unique.
    pub fn parse(files: &[(String, String)]) -> Result<Lifecycles, LifecycleError> {
        let mut out: Vec<Lifecycle> = Vec::new();
        for (name, text) in files {
            let lc = Lifecycle::parse(name, text)?;
            let clash = |o: &&Lifecycle| {
                o.id == lc.id
                    || (o.kind == lc.kind && o.applies.is_general() && lc.applies.is_general())
            };
            if let Some(other) = out.iter().find(clash) {
                let reason = if other.id == lc.id {
                    format!("another file is also named {}", lc.id)
                } else {
                    format!(
                        "kind {} already has a general lifecycle in {}; give this one an [applies] table",
                        lc.kind, other.file
                    )
                };
                return Err(LifecycleError {
                    file: name.clone(),
                    line: 1,
                    column: 1,
                    reason,
                });
            }
            out.push(lc);
        }
        for kind in CaseKind::ALL {
            if !out.iter().any(|l| l.kind == *kind) {
                return Err(LifecycleError {
                    file: files.first().map(|f| f.0.clone()).unwrap_or_default(),
                    line: 1,
                    column: 1,
                    reason: format!("no lifecycle for case kind {kind}"),
                });
            }
        }
        out.sort_by_key(|l| l.kind);
        Ok(Lifecycles(out))
    }

    /// The kind's general lifecycle (or, when every one of the kind applies to some cases only,
    /// the first of them).
    pub fn for_kind(&self, kind: CaseKind) -> Option<&Lifecycle> {
        self.0
            .iter()
            .find(|l| l.kind == kind && l.applies.is_general())
            .or_else(|| self.0.iter().find(|l| l.kind == kind))
    }

    /// A lifecycle by its id.
    pub fn by_id(&self, id: &str) -> Option<&Lifecycle> {
        self.0.iter().find(|l| l.id == id)
    }

    /// The lifecycle a new case of `kind` takes: the first of its kind whose `[applies]`
    /// matches the company's industry or the case's top-level category, else the kind's
    /// general one.
    pub fn choose(
        &self,
        kind: CaseKind,
        industry: Option<&str>,
        category: Option<&str>,
    ) -> Option<&Lifecycle> {
        let top = category.map(|c| {
            c.split(crate::records::CATEGORY_SEPARATOR)
                .next()
                .unwrap_or(c)
        });
        self.0
            .iter()
            .find(|l| l.kind == kind && !l.applies.is_general() && l.applies.matches(industry, top))
            .or_else(|| self.for_kind(kind))
    }

    /// The lifecycles a case of `kind` may follow.
    pub fn of_kind(&self, kind: CaseKind) -> Vec<&Lifecycle> {
        self.0.iter().filter(|l| l.kind == kind).collect()
    }
}

/// The process packs shipped with Redress, as `(file name, text)`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "utility_complaint.toml",
        include_str!("../../../../lifecycles/utility_complaint.toml"),
    ),
    (
        "hotline.toml",
        include_str!("../../../../lifecycles/hotline.toml"),
    ),
    (
        "mediation.toml",
        include_str!("../../../../lifecycles/mediation.toml"),
    ),
    (
        "insurance_inquiry.toml",
        include_str!("../../../../lifecycles/insurance_inquiry.toml"),
    ),
    (
        "city_information_request.toml",
        include_str!("../../../../lifecycles/city_information_request.toml"),
    ),
    (
        "foil_request.toml",
        include_str!("../../../../lifecycles/foil_request.toml"),
    ),
    (
        "general_complaint.toml",
        include_str!("../../../../lifecycles/general_complaint.toml"),
    ),
    (
        "general_inquiry.toml",
        include_str!("../../../../lifecycles/general_inquiry.toml"),
    ),
];

impl Lifecycles {
    /// The shipped packs.
    pub fn shipped() -> Result<Lifecycles, LifecycleError> {
        Lifecycles::parse(
            &SHIPPED
                .iter()
                .map(|(n, t)| (format!("lifecycles/{n}"), t.to_string()))
                .collect::<Vec<_>>(),
        )
    }
}
