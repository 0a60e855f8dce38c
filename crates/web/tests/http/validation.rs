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
        // The create and its acknowledgement.
        let audit_before = audit_before + 2;
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
            3,
            "the opening entry, the acknowledgement and the clock's start"
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
            app.get(Role::Agent, "/api/v1/cases?status=lost&limit=0")
                .await,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(fields(&p), vec!["status", "limit"]);
        // A parameter the operation does not take is refused before anything else is read.
        let (status, p) = problem(
            app.get(Role::Agent, "/api/v1/cases?status=lost&colour=red")
                .await,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(fields(&p), vec!["colour"]);
    }
);

/// Sends a JSON body as raw bytes (for bodies `json!` cannot build).
async fn post_raw(app: &TestApp, role: Role, path: &str, body: &str) -> reqwest::Response {
    app.req(role, Method::POST, path)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// A refusal: a 4xx problem naming `field`.
async fn refused(r: reqwest::Response, status: u16, field: &str) -> Value {
    let (got, p) = problem(r).await;
    assert_eq!(got, status, "{field}: {p}");
    assert!(
        fields(&p).contains(&field.to_string()),
        "expected {field} in {p}"
    );
    p
}

both_stores!(
    control_characters_in_lookups_and_text_are_refused_before_the_store,
    async |app: &TestApp| {
        // Lookup fields of a new case: NUL (which PostgreSQL cannot hold) and terminal escapes.
        for (key, value) in [
            ("unit", "CA\u{0}LL"),
            ("assignee", "agent\u{0}"),
            ("category", "Energy\u{0} > Electric"),
            ("office", "N\u{0}YC"),
            ("unit", "\u{1b}[2JCALL"),
        ] {
            let body = with(&[key], json!(value));
            let r = app.post_json(Role::Agent, "/api/v1/cases", &body).await;
            let p = refused(r, 422, key).await;
            assert_eq!(p["code"], "validation_failed");
        }
        // Anywhere in a body, e.g. the consumer's name.
        let r = app
            .post_json(
                Role::Agent,
                "/api/v1/cases",
                &with(&["consumer", "name"], json!("Ana\u{0}")),
            )
            .await;
        refused(r, 422, "consumer.name").await;
        // A new unit's office, and a user's unit.
        let r = app
            .post_json(
                Role::Admin,
                "/api/v1/units",
                &json!({"code": "NEW", "name": "New", "office": "NYC\u{0}"}),
            )
            .await;
        refused(r, 422, "office").await;
        assert_eq!(app.count("cases").await, 0);
        assert_eq!(app.count("consumers").await, 0);
        assert_eq!(app.count("units").await, 2);

        // Assignment lookups.
        let mut utility = minimal_body();
        utility["lifecycle"] = serde_json::json!("utility_complaint");
        let c = app.create_case(&utility).await;
        let r = c["reference"].as_str().unwrap();
        let audit = app.count("audit_log").await;
        for key in ["unit", "assignee"] {
            let resp = app
                .post_json(
                    Role::Supervisor,
                    &format!("/api/v1/cases/{r}/assignment"),
                    &json!({key: "x\u{0}y"}),
                )
                .await;
            refused(resp, 422, key).await;
        }
        // List filters in the query string.
        for (q, field) in [
            ("unit=CA%00LL", "unit"),
            ("assignee=%00", "assignee"),
            ("status=new%00", "status"),
            ("unit=%1B%5B2J", "unit"),
        ] {
            let resp = app.get(Role::Agent, &format!("/api/v1/cases?{q}")).await;
            refused(resp, 422, field).await;
        }
        let resp = app
            .get(
                Role::Agent,
                &format!("/api/v1/cases/{r}/timeline?visibility=internal%00"),
            )
            .await;
        refused(resp, 422, "visibility").await;
        let resp = app
            .get(Role::Agent, "/api/v1/consumers?account=AB%00C")
            .await;
        refused(resp, 422, "account").await;

        // A lifecycle step's text field follows the same rule as a note.
        let open = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/transitions"),
                &json!({"transition": "open_investigation"}),
            )
            .await;
        assert_eq!(open.status(), 200);
        let version = open.json::<Value>().await.unwrap()["version"].clone();
        let audit = audit + 1;
        for text in ["bills\u{1b}[2J", "bills\u{0}", "bell\u{7}"] {
            let resp = app
                .post_json(
                    Role::Agent,
                    &format!("/api/v1/cases/{r}/transitions"),
                    &json!({"transition": "request_information",
                            "fields": {"request_text": text, "response_due": "2026-04-01"}}),
                )
                .await;
            refused(resp, 422, "fields.request_text").await;
            let resp = app
                .post_json(
                    Role::Agent,
                    &format!("/api/v1/cases/{r}/timeline"),
                    &json!({"type": "note", "body": text}),
                )
                .await;
            refused(resp, 422, "body").await;
        }
        // A date the calendar cannot reach is the field's problem, not the server's.
        for date in ["9999-12-31", "0001-01-01"] {
            let resp = app
                .post_json(
                    Role::Agent,
                    &format!("/api/v1/cases/{r}/transitions"),
                    &json!({"transition": "request_information",
                            "fields": {"request_text": "bills", "response_due": date}}),
                )
                .await;
            let p = refused(resp, 422, "fields.response_due").await;
            assert_eq!(p["errors"][0]["code"], "out_of_range", "{p}");
        }
        let after: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(after["version"], version);
        assert_eq!(after["stage"], "investigating");
        assert_eq!(after["unit"], Value::Null);
        // Only the step and the read just now were audited.
        assert_eq!(app.count("audit_log").await, audit + 1);

        // A username with a NUL at login is a failed login, never a 500.
        for username in ["agent\u{0}", "\u{0}", "age\u{1b}nt"] {
            let resp = app
                .client
                .post(app.url("/api/v1/session"))
                .json(&json!({"username": username, "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            let (status, p) = problem(resp).await;
            assert!(status == 401 || status == 422, "{username:?}: {status} {p}");
        }
        assert_eq!(app.count("sessions").await, 0);
    }
);

both_stores!(
    json_bodies_are_one_value_of_the_right_types,
    async |app: &TestApp| {
        let good = minimal_body().to_string();
        let audit = app.count("audit_log").await;
        // Trailing data after the body is refused, not ignored.
        for trailing in [" {\"kind\":\"inquiry\"}", "x", " 1", "]"] {
            let resp = post_raw(
                app,
                Role::Agent,
                "/api/v1/cases",
                &format!("{good}{trailing}"),
            )
            .await;
            let (status, p) = problem(resp).await;
            assert_eq!(
                (status, p["code"].as_str()),
                (400, Some("malformed_json")),
                "{p}"
            );
        }
        // A wrong JSON type in an enumeration names the field.
        for (path, value, field) in [
            (vec!["kind"], json!(5), "kind"),
            (vec!["channel"], json!(true), "channel"),
            (vec!["priority"], json!(["high"]), "priority"),
            (
                vec!["consumer", "preferred_language"],
                json!(1),
                "consumer.preferred_language",
            ),
        ] {
            let resp = app
                .post_json(Role::Agent, "/api/v1/cases", &with(&path, value))
                .await;
            let p = refused(resp, 422, field).await;
            assert_eq!(p["errors"][0]["code"], "invalid_type", "{p}");
        }
        let resp = app
            .post_json(Role::Agent, "/api/v1/cases", &json!({"kind":"complaint","channel":"phone","description":"x","consumer":{"name":"A","phone":"518-555-0100"},"flags":[7]}))
            .await;
        refused(resp, 422, "flags[0]").await;
        assert_eq!(app.count("cases").await, 0);
        assert_eq!(app.count("consumers").await, 0);
        assert_eq!(app.count("audit_log").await, audit);
        // The good body alone is accepted.
        assert_eq!(
            post_raw(app, Role::Agent, "/api/v1/cases", &good)
                .await
                .status(),
            201
        );
    }
);

both_stores!(
    every_operation_refuses_parameters_it_does_not_take,
    async |app: &TestApp| {
        for (path, field) in [
            ("/api/v1/companies?foo=2", "foo"),
            ("/api/v1/companies?limit=5", "limit"),
            ("/api/v1/units?page=2", "page"),
            ("/api/v1/categories?q=x", "q"),
            ("/api/v1/users?role=admin", "role"),
            ("/api/v1/tokens?all=1", "all"),
            ("/api/v1/lifecycles?kind=complaint", "kind"),
            ("/api/v1/me?x=", "x"),
            ("/api/v1/consumers?phone=518-555-0100&name=Ana", "name"),
            ("/api/v1/cases?limit=0", "limit"),
            ("/api/v1/cases?limit=501", "limit"),
            ("/api/v1/cases?limit=ten", "limit"),
            ("/api/v1/cases?limit=5&limit=600", "limit"),
            ("/api/v1/cases?colour=red", "colour"),
        ] {
            let resp = app.get(Role::Admin, path).await;
            let p = refused(resp, 422, field).await;
            assert_eq!(p["code"], "validation_failed", "{path}");
        }
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap();
        for path in [
            format!("/api/v1/cases/{r}?expand=all"),
            format!("/api/v1/cases/{r}/timeline?page=1"),
            format!("/api/v1/cases/{r}/clocks?x=1"),
            format!("/api/v1/cases/{r}/attachments?x=1"),
        ] {
            refused(
                app.get(Role::Supervisor, &path).await,
                422,
                path.rsplit(['?', '=']).nth(1).unwrap(),
            )
            .await;
        }
        // What they do take still works.
        for path in [
            "/api/v1/cases?limit=500".to_string(),
            "/api/v1/cases?limit=1&status=new".to_string(),
            format!("/api/v1/cases/{r}/timeline?visibility=internal"),
            format!("/api/v1/cases/{r}/lifecycle?lang=es"),
            "/api/v1/companies".to_string(),
        ] {
            assert_eq!(
                app.get(Role::Supervisor, &path).await.status(),
                200,
                "{path}"
            );
        }
    }
);

both_stores!(
    lifecycles_describe_clock_lengths_as_words,
    async |app: &TestApp| {
        let all: Value = app
            .get(Role::Agent, "/api/v1/lifecycles")
            .await
            .json()
            .await
            .unwrap();
        let mut lengths = 0;
        for lc in all.as_array().unwrap() {
            for clock in lc["clocks"].as_array().unwrap() {
                if clock["due"]["type"] == "after" {
                    let v = clock["due"]["value"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{clock}"));
                    assert!(
                        v.ends_with(" days")
                            || v.ends_with(" hours")
                            || v.ends_with(" day")
                            || v.ends_with(" hour"),
                        "{v}"
                    );
                    lengths += 1;
                }
                assert!(
                    clock["warn"].is_null() || clock["warn"].is_string(),
                    "{clock}"
                );
            }
        }
        assert!(lengths > 10);
    }
);
