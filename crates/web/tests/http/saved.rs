//! Saved searches: a person keeps the case list's filters under a name, a unit's senior agents
//! and supervisors keep them for the whole unit; nobody else sees or forgets them; bad filters
//! are refused by name and store nothing; each save and removal is audited.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

async fn put_in_unit(app: &TestApp, username: &str, unit: &str) {
    let users: Value = app
        .get(Role::Admin, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .req(
            Role::Admin,
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
        )
        .json(&json!({"unit": unit}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

async fn names(app: &TestApp, role: Role) -> Vec<String> {
    let r = app.get(role, "/api/v1/saved-searches").await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

async fn found(app: &TestApp, role: Role, id: i64) -> Vec<String> {
    let r = app
        .get(role, &format!("/api/v1/saved-searches/{id}/cases"))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let page: Value = r.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect()
}

fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

both_stores!(
    a_person_keeps_a_search_and_runs_it,
    async |app: &TestApp| {
        let meter = app
            .create_case(&json!({"kind":"complaint","channel":"phone",
                "description":"The gas meter runs fast; please test it.",
                "consumer":{"name":"María López","phone":"518-555-0101"}}))
            .await;
        app.create_case(&json!({"kind":"complaint","channel":"web",
                "description":"Billed twice for October.",
                "consumer":{"name":"Ana Díaz","phone":"518-555-0102"}}))
            .await;
        let r = app
            .post_json(
                Role::Agent,
                "/api/v1/saved-searches",
                &json!({"name": "Meter tests", "params": {"q": "meter", "closed": "1"}}),
            )
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let saved: Value = r.json().await.unwrap();
        let id = saved["id"].as_i64().unwrap();
        assert_eq!(saved["href"], "/cases?closed=1&q=meter");
        assert_eq!(saved["unit"], Value::Null);
        assert_eq!(saved["created_by"], "agent");
        assert_eq!(
            found(app, Role::Agent, id).await,
            vec![meter["reference"].as_str().unwrap().to_string()]
        );
        assert_eq!(names(app, Role::Agent).await, vec!["Meter tests"]);
        // Nobody else sees it, or can run or forget it.
        assert!(names(app, Role::SeniorAgent).await.is_empty());
        for path in [
            format!("/api/v1/saved-searches/{id}"),
            format!("/api/v1/saved-searches/{id}/cases"),
        ] {
            assert_eq!(app.get(Role::Supervisor, &path).await.status(), 404);
        }
        let r = app
            .req(
                Role::Supervisor,
                reqwest::Method::DELETE,
                &format!("/api/v1/saved-searches/{id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        // The page lists it and opens the list it keeps.
        let b = logged_in(app, "agent").await;
        let (status, html) = page(&b, app, "/cases").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("<a href=\"/cases?closed=1&#38;q=meter\">Meter tests</a>"),
            "{html}"
        );
        // Its owner forgets it, and the log says who saved and who forgot it.
        let r = app
            .req(
                Role::Agent,
                reqwest::Method::DELETE,
                &format!("/api/v1/saved-searches/{id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert!(names(app, Role::Agent).await.is_empty());
        assert_eq!(
            app.sql_count(
                "SELECT COUNT(*) FROM audit_log WHERE action IN ('saved_search.save', 'saved_search.delete') AND actor = 'agent'",
                &[]
            )
            .await,
            2
        );
    }
);

both_stores!(
    a_bad_search_is_refused_by_name_and_nothing_is_kept,
    async |app: &TestApp| {
        for (body, field) in [
            (
                json!({"name": "x", "params": {"status": "sleeping"}}),
                "params.status",
            ),
            (
                json!({"name": "x", "params": {"colour": "red"}}),
                "params.colour",
            ),
            (
                json!({"name": "x", "params": {"unit": "NOPE"}}),
                "params.unit",
            ),
            (
                json!({"name": "x", "params": {"assignee": "nobody.here"}}),
                "params.assignee",
            ),
            (json!({"name": "  ", "params": {"status": "new"}}), "name"),
            (json!({"name": "x".repeat(81)}), "name"),
            (json!({"name": "x", "unit": "CALL"}), "unit"),
            (json!({"name": "x", "unit": "NOPE"}), "unit"),
        ] {
            let r = app
                .post_json(Role::Agent, "/api/v1/saved-searches", &body)
                .await;
            assert_eq!(r.status(), 422, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(field_errors(&e), vec![field.to_string()], "{body}: {e}");
        }
        assert_eq!(app.count("saved_searches").await, 0);
        // A name is the owner's once.
        let body = json!({"name": "Mine", "params": {"status": "new"}});
        let r = app
            .post_json(Role::Agent, "/api/v1/saved-searches", &body)
            .await;
        assert_eq!(r.status(), 201);
        let r = app
            .post_json(Role::Agent, "/api/v1/saved-searches", &body)
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            field_errors(&r.json().await.unwrap()),
            vec!["name".to_string()]
        );
        // Someone else may use the same name for their own.
        let r = app
            .post_json(Role::SeniorAgent, "/api/v1/saved-searches", &body)
            .await;
        assert_eq!(r.status(), 201);
        assert_eq!(app.count("saved_searches").await, 2);
    }
);

both_stores!(
    a_units_search_is_shared_with_the_unit_and_kept_by_its_leads,
    async |app: &TestApp| {
        put_in_unit(app, "agent", "CALL").await;
        put_in_unit(app, "senior.agent", "CALL").await;
        put_in_unit(app, "supervisor", "HOTLINE").await;
        app.create_case(&json!({"kind":"complaint","channel":"phone",
                "description":"Shut-off notice although the plan is current.",
                "consumer":{"name":"Luis Rivera","phone":"518-555-0103"}}))
            .await;
        // An agent keeps only their own; the unit's senior agent keeps the unit's.
        let body = json!({"name": "Unassigned calls", "unit": "CALL",
            "params": {"assignee": "none"}});
        let r = app
            .post_json(Role::Agent, "/api/v1/saved-searches", &body)
            .await;
        assert_eq!(r.status(), 422);
        let r = app
            .post_json(Role::SeniorAgent, "/api/v1/saved-searches", &body)
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let saved: Value = r.json().await.unwrap();
        let id = saved["id"].as_i64().unwrap();
        assert_eq!(saved["unit"], "CALL");
        // A senior agent of another unit may not keep CALL's.
        let r = app
            .post_json(
                Role::SeniorAgent,
                "/api/v1/saved-searches",
                &json!({"name": "Hotline", "unit": "HOTLINE"}),
            )
            .await;
        assert_eq!(r.status(), 422);
        // Everyone in the unit finds it and runs it; others do not see it.
        assert_eq!(names(app, Role::Agent).await, vec!["Unassigned calls"]);
        assert_eq!(found(app, Role::Agent, id).await.len(), 1);
        assert!(names(app, Role::Analyst).await.is_empty());
        assert_eq!(
            app.get(Role::Analyst, &format!("/api/v1/saved-searches/{id}"))
                .await
                .status(),
            404
        );
        // The agent may not forget the unit's search; a supervisor may, of any unit.
        let delete = |role| {
            app.req(
                role,
                reqwest::Method::DELETE,
                &format!("/api/v1/saved-searches/{id}"),
            )
            .send()
        };
        assert_eq!(delete(Role::Agent).await.unwrap().status(), 403);
        assert_eq!(names(app, Role::Agent).await, vec!["Unassigned calls"]);
        assert_eq!(delete(Role::Supervisor).await.unwrap().status(), 204);
        assert!(names(app, Role::Agent).await.is_empty());
    }
);

both_stores!(
    the_case_list_page_saves_and_forgets_the_filters_shown,
    async |app: &TestApp| {
        let b = logged_in(app, "agent").await;
        let (status, html) = page(&b, app, "/cases?status=new&closed=1&page=2").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("name=\"param.status\" value=\"new\""),
            "{html}"
        );
        assert!(!html.contains("name=\"param.page\""));
        let token = csrf(&html);
        // Without a name, the form says what is missing and nothing is kept.
        let form = [
            ("csrf", token.as_str()),
            ("name", ""),
            ("param.status", "new"),
            ("param.closed", "1"),
        ];
        let r = post(&b, app, "/cases/saved", &form).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("The search was not saved"), "{html}");
        assert!(html.contains("Name of the search"), "{html}");
        assert_eq!(app.count("saved_searches").await, 0);
        // Without the form's token, nothing is kept either.
        let mut bad = form;
        bad[0].1 = "forged";
        bad[1].1 = "New ones";
        assert_eq!(post(&b, app, "/cases/saved", &bad).await.status(), 403);
        assert_eq!(app.count("saved_searches").await, 0);
        let mut good = form;
        good[1].1 = "New ones";
        let r = post(&b, app, "/cases/saved", &good).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            "/cases?closed=1&status=new"
        );
        let (_, html) = page(&b, app, "/cases?lang=es").await;
        assert!(html.contains("Búsquedas guardadas"), "{html}");
        assert!(html.contains(">New ones</a>"));
        let list: Value = app
            .get(Role::Agent, "/api/v1/saved-searches")
            .await
            .json()
            .await
            .unwrap();
        let id = list[0]["id"].as_i64().unwrap();
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("/cases/saved/{id}/forget"),
            &[("csrf", &token)],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.count("saved_searches").await, 0);
    }
);

both_stores!(
    the_case_list_downloads_the_cases_it_shows,
    async |app: &TestApp| {
        let meter = app
            .create_case(&json!({"kind":"complaint","channel":"phone",
                "description":"The gas meter runs fast; please test it.",
                "consumer":{"name":"María López","phone":"518-555-0101"}}))
            .await;
        app.create_case(&json!({"kind":"inquiry","channel":"web",
                "description":"How do I read my bill?",
                "consumer":{"name":"Ana Díaz","phone":"518-555-0102"}}))
            .await;
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, "/cases?kind=complaint").await;
        assert!(
            html.contains("href=\"/cases/download?format=csv&amp;kind=complaint\""),
            "{html}"
        );
        let r = b
            .get(app.url("/cases/download?format=csv&kind=complaint"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[0].starts_with("reference,opened_at,kind"));
        assert!(lines[1].starts_with(meter["reference"].as_str().unwrap()));
        let r = b
            .get(app.url("/cases/download?format=xlsx&q=meter"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
        // Without a session, the sign-in page.
        let anonymous = crate::pages::browser();
        let r = anonymous
            .get(app.url("/cases/download?format=csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
);
