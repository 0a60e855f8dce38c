//! The shared store for several Redress nodes: PostgreSQL. Every node is stateless; this
//! database holds everything, and row locks order concurrent changes to one case.

use crate::tx::{Arg, Engine, Job, Row, Tx, Val};
use crate::{Result, StoreError, StoreOptions};
use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Column, PgPool, Postgres, Row as _, TypeInfo};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    /// A separate small pool for reference counters: a create holds a connection from the
    /// main pool while it takes a number, so taking it from the same pool could deadlock.
    counters: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<PostgresStore> {
        // No JIT compilation: the reports' statements are planned over a year of cases, which
        // takes them past the JIT cost threshold, and compiling took 190–310 ms of each, more
        // than it saved (the workload report at a million cases: 1,116 ms with it, 595 without).
        // Every statement is planned for its own arguments: a prepared statement run five times
        // may otherwise get a generic plan, which cannot drop the filters left empty
        // (`$1 IS NULL OR ...`) nor see which cases a search ranks; searches by relevance at a
        // million cases went from a p50 / p95 of 114 / 208 ms to 54 / 126.
        let opts = PgConnectOptions::from_str(url)?
            .application_name("redress")
            .options([("jit", "off"), ("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        let counters = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(crate::queries::ASYNC_COMMIT_SESSION)
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(PostgresStore { pool, counters })
    }
}

/// Maps driver errors; unique violations become [`StoreError::Duplicate`].
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Duplicate(d.constraint().unwrap_or("unique").to_string());
    }
    StoreError::Database(e)
}

fn bind(sql: &'static str, args: Vec<Arg>) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        };
    }
    q
}

fn to_rows(rows: Vec<PgRow>) -> Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(vec![]);
    };
    let names: Arc<Vec<String>> = Arc::new(
        first
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
    );
    let kinds: Vec<String> = first
        .columns()
        .iter()
        .map(|c| c.type_info().name().to_string())
        .collect();
    rows.iter()
        .map(|r| {
            let mut values = Vec::with_capacity(kinds.len());
            for (i, kind) in kinds.iter().enumerate() {
                let v = match kind.as_str() {
                    "INT8" => r.try_get::<Option<i64>, _>(i)?.map(Val::Int),
                    "INT4" => r
                        .try_get::<Option<i32>, _>(i)?
                        .map(|v| Val::Int(i64::from(v))),
                    "INT2" => r
                        .try_get::<Option<i16>, _>(i)?
                        .map(|v| Val::Int(i64::from(v))),
                    "BOOL" => r.try_get::<Option<bool>, _>(i)?.map(Val::Bool),
                    _ => r.try_get::<Option<String>, _>(i)?.map(Val::Text),
                };
                values.push(v.unwrap_or(Val::Null));
            }
            Ok(Row {
                names: names.clone(),
                values,
            })
        })
        .collect()
}

/// A write transaction (with the pool reference numbers are taken from), or a read-only one.
enum PgTx {
    Tx(sqlx::Transaction<'static, Postgres>, PgPool),
    Read(sqlx::Transaction<'static, Postgres>),
}

#[async_trait]
impl Tx for PgTx {
    fn is_postgres(&self) -> bool {
        true
    }
    /// Takes the number in its own short transaction, so concurrent creates do not queue on
    /// the counter row until each other's commit. That commit need not wait for its own disk
    /// flush: the case's commit, which comes later in the log, flushes it too; and if the
    /// case never commits, nothing carries the number. A failed create leaves a gap.
    async fn next_reference(&mut self, office: &str, year: i64) -> Result<i64> {
        self.next_references(office, year, 1).await
    }

    /// A block of numbers (an import's batch), taken the same way.
    async fn next_references(&mut self, office: &str, year: i64, count: i64) -> Result<i64> {
        let pool = match self {
            PgTx::Tx(_, pool) => pool.clone(),
            PgTx::Read(_) => {
                return Err(StoreError::Corrupt(
                    "reference numbers are taken in write transactions".into(),
                ));
            }
        };
        // The counter pool's sessions run with synchronous_commit off (see connect).
        let seq: i64 = sqlx::query_scalar(crate::queries::NEXT_REFERENCES)
            .bind(office)
            .bind(year)
            .bind(count)
            .fetch_one(&pool)
            .await
            .map_err(db_err)?;
        Ok(seq)
    }

    async fn query(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Row>> {
        let q = bind(sql, args);
        let rows = match self {
            PgTx::Tx(t, _) => q.fetch_all(&mut **t).await,
            PgTx::Read(t) => q.fetch_all(&mut **t).await,
        }
        .map_err(db_err)?;
        to_rows(rows)
    }

    async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64> {
        let q = bind(sql, args);
        let done = match self {
            PgTx::Tx(t, _) => q.execute(&mut **t).await,
            PgTx::Read(t) => q.execute(&mut **t).await,
        }
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl Engine for PostgresStore {
    const BACKEND: &'static str = "postgres";

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T> {
        let mut tx = PgTx::Tx(self.pool.begin().await?, self.counters.clone());
        let result = job(&mut tx).await;
        match (result, tx) {
            (Ok(v), PgTx::Tx(t, _)) => {
                t.commit().await.map_err(|e| {
                    if crate::is_outage(&e) {
                        StoreError::Database(e)
                    } else {
                        StoreError::CommitFailed(e.to_string())
                    }
                })?;
                Ok(v)
            }
            (Err(e), PgTx::Tx(t, _)) => {
                let _ = t.rollback().await;
                Err(e)
            }
            (r, PgTx::Read(_)) => r,
        }
    }

    /// In a read-only transaction at `REPEATABLE READ`: every statement of the job sees the
    /// same snapshot (a page's case, timeline and clocks; a report's totals and its tables), as a
    /// SQLite reader's transaction does. Read-only snapshots in PostgreSQL take no locks and
    /// cannot fail to serialize.
    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T> {
        let mut tx = PgTx::Read(
            self.pool
                .begin_with(crate::queries::READ_SNAPSHOT_POSTGRES)
                .await?,
        );
        let result = job(&mut tx).await;
        if let PgTx::Read(t) = tx {
            match &result {
                Ok(_) => t.commit().await?,
                Err(_) => {
                    let _ = t.rollback().await;
                }
            }
        }
        result
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn refresh_statistics(&self, added: u64) -> Result<()> {
        let (seen, changed): (i64, i64) = sqlx::query_as(crate::queries::STATISTICS_BASIS_POSTGRES)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or((0, 0));
        if !statistics_stale(added, seen, changed) {
            return Ok(());
        }
        // Outside a transaction, as VACUUM must be: a table at a time.
        for sql in crate::queries::REFRESH_STATISTICS_POSTGRES {
            sqlx::query(sql).execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn schema_versions(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(crate::queries::SCHEMA_VERSIONS)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// Whether an import that added `added` cases leaves the planner's statistics out of date: when
/// the cases added or changed since they were gathered (`changed`, the server's count, or this
/// import's own, whichever is more, since other connections report theirs within a second) pass a
/// thousand and a tenth of the cases they counted (`seen`). That is autovacuum's rule for
/// inserted rows (1,000 and a fifth) at its analyze scale (a tenth): an import of a few hundred
/// cases into a million is left to autovacuum, or to the next large import, rather than paying
/// for a pass over nine tables, while cases added a few at a time still count towards it.
fn statistics_stale(added: u64, seen: i64, changed: i64) -> bool {
    let changed = changed.max(i64::try_from(added).unwrap_or(i64::MAX));
    changed >= 1_000_i64.saturating_add(seen.max(0) / 10)
}

fn valid_database_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Creates an empty database on the server `admin_url` points at; returns its URL. For tests
/// and benchmarks. The name is checked to be a plain identifier before it is used.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    if !valid_database_name(name) {
        return Err(StoreError::UnsupportedUrl(format!(
            "database name {name:?}"
        )));
    }
    let opts = PgConnectOptions::from_str(admin_url)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts.clone())
        .await?;
    let sql = format!("CREATE DATABASE {name}");
    sqlx::query(&sql).execute(&pool).await?;
    pool.close().await;
    let mut url = admin_url.to_string();
    if let Some(q) = url.find('?') {
        url.truncate(q);
    }
    let prefix_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    if let Some(slash) = url[prefix_end..].find('/') {
        url.truncate(prefix_end + slash);
    }
    Ok(format!("{url}/{name}"))
}

/// Drops a database made by [`create_database`].
pub async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    if !valid_database_name(name) {
        return Err(StoreError::UnsupportedUrl(format!(
            "database name {name:?}"
        )));
    }
    let opts = PgConnectOptions::from_str(admin_url)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    sqlx::query(&sql).execute(&pool).await?;
    pool.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::statistics_stale;

    #[test]
    fn a_large_import_refreshes_the_statistics_and_a_small_one_into_many_does_not() {
        // An empty store: a thousand cases or more.
        assert!(statistics_stale(1_000, 0, 0));
        assert!(!statistics_stale(999, 0, 0));
        // Statistics never gathered (the server says -1).
        assert!(statistics_stale(1_500, -1, 0));
        // A million counted: a tenth and a thousand.
        assert!(!statistics_stale(500, 1_000_000, 500));
        assert!(!statistics_stale(100_999, 1_000_000, 0));
        assert!(statistics_stale(101_000, 1_000_000, 0));
        // Small imports add up in the server's count.
        assert!(statistics_stale(500, 1_000_000, 101_000));
        assert!(!statistics_stale(0, 1_000_000, 100_999));
        // No overflow at the edges.
        assert!(statistics_stale(u64::MAX, i64::MAX, 0));
        assert!(statistics_stale(0, i64::MAX, i64::MAX));
    }
}
