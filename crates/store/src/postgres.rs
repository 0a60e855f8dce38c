//! The shared store for several Redress nodes: PostgreSQL. Every node is stateless; this
//! database holds everything, and row locks order concurrent changes to one case.

use crate::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
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
        Ok(PostgresStore { write: pool.clone(), read: pool })
    }
}

crate::imp::impl_store!(PostgresStore, sqlx::Postgres, MIGRATOR);
