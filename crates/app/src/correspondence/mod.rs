//! Correspondence: mail coming in (from the MTA's pipe, `redress mail receive`, or an IMAP
//! mailbox), threaded onto its case or opening one, acknowledged in the sender's language;
//! staff answering from the case page; the acknowledgement of every case opened with an email
//! address; and the messages that wait for a person (unmatched, quarantined).
//!
//! Every message is kept as received (in attachment storage, under its SHA-256), claimed once by
//! its `Message-ID`, and settled in one transaction with all it causes.

pub mod imap;
mod notices;
pub mod parse;

pub use notices::NoticePreference;

use crate::cases::{ConsumerInput, CreateCase, Intake, mail_actor};
use crate::{App, AppError, AppResult, Person};
use jiff::SignedDuration;
use parse::IncomingMail;
use redress_domain::correspondence::{
    MailClass, MailRoute, guess_language, reference_in, reference_of_message_id, route_mail,
    sender_name, subject_for,
};
use redress_domain::lifecycle::NoticeOn;
use redress_domain::records::Case;
use redress_domain::validate as v;
use redress_domain::{CaseKind, Channel, EntryType, Language, Permission, Visibility};
use redress_store::{
    Claim, InboundClaim, InboundRecord, NewAttachment, NewEntry, OutgoingMail, Scope, Settlement,
    StoreError,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest message taken in by default (25 MiB); larger ones are quarantined.
pub const DEFAULT_MAX_MAIL_BYTES: usize = 25 * 1024 * 1024;
/// How long a message is reserved for the process taking it in.
pub const CLAIM_LEASE: SignedDuration = SignedDuration::from_mins(10);
/// The longest email text kept on a timeline entry.
const TEXT_MAX: usize = 200_000;

/// The office's mail settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Messages larger than this are quarantined, not taken in.
    pub max_message_bytes: usize,
    /// Where new mail goes (kind, lifecycle, unit), by recipient and keywords.
    pub routes: Vec<MailRoute>,
    /// The office's own addresses: mail from them is never answered nor opens a case.
    pub own_addresses: Vec<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            max_message_bytes: DEFAULT_MAX_MAIL_BYTES,
            routes: vec![],
            own_addresses: vec![],
        }
    }
}

/// What became of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Receipt {
    /// It opened this case.
    Opened(String),
    /// It was filed on this case, which it answers.
    Threaded(String),
    /// An automatic reply or list message, kept on its case if it has one, never answered.
    Automatic(Option<String>),
    /// A delivery failure, recorded on the case of the message it returns (if known).
    Bounce(Option<String>),
    /// Kept for a person to file: the reason.
    Unmatched(String),
    /// Not taken in (too large, unreadable): the reason.
    Quarantined(String),
    /// Nothing to do (an automatic message about no case, the office's own mail): the reason.
    Ignored(String),
    /// Taken in before.
    Duplicate,
    /// Another process is taking it in now: try again later.
    Busy,
}

impl std::fmt::Display for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Receipt::Opened(r) => write!(f, "opened {r}"),
            Receipt::Threaded(r) => write!(f, "added to {r}"),
            Receipt::Automatic(Some(r)) => write!(f, "automatic reply kept on {r}"),
            Receipt::Automatic(None) => f.write_str("automatic message kept"),
            Receipt::Bounce(Some(r)) => write!(f, "delivery failure recorded on {r}"),
            Receipt::Bounce(None) => f.write_str("delivery failure about no known message"),
            Receipt::Unmatched(why) => write!(f, "kept for a person: {why}"),
            Receipt::Quarantined(why) => write!(f, "quarantined: {why}"),
            Receipt::Ignored(why) => write!(f, "ignored: {why}"),
            Receipt::Duplicate => f.write_str("already taken in"),
            Receipt::Busy => f.write_str("being taken in by another process"),
        }
    }
}

/// A message to the consumer written on the case page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailToConsumer {
    /// Without it: the subject being answered (or "Your case"), always with the reference.
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
}

/// An incoming message as it was taken in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboundMail {
    pub id: i64,
    /// Without angle brackets; `SHA256@redress.invalid` for a message that carried none.
    pub message_id: String,
    /// `pipe` (`redress mail receive`) or `imap:NAME`.
    pub source: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub size_bytes: i64,
    /// personal, auto_reply, bounce, list or unreadable.
    pub class: String,
    pub received_at: jiff::Timestamp,
    /// opened, threaded, automatic, bounce, ignored, unmatched, quarantined, attached or
    /// dismissed (`receiving` while it is being taken in).
    pub state: String,
    /// Why it is unmatched, quarantined or ignored.
    pub reason: Option<String>,
    /// The case it went to.
    pub reference: Option<String>,
}

impl From<InboundRecord> for InboundMail {
    fn from(r: InboundRecord) -> Self {
        InboundMail {
            id: r.id,
            message_id: r.message_id,
            source: r.source,
            sender: r.sender,
            recipients: r.recipients,
            subject: r.subject,
            size_bytes: r.size_bytes,
            class: r.class,
            received_at: r.received_at,
            state: r.state,
            reason: r.reason,
            reference: r.reference,
        }
    }
}

/// An incoming message as the mail page shows it: its record, and its text and files as read
/// again from the message kept.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboundMessage {
    pub mail: InboundMail,
    pub text: String,
    pub files: Vec<String>,
}

/// A message on its way to the consumer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentEmail {
    pub reference: String,
    pub to: String,
    pub subject: String,
}

/// The case a waiting message is filed on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileInbound {
    #[schema(example = "NYC-2026-000123")]
    pub reference: String,
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The `References` of an answer to `mail`: its own references, then it.
fn thread_of(mail: &IncomingMail) -> Option<String> {
    let mut ids = mail.references.clone();
    if let Some(id) = &mail.message_id
        && !ids.contains(id)
    {
        ids.push(id.clone());
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

impl App {
    /// Takes in one message as received (the MTA's pipe, an IMAP mailbox: `source`).
    pub async fn receive_mail(&self, raw: &[u8], source: &str) -> AppResult<Receipt> {
        let now = self.clock.now();
        let raw_sha = self
            .blobs
            .save(raw.to_vec())
            .await
            .map_err(|e| AppError::Internal(format!("keeping the message: {e}")))?;
        let size = i64::try_from(raw.len()).unwrap_or(i64::MAX);
        let max = self.settings.mail.max_message_bytes;
        let quarantine =
            |message_id: Option<String>, sender: String, subject: String| InboundClaim {
                message_id: message_id.unwrap_or_else(|| format!("{raw_sha}@redress.invalid")),
                source: source.to_string(),
                sender,
                recipients: String::new(),
                subject: cut(&subject, 500),
                size_bytes: size,
                class: "unreadable".into(),
                raw_sha256: Some(raw_sha.clone()),
            };
        if raw.len() > max {
            let (id, sender, subject) = parse::read_header(raw);
            let reason = format!(
                "larger than the limit for incoming mail ({} bytes; the limit is {max})",
                raw.len()
            );
            return self
                .quarantine(quarantine(id, sender, subject), reason)
                .await;
        }
        let Some(mail) = parse::read(raw) else {
            let claim = quarantine(None, String::new(), String::new());
            return self
                .quarantine(claim, "not a readable email message".into())
                .await;
        };
        let Some(sender) = mail.sender.clone() else {
            let claim = quarantine(mail.message_id.clone(), String::new(), mail.subject.clone());
            return self
                .quarantine(claim, "no sender address (From)".into())
                .await;
        };
        let claim = InboundClaim {
            message_id: mail
                .message_id
                .clone()
                .unwrap_or_else(|| format!("{raw_sha}@redress.invalid")),
            source: source.to_string(),
            sender: sender.clone(),
            recipients: cut(&mail.recipients.join(", "), 1000),
            subject: cut(&mail.subject, 500),
            size_bytes: size,
            class: mail.class.as_str().into(),
            raw_sha256: Some(raw_sha),
        };
        let (id, opened) = match self
            .store
            .claim_inbound(&claim, now, now + CLAIM_LEASE)
            .await?
        {
            Claim::Taken { id, reference } => (id, reference),
            Claim::Done { .. } => return Ok(Receipt::Duplicate),
            Claim::Busy => return Ok(Receipt::Busy),
        };
        let (settlement, receipt) = self.settle_mail(&mail, &sender, id, opened).await?;
        self.store
            .settle_inbound(&mail_actor(), id, &settlement, self.clock.now())
            .await?;
        Ok(receipt)
    }

    async fn quarantine(&self, claim: InboundClaim, reason: String) -> AppResult<Receipt> {
        let now = self.clock.now();
        match self
            .store
            .claim_inbound(&claim, now, now + CLAIM_LEASE)
            .await?
        {
            Claim::Taken { id, .. } => {
                let s = Settlement {
                    state: "quarantined".into(),
                    reason: Some(reason.clone()),
                    ..Settlement::default()
                };
                self.store
                    .settle_inbound(&mail_actor(), id, &s, now)
                    .await?;
                tracing::warn!(inbound = id, %reason, "incoming message quarantined");
                Ok(Receipt::Quarantined(reason))
            }
            Claim::Done { .. } => Ok(Receipt::Duplicate),
            Claim::Busy => Ok(Receipt::Busy),
        }
    }

    /// What a message becomes. `opened`: the case this message opened before its process
    /// stopped (taken in again after a crash).
    async fn settle_mail(
        &self,
        mail: &IncomingMail,
        sender: &str,
        id: i64,
        opened: Option<String>,
    ) -> AppResult<(Settlement, Receipt)> {
        if mail.class == MailClass::Bounce {
            return self.settle_bounce(mail).await;
        }
        let own = self
            .settings
            .mail
            .own_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(sender));
        if let Some(reference) = opened {
            let case = self.case_as_mail(&reference).await?;
            return self.opened(mail, sender, id, case).await;
        }
        let case = self.case_answered(mail).await?;
        match (case, mail.class) {
            (Some(case), MailClass::Personal) if !own => {
                let from_consumer = case
                    .consumer
                    .as_ref()
                    .and_then(|c| c.email.as_deref())
                    .is_some_and(|e| e.eq_ignore_ascii_case(sender));
                let visibility = if from_consumer {
                    Visibility::Consumer
                } else {
                    Visibility::Internal
                };
                let reference = case.reference.clone();
                let s = self
                    .filing(mail, sender, id, &reference, visibility, "threaded")
                    .await?;
                Ok((s, Receipt::Threaded(reference)))
            }
            (Some(case), _) => {
                let reference = case.reference.clone();
                let s = self
                    .filing(
                        mail,
                        sender,
                        id,
                        &reference,
                        Visibility::Internal,
                        "automatic",
                    )
                    .await?;
                Ok((s, Receipt::Automatic(Some(reference))))
            }
            (None, MailClass::Personal) if !own => self.open_from_mail(mail, sender, id).await,
            (None, class) => {
                let reason = if own {
                    "sent from the office's own address".to_string()
                } else if class == MailClass::List {
                    "mailing-list or bulk mail about no case".to_string()
                } else {
                    "automatic reply about no case".to_string()
                };
                let s = Settlement {
                    state: "ignored".into(),
                    reason: Some(reason.clone()),
                    ..Settlement::default()
                };
                Ok((s, Receipt::Ignored(reason)))
            }
        }
    }

    async fn settle_bounce(&self, mail: &IncomingMail) -> AppResult<(Settlement, Receipt)> {
        let report = mail.bounce.clone().unwrap_or_default();
        for original in &report.original_ids {
            if let Some(sent) = self.store.sent_mail(original).await? {
                let recipient = report.recipient.clone().unwrap_or(sent.recipient.clone());
                let entries = match &sent.reference {
                    Some(_) => vec![NewEntry {
                        entry_type: EntryType::SystemEvent,
                        body: format!(
                            "Email to {recipient} could not be delivered: {}",
                            report.reason
                        ),
                        visibility: Visibility::Internal,
                        data: serde_json::json!({"event": "email_bounced", "outbox_id": sent.id, "recipient": recipient, "reason": report.reason}),
                        at: self.clock.now(),
                        author_id: None,
                    }],
                    None => vec![],
                };
                let s = Settlement {
                    state: "bounce".into(),
                    reason: Some(report.reason.clone()),
                    reference: sent.reference.clone(),
                    entries,
                    bounced: Some((sent.id, report.reason.clone())),
                    ..Settlement::default()
                };
                return Ok((s, Receipt::Bounce(sent.reference)));
            }
        }
        let reason = "a delivery failure report about no message Redress sent".to_string();
        let s = Settlement {
            state: "unmatched".into(),
            reason: Some(reason.clone()),
            ..Settlement::default()
        };
        Ok((s, Receipt::Bounce(None)))
    }

    /// Reads a case as incoming mail does (the consumer's address is read to tell who wrote:
    /// audited as the mail's view); a merged case stands for the one it was merged into.
    async fn case_as_mail(&self, reference: &str) -> AppResult<Case> {
        let now = self.clock.now();
        let case = self
            .store
            .case(&mail_actor(), reference, Scope::default(), true, now)
            .await?;
        match &case.merged_into {
            Some(kept) => Ok(self
                .store
                .case(&mail_actor(), kept, Scope::default(), true, now)
                .await?),
            None => Ok(case),
        }
    }

    /// The case a message answers: one of the messages it replies to (Redress's own, or one
    /// filed on a case), else the reference in its subject.
    async fn case_answered(&self, mail: &IncomingMail) -> AppResult<Option<Case>> {
        let mut candidates: Vec<String> = Vec::new();
        for id in &mail.answers {
            if let Some(r) = self.store.case_of_message(id).await? {
                candidates.push(r);
            } else if let Some(r) = reference_of_message_id(id) {
                candidates.push(r.to_string());
            }
        }
        if let Some(r) = reference_in(&mail.subject) {
            candidates.push(r.to_string());
        }
        for reference in candidates {
            match self.case_as_mail(&reference).await {
                Ok(case) => return Ok(Some(case)),
                Err(AppError::NotFound) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The message's entry and files on a case.
    async fn filing(
        &self,
        mail: &IncomingMail,
        sender: &str,
        id: i64,
        reference: &str,
        visibility: Visibility,
        state: &str,
    ) -> AppResult<Settlement> {
        let now = self.clock.now();
        let mut refused = Vec::new();
        let mut attachments = Vec::new();
        let max = self.settings.max_upload_bytes;
        for f in &mail.files {
            if f.bytes.len() > max {
                refused.push(serde_json::json!({"filename": f.filename, "reason": crate::attachments::UploadProblem::TooLarge.message(max)}));
                continue;
            }
            match crate::attachments::Upload::checked(
                &f.filename,
                f.bytes.clone(),
                f.content_type.as_deref(),
                Default::default(),
            ) {
                Ok(upload) => {
                    let size = upload.bytes.len() as i64;
                    let sha =
                        self.blobs.save(upload.bytes).await.map_err(|e| {
                            AppError::Internal(format!("storing an attachment: {e}"))
                        })?;
                    attachments.push(NewAttachment {
                        filename: upload.filename,
                        content_type: upload.content_type.to_string(),
                        size_bytes: size,
                        sha256: sha,
                        visibility,
                        note: None,
                        at: now,
                        author_id: None,
                    });
                }
                Err(problem) => refused.push(
                    serde_json::json!({"filename": f.filename, "reason": problem.message(max)}),
                ),
            }
        }
        let mut body = if mail.text.trim().is_empty() {
            "(no text)".to_string()
        } else {
            cut(mail.text.trim(), TEXT_MAX)
        };
        for r in &refused {
            body.push_str(&format!(
                "\n\n[Attachment not kept: {} ({})]",
                r["filename"].as_str().unwrap_or(""),
                r["reason"].as_str().unwrap_or("")
            ));
        }
        let entry = NewEntry {
            entry_type: EntryType::Email,
            body,
            visibility,
            data: serde_json::json!({
                "direction": "in", "from": sender, "name": mail.sender_name, "to": mail.recipients,
                "subject": mail.subject, "message_id": mail.message_id, "references": thread_of(mail),
                "inbound_id": id, "class": mail.class.as_str(), "refused_files": refused,
            }),
            at: now,
            author_id: None,
        };
        Ok(Settlement {
            state: state.into(),
            reason: None,
            reference: Some(reference.to_string()),
            entries: vec![entry],
            attachments,
            ..Settlement::default()
        })
    }

    /// Opens a case from a new sender's message: its kind, lifecycle and unit from the mail
    /// routes (else a complaint, routed like any other), the consumer new with the sender's name,
    /// address and the language the message is written in.
    async fn open_from_mail(
        &self,
        mail: &IncomingMail,
        sender: &str,
        id: i64,
    ) -> AppResult<(Settlement, Receipt)> {
        let route = route_mail(
            &self.settings.mail.routes,
            &mail.recipients,
            &format!("{}\n{}", mail.subject, mail.text),
        )
        .cloned()
        .unwrap_or_default();
        let language = guess_language(
            mail.content_language.as_deref(),
            &format!("{}\n{}", mail.subject, mail.text),
        );
        let text = mail.text.trim();
        let description = match (mail.subject.is_empty(), text.is_empty()) {
            (true, true) => "(no text)".to_string(),
            (false, true) => mail.subject.clone(),
            (true, false) => text.to_string(),
            (false, false) => format!("{}\n\n{text}", mail.subject),
        };
        let input = CreateCase {
            kind: route.kind.unwrap_or(CaseKind::Complaint),
            channel: Channel::Email,
            description: Some(cut(&description, v::DESCRIPTION_MAX)),
            consumer_id: None,
            consumer: Some(ConsumerInput {
                name: Some(cut(
                    &sender_name(mail.sender_name.as_deref(), sender),
                    v::NAME_MAX,
                )),
                email: Some(sender.to_string()),
                phone: None,
                preferred_language: Some(language),
                address: None,
                account_number: None,
            }),
            company_id: None,
            category: None,
            amount_in_dispute: None,
            priority: None,
            flags: vec![],
            unit: route.unit.clone(),
            assignee: None,
            office: None,
            lifecycle: route.lifecycle.clone(),
            publish_consent: None,
        };
        match self
            .open_case(Intake::Mail { inbound: id }, input, None)
            .await
        {
            Ok((case, _)) => self.opened(mail, sender, id, case).await,
            Err(AppError::Validation(errors)) => {
                let reason = format!(
                    "could not open a case: {}",
                    errors
                        .0
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                let s = Settlement {
                    state: "unmatched".into(),
                    reason: Some(cut(&reason, 1000)),
                    ..Settlement::default()
                };
                Ok((s, Receipt::Unmatched(reason)))
            }
            Err(e) => Err(e),
        }
    }

    /// A message that opened `case`: its entry, files and the acknowledgement.
    async fn opened(
        &self,
        mail: &IncomingMail,
        sender: &str,
        id: i64,
        case: Case,
    ) -> AppResult<(Settlement, Receipt)> {
        let reference = case.reference.clone();
        let mut s = self
            .filing(mail, sender, id, &reference, Visibility::Consumer, "opened")
            .await?;
        if mail.class.may_be_answered()
            && let Some((entry, reply)) = self.notice(&case, &NoticeOn::Opened, Some(mail)).await?
        {
            s.entries.push(entry);
            s.replies.push(reply);
        }
        Ok((s, Receipt::Opened(reference)))
    }

    /// Staff write to the consumer from the case page: the message goes out through the outbox
    /// with the reference in its subject, answering the consumer's latest email on the case,
    /// and is recorded on the timeline.
    pub async fn email_consumer(
        &self,
        person: &Person,
        reference: &str,
        input: EmailToConsumer,
    ) -> AppResult<SentEmail> {
        person.require(Permission::TimelineWrite)?;
        person.require(Permission::ConsumerRead)?;
        let mut errors = v::FieldErrors::new();
        let body = v::required_text(&mut errors, "body", Some(&input.body), v::BODY_MAX);
        let subject = v::optional_text(
            &mut errors,
            "subject",
            input.subject.as_deref(),
            v::SHORT_MAX,
        );
        AppError::unless_empty(errors)?;
        let now = self.clock.now();
        let case = self
            .store
            .case(&person.actor(), reference, person.scope(), true, now)
            .await?;
        let Some(email) = case.consumer.as_ref().and_then(|c| c.email.clone()) else {
            return Err(AppError::field(
                "body",
                "no_email_address",
                "The consumer has no email address: add one to the case, or send a letter.",
            ));
        };
        let language = case
            .consumer
            .as_ref()
            .map_or(Language::En, |c| c.preferred_language);
        let timeline = self
            .store
            .timeline(&person.actor(), reference, person.scope(), None, now)
            .await?;
        let last_in = timeline
            .iter()
            .rev()
            .find(|e| e.entry_type == EntryType::Email && e.data["direction"] == "in");
        let answering = last_in.and_then(|e| e.data["message_id"].as_str().map(str::to_string));
        let thread = last_in.and_then(|e| e.data["references"].as_str().map(str::to_string));
        let subject = match (subject, last_in) {
            (Some(s), _) => subject_for(reference, &s, false),
            (None, Some(e)) => subject_for(
                reference,
                e.data["subject"].as_str().unwrap_or_default(),
                true,
            ),
            (None, None) => subject_for(
                reference,
                if language == Language::Es {
                    "Su caso"
                } else {
                    "Your case"
                },
                false,
            ),
        };
        let body = body.unwrap_or_default();
        let mut mail = OutgoingMail::new(
            email.clone(),
            subject.clone(),
            body.clone(),
            Some(reference.to_string()),
        );
        mail.in_reply_to = answering.clone();
        mail.references = thread.or(answering);
        let entry = NewEntry {
            entry_type: EntryType::Email,
            body,
            visibility: Visibility::Consumer,
            data: serde_json::json!({"direction": "out", "to": email, "subject": subject, "in_reply_to": mail.in_reply_to}),
            at: now,
            author_id: Some(person.user.id),
        };
        self.store
            .record_outgoing(&person.actor(), reference, &entry, &mail)
            .await?;
        Ok(SentEmail {
            reference: reference.to_string(),
            to: email,
            subject,
        })
    }

    /// Incoming messages for the mail page: those waiting for a person, or (`all`) the most
    /// recent. The view is audited.
    pub async fn inbound_mail(&self, person: &Person, all: bool) -> AppResult<Vec<InboundMail>> {
        person.require(Permission::MailTriage)?;
        Ok(self
            .store
            .inbound(&person.actor(), all, 200, self.clock.now())
            .await?
            .into_iter()
            .map(InboundMail::from)
            .collect())
    }

    /// One incoming message with its text and files, read again from the message kept.
    pub async fn inbound_message(&self, person: &Person, id: i64) -> AppResult<InboundMessage> {
        let record = self.inbound_record(person, id).await?;
        let mail = match &record.raw_sha256 {
            Some(sha) if record.size_bytes as usize <= self.settings.mail.max_message_bytes => {
                let raw = self
                    .blobs
                    .read(sha)
                    .await
                    .map_err(|e| AppError::Internal(format!("reading a kept message: {e}")))?;
                parse::read(&raw)
            }
            _ => None,
        };
        Ok(InboundMessage {
            text: mail
                .as_ref()
                .map(|m| cut(&m.text, TEXT_MAX))
                .unwrap_or_default(),
            files: mail
                .map(|m| m.files.into_iter().map(|f| f.filename).collect())
                .unwrap_or_default(),
            mail: record.into(),
        })
    }

    async fn inbound_record(&self, person: &Person, id: i64) -> AppResult<InboundRecord> {
        person.require(Permission::MailTriage)?;
        Ok(self
            .store
            .inbound_one(&person.actor(), id, self.clock.now())
            .await?)
    }

    /// Files a waiting message on a case a person chose (its entry and files, no answer).
    pub async fn file_inbound(&self, person: &Person, id: i64, reference: &str) -> AppResult<()> {
        let record = self.inbound_record(person, id).await?;
        waiting(&record)?;
        let reference = crate::case_reference(reference.trim())
            .map_err(|_| AppError::field("reference", "unknown_case", "No such case."))?;
        let now = self.clock.now();
        match self
            .store
            .case(&person.actor(), &reference, person.scope(), false, now)
            .await
        {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(AppError::field(
                    "reference",
                    "unknown_case",
                    "No such case.",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        let raw = match &record.raw_sha256 {
            Some(sha) => self
                .blobs
                .read(sha)
                .await
                .map_err(|e| AppError::Internal(format!("reading a kept message: {e}")))?,
            None => vec![],
        };
        let Some(mail) = parse::read(&raw)
            .filter(|_| record.size_bytes as usize <= self.settings.mail.max_message_bytes)
        else {
            return Err(AppError::field(
                "reference",
                "unreadable",
                "This message cannot be read as email; it stays in quarantine.",
            ));
        };
        let sender = mail.sender.clone().unwrap_or_default();
        let mut s = self
            .filing(
                &mail,
                &sender,
                id,
                &reference,
                Visibility::Internal,
                "attached",
            )
            .await?;
        s.reason = record.reason.clone();
        self.store
            .settle_inbound(&person.actor(), id, &s, now)
            .await?;
        Ok(())
    }

    /// Sets a waiting message aside: nothing more is done with it.
    pub async fn dismiss_inbound(&self, person: &Person, id: i64) -> AppResult<()> {
        let record = self.inbound_record(person, id).await?;
        waiting(&record)?;
        let s = Settlement {
            state: "dismissed".into(),
            reason: record.reason.clone(),
            ..Settlement::default()
        };
        self.store
            .settle_inbound(&person.actor(), id, &s, self.clock.now())
            .await?;
        Ok(())
    }

    /// How many incoming messages wait for a person.
    pub async fn inbound_waiting(&self, person: &Person) -> AppResult<i64> {
        person.require(Permission::MailTriage)?;
        Ok(self.store.inbound_waiting().await?)
    }
}

fn waiting(record: &InboundRecord) -> AppResult<()> {
    if matches!(record.state.as_str(), "unmatched" | "quarantined") {
        Ok(())
    } else {
        Err(AppError::field(
            "state",
            "not_waiting",
            "This message was already filed or set aside.",
        ))
    }
}
