//! What each store operation does, written once against [`Tx`] and run by either backend's
//! [`Engine`]. Every change writes its timeline entries and audit rows in the same job, so
//! they commit or fail together.

use crate::audit::{append_audit, audit_case_change};
use crate::clocks::{apply_clock_effects, apply_transition};
use crate::consumers::{filled_in, load_consumer};
use crate::queries as q;
use crate::rows::{change_row, check_version, instant, micros, money_text, not_merged, word};
use crate::timeline::insert_entry;
use crate::tx::{Engine, Row, Tx, args, job, job as job_fn};
use crate::*;
use async_trait::async_trait;

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

pub(crate) async fn load_case(tx: &mut dyn Tx, id: i64, with_consumer: bool) -> Result<Case> {
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
