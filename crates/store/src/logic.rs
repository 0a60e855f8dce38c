//! What each store operation does, written once against [`Tx`] and run by either backend's
//! [`Engine`]. Every change writes its timeline entries and audit rows in the same job, so
//! they commit or fail together.

use crate::queries as q;
use crate::tx::{Engine, args, job};
use crate::*;
use async_trait::async_trait;

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

    async fn ping(&self) -> Result<()> {
        self.read(job(|tx| {
            Box::pin(async move { tx.query(q::PING, args![]).await.map(|_| ()) })
        }))
        .await
    }
}
