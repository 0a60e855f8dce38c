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
    // Day by day, in the office's days (the database counts in the spans the days make).
    for row in flow["rows"].as_array().unwrap() {
        let day: jiff::civil::Date = row[0].as_str().unwrap().parse().unwrap();
        let span = [
            start_of(&day.to_string()),
            start_of(&day.tomorrow().unwrap().to_string()),
        ];
        let on = |sql: &'static str| async move { app.sql_count(sql, &span).await };
        let opened = on("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND opened_at >= $1 AND opened_at < $2").await;
        let shut = on("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND closed_at >= $1 AND closed_at < $2").await;
        assert_eq!(
            (row[1].as_i64(), row[2].as_i64()),
            (Some(opened), Some(shut)),
            "{day}"
        );
    }
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
    // The running deadlines already due on open cases, by clock: now, and months later when
    // every open case's are.
    let overdue_at = |now: jiff::Timestamp| async move {
        app.sql_count(
            "SELECT COUNT(*) FROM clocks k JOIN cases c ON c.id = k.case_id WHERE k.stopped_at IS NULL \
             AND k.paused_at IS NULL AND k.due_at < $1 AND c.status NOT IN ('resolved', 'closed', 'merged')",
            &[now.as_microsecond()],
        )
        .await
    };
    let now = app.clock.now_ts();
    assert_eq!(total(&b, "overdue_now"), json!(overdue_at(now).await));
    at(app, "2027-03-01T15:00:00Z").await;
    let later = report(app, "backlog", "").await;
    let overdue = overdue_at(app.clock.now_ts()).await;
    assert!(
        overdue > total(&b, "overdue_now").as_i64().unwrap(),
        "{overdue}"
    );
    assert_eq!(total(&later, "overdue_now"), json!(overdue));
    assert_eq!(column_sum(&later["tables"][2], "cases"), overdue);
    at(app, &now.to_string()).await;

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
    assert_report_rows_exact(app).await;
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM case_stats WHERE reopenings = 1", &[])
            .await,
        1
    );
});

/// Each case's row of `case_stats` made from the rows it copies: the case's columns, the
/// summary of its timeline counted from the entries, its response clocks and its facts.
macro_rules! case_stats_direct {
    () => {
        "SELECT c.id, t.first_contact_at, t.response_entry_at, COALESCE(t.responses, 0), \
         COALESCE(t.timely_responses, 0), COALESCE(t.escalated, 0), COALESCE(t.reopenings, 0), \
         c.opened_at, c.closed_at, c.status, c.office, c.company_id, c.category_id, \
         (SELECT MIN(CASE WHEN k.outcome = 'met' THEN 1 ELSE 0 END) FROM clocks k \
           WHERE k.case_id = c.id AND k.name = 'company_response' AND k.stopped_at IS NOT NULL), \
         (SELECT MIN(k.stopped_at) FROM clocks k \
           WHERE k.case_id = c.id AND k.name = 'company_response' AND k.outcome = 'met'), \
         (SELECT f.value FROM case_facts f WHERE f.case_id = c.id AND f.name = 'root_cause'), \
         (SELECT f.value FROM case_facts f WHERE f.case_id = c.id AND f.name = 'outcome') \
         FROM cases c LEFT JOIN (SELECT t.case_id, \
         MIN(CASE WHEN t.entry_type = 'call' OR (t.entry_type IN ('email', 'letter') AND t.author_id IS NOT NULL) THEN t.at END) AS first_contact_at, \
         MIN(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' THEN t.at END) AS response_entry_at, \
         SUM(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' THEN 1 ELSE 0 END) AS responses, \
         SUM(CASE WHEN t.data LIKE '%\"event\":\"company_response\"%' AND t.data LIKE '%\"timely\":true%' THEN 1 ELSE 0 END) AS timely_responses, \
         MAX(CASE WHEN t.entry_type = 'status_change' AND t.data LIKE '%\"to_status\":\"escalated\"%' THEN 1 ELSE 0 END) AS escalated, \
         SUM(CASE WHEN t.entry_type = 'status_change' \
           AND (t.data LIKE '%\"from_status\":\"closed\"%' OR t.data LIKE '%\"from_status\":\"resolved\"%') \
           AND t.data NOT LIKE '%\"to_status\":\"closed\"%' AND t.data NOT LIKE '%\"to_status\":\"resolved\"%' THEN 1 ELSE 0 END) AS reopenings \
         FROM timeline t WHERE t.entry_type IN ('call', 'email', 'letter', 'status_change') \
         OR t.data LIKE '%\"event\":\"company_response\"%' GROUP BY t.case_id) t ON t.case_id = c.id"
    };
}
/// `case_stats` as the direct form lists it.
macro_rules! case_stats_kept {
    () => {
        "SELECT case_id, first_contact_at, response_entry_at, responses, timely_responses, escalated, reopenings, \
         opened_at, closed_at, status, office, company_id, category_id, response_clock_met, response_clock_at, \
         root_cause, outcome FROM case_stats"
    };
}
const CASE_STATS_DIRECT_ROWS: &str = concat!("SELECT COUNT(*) FROM (", case_stats_direct!(), ") d");
/// Rows made from the cases that `case_stats` lacks or has otherwise, and the reverse.
const CASE_STATS_MISSING: &str = concat!(
    "SELECT COUNT(*) FROM (",
    case_stats_direct!(),
    " EXCEPT ",
    case_stats_kept!(),
    ") x"
);
const CASE_STATS_EXTRA: &str = concat!(
    "SELECT COUNT(*) FROM (",
    case_stats_kept!(),
    " EXCEPT ",
    case_stats_direct!(),
    ") x"
);
/// The reports' rows (`case_stats` and `call_stats`, kept by triggers) are exactly what the rows
/// they copy give: a row a case, a row a call.
pub(crate) async fn assert_report_rows_exact(app: &TestApp) {
    let cases = app.sql_count("SELECT COUNT(*) FROM cases", &[]).await;
    assert!(cases > 0);
    assert_eq!(app.sql_count(CASE_STATS_DIRECT_ROWS, &[]).await, cases);
    assert_eq!(
        app.sql_count(CASE_STATS_MISSING, &[]).await,
        0,
        "case_stats lacks"
    );
    assert_eq!(
        app.sql_count(CASE_STATS_EXTRA, &[]).await,
        0,
        "case_stats has more"
    );
    assert_eq!(app.sql_count(CALL_STATS_OFF, &[]).await, 0, "call_stats");
}

/// A row of `call_stats` for every call entry, and none other.
const CALL_STATS_OFF: &str = "SELECT COUNT(*) FROM timeline t FULL JOIN call_stats s ON s.entry_id = t.id \
     WHERE (t.entry_type = 'call' AND (s.entry_id IS NULL OR s.case_id <> t.case_id OR s.at <> t.at)) \
     OR (s.entry_id IS NOT NULL AND (t.id IS NULL OR t.entry_type <> 'call'))";

both_stores!(
    reports_are_for_those_who_read_them_and_mistakes_are_named,
    async |app: &TestApp| {
        for role in [Role::Agent, Role::Company] {
            let r = app.get(role, "/api/v1/reports/workload").await;
            assert_eq!(r.status(), 403, "{role:?}");
        }
        for role in [
            Role::Analyst,
            Role::Supervisor,
            Role::Manager,
            Role::Auditor,
        ] {
            let r = app.get(role, "/api/v1/reports/backlog").await;
            assert_eq!(r.status(), 200, "{role:?}");
        }
        assert_eq!(
            app.get(Role::Analyst, "/api/v1/reports/nonsense")
                .await
                .status(),
            404
        );
        for (query, field) in [
            ("from=2026-11-10&to=2026-11-01", "from"),
            ("from=yesterday", "from"),
            ("format=pdf", "format"),
            ("interval=hour", "interval"),
            ("by=planet", "by"),
            ("target_days=0", "target_days"),
            ("color=blue", "color"),
            ("from=2020-01-01&to=2026-01-01", "from"),
        ] {
            let r = app
                .get(Role::Analyst, &format!("/api/v1/reports/workload?{query}"))
                .await;
            assert_eq!(r.status(), 422, "{query}");
            let body: Value = r.json().await.unwrap();
            assert!(
                body.to_string().contains(&format!("\"{field}\"")),
                "{query}: {body}"
            );
        }
    }
);

both_stores!(
    report_pages_draw_a_chart_and_tables_in_both_languages,
    async |app: &TestApp| {
        use crate::pages::{logged_in, page};
        let r = open(app, "2026-11-03T15:00:00Z", true, "complaint").await;
        open(app, "2026-11-04T15:00:00Z", false, "complaint").await;
        close(app, &r, "2026-11-05T15:00:00Z").await;
        at(app, "2026-11-20T15:00:00Z").await;
        // The analyst's home is the reports.
        let b = logged_in(app, "analyst").await;
        let home = b.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status(), 303);
        assert_eq!(home.headers()["location"], "/reports");
        let (status, html) = page(&b, app, "/reports").await;
        assert_eq!(status, 200);
        for name in [
            "workload",
            "backlog",
            "speed",
            "companies",
            "trends",
            "hotline",
            "root_causes",
        ] {
            assert!(
                html.contains(&format!("href=\"/reports/{name}\"")),
                "{name}"
            );
            let (status, html) = page(
                &b,
                app,
                &format!("/reports/{name}?from={FROM}&to={TO}&lang=en"),
            )
            .await;
            assert_eq!(status, 200, "{name}: {html}");
            assert!(
                html.contains("<svg") && html.contains("role=\"img\""),
                "{name}: a chart"
            );
            assert!(
                html.contains("<table class=\"report\">")
                    || html.contains("Nothing in this period."),
                "{name}: tables {html}"
            );
            assert!(
                html.contains(&format!("/reports/{name}/download?format=xlsx")),
                "{name}"
            );
            let (status, es) = page(
                &b,
                app,
                &format!("/reports/{name}?from={FROM}&to={TO}&lang=es"),
            )
            .await;
            assert_eq!(status, 200);
            assert!(es.contains("lang=\"es\""), "{name}");
        }
        let (_, html) = page(
            &b,
            app,
            &format!("/reports/workload?from={FROM}&to={TO}&lang=es"),
        )
        .await;
        assert!(
            html.contains("Carga de trabajo") && html.contains("Abiertos al final"),
            "{html}"
        );
        // The page's totals are the API's.
        let (_, html) = page(
            &b,
            app,
            &format!("/reports/workload?from={FROM}&to={TO}&lang=en"),
        )
        .await;
        assert!(html.contains("<dt>New</dt><dd>2</dd>"), "{html}");
        let csv = b
            .get(app.url(&format!(
                "/reports/workload/download?format=csv&from={FROM}&to={TO}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        assert!(
            csv.text()
                .await
                .unwrap()
                .starts_with("period,new,closed,open_at_end")
        );
        // A mistake is named on the page; nothing else is drawn.
        let (status, html) = page(
            &b,
            app,
            "/reports/speed?from=2026-11-30&to=2026-11-01&lang=en",
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("error-summary") && !html.contains("<svg"),
            "{html}"
        );
        // Agents do not read reports; supervisors reach them from the menu.
        let agent = logged_in(app, "agent").await;
        let (status, _) = page(&agent, app, "/reports/workload").await;
        assert_eq!(status, 403);
        let sup = logged_in(app, "supervisor").await;
        let (_, html) = page(&sup, app, "/").await;
        assert!(html.contains("href=\"/reports\""));
    }
);

both_stores!(
    root_causes_recorded_at_close_are_reported_and_periods_compared,
    async |app: &TestApp| {
        // The office's list: readable by staff, kept by managers.
        let list: Value = app
            .get(Role::Agent, "/api/v1/root-causes")
            .await
            .json()
            .await
            .unwrap();
        assert!(list.to_string().contains("billing_error"), "{list}");
        let cause = json!({"code": "meter_access", "name": "No access to the meter", "name_es": "Sin acceso al medidor"});
        assert_eq!(
            app.post_json(Role::Agent, "/api/v1/root-causes", &cause)
                .await
                .status(),
            403
        );
        assert_eq!(
            app.post_json(Role::Manager, "/api/v1/root-causes", &cause)
                .await
                .status(),
            200
        );
        let bad = app
            .post_json(
                Role::Manager,
                "/api/v1/root-causes",
                &json!({"code": "No Spaces!", "name": ""}),
            )
            .await;
        assert_eq!(bad.status(), 422);
        let bad: Value = bad.json().await.unwrap();
        assert!(
            bad.to_string().contains("\"code\"") && bad.to_string().contains("\"name\""),
            "{bad}"
        );

        let a = open(app, "2026-11-03T15:00:00Z", true, "complaint").await;
        let b = open(app, "2026-11-04T15:00:00Z", true, "complaint").await;
        let c = open(app, "2026-11-05T15:00:00Z", false, "complaint").await;
        at(app, "2026-11-06T15:00:00Z").await;
        let status = |r: &str| format!("/api/v1/cases/{r}/status");
        // Not when the case is not closing; not a cause the office lacks.
        let r = app
            .post_json(Role::Supervisor, &status(&a), &json!({"status": "pending_company", "reason": "Sent", "root_cause": "billing_error"}))
            .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("root_cause"));
        let r = app
            .post_json(
                Role::Supervisor,
                &status(&a),
                &json!({"status": "pending_company", "reason": "Sent"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .post_json(Role::Supervisor, &status(&a), &json!({"status": "closed", "reason": "Credited", "root_cause": "no_such_cause", "outcome": "partly"}))
            .await;
        assert_eq!(r.status(), 422);
        let r = app
            .post_json(Role::Supervisor, &status(&a), &json!({"status": "closed", "reason": "Credited", "root_cause": "billing_error", "outcome": "partly"}))
            .await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        app.post_json(
            Role::Supervisor,
            &status(&b),
            &json!({"status": "pending_company", "reason": "Sent"}),
        )
        .await;
        let r = app
            .post_json(Role::Supervisor, &status(&b), &json!({"status": "closed", "reason": "No access", "root_cause": "meter_access", "outcome": "not_in_favour"}))
            .await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        close(app, &c, "2026-11-07T15:00:00Z").await;
        at(app, "2026-11-20T15:00:00Z").await;

        let (from, to) = (start_of(FROM), start_of("2026-11-16"));
        let rc = report(app, "root_causes", "").await;
        let closed = app
            .sql_count("SELECT COUNT(*) FROM cases WHERE status <> 'merged' AND closed_at >= $1 AND closed_at < $2", &[from, to])
            .await;
        let with_cause = app
            .sql_count(
                "SELECT COUNT(*) FROM cases c JOIN case_facts f ON f.case_id = c.id AND f.name = 'root_cause' \
                 WHERE c.closed_at >= $1 AND c.closed_at < $2",
                &[from, to],
            )
            .await;
        assert_eq!((closed, with_cause), (3, 2));
        assert_eq!(total(&rc, "closed"), json!(closed));
        assert_eq!(total(&rc, "with_root_cause"), json!(with_cause));
        let causes = &rc["tables"][0];
        assert_eq!(column_sum(causes, "cases"), closed);
        let row = |code: &str| {
            causes["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r[0] == code)
                .unwrap_or_else(|| panic!("{code} in {causes}"))
                .clone()
        };
        assert_eq!(
            row("billing_error").as_array().unwrap()[1..].to_vec(),
            [json!(1), json!(0), json!(1), json!(0), json!(0), json!(0)]
        );
        assert_eq!(row("meter_access")[4], json!(1));
        assert_eq!(row("not_recorded")[6], json!(1));
        assert_eq!(rc["tables"][1]["rows"][0][0], "Consolidated Edison");

        // Two periods side by side: the other is empty.
        let w = report(
            app,
            "workload",
            "&compare_from=2026-10-01&compare_to=2026-10-14",
        )
        .await;
        let cmp = w["tables"].as_array().unwrap().last().unwrap();
        assert_eq!(cmp["key"], "comparison");
        let new = cmp["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == "new")
            .unwrap();
        assert_eq!(new[1], total(&w, "new"));
        assert_eq!(new[2], json!(0));
        assert_eq!(w["compared"], json!(["2026-10-01", "2026-10-14"]));
        let r = app
            .get(
                Role::Analyst,
                "/api/v1/reports/workload?compare_from=2026-10-01",
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("compare_to"));
        // The closing step on the case page offers the causes in the page's language.
        let b = crate::pages::logged_in(app, "agent").await;
        let d = open(app, "2026-11-20T16:00:00Z", true, "complaint").await;
        let (_, html) = crate::pages::page(&b, app, &format!("/cases/{d}?lang=es")).await;
        assert!(
            html.contains("Sin acceso al medidor") && html.contains("Causa de fondo"),
            "{html}"
        );
        crate::reports::assert_report_rows_exact(app).await;
    }
);

both_stores!(
    complaints_per_100k_count_against_the_years_customers,
    async |app: &TestApp| {
        let path = format!("/api/v1/companies/{}/customers", app.company_id);
        let list: Value = app.get(Role::Agent, &path).await.json().await.unwrap();
        assert_eq!(list, json!([]));
        let put = |role: Role, year: &str, body: Value| {
            let url = format!("{path}/{year}");
            async move {
                app.req(role, reqwest::Method::PUT, &url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            put(Role::Agent, "2026", json!({"customers": 200000}))
                .await
                .status(),
            403
        );
        assert_eq!(
            put(Role::Manager, "twenty", json!({"customers": 200000}))
                .await
                .status(),
            422
        );
        assert_eq!(
            put(Role::Manager, "2026", json!({"customers": -1}))
                .await
                .status(),
            422
        );
        let missing = app
            .req(
                Role::Manager,
                reqwest::Method::PUT,
                "/api/v1/companies/999999/customers/2026",
            )
            .json(&json!({"customers": 5}))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(
            put(Role::Manager, "2026", json!({"customers": 200000}))
                .await
                .status(),
            200
        );
        assert_eq!(
            put(Role::Manager, "2025", json!({"customers": 150000}))
                .await
                .status(),
            200
        );
        let list: Value = app.get(Role::Agent, &path).await.json().await.unwrap();
        assert_eq!(
            list,
            json!([{"year": 2025, "customers": 150000}, {"year": 2026, "customers": 200000}])
        );
        open(app, "2026-11-03T15:00:00Z", true, "complaint").await;
        open(app, "2026-11-04T15:00:00Z", true, "complaint").await;
        at(app, "2026-11-20T15:00:00Z").await;
        let c = report(app, "companies", "").await;
        let row = &c["tables"][0]["rows"][0];
        assert_eq!(row[3], json!(2));
        assert_eq!(row[4], json!(200000), "the customers of 2026");
        assert_eq!(row[5], json!(1.0), "2 complaints per 200,000 customers");
        // A period ending in 2025 counts against 2025's customers.
        let r: Value = app
            .get(
                Role::Analyst,
                "/api/v1/reports/companies?from=2025-12-01&to=2025-12-31",
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["tables"][0]["rows"], json!([]), "no complaints then");
    }
);
