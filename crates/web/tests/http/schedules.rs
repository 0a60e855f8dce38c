//! Scheduled reports: a report emailed to a list once each week or month is over, with its file
//! attached, once however many nodes run the sweep; the week's spikes only when there are some;
//! bad schedules refused by field, and nothing kept.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::{Value, json};

fn mail_files(app: &TestApp) -> Vec<String> {
    let dir = app.files_dir().join("mail");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|f| std::fs::read_to_string(f.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

both_stores!(
    a_weekly_report_goes_to_its_list_once_the_week_is_over,
    async |app: &TestApp| {
        // Monday 9 March 2026.
        app.create_case(&minimal_body()).await;
        let r = app
            .post_json(
                Role::Manager,
                "/api/v1/report-schedules",
                &json!({"report": "workload", "every": "week",
                    "recipients": ["director@example.gov", " press@example.gov", "director@example.gov"]}),
            )
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let s: Value = r.json().await.unwrap();
        assert_eq!(s["last_period_to"], "2026-03-08");
        assert_eq!(s["format"], "xlsx");
        assert_eq!(
            s["recipients"],
            json!(["director@example.gov", "press@example.gov"])
        );
        // The week it was made in is not over: nothing goes out.
        assert_eq!(app.state.send_scheduled_reports().await.unwrap(), 0);
        assert_eq!(
            app.count("outbox").await,
            1,
            "only the case's acknowledgement"
        );
        // The next Monday, the week of 9 to 15 March goes out once, even with two nodes at it.
        app.clock.set("2026-03-16T13:00:00Z".parse().unwrap());
        let (a, b) = tokio::join!(
            app.state.send_scheduled_reports(),
            app.state.send_scheduled_reports()
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1);
        assert_eq!(app.state.send_scheduled_reports().await.unwrap(), 0);
        assert_eq!(app.count("outbox").await, 3);
        assert_eq!(app.count("outbox_attachments").await, 2);
        redress_app::outbox::deliver_due(&app.state).await.unwrap();
        let sent: Vec<String> = mail_files(app)
            .into_iter()
            .filter(|m| m.contains("Workload report"))
            .collect();
        assert_eq!(sent.len(), 2);
        for eml in &sent {
            assert!(
                eml.contains("Subject: Workload report, 2026-03-09 to 2026-03-15"),
                "{eml}"
            );
            assert!(
                eml.contains("\"workload-2026-03-09-2026-03-15.xlsx\""),
                "{eml}"
            );
            assert!(eml.contains("spreadsheetml.sheet"), "{eml}");
            // The workbook itself: a ZIP file, base64 `UEsDB...`.
            assert!(eml.contains("UEsDB"), "{eml}");
            assert!(eml.contains("Auto-Submitted: auto-generated"));
        }
        assert!(sent.iter().any(|m| m.contains("To: press@example.gov")));
        let body = sent[0].replace("=\r\n", "").replace("=\n", "");
        assert!(body.contains("new: 1"), "{body}");
        assert!(
            body.contains(
                "https://complaints.example.gov/reports/workload?from=2026-03-09&to=2026-03-15"
            ) || body.contains("from=3D2026-03-09"),
            "{body}"
        );
        // The log says who scheduled it.
        assert_eq!(
            app.sql_count(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'report_schedule.add' AND actor = 'manager'",
                &[]
            )
            .await,
            1
        );
    }
);

both_stores!(
    spikes_are_emailed_only_in_a_week_that_has_them,
    async |app: &TestApp| {
        let r = app
            .post_json(
                Role::Analyst,
                "/api/v1/report-schedules",
                &json!({"report": "spikes", "every": "week", "format": "csv",
                    "language": "es", "recipients": ["analistas@example.gov"]}),
            )
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        // A quiet week: the period is done, and nobody is written to.
        app.clock.set("2026-03-16T13:00:00Z".parse().unwrap());
        assert_eq!(app.state.send_scheduled_reports().await.unwrap(), 0);
        assert_eq!(app.count("outbox").await, 0);
        let list: Value = app
            .get(Role::Analyst, "/api/v1/report-schedules")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list[0]["last_period_to"], "2026-03-15");
        // A week with many complaints about one company, after eight quiet ones, is a spike.
        for i in 0..8 {
            let mut body = minimal_body();
            body["company_id"] = json!(app.company_id);
            body["consumer"]["phone"] = json!(format!("518-555-01{i:02}"));
            app.create_case(&body).await;
        }
        app.clock.set("2026-03-23T13:00:00Z".parse().unwrap());
        assert_eq!(app.state.send_scheduled_reports().await.unwrap(), 1);
        redress_app::outbox::deliver_due(&app.state).await.unwrap();
        let sent = mail_files(app);
        let eml = sent
            .iter()
            .find(|m| m.contains("analistas@example.gov"))
            .expect("the spikes were sent");
        assert!(
            eml.contains("\"spikes-2026-03-16-2026-03-22.csv\""),
            "{eml}"
        );
        assert!(eml.contains("Aumentos"), "{eml}");
        assert!(
            eml.contains("- Consolidated Edison (empresa): 8 casos"),
            "{eml}"
        );
    }
);

both_stores!(
    a_bad_schedule_is_refused_by_field_and_only_report_readers_keep_them,
    async |app: &TestApp| {
        for (body, field) in [
            (
                json!({"report": "weather", "every": "week", "recipients": ["a@example.gov"]}),
                "report",
            ),
            (
                json!({"report": "speed", "every": "daily", "recipients": ["a@example.gov"]}),
                "every",
            ),
            (
                json!({"report": "speed", "every": "week", "recipients": []}),
                "recipients",
            ),
            (
                json!({"report": "speed", "every": "week", "recipients": ["a@example.gov", "not an address"]}),
                "recipients[1]",
            ),
            (
                json!({"report": "speed", "every": "week", "format": "pdf", "recipients": ["a@example.gov"]}),
                "format",
            ),
            (
                json!({"report": "speed", "every": "week", "language": "fr", "recipients": ["a@example.gov"]}),
                "language",
            ),
        ] {
            let r = app
                .post_json(Role::Manager, "/api/v1/report-schedules", &body)
                .await;
            assert_eq!(r.status(), 422, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["errors"][0]["field"], field, "{e}");
            assert_eq!(e["errors"].as_array().unwrap().len(), 1, "{e}");
        }
        let good = json!({"report": "speed", "every": "month", "recipients": ["a@example.gov"]});
        for role in [Role::Agent, Role::Auditor, Role::Company] {
            let r = app.post_json(role, "/api/v1/report-schedules", &good).await;
            assert_eq!(r.status(), 403, "{role:?}");
        }
        assert_eq!(app.count("report_schedules").await, 0);
        // On the reports page: a wrong address is named in the form, then a good one is kept
        // and can be stopped.
        let b = logged_in(app, "supervisor").await;
        let (status, html) = page(&b, app, "/reports?lang=es").await;
        assert_eq!(status, 200);
        assert!(html.contains("Informes programados"), "{html}");
        let token = csrf(&html);
        let form = |recipients: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("report", "companies".to_string()),
                ("every", "month".to_string()),
                ("format", "xlsx".to_string()),
                ("language", "es".to_string()),
                ("recipients", recipients.to_string()),
            ]
        };
        let send = |f: Vec<(&'static str, String)>| {
            let b = b.clone();
            let url = app.url("/reports/schedules");
            async move { b.post(url).form(&f).send().await.unwrap() }
        };
        let r = send(form("director@example.gov\nnot-an-address")).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("href=\"#recipients\""), "{html}");
        assert_eq!(app.count("report_schedules").await, 0);
        let r = send(form("director@example.gov\nprensa@example.gov")).await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, "/reports").await;
        assert!(
            html.contains("director@example.gov, prensa@example.gov"),
            "{html}"
        );
        let list: Value = app
            .get(Role::Supervisor, "/api/v1/report-schedules")
            .await
            .json()
            .await
            .unwrap();
        let id = list[0]["id"].as_i64().unwrap();
        let r = post(
            &b,
            app,
            &format!("/reports/schedules/{id}/remove"),
            &[("csrf", &token)],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.count("report_schedules").await, 0);
    }
);
