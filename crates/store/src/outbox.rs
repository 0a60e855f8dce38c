//! The outbox: email is queued in the transaction that calls for it and sent later by
//! whichever node claims it.

use crate::queries as q;
use crate::rows::micros;
use crate::tx::{Engine, Tx, args, job};
use crate::{Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;

/// An email to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The case it is about, if any.
    pub reference: Option<String>,
    /// The message it answers (a `Message-ID` without its angle brackets).
    pub in_reply_to: Option<String>,
    /// The thread it belongs to: the `References` of the message it answers and that message,
    /// each without angle brackets, separated by spaces.
    pub references: Option<String>,
    /// Written by Redress itself, not by a person (an acknowledgement, a notice): sent with
    /// `Auto-Submitted`, so that automatic responders do not answer it.
    pub automatic: bool,
    /// Files sent with it, in order.
    pub attachments: Vec<MailAttachment>,
}

/// A file sent with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

impl OutgoingMail {
    /// A message to a person, not answering anything.
    pub fn new(
        recipient: String,
        subject: String,
        body: String,
        reference: Option<String>,
    ) -> Self {
        OutgoingMail {
            recipient,
            subject,
            body,
            reference,
            in_reply_to: None,
            references: None,
            automatic: false,
            attachments: Vec::new(),
        }
    }
}

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub mail: OutgoingMail,
    pub attempts: i64,
    /// Its `Message-ID` (without angle brackets), once named.
    pub message_id: Option<String>,
}

/// Email waiting to be sent, claimed by one sender at a time.
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn enqueue_mail(&self, mail: &OutgoingMail, at: Timestamp) -> Result<i64>;
    /// Claims the oldest message due at `now` (not yet tried `max_attempts` times) until `lease_until`.
    async fn claim_mail(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        max_attempts: i64,
    ) -> Result<Option<QueuedMail>>;
    /// Gives a message its `Message-ID` (without angle brackets) unless it has one.
    async fn name_mail(&self, id: i64, message_id: &str) -> Result<()>;
    async fn mail_sent(&self, id: i64, at: Timestamp) -> Result<()>;
    async fn mail_failed(&self, id: i64, error: &str, retry_at: Timestamp) -> Result<()>;
    /// Messages not sent yet.
    async fn mail_waiting(&self) -> Result<i64>;
}

/// The outbox, for any engine.
#[async_trait]
impl<E: Engine> Outbox for E {
    async fn enqueue_mail(&self, m: &OutgoingMail, at: Timestamp) -> Result<i64> {
        let m = m.clone();
        self.write(job(move |tx| {
            Box::pin(async move { enqueue(tx, &m, at).await })
        }))
        .await
    }

    async fn claim_mail(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        max_attempts: i64,
    ) -> Result<Option<QueuedMail>> {
        self.write(job(move |tx| {
            Box::pin(async move {
                let Some(r) = tx
                    .optional(
                        if tx.is_postgres() {
                            q::CLAIM_MAIL_SKIP_LOCKED
                        } else {
                            q::CLAIM_MAIL
                        },
                        args![micros(now), micros(lease_until), max_attempts],
                    )
                    .await?
                else {
                    return Ok(None);
                };
                let id = r.int("id")?;
                let mut attachments = Vec::new();
                for a in tx.query(q::MAIL_ATTACHMENTS, args![id]).await? {
                    let hex_text = a.text("content_hex")?;
                    attachments.push(MailAttachment {
                        filename: a.text("filename")?,
                        content_type: a.text("content_type")?,
                        content: hex::decode(&hex_text).map_err(|e| {
                            StoreError::Corrupt(format!("attachment of mail {id}: {e}"))
                        })?,
                    });
                }
                Ok(Some(QueuedMail {
                    id,
                    mail: OutgoingMail {
                        recipient: r.text("recipient")?,
                        subject: r.text("subject")?,
                        body: r.text("body")?,
                        reference: r.opt_text("reference")?,
                        in_reply_to: r.opt_text("in_reply_to")?,
                        references: r.opt_text("refs")?,
                        automatic: r.int("automatic")? != 0,
                        attachments,
                    },
                    attempts: r.int("attempts")?,
                    message_id: r.opt_text("message_id")?,
                }))
            })
        }))
        .await
    }

    async fn name_mail(&self, id: i64, message_id: &str) -> Result<()> {
        let message_id = message_id.to_string();
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(q::NAME_MAIL, args![id, message_id])
                    .await
                    .map(|_| ())
            })
        }))
        .await
    }

    async fn mail_sent(&self, id: i64, at: Timestamp) -> Result<()> {
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(q::MAIL_SENT, args![id, micros(at)])
                    .await
                    .map(|_| ())
            })
        }))
        .await
    }

    async fn mail_failed(&self, id: i64, error: &str, retry_at: Timestamp) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(q::MAIL_FAILED, args![id, micros(retry_at), error])
                    .await
                    .map(|_| ())
            })
        }))
        .await
    }

    async fn mail_waiting(&self) -> Result<i64> {
        self.read(job(|tx| {
            Box::pin(async move { tx.one(q::MAIL_WAITING, args![]).await?.int("n") })
        }))
        .await
    }
}

/// Queues a message inside a change's transaction; returns its outbox id.
pub(crate) async fn enqueue(tx: &mut dyn Tx, m: &OutgoingMail, at: Timestamp) -> Result<i64> {
    let id = tx
        .one(
            q::ENQUEUE_MAIL,
            args![
                m.recipient.as_str(),
                m.subject.as_str(),
                m.body.as_str(),
                m.reference.clone(),
                micros(at),
                m.in_reply_to.clone(),
                m.references.clone(),
                i64::from(m.automatic)
            ],
        )
        .await?
        .int("id")?;
    for (position, a) in m.attachments.iter().enumerate() {
        tx.execute(
            q::INSERT_MAIL_ATTACHMENT,
            args![
                id,
                position as i64,
                a.filename.as_str(),
                a.content_type.as_str(),
                hex::encode(&a.content)
            ],
        )
        .await?;
    }
    Ok(id)
}
