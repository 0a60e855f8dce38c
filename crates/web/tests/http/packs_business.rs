//! The packs for disputes with a business: mediation, and an insurance inquiry's tiers and
//! escalation.

use crate::both_stores;
use crate::harness::*;
use crate::packs::{at, case, due, fact, life, open, run_jobs, state, step, sweep, try_step};
use redress_domain::Role;
use serde_json::{Value, json};

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
        let r = open(
            app,
            "inquiry",
            "phone",
            json!({"lifecycle": "insurance_inquiry"}),
        )
        .await;
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
        let r2 = open(
            app,
            "inquiry",
            "phone",
            json!({"lifecycle": "insurance_inquiry"}),
        )
        .await;
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
