//! Bad input gets a 4xx problem+json naming the field, and writes nothing.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

fn with(path: &[&str], value: Value) -> Value {
    let mut b = minimal_body();
    let mut cur = &mut b;
    for (i, key) in path.iter().enumerate() {
        if i == path.len() - 1 {
            cur[*key] = value.clone();
        } else {
            cur = &mut cur[*key];
        }
    }
    b
}

async fn problem(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "status {status}"
    );
    (status, r.json().await.unwrap())
}

fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

both_stores!(
    bad_create_bodies_name_the_field_and_write_nothing,
    async |app: &TestApp| {
        let cases = [
            (
                with(&["consumer", "email"], json!("not-an-email")),
                "consumer.email",
            ),
            (
                with(&["consumer", "phone"], json!("555-01")),
                "consumer.phone",
            ),
            (
                with(&["consumer", "phone"], json!(5185550100u64)),
                "consumer.phone",
            ),
            (with(&["kind"], json!("grievance")), "kind"),
            (with(&["channel"], json!("pigeon")), "channel"),
            (
                with(&["consumer", "preferred_language"], json!("fr")),
                "consumer.preferred_language",
            ),
            (
                with(&["description"], json!("x".repeat(20_001))),
                "description",
            ),
            (with(&["description"], json!("   ")), "description"),
            (
                with(&["consumer", "name"], json!("n".repeat(201))),
                "consumer.name",
            ),
            (
                with(&["amount_in_dispute"], json!("-5.00")),
                "amount_in_dispute",
            ),
            (with(&["amount_in_dispute"], json!(-5)), "amount_in_dispute"),
            (
                with(&["amount_in_dispute"], json!("twelve")),
                "amount_in_dispute",
            ),
            (
                with(&["amount_in_dispute"], json!("1.005")),
                "amount_in_dispute",
            ),
            (
                with(&["amount_in_dispute"], json!(true)),
                "amount_in_dispute",
            ),
            (
                with(&["consumer", "address"], json!({"zip": "1220"})),
                "consumer.address.zip",
            ),
            (
                with(&["consumer", "address"], json!({"state": "XX"})),
                "consumer.address.state",
            ),
            (with(&["company_id"], json!(999_999)), "company_id"),
            (with(&["company_id"], json!("Con Ed")), "company_id"),
            (with(&["category"], json!("Energy > Nope")), "category"),
            (with(&["unit"], json!("NOPE")), "unit"),
            (with(&["assignee"], json!("ghost")), "assignee"),
            (with(&["priority"], json!("urgent")), "priority"),
            (with(&["flags"], json!(["vip"])), "flags[0]"),
            (with(&["surprise"], json!(1)), "surprise"),
            (
                with(&["consumer", "nickname"], json!("Ani")),
                "consumer.nickname",
            ),
            (
                json!({"kind":"complaint","channel":"phone","description":"x"}),
                "consumer",
            ),
            (
                json!({"kind":"complaint","channel":"phone","description":"x","consumer":{"name":"Ana"}}),
                "consumer",
            ),
        ];
        for (body, field) in cases {
            let r = app.post_json(Role::Agent, "/api/v1/cases", &body).await;
            let (status, p) = problem(r).await;
            assert_eq!(status, 422, "{field}: {p}");
            assert_eq!(p["code"], "validation_failed");
            assert!(
                fields(&p).contains(&field.to_string()),
                "expected {field} in {p}"
            );
        }
        // Several problems are reported together.
        let mut b = with(&["consumer", "email"], json!("nope"));
        b["consumer"]["phone"] = json!("12");
        let (_, p) = problem(app.post_json(Role::Agent, "/api/v1/cases", &b).await).await;
        assert_eq!(fields(&p), vec!["consumer.email", "consumer.phone"]);

        // Malformed JSON and wrong media type.
        let r = app
            .req(Role::Agent, Method::POST, "/api/v1/cases")
            .header("content-type", "application/json")
            .body("{\"kind\":")
            .send()
            .await
            .unwrap();
        let (status, p) = problem(r).await;
        assert_eq!((status, p["code"].as_str()), (400, Some("malformed_json")));
        let r = app
            .req(Role::Agent, Method::POST, "/api/v1/cases")
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(problem(r).await.0, 415);
        let r = app
            .req(Role::Agent, Method::POST, "/api/v1/cases")
            .header("content-type", "application/json")
            .body(vec![b'['; 300_000])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);

        assert_eq!(app.count("cases").await, 0);
        assert_eq!(app.count("consumers").await, 0);
        assert_eq!(app.count("timeline").await, 0);
        assert_eq!(app.count("reference_counters").await, 0);
        let audit_before = app.count("audit_log").await;

        // And bad changes to an existing case change nothing.
        let c = app.create_case(&minimal_body()).await;
        let path = format!("/api/v1/cases/{}", c["reference"].as_str().unwrap());
        let audit_before = audit_before + 1;
        for (body, field) in [
            (json!({"priority": "urgent"}), "priority"),
            (json!({"amount_in_dispute": "-1"}), "amount_in_dispute"),
            (json!({"category": "Nope"}), "category"),
            (json!({"description": ""}), "description"),
            (json!({"colour": "red"}), "colour"),
            (json!({}), "body"),
        ] {
            let r = app
                .req(Role::Agent, Method::PATCH, &path)
                .header("If-Match", "\"1\"")
                .json(&body)
                .send()
                .await
                .unwrap();
            let (status, p) = problem(r).await;
            assert_eq!(status, 422, "{p}");
            assert!(
                fields(&p).contains(&field.to_string()),
                "expected {field} in {p}"
            );
        }
        for (body, field) in [
            (json!({"type": "status_change", "body": "x"}), "type"),
            (json!({"type": "note", "body": ""}), "body"),
            (
                json!({"type": "note", "body": "x", "visibility": "everyone"}),
                "visibility",
            ),
            (json!({"type": "call", "body": "x"}), "call"),
            (
                json!({"type": "call", "body": "x", "call": {"direction": "inbound", "duration_seconds": -3}}),
                "call.duration_seconds",
            ),
        ] {
            let (status, p) = problem(
                app.post_json(Role::Agent, &format!("{path}/timeline"), &body)
                    .await,
            )
            .await;
            assert_eq!(status, 422, "{p}");
            assert!(
                fields(&p).contains(&field.to_string()),
                "expected {field} in {p}"
            );
        }
        let r = app
            .req(Role::Agent, Method::PATCH, &path)
            .header("If-Match", "soon")
            .json(&json!({"priority":"low"}))
            .send()
            .await
            .unwrap();
        assert_eq!(problem(r).await.0, 422);
        let after: Value = app.get(Role::Auditor, &path).await.json().await.unwrap();
        assert_eq!(after["version"], 1);
        assert_eq!(after["priority"], "normal");
        assert_eq!(
            app.count("timeline").await,
            2,
            "the opening entry and the clock's start"
        );
        // Only the create and the auditor's view were audited.
        assert_eq!(app.count("audit_log").await, audit_before + 1);

        // Unknown references are 404 problems, whatever their shape.
        for p in [
            "/api/v1/cases/NYC-2026-999999",
            "/api/v1/cases/nonsense",
            "/api/v1/cases/NYC-2026-999999/timeline",
        ] {
            let (status, body) = problem(app.get(Role::Agent, p).await).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (404, Some("not_found")),
                "{p}"
            );
        }
        let (status, p) = problem(
            app.get(Role::Agent, "/api/v1/cases?status=lost&limit=0&colour=red")
                .await,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(fields(&p).len(), 3);
    }
);
