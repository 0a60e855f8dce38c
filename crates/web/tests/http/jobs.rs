//! The job worker: several nodes on one store run each job exactly once; a job whose node
//! dies is run again by another, once.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use redress_store::JobKind;
use serde_json::{Value, json};

async fn reminders(app: &TestApp, r: &str) -> usize {
    let timeline: Vec<Value> = app
        .get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    timeline
        .iter()
        .filter(|e| e["data"]["event"] == "reminder")
        .count()
}

both_stores!(
    two_nodes_run_each_job_exactly_once,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap().to_string();
        // Through the API, and straight into the store.
        let resp = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/reminders"),
                &json!({"at": "2026-03-09T15:00:00Z", "body": "Call back"}),
            )
            .await;
        assert_eq!(resp.status(), 202);
        let bad = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/reminders"),
                &json!({"at": "yesterday", "body": ""}),
            )
            .await;
        assert_eq!(bad.status(), 422);
        let now = app.clock.now_ts();
        for i in 0..59 {
            let job = JobKind::Reminder {
                reference: r.clone(),
                body: format!("reminder {i}"),
                author_id: None,
            };
            assert!(
                app.store
                    .enqueue_job(&job, Some(&format!("r-{i}")), now, now)
                    .await
                    .unwrap()
            );
        }
        let again = JobKind::Reminder {
            reference: r.clone(),
            body: "duplicate".into(),
            author_id: None,
        };
        assert!(
            !app.store
                .enqueue_job(&again, Some("r-0"), now, now)
                .await
                .unwrap(),
            "a dedupe key schedules once"
        );
        app.clock.set("2026-03-09T15:30:00Z".parse().unwrap());

        // A second node: its own state (and, on PostgreSQL, its own connection pool) on the same database.
        let other = redress_store::open(
            &app.database_url,
            &redress_store::StoreOptions {
                max_connections: 4,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut node_b = app.state.app.clone();
        node_b.store = other;
        let (a, b) = tokio::join!(
            async {
                let mut n = 0;
                for _ in 0..100 {
                    n += redress_app::jobs::run_due_jobs(&app.state, "node-a", 3)
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                }
                n
            },
            async {
                let mut n = 0;
                for _ in 0..100 {
                    n += redress_app::jobs::run_due_jobs(&node_b, "node-b", 3)
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                }
                n
            }
        );
        assert_eq!(a + b, 60, "node a ran {a}, node b ran {b}");
        assert_eq!(reminders(app, &r).await, 60);
        let counts = app.store.job_counts().await.unwrap();
        assert_eq!((counts.waiting, counts.done, counts.dead), (0, 60, 0));
        assert!(matches!(
            app.store.verify_audit().await.unwrap(),
            redress_store::AuditVerdict::Intact { .. }
        ));
    }
);

both_stores!(
    a_job_whose_node_dies_runs_once_elsewhere,
    async |app: &TestApp| {
        use jiff::SignedDuration;
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap().to_string();
        let now = app.clock.now_ts();
        let job = JobKind::Reminder {
            reference: r.clone(),
            body: "Follow up".into(),
            author_id: None,
        };
        app.store.enqueue_job(&job, None, now, now).await.unwrap();
        // Node A claims it and dies before finishing (nothing is committed for the job's effects).
        let claimed = app
            .store
            .claim_job(now, now + redress_app::jobs::LEASE, "node-a")
            .await
            .unwrap()
            .expect("due");
        assert_eq!(claimed.attempts, 1);
        // While A's lease holds, nobody else gets it.
        assert_eq!(
            redress_app::jobs::run_due_jobs(&app.state, "node-b", 10)
                .await
                .unwrap(),
            0
        );
        // After the lease, node B runs it: a second attempt, finished once.
        app.clock.advance(SignedDuration::from_mins(6));
        assert_eq!(
            redress_app::jobs::run_due_jobs(&app.state, "node-b", 10)
                .await
                .unwrap(),
            1
        );
        assert_eq!(reminders(app, &r).await, 1);
        // Node A comes back and tries to finish: its lease is gone, so nothing happens.
        assert!(
            !app.store
                .finish_job(&claimed, "node-a", None, app.clock.now_ts())
                .await
                .unwrap()
        );
        assert_eq!(reminders(app, &r).await, 1);
        // A job that keeps failing is retried with back-off, then dead.
        let broken = JobKind::Reminder {
            reference: "NYC-2026-999999".into(),
            body: "no such case".into(),
            author_id: None,
        };
        app.store
            .enqueue_job(&broken, None, app.clock.now_ts(), app.clock.now_ts())
            .await
            .unwrap();
        for _ in 0..redress_app::jobs::MAX_ATTEMPTS {
            redress_app::jobs::run_due_jobs(&app.state, "node-b", 10)
                .await
                .unwrap();
            app.clock.advance(SignedDuration::from_hours(24));
        }
        let counts = app.store.job_counts().await.unwrap();
        assert_eq!((counts.waiting, counts.done, counts.dead), (0, 1, 1));
        // The dead job is listed with its last error, and can be put back in the queue.
        let dead = app.store.dead_jobs(10).await.unwrap();
        assert_eq!((dead.len(), dead[0].attempts), (1, 6));
        assert!(
            dead[0]
                .last_error
                .as_deref()
                .unwrap_or("")
                .contains("not found"),
            "{:?}",
            dead[0].last_error
        );
        let ops = redress_store::Actor::system();
        assert!(
            app.store
                .revive_job(&ops, dead[0].id, app.clock.now_ts())
                .await
                .unwrap()
        );
        assert!(
            !app.store
                .revive_job(&ops, dead[0].id, app.clock.now_ts())
                .await
                .unwrap(),
            "not dead any more"
        );
        let counts = app.store.job_counts().await.unwrap();
        assert_eq!((counts.waiting, counts.dead), (1, 0));
        assert!(matches!(
            app.store.verify_audit().await.unwrap(),
            redress_store::AuditVerdict::Intact { .. }
        ));
    }
);
