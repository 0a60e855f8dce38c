//! Company performance: complaints per 100,000 customers, the share answered on time and the
//! share escalated, ranked, with the change from the period before (of the same length).

use super::{Cell, Chart, ChartKind, Computed, Period, Series, Table, percent};
use crate::{App, AppResult};
use jiff::ToSpan;
use redress_store::CompanyTally;
use std::collections::BTreeMap;

#[derive(Default)]
struct Tally {
    name: String,
    industry: String,
    customers: Option<i64>,
    complaints: i64,
    answered: i64,
    timely: i64,
    escalated: i64,
}

fn tally(companies: Vec<CompanyTally>) -> BTreeMap<i64, Tally> {
    companies
        .into_iter()
        .map(|c| {
            (
                c.company_id,
                Tally {
                    name: c.company,
                    industry: c.industry,
                    customers: c.customers.filter(|n| *n > 0),
                    complaints: c.complaints,
                    answered: c.answered,
                    timely: c.timely,
                    escalated: c.escalated,
                },
            )
        })
        .collect()
}

fn per_100k(complaints: i64, customers: Option<i64>) -> Option<f64> {
    customers.map(|n| complaints as f64 * 100_000.0 / n as f64)
}

pub(crate) async fn compute(app: &App, p: &Period) -> AppResult<Computed> {
    let (from, to) = (p.start()?, p.end()?);
    let days = i64::from((p.to - p.from).get_days()) + 1;
    let before_from = p.start_of(p.from.checked_sub(days.days()).unwrap_or(p.from))?;
    // Each period against the customers of the year it ends in.
    let before_to = p.from.yesterday().unwrap_or(p.from);
    // The two periods are counted at once, each on its own connection.
    let (now, before) = tokio::try_join!(
        app.store
            .company_tallies(from, to, i64::from(p.to.year()), p.office()),
        app.store
            .company_tallies(before_from, from, i64::from(before_to.year()), p.office()),
    )?;
    let (now, before) = (tally(now), tally(before));
    let mut ranked: Vec<(i64, &Tally, Option<f64>)> = now
        .iter()
        .map(|(id, t)| (*id, t, per_100k(t.complaints, t.customers)))
        .collect();
    // Highest rate first; companies without a customer count after, by complaints.
    ranked.sort_by(|a, b| match (a.2, b.2) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.1.name.cmp(&b.1.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => {
            b.1.complaints
                .cmp(&a.1.complaints)
                .then(a.1.name.cmp(&b.1.name))
        }
    });
    let mut table = Table::new(
        "companies",
        &[
            "rank",
            "company",
            "industry",
            "complaints",
            "customers",
            "per_100k",
            "previous_complaints",
            "previous_per_100k",
            "change_pct",
            "timely_pct",
            "escalated_pct",
        ],
    );
    let (mut labels, mut rates) = (Vec::new(), Vec::new());
    let mut total = 0;
    for (rank, (id, t, rate)) in ranked.iter().enumerate() {
        total += t.complaints;
        let prev = before.get(id);
        let prev_complaints = prev.map_or(0, |x| x.complaints);
        let prev_customers = prev.and_then(|x| x.customers).or(t.customers);
        let prev_rate = per_100k(prev_complaints, prev_customers);
        let change = match (rate, prev_rate) {
            (Some(r), Some(q)) if q > 0.0 => Some((r - q) * 100.0 / q),
            _ if prev_complaints > 0 => {
                Some((t.complaints - prev_complaints) as f64 * 100.0 / prev_complaints as f64)
            }
            _ => None,
        };
        table.rows.push(vec![
            Cell::Int(rank as i64 + 1),
            Cell::text(t.name.clone()),
            Cell::text(t.industry.clone()),
            Cell::Int(t.complaints),
            t.customers.map_or(Cell::Empty, Cell::Int),
            Cell::num(*rate),
            Cell::Int(prev_complaints),
            Cell::num(prev_rate),
            Cell::num(change),
            Cell::num(percent(t.timely, t.answered)),
            Cell::num(percent(t.escalated, t.complaints)),
        ]);
        if labels.len() < 15 {
            labels.push(t.name.clone());
            rates.push(rate.unwrap_or(0.0));
        }
    }
    let chart = Chart {
        kind: ChartKind::Ranking,
        labels,
        series: vec![Series {
            key: "per_100k".into(),
            values: rates,
        }],
    };
    Ok((
        vec![
            ("complaints", Cell::Int(total)),
            ("companies", Cell::Int(now.len() as i64)),
        ],
        chart,
        vec![table],
    ))
}
