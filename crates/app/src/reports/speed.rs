//! Speed and quality: for the cases closed in the period, the median and 90th-percentile days to
//! first contact, to the company's response and to closing; the share closed within the target;
//! the share reopened; and the deadlines met and missed.

use super::{
    Cell, Chart, ChartKind, Computed, Period, Series, Table, by_halves, median_p90, percent,
};
use crate::{App, AppError, AppResult};
use jiff::Timestamp;
use std::collections::BTreeMap;

fn days(from: Timestamp, to: Timestamp) -> Option<f64> {
    let secs = (to - from).get_seconds();
    (secs >= 0).then(|| secs as f64 / 86_400.0)
}

pub(crate) async fn compute(app: &App, p: &Period, target_days: i64) -> AppResult<Computed> {
    let (from, to) = (p.start()?, p.end()?);
    // The cases closed (in two halves) and the deadlines ended, read at once.
    let (closed, ended) = tokio::try_join!(
        by_halves(p, |from, to| app.store.closed_cases(from, to, p.office())),
        async { Ok::<_, AppError>(app.store.ended_clocks(from, to, p.office()).await?) },
    )?;
    let mut to_close = Vec::new();
    let mut to_contact = Vec::new();
    let mut to_response = Vec::new();
    let mut within = 0i64;
    let mut reopened = 0i64;
    for c in &closed {
        if let Some(d) = days(c.opened_at, c.closed_at) {
            if d <= target_days as f64 {
                within += 1;
            }
            to_close.push(d);
        }
        if let Some(d) = c.first_contact_at.and_then(|t| days(c.opened_at, t)) {
            to_contact.push(d);
        }
        if let Some(d) = c.company_response_at.and_then(|t| days(c.opened_at, t)) {
            to_response.push(d);
        }
        if c.reopened {
            reopened += 1;
        }
    }
    let mut measures = Table::new("measures", &["measure", "cases", "median_days", "p90_days"]);
    let mut labels = Vec::new();
    let (mut medians, mut p90s) = (Vec::new(), Vec::new());
    for (key, values) in [
        ("first_contact", &mut to_contact),
        ("company_response", &mut to_response),
        ("close", &mut to_close),
    ] {
        let n = values.len() as i64;
        let (m, p) = median_p90(values);
        measures.rows.push(vec![
            Cell::text(key),
            Cell::Int(n),
            Cell::num(m),
            Cell::num(p),
        ]);
        labels.push(key.to_string());
        medians.push(m.unwrap_or(0.0));
        p90s.push(p.unwrap_or(0.0));
    }
    let mut deadlines = Table::new("deadlines", &["clock", "met", "missed", "met_pct"]);
    let mut by_clock: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (clock, outcome, n) in ended {
        let e = by_clock.entry(clock).or_default();
        if outcome == "met" {
            e.0 += n;
        } else {
            e.1 += n;
        }
    }
    let (mut met, mut missed) = (0, 0);
    for (clock, (m, x)) in by_clock {
        met += m;
        missed += x;
        deadlines.rows.push(vec![
            Cell::text(clock),
            Cell::Int(m),
            Cell::Int(x),
            Cell::num(percent(m, m + x)),
        ]);
    }
    let total = closed.len() as i64;
    let chart = Chart {
        kind: ChartKind::Bars,
        labels,
        series: vec![
            Series {
                key: "median_days".into(),
                values: medians,
            },
            Series {
                key: "p90_days".into(),
                values: p90s,
            },
        ],
    };
    Ok((
        vec![
            ("closed", Cell::Int(total)),
            ("target_days", Cell::Int(target_days)),
            ("within_target_pct", Cell::num(percent(within, total))),
            ("reopened_pct", Cell::num(percent(reopened, total))),
            ("deadlines_met_pct", Cell::num(percent(met, met + missed))),
        ],
        chart,
        vec![measures, deadlines],
    ))
}
