//! Persistence for Redress: the [`Store`] trait, implemented for SQLite (embedded, the
//! default) and PostgreSQL (several nodes). Both run the same named SQL statements (see
//! `queries.rs`) against their own migrations; every multi-row change is one transaction,
//! and every change writes its audit row inside that transaction.
//!
//! [`Store`] is the sum of one trait per area, each in its own module with the area's types,
//! its row mapping and its operations, written once as jobs over a [`tx::Tx`] and implemented
//! for every [`tx::Engine`] by a blanket impl: `directory` ([`Directory`]: the office, units,
//! closures, companies, categories), `accounts` ([`Accounts`]: users, credentials, two-step
//! login, the login throttle, tokens, sessions), `consumers` ([`Consumers`]), `cases`
//! ([`Cases`]: cases and the portal's status links), `timeline` ([`Timeline`]: entries and
//! attachments), `clocks` ([`Clocks`]: transitions, clock effects, the sweep), `jobs`
//! ([`Jobs`]), `outbox` ([`Outbox`]), `correspondence` ([`Correspondence`]: incoming mail), `letters` ([`PrintQueue`]: letters
//! on paper) and `audit` ([`AuditLog`]: the chain writer every change
//! calls, the reads and the verifier). `rows.rs` holds the row helpers they share and the
//! case row read before a change; `tx.rs` the `Tx` and `Engine` interface the engines
//! (`sqlite.rs`, `postgres.rs`) implement; `queries.rs` the SQL. A `dyn Store` reaches every
//! area's methods; [`prelude`] imports all the traits at once.

mod accounts;
mod audit;
mod cases;
mod clocks;
mod closing;
mod consumers;
mod correspondence;
mod directory;
mod filing;
mod flow;
mod jobs;
mod letters;
mod office;
mod opendata;
mod outbox;
pub mod postgres;
mod queries;
mod reports;
mod rows;
mod saved;
mod schedules;
mod search;
pub mod sqlite;
mod timeline;
pub mod tx;
mod work_list;

pub use accounts::{Accounts, Credentials, LoginThrottle, NewUser, Session, Throttle, UserChange};
use async_trait::async_trait;
pub use audit::{AuditLog, AuditVerdict};
pub use cases::{CaseFilter, CasePatch, CaseSource, Cases, IdempotencyKey, NewCase, WorkQuery};
pub use clocks::Clocks;
pub use closing::{ClosedWithCause, RootCause, RootCauses};
pub use consumers::{ConsumerCorrection, ConsumerLookup, Consumers, NewConsumer};
pub use correspondence::{
    Claim, Correspondence, InboundClaim, InboundRecord, NOTICES_OPT_OUT, SentMail, Settlement,
};
pub use directory::{AgeBounds, AgentLoad, Directory, UnitLoad, UnitQueue};
pub use flow::{FlowCount, FlowCounts, FlowKey, QUARTER_HOUR_MICROS};
pub use jobs::{ClaimedJob, DeadJob, JobCounts, JobKind, Jobs};
pub use letters::{BatchRecord, BatchedLetter, LetterRecord, MailingOnCase, PrintQueue};
pub use opendata::{OpenData, OpenDataCase};
pub use outbox::{MailAttachment, Outbox, OutgoingMail, QueuedMail};
pub use redress_domain::audit::ChainHead;
pub use redress_domain::lifecycle::{ClockEffect, DueAt, Plan};
use redress_domain::records::*;
use redress_domain::*;
pub use reports::{CallTally, ClosedCase, CompanyTally, FlowCase, ReportData};
pub use saved::{NewSavedSearch, SavedSearchRow, SavedSearches};
pub use schedules::{ReportSchedule, ReportSchedules};
pub use search::{
    CaseSearch, CaseSearching, OLDER_CASES, RECENT_CASES, SearchHit, SearchOrder, TextQuery,
    ranked_tiers,
};
use std::sync::Arc;
pub use timeline::{NewAttachment, NewEntry, Timeline};
use tx::{Engine, args, job};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("the record changed since it was read (version {current})")]
    Stale { current: i64 },
    #[error("already exists: {0}")]
    Duplicate(String),
    #[error("idempotency key was used with a different request")]
    IdempotencyKeyReused,
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("database unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("the commit failed, nothing was saved: {0}")]
    CommitFailed(String),
    #[error("consumer {0} was merged into another record")]
    ConsumerMerged(i64),
    /// SQLite's file is locked past the busy timeout, unreadable, or its disk full.
    #[error("the database cannot be used just now: {0}")]
    Unavailable(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// The database could not be reached, or went away mid-request: try again later. Refused
    /// statements (bad data, constraints) are not outages.
    pub fn is_outage(&self) -> bool {
        match self {
            StoreError::Database(e) => is_outage(e),
            StoreError::Unavailable(_) => true,
            _ => false,
        }
    }

    /// The database refused a value itself (PostgreSQL's data exceptions, SQLSTATE class 22:
    /// a NUL byte in text, a number out of range): the request's fault, not an outage.
    pub fn is_bad_data(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => {
                d.code().is_some_and(|c| c.starts_with("22"))
            }
            _ => false,
        }
    }

    /// PostgreSQL's refusal of a NUL or of bytes that are not text: `character_not_in_repertoire`
    /// (22021) and `untranslatable_character` (22P05).
    pub fn is_unstorable_text(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => {
                d.code().is_some_and(|c| c == "22021" || c == "22P05")
            }
            _ => false,
        }
    }
}

/// Whether a driver error means the database is out of reach (connection refused, closed or
/// reset, the server shutting down or refusing connections, the pool exhausted by waiting).
pub(crate) fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            // 08: connection exception; 57P01-57P03: shut down or starting up; 53300: too many
            // connections; 3D000: the database is gone (or renamed away); 55000 as sent when a
            // database does not accept connections.
            c.starts_with("08")
                || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "3D000")
                || (c == "55000" && d.message().contains("accepting connections"))
        }),
        _ => false,
    }
}

/// Who is acting, for the audit log and timeline authorship.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            username: "system".into(),
        }
    }
    pub fn user(u: &User) -> Actor {
        Actor {
            user_id: Some(u.id),
            username: u.username.clone(),
        }
    }
}

/// What a caller may see: staff see all cases; company users only their company's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub company_id: Option<i64>,
}

/// Everything Redress keeps: every area's trait, and the database's own operations.
/// Implemented by [`sqlite::SqliteStore`] and [`postgres::PostgresStore`]; both pass the same
/// conformance and HTTP suites.
#[async_trait]
pub trait Store:
    Directory
    + Accounts
    + Cases
    + Consumers
    + Timeline
    + Clocks
    + Jobs
    + Outbox
    + Correspondence
    + PrintQueue
    + OpenData
    + CaseSearching
    + ReportData
    + FlowCounts
    + RootCauses
    + SavedSearches
    + ReportSchedules
    + AuditLog
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    /// Versions of the applied migrations.
    async fn schema_versions(&self) -> Result<Vec<i64>>;
    async fn ping(&self) -> Result<()>;
    /// After an import filed many cases: on PostgreSQL, the planner's statistics and the
    /// visibility map of the tables filing fills (`VACUUM (ANALYZE)`), which autovacuum would
    /// bring up to date only later, or never where it is turned off. Without them, the reports
    /// at a million cases read every row from the table as well as its index (4.7 s against
    /// 0.6 s for the workload report). SQLite is left as it is: Redress gathers no statistics
    /// there, and its statements are written for the planner's default choices. `added` is the
    /// number of cases the import filed; a few among many leave the statistics as they are.
    async fn refresh_statistics(&self, added: u64) -> Result<()>;
}

/// One store, for any engine.
#[async_trait]
impl<E: Engine> Store for E {
    fn backend(&self) -> &'static str {
        E::BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        Engine::migrate(self).await
    }

    async fn schema_versions(&self) -> Result<Vec<i64>> {
        Engine::schema_versions(self).await
    }

    async fn refresh_statistics(&self, added: u64) -> Result<()> {
        Engine::refresh_statistics(self, added).await
    }

    async fn ping(&self) -> Result<()> {
        self.read(job(|tx| {
            Box::pin(async move { tx.query(queries::PING, args![]).await.map(|_| ()) })
        }))
        .await
    }
}

/// Every store trait, for `use redress_store::prelude::*;`. Calls on `dyn Store` (or a
/// generic `S: Store`) find the area traits' methods without it; calls on an engine
/// itself (`SqliteStore`, `PostgresStore`) need the area trait in scope.
pub mod prelude {
    pub use crate::{
        Accounts, AuditLog, Cases, Clocks, Consumers, Correspondence, Directory, Jobs, Outbox,
        Store, Timeline,
    };
}

/// Settings for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `FULL` (default) makes every acknowledged commit durable; `NORMAL` may lose the last
    /// commits on power loss (never corrupts).
    pub sqlite_synchronous: String,
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sqlite_synchronous: "full".into(),
            max_connections: 8,
        }
    }
}

/// Opens the store a URL names: `sqlite:PATH` (created if missing) or `postgres://...`.
/// Any other scheme is refused, so a typo never starts an empty store somewhere else.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PostgresStore::connect(url, options).await?,
        ))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            sqlite::SqliteStore::open(std::path::Path::new(path), options).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// A URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{}:[redacted]{}", &url[..s], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_match() {
        let versions = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|x| (x.version, x.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&sqlite::MIGRATOR), versions(&postgres::MIGRATOR));
        assert!(sqlite::MIGRATOR.iter().count() > 0);
    }

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:[redacted]@h/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
