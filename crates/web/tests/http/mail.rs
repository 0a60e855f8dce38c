//! Correspondence over HTTP and on the pages: writing to the consumer from the case page and
//! the API, and the mail page where unmatched and quarantined messages wait for a person.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

both_stores!(
    staff_write_to_the_consumer_from_the_case,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap();
        let outbox = app.count("outbox").await;
        // The page offers the form; its message goes out and is on the timeline.
        let b = logged_in(app, "agent").await;
        let (status, html) = page(&b, app, &format!("/cases/{reference}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Write to the consumer") && html.contains("ana@example.org"));
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/email"),
            &[("csrf", &token), ("subject", ""), ("email_body", "")],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("href=\"#email_body\""));
        let r = post(
            &b,
            app,
            &format!("/cases/{reference}/email"),
            &[
                ("csrf", &token),
                ("subject", ""),
                ("email_body", "Necesitamos una copia de su factura."),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.count("outbox").await, outbox + 1);
        // The API does the same, and answers with where it went.
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{reference}/emails"),
                &json!({"subject": "Su factura", "body": "Gracias."}),
            )
            .await;
        assert_eq!(r.status(), 202);
        let sent: Value = r.json().await.unwrap();
        assert_eq!(sent["to"], "ana@example.org");
        assert_eq!(sent["subject"], format!("Su factura [{reference}]"));
        let timeline: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let out: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "email" && e["data"]["direction"] == "out")
            .collect();
        assert_eq!(out.len(), 3, "the acknowledgement and the two messages");
        assert_eq!(out[1]["body"], "Necesitamos una copia de su factura.");
        assert_eq!(out[1]["data"]["subject"], format!("Su caso [{reference}]"));
        let (_, html) = page(&b, app, &format!("/cases/{reference}")).await;
        assert!(
            html.contains("To ana@example.org"),
            "the timeline says where it went"
        );

        // A company's representative may not; a case without an address cannot.
        let r = app
            .post_json(
                Role::Company,
                &format!("/api/v1/cases/{reference}/emails"),
                &json!({"body": "Hi"}),
            )
            .await;
        assert_eq!(r.status(), 403);
        let mut body = minimal_body();
        body["consumer"].as_object_mut().unwrap().remove("email");
        let other = app.create_case(&body).await;
        let r = app
            .post_json(
                Role::Agent,
                &format!(
                    "/api/v1/cases/{}/emails",
                    other["reference"].as_str().unwrap()
                ),
                &json!({"body": "Hi"}),
            )
            .await;
        assert_eq!(r.status(), 422);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "body");
        assert_eq!(problem["errors"][0]["code"], "no_email_address");
        assert_eq!(app.count("outbox").await, outbox + 2);
    }
);

both_stores!(
    unmatched_and_quarantined_mail_waits_on_the_mail_page,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let reference = c["reference"].as_str().unwrap();
        let unreadable = app
            .state
            .receive_mail(
                b"Subject: who sent this\r\n\r\nNo sender at all.\r\n",
                "pipe",
            )
            .await
            .unwrap();
        assert!(unreadable.to_string().starts_with("quarantined"));
        let bounce = "From: MAILER-DAEMON@mx.example.com\r\nReturn-Path: <>\r\nSubject: Undelivered\r\n\
                      Message-ID: <b1@mx.example.com>\r\n\r\nMessage-ID: <nothing@elsewhere>\r\n";
        app.state
            .receive_mail(bounce.as_bytes(), "pipe")
            .await
            .unwrap();

        // Agents do not see the page; supervisors do, in both languages.
        assert_eq!(
            app.get(Role::Agent, "/api/v1/mail/inbound").await.status(),
            403
        );
        let waiting: Vec<Value> = app
            .get(Role::Supervisor, "/api/v1/mail/inbound")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(waiting.len(), 2);
        let quarantined = waiting
            .iter()
            .find(|m| m["state"] == "quarantined")
            .unwrap();
        let unmatched = waiting.iter().find(|m| m["state"] == "unmatched").unwrap();
        let b = logged_in(app, "supervisor").await;
        let (status, html) = page(&b, app, "/mail").await;
        assert_eq!(status, 200);
        assert!(html.contains("who sent this") && html.contains("Waiting: quarantined"));
        let id = quarantined["id"].as_i64().unwrap();
        let (status, html) = page(&b, app, &format!("/mail/{id}?lang=es")).await;
        assert_eq!(status, 200);
        assert!(html.contains("No sender at all.") && html.contains("Archivar en este caso"));
        let token = csrf(&html);

        // Filing needs a real case; then it is on the case and waits no more.
        let r = post(
            &b,
            app,
            &format!("/mail/{id}/file"),
            &[("csrf", &token), ("reference", "NYC-2026-999999")],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &b,
            app,
            &format!("/mail/{id}/file"),
            &[("csrf", &token), ("reference", reference)],
        )
        .await;
        assert_eq!(r.status(), 303);
        let timeline: Value = app
            .get(Role::Agent, &format!("/api/v1/cases/{reference}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let filed = timeline.as_array().unwrap().last().unwrap().clone();
        assert_eq!(filed["type"], "email");
        assert_eq!(filed["visibility"], "internal");
        assert!(
            filed["body"]
                .as_str()
                .unwrap()
                .contains("No sender at all.")
        );

        // Set aside over the API; a second settling is refused.
        let other = unmatched["id"].as_i64().unwrap();
        let r = app
            .post_json(
                Role::Supervisor,
                &format!("/api/v1/mail/inbound/{other}/dismiss"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 204);
        let r = app
            .post_json(
                Role::Supervisor,
                &format!("/api/v1/mail/inbound/{other}/file"),
                &json!({"reference": reference}),
            )
            .await;
        assert_eq!(r.status(), 422);
        let waiting: Vec<Value> = app
            .get(Role::Supervisor, "/api/v1/mail/inbound")
            .await
            .json()
            .await
            .unwrap();
        assert!(waiting.is_empty());
        let all: Vec<Value> = app
            .get(Role::Supervisor, "/api/v1/mail/inbound?all=true")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            app.get(Role::Supervisor, "/api/v1/mail/inbound?all=maybe")
                .await
                .status(),
            422
        );
    }
);

/// The subjects of the messages queued for an address, oldest first.
async fn subjects_to(app: &TestApp, address: &str) -> Vec<String> {
    let all = app
        .sql_texts("SELECT recipient || ' ' || subject FROM outbox ORDER BY id")
        .await;
    all.iter()
        .filter_map(|l| l.strip_prefix(&format!("{address} ")))
        .map(str::to_string)
        .collect()
}

both_stores!(
    the_consumer_hears_of_steps_and_answers_unless_they_opt_out,
    async |app: &TestApp| {
        crate::packs::at(app, "2026-12-10T15:00:00Z").await;
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let c = app.create_case(&body).await;
        let r = c["reference"].as_str().unwrap().to_string();
        // Referred to the company: an update in Spanish with the company's deadlines.
        crate::packs::step(app, Role::Agent, &r, "refer_to_company", json!({})).await;
        let sent = subjects_to(app, "ana@example.org").await;
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent[0].starts_with("Recibimos su queja"), "{sent:?}");
        assert_eq!(
            sent[1],
            format!("Enviamos su queja {r} a Consolidated Edison")
        );
        let bodies = app.sql_texts("SELECT body FROM outbox ORDER BY id").await;
        assert!(
            bodies[1].contains("a más tardar el") && bodies[1].contains("de 2026"),
            "{}",
            bodies[1]
        );
        // The company answers on the case: the consumer hears of it.
        let r1 = app
            .post_json(
                Role::Company,
                &format!("/api/v1/cases/{r}/timeline"),
                &json!({"type": "note", "body": "We credited the account."}),
            )
            .await;
        assert_eq!(r1.status(), 201);
        let sent = subjects_to(app, "ana@example.org").await;
        assert_eq!(
            sent.last().unwrap(),
            &format!("Consolidated Edison respondió sobre su queja {r}")
        );
        // She asks for no more updates: recorded on the case; the next answer sends nothing.
        assert_eq!(
            app.post_json(
                Role::Company,
                &format!("/api/v1/cases/{r}/notices"),
                &json!({"opt_out": true})
            )
            .await
            .status(),
            403
        );
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, &format!("/cases/{r}")).await;
        assert!(html.contains("The consumer asks for no more updates"));
        let token = csrf(&html);
        let resp = post(
            &b,
            app,
            &format!("/cases/{r}/notices"),
            &[("csrf", &token), ("opt_out", "1")],
        )
        .await;
        assert_eq!(resp.status(), 303);
        let (_, html) = page(&b, app, &format!("/cases/{r}")).await;
        assert!(html.contains("only the notices the law requires are sent"));
        assert!(html.contains("The consumer asked for no email updates the law does not require"));
        let before = subjects_to(app, "ana@example.org").await.len();
        app.post_json(
            Role::Company,
            &format!("/api/v1/cases/{r}/timeline"),
            &json!({"type": "note", "body": "And sent a letter."}),
        )
        .await;
        assert_eq!(subjects_to(app, "ana@example.org").await.len(), before);
        // Back on: the next one goes out again.
        let r2 = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{r}/notices"),
                &json!({"opt_out": false}),
            )
            .await;
        assert_eq!(r2.status(), 204);
        app.post_json(
            Role::Company,
            &format!("/api/v1/cases/{r}/timeline"),
            &json!({"type": "note", "body": "Done."}),
        )
        .await;
        assert_eq!(subjects_to(app, "ana@example.org").await.len(), before + 1);
    }
);

both_stores!(
    the_consumer_is_reminded_once_before_the_review_window_closes,
    async |app: &TestApp| {
        crate::packs::at(app, "2026-12-10T15:00:00Z").await;
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let r = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        crate::packs::step(
            app,
            Role::Agent,
            &r,
            "open_investigation",
            json!({"reason": "x"}),
        )
        .await;
        crate::packs::step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "No error found.", "mailed_on": "2026-12-10"}),
        )
        .await;
        let reminders = || async {
            subjects_to(app, "ana@example.org")
                .await
                .into_iter()
                .filter(|s| s.starts_with("Recordatorio"))
                .count()
        };
        let l = crate::packs::life(app, Role::Agent, &r).await;
        let due: jiff::Timestamp = crate::packs::due(&l, "review_request_window")
            .parse()
            .unwrap();
        let days = |n: i64| due - jiff::SignedDuration::from_hours(24 * n);
        // Nothing yet six days before it is due.
        app.clock.set(days(6));
        assert_eq!(app.state.remind_consumers().await.unwrap(), 0);
        // Within five days: once, in Spanish, with the day in words; never twice.
        app.clock.set(days(4));
        assert_eq!(app.state.remind_consumers().await.unwrap(), 1);
        assert_eq!(app.state.remind_consumers().await.unwrap(), 0);
        app.clock.set(days(2));
        assert_eq!(app.state.remind_consumers().await.unwrap(), 0);
        assert_eq!(reminders().await, 1);
        let bodies = app.sql_texts("SELECT body FROM outbox ORDER BY id").await;
        assert!(
            bodies.last().unwrap().contains("de diciembre de 2026"),
            "{}",
            bodies.last().unwrap()
        );
        // Once she asks for a hearing the window stops: no reminder for another case's clock.
        crate::packs::step(
            app,
            Role::Agent,
            &r,
            "request_hearing",
            json!({"requested_by": "customer", "format": "hearing", "reason": "Disagrees"}),
        )
        .await;
        assert_eq!(app.state.remind_consumers().await.unwrap(), 0);
    }
);
