//! Two offices sharing one database: each report counts one office's cases when asked, sets
//! another office beside it, and its totals match a direct count of that office's cases.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use redress_domain::records::Office;
use serde_json::{Value, json};

async fn total(app: &TestApp, query: &str, key: &str) -> i64 {
    let r = app
        .get(Role::Analyst, &format!("/api/v1/reports/{query}"))
        .await;
    assert_eq!(r.status(), 200, "{query}: {:?}", r.text().await);
    let report: Value = r.json().await.unwrap();
    report["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == key)
        .unwrap_or_else(|| panic!("{key} in {report}"))[1]
        .as_i64()
        .unwrap()
}

both_stores!(
    a_report_counts_one_office_and_sets_another_beside_it,
    async |app: &TestApp| {
        app.store
            .ensure_office(&Office {
                code: "ALB".into(),
                name: "Albany office".into(),
                time_zone: "America/New_York".into(),
                opens_at: 9,
                closes_at: 17,
            })
            .await
            .unwrap();
        let mut refs = Vec::new();
        for i in 0..3 {
            let mut body = minimal_body();
            body["company_id"] = json!(app.company_id);
            body["consumer"]["phone"] = json!(format!("518-555-02{i:02}"));
            refs.push(
                app.create_case(&body).await["reference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let r = app
            .post_json(
                Role::Agent,
                &format!("/api/v1/cases/{}/timeline", refs[0]),
                &json!({"type": "call", "body": "Hotline call",
                    "call": {"direction": "inbound", "duration_seconds": 240}}),
            )
            .await;
        assert_eq!(r.status(), 201);
        // The first case was taken in by the Albany office.
        app.raw_sql(&["UPDATE cases SET office = 'ALB' WHERE id = (SELECT MIN(id) FROM cases)"])
            .await;
        let period = "from=2026-03-01&to=2026-03-31";
        for (office, expected) in [("", 3), ("&office=NYC", 2), ("&office=ALB", 1)] {
            assert_eq!(
                total(app, &format!("workload?{period}{office}"), "new").await,
                expected,
                "{office}"
            );
        }
        for office in ["NYC", "ALB"] {
            let direct = app
                .sql_count(
                    &format!("SELECT COUNT(*) FROM cases WHERE office = '{office}'"),
                    &[],
                )
                .await;
            assert_eq!(
                total(app, &format!("workload?{period}&office={office}"), "new").await,
                direct
            );
        }
        assert_eq!(
            total(app, &format!("hotline?{period}&office=ALB"), "calls").await,
            1
        );
        assert_eq!(
            total(app, &format!("hotline?{period}&office=NYC"), "calls").await,
            0
        );
        // Albany beside New York, row by row: this office, the other, the change.
        let r = app
            .get(
                Role::Analyst,
                &format!("/api/v1/reports/workload?{period}&office=ALB&compare_office=NYC"),
            )
            .await;
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["office"], "ALB");
        assert_eq!(report["compared_office"], "NYC");
        let comparison = report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "comparison")
            .unwrap();
        assert_eq!(
            comparison["columns"],
            json!(["total", "this_office", "other_office", "change_pct"])
        );
        let new = comparison["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == "new")
            .unwrap();
        assert_eq!((new[1].as_i64(), new[2].as_i64()), (Some(1), Some(2)));
        assert_eq!(new[3].as_f64(), Some(-50.0));
        // Every report runs for one office beside another, on either store.
        for name in [
            "workload",
            "backlog",
            "speed",
            "companies",
            "trends",
            "hotline",
            "root_causes",
        ] {
            let r = app
                .get(
                    Role::Analyst,
                    &format!("/api/v1/reports/{name}?{period}&office=ALB&compare_office=NYC"),
                )
                .await;
            assert_eq!(r.status(), 200, "{name}: {:?}", r.text().await);
        }
        assert_eq!(
            total(app, &format!("companies?{period}&office=ALB"), "complaints").await,
            1
        );
        // An office that is not one, or two comparisons at once, are refused by name.
        for (query, field) in [
            (format!("{period}&office=XYZ"), "office"),
            (format!("{period}&compare_office=XYZ"), "compare_office"),
            (
                format!(
                    "{period}&compare_office=NYC&compare_from=2026-02-01&compare_to=2026-02-28"
                ),
                "compare_office",
            ),
        ] {
            let r = app
                .get(Role::Analyst, &format!("/api/v1/reports/workload?{query}"))
                .await;
            assert_eq!(r.status(), 422, "{query}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["errors"][0]["field"], field, "{e}");
        }
        // The page offers the offices.
        let b = crate::pages::logged_in(app, "analyst").await;
        let (status, html) = crate::pages::page(
            &b,
            app,
            &format!("/reports/workload?{period}&office=ALB&compare_office=NYC&lang=es"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(html.contains("Comparar con la oficina"), "{html}");
        assert!(
            html.contains("<option value=\"ALB\" selected>Albany office</option>"),
            "{html}"
        );
        assert!(html.contains("Esta oficina"), "{html}");
    }
);
