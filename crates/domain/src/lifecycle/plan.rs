//! Planning a transition: checking the state, the role and every field, and working out the
//! clock effects it has.

use super::{Action, ClockDef, ClockKind, Due, FieldKind, Letter, Lifecycle};
use crate::clock::Length;
use crate::{FieldErrors, Priority, Role, Status};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How far from the day of a transition a date field may lie, either way: deadlines are
/// computed from these dates, and a date such as 9999-12-31 has no cut-off instant.
pub const DATE_RANGE_YEARS: i16 = 100;

impl Lifecycle {
    /// The clock starts when a case is opened at `at`.
    pub fn opening(&self, at: Timestamp) -> Vec<ClockEffect> {
        self.open_starts
            .iter()
            .filter_map(|c| self.clock(c))
            .map(|c| start_effect(c, at, None, None))
            .collect()
    }

    /// A clock carried over from another case: this lifecycle's clock of that name, started now
    /// and due on `due_on` (the day it was due on the other case). `None` when there is no such
    /// clock here.
    pub fn carried(&self, name: &str, at: Timestamp, due_on: Date) -> Option<ClockEffect> {
        let c = self.clock(name)?;
        match start_effect(c, at, None, None) {
            ClockEffect::Start(mut s) => {
                s.due = DueAt::On(due_on);
                Some(ClockEffect::Start(s))
            }
            _ => None,
        }
    }

    /// What the timeline says of a step, as people read it, in English or Spanish: the step and
    /// the states it moved between by their labels, then each value it recorded by its field's
    /// label (money as money, choices in words). `facts` are as stored (money in cents). The
    /// step's entry is written with this in English and told again with it in the reader's
    /// language.
    pub fn step_record(
        &self,
        transition: &str,
        from: &str,
        to: &str,
        facts: &[(String, String)],
        spanish: bool,
    ) -> String {
        let pick = |en: &str, es: &str| {
            if spanish && !es.is_empty() {
                es.to_string()
            } else {
                en.to_string()
            }
        };
        let label = self
            .transition(transition)
            .map_or_else(|| transition.to_string(), |t| pick(&t.label, &t.label_es));
        let state = |name: &str| {
            self.state(name)
                .map_or_else(|| name.to_string(), |s| pick(&s.label, &s.label_es))
        };
        let mut record = if from == to {
            label
        } else {
            format!("{label} ({} → {})", state(from), state(to))
        };
        let names: Vec<String> = self
            .transition(transition)
            .map(|t| t.requires.iter().chain(&t.optional).cloned().collect())
            .unwrap_or_default();
        for name in names {
            let (Some(def), Some((_, value))) =
                (self.field(&name), facts.iter().find(|(n, _)| *n == name))
            else {
                continue;
            };
            let shown = match &def.kind {
                FieldKind::Money => value
                    .parse::<i64>()
                    .ok()
                    .and_then(crate::Money::from_cents)
                    .map(|m| format!("${m}"))
                    .unwrap_or_else(|| value.clone()),
                FieldKind::Choice(_) => def.option_label(value, spanish),
                _ => value.clone(),
            };
            record.push_str(&format!("\n{}: {shown}", pick(&def.label, &def.label_es)));
        }
        record
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
        let mut awaiting_mailing: Option<String> = None;
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
                if def.mailing_date && def.kind == FieldKind::Date {
                    // The print queue records it when the letter is mailed.
                    awaiting_mailing = Some(name.clone());
                } else if t.requires.contains(name) {
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
                    Ok(m) => {
                        facts.push((name.clone(), m.cents().to_string()));
                    }
                    Err(_) => errors.push(path, "invalid_amount", "An amount such as 125.40."),
                },
                FieldKind::Number => match value.replace(',', "").parse::<u32>() {
                    Ok(n) if n <= 1_000_000 => {
                        facts.push((name.clone(), n.to_string()));
                    }
                    _ => errors.push(path, "invalid_number", "A whole number, such as 12."),
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
            if c.starts_on.is_some() && c.starts_on == awaiting_mailing {
                // Starts when the letter is mailed (`mailing_starts`).
                continue;
            }
            let on = match &c.due {
                Due::On(f) => date_of(&Some(f.clone())),
                Due::After(_) => None,
            };
            effects.push(start_effect(c, at, date_of(&c.starts_on), on));
        }
        let record = self.step_record(&t.name, stage, &to.name, &facts, false);
        Ok(Plan {
            transition: t.name.clone(),
            label: t.label.clone(),
            record,
            from: stage.to_string(),
            to: to.name.clone(),
            status: to.status,
            priority: t.priority,
            facts,
            effects,
            letters: Vec::new(),
            awaiting_mailing,
        })
    }

    /// The clocks a step started when its letter is mailed on `mailed_on` (those that count from
    /// its mailing-date field `field`), as effects taking place at `at`.
    pub fn mailing_starts(
        &self,
        transition: &str,
        field: &str,
        mailed_on: Date,
        at: Timestamp,
    ) -> Vec<ClockEffect> {
        let Some(t) = self.transition(transition) else {
            return vec![];
        };
        t.start
            .iter()
            .filter_map(|c| self.clock(c))
            .filter(|c| c.starts_on.as_deref() == Some(field))
            .map(|c| start_effect(c, at, Some(mailed_on), None))
            .collect()
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
    /// What the timeline says of the step, as people read it: the step, the states it moves
    /// between and the values recorded, by their labels (money as money, choices in words).
    pub record: String,
    pub from: String,
    pub to: String,
    pub status: Status,
    pub priority: Option<Priority>,
    /// Field values recorded on the case (dates as `YYYY-MM-DD`, money in cents).
    pub facts: Vec<(String, String)>,
    pub effects: Vec<ClockEffect>,
    /// The letters it produces, written out (filled in by the caller, who knows the case).
    pub letters: Vec<Letter>,
    /// The mailing-date field left empty: the step's letter goes to the print queue, and the
    /// clocks that count from the field start when it is mailed.
    pub awaiting_mailing: Option<String>,
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
