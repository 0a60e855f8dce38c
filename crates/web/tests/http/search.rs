//! `GET /api/v1/cases?q=WORDS`: full-text search over cases, their timelines and consumers,
//! combined with filters, sorted by date or relevance, with snippets and cursor pages; each role
//! searches only what it may read; and SQLite and PostgreSQL find the same cases.

use crate::both_stores;
use crate::harness::*;
use crate::packs::at;
use redress_domain::Role;
use serde_json::{Value, json};

async fn found(app: &TestApp, role: Role, query: &str) -> Vec<String> {
    let r = app.get(role, &format!("/api/v1/cases?{query}")).await;
    assert_eq!(r.status(), 200, "{query}: {:?}", r.text().await);
    let page: Value = r.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect()
}

async fn note(app: &TestApp, reference: &str, body: &str, visibility: &str) {
    let r = app
        .post_json(
            Role::Agent,
            &format!("/api/v1/cases/{reference}/timeline"),
            &json!({"type": "note", "body": body, "visibility": visibility}),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

/// A case to file: description, consumer, about the company?, channel, amount, flag, received.
type Filed<'a> = (
    &'a str,
    &'a str,
    bool,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
);

/// The office's cases, the same on any store: (reference, description, consumer, company?,
/// channel, amount, flag, received).
async fn file_cases(app: &TestApp) -> Vec<String> {
    let cases: &[Filed] = &[
        (
            "Estimated bill for March was three times the usual amount.",
            "José Núñez",
            true,
            "phone",
            Some("310.00"),
            None,
            "2026-11-02T14:00:00Z",
        ),
        (
            "Shut-off notice received although the payment plan is current.",
            "Ana Díaz",
            true,
            "web",
            None,
            Some("legislative"),
            "2026-11-03T14:00:00Z",
        ),
        (
            "Slamming: my long distance carrier was changed without consent.",
            "Luis Rivera",
            false,
            "mail",
            Some("45.10"),
            None,
            "2026-11-04T14:00:00Z",
        ),
        (
            "The gas meter runs fast; I ask for a meter test.",
            "María López",
            true,
            "phone",
            Some("120.00"),
            None,
            "2026-11-05T14:00:00Z",
        ),
        (
            "Refund of the deposit was promised in October and never came.",
            "Carmen Cruz",
            false,
            "email",
            Some("500.00"),
            Some("press"),
            "2026-11-06T14:00:00Z",
        ),
        (
            "Estimated readings for six months, then a catch-up bill.",
            "Sofía Reyes",
            true,
            "web",
            Some("980.25"),
            None,
            "2026-11-09T14:00:00Z",
        ),
    ];
    let mut refs = Vec::new();
    for (description, name, with_company, channel, amount, flag, when) in cases {
        at(app, when).await;
        let mut body = json!({"kind": "complaint", "channel": channel, "description": description,
            "consumer": {"name": name, "phone": "518-555-0100"}});
        if *with_company {
            body["company_id"] = json!(app.company_id);
        }
        if let Some(a) = amount {
            body["amount_in_dispute"] = json!(a);
        }
        if let Some(f) = flag {
            body["flags"] = json!([f]);
        }
        let c = app.create_case(&body).await;
        refs.push(c["reference"].as_str().unwrap().to_string());
    }
    at(app, "2026-11-10T15:00:00Z").await;
    note(
        app,
        &refs[0],
        "Called the utility: they admit the meter reader skipped the route.",
        "internal",
    )
    .await;
    note(
        app,
        &refs[0],
        "Please confirm the rebilling with actual readings.",
        "company",
    )
    .await;
    note(
        app,
        &refs[3],
        "Meter test scheduled at the premises; technician Ortiz.",
        "company",
    )
    .await;
    refs
}

both_stores!(words_filters_orders_and_pages, async |app: &TestApp| {
    let r = file_cases(app).await;
    // Every word must occur; case and accents do not matter.
    assert_eq!(set(app, "q=estimated+bill").await, sorted(&[&r[0], &r[5]]));
    assert_eq!(set(app, "q=ESTIMATED+bill").await, sorted(&[&r[0], &r[5]]));
    assert_eq!(
        set(app, "q=nunez").await,
        sorted(&[&r[0]]),
        "the consumer's name, accents folded"
    );
    assert_eq!(set(app, "q=N%C3%BA%C3%B1ez").await, sorted(&[&r[0]]));
    assert_eq!(set(app, "q=deposit+refund").await, sorted(&[&r[4]]));
    assert_eq!(set(app, "q=refun*").await, sorted(&[&r[4]]), "a prefix");
    assert_eq!(
        set(app, "q=meter+reader").await,
        sorted(&[&r[0]]),
        "an internal note"
    );
    assert_eq!(
        set(app, "q=ortiz").await,
        sorted(&[&r[3]]),
        "a shared entry"
    );
    assert_eq!(
        set(app, &format!("q={}", r[2])).await,
        sorted(&[&r[2]]),
        "the reference"
    );
    assert!(set(app, "q=nothinglikethis").await.is_empty());
    // Words and filters together.
    assert_eq!(set(app, "q=estimated&channel=web").await, sorted(&[&r[5]]));
    assert_eq!(
        set(app, "q=meter&amount_min=100&amount_max=200").await,
        sorted(&[&r[3]])
    );
    assert_eq!(set(app, "flag=legislative").await, sorted(&[&r[1]]));
    assert_eq!(
        set(app, "q=bill&opened_before=2026-11-05").await,
        sorted(&[&r[0]])
    );
    assert_eq!(
        set(app, "opened_after=2026-11-06&opened_before=2026-11-07").await,
        sorted(&[&r[4]])
    );
    assert_eq!(
        set(app, &format!("q=meter&company={}", app.company_id)).await,
        sorted(&[&r[0], &r[3]])
    );
    // Newest first by when received; oldest; relevance by default with words.
    assert_eq!(
        found(app, Role::Agent, "sort=oldest&limit=3").await,
        r[..3].to_vec()
    );
    let newest = found(app, Role::Agent, "limit=50").await;
    assert_eq!(newest, r.iter().rev().cloned().collect::<Vec<_>>());
    // A snippet marks the words, from text the reader may see.
    let page: Value = app
        .get(Role::Agent, "/api/v1/cases?q=catch-up")
        .await
        .json()
        .await
        .unwrap();
    let snippet = page["items"][0]["snippet"].as_array().unwrap();
    let hits: Vec<&str> = snippet
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(hits, ["catch", "up"]);
    // Pages: every case once, in order, for each sort.
    for sort in ["newest", "oldest"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/cases?sort={sort}&limit=2");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page: Value = app.get(Role::Agent, &path).await.json().await.unwrap();
            for c in page["items"].as_array().unwrap() {
                seen.push(c["reference"].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut expected = r.clone();
        if sort == "newest" {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{sort}");
    }
    // Overdue: the cases with a running deadline already missed, once time has passed.
    at(app, "2027-06-01T15:00:00Z").await;
    let mut running = app
        .sql_texts(
            "SELECT reference FROM cases WHERE id IN (SELECT case_id FROM clocks \
                 WHERE stopped_at IS NULL AND paused_at IS NULL)",
        )
        .await;
    running.sort();
    assert!(!running.is_empty());
    assert_eq!(set(app, "overdue=true").await, running);
    assert_eq!(set(app, "overdue=false").await.len(), r.len());
    // Mistakes are named.
    for (query, field) in [
        ("q=%2C%2C", "q"),
        ("sort=relevance", "sort"),
        ("sort=sideways", "sort"),
        ("cursor=12", "cursor"),
        ("amount_min=lots", "amount_min"),
        ("channel=pigeon", "channel"),
        ("overdue=maybe", "overdue"),
    ] {
        let resp = app
            .get(Role::Agent, &format!("/api/v1/cases?{query}"))
            .await;
        assert_eq!(resp.status(), 422, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body.to_string().contains(&format!("\"{field}\"")),
            "{query}: {body}"
        );
    }
});

both_stores!(
    each_role_searches_what_it_may_read,
    async |app: &TestApp| {
        let r = file_cases(app).await;
        // An internal note is not searched for a company; its shared entries are.
        assert!(
            set_as(app, Role::Company, "q=meter+reader")
                .await
                .is_empty()
        );
        assert_eq!(
            set_as(app, Role::Company, "q=ortiz").await,
            sorted(&[&r[3]])
        );
        assert_eq!(
            set_as(app, Role::Company, "q=rebilling").await,
            sorted(&[&r[0]])
        );
        // Never another company's (or no company's) case.
        assert!(set_as(app, Role::Company, "q=deposit").await.is_empty());
        assert!(set_as(app, Role::Company, "q=slamming").await.is_empty());
        // An analyst does not find cases by the consumer's details.
        assert!(set_as(app, Role::Analyst, "q=nunez").await.is_empty());
        assert!(set_as(app, Role::Analyst, "q=0100").await.is_empty());
        assert_eq!(
            set_as(app, Role::Analyst, "q=meter+reader").await,
            sorted(&[&r[0]])
        );
        // A company's snippet never shows an internal note.
        let page: Value = app
            .get(Role::Company, "/api/v1/cases?q=meter")
            .await
            .json()
            .await
            .unwrap();
        assert!(!page.to_string().contains("skipped the route"), "{page}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_stores_find_the_same_cases() {
    let lite = TestApp::spawn(Backend::Sqlite).await;
    let pg = TestApp::spawn(Backend::Postgres).await;
    let a = file_cases(&lite).await;
    let b = file_cases(&pg).await;
    assert_eq!(a, b, "the same references");
    for query in [
        "q=bill",
        "q=estimated+bill",
        "q=meter",
        "q=meter*",
        "q=d%C3%ADaz",
        "q=518+555",
        "q=the",
        "q=refund&sort=newest",
        "q=bill&sort=oldest",
        "q=meter&channel=phone",
        "q=estimated&amount_min=300",
        "sort=oldest",
        "open=true&limit=4",
    ] {
        for role in [Role::Agent, Role::Company, Role::Analyst] {
            let on_sqlite = found(&lite, role, query).await;
            let on_postgres = found(&pg, role, query).await;
            if query.contains("sort=") || !query.contains("q=") {
                assert_eq!(on_sqlite, on_postgres, "{query} as {role:?}");
            } else {
                // Relevance is scored differently by each engine: the same cases, any order.
                let mut x = on_sqlite.clone();
                let mut y = on_postgres.clone();
                x.sort();
                y.sort();
                assert_eq!(x, y, "{query} as {role:?}");
            }
        }
    }
    lite.finish().await;
    pg.finish().await;
}

fn sorted(refs: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = refs.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

async fn set(app: &TestApp, query: &str) -> Vec<String> {
    set_as(app, Role::Agent, query).await
}

async fn set_as(app: &TestApp, role: Role, query: &str) -> Vec<String> {
    let mut v = found(app, role, query).await;
    v.sort();
    v
}
