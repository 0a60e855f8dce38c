//! The job worker: every node claims due jobs with a lease, runs them, and retries failures
//! with growing delays until a job is declared dead. A job's effects and its completion
//! commit together, so each job takes effect exactly once however many nodes run.

use crate::App;
use jiff::SignedDuration;
use std::time::Duration;

/// How long a claimed job is reserved for its node, by default.
pub const LEASE: SignedDuration = SignedDuration::from_mins(5);
/// Attempts before a job is dead.
pub const MAX_ATTEMPTS: i64 = 6;

/// This process's name in job leases.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "node".into());
    format!("{host}:{}", std::process::id())
}

/// Runs the jobs due now, at most `max`; returns how many finished.
pub async fn run_due_jobs(
    app: &App,
    node: &str,
    max: usize,
) -> Result<usize, redress_store::StoreError> {
    let mut finished = 0;
    for _ in 0..max {
        let now = app.clock.now();
        let Some(claimed) = app
            .store
            .claim_job(now, now + app.settings.job_lease, node)
            .await?
        else {
            break;
        };
        if let Some(stall) = app.settings.job_stall {
            tracing::warn!(job = claimed.id, ?stall, "fault injection: holding the job");
            tokio::time::sleep(stall).await;
        }
        let plan = match &claimed.job {
            redress_store::JobKind::Transition {
                reference,
                transition,
                ..
            } => app
                .plan_job(reference, transition)
                .await
                .map_err(|e| redress_store::StoreError::Corrupt(e.to_string())),
            _ => Ok(None),
        };
        let result = match plan {
            Ok(plan) => {
                app.store
                    .finish_job(
                        &claimed,
                        node,
                        plan.as_ref().map(|(p, v)| (p, *v)),
                        app.clock.now(),
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => finished += 1,
            Ok(false) => tracing::warn!(
                job = claimed.id,
                "lease lost before the job finished; another node will run it"
            ),
            Err(e) => {
                let retry = (claimed.attempts < MAX_ATTEMPTS).then(|| {
                    app.clock.now()
                        + SignedDuration::from_mins(1i64 << claimed.attempts.clamp(0, 10))
                });
                tracing::warn!(job = claimed.id, attempts = claimed.attempts, error = %e, dead = retry.is_none(), "job failed");
                app.store
                    .fail_job(claimed.id, node, &e.to_string(), retry, app.clock.now())
                    .await?;
            }
        }
    }
    Ok(finished)
}

/// Runs due jobs every few seconds for as long as the process lives.
pub fn spawn_worker(app: App) {
    let node = node_name();
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_due_jobs(&app, &node, 100).await {
                tracing::error!(error = %e, "job worker");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
