//! The right process for each case: a utility's customer follows the utility complaint, a
//! complaint about anyone else the general one, a question to an insurer the insurance inquiry
//! and any other question the general one; staff may name the lifecycle; the case says which.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::{Value, json};

both_stores!(
    each_case_follows_the_process_its_company_or_category_calls_for,
    async |app: &TestApp| {
        let open = |body: Value| async move {
            let r = app.post_json(Role::Agent, "/api/v1/cases", &body).await;
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        };
        let mut utility = minimal_body();
        utility["company_id"] = json!(app.company_id);
        let (_, c) = open(utility).await;
        assert_eq!(
            (c["lifecycle"].as_str(), c["stage"].as_str()),
            (Some("utility_complaint"), Some("received"))
        );

        // A credit report: no company on file, a consumer-finance category.
        app.post_json(
            Role::Admin,
            "/api/v1/categories",
            &json!({"path": ["Credit reporting", "Incorrect information on your report"]}),
        )
        .await;
        let mut credit = minimal_body();
        credit["category"] = json!("Credit reporting > Incorrect information on your report");
        credit["amount_in_dispute"] = json!("0.00");
        let (_, c) = open(credit).await;
        assert_eq!(c["lifecycle"], "general_complaint");
        let r = c["reference"].as_str().unwrap().to_string();
        let l: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/lifecycle"))
            .await
            .json()
            .await
            .unwrap();
        let steps: Vec<&str> = l["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            steps.contains(&"send_to_business") && !steps.contains(&"refer_to_company"),
            "{steps:?}"
        );
        let sent = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/transitions"),
                &json!({"transition": "send_to_business"}),
            )
            .await;
        assert_eq!(sent.status(), 200);
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let letter = timeline
            .iter()
            .find(|e| e["type"] == "letter")
            .expect("the letter to the business");
        let body = letter["body"].as_str().unwrap();
        assert!(
            !body.contains("terminated") && !body.contains("$0.00") && !body.contains("disputes"),
            "{body}"
        );

        // Questions: to an insurer, or anyone else's (no claimant-or-policyholder question).
        let mut question = minimal_body();
        question["kind"] = json!("inquiry");
        question["description"] = json!("What are the office's hours?");
        let (_, c) = open(question.clone()).await;
        assert_eq!(c["lifecycle"], "general_inquiry");
        let insurer = app
            .post_json(
                Role::Admin,
                "/api/v1/companies",
                &json!({"name": "State Insurance Fund", "industry": "Insurance"}),
            )
            .await
            .json::<Value>()
            .await
            .unwrap();
        question["company_id"] = insurer["id"].clone();
        let (_, c) = open(question.clone()).await;
        assert_eq!(c["lifecycle"], "insurance_inquiry");

        // Staff may name it; it must be one of the kind's.
        question["lifecycle"] = json!("utility_complaint");
        let (status, p) = open(question.clone()).await;
        assert_eq!(status, 422);
        assert_eq!(p["errors"][0]["field"], "lifecycle");
        question["lifecycle"] = json!("general_inquiry");
        let (status, c) = open(question).await;
        assert_eq!(
            (status, c["lifecycle"].as_str()),
            (201, Some("general_inquiry"))
        );
    }
);

both_stores!(
    staff_change_the_process_while_the_case_is_new,
    async |app: &TestApp| {
        // A complaint about a bank filed under a utility's category by mistake.
        let mut body = minimal_body();
        body["category"] = json!("Energy > Electric > Billing");
        let c = app.create_case(&body).await;
        assert_eq!(c["lifecycle"], "utility_complaint");
        let r = c["reference"].as_str().unwrap().to_string();
        let path = format!("/api/v1/cases/{r}/lifecycle");
        let change = |v: &str, body: Value| {
            app.req(Role::Agent, reqwest::Method::POST, &path)
                .header("If-Match", format!("\"{v}\""))
                .json(&body)
                .send()
        };
        let no_match = app
            .req(Role::Agent, reqwest::Method::POST, &path)
            .json(&json!({"lifecycle": "general_complaint"}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_match.status(), 428);
        let wrong = change("1", json!({"lifecycle": "general_inquiry"}))
            .await
            .unwrap();
        assert_eq!(
            wrong.status(),
            422,
            "an inquiry's lifecycle is not a complaint's"
        );
        let company = app
            .req(Role::Company, reqwest::Method::POST, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"lifecycle": "general_complaint"}))
            .send()
            .await
            .unwrap();
        assert_eq!(company.status(), 403);

        // From the case page: the choice is offered while the case is new.
        let b = crate::pages::logged_in(app, "agent").await;
        let (_, html) = crate::pages::page(&b, app, &format!("/cases/{r}")).await;
        assert!(
            html.contains("action=\"/cases/") && html.contains("/lifecycle\""),
            "{html}"
        );
        let token = crate::pages::csrf(&html);
        let resp = crate::pages::post(
            &b,
            app,
            &format!("/cases/{r}/lifecycle"),
            &[
                ("csrf", &token),
                ("version", "1"),
                ("lifecycle", "general_complaint"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 303);
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                case["lifecycle"].as_str(),
                case["stage"].as_str(),
                case["version"].as_i64()
            ),
            (Some("general_complaint"), Some("received"), Some(2))
        );
        // The old clocks stopped, the new ones run; the timeline says so in words.
        let clocks: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/clocks"))
            .await
            .json()
            .await
            .unwrap();
        let running: Vec<&str> = clocks
            .iter()
            .filter(|k| k["state"] == "running")
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        assert_eq!(running, ["resolution_target"], "{clocks:?}");
        assert_eq!(clocks.iter().filter(|k| k["state"] == "stopped").count(), 1);
        let (_, html) = crate::pages::page(&b, app, &format!("/cases/{r}")).await;
        assert!(
            html.contains("Process changed to Consumer complaint about a business"),
            "{html}"
        );

        // Once the case has moved on, its process stays.
        let sent = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/transitions"),
                &json!({"transition": "send_to_business"}),
            )
            .await;
        assert_eq!(sent.status(), 200);
        let late = change("3", json!({"lifecycle": "utility_complaint"}))
            .await
            .unwrap();
        assert_eq!(late.status(), 409);
        let audit = app
            .sql_texts("SELECT action FROM audit_log ORDER BY id")
            .await;
        assert!(audit.contains(&"case.lifecycle".to_string()));
    }
);
