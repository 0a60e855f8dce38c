//! The shared store for several Redress nodes: PostgreSQL. Every node is stateless; this
//! database holds everything, and row locks order concurrent changes to one case.

use crate::*;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pub(crate) write: PgPool,
    pub(crate) read: PgPool,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";

    pub async fn connect(url: &str, options: &StoreOptions) -> Result<PostgresStore> {
        let opts = PgConnectOptions::from_str(url)?.application_name("redress");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(PostgresStore {
            write: pool.clone(),
            read: pool,
        })
    }
}

crate::imp::impl_store!(PostgresStore, sqlx::Postgres, MIGRATOR);

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
