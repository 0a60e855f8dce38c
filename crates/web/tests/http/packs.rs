//! Each shipped process pack driven through its whole life over the HTTP API with a fake
//! clock: every due instant, escalation, hold and system transition is asserted, on both
//! stores.
//!
//! The helpers below are shared with the `packs_*` files; the tests here cut across the packs
//! (the case page, my work, a lifecycle that changes).

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::{Value, json};

/// Takes a transition and returns the response status and body.
pub(crate) async fn try_step(
    app: &TestApp,
    role: Role,
    r: &str,
    transition: &str,
    fields: Value,
) -> (u16, Value) {
    let resp = app
        .post_json(
            role,
            &format!("/api/v1/cases/{r}/transitions"),
            &json!({"transition": transition, "fields": fields}),
        )
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Takes a transition that must succeed; returns the case.
pub(crate) async fn step(
    app: &TestApp,
    role: Role,
    r: &str,
    transition: &str,
    fields: Value,
) -> Value {
    let (status, body) = try_step(app, role, r, transition, fields).await;
    assert_eq!(status, 200, "{transition}: {body}");
    body
}

pub(crate) async fn life(app: &TestApp, role: Role, r: &str) -> Value {
    let resp = app.get(role, &format!("/api/v1/cases/{r}/lifecycle")).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The latest clock of that name.
pub(crate) fn clock<'a>(life: &'a Value, name: &str) -> &'a Value {
    life["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no clock {name} in {}", life["clocks"]))
}

pub(crate) fn due(life: &Value, name: &str) -> String {
    clock(life, name)["due_at"].as_str().unwrap().to_string()
}

pub(crate) fn state(life: &Value, name: &str) -> String {
    clock(life, name)["state"].as_str().unwrap().to_string()
}

pub(crate) async fn at(app: &TestApp, instant: &str) {
    app.clock.set(instant.parse().unwrap());
}

/// The audit log (chains, and the timeline and case digests) still verifies.
async fn audit_intact(app: &TestApp) {
    let verdict = app.store.verify_audit().await.unwrap();
    assert!(
        matches!(verdict, redress_store::AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
}

pub(crate) async fn sweep(app: &TestApp, instant: &str) -> (usize, usize) {
    at(app, instant).await;
    let done = app
        .store
        .sweep_clocks(instant.parse().unwrap(), 1000)
        .await
        .unwrap();
    audit_intact(app).await;
    done
}

pub(crate) async fn run_jobs(app: &TestApp) -> usize {
    let done = redress_app::jobs::run_due_jobs(&app.state, "node-a", 100)
        .await
        .unwrap();
    audit_intact(app).await;
    done
}

pub(crate) async fn case(app: &TestApp, r: &str) -> Value {
    app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
        .await
        .json()
        .await
        .unwrap()
}

pub(crate) async fn events(app: &TestApp, r: &str) -> Vec<String> {
    let timeline: Vec<Value> = app
        .get(Role::Supervisor, &format!("/api/v1/cases/{r}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    timeline
        .iter()
        .filter_map(|e| e["data"]["event"].as_str().map(str::to_string))
        .collect()
}

/// The letters on a case's timeline.
pub(crate) async fn letters(app: &TestApp, r: &str) -> Vec<Value> {
    let timeline: Vec<Value> = app
        .get(Role::Supervisor, &format!("/api/v1/cases/{r}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    timeline
        .into_iter()
        .filter(|e| e["type"] == "letter")
        .collect()
}

pub(crate) fn fact(case: &Value, name: &str) -> Option<String> {
    case["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
}

pub(crate) async fn open(app: &TestApp, kind: &str, channel: &str, extra: Value) -> String {
    let mut body = minimal_body();
    body["kind"] = json!(kind);
    body["channel"] = json!(channel);
    body["company_id"] = json!(app.company_id);
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            body[k] = v.clone();
        }
    }
    app.create_case(&body).await["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

both_stores!(
    case_page_shows_the_hold_the_windows_and_the_foil_clock,
    async |app: &TestApp| {
        at(app, "2027-01-04T15:00:00Z").await;
        let r = open(
            app,
            "complaint",
            "phone",
            json!({"amount_in_dispute": "75.00"}),
        )
        .await;
        step(app, Role::Agent, &r, "open_investigation", json!({})).await;
        step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "No error found", "mailed_on": "2027-01-04"}),
        )
        .await;
        let foil = open(app, "foil_request", "email", json!({})).await;
        let b = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let login = b
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "agent", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let html = b
            .get(app.url(&format!("/cases/{r}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Termination hold in force"), "{html}");
        assert!(html.contains("until 2027-01-19 17:00"), "{html}");
        assert!(html.contains("Window to request an informal hearing or review"));
        assert!(html.contains("datetime=\"2027-01-19T22:00:00Z\""));
        assert!(html.contains("Initial decision mailed"));
        assert!(
            html.contains("value=\"request_hearing\""),
            "the next step is offered"
        );
        let html = b
            .get(app.url(&format!("/cases/{foil}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Grant, deny or acknowledge")
                && html.contains("datetime=\"2027-01-11T22:00:00Z\""),
            "{html}"
        );
        // A step taken from the page, and a refused one re-shown with its field marked.
        let token = {
            let at = html.find("name=\"csrf\" value=\"").expect("a csrf field")
                + "name=\"csrf\" value=\"".len();
            html[at..].split('"').next().unwrap().to_string()
        };
        let resp = b
            .post(app.url(&format!("/cases/{foil}/transition")))
            .form(&[
                ("csrf", token.as_str()),
                ("transition", "acknowledge"),
                ("fields.approximate_date", "not a date"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("id=\"t-acknowledge-approximate_date-error\""),
            "{html}"
        );
        let resp = b
            .post(app.url(&format!("/cases/{foil}/transition")))
            .form(&[
                ("csrf", token.as_str()),
                ("transition", "acknowledge"),
                ("fields.approximate_date", "2027-01-20"),
            ])
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success() || resp.status().is_redirection());
        assert_eq!(life(app, Role::Agent, &foil).await["stage"], "acknowledged");
        // The lifecycle tables for admins.
        let b2 = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        b2.post(app.url("/api/v1/session"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let html = b2
            .get(app.url("/admin/lifecycles"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for pack in [
            "Utility complaint",
            "Emergency hotline",
            "mediation",
            "Insurance-fund inquiry",
            "(311)",
            "FOIL request",
        ] {
            assert!(html.contains(pack), "{pack}");
        }
    }
);

both_stores!(
    my_work_lists_deadlines_and_companies_see_only_theirs,
    async |app: &TestApp| {
        at(app, "2026-11-25T16:00:00Z").await;
        let mut body = minimal_body();
        body["kind"] = json!("foil_request");
        body["channel"] = json!("email");
        let r = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        app.post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{r}/assignment"),
            &json!({"assignee": "agent"}),
        )
        .await;
        at(app, "2026-12-04T23:00:00Z").await;
        let b = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let login = b
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "agent", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let home = b
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains(&format!("href=\"/cases/{r}\"")) && home.contains("Overdue since"),
            "{home}"
        );
        // The case has no company: a company user cannot see its clocks or lifecycle.
        assert_eq!(
            app.get(Role::Company, &format!("/api/v1/cases/{r}/clocks"))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get(Role::Company, &format!("/api/v1/cases/{r}/lifecycle"))
                .await
                .status(),
            404
        );
    }
);

both_stores!(
    existing_cases_keep_working_when_a_lifecycle_changes,
    async |app: &TestApp| {
        at(app, "2026-12-01T15:00:00Z").await;
        let r = open(app, "mediation", "web", json!({})).await;
        step(app, Role::Agent, &r, "screen", json!({})).await;
        // The office adds a state to the mediation pack (a new version of the file).
        let shipped = redress_domain::lifecycle::SHIPPED
            .iter()
            .find(|(n, _)| *n == "mediation.toml")
            .unwrap()
            .1
            .replace("version = 1", "version = 2")
            + r#"
[[state]]
name = "awaiting_documents"
status = "pending_consumer"
label = "Awaiting the consumer's documents"
label_es = "Esperando los documentos del consumidor"

[[transition]]
name = "ask_for_documents"
label = "Ask for documents"
label_es = "Pedir documentos"
from = ["screened"]
to = "awaiting_documents"
roles = ["agent"]

[[transition]]
name = "documents_received"
label = "Documents received"
label_es = "Documentos recibidos"
from = ["awaiting_documents"]
to = "screened"
roles = ["agent"]
"#;
        let mut files: Vec<(String, String)> = redress_domain::lifecycle::SHIPPED
            .iter()
            .filter(|(n, _)| *n != "mediation.toml")
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        files.push(("mediation.toml".into(), shipped));
        let v2 = redress_domain::lifecycle::Lifecycles::parse(&files).unwrap();
        let state = app.state.app.clone().with_lifecycles(v2);
        let c: redress_domain::records::Case = serde_json::from_value(case(app, &r).await).unwrap();
        let clocks = app
            .store
            .clocks(&r, redress_store::Scope::default(), app.clock.now_ts())
            .await
            .unwrap();
        let l = state
            .describe_stage(&c, &clocks, Some(Role::Agent), false)
            .await
            .unwrap();
        assert_eq!((l.stage.as_str(), l.version), ("screened", 2));
        let names: Vec<&str> = l.transitions.iter().map(|t| t.name.as_str()).collect();
        assert!(
            names.contains(&"ask_for_documents") && names.contains(&"send_to_business"),
            "{names:?}"
        );
        // A case imported before lifecycles (no state recorded) counts as the first state with its
        // status, and can move on.
        app.raw_sql(&[&format!(
            "UPDATE cases SET stage = NULL WHERE reference = '{r}'"
        )])
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(l["stage"], "screened");
        step(app, Role::Agent, &r, "send_to_business", json!({})).await;
        assert_eq!(
            life(app, Role::Agent, &r).await["stage"],
            "sent_to_business"
        );
    }
);
