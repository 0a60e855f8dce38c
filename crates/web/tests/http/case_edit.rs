//! Correcting a case after it was opened (its details, its consumer's contact details) from the
//! case page and the API, with the version protection of `If-Match`, audited; and a timeline
//! that reads newest first, in words, with system events folded.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

both_stores!(
    the_case_page_corrects_a_case_and_its_consumer,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap().to_string();
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, &format!("/cases/{reference}")).await;
        let token = csrf(&html);
        // The forms start from what is on file.
        assert!(html.contains("id=\"edit\"") && html.contains("id=\"edit-consumer\""));
        assert!(html.contains("value=\"Ana Díaz\"") && html.contains("value=\"518-555-0100\""));

        // A bad amount and an empty description are named; nothing changes.
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/edit"),
            &[
                ("csrf", &token),
                ("version", "1"),
                ("form", "edit"),
                ("priority", "high"),
                ("company_id", ""),
                ("category", ""),
                ("amount_in_dispute", "12.345"),
                ("account_number", ""),
                ("description", " "),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("href=\"#amount_in_dispute\"") && html.contains("href=\"#description\"")
        );
        assert!(
            html.contains("<details id=\"edit\" open>"),
            "the failed form stays open"
        );
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["version"], 1);
        assert_eq!(case["priority"], "normal");

        // A good correction: company, category, amount, priority, a flag, description.
        let company = app.company_id.to_string();
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/edit"),
            &[
                ("csrf", &token),
                ("version", "1"),
                ("form", "edit"),
                ("priority", "high"),
                ("flag.legislative", "1"),
                ("company_id", &company),
                ("category", "Energy > Electric > Billing"),
                ("amount_in_dispute", "45.00"),
                ("account_number", "ACCT-99"),
                ("description", "Billed twice for October and November"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["version"], 2);
        assert_eq!(case["priority"], "high");
        assert_eq!(case["flags"], json!(["legislative"]));
        assert_eq!(case["company"]["name"], "Consolidated Edison");
        assert_eq!(case["amount_in_dispute"], "45.00");
        assert_eq!(case["account_number"], "ACCT-99");

        // The same page posted again (version 1) is stale: nothing is overwritten.
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/edit"),
            &[
                ("csrf", &token),
                ("version", "1"),
                ("form", "edit"),
                ("priority", "low"),
                ("description", "Something else"),
            ],
        )
        .await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            app.get(Role::Agent, &format!("/api/v1/cases/{reference}"))
                .await
                .json::<Value>()
                .await
                .unwrap()["priority"],
            "high"
        );

        // The consumer's contact details: a bad email is named; then a correction.
        let consumer = [
            ("csrf", token.as_str()),
            ("version", "2"),
            ("form", "consumer"),
            ("consumer.name", "Ana M. Díaz"),
            ("consumer.phone", "518 555 0199"),
            ("consumer.email", "not-an-email"),
            ("consumer.preferred_language", "es"),
            ("consumer.address.line1", "12 Elm St"),
            ("consumer.address.city", "Albany"),
            ("consumer.address.state", "NY"),
            ("consumer.address.zip", "12207"),
        ];
        let r = post(&b, app, &format!("/cases/{reference}/consumer"), &consumer).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("href=\"#consumer-email\""));
        let mut good = consumer.to_vec();
        good.retain(|(k, _)| *k != "consumer.email");
        let r = post(&b, app, &format!("/cases/{reference}/consumer"), &good).await;
        assert_eq!(r.status(), 303);
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["version"], 3);
        assert_eq!(case["consumer"]["name"], "Ana M. Díaz");
        assert_eq!(case["consumer"]["phone"], "518-555-0199");
        assert_eq!(
            case["consumer"]["email"],
            Value::Null,
            "an empty email is cleared"
        );
        assert_eq!(case["consumer"]["address"]["city"], "Albany");

        // Both are audited, with the consumer's old and new values on its own chain.
        let audit = app
            .sql_texts("SELECT action || ' ' || detail FROM audit_log ORDER BY id")
            .await;
        assert!(
            audit.iter().any(|a| a.starts_with("case.update ")),
            "{audit:?}"
        );
        let update = audit
            .iter()
            .find(|a| a.starts_with("consumer.update "))
            .expect("consumer.update");
        assert!(
            update.contains("ana@example.org") && update.contains("Ana M. Díaz"),
            "{update}"
        );
        assert!(
            audit
                .iter()
                .any(|a| a.starts_with("case.consumer.correct "))
        );
        let verify: Value = app
            .get(Role::Auditor, "/api/v1/audit/verify")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(verify["intact"], true, "{verify}");

        // The timeline tells both in words, newest first.
        let (_, html) = page(&b, app, &format!("/cases/{reference}")).await;
        let timeline = html.split("id=\"timeline\"").nth(1).unwrap();
        let consumer_at = timeline
            .find("The consumer&#39;s details corrected: name, phone, email, street address, city, state, ZIP code")
            .unwrap_or_else(|| panic!("{timeline}"));
        let case_at = timeline.find("Case corrected:").unwrap();
        let opened_at = timeline.find("Case opened: Complaint, Phone").unwrap();
        assert!(consumer_at < case_at && case_at < opened_at, "newest first");
        assert!(!timeline.contains("company_id") && !timeline.contains("resolution_target"));
        assert!(timeline.contains("Deadline started: Resolution target"));
    }
);

both_stores!(
    the_api_corrects_a_consumer_under_if_match,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap().to_string();
        let path = format!("/api/v1/cases/{reference}/consumer");
        let body =
            json!({"name": "Ana Díaz Ruiz", "phone": "518-555-0100", "email": "ana@example.org"});
        let r = app
            .req(Role::Agent, reqwest::Method::PUT, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 428, "If-Match is required");
        let r = app
            .req(Role::Agent, reqwest::Method::PUT, &path)
            .header("If-Match", "\"7\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 412);
        let r = app
            .req(Role::Agent, reqwest::Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"name": "", "account_number": "X-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["consumer.account_number", "consumer.name"], "{p}");
        let r = app
            .req(Role::Company, reqwest::Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "companies do not correct consumers");
        let r = app
            .req(Role::Agent, reqwest::Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["etag"], "\"2\"");
        let case: Value = r.json().await.unwrap();
        assert_eq!(case["consumer"]["name"], "Ana Díaz Ruiz");
        assert_eq!(
            case["consumer"]["preferred_language"], "es",
            "kept when not given"
        );
    }
);
