//! Letters on paper: a decision whose mailing date is left to the print queue waits there;
//! today's batch writes it out for its day, and marking the batch mailed records the date on
//! the case and starts the review window from it.

use crate::both_stores;
use crate::harness::*;
use crate::packs::{at, case, fact, life, step, try_step};
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

fn has_clock(life: &Value, name: &str) -> bool {
    life["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == name)
}

both_stores!(
    a_decision_mailed_through_the_print_queue_starts_the_review_window,
    async |app: &TestApp| {
        // Thursday 2026-12-10 in New York. A consumer without an email address.
        at(app, "2026-12-10T15:00:00Z").await;
        let mut body = minimal_body();
        body["consumer"].as_object_mut().unwrap().remove("email");
        body["consumer"]["address"] =
            json!({"line1": "12 Main St", "city": "Albany", "state": "NY", "zip": "12207"});
        body["company_id"] = json!(app.company_id);
        body["amount_in_dispute"] = json!("40.00");
        let r = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        step(
            app,
            Role::Agent,
            &r,
            "open_investigation",
            json!({"reason": "Disputed charge"}),
        )
        .await;
        // The mailing date left empty: the decision goes to the print queue, the review window
        // waits for it.
        step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "The company will refund $40."}),
        )
        .await;
        assert!(!has_clock(
            &life(app, Role::Agent, &r).await,
            "review_request_window"
        ));
        assert_eq!(fact(&case(app, &r).await, "mailed_on"), None);
        let queued: Vec<Value> = app
            .get(Role::Agent, "/api/v1/letters?state=queued")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(queued.len(), 1, "{queued:?}");
        let letter = &queued[0];
        assert_eq!(letter["reference"], r.as_str());
        assert_eq!(letter["name"], "initial_decision");
        assert_eq!(letter["language"], "es");
        assert_eq!(letter["awaiting_field"], "mailed_on");
        assert_eq!(
            letter["recipient"],
            json!(["Ana Díaz", "12 Main St", "Albany NY 12207"])
        );
        // Only staff who may see consumers print; states are checked.
        assert_eq!(
            app.get(Role::Company, "/api/v1/letters").await.status(),
            403
        );
        for bad in ["lost", ""] {
            assert_eq!(
                app.get(Role::Agent, &format!("/api/v1/letters?state={bad}"))
                    .await
                    .status(),
                422
            );
        }

        // Friday: today's batch writes the letter out with today as its mailing date.
        at(app, "2026-12-11T15:00:00Z").await;
        let made = app
            .post_json(Role::Agent, "/api/v1/letter-batches", &json!({}))
            .await;
        assert_eq!(made.status(), 201);
        let batch: Value = made.json().await.unwrap();
        let id = batch["id"].as_i64().unwrap();
        assert_eq!(batch["letters"], 1);
        assert_eq!(batch["mail_on"], "2026-12-11");
        let again = app
            .post_json(Role::Agent, "/api/v1/letter-batches", &json!({}))
            .await;
        assert_eq!(again.status(), 422, "nothing left in the queue");
        let shown: Value = app
            .get(Role::Agent, &format!("/api/v1/letter-batches/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(shown["letters"][0]["state"], "batched");
        let texts: Vec<String> = app.sql_texts("SELECT body FROM letters ORDER BY id").await;
        assert!(
            texts[0].contains("se envió el 11 de diciembre de 2026"),
            "the mailing date, in Spanish: {}",
            texts[0]
        );
        // No press in this build: the PDF is refused plainly.
        assert_eq!(
            app.get(Role::Agent, &format!("/api/v1/letter-batches/{id}/pdf"))
                .await
                .status(),
            503
        );

        // Mailed: not in the future, not before it was printed.
        let mailed = |date: &str| {
            let date = date.to_string();
            async move {
                app.post_json(
                    Role::Agent,
                    &format!("/api/v1/letter-batches/{id}/mailed"),
                    &json!({"mailed_on": date}),
                )
                .await
            }
        };
        let r1 = mailed("2026-12-12").await;
        assert_eq!(r1.status(), 422);
        let p: Value = r1.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "mailed_on");
        assert_eq!(p["errors"][0]["code"], "in_the_future");
        assert_eq!(mailed("2026-12-10").await.status(), 422);
        assert!(!has_clock(
            &life(app, Role::Agent, &r).await,
            "review_request_window"
        ));

        // Monday: it went in the mail; the window counts 15 days from then.
        at(app, "2026-12-14T15:00:00Z").await;
        let done = mailed("2026-12-14").await;
        assert_eq!(done.status(), 200);
        let done: Value = done.json().await.unwrap();
        assert_eq!(done["mailed_on"], "2026-12-14");
        assert_eq!(mailed("2026-12-14").await.status(), 409);
        let l = life(app, Role::Agent, &r).await;
        assert!(has_clock(&l, "review_request_window"));
        assert_eq!(
            crate::packs::due(&l, "review_request_window"),
            "2026-12-29T22:00:00Z"
        );
        assert_eq!(
            fact(&case(app, &r).await, "mailed_on").as_deref(),
            Some("2026-12-14")
        );
        let mailed_letters: Vec<Value> = app
            .get(Role::Agent, "/api/v1/letters?state=mailed")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(mailed_letters[0]["mailed_on"], "2026-12-14");

        let b = logged_in(app, "senior.agent").await;
        let (_, html) = page(&b, app, &format!("/cases/{r}")).await;
        assert!(
            html.contains("Window to request an informal hearing or review")
                && html.contains("2026-12-29"),
            "the window started by the mailing is on the case page"
        );

        // The next step is as before: the consumer asks for a hearing within the window.
        let (status, _) = try_step(
            app,
            Role::Agent,
            &r,
            "request_hearing",
            json!({"requested_by": "customer", "format": "hearing", "reason": "Disagrees"}),
        )
        .await;
        assert_eq!(status, 200, "within the window a hearing may be asked for");

        // The pages: the queue, the batch with its mailing list, the case's print link.
        let (status, html) = page(&b, app, "/letters").await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("/letters/batches/{id}")), "{html}");
        let (status, html) = page(&b, app, &format!("/letters/batches/{id}?lang=es")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Lista de envío") && html.contains("Albany NY 12207"));
        let (_, html) = page(&b, app, &format!("/cases/{r}")).await;
        assert!(html.contains("/letters/1/pdf"), "the letter can be printed");
        let token = csrf(&html);
        let resp = post(
            &b,
            app,
            &format!("/letters/batches/{id}/mailed"),
            &[("csrf", &token), ("mailed_on", "2026-12-14")],
        )
        .await;
        assert_eq!(resp.status(), 409);
    }
);

both_stores!(
    a_decision_goes_on_paper_unless_its_mailing_date_is_typed,
    async |app: &TestApp| {
        at(app, "2026-12-10T15:00:00Z").await;
        let mut body = minimal_body();
        body["company_id"] = json!(app.company_id);
        let r = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        step(
            app,
            Role::Agent,
            &r,
            "open_investigation",
            json!({"reason": "Disputed charge"}),
        )
        .await;
        // A consumer with an email address: the decision left without a mailing date still
        // goes on paper through the queue.
        step(
            app,
            Role::Agent,
            &r,
            "issue_initial_decision",
            json!({"decision": "No error found."}),
        )
        .await;
        let queued: Vec<Value> = app
            .get(Role::Agent, "/api/v1/letters")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(queued.len(), 1);
        // And typed in, it was mailed outside Redress: the window starts at once.
        at(app, "2026-12-11T15:00:00Z").await;
        let r2 = app.create_case(&body).await["reference"]
            .as_str()
            .unwrap()
            .to_string();
        step(
            app,
            Role::Agent,
            &r2,
            "open_investigation",
            json!({"reason": "x"}),
        )
        .await;
        step(
            app,
            Role::Agent,
            &r2,
            "issue_initial_decision",
            json!({"decision": "No error found.", "mailed_on": "2026-12-11"}),
        )
        .await;
        assert!(has_clock(
            &life(app, Role::Agent, &r2).await,
            "review_request_window"
        ));
        let queued: Vec<Value> = app
            .get(Role::Agent, "/api/v1/letters")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            queued.len(),
            1,
            "the emailed decision does not wait for printing"
        );
    }
);
