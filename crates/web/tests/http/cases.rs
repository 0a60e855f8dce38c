//! The case contract: create, read, patch with If-Match, timeline, idempotency, lists,
//! status changes, assignment, links and merges, and who a contact is (never matched, chosen).

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
        // A reference that names no case is a 404 before the version is asked for.
        let r = app
            .req(Role::Agent, Method::PATCH, "/api/v1/cases/0")
            .json(&json!({"priority":"high"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

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
        // Opened, acknowledged by email, the status change, the note and the call.
        assert_eq!(
            types,
            vec!["system_event", "email", "system_event", "note", "call"]
        );
        assert_eq!(timeline[1]["data"]["direction"], "out");
        assert_eq!(timeline[4]["data"]["duration_seconds"], 312);

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
    a_matching_phone_email_or_account_never_attaches_someone_else,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["consumer"]["account_number"] = json!("CE1234-55");
        let first = app.create_case(&body).await;
        let ana = first["consumer_id"].as_i64().unwrap();
        let consumers_before = app.count("consumers").await;
        // Someone else types Ana's phone, then her email, then her account number.
        for (i, (field, value)) in [
            ("phone", "(518) 555-0100"),
            ("email", "ANA@example.org"),
            ("account_number", "ce 1234-55"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut other = minimal_body();
            other["consumer"] =
                json!({"name": format!("Pat Portal {i}"), "email": format!("pat{i}@example.org")});
            other["consumer"][field] = json!(value);
            if field == "email" {
                other["consumer"]["phone"] = json!("212-555-0199");
            }
            let case = app.create_case(&other).await;
            assert_ne!(case["consumer_id"], json!(ana), "{field} matched");
            assert_eq!(
                case["consumer"]["name"],
                format!("Pat Portal {i}"),
                "{field}"
            );
            if field != "email" {
                assert_eq!(
                    case["consumer"]["email"],
                    format!("pat{i}@example.org"),
                    "{field}"
                );
            }
        }
        assert_eq!(app.count("consumers").await, consumers_before + 3);
        // Ana's record is exactly as she gave it.
        let on_file: Value = app
            .get(Role::Agent, &format!("/api/v1/consumers/{ana}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(on_file["name"], "Ana Díaz");
        assert_eq!(on_file["email"], "ana@example.org");
        assert_eq!(on_file["phone"], "518-555-0100");
        assert_eq!(on_file["account_numbers"], json!(["CE1234-55"]));
        let open: Value = app
            .get(
                Role::Agent,
                &format!("/api/v1/cases?consumer={ana}&open=true"),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            open["items"].as_array().unwrap().len(),
            1,
            "only Ana's own case"
        );
        // Lookups still find every record that shares the phone, for staff to choose from.
        let found: Vec<Value> = app
            .get(Role::Agent, "/api/v1/consumers?phone=518.555.0100")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found.len(), 2);
    }
);

both_stores!(
    staff_choose_the_consumer_and_decide_who_is_one_person,
    async |app: &TestApp| {
        let first = app.create_case(&minimal_body()).await;
        let ana = first["consumer_id"].as_i64().unwrap();
        // The agent chose Ana on the intake screen: her record, filled in but never overwritten.
        let chosen = app
            .create_case(&json!({"kind": "inquiry", "channel": "phone", "description": "Follow-up call",
                "consumer_id": ana,
                "consumer": {"name": "Someone Else", "email": "other@example.org", "account_number": "ce 1234-55"}}))
            .await;
        assert_eq!(chosen["consumer_id"], json!(ana));
        assert_eq!(chosen["consumer"]["name"], "Ana Díaz");
        assert_eq!(chosen["consumer"]["email"], "ana@example.org");
        assert_eq!(chosen["consumer"]["account_numbers"], json!(["CE1234-55"]));
        // Only the choice is needed.
        let bare = app
            .create_case(&json!({"kind": "inquiry", "channel": "phone", "description": "Third call", "consumer_id": ana}))
            .await;
        assert_eq!(bare["consumer_id"], json!(ana));

        // An unknown record, or neither a record nor details: 422 naming the field, nothing written.
        let (cases, consumers) = (app.count("cases").await, app.count("consumers").await);
        for (body, field) in [
            (
                json!({"kind": "inquiry", "channel": "phone", "description": "x", "consumer_id": 999_999}),
                "consumer_id",
            ),
            (
                json!({"kind": "inquiry", "channel": "phone", "description": "x"}),
                "consumer",
            ),
        ] {
            let r = app.post_json(Role::Agent, "/api/v1/cases", &body).await;
            assert_eq!(r.status(), 422);
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["errors"][0]["field"], field, "{p}");
        }
        assert_eq!(
            (app.count("cases").await, app.count("consumers").await),
            (cases, consumers)
        );

        // A second record for Ana, made by a contact that did not choose her.
        let mut again = minimal_body();
        again["consumer"] = json!({"name": "A. Diaz", "phone": "518-555-0100", "address": {"line1": "1 State St", "zip": "12207"}});
        let second = app.create_case(&again).await;
        let dup = second["consumer_id"].as_i64().unwrap();
        assert_ne!(dup, ana);
        let listed: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/consumers/{dup}/duplicates"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(ana));

        // Roles that may not merge change nothing.
        let audit_rows = app.count("audit_log").await;
        for role in [Role::Company, Role::Analyst, Role::Auditor] {
            let r = app
                .post_json(
                    role,
                    &format!("/api/v1/consumers/{dup}/merge"),
                    &json!({"into": ana}),
                )
                .await;
            assert_eq!(r.status(), 403, "{role:?}");
        }
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/consumers/{dup}/merge"),
                &json!({"into": dup}),
            )
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(app.count("audit_log").await, audit_rows);

        // Same person: merge. Every value is kept.
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/consumers/{dup}/merge"),
                &json!({"into": ana}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let kept: Value = r.json().await.unwrap();
        assert_eq!(kept["id"], json!(ana));
        assert_eq!(kept["name"], "Ana Díaz");
        assert_eq!(
            kept["address"]["line1"], "1 State St",
            "what the record lacked is filled in"
        );
        let merged: Value = app
            .get(Role::Agent, &format!("/api/v1/consumers/{dup}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            merged["name"], "A. Diaz",
            "the merged record keeps its own values"
        );
        assert_eq!(merged["merged_into"], json!(ana));
        let moved: Value = app
            .get(
                Role::Agent,
                &format!("/api/v1/cases/{}", second["reference"].as_str().unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(moved["consumer_id"], json!(ana));
        assert_eq!(moved["version"], 2);
        let history: Value = app
            .get(
                Role::Supervisor,
                &format!(
                    "/api/v1/cases/{}/audit",
                    second["reference"].as_str().unwrap()
                ),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(
            history.to_string().contains("case.consumer.merge"),
            "{history}"
        );
        // Merged records are no longer offered; a second merge of the same record is refused.
        let found: Vec<Value> = app
            .get(Role::Agent, "/api/v1/consumers?phone=518-555-0100")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/consumers/{dup}/merge"),
                &json!({"into": ana}),
            )
            .await;
        assert_eq!(r.status(), 409);
        // Choosing the merged record files on the one kept.
        let via_old = app
            .create_case(&json!({"kind": "inquiry", "channel": "phone", "description": "Fourth", "consumer_id": dup}))
            .await;
        assert_eq!(via_old["consumer_id"], json!(ana));
        let verdict: Value = app
            .get(Role::Auditor, "/api/v1/audit/verify")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(verdict["intact"], true, "{verdict}");
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
    let mut body = minimal_body();
    body["lifecycle"] = json!("utility_complaint");
    let c = app.create_case(&body).await;
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
    // Only people who work cases take them: not an analyst or an auditor.
    for who in ["analyst", "auditor"] {
        let r = app
            .post_json(
                Role::Supervisor,
                &format!("/api/v1/cases/{ra}/assignment"),
                &json!({ "assignee": who }),
            )
            .await;
        assert_eq!(r.status(), 422, "{who}");
    }

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
    // The reports' copy of both cases follows the merge.
    crate::reports::assert_report_rows_exact(app).await;
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
    // Every operation has its own id (clients generate a function per id).
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "operation ids repeat: {ids:?}");
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
        ("/api/v1/cases/{reference}/lifecycle", &["get", "post"]),
        ("/api/v1/cases/{reference}/transitions", &["post"]),
        ("/api/v1/lifecycles", &["get"]),
        ("/api/v1/cases/{reference}/reminders", &["post"]),
        ("/api/v1/cases/{reference}/emails", &["post"]),
        ("/api/v1/cases/{reference}/notices", &["post"]),
        ("/api/v1/mail/inbound", &["get"]),
        ("/api/v1/letters", &["get"]),
        ("/api/v1/letters/{id}/pdf", &["get"]),
        ("/api/v1/letter-batches", &["get", "post"]),
        ("/api/v1/letter-batches/{id}", &["get"]),
        ("/api/v1/letter-batches/{id}/pdf", &["get"]),
        ("/api/v1/letter-batches/{id}/mailed", &["post"]),
        ("/api/v1/reports/{name}", &["get"]),
        ("/api/v1/report-schedules", &["get", "post"]),
        ("/api/v1/report-schedules/{id}", &["delete"]),
        ("/api/v1/saved-searches", &["get", "post"]),
        ("/api/v1/saved-searches/{id}", &["get", "delete"]),
        ("/api/v1/saved-searches/{id}/cases", &["get"]),
        ("/api/v1/root-causes", &["get", "post"]),
        ("/api/v1/companies/{id}/customers", &["get"]),
        ("/api/v1/companies/{id}/customers/{year}", &["put"]),
        ("/api/v1/mail/inbound/{id}", &["get"]),
        ("/api/v1/mail/inbound/{id}/file", &["post"]),
        ("/api/v1/mail/inbound/{id}/dismiss", &["post"]),
        ("/api/v1/consumers", &["get"]),
        ("/api/v1/consumers/{id}", &["get"]),
        ("/api/v1/consumers/{id}/duplicates", &["get"]),
        ("/api/v1/consumers/{id}/merge", &["post"]),
        ("/api/v1/companies", &["get", "post"]),
        ("/api/v1/companies/{id}", &["get", "patch"]),
        ("/api/v1/units", &["get", "post"]),
        ("/api/v1/categories", &["get", "post"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/tokens", &["get", "post"]),
        ("/api/v1/tokens/{id}", &["delete"]),
        ("/api/v1/session", &["post", "delete"]),
        ("/api/v1/audit/verify", &["get"]),
        ("/api/v1/routing-rules", &["get", "post"]),
        ("/api/v1/cases/{reference}/take", &["post"]),
        ("/api/v1/routing-rules/{id}", &["delete"]),
        ("/api/v1/cases/{reference}/consumer", &["put"]),
        ("/api/v1/categories/{id}", &["patch"]),
        ("/api/v1/users/{id}", &["patch"]),
        ("/api/v1/users/{id}/password", &["post"]),
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
        59,
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
    let kinds: Vec<(&str, &str)> = list
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("complaint", "utility_complaint"),
            ("complaint", "general_complaint"),
            ("inquiry", "insurance_inquiry"),
            ("inquiry", "general_inquiry"),
            ("hotline", "hotline"),
            ("foil_request", "foil_request"),
            ("information_request", "city_information_request"),
            ("mediation", "mediation")
        ]
    );
    assert_eq!(list[0]["applies"]["industries"][0], "Energy");
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
    assert_eq!(list[5]["open_starts"], json!(["first_response"]));
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
