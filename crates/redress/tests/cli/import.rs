//! `redress import csv`: the CFPB and NYC 311 samples through the built-in mappings, refused
//! rows in the errors file, a second run that adds nothing, custom mappings, and a mapping that
//! names a column the file lacks refused before anything is read; on SQLite and PostgreSQL.

use super::{Target, run, target};
use std::io::Write;

const CFPB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/cfpb_complaints_sample.csv.gz"
);
const NYC311: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/nyc_311_sample_2016-09.csv.gz"
);

async fn count(t: &Target, sql: &str) -> i64 {
    if t.pg.is_some() {
        let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// The numbers from the summary line: (rows, added, imported before, refused).
fn summary(out: &str) -> (i64, i64, i64, i64) {
    let number_before = |word: &str| -> i64 {
        let at = out
            .find(word)
            .unwrap_or_else(|| panic!("{word:?} in {out}"));
        out[..at]
            .split_whitespace()
            .last()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number before {word:?} in {out}"))
    };
    (
        number_before(" rows read"),
        number_before(" cases added"),
        number_before(" imported before"),
        number_before(" refused"),
    )
}

/// The first `n` data rows of a gzip CSV, as a gzip file in the target's directory.
fn slice(source: &str, n: usize, t: &Target, name: &str) -> std::path::PathBuf {
    let file = std::fs::File::open(source).expect("../shared/data is needed beside the project");
    let mut reader = csv::Reader::from_reader(flate2::read::GzDecoder::new(file));
    let path = t.dir.join(name);
    let out = std::fs::File::create(&path).unwrap();
    let mut w = csv::Writer::from_writer(flate2::write::GzEncoder::new(
        out,
        flate2::Compression::fast(),
    ));
    w.write_record(reader.headers().unwrap()).unwrap();
    for r in reader.records().take(n) {
        w.write_record(&r.unwrap()).unwrap();
    }
    w.into_inner().unwrap().finish().unwrap();
    path
}

async fn samples(pg: bool) {
    let t = target(pg, if pg { "import_pg" } else { "import_lite" }).await;
    // SQLite takes the whole CFPB sample; PostgreSQL its first 1,500 rows (the same reader and
    // mapping, a shorter run).
    let cfpb = if pg {
        slice(CFPB, 1500, &t, "cfpb.csv.gz").display().to_string()
    } else {
        CFPB.to_string()
    };
    let (code, out, err) = run(&["import", "csv", &cfpb, "--mapping", "cfpb"], &t, None);
    assert_eq!(code, 0, "{out}{err}");
    let (rows, added, before, refused) = summary(&out);
    assert_eq!(before, 0, "{out}");
    assert_eq!(rows, added + refused, "{out}");
    assert!(added > rows * 99 / 100, "{out}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM cases").await, added);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM case_sources WHERE source = 'cfpb'"
        )
        .await,
        added
    );
    // Filed as sets, the cases are what one-by-one filing makes: each indexed for search once,
    // with its own reference, and its audit row verifies against its row and timeline.
    assert_eq!(count(&t, "SELECT COUNT(*) FROM case_search").await, added);
    assert_eq!(
        count(&t, "SELECT COUNT(DISTINCT reference) FROM cases").await,
        added
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'case.create' AND seq = 1"
        )
        .await,
        added
    );
    let (code, out, err) = run(&["audit", "verify"], &t, None);
    assert_eq!(code, 0, "{out}{err}");
    // On PostgreSQL an import of a thousand cases or more ends by refreshing the planner's
    // statistics; one that adds nothing, or few among many, leaves them.
    const VACUUMS: &str = "SELECT COALESCE(MAX(vacuum_count), 0) FROM pg_stat_user_tables \
         WHERE relname = 'cases'";
    if pg {
        assert_eq!(count(&t, VACUUMS).await, 1);
    }
    // On SQLite the import held FTS5's merging of the search index while it filed its batches
    // and set it going again at its end; a store whose import stopped half way (merging still
    // held) has it going again once it opens.
    const AUTOMERGE: &str =
        "SELECT CAST(v AS BIGINT) FROM case_search_config WHERE k = 'automerge'";
    if !pg {
        assert_eq!(count(&t, AUTOMERGE).await, 4);
        let pool = sqlx::SqlitePool::connect(&t.url).await.unwrap();
        sqlx::query("INSERT INTO case_search (case_search, rank) VALUES ('automerge', 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(count(&t, AUTOMERGE).await, 0);
        let (code, out, err) = run(&["audit", "verify"], &t, None);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(count(&t, AUTOMERGE).await, 4);
    }
    // The company responses the reports count, kept in `case_stats` as the entries went in.
    let responses = count(
        &t,
        "SELECT COUNT(*) FROM timeline WHERE data LIKE '%\"event\":\"company_response\"%'",
    )
    .await;
    assert!(responses > added / 2, "{responses}");
    assert_eq!(
        count(
            &t,
            "SELECT CAST(COALESCE(SUM(responses), 0) AS BIGINT) FROM case_stats"
        )
        .await,
        responses
    );
    assert_eq!(
        count(
            &t,
            "SELECT CAST(COALESCE(SUM(timely_responses), 0) AS BIGINT) FROM case_stats"
        )
        .await,
        count(
            &t,
            "SELECT COUNT(*) FROM timeline WHERE data LIKE '%\"event\":\"company_response\"%' \
             AND data LIKE '%\"timely\":true%'"
        )
        .await
    );
    if !pg {
        // The sample's one narrative longer than a description may be is reported with its row.
        let errors =
            std::fs::read_to_string(t.dir.join("cfpb_complaints_sample.csv.gz.errors.csv"))
                .expect("an errors file");
        assert!(errors.starts_with("row,line,reason\n"), "{errors}");
        assert!(
            errors.contains("24,37,description: At most 20000 characters"),
            "{errors}"
        );
        assert_eq!(errors.lines().count() as i64, refused + 1, "{errors}");
        // Complaint 3556830: web, referred to Experian, closed with explanation, on time.
        let cases = count(
            &t,
            "SELECT COUNT(*) FROM cases c JOIN case_sources s ON s.case_id = c.id \
             JOIN companies co ON co.id = c.company_id \
             WHERE s.external_id = '3556830' AND c.status = 'closed' AND c.channel = 'web' \
             AND co.name = 'Experian Information Solutions Inc.' AND c.closed_at IS NOT NULL",
        )
        .await;
        assert_eq!(cases, 1);
        let entries = count(
            &t,
            "SELECT COUNT(*) FROM timeline t JOIN case_sources s ON s.case_id = t.case_id \
             WHERE s.external_id = '3556830'",
        )
        .await;
        assert_eq!(entries, 5, "opened, imported, referred, response, closed");
        // Imported history starts no clocks.
        assert_eq!(count(&t, "SELECT COUNT(*) FROM clocks").await, 0);
    }
    // The second run adds nothing.
    let (code, out, err) = run(&["import", "csv", &cfpb, "--mapping", "cfpb"], &t, None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out), (rows, 0, added, refused), "{out}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM cases").await, added);
    if pg {
        assert_eq!(count(&t, VACUUMS).await, 1);
    }

    let (code, out, err) = run(
        &[
            "import",
            "csv",
            NYC311,
            "--mapping",
            "nyc311",
            "--errors",
            "311-errors.csv",
        ],
        &t,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (rows311, added311, _, refused311) = summary(&out);
    assert_eq!(rows311, 3101, "{out}");
    assert_eq!(rows311, added311 + refused311);
    if pg {
        // 3,000 and more added to 1,500: a refresh.
        assert_eq!(count(&t, VACUUMS).await, 2);
    }
    let errors = std::fs::read_to_string(t.dir.join("311-errors.csv")).expect("errors file");
    // Rows the city closed before they were opened are reported, not fatal.
    assert!(
        errors.contains("closed: Closed before it was received."),
        "{errors}"
    );
    // Every closed request has its closing on its timeline.
    let closed = count(
        &t,
        "SELECT COUNT(*) FROM cases c JOIN case_sources s ON s.case_id = c.id \
         WHERE s.source = 'nyc311' AND c.status = 'closed' AND c.closed_at IS NOT NULL",
    )
    .await;
    assert!(closed > 2500, "{closed}");
    let closings = count(
        &t,
        "SELECT COUNT(*) FROM timeline t JOIN case_sources s ON s.case_id = t.case_id \
         WHERE s.source = 'nyc311' AND t.entry_type = 'status_change'",
    )
    .await;
    assert_eq!(closed, closings);
    // Each request was referred to the city's agency.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM timeline WHERE body = 'Referred to Department of Health and Mental Hygiene'"
        )
        .await,
        added311
    );
    if let Some(name) = &t.pg {
        redress_store::postgres::drop_database(&super::pg_admin(), name)
            .await
            .ok();
    }
}

#[tokio::test]
async fn the_samples_import_on_sqlite() {
    samples(false).await;
}

#[tokio::test]
async fn the_samples_import_on_postgres() {
    samples(true).await;
}

#[tokio::test]
async fn a_custom_mapping_reads_its_file_and_reports_bad_rows() {
    let t = target(false, "import_custom").await;
    let mapping = t.dir.join("office.toml");
    std::fs::write(
        &mapping,
        r#"
source = "old-system"
date_format = "%d/%m/%Y"
company_industry = "Energy"

[fields]
external_id = { column = "Ticket" }
received = { column = "Opened" }
company = { column = "Utility" }
category = { columns = ["Area", "Problem"] }
description = { column = "Summary" }
consumer_name = { column = "Caller" }
phone = { column = "Phone" }
amount = { column = "Disputed" }
channel = { column = "How", map = { "Tel" = "phone", "Letter" = "mail", "Counter" = "walk_in" } }
status = { column = "State", map = { "Done" = "closed", "Waiting" = "pending_company" }, default = "open" }
closed = { column = "Finished" }
"#,
    )
    .unwrap();
    let data = t.dir.join("tickets.csv");
    let mut f = std::fs::File::create(&data).unwrap();
    write!(
        f,
        "Ticket,Opened,Utility,Area,Problem,Summary,Caller,Phone,Disputed,How,State,Finished\n\
         T-1,03/02/2025,Hudson Power,Electric,Billing,Estimated bill twice,Ana Díaz,518-555-0100,$120.50,Tel,Done,10/02/2025\n\
         T-2,31/02/2025,Hudson Power,Electric,Billing,A date that does not exist,Luis Rivera,,,Tel,,\n\
         T-3,04/02/2025,Hudson Power,Gas,Shut-off,Shut-off notice,Carmen Cruz,not a phone,,Pigeon,Waiting,\n\
         T-4,05/02/2025,Hudson Power,Gas,Shut-off,,Miguel Soto,,,Letter,,\n\
         T-5,06/02/2025,Hudson Power,Gas,Meter,Meter runs fast,Sofía Reyes,,12x,Counter,Waiting,\n\
         T-6,07/02/2025,Hudson Power,Gas,Meter,Meter test wanted,José Ortiz,(212) 555-0199,,Counter,,\n"
    )
    .unwrap();
    drop(f);
    let (code, out, err) = run(
        &["import", "csv", "tickets.csv", "--mapping", "office.toml"],
        &t,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out), (6, 2, 0, 4), "{out}");
    let problems: Vec<(String, String, String)> =
        csv::Reader::from_path(t.dir.join("tickets.csv.errors.csv"))
            .unwrap()
            .deserialize()
            .map(|r| r.unwrap())
            .collect();
    let expected = [
        (
            "2",
            "3",
            "received: \"31/02/2025\" (column \"Opened\") is not a date in the format %d/%m/%Y",
        ),
        (
            "3",
            "4",
            "channel: \"Pigeon\" (column \"How\") is not in the mapping's table",
        ),
        ("4", "5", "description: This field is required."),
        ("5", "6", "amount: \"12x\": amount is not a number"),
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:?}");
    for (got, want) in problems.iter().zip(expected) {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2.as_str()), want);
    }
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM cases c JOIN consumers p ON p.id = c.consumer_id \
                   WHERE c.status = 'closed' AND c.amount_cents = 12050 AND c.channel = 'phone' \
                   AND p.name = 'Ana Díaz' AND p.phone = '518-555-0100'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM cases c JOIN consumers p ON p.id = c.consumer_id \
                   WHERE c.status = 'open' AND c.channel = 'walk_in' AND p.phone = '212-555-0199' \
                   AND c.unit_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM companies WHERE name = 'Hudson Power' AND industry = 'Energy'"
        )
        .await,
        1
    );
    // The import is in the audit log under its own name.
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM audit_log WHERE actor = 'import' AND action = 'case.create'"
        )
        .await,
        2
    );

    // A mapping that names a column the file lacks is refused before any row is read (the store
    // is not even opened).
    std::fs::write(
        t.dir.join("wrong.toml"),
        "source = \"x\"\ndate_format = \"%Y-%m-%d\"\n[fields]\nreceived = { column = \"Opened\" }\ndescription = { column = \"Narrative\" }\n",
    )
    .unwrap();
    let fresh = target(false, "import_refused").await;
    std::fs::copy(&data, fresh.dir.join("tickets.csv")).unwrap();
    std::fs::copy(t.dir.join("wrong.toml"), fresh.dir.join("wrong.toml")).unwrap();
    let (code, out, err) = run(
        &["import", "csv", "tickets.csv", "--mapping", "wrong.toml"],
        &fresh,
        None,
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("\"Narrative\""), "{err}");
    assert!(!fresh.dir.join("redress.db").exists(), "nothing was opened");
    let (code, _, err) = run(
        &["import", "csv", "tickets.csv", "--mapping", "nosuch"],
        &fresh,
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("cfpb, nyc311"), "{err}");
}
