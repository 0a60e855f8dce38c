//! Trends and spikes: weekly complaints per category and per company against each one's own
//! baseline, the eight weeks before. A week is a spike when it has at least five cases and lies
//! three standard deviations (at least one case) above the baseline's mean: simple to explain,
//! robust with little history, and weekly counts take out the weekday pattern a daily method
//! would have to model.

use super::{Cell, Chart, ChartKind, Computed, Interval, Period, Series, Table};
use crate::{App, AppResult};
use jiff::ToSpan;
use jiff::civil::Date;
use redress_store::FlowKey;
use std::collections::BTreeMap;

/// Weeks of history a week is compared with.
pub const BASELINE_WEEKS: usize = 8;
/// The fewest cases a spike has.
pub const MIN_CASES: i64 = 5;
/// How far above the baseline, in standard deviations.
pub const SIGMAS: f64 = 3.0;

/// Mean and standard deviation (population) of a baseline.
fn mean_sd(values: &[i64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<i64>() as f64 / n;
    let var = values
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Whether `count` is a spike over `baseline`; its score (standard deviations above).
pub fn spike(count: i64, baseline: &[i64]) -> Option<f64> {
    let (mean, sd) = mean_sd(baseline);
    let z = (count as f64 - mean) / sd.max(1.0);
    (count >= MIN_CASES && z >= SIGMAS).then_some(z)
}

pub(crate) async fn compute(app: &App, p: &Period) -> AppResult<Computed> {
    let first_week = Interval::Week.start(p.from);
    let history_start = first_week
        .checked_sub((BASELINE_WEEKS as i64).weeks())
        .unwrap_or(first_week);
    let mut weeks: Vec<Date> = Vec::new();
    let mut w = history_start;
    while w <= p.to {
        weeks.push(w);
        w = Interval::Week.next(w);
    }
    let first_shown = BASELINE_WEEKS;
    let mut totals = vec![0i64; weeks.len()];
    // (dimension, name) -> counts per week.
    let mut series: BTreeMap<(&'static str, String), Vec<i64>> = BTreeMap::new();
    // Each week's start, and the period's end.
    let bounds = p.bounds(&weeks)?;
    // Both breakdowns are read at once, each on its own connection.
    let (categories, companies) = tokio::try_join!(
        app.store
            .opened_counts(&bounds, FlowKey::Category, p.office()),
        app.store
            .opened_counts(&bounds, FlowKey::Company, p.office()),
    )?;
    for (dimension, key, counts) in [
        ("category", FlowKey::Category, categories),
        ("company", FlowKey::Company, companies),
    ] {
        for c in counts {
            let Ok(i) = bounds.binary_search(&c.at) else {
                continue;
            };
            if key == FlowKey::Category {
                // Every case has one category value (perhaps none): the weekly totals.
                totals[i] += c.cases;
            }
            if let Some(name) = c.key {
                series
                    .entry((dimension, name))
                    .or_insert_with(|| vec![0; weeks.len()])[i] += c.cases;
            }
        }
    }
    let mut weekly = Table::new("weeks", &["week", "cases", "baseline_mean"]);
    let mut labels = Vec::new();
    let (mut shown, mut base) = (Vec::new(), Vec::new());
    for i in first_shown..weeks.len() {
        let (mean, _) = mean_sd(&totals[i - BASELINE_WEEKS..i]);
        weekly.rows.push(vec![
            Cell::text(weeks[i].to_string()),
            Cell::Int(totals[i]),
            Cell::num(Some(mean)),
        ]);
        labels.push(weeks[i].to_string());
        shown.push(totals[i] as f64);
        base.push(mean);
    }
    let mut spikes = Table::new(
        "spikes",
        &[
            "week",
            "dimension",
            "name",
            "cases",
            "baseline_mean",
            "sigmas",
        ],
    );
    for ((dimension, name), counts) in &series {
        for i in first_shown..weeks.len() {
            let baseline = &counts[i - BASELINE_WEEKS..i];
            if let Some(z) = spike(counts[i], baseline) {
                spikes.rows.push(vec![
                    Cell::text(weeks[i].to_string()),
                    Cell::text(*dimension),
                    Cell::text(name.clone()),
                    Cell::Int(counts[i]),
                    Cell::num(Some(mean_sd(baseline).0)),
                    Cell::num(Some(z)),
                ]);
            }
        }
    }
    spikes
        .rows
        .sort_by(|a, b| b[0].display().cmp(&a[0].display()));
    let in_period: i64 = totals[first_shown..].iter().sum();
    let chart = Chart {
        kind: ChartKind::Lines,
        labels,
        series: vec![
            Series {
                key: "cases".into(),
                values: shown,
            },
            Series {
                key: "baseline_mean".into(),
                values: base,
            },
        ],
    };
    Ok((
        vec![
            ("cases", Cell::Int(in_period)),
            ("spikes", Cell::Int(spikes.rows.len() as i64)),
        ],
        chart,
        vec![weekly, spikes],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_stands_well_above_its_own_baseline() {
        assert!(spike(12, &[2, 3, 2, 4, 3, 2, 3, 3]).is_some());
        assert!(
            spike(4, &[0, 0, 0, 0, 0, 0, 0, 0]).is_none(),
            "too few cases"
        );
        assert!(
            spike(9, &[8, 9, 7, 10, 8, 9, 8, 9]).is_none(),
            "its usual level"
        );
        assert!(
            spike(6, &[0, 0, 0, 0, 0, 0, 0, 0]).is_some(),
            "new and sudden"
        );
    }
}
