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
