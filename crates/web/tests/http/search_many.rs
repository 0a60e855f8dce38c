//! Words found in thousands of cases: the date orders page through every match in order, with
//! no case twice or missed, exactly the matches the relevance order finds. (On SQLite, words in
//! this many cases are found by walking the cases in date order; fewer, by sorting the matches.)

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::Value;
use std::collections::BTreeSet;

/// Files the NYC 311 sample (three thousand requests, each under "City services > ...").
async fn import_311(app: &TestApp) -> redress_app::import::ImportSummary {
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
    // On SQLite the import ends with its search index merged (its seven batches wrote a
    // segment each), and the write-ahead log the merge filled copied into the database and
    // emptied.
    if app.backend == Backend::Sqlite {
        assert_eq!(
            app.sql_count("SELECT COUNT(DISTINCT segid) FROM case_search_idx", &[])
                .await,
            1
        );
        let path = app.database_url.trim_start_matches("sqlite:");
        let log = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
        assert_eq!(log, 0, "the write-ahead log after the import");
    }
    summary
}

/// Every case a search finds, page by page: (reference, opened_at).
async fn every_page(app: &TestApp, query: &str) -> Vec<(String, String)> {
    pages_of(app, query, 500).await
}

/// Every case a search finds, `limit` a page.
async fn pages_of(app: &TestApp, query: &str, limit: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/cases?{query}&limit={limit}");
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
        let summary = import_311(app).await;
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
        // A prefix (its matches gathered once rather than probed case by case) finds the same.
        assert_eq!(every_page(app, "q=servic*&sort=newest").await, newest);
        // A word in some of the cases: every one of its matches, newest first, once.
        let borough = every_page(app, "q=brooklyn&sort=newest").await;
        let borough_refs: BTreeSet<&String> = borough.iter().map(|(r, _)| r).collect();
        assert_eq!(borough_refs.len(), borough.len(), "no case twice");
        assert!(
            borough.len() > 300 && borough.len() < newest.len(),
            "{}",
            borough.len()
        );
        let ranked_borough = every_page(app, "q=brooklyn").await;
        assert_eq!(
            ranked_borough
                .iter()
                .map(|(r, _)| r)
                .collect::<BTreeSet<_>>(),
            borough_refs
        );
        let borough_times: Vec<jiff::Timestamp> =
            borough.iter().map(|(_, t)| t.parse().unwrap()).collect();
        assert!(borough_times.windows(2).all(|w| w[0] >= w[1]));
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

both_stores!(
    a_word_in_few_of_thousands_of_cases_pages_alike_in_small_pages_and_large,
    async |app: &TestApp| {
        import_311(app).await;
        // "construction" is in a few in a hundred of the requests. In pages of three,
        // PostgreSQL looks for each page among the matches received in a window of the newest
        // (or oldest) cases after the cursor, widened when it holds too few; in pages of 500 it
        // sorts every match. SQLite sorts its matches both ways.
        let windows_before = windows_asked(app).await;
        for query in [
            "q=construction&sort=newest",
            "q=construction&sort=oldest",
            "q=construction&sort=newest&status=closed",
        ] {
            let whole = every_page(app, query).await;
            // Several pages of three, and a small share of the cases.
            assert!(
                whole.len() > 9 && whole.len() < 200,
                "{query}: {}",
                whole.len()
            );
            let small = pages_of(app, query, 3).await;
            assert_eq!(small, whole, "{query}");
        }
        if app.backend == Backend::Postgres {
            // The dates' index was asked (the windows' edges and cases): the pages of three
            // were found through windows. A server process reports its counts when it goes
            // idle, at most once a second, else ten seconds later (PostgreSQL 15's
            // PGSTAT_IDLE_INTERVAL), so the count may take that long to show.
            let mut asked = windows_asked(app).await;
            for _ in 0..250 {
                if asked > windows_before {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                asked = windows_asked(app).await;
            }
            assert!(asked > windows_before, "{windows_before} -> {asked}");
        }
    }
);

/// How many times PostgreSQL has scanned the index of when cases were received beside their
/// words (0 on SQLite, which has none).
async fn windows_asked(app: &TestApp) -> i64 {
    if app.backend != Backend::Postgres {
        return 0;
    }
    app.sql_count(
        "SELECT COALESCE(SUM(idx_scan), 0)::BIGINT FROM pg_stat_user_indexes \
         WHERE indexrelname = 'case_search_opened'",
        &[],
    )
    .await
}

/// Every case a search by relevance finds, page by page (`limit` a page), through an office
/// whose relevance pool is `pool`: the references, in order.
async fn ranked_pages(app: &TestApp, pool: u32, query: &[(&str, &str)], limit: u32) -> Vec<String> {
    let mut office = (*app.state).clone();
    office.settings.relevance_pool = pool;
    let agent = office
        .person_by_token(app.token(Role::Agent))
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q: std::collections::HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        q.insert("limit".into(), limit.to_string());
        if let Some(c) = &cursor {
            q.insert("cursor".into(), c.clone());
        }
        let page = office.list_cases(&agent, &q).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items.into_iter().map(|h| h.case.reference));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

both_stores!(
    words_in_very_many_cases_rank_the_recent_matches_first_then_the_older,
    async |app: &TestApp| {
        import_311(app).await;
        // Each case's id, by its reference.
        let ids: std::collections::HashMap<String, i64> = app
            .sql_texts("SELECT reference || ' ' || CAST(id AS TEXT) FROM cases")
            .await
            .iter()
            .map(|t| {
                let (r, id) = t.split_once(' ').unwrap();
                (r.to_string(), id.parse().unwrap())
            })
            .collect();
        let last = app.sql_count("SELECT MAX(id) FROM cases", &[]).await;
        // "brooklyn" is in about a third of the requests: it weighs in a ranking. Every match,
        // ranked together:
        let all = ranked_pages(app, 0, &[("q", "brooklyn")], 500).await;
        assert!(all.len() > 600 && all.len() < 1_500, "{}", all.len());
        // How common the word is: of the last 1,000 cases, or judged by 250 from the middle
        // of the store, whichever says more.
        let recent = all
            .iter()
            .filter(|r| ids[*r] > last - redress_store::RECENT_CASES)
            .count() as i64;
        assert!(recent > 100, "{recent}");
        let middle = last / 2 - redress_store::OLDER_CASES / 2;
        let older = all
            .iter()
            .filter(|r| ids[*r] > middle && ids[*r] <= middle + redress_store::OLDER_CASES)
            .count() as i64
            * redress_store::RECENT_CASES
            / redress_store::OLDER_CASES;
        let density = recent.max(older);
        for (pool, limit) in [(100, 7), (100, 50), (300, 500)] {
            let tiered = ranked_pages(app, pool, &[("q", "brooklyn")], limit).await;
            // Every match once, none missed, whatever the page size.
            let set: BTreeSet<&String> = tiered.iter().collect();
            assert_eq!(
                set.len(),
                tiered.len(),
                "no case twice (pool {pool}, limit {limit})"
            );
            assert_eq!(set, all.iter().collect::<BTreeSet<_>>());
            // The recent tier first: the cases filed last that are expected to hold about
            // `pool` matches, ranked as among all the matches; then each older tier, expected
            // to hold four times the matches of the one before, ranked the same way.
            let tiers = redress_store::ranked_tiers(i64::from(pool), density, last);
            // A pool of 100 (about 300 cases) reaches back in three tiers, of 300 the rest in two.
            assert!(
                tiers.len() >= if pool == 100 { 3 } else { 2 },
                "pool {pool}: {tiers:?}"
            );
            let first = i64::from(pool) * redress_store::RECENT_CASES / density;
            assert_eq!(tiers[0].0, last - first, "pool {pool}");
            let mut expected = Vec::new();
            for (above, upto) in &tiers {
                let tier: Vec<&String> = all
                    .iter()
                    .filter(|r| ids[*r] > *above && ids[*r] <= *upto)
                    .collect();
                expected.extend(tier);
            }
            let newer = all.iter().filter(|r| ids[*r] > tiers[0].0).count();
            assert!(
                newer as i64 > i64::from(pool) / 2 && newer < all.len(),
                "pool {pool}: {newer} recent matches"
            );
            assert_eq!(
                tiered.iter().collect::<Vec<_>>(),
                expected,
                "pool {pool}, limit {limit}"
            );
        }
        // With a filter, the tiers hold the matches that pass it: the closed ones, each once.
        let closed = ranked_pages(app, 100, &[("q", "brooklyn"), ("status", "closed")], 40).await;
        let closed_newest = every_page(app, "q=brooklyn&status=closed&sort=newest").await;
        assert!(closed.len() > 100, "{}", closed.len());
        assert_eq!(
            closed.iter().collect::<BTreeSet<_>>(),
            closed_newest
                .iter()
                .map(|(r, _)| r)
                .collect::<BTreeSet<_>>()
        );
        assert_eq!(closed.iter().collect::<BTreeSet<_>>().len(), closed.len());
        // A pool larger than the cases ranks every match together, as with no pool.
        assert_eq!(
            ranked_pages(app, 10_000, &[("q", "brooklyn")], 500).await,
            all
        );
        // A word in half of the cases or more ("services" is in every one) does not weigh:
        // with "brooklyn" it only chooses the matches, ranked as by "brooklyn" alone...
        for pool in [0, 100] {
            assert_eq!(
                ranked_pages(app, pool, &[("q", "services brooklyn")], 50).await,
                ranked_pages(app, pool, &[("q", "brooklyn")], 50).await,
                "pool {pool}"
            );
        }
        // ... and alone, no word weighs: the matches come newest first.
        let newest: Vec<String> = every_page(app, "q=services&sort=newest")
            .await
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(newest.len(), ids.len());
        assert_eq!(
            ranked_pages(app, 0, &[("q", "services")], 500).await,
            newest
        );
        assert_eq!(
            ranked_pages(app, 300, &[("q", "services")], 40).await,
            newest
        );
    }
);

both_stores!(
    the_minutes_sweep_merges_the_small_pieces_writes_leave_in_the_search_index,
    async |app: &TestApp| {
        import_311(app).await;
        // Cases opened one at a time: each writes its own small piece of the index.
        for i in 0..12 {
            app.create_case(&serde_json::json!({
                "kind": "complaint", "channel": "phone", "unit": "CALL",
                "description": format!("Upkeep case {i} about a quokka"),
                "consumer": {"name": format!("Upkeep {i}"), "email": format!("u{i}@example.org")},
            }))
            .await;
        }
        let (before, after) = app.state.tidy_search_index().await.unwrap();
        if app.backend == Backend::Sqlite {
            let segments = app
                .sql_count("SELECT COUNT(DISTINCT segid) FROM case_search_idx", &[])
                .await;
            assert!(before > 2, "{before} segments before");
            assert_eq!(after, segments);
            assert!(after <= 2, "{before} segments, then {after}");
            // The small pieces become one; nothing is left to merge after that.
            assert_eq!(app.state.tidy_search_index().await.unwrap().1, after);
        } else {
            assert_eq!((before, after), (0, 0));
        }
        // Every case is still found, the new ones and the imported ones.
        let r = app
            .get(Role::Agent, "/api/v1/cases?q=quokka&limit=50")
            .await;
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 12);
        let r = app
            .get(
                Role::Agent,
                "/api/v1/cases?q=brooklyn&sort=newest&limit=500",
            )
            .await;
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 500);
    }
);

both_stores!(
    words_walked_in_windows_page_alike_in_small_pages_and_large_and_find_what_the_ranking_finds,
    async |app: &TestApp| {
        import_311(app).await;
        // A prefix, and a word in some in ten of the requests, alone and with filters. On
        // SQLite these are walked in windows of the newest (or oldest) cases, each gathering
        // the matches among its ids; in pages of three the first windows are small and are
        // widened, and a status filter walks the cases that pass it alone.
        for (query, ranked) in [
            ("q=brookl*&sort=newest", "q=brookl*"),
            ("q=brookl*&sort=oldest", "q=brookl*"),
            (
                "q=brookl*&sort=newest&status=closed",
                "q=brookl*&status=closed",
            ),
            ("q=bronx&sort=newest", "q=bronx"),
            ("q=bronx&sort=oldest&status=closed", "q=bronx&status=closed"),
        ] {
            let whole = every_page(app, query).await;
            assert!(whole.len() > 50, "{query}: {}", whole.len());
            let times: Vec<jiff::Timestamp> =
                whole.iter().map(|(_, t)| t.parse().unwrap()).collect();
            if query.contains("oldest") {
                assert!(times.windows(2).all(|w| w[0] <= w[1]), "{query}");
            } else {
                assert!(times.windows(2).all(|w| w[0] >= w[1]), "{query}");
            }
            let refs: BTreeSet<&String> = whole.iter().map(|(r, _)| r).collect();
            assert_eq!(refs.len(), whole.len(), "{query}: no case twice");
            assert_eq!(pages_of(app, query, 3).await, whole, "{query}");
            let by_relevance = every_page(app, ranked).await;
            assert_eq!(
                by_relevance.iter().map(|(r, _)| r).collect::<BTreeSet<_>>(),
                refs,
                "{query}"
            );
        }
    }
);
