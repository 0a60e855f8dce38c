//! What each store operation does, written once against [`Tx`] and run by either backend's
//! [`Engine`]. Every change writes its timeline entries and audit rows in the same job, so
//! they commit or fail together.

use crate::audit::{append_audit, audit_case_change};
use crate::consumers::{filled_in, load_consumer};
use crate::queries as q;
use crate::rows::{
    change_row, check_version, hour_of_day, instant, micros, money_text, not_merged, word,
};
use crate::timeline::insert_entry;
use crate::tx::{Engine, Row, Tx, args, job, job as job_fn};
use crate::*;
use async_trait::async_trait;
use redress_domain::lifecycle::{Action, ClockKind, ClockPolicy};
fn company_ref(r: &Row) -> Result<Option<CompanyRef>> {
    Ok(
        match (r.opt_int("company_id")?, r.opt_text("company_name")?) {
            (Some(id), Some(name)) => Some(CompanyRef { id, name }),
            _ => None,
        },
    )
}

fn summary(r: &Row) -> Result<CaseSummary> {
    Ok(CaseSummary {
        reference: r.text("reference")?,
        kind: word(&r.text("kind")?)?,
        channel: word(&r.text("channel")?)?,
        status: word(&r.text("status")?)?,
        priority: word(&r.text("priority")?)?,
        flags: flags_from_text(&r.text("flags")?),
        category: r.opt_text("category_path")?,
        company: company_ref(r)?,
        unit: r.opt_text("unit_code")?,
        assignee: r.opt_text("assignee")?,
        opened_at: instant(r.int("opened_at")?)?,
        updated_at: instant(r.int("updated_at")?)?,
        version: r.int("version")?,
    })
}

fn case_from(r: &Row, consumer: Option<Consumer>, links: Vec<CaseLink>) -> Result<Case> {
    Ok(Case {
        reference: r.text("reference")?,
        office: r.text("office")?,
        kind: word(&r.text("kind")?)?,
        channel: word(&r.text("channel")?)?,
        status: word(&r.text("status")?)?,
        stage: r.opt_text("stage")?,
        priority: word(&r.text("priority")?)?,
        flags: flags_from_text(&r.text("flags")?),
        category: r.opt_text("category_path")?,
        consumer_id: r.int("consumer_id")?,
        consumer,
        company: company_ref(r)?,
        account_number: r.opt_text("account_number")?,
        amount_in_dispute: money_text(r.opt_int("amount_cents")?),
        description: r.text("description")?,
        unit: r.opt_text("unit_code")?,
        assignee: r.opt_text("assignee")?,
        merged_into: r.opt_text("merged_into")?,
        links,
        facts: Vec::new(),
        opened_at: instant(r.int("opened_at")?)?,
        closed_at: r.opt_int("closed_at")?.map(instant).transpose()?,
        updated_at: instant(r.int("updated_at")?)?,
        version: r.int("version")?,
    })
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
async fn apply_clock_effects(
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
async fn apply_transition(
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
    let mut body = if plan.from == plan.to {
        plan.label.clone()
    } else {
        format!("{} ({} → {})", plan.label, plan.from, plan.to)
    };
    for (name, value) in &plan.facts {
        body.push_str(&format!("\n{name}: {value}"));
    }
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
        // Consumers with an email address get their letters by email too (through the outbox).
        if letter.to == redress_domain::lifecycle::Addressee::Consumer
            && let Some(email) = tx
                .one(q::CASE_CONSUMER_EMAIL, args![row.id])
                .await?
                .opt_text("email")?
        {
            tx.one(
                q::ENQUEUE_MAIL,
                args![
                    email.as_str(),
                    letter.subject.as_str(),
                    letter.body.as_str(),
                    reference,
                    micros(at)
                ],
            )
            .await?;
        }
        let e = NewEntry {
            entry_type: EntryType::Letter,
            body: format!("{}\n\n{}", letter.subject, letter.body),
            visibility: match letter.to {
                redress_domain::lifecycle::Addressee::Consumer => Visibility::Consumer,
                redress_domain::lifecycle::Addressee::Company => Visibility::Company,
            },
            data: serde_json::json!({"letter": letter.name, "language": letter.language, "subject": letter.subject, "transition": plan.transition}),
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

async fn links(tx: &mut dyn Tx, case_id: i64) -> Result<Vec<CaseLink>> {
    tx.query(q::CASE_LINKS, args![case_id])
        .await?
        .iter()
        .map(|l| {
            Ok(CaseLink {
                kind: word(&l.text("kind")?)?,
                reference: l.text("reference")?,
                direction: l.text("direction")?,
                company_id: l.opt_int("company_id")?,
            })
        })
        .collect()
}

async fn load_case(tx: &mut dyn Tx, id: i64, with_consumer: bool) -> Result<Case> {
    load_case_with(tx, id, with_consumer, true).await
}

/// Reads a case back; a case created in this transaction has no links yet.
async fn load_case_with(
    tx: &mut dyn Tx,
    id: i64,
    with_consumer: bool,
    with_links: bool,
) -> Result<Case> {
    let row = tx.one(q::CASE_BY_ID, args![id]).await?;
    let consumer = if with_consumer {
        Some(load_consumer(tx, row.int("consumer_id")?).await?)
    } else {
        None
    };
    let links = if with_links {
        links(tx, id).await?
    } else {
        Vec::new()
    };
    let mut case = case_from(&row, consumer, links)?;
    if with_links {
        case.facts = facts(tx, id).await?;
    }
    Ok(case)
}

/// What a case's lifecycle transitions recorded.
async fn facts(tx: &mut dyn Tx, case_id: i64) -> Result<Vec<CaseFact>> {
    tx.query(q::CASE_FACTS, args![case_id])
        .await?
        .iter()
        .map(|f| {
            Ok(CaseFact {
                name: f.text("name")?,
                value: f.text("value")?,
                set_at: instant(f.int("set_at")?)?,
            })
        })
        .collect()
}

async fn create_case(
    tx: &mut dyn Tx,
    actor: &Actor,
    c: &NewCase,
    idem: Option<&IdempotencyKey>,
) -> Result<(i64, bool)> {
    if let (Some(k), Some(uid)) = (idem, actor.user_id)
        && let Some(row) = tx
            .optional(q::IDEMPOTENCY, args![uid, k.key.as_str()])
            .await?
    {
        if row.text("request_hash")? != k.request_hash {
            return Err(StoreError::IdempotencyKeyReused);
        }
        return Ok((row.int("case_id")?, false));
    }
    let at = micros(c.opened_at);
    let lang = c.consumer.preferred_language.unwrap_or(Language::En);
    let a = &c.consumer.address;
    let consumer_id = match c.consumer_id {
        Some(id) => {
            let chosen = load_consumer(tx, id).await?;
            if chosen.merged_into.is_some() {
                return Err(StoreError::ConsumerMerged(id));
            }
            let filled = filled_in(&chosen, &c.consumer);
            if !filled.is_empty() {
                tx.execute(
                    q::ENRICH_CONSUMER,
                    args![
                        id,
                        &c.consumer.phone,
                        &c.consumer.email,
                        &a.line1,
                        &a.line2,
                        &a.city,
                        &a.state,
                        &a.zip,
                        chosen.preferred_language.as_str(),
                        at
                    ],
                )
                .await?;
                append_audit(
                    tx,
                    actor,
                    &format!("consumer:{id}"),
                    "consumer.update",
                    &format!("consumer:{id}"),
                    &serde_json::json!({"filled_in": filled, "source": "case.create"}).to_string(),
                    c.opened_at,
                )
                .await?;
            }
            id
        }
        None => tx
            .one(
                q::INSERT_CONSUMER,
                args![
                    c.consumer.name.as_str(),
                    &c.consumer.phone,
                    &c.consumer.email,
                    &a.line1,
                    &a.line2,
                    &a.city,
                    &a.state,
                    &a.zip,
                    lang.as_str(),
                    at
                ],
            )
            .await?
            .int("id")?,
    };
    if let Some(acct) = &c.consumer.account_number {
        tx.execute(q::INSERT_ACCOUNT, args![consumer_id, acct])
            .await?;
    }
    let seq = tx.next_reference(&c.office, i64::from(c.year)).await?;
    let seq = u32::try_from(seq)
        .map_err(|_| StoreError::Corrupt("reference sequence overflow".into()))?;
    let reference = Reference::new(&c.office, c.year, seq)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .to_string();
    let case_id = tx
        .one(
            q::INSERT_CASE,
            args![
                reference.as_str(),
                c.office.as_str(),
                c.kind.as_str(),
                c.channel.as_str(),
                c.status.as_str(),
                c.priority.as_str(),
                flags_to_text(&c.flags),
                c.category_id,
                consumer_id,
                c.company_id,
                &c.account_number,
                c.amount.map(Money::cents),
                c.description.as_str(),
                c.unit_id,
                c.assignee_id,
                at,
                c.closed_at.map(micros),
                actor.user_id,
                &c.stage,
            ],
        )
        .await?
        .int("id")?;
    let opened = NewEntry {
        entry_type: EntryType::SystemEvent,
        body: format!("Case opened ({}, {})", c.kind, c.channel),
        visibility: Visibility::Internal,
        data: serde_json::json!({"event": "opened", "kind": c.kind, "channel": c.channel, "by": actor.username}),
        at: c.opened_at,
        author_id: actor.user_id,
    };
    insert_entry(tx, case_id, &opened).await?;
    for e in &c.history {
        insert_entry(tx, case_id, e).await?;
    }
    if c.history.is_empty() {
        apply_clock_effects(tx, actor, case_id, &c.office, &c.opening, c.opened_at).await?;
    }
    let detail = serde_json::json!({
        "kind": c.kind, "channel": c.channel, "status": c.status, "priority": c.priority,
        "consumer_id": consumer_id, "consumer_chosen": c.consumer_id.is_some(),
        "company_id": c.company_id, "category_id": c.category_id,
        "amount_cents": c.amount.map(Money::cents),
    });
    audit_case_change(
        tx,
        actor,
        case_id,
        &reference,
        "case.create",
        detail,
        0,
        c.opened_at,
        true,
    )
    .await?;
    if let (Some(k), Some(uid)) = (idem, actor.user_id) {
        tx.execute(
            q::INSERT_IDEMPOTENCY,
            args![uid, k.key.as_str(), k.request_hash.as_str(), case_id, at],
        )
        .await?;
    }
    Ok((case_id, true))
}

async fn update_case(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    expected: i64,
    p: &CasePatch,
    at: Timestamp,
) -> Result<i64> {
    let row = change_row(tx, reference, Scope::default()).await?;
    check_version(&row, Some(expected))?;
    not_merged(&row)?;
    let mut changes = serde_json::Map::new();
    let priority = p
        .priority
        .map(|x| x.as_str().to_string())
        .unwrap_or(row.priority.clone());
    if priority != row.priority {
        changes.insert(
            "priority".into(),
            serde_json::json!({"from": row.priority, "to": priority}),
        );
    }
    let flags = p
        .flags
        .as_ref()
        .map(|f| flags_to_text(f))
        .unwrap_or(row.flags.clone());
    if flags != row.flags {
        changes.insert(
            "flags".into(),
            serde_json::json!({"from": row.flags, "to": flags}),
        );
    }
    let description = p.description.clone().unwrap_or(row.description.clone());
    if description != row.description {
        changes.insert("description".into(), serde_json::json!({"changed": true}));
    }
    let category_id = p.category_id.unwrap_or(row.category_id);
    if category_id != row.category_id {
        changes.insert(
            "category_id".into(),
            serde_json::json!({"from": row.category_id, "to": category_id}),
        );
    }
    let company_id = p.company_id.unwrap_or(row.company_id);
    if company_id != row.company_id {
        changes.insert(
            "company_id".into(),
            serde_json::json!({"from": row.company_id, "to": company_id}),
        );
    }
    let account = p
        .account_number
        .clone()
        .unwrap_or(row.account_number.clone());
    if account != row.account_number {
        changes.insert(
            "account_number".into(),
            serde_json::json!({"from": row.account_number, "to": account}),
        );
    }
    let amount = p
        .amount
        .map(|a| a.map(Money::cents))
        .unwrap_or(row.amount_cents);
    if amount != row.amount_cents {
        changes.insert(
            "amount_in_dispute".into(),
            serde_json::json!({"from": money_text(row.amount_cents), "to": money_text(amount)}),
        );
    }
    let done = tx
        .execute(
            q::UPDATE_CASE,
            args![
                row.id,
                row.version,
                priority,
                flags,
                description,
                category_id,
                company_id,
                account,
                amount,
                micros(at)
            ],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Stale {
            current: row.version + 1,
        });
    }
    if !changes.is_empty() {
        let names: Vec<String> = changes.keys().cloned().collect();
        let entry = NewEntry {
            entry_type: EntryType::SystemEvent,
            body: format!("Case updated: {}", names.join(", ")),
            visibility: Visibility::Internal,
            data: serde_json::json!({"event": "updated", "changes": changes}),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, row.id, &entry).await?;
    }
    let detail = serde_json::json!({"version": row.version + 1, "changes": changes});
    audit_case_change(
        tx,
        actor,
        row.id,
        reference,
        "case.update",
        detail,
        row.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(row.id)
}

async fn assign(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    expected: Option<i64>,
    unit_id: Option<Option<i64>>,
    assignee_id: Option<Option<i64>>,
    at: Timestamp,
) -> Result<i64> {
    let row = change_row(tx, reference, Scope::default()).await?;
    check_version(&row, expected)?;
    not_merged(&row)?;
    let unit_id = unit_id.unwrap_or(row.unit_id);
    let assignee_id = assignee_id.unwrap_or(row.assignee_id);
    let done = tx
        .execute(
            q::UPDATE_ASSIGNMENT,
            args![row.id, row.version, unit_id, assignee_id, micros(at)],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Stale {
            current: row.version + 1,
        });
    }
    let data = serde_json::json!({"from": {"unit_id": row.unit_id, "assignee_id": row.assignee_id}, "to": {"unit_id": unit_id, "assignee_id": assignee_id}});
    let case = load_case(tx, row.id, false).await?;
    let body = format!(
        "Assigned to {} in {}",
        case.assignee.as_deref().unwrap_or("nobody"),
        case.unit.as_deref().unwrap_or("no unit")
    );
    let entry = NewEntry {
        entry_type: EntryType::Assignment,
        body,
        visibility: Visibility::Internal,
        data: data.clone(),
        at,
        author_id: actor.user_id,
    };
    insert_entry(tx, row.id, &entry).await?;
    audit_case_change(
        tx,
        actor,
        row.id,
        reference,
        "case.assign",
        data,
        row.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(row.id)
}

async fn link(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    other: &str,
    kind: LinkKind,
    at: Timestamp,
) -> Result<i64> {
    let a = change_row(tx, reference, Scope::default()).await?;
    let b = change_row(tx, other, Scope::default()).await?;
    // Both timelines get an entry: lock both cases, lower id first so two links never wait on
    // each other.
    for id in [a.id.min(b.id), a.id.max(b.id)] {
        tx.execute(q::TOUCH_CASE, args![id, micros(at)]).await?;
    }
    tx.execute(
        q::INSERT_LINK,
        args![a.id, b.id, kind.as_str(), actor.user_id, micros(at)],
    )
    .await?;
    for (id, text) in [
        (a.id, format!("Linked to {other} ({kind})")),
        (b.id, format!("Linked from {reference} ({kind})")),
    ] {
        let e = NewEntry {
            entry_type: EntryType::SystemEvent,
            body: text,
            visibility: Visibility::Internal,
            data: serde_json::json!({"event": "linked", "kind": kind, "from": reference, "to": other}),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, id, &e).await?;
    }
    let detail = serde_json::json!({"kind": kind, "from": reference, "to": other});
    audit_case_change(
        tx,
        actor,
        a.id,
        reference,
        "case.link",
        detail.clone(),
        a.timeline_seq,
        at,
        false,
    )
    .await?;
    audit_case_change(
        tx,
        actor,
        b.id,
        other,
        "case.link",
        detail,
        b.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(a.id)
}

async fn merge(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    survivor: &str,
    at: Timestamp,
) -> Result<i64> {
    let a = change_row(tx, reference, Scope::default()).await?;
    let b = change_row(tx, survivor, Scope::default()).await?;
    if a.status == Status::Merged || b.status == Status::Merged {
        return Err(StoreError::Domain(DomainError::InvalidTransition {
            from: a.status,
            to: Status::Merged,
            allowed: a.status.allowed_next().to_vec(),
        }));
    }
    let done = tx
        .execute(
            q::UPDATE_STATUS,
            args![
                a.id,
                a.version,
                Status::Merged.as_str(),
                micros(at),
                b.id,
                micros(at)
            ],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Stale {
            current: a.version + 1,
        });
    }
    tx.execute(q::TOUCH_CASE, args![b.id, micros(at)]).await?;
    apply_clock_effects(tx, actor, a.id, &a.office, &[ClockEffect::StopAll], at).await?;
    tx.execute(
        q::INSERT_LINK,
        args![
            a.id,
            b.id,
            LinkKind::DuplicateOf.as_str(),
            actor.user_id,
            micros(at)
        ],
    )
    .await?;
    let data = serde_json::json!({"event": "merged", "merged": reference, "survivor": survivor, "previous_status": a.status});
    for (id, text) in [
        (a.id, format!("Merged into {survivor}")),
        (b.id, format!("{reference} merged into this case")),
    ] {
        let e = NewEntry {
            entry_type: EntryType::SystemEvent,
            body: text,
            visibility: Visibility::Internal,
            data: data.clone(),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, id, &e).await?;
    }
    audit_case_change(
        tx,
        actor,
        a.id,
        reference,
        "case.merge",
        data.clone(),
        a.timeline_seq,
        at,
        false,
    )
    .await?;
    audit_case_change(
        tx,
        actor,
        b.id,
        survivor,
        "case.merge",
        data,
        b.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(a.id)
}

/// One store, for any engine.
#[async_trait]
impl<E: Engine> Store for E {
    fn backend(&self) -> &'static str {
        E::BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        Engine::migrate(self).await
    }

    async fn schema_versions(&self) -> Result<Vec<i64>> {
        Engine::schema_versions(self).await
    }

    async fn ping(&self) -> Result<()> {
        self.read(job(|tx| {
            Box::pin(async move { tx.query(q::PING, args![]).await.map(|_| ()) })
        }))
        .await
    }

    async fn create_case(
        &self,
        actor: &Actor,
        c: &NewCase,
        idem: Option<&IdempotencyKey>,
    ) -> Result<(Case, bool)> {
        let (actor, c, idem) = (actor.clone(), c.clone(), idem.cloned());
        self.write(job(move |tx| {
            Box::pin(async move {
                let (id, created) = create_case(tx, &actor, &c, idem.as_ref()).await?;
                Ok((load_case_with(tx, id, true, !created).await?, created))
            })
        }))
        .await
    }

    async fn case(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        audit_view: bool,
        at: Timestamp,
    ) -> Result<Case> {
        let reference = reference.to_string();
        let r = reference.clone();
        let case = self
            .read(job(move |tx| {
                Box::pin(async move {
                    let row = tx
                        .one(q::CASE_BY_REFERENCE, args![r, scope.company_id])
                        .await?;
                    let consumer = if audit_view {
                        Some(load_consumer(tx, row.int("consumer_id")?).await?)
                    } else {
                        None
                    };
                    let links = links(tx, row.int("id")?).await?;
                    let mut case = case_from(&row, consumer, links)?;
                    case.facts = facts(tx, row.int("id")?).await?;
                    Ok(case)
                })
            }))
            .await?;
        if audit_view {
            let actor = actor.clone();
            self.write(job(move |tx| {
                Box::pin(async move {
                    append_audit(
                        tx,
                        &actor,
                        &format!("case:{reference}"),
                        "case.view",
                        &reference,
                        "{}",
                        at,
                    )
                    .await
                })
            }))
            .await?;
        }
        Ok(case)
    }

    async fn cases(&self, f: &CaseFilter, scope: Scope) -> Result<Vec<(i64, CaseSummary)>> {
        let f = f.clone();
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        q::CASE_LIST,
                        args![
                            f.status.map(|s| s.as_str()),
                            f.kind.map(|k| k.as_str()),
                            f.unit_id,
                            f.assignee_id,
                            f.company_id,
                            f.opened_after.map(micros),
                            f.before_id,
                            scope.company_id,
                            f.limit,
                            f.consumer_id,
                            f.open_only.then_some(1i64)
                        ],
                    )
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.int("id")?, summary(r)?)))
                    .collect()
            })
        }))
        .await
    }

    async fn search_cases(&self, text: &str, scope: Scope, limit: i64) -> Result<Vec<CaseSummary>> {
        let escaped: String = text
            .to_lowercase()
            .chars()
            .flat_map(|c| {
                if matches!(c, '%' | '_' | '\\') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
        let pattern = format!("%{escaped}%");
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::CASE_SEARCH, args![pattern, scope.company_id, limit])
                    .await?
                    .iter()
                    .map(summary)
                    .collect()
            })
        }))
        .await
    }

    async fn update_case(
        &self,
        actor: &Actor,
        reference: &str,
        expected: i64,
        patch: &CasePatch,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, patch) = (actor.clone(), reference.to_string(), patch.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = update_case(tx, &actor, &reference, expected, &patch, at).await?;
                load_case(tx, id, true).await
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

    async fn assign(
        &self,
        actor: &Actor,
        reference: &str,
        expected: Option<i64>,
        unit_id: Option<Option<i64>>,
        assignee_id: Option<Option<i64>>,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference) = (actor.clone(), reference.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = assign(tx, &actor, &reference, expected, unit_id, assignee_id, at).await?;
                load_case(tx, id, true).await
            })
        }))
        .await
    }

    async fn link(
        &self,
        actor: &Actor,
        reference: &str,
        other: &str,
        kind: LinkKind,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, other) = (actor.clone(), reference.to_string(), other.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = link(tx, &actor, &reference, &other, kind, at).await?;
                load_case(tx, id, true).await
            })
        }))
        .await
    }

    async fn merge(
        &self,
        actor: &Actor,
        reference: &str,
        survivor: &str,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, survivor) =
            (actor.clone(), reference.to_string(), survivor.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = merge(tx, &actor, &reference, &survivor, at).await?;
                load_case(tx, id, true).await
            })
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

    async fn deadlines_for(
        &self,
        assignee_id: i64,
        until: Timestamp,
    ) -> Result<Vec<(String, String, Timestamp)>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::DEADLINES_FOR, args![assignee_id, micros(until)])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.text("reference")?,
                            r.text("name")?,
                            instant(r.int("due_at")?)?,
                        ))
                    })
                    .collect()
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

    async fn enqueue_job(
        &self,
        job: &JobKind,
        dedupe_key: Option<&str>,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let (kind, payload, key) = (job.kind(), job.to_payload(), dedupe_key.map(str::to_string));
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .execute(
                        q::ENQUEUE_JOB,
                        args![kind, payload, key, micros(run_at), micros(now)],
                    )
                    .await?
                    == 1)
            })
        }))
        .await
    }

    async fn schedule_reminder(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        body: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let (actor, reference, body) = (actor.clone(), reference.to_string(), body.to_string());
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                change_row(tx, &reference, scope).await?;
                let job = JobKind::Reminder {
                    reference: reference.clone(),
                    body: body.clone(),
                    author_id: actor.user_id,
                };
                tx.execute(
                    q::ENQUEUE_JOB,
                    args![
                        job.kind(),
                        job.to_payload(),
                        None::<String>,
                        micros(run_at),
                        micros(now)
                    ],
                )
                .await?;
                let detail = serde_json::json!({
                    "run_at": run_at,
                    "body_sha256": redress_domain::audit::sha256_hex(body.as_bytes()),
                });
                append_audit(
                    tx,
                    &actor,
                    &format!("case:{reference}"),
                    "case.reminder.schedule",
                    &reference,
                    &detail.to_string(),
                    now,
                )
                .await
            })
        }))
        .await
    }

    async fn claim_job(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        node: &str,
    ) -> Result<Option<ClaimedJob>> {
        let node = node.to_string();
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                let Some(r) = tx
                    .optional(
                        if tx.is_postgres() {
                            q::CLAIM_JOB_SKIP_LOCKED
                        } else {
                            q::CLAIM_JOB
                        },
                        args![micros(now), micros(lease_until), node],
                    )
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(ClaimedJob {
                    id: r.int("id")?,
                    job: JobKind::from_parts(&r.text("kind")?, &r.text("payload")?)?,
                    attempts: r.int("attempts")?,
                }))
            })
        }))
        .await
    }

    async fn finish_job(
        &self,
        claimed: &ClaimedJob,
        node: &str,
        plan: Option<(&Plan, i64)>,
        at: Timestamp,
    ) -> Result<bool> {
        let (claimed, node) = (claimed.clone(), node.to_string());
        let plan = plan.map(|(p, v)| (p.clone(), v));
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                // Completion first: if the lease was lost, nothing else happens.
                if tx
                    .execute(q::COMPLETE_JOB, args![claimed.id, micros(at), node])
                    .await?
                    == 0
                {
                    return Ok(false);
                }
                match &claimed.job {
                    JobKind::Reminder {
                        reference,
                        body,
                        author_id,
                    } => {
                        let row = change_row(tx, reference, Scope::default()).await?;
                        // Locks the case so concurrent writers number its timeline in turn.
                        tx.execute(q::TOUCH_CASE, args![row.id, micros(at)]).await?;
                        let e = NewEntry {
                            entry_type: EntryType::Note,
                            body: body.clone(),
                            visibility: Visibility::Internal,
                            data: serde_json::json!({"event": "reminder", "job_id": claimed.id}),
                            at,
                            author_id: *author_id,
                        };
                        insert_entry(tx, row.id, &e).await?;
                        audit_case_change(
                            tx,
                            &Actor::system(),
                            row.id,
                            reference,
                            "case.reminder",
                            serde_json::json!({"job_id": claimed.id}),
                            row.timeline_seq,
                            at,
                            false,
                        )
                        .await?;
                    }
                    JobKind::Transition { reference, .. } => {
                        if let Some((plan, version)) = &plan {
                            apply_transition(
                                tx,
                                &Actor::system(),
                                reference,
                                Scope::default(),
                                *version,
                                plan,
                                at,
                            )
                            .await?;
                        }
                    }
                }
                Ok(true)
            })
        }))
        .await
    }

    async fn fail_job(
        &self,
        id: i64,
        node: &str,
        error: &str,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<()> {
        let (node, error) = (
            node.to_string(),
            error.chars().take(1000).collect::<String>(),
        );
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                match retry_at {
                    Some(r) => {
                        tx.execute(q::RETRY_JOB, args![id, micros(r), error, node])
                            .await?
                    }
                    None => {
                        tx.execute(q::KILL_JOB, args![id, micros(at), error, node])
                            .await?
                    }
                };
                Ok(())
            })
        }))
        .await
    }

    async fn dead_jobs(&self, limit: i64) -> Result<Vec<DeadJob>> {
        self.read(job_fn(move |tx| {
            Box::pin(async move {
                tx.query(q::DEAD_JOBS, args![limit])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(DeadJob {
                            id: r.int("id")?,
                            kind: r.text("kind")?,
                            payload: r.text("payload")?,
                            attempts: r.int("attempts")?,
                            last_error: r.opt_text("last_error")?,
                            dead_at: instant(r.int("dead_at")?)?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn revive_job(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<bool> {
        let actor = actor.clone();
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                if tx.execute(q::REVIVE_JOB, args![id, micros(at)]).await? == 0 {
                    return Ok(false);
                }
                let subject = format!("job:{id}");
                append_audit(tx, &actor, "jobs", "job.revive", &subject, "{}", at).await?;
                Ok(true)
            })
        }))
        .await
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        self.read(job_fn(|tx| {
            Box::pin(async move {
                let r = tx.one(q::JOB_COUNTS, args![]).await?;
                Ok(JobCounts {
                    waiting: r.int("waiting")?,
                    done: r.int("done")?,
                    dead: r.int("dead")?,
                })
            })
        }))
        .await
    }

    async fn create_portal_access(
        &self,
        reference: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (reference, token_hash) = (reference.to_string(), token_hash.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx
                    .execute(
                        q::INSERT_PORTAL_ACCESS,
                        args![reference, token_hash, micros(at)],
                    )
                    .await?
                    == 0
                {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
        }))
        .await
    }

    async fn case_by_portal_token(&self, token_hash: &str) -> Result<String> {
        let token_hash = token_hash.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.one(q::CASE_BY_PORTAL_TOKEN, args![token_hash])
                    .await?
                    .text("reference")
            })
        }))
        .await
    }
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
                    tx.one(
                        q::ENQUEUE_MAIL,
                        args![
                            recipient.as_str(),
                            subject.as_str(),
                            body.as_str(),
                            reference.as_str(),
                            micros(now)
                        ],
                    )
                    .await?;
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
