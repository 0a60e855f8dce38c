//! The public portal: anyone may file a complaint or ask a question without an account, then
//! follow it with a private link (or the reference number and the email or phone given) and add
//! to it. Nobody here is signed in: the audit log and the timeline name the portal, and a
//! private link is the only key to a case (only its hash is kept).

use crate::attachments::Upload;
use crate::cases::{AddressInput, ConsumerInput, CreateCase, Intake, portal_actor};
use crate::steps::CaseLifecycle;
use crate::{App, AppError, AppResult};
use redress_domain::audit::sha256_hex;
use redress_domain::records::{Attachment, Case, Category, Company, TimelineEntry};
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::view::Audience;
use redress_domain::{CaseKind, Channel, EntryType, Language, Reference, Visibility};
use redress_store::{NewAttachment, NewEntry, OutgoingMail, Scope, StoreError};

/// A complaint or question as typed on the public form (each value trimmed, empty as absent).
#[derive(Debug, Default, Clone)]
pub struct PortalComplaint {
    /// `inquiry` for a question; anything else files a complaint.
    pub kind: Option<String>,
    pub description: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub zip: Option<String>,
    pub account_number: Option<String>,
    /// The company as typed or chosen from the suggestions: its name (or its id).
    pub company: Option<String>,
    /// A category path from the form's list.
    pub category: Option<String>,
    pub amount_in_dispute: Option<String>,
    /// The language the person filed in (their preferred language from now on).
    pub spanish: bool,
    /// The person ticked the box that lets the office publish what they wrote, without their
    /// details, in its open data.
    pub publish_consent: bool,
}

/// What the complaint form offers to choose from.
pub struct PortalChoices {
    pub companies: Vec<Company>,
    pub categories: Vec<Category>,
}

/// Who an update on the portal comes from, as the consumer reads it. A company's own notes are
/// never visible to the consumer (its representatives write company-visible entries), so what
/// the portal shows comes from the consumer or from the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The consumer themselves (what they added on the portal, or the complaint itself).
    You,
    /// The office's staff or Redress on the office's behalf.
    Office,
}

/// What a private status link shows.
pub struct PortalStatus {
    /// The case as the consumer may see it.
    pub case: Case,
    /// The timeline entries the consumer may see, oldest first, with who each is from.
    pub entries: Vec<(TimelineEntry, Sender)>,
    /// Where the case stands, in words the public reads, and the termination hold if any.
    pub stage: CaseLifecycle,
}

/// The company a consumer named: one on file by its name (any case, spaces trimmed) or id.
pub fn company_named<'a>(companies: &'a [Company], typed: &str) -> Option<&'a Company> {
    let typed = typed.trim();
    let folded = typed.to_lowercase();
    companies
        .iter()
        .find(|c| c.name.to_lowercase() == folded)
        .or_else(|| {
            typed
                .parse::<i64>()
                .ok()
                .and_then(|id| companies.iter().find(|c| c.id == id))
        })
}

/// The case a portal filing opens. The public never chooses a consumer record: every filing
/// makes a new one with exactly what was typed, and no existing record is read or changed. A
/// company typed that is not on file is kept in the description for staff to find.
pub fn portal_case(c: PortalComplaint, companies: &[Company]) -> AppResult<CreateCase> {
    let kind = match c.kind.as_deref() {
        Some("inquiry") => CaseKind::Inquiry,
        _ => CaseKind::Complaint,
    };
    let typed = c
        .company
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let found = typed.and_then(|t| company_named(companies, t));
    let description = match (typed, found, c.description) {
        (Some(t), None, Some(d)) => Some(format!("{d}\n\n(Company named on the form: {t})")),
        (_, _, d) => d,
    };
    Ok(CreateCase {
        kind,
        channel: Channel::Web,
        description,
        consumer_id: None,
        consumer: Some(ConsumerInput {
            name: c.name,
            email: c.email,
            phone: c.phone,
            preferred_language: Some(if c.spanish {
                Language::Es
            } else {
                Language::En
            }),
            address: Some(AddressInput {
                line1: c.address_line1,
                line2: None,
                city: None,
                state: None,
                zip: c.zip,
            }),
            account_number: c.account_number,
        }),
        company_id: found.map(|f| f.id),
        category: c.category,
        amount_in_dispute: c.amount_in_dispute.map(serde_json::Value::String),
        priority: None,
        flags: vec![],
        unit: None,
        assignee: None,
        office: None,
        lifecycle: None,
        publish_consent: Some(c.publish_consent),
    })
}

/// A private status link's token as handed out: 48 hex characters.
pub fn valid_portal_token(token: &str) -> bool {
    token.len() == 48 && token.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether what someone typed as their contact is the email or the phone number on the case.
pub fn contact_matches(email: Option<&str>, phone: Option<&str>, contact: &str) -> bool {
    let typed_email = contact.to_ascii_lowercase();
    let typed_phone = v::normalize_phone(contact);
    email == Some(typed_email.as_str())
        || (typed_phone.is_some() && phone == typed_phone.as_deref())
}

impl App {
    /// The companies and categories the complaint form offers.
    pub async fn portal_choices(&self) -> AppResult<PortalChoices> {
        Ok(PortalChoices {
            companies: self.store.companies().await?,
            categories: self.store.categories().await?,
        })
    }

    /// Files a complaint or question from the portal and returns the token of its private
    /// status link. When the consumer gave an email, the link is mailed to them: `letter` words
    /// the message (subject, body) from the case's reference and the link, which is built from
    /// the configured public address, never from a request.
    pub async fn file_from_portal(
        &self,
        complaint: PortalComplaint,
        letter: impl FnOnce(&str, &str) -> (String, String),
    ) -> AppResult<String> {
        let companies = self.store.companies().await?;
        let input = portal_case(complaint, &companies)?;
        let (case, _) = self.open_case(Intake::Portal, input, None).await?;
        let token = self.mint_portal_link(&case.reference).await?;
        if let Some(email) = case.consumer.as_ref().and_then(|c| c.email.clone()) {
            let link = self.public_link(&format!("/portal/status/{token}"));
            let (subject, body) = letter(&case.reference, &link);
            let mut mail = OutgoingMail::new(email, subject, body, Some(case.reference.clone()));
            mail.automatic = true;
            self.store.enqueue_mail(&mail, self.clock.now()).await?;
        }
        Ok(token)
    }

    /// A new private status link for the case whose reference and contact (the email or phone
    /// on it) were typed; `None` when they do not name a case together. The case is read as the
    /// portal, audited.
    pub async fn portal_link_by_contact(
        &self,
        reference: &str,
        contact: &str,
    ) -> AppResult<Option<String>> {
        let Ok(reference) = reference.trim().to_ascii_uppercase().parse::<Reference>() else {
            return Ok(None);
        };
        let reference = reference.to_string();
        let case = match self
            .store
            .case(
                &portal_actor(),
                &reference,
                Scope::default(),
                true,
                self.clock.now(),
            )
            .await
        {
            Ok(case) => case,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let matched = case
            .consumer
            .as_ref()
            .is_some_and(|c| contact_matches(c.email.as_deref(), c.phone.as_deref(), contact));
        if !matched {
            return Ok(None);
        }
        Ok(Some(self.mint_portal_link(&reference).await?))
    }

    /// What a private link shows: the case as the consumer may see it, its consumer-visible
    /// timeline, and where it stands (in Spanish or English). `NotFound` for a link that opens
    /// nothing.
    pub async fn portal_status(&self, token: &str, spanish: bool) -> AppResult<PortalStatus> {
        let reference = self.portal_case_of(token).await?;
        let now = self.clock.now();
        let actor = portal_actor();
        let case = self
            .store
            .case(&actor, &reference, Scope::default(), true, now)
            .await?;
        let entries = self
            .store
            .timeline(
                &actor,
                &reference,
                Scope::default(),
                Some(Visibility::Consumer),
                now,
            )
            .await?;
        let entries = entries
            .into_iter()
            .map(|e| {
                let from = if e.data["from"] == "consumer"
                    || e.data["source"] == "portal"
                    || e.data["by"] == "portal"
                {
                    Sender::You
                } else {
                    Sender::Office
                };
                (e, from)
            })
            .collect();
        let clocks = self.store.clocks(&reference, Scope::default(), now).await?;
        let stage = self.describe_stage(&case, &clocks, None, spanish).await?;
        // What the consumer may see of the case: the same rule as every other representation.
        let case = self.case_for(Audience::Consumer, case);
        Ok(PortalStatus {
            case,
            entries,
            stage,
        })
    }

    /// Adds what the consumer wrote and/or a document to the case a private link opens, both
    /// visible to the consumer. Something must be written or attached; nothing is written when
    /// anything is wrong.
    pub async fn add_from_portal(
        &self,
        token: &str,
        body: Option<&str>,
        upload: Option<Upload>,
    ) -> AppResult<()> {
        let reference = self.portal_case_of(token).await?;
        let mut errors = FieldErrors::new();
        let body = v::optional_text(&mut errors, "body", body, v::BODY_MAX);
        if body.is_none() && upload.is_none() && errors.is_empty() {
            errors.push(
                "body",
                "body_or_file",
                "Write something or attach a document.",
            );
        }
        AppError::unless_empty(errors)?;
        let now = self.clock.now();
        let actor = portal_actor();
        if let Some(upload) = upload {
            let size = upload.bytes.len() as i64;
            let sha = self
                .blobs
                .save(upload.bytes)
                .await
                .map_err(|e| AppError::Internal(format!("storing an attachment: {e}")))?;
            let new = NewAttachment {
                filename: upload.filename,
                content_type: upload.content_type.to_string(),
                size_bytes: size,
                sha256: sha,
                visibility: Visibility::Consumer,
                note: None,
                at: now,
                author_id: None,
            };
            self.store
                .add_attachment(&actor, &reference, &new, Scope::default())
                .await?;
        }
        if let Some(body) = body {
            let entry = NewEntry {
                entry_type: EntryType::Note,
                body,
                visibility: Visibility::Consumer,
                data: serde_json::json!({"source": "portal", "from": "consumer"}),
                at: now,
                author_id: None,
            };
            self.store
                .add_entry(&actor, &reference, &entry, Scope::default())
                .await?;
        }
        Ok(())
    }

    /// Opens a consumer-visible attachment of the case a private link opens (audited): its
    /// record and its bytes.
    pub async fn portal_download(&self, token: &str, id: i64) -> AppResult<(Attachment, Vec<u8>)> {
        let reference = self.portal_case_of(token).await?;
        let a = self
            .store
            .open_attachment(
                &portal_actor(),
                &reference,
                id,
                Scope::default(),
                Some(Visibility::Consumer),
                self.clock.now(),
            )
            .await?;
        let bytes = self.file_bytes(&a).await?;
        Ok((a, bytes))
    }

    /// The reference of the case a private link opens.
    async fn portal_case_of(&self, token: &str) -> AppResult<String> {
        if !valid_portal_token(token) {
            return Err(AppError::NotFound);
        }
        Ok(self
            .store
            .case_by_portal_token(&sha256_hex(token.as_bytes()))
            .await?)
    }

    /// A new private status link for a case; only its hash is kept.
    pub(crate) async fn mint_portal_link(&self, reference: &str) -> AppResult<String> {
        let token = crate::accounts::random_hex(24)?;
        self.store
            .create_portal_access(reference, &sha256_hex(token.as_bytes()), self.clock.now())
            .await?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn companies() -> Vec<Company> {
        let at = jiff::Timestamp::UNIX_EPOCH;
        vec![
            Company {
                id: 7,
                name: "Consolidated Edison".into(),
                industry: "Energy".into(),
                customer_count: None,
                created_at: at,
            },
            Company {
                id: 8,
                name: "National Grid".into(),
                industry: "Energy".into(),
                customer_count: None,
                created_at: at,
            },
        ]
    }

    #[test]
    fn a_filing_makes_a_new_consumer_record() {
        let case = portal_case(
            PortalComplaint {
                kind: Some("inquiry".into()),
                name: Some("Ana".into()),
                company: Some("7".into()),
                amount_in_dispute: Some("12.50".into()),
                spanish: true,
                ..PortalComplaint::default()
            },
            &companies(),
        )
        .expect("case");
        assert_eq!(case.kind, CaseKind::Inquiry);
        assert_eq!(case.channel, Channel::Web);
        assert_eq!(case.consumer_id, None);
        assert_eq!(case.company_id, Some(7));
        let consumer = case.consumer.expect("consumer");
        assert_eq!(consumer.preferred_language, Some(Language::Es));
        assert_eq!(
            case.amount_in_dispute,
            Some(serde_json::Value::String("12.50".into()))
        );
        assert!(case.unit.is_none() && case.assignee.is_none() && case.priority.is_none());
    }

    #[test]
    fn a_typed_company_is_found_by_name_or_kept_in_the_description() {
        let case = portal_case(PortalComplaint::default(), &companies()).expect("case");
        assert_eq!(case.kind, CaseKind::Complaint);
        assert_eq!(case.company_id, None);
        let case = portal_case(
            PortalComplaint {
                company: Some("  national grid ".into()),
                description: Some("No heat.".into()),
                ..PortalComplaint::default()
            },
            &companies(),
        )
        .expect("case");
        assert_eq!(case.company_id, Some(8));
        assert_eq!(case.description.as_deref(), Some("No heat."));
        let case = portal_case(
            PortalComplaint {
                company: Some("Acme Gas & Light".into()),
                description: Some("No heat.".into()),
                ..PortalComplaint::default()
            },
            &companies(),
        )
        .expect("case");
        assert_eq!(case.company_id, None);
        assert_eq!(
            case.description.as_deref(),
            Some("No heat.\n\n(Company named on the form: Acme Gas & Light)")
        );
    }

    #[test]
    fn tokens_and_contacts() {
        assert!(valid_portal_token(&"a1".repeat(24)));
        assert!(!valid_portal_token(&"a1".repeat(23)));
        assert!(!valid_portal_token(&format!("{}zz", "a1".repeat(23))));
        let email = Some("ana@example.com");
        assert!(contact_matches(email, None, "Ana@Example.com"));
        assert!(!contact_matches(email, None, "bob@example.com"));
        let phone = v::normalize_phone("(212) 555-0100");
        assert!(phone.is_some());
        assert!(contact_matches(None, phone.as_deref(), "212-555-0100"));
        assert!(!contact_matches(None, None, "not a phone"));
        assert!(!contact_matches(None, phone.as_deref(), "212-555-0199"));
    }
}
