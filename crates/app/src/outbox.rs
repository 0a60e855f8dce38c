//! Outgoing email (the outbox). Messages are queued in the store's outbox with the change that causes them;
//! a background sender delivers them over SMTP (`smtp_url`) or into a pickup directory
//! (`mail_pickup_dir`, one `.eml` file per message), retrying with growing delays. With
//! neither configured, messages wait in the outbox and startup says so.

use crate::App;
use jiff::SignedDuration;
use lettre::message::{Mailbox, Message, header::ContentType};
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

    pub async fn send(&self, m: &OutgoingMail) -> Result<(), String> {
        let to: Mailbox = m.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| e.to_string())?;
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
        match mailer.send(&job.mail).await {
            Ok(()) => {
                app.store.mail_sent(job.id, app.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                // 2, 4, 8... minutes, at most six hours.
                let wait = SignedDuration::from_mins((1i64 << job.attempts.clamp(1, 9)).min(360));
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
