//! The pages, driven like a browser without JavaScript: forms, CSRF tokens, cookies, errors
//! next to fields, both languages, and nothing stored when a form is refused.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden `csrf` field in a page.
fn csrf(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn page(b: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(
    b: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    b.post(app.url(path)).form(form).send().await.unwrap()
}

async fn logged_in(app: &TestApp, user: &str) -> reqwest::Client {
    let b = browser();
    let (_, html) = page(&b, app, "/login").await;
    let token = csrf(&html);
    let r = post(
        &b,
        app,
        "/login",
        &[("csrf", &token), ("username", user), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), 303, "login as {user}");
    b
}

both_stores!(
    login_form_needs_its_token_and_right_password,
    async |app: &TestApp| {
        let b = browser();
        let r = b.get(app.url("/")).send().await.unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/login")
        );
        let (status, html) = page(&b, app, "/login").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"en\"") && html.contains("<label for=\"password\">"));
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            "/login",
            &[("username", "agent"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(r.status(), 403, "no token, no session");
        let r = post(
            &b,
            app,
            "/login",
            &[
                ("csrf", &token),
                ("username", "agent"),
                ("password", "not the password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Wrong username or password.")
        );
        let r = post(
            &b,
            app,
            "/login",
            &[
                ("csrf", &token),
                ("username", "agent"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/")
        );
        let (status, home) = page(&b, app, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains("Hello, Test agent"));
        // Spanish, chosen once and remembered.
        let (_, es) = page(&b, app, "/?lang=es").await;
        assert!(es.contains("<html lang=\"es\"") && es.contains("Hola, Test agent"));
        let (_, still) = page(&b, app, "/").await;
        assert!(still.contains("Mi trabajo"));
        let (_, help) = page(&b, app, "/help?lang=en").await;
        assert!(help.contains("Keyboard shortcuts") && help.contains("<kbd>/</kbd>"));
    }
);

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
                ("call_seconds", "185"),
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
    case_page_actions_write_the_timeline,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
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
                ("minutes", "4"),
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
                "note",
                "call",
                "assignment",
                "status_change",
                "letter"
            ]
        );
        assert_eq!(timeline[5]["data"]["letter"], "referral_to_company");
        assert_eq!(timeline[2]["data"]["duration_seconds"], 240);
        let (_, notes) = page(&b, app, &format!("/cases/{reference}?filter=notes")).await;
        assert!(notes.contains("Called the company") && !notes.contains("Left a message"));
        // Supervisors see who viewed the case; agents do not.
        let sup = logged_in(app, "supervisor").await;
        let (_, html) = page(&sup, app, &format!("/cases/{reference}")).await;
        assert!(html.contains("Who viewed or changed this case") && html.contains("case.view"));
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
    portal_filing_in_spanish_and_following_up,
    async |app: &TestApp| {
        let b = browser();
        let (status, html) = page(&b, app, "/portal/complaint?lang=es").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"es\"") && html.contains("Presentar una queja"));
        let token = csrf(&html);
        // Errors come back in Spanish, next to the fields, and nothing is stored.
        let r = post(
            &b,
            app,
            "/portal/complaint",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("consumer.email", "no-es-correo"),
                ("description", ""),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Hay un problema")
                && html.contains("Escriba un correo electrónico como nombre@ejemplo.org.")
        );
        assert_eq!(app.count("cases").await, 0);
        // The honeypot catches robots: nothing is stored.
        let r = post(
            &b,
            app,
            "/portal/complaint",
            &[
                ("csrf", &token),
                ("website", "http://spam.example"),
                ("consumer.name", "Bot"),
                ("consumer.email", "bot@example.org"),
                ("description", "Buy now"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.count("cases").await, 0);
        // A real filing.
        let r = post(
            &b,
            app,
            "/portal/complaint",
            &[
                ("csrf", &token),
                ("kind", "complaint"),
                ("consumer.name", "Carmen Rodríguez"),
                ("consumer.email", "carmen@example.org"),
                ("company_id", &app.company_id.to_string()),
                ("description", "Me cobraron dos veces en octubre."),
                ("amount_in_dispute", "120.00"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let link = r.headers()["location"].to_str().unwrap().to_string();
        assert!(link.starts_with("/portal/status/") && link.ends_with("?new=1"));
        let (status, html) = page(&b, app, &link).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Su número de referencia es NYC-2026-000001."),
            "{html}"
        );
        // Where it stands, and the hold on the disputed amount, in the consumer's language.
        assert!(html.contains("Abierto · Recibida"), "{html}");
        assert!(
            html.contains("No se puede cortar el servicio por la cantidad disputada ($120.00)"),
            "{html}"
        );
        let case: Value = app
            .get(Role::Agent, "/api/v1/cases/NYC-2026-000001")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(case["channel"], "web");
        assert_eq!(case["consumer"]["preferred_language"], "es");
        // The reference and the private link go out by email, in Spanish.
        assert!(html.contains("También enviamos este número"));
        assert_eq!(redress_web::mail::deliver_due(&app.state).await.unwrap(), 1);
        assert_eq!(
            redress_web::mail::deliver_due(&app.state).await.unwrap(),
            0,
            "sent once"
        );
        let mails: Vec<_> = std::fs::read_dir(app.files_dir().join("mail"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(mails.len(), 1);
        let eml = std::fs::read_to_string(mails[0].path()).unwrap();
        assert!(eml.contains("To: carmen@example.org"), "{eml}");
        let decoded = eml.replace("=\r\n", "").replace("=\n", "");
        assert!(
            decoded.contains("NYC-2026-000001") && decoded.contains("/portal/status/"),
            "{eml}"
        );
        // Status by reference and email, then add information.
        let (_, html) = page(&b, app, "/portal/status").await;
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            "/portal/status",
            &[
                ("csrf", &token),
                ("reference", "NYC-2026-000001"),
                ("contact", "someone@example.org"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422, "the wrong contact finds nothing");
        let r = post(
            &b,
            app,
            "/portal/status",
            &[
                ("csrf", &token),
                ("reference", "nyc-2026-000001"),
                ("contact", "CARMEN@example.org"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let status_link = r.headers()["location"].to_str().unwrap().to_string();
        let (_, html) = page(&b, app, &status_link).await;
        let token = csrf(&html);
        let upload = |fields: Vec<(&'static str, String)>,
                      file: Option<(&'static str, Vec<u8>)>| {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in fields {
                form = form.text(k, v);
            }
            if let Some((name, bytes)) = file {
                form = form.part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name),
                );
            }
            b.post(app.url(&format!("{status_link}/add")))
                .multipart(form)
                .send()
        };
        // Nothing at all, a refused type, and no form token: nothing is stored.
        let before = app.count("timeline").await;
        let r = upload(vec![("csrf", token.clone())], None).await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Escriba algo o adjunte un documento.")
        );
        let r = upload(
            vec![("csrf", token.clone()), ("body", "x".into())],
            Some(("virus.exe", b"MZ\x90\x00\x03".to_vec())),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Solo se aceptan PDF"));
        let r = upload(vec![("body", "sin token".into())], None)
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.count("timeline").await, before);
        assert_eq!(app.count("attachments").await, 0);
        let r = upload(
            vec![
                ("csrf", token.clone()),
                ("body", "Adjunto el número de cuenta: 555-123.".into()),
            ],
            Some(("factura.pdf", crate::files::PDF.to_vec())),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 303);
        let files: Vec<Value> = app
            .get(Role::Agent, "/api/v1/cases/NYC-2026-000001/attachments")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(
            (
                files[0]["filename"].as_str(),
                files[0]["visibility"].as_str()
            ),
            (Some("factura.pdf"), Some("consumer"))
        );
        let (_, html) = page(&b, app, &status_link).await;
        let href = format!("{status_link}/attachments/{}", files[0]["id"]);
        assert!(
            html.contains(&href),
            "the consumer can download their document"
        );
        let dl = b.get(app.url(&href)).send().await.unwrap();
        assert_eq!(dl.status(), 200);
        assert_eq!(dl.headers()["content-type"], "application/pdf");
        // Staff-only notes never show on the portal; the consumer's addition reaches the agent.
        app.post_json(Role::Agent, "/api/v1/cases/NYC-2026-000001/timeline", &serde_json::json!({"type": "note", "body": "internal remark", "visibility": "internal"})).await;
        app.post_json(Role::Agent, "/api/v1/cases/NYC-2026-000001/timeline", &serde_json::json!({"type": "letter", "body": "Le escribimos a la empresa.", "visibility": "consumer"})).await;
        let (_, html) = page(&b, app, &status_link).await;
        assert!(
            html.contains("Le escribimos a la empresa.")
                && html.contains("Adjunto el número de cuenta")
                && !html.contains("internal remark")
        );
        let timeline: Vec<Value> = app
            .get(Role::Agent, "/api/v1/cases/NYC-2026-000001/timeline")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            timeline
                .iter()
                .any(|e| e["body"] == "Adjunto el número de cuenta: 555-123."
                    && e["visibility"] == "consumer")
        );
        // Unknown links are 404 pages.
        assert_eq!(page(&b, app, "/portal/status/0000").await.0, 404);
        assert_eq!(
            page(&b, app, &format!("/portal/status/{}", "a".repeat(48)))
                .await
                .0,
            404
        );
    }
);

both_stores!(portal_rate_limits_each_address, async |app: &TestApp| {
    let b = browser();
    let (_, html) = page(&b, app, "/portal/complaint").await;
    let token = csrf(&html);
    let mut last = 0;
    for i in 0..11 {
        let email = format!("p{i}@example.org");
        let r = post(
            &b,
            app,
            "/portal/complaint",
            &[
                ("csrf", &token),
                ("consumer.name", "Pat"),
                ("consumer.email", &email),
                ("description", "Test"),
            ],
        )
        .await;
        last = r.status().as_u16();
        if i < 10 {
            assert_eq!(last, 303, "submission {i}");
        }
    }
    assert_eq!(last, 429);
    assert_eq!(app.count("cases").await, 10);
});

both_stores!(
    supervisors_see_unit_load_and_reassign_in_bulk,
    async |app: &TestApp| {
        let mut refs = Vec::new();
        for days_ago in [0i64, 1, 5, 40] {
            app.clock.set(
                "2026-03-09T14:30:00Z".parse::<jiff::Timestamp>().unwrap()
                    - jiff::SignedDuration::from_hours(24 * days_ago),
            );
            let mut body = minimal_body();
            body["unit"] = serde_json::json!("CALL");
            refs.push(
                app.create_case(&body).await["reference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        app.clock.set("2026-03-09T14:30:00Z".parse().unwrap());
        let b = logged_in(app, "supervisor").await;
        let (status, html) = page(&b, app, "/supervisor").await;
        assert_eq!(status, 200);
        // Call Center: 4 open, 1 new today, aging 2 / 1 / 0 / 1.
        assert!(html.contains("<th scope=\"row\"><a href=\"/supervisor/cases?unit=CALL\">Call Center</a></th><td>4</td><td>1</td><td>2</td><td>1</td><td>0</td><td>1</td>"), "{html}");
        assert!(html.contains("<svg role=\"img\""));
        let (_, html) = page(&b, app, "/supervisor/cases?unit=CALL").await;
        let token = csrf(&html);
        for r in &refs {
            assert!(html.contains(&format!("id=\"sel-{r}\"")));
        }
        let r = b
            .post(app.url("/supervisor/reassign"))
            .form(&[
                ("csrf", token.as_str()),
                ("from_unit", "CALL"),
                ("unit", "HOTLINE"),
                ("assignee", "agent"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "nothing selected");
        let r = b
            .post(app.url("/supervisor/reassign"))
            .form(&[
                ("csrf", token.as_str()),
                ("from_unit", "CALL"),
                ("case", &refs[0]),
                ("case", &refs[3]),
                ("unit", "HOTLINE"),
                ("assignee", "agent"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, r.headers()["location"].to_str().unwrap()).await;
        assert!(html.contains("2 cases were reassigned."));
        for r in [&refs[0], &refs[3]] {
            let c: Value = app
                .get(Role::Agent, &format!("/api/v1/cases/{r}"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                (c["unit"].as_str(), c["assignee"].as_str()),
                (Some("HOTLINE"), Some("agent"))
            );
        }
        // Agents may not supervise.
        let agent = logged_in(app, "agent").await;
        assert_eq!(page(&agent, app, "/supervisor").await.0, 403);
    }
);

both_stores!(
    admins_add_users_and_units_and_people_change_passwords,
    async |app: &TestApp| {
        let b = logged_in(app, "admin").await;
        let (status, html) = page(&b, app, "/admin").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Scheduled work") && html.contains("0 waiting, 0 done, 0 dead."),
            "{html}"
        );
        let token = csrf(&html);
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "Bad Name"),
                ("role", "agent"),
                ("password", "short"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("href=\"#username\"") && html.contains("href=\"#password\""));
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "rosa"),
                ("display_name", "Rosa M"),
                ("role", "agent"),
                ("user_unit", "CALL"),
                ("password", "a long enough password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "rosa"),
                ("role", "agent"),
                ("password", "a long enough password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = b
            .post(app.url("/admin/units"))
            .form(&[
                ("csrf", token.as_str()),
                ("code", "eru"),
                ("name", "Expedited Resolution"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let units: Vec<Value> = app
            .get(Role::Admin, "/api/v1/units")
            .await
            .json()
            .await
            .unwrap();
        assert!(units.iter().any(|u| u["code"] == "ERU"));
        let r = b
            .post(app.url("/admin/units"))
            .form(&[("code", "X"), ("name", "No token")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // Rosa logs in and changes her password.
        let rosa = browser();
        let (_, html) = page(&rosa, app, "/login").await;
        let t = csrf(&html);
        let r = post(
            &rosa,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "rosa"),
                ("password", "a long enough password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&rosa, app, "/account").await;
        let t = csrf(&html);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "wrong one entirely"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "a long enough password"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a different one here"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        // Rosa is also signed in elsewhere (a shared terminal, a stolen cookie).
        let elsewhere = browser();
        let (_, html) = page(&elsewhere, app, "/login").await;
        let lt = csrf(&html);
        let r = post(
            &elsewhere,
            app,
            "/login",
            &[
                ("csrf", &lt),
                ("username", "rosa"),
                ("password", "a long enough password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(page(&elsewhere, app, "/account").await.0, 200);
        let old_cookie = app.count("sessions").await;
        assert!(old_cookie >= 2);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "a long enough password"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        // The new password ends every other session, and this one is replaced by a new one.
        assert!(
            r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("redress_session=")
        );
        let r = elsewhere.get(app.url("/account")).send().await.unwrap();
        assert_eq!(r.status(), 303, "the other session ended");
        assert_eq!(r.headers()["location"], "/login");
        assert_eq!(
            page(&rosa, app, "/account").await.0,
            200,
            "still signed in here"
        );
        let login = |p: &'static str| {
            app.client
                .post(app.url("/api/v1/session"))
                .json(&serde_json::json!({"username": "rosa", "password": p}))
                .send()
        };
        assert_eq!(login("a long enough password").await.unwrap().status(), 401);
        assert_eq!(login("a brand new passphrase").await.unwrap().status(), 200);
        // Only admins administer.
        let sup = logged_in(app, "supervisor").await;
        assert_eq!(page(&sup, app, "/admin").await.0, 403);
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
    two_step_login_with_a_one_time_code,
    async |app: &TestApp| {
        use redress_domain::totp;
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, "/account").await;
        assert!(html.contains("Two-step login is off"));
        let token = csrf(&html);
        let at = html.find("name=\"secret\" value=\"").unwrap() + "name=\"secret\" value=\"".len();
        let secret = html[at..].split('"').next().unwrap().to_string();
        let key = totp::base32_decode(&secret).unwrap();
        let now = || app.clock.now_ts().as_second();
        let code = |t: i64| format!("{:06}", totp::code_at_step(&key, totp::step_of(t)));
        let r = post(
            &b,
            app,
            "/account/totp/on",
            &[
                ("csrf", &token),
                ("secret", &secret),
                ("totp_code", "000000"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &b,
            app,
            "/account/totp/on",
            &[
                ("csrf", &token),
                ("secret", &secret),
                ("totp_code", &code(now())),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, "/account?totp=on").await;
        assert!(html.contains("Two-step login is now on."));

        let login = |c: Option<String>| {
            app.client
                .post(app.url("/api/v1/session"))
                .json(&serde_json::json!({"username": "agent", "password": PASSWORD, "code": c}))
                .send()
        };
        let r = login(None).await.unwrap();
        assert_eq!(r.status(), 401);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "second_factor_required");
        assert_eq!(
            login(Some(code(now()))).await.unwrap().status(),
            401,
            "the code that turned it on is spent"
        );
        app.clock.advance(jiff::SignedDuration::from_secs(30));
        assert_eq!(login(Some(code(now()))).await.unwrap().status(), 200);
        assert_eq!(
            login(Some(code(now()))).await.unwrap().status(),
            401,
            "a code works once"
        );
        // The login page asks for it too.
        app.clock.advance(jiff::SignedDuration::from_secs(30));
        let fresh = browser();
        let (_, html) = page(&fresh, app, "/login").await;
        let t = csrf(&html);
        let r = post(
            &fresh,
            app,
            "/login",
            &[("csrf", &t), ("username", "agent"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("Enter the current code"));
        let r = post(
            &fresh,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "agent"),
                ("password", PASSWORD),
                ("code", &code(now())),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        // Turning it off needs the password.
        let (_, html) = page(&fresh, app, "/account").await;
        let t = csrf(&html);
        assert_eq!(
            post(
                &fresh,
                app,
                "/account/totp/off",
                &[("csrf", &t), ("totp_password", "not my password")]
            )
            .await
            .status(),
            422
        );
        assert_eq!(
            post(
                &fresh,
                app,
                "/account/totp/off",
                &[("csrf", &t), ("totp_password", PASSWORD)]
            )
            .await
            .status(),
            303
        );
        assert_eq!(login(None).await.unwrap().status(), 200);
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
            2,
            "the opening entry and the clock's start"
        );
    }
);

both_stores!(
    a_portal_filing_with_someone_elses_phone_stays_a_new_person,
    async |app: &TestApp| {
        let mut ana = minimal_body();
        ana["consumer"]["account_number"] = json!("CE1234-55");
        let existing = app.create_case(&ana).await;
        let ana_id = existing["consumer_id"].as_i64().unwrap();
        let b = browser();
        let (_, html) = page(&b, app, "/portal/complaint").await;
        let token = csrf(&html);
        // An attacker's Host header must not reach the link in the email.
        let r = b
            .post(app.url("/portal/complaint"))
            .header("Host", "evil.example")
            .form(&[
                ("csrf", token.as_str()),
                ("kind", "complaint"),
                ("consumer.name", "Pat Portal"),
                ("consumer.email", "pat@example.org"),
                ("consumer.phone", "518-555-0100"),
                ("consumer.account_number", "CE1234-55"),
                ("company_id", &app.company_id.to_string()),
                ("description", "Billed for a meter I do not have."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let link = r.headers()["location"].to_str().unwrap().to_string();
        let (_, html) = page(&b, app, &link).await;
        assert!(
            !html.contains("Ana"),
            "nothing of the person on file: {html}"
        );
        let link_path = link.trim_end_matches("?new=1");
        assert!(
            html.contains(&format!("https://complaints.example.gov{link_path}")),
            "the page's link comes from public_url: {html}"
        );
        let case: Value = app
            .get(Role::Agent, "/api/v1/cases/NYC-2026-000002")
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(case["consumer_id"], json!(ana_id));
        assert_eq!(case["consumer"]["name"], "Pat Portal");
        assert_eq!(case["consumer"]["email"], "pat@example.org");
        // The confirmation with the private link goes to the address typed in the form.
        assert_eq!(redress_web::mail::deliver_due(&app.state).await.unwrap(), 1);
        let mails: Vec<_> = std::fs::read_dir(app.files_dir().join("mail"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(mails.len(), 1);
        let eml = std::fs::read_to_string(mails[0].path()).unwrap();
        assert!(
            eml.contains("To: pat@example.org") && !eml.contains("ana@example.org"),
            "{eml}"
        );
        assert!(!eml.contains("Ana"), "{eml}");
        let decoded = eml.replace("=\r\n", "").replace("=\n", "");
        assert!(!decoded.contains("evil.example"), "{eml}");
        assert!(
            decoded.contains(&format!("https://complaints.example.gov{link_path}")),
            "{eml}"
        );
        // The record on file is unchanged.
        let on_file: Value = app
            .get(Role::Agent, &format!("/api/v1/consumers/{ana_id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(on_file["name"], "Ana Díaz");
        assert_eq!(on_file["email"], "ana@example.org");
        assert_eq!(on_file["account_numbers"], json!(["CE1234-55"]));
        // Staff see the two records as possibly one person, on the case and the consumer.
        let dups: Vec<Value> = app
            .get(
                Role::Agent,
                &format!("/api/v1/consumers/{}/duplicates", case["consumer_id"]),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0]["id"], json!(ana_id));
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

both_stores!(tls_headers_and_download_policy, async |app: &TestApp| {
    // Behind a TLS proxy, the pre-login form cookie is Secure.
    let r = app
        .client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("redress_form=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(
        r.headers().get("strict-transport-security").is_none(),
        "not configured for TLS"
    );
    // Served over TLS (secure_cookies): HSTS on every response.
    let mut state = app.state.clone();
    state.settings.secure_cookies = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(redress_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let r = app
        .client
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let _ = stop.send(());
    let _ = server.await;
    // An attachment keeps its own sandboxing policy.
    let c = app.create_case(&minimal_body()).await;
    let reference = c["reference"].as_str().unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"plain words".to_vec())
            .file_name("note.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let r = app
        .req(
            Role::Agent,
            reqwest::Method::POST,
            &format!("/api/v1/cases/{reference}/attachments"),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let a: Value = serde_json::from_str(&body).unwrap();
    let r = app
        .get(
            Role::Agent,
            &format!("/api/v1/cases/{reference}/attachments/{}", a["id"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
});

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
