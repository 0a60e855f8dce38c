//! Letters on paper: the print queue, batches of the day's letters printed as one PDF with a
//! mailing list, marking a batch mailed (which records each letter's mailing date and starts
//! the clocks that count from it), and any letter printed on its own.
//!
//! Typesetting is the [`Press`]'s: the binary plugs in the typeset one (`redress-letters`),
//! so that this crate and its front doors never build the typesetter.

use crate::{App, AppError, AppResult, Person};
use jiff::civil::Date;
use redress_domain::Permission;
use redress_domain::calendar::date_in_words;
use redress_domain::lifecycle::ClockEffect;
use redress_store::{BatchRecord, BatchedLetter, LetterRecord, MailingOnCase, Scope, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The office's letterhead.
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub name: String,
    pub address_lines: Vec<String>,
    pub phone: Option<String>,
    pub web: Option<String>,
}

/// One letter as it is printed.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub spanish: bool,
    /// The address block: name, then the address lines.
    pub recipient: Vec<String>,
    /// The date, written in the letter's language.
    pub date: String,
    pub reference: String,
    pub subject: String,
    pub body: String,
}

/// One line of a batch's mailing list.
#[derive(Debug, Clone)]
pub struct ListLine {
    pub reference: String,
    pub recipient: Vec<String>,
    pub letter: String,
}

/// What typesets letters into a PDF.
pub trait Press: Send + Sync {
    /// Letters (each starting on a new page, numbered on its own), then the mailing list when
    /// it is not empty.
    fn print(
        &self,
        letterhead: &Letterhead,
        sheets: &[Sheet],
        list: &[ListLine],
        title: &str,
    ) -> Result<Vec<u8>, String>;
}

/// A letter kept for printing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrintedLetter {
    pub id: i64,
    pub reference: String,
    /// The lifecycle's name for the letter.
    pub name: String,
    /// The step that wrote it.
    pub transition: String,
    /// consumer or company.
    pub addressee: String,
    /// en or es.
    pub language: String,
    pub subject: String,
    /// The address block, line by line.
    pub recipient: Vec<String>,
    /// queued (waiting to be printed), batched, mailed, emailed (sent by email only) or
    /// not_queued (a copy for the record).
    pub state: String,
    /// The mailing-date field its mailing records on the case (the step left it to the queue).
    pub awaiting_field: Option<String>,
    pub batch_id: Option<i64>,
    pub mailed_on: Option<String>,
    pub created_at: jiff::Timestamp,
}

impl From<LetterRecord> for PrintedLetter {
    fn from(l: LetterRecord) -> Self {
        PrintedLetter {
            id: l.id,
            reference: l.reference,
            name: l.name,
            transition: l.transition,
            addressee: l.addressee,
            language: l.language,
            subject: l.subject,
            recipient: l.recipient,
            state: l.state,
            awaiting_field: l.awaiting_field,
            batch_id: l.batch_id,
            mailed_on: l.mailed_on,
            created_at: l.created_at,
        }
    }
}

/// A batch of letters printed together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LetterBatch {
    pub id: i64,
    pub created_at: jiff::Timestamp,
    pub created_by: String,
    /// The day it was printed for: its letters give it as their date (and mailing date).
    pub mail_on: String,
    /// The day it was mailed, once marked.
    pub mailed_on: Option<String>,
    pub mailed_by: Option<String>,
    /// How many letters it holds.
    pub letters: i64,
}

impl From<BatchRecord> for LetterBatch {
    fn from(b: BatchRecord) -> Self {
        LetterBatch {
            id: b.id,
            created_at: b.created_at,
            created_by: b.created_by,
            mail_on: b.mail_on,
            mailed_on: b.mailed_on,
            mailed_by: b.mailed_by,
            letters: b.letters,
        }
    }
}

/// When a batch was mailed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchMailed {
    /// The day the batch went in the mail: not before it was printed, not after today.
    #[schema(example = "2026-12-02", format = Date)]
    pub mailed_on: String,
}

/// The states a letter can be listed by.
pub const LETTER_STATES: &[&str] = &["queued", "batched", "mailed", "emailed", "not_queued"];

impl App {
    fn may_print(person: &Person) -> AppResult<()> {
        person.require(Permission::CaseChangeStatus)?;
        person.require(Permission::ConsumerRead)
    }

    /// Letters in a state (`queued` when none is given: the print queue), oldest first.
    pub async fn letters(
        &self,
        person: &Person,
        state: Option<&str>,
    ) -> AppResult<Vec<PrintedLetter>> {
        Self::may_print(person)?;
        // Absent: the print queue. Given, it must be one of the states (an empty one is not).
        let state = state.map_or("queued", str::trim);
        if !LETTER_STATES.contains(&state) {
            return Err(AppError::field(
                "state",
                "unknown_state",
                "queued, batched, mailed, emailed or not_queued.",
            ));
        }
        Ok(self
            .store
            .letters(&person.actor(), state, 1000, self.clock.now())
            .await?
            .into_iter()
            .map(PrintedLetter::from)
            .collect())
    }

    /// The office's date today.
    pub(crate) async fn office_today(
        &self,
    ) -> AppResult<(Date, redress_domain::calendar::Calendar, jiff::tz::TimeZone)> {
        let (cal, tz) = self.store.office_calendar(&self.office.code).await?;
        Ok((self.clock.now().to_zoned(tz.clone()).date(), cal, tz))
    }

    /// Gathers every queued letter into a batch printed for today. A letter whose step left
    /// its mailing date to the queue is written out again with today as that date (and the
    /// due dates that follow from it).
    pub async fn make_batch(&self, person: &Person) -> AppResult<LetterBatch> {
        Self::may_print(person)?;
        let now = self.clock.now();
        let (today, cal, tz) = self.office_today().await?;
        let queued = self
            .store
            .letters(&person.actor(), "queued", 1000, now)
            .await?;
        if queued.is_empty() {
            return Err(AppError::field(
                "letters",
                "queue_empty",
                "No letter waits in the print queue.",
            ));
        }
        let mut batched = Vec::new();
        for l in &queued {
            let (subject, body) = match &l.awaiting_field {
                Some(field) => self.written_for(l, field, today, (&cal, &tz)).await?,
                None => (l.subject.clone(), l.body.clone()),
            };
            batched.push(BatchedLetter {
                id: l.id,
                subject,
                body,
            });
        }
        match self
            .store
            .make_batch(&person.actor(), &today.to_string(), &batched, now)
            .await
        {
            Ok(b) => Ok(b.into()),
            Err(StoreError::NotFound) => Err(AppError::field(
                "letters",
                "queue_empty",
                "No letter waits in the print queue.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A letter written out again as if mailed on `mailed_on`: that date in its mailing-date
    /// field, and the due dates of the clocks that count from it.
    async fn written_for(
        &self,
        l: &LetterRecord,
        field: &str,
        mailed_on: Date,
        calendar: (&redress_domain::calendar::Calendar, &jiff::tz::TimeZone),
    ) -> AppResult<(String, String)> {
        let now = self.clock.now();
        let case = self
            .store
            .case(
                &crate::cases::mail_actor(),
                &l.reference,
                Scope::default(),
                false,
                now,
            )
            .await?;
        let lc = self.lifecycle_of(&case)?;
        let Some(def) = lc.letters.iter().find(|d| d.name == l.name) else {
            return Ok((l.subject.clone(), l.body.clone()));
        };
        let starts = lc.mailing_starts(&l.transition, field, mailed_on, now);
        let (_, ctx) = self
            .letter_context(
                &l.reference,
                &[(field.to_string(), mailed_on.to_string())],
                &starts,
                calendar,
                now,
            )
            .await?;
        let language = if l.language == "es" {
            redress_domain::Language::Es
        } else {
            redress_domain::Language::En
        };
        let letter = lc.render(def, language, &ctx);
        Ok((letter.subject, letter.body))
    }

    /// A batch and its letters.
    pub async fn letter_batch(
        &self,
        person: &Person,
        id: i64,
    ) -> AppResult<(LetterBatch, Vec<PrintedLetter>)> {
        Self::may_print(person)?;
        let (b, letters) = self.store.batch(id).await?;
        Ok((
            b.into(),
            letters.into_iter().map(PrintedLetter::from).collect(),
        ))
    }

    /// The most recent batches.
    pub async fn letter_batches(&self, person: &Person) -> AppResult<Vec<LetterBatch>> {
        Self::may_print(person)?;
        Ok(self
            .store
            .batches(50)
            .await?
            .into_iter()
            .map(LetterBatch::from)
            .collect())
    }

    fn press(&self) -> AppResult<std::sync::Arc<dyn Press>> {
        self.press.clone().ok_or_else(|| {
            AppError::Unavailable("printing is not available in this build of Redress".into())
        })
    }

    /// Typesets on a blocking thread (typesetting a batch takes a while).
    async fn typeset(
        &self,
        press: std::sync::Arc<dyn Press>,
        sheets: Vec<Sheet>,
        list: Vec<ListLine>,
        title: String,
    ) -> AppResult<Vec<u8>> {
        let letterhead = self.letterhead();
        tokio::task::spawn_blocking(move || press.print(&letterhead, &sheets, &list, &title))
            .await
            .map_err(|e| AppError::Internal(format!("typesetting stopped: {e}")))?
            .map_err(|e| AppError::Internal(format!("typesetting: {e}")))
    }

    fn letterhead(&self) -> Letterhead {
        Letterhead {
            name: self.office.name.clone(),
            address_lines: self.settings.office_address.clone(),
            phone: self.settings.office_phone.clone(),
            web: Some(self.settings.public_url.clone()),
        }
    }

    fn sheet(&self, l: &LetterRecord, printed_for: Option<&str>) -> Sheet {
        let spanish = l.language == "es";
        let day = printed_for
            .and_then(|d| d.parse::<Date>().ok())
            .unwrap_or_else(|| {
                jiff::tz::TimeZone::get(&self.office.time_zone)
                    .map(|tz| l.created_at.to_zoned(tz).date())
                    .unwrap_or_else(|_| l.created_at.to_zoned(jiff::tz::TimeZone::UTC).date())
            });
        Sheet {
            spanish,
            recipient: l.recipient.clone(),
            date: date_in_words(day, spanish),
            reference: l.reference.clone(),
            subject: l.subject.clone(),
            body: l.body.clone(),
        }
    }

    /// A batch as one PDF: its letters, then its mailing list.
    pub async fn batch_pdf(&self, person: &Person, id: i64) -> AppResult<Vec<u8>> {
        Self::may_print(person)?;
        let press = self.press()?;
        let (b, letters) = self.store.batch(id).await?;
        // Each letter's text and address is read again to print it: audited.
        for l in &letters {
            self.store
                .letter(&person.actor(), l.id, self.clock.now())
                .await?;
        }
        let sheets: Vec<Sheet> = letters
            .iter()
            .map(|l| self.sheet(l, Some(&b.mail_on)))
            .collect();
        let list: Vec<ListLine> = letters
            .iter()
            .map(|l| ListLine {
                reference: l.reference.clone(),
                recipient: l.recipient.clone(),
                letter: l.name.replace('_', " "),
            })
            .collect();
        let mail_on = b
            .mail_on
            .parse::<Date>()
            .map(|d| date_in_words(d, false))
            .unwrap_or(b.mail_on.clone());
        let title = format!("Batch {} — {} letters for {mail_on}", b.id, letters.len());
        self.typeset(press, sheets, list, title).await
    }

    /// One letter as a PDF (the view is audited).
    pub async fn letter_pdf(
        &self,
        person: &Person,
        id: i64,
    ) -> AppResult<(PrintedLetter, Vec<u8>)> {
        Self::may_print(person)?;
        let press = self.press()?;
        let l = self
            .store
            .letter(&person.actor(), id, self.clock.now())
            .await?;
        let printed_for = match l.batch_id {
            Some(b) => Some(self.store.batch(b).await?.0.mail_on),
            None => None,
        };
        let sheet = self.sheet(&l, printed_for.as_deref());
        let pdf = self
            .typeset(press, vec![sheet], vec![], l.subject.clone())
            .await?;
        Ok((l.into(), pdf))
    }

    /// Marks a batch mailed: each letter's mailing date, and on each case whose step left its
    /// mailing date to the queue, that date and the clocks that count from it.
    pub async fn mark_batch_mailed(
        &self,
        person: &Person,
        id: i64,
        input: BatchMailed,
    ) -> AppResult<LetterBatch> {
        Self::may_print(person)?;
        let now = self.clock.now();
        let (today, _, tz) = self.office_today().await?;
        let (b, letters) = self.store.batch(id).await?;
        let printed = b.created_at.to_zoned(tz).date();
        let mailed_on = match input.mailed_on.trim().parse::<Date>() {
            Ok(d) if d > today => {
                return Err(AppError::field(
                    "mailed_on",
                    "in_the_future",
                    "The day it was mailed cannot be later than today.",
                ));
            }
            Ok(d) if d < printed => {
                return Err(AppError::field(
                    "mailed_on",
                    "before_printing",
                    &format!(
                        "The batch was printed on {printed}: it cannot have been mailed before."
                    ),
                ));
            }
            Ok(d) => d,
            Err(_) => {
                return Err(AppError::field(
                    "mailed_on",
                    "invalid_date",
                    "A date such as 2026-12-01.",
                ));
            }
        };
        if b.mailed_on.is_some() {
            return Err(AppError::Conflict(format!(
                "batch {id} was marked mailed before"
            )));
        }
        let mut cases: Vec<MailingOnCase> = Vec::new();
        for l in letters.iter().filter(|l| l.awaiting_field.is_some()) {
            let field = l.awaiting_field.clone().unwrap_or_default();
            if cases
                .iter()
                .any(|c| c.reference == l.reference && c.field == field)
            {
                continue;
            }
            let case = self
                .store
                .case(&person.actor(), &l.reference, Scope::default(), false, now)
                .await?;
            let lc = self.lifecycle_of(&case)?;
            let effects: Vec<ClockEffect> =
                lc.mailing_starts(&l.transition, &field, mailed_on, now);
            cases.push(MailingOnCase {
                reference: l.reference.clone(),
                field,
                effects,
            });
        }
        Ok(self
            .store
            .mark_batch_mailed(&person.actor(), id, &mailed_on.to_string(), &cases, now)
            .await?
            .into())
    }

    /// How many letters wait in the print queue.
    pub async fn letters_queued(&self, person: &Person) -> AppResult<i64> {
        Self::may_print(person)?;
        Ok(self.store.letters_queued().await?)
    }
}
