//! Outgoing email (the outbox). Messages are queued in the store's outbox with the change that causes them;
//! a background sender delivers them over SMTP (`smtp_url`) or into a pickup directory
//! (`mail_pickup_dir`, one `.eml` file per message), retrying with growing delays. With
//! neither configured, messages wait in the outbox and startup says so.

use crate::App;
use jiff::SignedDuration;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redress_store::{OutgoingMail, StoreError};
use std::time::Duration;

/// Attempts before a message is left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 10;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Pickup(AsyncFileTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail_from {0:?} is not an address like \"Office <no-reply@example.gov>\"")]
    From(String),
    #[error("smtp_url: {0}")]
    Smtp(String),
}

impl Mailer {
    /// The configured mailer, if any.
    pub fn from_settings(
        from: &str,
        smtp_url: Option<&str>,
        pickup_dir: Option<&std::path::Path>,
    ) -> Result<Option<Mailer>, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailError::From(from.to_string()))?;
        let transport = match (smtp_url, pickup_dir) {
            (Some(url), _) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Smtp(e.to_string()))?
                    .build(),
            ),
            (None, Some(dir)) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| MailError::Smtp(format!("mail_pickup_dir: {e}")))?;
                Transport::Pickup(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(Mailer { transport, from }))
    }

    /// The domain of the sender's address: the right-hand side of every `Message-ID`.
    pub fn domain(&self) -> String {
        self.from.email.domain().to_string()
    }

    /// Sends a message under its `Message-ID` (without angle brackets), with its threading
    /// headers and, for what Redress writes by itself, `Auto-Submitted` (RFC 3834).
    pub async fn send(&self, m: &OutgoingMail, message_id: &str) -> Result<(), String> {
        let to: Mailbox = m.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{message_id}>")));
        if let Some(parent) = &m.in_reply_to {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        if let Some(thread) = &m.references {
            let ids: Vec<String> = thread
                .split_whitespace()
                .map(|id| format!("<{id}>"))
                .collect();
            if !ids.is_empty() {
                builder = builder.references(ids.join(" "));
            }
        }
        if m.automatic {
            let value = if m.in_reply_to.is_some() {
                "auto-replied"
            } else {
                "auto-generated"
            };
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                value.to_string(),
            ));
        }
        let message = if m.attachments.is_empty() {
            builder
                .header(ContentType::TEXT_PLAIN)
                .body(m.body.clone())
                .map_err(|e| e.to_string())?
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(m.body.clone()));
            for a in &m.attachments {
                let kind = ContentType::parse(&a.content_type)
                    .map_err(|e| format!("attachment {}: {e}", a.filename))?;
                parts = parts
                    .singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), kind));
            }
            builder.multipart(parts).map_err(|e| e.to_string())?
        };
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Pickup(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// Sends every message due now; returns how many went out.
pub async fn deliver_due(app: &App) -> Result<usize, StoreError> {
    let Some(mailer) = app.mailer.as_ref() else {
        return Ok(0);
    };
    let mut sent = 0;
    loop {
        let now = app.clock.now();
        let Some(job) = app
            .store
            .claim_mail(now, now + SignedDuration::from_mins(5), MAX_ATTEMPTS)
            .await?
        else {
            break;
        };
        // The same Message-ID on every attempt, so that a receiver can drop a second copy.
        let message_id = match &job.message_id {
            Some(id) => id.clone(),
            None => {
                let id = redress_domain::correspondence::message_id_for(
                    job.id,
                    job.mail.reference.as_deref(),
                    &mailer.domain(),
                );
                let bare = id.trim_start_matches('<').trim_end_matches('>').to_string();
                app.store.name_mail(job.id, &bare).await?;
                bare
            }
        };
        match mailer.send(&job.mail, &message_id).await {
            Ok(()) => {
                app.store.mail_sent(job.id, app.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                // The first wait (2 minutes unless configured), then twice as long each time,
                // at most six hours.
                let first = app.settings.mail_retry.as_secs().max(1);
                let wait = SignedDuration::from_secs(
                    (first << (job.attempts.clamp(1, 12) - 1)).min(6 * 3600),
                );
                tracing::warn!(id = job.id, attempts = job.attempts, error = %e, "sending mail failed; will retry");
                app.store
                    .mail_failed(job.id, &e, app.clock.now() + wait)
                    .await?;
            }
        }
    }
    Ok(sent)
}

/// Runs the sender every few seconds for as long as the process lives.
pub fn spawn_sender(app: App) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&app).await {
                tracing::error!(error = %e, "mail sender");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
