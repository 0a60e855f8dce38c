//! Incoming mail: each message is claimed once by its `Message-ID` (so that a second copy,
//! another node or a retry after a crash never takes it twice), then settled in one
//! transaction with everything it causes: its timeline entries and attachments on a case, the
//! answers it calls for in the outbox, the outgoing message it reports as bounced, and what
//! became of it. Unmatched and quarantined messages wait for a person.

use crate::audit::{append_audit, audit_case_change};
use crate::outbox::{OutgoingMail, enqueue};
use crate::rows::{change_row, instant, micros, not_merged};
use crate::timeline::{NewAttachment, NewEntry, insert_entry};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, Result, Scope};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::EntryType;

const CLAIM: &str = "INSERT INTO inbound_mail (message_id, source, sender, recipients, subject, size_bytes, class, received_at, locked_until, state, raw_sha256) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'receiving', $10) ON CONFLICT (message_id) DO NOTHING RETURNING id";
const BY_MESSAGE_ID: &str = "SELECT i.id, i.state, i.locked_until, c.reference FROM inbound_mail i \
     LEFT JOIN cases c ON c.id = i.case_id WHERE i.message_id = $1";
/// Takes over a claim whose holder went away (its lease ran out before it settled).
const RECLAIM: &str = "UPDATE inbound_mail SET locked_until = $2 WHERE id = $1 AND state = 'receiving' AND locked_until < $3";
const SETTLE: &str = "UPDATE inbound_mail SET state = $2, reason = $3, case_id = $4, locked_until = NULL, settled_at = $5, settled_by = $6 \
     WHERE id = $1";
const CASE_ID: &str = "SELECT id FROM cases WHERE reference = $1";
const OUTBOX_BY_MESSAGE_ID: &str =
    "SELECT id, reference, recipient FROM outbox WHERE message_id = $1";
const INBOUND_CASE_BY_MESSAGE_ID: &str = "SELECT c.reference FROM inbound_mail i JOIN cases c ON c.id = i.case_id WHERE i.message_id = $1";
const MARK_BOUNCED: &str = "UPDATE outbox SET bounced_at = $2, last_error = $3 WHERE id = $1";
const WAITING: &str = "SELECT i.id, i.message_id, i.source, i.sender, i.recipients, i.subject, i.size_bytes, i.class, i.received_at, i.state, i.reason, i.raw_sha256, c.reference \
     FROM inbound_mail i LEFT JOIN cases c ON c.id = i.case_id WHERE i.state IN ('unmatched', 'quarantined') \
     ORDER BY i.received_at DESC, i.id DESC LIMIT $1";
const RECENT: &str = "SELECT i.id, i.message_id, i.source, i.sender, i.recipients, i.subject, i.size_bytes, i.class, i.received_at, i.state, i.reason, i.raw_sha256, c.reference \
     FROM inbound_mail i LEFT JOIN cases c ON c.id = i.case_id \
     ORDER BY i.received_at DESC, i.id DESC LIMIT $1";
const ONE: &str = "SELECT i.id, i.message_id, i.source, i.sender, i.recipients, i.subject, i.size_bytes, i.class, i.received_at, i.state, i.reason, i.raw_sha256, c.reference \
     FROM inbound_mail i LEFT JOIN cases c ON c.id = i.case_id WHERE i.id = $1";
const FALLING_DUE: &str = "SELECT c.reference, k.due_at FROM clocks k JOIN cases c ON c.id = k.case_id \
     WHERE k.name = $1 AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at > $2 AND k.due_at <= $3 \
     ORDER BY k.due_at LIMIT $4";
/// Records a fact unless it already holds that value: one row changed means it did not.
const SET_FACT_ONCE: &str = "INSERT INTO case_facts (case_id, name, value, set_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (case_id, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at \
     WHERE case_facts.value <> excluded.value";
const COUNT_WAITING: &str =
    "SELECT COUNT(*) AS n FROM inbound_mail WHERE state IN ('unmatched', 'quarantined')";

/// The case fact that records the consumer's choice of updates: `yes` when they opted out.
pub const NOTICES_OPT_OUT: &str = "notices_opt_out";

/// A message being taken in, as its headers describe it.
#[derive(Debug, Clone, Default)]
pub struct InboundClaim {
    /// Without angle brackets; a digest of the bytes for messages that carry none.
    pub message_id: String,
    /// `pipe` (`redress mail receive`) or `imap:NAME`.
    pub source: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub size_bytes: i64,
    /// personal, auto_reply, bounce, list, or unreadable.
    pub class: String,
    /// The message as received, kept in attachment storage under its SHA-256.
    pub raw_sha256: Option<String>,
}

/// What claiming a message found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Claimed now (new, or taken over from a holder whose lease ran out): take it in. A
    /// message taken over may already have opened its case.
    Taken { id: i64, reference: Option<String> },
    /// Taken in before: nothing to do.
    Done {
        state: String,
        reference: Option<String>,
    },
    /// Another process is taking it in right now.
    Busy,
}

/// What a message became, and what it causes, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Settlement {
    /// threaded, opened, automatic, bounce, unmatched, quarantined, attached, dismissed.
    pub state: String,
    pub reason: Option<String>,
    /// The case its entries go on (and that it is filed with).
    pub reference: Option<String>,
    pub entries: Vec<NewEntry>,
    pub attachments: Vec<NewAttachment>,
    /// Answers to send (an acknowledgement).
    pub replies: Vec<OutgoingMail>,
    /// The outbox message it reports as undeliverable, with the reason.
    pub bounced: Option<(i64, String)>,
}

/// A message as the mail page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboundRecord {
    pub id: i64,
    pub message_id: String,
    pub source: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub size_bytes: i64,
    pub class: String,
    pub received_at: Timestamp,
    pub state: String,
    pub reason: Option<String>,
    #[serde(skip)]
    pub raw_sha256: Option<String>,
    /// The case it went to.
    pub reference: Option<String>,
}

/// An outgoing message found by its `Message-ID`.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub id: i64,
    pub reference: Option<String>,
    pub recipient: String,
}

#[async_trait]
pub trait Correspondence: Send + Sync {
    /// Claims a message by its `Message-ID` until `lease_until`.
    async fn claim_inbound(
        &self,
        claim: &InboundClaim,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim>;
    /// Settles a claimed (or waiting) message with all it causes.
    async fn settle_inbound(
        &self,
        actor: &Actor,
        id: i64,
        settlement: &Settlement,
        at: Timestamp,
    ) -> Result<()>;
    /// The case a message of this `Message-ID` (without brackets) belongs to: one Redress
    /// sent about it, or one that came in and was filed on it.
    async fn case_of_message(&self, message_id: &str) -> Result<Option<String>>;
    /// An outgoing message by its `Message-ID` (without brackets).
    async fn sent_mail(&self, message_id: &str) -> Result<Option<SentMail>>;
    /// Messages waiting for a person (unmatched or quarantined), newest first; or, with
    /// `all`, every recent message. The view is audited.
    async fn inbound(
        &self,
        actor: &Actor,
        all: bool,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<InboundRecord>>;
    /// One message (the view is audited).
    async fn inbound_one(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<InboundRecord>;
    /// How many messages wait for a person.
    async fn inbound_waiting(&self) -> Result<i64>;
    /// Records whether the case's consumer opted out of the updates the law does not require
    /// (the `notices_opt_out` fact), with its timeline entry.
    async fn set_notice_preference(
        &self,
        actor: &Actor,
        reference: &str,
        opt_out: bool,
        at: Timestamp,
    ) -> Result<()>;
    /// Running clocks of this name falling due after `from` and no later than `until`:
    /// (case reference, due instant), soonest first.
    async fn clocks_falling_due(
        &self,
        name: &str,
        from: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<(String, Timestamp)>>;
    /// Records and queues a message about a case once for a key: the case fact `once.0` set to
    /// `once.1` in the same transaction; `false` (nothing sent) when it already held that value,
    /// so that several nodes send it once.
    async fn record_outgoing_once(
        &self,
        actor: &Actor,
        reference: &str,
        entry: &NewEntry,
        mail: &OutgoingMail,
        once: (&str, &str),
    ) -> Result<bool>;
    /// Records a message sent about a case and queues it, in one transaction.
    async fn record_outgoing(
        &self,
        actor: &Actor,
        reference: &str,
        entry: &NewEntry,
        mail: &OutgoingMail,
    ) -> Result<()>;
}

fn record(r: &Row) -> Result<InboundRecord> {
    Ok(InboundRecord {
        id: r.int("id")?,
        message_id: r.text("message_id")?,
        source: r.text("source")?,
        sender: r.text("sender")?,
        recipients: r.text("recipients")?,
        subject: r.text("subject")?,
        size_bytes: r.int("size_bytes")?,
        class: r.text("class")?,
        received_at: instant(r.int("received_at")?)?,
        state: r.text("state")?,
        reason: r.opt_text("reason")?,
        raw_sha256: r.opt_text("raw_sha256")?,
        reference: r.opt_text("reference")?,
    })
}

async fn settle(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    s: &Settlement,
    at: Timestamp,
) -> Result<()> {
    let mut case_id = None;
    if let Some(reference) = &s.reference {
        let row = change_row(tx, reference, Scope::default()).await?;
        not_merged(&row)?;
        tx.execute(crate::queries::TOUCH_CASE, args![row.id, micros(at)])
            .await?;
        let mut files = Vec::new();
        for a in &s.attachments {
            let file_id = tx
                .one(
                    crate::queries::INSERT_ATTACHMENT,
                    args![
                        row.id,
                        &a.filename,
                        &a.content_type,
                        a.size_bytes,
                        &a.sha256,
                        a.visibility.as_str(),
                        actor.username.as_str(),
                        micros(a.at)
                    ],
                )
                .await?
                .int("id")?;
            files.push(serde_json::json!({"attachment_id": file_id, "filename": a.filename, "sha256": a.sha256}));
            let entry = NewEntry {
                entry_type: EntryType::Attachment,
                body: a
                    .note
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| a.filename.clone()),
                visibility: a.visibility,
                data: serde_json::json!({"attachment_id": file_id, "filename": a.filename, "content_type": a.content_type, "size_bytes": a.size_bytes, "inbound_id": id}),
                at: a.at,
                author_id: None,
            };
            insert_entry(tx, row.id, &entry).await?;
        }
        for e in &s.entries {
            insert_entry(tx, row.id, e).await?;
        }
        let detail = serde_json::json!({"inbound_id": id, "state": s.state, "attachments": files});
        audit_case_change(
            tx,
            actor,
            row.id,
            reference,
            "case.email.received",
            detail,
            row.timeline_seq,
            at,
            false,
        )
        .await?;
        case_id = Some(row.id);
    }
    for reply in &s.replies {
        enqueue(tx, reply, at).await?;
    }
    if let Some((outbox_id, reason)) = &s.bounced {
        tx.execute(MARK_BOUNCED, args![*outbox_id, micros(at), reason.as_str()])
            .await?;
    }
    if case_id.is_none()
        && let Some(reference) = &s.reference
    {
        case_id = Some(
            tx.one(CASE_ID, args![reference.as_str()])
                .await?
                .int("id")?,
        );
    }
    tx.execute(
        SETTLE,
        args![
            id,
            s.state.as_str(),
            s.reason.clone(),
            case_id,
            micros(at),
            actor.username.as_str()
        ],
    )
    .await?;
    if s.reference.is_none() {
        let detail = serde_json::json!({"inbound_id": id, "state": s.state, "reason": s.reason});
        append_audit(
            tx,
            actor,
            "mail",
            "mail.inbound.settle",
            &id.to_string(),
            &detail.to_string(),
            at,
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl<E: Engine> Correspondence for E {
    async fn claim_inbound(
        &self,
        c: &InboundClaim,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim> {
        let c = c.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                if let Some(r) = tx
                    .optional(
                        CLAIM,
                        args![
                            c.message_id.as_str(),
                            c.source.as_str(),
                            c.sender.as_str(),
                            c.recipients.as_str(),
                            c.subject.as_str(),
                            c.size_bytes,
                            c.class.as_str(),
                            micros(now),
                            micros(lease_until),
                            c.raw_sha256.clone()
                        ],
                    )
                    .await?
                {
                    return Ok(Claim::Taken {
                        id: r.int("id")?,
                        reference: None,
                    });
                }
                let r = tx.one(BY_MESSAGE_ID, args![c.message_id.as_str()]).await?;
                let id = r.int("id")?;
                let state = r.text("state")?;
                if state != "receiving" {
                    return Ok(Claim::Done {
                        state,
                        reference: r.opt_text("reference")?,
                    });
                }
                let taken = tx
                    .execute(RECLAIM, args![id, micros(lease_until), micros(now)])
                    .await?;
                Ok(if taken == 1 {
                    Claim::Taken {
                        id,
                        reference: r.opt_text("reference")?,
                    }
                } else {
                    Claim::Busy
                })
            })
        }))
        .await
    }

    async fn settle_inbound(
        &self,
        actor: &Actor,
        id: i64,
        s: &Settlement,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, s) = (actor.clone(), s.clone());
        self.write(job(move |tx| {
            Box::pin(async move { settle(tx, &actor, id, &s, at).await })
        }))
        .await
    }

    async fn case_of_message(&self, message_id: &str) -> Result<Option<String>> {
        let id = message_id.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                if let Some(r) = tx
                    .optional(OUTBOX_BY_MESSAGE_ID, args![id.as_str()])
                    .await?
                    && let Some(reference) = r.opt_text("reference")?
                {
                    return Ok(Some(reference));
                }
                match tx
                    .optional(INBOUND_CASE_BY_MESSAGE_ID, args![id.as_str()])
                    .await?
                {
                    Some(r) => Ok(Some(r.text("reference")?)),
                    None => Ok(None),
                }
            })
        }))
        .await
    }

    async fn sent_mail(&self, message_id: &str) -> Result<Option<SentMail>> {
        let id = message_id.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                match tx
                    .optional(OUTBOX_BY_MESSAGE_ID, args![id.as_str()])
                    .await?
                {
                    Some(r) => Ok(Some(SentMail {
                        id: r.int("id")?,
                        reference: r.opt_text("reference")?,
                        recipient: r.text("recipient")?,
                    })),
                    None => Ok(None),
                }
            })
        }))
        .await
    }

    async fn inbound(
        &self,
        actor: &Actor,
        all: bool,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<InboundRecord>> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let rows = tx
                    .query(if all { RECENT } else { WAITING }, args![limit])
                    .await?;
                let list = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
                let ids: Vec<i64> = list.iter().map(|m| m.id).collect();
                let detail = serde_json::json!({"shown": ids, "all": all});
                append_audit(
                    tx,
                    &actor,
                    "mail",
                    "mail.inbound.view",
                    "list",
                    &detail.to_string(),
                    at,
                )
                .await?;
                Ok(list)
            })
        }))
        .await
    }

    async fn inbound_one(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<InboundRecord> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let m = record(&tx.one(ONE, args![id]).await?)?;
                append_audit(
                    tx,
                    &actor,
                    "mail",
                    "mail.inbound.view",
                    &id.to_string(),
                    "{}",
                    at,
                )
                .await?;
                Ok(m)
            })
        }))
        .await
    }

    async fn record_outgoing(
        &self,
        actor: &Actor,
        reference: &str,
        entry: &NewEntry,
        mail: &OutgoingMail,
    ) -> Result<()> {
        let (actor, reference, entry, mail) = (
            actor.clone(),
            reference.to_string(),
            entry.clone(),
            mail.clone(),
        );
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, Scope::default()).await?;
                not_merged(&row)?;
                tx.execute(crate::queries::TOUCH_CASE, args![row.id, micros(entry.at)])
                    .await?;
                let seq = insert_entry(tx, row.id, &entry).await?;
                let outbox_id = enqueue(tx, &mail, entry.at).await?;
                let detail =
                    serde_json::json!({"seq": seq, "outbox_id": outbox_id, "to": mail.recipient});
                audit_case_change(
                    tx,
                    &actor,
                    row.id,
                    &reference,
                    "case.email.sent",
                    detail,
                    row.timeline_seq,
                    entry.at,
                    false,
                )
                .await
            })
        }))
        .await
    }

    async fn set_notice_preference(
        &self,
        actor: &Actor,
        reference: &str,
        opt_out: bool,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, reference) = (actor.clone(), reference.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, Scope::default()).await?;
                not_merged(&row)?;
                let value = if opt_out { "yes" } else { "no" };
                tx.execute(
                    crate::queries::SET_FACT,
                    args![row.id, NOTICES_OPT_OUT, value, micros(at)],
                )
                .await?;
                tx.execute(crate::queries::TOUCH_CASE, args![row.id, micros(at)])
                    .await?;
                let event = if opt_out {
                    "notices_opt_out"
                } else {
                    "notices_opt_in"
                };
                let entry = NewEntry {
                    entry_type: EntryType::SystemEvent,
                    body: if opt_out {
                        "The consumer asked for no email updates the law does not require".into()
                    } else {
                        "The consumer asked for email updates again".into()
                    },
                    visibility: redress_domain::Visibility::Internal,
                    data: serde_json::json!({"event": event}),
                    at,
                    author_id: actor.user_id,
                };
                insert_entry(tx, row.id, &entry).await?;
                let detail = serde_json::json!({"notices_opt_out": opt_out});
                audit_case_change(
                    tx,
                    &actor,
                    row.id,
                    &reference,
                    "case.notices",
                    detail,
                    row.timeline_seq,
                    at,
                    false,
                )
                .await
            })
        }))
        .await
    }

    async fn clocks_falling_due(
        &self,
        name: &str,
        from: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<(String, Timestamp)>> {
        let name = name.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(
                    FALLING_DUE,
                    args![name.as_str(), micros(from), micros(until), limit],
                )
                .await?
                .iter()
                .map(|r| Ok((r.text("reference")?, instant(r.int("due_at")?)?)))
                .collect()
            })
        }))
        .await
    }

    async fn record_outgoing_once(
        &self,
        actor: &Actor,
        reference: &str,
        entry: &NewEntry,
        mail: &OutgoingMail,
        once: (&str, &str),
    ) -> Result<bool> {
        let (actor, reference, entry, mail) = (
            actor.clone(),
            reference.to_string(),
            entry.clone(),
            mail.clone(),
        );
        let (key, value) = (once.0.to_string(), once.1.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, Scope::default()).await?;
                not_merged(&row)?;
                if tx
                    .execute(
                        SET_FACT_ONCE,
                        args![row.id, key.as_str(), value.as_str(), micros(entry.at)],
                    )
                    .await?
                    == 0
                {
                    return Ok(false);
                }
                tx.execute(crate::queries::TOUCH_CASE, args![row.id, micros(entry.at)])
                    .await?;
                let seq = insert_entry(tx, row.id, &entry).await?;
                let outbox_id = enqueue(tx, &mail, entry.at).await?;
                let detail = serde_json::json!({"seq": seq, "outbox_id": outbox_id, "to": mail.recipient, "once": key});
                audit_case_change(
                    tx,
                    &actor,
                    row.id,
                    &reference,
                    "case.email.sent",
                    detail,
                    row.timeline_seq,
                    entry.at,
                    false,
                )
                .await?;
                Ok(true)
            })
        }))
        .await
    }

    async fn inbound_waiting(&self) -> Result<i64> {
        self.read(job(|tx| {
            Box::pin(async move { tx.one(COUNT_WAITING, args![]).await?.int("n") })
        }))
        .await
    }
}
