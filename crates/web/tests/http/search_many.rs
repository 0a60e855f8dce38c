//! Words found in thousands of cases: the date orders page through every match in order, with
//! no case twice or missed, exactly the matches the relevance order finds. (On SQLite, words in
//! this many cases are found by walking the cases in date order; fewer, by sorting the matches.)

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every case a search finds, page by page: (reference, opened_at).
async fn every_page(app: &TestApp, query: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/cases?{query}&limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(Role::Agent, &url).await;
        assert_eq!(r.status(), 200, "{url}: {:?}", r.text().await);
        let page: Value = r.json().await.unwrap();
        for c in page["items"].as_array().unwrap() {
            out.push((
                c["reference"].as_str().unwrap().to_string(),
                c["opened_at"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

both_stores!(
    words_in_thousands_of_cases_page_through_every_match_in_date_order,
    async |app: &TestApp| {
        let mapping = redress_app::import::load_mapping("nyc311").unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/nyc_311_sample_2016-09.csv.gz");
        let file = redress_app::import::ImportFile::open(&path, &mapping).unwrap();
        let summary = app
            .state
            .import_file(file, &mut |_| {}, &mut |_| {})
            .await
            .unwrap();
        assert!(summary.added > 3000, "{summary:?}");
        // Every case is filed under "City services > ...".
        let newest = every_page(app, "q=services&sort=newest").await;
        assert_eq!(newest.len() as u64, summary.added);
        let times: Vec<jiff::Timestamp> = newest.iter().map(|(_, t)| t.parse().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
        let refs: BTreeSet<&String> = newest.iter().map(|(r, _)| r).collect();
        assert_eq!(refs.len(), newest.len(), "no case twice");
        // Two words (each case has both) find the same list in the same order.
        assert_eq!(
            every_page(app, "q=city%20services&sort=newest").await,
            newest
        );
        // Oldest first is the same list the other way round.
        let mut oldest = every_page(app, "q=services&sort=oldest").await;
        oldest.reverse();
        let by_time =
            |v: &[(String, String)]| -> Vec<String> { v.iter().map(|(_, t)| t.clone()).collect() };
        assert_eq!(by_time(&oldest), by_time(&newest));
        // The relevance order finds exactly the same cases.
        let ranked = every_page(app, "q=services").await;
        let ranked_refs: BTreeSet<&String> = ranked.iter().map(|(r, _)| r).collect();
        assert_eq!(ranked_refs, refs);
        // A filter on top: the closed ones, newest first, are the closed ones among them.
        let closed = every_page(app, "q=services&status=closed&sort=newest").await;
        let direct = app
            .sql_count("SELECT COUNT(*) FROM cases WHERE status = 'closed'", &[])
            .await;
        assert_eq!(closed.len() as i64, direct);
        assert!(closed.len() > 100);
        let closed_times: Vec<jiff::Timestamp> =
            closed.iter().map(|(_, t)| t.parse().unwrap()).collect();
        assert!(closed_times.windows(2).all(|w| w[0] >= w[1]));
    }
);
