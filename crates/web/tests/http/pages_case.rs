//! The case page: actions that write the timeline, linking, merging, search, and what a
//! company user or an analyst sees there.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

both_stores!(
    case_page_actions_write_the_timeline,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let c = app.create_case(&body).await;
        let reference = c["reference"].as_str().unwrap();
        let b = logged_in(app, "senior.agent").await;
        let (status, html) = page(&b, app, &format!("/cases/{reference}")).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("Case {reference}")) && html.contains("Ana Díaz"));
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/note"),
            &[
                ("csrf", &token),
                ("body", "Called the company"),
                ("visibility", "internal"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/note"),
            &[("csrf", &token), ("body", ""), ("visibility", "internal")],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("href=\"#body\""));
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/call"),
            &[
                ("csrf", &token),
                ("direction", "outbound"),
                ("call_length", "4"),
                ("call_body", "Left a message"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/assign"),
            &[("csrf", &token), ("unit", "HOTLINE"), ("assignee", "agent")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/status"),
            &[
                ("csrf", &token),
                ("status", "pending_company"),
                ("reason", "Referred"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/status"),
            &[("csrf", &token), ("status", "new")],
        )
        .await;
        assert_eq!(r.status(), 409, "not an allowed move");
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/note"),
            &[("body", "no token"), ("visibility", "internal")],
        )
        .await;
        assert_eq!(r.status(), 403);
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let timeline: Vec<Value> = timeline
            .into_iter()
            .filter(|e| {
                !e["data"]["event"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("clock_")
            })
            .collect();
        let types: Vec<&str> = timeline
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            vec![
                "system_event",
                "email",
                "note",
                "call",
                "assignment",
                "status_change",
                "letter",
                "email"
            ]
        );
        // The referral letter to the company, and the update telling the consumer of it.
        assert_eq!(timeline[7]["data"]["notice"], "referred_update");
        assert_eq!(timeline[6]["data"]["letter"], "referral_to_company");
        let letter = timeline[6]["body"].as_str().unwrap();
        assert!(
            !letter.contains("disputes") && !letter.contains("$0.00"),
            "no amount in dispute, no word of one: {letter}"
        );
        assert_eq!(timeline[3]["data"]["duration_seconds"], 240);
        let (_, notes) = page(&b, app, &format!("/cases/{reference}?filter=notes")).await;
        assert!(notes.contains("Called the company") && !notes.contains("Left a message"));
        // Supervisors see who viewed the case; agents do not.
        let sup = logged_in(app, "supervisor").await;
        let (_, html) = page(&sup, app, &format!("/cases/{reference}")).await;
        assert!(
            html.contains("Who viewed or changed this case") && html.contains("Viewed the case")
        );
        assert!(
            !html.contains("case.view") && html.contains("<td>Test senior_agent</td>"),
            "names, not codes"
        );
        // A trail longer than a page says so and pages; one view is one row.
        for _ in 0..60 {
            app.get(Role::Auditor, &format!("/api/v1/cases/{reference}"))
                .await;
        }
        let (_, html) = page(&sup, app, &format!("/cases/{reference}")).await;
        let trail = html.split("id=\"audit-title\"").nth(1).unwrap();
        assert!(trail.contains("Page 1 of 2"), "{trail}");
        assert!(trail.contains(&format!(
            "href=\"/cases/{reference}?audit_page=2#audit-title\""
        )));
        let (_, html) = page(&sup, app, &format!("/cases/{reference}?audit_page=2")).await;
        let trail = html.split("id=\"audit-title\"").nth(1).unwrap();
        assert!(
            trail.contains("Page 2 of 2") && trail.contains("Opened the case"),
            "{trail}"
        );
        let agent = logged_in(app, "agent").await;
        let (_, html) = page(&agent, app, &format!("/cases/{reference}")).await;
        assert!(!html.contains("Who viewed or changed this case"));
        // Attach a file from the case page; a refused type comes back next to the field.
        let attach = |bytes: Vec<u8>, name: &'static str, with_token: bool| {
            let mut form = reqwest::multipart::Form::new()
                .text("file_visibility", "internal")
                .text("note", "Bill copy");
            if with_token {
                form = form.text("csrf", token.clone());
            }
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
            b.post(app.url(&format!("/cases/{reference}/attachments")))
                .multipart(form)
                .send()
        };
        let r = attach(b"\x7fELF\x02\x01\x01".to_vec(), "tool.pdf", true)
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("href=\"#file\"") && html.contains("Only PDF, images"));
        let r = attach(crate::files::PDF.to_vec(), "bill.pdf", false)
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.count("attachments").await, 0);
        let r = attach(crate::files::PDF.to_vec(), "bill.pdf", true)
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, &format!("/cases/{reference}")).await;
        assert!(
            html.contains(&format!("/cases/{reference}/attachments/")) && html.contains("bill.pdf")
        );
        // The search box finds a case by phone and by reference.
        let (_, found) = page(&agent, app, "/search?q=518-555-0100").await;
        assert!(found.contains(reference));
        let r = agent
            .get(app.url(&format!("/search?q={}", reference.to_lowercase())))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("/cases/{reference}")
        );
    }
);

both_stores!(
    link_merge_search_and_session_extension_from_pages,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = serde_json::json!(app.company_id);
        body["description"] = serde_json::json!("Meter 100% wrong since the estimated_read in May");
        let a = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let b_ref = app.create_case(&minimal_body()).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let sup = logged_in(app, "supervisor").await;
        let (_, html) = page(&sup, app, &format!("/cases/{a}")).await;
        let token = csrf(&html);
        let r = post(
            &sup,
            app,
            &format!("/cases/{a}/link"),
            &[
                ("csrf", &token),
                ("target", "NYC-2026-999999"),
                ("link_kind", "related"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("No case has that reference.")
        );
        let r = post(
            &sup,
            app,
            &format!("/cases/{a}/link"),
            &[("csrf", &token), ("target", &a), ("link_kind", "related")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &sup,
            app,
            &format!("/cases/{a}/link"),
            &[
                ("csrf", &token),
                ("target", &b_ref.to_lowercase()),
                ("link_kind", "related"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = post(
            &sup,
            app,
            &format!("/cases/{a}/link"),
            &[
                ("csrf", &token),
                ("target", &b_ref),
                ("link_kind", "related"),
            ],
        )
        .await;
        assert_eq!(r.status(), 409);
        let r = post(
            &sup,
            app,
            &format!("/cases/{b_ref}/merge"),
            &[("csrf", &token), ("into", &a)],
        )
        .await;
        assert_eq!(r.status(), 303);
        let merged: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{b_ref}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (merged["status"].as_str(), merged["merged_into"].as_str()),
            (Some("merged"), Some(a.as_str()))
        );
        // Agents may link but not merge.
        let agent = logged_in(app, "agent").await;
        let (_, html) = page(&agent, app, &format!("/cases/{a}")).await;
        assert!(html.contains("/link\"") && !html.contains("/merge\""));

        // Search by a consumer's name, a company's name and words of the description; % is literal.
        for (q, expect) in [
            ("díaz", true),
            ("consolidated", true),
            ("estimated_read", true),
            ("100%", true),
            ("1000%", false),
            ("nobody at all", false),
        ] {
            let (_, html) = page(
                &agent,
                app,
                &format!("/search?q={}", q.replace('%', "%25").replace(' ', "+")),
            )
            .await;
            assert_eq!(
                html.contains(&format!("href=\"/cases/{a}\"")),
                expect,
                "search {q}"
            );
        }

        // The session can be extended before it ends.
        let (_, html) = page(&agent, app, "/").await;
        let token = csrf(&html);
        let at = html.find("data-expires=\"").unwrap() + "data-expires=\"".len();
        let expires: i64 = html[at..].split('"').next().unwrap().parse().unwrap();
        app.clock.advance(jiff::SignedDuration::from_hours(7));
        let r = agent
            .post(app.url("/session/extend"))
            .header("accept", "application/json")
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let j: Value = r.json().await.unwrap();
        assert_eq!(j["expires_ms"].as_i64().unwrap(), expires + 7 * 3600 * 1000);
        app.clock.advance(jiff::SignedDuration::from_hours(2));
        assert_eq!(
            page(&agent, app, "/").await.0,
            200,
            "still signed in after the original end"
        );
        let r = agent
            .post(app.url("/session/extend"))
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
);

both_stores!(
    a_company_users_case_page_shows_no_internal_text,
    async |app: &TestApp| {
        let mut elsewhere = minimal_body();
        elsewhere["consumer"]["account_number"] = json!("NG-9999");
        let other = app.create_case(&elsewhere).await;
        let other_ref = other["reference"].as_str().unwrap().to_string();
        let mine = app
            .create_case(&json!({"kind": "complaint", "channel": "phone",
                "description": "Billed twice", "consumer_id": other["consumer_id"],
                "consumer": {"account_number": "CE-1234"}, "company_id": app.company_id}))
            .await;
        let r = mine["reference"].as_str().unwrap().to_string();
        let resp = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/links"),
                &json!({"target": other_ref, "kind": "related"}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        for (transition, fields) in [
            ("refer_to_company", json!({})),
            ("open_investigation", json!({"reason": "STAFF-ONLY reason"})),
        ] {
            let resp = app
                .post_json(
                    Role::Agent,
                    &format!("/api/v1/cases/{r}/transitions"),
                    &json!({"transition": transition, "fields": fields}),
                )
                .await;
            assert_eq!(resp.status(), 200, "{transition}");
        }
        let b = logged_in(app, "company").await;
        let (status, html) = page(&b, app, &format!("/cases/{r}")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("CE-1234") || html.contains("Billed twice"),
            "{html}"
        );
        for f in ["STAFF-ONLY", "NG-9999", other_ref.as_str()] {
            assert!(!html.contains(f), "the company's page shows {f}");
        }
        let agent = logged_in(app, "agent").await;
        let (_, html) = page(&agent, app, &format!("/cases/{r}")).await;
        assert!(html.contains(other_ref.as_str()), "staff see the link");
    }
);

both_stores!(
    an_analysts_case_page_is_an_audited_view,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap();
        let b = logged_in(app, "analyst").await;
        let (status, _) = page(&b, app, &format!("/cases/{r}")).await;
        assert_eq!(status, 200);
        let views: Vec<String> = app
            .store
            .audit_for_subject(r, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "case.view")
            .map(|a| a.actor)
            .collect();
        assert_eq!(views, vec!["analyst".to_string()]);
    }
);

both_stores!(
    the_case_page_shows_the_consumers_other_cases,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let first = app.create_case(&body).await;
        let first_ref = first["reference"].as_str().unwrap().to_string();
        let mut again = body.clone();
        again["consumer_id"] = first["consumer_id"].clone();
        let second = app.create_case(&again).await;
        let second_ref = second["reference"].as_str().unwrap().to_string();
        let b = logged_in(app, "agent").await;
        let (status, html) = page(&b, app, &format!("/cases/{second_ref}?lang=en")).await;
        assert_eq!(status, 200);
        let section = &html[html.find("id=\"other-cases-title\"").expect("the list")..];
        let section = &section[..section.find("</div>").unwrap()];
        assert!(
            section.contains(&format!("/cases/{first_ref}")) && !section.contains(&second_ref),
            "{section}"
        );
        // A company's representative does not get the consumer's other cases.
        let b = logged_in(app, "company").await;
        let (status, html) = page(&b, app, &format!("/cases/{second_ref}?lang=en")).await;
        assert_eq!(status, 200, "the company sees its own case");
        assert!(!html.contains("other-cases-title"));
    }
);

both_stores!(
    a_required_choice_is_never_answered_in_advance,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let c = app.create_case(&body).await;
        let reference = c["reference"].as_str().unwrap().to_string();
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{reference}/transitions"),
                &json!({"transition": "refer_to_company"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, &format!("/cases/{reference}?lang=en")).await;
        // The company's response asks whether the termination hold was acknowledged: the form
        // starts with no answer chosen, and says the question must be answered.
        let at = html
            .find("name=\"fields.hold_acknowledged\"")
            .expect("the question");
        let select = &html[at..at + html[at..].find("</select>").unwrap()];
        assert!(select.contains("required"), "{select}");
        assert!(
            select.contains("<option value=\"\" selected>Choose an answer</option>"),
            "{select}"
        );
        assert_eq!(select.matches(" selected").count(), 1, "{select}");
        // Sending the form untouched names the unanswered question and changes nothing.
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/transition"),
            &[
                ("csrf", &token),
                ("transition", "record_company_response"),
                ("fields.hold_acknowledged", ""),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        // The error summary names the question as the form does, not by its key.
        let html = r.text().await.unwrap();
        let summary = &html[html.find("error-summary-title").expect("a summary")..];
        let summary = &summary[..summary.find("</ul>").unwrap()];
        assert!(
            summary.contains("Termination hold on the disputed amount acknowledged:"),
            "{summary}"
        );
        assert!(!summary.contains(">hold acknowledged"), "{summary}");
        let case: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["stage"], "referred_to_company");
    }
);
