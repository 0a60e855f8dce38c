//! Every new case lands in a queue: routing rules (API and administration page), a portal filing
//! routed to a unit in the same request, and the supervisor's "not yet assigned" list.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{browser, csrf, logged_in, page, post};
use redress_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

both_stores!(
    rules_name_what_exists_and_are_tried_in_order,
    async |app: &TestApp| {
        // Only those who keep reference data add rules; bad conditions name their field.
        let r = app
            .post_json(
                Role::Agent,
                "/api/v1/routing-rules",
                &json!({"unit": "CALL"}),
            )
            .await;
        assert_eq!(r.status(), 403);
        let r = app
            .post_json(
                Role::Admin,
                "/api/v1/routing-rules",
                &json!({"unit": "NOPE", "category": "Nothing > Here", "company_id": 999}),
            )
            .await;
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["unit", "category", "company_id"], "{p}");
        assert_eq!(app.count("routing_rules").await, 0, "nothing was written");

        // The catch-all goes last; a narrower rule placed before it wins for what it covers.
        let r = app
            .post_json(
                Role::Admin,
                "/api/v1/routing-rules",
                &json!({"unit": "CALL"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let catch_all: Value = r.json().await.unwrap();
        assert_eq!(catch_all["position"], 10);
        let r = app
            .post_json(
                Role::Admin,
                "/api/v1/routing-rules",
                &json!({"unit": "HOTLINE", "category": "Energy", "kind": "complaint", "position": 5}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let energy: Value = r.json().await.unwrap();
        let rules: Vec<Value> = app
            .get(Role::Supervisor, "/api/v1/routing-rules")
            .await
            .json()
            .await
            .unwrap();
        let units: Vec<&str> = rules.iter().map(|r| r["unit"].as_str().unwrap()).collect();
        assert_eq!(units, ["HOTLINE", "CALL"]);

        let open = |category: Option<&str>| {
            let mut body = json!({
                "kind": "complaint", "channel": "email", "description": "No heat since Monday.",
                "consumer": {"name": "Ana Ruiz", "email": "ana@example.org"},
            });
            if let Some(c) = category {
                body["category"] = json!(c);
            }
            body
        };
        let r = app
            .post_json(
                Role::Agent,
                "/api/v1/cases",
                &open(Some("Energy > Electric > Billing")),
            )
            .await;
        assert_eq!(r.status(), 201);
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["unit"], "HOTLINE", "the narrower rule, tried first");
        let r = app
            .post_json(Role::Agent, "/api/v1/cases", &open(None))
            .await;
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["unit"], "CALL", "everything else: the intake unit");
        // A unit chosen by whoever opens the case is kept.
        let mut chosen = open(Some("Energy > Electric > Billing"));
        chosen["unit"] = json!("CALL");
        let c: Value = app
            .post_json(Role::Agent, "/api/v1/cases", &chosen)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(c["unit"], "CALL");

        // Removing a rule is audited; a second removal finds nothing.
        let path = format!("/api/v1/routing-rules/{}", energy["id"]);
        let r = app
            .req(Role::Admin, Method::DELETE, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = app
            .req(Role::Admin, Method::DELETE, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let audit = app
            .sql_texts("SELECT action FROM audit_log WHERE action LIKE 'routing.%' ORDER BY id")
            .await;
        assert_eq!(audit, ["routing.add", "routing.add", "routing.remove"]);
    }
);

both_stores!(
    a_portal_filing_lands_in_a_queue_and_shows_as_not_yet_assigned,
    async |app: &TestApp| {
        // The administrator sets the intake unit on the administration page.
        let admin = logged_in(app, "admin").await;
        let (_, html) = page(&admin, app, "/admin").await;
        assert!(
            html.contains("No rules yet"),
            "the page says cases land nowhere"
        );
        let token = csrf(&html);
        let r = post(
            &admin,
            app,
            "/admin/routing",
            &[("csrf", &token), ("routing_unit", "NOPE")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &admin,
            app,
            "/admin/routing",
            &[("csrf", &token), ("routing_unit", "CALL")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let back = r.headers()["location"].to_str().unwrap().to_string();
        let (_, html) = page(&admin, app, &back).await;
        assert!(html.contains("Any case") && html.contains("Routing rule added."));

        // A consumer files on the portal: the case is in the Call Center's queue at once.
        let b = browser();
        let (_, html) = page(&b, app, "/portal/complaint").await;
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            "/portal/complaint",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("consumer.name", "Carmen Rodríguez"),
                ("consumer.email", "carmen@example.org"),
                ("description", "Billed twice in October."),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let case: Value = app
            .get(Role::Supervisor, "/api/v1/cases/NYC-2026-000001")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["unit"], "CALL");
        assert!(case["assignee"].is_null());

        // The supervisor sees it as not yet assigned, with its unit.
        let sup = logged_in(app, "supervisor").await;
        let (status, html) = page(&sup, app, "/supervisor").await;
        assert_eq!(status, 200);
        let section = &html[html.find("Not yet assigned").expect("the section")..];
        assert!(
            section.contains("NYC-2026-000001") && section.contains("CALL"),
            "{section}"
        );
        // And in Spanish.
        let (_, html) = page(&sup, app, "/supervisor?lang=es").await;
        assert!(html.contains("Sin asignar todavía"));

        // Once someone takes it, it leaves the list.
        let r = app
            .post_json(
                Role::Supervisor,
                "/api/v1/cases/NYC-2026-000001/assignment",
                &json!({"assignee": "agent"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let (_, html) = page(&sup, app, "/supervisor?lang=en").await;
        let section = &html[html.find("unassigned-title").expect("the section")..];
        assert!(
            section.contains("Every open case has someone working on it."),
            "{section}"
        );
    }
);

both_stores!(
    an_agent_takes_a_case_from_the_queue,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap().to_string();
        // Analysts and auditors never take cases.
        for role in [Role::Analyst, Role::Auditor] {
            let r = app
                .post_json(role, &format!("/api/v1/cases/{reference}/take"), &json!({}))
                .await;
            assert_eq!(r.status(), 403, "{role:?}");
        }
        // An agent takes it from the case page.
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, &format!("/cases/{reference}?lang=en")).await;
        assert!(html.contains("Assign to me"));
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/take"),
            &[("csrf", &token), ("version", "1")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["assignee"], "agent");
        assert_eq!(case["version"], 2);
        let (_, html) = page(&b, app, &format!("/cases/{reference}?lang=en")).await;
        assert!(!html.contains("Assign to me"), "it is theirs already");
        // A stale version is refused; another agent's take over the API moves it on.
        let r = app
            .req(
                Role::SeniorAgent,
                Method::POST,
                &format!("/api/v1/cases/{reference}/take"),
            )
            .header("If-Match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 412);
        let r = app
            .post_json(
                Role::SeniorAgent,
                &format!("/api/v1/cases/{reference}/take"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let case: Value = r.json().await.unwrap();
        assert_eq!(case["assignee"], "senior.agent");
    }
);
