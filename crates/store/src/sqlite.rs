//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL` by default.
//!
//! All writes go to one writer thread that owns the only write connection. It takes every
//! job queued at that moment, runs each in its own savepoint inside one transaction, and
//! commits once (group commit): under load, one fsync covers many requests, and a job that
//! fails rolls back only its own savepoint. A reply is sent only after the commit, so an
//! acknowledged write is on disk. Reads run on a few reader threads, each job in one read
//! transaction (a consistent snapshot). A job runs start to finish on its thread, with no
//! hop between threads per statement.

use crate::tx::{Arg, Engine, Job, Row, Tx, Val};
use crate::{Result, StoreError, StoreOptions};
use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The most jobs committed together.
const MAX_BATCH: usize = 128;

pub struct SqliteStore {
    path: PathBuf,
    writer: Sender<Erased>,
    readers: Sender<Erased>,
}

/// A job with its result type erased, and the way to deliver its result.
type Erased = Box<dyn FnOnce(&mut dyn Tx) -> Outcome + Send>;

struct Outcome {
    ok: bool,
    /// Sends the job's result; given the commit error when the commit failed.
    deliver: Box<dyn FnOnce(Option<String>) + Send>,
}

/// Runs a job's future to completion right here. SQLite jobs never wait on anything (every
/// statement runs synchronously), so one poll finishes them.
fn run_now<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn erase<T: Send + 'static>(job: Job<T>, reply: tokio::sync::oneshot::Sender<Result<T>>) -> Erased {
    Box::new(move |tx: &mut dyn Tx| {
        let result = run_now(job(tx)).unwrap_or_else(|| {
            Err(StoreError::Corrupt(
                "a SQLite job waited on something".into(),
            ))
        });
        let ok = result.is_ok();
        Outcome {
            ok,
            deliver: Box::new(move |commit_error| {
                let result = match (commit_error, result) {
                    (Some(e), Ok(_)) => Err(StoreError::CommitFailed(e)),
                    (_, r) => r,
                };
                let _ = reply.send(result);
            }),
        }
    })
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && f.code == ErrorCode::ConstraintViolation
        && matches!(f.extended_code, 2067 | 1555)
    {
        return StoreError::Duplicate(msg.clone().unwrap_or_else(|| "unique".into()));
    }
    if is_outage(&e) {
        return StoreError::Unavailable(e.to_string());
    }
    StoreError::Sqlite(e.to_string())
}

/// The file is locked by another process past the busy timeout, cannot be read or written, or
/// its disk is full: the database is out of reach for now, not the request's fault.
fn is_outage(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(
        f.code,
        ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull
    ))
}

/// A transaction on a connection this thread owns.
struct SqliteTx<'c> {
    conn: &'c mut Connection,
}

fn to_value(a: &Arg) -> Value {
    match a {
        Arg::Int(Some(v)) => Value::Integer(*v),
        Arg::Text(Some(v)) => Value::Text(v.clone()),
        Arg::Bool(Some(b)) => Value::Integer(i64::from(*b)),
        Arg::Int(None) | Arg::Text(None) | Arg::Bool(None) => Value::Null,
    }
}

fn prepare<'c>(
    conn: &'c Connection,
    sql: &'static str,
    args: &[Arg],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sqlite_err)?;
    bind(&mut stmt, sql, args)?;
    Ok(stmt)
}

/// Binds a statement's parameters: `$n` binds the n-th argument, wherever it first appears in
/// the statement.
fn bind(stmt: &mut rusqlite::Statement<'_>, sql: &str, args: &[Arg]) -> Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .trim_start_matches(['$', '?'])
                .parse::<usize>()
                .map_err(|_| StoreError::Corrupt(format!("parameter {name} in {sql}")))?,
            None => i,
        };
        let arg = args
            .get(n - 1)
            .ok_or_else(|| StoreError::Corrupt(format!("missing argument ${n} for {sql}")))?;
        stmt.raw_bind_parameter(i, to_value(arg))
            .map_err(sqlite_err)?;
    }
    Ok(())
}

#[async_trait]
impl Tx for SqliteTx<'_> {
    async fn query(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        each_row(self.conn, sql, &args, |names, r| {
            let mut values = Vec::with_capacity(names.len());
            read_values(r, names.len(), &mut values)?;
            out.push(Row {
                names: names.clone(),
                values,
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads each row into the same buffer and hands it on.
    async fn query_each(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
        each: &mut (dyn for<'r> FnMut(&'r Row) -> Result<()> + Send),
    ) -> Result<()> {
        let mut buffer: Option<Row> = None;
        each_row(self.conn, sql, &args, |names, r| {
            let row = buffer.get_or_insert_with(|| Row {
                names: names.clone(),
                values: Vec::with_capacity(names.len()),
            });
            row.values.clear();
            read_values(r, names.len(), &mut row.values)?;
            each(row)
        })
    }

    async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64> {
        let mut stmt = prepare(self.conn, sql, &args)?;
        Ok(stmt.raw_execute().map_err(sqlite_err)? as u64)
    }

    /// Prepares the statement once and binds each row to it.
    async fn execute_rows(&mut self, sql: &'static str, rows: Vec<Vec<Arg>>) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err)?;
        let mut changed = 0;
        for args in rows {
            bind(&mut stmt, sql, &args)?;
            changed += stmt.raw_execute().map_err(sqlite_err)? as u64;
        }
        Ok(changed)
    }
}

/// Runs a query and hands `on_row` the columns' names and each row as SQLite steps to it.
fn each_row(
    conn: &Connection,
    sql: &'static str,
    args: &[Arg],
    mut on_row: impl FnMut(&Arc<Vec<String>>, &rusqlite::Row<'_>) -> Result<()>,
) -> Result<()> {
    let started = std::time::Instant::now();
    let mut stmt = prepare(conn, sql, args)?;
    let names: Arc<Vec<String>> =
        Arc::new(stmt.column_names().iter().map(|s| s.to_string()).collect());
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while let Some(r) = rows.next().map_err(sqlite_err)? {
        on_row(&names, r)?;
        n += 1;
    }
    // Each query's time, for finding what is slow (`REDRESS_LOG=redress_store::statements=trace`);
    // the values bound are not logged, since they may be personal data.
    tracing::trace!(
        target: "redress_store::statements",
        us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        rows = n,
        sql
    );
    Ok(())
}

/// A row's columns as the generic layer holds them.
fn read_values(r: &rusqlite::Row<'_>, width: usize, values: &mut Vec<Val>) -> Result<()> {
    for i in 0..width {
        values.push(match r.get_ref(i).map_err(sqlite_err)? {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(v) => Val::Int(v),
            ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Real(f) => Val::Text(f.to_string()),
            ValueRef::Blob(b) => Val::Text(String::from_utf8_lossy(b).into_owned()),
        });
    }
    Ok(())
}

/// Stands in for a transaction that could not be started: every statement fails, with the
/// reason it could not start (an outage when the file was locked or unreadable).
struct FailedTx(String, bool);

impl FailedTx {
    fn from(e: &rusqlite::Error) -> FailedTx {
        FailedTx(e.to_string(), is_outage(e))
    }
    fn error(&self) -> StoreError {
        if self.1 {
            StoreError::Unavailable(self.0.clone())
        } else {
            StoreError::Sqlite(self.0.clone())
        }
    }
}

#[async_trait]
impl Tx for FailedTx {
    async fn query(&mut self, _: &'static str, _: Vec<Arg>) -> Result<Vec<Row>> {
        Err(self.error())
    }
    async fn execute(&mut self, _: &'static str, _: Vec<Arg>) -> Result<u64> {
        Err(self.error())
    }
}

/// The memory SQLite may keep for the process, in bytes (a soft limit): eight readers and the
/// writer each caching up to 32 MB of a million-case database came to a third of a gigabyte.
/// At a million cases 64 MiB kept the searches and reports as fast as 96 MiB did (within this
/// machine's noise) and the process's peak 20–30 MiB lower.
const HEAP_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// A connection to the store's file, waiting up to five seconds for a lock another holds.
fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

fn open_writer(path: &Path, synchronous: &str) -> rusqlite::Result<Connection> {
    let conn = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Temporary files stay files: a statement journal kept in memory is truncated by walking
    // it from its start after every statement, which makes a large job's statements slower the
    // more the job has written (an import's batch of 500 cases spent a quarter of its time
    // there). The operating system's cache keeps the files in memory anyway.
    conn.pragma_update(None, "temp_store", "FILE")?;
    conn.pragma_update(None, "cache_size", "-32000")?;
    // What SQLite keeps in memory for the whole process (every connection's page cache, the
    // statements, a search's lists of matches) stays near `HEAP_LIMIT_BYTES`: past it, a
    // connection reuses its least recently used cached pages instead of adding more, and reads
    // again come from the operating system's cache.
    conn.pragma_update(None, "soft_heap_limit", HEAP_LIMIT_BYTES)?;
    // The log is copied into the database after about 40 MB of it rather than SQLite's 4 MB: a
    // page that many transactions change (an index's, a report row's) is copied once per
    // checkpoint, not once a transaction. Filing 100,000 imported cases went from 1,861 to 2,247
    // cases/s (`redress bench --only data --data-cases 100000`) without longer transactions.
    conn.pragma_update(None, "wal_autocheckpoint", "10000")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Reports look up a row a case in narrow tables (`case_stats`) across a year of cases.
    conn.pragma_update(None, "cache_size", "-32000")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn writer_loop(mut conn: Connection, jobs: Receiver<Erased>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let began = conn.execute_batch("BEGIN IMMEDIATE");
        let mut outcomes = Vec::with_capacity(batch.len());
        // A job alone in its transaction needs no savepoint of its own: if it fails, the whole
        // transaction is rolled back. (A savepoint journals every page the job changes first;
        // for a large job, such as an import's batch, that is a fifth of its time.)
        if batch.len() == 1
            && began.is_ok()
            && let Some(job) = batch.pop()
        {
            let outcome = job(&mut SqliteTx { conn: &mut conn });
            let end = if outcome.ok { "COMMIT" } else { "ROLLBACK" };
            let commit_error = match conn.execute_batch(end) {
                Ok(()) => None,
                Err(e) if outcome.ok => {
                    tracing::error!(error = %e, "commit failed; the job is rolled back");
                    let _ = conn.execute_batch("ROLLBACK");
                    Some(e.to_string())
                }
                Err(e) => {
                    tracing::error!(error = %e, "rolling back a failed job failed");
                    None
                }
            };
            (outcome.deliver)(commit_error);
            continue;
        }
        for job in batch {
            let savepoint = match &began {
                Ok(()) => conn
                    .execute_batch("SAVEPOINT job")
                    .map_err(|e| FailedTx::from(&e)),
                Err(e) => Err(FailedTx::from(e)),
            };
            let outcome = match savepoint {
                Ok(()) => {
                    let outcome = job(&mut SqliteTx { conn: &mut conn });
                    let end = if outcome.ok {
                        "RELEASE job"
                    } else {
                        "ROLLBACK TO job; RELEASE job"
                    };
                    if let Err(e) = conn.execute_batch(end) {
                        tracing::error!(error = %e, "ending a savepoint failed");
                    }
                    outcome
                }
                Err(failed) => job(&mut { failed }),
            };
            outcomes.push(outcome);
        }
        let commit_error = match &began {
            Ok(()) => match conn.execute_batch("COMMIT") {
                Ok(()) => None,
                Err(e) => {
                    tracing::error!(error = %e, "commit failed; the batch is rolled back");
                    let _ = conn.execute_batch("ROLLBACK");
                    Some(e.to_string())
                }
            },
            Err(e) => Some(e.to_string()),
        };
        for o in outcomes {
            (o.deliver)(commit_error.clone());
        }
    }
}

fn reader_loop(mut conn: Connection, jobs: Arc<Mutex<Receiver<Erased>>>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let outcome = match conn.execute_batch("BEGIN") {
            Ok(()) => {
                let o = job(&mut SqliteTx { conn: &mut conn });
                let _ = conn.execute_batch("COMMIT");
                o
            }
            Err(e) => job(&mut FailedTx::from(&e)),
        };
        (outcome.deliver)(None);
    }
}

impl SqliteStore {
    pub async fn open(path: &Path, options: &StoreOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Sqlite(format!("creating {}: {e}", dir.display())))?;
        }
        let sync = options.sqlite_synchronous.to_ascii_uppercase();
        if !matches!(sync.as_str(), "FULL" | "NORMAL" | "EXTRA") {
            return Err(StoreError::UnsupportedUrl(format!(
                "synchronous={}",
                options.sqlite_synchronous
            )));
        }
        let writer_conn = open_writer(path, &sync).map_err(sqlite_err)?;
        let (writer, writer_rx) = channel::<Erased>();
        std::thread::Builder::new()
            .name("redress-sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, writer_rx))
            .map_err(|e| StoreError::Sqlite(format!("starting the writer: {e}")))?;
        let (readers, readers_rx) = channel::<Erased>();
        let readers_rx = Arc::new(Mutex::new(readers_rx));
        for i in 0..options.max_connections.clamp(1, 16) {
            let conn = open_reader(path).map_err(sqlite_err)?;
            let rx = readers_rx.clone();
            std::thread::Builder::new()
                .name(format!("redress-sqlite-reader-{i}"))
                .spawn(move || reader_loop(conn, rx))
                .map_err(|e| StoreError::Sqlite(format!("starting a reader: {e}")))?;
        }
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer,
            readers,
        })
    }

    async fn submit<T: Send + 'static>(queue: &Sender<Erased>, job: Job<T>) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        queue
            .send(erase(job, tx))
            .map_err(|_| StoreError::Sqlite("the database thread has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Sqlite("the database thread dropped a job".into()))?
    }
}

#[async_trait]
impl Engine for SqliteStore {
    const BACKEND: &'static str = "sqlite";

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T> {
        Self::submit(&self.writer, job).await
    }

    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T> {
        Self::submit(&self.readers, job).await
    }

    async fn migrate(&self) -> Result<()> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
        let opts = SqliteConnectOptions::new()
            .filename(&self.path)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        let result = async {
            MIGRATOR.run(&pool).await?;
            // An import that stopped half way left FTS5's merging held: only then is anything
            // written here, so that opening a store otherwise takes no write lock.
            let held: i64 = sqlx::query_scalar(crate::queries::SEARCH_MERGES_HELD_SQLITE)
                .fetch_one(&pool)
                .await?;
            if held > 0 {
                sqlx::query(crate::queries::RESUME_SEARCH_MERGES_SQLITE)
                    .execute(&pool)
                    .await?;
            }
            Ok(())
        }
        .await;
        pool.close().await;
        result
    }

    /// SQLite keeps no statistics Redress asks for; what an import leaves behind is its search
    /// index in pieces (FTS5 writes a segment for each batch's transaction, and merges them only
    /// a few at a time). Every segment is read by each search, and asking the index whether one
    /// case holds a word costs about 83 µs with the segments of a million cases filed in batches,
    /// 6 µs with them merged into one (FTS5's `optimize`, 13 s at a million cases). So after an
    /// import that grew the store by a tenth or more (and at least a thousand cases) the index
    /// is merged, in the import's time.
    ///
    /// An import's batches hold FTS5's own merging while they file (`HOLD_SEARCH_MERGES_SQLITE`);
    /// it goes again here, whatever the import added, before the merge.
    ///
    /// The merge rewrites the whole index into the write-ahead log. SQLite's own checkpoint after
    /// the commit copies its pages into the database, but keeps the file at its largest (650 MB
    /// at a million cases) until the last connection closes; so the log is then emptied.
    async fn refresh_statistics(&self, added: u64) -> Result<()> {
        let added = i64::try_from(added).unwrap_or(i64::MAX);
        let merged = self
            .write(crate::tx::job(move |tx| {
                Box::pin(async move {
                    let cases = tx
                        .one(crate::queries::LAST_CASE_ID_SQLITE, vec![])
                        .await?
                        .int("id")?;
                    tx.execute(crate::queries::RESUME_SEARCH_MERGES_SQLITE, vec![])
                        .await?;
                    let scattered = search_index_scattered(added, cases);
                    if scattered {
                        tx.execute(crate::queries::MERGE_SEARCH_INDEX_SQLITE, vec![])
                            .await?;
                    }
                    Ok(scattered)
                })
            }))
            .await?;
        if merged {
            let path = self.path.clone();
            // The import's cases are in: a log not emptied now only takes disk until SQLite
            // reuses it, so what goes wrong here is told, not returned.
            match tokio::task::spawn_blocking(move || checkpoint(&path)).await {
                Ok(Ok(Checkpoint {
                    busy: false,
                    copied,
                })) => {
                    tracing::debug!(pages = copied, "write-ahead log copied")
                }
                // Readers or a writer still used the log after the busy timeout.
                Ok(Ok(Checkpoint { busy: true, .. })) => {
                    tracing::warn!("the write-ahead log was in use; it is emptied later")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "emptying the write-ahead log failed"),
                Err(e) => tracing::warn!(error = %e, "emptying the write-ahead log stopped"),
            }
        }
        Ok(())
    }

    async fn schema_versions(&self) -> Result<Vec<i64>> {
        self.read(crate::tx::job(|tx| {
            Box::pin(async move {
                tx.query(crate::queries::SCHEMA_VERSIONS, vec![])
                    .await?
                    .iter()
                    .map(|r| r.int("version"))
                    .collect()
            })
        }))
        .await
    }
}

/// What a checkpoint did: whether it was kept from finishing, and the pages it copied.
struct Checkpoint {
    busy: bool,
    copied: i64,
}

/// The write-ahead log copied into the database and emptied, on a connection of its own (a
/// checkpoint cannot run inside the writer's transactions); it waits for a writer or readers
/// still in the log up to the busy timeout.
fn checkpoint(path: &Path) -> rusqlite::Result<Checkpoint> {
    let conn = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.query_row(crate::queries::CHECKPOINT_SQLITE, [], |r| {
        Ok(Checkpoint {
            busy: r.get::<_, i64>(0)? != 0,
            copied: r.get(2)?,
        })
    })
}

/// Whether an import that added `added` cases to a store whose last case id is `cases` left its
/// search index in enough pieces to merge: a thousand cases or more, and a tenth of the store.
fn search_index_scattered(added: i64, cases: i64) -> bool {
    added >= 1_000 && added.saturating_mul(10) >= cases
}

#[cfg(test)]
mod tests {
    use super::{HEAP_LIMIT_BYTES, open_reader, open_writer, search_index_scattered};

    #[test]
    fn an_import_of_a_tenth_of_the_store_merges_the_search_index() {
        assert!(search_index_scattered(3_075, 3_075));
        assert!(search_index_scattered(1_000_000, 1_000_000));
        assert!(search_index_scattered(100_000, 1_000_000));
        assert!(!search_index_scattered(99_999, 1_000_000));
        assert!(!search_index_scattered(999, 999));
        assert!(search_index_scattered(1_000, 10_000));
    }

    #[test]
    fn the_process_keeps_sqlite_within_its_memory_limit() -> rusqlite::Result<()> {
        let dir = std::env::temp_dir().join(format!("redress-heap-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| rusqlite::Error::InvalidPath(std::path::PathBuf::from(e.to_string())))?;
        let path = dir.join("heap.db");
        let writer = open_writer(&path, "FULL")?;
        // The limit is the process's: a reader opened after the writer sees it too.
        let reader = open_reader(&path)?;
        let limit = |c: &rusqlite::Connection| {
            c.query_row("PRAGMA soft_heap_limit", [], |r| r.get::<_, i64>(0))
        };
        assert_eq!(limit(&writer)?, HEAP_LIMIT_BYTES);
        assert_eq!(limit(&reader)?, HEAP_LIMIT_BYTES);
        drop((writer, reader));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
