//! Workload: new, closed and open cases per day, week or month, and by unit, agent, channel,
//! kind, category or company.

use super::{Cell, Chart, ChartKind, Computed, Dimension, Period, Series, Table};
use crate::{App, AppResult};
use std::collections::BTreeMap;

/// A breakdown's name for a value (a dash for none).
fn name(key: &Option<String>) -> String {
    key.clone().unwrap_or_else(|| "—".to_string())
}

pub(crate) async fn compute(app: &App, p: &Period, by: Dimension) -> AppResult<Computed> {
    let (from, to) = (p.start()?, p.end()?);
    let key = by.flow_key();
    let buckets = p.buckets();
    let bounds = p.bounds(&buckets)?;
    let mut new = vec![0i64; buckets.len()];
    let mut closed = vec![0i64; buckets.len()];
    // By the breakdown's value: new, closed, open at the end.
    let mut by_key: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    // The four counts are read at once, each on its own connection.
    let (opened, closed_counts, open_at_end, open_at_start) = tokio::try_join!(
        app.store.opened_counts(&bounds, key, p.office()),
        app.store.closed_counts(&bounds, key, p.office()),
        app.store.open_counts(to, key, p.office()),
        app.store.open_counts(from, key, p.office()),
    )?;
    for c in opened {
        if let Ok(i) = bounds.binary_search(&c.at) {
            new[i] += c.cases;
            by_key.entry(name(&c.key)).or_default()[0] += c.cases;
        }
    }
    for c in closed_counts {
        if let Ok(i) = bounds.binary_search(&c.at) {
            closed[i] += c.cases;
            by_key.entry(name(&c.key)).or_default()[1] += c.cases;
        }
    }
    for c in open_at_end {
        by_key.entry(name(&c.key)).or_default()[2] += c.cases;
    }
    let open_at_start: i64 = open_at_start.iter().map(|c| c.cases).sum();
    let mut flow = Table::new("flow", &["period", "new", "closed", "open_at_end"]);
    let mut open = open_at_start;
    let mut open_series = Vec::new();
    for (i, d) in buckets.iter().enumerate() {
        open += new[i] - closed[i];
        open_series.push(open as f64);
        flow.rows.push(vec![
            Cell::text(d.to_string()),
            Cell::Int(new[i]),
            Cell::Int(closed[i]),
            Cell::Int(open),
        ]);
    }
    let mut breakdown = Table::new(
        &format!("by_{}", by.as_str()),
        &[by.as_str(), "new", "closed", "open_at_end"],
    );
    for (k, [n, c, o]) in &by_key {
        breakdown.rows.push(vec![
            Cell::text(k.clone()),
            Cell::Int(*n),
            Cell::Int(*c),
            Cell::Int(*o),
        ]);
    }
    let total_new: i64 = new.iter().sum();
    let total_closed: i64 = closed.iter().sum();
    let chart = Chart {
        kind: ChartKind::Bars,
        labels: buckets.iter().map(|d| d.to_string()).collect(),
        series: vec![
            Series {
                key: "new".into(),
                values: new.iter().map(|n| *n as f64).collect(),
            },
            Series {
                key: "closed".into(),
                values: closed.iter().map(|n| *n as f64).collect(),
            },
        ],
    };
    Ok((
        vec![
            ("new", Cell::Int(total_new)),
            ("closed", Cell::Int(total_closed)),
            ("open_at_start", Cell::Int(open_at_start)),
            ("open_at_end", Cell::Int(open)),
        ],
        chart,
        vec![flow, breakdown],
    ))
}
