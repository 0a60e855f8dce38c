//! `GET /api/v1/reports/{name}`: every report's totals against direct counts of the same
//! rows, its CSV and XLSX, who may read them, and the mistakes named.

use crate::both_stores;
use crate::harness::*;
use crate::packs::at;
use redress_domain::Role;
use serde_json::{Value, json};

const FROM: &str = "2026-11-02";
const TO: &str = "2026-11-15";

/// The instant a day starts in the office (New York).
fn start_of(day: &str) -> i64 {
    let d: jiff::civil::Date = day.parse().unwrap();
    d.to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .unwrap()
        .timestamp()
        .as_microsecond()
}

async fn open(app: &TestApp, when: &str, with_company: bool, kind: &str) -> String {
    at(app, when).await;
    let mut body = minimal_body();
    body["kind"] = json!(kind);
    if kind == "hotline" {
        body["channel"] = json!("hotline");
    } else {
        body["lifecycle"] = json!("utility_complaint");
    }
    if with_company {
        body["company_id"] = json!(app.company_id);
    }
    app.create_case(&body).await["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn close(app: &TestApp, reference: &str, when: &str) {
    at(app, when).await;
    // Whatever the case's lifecycle, walk the statuses it allows towards closed.
    let mut visited: Vec<String> = Vec::new();
    for _ in 0..8 {
        let r = app
            .post_json(
                Role::Supervisor,
                &format!("/api/v1/cases/{reference}/status"),
                &json!({"status": "closed", "reason": "Resolved with the company"}),
            )
            .await;
        if r.status() == 200 {
            return;
        }
        let problem: Value = r.json().await.unwrap();
        let allowed: Vec<&str> = problem["allowed"]
            .as_array()
            .unwrap_or_else(|| panic!("{problem}"))
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let next = ["resolved", "closed"]
            .into_iter()
            .find(|s| allowed.contains(s))
            .or_else(|| {
                allowed
                    .iter()
                    .copied()
                    .find(|a| !visited.iter().any(|v| v == a))
            })
            .unwrap_or_else(|| panic!("{allowed:?} after {visited:?}"));
        visited.push(next.to_string());
        let r = app
            .post_json(
                Role::Supervisor,
                &format!("/api/v1/cases/{reference}/status"),
                &json!({"status": next, "reason": "On the way to closing"}),
            )
            .await;
        assert_eq!(r.status(), 200, "{next}: {:?}", r.text().await);
    }
    panic!("{reference} did not close");
}

async fn call(app: &TestApp, reference: &str, when: &str, seconds: i64, wait: Option<i64>) {
    at(app, when).await;
    let mut call = json!({"direction": "inbound", "duration_seconds": seconds});
    if let Some(w) = wait {
        call["wait_seconds"] = json!(w);
    }
    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{reference}/timeline"),
            &json!({"type": "call", "body": "Hotline call", "call": call}),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

async fn report(app: &TestApp, name: &str, extra: &str) -> Value {
    let r = app
        .get(
            Role::Analyst,
            &format!("/api/v1/reports/{name}?from={FROM}&to={TO}{extra}"),
        )
        .await;
    assert_eq!(r.status(), 200, "{name}: {:?}", r.text().await);
    r.json().await.unwrap()
}

fn total(r: &Value, key: &str) -> Value {
    r["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == key)
        .unwrap_or_else(|| panic!("{key} in {r}"))[1]
        .clone()
}

fn column_sum(table: &Value, column: &str) -> i64 {
    let i = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == column)
        .unwrap();
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[i].as_i64().unwrap_or(0))
        .sum()
}

both_stores!(report_totals_match_direct_counts, async |app: &TestApp| {
    // Before the period: one closed before it starts, one still open.
    let early = open(app, "2026-10-20T14:00:00Z", true, "complaint").await;
    open(app, "2026-10-21T14:00:00Z", false, "complaint").await;
    close(app, &early, "2026-10-25T14:00:00Z").await;
    // In it: complaints about the company and others, a hotline call line.
    let mut inside = Vec::new();
    for (i, day) in [2, 3, 3, 5, 9, 10, 12, 15].iter().enumerate() {
        let when = format!("2026-11-{day:02}T{:02}:00:00Z", 14 + i % 3);
        inside.push(open(app, &when, i % 2 == 0, "complaint").await);
    }
    // A case opened late on the 15th in New York (early on the 16th in UTC) is inside.
    inside.push(open(app, "2026-11-16T03:30:00Z", true, "complaint").await);
    // After the period: not counted.
    open(app, "2026-11-16T15:00:00Z", true, "complaint").await;
    let hotline = open(app, "2026-11-04T13:00:00Z", false, "hotline").await;
    close(app, &inside[0], "2026-11-06T15:00:00Z").await;
    close(app, &inside[1], "2026-11-13T15:00:00Z").await;
    close(app, &inside[2], "2026-11-20T15:00:00Z").await;
    call(app, &hotline, "2026-11-04T13:05:00Z", 300, Some(12)).await;
    call(app, &hotline, "2026-11-04T13:40:00Z", 240, Some(45)).await;
    call(app, &hotline, "2026-11-05T18:00:00Z", 600, Some(20)).await;
    call(app, &hotline, "2026-11-06T18:00:00Z", 100, None).await;
    at(app, "2026-11-25T15:00:00Z").await;

    let (from, to) = (start_of(FROM), start_of("2026-11-16"));
    let count = |sql: &'static str| async move { app.sql_count(sql, &[from, to]).await };

    // Workload.
    let w = report(app, "workload", "").await;
    let new = count("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND opened_at >= $1 AND opened_at < $2").await;
    let closed = count("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND closed_at >= $1 AND closed_at < $2").await;
    let open_end = count("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND opened_at < $2 AND (closed_at IS NULL OR closed_at >= $2) AND $1 = $1").await;
    let open_start = count("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND opened_at < $1 AND (closed_at IS NULL OR closed_at >= $1) AND $2 = $2").await;
    assert_eq!(new, 10, "eight, the late one, the hotline");
    assert_eq!(total(&w, "new"), json!(new));
    assert_eq!(total(&w, "closed"), json!(closed));
    assert_eq!(total(&w, "open_at_end"), json!(open_end));
    assert_eq!(total(&w, "open_at_start"), json!(open_start));
    let flow = &w["tables"][0];
    assert_eq!(flow["rows"].as_array().unwrap().len(), 14, "a row a day");
    assert_eq!(column_sum(flow, "new"), new);
    assert_eq!(column_sum(flow, "closed"), closed);
    assert_eq!(
        column_sum(&w["tables"][1], "new"),
        new,
        "the breakdown adds up"
    );
    assert_eq!(
        w["chart"]["series"][0]["values"].as_array().unwrap().len(),
        14
    );
    let weekly = report(app, "workload", "&interval=week&by=company").await;
    assert_eq!(weekly["tables"][0]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(weekly["tables"][1]["columns"][0], "company");

    // Backlog at the end of the period.
    let b = report(app, "backlog", "").await;
    assert_eq!(total(&b, "open"), json!(open_end));
    assert_eq!(column_sum(&b["tables"][0], "cases"), open_end);

    // Speed: the cases closed in the period.
    let s = report(app, "speed", "&target_days=5").await;
    assert_eq!(total(&s, "closed"), json!(closed));
    assert_eq!(closed, 2);
    assert_eq!(
        total(&s, "within_target_pct"),
        json!(50.0),
        "4 days and 10 days"
    );

    // Companies: complaints about each company in the period.
    let c = report(app, "companies", "").await;
    let about = app
            .sql_count(
                "SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND company_id = $3 AND opened_at >= $1 AND opened_at < $2",
                &[from, to, app.company_id],
            )
            .await;
    assert_eq!(total(&c, "complaints"), json!(about));
    let row = &c["tables"][0]["rows"][0];
    assert_eq!(row[1], "Consolidated Edison");
    assert_eq!(row[3], json!(about));
    let customers = row[4].as_f64().unwrap();
    let rate = (about as f64 * 100_000.0 / customers * 10.0).round() / 10.0;
    assert_eq!(row[5].as_f64().unwrap(), rate, "per 100,000 customers");
    let before = app
        .sql_count(
            "SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND company_id = $3 AND opened_at >= $1 AND opened_at < $2",
            &[start_of("2026-10-19"), from, app.company_id],
        )
        .await;
    assert_eq!(before, 1, "the one of October 20");
    assert_eq!(row[6], json!(before), "the two weeks before");

    // Trends: the same cases, week by week.
    let t = report(app, "trends", "").await;
    assert_eq!(total(&t, "cases"), json!(new));
    assert_eq!(column_sum(&t["tables"][0], "cases"), new);

    // Hotline: inbound calls, their handle time, speed of answer and service level.
    let h = report(app, "hotline", "&answer_seconds=30").await;
    let calls = count("SELECT COUNT(*) FROM timeline WHERE entry_type = 'call' AND at >= $1 AND at < $2 AND data NOT LIKE '%outbound%'").await;
    assert_eq!(total(&h, "calls"), json!(calls));
    assert_eq!(calls, 4);
    assert_eq!(total(&h, "aht_seconds"), json!(310.0));
    assert_eq!(total(&h, "asa_seconds"), json!(25.7));
    assert_eq!(
        total(&h, "service_level_pct"),
        json!(66.7),
        "two of three within 30 s"
    );
    assert_eq!(column_sum(&h["tables"][0], "calls"), calls);

    // CSV: the first table; XLSX: a workbook.
    let r = app
        .get(
            Role::Manager,
            &format!("/api/v1/reports/workload?from={FROM}&to={TO}&format=csv"),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("workload-2026-11-02-2026-11-15.csv")
    );
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("period,new,closed,open_at_end"));
    assert_eq!(lines.count(), 14);
    for name in [
        "workload",
        "backlog",
        "speed",
        "companies",
        "trends",
        "hotline",
    ] {
        let r = app
            .get(
                Role::Supervisor,
                &format!("/api/v1/reports/{name}?from={FROM}&to={TO}&format=xlsx"),
            )
            .await;
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(
            r.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{name}: a zip");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("xl/worksheets/sheet2.xml"),
            "{name}: a sheet per table"
        );
    }
    // What the speed and company reports read of each timeline (`case_stats`, kept by a
    // trigger) is what a count over the entries themselves gives, row for row.
    let reopened = app
        .post_json(
            Role::Supervisor,
            &format!("/api/v1/cases/{}/status", inside[0]),
            &json!({"status": "open", "reason": "The consumer wrote again"}),
        )
        .await;
    assert_eq!(reopened.status(), 200, "{:?}", reopened.text().await);
    assert!(app.sql_count(CASE_STATS_DIRECT_ROWS, &[]).await > 0);
    assert_eq!(app.sql_count(CASE_STATS_MISSING, &[]).await, 0);
    assert_eq!(app.sql_count(CASE_STATS_EXTRA, &[]).await, 0);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM case_stats WHERE reopenings = 1", &[])
            .await,
        1
    );
});

/// The summary of each case's timeline, counted from the entries.
macro_rules! case_stats_direct {
    () => {
        "SELECT t.case_id, \
         MIN(CASE WHEN t.entry_type = 'call' OR (t.entry_type IN ('email', 'letter') AND t.author_id IS NOT NULL) THEN t.at END), \
         MIN(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' THEN t.at END), \
         SUM(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' AND t.data LIKE '%\"timely\":true%' THEN 1 ELSE 0 END), \
         MAX(CASE WHEN t.entry_type = 'status_change' AND t.data LIKE '%\"to_status\":\"escalated\"%' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN t.entry_type = 'status_change' \
           AND (t.data LIKE '%\"from_status\":\"closed\"%' OR t.data LIKE '%\"from_status\":\"resolved\"%') \
           AND t.data NOT LIKE '%\"to_status\":\"closed\"%' AND t.data NOT LIKE '%\"to_status\":\"resolved\"%' THEN 1 ELSE 0 END) \
         FROM timeline t WHERE t.entry_type IN ('call', 'email', 'letter', 'status_change') \
         OR t.data LIKE '%\"event\":\"company_response\"%' GROUP BY t.case_id"
    };
}
const CASE_STATS_DIRECT_ROWS: &str = concat!("SELECT COUNT(*) FROM (", case_stats_direct!(), ") d");
/// Rows counted from the entries that `case_stats` lacks or has otherwise, and the reverse.
const CASE_STATS_MISSING: &str = concat!(
    "SELECT COUNT(*) FROM (",
    case_stats_direct!(),
    " EXCEPT SELECT case_id, first_contact_at, response_entry_at, responses, timely_responses, escalated, reopenings \
     FROM case_stats) x"
);
const CASE_STATS_EXTRA: &str = concat!(
    "SELECT COUNT(*) FROM (SELECT case_id, first_contact_at, response_entry_at, responses, timely_responses, \
     escalated, reopenings FROM case_stats EXCEPT ",
    case_stats_direct!(),
    ") x"
);
