//! Workload: new, closed and open cases per day, week or month, and by unit, agent, channel,
//! kind, category or company.

use super::{Cell, Chart, ChartKind, Computed, Dimension, Period, Series, Table};
use crate::{App, AppResult};
use redress_store::FlowCase;
use std::collections::BTreeMap;

fn key(c: &FlowCase, by: Dimension) -> String {
    let none = || "—".to_string();
    match by {
        Dimension::Unit => c.unit.clone().unwrap_or_else(none),
        Dimension::Agent => c.assignee.clone().unwrap_or_else(none),
        Dimension::Channel => c.channel.clone(),
        Dimension::Kind => c.kind.clone(),
        Dimension::Category => c.category.clone().unwrap_or_else(none),
        Dimension::Company => c.company.clone().unwrap_or_else(none),
    }
}

pub(crate) async fn compute(app: &App, p: &Period, by: Dimension) -> AppResult<Computed> {
    let (from, to) = (p.start()?, p.end()?);
    let cases = app.store.flow_cases(from, to).await?;
    let buckets = p.buckets();
    let mut new = vec![0i64; buckets.len()];
    let mut closed = vec![0i64; buckets.len()];
    let mut open_at_start = 0i64;
    // By the breakdown's key: new, closed, open at the end.
    let mut by_key: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for c in &cases {
        let k = key(c, by);
        let entry = by_key.entry(k).or_default();
        if c.opened_at < from {
            open_at_start += 1;
        } else if let Some(i) = p.bucket_of(&buckets, p.day_of(c.opened_at)) {
            new[i] += 1;
            entry[0] += 1;
        }
        match c.closed_at {
            Some(t) if t < to => {
                if let Some(i) = p.bucket_of(&buckets, p.day_of(t)) {
                    closed[i] += 1;
                    entry[1] += 1;
                }
            }
            _ => entry[2] += 1,
        }
    }
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
