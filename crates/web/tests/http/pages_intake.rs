//! The intake pages: a new case taken by staff, errors next to fields, and oversized text
//! and files refused without storing anything.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::Value;

both_stores!(
    intake_takes_a_repeat_caller_and_shows_errors_next_to_fields,
    async |app: &TestApp| {
        let first = app.create_case(&minimal_body()).await;
        let b = logged_in(app, "agent").await;
        let (status, html) = page(&b, app, "/cases/new").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Electric") && html.contains("Billing"),
            "category picker lists the tree"
        );
        assert!(
            html.contains("Consolidated Edison"),
            "company picker lists companies"
        );
        let token = csrf(&html);
        let before = app.count("cases").await;
        // Missing name, bad email: the form comes back with both errors and nothing is stored.
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("channel", "phone"),
                ("consumer.email", "not-an-email"),
                ("description", "x"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"error-summary\""));
        assert!(
            html.contains("href=\"#consumer-email\"") && html.contains("href=\"#consumer-name\"")
        );
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"consumer-email-error\""));
        assert!(
            html.contains("value=\"not-an-email\""),
            "typed values are kept"
        );
        assert_eq!(app.count("cases").await, before);
        // Without the form token nothing is stored either.
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("kind", "complaint"),
                ("channel", "phone"),
                ("consumer.name", "Ana Díaz"),
                ("consumer.phone", "518-555-0100"),
                ("description", "Billed twice"),
            ],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert_eq!(app.count("cases").await, before);
        // The repeat caller whom the agent chose from the list: her record; the call length goes
        // on the timeline.
        let first_consumer = first["consumer_id"].to_string();
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("channel", "phone"),
                ("consumer_id", &first_consumer),
                ("consumer_chosen_name", "Ana Díaz"),
                ("consumer.name", "Ana Díaz"),
                ("consumer.phone", "(518) 555-0100"),
                ("consumer.preferred_language", "es"),
                ("company_id", &app.company_id.to_string()),
                ("category", "Energy > Electric > Billing"),
                ("amount_in_dispute", "84.10"),
                ("description", "Billed again for October"),
                ("call_length", "3:05"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let reference = location.trim_start_matches("/cases/").to_string();
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["consumer_id"], first["consumer_id"]);
        assert_eq!(case["assignee"], "agent");
        assert_eq!(case["amount_in_dispute"], "84.10");
        let (status, html) = page(&b, app, &location).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Case opened") && html.contains("3 min 5 s"),
            "call logged with its length"
        );
        // The same caller again, about that case: "Add this call to case …" puts the call on its
        // timeline and opens nothing new; a call length that is not one is named.
        let cases_before = app.count("cases").await;
        let again = [
            ("csrf", token.as_str()),
            ("kind", "complaint"),
            ("channel", "phone"),
            ("consumer_id", first_consumer.as_str()),
            ("consumer.name", "Ana Díaz"),
            (
                "description",
                "Calling back: the company has not called her",
            ),
            ("call_length", "2:75"),
            ("add_to", reference.as_str()),
        ];
        let r = post(&b, app, "/cases/new", &again).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("href=\"#call_length\""));
        let mut again = again.to_vec();
        again.retain(|(k, _)| *k != "call_length");
        again.push(("call_length", "2:30"));
        let r = post(&b, app, "/cases/new", &again).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("/cases/{reference}#timeline")
        );
        assert_eq!(app.count("cases").await, cases_before, "no new case");
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let call = timeline.last().unwrap();
        assert_eq!(call["type"], "call");
        assert_eq!(call["body"], "Calling back: the company has not called her");
        assert_eq!(call["data"]["duration_seconds"], 150);
        // A caller with the same phone whom the agent did not choose gets a record of their own,
        // with exactly what was typed; the case page offers the two records as possibly one
        // person, and the agent decides.
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("channel", "phone"),
                ("consumer.name", "Pat Díaz"),
                ("consumer.phone", "518-555-0100"),
                ("consumer.email", "pat@example.org"),
                ("description", "My own bill"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let pat_location = r.headers()["location"].to_str().unwrap().to_string();
        let pat_case: Value = app
            .get(
                Role::Agent,
                &format!("/api/v1/{}", pat_location.trim_start_matches('/')),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(pat_case["consumer_id"], first["consumer_id"]);
        assert_eq!(pat_case["consumer"]["name"], "Pat Díaz");
        assert_eq!(pat_case["consumer"]["email"], "pat@example.org");
        let (_, html) = page(&b, app, &pat_location).await;
        assert!(
            html.contains("Possibly the same person") && html.contains("Ana Díaz"),
            "{html}"
        );
        let merge_token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("{pat_location}/consumer-merge"),
            &[("csrf", &merge_token), ("other", &first_consumer)],
        )
        .await;
        assert_eq!(r.status(), 303);
        let pat_case: Value = app
            .get(
                Role::Agent,
                &format!("/api/v1/{}", pat_location.trim_start_matches('/')),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            pat_case["consumer_id"], first["consumer_id"],
            "merged into the older record"
        );
        let (_, html) = page(&b, app, &pat_location).await;
        assert!(!html.contains("Possibly the same person"));
        // Without JavaScript: find the person, then "New case for this person" chooses them.
        let (_, html) = page(&b, app, "/search?q=518-555-0100").await;
        let link = format!("/cases/new?consumer_id={first_consumer}");
        assert!(html.contains(&link), "{html}");
        let (status, html) = page(&b, app, &link).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!(
                "name=\"consumer_id\" id=\"consumer_id\" value=\"{first_consumer}\""
            )) && html.contains("Filing for the person on file"),
            "{html}"
        );
        assert!(!html.contains("id=\"consumer-chosen\" aria-live=\"polite\" hidden"));
        // An inquiry answered on the call is closed at once.
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("csrf", &token),
                ("kind", "inquiry"),
                ("channel", "walk_in"),
                ("consumer.name", "Luis Pérez"),
                ("consumer.email", "luis@example.org"),
                ("description", "Asked how to read a meter"),
                ("answered", "yes"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let reference = r.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/cases/")
            .to_string();
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["status"], "closed");
    }
);

both_stores!(
    over_long_text_and_oversized_files_through_forms_store_nothing,
    async |app: &TestApp| {
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, "/cases/new").await;
        let token = csrf(&html);
        let long = "x".repeat(20_001);
        let r = post(
            &b,
            app,
            "/cases/new",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("channel", "phone"),
                ("consumer.name", "Ana Díaz"),
                ("consumer.phone", "518-555-0100"),
                ("description", &long),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("href=\"#description\"") && html.contains("This is too long."));
        assert_eq!(app.count("cases").await, 0);

        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap();
        let (_, html) = page(&b, app, &format!("/cases/{reference}")).await;
        let token = csrf(&html);
        let big = [b"%PDF-1.4\n".as_slice(), &vec![b'a'; 70 * 1024]].concat();
        let form = reqwest::multipart::Form::new()
            .text("csrf", token.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(big).file_name("big.pdf"),
            );
        let r = b
            .post(app.url(&format!("/cases/{reference}/attachments")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("The file is too large"));
        assert_eq!(app.count("attachments").await, 0);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/note"),
            &[
                ("csrf", &token),
                ("body", &"n".repeat(50_001)),
                ("visibility", "internal"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            app.count("timeline").await,
            3,
            "the opening entry, the acknowledgement and the clock's start"
        );
    }
);
