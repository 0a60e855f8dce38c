//! Letters on paper: every letter a step writes, kept as written with its address; the print
//! queue; batches, and marking a batch mailed (which records each letter's mailing date, and
//! for a step that left its mailing date to the queue, sets it on the case and starts the clocks
//! that count from it, in the same transaction).

use crate::audit::{append_audit, audit_case_change};
use crate::clocks::apply_clock_effects;
use crate::queries as q;
use crate::rows::{change_row, instant, micros, not_merged};
use crate::timeline::{NewEntry, insert_entry};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::lifecycle::{Addressee, ClockEffect, Letter};
use redress_domain::{EntryType, Visibility};

const INSERT_LETTER: &str = "INSERT INTO letters (case_id, name, transition, addressee, language, subject, body, recipient, state, awaiting_field, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
const CONSUMER_ADDRESS: &str = "SELECT p.name, p.email, p.address_line1, p.address_line2, p.city, p.state, p.zip \
     FROM cases c JOIN consumers p ON p.id = c.consumer_id WHERE c.id = $1";
const COMPANY_NAME: &str =
    "SELECT m.name FROM cases c JOIN companies m ON m.id = c.company_id WHERE c.id = $1";
#[cfg(test)]
const LETTER_COLUMNS: &str = "l.id, c.reference, l.name, l.transition, l.addressee, l.language, l.subject, l.body, l.recipient, l.state, l.awaiting_field, l.batch_id, l.mailed_on, l.created_at";
const LETTERS_IN_STATE: &str = "SELECT l.id, c.reference, l.name, l.transition, l.addressee, l.language, l.subject, l.body, l.recipient, l.state, l.awaiting_field, l.batch_id, l.mailed_on, l.created_at \
     FROM letters l JOIN cases c ON c.id = l.case_id WHERE l.state = $1 ORDER BY l.id LIMIT $2";
const LETTER: &str = "SELECT l.id, c.reference, l.name, l.transition, l.addressee, l.language, l.subject, l.body, l.recipient, l.state, l.awaiting_field, l.batch_id, l.mailed_on, l.created_at \
     FROM letters l JOIN cases c ON c.id = l.case_id WHERE l.id = $1";
const LETTERS_OF_BATCH: &str = "SELECT l.id, c.reference, l.name, l.transition, l.addressee, l.language, l.subject, l.body, l.recipient, l.state, l.awaiting_field, l.batch_id, l.mailed_on, l.created_at \
     FROM letters l JOIN cases c ON c.id = l.case_id WHERE l.batch_id = $1 ORDER BY l.id";
const INSERT_BATCH: &str =
    "INSERT INTO letter_batches (created_at, created_by, mail_on) VALUES ($1, $2, $3) RETURNING id";
const BATCH_LETTER: &str = "UPDATE letters SET state = 'batched', batch_id = $2, subject = $3, body = $4 WHERE id = $1 AND state = 'queued'";
const BATCH: &str = "SELECT b.id, b.created_at, b.created_by, b.mail_on, b.mailed_on, b.mailed_at, b.mailed_by, \
     (SELECT COUNT(*) FROM letters l WHERE l.batch_id = b.id) AS letters FROM letter_batches b WHERE b.id = $1";
const BATCHES: &str = "SELECT b.id, b.created_at, b.created_by, b.mail_on, b.mailed_on, b.mailed_at, b.mailed_by, \
     (SELECT COUNT(*) FROM letters l WHERE l.batch_id = b.id) AS letters FROM letter_batches b ORDER BY b.id DESC LIMIT $1";
const MARK_BATCH_MAILED: &str = "UPDATE letter_batches SET mailed_on = $2, mailed_at = $3, mailed_by = $4 WHERE id = $1 AND mailed_on IS NULL";
const MARK_LETTERS_MAILED: &str =
    "UPDATE letters SET state = 'mailed', mailed_on = $2 WHERE batch_id = $1";
const COUNT_QUEUED: &str = "SELECT COUNT(*) AS n FROM letters WHERE state = 'queued'";

/// A letter as kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LetterRecord {
    pub id: i64,
    pub reference: String,
    pub name: String,
    pub transition: String,
    /// consumer or company.
    pub addressee: String,
    /// en or es.
    pub language: String,
    pub subject: String,
    pub body: String,
    /// The address block, one line per entry.
    pub recipient: Vec<String>,
    /// queued, batched, mailed, emailed or not_queued.
    pub state: String,
    /// The case's mailing-date field its mailing fills in.
    pub awaiting_field: Option<String>,
    pub batch_id: Option<i64>,
    pub mailed_on: Option<String>,
    pub created_at: Timestamp,
}

/// A batch of letters printed together.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchRecord {
    pub id: i64,
    pub created_at: Timestamp,
    pub created_by: String,
    /// The day it was printed for.
    pub mail_on: String,
    /// When it was marked mailed: the day it was mailed.
    pub mailed_on: Option<String>,
    pub mailed_at: Option<Timestamp>,
    pub mailed_by: Option<String>,
    pub letters: i64,
}

/// A letter going into a batch, its text written out again for the batch's mailing date.
#[derive(Debug, Clone)]
pub struct BatchedLetter {
    pub id: i64,
    pub subject: String,
    pub body: String,
}

/// What marking a batch mailed does on one case: records `field` = the mailing date and starts
/// `effects` (the clocks that count from it).
#[derive(Debug, Clone)]
pub struct MailingOnCase {
    pub reference: String,
    pub field: String,
    pub effects: Vec<ClockEffect>,
}

fn letter(r: &Row) -> Result<LetterRecord> {
    Ok(LetterRecord {
        id: r.int("id")?,
        reference: r.text("reference")?,
        name: r.text("name")?,
        transition: r.text("transition")?,
        addressee: r.text("addressee")?,
        language: r.text("language")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        recipient: r.text("recipient")?.lines().map(str::to_string).collect(),
        state: r.text("state")?,
        awaiting_field: r.opt_text("awaiting_field")?,
        batch_id: r.opt_int("batch_id")?,
        mailed_on: r.opt_text("mailed_on")?,
        created_at: instant(r.int("created_at")?)?,
    })
}

fn batch(r: &Row) -> Result<BatchRecord> {
    Ok(BatchRecord {
        id: r.int("id")?,
        created_at: instant(r.int("created_at")?)?,
        created_by: r.text("created_by")?,
        mail_on: r.text("mail_on")?,
        mailed_on: r.opt_text("mailed_on")?,
        mailed_at: r.opt_int("mailed_at")?.map(instant).transpose()?,
        mailed_by: r.opt_text("mailed_by")?,
        letters: r.int("letters")?,
    })
}

/// Keeps a letter a step wrote, with the address it goes to, and says where it goes: the print
/// queue (a consumer without an email address, a letter always sent on paper, or one whose
/// mailing date the step left to the queue), email only, or the record (a company's copy).
/// Returns the letter's id, its state and the consumer's email when it goes by email.
pub(crate) async fn keep_letter(
    tx: &mut dyn Tx,
    case_id: i64,
    transition: &str,
    l: &Letter,
    awaiting_mailing: Option<&str>,
    at: Timestamp,
) -> Result<(i64, &'static str, Option<String>)> {
    let (recipient, state, email, awaiting) = match l.to {
        Addressee::Consumer => {
            let r = tx.one(CONSUMER_ADDRESS, args![case_id]).await?;
            let mut lines = vec![r.text("name")?];
            lines.extend(r.opt_text("address_line1")?);
            lines.extend(r.opt_text("address_line2")?);
            let city = [
                r.opt_text("city")?,
                r.opt_text("state")?,
                r.opt_text("zip")?,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if !city.trim().is_empty() {
                lines.push(city);
            }
            let email = r.opt_text("email")?;
            let state = if awaiting_mailing.is_some() || l.post || email.is_none() {
                "queued"
            } else {
                "emailed"
            };
            // A letter on paper is not also emailed (the mailing date in it is not known yet,
            // or the step asks for paper).
            let email = (state == "emailed").then_some(email).flatten();
            (lines.join("\n"), state, email, awaiting_mailing)
        }
        Addressee::Company => {
            let name = tx
                .optional(COMPANY_NAME, args![case_id])
                .await?
                .map(|r| r.text("name"))
                .transpose()?
                .unwrap_or_default();
            (name, "not_queued", None, None)
        }
    };
    let id = tx
        .one(
            INSERT_LETTER,
            args![
                case_id,
                l.name.as_str(),
                transition,
                match l.to {
                    Addressee::Consumer => "consumer",
                    Addressee::Company => "company",
                },
                l.language.as_str(),
                l.subject.as_str(),
                l.body.as_str(),
                recipient,
                state,
                awaiting.map(str::to_string),
                micros(at)
            ],
        )
        .await?
        .int("id")?;
    Ok((id, state, email))
}

#[async_trait]
pub trait PrintQueue: Send + Sync {
    /// Letters in a state (`queued`: the print queue), oldest first. The view of their
    /// addresses is audited.
    async fn letters(
        &self,
        actor: &Actor,
        state: &str,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<LetterRecord>>;
    /// One letter (its printing is audited).
    async fn letter(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<LetterRecord>;
    /// How many letters wait in the print queue.
    async fn letters_queued(&self) -> Result<i64>;
    /// Gathers these queued letters (their text as written out for `mail_on`) into a batch;
    /// a letter batched meanwhile by someone else is left out. `NotFound` when none is left.
    async fn make_batch(
        &self,
        actor: &Actor,
        mail_on: &str,
        letters: &[BatchedLetter],
        at: Timestamp,
    ) -> Result<BatchRecord>;
    async fn batch(&self, id: i64) -> Result<(BatchRecord, Vec<LetterRecord>)>;
    async fn batches(&self, limit: i64) -> Result<Vec<BatchRecord>>;
    /// Marks a batch mailed on `mailed_on`: each letter's mailing date, and on each case whose
    /// step left its mailing date to the queue, the date and the clocks that count from it.
    /// `Duplicate` when the batch was marked mailed before.
    async fn mark_batch_mailed(
        &self,
        actor: &Actor,
        id: i64,
        mailed_on: &str,
        cases: &[MailingOnCase],
        at: Timestamp,
    ) -> Result<BatchRecord>;
}

#[async_trait]
impl<E: Engine> PrintQueue for E {
    async fn letters(
        &self,
        actor: &Actor,
        state: &str,
        limit: i64,
        at: Timestamp,
    ) -> Result<Vec<LetterRecord>> {
        let (actor, state) = (actor.clone(), state.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let list = tx
                    .query(LETTERS_IN_STATE, args![state.as_str(), limit])
                    .await?
                    .iter()
                    .map(letter)
                    .collect::<Result<Vec<_>>>()?;
                let shown: Vec<i64> = list.iter().map(|l| l.id).collect();
                let detail = serde_json::json!({"state": state, "shown": shown});
                append_audit(
                    tx,
                    &actor,
                    "letters",
                    "letter.view",
                    &state,
                    &detail.to_string(),
                    at,
                )
                .await?;
                Ok(list)
            })
        }))
        .await
    }

    async fn letter(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<LetterRecord> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let l = letter(&tx.one(LETTER, args![id]).await?)?;
                let detail = serde_json::json!({"letter_id": id, "reference": l.reference});
                append_audit(
                    tx,
                    &actor,
                    "letters",
                    "letter.print",
                    &id.to_string(),
                    &detail.to_string(),
                    at,
                )
                .await?;
                Ok(l)
            })
        }))
        .await
    }

    async fn letters_queued(&self) -> Result<i64> {
        self.read(job(|tx| {
            Box::pin(async move { tx.one(COUNT_QUEUED, args![]).await?.int("n") })
        }))
        .await
    }

    async fn make_batch(
        &self,
        actor: &Actor,
        mail_on: &str,
        letters: &[BatchedLetter],
        at: Timestamp,
    ) -> Result<BatchRecord> {
        let (actor, mail_on, letters) = (actor.clone(), mail_on.to_string(), letters.to_vec());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = tx
                    .one(
                        INSERT_BATCH,
                        args![micros(at), actor.username.as_str(), mail_on.as_str()],
                    )
                    .await?
                    .int("id")?;
                let mut taken = Vec::new();
                for l in &letters {
                    if tx
                        .execute(
                            BATCH_LETTER,
                            args![l.id, id, l.subject.as_str(), l.body.as_str()],
                        )
                        .await?
                        == 1
                    {
                        taken.push(l.id);
                    }
                }
                if taken.is_empty() {
                    return Err(StoreError::NotFound);
                }
                let detail =
                    serde_json::json!({"batch_id": id, "letters": taken, "mail_on": mail_on});
                append_audit(
                    tx,
                    &actor,
                    "letters",
                    "letter.batch",
                    &id.to_string(),
                    &detail.to_string(),
                    at,
                )
                .await?;
                batch(&tx.one(BATCH, args![id]).await?)
            })
        }))
        .await
    }

    async fn batch(&self, id: i64) -> Result<(BatchRecord, Vec<LetterRecord>)> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let b = batch(&tx.one(BATCH, args![id]).await?)?;
                let letters = tx
                    .query(LETTERS_OF_BATCH, args![id])
                    .await?
                    .iter()
                    .map(letter)
                    .collect::<Result<Vec<_>>>()?;
                Ok((b, letters))
            })
        }))
        .await
    }

    async fn batches(&self, limit: i64) -> Result<Vec<BatchRecord>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(BATCHES, args![limit])
                    .await?
                    .iter()
                    .map(batch)
                    .collect()
            })
        }))
        .await
    }

    async fn mark_batch_mailed(
        &self,
        actor: &Actor,
        id: i64,
        mailed_on: &str,
        cases: &[MailingOnCase],
        at: Timestamp,
    ) -> Result<BatchRecord> {
        let (actor, mailed_on, cases) = (actor.clone(), mailed_on.to_string(), cases.to_vec());
        self.write(job(move |tx| {
            Box::pin(async move {
                let marked = tx
                    .execute(
                        MARK_BATCH_MAILED,
                        args![id, mailed_on.as_str(), micros(at), actor.username.as_str()],
                    )
                    .await?;
                if marked == 0 {
                    // Either no such batch (NotFound from the read) or mailed before.
                    batch(&tx.one(BATCH, args![id]).await?)?;
                    return Err(StoreError::Duplicate(format!("batch {id} was marked mailed before")));
                }
                let letters = tx
                    .query(LETTERS_OF_BATCH, args![id])
                    .await?
                    .iter()
                    .map(letter)
                    .collect::<Result<Vec<_>>>()?;
                tx.execute(MARK_LETTERS_MAILED, args![id, mailed_on.as_str()]).await?;
                let mut references: Vec<&str> = letters.iter().map(|l| l.reference.as_str()).collect();
                references.sort_unstable();
                references.dedup();
                for reference in references {
                    let row = change_row(tx, reference, Scope::default()).await?;
                    not_merged(&row)?;
                    tx.execute(q::TOUCH_CASE, args![row.id, micros(at)]).await?;
                    let names: Vec<&str> = letters
                        .iter()
                        .filter(|l| l.reference == reference)
                        .map(|l| l.name.as_str())
                        .collect();
                    let entry = NewEntry {
                        entry_type: EntryType::SystemEvent,
                        body: format!("Mailed on {mailed_on} (batch {id}): {}", names.join(", ")),
                        visibility: Visibility::Internal,
                        data: serde_json::json!({"event": "letters_mailed", "batch_id": id, "mailed_on": mailed_on, "letters": names}),
                        at,
                        author_id: actor.user_id,
                    };
                    insert_entry(tx, row.id, &entry).await?;
                    let mut started = Vec::new();
                    for m in cases.iter().filter(|m| m.reference == reference) {
                        tx.execute(q::SET_FACT, args![row.id, m.field.as_str(), mailed_on.as_str(), micros(at)])
                            .await?;
                        apply_clock_effects(tx, &actor, row.id, &row.office, &m.effects, at).await?;
                        started.push(m.field.clone());
                    }
                    let detail = serde_json::json!({"batch_id": id, "mailed_on": mailed_on, "set": started});
                    audit_case_change(tx, &actor, row.id, reference, "case.letters.mailed", detail, row.timeline_seq, at, false)
                        .await?;
                }
                batch(&tx.one(BATCH, args![id]).await?)
            })
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_letter_read_names_the_same_columns() {
        for sql in [
            super::LETTERS_IN_STATE,
            super::LETTER,
            super::LETTERS_OF_BATCH,
        ] {
            assert!(sql.contains(super::LETTER_COLUMNS), "{sql}");
        }
    }
}
