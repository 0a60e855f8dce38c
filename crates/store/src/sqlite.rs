//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer anyway, and this way no transaction ever waits on a lock), reads
//! through a small pool. `synchronous=FULL` by default: an acknowledged commit is on disk.

use crate::*;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pub(crate) write: SqlitePool,
    pub(crate) read: SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";

    pub async fn open(path: &Path, options: &StoreOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let sync = SqliteSynchronous::from_str(&options.sqlite_synchronous).map_err(|_| {
            StoreError::UnsupportedUrl(format!("synchronous={}", options.sqlite_synchronous))
        })?;
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-16000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(base.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .connect_with(base.read_only(true))
            .await?;
        Ok(SqliteStore { write, read })
    }

    /// A consistent copy of the whole database in one file (`VACUUM INTO`).
    pub async fn backup(&self, to: &Path) -> Result<()> {
        let target = to.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

crate::imp::impl_store!(SqliteStore, sqlx::Sqlite, MIGRATOR);
