//! Consumer records: lookup by phone, email or account number, audited views, possible
//! duplicates, and merging two records of one person (their cases move along).

use crate::audit::{append_audit, audit_case_change};
use crate::cases::load_case;
use crate::queries as q;
use crate::rows::{change_row, check_version, instant, micros, not_merged, word};
use crate::timeline::{NewEntry, insert_entry};
use crate::tx::{Engine, Tx, args, job};
use crate::{Actor, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::records::*;
use redress_domain::*;

#[derive(Debug, Clone, Default)]
pub struct NewConsumer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Address,
    pub preferred_language: Option<Language>,
    pub account_number: Option<String>,
}

/// A consumer's contact details as staff corrected them: the whole set replaces what is on
/// file (an empty phone or email clears it); account numbers are not among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerCorrection {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Address,
    /// `None` keeps the language on file.
    pub preferred_language: Option<Language>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerLookup {
    Phone(String),
    Email(String),
    Account(String),
}

/// The people who complain: finding them, reading their records (audited), and merging two
/// records of one person.
#[async_trait]
pub trait Consumers: Send + Sync {
    /// Corrects the contact details of the consumer of case `reference` (version `expected`).
    async fn correct_consumer(
        &self,
        actor: &Actor,
        reference: &str,
        expected: i64,
        correction: &ConsumerCorrection,
        at: Timestamp,
    ) -> Result<Case>;
    async fn find_consumers(&self, lookup: &ConsumerLookup, limit: i64) -> Result<Vec<Consumer>>;
    /// Reads a consumer's record and audits the view.
    async fn view_consumer(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<Consumer>;
    /// One consumer record, for checking a choice (not a view: nothing is shown, nothing audited).
    async fn consumer(&self, id: i64) -> Result<Consumer>;
    /// Other records that share a phone number, email address or account number with this
    /// one (possibly the same person); the view is audited on the consumer's chain.
    async fn consumer_duplicates(
        &self,
        actor: &Actor,
        id: i64,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<Consumer>>;
    /// Staff decided that `from` and `into` are one person: `from` points at `into` (its own
    /// values kept as they were), `into` gains what it lacked and `from`'s account numbers, and
    /// `from`'s cases move to `into`, each move audited on the case's chain. Returns the kept record.
    async fn merge_consumers(
        &self,
        actor: &Actor,
        from: i64,
        into: i64,
        at: Timestamp,
    ) -> Result<Consumer>;
}

/// Corrects the contact details of case `row`'s consumer: the consumer's chain gets each changed
/// field's old and new value (`consumer.update`), the case a new version, a timeline entry naming
/// the fields (not their values) and `case.consumer.correct`. Nothing changes when nothing
/// differs.
async fn correct_consumer(
    tx: &mut dyn Tx,
    actor: &Actor,
    reference: &str,
    expected: i64,
    c: &ConsumerCorrection,
    at: Timestamp,
) -> Result<i64> {
    let row = change_row(tx, reference, Scope::default()).await?;
    check_version(&row, Some(expected))?;
    not_merged(&row)?;
    let consumer_id = tx
        .one(q::CASE_CONSUMER_ID, args![row.id])
        .await?
        .int("consumer_id")?;
    let on_file = load_consumer(tx, consumer_id).await?;
    if on_file.merged_into.is_some() {
        return Err(StoreError::ConsumerMerged(consumer_id));
    }
    let language = c.preferred_language.unwrap_or(on_file.preferred_language);
    let pairs: [(&str, Option<&str>, Option<&str>); 9] = [
        ("name", Some(on_file.name.as_str()), Some(c.name.as_str())),
        ("phone", on_file.phone.as_deref(), c.phone.as_deref()),
        ("email", on_file.email.as_deref(), c.email.as_deref()),
        (
            "address_line1",
            on_file.address.line1.as_deref(),
            c.address.line1.as_deref(),
        ),
        (
            "address_line2",
            on_file.address.line2.as_deref(),
            c.address.line2.as_deref(),
        ),
        (
            "city",
            on_file.address.city.as_deref(),
            c.address.city.as_deref(),
        ),
        (
            "state",
            on_file.address.state.as_deref(),
            c.address.state.as_deref(),
        ),
        (
            "zip",
            on_file.address.zip.as_deref(),
            c.address.zip.as_deref(),
        ),
        (
            "preferred_language",
            Some(on_file.preferred_language.as_str()),
            Some(language.as_str()),
        ),
    ];
    let mut changes = serde_json::Map::new();
    let mut fields: Vec<String> = Vec::new();
    for (field, was, now) in pairs {
        if was != now {
            fields.push(field.to_string());
            changes.insert(
                field.to_string(),
                serde_json::json!({"from": was, "to": now}),
            );
        }
    }
    if changes.is_empty() {
        return Ok(row.id);
    }
    let a = &c.address;
    tx.execute(
        q::CORRECT_CONSUMER,
        args![
            consumer_id,
            c.name.as_str(),
            &c.phone,
            &c.email,
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.zip,
            language.as_str(),
            micros(at)
        ],
    )
    .await?;
    let done = tx
        .execute(q::BUMP_CASE, args![row.id, row.version, micros(at)])
        .await?;
    if done == 0 {
        return Err(StoreError::Stale {
            current: row.version + 1,
        });
    }
    append_audit(
        tx,
        actor,
        &format!("consumer:{consumer_id}"),
        "consumer.update",
        &format!("consumer:{consumer_id}"),
        &serde_json::json!({"changes": changes, "source": "case.correct", "case": reference})
            .to_string(),
        at,
    )
    .await?;
    insert_entry(
        tx,
        row.id,
        &NewEntry {
            entry_type: EntryType::SystemEvent,
            body: format!("Consumer's details corrected: {}", fields.join(", ")),
            visibility: Visibility::Internal,
            data: serde_json::json!({"event": "consumer_corrected", "fields": fields}),
            at,
            author_id: actor.user_id,
        },
    )
    .await?;
    audit_case_change(
        tx,
        actor,
        row.id,
        reference,
        "case.consumer.correct",
        serde_json::json!({"version": row.version + 1, "consumer_id": consumer_id, "fields": fields}),
        row.timeline_seq,
        at,
        false,
    )
    .await?;
    Ok(row.id)
}

pub(crate) async fn load_consumer(tx: &mut dyn Tx, id: i64) -> Result<Consumer> {
    let r = tx.one(q::CONSUMER, args![id]).await?;
    let accounts = tx
        .query(q::CONSUMER_ACCOUNTS, args![id])
        .await?
        .iter()
        .map(|a| a.text("account_number"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Consumer {
        id: r.int("id")?,
        name: r.text("name")?,
        phone: r.opt_text("phone")?,
        email: r.opt_text("email")?,
        address: Address {
            line1: r.opt_text("address_line1")?,
            line2: r.opt_text("address_line2")?,
            city: r.opt_text("city")?,
            state: r.opt_text("state")?,
            zip: r.opt_text("zip")?,
        },
        preferred_language: word(&r.text("preferred_language")?)?,
        account_numbers: accounts,
        created_at: instant(r.int("created_at")?)?,
        merged_into: r.opt_int("merged_into")?,
    })
}

/// The fields of a chosen consumer record that an entry fills in (empty on file, given now),
/// with their new values; what is on file is never overwritten.
pub(crate) fn filled_in(
    on_file: &Consumer,
    given: &NewConsumer,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let pairs = [
        ("phone", &on_file.phone, &given.phone),
        ("email", &on_file.email, &given.email),
        (
            "address_line1",
            &on_file.address.line1,
            &given.address.line1,
        ),
        (
            "address_line2",
            &on_file.address.line2,
            &given.address.line2,
        ),
        ("city", &on_file.address.city, &given.address.city),
        ("state", &on_file.address.state, &given.address.state),
        ("zip", &on_file.address.zip, &given.address.zip),
    ];
    for (name, had, now) in pairs {
        if let (None, Some(v)) = (had, now) {
            out.insert(name.into(), serde_json::json!(v));
        }
    }
    if let Some(acct) = &given.account_number
        && !on_file.account_numbers.contains(acct)
    {
        out.insert("account_number".into(), serde_json::json!(acct));
    }
    out
}

/// Everything a consumer record holds, for the audit row of a merge.
fn consumer_values(c: &Consumer) -> serde_json::Value {
    serde_json::json!({
        "id": c.id, "name": c.name, "phone": c.phone, "email": c.email,
        "address": c.address, "preferred_language": c.preferred_language,
        "account_numbers": c.account_numbers,
    })
}

async fn merge_consumers(
    tx: &mut dyn Tx,
    actor: &Actor,
    from: i64,
    into: i64,
    at: Timestamp,
) -> Result<i64> {
    if from == into {
        return Err(StoreError::Duplicate(format!(
            "consumer {from} is the same record"
        )));
    }
    let merged = load_consumer(tx, from).await?;
    let kept = load_consumer(tx, into).await?;
    for c in [&merged, &kept] {
        if c.merged_into.is_some() {
            return Err(StoreError::ConsumerMerged(c.id));
        }
    }
    let done = tx
        .execute(q::MARK_CONSUMER_MERGED, args![from, into, micros(at)])
        .await?;
    if done == 0 {
        return Err(StoreError::ConsumerMerged(from));
    }
    let as_new = NewConsumer {
        name: merged.name.clone(),
        phone: merged.phone.clone(),
        email: merged.email.clone(),
        address: merged.address.clone(),
        preferred_language: Some(merged.preferred_language),
        account_number: None,
    };
    let a = &merged.address;
    tx.execute(
        q::ENRICH_CONSUMER,
        args![
            into,
            &as_new.phone,
            &as_new.email,
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.zip,
            kept.preferred_language.as_str(),
            micros(at)
        ],
    )
    .await?;
    tx.execute(q::COPY_CONSUMER_ACCOUNTS, args![from, into])
        .await?;
    let after = load_consumer(tx, into).await?;
    let moved = tx
        .query(q::MOVE_CONSUMER_CASES, args![from, into, micros(at)])
        .await?;
    let mut references = Vec::with_capacity(moved.len());
    for row in &moved {
        let (case_id, reference) = (row.int("id")?, row.text("reference")?);
        let data = serde_json::json!({
            "event": "consumer_merged", "from_consumer": from, "to_consumer": into,
            "version": row.int("version")?,
        });
        let since = tx
            .one(q::TIMELINE_LAST_SEQ, args![case_id])
            .await?
            .int("seq")?;
        let e = NewEntry {
            entry_type: EntryType::SystemEvent,
            body: format!("Consumer record {from} merged into record {into} (same person)"),
            visibility: Visibility::Internal,
            data: data.clone(),
            at,
            author_id: actor.user_id,
        };
        insert_entry(tx, case_id, &e).await?;
        audit_case_change(
            tx,
            actor,
            case_id,
            &reference,
            "case.consumer.merge",
            data,
            since,
            at,
            false,
        )
        .await?;
        references.push(reference);
    }
    let detail = serde_json::json!({
        "merged": consumer_values(&merged),
        "kept_before": consumer_values(&kept),
        "kept_after": consumer_values(&after),
        "cases_moved": references,
    })
    .to_string();
    for id in [from, into] {
        append_audit(
            tx,
            actor,
            &format!("consumer:{id}"),
            "consumer.merge",
            &format!("consumer:{from}->consumer:{into}"),
            &detail,
            at,
        )
        .await?;
    }
    Ok(into)
}

/// Consumers, for any engine.
#[async_trait]
impl<E: Engine> Consumers for E {
    async fn correct_consumer(
        &self,
        actor: &Actor,
        reference: &str,
        expected: i64,
        correction: &ConsumerCorrection,
        at: Timestamp,
    ) -> Result<Case> {
        let (actor, reference, correction) =
            (actor.clone(), reference.to_string(), correction.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id =
                    correct_consumer(tx, &actor, &reference, expected, &correction, at).await?;
                load_case(tx, id, true).await
            })
        }))
        .await
    }

    async fn find_consumers(&self, lookup: &ConsumerLookup, limit: i64) -> Result<Vec<Consumer>> {
        let lookup = lookup.clone();
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = match &lookup {
                    ConsumerLookup::Phone(p) => {
                        tx.query(q::CONSUMERS_BY_PHONE, args![p, limit]).await?
                    }
                    ConsumerLookup::Email(e) => {
                        tx.query(q::CONSUMERS_BY_EMAIL, args![e, limit]).await?
                    }
                    ConsumerLookup::Account(a) => {
                        tx.query(q::CONSUMERS_BY_ACCOUNT, args![a, limit]).await?
                    }
                };
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(load_consumer(tx, r.int("id")?).await?);
                }
                Ok(out)
            })
        }))
        .await
    }

    async fn view_consumer(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<Consumer> {
        let c = self
            .read(job(move |tx| {
                Box::pin(async move { load_consumer(tx, id).await })
            }))
            .await?;
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                append_audit(
                    tx,
                    &actor,
                    &format!("consumer:{id}"),
                    "consumer.view",
                    &format!("consumer:{id}"),
                    "{}",
                    at,
                )
                .await
            })
        }))
        .await?;
        Ok(c)
    }

    async fn consumer(&self, id: i64) -> Result<Consumer> {
        self.read(job(move |tx| {
            Box::pin(async move { load_consumer(tx, id).await })
        }))
        .await
    }

    async fn consumer_duplicates(
        &self,
        actor: &Actor,
        id: i64,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<Consumer>> {
        let found = self
            .read(job(move |tx| {
                Box::pin(async move {
                    load_consumer(tx, id).await?;
                    let rows = tx.query(q::CONSUMER_DUPLICATES, args![id, limit]).await?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in rows {
                        out.push(load_consumer(tx, r.int("id")?).await?);
                    }
                    Ok(out)
                })
            }))
            .await?;
        if found.is_empty() {
            return Ok(found);
        }
        let actor = actor.clone();
        let detail =
            serde_json::json!({"duplicates": found.iter().map(|c| c.id).collect::<Vec<_>>()})
                .to_string();
        self.write(job(move |tx| {
            Box::pin(async move {
                append_audit(
                    tx,
                    &actor,
                    &format!("consumer:{id}"),
                    "consumer.duplicates.view",
                    &format!("consumer:{id}"),
                    &detail,
                    at,
                )
                .await
            })
        }))
        .await?;
        Ok(found)
    }

    async fn merge_consumers(
        &self,
        actor: &Actor,
        from: i64,
        into: i64,
        at: Timestamp,
    ) -> Result<Consumer> {
        let actor = actor.clone();
        let id = self
            .write(job(move |tx| {
                Box::pin(async move { merge_consumers(tx, &actor, from, into, at).await })
            }))
            .await?;
        self.consumer(id).await
    }
}
