//! Attachments: allowed by content and size, stored once, downloads audited, visible by role.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// A minimal PDF: its `startxref` points at its cross-reference table.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer << /Root 1 0 R /Size 2 >>\nstartxref\n45\n%%EOF\n";

fn file(name: &str, bytes: &[u8]) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes.to_vec()).file_name(name.to_string()),
    )
}

async fn upload(app: &TestApp, role: Role, reference: &str, form: Form) -> reqwest::Response {
    app.req(
        role,
        reqwest::Method::POST,
        &format!("/api/v1/cases/{reference}/attachments"),
    )
    .multipart(form)
    .send()
    .await
    .unwrap()
}

fn stored_files(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.files_dir())
}

both_stores!(
    attachments_are_checked_stored_and_audited,
    async |app: &TestApp| {
        let mut body = minimal_body();
        body["company_id"] = serde_json::json!(app.company_id);
        let c = app.create_case(&body).await;
        let r = c["reference"].as_str().unwrap();

        // Refused uploads store nothing, and name the `file` field.
        for (form, code) in [
            (
                file("invoice.pdf.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
                "file_type_not_allowed",
            ),
            (
                file("page.html", b"<!doctype html><script>alert(1)</script>"),
                "file_type_not_allowed",
            ),
            (
                file("huge.pdf", &[PDF, &vec![b'a'; 70 * 1024]].concat()),
                "file_too_large",
            ),
            (Form::new().text("note", "no file"), "required"),
        ] {
            let resp = upload(app, Role::Agent, r, form).await;
            assert_eq!(resp.status(), 422);
            let p: Value = resp.json().await.unwrap();
            assert_eq!(
                (
                    p["errors"][0]["field"].as_str(),
                    p["errors"][0]["code"].as_str()
                ),
                (Some("file"), Some(code)),
                "{p}"
            );
        }
        assert_eq!(app.count("attachments").await, 0);
        assert_eq!(stored_files(app), 0);

        let resp = upload(
            app,
            Role::Agent,
            r,
            file("../bill october.pdf", PDF)
                .text("visibility", "company")
                .text("note", "The October bill"),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let a: Value = resp.json().await.unwrap();
        assert_eq!(a["filename"], "bill october.pdf");
        assert_eq!(a["content_type"], "application/pdf");
        assert_eq!(a["size_bytes"], PDF.len());
        let internal: Value = upload(
            app,
            Role::Agent,
            r,
            file("notes.txt", b"call notes, staff only"),
        )
        .await
        .json()
        .await
        .unwrap();
        // The same bytes twice keep one copy on disk.
        upload(app, Role::Agent, r, file("again.pdf", PDF)).await;
        assert_eq!(stored_files(app), 2);

        let dl = app
            .get(
                Role::Supervisor,
                &format!("/api/v1/cases/{r}/attachments/{}", a["id"]),
            )
            .await;
        assert_eq!(dl.status(), 200);
        assert_eq!(dl.headers()["content-type"], "application/pdf");
        assert!(
            dl.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment; filename=\"bill october.pdf\"")
        );
        assert_eq!(dl.bytes().await.unwrap().as_ref(), PDF);
        let trail: Vec<Value> = app
            .get(Role::Supervisor, &format!("/api/v1/cases/{r}/audit"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            trail
                .iter()
                .any(|t| t["action"] == "case.attachment.download" && t["actor"] == "supervisor")
        );
        assert!(trail.iter().any(|t| t["action"] == "case.attachment.add"));

        // The company sees only company-visible files.
        let listed: Vec<Value> = app
            .get(Role::Company, &format!("/api/v1/cases/{r}/attachments"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            app.get(
                Role::Company,
                &format!("/api/v1/cases/{r}/attachments/{}", internal["id"])
            )
            .await
            .status(),
            404
        );
        // Auditors read but do not write.
        assert_eq!(
            upload(app, Role::Auditor, r, file("x.pdf", PDF))
                .await
                .status(),
            403
        );
        let timeline: Vec<Value> = app
            .get(Role::Agent, &format!("/api/v1/cases/{r}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            timeline
                .iter()
                .any(|e| e["type"] == "attachment" && e["body"] == "The October bill")
        );
    }
);

both_stores!(
    outbox_claims_once_and_retries_later,
    async |app: &TestApp| {
        use jiff::SignedDuration;
        let now = app.clock.now_ts();
        let mail = redress_store::OutgoingMail::new(
            "ana@example.org".into(),
            "S".into(),
            "B".into(),
            None,
        );
        app.store.enqueue_mail(&mail, now).await.unwrap();
        let lease = now + SignedDuration::from_mins(5);
        let first = app
            .store
            .claim_mail(now, lease, 3)
            .await
            .unwrap()
            .expect("due");
        assert_eq!(first.attempts, 1);
        assert!(
            app.store.claim_mail(now, lease, 3).await.unwrap().is_none(),
            "a claimed message is not handed out twice"
        );
        app.store
            .mail_failed(
                first.id,
                "connection refused",
                now + SignedDuration::from_mins(2),
            )
            .await
            .unwrap();
        assert!(
            app.store
                .claim_mail(now + SignedDuration::from_mins(1), lease, 3)
                .await
                .unwrap()
                .is_none(),
            "not before its retry time"
        );
        let later = now + SignedDuration::from_mins(3);
        let second = app
            .store
            .claim_mail(later, later + SignedDuration::from_mins(5), 3)
            .await
            .unwrap()
            .expect("due again");
        assert_eq!(second.attempts, 2);
        app.store.mail_sent(second.id, later).await.unwrap();
        assert_eq!(app.store.mail_waiting().await.unwrap(), 0);
        assert!(
            app.store
                .claim_mail(later + SignedDuration::from_hours(1), later, 3)
                .await
                .unwrap()
                .is_none()
        );
    }
);

both_stores!(
    attachment_names_types_and_parts_are_checked,
    async |app: &TestApp| {
        let c = app.create_case(&minimal_body()).await;
        let r = c["reference"].as_str().unwrap();
        // Several files in one `file` field, a PDF that does not parse as one, a type declared
        // for something else: refused, naming `file`, with nothing stored.
        let two = Form::new()
            .part("file", Part::bytes(PDF.to_vec()).file_name("a.pdf"))
            .part("file", Part::bytes(b"second".to_vec()).file_name("b.txt"));
        let fake_pdf = [b"%PDF-1.7\nMZ\x90\x00".as_slice(), &[b'a'; 100]].concat();
        let truncated = &PDF[..PDF.len() - 20];
        let declared = Form::new().part(
            "file",
            Part::bytes(PDF.to_vec())
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        );
        for (form, code) in [
            (two, "too_many_files"),
            (file("bill.pdf", &fake_pdf), "file_type_not_allowed"),
            (file("bill.pdf", truncated), "file_type_not_allowed"),
            (declared, "file_type_mismatch"),
        ] {
            let resp = upload(app, Role::Agent, r, form).await;
            assert_eq!(resp.status(), 422);
            let p: Value = resp.json().await.unwrap();
            assert_eq!(
                (
                    p["errors"][0]["field"].as_str(),
                    p["errors"][0]["code"].as_str()
                ),
                (Some("file"), Some(code)),
                "{p}"
            );
        }
        assert_eq!(app.count("attachments").await, 0);
        assert_eq!(stored_files(app), 0);

        // Names lose bidi overrides and invisible characters, and are capped, keeping the
        // extension.
        let a: Value = upload(
            app,
            Role::Agent,
            r,
            file("invoice\u{202E}fdp.exe\u{200B}", b"plain text"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(a["filename"], "invoicefdp.exe");
        let long = format!("{}.pdf", "n".repeat(5000));
        let resp = upload(
            app,
            Role::Agent,
            r,
            Form::new().part(
                "file",
                Part::bytes(PDF.to_vec())
                    .file_name(long)
                    .mime_str("application/pdf")
                    .unwrap(),
            ),
        )
        .await;
        assert_eq!(resp.status(), 201);
        let b: Value = resp.json().await.unwrap();
        let name = b["filename"].as_str().unwrap();
        assert_eq!(name.chars().count(), 120);
        assert!(name.ends_with("nnn.pdf"), "{name}");
        assert_eq!(app.count("attachments").await, 2);
    }
);
