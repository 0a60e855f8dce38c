//! The office's open data file: one row per case, in the style of the CFPB's public complaint
//! database, with nothing that names or reaches a person. No name, email, phone, street address,
//! city or account number is written; the ZIP code is cut to its first three digits; the
//! consumer's own words are published only where the consumer agreed, and then scrubbed of
//! their personal details and of anything shaped like one (see `redress_domain::deidentify`).
//! Every column is described in `docs/open-data.md`.

use crate::{App, AppError, AppResult};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use redress_domain::deidentify;
use redress_store::{Actor, OpenDataCase};
use std::io::Write;

/// The file's columns, in order.
pub const PUBLIC_COLUMNS: &[&str] = &[
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
];

/// Cases read per page.
const PAGE: i64 = 2_000;

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicDataSummary {
    pub cases: u64,
    /// Rows whose narrative was published (the consumer agreed).
    pub narratives: u64,
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) starts with `'`, so that opening the file runs nothing.
pub fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn day(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).date().to_string()
}

/// One case's row.
pub fn public_row(c: &OpenDataCase, tz: &TimeZone) -> Vec<String> {
    let consent = match c.publish_consent {
        Some(true) => "Consent provided",
        Some(false) => "Consent not provided",
        None => "",
    };
    let narrative = if c.publish_consent == Some(true) {
        // The whole name, and each of its words (a narrative may say just "Ana").
        let mut known: Vec<&str> = c.personal.iter().map(String::as_str).collect();
        known.extend(
            c.consumer_name
                .iter()
                .flat_map(|n| n.split(|ch: char| ch.is_whitespace() || ch == ','))
                .filter(|w| w.chars().filter(|ch| ch.is_alphabetic()).count() >= 2),
        );
        spreadsheet_safe(&deidentify::scrub(&c.description, &known))
    } else {
        String::new()
    };
    vec![
        c.reference.clone(),
        day(c.opened_at, tz),
        c.kind.clone(),
        spreadsheet_safe(c.category.as_deref().unwrap_or("")),
        spreadsheet_safe(c.company.as_deref().unwrap_or("")),
        spreadsheet_safe(c.company_industry.as_deref().unwrap_or("")),
        c.state.clone().unwrap_or_default(),
        deidentify::zip3(c.zip.as_deref()).unwrap_or_default(),
        c.channel.clone(),
        c.sent_to_company.map(|t| day(t, tz)).unwrap_or_default(),
        c.status.clone(),
        c.closed_at.map(|t| day(t, tz)).unwrap_or_default(),
        consent.to_string(),
        narrative,
    ]
}

impl App {
    /// Writes the open data file (CSV) to `out`; `progress` is told the cases written so far.
    /// The export is audited (who, when, how many rows).
    pub async fn export_public_data<W: Write + Send>(
        &self,
        actor: &Actor,
        out: W,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> AppResult<PublicDataSummary> {
        let tz = TimeZone::get(&self.office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        let mut w = csv::Writer::from_writer(out);
        let io = |e: csv::Error| AppError::Internal(format!("writing the open data file: {e}"));
        w.write_record(PUBLIC_COLUMNS).map_err(io)?;
        let mut summary = PublicDataSummary::default();
        let mut after = 0;
        loop {
            let page = self.store.open_data_page(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for c in &page {
                w.write_record(public_row(c, &tz)).map_err(io)?;
                summary.cases += 1;
                if c.publish_consent == Some(true) {
                    summary.narratives += 1;
                }
            }
            progress(summary.cases);
        }
        w.flush()
            .map_err(|e| AppError::Internal(format!("writing the open data file: {e}")))?;
        self.store
            .audit(
                actor,
                "export",
                "opendata.export",
                "open-data",
                &serde_json::json!({"cases": summary.cases, "narratives": summary.narratives})
                    .to_string(),
                self.clock.now(),
            )
            .await?;
        Ok(summary)
    }
}
