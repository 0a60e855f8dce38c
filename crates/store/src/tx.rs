//! The one interface the store's logic talks to: run a named statement with bound values
//! inside the current transaction. PostgreSQL implements it over sqlx; SQLite over rusqlite
//! on a dedicated thread, where a whole transaction runs without a thread hop per statement.

use crate::{Result, StoreError};
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl Arg {
    /// Whether this is SQL's NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Arg::Int(None) | Arg::Text(None) | Arg::Bool(None))
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        Arg::Text(v.clone())
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::Text(v.map(str::to_string))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(Some(v))
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Arg {
        Arg::Bool(v)
    }
}

/// Builds a `Vec<Arg>` from values.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::tx::Arg::from($v)),*] };
}
pub(crate) use args;

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// One result row, read by column name.
#[derive(Debug, Clone)]
pub struct Row {
    pub(crate) names: std::sync::Arc<Vec<String>>,
    pub(crate) values: Vec<Val>,
}

impl Row {
    fn val(&self, name: &str) -> Result<&Val> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.values[i])
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} missing")))
    }
    pub fn int(&self, name: &str) -> Result<i64> {
        self.opt_int(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} is null")))
    }
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        match self.val(name)? {
            Val::Null => Ok(None),
            Val::Int(i) => Ok(Some(*i)),
            Val::Bool(b) => Ok(Some(i64::from(*b))),
            Val::Text(t) => Err(StoreError::Corrupt(format!(
                "column {name}: text {t:?} where a number belongs"
            ))),
        }
    }
    pub fn text(&self, name: &str) -> Result<String> {
        self.opt_text(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} is null")))
    }
    pub fn opt_text(&self, name: &str) -> Result<Option<String>> {
        match self.val(name)? {
            Val::Null => Ok(None),
            Val::Text(t) => Ok(Some(t.clone())),
            other => Err(StoreError::Corrupt(format!(
                "column {name}: {other:?} where text belongs"
            ))),
        }
    }
    /// Any column as text (numbers in decimal), `None` for NULL: for digests of raw rows.
    pub fn as_text(&self, name: &str) -> Result<Option<String>> {
        Ok(match self.val(name)? {
            Val::Null => None,
            Val::Int(i) => Some(i.to_string()),
            Val::Text(t) => Some(t.clone()),
            Val::Bool(b) => Some(b.to_string()),
        })
    }
    pub fn bool(&self, name: &str) -> Result<bool> {
        match self.val(name)? {
            Val::Bool(b) => Ok(*b),
            Val::Int(i) => Ok(*i != 0),
            other => Err(StoreError::Corrupt(format!(
                "column {name}: {other:?} where a boolean belongs"
            ))),
        }
    }
    /// The first column, as a number (for `SELECT COUNT(*)`-like statements).
    pub fn first_int(&self) -> Result<i64> {
        match self.values.first() {
            Some(Val::Int(i)) => Ok(*i),
            other => Err(StoreError::Corrupt(format!(
                "expected a number, got {other:?}"
            ))),
        }
    }
}

/// A transaction (or, for reads, a connection) the logic runs statements on.
#[async_trait]
pub trait Tx: Send {
    async fn query(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Row>>;
    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64>;

    /// Runs a query and hands each row to `each` as it is read, without keeping the rows: for
    /// reads of a third of a million rows (the speed report's closed cases), which `query` would
    /// hold all at once before they are turned into what the caller keeps. By default the rows
    /// are read with `query` first.
    async fn query_each(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
        each: &mut (dyn for<'r> FnMut(&'r Row) -> Result<()> + Send),
    ) -> Result<()> {
        for row in self.query(sql, args).await? {
            each(&row)?;
        }
        Ok(())
    }

    /// Runs a statement once for each row of arguments; returns the rows changed in all. By
    /// default each row is a call of `execute`.
    async fn execute_rows(&mut self, sql: &'static str, rows: Vec<Vec<Arg>>) -> Result<u64> {
        let mut changed = 0;
        for r in rows {
            changed += self.execute(sql, r).await?;
        }
        Ok(changed)
    }

    /// Whether this is PostgreSQL: its claims skip rows other transactions hold (`FOR UPDATE
    /// SKIP LOCKED`; SQLite has one writer and needs no skipping), and its plans are explained
    /// in its own words.
    fn is_postgres(&self) -> bool {
        false
    }

    /// The next reference sequence number for an office and year. By default it is taken in
    /// this transaction (gap-free: SQLite has one writer anyway).
    async fn next_reference(&mut self, office: &str, year: i64) -> Result<i64> {
        self.next_references(office, year, 1).await
    }

    /// Takes `count` reference numbers at once for an office and year (an import's batch);
    /// returns the last of them.
    async fn next_references(&mut self, office: &str, year: i64, count: i64) -> Result<i64> {
        let rows = self
            .query(crate::queries::NEXT_REFERENCES, args![office, year, count])
            .await?;
        rows.first().ok_or(StoreError::NotFound)?.int("last_seq")
    }
}

/// Inserts a set of rows into a table without insert triggers: on SQLite by one prepared
/// statement bound to each row in turn (`[sqlite, postgres]`: the SQLite statement takes one
/// row), on PostgreSQL as [`insert_set`] does.
pub(crate) async fn insert_rows(
    tx: &mut dyn Tx,
    [each_sqlite, set_postgres]: [&'static str; 2],
    rows: Vec<Vec<Arg>>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if !tx.is_postgres() {
        tx.execute_rows(each_sqlite, rows).await?;
        return Ok(());
    }
    insert_set(tx, [set_postgres, set_postgres], rows).await
}

/// Inserts rows with one statement on both stores, the rows as a JSON array `$1` (a row an
/// array, a column per position): for tables with triggers on SQLite, where a statement a row
/// would journal the pages each row changes first.
pub(crate) async fn insert_set(
    tx: &mut dyn Tx,
    set_sql: [&'static str; 2],
    rows: Vec<Vec<Arg>>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let value = |a: Arg| match a {
        Arg::Int(v) => serde_json::Value::from(v),
        Arg::Text(v) => serde_json::Value::from(v),
        Arg::Bool(v) => serde_json::Value::from(v),
    };
    let set: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| serde_json::Value::Array(r.into_iter().map(value).collect()))
        .collect();
    let sql = set_sql[usize::from(tx.is_postgres())];
    tx.execute(sql, args![serde_json::Value::from(set).to_string()])
        .await?;
    Ok(())
}

impl dyn Tx + '_ {
    pub async fn optional(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Option<Row>> {
        Ok(self.query(sql, args).await?.into_iter().next())
    }
    pub async fn one(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Row> {
        self.optional(sql, args).await?.ok_or(StoreError::NotFound)
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A unit of work: everything one store call does, run in one transaction.
pub type Job<T> = Box<dyn for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T>> + Send>;

/// Wraps a closure as a [`Job`] (this fixes the closure's higher-ranked signature).
pub fn job<T, F>(f: F) -> Job<T>
where
    F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T>> + Send + 'static,
{
    Box::new(f)
}

/// Where jobs run: a backend's transactions.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    const BACKEND: &'static str;
    /// Runs a job in a write transaction; committed when the job succeeds.
    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T>;
    /// Runs a job that only reads, on a consistent snapshot.
    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T>;
    async fn migrate(&self) -> Result<()>;
    async fn schema_versions(&self) -> Result<Vec<i64>>;
    /// After `added` cases were filed at once: brings the engine's own bookkeeping up to date
    /// when they are many.
    async fn refresh_statistics(&self, added: u64) -> Result<()>;
}
