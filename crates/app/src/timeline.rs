//! A case's timeline: notes, calls, letters and emails added by people, reading it (company
//! users see only what is shared with them), and reminders written on it later by the job
//! worker.

use crate::{App, AppError, AppResult, Person, case_reference};
use redress_domain::records::TimelineEntry;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{CallDirection, EntryType, Permission, Visibility};
use redress_store::NewEntry;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    pub direction: CallDirection,
    #[schema(minimum = 0, maximum = 86400)]
    pub duration_seconds: i64,
    /// How long the caller waited before a person answered (inbound calls; for the hotline's
    /// service level and average speed of answer).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86400)]
    pub wait_seconds: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTimelineEntry {
    /// `note`, `call`, `letter`, `email` or `attachment`; the others are written by the system.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50000)]
    pub body: Option<String>,
    #[schema(value_type = Visibility, required = false)]
    pub visibility: Option<Visibility>,
    /// Required for calls.
    pub call: Option<CallInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderInput {
    /// When to write the reminder on the timeline (RFC 3339).
    #[schema(value_type = String, format = DateTime, example = "2026-12-01T14:00:00Z")]
    pub at: String,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50000)]
    pub body: Option<String>,
}

impl App {
    /// Adds a note, call, letter, email or attachment reference to a case's timeline.
    pub async fn add_to_timeline(
        &self,
        person: &Person,
        reference: &str,
        b: NewTimelineEntry,
    ) -> AppResult<TimelineEntry> {
        person.require(Permission::TimelineWrite)?;
        let reference = case_reference(reference)?;
        let mut errors = FieldErrors::new();
        if !b.entry_type.is_manual() {
            errors.push(
                "type",
                "not_allowed",
                "Only note, call, letter, email and attachment entries can be added.",
            );
        }
        let text = v::required_text(&mut errors, "body", b.body.as_deref(), v::BODY_MAX)
            .unwrap_or_default();
        let is_company = person.is_company();
        let visibility = match (b.visibility, is_company) {
            (None, true) | (Some(Visibility::Company), true) => Visibility::Company,
            (Some(_), true) => {
                errors.push(
                    "visibility",
                    "not_allowed",
                    "Company users write company-visible entries.",
                );
                Visibility::Company
            }
            (None, false) => Visibility::Internal,
            (Some(vis), false) => vis,
        };
        let mut data = serde_json::json!({});
        match (&b.call, b.entry_type) {
            (Some(c), EntryType::Call) => {
                if !(0..=86_400).contains(&c.duration_seconds) {
                    errors.push(
                        "call.duration_seconds",
                        "out_of_range",
                        "From 0 to 86400 seconds.",
                    );
                }
                if let Some(w) = c.wait_seconds
                    && !(0..=86_400).contains(&w)
                {
                    errors.push(
                        "call.wait_seconds",
                        "out_of_range",
                        "From 0 to 86400 seconds.",
                    );
                }
                data = serde_json::json!({"direction": c.direction, "duration_seconds": c.duration_seconds});
                if let Some(w) = c.wait_seconds {
                    data["wait_seconds"] = serde_json::json!(w);
                }
            }
            (None, EntryType::Call) => errors.push(
                "call",
                "required",
                "A call needs its direction and duration.",
            ),
            (Some(_), _) => errors.push(
                "call",
                "not_allowed",
                "Only call entries carry call details.",
            ),
            (None, _) => {}
        }
        AppError::unless_empty(errors)?;
        let entry = NewEntry {
            entry_type: b.entry_type,
            body: text,
            visibility,
            data,
            at: self.clock.now(),
            author_id: Some(person.user.id),
        };
        let saved = self
            .store
            .add_entry(&person.actor(), &reference, &entry, person.scope())
            .await?;
        // The company answered on the case: the consumer hears of it (when the lifecycle says so).
        if is_company {
            self.send_notice(
                &reference,
                &redress_domain::lifecycle::NoticeOn::CompanyResponse,
            )
            .await;
        }
        Ok(saved)
    }

    /// A case's timeline, oldest first; `visibility` (text) keeps only entries of that
    /// visibility. Company users see company-visible entries only.
    pub async fn timeline(
        &self,
        person: &Person,
        reference: &str,
        visibility: Option<&str>,
    ) -> AppResult<Vec<TimelineEntry>> {
        person.require(Permission::TimelineRead)?;
        let reference = case_reference(reference)?;
        let mut visible = match visibility {
            Some(s) => Some(s.parse::<Visibility>().map_err(|_| {
                AppError::field(
                    "visibility",
                    "unknown_value",
                    "internal, consumer or company.",
                )
            })?),
            None => None,
        };
        if person.is_company() {
            visible = Some(Visibility::Company);
        }
        Ok(self
            .store
            .timeline(
                &person.actor(),
                &reference,
                person.scope(),
                visible,
                self.clock.now(),
            )
            .await?)
    }

    /// Schedules a reminder: a note written on the timeline at the given time (run by the job
    /// worker, exactly once). Returns when.
    pub async fn schedule_reminder(
        &self,
        person: &Person,
        reference: &str,
        b: ReminderInput,
    ) -> AppResult<jiff::Timestamp> {
        person.require(Permission::CaseUpdate)?;
        let reference = case_reference(reference)?;
        let mut errors = FieldErrors::new();
        let text = v::required_text(&mut errors, "body", b.body.as_deref(), v::BODY_MAX);
        let now = self.clock.now();
        let at = match b.at.parse::<jiff::Timestamp>() {
            Ok(t) if t >= now - jiff::SignedDuration::from_mins(1) => Some(t),
            Ok(_) => {
                errors.push("at", "in_the_past", "Choose a time in the future.");
                None
            }
            Err(_) => {
                errors.push(
                    "at",
                    "invalid_date",
                    "An RFC 3339 time such as 2026-12-01T14:00:00Z.",
                );
                None
            }
        };
        let (Some(text), Some(at), true) = (text, at, errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        self.store
            .schedule_reminder(&person.actor(), &reference, person.scope(), &text, at, now)
            .await?;
        Ok(at)
    }
}
