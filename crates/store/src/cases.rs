//! Cases: opening one (with its consumer, first timeline entry, clocks and the start of its
//! audit chain), reading and listing, edits, assignment, links and merges, and the portal's
//! private status links.

use crate::audit::{append_audit, audit_case_change};
use crate::clocks::apply_clock_effects;
use crate::consumers::{NewConsumer, filled_in, load_consumer};
use crate::queries as q;
use crate::rows::{change_row, check_version, instant, micros, money_text, not_merged, word};
use crate::timeline::{NewEntry, insert_entry};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, ClockEffect, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::records::*;
use redress_domain::*;

#[derive(Debug, Clone)]
pub struct NewCase {
    pub office: String,
    /// The reference year: the office-local year of `opened_at`.
    pub year: i16,
    pub kind: CaseKind,
    pub channel: Channel,
    pub status: Status,
    /// The lifecycle state it starts in.
    pub stage: Option<String>,
    /// The lifecycle it follows (its id); `None` follows the kind's general one.
    pub lifecycle: Option<String>,
    /// The clocks the lifecycle starts when a case opens (not started for imports with history).
    pub opening: Vec<ClockEffect>,
    pub priority: Priority,
    pub flags: Vec<Flag>,
    pub category_id: Option<i64>,
    pub company_id: Option<i64>,
    pub account_number: Option<String>,
    pub amount: Option<Money>,
    pub description: String,
    pub unit_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// The existing consumer staff chose for this contact (`None`: a new consumer record is
    /// created with exactly what `consumer` holds). Nothing is ever matched automatically.
    pub consumer_id: Option<i64>,
    /// What was entered about the consumer. With `consumer_id`, it only fills in what the chosen
    /// record lacks (and adds the account number).
    pub consumer: NewConsumer,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// Extra timeline entries written after the opening entry (used by imports).
    pub history: Vec<NewEntry>,
    /// The incoming message that opens it: filed with the case in the same transaction, so that
    /// a message taken in again after a crash finds its case instead of opening a second one.
    pub inbound_mail: Option<i64>,
    /// Where an imported case came from: a second import of the same row finds it and adds
    /// nothing.
    pub source: Option<CaseSource>,
    /// Whether the consumer agreed that the description may be published, scrubbed, in the
    /// open data file (`None`: never asked).
    pub publish_consent: Option<bool>,
}

/// The system and row an imported case came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSource {
    /// The mapping's source name, e.g. `cfpb`.
    pub source: String,
    /// The row's identifier there.
    pub external_id: String,
}

/// An idempotent create: the same key and request return the first result.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct CasePatch {
    pub priority: Option<Priority>,
    pub flags: Option<Vec<Flag>>,
    pub description: Option<String>,
    pub category_id: Option<Option<i64>>,
    pub company_id: Option<Option<i64>>,
    pub account_number: Option<Option<String>>,
    pub amount: Option<Option<Money>>,
}

impl CasePatch {
    pub fn is_empty(&self) -> bool {
        self.priority.is_none()
            && self.flags.is_none()
            && self.description.is_none()
            && self.category_id.is_none()
            && self.company_id.is_none()
            && self.account_number.is_none()
            && self.amount.is_none()
    }
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub kind: Option<CaseKind>,
    pub unit_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub company_id: Option<i64>,
    pub opened_after: Option<Timestamp>,
    /// Only cases with an internal id below this (cursor pagination, newest first).
    pub before_id: Option<i64>,
    pub consumer_id: Option<i64>,
    /// Only cases still open (not resolved, closed or merged).
    pub open_only: bool,
    /// Only cases nobody is assigned to.
    pub unassigned_only: bool,
    pub limit: i64,
}

/// A work list: which cases (the case list's filters, plus those with a running clock due
/// before an instant), in what order, and which page (`filter.limit` rows from `offset`).
#[derive(Debug, Clone, Default)]
pub struct WorkQuery {
    pub filter: CaseFilter,
    /// Only cases with a running clock due before this instant.
    pub due_before: Option<Timestamp>,
    /// Only cases the search index finds for these words (in the parts the reader may search).
    pub text: Option<crate::search::TextQuery>,
    pub order: WorkOrder,
    pub descending: bool,
    pub offset: i64,
    /// Count the list's cases up to this many (at least 1); a longer list is paged by walking
    /// an index in the order shown.
    pub count_limit: i64,
}

impl WorkQuery {
    /// The order as the query names it.
    pub(crate) fn order_word(&self) -> String {
        if self.descending {
            format!("{}-desc", self.order.as_str())
        } else {
            self.order.as_str().to_string()
        }
    }
}

/// Cases: opening, reading, listing and searching them, editing, assigning, linking and
/// merging; and the private status links of the public portal.
#[async_trait]
pub trait Cases: Send + Sync {
    async fn create_case(
        &self,
        actor: &Actor,
        case: &NewCase,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<(Case, bool)>;
    /// Files a batch of cases from an import in one transaction; for each, whether it was added
    /// (`false`: its source row was imported before and nothing changed).
    async fn import_cases(&self, actor: &Actor, cases: Vec<NewCase>) -> Result<Vec<bool>>;
    /// Reads a case; when `audit_view` is set the view of personal data is audited.
    async fn case(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        audit_view: bool,
        at: Timestamp,
    ) -> Result<Case>;
    async fn cases(&self, filter: &CaseFilter, scope: Scope) -> Result<Vec<(i64, CaseSummary)>>;
    /// One page of a work list, with how many cases the whole list holds.
    async fn work_list(&self, query: &WorkQuery, scope: Scope) -> Result<WorkList>;
    async fn update_case(
        &self,
        actor: &Actor,
        reference: &str,
        expected_version: i64,
        patch: &CasePatch,
        at: Timestamp,
    ) -> Result<Case>;
    /// Sets the unit and/or assignee; for each, `None` keeps the current one and `Some(None)`
    /// clears it.
    async fn assign(
        &self,
        actor: &Actor,
        reference: &str,
        expected_version: Option<i64>,
        unit_id: Option<Option<i64>>,
        assignee_id: Option<Option<i64>>,
        at: Timestamp,
    ) -> Result<Case>;
    async fn link(
        &self,
        actor: &Actor,
        reference: &str,
        other: &str,
        kind: LinkKind,
        at: Timestamp,
    ) -> Result<Case>;
    /// Merges `reference` into `survivor`: the merged case points at the survivor and is final.
    async fn merge(
        &self,
        actor: &Actor,
        reference: &str,
        survivor: &str,
        at: Timestamp,
    ) -> Result<Case>;
    /// Records a private status link (stored as the hash of its token) for a case.
    async fn create_portal_access(
        &self,
        reference: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// The case a private status link opens.
    async fn case_by_portal_token(&self, token_hash: &str) -> Result<String>;
}

fn company_ref(r: &Row) -> Result<Option<CompanyRef>> {
    Ok(
        match (r.opt_int("company_id")?, r.opt_text("company_name")?) {
            (Some(id), Some(name)) => Some(CompanyRef { id, name }),
            _ => None,
        },
    )
}

/// The case list's filters as `$1`–`$12` (see `q::CASE_LIST`), with `rows` as `$9`.
pub(crate) fn filter_args(f: &CaseFilter, scope: Scope, rows: i64) -> Vec<crate::tx::Arg> {
    args![
        f.status.map(|s| s.as_str()),
        f.kind.map(|k| k.as_str()),
        f.unit_id,
        f.assignee_id,
        f.company_id,
        f.opened_after.map(micros),
        f.before_id,
        scope.company_id,
        rows,
        f.consumer_id,
        f.open_only.then_some(1i64),
        f.unassigned_only.then_some(1i64)
    ]
}

pub(crate) fn summary(r: &Row) -> Result<CaseSummary> {
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
        lifecycle: r.opt_text("lifecycle")?,
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

/// The first entry of every case's timeline.
pub(crate) fn opened_entry(c: &NewCase, actor: &Actor) -> NewEntry {
    NewEntry {
        entry_type: EntryType::SystemEvent,
        body: format!("Case opened ({}, {})", c.kind, c.channel),
        visibility: Visibility::Internal,
        data: serde_json::json!({"event": "opened", "kind": c.kind, "channel": c.channel, "by": actor.username}),
        at: c.opened_at,
        author_id: actor.user_id,
    }
}

/// What the `case.create` audit row says of a new case (before the digests).
pub(crate) fn created_detail(c: &NewCase, consumer_id: i64) -> serde_json::Value {
    serde_json::json!({
        "kind": c.kind, "channel": c.channel, "status": c.status, "priority": c.priority,
        "consumer_id": consumer_id, "consumer_chosen": c.consumer_id.is_some(),
        "company_id": c.company_id, "category_id": c.category_id,
        "amount_cents": c.amount.map(Money::cents),
        "source": c.source.as_ref().map(|s| serde_json::json!({"source": s.source, "external_id": s.external_id})),
    })
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
    if let Some(src) = &c.source
        && let Some(row) = tx
            .optional(
                q::CASE_BY_SOURCE,
                args![src.source.as_str(), src.external_id.as_str()],
            )
            .await?
    {
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
                &c.lifecycle,
                c.publish_consent,
            ],
        )
        .await?
        .int("id")?;
    if let Some(src) = &c.source {
        tx.execute(
            q::INSERT_CASE_SOURCE,
            args![src.source.as_str(), src.external_id.as_str(), case_id, at],
        )
        .await?;
    }
    insert_entry(tx, case_id, &opened_entry(c, actor)).await?;
    if let Some(inbound) = c.inbound_mail {
        tx.execute(q::FILE_INBOUND_MAIL, args![inbound, case_id])
            .await?;
    }
    for e in &c.history {
        insert_entry(tx, case_id, e).await?;
    }
    if c.history.is_empty() {
        apply_clock_effects(tx, actor, case_id, &c.office, &c.opening, c.opened_at).await?;
    }
    let detail = created_detail(c, consumer_id);
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

/// Cases, for any engine.
#[async_trait]
impl<E: Engine> Cases for E {
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

    async fn import_cases(&self, actor: &Actor, cases: Vec<NewCase>) -> Result<Vec<bool>> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let mut added = Vec::with_capacity(cases.len());
                let mut ids = Vec::with_capacity(cases.len());
                // The batch is indexed for search once, at the end (see 0022_search_batches);
                // on SQLite, with FTS5's merging held until the import's end.
                tx.execute(q::DEFER_SEARCH, args![]).await?;
                if cases.iter().all(crate::filing::fits) {
                    (added, ids) = crate::filing::file_batch(tx, &actor, &cases).await?;
                } else {
                    for c in &cases {
                        let (id, created) = create_case(tx, &actor, c, None).await?;
                        if created {
                            ids.push(id);
                        }
                        added.push(created);
                    }
                }
                if let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) {
                    let index = if tx.is_postgres() {
                        q::INDEX_CASES_POSTGRES
                    } else {
                        q::INDEX_CASES_SQLITE
                    };
                    if !tx.is_postgres() {
                        tx.execute(q::HOLD_SEARCH_MERGES_SQLITE, args![]).await?;
                    }
                    tx.execute(index, args![*first, *last]).await?;
                }
                tx.execute(q::UNDEFER_SEARCH, args![]).await?;
                Ok(added)
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
                    .query(q::CASE_LIST, filter_args(&f, scope, f.limit))
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.int("id")?, summary(r)?)))
                    .collect()
            })
        }))
        .await
    }

    async fn work_list(&self, query: &WorkQuery, scope: Scope) -> Result<WorkList> {
        let w = query.clone();
        self.read(job(move |tx| {
            Box::pin(async move { crate::work_list::work_page(tx, &w, scope).await })
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
