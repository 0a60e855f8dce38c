//! The energy packs: a utility complaint from intake to rehearing, an urgent referral's
//! working hours, and a hotline call to restored service.

use crate::both_stores;
use crate::harness::*;
use crate::packs::{
    at, case, due, events, fact, letters, life, open, state, step, sweep, try_step,
};
use redress_domain::Role;
use serde_json::{Value, json};

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
        // The company report's row of the case has the clock met, as its clocks say.
        crate::reports::assert_report_rows_exact(app).await;
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
            body.contains("a más tardar el 19 de enero de 2027") && body.contains("$412.50"),
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
                .contains("report what you did by December 24, 2026")
        );
        assert!(
            referral["body"]
                .as_str()
                .unwrap()
                .contains("The customer disputes $412.50."),
            "{referral}"
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
        // The consumer gave an email address: the acknowledgement, the update when the complaint
        // was referred, and the decision letter also went out by email.
        assert_eq!(app.count("outbox").await, 3);
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
                "Contact the customer by December 28, 2026, 10:00 and report your resolution by January 7, 2027."
            ),
            "{}",
            letter[0]["body"]
        );
        // Missed: notice and priority.
        assert_eq!(sweep(app, "2026-12-28T16:00:00Z").await, (0, 1));
        assert_eq!(case(app, &r).await["priority"], "high");
    }
);

both_stores!(
    a_hotline_call_becomes_a_complaint_keeping_its_medical_certificate,
    async |app: &TestApp| {
        at(app, "2026-12-09T23:00:00Z").await;
        let r = open(
            app,
            "hotline",
            "hotline",
            json!({"amount_in_dispute": "980.00"}),
        )
        .await;
        step(app, Role::Agent, &r, "screen", json!({"situation": "termination_scheduled", "household": "medical_emergency", "notice_served_on": "2026-12-09", "termination_on": "2026-12-24", "amount_owed": "980.00"})).await;
        step(
            app,
            Role::Agent,
            &r,
            "record_medical_certificate",
            json!({"certificate_received_on": "2026-12-09"}),
        )
        .await;
        let l = life(app, Role::Agent, &r).await;
        let certificate_due = due(&l, "medical_certificate");
        assert_eq!(certificate_due, "2027-01-08T22:00:00Z");

        // The call becomes a complaint: opened, linked, and the certificate keeps running there.
        let c = step(app, Role::Agent, &r, "convert_to_complaint", json!({})).await;
        assert_eq!(c["stage"], "converted");
        let links = c["links"].as_array().unwrap();
        assert_eq!(links.len(), 1, "{c}");
        let complaint = links[0]["reference"].as_str().unwrap().to_string();
        let opened = case(app, &complaint).await;
        assert_eq!(opened["kind"], "complaint");
        assert_eq!(opened["lifecycle"], "utility_complaint", "about a utility");
        assert_eq!(opened["consumer_id"], c["consumer_id"]);
        assert_eq!(opened["company"]["id"], app.company_id);
        assert_eq!(opened["amount_in_dispute"], "980.00");
        assert!(
            opened["description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Opened from {r}"))
        );
        let l = life(app, Role::Agent, &complaint).await;
        assert_eq!(
            due(&l, "medical_certificate"),
            certificate_due,
            "due the same day"
        );
        assert_eq!(l["stage"], "received");
        // The complaint's own hold on the disputed amount applies from the start.
        assert_eq!(l["hold"]["active"], true, "{l}");
    }
);
