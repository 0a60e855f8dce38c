//! Every change and every view of personal data is audited in hash chains that detect edits.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use redress_store::AuditVerdict;
use serde_json::{Value, json};

both_stores!(
    views_and_changes_are_audited_and_tampering_is_caught,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap();
        app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
            .await;
        app.get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
            .await;
        app.post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/timeline"),
            &json!({"type": "note", "body": "hello"}),
        )
        .await;
        app.get(
            Role::Agent,
            &format!("/api/v1/consumers/{}", c["consumer_id"]),
        )
        .await;

        let trail: Vec<Value> = app
            .get(Role::Supervisor, &format!("/api/v1/cases/{r}/audit"))
            .await
            .json()
            .await
            .unwrap();
        let actions: Vec<(&str, &str)> = trail
            .iter()
            .rev()
            .map(|a| (a["actor"].as_str().unwrap(), a["action"].as_str().unwrap()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("agent", "case.create"),
                ("mail", "case.email.sent"),
                ("supervisor", "case.view"),
                ("agent", "case.timeline.view"),
                ("agent", "case.timeline.add")
            ]
        );

        let check: Value = app
            .get(Role::Auditor, "/api/v1/audit/verify")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(check["intact"], true, "{check}");
        let verdict = app.store.verify_audit().await.unwrap();
        assert!(
            matches!(verdict, AuditVerdict::Intact { .. }),
            "{verdict:?}"
        );

        // The log refuses edits through the database's own triggers...
        let backend_trigger_drop = match app.backend {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
            Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        let refused = match app.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
                let r = sqlx::query("UPDATE audit_log SET actor = 'mallory'")
                    .execute(&pool)
                    .await;
                pool.close().await;
                r.is_err()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
                let r = sqlx::query("UPDATE audit_log SET actor = 'mallory'")
                    .execute(&pool)
                    .await;
                pool.close().await;
                r.is_err()
            }
        };
        assert!(refused, "audit rows cannot be updated");

        // ...and someone with raw access who gets past them is caught by the chain.
        let target: i64 = {
            let rows = app.store.audit_for_subject(r, 10).await.unwrap();
            rows.iter().find(|a| a.action == "case.view").unwrap().id
        };
        let edit = format!("UPDATE audit_log SET actor = 'nobody' WHERE id = {target}");
        app.raw_sql(&[backend_trigger_drop, &edit]).await;
        match app.store.verify_audit().await.unwrap() {
            AuditVerdict::Broken { row_id, reason, .. } => {
                assert_eq!(row_id, target);
                assert!(reason.contains("edited"), "{reason}");
            }
            other => panic!("tampering went unnoticed: {other:?}"),
        }
        let check: Value = app
            .get(Role::Auditor, "/api/v1/audit/verify")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(check["intact"], false);
        assert_eq!(check["broken_row"], target);
    }
);

both_stores!(deleting_audit_rows_is_caught, async |app: &TestApp| {
    let c = app.create_case(&minimal_body()).await;
    let r = c["reference"].as_str().unwrap();
    app.get(Role::Agent, &format!("/api/v1/cases/{r}")).await;
    app.get(Role::Agent, &format!("/api/v1/cases/{r}")).await;
    let drop = match app.backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
    };
    let last = app.store.audit_for_subject(r, 1).await.unwrap()[0].id;
    let del = format!("DELETE FROM audit_log WHERE id = {last}");
    app.raw_sql(&[drop, &del]).await;
    assert!(matches!(
        app.store.verify_audit().await.unwrap(),
        AuditVerdict::Broken { .. }
    ));
});

both_stores!(
    schema_versions_match_across_stores,
    async |app: &TestApp| {
        let versions = app.store.schema_versions().await.unwrap();
        let expected: Vec<i64> = match app.backend {
            Backend::Sqlite => redress_store::postgres::MIGRATOR
                .iter()
                .map(|m| m.version)
                .collect(),
            Backend::Postgres => redress_store::sqlite::MIGRATOR
                .iter()
                .map(|m| m.version)
                .collect(),
        };
        assert_eq!(
            versions,
            expected,
            "{} applied the other store's versions",
            app.store.backend()
        );
    }
);

/// The statements that let someone with raw database access past the append-only triggers.
fn drop_triggers(backend: Backend) -> Vec<&'static str> {
    match backend {
        Backend::Sqlite => vec![
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER timeline_no_update",
            "DROP TRIGGER timeline_no_delete",
        ],
        Backend::Postgres => vec![
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER timeline_append_only ON timeline",
        ],
    }
}

fn broken(verdict: AuditVerdict) -> (i64, String, i64, String) {
    match verdict {
        AuditVerdict::Broken {
            row_id,
            chain,
            seq,
            reason,
        } => (row_id, chain, seq, reason),
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

fn intact(verdict: AuditVerdict) {
    assert!(
        matches!(verdict, AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
}

both_stores!(an_edited_timeline_entry_is_caught, async |app: &TestApp| {
    let c = app.create_case(&minimal_body()).await;
    let r = c["reference"].as_str().unwrap();
    let note = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/timeline"),
            &json!({"type": "note", "body": "Consumer says the company promised a refund"}),
        )
        .await;
    assert_eq!(note.status(), 201);
    let seq = note.json::<Value>().await.unwrap()["seq"].as_i64().unwrap();
    intact(app.store.verify_audit().await.unwrap());
    let mut statements = drop_triggers(app.backend);
    let case = format!("(SELECT id FROM cases WHERE reference = '{r}')");
    let edit = format!(
        "UPDATE timeline SET body = 'Consumer withdrew the complaint' WHERE case_id = {case} AND seq = {seq}"
    );
    statements.push(&edit);
    app.raw_sql(&statements).await;
    let (row_id, chain, _, reason) = broken(app.store.verify_audit().await.unwrap());
    assert_eq!(chain, format!("case:{r}"));
    assert!(
        reason.contains(&format!("timeline entry {seq} of {r}")),
        "{reason}"
    );
    assert!(reason.contains("edited"), "{reason}");
    let add = app
        .store
        .audit_for_subject(r, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action == "case.timeline.add")
        .unwrap();
    assert_eq!(
        row_id, add.id,
        "names the audit row that holds the entry's digest"
    );

    // Put the words back: intact again. Then remove the entry, or slip in one of its own.
    let restore = format!(
        "UPDATE timeline SET body = 'Consumer says the company promised a refund' WHERE case_id = {case} AND seq = {seq}"
    );
    app.raw_sql(&[&restore]).await;
    intact(app.store.verify_audit().await.unwrap());
    let forged = format!(
        "INSERT INTO timeline (case_id, seq, entry_type, body, visibility, data, author_id, at) \
         SELECT case_id, seq + 1, entry_type, 'Refund paid', visibility, data, author_id, at \
         FROM timeline WHERE case_id = {case} AND seq = {seq}"
    );
    app.raw_sql(&[&forged]).await;
    let (_, _, _, reason) = broken(app.store.verify_audit().await.unwrap());
    assert!(
        reason.contains(&format!(
            "timeline entry {} of {r} was never audited",
            seq + 1
        )),
        "{reason}"
    );
    let remove = format!("DELETE FROM timeline WHERE case_id = {case} AND seq >= {seq}");
    app.raw_sql(&[&remove]).await;
    let (_, _, _, reason) = broken(app.store.verify_audit().await.unwrap());
    assert!(
        reason.contains(&format!("timeline entry {seq} of {r} is missing")),
        "{reason}"
    );
});

both_stores!(an_edited_case_row_is_caught, async |app: &TestApp| {
    let c = app.create_case(&minimal_body()).await;
    let r = c["reference"].as_str().unwrap();
    let patched = app
        .req(
            Role::Agent,
            reqwest::Method::PATCH,
            &format!("/api/v1/cases/{r}"),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"priority": "high", "account_number": "ACCT-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    // The audit row of the change carries the values before and after.
    let update = app
        .store
        .audit_for_subject(r, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.action == "case.update")
        .unwrap();
    let detail: Value = serde_json::from_str(&update.detail).unwrap();
    assert_eq!(
        detail["changes"]["priority"],
        json!({"from": "normal", "to": "high"})
    );
    assert_eq!(detail["changes"]["account_number"]["to"], "ACCT-1");
    intact(app.store.verify_audit().await.unwrap());

    // A database edit that even keeps the version and the updated-at instant is caught,
    // naming the columns.
    let edit = format!(
        "UPDATE cases SET account_number = 'ACCT-2', priority = 'low' WHERE reference = '{r}'"
    );
    app.raw_sql(&[&edit]).await;
    let (row_id, chain, seq, reason) = broken(app.store.verify_audit().await.unwrap());
    assert_eq!(chain, format!("case:{r}"));
    assert_eq!(
        (row_id, seq),
        (update.id, update.seq),
        "the last change audited"
    );
    assert!(
        reason.contains("priority, account_number") && reason.contains(r),
        "{reason}"
    );
    let undo = format!(
        "UPDATE cases SET account_number = 'ACCT-1', priority = 'high' WHERE reference = '{r}'"
    );
    app.raw_sql(&[&undo]).await;
    intact(app.store.verify_audit().await.unwrap());

    // An edit followed by an ordinary change is not absorbed into the next audited state:
    // the columns changed between two audited states must be ones the change may change.
    let edit = format!("UPDATE cases SET account_number = 'ACCT-9' WHERE reference = '{r}'");
    app.raw_sql(&[&edit]).await;
    let note = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/timeline"),
            &json!({"type": "note", "body": "Called back"}),
        )
        .await;
    assert_eq!(note.status(), 201);
    let (_, _, seq, reason) = broken(app.store.verify_audit().await.unwrap());
    assert!(
        reason.contains("changed in: account_number")
            && reason.contains(&format!("positions {} and {seq}", update.seq))
            && reason.contains("case.timeline.add does not change"),
        "{reason}"
    );
});

both_stores!(
    a_truncated_chain_is_caught_against_a_checkpoint,
    async |app: &TestApp| {
        // A case without an email address: no acknowledgement joins its chain.
        let mut body = minimal_body();
        body["consumer"].as_object_mut().unwrap().remove("email");
        let c = app.create_case(&body).await;
        let r = c["reference"].as_str().unwrap();
        app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
            .await;
        let checkpoint = app.store.audit_heads().await.unwrap();
        let head = checkpoint
            .iter()
            .find(|h| h.chain == format!("case:{r}"))
            .unwrap()
            .clone();
        assert_eq!(head.seq, 2);
        intact(app.store.verify_audit_against(&checkpoint).await.unwrap());

        // Someone removes who looked at the case, and moves the head back to the row before.
        let mut statements = drop_triggers(app.backend);
        let del = format!("DELETE FROM audit_log WHERE chain = 'case:{r}' AND seq = 2");
        let back = format!(
            "UPDATE audit_chains SET seq = 1, hash = (SELECT hash FROM audit_log WHERE chain = 'case:{r}' AND seq = 1) \
             WHERE chain = 'case:{r}'"
        );
        statements.extend([del.as_str(), back.as_str()]);
        app.raw_sql(&statements).await;
        intact(app.store.verify_audit().await.unwrap());
        let (_, chain, seq, reason) =
            broken(app.store.verify_audit_against(&checkpoint).await.unwrap());
        assert_eq!((chain.as_str(), seq), (head.chain.as_str(), 1));
        assert!(reason.contains("truncated"), "{reason}");
        assert!(reason.contains("position 2"), "{reason}");

        // A chain removed entirely (rows and head) is missed too.
        let gone = "DELETE FROM audit_log WHERE chain = 'user:analyst'";
        let gone_head = "DELETE FROM audit_chains WHERE chain = 'user:analyst'";
        assert!(checkpoint.iter().any(|h| h.chain == "user:analyst"));
        app.raw_sql(&[gone, gone_head]).await;
        let shorter: Vec<_> = checkpoint
            .iter()
            .filter(|h| h.chain != head.chain)
            .cloned()
            .collect();
        let (_, chain, _, reason) = broken(app.store.verify_audit_against(&shorter).await.unwrap());
        assert_eq!(chain, "user:analyst");
        assert!(reason.contains("no rows"), "{reason}");
    }
);

both_stores!(
    a_recomputed_chain_is_caught_against_a_checkpoint,
    async |app: &TestApp| {
        // A case without an email address: no acknowledgement joins its chain.
        let mut body = minimal_body();
        body["consumer"].as_object_mut().unwrap().remove("email");
        let c = app.create_case(&body).await;
        let r = c["reference"].as_str().unwrap();
        app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
            .await;
        app.get(Role::Supervisor, &format!("/api/v1/cases/{r}/timeline"))
            .await;
        let checkpoint = app.store.audit_heads().await.unwrap();
        app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
            .await;

        // Hide who read the case, then recompute every hash after it, and the head.
        let mut rows = app.store.audit_for_subject(r, 100).await.unwrap();
        rows.reverse();
        let chain = format!("case:{r}");
        assert_eq!(rows[1].action, "case.view");
        assert_eq!(rows[1].actor, "supervisor");
        let mut statements: Vec<String> = drop_triggers(app.backend)
            .into_iter()
            .map(String::from)
            .collect();
        let mut prev = rows[0].hash.clone();
        for (i, row) in rows.iter().enumerate().skip(1) {
            let actor = if i == 1 { "agent" } else { row.actor.as_str() };
            let hash = redress_domain::audit::chain_hash(
                &prev,
                &redress_domain::audit::AuditContent {
                    chain: &chain,
                    seq: row.seq,
                    at_micros: row.at.as_microsecond(),
                    actor,
                    action: &row.action,
                    subject: &row.subject,
                    detail: &row.detail,
                },
            );
            statements.push(format!(
                "UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
                row.id
            ));
            prev = hash;
        }
        statements.push(format!(
            "UPDATE audit_chains SET hash = '{prev}' WHERE chain = '{chain}'"
        ));
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        app.raw_sql(&refs).await;

        intact(app.store.verify_audit().await.unwrap());
        let (row_id, broken_chain, seq, reason) =
            broken(app.store.verify_audit_against(&checkpoint).await.unwrap());
        assert_eq!((broken_chain, seq), (chain, 3));
        assert_eq!(row_id, rows[2].id);
        assert!(reason.contains("recomputed"), "{reason}");
    }
);

both_stores!(
    scheduling_a_reminder_and_every_read_of_a_case_are_audited,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap();
        let read = app.get(Role::Analyst, &format!("/api/v1/cases/{r}")).await;
        assert_eq!(read.status(), 200);
        let scheduled = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/reminders"),
                &json!({"at": "2026-03-10T14:00:00Z", "body": "Call the consumer back"}),
            )
            .await;
        assert_eq!(scheduled.status(), 202);
        let refused = app
            .post_json(
                Role::Agent,
                "/api/v1/cases/NYC-2026-999999/reminders",
                &json!({"at": "2026-03-10T14:00:00Z", "body": "Nobody"}),
            )
            .await;
        assert_eq!(refused.status(), 404);
        assert_eq!(
            app.count("jobs").await,
            1,
            "a refused request writes nothing"
        );
        let trail = app.store.audit_for_subject(r, 10).await.unwrap();
        let actions: Vec<(&str, &str)> = trail
            .iter()
            .rev()
            .map(|a| (a.actor.as_str(), a.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("agent", "case.create"),
                ("mail", "case.email.sent"),
                ("analyst", "case.view"),
                ("agent", "case.reminder.schedule"),
            ]
        );
        let detail: Value = serde_json::from_str(&trail[0].detail).unwrap();
        assert_eq!(detail["run_at"], "2026-03-10T14:00:00Z");
        intact(app.store.verify_audit().await.unwrap());
    }
);
