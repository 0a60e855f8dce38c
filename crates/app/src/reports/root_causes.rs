//! Root causes: the cases closed in the period by what kept going wrong and how they ended for
//! the consumer, and the causes by company and by category, so managers see what repeats.

use super::{Cell, Chart, ChartKind, Computed, Period, Series, Table, by_halves};
use crate::{App, AppResult};
use redress_domain::Outcome;
use std::collections::BTreeMap;

/// The key of a case closed without a recorded cause.
pub const NOT_RECORDED: &str = "not_recorded";

pub(crate) async fn compute(app: &App, p: &Period) -> AppResult<Computed> {
    let closed = by_halves(p, |from, to| {
        app.store.closed_with_causes(from, to, p.office())
    })
    .await?;
    let order: BTreeMap<String, i64> = app
        .store
        .root_causes()
        .await?
        .into_iter()
        .map(|c| (c.code, c.position))
        .collect();
    // Cause -> [cases, consumer_favour, partly, not_in_favour, referred, outcome not recorded].
    let mut causes: BTreeMap<String, [i64; 6]> = BTreeMap::new();
    let mut by_company: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut by_category: BTreeMap<(String, String), i64> = BTreeMap::new();
    let (mut recorded, mut total) = (0, 0);
    for c in &closed {
        let n = c.cases;
        total += n;
        let cause = c.root_cause.clone().unwrap_or_else(|| NOT_RECORDED.into());
        if c.root_cause.is_some() {
            recorded += n;
        }
        let t = causes.entry(cause.clone()).or_default();
        t[0] += n;
        let slot = match c.outcome.as_deref().and_then(|o| o.parse::<Outcome>().ok()) {
            Some(Outcome::ConsumerFavour) => 1,
            Some(Outcome::Partly) => 2,
            Some(Outcome::NotInFavour) => 3,
            Some(Outcome::Referred) => 4,
            None => 5,
        };
        t[slot] += n;
        if let Some(co) = &c.company {
            *by_company.entry((co.clone(), cause.clone())).or_default() += n;
        }
        if let Some(cat) = &c.category {
            *by_category.entry((cat.clone(), cause.clone())).or_default() += n;
        }
    }
    let mut ranked: Vec<(&String, &[i64; 6])> = causes.iter().collect();
    // Most cases first; the list's order among equals.
    ranked.sort_by(|a, b| {
        b.1[0]
            .cmp(&a.1[0])
            .then(order.get(a.0).cmp(&order.get(b.0)))
            .then(a.0.cmp(b.0))
    });
    let mut table = Table::new(
        "causes",
        &[
            "root_cause",
            "cases",
            "consumer_favour",
            "partly",
            "not_in_favour",
            "referred",
            "outcome_not_recorded",
        ],
    );
    let (mut labels, mut values) = (Vec::new(), Vec::new());
    for (cause, t) in &ranked {
        let mut row = vec![Cell::text((*cause).clone())];
        row.extend(t.iter().map(|n| Cell::Int(*n)));
        table.rows.push(row);
        labels.push((*cause).clone());
        values.push(t[0] as f64);
    }
    let pairs = |key: &str, first: &str, m: &BTreeMap<(String, String), i64>| {
        let mut t = Table::new(key, &[first, "root_cause", "cases"]);
        let mut rows: Vec<_> = m.iter().collect();
        rows.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(b.1.cmp(a.1)).then(a.0.1.cmp(&b.0.1)));
        for ((name, cause), n) in rows {
            t.rows.push(vec![
                Cell::text(name.clone()),
                Cell::text(cause.clone()),
                Cell::Int(*n),
            ]);
        }
        t
    };
    let chart = Chart {
        kind: ChartKind::Ranking,
        labels,
        series: vec![Series {
            key: "cases".into(),
            values,
        }],
    };
    Ok((
        vec![
            ("closed", Cell::Int(total)),
            ("with_root_cause", Cell::Int(recorded)),
        ],
        chart,
        vec![
            table,
            pairs("by_company_cause", "company", &by_company),
            pairs("by_category_cause", "category", &by_category),
        ],
    ))
}
