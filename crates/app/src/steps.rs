//! Lifecycle steps: taking a transition (by a person or the scheduler) with the letters it
//! writes, mapping a plain status change onto the lifecycle, and describing where a case stands.

use crate::{App, AppError, AppResult, Person};
use jiff::Timestamp;
use redress_domain::calendar::Calendar;
use redress_domain::clock::ClockState;
use redress_domain::lifecycle::{ClockKind, HoldStatus, Plan};
use redress_domain::records::{Case, CaseClock};
use redress_domain::{Permission, Status};
use redress_store::{Actor, Scope, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many times a transition is re-planned when the case changes under it.
const RETRIES: usize = 3;

/// What a person records as a case closes: what kept going wrong (a code of the office's root
/// causes) and how it ended for the consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closing {
    pub root_cause: Option<String>,
    pub outcome: Option<redress_domain::Outcome>,
}

impl Closing {
    fn is_empty(&self) -> bool {
        self.root_cause.is_none() && self.outcome.is_none()
    }
}

/// Who takes a transition: a person (their role is checked) or the scheduler.
pub enum Taker<'a> {
    Person(&'a Person),
    System,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    pub name: String,
    pub label: String,
    /// `date`, `text`, `money` or `choice`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A choice's options: the word to send and what it is called.
    pub options: Vec<ChoiceOption>,
    /// Required; a mailing date is not (left empty, the print queue records it).
    pub required: bool,
    /// The date the step's letter is mailed: left empty, the letter goes to the print queue and
    /// the date is recorded when its batch is marked mailed.
    pub mailing_date: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    pub name: String,
    pub label: String,
    pub to: String,
    pub fields: Vec<FieldView>,
    /// The step resolves or closes the case: it may record a `root_cause` and an `outcome`.
    pub closes: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub name: String,
    pub label: String,
    pub source: String,
    /// `legal`, `target` or `window`.
    pub kind: Option<ClockKind>,
    pub started_at: Timestamp,
    pub due_at: Timestamp,
    pub state: ClockState,
}

/// Emergency-hotline facts computed from the notice (C18–C21, C25).
#[derive(Debug, Serialize, ToSchema)]
pub struct HotlineView {
    /// The earliest instant the utility may lawfully shut service off.
    pub earliest_termination: Option<Timestamp>,
    pub cold_weather_period: bool,
    pub hotline_open_now: bool,
    pub hours: String,
}

/// Where a case stands in its lifecycle.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseLifecycle {
    pub lifecycle: String,
    pub version: u32,
    pub stage: String,
    pub stage_label: String,
    pub status: Status,
    /// What the public sees: `open` or `closed`.
    pub public_status: String,
    /// The transitions the caller may take now.
    pub transitions: Vec<TransitionView>,
    pub clocks: Vec<ClockView>,
    /// The termination hold, on kinds that have one and cases with a disputed amount.
    pub hold: Option<HoldStatus>,
    pub hotline: Option<HotlineView>,
}

fn fact(case: &Case, name: &str) -> Option<String> {
    case.facts
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.clone())
}

impl App {
    /// Plans and takes a transition. `expected` is the version the caller read (If-Match); without
    /// it the transition is re-planned when the case changed in between.
    pub async fn take_step(
        &self,
        taker: Taker<'_>,
        reference: &str,
        transition: &str,
        fields: &[(String, String)],
        expected: Option<i64>,
        closing: &Closing,
    ) -> AppResult<Case> {
        let (actor, scope) = match &taker {
            Taker::Person(u) => (u.actor(), u.scope()),
            Taker::System => (Actor::system(), Scope::default()),
        };
        let mut attempt = 0;
        loop {
            let now = self.clock.now();
            let case = self
                .store
                .case(&actor, reference, scope, false, now)
                .await?;
            if let Some(v) = expected
                && v != case.version
            {
                return Err(AppError::Stale {
                    current: case.version,
                });
            }
            // A `root_cause` or `outcome` among the fields is the office's (recorded with a
            // closing step), unless the step asks for fields of those names itself.
            let own = |name: &str| {
                self.lifecycle_of(&case).is_ok_and(|lc| {
                    lc.transition(transition)
                        .is_some_and(|t| t.requires.iter().chain(&t.optional).any(|f| f == name))
                })
            };
            let (mut root_cause, mut outcome) = (None, None);
            let mut step_fields = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                match k.as_str() {
                    "root_cause" if !own(k) => root_cause = Some(v.as_str()),
                    "outcome" if !own(k) => outcome = Some(v.as_str()),
                    _ => step_fields.push((k.clone(), v.clone())),
                }
            }
            let typed;
            let closing = if root_cause.is_some() || outcome.is_some() {
                let mut errors = redress_domain::FieldErrors::new();
                typed = self.closing_of(&mut errors, root_cause, outcome).await?;
                AppError::unless_empty(errors)?;
                &typed
            } else {
                closing
            };
            let mut plan = self
                .plan_step(&case, transition, &taker, &step_fields, now)
                .await?;
            // The root cause and outcome are recorded with the step that closes the case.
            if !closing.is_empty() {
                if !matches!(plan.status, Status::Closed | Status::Resolved) {
                    return Err(AppError::field(
                        "root_cause",
                        "not_closing",
                        "A root cause and outcome are recorded when the case is resolved or closed.",
                    ));
                }
                if let Some(code) = &closing.root_cause {
                    plan.facts.push(("root_cause".into(), code.clone()));
                }
                if let Some(o) = closing.outcome {
                    plan.facts.push(("outcome".into(), o.as_str().into()));
                }
            }
            let opens = self
                .lifecycle_of(&case)?
                .transition(transition)
                .and_then(|t| t.opens.map(|k| (k, t.carry.clone())));
            // The clocks a case this step opens carries over, read before the step stops them.
            let carried = match &opens {
                Some((_, carry)) if !carry.is_empty() => {
                    let (_, tz) = self.store.office_calendar(&case.office).await?;
                    self.store
                        .clocks(reference, Scope::default(), now)
                        .await?
                        .into_iter()
                        .filter(|c| carry.contains(&c.name) && c.state == ClockState::Running)
                        .map(|c| (c.name, c.due_at.to_zoned(tz.clone()).date()))
                        .collect()
                }
                _ => vec![],
            };
            match self
                .store
                .transition(&actor, reference, scope, case.version, &plan, now)
                .await
            {
                Err(StoreError::Stale { .. }) if expected.is_none() && attempt < RETRIES => {
                    attempt += 1;
                }
                Ok(done) => {
                    self.send_notice(
                        reference,
                        &redress_domain::lifecycle::NoticeOn::Step(plan.transition.clone()),
                    )
                    .await;
                    return match (opens, &taker) {
                        (Some((kind, _)), Taker::Person(p)) => {
                            self.open_from(p, &case, kind, &carried).await?;
                            // The case as it now stands, with its link to the new one.
                            Ok(self
                                .store
                                .case(&actor, reference, scope, false, self.clock.now())
                                .await?)
                        }
                        _ => Ok(done),
                    };
                }
                other => return Ok(other?),
            }
        }
    }

    /// Refuses a transition that must be taken by someone new to the case when this person has
    /// written anything on its timeline.
    async fn independent(&self, case: &Case, plan: &Plan, user: &Person) -> AppResult<()> {
        let lc = self.lifecycle_of(case)?;
        if !lc
            .transition(&plan.transition)
            .is_some_and(|t| t.independent)
        {
            return Ok(());
        }
        if self
            .store
            .has_worked_on(&case.reference, user.user.id)
            .await?
        {
            return Err(AppError::InvalidTransition {
                detail: format!(
                    "{:?} must be taken by someone with no earlier work on this case.",
                    plan.transition
                ),
                allowed: vec![],
            });
        }
        Ok(())
    }

    /// What a case's letters are filled with: its facts (then `extra` ones), the due dates of
    /// its running clocks and of the clocks `starts` will start, and whom it concerns. Reading
    /// the consumer's name for a letter is a view of personal data, audited as the system's.
    /// Returns the case as read (with its consumer) and the context.
    pub(crate) async fn letter_context(
        &self,
        reference: &str,
        extra: &[(String, String)],
        starts: &[redress_domain::lifecycle::ClockEffect],
        (cal, tz): (&Calendar, &jiff::tz::TimeZone),
        now: Timestamp,
    ) -> AppResult<(Case, redress_domain::lifecycle::LetterContext)> {
        use redress_domain::lifecycle::{ClockEffect, LetterContext};
        let full = self
            .store
            .case(&Actor::system(), reference, Scope::default(), true, now)
            .await?;
        let day = |t: Timestamp| t.to_zoned(tz.clone()).date().to_string();
        // A deadline at the close of business is a date; one at another time (working hours)
        // carries its time.
        let when = |t: Timestamp| {
            let z = t.to_zoned(tz.clone());
            if z.hour() == cal.closing_hour() && z.minute() == 0 {
                z.date().to_string()
            } else {
                z.strftime("%Y-%m-%d %H:%M").to_string()
            }
        };
        let mut dues: Vec<(String, String)> = self
            .store
            .clocks(reference, Scope::default(), now)
            .await?
            .iter()
            .map(|c| (c.name.clone(), when(c.due_at)))
            .collect();
        for e in starts {
            if let ClockEffect::Start(s) = e {
                let (_, due) = s
                    .instants(cal, tz)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                dues.push((s.name.clone(), when(due)));
            }
        }
        let mut facts: Vec<(String, String)> = full
            .facts
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        facts.extend(extra.iter().cloned());
        let ctx = LetterContext {
            reference: full.reference.clone(),
            consumer: full
                .consumer
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            company: full
                .company
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            amount: full
                .amount_in_dispute
                .clone()
                .unwrap_or_else(|| "0.00".into()),
            today: day(now),
            facts,
            dues,
            status_link: String::new(),
        };
        Ok((full, ctx))
    }

    /// Writes out the letters a planned transition produces, in the addressee's language, with the
    /// case's facts and the due dates of its clocks (those the transition starts included).
    async fn write_letters(
        &self,
        case: &Case,
        plan: &mut Plan,
        calendar: (&Calendar, &jiff::tz::TimeZone),
        now: Timestamp,
    ) -> AppResult<()> {
        use redress_domain::lifecycle::Addressee;
        let lc = self.lifecycle_of(case)?;
        let defs = lc.letters_for(&plan.transition);
        if defs.is_empty() {
            return Ok(());
        }
        let (full, ctx) = self
            .letter_context(&case.reference, &plan.facts, &plan.effects, calendar, now)
            .await?;
        for def in defs {
            let language = match def.to {
                Addressee::Consumer => full
                    .consumer
                    .as_ref()
                    .map_or(redress_domain::Language::En, |c| c.preferred_language),
                Addressee::Company => redress_domain::Language::En,
            };
            plan.letters.push(lc.render(def, language, &ctx));
        }
        Ok(())
    }

    /// The limits a step's values have against the case: a date no later than a clock's due date
    /// (`not_after`), an amount no less than an amount recorded before (`at_least`).
    async fn check_limits(
        &self,
        case: &Case,
        plan: &Plan,
        (cal, tz): (&Calendar, &jiff::tz::TimeZone),
        now: Timestamp,
    ) -> AppResult<()> {
        use redress_domain::lifecycle::ClockEffect;
        let lc = self.lifecycle_of(case)?;
        let mut errors = redress_domain::FieldErrors::new();
        let mut running = None;
        for (name, value) in &plan.facts {
            let Some(def) = lc.field(name) else { continue };
            if let Some(clock) = &def.not_after {
                let started = plan.effects.iter().find_map(|e| match e {
                    ClockEffect::Start(s) if &s.name == clock => Some(s),
                    _ => None,
                });
                let due = match started {
                    Some(s) => Some(
                        s.instants(cal, tz)
                            .map_err(|e| AppError::Internal(e.to_string()))?
                            .1,
                    ),
                    None => {
                        if running.is_none() {
                            running = Some(
                                self.store
                                    .clocks(&case.reference, Scope::default(), now)
                                    .await?,
                            );
                        }
                        running.as_ref().and_then(|r| {
                            r.iter()
                                .filter(|c| {
                                    &c.name == clock
                                        && c.state == redress_domain::clock::ClockState::Running
                                })
                                .map(|c| c.due_at)
                                .next()
                        })
                    }
                };
                let limit = due.map(|d| d.to_zoned(tz.clone()).date());
                if let (Some(limit), Ok(date)) = (limit, value.parse::<jiff::civil::Date>())
                    && date > limit
                {
                    let clock_label = lc.clock(clock).map(|c| c.label.as_str()).unwrap_or(clock);
                    errors.push(
                        format!("fields.{name}"),
                        "after_deadline",
                        format!(
                            "{} cannot be later than the {clock_label} deadline ({limit}).",
                            def.label
                        ),
                    );
                }
            }
            if let Some(other) = &def.at_least {
                // The latest value: recorded by this step, else by an earlier one.
                let recorded = plan
                    .facts
                    .iter()
                    .rev()
                    .find(|(n, _)| n == other)
                    .map(|(_, v)| v.as_str())
                    .or_else(|| {
                        case.facts
                            .iter()
                            .rev()
                            .find(|f| &f.name == other)
                            .map(|f| f.value.as_str())
                    })
                    .and_then(|v| v.parse::<i64>().ok());
                let given = value.parse::<i64>().ok();
                if let (Some(min), Some(given)) = (recorded, given)
                    && given < min
                {
                    let other_label = lc.field(other).map(|f| f.label.as_str()).unwrap_or(other);
                    let shown = redress_domain::Money::from_cents(min)
                        .map(|m| format!("${m}"))
                        .unwrap_or_default();
                    errors.push(
                        format!("fields.{name}"),
                        "less_than_required",
                        format!(
                            "{} cannot be less than the {other_label} ({shown}).",
                            def.label
                        ),
                    );
                }
            }
        }
        AppError::unless_empty(errors)
    }

    /// Checks a transition against the case as it is now, for a person (their role, and whether
    /// they are new to the case when the step asks it) or the scheduler, and writes out its letters.
    pub async fn plan_step(
        &self,
        case: &Case,
        transition: &str,
        taker: &Taker<'_>,
        fields: &[(String, String)],
        now: Timestamp,
    ) -> AppResult<Plan> {
        if case.status == Status::Merged {
            return Err(AppError::InvalidTransition {
                detail: "A merged case is final.".into(),
                allowed: vec![],
            });
        }
        let lc = self.lifecycle_of(case)?;
        let current = lc.current(case.stage.as_deref(), case.status);
        let (cal, tz) = self.store.office_calendar(&case.office).await?;
        let today = now.to_zoned(tz.clone()).date();
        let role = match taker {
            Taker::Person(u) => Some(u.user.role),
            Taker::System => None,
        };
        let mut plan = lc.plan(&current.name, transition, role, fields, now, today)?;
        self.check_limits(case, &plan, (&cal, &tz), now).await?;
        if let Taker::Person(u) = taker {
            self.independent(case, &plan, u).await?;
        }
        self.write_letters(case, &mut plan, (&cal, &tz), now)
            .await?;
        if let Some(field) = &plan.awaiting_mailing
            && !plan
                .letters
                .iter()
                .any(|l| l.to == redress_domain::lifecycle::Addressee::Consumer)
        {
            let label = lc.field(field).map_or(field.as_str(), |f| f.label.as_str());
            return Err(AppError::field(
                &format!("fields.{field}"),
                "required",
                &format!(
                    "{label} is required: this step writes no letter for the print queue to mail."
                ),
            ));
        }
        Ok(plan)
    }

    /// Describes a case's place in its lifecycle for a role (`None`: the public), in a language.
    pub async fn describe_stage(
        &self,
        case: &Case,
        clocks: &[CaseClock],
        role: Option<redress_domain::Role>,
        spanish: bool,
    ) -> AppResult<CaseLifecycle> {
        let lc = self.lifecycle_of(case)?;
        let now = self.clock.now();
        let current = lc.current(case.stage.as_deref(), case.status);
        let pick = |en: &str, es: &str| {
            if spanish && !es.is_empty() {
                es.to_string()
            } else {
                en.to_string()
            }
        };
        let transitions = match role {
            Some(r) if case.status != Status::Merged => lc
                .available(&current.name, Some(r))
                .into_iter()
                .map(|t| TransitionView {
                    name: t.name.clone(),
                    label: pick(&t.label, &t.label_es),
                    to: t.to.clone(),
                    closes: lc
                        .state(&t.to)
                        .is_some_and(|s| matches!(s.status, Status::Closed | Status::Resolved)),
                    fields: t
                        .requires
                        .iter()
                        .chain(&t.optional)
                        .filter_map(|f| lc.field(f))
                        .map(|f| {
                            let (kind, options) = match &f.kind {
                                redress_domain::lifecycle::FieldKind::Date => ("date", vec![]),
                                redress_domain::lifecycle::FieldKind::Text => ("text", vec![]),
                                redress_domain::lifecycle::FieldKind::Money => ("money", vec![]),
                                redress_domain::lifecycle::FieldKind::Number => ("number", vec![]),
                                redress_domain::lifecycle::FieldKind::Choice(o) => (
                                    "choice",
                                    o.iter()
                                        .map(|v| ChoiceOption {
                                            value: v.clone(),
                                            label: f.option_label(v, spanish),
                                        })
                                        .collect(),
                                ),
                            };
                            FieldView {
                                name: f.name.clone(),
                                label: pick(&f.label, &f.label_es),
                                kind: kind.into(),
                                options,
                                required: t.requires.contains(&f.name) && !f.mailing_date,
                                mailing_date: f.mailing_date,
                            }
                        })
                        .collect(),
                })
                .collect(),
            _ => vec![],
        };
        let clock_views: Vec<ClockView> = clocks
            .iter()
            .map(|c| {
                let def = lc.clock(&c.name);
                ClockView {
                    name: c.name.clone(),
                    label: def.map_or_else(|| c.name.clone(), |d| pick(&d.label, &d.label_es)),
                    source: c.source.clone(),
                    kind: c.kind,
                    started_at: c.started_at,
                    due_at: c.due_at,
                    state: c.state,
                }
            })
            .collect();
        let dues: Vec<(String, Timestamp)> =
            clocks.iter().map(|c| (c.name.clone(), c.due_at)).collect();
        let disputed = case
            .amount_in_dispute
            .as_deref()
            .and_then(|a| redress_domain::Money::parse(a).ok())
            .map(|m| m.cents());
        let hold = lc.hold_status(current, disputed, &dues, now);
        let hotline = if case.kind == redress_domain::CaseKind::Hotline {
            let (cal, tz) = self.store.office_calendar(&case.office).await?;
            let served = fact(case, "notice_served_on").and_then(|d| d.parse().ok());
            let scheduled = fact(case, "termination_on").and_then(|d| d.parse().ok());
            Some(HotlineView {
                earliest_termination: served.and_then(|s| {
                    redress_domain::hotline::earliest_termination(&cal, &tz, s, scheduled)
                }),
                cold_weather_period: redress_domain::hotline::cold_weather(
                    now.to_zoned(tz.clone()).date(),
                ),
                hotline_open_now: redress_domain::hotline::hotline_open(&cal, &tz, now),
                hours: format!(
                    "{:02}:00–{:02}:00",
                    redress_domain::hotline::HOTLINE_FROM_HOUR,
                    redress_domain::hotline::HOTLINE_UNTIL_HOUR
                ),
            })
        } else {
            None
        };
        Ok(CaseLifecycle {
            lifecycle: pick(&lc.name, &lc.name_es),
            version: lc.version,
            stage: current.name.clone(),
            stage_label: pick(&current.label, &current.label_es),
            status: case.status,
            public_status: if case.status.is_open() {
                current.public.clone()
            } else {
                "closed".into()
            },
            transitions,
            clocks: clock_views,
            hold,
            hotline,
        })
    }

    /// Plans a `Transition` job against the case as it is now, with the version it was planned on;
    /// `None` when the case has moved on (the job then completes without effect).
    pub async fn plan_job(
        &self,
        reference: &str,
        transition: &str,
    ) -> AppResult<Option<(Plan, i64)>> {
        let now = self.clock.now();
        let case = self
            .store
            .case(&Actor::system(), reference, Scope::default(), false, now)
            .await?;
        match self
            .plan_step(&case, transition, &Taker::System, &[], now)
            .await
        {
            Ok(p) => Ok(Some((p, case.version))),
            Err(AppError::InvalidTransition { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Maps a plain status change onto the lifecycle: the first transition the caller may take from
    /// where the case stands to a state with that status, whose required fields are all text (the
    /// reason fills them).
    pub async fn change_status(
        &self,
        user: &Person,
        reference: &str,
        to: Status,
        reason: Option<&str>,
        expected: Option<i64>,
        closing: &Closing,
    ) -> AppResult<Case> {
        let now = self.clock.now();
        let case = self
            .store
            .case(&user.actor(), reference, user.scope(), false, now)
            .await?;
        if let Some(v) = expected
            && v != case.version
        {
            return Err(AppError::Stale {
                current: case.version,
            });
        }
        let lc = self.lifecycle_of(&case)?;
        let current = lc.current(case.stage.as_deref(), case.status);
        let available = lc.available(&current.name, Some(user.user.role));
        let status_of =
            |t: &redress_domain::lifecycle::Transition| lc.state(&t.to).map(|s| s.status);
        let only_text = |t: &redress_domain::lifecycle::Transition| {
            t.requires.iter().all(|f| {
                lc.field(f)
                    .is_some_and(|d| d.kind == redress_domain::lifecycle::FieldKind::Text)
            })
        };
        let Some(t) = available
            .iter()
            .find(|t| status_of(t) == Some(to) && t.to != current.name && only_text(t))
        else {
            let mut allowed: Vec<String> = available
                .iter()
                .filter(|t| only_text(t) && t.to != current.name)
                .filter_map(|t| status_of(t))
                .map(|s| s.to_string())
                .collect();
            allowed.sort();
            allowed.dedup();
            return Err(AppError::InvalidTransition {
                detail: format!(
                    "A case in state {:?} (status {}) cannot move to status {to} directly; see GET /api/v1/cases/{reference}/lifecycle for its transitions.",
                    current.name, case.status
                ),
                allowed,
            });
        };
        let fields: Vec<(String, String)> = match reason {
            Some(r) => t
                .requires
                .iter()
                .map(|f| (f.clone(), r.to_string()))
                .collect(),
            None if t.requires.is_empty() => vec![],
            None => {
                return Err(AppError::field(
                    "reason",
                    "required",
                    "Give a reason: this change records it.",
                ));
            }
        };
        self.take_step(
            Taker::Person(user),
            reference,
            &t.name.clone(),
            &fields,
            expected,
            closing,
        )
        .await
    }
}

impl App {
    /// Reads a root cause and an outcome as typed, naming a mistake: the cause must be one of
    /// the office's active causes.
    pub async fn closing_of(
        &self,
        errors: &mut redress_domain::FieldErrors,
        root_cause: Option<&str>,
        outcome: Option<&str>,
    ) -> AppResult<Closing> {
        let mut closing = Closing::default();
        if let Some(code) = root_cause.map(str::trim).filter(|c| !c.is_empty()) {
            let causes = self.store.root_causes().await?;
            if causes.iter().any(|c| c.code == code && c.active) {
                closing.root_cause = Some(code.to_string());
            } else {
                errors.push(
                    "root_cause",
                    "unknown_value",
                    "Choose one of the office's root causes (GET /api/v1/root-causes).",
                );
            }
        }
        if let Some(o) = outcome.map(str::trim).filter(|o| !o.is_empty()) {
            match o.parse() {
                Ok(o) => closing.outcome = Some(o),
                Err(_) => errors.push(
                    "outcome",
                    "unknown_value",
                    "consumer_favour, partly, not_in_favour or referred.",
                ),
            }
        }
        Ok(closing)
    }

    /// Opens the case a step calls for (a hotline call that becomes a complaint): the same
    /// consumer, company, category, account and amount, the other case's description under a
    /// line naming it, the clocks carried over, and a link between the two.
    async fn open_from(
        &self,
        person: &Person,
        from: &Case,
        kind: redress_domain::CaseKind,
        carried: &[(String, jiff::civil::Date)],
    ) -> AppResult<Case> {
        let full = self
            .store
            .case(
                &Actor::system(),
                &from.reference,
                Scope::default(),
                true,
                self.clock.now(),
            )
            .await?;
        let input = crate::cases::CreateCase {
            kind,
            channel: full.channel,
            description: Some(format!(
                "Opened from {} ({}).\n\n{}",
                full.reference, full.kind, full.description
            )),
            consumer_id: Some(full.consumer_id),
            consumer: Some(crate::cases::ConsumerInput {
                account_number: full.account_number.clone(),
                ..crate::cases::ConsumerInput::default()
            }),
            company_id: full.company.as_ref().map(|c| c.id),
            category: full.category.clone(),
            amount_in_dispute: full
                .amount_in_dispute
                .as_ref()
                .map(|a| serde_json::Value::String(a.to_string())),
            priority: Some(full.priority),
            flags: full.flags.clone(),
            unit: full.unit.clone(),
            assignee: full.assignee.clone(),
            office: Some(full.office.clone()),
            lifecycle: None,
            publish_consent: None,
        };
        // Opened as the system on the person's behalf: the step was theirs, the new case's
        // consumer is the one already on this case.
        let (opened, _) = self
            .open_case_carrying(crate::cases::Intake::Staff(person), input, None, carried)
            .await?;
        self.store
            .link(
                &person.actor(),
                &opened.reference,
                &from.reference,
                redress_domain::LinkKind::Related,
                self.clock.now(),
            )
            .await?;
        Ok(opened)
    }
}

/// Another lifecycle for a case still at its start (staff).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleChange {
    /// The id of one of the kind's lifecycles (see `GET /api/v1/lifecycles`).
    pub lifecycle: String,
}

impl App {
    /// Puts a case that is still at the start of its lifecycle on another of its kind's (the
    /// office chose the wrong process at intake): its state becomes the new one's first, the old
    /// clocks stop and the new one's opening clocks start. `expected` is the case's version.
    pub async fn change_lifecycle(
        &self,
        person: &Person,
        reference: &str,
        expected: i64,
        b: LifecycleChange,
    ) -> AppResult<Case> {
        person.require(Permission::CaseUpdate)?;
        if person.is_company() {
            return Err(AppError::Forbidden);
        }
        let reference = crate::case_reference(reference)?;
        let now = self.clock.now();
        let case = self
            .store
            .case(&person.actor(), &reference, person.scope(), false, now)
            .await?;
        let current = self.lifecycle_of(&case)?;
        let Some(target) = self
            .lifecycles
            .by_id(b.lifecycle.trim())
            .filter(|l| l.kind == case.kind)
        else {
            return Err(AppError::field(
                "lifecycle",
                "unknown_lifecycle",
                "Choose one of the lifecycles of the case's kind (GET /api/v1/lifecycles).",
            ));
        };
        if target.id == current.id {
            return Err(AppError::field(
                "lifecycle",
                "unchanged",
                "The case already follows this lifecycle.",
            ));
        }
        let at_start = case.stage.as_deref().is_none_or(|s| s == current.initial);
        if !at_start || case.status == Status::Merged {
            return Err(AppError::InvalidTransition {
                detail: "Only a case still at the start of its lifecycle changes lifecycle.".into(),
                allowed: vec![],
            });
        }
        let first = target.current(Some(&target.initial), Status::New);
        let case = self
            .store
            .change_lifecycle(
                &person.actor(),
                &reference,
                expected,
                (&target.id, &target.name),
                (&first.name, first.status),
                &target.opening(now),
                now,
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }
}
