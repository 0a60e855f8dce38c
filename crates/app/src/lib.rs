//! The office's use cases: everything a person, a mail pipe, an import or a background job can do
//! with Redress, written once and reached from every front door (the web crate's API and pages, the
//! binary's commands and loops). This crate knows nothing of HTTP: no routes, status codes or
//! cookies. It takes plain commands, checks them (naming each field that is wrong), asks the
//! store, and answers with records or an [`AppError`].
//!
//! - [`App`]: the office's context (store, clock, lifecycles, attachment storage, mailer,
//!   settings), cheap to clone.
//! - [`Person`]: who acts, and what their role lets them do and see.
//! - One module per area of work: [`cases`] (open, change, list, assign, link, merge),
//!   [`timeline`] (entries, reminders, attachments), [`steps`] (lifecycle steps and their
//!   letters, where a case stands), [`consumers`], [`directory`] (offices, units, companies,
//!   categories, users, tokens), [`accounts`] (passwords, tokens, sign-in, sessions),
//!   [`portal`] (the public's complaints, status links and documents), [`supervision`]
//!   (unit workload and reassignment, the administrators' page, lifecycles to read),
//!   [`work`] (queues, deadlines, supervision), [`routing`] (every case lands in a queue),
//!   [`correspondence`] (mail in, answers, acknowledgements, the mail page), [`audit`], and
//!   the background work:
//!   [`outbox`], [`deadlines`], [`jobs`].

pub mod accounts;
pub mod administration;
pub mod attachments;
pub mod audit;
pub mod cases;
pub mod consumers;
pub mod correspondence;
pub mod deadlines;
pub mod directory;
pub mod error;
pub mod export;
pub mod import;
pub mod jobs;
pub mod letters;
pub mod lists;
pub mod outbox;
pub mod person;
pub mod portal;
pub mod reports;
pub mod routing;
pub mod saved;
pub mod search;
pub mod steps;
pub mod supervision;
pub mod timeline;
pub mod work;

pub use error::{AppError, AppResult};
pub use person::Person;
/// Records of the store that use cases take or return, for the front doors (which do not reach
/// the store themselves).
pub use redress_store::{AgentLoad, AuditVerdict, IdempotencyKey, UnitLoad};

use redress_domain::Clock;
use redress_domain::lifecycle::{Lifecycle, Lifecycles};
use redress_domain::records::{Case, Office};
use redress_store::Store;
use std::sync::Arc;

/// The office's settings that use cases need (the HTTP face has its own).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address the public reaches Redress at (`https://complaints.example.gov`), without a
    /// trailing slash. Every link that leaves Redress (emails, the portal's private status link)
    /// is built from it, never from a request.
    pub public_url: String,
    /// Where attachment bytes are kept (shared between nodes on PostgreSQL).
    pub attachments_dir: std::path::PathBuf,
    /// The largest attachment accepted, in bytes.
    pub max_upload_bytes: usize,
    /// How long a claimed job is reserved for its node before another may take it over.
    pub job_lease: jiff::SignedDuration,
    /// Fault injection for fail-over drills: hold each claimed job this long before running it
    /// (so that a node can be stopped mid-job). `None` in normal operation.
    pub job_stall: Option<std::time::Duration>,
    /// Agents may assign a case to themselves ([`App::take_case`]); senior agents and up always
    /// may assign.
    pub agents_take_cases: bool,
    /// The office's public phone number, shown on every page of the public portal.
    pub office_phone: Option<String>,
    /// The office's postal address, line by line, on the letterhead of printed letters.
    pub office_address: Vec<String>,
    /// The wait before the first retry of a message the mail server refused (it doubles with
    /// each attempt, up to six hours).
    pub mail_retry: jiff::SignedDuration,
    /// Incoming mail: size limit, routes, the office's own addresses.
    pub mail: correspondence::MailSettings,
    /// A search by relevance for words in very many cases ranks about this many of the most
    /// recent matches first, then the older ones; 0 ranks every match together (see
    /// [`search::RELEVANCE_POOL`]).
    pub relevance_pool: u32,
    /// The work lists count their cases up to this many; a longer list says "more than" (see
    /// [`lists::LIST_COUNT_LIMIT`]).
    pub list_count_limit: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://localhost:8080".into(),
            attachments_dir: std::path::PathBuf::from("./redress-data/attachments"),
            max_upload_bytes: redress_domain::attachment::DEFAULT_MAX_BYTES,
            job_lease: jobs::LEASE,
            job_stall: None,
            agents_take_cases: true,
            office_phone: None,
            office_address: vec![],
            mail_retry: jiff::SignedDuration::from_mins(2),
            mail: correspondence::MailSettings::default(),
            relevance_pool: search::RELEVANCE_POOL,
            list_count_limit: lists::LIST_COUNT_LIMIT,
        }
    }
}

/// The office's context: what every use case works with.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The office new cases belong to unless they name another.
    pub office: Office,
    pub settings: Settings,
    pub blobs: Arc<attachments::Blobs>,
    /// Where outgoing mail goes; `None` leaves it queued.
    pub mailer: Option<Arc<outbox::Mailer>>,
    /// The lifecycle of each case kind (the shipped packs unless the office supplies its own).
    pub lifecycles: Arc<Lifecycles>,
    /// What typesets printed letters; `None` in builds without it.
    pub press: Option<Arc<dyn letters::Press>>,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        office: Office,
        settings: Settings,
    ) -> App {
        let blobs = Arc::new(attachments::Blobs::new(settings.attachments_dir.clone()));
        App {
            store,
            clock,
            office,
            settings,
            blobs,
            mailer: None,
            lifecycles: Arc::new(Lifecycles::shipped().unwrap_or_default()),
            press: None,
        }
    }

    /// Sends mail with this mailer.
    pub fn with_mailer(mut self, mailer: Option<outbox::Mailer>) -> App {
        self.mailer = mailer.map(Arc::new);
        self
    }

    /// Typesets printed letters with this press.
    pub fn with_press(mut self, press: Arc<dyn letters::Press>) -> App {
        self.press = Some(press);
        self
    }

    /// Uses these lifecycles instead of the shipped packs.
    pub fn with_lifecycles(mut self, lifecycles: Lifecycles) -> App {
        self.lifecycles = Arc::new(lifecycles);
        self
    }

    /// A link for people outside Redress (emails, the portal), from `public_url`.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url)
    }

    /// A case as `audience` may see it: the one rule (`domain::view`) behind every
    /// representation of a case, in the API and on the pages.
    pub fn case_for(&self, audience: redress_domain::view::Audience, case: Case) -> Case {
        let lifecycle = self.lifecycle_of(&case).ok();
        redress_domain::view::case_for(audience, case, lifecycle)
    }

    /// The lifecycle a case follows: the one it records, else its kind's general one (cases
    /// opened before a kind could have several, or whose lifecycle file an office removed).
    pub fn lifecycle_of(&self, case: &Case) -> AppResult<&Lifecycle> {
        case.lifecycle
            .as_deref()
            .and_then(|id| self.lifecycles.by_id(id))
            .filter(|l| l.kind == case.kind)
            .or_else(|| self.lifecycles.for_kind(case.kind))
            .ok_or_else(|| AppError::Internal(format!("no lifecycle for {}", case.kind)))
    }

    /// The store can be reached.
    pub async fn ready(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }
}

/// Checks a `public_url` setting: `http://` or `https://`, a host, an optional port and path, no
/// query, fragment, user name or spaces. Returns it without a trailing slash.
pub fn check_public_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("public_url must start with https:// or http://")?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("public_url has no host".into());
    }
    if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("public_url may not hold a query, a fragment, a user name or spaces".into());
    }
    Ok(url.to_string())
}

/// The wall clock. The one place Redress reads the time.
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "the one real clock")]
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A case reference as typed: a malformed one names no case.
pub fn case_reference(reference: &str) -> AppResult<String> {
    reference
        .parse::<redress_domain::Reference>()
        .map(|r| r.to_string())
        .map_err(|_| AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_rules() {
        assert_eq!(
            check_public_url("https://complaints.example.gov/").as_deref(),
            Ok("https://complaints.example.gov")
        );
        assert!(check_public_url("ftp://x").is_err());
        assert!(check_public_url("https://").is_err());
        assert!(check_public_url("https://a.gov/?q=1").is_err());
        assert!(check_public_url("https://user@a.gov").is_err());
    }

    #[test]
    fn references_are_checked() {
        assert_eq!(
            case_reference("NYC-2026-000123").ok().as_deref(),
            Some("NYC-2026-000123")
        );
        assert!(matches!(case_reference("../etc"), Err(AppError::NotFound)));
    }
}
