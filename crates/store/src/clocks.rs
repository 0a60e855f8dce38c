//! Lifecycle transitions and clocks: a transition's state, facts, letters and clock effects;
//! the office calendar deadlines are counted on; the sweep that runs a clock's due-soon and
//! overdue actions; and the clock load and plan the benchmark uses.

use crate::audit::audit_case_change;
use crate::cases::load_case;
use crate::queries as q;
use crate::rows::{change_row, check_version, hour_of_day, instant, micros, not_merged, word};
use crate::timeline::{NewEntry, insert_entry};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, ClockEffect, JobKind, Plan, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::lifecycle::{Action, ClockKind, ClockPolicy};
use redress_domain::records::*;
use redress_domain::*;

/// Lifecycle transitions and the deadlines (clocks) they start, pause, resume and stop; the
/// sweep that warns and escalates.
#[async_trait]
pub trait Clocks: Send + Sync {
    /// Takes a lifecycle transition planned on version `expected` of the case (`Stale` when the
    /// case changed since).
    async fn transition(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        expected: i64,
        plan: &Plan,
        at: Timestamp,
    ) -> Result<Case>;
    /// The case's clocks and their states at `now`.
    async fn clocks(&self, reference: &str, scope: Scope, now: Timestamp)
    -> Result<Vec<CaseClock>>;
    /// Running deadlines due by `until` on the user's cases: (reference, clock, due).
    async fn deadlines_for(
        &self,
        assignee_id: i64,
        until: Timestamp,
    ) -> Result<Vec<(String, CaseKind, String, Timestamp)>>;
    /// Puts a case still at its start on another lifecycle (version `expected`): its state and
    /// status, the old lifecycle's clocks stopped and `opening` started, a timeline entry and
    /// `case.lifecycle` in the audit chain.
    #[allow(clippy::too_many_arguments)]
    async fn change_lifecycle(
        &self,
        actor: &Actor,
        reference: &str,
        expected: i64,
        lifecycle: (&str, &str),
        stage: (&str, Status),
        opening: &[ClockEffect],
        at: Timestamp,
    ) -> Result<Case>;
    /// Whether the user has written anything on the case's timeline (their earlier work).
    async fn has_worked_on(&self, reference: &str, user_id: i64) -> Result<bool>;
    /// The office's calendar (New York State rules, its closures, its opening and closing hours)
    /// and time zone, in one query. `NotFound` when there is no such office.
    async fn office_calendar(
        &self,
        office: &str,
    ) -> Result<(redress_domain::calendar::Calendar, jiff::tz::TimeZone)>;
    /// Runs each clock's due-soon actions once its warning instant has come, and its overdue
    /// actions once it is past due (raise priority, notify, move unit, schedule a system
    /// transition), each once per clock, with timeline and audit entries. Returns (warned,
    /// escalated).
    async fn sweep_clocks(&self, now: Timestamp, limit: i64) -> Result<(usize, usize)>;
    /// How many clocks are past due at `now` and not yet escalated, up to `limit`: the
    /// sweep's search, alone (for the benchmark).
    async fn find_due_clocks(&self, now: Timestamp, limit: i64) -> Result<usize>;
    /// The database's plan for that search, one line per step.
    async fn due_clocks_plan(&self, now: Timestamp) -> Result<Vec<String>>;
    /// Benchmark load: `n` open cases (`BENCH-1`...) for one consumer, each with one running
    /// clock; the i-th is due `step` after the one before, the first at `first_due`. Loaded in
    /// batches of `batch`.
    #[allow(clippy::too_many_arguments)]
    async fn seed_clock_load(
        &self,
        office: &str,
        consumer_id: i64,
        n: i64,
        batch: i64,
        first_due: Timestamp,
        step: jiff::SignedDuration,
        at: Timestamp,
    ) -> Result<()>;
}

/// An office's calendar (New York State rules plus its closures) and time zone.
async fn office_calendar(
    tx: &mut dyn Tx,
    office: &str,
) -> Result<(redress_domain::calendar::Calendar, jiff::tz::TimeZone)> {
    let rows = tx.query(q::OFFICE_CALENDAR, args![office]).await?;
    let first = rows.first().ok_or(StoreError::NotFound)?;
    let tz = jiff::tz::TimeZone::get(&first.text("time_zone")?)
        .map_err(|e| StoreError::Corrupt(format!("office time zone: {e}")))?;
    let mut cal =
        redress_domain::calendar::Calendar::new(redress_domain::calendar::Rules::default())
            .closing_at(hour_of_day(first.int("closes_at")?)?)
            .opening_at(hour_of_day(first.int("opens_at")?)?);
    for r in &rows {
        if let (Some(day), Some(reason)) = (r.opt_text("day")?, r.opt_text("reason")?) {
            cal.close(
                day.parse()
                    .map_err(|_| StoreError::Corrupt(format!("closure day {day}")))?,
                &reason,
            );
        }
    }
    Ok((cal, tz))
}

struct OpenClock {
    id: i64,
    name: String,
    due_at: i64,
    warn_at: Option<i64>,
    paused_at: Option<i64>,
}

/// Starts, pauses, resumes and stops the case's clocks as a transition requires, writing a
/// timeline entry for each.
pub(crate) async fn apply_clock_effects(
    tx: &mut dyn Tx,
    actor: &Actor,
    case_id: i64,
    office: &str,
    effects: &[ClockEffect],
    at: Timestamp,
) -> Result<()> {
    use redress_domain::clock;
    if effects.is_empty() {
        return Ok(());
    }
    let (cal, tz) = office_calendar(tx, office).await?;
    let local = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let corrupt = |e: redress_domain::calendar::CalendarError| StoreError::Corrupt(e.to_string());
    // The case's open clocks, read once and kept up to date as the effects apply.
    let mut open: Vec<OpenClock> = tx
        .query(q::CASE_CLOCKS, args![case_id])
        .await?
        .iter()
        .filter(|r| r.opt_int("stopped_at").ok().flatten().is_none())
        .map(|r| {
            Ok(OpenClock {
                id: r.int("id")?,
                name: r.text("name")?,
                due_at: r.int("due_at")?,
                warn_at: r.opt_int("warn_at")?,
                paused_at: r.opt_int("paused_at")?,
            })
        })
        .collect::<Result<_>>()?;
    for effect in effects {
        let mut events: Vec<(String, serde_json::Value)> = Vec::new();
        match effect {
            ClockEffect::Start(s) => {
                // Starting a clock again (a new decision, a new notice) replaces the old one.
                for c in open.iter().filter(|c| c.name == s.name) {
                    tx.execute(q::STOP_CLOCK, args![c.id, micros(at), "stopped"])
                        .await?;
                    events.push((format!("Clock {} stopped (started again)", c.name), serde_json::json!({"event": "clock_stopped", "clock": c.name, "outcome": "stopped"})));
                }
                open.retain(|c| c.name != s.name);
                let (started, due) = s.instants(&cal, &tz).map_err(corrupt)?;
                let warn = match s.warn {
                    Some(lead) => {
                        let day = due.to_zoned(tz.clone()).date();
                        let back = cal.sub_business_days(day, lead).map_err(corrupt)?;
                        Some(micros(
                            redress_domain::clock::at_cutoff(&cal, back, &tz)
                                .map_err(corrupt)?
                                .min(due),
                        ))
                    }
                    None => None,
                };
                let policy = serde_json::to_string(&s.policy)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let id = tx
                    .one(
                        q::INSERT_CLOCK,
                        args![
                            case_id,
                            s.name.as_str(),
                            s.source.as_str(),
                            micros(started),
                            micros(due),
                            warn,
                            policy
                        ],
                    )
                    .await?
                    .int("id")?;
                open.push(OpenClock {
                    id,
                    name: s.name.clone(),
                    due_at: micros(due),
                    warn_at: warn,
                    paused_at: None,
                });
                events.push((
                    format!("Clock {} started; due {}", s.name, local(due)),
                    serde_json::json!({"event": "clock_started", "clock": s.name, "due_at": due}),
                ));
            }
            ClockEffect::Stop { name, met } => {
                for c in open.iter().filter(|c| &c.name == name) {
                    tx.execute(
                        q::STOP_CLOCK,
                        args![c.id, micros(at), if *met { "met" } else { "stopped" }],
                    )
                    .await?;
                    let on_time = *met && micros(at) <= c.due_at;
                    let word = if !met {
                        "stopped"
                    } else if on_time {
                        "met"
                    } else {
                        "missed (late)"
                    };
                    events.push((format!("Clock {name} {word}"), serde_json::json!({"event": "clock_stopped", "clock": name, "outcome": word})));
                }
                open.retain(|c| &c.name != name);
            }
            ClockEffect::Pause { name } => {
                for c in open
                    .iter_mut()
                    .filter(|c| &c.name == name && c.paused_at.is_none())
                {
                    tx.execute(q::PAUSE_CLOCK, args![c.id, micros(at)]).await?;
                    c.paused_at = Some(micros(at));
                    events.push((
                        format!("Clock {} paused", c.name),
                        serde_json::json!({"event": "clock_paused", "clock": c.name}),
                    ));
                }
            }
            ClockEffect::Resume { name } => {
                for c in open.iter_mut().filter(|c| &c.name == name) {
                    if let Some(p) = c.paused_at {
                        let due = clock::resume(&cal, &tz, instant(c.due_at)?, instant(p)?, at)
                            .map_err(corrupt)?;
                        let warn = c.warn_at.map(|w| micros(due) - (c.due_at - w));
                        tx.execute(q::RESUME_CLOCK, args![c.id, micros(due), warn])
                            .await?;
                        (c.due_at, c.warn_at, c.paused_at) = (micros(due), warn, None);
                        events.push((format!("Clock {} resumed; due {}", c.name, local(due)), serde_json::json!({"event": "clock_resumed", "clock": c.name, "due_at": due})));
                    }
                }
            }
            ClockEffect::StopAll => {
                for c in open.iter() {
                    tx.execute(q::STOP_CLOCK, args![c.id, micros(at), "stopped"])
                        .await?;
                    events.push((format!("Clock {} stopped (case closed)", c.name), serde_json::json!({"event": "clock_stopped", "clock": c.name, "outcome": "stopped"})));
                }
                open.clear();
            }
        }
        for (body, data) in events {
            let e = NewEntry {
                entry_type: EntryType::SystemEvent,
                body,
                visibility: Visibility::Internal,
                data,
                at,
                author_id: actor.user_id,
            };
            insert_entry(tx, case_id, &e).await?;
        }
    }
    Ok(())
}

/// Takes a checked lifecycle transition: the new state and status, the facts it records, its
/// clock effects, a timeline entry and an audit row, all against the version it was planned on.
pub(crate) async fn apply_transition(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    scope: Scope,
    expected: i64,
    plan: &Plan,
    at: Timestamp,
) -> Result<i64> {
    let row = change_row(tx, reference, scope).await?;
    check_version(&row, Some(expected))?;
    not_merged(&row)?;
    let current: Priority = word(&row.priority)?;
    let priority = plan.priority.map_or(current, |p| p.max(current));
    let closed_at = if plan.status.is_open() {
        None
    } else {
        Some(micros(at))
    };
    let done = tx
        .execute(
            q::UPDATE_STAGE,
            args![
                row.id,
                row.version,
                plan.status.as_str(),
                plan.to.as_str(),
                closed_at,
                priority.as_str(),
                micros(at)
            ],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Stale {
            current: row.version + 1,
        });
    }
    for (name, value) in &plan.facts {
        tx.execute(
            q::SET_FACT,
            args![row.id, name.as_str(), value.as_str(), micros(at)],
        )
        .await?;
    }
    let body = plan.record.clone();
    let facts: serde_json::Map<String, serde_json::Value> = plan
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let data = serde_json::json!({
        "transition": plan.transition, "from": plan.from, "to": plan.to,
        "from_status": row.status, "to_status": plan.status, "facts": facts,
    });
    let entry = NewEntry {
        entry_type: EntryType::StatusChange,
        body,
        visibility: Visibility::Internal,
        data: data.clone(),
        at,
        author_id: actor.user_id,
    };
    insert_entry(tx, row.id, &entry).await?;
    if priority != current {
        let e = NewEntry {
            entry_type: EntryType::SystemEvent,
            body: format!("Priority raised from {current} to {priority}"),
            visibility: Visibility::Internal,
            data: serde_json::json!({"event": "priority_raised", "from": current, "to": priority}),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, row.id, &e).await?;
    }
    apply_clock_effects(tx, actor, row.id, &row.office, &plan.effects, at).await?;
    for letter in &plan.letters {
        // Every letter is kept for printing; a consumer's goes by email when they have an
        // address and it need not go on paper, else to the print queue.
        let (letter_id, print, email) = crate::letters::keep_letter(
            tx,
            row.id,
            &plan.transition,
            letter,
            plan.awaiting_mailing.as_deref(),
            at,
        )
        .await?;
        if let Some(email) = email {
            let mail = crate::OutgoingMail::new(
                email,
                letter.subject.clone(),
                letter.body.clone(),
                Some(reference.to_string()),
            );
            crate::outbox::enqueue(tx, &mail, at).await?;
        }
        let e = NewEntry {
            entry_type: EntryType::Letter,
            body: format!("{}\n\n{}", letter.subject, letter.body),
            visibility: match letter.to {
                redress_domain::lifecycle::Addressee::Consumer => Visibility::Consumer,
                redress_domain::lifecycle::Addressee::Company => Visibility::Company,
            },
            data: serde_json::json!({"letter": letter.name, "language": letter.language, "subject": letter.subject, "transition": plan.transition, "letter_id": letter_id, "print": print}),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, row.id, &e).await?;
    }
    let mut detail = data;
    detail["version"] = serde_json::json!(row.version + 1);
    if priority != current {
        detail["priority"] = serde_json::json!({"from": current, "to": priority});
    }
    audit_case_change(
        tx,
        actor,
        row.id,
        reference,
        "case.transition",
        detail,
        row.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(row.id)
}

fn clock_policy(text: Option<&str>) -> Result<ClockPolicy> {
    match text {
        Some(t) => {
            serde_json::from_str(t).map_err(|e| StoreError::Corrupt(format!("clock policy: {e}")))
        }
        // Clocks started before lifecycles: escalate a missed deadline to high priority.
        None => Ok(ClockPolicy {
            kind: ClockKind::Target,
            on_due_soon: Vec::new(),
            on_overdue: vec![Action::RaisePriority(Priority::High)],
        }),
    }
}

/// Runs a clock's due-soon (`overdue` false) or overdue actions, with a timeline entry and an
/// audit row. `r` is a row of `CLOCKS_TO_WARN` / `CLOCKS_TO_ESCALATE`.
async fn run_clock_actions(
    tx: &mut dyn Tx,
    r: &Row,
    actions: &[Action],
    kind: ClockKind,
    overdue: bool,
    now: Timestamp,
) -> Result<()> {
    let system = Actor::system();
    let (clock_id, case_id, name, reference) = (
        r.int("id")?,
        r.int("case_id")?,
        r.text("name")?,
        r.text("reference")?,
    );
    let due = instant(r.int("due_at")?)?;
    let since = tx
        .one(q::TIMELINE_LAST_SEQ, args![case_id])
        .await?
        .int("seq")?;
    let mut priority: Priority = word(&r.text("priority")?)?;
    // Raising the priority locks and touches the case; otherwise it is touched on its own.
    let raises = actions
        .iter()
        .any(|a| matches!(a, Action::RaisePriority(p) if *p > priority));
    if !raises {
        tx.execute(q::TOUCH_CASE, args![case_id, micros(now)])
            .await?;
    }
    let mut done: Vec<String> = Vec::new();
    for action in actions {
        match action {
            Action::RaisePriority(p) => {
                if *p > priority {
                    tx.execute(q::RAISE_PRIORITY, args![case_id, p.as_str(), micros(now)])
                        .await?;
                    done.push(format!("priority raised to {p}"));
                    priority = *p;
                }
            }
            Action::Notify => {
                let to: Vec<String> = tx
                    .query(q::NOTIFY_RECIPIENTS, args![case_id])
                    .await?
                    .iter()
                    .map(|x| x.text("email"))
                    .collect::<Result<_>>()?;
                let subject = if overdue {
                    format!("[{reference}] Deadline missed: {name}")
                } else {
                    format!("[{reference}] Deadline due soon: {name}")
                };
                let body = format!("Case {reference}: the deadline {name} is due {due}.\n");
                for recipient in &to {
                    // Staff notices are automatic: no responder should answer them.
                    let mut mail = crate::OutgoingMail::new(
                        recipient.clone(),
                        subject.clone(),
                        body.clone(),
                        Some(reference.to_string()),
                    );
                    mail.automatic = true;
                    crate::outbox::enqueue(tx, &mail, now).await?;
                }
                done.push(format!("{} notified", to.len()));
            }
            Action::MoveUnit(code) => {
                if tx
                    .execute(q::MOVE_TO_UNIT, args![case_id, code.as_str(), micros(now)])
                    .await?
                    == 1
                {
                    done.push(format!("moved to unit {code}"));
                } else {
                    done.push(format!("unit {code} does not exist; not moved"));
                }
            }
            Action::Transition(t) => {
                let job = JobKind::Transition {
                    reference: reference.clone(),
                    transition: t.clone(),
                    clock: name.clone(),
                };
                tx.execute(
                    q::ENQUEUE_JOB,
                    args![
                        job.kind(),
                        job.to_payload(),
                        format!("clock:{clock_id}:{t}"),
                        micros(now),
                        micros(now)
                    ],
                )
                .await?;
                done.push(format!("{t} scheduled"));
            }
        }
    }
    let what = if !overdue {
        "is due soon"
    } else if kind == ClockKind::Window {
        "has closed"
    } else {
        "was missed"
    };
    let mut body = format!("Deadline {name} {what} (due {due})");
    if !done.is_empty() {
        body.push_str(&format!(": {}", done.join("; ")));
    }
    let event = if overdue {
        "clock_escalated"
    } else {
        "clock_due_soon"
    };
    let data = serde_json::json!({"event": event, "clock": name, "due_at": due, "actions": done});
    insert_entry(
        tx,
        case_id,
        &NewEntry {
            entry_type: EntryType::SystemEvent,
            body,
            visibility: Visibility::Internal,
            data: data.clone(),
            at: now,
            author_id: None,
        },
    )
    .await?;
    let action = if overdue {
        "case.escalate"
    } else {
        "case.deadline_warning"
    };
    audit_case_change(
        tx, &system, case_id, &reference, action, data, since, now, false,
    )
    .await?;
    Ok(())
}

/// Transitions and clocks, for any engine.
#[async_trait]
impl<E: Engine> Clocks for E {
    async fn change_lifecycle(
        &self,
        actor: &Actor,
        reference: &str,
        expected: i64,
        (id, name): (&str, &str),
        (stage, status): (&str, Status),
        opening: &[ClockEffect],
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, id, name, stage) = (
            actor.clone(),
            reference.to_string(),
            id.to_string(),
            name.to_string(),
            stage.to_string(),
        );
        let mut effects = vec![ClockEffect::StopAll];
        effects.extend(opening.iter().cloned());
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, Scope::default()).await?;
                check_version(&row, Some(expected))?;
                not_merged(&row)?;
                let before = tx
                    .one(q::CASE_LIFECYCLE, args![row.id])
                    .await?
                    .opt_text("lifecycle")?;
                let done = tx
                    .execute(
                        q::UPDATE_LIFECYCLE,
                        args![row.id, row.version, id.as_str(), stage.as_str(), status.as_str(), micros(at)],
                    )
                    .await?;
                if done == 0 {
                    return Err(StoreError::Stale {
                        current: row.version + 1,
                    });
                }
                apply_clock_effects(tx, &actor, row.id, &row.office, &effects, at).await?;
                insert_entry(
                    tx,
                    row.id,
                    &NewEntry {
                        entry_type: EntryType::SystemEvent,
                        body: format!("Lifecycle changed to {name}"),
                        visibility: Visibility::Internal,
                        data: serde_json::json!({"event": "lifecycle_changed", "from": before, "to": id}),
                        at,
                        author_id: actor.user_id,
                    },
                )
                .await?;
                audit_case_change(
                    tx,
                    &actor,
                    row.id,
                    &reference,
                    "case.lifecycle",
                    serde_json::json!({"version": row.version + 1, "from": before, "to": id}),
                    row.timeline_seq,
                    at,
                    false,
                )
                .await?;
                load_case(tx, row.id, true).await
            })
        }))
        .await
    }

    async fn transition(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        expected: i64,
        plan: &Plan,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, plan) = (actor.clone(), reference.to_string(), plan.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id =
                    apply_transition(tx, &actor, &reference, scope, expected, &plan, at).await?;
                load_case(tx, id, true).await
            })
        }))
        .await
    }

    async fn clocks(
        &self,
        reference: &str,
        scope: Scope,
        now: Timestamp,
    ) -> Result<Vec<CaseClock>> {
        let reference = reference.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                let id = tx
                    .one(q::CASE_ID_BY_REFERENCE, args![reference, scope.company_id])
                    .await?
                    .int("id")?;
                tx.query(q::CASE_CLOCKS, args![id])
                    .await?
                    .iter()
                    .map(|r| {
                        let due = instant(r.int("due_at")?)?;
                        let paused = r.opt_int("paused_at")?.map(instant).transpose()?;
                        let stopped = r.opt_int("stopped_at")?.map(instant).transpose()?;
                        let met = r.opt_text("outcome")?.as_deref() == Some("met");
                        let kind = match r.opt_text("policy")? {
                            Some(p) => Some(clock_policy(Some(&p))?.kind),
                            None => None,
                        };
                        Ok(CaseClock {
                            name: r.text("name")?,
                            source: r.text("source")?,
                            started_at: instant(r.int("started_at")?)?,
                            due_at: due,
                            state: redress_domain::clock::state_at(
                                now,
                                due,
                                paused,
                                stopped.map(|s| (s, met)),
                            ),
                            paused_at: paused,
                            stopped_at: stopped,
                            kind,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn deadlines_for(
        &self,
        assignee_id: i64,
        until: Timestamp,
    ) -> Result<Vec<(String, CaseKind, String, Timestamp)>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::DEADLINES_FOR, args![assignee_id, micros(until)])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.text("reference")?,
                            word(&r.text("kind")?)?,
                            r.text("name")?,
                            instant(r.int("due_at")?)?,
                        ))
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn has_worked_on(&self, reference: &str, user_id: i64) -> Result<bool> {
        let reference = reference.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .one(q::HAS_WORKED_ON, args![reference, user_id])
                    .await?
                    .int("n")?
                    > 0)
            })
        }))
        .await
    }

    async fn office_calendar(
        &self,
        office: &str,
    ) -> Result<(redress_domain::calendar::Calendar, jiff::tz::TimeZone)> {
        let office = office.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { office_calendar(tx, &office).await })
        }))
        .await
    }

    async fn sweep_clocks(&self, now: Timestamp, limit: i64) -> Result<(usize, usize)> {
        self.write(job(move |tx| {
            Box::pin(async move {
                let mut escalated = 0;
                for r in tx
                    .query(q::CLOCKS_TO_ESCALATE, args![micros(now), limit])
                    .await?
                {
                    let id = r.int("id")?;
                    if tx
                        .execute(q::MARK_ESCALATED, args![id, micros(now)])
                        .await?
                        == 0
                    {
                        continue;
                    }
                    let policy = clock_policy(r.opt_text("policy")?.as_deref())?;
                    run_clock_actions(tx, &r, &policy.on_overdue, policy.kind, true, now).await?;
                    escalated += 1;
                }
                let mut warned = 0;
                for r in tx
                    .query(q::CLOCKS_TO_WARN, args![micros(now), limit])
                    .await?
                {
                    if tx
                        .execute(q::MARK_WARNED, args![r.int("id")?, micros(now)])
                        .await?
                        == 0
                    {
                        continue;
                    }
                    let policy = clock_policy(r.opt_text("policy")?.as_deref())?;
                    run_clock_actions(tx, &r, &policy.on_due_soon, policy.kind, false, now).await?;
                    warned += 1;
                }
                Ok((warned, escalated))
            })
        }))
        .await
    }

    async fn find_due_clocks(&self, now: Timestamp, limit: i64) -> Result<usize> {
        self.read(job(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .query(q::CLOCKS_TO_ESCALATE, args![micros(now), limit])
                    .await?
                    .len())
            })
        }))
        .await
    }

    async fn due_clocks_plan(&self, now: Timestamp) -> Result<Vec<String>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let pg = tx.is_postgres();
                let sql = if pg {
                    q::EXPLAIN_CLOCKS_TO_ESCALATE_PG
                } else {
                    q::EXPLAIN_CLOCKS_TO_ESCALATE_SQLITE
                };
                tx.query(sql, args![micros(now), 1000i64])
                    .await?
                    .iter()
                    .map(|r| r.text(if pg { "QUERY PLAN" } else { "detail" }))
                    .collect()
            })
        }))
        .await
    }

    async fn seed_clock_load(
        &self,
        office: &str,
        consumer_id: i64,
        n: i64,
        batch: i64,
        first_due: Timestamp,
        step: jiff::SignedDuration,
        at: Timestamp,
    ) -> Result<()> {
        let policy = serde_json::to_string(&ClockPolicy {
            kind: ClockKind::Target,
            on_due_soon: vec![],
            on_overdue: vec![Action::RaisePriority(Priority::High)],
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let step = step.as_micros() as i64;
        let mut from = 1i64;
        let mut first_id: Option<i64> = None;
        while from <= n {
            let to = (from + batch.max(1) - 1).min(n);
            let (office, policy) = (office.to_string(), policy.clone());
            let first = self
                .write(job(move |tx| {
                    Box::pin(async move {
                        tx.execute(
                            q::SEED_CASES,
                            args![from, to, office, consumer_id, micros(at)],
                        )
                        .await?;
                        let lo = tx
                            .one(q::SEED_CASE_ID, args![format!("BENCH-{from}")])
                            .await?
                            .int("id")?;
                        let hi = tx
                            .one(q::SEED_CASE_ID, args![format!("BENCH-{to}")])
                            .await?
                            .int("id")?;
                        let base = first_id.unwrap_or(lo);
                        tx.execute(
                            q::SEED_CLOCKS,
                            args![micros(at), micros(first_due), base, step, policy, hi, lo],
                        )
                        .await?;
                        Ok(base)
                    })
                }))
                .await?;
            first_id = Some(first);
            from = to + 1;
        }
        Ok(())
    }
}
