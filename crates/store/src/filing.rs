//! Filing an import's batch as a set. The cases an import files are all alike: a new consumer
//! each, no clocks to start, no mail to claim, a source key. So instead of some twenty
//! statements a case, the whole batch takes a dozen: which keys were imported before, the ids
//! and reference numbers in blocks, then the rows of each table (see `FILE_CONSUMERS_SQLITE`
//! for how), and the audit rows (each exactly the `case.create` row the case-by-case path
//! writes, its digests computed from the values filed rather than read back: 2.3 s of 22.6 at
//! 100,000 cases went on reading them back).

use crate::audit::{FiledCase, audit_new_cases, filed_row_digest};
use crate::cases::{NewCase, created_detail, opened_entry};
use crate::queries as q;
use crate::rows::micros;
use crate::tx::{Arg, Tx, args, insert_rows, insert_set};
use crate::{Actor, Result, StoreError};
use redress_domain::audit::{EntryContent, entry_digest};
use redress_domain::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// A value as the audit's digests read it back: numbers in decimal, `None` for NULL.
fn as_text(a: &Arg) -> Option<String> {
    match a {
        Arg::Int(v) => v.map(|i| i.to_string()),
        Arg::Text(t) => t.clone(),
        Arg::Bool(b) => b.map(|b| b.to_string()),
    }
}

/// Whether a case can be filed with its batch as a set.
pub(crate) fn fits(c: &NewCase) -> bool {
    c.consumer_id.is_none()
        && c.inbound_mail.is_none()
        && c.opening.is_empty()
        && c.source.is_some()
}

/// `count` new ids for a table: taken from PostgreSQL's sequence (other nodes may take ids in
/// between), or after the last one in use on SQLite, whose one writer holds this transaction.
async fn new_ids(
    tx: &mut dyn Tx,
    last_sqlite: &'static str,
    new_postgres: &'static str,
    count: usize,
) -> Result<Vec<i64>> {
    let n = i64::try_from(count).map_err(|_| StoreError::Corrupt("batch too large".into()))?;
    if tx.is_postgres() {
        let ids = tx
            .query(new_postgres, args![n])
            .await?
            .iter()
            .map(|r| r.int("id"))
            .collect::<Result<Vec<_>>>()?;
        if ids.len() != count {
            return Err(StoreError::Corrupt(
                "the id sequence gave too few ids".into(),
            ));
        }
        Ok(ids)
    } else {
        let last = tx.one(last_sqlite, args![]).await?.int("id")?;
        Ok((last + 1..=last + n).collect())
    }
}

/// Files the batch; for each case, whether it was added (`false`: its source key was imported
/// before, or came earlier in this batch), and the ids of the cases added.
pub(crate) async fn file_batch(
    tx: &mut dyn Tx,
    actor: &Actor,
    cases: &[NewCase],
) -> Result<(Vec<bool>, Vec<i64>)> {
    let pg = tx.is_postgres();
    let sql = |sqlite: &'static str, postgres: &'static str| if pg { postgres } else { sqlite };
    let keys: Vec<Value> = cases
        .iter()
        .filter_map(|c| c.source.as_ref())
        .map(|s| json!([s.source, s.external_id]))
        .collect();
    let mut seen = HashSet::new();
    for r in tx
        .query(
            sql(q::SOURCES_FOUND_SQLITE, q::SOURCES_FOUND_POSTGRES),
            args![Value::from(keys).to_string()],
        )
        .await?
    {
        seen.insert((r.text("source")?, r.text("external_id")?));
    }
    let mut added = Vec::with_capacity(cases.len());
    let mut new = Vec::with_capacity(cases.len());
    for c in cases {
        let key = c
            .source
            .as_ref()
            .map(|s| (s.source.clone(), s.external_id.clone()))
            .ok_or_else(|| StoreError::Corrupt("a batch case without a source".into()))?;
        let fresh = seen.insert(key);
        if fresh {
            new.push(c);
        }
        added.push(fresh);
    }
    if new.is_empty() {
        return Ok((added, Vec::new()));
    }
    let consumer_ids = new_ids(
        tx,
        q::LAST_CONSUMER_ID_SQLITE,
        q::NEW_CONSUMER_IDS_POSTGRES,
        new.len(),
    )
    .await?;
    let case_ids = new_ids(
        tx,
        q::LAST_CASE_ID_SQLITE,
        q::NEW_CASE_IDS_POSTGRES,
        new.len(),
    )
    .await?;
    // Reference numbers: a block per office and year, handed out in the batch's order.
    let mut wanted: BTreeMap<(String, i16), i64> = BTreeMap::new();
    for c in &new {
        *wanted.entry((c.office.clone(), c.year)).or_default() += 1;
    }
    let mut next = BTreeMap::new();
    for ((office, year), count) in wanted {
        let last = tx.next_references(&office, i64::from(year), count).await?;
        next.insert((office, year), last - count + 1);
    }
    let (mut consumers, mut accounts, mut rows, mut sources, mut entries, mut filed) = (
        Vec::with_capacity(new.len()),
        Vec::new(),
        Vec::with_capacity(new.len()),
        Vec::with_capacity(new.len()),
        Vec::with_capacity(new.len() * 12),
        Vec::with_capacity(new.len()),
    );
    for ((c, consumer_id), case_id) in new.iter().zip(&consumer_ids).zip(&case_ids) {
        let seq = next
            .get_mut(&(c.office.clone(), c.year))
            .ok_or_else(|| StoreError::Corrupt("no reference block".into()))?;
        let number = u32::try_from(*seq)
            .map_err(|_| StoreError::Corrupt("reference sequence overflow".into()))?;
        *seq += 1;
        let reference = Reference::new(&c.office, c.year, number)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .to_string();
        let at = micros(c.opened_at);
        let p = &c.consumer;
        let a = &p.address;
        consumers.push(args![
            *consumer_id,
            p.name.as_str(),
            &p.phone,
            &p.email,
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.zip,
            p.preferred_language.unwrap_or(Language::En).as_str(),
            at
        ]);
        if let Some(acct) = &p.account_number {
            accounts.push(args![*consumer_id, acct]);
        }
        let row = args![
            *case_id,
            reference.as_str(),
            c.office.as_str(),
            c.kind.as_str(),
            c.channel.as_str(),
            c.status.as_str(),
            c.priority.as_str(),
            flags_to_text(&c.flags),
            c.category_id,
            *consumer_id,
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
            c.publish_consent
        ];
        // The row's audited columns, in the audit's order (positions in `row` above).
        let text = |i: usize| row.get(i).and_then(as_text);
        let audited = [
            text(0),
            text(1),
            text(2),
            text(3),
            text(4),
            text(5),
            text(19),
            text(6),
            text(7),
            text(8),
            text(9),
            text(10),
            text(11),
            text(12),
            text(13),
            text(14),
            text(15),
            None,
            text(16),
            text(17),
            text(18),
            Some("1".to_string()),
        ];
        let row_digest = filed_row_digest(audited);
        rows.push(row);
        if let Some(s) = &c.source {
            sources.push(args![
                s.source.as_str(),
                s.external_id.as_str(),
                *case_id,
                at
            ]);
        }
        let mut digests = serde_json::Map::new();
        for (seq, e) in
            (1i64..).zip(std::iter::once(opened_entry(c, actor)).chain(c.history.iter().cloned()))
        {
            let data = e.data.to_string();
            let digest = entry_digest(&EntryContent {
                case_id: *case_id,
                seq,
                entry_type: e.entry_type.as_str(),
                body: &e.body,
                visibility: e.visibility.as_str(),
                data: &data,
                author_id: e.author_id,
                at_micros: micros(e.at),
            });
            digests.insert(seq.to_string(), digest.into());
            entries.push(args![
                *case_id,
                seq,
                e.entry_type.as_str(),
                e.body,
                e.visibility.as_str(),
                data,
                e.author_id,
                micros(e.at)
            ]);
        }
        filed.push(FiledCase {
            reference,
            detail: created_detail(c, *consumer_id),
            at: c.opened_at,
            entries: digests,
            row: row_digest,
        });
    }
    insert_rows(
        tx,
        [q::FILE_CONSUMERS_SQLITE, q::FILE_CONSUMERS_POSTGRES],
        consumers,
    )
    .await?;
    insert_rows(
        tx,
        [q::FILE_ACCOUNTS_SQLITE, q::FILE_ACCOUNTS_POSTGRES],
        accounts,
    )
    .await?;
    insert_set(tx, [q::FILE_CASES_SQLITE, q::FILE_CASES_POSTGRES], rows).await?;
    insert_rows(
        tx,
        [q::FILE_SOURCES_SQLITE, q::FILE_SOURCES_POSTGRES],
        sources,
    )
    .await?;
    insert_set(
        tx,
        [q::FILE_ENTRIES_SQLITE, q::FILE_ENTRIES_POSTGRES],
        entries,
    )
    .await?;
    audit_new_cases(tx, actor, filed).await?;
    Ok((added, case_ids))
}
