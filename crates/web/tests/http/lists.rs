//! Work lists: every list of cases sorts by its columns, puts overdue cases first, pages, filters
//! and searches; a company's home lists its open cases by due date; supervisors see the team's
//! load and what falls due.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{logged_in, page};
use redress_domain::Role;
use serde_json::json;

const NOW: &str = "2026-03-09T14:30:00Z";

/// The references of a list's rows, in order.
fn rows(html: &str) -> Vec<String> {
    html.split("<th scope=\"row\"><a href=\"/cases/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// Thirty complaints, opened two days apart (the first 60 days ago, so the oldest have missed
/// their 30-business-day target), every other one about the test company, the first 27 given
/// to the agent. Consumer names run backwards (`Person 29` first).
async fn thirty_cases(app: &TestApp) -> Vec<String> {
    let now: jiff::Timestamp = NOW.parse().unwrap();
    let mut refs = Vec::new();
    for i in 0..30i64 {
        app.clock
            .set(now - jiff::SignedDuration::from_hours(24 * (60 - 2 * i)));
        let mut body = json!({
            "kind": "complaint", "channel": "phone", "unit": "CALL",
            "description": format!("Case number {i}"),
            "consumer": {"name": format!("Person {:02}", 29 - i), "email": format!("p{i}@example.org")},
        });
        if i % 2 == 0 {
            body["company_id"] = json!(app.company_id);
        }
        if i < 27 {
            body["assignee"] = json!("agent");
        }
        let r = app
            .post_json(Role::Supervisor, "/api/v1/cases", &body)
            .await;
        assert_eq!(r.status(), 201);
        let c: serde_json::Value = r.json().await.unwrap();
        refs.push(c["reference"].as_str().unwrap().to_string());
    }
    app.clock.set(now);
    refs
}

both_stores!(
    work_lists_sort_page_and_put_overdue_first,
    async |app: &TestApp| {
        let refs = thirty_cases(app).await;
        let b = logged_in(app, "agent").await;

        // By next deadline: the oldest (overdue) first; 25 to a page, the range said.
        let (status, html) = page(&b, app, "/cases?assignee=me").await;
        assert_eq!(status, 200);
        let first_page = rows(&html);
        assert_eq!(first_page.len(), 25);
        assert_eq!(first_page[..3], refs[..3]);
        assert!(html.contains("Cases 1–25 of 27"), "{html}");
        assert!(html.contains("class=\"overdue\"") && html.contains("Overdue since"));
        assert!(
            html.contains("Resolution target"),
            "the clock's label, not its key"
        );
        assert!(!html.contains("resolution_target"));
        assert!(html.contains("aria-sort=\"ascending\""));
        assert!(html.contains("rel=\"next\""));
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=due&page=2").await;
        assert_eq!(rows(&html), refs[25..27]);
        assert!(!html.contains("rel=\"next\"") && html.contains("rel=\"prev\""));

        // Only overdue: every row is marked.
        let (_, html) = page(&b, app, "/cases?assignee=me&overdue=1").await;
        let overdue = rows(&html);
        assert!(!overdue.is_empty() && overdue.len() < 27, "{overdue:?}");
        assert_eq!(
            html.matches("<tr class=\"overdue\">").count(),
            overdue.len()
        );

        // Each column sorts both ways.
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=consumer").await;
        assert_eq!(rows(&html)[0], refs[26], "Person 03 first");
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=consumer&dir=desc").await;
        assert_eq!(rows(&html)[0], refs[0], "Person 29 first");
        assert!(html.contains("aria-sort=\"descending\""));
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=age").await;
        assert_eq!(rows(&html)[0], refs[26], "the youngest first");
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=age&dir=desc").await;
        assert_eq!(rows(&html)[0], refs[0], "the oldest first");
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=reference&dir=desc").await;
        assert_eq!(rows(&html)[0], refs[26]);
        let (_, html) = page(&b, app, "/cases?assignee=me&sort=company").await;
        let by_company = rows(&html);
        assert_eq!(
            by_company[0], refs[26],
            "cases about a company first, newest first among them"
        );
        assert_eq!(by_company[13], refs[0]);

        // Filters: one company; nobody's cases; the whole office.
        let (_, html) = page(&b, app, &format!("/cases?company={}", app.company_id)).await;
        assert_eq!(rows(&html).len(), 15);
        assert!(html.contains("Only cases about Consolidated Edison."));
        let (_, html) = page(&b, app, "/cases?assignee=none").await;
        assert_eq!(
            rows(&html),
            refs[27..],
            "by next deadline, the oldest first"
        );
        let (_, html) = page(&b, app, "/cases?per_page=100").await;
        assert_eq!(rows(&html).len(), 30);

        // Filters that are not understood are named, and the list shows every open case.
        let (status, html) = page(&b, app, "/cases?sort=shoe_size&page=0&unit=NOPE").await;
        assert_eq!(status, 200);
        assert!(html.contains("Order: Choose one of the options."), "{html}");
        assert!(html.contains("Page: Enter a page number from 1."));
        let (_, html) = page(&b, app, "/cases?unit=NOPE").await;
        assert!(html.contains("Unit: Choose one of the options."), "{html}");
        assert_eq!(rows(&html).len(), 25);

        // Search: a partial reference, words of a description, a name; the header's search
        // opens a whole reference directly.
        let partial = refs[5].trim_start_matches("NYC-").to_string();
        let (_, html) = page(&b, app, &format!("/search?q={partial}")).await;
        assert_eq!(rows(&html), [refs[5].clone()], "{html}");
        let (_, html) = page(&b, app, "/search?q=number+7").await;
        assert_eq!(rows(&html), [refs[7].clone()]);
        // The row shows where the words are.
        assert!(
            html.contains("Case <mark>number</mark> <mark>7</mark></span>"),
            "{html}"
        );
        // Words are found as they are typed: "pers" finds "Person"; numbers are whole.
        let (_, html) = page(&b, app, "/search?q=pers+01").await;
        assert_eq!(rows(&html), [refs[28].clone()], "Person 01");
        assert!(html.contains("<td>Person 01"));
        let r = b
            .get(app.url(&format!("/search?q={}", refs[9])))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // An email names the person: their cases are the list.
        let (_, html) = page(&b, app, "/search?q=p4%40example.org").await;
        assert!(html.contains("People on file") && html.contains("Only the cases of Person 25."));
        assert_eq!(rows(&html), [refs[4].clone()]);

        // Analysts see the cases without the consumers, and cannot search by their details
        // (an email address on file); the letters on the timeline they do read.
        let b = logged_in(app, "analyst").await;
        let (_, html) = page(&b, app, "/cases").await;
        assert_eq!(rows(&html).len(), 25);
        assert!(!html.contains("Person 2") && !html.contains(">Consumer<"));
        let (_, html) = page(&b, app, "/cases?q=p4").await;
        assert!(rows(&html).is_empty());
        let agent = logged_in(app, "agent").await;
        let (_, html) = page(&agent, app, "/cases?q=p4").await;
        assert_eq!(rows(&html), [refs[4].clone()]);
    }
);

both_stores!(
    homes_show_work_by_deadline_for_agents_companies_and_supervisors,
    async |app: &TestApp| {
        let refs = thirty_cases(app).await;
        // The agent's home: their open cases, overdue first, fifteen of them and a way to all.
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, "/").await;
        let mine = html
            .split("id=\"mine\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap();
        assert_eq!(rows(mine).len(), 15);
        assert_eq!(rows(mine)[0], refs[0]);
        assert!(mine.contains("Cases 1–15 of 27"), "{mine}");
        assert!(mine.contains("href=\"/cases?assignee=me\""));

        // A company's home: its own open cases by response due, with whom to call.
        let b = logged_in(app, "company").await;
        let (_, html) = page(&b, app, "/").await;
        assert!(html.contains("Your company&#39;s open cases"), "{html}");
        assert!(
            !html.contains("Nothing of yours is due"),
            "no personal deadlines for a company"
        );
        let theirs = rows(&html);
        assert!(
            theirs.contains(&refs[0]) && !theirs.contains(&refs[1]),
            "{theirs:?}"
        );
        assert!(html.contains("Person 29"));
        let (_, html) = page(&b, app, "/cases?per_page=100").await;
        assert_eq!(rows(&html).len(), 15, "only the company's cases");

        // Supervisors: the team's load and what falls due, and the cases nobody has.
        let b = logged_in(app, "supervisor").await;
        let (_, html) = page(&b, app, "/supervisor").await;
        let agent_row = html
            .split("<a href=\"/cases?assignee=agent\">Test agent</a></th>")
            .nth(1)
            .unwrap_or_else(|| panic!("{html}"));
        assert!(agent_row.starts_with("<td></td><td>27</td>"), "{agent_row}");
        assert!(agent_row.contains("href=\"/cases?assignee=agent&amp;overdue=1\""));
        let unassigned = html.split("id=\"unassigned-title\"").nth(1).unwrap();
        assert_eq!(rows(unassigned), refs[27..]);
    }
);

/// Every row of a list, page by page, through an office that counts its lists up to `limit`
/// cases (a list longer than that is walked in the order of an index rather than sorted).
async fn every_row(
    app: &TestApp,
    limit: u32,
    request: &redress_app::lists::ListRequest,
) -> Vec<String> {
    let mut office = (*app.state).clone();
    office.settings.list_count_limit = limit;
    let agent = office
        .person_by_token(app.token(Role::Agent))
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut counts = Vec::new();
    for page in 1.. {
        let r = redress_app::lists::ListRequest {
            page,
            ..request.clone()
        };
        let list = office.case_list(&agent, &r).await.unwrap();
        counts.push((list.total, list.more, list.rows.len() as i64));
        out.extend(list.rows.iter().map(|w| w.case.reference.clone()));
        if !list.has_next() {
            break;
        }
        assert!(page < 200, "{request:?}");
    }
    // Each page counts the list up to the limit, and says whether it holds more; the last page
    // of a longer list, when it is not full, tells how many the list holds.
    let len = out.len() as i64;
    let limit = i64::from(limit);
    for (total, more, shown) in counts {
        let expected = if len > limit && shown > 0 && shown < request.per_page {
            (len, false)
        } else {
            (len.min(limit), len > limit)
        };
        assert_eq!((total, more), expected, "{request:?}");
    }
    out
}

both_stores!(
    long_lists_are_walked_to_the_same_pages_they_are_sorted_to,
    async |app: &TestApp| {
        let refs = thirty_cases(app).await;
        // Six more at one instant (the same age and deadlines: ties), and some cases closed
        // (no running clock) or waiting on the company (a second clock).
        let now: jiff::Timestamp = NOW.parse().unwrap();
        app.clock
            .set(now - jiff::SignedDuration::from_hours(24 * 20));
        // Two more companies whose names differ only in case, and four people whose names do:
        // each one's cases stay together.
        let mut twins = Vec::new();
        for name in ["AAA Power", "aaa power"] {
            let r = app
                .post_json(
                    Role::Admin,
                    "/api/v1/companies",
                    &json!({"name": name, "industry": "Energy", "customer_count": 10}),
                )
                .await;
            assert_eq!(r.status(), 201, "{:?}", r.text().await);
            let c: serde_json::Value = r.json().await.unwrap();
            twins.push(c["id"].as_i64().unwrap());
        }
        let names = ["Tied", "tied", "Tied", "TIED", "Tied 4", "Tied 5"];
        let mut tied = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            let mut body = json!({
                "kind": "complaint", "channel": "web", "unit": "CALL",
                "description": format!("Tied number {i}"),
                "consumer": {"name": name, "email": format!("t{i}@example.org")},
            });
            match i {
                0 | 2 => body["company_id"] = json!(app.company_id),
                3 | 4 => body["company_id"] = json!(twins[1]),
                5 => body["company_id"] = json!(twins[0]),
                _ => {}
            }
            tied.push(
                app.create_case(&body).await["reference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        app.clock.set(now);
        let referred = json!({"status": "pending_company", "reason": "Referred"});
        let closed = json!({"status": "closed", "reason": "Answered"});
        for (r, status) in [
            (&refs[4], &referred),
            (&refs[4], &closed),
            (&refs[10], &referred),
            (&refs[10], &closed),
            (&tied[0], &referred),
            (&tied[0], &closed),
            (&refs[20], &referred),
            (&tied[2], &referred),
        ] {
            let r = app
                .post_json(
                    Role::Supervisor,
                    &format!("/api/v1/cases/{r}/status"),
                    status,
                )
                .await;
            assert_eq!(r.status(), 200, "{:?}", r.text().await);
        }
        use redress_app::lists::{Assignee, ListRequest};
        use redress_domain::WorkOrder;
        let filters = [
            ListRequest::default(),
            ListRequest {
                open_only: false,
                ..ListRequest::default()
            },
            ListRequest {
                company_id: Some(app.company_id),
                open_only: false,
                ..ListRequest::default()
            },
            ListRequest {
                assignee: Some(Assignee::Me),
                ..ListRequest::default()
            },
            ListRequest {
                assignee: Some(Assignee::Nobody),
                open_only: false,
                ..ListRequest::default()
            },
            ListRequest {
                text: Some("number".into()),
                open_only: false,
                ..ListRequest::default()
            },
        ];
        let orders = [
            WorkOrder::Due,
            WorkOrder::Reference,
            WorkOrder::Consumer,
            WorkOrder::Company,
            WorkOrder::Stage,
            WorkOrder::Age,
            WorkOrder::Activity,
        ];
        for (n, filter) in filters.iter().enumerate() {
            for order in orders {
                for descending in [false, true] {
                    for per_page in [3, 25] {
                        let request = ListRequest {
                            order,
                            descending,
                            per_page,
                            ..filter.clone()
                        };
                        let sorted = every_row(app, 10_000, &request).await;
                        let walked = every_row(app, 1, &request).await;
                        assert_eq!(walked, sorted, "{request:?}");
                        let distinct: std::collections::BTreeSet<_> = sorted.iter().collect();
                        assert_eq!(distinct.len(), sorted.len(), "no case twice");
                        assert!(sorted.len() > 3, "{n}: {}", sorted.len());
                    }
                }
            }
        }
        // The sizes are those of the lists: open cases, and every case.
        let open = every_row(app, 10_000, &ListRequest::default()).await;
        assert_eq!(open.len(), 36 - 3);
        let all = ListRequest {
            open_only: false,
            ..ListRequest::default()
        };
        let every = every_row(app, 10_000, &all).await;
        assert_eq!(every.len(), 36);
        // By next deadline, the closed cases (no running clock) come last, oldest first.
        let closed_last: Vec<&String> = every[33..].iter().collect();
        assert_eq!(closed_last, [&refs[4], &refs[10], &tied[0]]);
        // By company: the names compared in lower case, each company's cases together (the
        // one added first first), newest first.
        let by_company = ListRequest {
            order: WorkOrder::Company,
            ..all.clone()
        };
        let walked = every_row(app, 1, &by_company).await;
        assert_eq!(
            walked[..3],
            [tied[5].clone(), tied[4].clone(), tied[3].clone()]
        );
        // The page of a list counted in part says so, and leads on while its pages are full.
        let counted_to_ten = app.serve_with(|s| s.list_count_limit = 10).await;
        let b = logged_in(app, "agent").await;
        let get = |path: String| {
            let b = b.clone();
            async move {
                let r = b.get(path).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.text().await.unwrap()
            }
        };
        let html = get(format!("{counted_to_ten}/cases?closed=1&per_page=25")).await;
        assert_eq!(rows(&html), every[..25]);
        assert!(html.contains("Cases 1–25 of more than 10"), "{html}");
        assert!(html.contains("rel=\"next\""));
        let html = get(format!(
            "{counted_to_ten}/cases?closed=1&per_page=25&page=2"
        ))
        .await;
        assert_eq!(rows(&html), every[25..]);
        assert!(
            html.contains("Cases 26–36 of 36"),
            "the last page knows: {html}"
        );
        assert!(!html.contains("rel=\"next\"") && html.contains("rel=\"prev\""));
        let html = get(format!("{counted_to_ten}/cases?closed=1&lang=es")).await;
        assert!(html.contains("Casos 1–25 de más de 10"), "{html}");
        // Page by page with a single row each, walked.
        let one = ListRequest {
            per_page: 1,
            ..all.clone()
        };
        assert_eq!(every_row(app, 1, &one).await, every);
        assert_eq!(every_row(app, 5, &one).await, every);
    }
);
