//! The public portal: filing in either language, following up, rate limits, and a filing
//! with someone else's phone number.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{browser, csrf, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

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
                ("company", "consolidated edison"),
                ("description", "Me cobraron dos veces en octubre."),
                ("amount_in_dispute", "120.00"),
                ("publish_consent", "yes"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        // Asked on the form: the consent to publish the words, scrubbed, in the open data.
        assert_eq!(
            app.sql_count(
                "SELECT COUNT(*) FROM cases WHERE CAST(publish_consent AS INTEGER) = $1",
                &[1]
            )
            .await,
            1
        );
        let link = r.headers()["location"].to_str().unwrap().to_string();
        assert!(link.starts_with("/portal/status/") && link.ends_with("?new=1"));
        let (status, html) = page(&b, app, &link).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Su número de referencia es NYC-2026-000001."),
            "{html}"
        );
        // Where it stands, and the hold on the disputed amount, in the consumer's language.
        assert!(html.contains("Abierta · Recibida"), "{html}");
        // Dates as people write them, who each update is from, what happens next, and who the
        // office is; no link meant for developers.
        assert!(html.contains("<dd>9 de marzo de 2026</dd>"), "{html}");
        assert!(html.contains("Qué sigue") && html.contains("30 días hábiles"));
        assert!(html.contains("<strong>Test office</strong>") && html.contains("de 9:00 a 17:00"));
        assert!(!html.contains("/api/docs"));
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
        assert_eq!(
            case["company"]["name"], "Consolidated Edison",
            "the typed name was found"
        );
        assert_eq!(case["consumer"]["preferred_language"], "es");
        // The reference and the private link go out by email, in Spanish.
        assert!(html.contains("También enviamos este número"));
        assert_eq!(
            redress_app::outbox::deliver_due(&app.state).await.unwrap(),
            1
        );
        assert_eq!(
            redress_app::outbox::deliver_due(&app.state).await.unwrap(),
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
        // Each update says who it is from, and when, as people write it.
        assert!(html.contains("<strong>Usted</strong> · <time"), "{html}");
        assert!(
            html.contains("<strong>Nuestra oficina</strong> · <time"),
            "{html}"
        );
        assert!(html.contains("9 de marzo de 2026, 10:30"), "{html}");
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
    a_portal_filing_with_someone_elses_phone_stays_a_new_person,
    async |app: &TestApp| {
        let mut ana = minimal_body();
        ana["consumer"]["account_number"] = json!("CE1234-55");
        let existing = app.create_case(&ana).await;
        let ana_id = existing["consumer_id"].as_i64().unwrap();
        // Her own case was acknowledged to her address; that message is not the portal's.
        assert_eq!(
            redress_app::outbox::deliver_due(&app.state).await.unwrap(),
            1
        );
        for sent in std::fs::read_dir(app.files_dir().join("mail")).unwrap() {
            std::fs::remove_file(sent.unwrap().path()).unwrap();
        }
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
        assert_eq!(
            redress_app::outbox::deliver_due(&app.state).await.unwrap(),
            1
        );
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
