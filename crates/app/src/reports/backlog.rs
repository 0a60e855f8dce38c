//! Backlog and aging: the cases open at the end of the period (or now, if sooner) by age, the
//! oldest of them, and the running deadlines already missed, by clock.

use super::{Cell, Chart, ChartKind, Computed, Period, Series, Table};
use crate::{App, AppResult};
use jiff::Timestamp;

/// Age buckets in days: (key, first day, last day).
const AGES: &[(&str, i64, i64)] = &[
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("181+", 181, i64::MAX),
];

/// How many of the oldest cases are listed.
const OLDEST: usize = 20;

pub(crate) async fn compute(app: &App, p: &Period, now: Timestamp) -> AppResult<Computed> {
    let as_of = p.end()?.min(now);
    let as_of_day = p.day_of(as_of);
    let age_of = |t: Timestamp| i64::from((as_of_day - p.day_of(t)).get_days()).max(0);
    let mut counts = vec![0i64; AGES.len()];
    let mut open = 0i64;
    // The open cases by age, the oldest of them and the overdue deadlines, read at once.
    let (open_cases, oldest_cases, overdue_clocks) = tokio::try_join!(
        app.store.open_by_opened(as_of, p.office()),
        app.store.oldest_open(as_of, OLDEST as i64, p.office()),
        app.store.overdue_clocks(now, p.office()),
    )?;
    for c in open_cases {
        let age = age_of(c.at);
        if let Some(i) = AGES.iter().position(|(_, lo, hi)| age >= *lo && age <= *hi) {
            counts[i] += c.cases;
        }
        open += c.cases;
    }
    let aged: Vec<(i64, &redress_store::FlowCase)> = oldest_cases
        .iter()
        .map(|c| (age_of(c.opened_at), c))
        .collect();
    let mut ages = Table::new("ages", &["age_days", "cases"]);
    for (i, (k, _, _)) in AGES.iter().enumerate() {
        ages.rows.push(vec![Cell::text(*k), Cell::Int(counts[i])]);
    }
    let mut oldest = Table::new(
        "oldest",
        &[
            "reference",
            "opened",
            "age_days",
            "status",
            "unit",
            "assignee",
            "company",
        ],
    );
    for (age, c) in aged.iter().take(OLDEST) {
        oldest.rows.push(vec![
            Cell::text(c.reference.clone()),
            Cell::text(p.day_of(c.opened_at).to_string()),
            Cell::Int(*age),
            Cell::text(c.status.clone()),
            Cell::text(c.unit.clone().unwrap_or_default()),
            Cell::text(c.assignee.clone().unwrap_or_default()),
            Cell::text(c.company.clone().unwrap_or_default()),
        ]);
    }
    let mut overdue = Table::new("overdue", &["clock", "cases"]);
    let mut overdue_total = 0;
    for (clock, n) in overdue_clocks {
        overdue_total += n;
        overdue.rows.push(vec![Cell::text(clock), Cell::Int(n)]);
    }
    let chart = Chart {
        kind: ChartKind::Bars,
        labels: AGES.iter().map(|(k, _, _)| k.to_string()).collect(),
        series: vec![Series {
            key: "cases".into(),
            values: counts.iter().map(|n| *n as f64).collect(),
        }],
    };
    Ok((
        vec![
            ("as_of", Cell::text(as_of_day.to_string())),
            ("open", Cell::Int(open)),
            ("overdue_now", Cell::Int(overdue_total)),
        ],
        chart,
        vec![ages, oldest, overdue],
    ))
}
