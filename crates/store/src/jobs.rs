//! The job queue: reminders and scheduled transitions, claimed under a lease by one node at
//! a time, retried, and kept when dead until someone revives them.

use crate::audit::{append_audit, audit_case_change};
use crate::clocks::apply_transition;
use crate::queries as q;
use crate::rows::{change_row, instant, micros};
use crate::timeline::{NewEntry, insert_entry};
use crate::tx::{Engine, args, job as job_fn};
use crate::{Actor, Plan, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::*;

/// Work scheduled for later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// Writes a reminder on a case's timeline at a set time.
    Reminder {
        reference: String,
        body: String,
        author_id: Option<i64>,
    },
    /// A system transition a missed deadline calls for (e.g. constructive denial).
    Transition {
        reference: String,
        transition: String,
        clock: String,
    },
}

impl JobKind {
    pub fn kind(&self) -> &'static str {
        match self {
            JobKind::Reminder { .. } => "reminder",
            JobKind::Transition { .. } => "transition",
        }
    }
    pub fn to_payload(&self) -> String {
        match self {
            JobKind::Reminder {
                reference,
                body,
                author_id,
            } => serde_json::json!({"reference": reference, "body": body, "author_id": author_id})
                .to_string(),
            JobKind::Transition {
                reference,
                transition,
                clock,
            } => serde_json::json!({"reference": reference, "transition": transition, "clock": clock})
                .to_string(),
        }
    }
    pub fn from_parts(kind: &str, payload: &str) -> Result<JobKind> {
        let v: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
        match kind {
            "reminder" => Ok(JobKind::Reminder {
                reference: v["reference"].as_str().unwrap_or_default().to_string(),
                body: v["body"].as_str().unwrap_or_default().to_string(),
                author_id: v["author_id"].as_i64(),
            }),
            "transition" => Ok(JobKind::Transition {
                reference: v["reference"].as_str().unwrap_or_default().to_string(),
                transition: v["transition"].as_str().unwrap_or_default().to_string(),
                clock: v["clock"].as_str().unwrap_or_default().to_string(),
            }),
            other => Err(StoreError::Corrupt(format!("unknown job kind {other:?}"))),
        }
    }
}

/// A job claimed by a node.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub job: JobKind,
    pub attempts: i64,
}

/// A job that used up its attempts.
#[derive(Debug, Clone)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub dead_at: Timestamp,
}

/// Jobs waiting, done and dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCounts {
    pub waiting: i64,
    pub done: i64,
    pub dead: i64,
}

/// Work scheduled for later (reminders, transitions a missed deadline calls for), claimed by
/// one node at a time under a lease.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Schedules a job; with a `dedupe_key` already used, nothing is added. Returns whether it was added.
    async fn enqueue_job(
        &self,
        job: &JobKind,
        dedupe_key: Option<&str>,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Schedules a reminder on a case the caller may see, with its audit row, in one
    /// transaction.
    async fn schedule_reminder(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        body: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()>;
    /// Claims the oldest due job for `node` until `lease_until`.
    async fn claim_job(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        node: &str,
    ) -> Result<Option<ClaimedJob>>;
    /// Runs a claimed job's effects and marks it done, in one transaction; false (and no
    /// effect) when the node no longer holds the lease.
    /// `plan` is the transition a `Transition` job takes, with the case version it was planned
    /// on (`None`: the case has moved on and the job completes without effect).
    async fn finish_job(
        &self,
        claimed: &ClaimedJob,
        node: &str,
        plan: Option<(&Plan, i64)>,
        at: Timestamp,
    ) -> Result<bool>;
    /// Reschedules a failed job, or marks it dead.
    async fn fail_job(
        &self,
        id: i64,
        node: &str,
        error: &str,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<()>;
    async fn job_counts(&self) -> Result<JobCounts>;
    /// Dead jobs (attempts used up), newest first.
    async fn dead_jobs(&self, limit: i64) -> Result<Vec<DeadJob>>;
    /// Puts a dead job back in the queue with fresh attempts; false when it is not dead. Audited.
    async fn revive_job(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<bool>;
}

/// The job queue, for any engine.
#[async_trait]
impl<E: Engine> Jobs for E {
    async fn enqueue_job(
        &self,
        job: &JobKind,
        dedupe_key: Option<&str>,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let (kind, payload, key) = (job.kind(), job.to_payload(), dedupe_key.map(str::to_string));
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                Ok(tx
                    .execute(
                        q::ENQUEUE_JOB,
                        args![kind, payload, key, micros(run_at), micros(now)],
                    )
                    .await?
                    == 1)
            })
        }))
        .await
    }

    async fn schedule_reminder(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        body: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let (actor, reference, body) = (actor.clone(), reference.to_string(), body.to_string());
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                change_row(tx, &reference, scope).await?;
                let job = JobKind::Reminder {
                    reference: reference.clone(),
                    body: body.clone(),
                    author_id: actor.user_id,
                };
                tx.execute(
                    q::ENQUEUE_JOB,
                    args![
                        job.kind(),
                        job.to_payload(),
                        None::<String>,
                        micros(run_at),
                        micros(now)
                    ],
                )
                .await?;
                let detail = serde_json::json!({
                    "run_at": run_at,
                    "body_sha256": redress_domain::audit::sha256_hex(body.as_bytes()),
                });
                append_audit(
                    tx,
                    &actor,
                    &format!("case:{reference}"),
                    "case.reminder.schedule",
                    &reference,
                    &detail.to_string(),
                    now,
                )
                .await
            })
        }))
        .await
    }

    async fn claim_job(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        node: &str,
    ) -> Result<Option<ClaimedJob>> {
        let node = node.to_string();
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                let Some(r) = tx
                    .optional(
                        if tx.is_postgres() {
                            q::CLAIM_JOB_SKIP_LOCKED
                        } else {
                            q::CLAIM_JOB
                        },
                        args![micros(now), micros(lease_until), node],
                    )
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(ClaimedJob {
                    id: r.int("id")?,
                    job: JobKind::from_parts(&r.text("kind")?, &r.text("payload")?)?,
                    attempts: r.int("attempts")?,
                }))
            })
        }))
        .await
    }

    async fn finish_job(
        &self,
        claimed: &ClaimedJob,
        node: &str,
        plan: Option<(&Plan, i64)>,
        at: Timestamp,
    ) -> Result<bool> {
        let (claimed, node) = (claimed.clone(), node.to_string());
        let plan = plan.map(|(p, v)| (p.clone(), v));
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                // Completion first: if the lease was lost, nothing else happens.
                if tx
                    .execute(q::COMPLETE_JOB, args![claimed.id, micros(at), node])
                    .await?
                    == 0
                {
                    return Ok(false);
                }
                match &claimed.job {
                    JobKind::Reminder {
                        reference,
                        body,
                        author_id,
                    } => {
                        let row = change_row(tx, reference, Scope::default()).await?;
                        // Locks the case so concurrent writers number its timeline in turn.
                        tx.execute(q::TOUCH_CASE, args![row.id, micros(at)]).await?;
                        let e = NewEntry {
                            entry_type: EntryType::Note,
                            body: body.clone(),
                            visibility: Visibility::Internal,
                            data: serde_json::json!({"event": "reminder", "job_id": claimed.id}),
                            at,
                            author_id: *author_id,
                        };
                        insert_entry(tx, row.id, &e).await?;
                        audit_case_change(
                            tx,
                            &Actor::system(),
                            row.id,
                            reference,
                            "case.reminder",
                            serde_json::json!({"job_id": claimed.id}),
                            row.timeline_seq,
                            at,
                            false,
                        )
                        .await?;
                    }
                    JobKind::Transition { reference, .. } => {
                        if let Some((plan, version)) = &plan {
                            apply_transition(
                                tx,
                                &Actor::system(),
                                reference,
                                Scope::default(),
                                *version,
                                plan,
                                at,
                            )
                            .await?;
                        }
                    }
                }
                Ok(true)
            })
        }))
        .await
    }

    async fn fail_job(
        &self,
        id: i64,
        node: &str,
        error: &str,
        retry_at: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<()> {
        let (node, error) = (
            node.to_string(),
            error.chars().take(1000).collect::<String>(),
        );
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                match retry_at {
                    Some(r) => {
                        tx.execute(q::RETRY_JOB, args![id, micros(r), error, node])
                            .await?
                    }
                    None => {
                        tx.execute(q::KILL_JOB, args![id, micros(at), error, node])
                            .await?
                    }
                };
                Ok(())
            })
        }))
        .await
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        self.read(job_fn(|tx| {
            Box::pin(async move {
                let r = tx.one(q::JOB_COUNTS, args![]).await?;
                Ok(JobCounts {
                    waiting: r.int("waiting")?,
                    done: r.int("done")?,
                    dead: r.int("dead")?,
                })
            })
        }))
        .await
    }

    async fn dead_jobs(&self, limit: i64) -> Result<Vec<DeadJob>> {
        self.read(job_fn(move |tx| {
            Box::pin(async move {
                tx.query(q::DEAD_JOBS, args![limit])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(DeadJob {
                            id: r.int("id")?,
                            kind: r.text("kind")?,
                            payload: r.text("payload")?,
                            attempts: r.int("attempts")?,
                            last_error: r.opt_text("last_error")?,
                            dead_at: instant(r.int("dead_at")?)?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn revive_job(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<bool> {
        let actor = actor.clone();
        self.write(job_fn(move |tx| {
            Box::pin(async move {
                if tx.execute(q::REVIVE_JOB, args![id, micros(at)]).await? == 0 {
                    return Ok(false);
                }
                let subject = format!("job:{id}");
                append_audit(tx, &actor, "jobs", "job.revive", &subject, "{}", at).await?;
                Ok(true)
            })
        }))
        .await
    }
}
