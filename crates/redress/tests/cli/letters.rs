//! Printed letters end to end: a decision left to the print queue, today's batch typeset by the
//! real press (typst) as one PDF, read back with poppler-utils' `pdftotext`: the address, the
//! reference and the review window's due date in the consumer's language; then marked mailed,
//! which starts that window.

use super::mail::Running;
use super::*;

fn pdftotext(pdf: &[u8], dir: &std::path::Path) -> String {
    let path = dir.join("batch.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn print_and_mail(pg: bool) {
    let t = target(pg, if pg { "print_pg" } else { "print_lite" }).await;
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "clerk",
            "--role",
            "senior_agent",
            "--password-stdin",
        ],
        &t,
        Some("correct horse battery\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (_, token, _) = run(&["token", "create", "clerk"], &t, None);
    let token = token.trim().to_string();
    let (node, base) = start_node(&t, &[]).await;
    let _node = Running(node);
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&token)
    };
    let created: Value = call(reqwest::Method::POST, "/cases")
        .json(&json!({
            "kind": "complaint", "channel": "mail", "lifecycle": "utility_complaint",
            "description": "Me cobraron dos veces en octubre.",
            "consumer": {"name": "Rosa Díaz", "preferred_language": "es",
                "address": {"line1": "12 Main St", "line2": "Apt 4", "city": "Albany", "state": "NY", "zip": "12207"}},
            "amount_in_dispute": "40.00"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = created["reference"].as_str().unwrap().to_string();
    for (transition, fields) in [
        ("open_investigation", json!({"reason": "Disputed charge"})),
        (
            "issue_initial_decision",
            json!({"decision": "La compañía le devolverá $40."}),
        ),
    ] {
        let r = call(
            reqwest::Method::POST,
            &format!("/cases/{reference}/transitions"),
        )
        .json(&json!({"transition": transition, "fields": fields}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "{transition}: {}", r.text().await.unwrap());
    }
    let queued: Vec<Value> = call(reqwest::Method::GET, "/letters?state=queued")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let batch: Value = call(reqwest::Method::POST, "/letter-batches")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = batch["id"].as_i64().unwrap();
    let today = batch["mail_on"].as_str().unwrap().to_string();
    let pdf = call(reqwest::Method::GET, &format!("/letter-batches/{id}/pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = pdftotext(&pdf.bytes().await.unwrap(), &t.dir);

    // Mailed today: the window starts from today, as the letter says.
    let mailed = call(
        reqwest::Method::POST,
        &format!("/letter-batches/{id}/mailed"),
    )
    .json(&json!({"mailed_on": today}))
    .send()
    .await
    .unwrap();
    assert_eq!(mailed.status(), 200);
    let clocks: Vec<Value> = call(reqwest::Method::GET, &format!("/cases/{reference}/clocks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let window = clocks
        .iter()
        .find(|c| c["name"] == "review_request_window")
        .unwrap_or_else(|| panic!("the review window started: {clocks:?}"));
    let due: jiff::Timestamp = window["due_at"].as_str().unwrap().parse().unwrap();
    let due_day = due
        .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .date();
    let words = redress_domain::calendar::date_in_words(due_day, true);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Rosa Díaz",
        "12 Main St",
        "Apt 4",
        "Albany NY 12207",
        reference.as_str(),
        "Decisión sobre su queja",
        "Página 1 de",
        words.as_str(),
        "Mailing list",
    ] {
        assert!(flat.contains(expected), "{expected:?} in:\n{text}");
    }
    let printed = redress_domain::calendar::date_in_words(today.parse().unwrap(), true);
    assert!(
        flat.contains(&format!("se envió el {printed}")),
        "the mailing date in Spanish: {text}"
    );
    // One letter as a PDF too.
    let one = call(
        reqwest::Method::GET,
        &format!("/letters/{}/pdf", queued[0]["id"]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(one.status(), 200);
    let one = pdftotext(&one.bytes().await.unwrap(), &t.dir);
    assert!(one.contains(&reference) && !one.contains("Mailing list"));
    drop(_node);
    if let Some(name) = &t.pg {
        let _ = redress_store::postgres::drop_database(&pg_admin(), name).await;
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[tokio::test]
async fn sqlite_a_batch_prints_and_its_mailing_starts_the_window() {
    print_and_mail(false).await;
}

#[tokio::test]
async fn postgres_a_batch_prints_and_its_mailing_starts_the_window() {
    print_and_mail(true).await;
}
