//! The audit log. Every change appends a row to a hash chain (`case:REF`, `user:NAME`,
//! `consumer:ID`, `reference`, `jobs`) in the transaction that makes it; a case's rows also
//! carry digests of its timeline entries and of its row. The verifier walks every chain and
//! compares each case with what its chain recorded.

use crate::queries as q;
use crate::rows::{instant, micros};
use crate::tx::{Engine, Row, Tx, args, insert_rows, job};
use crate::{Actor, ChainHead, Result};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::audit::{AuditContent, GENESIS, chain_hash};
use redress_domain::records::AuditRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    Intact {
        rows: i64,
        chains: i64,
    },
    Broken {
        row_id: i64,
        chain: String,
        seq: i64,
        reason: String,
    },
}

/// The audit log: rows appended outside other changes, reads by subject, and the verifier.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one audit row outside any other change (logins, list views, exports).
    async fn audit(
        &self,
        actor: &Actor,
        chain: &str,
        action: &str,
        subject: &str,
        detail: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn audit_for_subject(&self, subject: &str, limit: i64) -> Result<Vec<AuditRecord>>;
    /// One page of a subject's trail, newest first (`limit` rows from `offset`), and how many
    /// rows the trail has in all.
    async fn audit_page_for_subject(
        &self,
        subject: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditRecord>, i64)>;
    /// Recomputes every chain; compares each case's timeline and row with the digests its
    /// chain recorded; names the first break.
    async fn verify_audit(&self) -> Result<AuditVerdict>;
    /// `verify_audit`, and every chain a checkpoint recorded must still reach the recorded
    /// position with the recorded hash (a truncated or recomputed chain does not).
    async fn verify_audit_against(&self, checkpoint: &[ChainHead]) -> Result<AuditVerdict>;
    /// Every chain's head, read at one instant (for a checkpoint).
    async fn audit_heads(&self) -> Result<Vec<ChainHead>>;
}

fn audit_from(r: &AuditRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.id,
        chain: r.chain.clone(),
        seq: r.seq,
        at: instant(r.at)?,
        actor: r.actor.clone(),
        action: r.action.clone(),
        subject: r.subject.clone(),
        detail: r.detail.clone(),
        hash: r.hash.clone(),
    })
}

pub(crate) struct AuditRow {
    pub id: i64,
    pub chain: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn from_row(r: &Row) -> Result<AuditRow> {
        Ok(AuditRow {
            id: r.int("id")?,
            chain: r.text("chain")?,
            seq: r.int("seq")?,
            at: r.int("at")?,
            actor: r.text("actor")?,
            action: r.text("action")?,
            subject: r.text("subject")?,
            detail: r.text("detail")?,
            prev_hash: r.text("prev_hash")?,
            hash: r.text("hash")?,
        })
    }
}

/// Appends a row to a chain, taking the chain head's lock until commit.
pub(crate) async fn append_audit(
    tx: &mut dyn Tx,
    actor: &Actor,
    chain: &str,
    action: &str,
    subject: &str,
    detail: &str,
    at: Timestamp,
) -> Result<()> {
    tx.execute(q::ENSURE_CHAIN, args![chain, GENESIS]).await?;
    let head = tx.one(q::ADVANCE_CHAIN, args![chain]).await?;
    let (seq, prev) = (head.int("seq")?, head.text("hash")?);
    write_audit_row(
        tx, actor, chain, seq, &prev, action, subject, detail, at, false,
    )
    .await
}

/// The first row of a new chain (a case being created).
async fn start_chain(
    tx: &mut dyn Tx,
    actor: &Actor,
    chain: &str,
    action: &str,
    subject: &str,
    detail: &str,
    at: Timestamp,
) -> Result<()> {
    write_audit_row(
        tx, actor, chain, 1, GENESIS, action, subject, detail, at, true,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn write_audit_row(
    tx: &mut dyn Tx,
    actor: &Actor,
    chain: &str,
    seq: i64,
    prev: &str,
    action: &str,
    subject: &str,
    detail: &str,
    at: Timestamp,
    new_chain: bool,
) -> Result<()> {
    let at = micros(at);
    let content = AuditContent {
        chain,
        seq,
        at_micros: at,
        actor: &actor.username,
        action,
        subject,
        detail,
    };
    let hash = chain_hash(prev, &content);
    if new_chain {
        tx.execute(q::NEW_CHAIN, args![chain, hash.as_str()])
            .await?;
    } else {
        tx.execute(q::SET_CHAIN_HASH, args![chain, hash.as_str()])
            .await?;
    }
    tx.execute(
        q::INSERT_AUDIT,
        args![
            chain,
            seq,
            at,
            actor.username.as_str(),
            action,
            subject,
            detail,
            prev,
            hash
        ],
    )
    .await?;
    Ok(())
}

/// The columns of a case row that its audit rows' digest covers, in order (all but
/// `updated_at`, which merely touching a case moves).
const CASE_AUDITED_COLUMNS: [&str; 22] = [
    "id",
    "reference",
    "office",
    "kind",
    "channel",
    "status",
    "stage",
    "priority",
    "flags",
    "category_id",
    "consumer_id",
    "company_id",
    "account_number",
    "amount_cents",
    "description",
    "unit_id",
    "assignee_id",
    "merged_into_id",
    "opened_at",
    "closed_at",
    "created_by",
    "version",
];

/// The digest of a case row (a row of `CASE_AUDITED`) and the short digest of each column.
fn case_row_digest(r: &Row) -> Result<(String, Vec<(String, String)>)> {
    let values = CASE_AUDITED_COLUMNS
        .iter()
        .map(|c| r.as_text(c))
        .collect::<Result<Vec<_>>>()?;
    let fields: Vec<redress_domain::audit::CaseField<'_>> = CASE_AUDITED_COLUMNS
        .iter()
        .zip(&values)
        .map(|(n, v)| (*n, v.as_deref()))
        .collect();
    Ok(redress_domain::audit::case_digest(&fields))
}

/// The position and digest of a timeline entry (a row of `TIMELINE_SINCE`).
fn entry_row_digest(r: &Row) -> Result<(i64, String)> {
    let (entry_type, body, visibility, data) = (
        r.text("entry_type")?,
        r.text("body")?,
        r.text("visibility")?,
        r.text("data")?,
    );
    let seq = r.int("seq")?;
    let digest = redress_domain::audit::entry_digest(&redress_domain::audit::EntryContent {
        case_id: r.int("case_id")?,
        seq,
        entry_type: &entry_type,
        body: &body,
        visibility: &visibility,
        data: &data,
        author_id: r.opt_int("author_id")?,
        at_micros: r.int("at")?,
    });
    Ok((seq, digest))
}

/// Adds to a case's audit detail the digests `verify` compares with: each timeline entry's
/// (`timeline`: position → digest) and the case row's (`case_row`).
fn add_digests(
    detail: &mut serde_json::Value,
    entries: serde_json::Map<String, serde_json::Value>,
    (digest, fields): (String, Vec<(String, String)>),
) {
    let fields: serde_json::Map<String, serde_json::Value> =
        fields.into_iter().map(|(k, v)| (k, v.into())).collect();
    if let Some(d) = detail.as_object_mut() {
        d.insert("timeline".into(), entries.into());
        d.insert(
            "case_row".into(),
            serde_json::json!({"sha256": digest, "fields": fields}),
        );
    }
}

/// Appends the audit row of a change to a case. Its detail gains the digest of every
/// timeline entry written after position `since` (`timeline`: position → digest) and of the
/// case row as the change leaves it (`case_row`), so that `verify` can tell an entry or a
/// case edited in the database from what was audited. `new_chain` starts the case's chain.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit_case_change(
    tx: &mut dyn Tx,
    actor: &Actor,
    case_id: i64,
    reference: &str,
    action: &str,
    mut detail: serde_json::Value,
    since: i64,
    at: Timestamp,
    new_chain: bool,
) -> Result<()> {
    let mut entries = serde_json::Map::new();
    for r in tx.query(q::TIMELINE_SINCE, args![case_id, since]).await? {
        let (seq, digest) = entry_row_digest(&r)?;
        entries.insert(seq.to_string(), digest.into());
    }
    let row = case_row_digest(&tx.one(q::CASE_AUDITED, args![case_id]).await?)?;
    add_digests(&mut detail, entries, row);
    let (chain, detail) = (format!("case:{reference}"), detail.to_string());
    if new_chain {
        start_chain(tx, actor, &chain, action, reference, &detail, at).await
    } else {
        append_audit(tx, actor, &chain, action, reference, &detail, at).await
    }
}

/// A case just filed by a batch, for [`audit_new_cases`].
pub(crate) struct FiledCase {
    pub reference: String,
    pub detail: serde_json::Value,
    pub at: Timestamp,
    /// The digest of each of its timeline entries (position → digest).
    pub entries: serde_json::Map<String, serde_json::Value>,
    /// The digest of its row and the short digest of each column.
    pub row: (String, Vec<(String, String)>),
}

/// The digest of a case row from the values it is filed with, column by column in the order of
/// `CASE_AUDITED_COLUMNS` (the same digest as [`case_row_digest`] of the row they make: numbers
/// in decimal, `None` for NULL).
pub(crate) fn filed_row_digest(
    values: [Option<String>; CASE_AUDITED_COLUMNS.len()],
) -> (String, Vec<(String, String)>) {
    let fields: Vec<redress_domain::audit::CaseField<'_>> = CASE_AUDITED_COLUMNS
        .iter()
        .zip(&values)
        .map(|(n, v)| (*n, v.as_deref()))
        .collect();
    redress_domain::audit::case_digest(&fields)
}

/// Starts the chain of each case a batch filed with one `case.create` row apiece, exactly as
/// [`audit_case_change`] would for each (the digests of its entries and of its row, computed
/// from the values filed rather than read back), in two statements for the whole batch.
pub(crate) async fn audit_new_cases(
    tx: &mut dyn Tx,
    actor: &Actor,
    filed: Vec<FiledCase>,
) -> Result<()> {
    if filed.is_empty() {
        return Ok(());
    }
    let (mut chains, mut log) = (
        Vec::with_capacity(filed.len()),
        Vec::with_capacity(filed.len()),
    );
    for f in filed {
        let mut detail = f.detail;
        add_digests(&mut detail, f.entries, f.row);
        let (chain, detail, at) = (
            format!("case:{}", f.reference),
            detail.to_string(),
            micros(f.at),
        );
        let hash = chain_hash(
            GENESIS,
            &AuditContent {
                chain: &chain,
                seq: 1,
                at_micros: at,
                actor: &actor.username,
                action: "case.create",
                subject: &f.reference,
                detail: &detail,
            },
        );
        chains.push(args![chain.as_str(), hash.as_str()]);
        log.push(args![
            chain,
            1i64,
            at,
            actor.username.as_str(),
            "case.create",
            f.reference,
            detail,
            GENESIS,
            hash
        ]);
    }
    insert_rows(tx, [q::NEW_CHAINS_SQLITE, q::NEW_CHAINS_POSTGRES], chains).await?;
    insert_rows(tx, [q::FILE_AUDIT_SQLITE, q::FILE_AUDIT_POSTGRES], log).await
}

/// What a case's chain says about the case: the digest of each timeline entry it covers
/// (position → digest, and the audit row that recorded it) and the last digest of the case row.
struct CaseTrail {
    reference: String,
    entries: std::collections::BTreeMap<i64, (String, i64, i64)>,
    row: Option<AuditedCase>,
    /// A position covered by two different digests, with the second row.
    conflict: Option<(i64, i64, i64)>,
    /// The first audited change whose case row differs from the state before it in columns its
    /// action never changes: (row id, position, previous position, action, columns).
    unexplained: Option<(i64, i64, i64, String, Vec<String>)>,
}

/// The case columns an audited action may change (besides none); `None` for actions this
/// version does not know, which are not second-guessed.
fn columns_changed_by(action: &str) -> Option<&'static [&'static str]> {
    Some(match action {
        "case.update" => &[
            "priority",
            "flags",
            "description",
            "category_id",
            "company_id",
            "account_number",
            "amount_cents",
            "version",
        ],
        "case.assign" => &["unit_id", "assignee_id", "version"],
        "case.transition" => &["status", "stage", "closed_at", "priority", "version"],
        "case.merge" => &["status", "closed_at", "merged_into_id", "version"],
        "case.consumer.merge" => &["consumer_id", "version"],
        "case.escalate" | "case.deadline_warning" => {
            &["priority", "unit_id", "assignee_id", "version"]
        }
        "case.link" | "case.timeline.add" | "case.attachment.add" | "case.reminder" => &[],
        _ => return None,
    })
}

/// The last state of a case row its chain recorded.
struct AuditedCase {
    digest: String,
    /// The short digest of each column.
    fields: Vec<(String, String)>,
    /// The audit row that recorded it, and its position.
    row_id: i64,
    seq: i64,
}

impl CaseTrail {
    fn new(reference: &str) -> CaseTrail {
        CaseTrail {
            reference: reference.to_string(),
            entries: Default::default(),
            row: None,
            conflict: None,
            unexplained: None,
        }
    }

    /// Reads the digests an audit row carries (rows written before digests existed carry none).
    fn record(&mut self, r: &AuditRow) {
        if !r.detail.contains("\"case_row\"") {
            return;
        }
        let Ok(detail) = serde_json::from_str::<serde_json::Value>(&r.detail) else {
            return;
        };
        if let Some(entries) = detail["timeline"].as_object() {
            for (seq, digest) in entries {
                let (Ok(seq), Some(digest)) = (seq.parse::<i64>(), digest.as_str()) else {
                    continue;
                };
                match self.entries.get(&seq) {
                    Some((d, ..)) if d != digest => {
                        self.conflict.get_or_insert((seq, r.id, r.seq));
                    }
                    Some(_) => {}
                    None => {
                        self.entries.insert(seq, (digest.to_string(), r.id, r.seq));
                    }
                }
            }
        }
        if let Some(digest) = detail["case_row"]["sha256"].as_str() {
            let fields: Vec<(String, String)> = detail["case_row"]["fields"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            if let (Some(prev), Some(allowed), None) =
                (&self.row, columns_changed_by(&r.action), &self.unexplained)
            {
                let odd: Vec<String> = fields
                    .iter()
                    .filter(|(name, short)| {
                        !allowed.contains(&name.as_str())
                            && prev
                                .fields
                                .iter()
                                .find(|(n, _)| n == name)
                                .is_some_and(|(_, s)| s != short)
                    })
                    .map(|(name, _)| name.clone())
                    .collect();
                if !odd.is_empty() {
                    self.unexplained = Some((r.id, r.seq, prev.seq, r.action.clone(), odd));
                }
            }
            self.row = Some(AuditedCase {
                digest: digest.to_string(),
                fields,
                row_id: r.id,
                seq: r.seq,
            });
        }
    }
}

/// Compares a case's timeline and row in the database with the digests its chain recorded.
async fn check_case(tx: &mut dyn Tx, trail: CaseTrail) -> Result<Option<AuditVerdict>> {
    let chain = format!("case:{}", trail.reference);
    let broken = |row_id: i64, seq: i64, reason: String| {
        Some(AuditVerdict::Broken {
            row_id,
            chain: chain.clone(),
            seq,
            reason,
        })
    };
    if let Some((entry, row_id, seq)) = trail.conflict {
        return Ok(broken(
            row_id,
            seq,
            format!("timeline entry {entry} was audited twice with different contents"),
        ));
    }
    if let Some((row_id, seq, before, action, columns)) = trail.unexplained {
        return Ok(broken(
            row_id,
            seq,
            format!(
                "case {} changed in: {} between the states audited at positions {before} and {seq}, which {action} does not change (edited in the database before that change?)",
                trail.reference,
                columns.join(", ")
            ),
        ));
    }
    let Some(AuditedCase {
        digest: expected,
        fields,
        row_id,
        seq,
    }) = trail.row
    else {
        // A case last changed before digests were recorded: only its chain can be checked.
        return Ok(None);
    };
    let Some(case) = tx
        .optional(
            q::CASE_AUDITED_BY_REFERENCE,
            args![trail.reference.as_str()],
        )
        .await?
    else {
        return Ok(broken(
            row_id,
            seq,
            format!(
                "case {} has an audit chain but no case row (deleted in the database?)",
                trail.reference
            ),
        ));
    };
    let (digest, now) = case_row_digest(&case)?;
    if digest != expected {
        let differ: Vec<&str> = now
            .iter()
            .filter(|(name, short)| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .is_none_or(|(_, s)| s != short)
            })
            .map(|(name, _)| name.as_str())
            .collect();
        return Ok(broken(
            row_id,
            seq,
            format!(
                "case {} differs from its state audited at position {seq} in: {} (edited in the database?)",
                trail.reference,
                if differ.is_empty() {
                    "its columns".to_string()
                } else {
                    differ.join(", ")
                }
            ),
        ));
    }
    // Entries before the first one audited with a digest were written before digests existed.
    let first = trail.entries.keys().next().copied().unwrap_or(i64::MAX);
    let mut seen = std::collections::BTreeSet::new();
    for r in tx
        .query(q::TIMELINE_SINCE, args![case.int("id")?, 0i64])
        .await?
    {
        let (entry, digest) = entry_row_digest(&r)?;
        seen.insert(entry);
        match trail.entries.get(&entry) {
            Some((d, row_id, seq)) if *d != digest => {
                return Ok(broken(
                    *row_id,
                    *seq,
                    format!(
                        "timeline entry {entry} of {} ({}) does not match the digest audited at position {seq} (edited in the database?)",
                        trail.reference,
                        r.text("entry_type")?
                    ),
                ));
            }
            Some(_) => {}
            None if entry >= first => {
                return Ok(broken(
                    row_id,
                    seq,
                    format!(
                        "timeline entry {entry} of {} was never audited (added in the database?)",
                        trail.reference
                    ),
                ));
            }
            None => {}
        }
    }
    if let Some((entry, (_, row_id, seq))) = trail.entries.iter().find(|(e, _)| !seen.contains(e)) {
        return Ok(broken(
            *row_id,
            *seq,
            format!(
                "timeline entry {entry} of {} is missing (deleted in the database?)",
                trail.reference
            ),
        ));
    }
    Ok(None)
}

/// Checks audit rows in chain order; reports the first break.
pub(crate) struct ChainWalker {
    chain: String,
    seq: i64,
    hash: String,
    rows: i64,
    chains: i64,
    heads: std::collections::HashMap<String, (i64, String)>,
    /// Heads recorded in a checkpoint: each chain must still reach its position with its hash.
    anchors: std::collections::HashMap<String, (i64, String)>,
    /// What the current chain says about its case, when it is a case's chain.
    trail: Option<CaseTrail>,
}

impl ChainWalker {
    fn new(
        heads: std::collections::HashMap<String, (i64, String)>,
        anchors: std::collections::HashMap<String, (i64, String)>,
    ) -> ChainWalker {
        ChainWalker {
            chain: String::new(),
            seq: 0,
            hash: GENESIS.into(),
            rows: 0,
            chains: 0,
            heads,
            anchors,
            trail: None,
        }
    }

    fn broken(r: &AuditRow, reason: String) -> AuditVerdict {
        AuditVerdict::Broken {
            row_id: r.id,
            chain: r.chain.clone(),
            seq: r.seq,
            reason,
        }
    }

    fn close_chain(&mut self) -> Option<AuditVerdict> {
        if self.chain.is_empty() {
            return None;
        }
        if let Some((seq, _)) = self.anchors.remove(&self.chain)
            && seq > self.seq
        {
            return Some(AuditVerdict::Broken {
                row_id: 0,
                chain: self.chain.clone(),
                seq: self.seq,
                reason: format!(
                    "the chain ends at position {} but the checkpoint recorded position {seq} (rows removed: the chain was truncated)",
                    self.seq
                ),
            });
        }
        match self.heads.get(&self.chain) {
            Some((seq, hash)) if *seq == self.seq && *hash == self.hash => None,
            _ => Some(AuditVerdict::Broken {
                row_id: 0,
                chain: self.chain.clone(),
                seq: self.seq,
                reason: "the chain's recorded head does not match its last row (rows removed?)"
                    .into(),
            }),
        }
    }

    fn step(&mut self, r: &AuditRow) -> Option<AuditVerdict> {
        if r.chain != self.chain {
            if let Some(v) = self.close_chain() {
                return Some(v);
            }
            self.chain = r.chain.clone();
            self.seq = 0;
            self.hash = GENESIS.into();
            self.chains += 1;
            self.trail = r.chain.strip_prefix("case:").map(CaseTrail::new);
        }
        if r.seq != self.seq + 1 {
            return Some(Self::broken(
                r,
                format!("expected position {}, found {}", self.seq + 1, r.seq),
            ));
        }
        if r.prev_hash != self.hash {
            return Some(Self::broken(
                r,
                "previous-hash link does not match the row before it".into(),
            ));
        }
        let content = AuditContent {
            chain: &r.chain,
            seq: r.seq,
            at_micros: r.at,
            actor: &r.actor,
            action: &r.action,
            subject: &r.subject,
            detail: &r.detail,
        };
        if chain_hash(&r.prev_hash, &content) != r.hash {
            return Some(Self::broken(
                r,
                "content does not match its hash (row edited)".into(),
            ));
        }
        if let Some((seq, hash)) = self.anchors.get(&r.chain)
            && *seq == r.seq
            && *hash != r.hash
        {
            return Some(Self::broken(
                r,
                "the row's hash differs from the one the checkpoint recorded (the chain was rewritten and recomputed at or before this position)".into(),
            ));
        }
        if let Some(t) = &mut self.trail {
            t.record(r);
        }
        self.seq = r.seq;
        self.hash = r.hash.clone();
        self.rows += 1;
        None
    }

    fn finish(&mut self) -> Option<AuditVerdict> {
        if let Some(v) = self.close_chain() {
            return Some(v);
        }
        if self.heads.len() as i64 != self.chains {
            return Some(AuditVerdict::Broken {
                row_id: 0,
                chain: String::new(),
                seq: 0,
                reason: format!(
                    "{} chain heads recorded but {} chains have rows",
                    self.heads.len(),
                    self.chains
                ),
            });
        }
        let mut missing: Vec<(&String, &(i64, String))> = self.anchors.iter().collect();
        missing.sort();
        if let Some((chain, (seq, _))) = missing.first() {
            return Some(AuditVerdict::Broken {
                row_id: 0,
                chain: chain.to_string(),
                seq: *seq,
                reason: format!(
                    "the checkpoint recorded this chain at position {seq} but it has no rows (removed)"
                ),
            });
        }
        None
    }
}

/// Walks every chain (checking positions, links, hashes and heads, and any checkpoint
/// `anchors`), compares each case's timeline and row with the digests its chain recorded, and
/// checks that every case has a chain.
async fn verify_audit(
    tx: &mut dyn Tx,
    anchors: std::collections::HashMap<String, (i64, String)>,
) -> Result<AuditVerdict> {
    let mut heads = std::collections::HashMap::new();
    for h in tx.query(q::AUDIT_HEADS, args![]).await? {
        heads.insert(h.text("chain")?, (h.int("seq")?, h.text("hash")?));
    }
    let mut walker = ChainWalker::new(heads, anchors);
    let (mut chain, mut seq) = (String::new(), 0i64);
    loop {
        let rows = tx
            .query(q::AUDIT_PAGE, args![chain.as_str(), seq, 5000i64])
            .await?;
        let Some(last) = rows.last() else { break };
        (chain, seq) = (last.text("chain")?, last.int("seq")?);
        for r in &rows {
            let row = AuditRow::from_row(r)?;
            if row.chain != walker.chain
                && let Some(trail) = walker.trail.take()
                && let Some(v) = check_case(tx, trail).await?
            {
                return Ok(v);
            }
            if let Some(v) = walker.step(&row) {
                return Ok(v);
            }
        }
    }
    if let Some(trail) = walker.trail.take()
        && let Some(v) = check_case(tx, trail).await?
    {
        return Ok(v);
    }
    if let Some(v) = walker.finish() {
        return Ok(v);
    }
    if let Some(r) = tx.optional(q::CASES_WITHOUT_CHAIN, args![]).await? {
        return Ok(AuditVerdict::Broken {
            row_id: 0,
            chain: format!("case:{}", r.text("reference")?),
            seq: 0,
            reason: "case has no audit chain (rows removed?)".into(),
        });
    }
    Ok(AuditVerdict::Intact {
        rows: walker.rows,
        chains: walker.chains,
    })
}

/// The audit log, for any engine.
#[async_trait]
impl<E: Engine> AuditLog for E {
    async fn audit(
        &self,
        actor: &Actor,
        chain: &str,
        action: &str,
        subject: &str,
        detail: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, chain, action, subject, detail) = (
            actor.clone(),
            chain.to_string(),
            action.to_string(),
            subject.to_string(),
            detail.to_string(),
        );
        self.write(job(move |tx| {
            Box::pin(async move {
                append_audit(tx, &actor, &chain, &action, &subject, &detail, at).await
            })
        }))
        .await
    }

    async fn audit_page_for_subject(
        &self,
        subject: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditRecord>, i64)> {
        let subject = subject.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(
                        q::AUDIT_FOR_SUBJECT_PAGE,
                        args![subject, limit, offset.max(0)],
                    )
                    .await?;
                let total = match rows.first() {
                    Some(r) => r.int("total")?,
                    None => 0,
                };
                let records = rows
                    .iter()
                    .map(|r| audit_from(&AuditRow::from_row(r)?))
                    .collect::<Result<Vec<_>>>()?;
                Ok((records, total))
            })
        }))
        .await
    }

    async fn audit_for_subject(&self, subject: &str, limit: i64) -> Result<Vec<AuditRecord>> {
        let subject = subject.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::AUDIT_FOR_SUBJECT, args![subject, limit])
                    .await?
                    .iter()
                    .map(|r| audit_from(&AuditRow::from_row(r)?))
                    .collect()
            })
        }))
        .await
    }

    async fn verify_audit(&self) -> Result<AuditVerdict> {
        self.read(job(|tx| {
            Box::pin(async move { verify_audit(tx, Default::default()).await })
        }))
        .await
    }

    async fn verify_audit_against(&self, checkpoint: &[ChainHead]) -> Result<AuditVerdict> {
        let anchors = checkpoint
            .iter()
            .map(|h| (h.chain.clone(), (h.seq, h.hash.clone())))
            .collect();
        self.read(job(move |tx| {
            Box::pin(async move { verify_audit(tx, anchors).await })
        }))
        .await
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::AUDIT_HEADS, args![])
                    .await?
                    .iter()
                    .map(|h| {
                        Ok(ChainHead {
                            chain: h.text("chain")?,
                            seq: h.int("seq")?,
                            hash: h.text("hash")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }
}
