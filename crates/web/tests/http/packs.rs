//! Each shipped process pack driven through its whole life over the HTTP API with a fake
//! clock: every due instant, escalation, hold and system transition is asserted, on both
//! stores.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::{Value, json};

/// Takes a transition and returns the response status and body.
async fn try_step(
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
async fn step(app: &TestApp, role: Role, r: &str, transition: &str, fields: Value) -> Value {
    let (status, body) = try_step(app, role, r, transition, fields).await;
    assert_eq!(status, 200, "{transition}: {body}");
    body
}

async fn life(app: &TestApp, role: Role, r: &str) -> Value {
    let resp = app.get(role, &format!("/api/v1/cases/{r}/lifecycle")).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The latest clock of that name.
fn clock<'a>(life: &'a Value, name: &str) -> &'a Value {
    life["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no clock {name} in {}", life["clocks"]))
}

fn due(life: &Value, name: &str) -> String {
    clock(life, name)["due_at"].as_str().unwrap().to_string()
}

fn state(life: &Value, name: &str) -> String {
    clock(life, name)["state"].as_str().unwrap().to_string()
}

async fn at(app: &TestApp, instant: &str) {
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

async fn sweep(app: &TestApp, instant: &str) -> (usize, usize) {
    at(app, instant).await;
    let done = app
        .store
        .sweep_clocks(instant.parse().unwrap(), 1000)
        .await
        .unwrap();
    audit_intact(app).await;
    done
}

async fn run_jobs(app: &TestApp) -> usize {
    let done = redress_web::jobs::run_due_jobs(&app.state, "node-a", 100)
        .await
        .unwrap();
    audit_intact(app).await;
    done
}

async fn case(app: &TestApp, r: &str) -> Value {
    app.get(Role::Supervisor, &format!("/api/v1/cases/{r}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn events(app: &TestApp, r: &str) -> Vec<String> {
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
async fn letters(app: &TestApp, r: &str) -> Vec<Value> {
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

fn fact(case: &Value, name: &str) -> Option<String> {
    case["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
}

async fn open(app: &TestApp, kind: &str, channel: &str, extra: Value) -> String {
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
    utility_complaint_from_intake_to_rehearing,
    async |app: &TestApp| {
        // Thursday 2026-12-10, 10:00 in New York.
        at(app, "2026-12-10T15:00:00Z").await;
        let r = open(
            app,
            "complaint",
            "phone",
            json!({"amount_in_dispute": "412.50"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(l["stage"], "received");
        // 30 business days, past Christmas, New Year's Day and Martin Luther King Jr. Day.
        assert_eq!(due(&l, "resolution_target"), "2027-01-26T22:00:00Z");
        assert_eq!(l["hold"]["active"], true);
        assert!(l["hold"]["ends_at"].is_null(), "held while pending");
        assert_eq!(l["hold"]["disputed_cents"], 41250);
        // The company sees the hold on its case, and no step it could take yet.
        let lc = life(app, Role::Company, &r).await;
        assert_eq!(lc["hold"]["active"], true);
        assert!(lc["transitions"].as_array().unwrap().is_empty());

        // An illegal transition: 409 naming what is allowed, and nothing changes.
        let before = case(app, &r).await;
        let entries = app.count("timeline").await;
        let (status, problem) = try_step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "x", "mailed_on": "2026-12-10"}),
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(problem["code"], "invalid_transition");
        let allowed: Vec<&str> = problem["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            allowed.contains(&"refer_to_company") && allowed.contains(&"open_investigation"),
            "{allowed:?}"
        );
        assert_eq!(case(app, &r).await["version"], before["version"]);
        assert_eq!(app.count("timeline").await, entries);

        // T1: referred to the company; it has 14 calendar days (C06).
        step(app, Role::Agent, &r, "refer_to_company", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(
            (l["stage"].as_str(), l["status"].as_str()),
            (Some("referred_to_company"), Some("pending_company"))
        );
        assert_eq!(due(&l, "company_response"), "2026-12-24T22:00:00Z");

        // T4: the company answers the next day, from its own account.
        at(app, "2026-12-11T15:00:00Z").await;
        let lc = life(app, Role::Company, &r).await;
        let offered: Vec<&str> = lc["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(
            offered,
            vec!["record_first_contact", "record_company_response"]
        );
        // C05: first contact by the close of the next business day; made in time.
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "company_first_contact"),
            "2026-12-11T22:00:00Z"
        );
        step(app, Role::Company, &r, "record_first_contact", json!({})).await;
        assert_eq!(
            state(&life(app, Role::Agent, &r).await, "company_first_contact"),
            "met"
        );
        // The structured response (E.2): a category, the explanation, the hold acknowledged.
        let (status, problem) = try_step(
            app,
            Role::Company,
            &r,
            "record_company_response",
            json!({"response": "Credited the duplicate charge."}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect::<Vec<_>>(),
            vec!["fields.response_category", "fields.hold_acknowledged"]
        );
        let c = step(
            app,
            Role::Company,
            &r,
            "record_company_response",
            json!({"response_category": "closed_with_monetary_relief", "relief_amount": "40.00",
                   "response": "Credited the duplicate charge.", "hold_acknowledged": "yes"}),
        )
        .await;
        assert_eq!(fact(&c, "relief_amount").as_deref(), Some("4000"));
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "company_response"), "met", "timely");
        assert_eq!(due(&l, "consumer_confirmation"), "2026-12-21T22:00:00Z");

        // T6: the consumer is not satisfied; T7: records are requested, pausing the office's target.
        at(app, "2026-12-14T15:00:00Z").await;
        step(
            app,
            Role::Agent,
            &r,
            "open_investigation",
            json!({"reason": "Consumer says the credit is short"}),
        )
        .await;
        assert_eq!(
            state(&life(app, Role::Agent, &r).await, "consumer_confirmation"),
            "stopped"
        );
        step(
            app,
            Role::Agent,
            &r,
            "request_information",
            json!({"request_text": "Billing history for 2026", "response_due": "2026-12-23"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(l["status"], "pending_consumer");
        assert_eq!(state(&l, "resolution_target"), "paused");
        assert_eq!(due(&l, "info_request"), "2026-12-23T22:00:00Z");

        // Nobody answers: the overdue request escalates once (notify), without raising priority.
        assert_eq!(sweep(app, "2026-12-24T15:00:00Z").await, (0, 1));
        assert_eq!(sweep(app, "2026-12-24T16:00:00Z").await, (0, 0));
        assert!(
            events(app, &r)
                .await
                .contains(&"clock_escalated".to_string())
        );

        // The records arrive on Monday the 28th: the target resumes 14 days later than before.
        at(app, "2026-12-28T15:00:00Z").await;
        step(app, Role::Agent, &r, "information_received", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(due(&l, "resolution_target"), "2027-02-09T22:00:00Z");
        assert_eq!(
            state(&l, "info_request"),
            "missed",
            "answered after its date"
        );

        // A meter test with its own due date.
        step(
            app,
            Role::Agent,
            &r,
            "order_meter_test",
            json!({"task_due": "2027-01-08"}),
        )
        .await;
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "meter_test"),
            "2027-01-08T22:00:00Z"
        );
        step(
            app,
            Role::Agent,
            &r,
            "meter_test_done",
            json!({"findings": "Meter within tolerance"}),
        )
        .await;
        assert_eq!(
            state(&life(app, Role::Agent, &r).await, "meter_test"),
            "met"
        );

        // T8: the initial decision. A mailing date in the future is refused, naming the field.
        at(app, "2027-01-04T15:00:00Z").await;
        let (status, problem) = try_step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "Refund $40", "mailed_on": "2027-01-05"}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["field"], "fields.mailed_on");
        step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "Refund $40", "mailed_on": "2027-01-04"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "resolution_target"), "met");
        // C09: 15 days after mailing → Tuesday 2027-01-19 (the 18th is a holiday anyway).
        assert_eq!(due(&l, "review_request_window"), "2027-01-19T22:00:00Z");
        assert_eq!(l["hold"]["active"], true);
        assert_eq!(l["hold"]["ends_at"], "2027-01-19T22:00:00Z");
        assert_eq!(
            fact(&case(app, &r).await, "mailed_on").as_deref(),
            Some("2027-01-04")
        );
        // The decision letter, in the consumer's Spanish, with the window and the hold filled in;
        // the company got its referral letter in English.
        let all_letters = letters(app, &r).await;
        let decision = all_letters
            .iter()
            .find(|l| l["data"]["letter"] == "initial_decision")
            .expect("decision letter");
        assert_eq!(
            (
                decision["visibility"].as_str(),
                decision["data"]["language"].as_str()
            ),
            (Some("consumer"), Some("es"))
        );
        let body = decision["body"].as_str().unwrap();
        assert!(
            body.starts_with("Decisión sobre su queja") && body.contains("Refund $40"),
            "{body}"
        );
        assert!(
            body.contains("a más tardar el 2027-01-19") && body.contains("$412.50"),
            "{body}"
        );
        let referral = all_letters
            .iter()
            .find(|l| l["data"]["letter"] == "referral_to_company")
            .expect("referral letter");
        assert_eq!(referral["visibility"], "company");
        assert!(
            referral["body"]
                .as_str()
                .unwrap()
                .contains("report what you did by 2026-12-24")
        );
        // The company sees its letter, not the consumer's.
        let seen: Vec<Value> = app
            .get(Role::Company, &format!("/api/v1/cases/{r}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            seen.iter()
                .any(|e| e["data"]["letter"] == "referral_to_company")
        );
        assert!(
            !seen
                .iter()
                .any(|e| e["data"]["letter"] == "initial_decision")
        );
        // The consumer gave an email address: the decision letter also went out by email.
        assert_eq!(app.count("outbox").await, 1);
        // The next step's choices, named in Spanish.
        let es: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/lifecycle?lang=es"))
            .await
            .json()
            .await
            .unwrap();
        let hearing = es["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "request_hearing")
            .unwrap();
        assert_eq!(hearing["label"], "Se solicitó audiencia o revisión");
        let format = hearing["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "format")
            .unwrap();
        assert_eq!(
            format["options"],
            json!([{"value": "hearing", "label": "Audiencia informal"}, {"value": "review", "label": "Revisión informal"}])
        );

        // T10: the customer asks for a hearing in time; the hold continues while it is pending.
        at(app, "2027-01-11T15:00:00Z").await;
        step(app, Role::Agent, &r, "request_hearing", json!({"requested_by": "customer", "format": "hearing", "reason": "Disputes the usage estimate"})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "review_request_window"), "met");
        assert!(l["hold"]["ends_at"].is_null() && l["hold"]["active"] == true);

        // T11: only hearing officers schedule, with at least 10 days' notice (C10).
        let (status, _) = try_step(
            app,
            Role::Agent,
            &r,
            "schedule_hearing",
            json!({"hearing_on": "2027-01-25", "place": "Albany"}),
        )
        .await;
        assert_eq!(status, 403);
        let (status, problem) = try_step(
            app,
            Role::SeniorAgent,
            &r,
            "schedule_hearing",
            json!({"hearing_on": "2027-01-15", "place": "Albany"}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["code"], "too_soon");
        step(
            app,
            Role::SeniorAgent,
            &r,
            "schedule_hearing",
            json!({"hearing_on": "2027-01-25", "place": "3 Empire State Plaza, 10:00"}),
        )
        .await;
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "hearing_date"),
            "2027-01-25T22:00:00Z"
        );

        // T15: the decision is mailed; the appeal window (C13) and the hold run 15 days from it.
        at(app, "2027-01-26T15:00:00Z").await;
        step(
            app,
            Role::SeniorAgent,
            &r,
            "issue_hearing_decision",
            json!({"decision": "Upheld in part", "mailed_on": "2027-01-26"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(due(&l, "appeal_window"), "2027-02-10T22:00:00Z");
        assert_eq!(l["hold"]["ends_at"], "2027-02-10T22:00:00Z");

        // T17: appealed in time; T18, T19: the Commission decides (after the DST change: 17:00 EDT).
        at(app, "2027-02-01T15:00:00Z").await;
        step(
            app,
            Role::Agent,
            &r,
            "appeal",
            json!({"grounds": "new_evidence", "filed_on": "2027-02-01"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "appeal_window"), "met");
        assert!(l["hold"]["active"] == true && l["hold"]["ends_at"].is_null());
        // 12.14(a): someone who worked on the case may not draft the determination.
        let note = app
            .post_json(
                Role::Manager,
                &format!("/api/v1/cases/{r}/timeline"),
                &json!({"type": "note", "body": "Looked at the appeal", "visibility": "internal"}),
            )
            .await;
        assert_eq!(note.status(), 201);
        let (status, problem) = try_step(
            app,
            Role::Manager,
            &r,
            "draft_determination",
            json!({"findings": "x"}),
        )
        .await;
        assert_eq!(status, 409);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("no earlier work"),
            "{problem}"
        );
        step(
            app,
            Role::Supervisor,
            &r,
            "draft_determination",
            json!({"findings": "Staff new to the case reviewed the record"}),
        )
        .await;
        at(app, "2027-03-01T15:00:00Z").await;
        step(
            app,
            Role::Supervisor,
            &r,
            "record_commission_decision",
            json!({"outcome": "upheld", "mailed_on": "2027-03-01"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "commission_target"), "met");
        assert_eq!(due(&l, "commission_hold"), "2027-03-16T21:00:00Z");
        assert_eq!(due(&l, "rehearing_window"), "2027-03-31T21:00:00Z");
        assert_eq!(l["hold"]["ends_at"], "2027-03-16T21:00:00Z");

        // T21, T22: a rehearing petition the Commission must act on in 30 days (C16).
        at(app, "2027-03-10T15:00:00Z").await;
        step(
            app,
            Role::Supervisor,
            &r,
            "petition_rehearing",
            json!({"filed_on": "2027-03-10"}),
        )
        .await;
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "rehearing_action"),
            "2027-04-09T21:00:00Z"
        );
        at(app, "2027-04-05T15:00:00Z").await;
        step(
            app,
            Role::Supervisor,
            &r,
            "record_commission_decision",
            json!({"outcome": "denied", "mailed_on": "2027-04-05"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "rehearing_action"), "met");
        assert_eq!(l["hold"]["ends_at"], "2027-04-20T21:00:00Z");

        // Closing after the windows: every clock ends, and the hold is over.
        at(app, "2027-05-10T15:00:00Z").await;
        step(
            app,
            Role::Agent,
            &r,
            "close",
            json!({"resolution": "Commission upheld the decision"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(
            (l["stage"].as_str(), l["status"].as_str()),
            (Some("closed"), Some("closed"))
        );
        assert_eq!(l["hold"]["active"], false);
        assert!(
            l["transitions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["name"] != "close")
        );
        assert!(
            l["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["state"] != "running")
        );
        let trail: Vec<Value> = app
            .get(Role::Supervisor, &format!("/api/v1/cases/{r}/audit"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            trail
                .iter()
                .filter(|a| a["action"] == "case.transition")
                .count(),
            18
        );
        assert!(matches!(
            app.store.verify_audit().await.unwrap(),
            redress_store::AuditVerdict::Intact { .. }
        ));
    }
);

both_stores!(hotline_call_to_restored_service, async |app: &TestApp| {
    // Wednesday 2026-12-09, 18:00 in New York: the hotline is staffed until 21:00.
    at(app, "2026-12-09T23:00:00Z").await;
    let r = open(
        app,
        "hotline",
        "hotline",
        json!({"amount_in_dispute": "980.00"}),
    )
    .await;
    assert_eq!(case(app, &r).await["priority"], "critical");
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(l["stage"], "call_received");
    assert_eq!(due(&l, "utility_contact"), "2026-12-10T22:00:00Z");
    assert_eq!(l["hotline"]["hotline_open_now"], true);
    assert_eq!(l["hotline"]["cold_weather_period"], true);
    assert!(l["hotline"]["earliest_termination"].is_null());
    step(app, Role::Agent, &r, "screen", json!({"situation": "termination_scheduled", "household": "medical_emergency", "notice_served_on": "2026-12-09", "termination_on": "2026-12-24", "amount_owed": "980.00"})).await;
    // 15 days after the notice is the 24th, the day before Christmas: no shut-off until Monday
    // the 28th at 08:00 (C18, C19).
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(l["hotline"]["earliest_termination"], "2026-12-28T13:00:00Z");
    at(app, "2026-12-09T23:20:00Z").await;
    step(
        app,
        Role::Agent,
        &r,
        "contact_utility",
        json!({"contact_name": "Con Ed hotline desk"}),
    )
    .await;
    assert_eq!(
        state(&life(app, Role::Agent, &r).await, "utility_contact"),
        "met"
    );
    // Agents cannot issue orders; the Commission designee can.
    assert_eq!(
        try_step(
            app,
            Role::Agent,
            &r,
            "issue_order",
            json!({"order": "continue_service"})
        )
        .await
        .0,
        403
    );
    step(
        app,
        Role::SeniorAgent,
        &r,
        "issue_order",
        json!({"order": "continue_service"}),
    )
    .await;
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(l["hold"]["active"], true);
    assert_eq!(due(&l, "reconnection"), "2026-12-10T22:00:00Z");
    // A medical certificate: 30 days of continued service (C21), warned 5 business days ahead.
    at(app, "2026-12-10T15:00:00Z").await;
    step(
        app,
        Role::Agent,
        &r,
        "record_medical_certificate",
        json!({"certificate_received_on": "2026-12-10"}),
    )
    .await;
    let l = life(app, Role::Agent, &r).await;
    // 30 days after Dec 10 is Saturday Jan 9: it rolls to Monday Jan 11.
    assert_eq!(due(&l, "medical_certificate"), "2027-01-11T22:00:00Z");
    assert_eq!(l["stage"], "follow_up");
    step(
        app,
        Role::Agent,
        &r,
        "confirm_service",
        json!({"outcome": "service_continued"}),
    )
    .await;
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(l["stage"], "closed");
    assert_eq!(state(&l, "reconnection"), "met");

    // A second call nobody works: its contact deadline is missed, the case goes to the hotline
    // unit, and the notice reaches the supervisor's inbox.
    app.raw_sql(&[
        "UPDATE users SET email = 'supervisor@example.gov' WHERE username = 'supervisor'",
    ])
    .await;
    at(app, "2026-12-14T14:00:00Z").await;
    let r2 = open(app, "hotline", "hotline", json!({})).await;
    app.post_json(
        Role::Supervisor,
        &format!("/api/v1/cases/{r2}/assignment"),
        &json!({"unit": "CALL", "assignee": "agent"}),
    )
    .await;
    app.raw_sql(&["UPDATE users SET unit_id = (SELECT id FROM units WHERE code = 'CALL') WHERE username = 'supervisor'"]).await;
    let outbox = app.count("outbox").await;
    assert_eq!(sweep(app, "2026-12-15T23:00:00Z").await, (0, 1));
    let c2 = case(app, &r2).await;
    assert_eq!(
        (c2["unit"].as_str(), c2["assignee"].as_str()),
        (Some("HOTLINE"), None)
    );
    assert_eq!(app.count("outbox").await, outbox + 1);
});

both_stores!(
    mediation_with_a_business_that_does_not_reply,
    async |app: &TestApp| {
        at(app, "2026-12-01T15:00:00Z").await;
        let r = open(app, "mediation", "web", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(due(&l, "screening_target"), "2026-12-08T22:00:00Z");
        step(app, Role::Agent, &r, "screen", json!({})).await;
        step(app, Role::Agent, &r, "send_to_business", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "screening_target"), "met");
        assert_eq!(due(&l, "business_reply"), "2026-12-15T22:00:00Z");
        // Due soon two business days ahead, then missed: the system moves it to no_response, once.
        assert_eq!(sweep(app, "2026-12-11T23:00:00Z").await, (1, 0));
        assert_eq!(sweep(app, "2026-12-16T15:00:00Z").await, (0, 1));
        assert_eq!(sweep(app, "2026-12-16T16:00:00Z").await, (0, 0));
        assert_eq!(run_jobs(app).await, 1);
        assert_eq!(run_jobs(app).await, 0);
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(l["stage"], "no_response");
        let trail: Vec<Value> = app
            .get(Role::Supervisor, &format!("/api/v1/cases/{r}/audit"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            trail
                .iter()
                .any(|a| a["action"] == "case.transition" && a["actor"] == "system")
        );
        // The business answers late after all; mediation; a refund is agreed.
        step(
            app,
            Role::Company,
            &r,
            "record_business_response",
            json!({"response": "We will refund the deposit."}),
        )
        .await;
        step(app, Role::Agent, &r, "mediate", json!({})).await;
        // 30 business days, past Christmas, New Year's Day and Martin Luther King Jr. Day.
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "mediation_target"),
            "2027-02-01T22:00:00Z"
        );
        let (status, problem) = try_step(
            app,
            Role::Agent,
            &r,
            "record_agreement",
            json!({"remedy": "refund", "refund_amount": "12x"}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["field"], "fields.refund_amount");
        let c = step(
            app,
            Role::Agent,
            &r,
            "record_agreement",
            json!({"remedy": "refund", "refund_amount": "149.99"}),
        )
        .await;
        assert_eq!(
            (c["status"].as_str(), c["stage"].as_str()),
            (Some("resolved"), Some("resolved"))
        );
        assert_eq!(fact(&c, "refund_amount").as_deref(), Some("14999"));
        assert_eq!(
            state(&life(app, Role::Agent, &r).await, "mediation_target"),
            "met"
        );
        step(app, Role::Agent, &r, "close", json!({})).await;
        // A complaint that belongs elsewhere is referred out and closed.
        let r2 = open(app, "mediation", "mail", json!({})).await;
        let c2 = step(
            app,
            Role::Agent,
            &r2,
            "refer_out",
            json!({"agency": "Department of Motor Vehicles"}),
        )
        .await;
        assert_eq!(c2["status"], "closed");
    }
);

both_stores!(
    insurance_inquiry_tiers_and_escalation,
    async |app: &TestApp| {
        app.store
            .create_unit(
                &redress_store::Actor::system(),
                "TIER2",
                "Senior representatives",
                "NYC",
                app.clock.now_ts(),
            )
            .await
            .unwrap();
        at(app, "2026-12-01T15:00:00Z").await;
        let r = open(app, "inquiry", "phone", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(due(&l, "answer_target"), "2026-12-03T22:00:00Z");
        step(
            app,
            Role::Agent,
            &r,
            "research",
            json!({"customer_type": "claimant"}),
        )
        .await;
        // Warned a business day ahead; missed: priority high and the next tier's queue.
        assert_eq!(sweep(app, "2026-12-02T23:00:00Z").await, (1, 0));
        assert_eq!(sweep(app, "2026-12-04T15:00:00Z").await, (0, 1));
        let c = case(app, &r).await;
        assert_eq!(
            (c["priority"].as_str(), c["unit"].as_str()),
            (Some("high"), Some("TIER2"))
        );
        // Referred to a unit that does not answer in time: escalated to high impact by the system.
        step(
            app,
            Role::SeniorAgent,
            &r,
            "refer",
            json!({"unit": "disability_benefits"}),
        )
        .await;
        assert_eq!(
            due(&life(app, Role::Agent, &r).await, "unit_answer"),
            "2026-12-11T22:00:00Z"
        );
        assert_eq!(sweep(app, "2026-12-14T15:00:00Z").await, (0, 1));
        assert_eq!(run_jobs(app).await, 1);
        assert_eq!(life(app, Role::Agent, &r).await["stage"], "high_impact");
        step(
            app,
            Role::Supervisor,
            &r,
            "critical_review",
            json!({"reason": "Third call about the same payment"}),
        )
        .await;
        assert_eq!(case(app, &r).await["priority"], "critical");
        step(
            app,
            Role::Supervisor,
            &r,
            "resolve",
            json!({"answer": "Payment reissued", "root_cause": "payment_error"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(l["status"], "resolved");
        assert_eq!(state(&l, "specialist_review"), "met");
        // A simple question answered at first contact.
        let r2 = open(app, "inquiry", "phone", json!({})).await;
        step(
            app,
            Role::Agent,
            &r2,
            "answer",
            json!({"customer_type": "policyholder", "answer": "Explained the audit letter"}),
        )
        .await;
        assert_eq!(
            state(&life(app, Role::Agent, &r2).await, "answer_target"),
            "met"
        );
    }
);

both_stores!(city_request_routed_to_an_agency, async |app: &TestApp| {
    at(app, "2026-12-01T15:00:00Z").await;
    let r = open(app, "information_request", "phone", json!({})).await;
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(
        (l["stage"].as_str(), l["public_status"].as_str()),
        (Some("open"), Some("open"))
    );
    step(app, Role::Agent, &r, "assign_agency", json!({"agency": "Department of Sanitation", "expected_on": "2026-12-08", "status_notes": "Missed collection"})).await;
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(state(&l, "answer_target"), "met");
    assert_eq!(due(&l, "agency_due"), "2026-12-08T22:00:00Z");
    // The agency (a company account here) works it and waits two days on the requester.
    step(app, Role::Company, &r, "start_work", json!({})).await;
    at(app, "2026-12-03T15:00:00Z").await;
    step(
        app,
        Role::Company,
        &r,
        "wait_on_requester",
        json!({"status_notes": "Need the building entrance"}),
    )
    .await;
    assert_eq!(
        state(&life(app, Role::Agent, &r).await, "agency_due"),
        "paused"
    );
    at(app, "2026-12-05T15:00:00Z").await;
    step(app, Role::Company, &r, "requester_replied", json!({})).await;
    assert_eq!(
        due(&life(app, Role::Agent, &r).await, "agency_due"),
        "2026-12-10T22:00:00Z"
    );
    step(
        app,
        Role::Company,
        &r,
        "close",
        json!({"resolution": "Collected"}),
    )
    .await;
    let l = life(app, Role::Agent, &r).await;
    assert_eq!(
        (
            l["public_status"].as_str(),
            state(&l, "agency_due").as_str()
        ),
        (Some("closed"), "met")
    );
    // An inquiry answered on the spot.
    let r2 = open(app, "information_request", "phone", json!({})).await;
    step(
        app,
        Role::Agent,
        &r2,
        "answer",
        json!({"answer": "Alternate-side parking is suspended"}),
    )
    .await;
    assert_eq!(life(app, Role::Agent, &r2).await["public_status"], "closed");
});

both_stores!(
    foil_requests_clocks_extension_fees_and_appeal,
    async |app: &TestApp| {
        // Wednesday 2026-11-25: Thanksgiving (26th) and the weekend do not count.
        at(app, "2026-11-25T16:00:00Z").await;
        let r = open(app, "foil_request", "email", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(
            clock(&l, "first_response")["source"],
            "POL §89(3)(a) (C30): 5 business days after receipt"
        );
        // 27 (Fri), 30, Dec 1, 2, 3 → Thursday 2026-12-03 at 17:00 EST.
        assert_eq!(due(&l, "first_response"), "2026-12-03T22:00:00Z");
        let api: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/clocks"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                api[0]["name"].as_str(),
                api[0]["state"].as_str(),
                api[0]["started_at"].as_str()
            ),
            (
                Some("first_response"),
                Some("running"),
                Some("2026-11-25T16:00:00Z")
            )
        );
        // A snow day moves a new request's deadline.
        app.store
            .add_closure(
                &redress_store::Actor::system(),
                "NYC",
                "2026-12-01".parse().unwrap(),
                "Snow day",
                app.clock.now_ts(),
            )
            .await
            .unwrap();
        let r2 = open(app, "foil_request", "mail", json!({})).await;
        assert_eq!(
            due(&life(app, Role::Agent, &r2).await, "first_response"),
            "2026-12-04T22:00:00Z"
        );

        // Acknowledged Monday: 20 more business days (the snow day and Christmas skipped).
        at(app, "2026-11-30T15:00:00Z").await;
        step(
            app,
            Role::Agent,
            &r,
            "acknowledge",
            json!({"approximate_date": "2026-12-20"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "first_response"), "met");
        assert_eq!(due(&l, "determination"), "2026-12-30T22:00:00Z");
        let ack = letters(app, &r).await;
        assert!(
            ack[0]["body"]
                .as_str()
                .unwrap()
                .contains("a más tardar el 2026-12-30"),
            "{}",
            ack[0]["body"]
        );
        // Extended to a date certain, with a reason.
        step(
            app,
            Role::SeniorAgent,
            &r,
            "extend",
            json!({"extended_to": "2027-01-15", "reason": "Records in off-site storage"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(state(&l, "determination"), "stopped");
        assert_eq!(due(&l, "extended_determination"), "2027-01-15T22:00:00Z");
        // Fees for copies, then payment and release.
        step(
            app,
            Role::Agent,
            &r,
            "request_fees",
            json!({"pages": "40", "fee": "10.00"}),
        )
        .await;
        assert_eq!(
            life(app, Role::Agent, &r).await["status"],
            "pending_consumer"
        );
        let c = step(
            app,
            Role::Agent,
            &r,
            "record_payment",
            json!({"payment": "10.00"}),
        )
        .await;
        assert_eq!(
            (c["stage"].as_str(), fact(&c, "fee").as_deref()),
            (Some("granted"), Some("1000"))
        );

        // The second request gets no answer: constructively denied when the deadline passes.
        assert_eq!(sweep(app, "2026-12-02T23:00:00Z").await.0, 1, "due soon");
        assert_eq!(sweep(app, "2026-12-07T15:00:00Z").await.1, 1, "missed");
        assert_eq!(run_jobs(app).await, 1);
        let l = life(app, Role::Agent, &r2).await;
        assert_eq!(l["stage"], "constructively_denied");
        assert_eq!(case(app, &r2).await["priority"], "high");
        // 30 days to appeal, from the constructive denial.
        assert_eq!(due(&l, "appeal_window"), "2027-01-06T22:00:00Z");
        at(app, "2026-12-10T15:00:00Z").await;
        step(
            app,
            Role::Agent,
            &r2,
            "appeal",
            json!({"grounds": "No response was ever sent"}),
        )
        .await;
        let l = life(app, Role::Agent, &r2).await;
        assert_eq!(state(&l, "appeal_window"), "met");
        // 10 business days to decide the appeal (Christmas skipped).
        assert_eq!(due(&l, "appeal_decision"), "2026-12-24T22:00:00Z");
        assert_eq!(
            try_step(
                app,
                Role::Agent,
                &r2,
                "decide_appeal",
                json!({"appeal_outcome": "records_released", "reason": "x"})
            )
            .await
            .0,
            403
        );
        step(
            app,
            Role::Supervisor,
            &r2,
            "decide_appeal",
            json!({"appeal_outcome": "records_released", "reason": "Records located and released"}),
        )
        .await;
        let l = life(app, Role::Agent, &r2).await;
        assert_eq!(
            (l["stage"].as_str(), state(&l, "appeal_decision").as_str()),
            (Some("appeal_decided"), "met")
        );
    }
);

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
        let state = app.state.clone().with_lifecycles(v2);
        let c: redress_domain::records::Case = serde_json::from_value(case(app, &r).await).unwrap();
        let clocks = app
            .store
            .clocks(&r, redress_store::Scope::default(), app.clock.now_ts())
            .await
            .unwrap();
        let l = redress_web::lifecycle::describe(&state, &c, &clocks, Some(Role::Agent), false)
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

both_stores!(
    urgent_referral_counts_working_hours,
    async |app: &TestApp| {
        // Thursday 2026-12-24 at 16:00 in New York: one working hour left that day, then Christmas
        // and the weekend; the second hour ends Monday at 10:00 (C04).
        at(app, "2026-12-24T21:00:00Z").await;
        let r = open(
            app,
            "complaint",
            "phone",
            json!({"amount_in_dispute": "60.00"}),
        )
        .await;
        step(app, Role::Agent, &r, "refer_urgent_to_company", json!({})).await;
        let l = life(app, Role::Agent, &r).await;
        assert_eq!(
            due(&l, "company_first_contact_urgent"),
            "2026-12-28T15:00:00Z"
        );
        let letter = letters(app, &r).await;
        assert!(
            letter[0]["body"].as_str().unwrap().contains(
                "Contact the customer by 2026-12-28 10:00 and report your resolution by 2027-01-07."
            ),
            "{}",
            letter[0]["body"]
        );
        // Missed: notice and priority.
        assert_eq!(sweep(app, "2026-12-28T16:00:00Z").await, (0, 1));
        assert_eq!(case(app, &r).await["priority"], "high");
    }
);
