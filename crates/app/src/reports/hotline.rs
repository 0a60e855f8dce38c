//! The hotline: calls, average handle time, average speed of answer and service level (the
//! share answered within the threshold) per hour of the day and per day, from the calls on the
//! timeline. Speed of answer and service level count the inbound calls whose wait was recorded.

use super::{Cell, Chart, ChartKind, Computed, Period, Series, Table, by_halves, percent};
use crate::{App, AppResult};
use jiff::civil::Date;
use redress_store::CallTally;
use std::collections::BTreeMap;

#[derive(Default, Clone)]
struct Tally {
    calls: i64,
    handle_seconds: i64,
    with_duration: i64,
    waited: i64,
    wait_seconds: i64,
    within: i64,
}

impl Tally {
    fn add(&mut self, q: &CallTally) {
        self.calls += q.inbound;
        self.handle_seconds += q.handle_seconds;
        self.with_duration += q.with_duration;
        self.waited += q.waited;
        self.wait_seconds += q.wait_seconds;
        self.within += q.within;
    }
    fn cells(&self) -> [Cell; 4] {
        let avg = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / n as f64);
        [
            Cell::Int(self.calls),
            Cell::num(avg(self.handle_seconds, self.with_duration)),
            Cell::num(avg(self.wait_seconds, self.waited)),
            Cell::num(percent(self.within, self.waited)),
        ]
    }
}

pub(crate) async fn compute(app: &App, p: &Period, answer_seconds: i64) -> AppResult<Computed> {
    // Per quarter hour: every time zone's hours and days are whole quarter hours.
    // Each half of the period read at once: the halves meet at a day's start, so no quarter
    // hour is in both.
    let calls = by_halves(p, |from, to| {
        app.store.calls(from, to, answer_seconds, p.office())
    })
    .await?;
    let mut hours = vec![Tally::default(); 24];
    let mut days: BTreeMap<Date, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    let mut outbound = 0;
    for q in &calls {
        outbound += q.outbound;
        if q.inbound == 0 {
            continue;
        }
        let local = q.at.to_zoned(p.tz.clone());
        let hour = usize::try_from(local.hour()).unwrap_or(0).min(23);
        hours[hour].add(q);
        days.entry(local.date()).or_default().add(q);
        all.add(q);
    }
    let columns = ["calls", "aht_seconds", "asa_seconds", "service_level_pct"];
    let mut by_hour = Table::new(
        "by_hour",
        &["hour", columns[0], columns[1], columns[2], columns[3]],
    );
    for (h, t) in hours.iter().enumerate().filter(|(_, t)| t.calls > 0) {
        let mut row = vec![Cell::text(format!("{h:02}:00"))];
        row.extend(t.cells());
        by_hour.rows.push(row);
    }
    let mut by_day = Table::new(
        "by_day",
        &["day", columns[0], columns[1], columns[2], columns[3]],
    );
    for (d, t) in &days {
        let mut row = vec![Cell::text(d.to_string())];
        row.extend(t.cells());
        by_day.rows.push(row);
    }
    let [calls_cell, aht, asa, sl] = all.cells();
    let chart = Chart {
        kind: ChartKind::Bars,
        labels: (0..24).map(|h| format!("{h:02}")).collect(),
        series: vec![Series {
            key: "calls".into(),
            values: hours.iter().map(|t| t.calls as f64).collect(),
        }],
    };
    Ok((
        vec![
            ("calls", calls_cell),
            ("outbound_calls", Cell::Int(outbound)),
            ("aht_seconds", aht),
            ("asa_seconds", asa),
            ("service_level_pct", sl),
            ("answer_seconds", Cell::Int(answer_seconds)),
        ],
        chart,
        vec![by_hour, by_day],
    ))
}
