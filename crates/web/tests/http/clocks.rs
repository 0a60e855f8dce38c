//! Deadline clocks driven by status changes, with a fake clock, across holidays and pauses.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::{Value, json};

async fn clocks(app: &TestApp, r: &str) -> Vec<Value> {
    app.get(Role::Agent, &format!("/api/v1/cases/{r}/clocks"))
        .await
        .json()
        .await
        .unwrap()
}

both_stores!(
    company_response_clock_runs_pauses_and_is_met,
    async |app: &TestApp| {
        // Thursday 2026-12-10, 10:00 in New York.
        app.clock.set("2026-12-10T15:00:00Z".parse().unwrap());
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap().to_string();
        let list = clocks(app, &r).await;
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0]["name"].as_str(), list[0]["state"].as_str()),
            (Some("resolution_target"), Some("running"))
        );
        // 30 business days, past Christmas, New Year's Day and Martin Luther King Jr. Day.
        assert_eq!(list[0]["due_at"], "2027-01-26T22:00:00Z");
        let path = format!("/api/v1/cases/{r}/status");
        let status = |to: &'static str| {
            app.req(Role::Agent, reqwest::Method::POST, &path)
                .json(&json!({"status": to}))
                .send()
        };
        assert_eq!(status("pending_company").await.unwrap().status(), 200);
        let list = clocks(app, &r).await;
        assert_eq!(list[1]["name"], "company_response");
        assert_eq!(list[1]["state"], "running");
        // 15 calendar days lands on Christmas, so it moves to Monday the 28th, 17:00 EST.
        assert_eq!(list[1]["due_at"], "2026-12-28T22:00:00Z");
        assert_eq!(list[1]["started_at"], "2026-12-10T15:00:00Z");

        // The company answers the next day; waiting on the consumer pauses the office's target.
        app.clock.set("2026-12-11T15:00:00Z".parse().unwrap());
        assert_eq!(status("pending_consumer").await.unwrap().status(), 200);
        let list = clocks(app, &r).await;
        assert_eq!(
            (list[0]["state"].as_str(), list[1]["state"].as_str()),
            (Some("paused"), Some("met"))
        );
        // Two days later the case goes back to the company: the target resumes two days later.
        app.clock.set("2026-12-13T15:00:00Z".parse().unwrap());
        assert_eq!(status("pending_company").await.unwrap().status(), 200);
        let list = clocks(app, &r).await;
        assert_eq!(list.len(), 3);
        assert_eq!(
            (list[0]["state"].as_str(), list[0]["due_at"].as_str()),
            (Some("running"), Some("2027-01-28T22:00:00Z"))
        );
        assert_eq!(
            (list[2]["name"].as_str(), list[2]["due_at"].as_str()),
            (Some("company_response"), Some("2026-12-28T22:00:00Z"))
        );

        // Overdue while nobody acts, and a late answer ends it as missed.
        app.clock.set("2026-12-31T15:00:00Z".parse().unwrap());
        assert_eq!(clocks(app, &r).await[2]["state"], "missed");
        assert_eq!(status("open").await.unwrap().status(), 200);
        let list = clocks(app, &r).await;
        assert_eq!(list[2]["state"], "missed");
        assert!(list[2]["stopped_at"].is_string());
        // Resolving it in time meets the office's target.
        assert_eq!(status("resolved").await.unwrap().status(), 200);
        assert_eq!(clocks(app, &r).await[0]["state"], "met");
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let events: Vec<&str> = timeline
            .iter()
            .filter_map(|e| e["data"]["event"].as_str())
            .filter(|e| e.starts_with("clock_"))
            .collect();
        assert_eq!(
            events,
            vec![
                "clock_started",
                "clock_started",
                "clock_stopped",
                "clock_paused",
                "clock_resumed",
                "clock_started",
                "clock_stopped",
                "clock_stopped"
            ]
        );
    }
);

both_stores!(
    foil_requests_get_five_business_days,
    async |app: &TestApp| {
        // Wednesday 2026-11-25: Thanksgiving (26th) and the weekend do not count.
        app.clock.set("2026-11-25T16:00:00Z".parse().unwrap());
        let mut body = minimal_body();
        body["kind"] = json!("foil_request");
        body["channel"] = json!("email");
        let c = app.create_case(&body).await;
        let r = c["reference"].as_str().unwrap();
        let list = clocks(app, r).await;
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0]["name"].as_str(), list[0]["source"].as_str()),
            (Some("foil_first_response"), Some("C30"))
        );
        // 27 (Fri), 30, Dec 1, 2, 3 → Thursday 2026-12-03 at 17:00 EST.
        assert_eq!(list[0]["due_at"], "2026-12-03T22:00:00Z");
        // An office closure moves it.
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
        let mut body2 = body.clone();
        body2["description"] = json!("Second request");
        let c2 = app.create_case(&body2).await;
        assert_eq!(
            clocks(app, c2["reference"].as_str().unwrap()).await[0]["due_at"],
            "2026-12-04T22:00:00Z"
        );
        // Acknowledging it (leaving "new") meets it; closing stops what is left.
        app.post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/status"),
            &json!({"status": "open"}),
        )
        .await;
        assert_eq!(clocks(app, r).await[0]["state"], "met");
        let r2 = c2["reference"].as_str().unwrap();
        app.post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r2}/status"),
            &json!({"status": "closed"}),
        )
        .await;
        assert_eq!(
            clocks(app, r2).await[0]["state"],
            "met",
            "closing is also a response"
        );
        // My work lists what is due today or overdue on my cases.
        let mut body3 = body.clone();
        body3["description"] = json!("Third request");
        let c3 = app.create_case(&body3).await;
        let r3 = c3["reference"].as_str().unwrap().to_string();
        app.post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{r3}/assignment"),
            &json!({"assignee": "agent"}),
        )
        .await;
        app.clock.set("2026-12-04T23:00:00Z".parse().unwrap());
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
            home.contains(&format!("href=\"/cases/{r3}\"")) && home.contains("Overdue since"),
            "{home}"
        );
        // Company users see clocks only on their own cases.
        assert_eq!(
            app.get(Role::Company, &format!("/api/v1/cases/{r}/clocks"))
                .await
                .status(),
            404
        );
    }
);

both_stores!(
    due_soon_warnings_and_missed_deadline_escalations_happen_once,
    async |app: &TestApp| {
        use jiff::SignedDuration;
        app.clock.set("2026-12-10T15:00:00Z".parse().unwrap());
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap().to_string();
        app.post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/status"),
            &json!({"status": "pending_company"}),
        )
        .await;
        // company_response is due 2026-12-28 22:00Z; resolution_target 2027-01-26.
        let day = SignedDuration::from_hours(24);
        let sweep = |at: &'static str| {
            let store = app.store.clone();
            async move {
                store
                    .sweep_clocks(at.parse().unwrap(), day, 100)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(sweep("2026-12-20T15:00:00Z").await, (0, 0));
        assert_eq!(
            sweep("2026-12-28T00:00:00Z").await,
            (1, 0),
            "within a day of the company's deadline"
        );
        assert_eq!(sweep("2026-12-28T01:00:00Z").await, (0, 0), "warned once");
        assert_eq!(
            sweep("2026-12-29T15:00:00Z").await,
            (0, 1),
            "missed: escalated"
        );
        assert_eq!(
            sweep("2026-12-30T15:00:00Z").await,
            (0, 0),
            "escalated once"
        );
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["priority"], "high");
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let events: Vec<&str> = timeline
            .iter()
            .filter_map(|e| e["data"]["event"].as_str())
            .filter(|e| *e == "clock_due_soon" || *e == "clock_escalated")
            .collect();
        assert_eq!(events, vec!["clock_due_soon", "clock_escalated"]);
        let trail: Vec<Value> = app
            .get(Role::Supervisor, &format!("/api/v1/cases/{r}/audit"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            trail
                .iter()
                .any(|a| a["action"] == "case.escalate" && a["actor"] == "system")
        );
        // A paused clock is neither warned about nor escalated.
        app.clock.set("2027-01-20T15:00:00Z".parse().unwrap());
        app.post_json(
            Role::Agent,
            &format!("/api/v1/cases/{r}/status"),
            &json!({"status": "pending_consumer"}),
        )
        .await;
        assert_eq!(sweep("2027-02-20T15:00:00Z").await, (0, 0));
        assert!(matches!(
            app.store.verify_audit().await.unwrap(),
            redress_store::AuditVerdict::Intact { .. }
        ));
    }
);
