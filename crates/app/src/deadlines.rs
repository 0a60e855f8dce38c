//! The deadline sweep: warns about deadlines due soon and escalates missed ones, and reminds
//! consumers of the deadlines they must meet, queues the scheduled reports whose period is
//! over, and keeps the search index in few pieces, every minute.
//! Each effect happens once even with several nodes (the store marks each clock conditionally);
//! system transitions it decides on are queued as jobs (see [`crate::jobs`]).

use crate::App;
use redress_store::StoreError;
use std::time::Duration;

/// Clocks looked at per sweep, at most.
pub const BATCH: i64 = 1000;

/// Runs one sweep now: (clocks warned about, clocks escalated).
pub async fn sweep(app: &App) -> Result<(usize, usize), StoreError> {
    app.store.sweep_clocks(app.clock.now(), BATCH).await
}

/// Sweeps every minute for as long as the process lives.
pub fn spawn_deadline_sweeper(app: App) {
    tokio::spawn(async move {
        loop {
            match sweep(&app).await {
                Ok((0, 0)) => {}
                Ok((warned, escalated)) => tracing::info!(warned, escalated, "deadline sweep"),
                Err(e) => tracing::error!(error = %e, "deadline sweep"),
            }
            match app.remind_consumers().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reminded = n, "consumers reminded of their deadlines"),
                Err(e) => tracing::error!(error = %e, "reminding consumers"),
            }
            match app.send_scheduled_reports().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(periods = n, "scheduled reports queued"),
                Err(e) => tracing::error!(error = %e, "scheduled reports"),
            }
            match app.tidy_search_index().await {
                Ok((before, after)) if before != after => {
                    tracing::debug!(before, after, "search index segments merged")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "merging the search index"),
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
}
