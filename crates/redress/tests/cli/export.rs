//! `redress export public-data`: no personal field survives, on SQLite and PostgreSQL.

use super::{pg_admin, run, target};
use std::io::Write;

const MAPPING: &str = r#"
source = "intake-sheet"
date_format = "%Y-%m-%d"
[fields]
external_id = { column = "id" }
received = { column = "received" }
company = { column = "company" }
category = { column = "category" }
description = { column = "story" }
consumer_name = { column = "name" }
email = { column = "email" }
phone = { column = "phone" }
address_line1 = { column = "street" }
city = { column = "city" }
state = { column = "state" }
zip = { column = "zip" }
account_number = { column = "account" }
publish_consent = { column = "consent" }
"#;

/// Every personal detail the cases carry, as it could appear in the file.
const PERSONAL: &[&str] = &[
    "Ana",
    "Díaz",
    "ana.diaz@example.org",
    "555",
    "0100",
    "Elm",
    "Albany",
    "12345678",
    "12207",
    "Luis",
    "Rivera",
    "luis@example.net",
    "0199",
    "Oak Avenue",
    "87654321",
    "Troy",
    "12180",
    "Sofía",
    "Reyes",
    "0142",
];

async fn no_personal_field_survives(pg: bool) {
    let t = target(pg, if pg { "opendata_pg" } else { "opendata_lite" }).await;
    std::fs::write(t.dir.join("sheet.toml"), MAPPING).unwrap();
    let mut f = std::fs::File::create(t.dir.join("sheet.csv")).unwrap();
    write!(
        f,
        "id,received,company,category,story,name,email,phone,street,city,state,zip,account,consent\n\
         1,2025-03-03,Hudson Power,Electric > Billing,\"My name is Ana Díaz (ana.diaz@example.org, 518-555-0100). I live at 12 Elm Street, Albany. Account AC-12345678 was billed $120.50 twice on 03/14/2025; Ana called 3 times.\",Ana Díaz,ana.diaz@example.org,518-555-0100,12 Elm Street,Albany,NY,12207,AC-12345678,yes\n\
         2,2025-03-04,Hudson Power,Gas > Shut-off,\"Luis Rivera at 40 Oak Avenue, Troy, luis@example.net, acct 87654321: shut-off notice.\",Luis Rivera,luis@example.net,(518) 555-0199,40 Oak Avenue,Troy,NY,12180-1234,87654321,no\n\
         3,2025-03-05,Hudson Power,Gas > Meter,\"Sofía Reyes says the meter runs fast; call 518 555 0142.\",Sofía Reyes,,518 555 0142,,,NY,,,\n"
    )
    .unwrap();
    drop(f);
    let (code, out, err) = run(
        &["import", "csv", "sheet.csv", "--mapping", "sheet.toml"],
        &t,
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 cases added"), "{out}");
    let (code, out, err) = run(&["export", "public-data", "--out", "open.csv"], &t, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 cases, 1 with the consumer's narrative"),
        "{out}"
    );
    let text = std::fs::read_to_string(t.dir.join("open.csv")).unwrap();
    assert!(!t.dir.join("open.csv.partial").exists());
    for p in PERSONAL {
        assert!(!text.contains(p), "{p:?} survived in:\n{text}");
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        [
            "Complaint ID",
            "Date received",
            "Kind",
            "Category",
            "Company",
            "Industry",
            "State",
            "ZIP code",
            "Submitted via",
            "Date sent to company",
            "Status",
            "Date closed",
            "Consumer consent provided?",
            "Consumer complaint narrative",
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    let consented = &rows[0];
    assert_eq!(consented[1], "2025-03-03");
    assert_eq!(consented[3], "Electric > Billing");
    assert_eq!(consented[4], "Hudson Power");
    assert_eq!(consented[6], "NY");
    assert_eq!(consented[7], "122XX");
    assert_eq!(consented[12], "Consent provided");
    let narrative = &consented[13];
    assert!(narrative.contains("$120.50"), "amounts stay: {narrative}");
    assert!(narrative.contains("XXXX"), "{narrative}");
    assert!(narrative.contains("called 3 times"), "{narrative}");
    assert_eq!(rows[1][7], "121XX");
    assert_eq!(rows[1][12], "Consent not provided");
    assert_eq!(rows[1][13], "", "no consent, no narrative");
    assert_eq!(rows[2][7], "");
    assert_eq!(rows[2][12], "");
    assert_eq!(rows[2][13], "", "never asked, no narrative");
    if let Some(name) = &t.pg {
        redress_store::postgres::drop_database(&pg_admin(), name)
            .await
            .ok();
    }
}

#[tokio::test]
async fn the_open_data_file_carries_no_personal_data_on_sqlite() {
    no_personal_field_survives(false).await;
}

#[tokio::test]
async fn the_open_data_file_carries_no_personal_data_on_postgres() {
    no_personal_field_survives(true).await;
}
