//! What each store operation does, written once against [`Tx`] and run by either backend's
//! [`Engine`]. Every change writes its timeline entries and audit rows in the same job, so
//! they commit or fail together.

use crate::audit::{append_audit, audit_case_change};
use crate::clocks::apply_transition;
use crate::queries as q;
use crate::rows::{change_row, instant, micros};
use crate::timeline::insert_entry;
use crate::tx::{Engine, args, job, job as job_fn};
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
}
