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
