//! Reading a lifecycle file: the TOML as written (spans kept), then every check, each mistake
//! reported with the file, line, column and reason.

use super::letters::{placeholders, reflow};
use super::{
    Action, Addressee, Applies, ClockDef, ClockKind, Due, FieldDef, FieldKind, Hold, HoldRule,
    LetterDef, Lifecycle, LifecycleError, NoticeDef, NoticeOn, State, Transition,
};
use crate::clock::Length;
use crate::{CaseKind, Priority, Role, Status};
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

/// A lifecycle's id: its file's name without the directory and the `.toml`
/// (`lifecycles/utility_complaint.toml` is `utility_complaint`).
pub fn lifecycle_id(file: &str) -> String {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    name.strip_suffix(".toml").unwrap_or(name).to_string()
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
    #[serde(default, rename = "notice")]
    notices: Vec<NoticeDoc>,
    /// Which cases of its kind take this lifecycle rather than the kind's general one.
    applies: Option<AppliesDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppliesDoc {
    #[serde(default)]
    industries: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterDoc {
    name: Spanned<String>,
    transition: Spanned<String>,
    to: Spanned<String>,
    /// Always sent on paper (the print queue), even to a consumer with an email address.
    #[serde(default)]
    post: bool,
    subject: Spanned<String>,
    subject_es: Spanned<String>,
    body: Spanned<String>,
    body_es: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeDoc {
    name: Spanned<String>,
    on: Spanned<String>,
    /// For `on = "step"`: the transition.
    transition: Option<Spanned<String>>,
    /// For `on = "reminder"`: the clock, and how many calendar days before it falls due.
    clock: Option<Spanned<String>>,
    days_before: Option<u32>,
    #[serde(default)]
    required: bool,
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
    #[serde(default)]
    mailing_date: bool,
    not_after: Option<Spanned<String>>,
    at_least: Option<Spanned<String>>,
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
    /// Opens a case of this kind for the same consumer and company, linked to this one.
    opens: Option<Spanned<String>>,
    /// Clocks still running here that the case `opens` opens keeps, due on the same day.
    #[serde(default)]
    carry: Vec<Spanned<String>>,
}

pub use crate::clock::{length_text, parse_length};

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
                    "number" => FieldKind::Number,
                    "choice" if !f.options.is_empty() => FieldKind::Choice(f.options.clone()),
                    "choice" => return Err(r.err(f.kind.span(), "a choice field needs options")),
                    other => {
                        return Err(r.err(
                            f.kind.span(),
                            format!("{other:?} is not a field type (date, text, money, number, choice)"),
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
                if let Some(c) = &f.not_after {
                    if kind != FieldKind::Date {
                        return Err(r.err(c.span(), "not_after applies to date fields"));
                    }
                    if !doc.clocks.iter().any(|k| k.name.get_ref() == c.get_ref()) {
                        return Err(r.err(
                            c.span(),
                            format!("not_after names no clock: {:?}", c.get_ref()),
                        ));
                    }
                }
                if let Some(m) = &f.at_least {
                    let names_money = doc.fields.iter().any(|o| {
                        o.name.get_ref() == m.get_ref() && o.kind.get_ref() == "money"
                    });
                    if kind != FieldKind::Money || !names_money {
                        return Err(r.err(
                            m.span(),
                            "at_least is a money field naming another money field",
                        ));
                    }
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
                if f.mailing_date && kind != FieldKind::Date {
                    return Err(r.err(f.name.span(), "mailing_date is for a date field"));
                }
                Ok(FieldDef {
                    name: f.name.get_ref().clone(),
                    kind,
                    label: f.label.clone(),
                    label_es: f.label_es.clone(),
                    min_notice_days,
                    not_future: f.not_future,
                    mailing_date: f.mailing_date,
                    not_after: f.not_after.as_ref().map(|c| c.get_ref().clone()),
                    at_least: f.at_least.as_ref().map(|m| m.get_ref().clone()),
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
                opens: t
                    .opens
                    .as_ref()
                    .map(|k| r.word::<CaseKind>(k, "case kind"))
                    .transpose()?,
                carry: {
                    if !t.carry.is_empty() && t.opens.is_none() {
                        return Err(r.err(
                            t.name.span(),
                            "carry needs opens: the case the clocks go to",
                        ));
                    }
                    known(&r, &t.carry, &clock_names, "clock")?
                },
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
                check_placeholders(&r, text, &field_names, &clock_names, false)?;
            }
            letters.push(LetterDef {
                name: l.name.get_ref().clone(),
                transition,
                to,
                post: l.post,
                subject: l.subject.get_ref().clone(),
                subject_es: l.subject_es.get_ref().clone(),
                body: reflow(l.body.get_ref()),
                body_es: reflow(l.body_es.get_ref()),
            });
        }
        unique(&r, doc.notices.iter().map(|n| &n.name), "notice")?;
        let mut notices = Vec::new();
        for n in &doc.notices {
            if n.on.get_ref() != "reminder" && (n.clock.is_some() || n.days_before.is_some()) {
                return Err(r.err(n.on.span(), "only a reminder names a clock and days_before"));
            }
            let on = match (n.on.get_ref().as_str(), &n.transition) {
                ("reminder", None) => match (&n.clock, n.days_before) {
                    (Some(c), Some(days)) if (1..=60).contains(&days) => NoticeOn::Reminder {
                        clock: known_one(&r, c, &clock_names, "clock")?,
                        days_before: days,
                    },
                    _ => {
                        return Err(r.err(
                            n.on.span(),
                            "a reminder names its clock and days_before (1 to 60)",
                        ));
                    }
                },
                ("opened", None) => NoticeOn::Opened,
                ("company_response", None) => NoticeOn::CompanyResponse,
                ("step", Some(t)) => {
                    NoticeOn::Step(known_one(&r, t, &transition_names, "transition")?)
                }
                ("step", None) => {
                    return Err(r.err(n.on.span(), "a step notice names its transition"));
                }
                (_, Some(t)) => {
                    return Err(r.err(t.span(), "only a step notice names a transition"));
                }
                (other, None) => {
                    return Err(r.err(
                        n.on.span(),
                        format!("{other:?}: a notice is sent on \"opened\", \"step\", \"company_response\" or \"reminder\""),
                    ));
                }
            };
            for text in [&n.subject, &n.subject_es, &n.body, &n.body_es] {
                check_placeholders(&r, text, &field_names, &clock_names, true)?;
            }
            notices.push(NoticeDef {
                name: n.name.get_ref().clone(),
                on,
                required: n.required,
                letter: LetterDef {
                    name: n.name.get_ref().clone(),
                    transition: String::new(),
                    to: Addressee::Consumer,
                    post: false,
                    subject: n.subject.get_ref().clone(),
                    subject_es: n.subject_es.get_ref().clone(),
                    body: reflow(n.body.get_ref()),
                    body_es: reflow(n.body_es.get_ref()),
                },
            });
        }
        let applies = doc
            .applies
            .map(|a| Applies {
                industries: a.industries,
                categories: a.categories,
            })
            .unwrap_or_default();
        Ok(Lifecycle {
            id: lifecycle_id(file),
            applies,
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
            notices,
        })
    }
}

/// Checks a letter's or notice's placeholders: sections are closed, and every word names
/// something a letter can hold (`status_link` only in notices).
fn check_placeholders(
    r: &Reader<'_>,
    text: &Spanned<String>,
    field_names: &[String],
    clock_names: &[String],
    notice: bool,
) -> Result<(), LifecycleError> {
    let words = placeholders(text.get_ref());
    for word in &words {
        if let Some(name) = word.strip_prefix('#') {
            let opens = words.iter().filter(|w| **w == *word).count();
            let closes = words
                .iter()
                .filter(|w| w.strip_prefix('/') == Some(name))
                .count();
            if opens != closes {
                let start = text.span().start;
                return Err(r.err(
                    start..start,
                    format!("section {{{{{word}}}}} is not closed with {{{{/{name}}}}}"),
                ));
            }
        }
    }
    for word in words {
        let word = word.trim_start_matches(['#', '/']);
        let ok = match word.split_once('.') {
            None => {
                matches!(
                    word,
                    "reference" | "consumer" | "company" | "amount" | "today"
                ) || (notice && word == "status_link")
            }
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
    Ok(())
}
