//! The case contract: create, read, patch with If-Match, timeline, idempotency, lists,
//! status changes, assignment, links and merges, repeat-caller matching.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

both_stores!(
    create_read_patch_timeline_round_trip,
    async |app: &TestApp| {
        let r = app
            .post_json(Role::Agent, "/api/v1/cases", &minimal_body())
            .await;
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(r.headers()["etag"], "\"1\"");
        let created: Value = r.json().await.unwrap();
        let reference = created["reference"].as_str().unwrap().to_string();
        assert_eq!(reference, "NYC-2026-000001");
        assert_eq!(location, format!("/api/v1/cases/{reference}"));
        assert_eq!(created["status"], "new");
        assert_eq!(created["version"], 1);
        assert_eq!(created["consumer"]["preferred_language"], "es");
        assert_eq!(created["consumer"]["phone"], "518-555-0100");

        let r = app.get(Role::Agent, &location).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["etag"], "\"1\"");
        let read: Value = r.json().await.unwrap();
        assert_eq!(read["description"], "Billed twice for October");

        let patch = |if_match: Option<&'static str>| {
            let mut b = app
                .req(Role::Agent, Method::PATCH, &location)
                .json(&json!({"priority":"high"}));
            if let Some(v) = if_match {
                b = b.header("If-Match", v);
            }
            b.send()
        };
        let r = patch(Some("\"1\"")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["etag"], "\"2\"");
        let patched: Value = r.json().await.unwrap();
        assert_eq!(patched["priority"], "high");
        assert_eq!(patched["version"], 2);

        let r = patch(Some("\"1\"")).await.unwrap();
        assert_eq!(r.status(), 412);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "stale_version");
        assert_eq!(p["current_version"], 2);

        let r = patch(None).await.unwrap();
        assert_eq!(r.status(), 428);

        let r = app
            .post_json(
                Role::Agent,
                &format!("{location}/timeline"),
                &json!({"type":"note","body":"Called the company","visibility":"internal"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let entry: Value = r.json().await.unwrap();
        assert_eq!(entry["type"], "note");
        assert_eq!(entry["author"], "agent");

        let r = app.post_json(Role::Agent, &format!("{location}/timeline"), &json!({"type":"call","body":"Consumer called back","visibility":"consumer","call":{"direction":"inbound","duration_seconds":312}})).await;
        assert_eq!(r.status(), 201);

        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("{location}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = timeline
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (1..=timeline.len() as i64).collect::<Vec<_>>(),
            "positions are consecutive"
        );
        // Leaving aside the clock entries (covered in clocks.rs):
        let timeline: Vec<&Value> = timeline
            .iter()
            .filter(|e| {
                !e["data"]["event"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("clock_")
            })
            .collect();
        let types: Vec<&str> = timeline
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["system_event", "system_event", "note", "call"]);
        assert_eq!(timeline[3]["data"]["duration_seconds"], 312);

        // The second case of the year gets the next number.
        let second = app.create_case(&minimal_body()).await;
        assert_eq!(second["reference"], "NYC-2026-000002");
    }
);

both_stores!(idempotency_key_creates_one_case, async |app: &TestApp| {
    let send = |body: Value| {
        app.req(Role::Agent, Method::POST, "/api/v1/cases")
            .header("Idempotency-Key", "call-7781")
            .json(&body)
            .send()
    };
    let a = send(minimal_body()).await.unwrap();
    assert_eq!(a.status(), 201);
    let a: Value = a.json().await.unwrap();
    let b = send(minimal_body()).await.unwrap();
    assert_eq!(b.status(), 201);
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["reference"], b["reference"]);
    assert_eq!(app.count("cases").await, 1);

    let mut other = minimal_body();
    other["description"] = json!("Something else");
    let c = send(other).await.unwrap();
    assert_eq!(c.status(), 422);
    let p: Value = c.json().await.unwrap();
    assert_eq!(p["code"], "idempotency_key_reused");
    assert_eq!(app.count("cases").await, 1);

    // Another user may use the same key for their own request.
    let d = app
        .req(Role::Supervisor, Method::POST, "/api/v1/cases")
        .header("Idempotency-Key", "call-7781")
        .json(&minimal_body())
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), 201);
    assert_eq!(app.count("cases").await, 2);
});

both_stores!(
    repeat_contacts_link_to_one_consumer,
    async |app: &TestApp| {
        let first = app.create_case(&minimal_body()).await;
        let mut again = minimal_body();
        again["consumer"] =
            json!({"name": "Ana Diaz", "phone": "(518) 555-0100", "account_number": "ce 1234-55"});
        let second = app.create_case(&again).await;
        assert_eq!(first["consumer_id"], second["consumer_id"]);
        assert_eq!(
            second["consumer"]["email"], "ana@example.org",
            "the record on file keeps its email"
        );
        assert_eq!(second["consumer"]["account_numbers"], json!(["CE1234-55"]));

        let found: Vec<Value> = app
            .get(Role::Agent, "/api/v1/consumers?phone=518.555.0100")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["name"], "Ana Díaz");
        let by_account: Vec<Value> = app
            .get(Role::Agent, "/api/v1/consumers?account=CE1234-55")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_account[0]["id"], first["consumer_id"]);
        let open: Value = app
            .get(
                Role::Agent,
                &format!("/api/v1/cases?consumer={}&open=true", first["consumer_id"]),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            open["items"].as_array().unwrap().len(),
            2,
            "both of the repeat caller's cases are open"
        );
        let by_email: Vec<Value> = app
            .get(Role::Agent, "/api/v1/consumers?email=ANA@example.org")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_email.len(), 1);

        let mut stranger = minimal_body();
        stranger["consumer"] = json!({"name": "Luis Pérez", "email": "luis@example.org"});
        let third = app.create_case(&stranger).await;
        assert_ne!(third["consumer_id"], first["consumer_id"]);
    }
);

both_stores!(
    full_create_with_company_category_amount,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        body["category"] = json!("Energy > Electric > Billing");
        body["amount_in_dispute"] = json!("1,234.50");
        body["flags"] = json!(["legislative"]);
        body["unit"] = json!("CALL");
        body["consumer"]["address"] = json!({"line1": "3 Empire State Plaza", "city": "Albany", "state": "ny", "zip": "12223"});
        let c = app.create_case(&body).await;
        assert_eq!(c["company"]["name"], "Consolidated Edison");
        assert_eq!(c["category"], "Energy > Electric > Billing");
        assert_eq!(c["amount_in_dispute"], "1234.50");
        assert_eq!(c["priority"], "high", "legislative cases are at least high");
        assert_eq!(c["unit"], "CALL");
        assert_eq!(c["consumer"]["address"]["state"], "NY");

        let mut numeric = minimal_body();
        numeric["amount_in_dispute"] = json!(19.99);
        let c = app.create_case(&numeric).await;
        assert_eq!(c["amount_in_dispute"], "19.99");

        let mut hotline = minimal_body();
        hotline["kind"] = json!("hotline");
        hotline["channel"] = json!("hotline");
        let c = app.create_case(&hotline).await;
        assert_eq!(c["priority"], "critical");
    }
);

both_stores!(status_changes_follow_the_rules, async |app: &TestApp| {
    let c = app.create_case(&minimal_body()).await;
    let path = format!("/api/v1/cases/{}", c["reference"].as_str().unwrap());
    let r = app
        .post_json(
            Role::Agent,
            &format!("{path}/status"),
            &json!({"status": "pending_company", "reason": "Referred to Con Edison"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post_json(
            Role::Agent,
            &format!("{path}/status"),
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status(), 422, "closing records a resolution");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "reason");
    let r = app
        .post_json(
            Role::Agent,
            &format!("{path}/status"),
            &json!({"status": "closed", "reason": "Company credited the account"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let closed: Value = r.json().await.unwrap();
    assert!(closed["closed_at"].is_string());
    let before = app.count("timeline").await;
    let r = app
        .post_json(
            Role::Supervisor,
            &format!("{path}/status"),
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "invalid_transition");
    assert_eq!(p["allowed"], json!(["open"]));
    assert_eq!(
        app.count("timeline").await,
        before,
        "a refused change writes nothing"
    );
    let r = app
        .post_json(
            Role::Supervisor,
            &format!("{path}/status"),
            &json!({"status": "open", "reason": "Consumer called back"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let reopened: Value = r.json().await.unwrap();
    assert!(reopened["closed_at"].is_null());
    assert_eq!(reopened["version"], 4);
    // A stale If-Match on a status change is refused too.
    let r = app
        .req(Role::Agent, Method::POST, &format!("{path}/status"))
        .header("If-Match", "\"1\"")
        .json(&json!({"status":"resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
});

both_stores!(assignment_links_and_merge, async |app: &TestApp| {
    let a = app.create_case(&minimal_body()).await;
    let b = app.create_case(&minimal_body()).await;
    let (ra, rb) = (
        a["reference"].as_str().unwrap(),
        b["reference"].as_str().unwrap(),
    );
    let r = app
        .post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{ra}/assignment"),
            &json!({"unit": "HOTLINE", "assignee": "agent"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let assigned: Value = r.json().await.unwrap();
    assert_eq!(assigned["unit"], "HOTLINE");
    assert_eq!(assigned["assignee"], "agent");
    let r = app
        .post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{ra}/assignment"),
            &json!({"assignee": "nobody.here"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "assignee");

    let mine: Value = app
        .get(Role::Agent, "/api/v1/cases?assignee=agent")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{ra}/links"),
            &json!({"target": rb, "kind": "related"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let linked: Value = r.json().await.unwrap();
    assert_eq!(
        linked["links"],
        json!([{"kind": "related", "reference": rb, "direction": "outgoing"}])
    );
    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{ra}/links"),
            &json!({"target": rb, "kind": "related"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{ra}/links"),
            &json!({"target": "NYC-2026-999999", "kind": "related"}),
        )
        .await;
    assert_eq!(r.status(), 422);

    let r = app
        .post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{rb}/merge"),
            &json!({"into": ra}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let merged: Value = r.json().await.unwrap();
    assert_eq!(merged["status"], "merged");
    assert_eq!(merged["merged_into"], ra);
    let survivor: Value = app
        .get(Role::Agent, &format!("/api/v1/cases/{ra}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        survivor["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "duplicate_of"
                && l["reference"] == rb
                && l["direction"] == "incoming")
    );
    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{rb}/status"),
            &json!({"status": "open"}),
        )
        .await;
    assert_eq!(r.status(), 409, "a merged case is final");
    let r = app
        .post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{rb}/merge"),
            &json!({"into": ra}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // Assignments, links and merges leave the audited digests matching both cases.
    let verdict = app.store.verify_audit().await.unwrap();
    assert!(
        matches!(verdict, redress_store::AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
});

both_stores!(list_filters_and_cursor_pages, async |app: &TestApp| {
    for i in 0..5 {
        let mut b = minimal_body();
        if i % 2 == 0 {
            b["kind"] = json!("inquiry");
        }
        app.create_case(&b).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=2&cursor={c}"),
            None => "/api/v1/cases?limit=2".to_string(),
        };
        let page: Value = app.get(Role::Agent, &path).await.json().await.unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["reference"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        vec![
            "NYC-2026-000005",
            "NYC-2026-000004",
            "NYC-2026-000003",
            "NYC-2026-000002",
            "NYC-2026-000001"
        ]
    );
    let inquiries: Value = app
        .get(Role::Agent, "/api/v1/cases?kind=inquiry&status=new")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inquiries["items"].as_array().unwrap().len(), 3);
    let after: Value = app
        .get(Role::Agent, "/api/v1/cases?opened_after=2026-03-10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["items"].as_array().unwrap().len(), 0);
    let before: Value = app
        .get(Role::Agent, "/api/v1/cases?opened_after=2026-03-08")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["items"].as_array().unwrap().len(), 5);
});

both_stores!(
    reference_year_follows_office_time_zone,
    async |app: &TestApp| {
        // 2027-01-01 03:00 UTC is still 2026 in New York.
        app.clock.set("2027-01-01T03:00:00Z".parse().unwrap());
        let c = app.create_case(&minimal_body()).await;
        assert_eq!(c["reference"], "NYC-2026-000001");
        app.clock.set("2027-01-01T06:00:00Z".parse().unwrap());
        let c = app.create_case(&minimal_body()).await;
        assert_eq!(c["reference"], "NYC-2027-000001");
        assert_eq!(c["opened_at"], "2027-01-01T06:00:00Z");
    }
);

both_stores!(
    concurrent_creates_get_distinct_references,
    async |app: &TestApp| {
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let client = app.client.clone();
            let url = app.url("/api/v1/cases");
            let token = app.token(Role::Agent).to_string();
            tasks.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&minimal_body())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                v["reference"].as_str().unwrap().to_string()
            }));
        }
        let mut refs = Vec::new();
        for t in tasks {
            refs.push(t.await.unwrap());
        }
        refs.sort();
        refs.dedup();
        assert_eq!(refs.len(), 16);
        assert_eq!(refs.last().unwrap(), "NYC-2026-000016");
    }
);

both_stores!(health_and_openapi, async |app: &TestApp| {
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let spec: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/cases", &["get", "post"][..]),
        ("/api/v1/cases/{reference}", &["get", "patch"]),
        ("/api/v1/cases/{reference}/timeline", &["get", "post"]),
        ("/api/v1/cases/{reference}/assignment", &["post"]),
        ("/api/v1/cases/{reference}/status", &["post"]),
        ("/api/v1/cases/{reference}/links", &["post"]),
        ("/api/v1/cases/{reference}/merge", &["post"]),
        ("/api/v1/cases/{reference}/audit", &["get"]),
        ("/api/v1/cases/{reference}/attachments", &["get", "post"]),
        ("/api/v1/cases/{reference}/attachments/{id}", &["get"]),
        ("/api/v1/cases/{reference}/clocks", &["get"]),
        ("/api/v1/cases/{reference}/lifecycle", &["get"]),
        ("/api/v1/cases/{reference}/transitions", &["post"]),
        ("/api/v1/lifecycles", &["get"]),
        ("/api/v1/cases/{reference}/reminders", &["post"]),
        ("/api/v1/consumers", &["get"]),
        ("/api/v1/consumers/{id}", &["get"]),
        ("/api/v1/companies", &["get", "post"]),
        ("/api/v1/companies/{id}", &["get"]),
        ("/api/v1/units", &["get", "post"]),
        ("/api/v1/categories", &["get", "post"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/tokens", &["get", "post"]),
        ("/api/v1/tokens/{id}", &["delete"]),
        ("/api/v1/session", &["post", "delete"]),
        ("/api/v1/audit/verify", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"));
        for m in methods {
            let op = &item[*m];
            assert!(op["responses"].is_object(), "{m} {path} has no responses");
        }
    }
    assert_eq!(
        paths.len(),
        29,
        "every path is listed above: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for schema in ["Case", "CreateCase", "TimelineEntry", "PatchCase"] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema} schema missing"
        );
    }
    let docs = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("/api/v1/cases/{reference}/timeline"));
});

both_stores!(lifecycles_list_each_kind, async |app: &TestApp| {
    let list: Vec<Value> = app
        .get(Role::Analyst, "/api/v1/lifecycles")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = list.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            "complaint",
            "inquiry",
            "hotline",
            "foil_request",
            "information_request",
            "mediation"
        ]
    );
    let complaint = &list[0];
    assert!(
        complaint["states"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "referred_to_company" && s["status"] == "pending_company")
    );
    let reopen = complaint["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "reopen")
        .unwrap();
    assert_eq!(reopen["from"], json!(["closed", "settled"]));
    assert_eq!(reopen["to"], "investigating");
    assert!(
        reopen["roles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r != "agent")
    );
    assert_eq!(complaint["open_starts"], json!(["resolution_target"]));
    assert_eq!(list[3]["open_starts"], json!(["first_response"]));
    assert!(
        complaint["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "review_request_window" && c["kind"] == "window")
    );
    assert_eq!(
        app.client
            .get(app.url("/api/v1/lifecycles"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
});
