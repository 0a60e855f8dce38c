//! Case lifecycles as data: each case kind's states, the transitions between them (who may take
//! each, what it requires, which clocks it starts, stops, pauses or resumes), its clocks and
//! the termination hold. A lifecycle is read from a TOML file and checked as a whole before it
//! is used; every mistake is reported with the file, line and reason.

use crate::clock::Length;
use crate::{CaseKind, FieldErrors, Priority, Role, Status};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use toml::Spanned;

/// A mistake in a lifecycle file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct LifecycleError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// How far from the day of a transition a date field may lie, either way: deadlines are
/// computed from these dates, and a date such as 9999-12-31 has no cut-off instant.
pub const DATE_RANGE_YEARS: i16 = 100;

/// What a state means for the termination hold (process.md C.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "clock")]
pub enum Hold {
    /// No hold in this state.
    None,
    /// Held for as long as the case stays in this state.
    Pending,
    /// Held until the named clock's due instant (a decision's mailing date + the window).
    Until(String),
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
}

/// The termination-hold rule of a lifecycle.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldRule {
    pub source: String,
    pub text: String,
    pub text_es: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lifecycle {
    pub kind: CaseKind,
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

/// Who a letter goes to; its timeline entry is visible to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Addressee {
    Consumer,
    Company,
}

/// A form letter: English and Spanish text with placeholders such as `{{reference}}`,
/// `{{fact.mailed_on}}` or `{{due.review_request_window}}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LetterDef {
    pub name: String,
    /// The transition that produces it.
    pub transition: String,
    pub to: Addressee,
    pub subject: String,
    pub subject_es: String,
    pub body: String,
    pub body_es: String,
}

/// A letter written out for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub name: String,
    pub to: Addressee,
    pub language: crate::Language,
    pub subject: String,
    pub body: String,
}

/// What a letter's placeholders are filled with.
#[derive(Debug, Clone, Default)]
pub struct LetterContext {
    pub reference: String,
    pub consumer: String,
    pub company: String,
    /// The amount in dispute, as money text (`125.40`).
    pub amount: String,
    pub today: String,
    /// Recorded values by field name, as stored (dates `YYYY-MM-DD`, money in cents).
    pub facts: Vec<(String, String)>,
    /// Due dates by clock name, as the office writes them.
    pub dues: Vec<(String, String)>,
}

/// A letter's text with each paragraph on one line: the file wraps lines for reading; a blank
/// line separates paragraphs.
fn reflow(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The placeholders of a text: the words between `{{` and `}}`.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            out.push("");
            break;
        };
        out.push(rest[open + 2..open + close].trim());
        rest = &rest[open + close + 2..];
    }
    out
}

// ---- the file format ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    kind: Spanned<String>,
    version: u32,
    name: String,
    name_es: String,
    source: String,
    initial: Spanned<String>,
    #[serde(default)]
    open_starts: Vec<Spanned<String>>,
    hold: Option<HoldDoc>,
    #[serde(rename = "state")]
    states: Vec<StateDoc>,
    #[serde(default, rename = "clock")]
    clocks: Vec<ClockDoc>,
    #[serde(default, rename = "field")]
    fields: Vec<FieldDoc>,
    #[serde(rename = "transition")]
    transitions: Vec<TransitionDoc>,
    #[serde(default, rename = "letter")]
    letters: Vec<LetterDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterDoc {
    name: Spanned<String>,
    transition: Spanned<String>,
    to: Spanned<String>,
    subject: Spanned<String>,
    subject_es: Spanned<String>,
    body: Spanned<String>,
    body_es: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldDoc {
    source: String,
    text: String,
    text_es: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateDoc {
    name: Spanned<String>,
    status: Spanned<String>,
    label: String,
    label_es: String,
    hold: Option<Spanned<String>>,
    public: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockDoc {
    name: Spanned<String>,
    label: String,
    label_es: String,
    source: String,
    kind: Spanned<String>,
    length: Option<Spanned<String>>,
    due_on: Option<Spanned<String>>,
    starts_on: Option<Spanned<String>>,
    warn: Option<Spanned<String>>,
    #[serde(default)]
    on_due_soon: Vec<Spanned<String>>,
    #[serde(default)]
    on_overdue: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDoc {
    name: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    label: String,
    label_es: String,
    #[serde(default)]
    options: Vec<String>,
    min_notice: Option<Spanned<String>>,
    #[serde(default)]
    not_future: bool,
    option_labels: Option<Spanned<Vec<String>>>,
    option_labels_es: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    visible_to: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionDoc {
    name: Spanned<String>,
    label: String,
    label_es: String,
    from: Vec<Spanned<String>>,
    to: Spanned<String>,
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    #[serde(default)]
    optional: Vec<Spanned<String>>,
    #[serde(default)]
    start: Vec<Spanned<String>>,
    #[serde(default)]
    stop: Vec<Spanned<String>>,
    #[serde(default)]
    cancel: Vec<Spanned<String>>,
    #[serde(default)]
    pause: Vec<Spanned<String>>,
    #[serde(default)]
    resume: Vec<Spanned<String>>,
    priority: Option<Spanned<String>>,
    #[serde(default)]
    system: bool,
    #[serde(default)]
    independent: bool,
}

/// Parses a length such as `15 calendar days` or `5 business days`.
pub fn parse_length(text: &str) -> Option<Length> {
    let mut words = text.split_whitespace();
    let n: u32 = words.next()?.parse().ok()?;
    let basis = words.next()?;
    let unit = words.next()?;
    if words.next().is_some() || !matches!(unit, "day" | "days" | "hour" | "hours") {
        return None;
    }
    match basis {
        "calendar" if matches!(unit, "day" | "days") => Some(Length::CalendarDays(n)),
        "business" if matches!(unit, "day" | "days") => Some(Length::BusinessDays(n)),
        "business" => Some(Length::BusinessHours(n)),
        _ => None,
    }
}

pub fn length_text(l: Length) -> String {
    match l {
        Length::BusinessDays(n) => format!("{n} business days"),
        Length::CalendarDays(n) => format!("{n} calendar days"),
        Length::BusinessHours(n) => format!("{n} business hours"),
    }
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Reader<'_> {
    fn err(&self, span: std::ops::Range<usize>, reason: impl Into<String>) -> LifecycleError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        LifecycleError {
            file: self.file.to_string(),
            line,
            column,
            reason: reason.into(),
        }
    }

    fn word<T: std::str::FromStr>(
        &self,
        s: &Spanned<String>,
        what: &str,
    ) -> Result<T, LifecycleError> {
        s.get_ref()
            .parse()
            .map_err(|_| self.err(s.span(), format!("{:?} is not a known {what}", s.get_ref())))
    }

    fn length(&self, s: &Spanned<String>) -> Result<Length, LifecycleError> {
        parse_length(s.get_ref()).ok_or_else(|| {
            self.err(
                s.span(),
                format!(
                    "{:?} is not a length; write e.g. \"15 calendar days\" or \"5 business days\"",
                    s.get_ref()
                ),
            )
        })
    }

    fn action(
        &self,
        s: &Spanned<String>,
        transitions: &[String],
        role_ok: bool,
    ) -> Result<Action, LifecycleError> {
        let text = s.get_ref();
        let (verb, arg) = text.split_once(':').unwrap_or((text.as_str(), ""));
        match verb {
            "notify" if arg.is_empty() => Ok(Action::Notify),
            "raise_priority" => {
                let p = if arg.is_empty() { Priority::High } else {
                    arg.parse().map_err(|_| self.err(s.span(), format!("{arg:?} is not a priority")))?
                };
                Ok(Action::RaisePriority(p))
            }
            "move_unit" if !arg.is_empty() => Ok(Action::MoveUnit(arg.to_string())),
            "transition" if transitions.iter().any(|t| t == arg) && role_ok => Ok(Action::Transition(arg.to_string())),
            "transition" => Err(self.err(s.span(), format!("{arg:?} is not a system transition of this lifecycle"))),
            _ => Err(self.err(
                s.span(),
                format!("{text:?} is not an action; use notify, raise_priority[:PRIORITY], move_unit:UNIT or transition:NAME"),
            )),
        }
    }
}

fn check_name(r: &Reader, s: &Spanned<String>) -> Result<(), LifecycleError> {
    let ok = !s.get_ref().is_empty()
        && s.get_ref().len() <= 60
        && s.get_ref()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(r.err(
            s.span(),
            format!(
                "{:?}: names are lower-case letters, digits and _",
                s.get_ref()
            ),
        ))
    }
}

fn unique<'a>(
    r: &Reader,
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) -> Result<Vec<String>, LifecycleError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in names {
        check_name(r, n)?;
        if !seen.insert(n.get_ref().clone()) {
            return Err(r.err(
                n.span(),
                format!("{what} {:?} is declared twice", n.get_ref()),
            ));
        }
        out.push(n.get_ref().clone());
    }
    Ok(out)
}

/// The name, when it is one of `names`; otherwise an error at its place in the file.
fn known_one(
    r: &Reader,
    s: &Spanned<String>,
    names: &[String],
    what: &str,
) -> Result<String, LifecycleError> {
    if names.iter().any(|n| n == s.get_ref()) {
        Ok(s.get_ref().clone())
    } else {
        Err(r.err(s.span(), format!("unknown {what} {:?}", s.get_ref())))
    }
}

fn known(
    r: &Reader,
    list: &[Spanned<String>],
    names: &[String],
    what: &str,
) -> Result<Vec<String>, LifecycleError> {
    list.iter().map(|s| known_one(r, s, names, what)).collect()
}

impl Lifecycle {
    /// Reads and checks a lifecycle file.
    pub fn parse(file: &str, text: &str) -> Result<Lifecycle, LifecycleError> {
        let r = Reader { file, text };
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            r.err(span, e.message().trim().to_string())
        })?;
        let kind: CaseKind = r.word(&doc.kind, "case kind")?;
        let state_names = unique(&r, doc.states.iter().map(|s| &s.name), "state")?;
        let clock_names = unique(&r, doc.clocks.iter().map(|c| &c.name), "clock")?;
        let field_names = unique(&r, doc.fields.iter().map(|f| &f.name), "field")?;
        let transition_names = unique(&r, doc.transitions.iter().map(|t| &t.name), "transition")?;
        let system_transitions: Vec<String> = doc
            .transitions
            .iter()
            .filter(|t| t.system)
            .map(|t| t.name.get_ref().clone())
            .collect();
        if !state_names.contains(doc.initial.get_ref()) {
            return Err(r.err(
                doc.initial.span(),
                format!("initial state {:?} is not declared", doc.initial.get_ref()),
            ));
        }
        let fields = doc
            .fields
            .iter()
            .map(|f| {
                let kind = match f.kind.get_ref().as_str() {
                    "date" => FieldKind::Date,
                    "text" => FieldKind::Text,
                    "money" => FieldKind::Money,
                    "choice" if !f.options.is_empty() => FieldKind::Choice(f.options.clone()),
                    "choice" => return Err(r.err(f.kind.span(), "a choice field needs options")),
                    other => {
                        return Err(r.err(
                            f.kind.span(),
                            format!("{other:?} is not a field type (date, text, money, choice)"),
                        ));
                    }
                };
                let min_notice_days = match &f.min_notice {
                    None => None,
                    Some(s) => match r.length(s)? {
                        Length::CalendarDays(n) => Some(n),
                        _ => {
                            return Err(r.err(
                                s.span(),
                                "min_notice is counted in calendar days, e.g. \"10 calendar days\"",
                            ));
                        }
                    },
                };
                if (min_notice_days.is_some() || f.not_future) && kind != FieldKind::Date {
                    return Err(r.err(
                        f.kind.span(),
                        "min_notice and not_future apply to date fields",
                    ));
                }
                let mut labels = [Vec::new(), Vec::new()];
                for (slot, given) in labels
                    .iter_mut()
                    .zip([&f.option_labels, &f.option_labels_es])
                {
                    if let Some(l) = given {
                        if l.get_ref().len() != f.options.len() {
                            return Err(r.err(
                                l.span(),
                                format!(
                                    "{} option labels for {} options",
                                    l.get_ref().len(),
                                    f.options.len()
                                ),
                            ));
                        }
                        *slot = l.get_ref().clone();
                    }
                }
                let [option_labels, option_labels_es] = labels;
                let mut visible_to = Vec::new();
                for who in &f.visible_to {
                    let addressee = match who.get_ref().as_str() {
                        "company" => Addressee::Company,
                        "consumer" => Addressee::Consumer,
                        other => {
                            return Err(r.err(
                                who.span(),
                                format!(
                                    "unknown audience {other:?}: visible_to lists \"company\" and/or \"consumer\""
                                ),
                            ));
                        }
                    };
                    if !visible_to.contains(&addressee) {
                        visible_to.push(addressee);
                    }
                }
                Ok(FieldDef {
                    name: f.name.get_ref().clone(),
                    kind,
                    label: f.label.clone(),
                    label_es: f.label_es.clone(),
                    min_notice_days,
                    not_future: f.not_future,
                    option_labels,
                    option_labels_es,
                    visible_to,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let date_fields: Vec<String> = fields
            .iter()
            .filter(|f| f.kind == FieldKind::Date)
            .map(|f| f.name.clone())
            .collect();
        let clocks = doc
            .clocks
            .iter()
            .map(|c| {
                let kind = match c.kind.get_ref().as_str() {
                    "legal" => ClockKind::Legal,
                    "target" => ClockKind::Target,
                    "window" => ClockKind::Window,
                    other => {
                        return Err(r.err(
                            c.kind.span(),
                            format!("{other:?} is not a clock kind (legal, target, window)"),
                        ));
                    }
                };
                let due = match (&c.length, &c.due_on) {
                    (Some(l), None) => Due::After(r.length(l)?),
                    (None, Some(f)) => Due::On(known_one(&r, f, &date_fields, "date field")?),
                    _ => {
                        return Err(r.err(
                            c.name.span(),
                            format!(
                                "clock {:?} needs exactly one of length or due_on",
                                c.name.get_ref()
                            ),
                        ));
                    }
                };
                let starts_on = c
                    .starts_on
                    .as_ref()
                    .map(|f| known_one(&r, f, &date_fields, "date field"))
                    .transpose()?;
                let actions = |list: &[Spanned<String>]| {
                    list.iter()
                        .map(|a| r.action(a, &system_transitions, true))
                        .collect::<Result<Vec<_>, _>>()
                };
                Ok(ClockDef {
                    name: c.name.get_ref().clone(),
                    label: c.label.clone(),
                    label_es: c.label_es.clone(),
                    source: c.source.clone(),
                    kind,
                    due,
                    starts_on,
                    warn: c.warn.as_ref().map(|w| r.length(w)).transpose()?,
                    on_due_soon: actions(&c.on_due_soon)?,
                    on_overdue: actions(&c.on_overdue)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let states = doc
            .states
            .iter()
            .map(|s| {
                let status: Status = r.word(&s.status, "status")?;
                if status == Status::Merged {
                    return Err(r.err(s.status.span(), "merged is reached only by merging"));
                }
                let hold = match &s.hold {
                    None => Hold::None,
                    Some(h) if h.get_ref() == "pending" => Hold::Pending,
                    Some(h) => Hold::Until(known_one(&r, h, &clock_names, "clock (hold until)")?),
                };
                if hold != Hold::None && doc.hold.is_none() {
                    return Err(r.err(
                        s.name.span(),
                        "a state holds but the lifecycle has no [hold] rule",
                    ));
                }
                let public = match &s.public {
                    Some(p) if matches!(p.get_ref().as_str(), "open" | "closed") => {
                        p.get_ref().clone()
                    }
                    Some(p) => return Err(r.err(p.span(), "public is open or closed")),
                    None if status.is_open() => "open".into(),
                    None => "closed".into(),
                };
                Ok(State {
                    name: s.name.get_ref().clone(),
                    status,
                    label: s.label.clone(),
                    label_es: s.label_es.clone(),
                    hold,
                    public,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut transitions = Vec::new();
        for t in &doc.transitions {
            let mut from = Vec::new();
            for f in &t.from {
                match f.get_ref().as_str() {
                    "*open" => from.extend(
                        states
                            .iter()
                            .filter(|s| s.status.is_open())
                            .map(|s| s.name.clone()),
                    ),
                    "*closed" => from.extend(
                        states
                            .iter()
                            .filter(|s| !s.status.is_open())
                            .map(|s| s.name.clone()),
                    ),
                    _ => from.push(known_one(&r, f, &state_names, "state")?),
                }
            }
            let to = known_one(&r, &t.to, &state_names, "state")?;
            from.retain(|f| *f != to || t.from.iter().any(|x| x.get_ref() == &to));
            let roles = t
                .roles
                .iter()
                .map(|x| r.word::<Role>(x, "role"))
                .collect::<Result<Vec<_>, _>>()?;
            if roles.is_empty() && !t.system {
                return Err(r.err(
                    t.name.span(),
                    format!(
                        "transition {:?} names no role and is not a system transition",
                        t.name.get_ref()
                    ),
                ));
            }
            let requires = known(&r, &t.requires, &field_names, "field")?;
            let optional = known(&r, &t.optional, &field_names, "field")?;
            let start = known(&r, &t.start, &clock_names, "clock")?;
            for (s, c) in t.start.iter().zip(&start) {
                let def = clocks
                    .iter()
                    .find(|d| &d.name == c)
                    .ok_or_else(|| r.err(s.span(), "clock"))?;
                for needed in def.starts_on.iter().chain(match &def.due {
                    Due::On(f) => Some(f),
                    Due::After(_) => None,
                }) {
                    if !requires.contains(needed) {
                        return Err(r.err(s.span(), format!("clock {c:?} counts from field {needed:?}, which transition {:?} does not require", t.name.get_ref())));
                    }
                }
            }
            transitions.push(Transition {
                name: t.name.get_ref().clone(),
                label: t.label.clone(),
                label_es: t.label_es.clone(),
                from,
                to,
                roles,
                requires,
                optional,
                start,
                stop: known(&r, &t.stop, &clock_names, "clock")?,
                cancel: known(&r, &t.cancel, &clock_names, "clock")?,
                pause: known(&r, &t.pause, &clock_names, "clock")?,
                resume: known(&r, &t.resume, &clock_names, "clock")?,
                priority: t
                    .priority
                    .as_ref()
                    .map(|p| r.word(p, "priority"))
                    .transpose()?,
                system: t.system,
                independent: t.independent,
            });
        }
        let open_starts = known(&r, &doc.open_starts, &clock_names, "clock")?;
        for (s, c) in doc.open_starts.iter().zip(&open_starts) {
            if clocks
                .iter()
                .any(|d| &d.name == c && (d.starts_on.is_some() || matches!(d.due, Due::On(_))))
            {
                return Err(r.err(
                    s.span(),
                    format!(
                        "clock {c:?} counts from a field, so it cannot start when a case opens"
                    ),
                ));
            }
        }
        // Every state but the initial one must be reachable, and every open state must lead on.
        for s in &states {
            if s.name != *doc.initial.get_ref() && !transitions.iter().any(|t| t.to == s.name) {
                let span = doc
                    .states
                    .iter()
                    .find(|d| d.name.get_ref() == &s.name)
                    .map_or(0..0, |d| d.name.span());
                return Err(r.err(
                    span,
                    format!("state {:?} cannot be reached by any transition", s.name),
                ));
            }
            if s.status.is_open() && !transitions.iter().any(|t| t.from.contains(&s.name)) {
                let span = doc
                    .states
                    .iter()
                    .find(|d| d.name.get_ref() == &s.name)
                    .map_or(0..0, |d| d.name.span());
                return Err(r.err(span, format!("open state {:?} has no way out", s.name)));
            }
        }
        unique(&r, doc.letters.iter().map(|l| &l.name), "letter")?;
        let mut letters = Vec::new();
        for l in &doc.letters {
            let transition = known_one(&r, &l.transition, &transition_names, "transition")?;
            let to = match l.to.get_ref().as_str() {
                "consumer" => Addressee::Consumer,
                "company" => Addressee::Company,
                other => {
                    return Err(r.err(
                        l.to.span(),
                        format!("{other:?}: a letter goes to the consumer or the company"),
                    ));
                }
            };
            for text in [&l.subject, &l.subject_es, &l.body, &l.body_es] {
                for word in placeholders(text.get_ref()) {
                    let ok = match word.split_once('.') {
                        None => matches!(
                            word,
                            "reference" | "consumer" | "company" | "amount" | "today"
                        ),
                        Some(("fact", f)) => field_names.iter().any(|n| n == f),
                        Some(("due", c)) => clock_names.iter().any(|n| n == c),
                        _ => false,
                    };
                    if !ok {
                        // Point at the placeholder itself within the file.
                        let raw = r.text.get(text.span()).unwrap_or_default();
                        let start = text.span().start + raw.find(word).unwrap_or(0);
                        return Err(r.err(start..start, format!("unknown placeholder {{{{{word}}}}}; use reference, consumer, company, amount, today, fact.FIELD or due.CLOCK")));
                    }
                }
            }
            letters.push(LetterDef {
                name: l.name.get_ref().clone(),
                transition,
                to,
                subject: l.subject.get_ref().clone(),
                subject_es: l.subject_es.get_ref().clone(),
                body: reflow(l.body.get_ref()),
                body_es: reflow(l.body_es.get_ref()),
            });
        }
        Ok(Lifecycle {
            kind,
            version: doc.version,
            name: doc.name,
            name_es: doc.name_es,
            source: doc.source,
            file: file.to_string(),
            initial: doc.initial.get_ref().clone(),
            open_starts,
            hold: doc.hold.map(|h| HoldRule {
                source: h.source,
                text: h.text,
                text_es: h.text_es,
            }),
            states,
            clocks,
            fields,
            transitions,
            letters,
        })
    }

    /// Writes out a letter in a language, filling its placeholders. Dates stay as recorded,
    /// amounts are shown as money and choices as words.
    pub fn render(
        &self,
        letter: &LetterDef,
        language: crate::Language,
        ctx: &LetterContext,
    ) -> Letter {
        let fill = |text: &str| {
            let mut out = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(open) = rest.find("{{") {
                out.push_str(&rest[..open]);
                let Some(close) = rest[open..].find("}}") else {
                    break;
                };
                let word = rest[open + 2..open + close].trim();
                let value = match word.split_once('.') {
                    None => match word {
                        "reference" => ctx.reference.clone(),
                        "consumer" => ctx.consumer.clone(),
                        "company" => ctx.company.clone(),
                        "amount" => format!("${}", ctx.amount),
                        _ => ctx.today.clone(),
                    },
                    Some(("fact", f)) => {
                        let raw = ctx
                            .facts
                            .iter()
                            .rev()
                            .find(|(n, _)| n == f)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        match self.field(f).map(|d| &d.kind) {
                            Some(FieldKind::Money) => raw
                                .parse::<i64>()
                                .ok()
                                .and_then(crate::Money::from_cents)
                                .map(|m| format!("${m}"))
                                .unwrap_or(raw),
                            Some(FieldKind::Choice(_)) => self
                                .field(f)
                                .map(|d| d.option_label(&raw, language == crate::Language::Es))
                                .unwrap_or(raw),
                            _ => raw,
                        }
                    }
                    Some((_, c)) => ctx
                        .dues
                        .iter()
                        .rev()
                        .find(|(n, _)| n == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                };
                out.push_str(&value);
                rest = &rest[open + close + 2..];
            }
            out.push_str(rest);
            out
        };
        let (subject, body) = if language == crate::Language::Es {
            (&letter.subject_es, &letter.body_es)
        } else {
            (&letter.subject, &letter.body)
        };
        Letter {
            name: letter.name.clone(),
            to: letter.to,
            language,
            subject: fill(subject),
            body: fill(body),
        }
    }

    /// The letters a transition produces.
    pub fn letters_for(&self, transition: &str) -> Vec<&LetterDef> {
        self.letters
            .iter()
            .filter(|l| l.transition == transition)
            .collect()
    }

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

    /// The clock starts when a case is opened at `at`.
    pub fn opening(&self, at: Timestamp) -> Vec<ClockEffect> {
        self.open_starts
            .iter()
            .filter_map(|c| self.clock(c))
            .map(|c| start_effect(c, at, None, None))
            .collect()
    }

    /// Checks a transition and works out everything it does.
    ///
    /// `role` is `None` for the scheduler. `today` is the office's date of the transition.
    pub fn plan(
        &self,
        stage: &str,
        transition: &str,
        role: Option<Role>,
        fields: &[(String, String)],
        at: Timestamp,
        today: Date,
    ) -> Result<Plan, TransitionError> {
        let allowed = || {
            self.available(stage, role)
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        };
        let Some(t) = self.transition(transition) else {
            return Err(TransitionError::NotAllowed {
                stage: stage.to_string(),
                transition: transition.to_string(),
                allowed: allowed(),
            });
        };
        if !t.from.iter().any(|f| f == stage) || (t.system && role.is_some()) {
            return Err(TransitionError::NotAllowed {
                stage: stage.to_string(),
                transition: transition.to_string(),
                allowed: allowed(),
            });
        }
        if let Some(r) = role
            && !t.roles.contains(&r)
        {
            return Err(TransitionError::Role {
                transition: t.name.clone(),
                roles: t.roles.clone(),
            });
        }
        let mut errors = FieldErrors::new();
        let mut facts = Vec::new();
        for (name, _) in fields {
            if !t.requires.contains(name) && !t.optional.contains(name) {
                errors.push(
                    format!("fields.{name}"),
                    "unknown_field",
                    format!("Transition {} takes no field {name}.", t.name),
                );
            }
        }
        let mut dates: Vec<(String, Date)> = Vec::new();
        for name in t.requires.iter().chain(&t.optional) {
            let Some(def) = self.field(name) else {
                continue;
            };
            let path = format!("fields.{name}");
            let value = fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty());
            let Some(value) = value else {
                if t.requires.contains(name) {
                    errors.push(path, "required", format!("{} is required.", def.label));
                }
                continue;
            };
            match &def.kind {
                FieldKind::Text => {
                    if value.chars().count() > 4000 {
                        errors.push(path, "too_long", "At most 4,000 characters.");
                    } else if !crate::validate::is_clean_text(value, true) {
                        errors.push(path, "invalid_characters", "Contains control characters.");
                    } else {
                        facts.push((name.clone(), value.to_string()));
                    }
                }
                FieldKind::Money => match crate::Money::parse(value) {
                    Ok(m) => facts.push((name.clone(), m.cents().to_string())),
                    Err(_) => errors.push(path, "invalid_amount", "An amount such as 125.40."),
                },
                FieldKind::Choice(options) => {
                    if options.iter().any(|o| o == value) {
                        facts.push((name.clone(), value.to_string()));
                    } else {
                        errors.push(
                            path,
                            "invalid_choice",
                            format!("One of: {}.", options.join(", ")),
                        );
                    }
                }
                FieldKind::Date => match value.parse::<Date>() {
                    Ok(d) if (d.year() - today.year()).abs() > DATE_RANGE_YEARS => errors.push(
                        path,
                        "out_of_range",
                        format!("A date within {DATE_RANGE_YEARS} years of today."),
                    ),
                    Ok(d) => {
                        let mut ok = true;
                        if def.not_future && d > today {
                            errors.push(
                                path.clone(),
                                "in_the_future",
                                format!("{} cannot be later than today.", def.label),
                            );
                            ok = false;
                        }
                        if let Some(days) = def.min_notice_days {
                            let earliest = today
                                .checked_add(jiff::Span::new().days(i64::from(days)))
                                .unwrap_or(today);
                            if d < earliest {
                                errors.push(path.clone(), "too_soon", format!("{} must be at least {days} days after today ({earliest} or later).", def.label));
                                ok = false;
                            }
                        }
                        if ok {
                            facts.push((name.clone(), d.to_string()));
                            dates.push((name.clone(), d));
                        }
                    }
                    Err(_) => errors.push(path, "invalid_date", "A date such as 2026-12-01."),
                },
            }
        }
        if !errors.is_empty() {
            return Err(TransitionError::Fields(errors));
        }
        let to = self
            .state(&t.to)
            .ok_or_else(|| TransitionError::NotAllowed {
                stage: stage.to_string(),
                transition: transition.to_string(),
                allowed: allowed(),
            })?;
        let mut effects = Vec::new();
        for c in &t.stop {
            effects.push(ClockEffect::Stop {
                name: c.clone(),
                met: true,
            });
        }
        for c in &t.cancel {
            effects.push(ClockEffect::Stop {
                name: c.clone(),
                met: false,
            });
        }
        for c in &t.pause {
            effects.push(ClockEffect::Pause { name: c.clone() });
        }
        for c in &t.resume {
            effects.push(ClockEffect::Resume { name: c.clone() });
        }
        if !to.status.is_open() {
            effects.push(ClockEffect::StopAll);
        }
        let date_of = |f: &Option<String>| {
            f.as_ref()
                .and_then(|n| dates.iter().find(|(d, _)| d == n).map(|(_, v)| *v))
        };
        for c in t.start.iter().filter_map(|c| self.clock(c)) {
            let on = match &c.due {
                Due::On(f) => date_of(&Some(f.clone())),
                Due::After(_) => None,
            };
            effects.push(start_effect(c, at, date_of(&c.starts_on), on));
        }
        Ok(Plan {
            transition: t.name.clone(),
            label: t.label.clone(),
            from: stage.to_string(),
            to: to.name.clone(),
            status: to.status,
            priority: t.priority,
            facts,
            effects,
            letters: Vec::new(),
        })
    }
}

fn start_effect(
    c: &ClockDef,
    at: Timestamp,
    starts_on: Option<Date>,
    due_on: Option<Date>,
) -> ClockEffect {
    let policy = ClockPolicy {
        kind: c.kind,
        on_due_soon: c.on_due_soon.clone(),
        on_overdue: c.on_overdue.clone(),
    };
    ClockEffect::Start(ClockStart {
        name: c.name.clone(),
        source: c.source.clone(),
        at,
        starts_on,
        due: match (&c.due, due_on) {
            (Due::After(l), _) => DueAt::After(*l),
            (Due::On(_), Some(d)) => DueAt::On(d),
            (Due::On(_), None) => DueAt::After(Length::CalendarDays(0)),
        },
        warn: c.warn,
        policy,
    })
}

/// The actions a clock carries with it, stored on the clock so that the scheduler needs no
/// lifecycle to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockPolicy {
    pub kind: ClockKind,
    pub on_due_soon: Vec<Action>,
    pub on_overdue: Vec<Action>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueAt {
    After(Length),
    /// Due on this date at the office's cut-off.
    On(Date),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStart {
    pub name: String,
    pub source: String,
    /// The transition's instant.
    pub at: Timestamp,
    /// Counts from this date instead (e.g. the mailing date).
    pub starts_on: Option<Date>,
    pub due: DueAt,
    pub warn: Option<Length>,
    pub policy: ClockPolicy,
}

impl ClockStart {
    /// When the clock starts and when it is due, in an office's calendar and time zone.
    pub fn instants(
        &self,
        cal: &crate::calendar::Calendar,
        tz: &jiff::tz::TimeZone,
    ) -> Result<(Timestamp, Timestamp), crate::calendar::CalendarError> {
        let started = match self.starts_on {
            Some(d) => d
                .to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|_| crate::calendar::CalendarError::OutOfRange)?,
            None => self.at,
        };
        let due = match &self.due {
            DueAt::After(len) => crate::clock::due_at(cal, tz, started, *len)?,
            DueAt::On(d) => crate::clock::at_cutoff(cal, *d, tz)?,
        };
        Ok((started, due))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockEffect {
    Start(ClockStart),
    Stop {
        name: String,
        met: bool,
    },
    Pause {
        name: String,
    },
    Resume {
        name: String,
    },
    /// Ends every clock still open, as stopped (the case closed).
    StopAll,
}

/// Everything a checked transition does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub transition: String,
    pub label: String,
    pub from: String,
    pub to: String,
    pub status: Status,
    pub priority: Option<Priority>,
    /// Field values recorded on the case (dates as `YYYY-MM-DD`, money in cents).
    pub facts: Vec<(String, String)>,
    pub effects: Vec<ClockEffect>,
    /// The letters it produces, written out (filled in by the caller, who knows the case).
    pub letters: Vec<Letter>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{transition:?} cannot be taken from {stage:?}; allowed: {allowed:?}")]
    NotAllowed {
        stage: String,
        transition: String,
        allowed: Vec<String>,
    },
    #[error("{transition:?} is for {roles:?}")]
    Role {
        transition: String,
        roles: Vec<Role>,
    },
    #[error("{0}")]
    Fields(FieldErrors),
}

/// The termination hold on a case now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoldStatus {
    pub active: bool,
    /// When the hold ends; `None` while it lasts as long as the case is pending.
    pub ends_at: Option<Timestamp>,
    pub disputed_cents: Option<i64>,
    pub source: String,
    pub text: String,
    pub text_es: String,
}

impl Lifecycle {
    /// Whether service may be terminated for the disputed amount (process.md C.2). `clocks`
    /// are the case's clocks as (name, due instant), oldest first.
    pub fn hold_status(
        &self,
        state: &State,
        disputed_cents: Option<i64>,
        clocks: &[(String, Timestamp)],
        now: Timestamp,
    ) -> Option<HoldStatus> {
        let rule = self.hold.as_ref()?;
        let disputed = disputed_cents.filter(|c| *c > 0)?;
        let (active, ends_at) = match &state.hold {
            Hold::None => (false, None),
            Hold::Pending => (true, None),
            Hold::Until(c) => match clocks.iter().rev().find(|(n, _)| n == c) {
                Some((_, due)) => (now <= *due, Some(*due)),
                None => (false, None),
            },
        };
        Some(HoldStatus {
            active,
            ends_at,
            disputed_cents: Some(disputed),
            source: rule.source.clone(),
            text: rule.text.clone(),
            text_es: rule.text_es.clone(),
        })
    }
}

/// The lifecycles in force, one per case kind.
#[derive(Debug, Clone, Default)]
pub struct Lifecycles(pub Vec<Lifecycle>);

impl Lifecycles {
    /// Reads a set of files, each `(name, text)`; one lifecycle per kind.
    pub fn parse(files: &[(String, String)]) -> Result<Lifecycles, LifecycleError> {
        let mut out: Vec<Lifecycle> = Vec::new();
        for (name, text) in files {
            let lc = Lifecycle::parse(name, text)?;
            if let Some(other) = out.iter().find(|o| o.kind == lc.kind) {
                return Err(LifecycleError {
                    file: name.clone(),
                    line: 1,
                    column: 1,
                    reason: format!("kind {} already has a lifecycle in {}", lc.kind, other.file),
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

    pub fn for_kind(&self, kind: CaseKind) -> Option<&Lifecycle> {
        self.0.iter().find(|l| l.kind == kind)
    }
}

/// The process packs shipped with Redress, as `(file name, text)`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "utility_complaint.toml",
        include_str!("../../../lifecycles/utility_complaint.toml"),
    ),
    (
        "hotline.toml",
        include_str!("../../../lifecycles/hotline.toml"),
    ),
    (
        "mediation.toml",
        include_str!("../../../lifecycles/mediation.toml"),
    ),
    (
        "insurance_inquiry.toml",
        include_str!("../../../lifecycles/insurance_inquiry.toml"),
    ),
    (
        "city_information_request.toml",
        include_str!("../../../lifecycles/city_information_request.toml"),
    ),
    (
        "foil_request.toml",
        include_str!("../../../lifecycles/foil_request.toml"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn shipped() -> Lifecycles {
        match Lifecycles::shipped() {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_shipped_pack_parses_and_covers_every_kind() {
        let all = shipped();
        assert_eq!(all.0.len(), CaseKind::ALL.len());
        for kind in CaseKind::ALL {
            assert!(all.for_kind(*kind).is_some(), "{kind}");
        }
    }

    #[test]
    fn lengths_parse() {
        assert_eq!(
            parse_length("15 calendar days"),
            Some(Length::CalendarDays(15))
        );
        assert_eq!(
            parse_length("1 business day"),
            Some(Length::BusinessDays(1))
        );
        assert_eq!(parse_length("15 days"), None);
        assert_eq!(parse_length("fifteen calendar days"), None);
    }

    fn error_of(text: &str) -> LifecycleError {
        match Lifecycle::parse("bad.toml", text) {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }

    const MINIMAL: &str = r#"kind = "inquiry"
version = 1
name = "x"
name_es = "x"
source = "x"
initial = "open"

[[state]]
name = "open"
status = "new"
label = "Open"
label_es = "Abierta"

[[state]]
name = "closed"
status = "closed"
label = "Closed"
label_es = "Cerrada"

[[transition]]
name = "close"
label = "Close"
label_es = "Cerrar"
from = ["open"]
to = "closed"
roles = ["agent"]
"#;

    #[test]
    fn minimal_file_is_accepted() {
        let lc = Lifecycle::parse("ok.toml", MINIMAL).expect("parses");
        assert_eq!(lc.available("open", Some(Role::Agent)).len(), 1);
        assert!(lc.available("open", Some(Role::Company)).is_empty());
    }

    #[test]
    fn mistakes_name_the_file_line_and_reason() {
        let e = error_of(&MINIMAL.replace("to = \"closed\"", "to = \"shut\""));
        assert_eq!((e.file.as_str(), e.line), ("bad.toml", 25));
        assert!(e.reason.contains("unknown state \"shut\""), "{e}");

        let e = error_of(&MINIMAL.replace("roles = [\"agent\"]", "roles = [\"janitor\"]"));
        assert_eq!(e.line, 26);
        assert!(e.reason.contains("role"), "{e}");

        let e = error_of(&MINIMAL.replace("status = \"closed\"", "status = \"gone\""));
        assert_eq!(e.line, 16);

        let e = error_of(&MINIMAL.replace("version = 1", "version = \"one\""));
        assert_eq!(e.line, 2);

        let e =
            error_of(&MINIMAL.replace("label = \"Open\"", "label = \"Open\"\ncolour = \"red\""));
        assert_eq!(e.line, 12);
        assert!(e.reason.contains("colour"), "{e}");

        let e = error_of(&MINIMAL.replace("kind = \"inquiry\"", "kind = \"gossip\""));
        assert_eq!((e.line, e.column), (1, 8));

        // A state nobody can reach.
        let e = error_of(&format!(
            "{MINIMAL}\n[[state]]\nname = \"limbo\"\nstatus = \"open\"\nlabel = \"L\"\nlabel_es = \"L\"\n"
        ));
        assert!(e.reason.contains("cannot be reached"), "{e}");
        assert_eq!(e.line, 29);

        // A clock counted from a field the transition does not require.
        let text = format!(
            "{}\n[[clock]]\nname = \"w\"\nlabel = \"W\"\nlabel_es = \"W\"\nsource = \"s\"\nkind = \"window\"\nlength = \"15 calendar days\"\nstarts_on = \"mailed_on\"\n\n[[field]]\nname = \"mailed_on\"\ntype = \"date\"\nlabel = \"M\"\nlabel_es = \"M\"\n",
            MINIMAL.replace(
                "roles = [\"agent\"]",
                "roles = [\"agent\"]\nstart = [\"w\"]"
            )
        );
        let e = error_of(&text);
        assert!(e.reason.contains("does not require"), "{e}");
        assert_eq!(e.line, 27);
    }

    #[test]
    fn plans_check_role_fields_and_state() {
        let all = shipped();
        let lc = all.for_kind(CaseKind::Complaint).expect("complaint");
        let at: Timestamp = "2026-12-01T15:00:00Z".parse().expect("ts");
        let today = date(2026, 12, 1);
        // Wrong state: the error lists what may be done instead.
        match lc.plan(
            "received",
            "issue_initial_decision",
            Some(Role::Agent),
            &[],
            at,
            today,
        ) {
            Err(TransitionError::NotAllowed { allowed, .. }) => {
                assert!(allowed.contains(&"refer_to_company".to_string()));
                assert!(allowed.contains(&"close".to_string()));
            }
            other => panic!("{other:?}"),
        }
        // Wrong role.
        assert!(matches!(
            lc.plan(
                "hearing_requested",
                "schedule_hearing",
                Some(Role::Agent),
                &[],
                at,
                today
            ),
            Err(TransitionError::Role { .. })
        ));
        // Fields: required, in the future, too little notice, unknown.
        let f = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        match lc.plan(
            "investigating",
            "issue_initial_decision",
            Some(Role::Agent),
            &f(&[("mailed_on", "2026-12-02"), ("colour", "red")]),
            at,
            today,
        ) {
            Err(TransitionError::Fields(e)) => {
                assert_eq!(
                    e.fields(),
                    vec!["fields.colour", "fields.decision", "fields.mailed_on"]
                );
            }
            other => panic!("{other:?}"),
        }
        match lc.plan(
            "hearing_requested",
            "schedule_hearing",
            Some(Role::Supervisor),
            &f(&[("hearing_on", "2026-12-10"), ("place", "Albany")]),
            at,
            today,
        ) {
            Err(TransitionError::Fields(e)) => assert_eq!(e.0[0].code, "too_soon"),
            other => panic!("{other:?}"),
        }
        // A good one: the window counts from the mailing date.
        let plan = lc
            .plan(
                "investigating",
                "issue_initial_decision",
                Some(Role::Agent),
                &f(&[("decision", "Refund $40"), ("mailed_on", "2026-11-30")]),
                at,
                today,
            )
            .expect("plan");
        assert_eq!(plan.to, "initial_decision");
        assert!(plan.effects.iter().any(|e| matches!(e, ClockEffect::Start(s) if s.name == "review_request_window" && s.starts_on == Some(date(2026, 11, 30)))));
        // Step text follows the one text rule; dates stay within reach of the calendar.
        match lc.plan(
            "investigating",
            "request_information",
            Some(Role::Agent),
            &f(&[
                ("request_text", "bills\u{1b}[2J\0"),
                ("response_due", "9999-12-31"),
            ]),
            at,
            today,
        ) {
            Err(TransitionError::Fields(e)) => {
                assert_eq!(
                    e.fields(),
                    vec!["fields.request_text", "fields.response_due"]
                );
                assert_eq!(e.0[0].code, "invalid_characters");
                assert_eq!(e.0[1].code, "out_of_range");
            }
            other => panic!("{other:?}"),
        }
        // System transitions are not for people.
        let foil = all.for_kind(CaseKind::FoilRequest).expect("foil");
        assert!(
            foil.plan(
                "received",
                "constructive_denial",
                Some(Role::Manager),
                &[],
                at,
                today
            )
            .is_err()
        );
        assert!(
            foil.plan("received", "constructive_denial", None, &[], at, today)
                .is_ok()
        );
    }

    #[test]
    fn letters_check_their_placeholders_and_fill_them() {
        let text = format!(
            "{MINIMAL}\n[[letter]]\nname = \"l\"\ntransition = \"close\"\nto = \"consumer\"\nsubject = \"Case {{{{reference}}}}\"\nsubject_es = \"Caso {{{{reference}}}}\"\nbody = \"\"\"\nDue {{{{due.nothing}}}}\n\"\"\"\nbody_es = \"x\"\n"
        );
        let e = error_of(&text);
        assert!(
            e.reason.contains("unknown placeholder {{due.nothing}}"),
            "{e}"
        );
        assert_eq!(e.line, 35);
        let all = shipped();
        let lc = all.for_kind(CaseKind::Mediation).expect("mediation");
        let def = lc.letters_for("record_agreement")[0];
        let ctx = LetterContext {
            reference: "NYC-2026-000001".into(),
            consumer: "Ana Díaz".into(),
            company: "Acme Movers".into(),
            facts: vec![
                ("remedy".into(), "refund".into()),
                ("refund_amount".into(), "14999".into()),
            ],
            ..LetterContext::default()
        };
        let es = lc.render(def, crate::Language::Es, &ctx);
        assert_eq!(es.subject, "Su queja NYC-2026-000001 se resolvió");
        assert!(
            es.body
                .contains("Acme Movers aceptó resolver su queja: Reembolso $149.99"),
            "{}",
            es.body
        );
        let en = lc.render(def, crate::Language::En, &ctx);
        assert!(en.body.starts_with("Dear Ana Díaz,"), "{}", en.body);
        assert!(
            en.body.contains("resolve your complaint: Refund $149.99"),
            "{}",
            en.body
        );
        // Option labels must match the options one for one.
        let text = MINIMAL.replace(
            "[[transition]]",
            "[[field]]\nname = \"c\"\ntype = \"choice\"\nlabel = \"C\"\nlabel_es = \"C\"\noptions = [\"a\", \"b\"]\noption_labels = [\"A\"]\n\n[[transition]]",
        );
        let e = error_of(&text);
        assert!(e.reason.contains("1 option labels for 2 options"), "{e}");
        assert_eq!(e.line, 26);
        assert!(!en.body.contains("{{"));
    }

    #[test]
    fn hold_follows_the_state_and_the_window() {
        let all = shipped();
        let lc = all.for_kind(CaseKind::Complaint).expect("complaint");
        let now: Timestamp = "2026-12-10T15:00:00Z".parse().expect("ts");
        let due: Timestamp = "2026-12-15T22:00:00Z".parse().expect("ts");
        let pending = lc.state("investigating").expect("state");
        let h = lc
            .hold_status(pending, Some(12_000), &[], now)
            .expect("hold");
        assert!(h.active && h.ends_at.is_none());
        assert!(lc.hold_status(pending, None, &[], now).is_none());
        let decided = lc.state("initial_decision").expect("state");
        let clocks = vec![("review_request_window".to_string(), due)];
        let h = lc
            .hold_status(decided, Some(12_000), &clocks, now)
            .expect("hold");
        assert!(h.active && h.ends_at == Some(due));
        let later: Timestamp = "2026-12-16T15:00:00Z".parse().expect("ts");
        assert!(
            !lc.hold_status(decided, Some(12_000), &clocks, later)
                .expect("hold")
                .active
        );
        let closed = lc.state("closed").expect("state");
        assert!(
            !lc.hold_status(closed, Some(12_000), &clocks, now)
                .expect("hold")
                .active
        );
    }
}
