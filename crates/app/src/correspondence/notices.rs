//! Keeping the consumer informed: the notices a case's lifecycle sends (the acknowledgement
//! when it opens, an update on a step, the company's answer, a reminder before a deadline the
//! consumer must meet), in the consumer's language, and the consumer's choice of no updates
//! beyond those the law requires.

use super::parse::IncomingMail;
use super::thread_of;
use crate::cases::mail_actor;
use crate::{App, AppError, AppResult, Person};
use redress_domain::correspondence::subject_for;
use redress_domain::lifecycle::{LetterContext, NoticeOn};
use redress_domain::records::Case;
use redress_domain::{EntryType, Permission, Visibility};
use redress_store::{NewEntry, OutgoingMail, Scope};
use serde::Deserialize;
use utoipa::ToSchema;

/// The consumer's choice of email updates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticePreference {
    /// True: the consumer asked for no email updates beyond those the law requires.
    pub opt_out: bool,
}

impl App {
    /// The notice a case's lifecycle sends on an occasion (the acknowledgement when it opens, an
    /// update on a step, the company's answer), when the case has an email address: written in
    /// the consumer's language with a private status link, as an answer to `answering` when a
    /// message opened the case. None when the consumer opted out of updates the law does not
    /// require. Returns the timeline entry that records it and the message.
    pub(crate) async fn notice(
        &self,
        case: &Case,
        on: &NoticeOn,
        answering: Option<&IncomingMail>,
    ) -> AppResult<Option<(NewEntry, OutgoingMail)>> {
        let Some(consumer) = &case.consumer else {
            return Ok(None);
        };
        let Some(email) = consumer.email.clone() else {
            return Ok(None);
        };
        let lc = self.lifecycle_of(case)?;
        let opted_out = case
            .facts
            .iter()
            .any(|f| f.name == redress_store::NOTICES_OPT_OUT && f.value == "yes");
        let Some(notice) = lc
            .notices_on(on)
            .into_iter()
            .find(|n| n.required || !opted_out)
        else {
            return Ok(None);
        };
        let token = self.mint_portal_link(&case.reference).await?;
        let tz = jiff::tz::TimeZone::get(&self.office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        // The due dates of the case's running clocks, by day.
        let dues = self
            .store
            .clocks(&case.reference, Scope::default(), self.clock.now())
            .await?
            .into_iter()
            .filter(|c| c.state == redress_domain::clock::ClockState::Running)
            .map(|c| (c.name, c.due_at.to_zoned(tz.clone()).date().to_string()))
            .collect();
        let ctx = LetterContext {
            reference: case.reference.clone(),
            consumer: consumer.name.clone(),
            company: case
                .company
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            amount: case
                .amount_in_dispute
                .clone()
                .unwrap_or_else(|| "0.00".into()),
            today: self.clock.now().to_zoned(tz).date().to_string(),
            facts: case
                .facts
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect(),
            status_link: self.public_link(&format!("/portal/status/{token}")),
            dues,
        };
        let letter = lc.render(&notice.letter, consumer.preferred_language, &ctx);
        let subject = subject_for(&case.reference, &letter.subject, false);
        let mut mail = OutgoingMail::new(
            email.clone(),
            subject.clone(),
            letter.body.clone(),
            Some(case.reference.clone()),
        );
        mail.automatic = true;
        if let Some(m) = answering {
            mail.in_reply_to = m.message_id.clone();
            mail.references = thread_of(m);
        }
        let entry = NewEntry {
            entry_type: EntryType::Email,
            body: letter.body,
            visibility: Visibility::Consumer,
            data: serde_json::json!({"direction": "out", "to": email, "subject": subject, "notice": notice.name, "language": consumer.preferred_language}),
            at: self.clock.now(),
            author_id: None,
        };
        Ok(Some((entry, mail)))
    }

    /// Sends the acknowledgement of a case staff opened, from the case as it was saved (a
    /// failure is logged, never undoes the case).
    pub(crate) async fn acknowledge_opening(&self, case: &Case) {
        let sent = async {
            if let Some((entry, mail)) = self.notice(case, &NoticeOn::Opened, None).await? {
                self.store
                    .record_outgoing(&mail_actor(), &case.reference, &entry, &mail)
                    .await?;
            }
            AppResult::Ok(())
        };
        if let Err(e) = sent.await {
            tracing::error!(reference = %case.reference, error = %e, "the acknowledgement was not queued");
        }
    }

    /// Sends a case's notice on an occasion, after what caused it is saved (a failure is
    /// logged, never undoes the change). The case is read again, with its consumer, as the
    /// mail's view.
    pub(crate) async fn send_notice(&self, reference: &str, on: &NoticeOn) {
        let sent = async {
            let now = self.clock.now();
            // Whether the case's lifecycle has such a notice at all, before reading anyone's
            // address.
            let case = self
                .store
                .case(&mail_actor(), reference, Scope::default(), false, now)
                .await?;
            if self.lifecycle_of(&case)?.notices_on(on).is_empty() {
                return Ok(());
            }
            let case = self
                .store
                .case(&mail_actor(), reference, Scope::default(), true, now)
                .await?;
            if let Some((entry, mail)) = self.notice(&case, on, None).await? {
                self.store
                    .record_outgoing(&mail_actor(), reference, &entry, &mail)
                    .await?;
            }
            AppResult::Ok(())
        };
        if let Err(e) = sent.await {
            tracing::error!(%reference, error = %e, "a notice to the consumer was not queued");
        }
    }

    /// Reminds consumers of deadlines they must meet: for each lifecycle's reminder notice, the
    /// cases whose clock falls due within its days get it once (per clock and due date, even
    /// with several nodes). Returns how many were queued.
    pub async fn remind_consumers(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let mut reminders: Vec<(String, u32)> = Vec::new();
        for lc in &self.lifecycles.0 {
            for n in &lc.notices {
                if let NoticeOn::Reminder { clock, days_before } = &n.on
                    && !reminders.contains(&(clock.clone(), *days_before))
                {
                    reminders.push((clock.clone(), *days_before));
                }
            }
        }
        let mut sent = 0;
        for (clock, days) in reminders {
            let until = now + jiff::SignedDuration::from_hours(24 * i64::from(days));
            let on = NoticeOn::Reminder {
                clock: clock.clone(),
                days_before: days,
            };
            for (reference, due) in self
                .store
                .clocks_falling_due(&clock, now, until, 500)
                .await?
            {
                let case = self
                    .store
                    .case(&mail_actor(), &reference, Scope::default(), false, now)
                    .await?;
                if self.lifecycle_of(&case)?.notices_on(&on).is_empty() {
                    continue;
                }
                let key = format!("reminded_{clock}");
                let due_key = due.to_string();
                if case
                    .facts
                    .iter()
                    .any(|f| f.name == key && f.value == due_key)
                {
                    continue;
                }
                let case = self
                    .store
                    .case(&mail_actor(), &reference, Scope::default(), true, now)
                    .await?;
                if let Some((entry, mail)) = self.notice(&case, &on, None).await?
                    && self
                        .store
                        .record_outgoing_once(
                            &mail_actor(),
                            &reference,
                            &entry,
                            &mail,
                            (&key, &due_key),
                        )
                        .await?
                {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    }

    /// Records the consumer's choice of email updates (staff, on the consumer's word): opted
    /// out, only the notices the law requires are sent.
    pub async fn set_notice_preference(
        &self,
        person: &Person,
        reference: &str,
        input: NoticePreference,
    ) -> AppResult<()> {
        person.require(Permission::CaseUpdate)?;
        let reference = crate::case_reference(reference)?;
        self.store
            .case(
                &person.actor(),
                &reference,
                person.scope(),
                false,
                self.clock.now(),
            )
            .await?;
        Ok(self
            .store
            .set_notice_preference(&person.actor(), &reference, input.opt_out, self.clock.now())
            .await?)
    }
}
