//! Authentication and the role × endpoint matrix, asserted from one table.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

const ALL: &[Role] = Role::ALL;
const STAFF: &[Role] = &[
    Role::Agent,
    Role::SeniorAgent,
    Role::Supervisor,
    Role::Manager,
    Role::Admin,
];
const STAFF_AND_COMPANY: &[Role] = &[
    Role::Agent,
    Role::SeniorAgent,
    Role::Supervisor,
    Role::Manager,
    Role::Admin,
    Role::Company,
];
const STAFF_AND_AUDITOR: &[Role] = &[
    Role::Agent,
    Role::SeniorAgent,
    Role::Supervisor,
    Role::Manager,
    Role::Admin,
    Role::Auditor,
];
const ASSIGNERS: &[Role] = &[
    Role::SeniorAgent,
    Role::Supervisor,
    Role::Manager,
    Role::Admin,
];
const MERGERS: &[Role] = &[Role::Supervisor, Role::Manager, Role::Admin];
const OVERSIGHT: &[Role] = &[Role::Supervisor, Role::Manager, Role::Admin, Role::Auditor];
const REFERENCE_EDITORS: &[Role] = &[Role::Manager, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];

both_stores!(role_endpoint_matrix, async |app: &TestApp| {
    let mut body = minimal_body();
    body["company_id"] = json!(app.company_id);
    let case = app.create_case(&body).await;
    let r = case["reference"].as_str().unwrap().to_string();
    let consumer = case["consumer_id"].as_i64().unwrap();
    let company = app.company_id;

    // (method, path, body, roles allowed). Every API endpoint appears here.
    let table: Vec<(Method, String, Option<Value>, &[Role])> = vec![
        (Method::GET, "/api/v1/cases".into(), None, ALL),
        (
            Method::POST,
            "/api/v1/cases".into(),
            Some(body.clone()),
            STAFF,
        ),
        (Method::GET, format!("/api/v1/cases/{r}"), None, ALL),
        (
            Method::PATCH,
            format!("/api/v1/cases/{r}"),
            Some(json!({"priority": "high"})),
            STAFF,
        ),
        (
            Method::GET,
            format!("/api/v1/cases/{r}/timeline"),
            None,
            ALL,
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/timeline"),
            Some(json!({"type": "note", "body": "Checked the account"})),
            STAFF_AND_COMPANY,
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/assignment"),
            Some(json!({"unit": "CALL"})),
            ASSIGNERS,
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/status"),
            Some(json!({"status": "open"})),
            STAFF,
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/links"),
            Some(json!({"target": "NEW", "kind": "related"})),
            STAFF,
        ),
        (
            Method::POST,
            "/api/v1/cases/NEW/merge".into(),
            Some(json!({"into": r})),
            MERGERS,
        ),
        (
            Method::GET,
            format!("/api/v1/cases/{r}/audit"),
            None,
            OVERSIGHT,
        ),
        (
            Method::GET,
            "/api/v1/consumers?phone=518-555-0100".into(),
            None,
            STAFF_AND_AUDITOR,
        ),
        (
            Method::GET,
            format!("/api/v1/consumers/{consumer}"),
            None,
            STAFF_AND_AUDITOR,
        ),
        (Method::GET, "/api/v1/companies".into(), None, ALL),
        (
            Method::POST,
            "/api/v1/companies".into(),
            Some(json!({"name": "UNIQUE", "industry": "Energy", "customer_count": 10})),
            REFERENCE_EDITORS,
        ),
        (
            Method::GET,
            format!("/api/v1/companies/{company}"),
            None,
            ALL,
        ),
        (Method::GET, "/api/v1/units".into(), None, ALL),
        (
            Method::POST,
            "/api/v1/units".into(),
            Some(json!({"code": "UNIQUE", "name": "Unit"})),
            REFERENCE_EDITORS,
        ),
        (Method::GET, "/api/v1/categories".into(), None, ALL),
        (
            Method::POST,
            "/api/v1/categories".into(),
            Some(json!({"path": ["Water", "UNIQUE"]})),
            REFERENCE_EDITORS,
        ),
        (Method::GET, "/api/v1/users".into(), None, OVERSIGHT),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"username": "UNIQUE", "role": "agent", "password": "a long enough password"}),
            ),
            ADMINS,
        ),
        (Method::GET, "/api/v1/me".into(), None, ALL),
        (Method::GET, "/api/v1/tokens".into(), None, ALL),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"name": "laptop"})),
            ALL,
        ),
        (Method::DELETE, "/api/v1/tokens/999999".into(), None, ALL),
        (Method::GET, "/api/v1/audit/verify".into(), None, OVERSIGHT),
        (
            Method::GET,
            format!("/api/v1/cases/{r}/attachments"),
            None,
            ALL,
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/attachments"),
            None,
            STAFF_AND_COMPANY,
        ),
        (
            Method::GET,
            format!("/api/v1/cases/{r}/attachments/999999"),
            None,
            ALL,
        ),
        (Method::GET, format!("/api/v1/cases/{r}/clocks"), None, ALL),
        (
            Method::GET,
            format!("/api/v1/cases/{r}/lifecycle"),
            None,
            ALL,
        ),
        (
            Method::POST,
            "/api/v1/cases/NEW/transitions".into(),
            Some(json!({"transition": "refer_to_company"})),
            &[
                Role::Agent,
                Role::SeniorAgent,
                Role::Supervisor,
                Role::Manager,
            ],
        ),
        (Method::GET, "/api/v1/lifecycles".into(), None, ALL),
        (
            Method::POST,
            format!("/api/v1/cases/{r}/reminders"),
            Some(json!({"at": "2026-03-10T14:00:00Z", "body": "Call the consumer back"})),
            STAFF,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, allowed) in &table {
        for role in Role::ALL {
            let unique = role.as_str().replace('_', "");
            let path = if path.contains("NEW") {
                let mut b = minimal_body();
                b["company_id"] = json!(company);
                path.replace(
                    "NEW",
                    app.create_case(&b).await["reference"].as_str().unwrap(),
                )
            } else {
                path.clone()
            };
            let mut req = app.req(*role, method.clone(), &path);
            if method == Method::PATCH {
                let current: Value = app.get(Role::Admin, &path).await.json().await.unwrap();
                req = req.header("If-Match", format!("\"{}\"", current["version"]));
            }
            if let Some(b) = body {
                let mut b = b.clone();
                if let Some(t) = b["target"].as_str()
                    && t == "NEW"
                {
                    let mut nb = minimal_body();
                    nb["company_id"] = json!(company);
                    b["target"] = app.create_case(&nb).await["reference"].clone();
                }
                let text = b.to_string().replace("UNIQUE", &format!("x{unique}"));
                req = req.header("content-type", "application/json").body(text);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let should = allowed.contains(role);
            let ok = if should {
                status != 401 && status != 403 && status < 500
            } else {
                status == 403
            };
            if !ok {
                failures.push(format!(
                    "{role} {method} {path}: got {status}, expected {}: {}",
                    if should { "allowed" } else { "403" },
                    resp.text().await.unwrap_or_default()
                ));
            } else if !should {
                assert_eq!(resp.headers()["content-type"], "application/problem+json");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix mismatches:\n{}",
        failures.join("\n")
    );
});

both_stores!(
    unauthenticated_requests_get_401_problems,
    async |app: &TestApp| {
        for (method, path) in [
            (Method::GET, "/api/v1/cases"),
            (Method::POST, "/api/v1/cases"),
            (Method::GET, "/api/v1/me"),
            (Method::GET, "/api/v1/audit/verify"),
        ] {
            for auth in [
                None,
                Some("Bearer nope"),
                Some("Bearer rdr_0000000000000000000000000000000000000000000000000000000000000000"),
                Some("Basic YWRtaW46YWRtaW4="),
            ] {
                let mut req = app.client.request(method.clone(), app.url(path));
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                let r = req.json(&minimal_body()).send().await.unwrap();
                assert_eq!(r.status(), 401, "{method} {path} {auth:?}");
                assert_eq!(r.headers()["content-type"], "application/problem+json");
                let p: Value = r.json().await.unwrap();
                assert_eq!(p["code"], "unauthenticated");
            }
        }
        assert_eq!(app.count("cases").await, 0);
    }
);

both_stores!(
    tokens_are_created_listed_and_revoked,
    async |app: &TestApp| {
        let created: Value = app
            .post_json(Role::Analyst, "/api/v1/tokens", &json!({"name": "laptop"}))
            .await
            .json()
            .await
            .unwrap();
        let token = created["token"].as_str().unwrap().to_string();
        assert!(token.starts_with("rdr_"));
        let me: Value = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], "analyst");
        let list: Vec<Value> = app
            .get(Role::Analyst, "/api/v1/tokens")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            list.iter()
                .all(|t| t.get("token").is_none() && t.get("token_hash").is_none()),
            "secrets are never listed"
        );
        let id = created["id"].as_i64().unwrap();
        let r = app
            .req(
                Role::Analyst,
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // Someone else's token cannot be revoked by id.
        let other: Value = app
            .post_json(Role::Agent, "/api/v1/tokens", &json!({}))
            .await
            .json()
            .await
            .unwrap();
        let r = app
            .req(
                Role::Analyst,
                Method::DELETE,
                &format!("/api/v1/tokens/{}", other["id"]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
);

both_stores!(password_login_session_and_lockout, async |app: &TestApp| {
    let login = |user: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": user, "password": password}))
            .send()
    };
    let r = login("agent", PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let info: Value = r.json().await.unwrap();
    let csrf = info["csrf_token"].as_str().unwrap().to_string();
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // A cookie-authenticated change needs the CSRF token.
    let r = app
        .client
        .post(app.url("/api/v1/cases"))
        .header("cookie", &session)
        .json(&minimal_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/api/v1/cases"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .json(&minimal_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .delete(app.url("/api/v1/session"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    assert_eq!(
        login("agent", "wrong password!").await.unwrap().status(),
        401
    );
    assert_eq!(
        login("nobody", "wrong password!").await.unwrap().status(),
        401
    );
    for _ in 0..4 {
        assert_eq!(
            login("analyst", "wrong password!").await.unwrap().status(),
            401
        );
    }
    let r = login("analyst", "wrong password!").await.unwrap();
    assert_eq!(r.status(), 401, "the fifth failure is refused and locks");
    let r = login("analyst", PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429, "locked even with the right password");
    assert!(r.headers().contains_key("retry-after"));
    app.clock.advance(jiff::SignedDuration::from_mins(2));
    assert_eq!(login("analyst", PASSWORD).await.unwrap().status(), 200);

    // The HTML pages are covered in pages.rs.
});

both_stores!(company_users_see_only_their_own, async |app: &TestApp| {
    let mut own = minimal_body();
    own["company_id"] = json!(app.company_id);
    let own = app.create_case(&own).await;
    let other_company = app.store.company_by_name("National Grid").await.unwrap().id;
    let mut other = minimal_body();
    other["company_id"] = json!(other_company);
    let other = app.create_case(&other).await;
    let none = app.create_case(&minimal_body()).await;
    let (ro, rx, rn) = (
        own["reference"].as_str().unwrap(),
        other["reference"].as_str().unwrap(),
        none["reference"].as_str().unwrap(),
    );

    let list: Value = app
        .get(Role::Company, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    let refs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, vec![ro]);
    assert_eq!(
        app.get(Role::Company, &format!("/api/v1/cases/{ro}"))
            .await
            .status(),
        200
    );
    for r in [rx, rn] {
        assert_eq!(
            app.get(Role::Company, &format!("/api/v1/cases/{r}"))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get(Role::Company, &format!("/api/v1/cases/{r}/timeline"))
                .await
                .status(),
            404
        );
        let resp = app
            .post_json(
                Role::Company,
                &format!("/api/v1/cases/{r}/timeline"),
                &json!({"type": "note", "body": "x"}),
            )
            .await;
        assert_eq!(resp.status(), 404);
    }
    app.post_json(
        Role::Agent,
        &format!("/api/v1/cases/{ro}/timeline"),
        &json!({"type": "note", "body": "internal only", "visibility": "internal"}),
    )
    .await;
    app.post_json(
        Role::Agent,
        &format!("/api/v1/cases/{ro}/timeline"),
        &json!({"type": "letter", "body": "Referral to company", "visibility": "company"}),
    )
    .await;
    let r = app
        .post_json(
            Role::Company,
            &format!("/api/v1/cases/{ro}/timeline"),
            &json!({"type": "email", "body": "We credited the account"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            Role::Company,
            &format!("/api/v1/cases/{ro}/timeline"),
            &json!({"type": "note", "body": "sneaky", "visibility": "internal"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let seen: Vec<Value> = app
        .get(Role::Company, &format!("/api/v1/cases/{ro}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = seen.iter().map(|e| e["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        vec!["Referral to company", "We credited the account"]
    );
    let companies: Vec<Value> = app
        .get(Role::Company, "/api/v1/companies")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(companies.len(), 1);
    assert_eq!(
        app.get(Role::Company, &format!("/api/v1/companies/{other_company}"))
            .await
            .status(),
        404
    );
    // Analysts read cases without consumers' contact details.
    let analyst: Value = app
        .get(Role::Analyst, &format!("/api/v1/cases/{ro}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(analyst["consumer"].is_null());
});

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

both_stores!(
    company_users_see_only_what_is_theirs,
    async |app: &TestApp| {
        let companies: Vec<Value> = app
            .get(Role::Admin, "/api/v1/companies")
            .await
            .json()
            .await
            .unwrap();
        let grid = companies
            .iter()
            .find(|c| c["name"] == "National Grid")
            .unwrap()["id"]
            .clone();
        // Ana's case with another company, on her account there.
        let mut elsewhere = minimal_body();
        elsewhere["company_id"] = grid;
        elsewhere["consumer"]["account_number"] = json!("NG-9999");
        let other = app.create_case(&elsewhere).await;
        let other_ref = other["reference"].as_str().unwrap().to_string();
        // Her case with this company, filed on her record, and a second case of this company.
        let mine = app
            .create_case(&json!({"kind": "complaint", "channel": "phone",
                "description": "Billed twice for October", "consumer_id": other["consumer_id"],
                "consumer": {"account_number": "CE-1234"}, "company_id": app.company_id,
                "amount_in_dispute": "84.10"}))
            .await;
        let r = mine["reference"].as_str().unwrap().to_string();
        let mut sibling = minimal_body();
        sibling["company_id"] = json!(app.company_id);
        sibling["consumer"] = json!({"name": "Luis Pérez", "email": "luis@example.org"});
        let sibling_ref = app.create_case(&sibling).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        for target in [&other_ref, &sibling_ref] {
            let resp = app
                .post_json(
                    Role::Agent,
                    &format!("/api/v1/cases/{r}/links"),
                    &json!({"target": target, "kind": "related"}),
                )
                .await;
            assert_eq!(resp.status(), 200);
        }
        // Steps that record shared facts and internal ones.
        let step = |role: Role, transition: &'static str, fields: Value| {
            let r = r.clone();
            async move {
                let resp = app
                    .post_json(
                        role,
                        &format!("/api/v1/cases/{r}/transitions"),
                        &json!({"transition": transition, "fields": fields}),
                    )
                    .await;
                assert_eq!(resp.status(), 200, "{transition}");
                let body: Value = resp.json().await.unwrap();
                body
            }
        };
        step(Role::Agent, "refer_to_company", json!({})).await;
        let reply = step(
            Role::Company,
            "record_company_response",
            json!({"response_category": "closed_with_explanation",
                   "response": "We reversed the duplicate charge.", "hold_acknowledged": "yes"}),
        )
        .await;
        step(
            Role::Agent,
            "open_investigation",
            json!({"reason": "STAFF-ONLY suspects a billing system fault"}),
        )
        .await;
        step(
            Role::Agent,
            "order_premise_inspection",
            json!({"task_due": "2026-03-20"}),
        )
        .await;
        step(
            Role::Agent,
            "premise_inspection_done",
            json!({"findings": "STAFF-ONLY meter seal broken"}),
        )
        .await;

        // Staff see all of it (so the checks below can fail).
        let staff: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(staff.to_string().contains("STAFF-ONLY"));
        assert!(staff.to_string().contains("NG-9999"));
        assert_eq!(staff["links"].as_array().unwrap().len(), 2);

        // The company's view, field by field.
        let forbidden = ["STAFF-ONLY", "NG-9999", other_ref.as_str()];
        let company: Value = app
            .get(Role::Company, &format!("/api/v1/cases/{r}"))
            .await
            .json()
            .await
            .unwrap();
        for (name, view) in [("GET", &company), ("transition reply", &reply)] {
            assert_eq!(
                keys(view),
                [
                    "account_number",
                    "amount_in_dispute",
                    "assignee",
                    "category",
                    "channel",
                    "closed_at",
                    "company",
                    "consumer",
                    "consumer_id",
                    "description",
                    "facts",
                    "flags",
                    "kind",
                    "lifecycle",
                    "links",
                    "merged_into",
                    "office",
                    "opened_at",
                    "priority",
                    "reference",
                    "stage",
                    "status",
                    "unit",
                    "updated_at",
                    "version"
                ],
                "{name}"
            );
            assert_eq!(view["company"]["id"], json!(app.company_id), "{name}");
            assert_eq!(view["account_number"], "CE-1234", "{name}");
            assert_eq!(
                keys(&view["consumer"]),
                [
                    "account_numbers",
                    "address",
                    "created_at",
                    "email",
                    "id",
                    "merged_into",
                    "name",
                    "phone",
                    "preferred_language"
                ],
                "{name}"
            );
            assert_eq!(
                view["consumer"]["account_numbers"],
                json!(["CE-1234"]),
                "{name}"
            );
            assert_eq!(view["consumer"]["merged_into"], Value::Null, "{name}");
            for f in view["facts"].as_array().unwrap() {
                assert_eq!(keys(f), ["name", "set_at", "value"]);
                let n = f["name"].as_str().unwrap();
                assert!(
                    [
                        "response_category",
                        "response",
                        "hold_acknowledged",
                        "relief_amount"
                    ]
                    .contains(&n),
                    "{name}: fact {n} is not the company's"
                );
            }
            for l in view["links"].as_array().unwrap() {
                assert_eq!(keys(l), ["direction", "kind", "reference"]);
                assert_eq!(l["reference"], json!(sibling_ref), "{name}");
            }
            assert_eq!(view["merged_into"], Value::Null);
        }
        assert_eq!(company["facts"].as_array().unwrap().len(), 3);
        assert_eq!(company["links"].as_array().unwrap().len(), 1);
        // Every other answer about the case, and the company's case page.
        for path in [
            format!("/api/v1/cases/{r}"),
            format!("/api/v1/cases/{r}/timeline"),
            format!("/api/v1/cases/{r}/lifecycle"),
            format!("/api/v1/cases/{r}/clocks"),
            format!("/api/v1/cases/{r}/attachments"),
            "/api/v1/cases".to_string(),
        ] {
            let resp = app.get(Role::Company, &path).await;
            assert_eq!(resp.status(), 200, "{path}");
            let text = resp.text().await.unwrap();
            for f in forbidden {
                assert!(!text.contains(f), "{path} shows {f}: {text}");
            }
        }
    }
);

/// A database out of reach. PostgreSQL: the test database refuses connections and its sessions
/// are ended (as when the server is down). SQLite: another process holds the file's write lock
/// past the busy timeout (as a maintenance job might).
enum Outage {
    Postgres,
    Sqlite(sqlx::SqliteConnection),
}

async fn cut_off(app: &TestApp) -> Outage {
    match app.backend {
        Backend::Postgres => {
            postgres_accepts(app, false).await;
            Outage::Postgres
        }
        Backend::Sqlite => {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut c)
                .await
                .unwrap();
            Outage::Sqlite(c)
        }
    }
}

async fn restore(app: &TestApp, outage: Outage) {
    match outage {
        Outage::Postgres => postgres_accepts(app, true).await,
        Outage::Sqlite(mut c) => {
            sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
        }
    }
}

async fn postgres_accepts(app: &TestApp, reachable: bool) {
    let name = app.database_url.rsplit('/').next().unwrap().to_string();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url())
        .await
        .unwrap();
    let allow = if reachable { "true" } else { "false" };
    sqlx::query(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allow}"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    if !reachable {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

both_stores!(
    an_outage_answers_503_and_keeps_sessions,
    async |app: &TestApp| {
        let case = app.create_case(&minimal_body()).await;
        let reference = case["reference"].as_str().unwrap().to_string();
        // An agent signed in on the pages.
        let b = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let html = b
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = html[at..].split('"').next().unwrap().to_string();
        let r = b
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "agent"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let page = format!("/cases/{reference}");
        assert_eq!(b.get(app.url(&page)).send().await.unwrap().status(), 200);

        let outage = cut_off(app).await;
        let r = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "5");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "unavailable");
        let r = app
            .post_json(Role::Agent, "/api/v1/cases", &minimal_body())
            .await;
        assert_eq!(r.status(), 503, "a write is refused, not lost silently");
        // The agent's page says so, and does not send them to the login page.
        let r = b.get(app.url(&page)).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "5");
        assert!(r.text().await.unwrap().contains("Temporarily unavailable"));

        restore(app, outage).await;
        // Back: the same session works, the API answers again.
        let mut back = false;
        for _ in 0..50 {
            if b.get(app.url(&page)).send().await.unwrap().status() == 200 {
                back = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(back, "the session survived the outage");
        assert_eq!(
            app.get(Role::Agent, &format!("/api/v1/cases/{reference}"))
                .await
                .status(),
            200
        );
    }
);

both_stores!(
    lockouts_reveal_no_usernames_and_cannot_lock_others_out,
    async |app: &TestApp| {
        let from = |last: u8| {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, last]))
                .build()
                .unwrap()
        };
        let login = |client: &reqwest::Client, user: &str, password: &str| {
            client
                .post(app.url("/api/v1/session"))
                .json(&json!({"username": user, "password": password}))
                .send()
        };
        let attacker = from(7);
        // A real name and a made-up one answer alike: 401 four times, then locked (429).
        for user in ["admin", "no.such.person"] {
            for i in 1..=5 {
                let r = login(&attacker, user, "guessing wrong").await.unwrap();
                assert_eq!(r.status(), 401, "{user} failure {i}");
            }
            let r = login(&attacker, user, "guessing again").await.unwrap();
            assert_eq!(r.status(), 429, "{user} is locked for this address");
            assert!(r.headers().contains_key("retry-after"));
        }
        // The attempt made while locked is audited on the account's chain.
        for subject in ["user:admin", "logins"] {
            let rows = app.store.audit_for_subject(subject, 100).await.unwrap();
            assert_eq!(
                rows.iter()
                    .filter(|a| a.action == "user.login_locked")
                    .count(),
                1,
                "{subject}"
            );
        }
        // The administrator, from their own desk, is not locked out.
        let desk = from(1);
        assert_eq!(login(&desk, "admin", PASSWORD).await.unwrap().status(), 200);
        // Many names from one address: the address itself is slowed down.
        let sprayer = from(9);
        for i in 0..20 {
            let r = login(&sprayer, &format!("user{i}"), "spray").await.unwrap();
            assert_eq!(r.status(), 401, "spray {i}");
        }
        let r = login(&sprayer, "agent", PASSWORD).await.unwrap();
        assert_eq!(r.status(), 429, "the address is locked, whatever the name");
        assert_eq!(login(&desk, "agent", PASSWORD).await.unwrap().status(), 200);
        // Locks pass.
        app.clock.advance(jiff::SignedDuration::from_mins(3));
        assert_eq!(
            login(&sprayer, "agent", PASSWORD).await.unwrap().status(),
            200
        );
    }
);
