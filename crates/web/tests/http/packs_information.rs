//! The information-request packs: a city request routed to an agency, and a FOIL request's
//! clocks, extension, fees and appeal.

use crate::both_stores;
use crate::harness::*;
use crate::packs::{
    at, case, clock, due, fact, letters, life, open, run_jobs, state, step, sweep, try_step,
};
use redress_domain::Role;
use serde_json::{Value, json};

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
        // An approximate date past the 20 business days needs an extension instead.
        let (status, p) = try_step(
            app,
            Role::Agent,
            &r,
            "acknowledge",
            json!({"approximate_date": "2027-02-15"}),
        )
        .await;
        assert_eq!(status, 422, "{p}");
        assert_eq!(p["errors"][0]["field"], "fields.approximate_date");
        assert_eq!(
            p["errors"][0]["message"],
            "Approximate date of determination cannot be later than the Determination deadline (2026-12-30)."
        );
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
                .contains("a más tardar el 30 de diciembre de 2026"),
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
        // Fees for copies, then payment and release: a page count is a number, and a payment
        // short of the fee releases nothing.
        let (status, p) = try_step(
            app,
            Role::Agent,
            &r,
            "request_fees",
            json!({"pages": "forty", "fee": "10.00"}),
        )
        .await;
        assert_eq!(
            (status, p["errors"][0]["field"].as_str()),
            (422, Some("fields.pages"))
        );
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
        let (status, p) = try_step(
            app,
            Role::Agent,
            &r,
            "record_payment",
            json!({"payment": "5.00"}),
        )
        .await;
        assert_eq!(status, 422, "{p}");
        assert_eq!(
            p["errors"][0]["message"],
            "Payment received cannot be less than the Fee (per-page rate × pages) ($10.00)."
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
