//! The office's reports: workload, backlog and aging, speed and quality, company performance,
//! trends and spikes, and the hotline. Each is computed for a period of the office's days from
//! the same rows a direct count would see, and comes out as one [`Report`]: totals, a chart and
//! tables, which the pages draw, and which [`render`] writes as CSV or XLSX.

mod backlog;
pub mod chart;
mod companies;
mod hotline;
pub mod render;
mod root_causes;
pub mod schedule;
mod speed;
mod trends;
mod workload;

use crate::{App, AppError, AppResult, Person};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use redress_domain::Permission;
use redress_domain::validate::FieldErrors;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The reports, by the name the API and pages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportName {
    Workload,
    Backlog,
    Speed,
    Companies,
    Trends,
    Hotline,
    RootCauses,
}

impl ReportName {
    pub const ALL: &'static [ReportName] = &[
        ReportName::Workload,
        ReportName::Backlog,
        ReportName::Speed,
        ReportName::Companies,
        ReportName::Trends,
        ReportName::Hotline,
        ReportName::RootCauses,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Workload => "workload",
            ReportName::Backlog => "backlog",
            ReportName::Speed => "speed",
            ReportName::Companies => "companies",
            ReportName::Trends => "trends",
            ReportName::Hotline => "hotline",
            ReportName::RootCauses => "root_causes",
        }
    }
    pub fn parse(s: &str) -> Option<ReportName> {
        ReportName::ALL.iter().copied().find(|n| n.as_str() == s)
    }
}

/// How a period is cut for a report's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

impl Interval {
    fn parse(s: &str) -> Option<Interval> {
        match s {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            _ => None,
        }
    }
    /// The first day of the interval holding `d`.
    pub fn start(self, d: Date) -> Date {
        match self {
            Interval::Day => d,
            Interval::Week => d
                .checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
                .unwrap_or(d),
            Interval::Month => d.first_of_month(),
        }
    }
    /// The first day of the next interval.
    pub fn next(self, d: Date) -> Date {
        let step = match self {
            Interval::Day => 1.day(),
            Interval::Week => 1.week(),
            Interval::Month => 1.month(),
        };
        d.checked_add(step).unwrap_or(d)
    }
}

/// What a report breaks its counts down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Unit,
    Agent,
    Channel,
    Kind,
    Category,
    Company,
}

impl Dimension {
    /// The store's name for the same breakdown.
    pub fn flow_key(self) -> redress_store::FlowKey {
        use redress_store::FlowKey;
        match self {
            Dimension::Unit => FlowKey::Unit,
            Dimension::Agent => FlowKey::Agent,
            Dimension::Channel => FlowKey::Channel,
            Dimension::Kind => FlowKey::Kind,
            Dimension::Category => FlowKey::Category,
            Dimension::Company => FlowKey::Company,
        }
    }

    pub const ALL: &'static [Dimension] = &[
        Dimension::Unit,
        Dimension::Agent,
        Dimension::Channel,
        Dimension::Kind,
        Dimension::Category,
        Dimension::Company,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Unit => "unit",
            Dimension::Agent => "agent",
            Dimension::Channel => "channel",
            Dimension::Kind => "kind",
            Dimension::Category => "category",
            Dimension::Company => "company",
        }
    }
    fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.iter().copied().find(|d| d.as_str() == s)
    }
}

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub name: ReportName,
    /// The first day, office time.
    pub from: Date,
    /// The last day (included).
    pub to: Date,
    pub interval: Interval,
    pub by: Dimension,
    /// The target time to close, in calendar days (speed).
    pub target_days: i64,
    /// The answer-time threshold of the service level, in seconds (hotline).
    pub answer_seconds: i64,
    /// Another period to set beside this one (its first and last day): the totals of both,
    /// side by side, with the change.
    pub compare: Option<(Date, Date)>,
    /// The office whose cases the report counts (an office's code); every office's when absent.
    pub office: Option<String>,
    /// Another office to set beside this one (or beside every office) for the same period.
    pub compare_office: Option<String>,
}

/// The parameters the reports know (besides `format`, which the HTTP layer reads).
pub const REPORT_PARAMS: &[&str] = &[
    "from",
    "to",
    "compare_from",
    "compare_to",
    "interval",
    "by",
    "target_days",
    "answer_seconds",
    "office",
    "compare_office",
];

/// The longest period a report covers.
pub const MAX_DAYS: i64 = 3 * 366;

/// A cell of a report table: a whole number, a number, text or null.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Int(i64),
    Num(f64),
    Text(String),
    Empty,
}

impl Cell {
    /// A number with at most one decimal, or empty.
    pub fn num(v: Option<f64>) -> Cell {
        match v {
            Some(x) if x.is_finite() => Cell::Num((x * 10.0).round() / 10.0),
            _ => Cell::Empty,
        }
    }
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// The cell as text, as a CSV or page shows it.
    pub fn display(&self) -> String {
        match self {
            Cell::Int(i) => i.to_string(),
            Cell::Num(x) => format!("{x:.1}"),
            Cell::Text(t) => t.clone(),
            Cell::Empty => String::new(),
        }
    }
}

/// A table: its name, its columns (stable keys, which pages translate) and rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Table {
    pub key: String,
    pub columns: Vec<String>,
    /// Each row's cells, in the columns' order: numbers, text or null.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(key: &str, columns: &[&str]) -> Table {
        Table {
            key: key.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Vertical bars, side by side per label.
    Bars,
    /// Lines over the labels (time).
    Lines,
    /// Horizontal bars (rankings).
    Ranking,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    pub key: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Chart {
    pub kind: ChartKind,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

/// A report, ready to draw or write out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub name: ReportName,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub interval: Interval,
    /// The period set beside this one, when one was asked for (its totals are the table
    /// `comparison`).
    #[schema(value_type = Option<Vec<String>>)]
    pub compared: Option<(Date, Date)>,
    /// The office whose cases were counted (every office's when absent).
    pub office: Option<String>,
    /// The office set beside it, when one was asked for (its totals are the table
    /// `comparison`).
    pub compared_office: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
    /// The headline figures: `[key, value]` pairs.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub totals: Vec<(String, Cell)>,
    pub chart: Chart,
    pub tables: Vec<Table>,
}

/// The median and 90th percentile (nearest rank) of some values.
pub fn median_p90(values: &mut [f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let n = values.len();
        let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        values[i]
    };
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    (Some(median), Some(rank(0.9)))
}

/// Counts rows over each half of a period at once, each half on its own connection (a report
/// over a year reads a third of a million rows; two cores read them in half the time), and puts
/// the two halves' rows together: every caller adds rows up, so a count split across the halves
/// adds up the same.
pub(crate) async fn by_halves<T, F, Fut>(p: &Period, count: F) -> AppResult<Vec<T>>
where
    F: Fn(Timestamp, Timestamp) -> Fut,
    Fut: std::future::Future<Output = redress_store::Result<Vec<T>>>,
{
    let halves = p.halves()?.into_iter().map(|(from, to)| count(from, to));
    let parts = futures_util::future::try_join_all(halves).await?;
    Ok(parts.into_iter().flatten().collect())
}

/// A share, in percent with one decimal; `None` when there is nothing to share.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0)
}

/// The office's context for a report: its time zone and the instants that bound the days.
pub(crate) struct Period {
    pub tz: TimeZone,
    pub from: Date,
    pub to: Date,
    pub interval: Interval,
    /// The office whose cases count (all offices' when absent).
    pub office: Option<String>,
}

impl Period {
    pub fn office(&self) -> Option<&str> {
        self.office.as_deref()
    }
    /// The instant a day starts, office time.
    pub fn start_of(&self, d: Date) -> AppResult<Timestamp> {
        d.to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| AppError::Internal(format!("a day in the office's time zone: {e}")))
    }
    pub fn start(&self) -> AppResult<Timestamp> {
        self.start_of(self.from)
    }
    /// The end of the last day (exclusive).
    pub fn end(&self) -> AppResult<Timestamp> {
        self.start_of(self.to.tomorrow().unwrap_or(self.to))
    }
    pub fn day_of(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }
    /// The buckets of the period: each interval's first day (the first may start before
    /// `from`, cut to it).
    pub fn buckets(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.interval.start(self.from);
        while d <= self.to {
            out.push(d.max(self.from));
            d = self.interval.next(d);
        }
        out
    }
    /// The period cut in two at the start of its middle day (office time): a report counts
    /// each half on its own connection at once, and adds the two. A one-day period is one part.
    pub fn halves(&self) -> AppResult<Vec<(Timestamp, Timestamp)>> {
        let (start, end) = (self.start()?, self.end()?);
        let days = i64::from((self.to - self.from).get_days());
        if days < 1 {
            return Ok(vec![(start, end)]);
        }
        let middle = self
            .from
            .checked_add(((days + 1) / 2).days())
            .map_err(|e| AppError::Internal(format!("the middle of a period: {e}")))?;
        let middle = self.start_of(middle)?;
        Ok(vec![(start, middle), (middle, end)])
    }
    /// Where each bucket starts, and where the last one ends (the period's end): the spans the
    /// database counts cases in.
    pub fn bounds(&self, buckets: &[Date]) -> AppResult<Vec<Timestamp>> {
        let mut out = buckets
            .iter()
            .map(|d| self.start_of(*d))
            .collect::<AppResult<Vec<_>>>()?;
        out.push(self.end()?);
        Ok(out)
    }
}

impl App {
    /// Reads a report's parameters (`from`, `to` as YYYY-MM-DD; `interval`; `by`;
    /// `target_days`; `answer_seconds`), naming each mistake.
    pub async fn report_request(
        &self,
        name: &str,
        q: &HashMap<String, String>,
    ) -> AppResult<ReportRequest> {
        let mut errors = FieldErrors::new();
        let Some(name) = ReportName::parse(name) else {
            return Err(AppError::NotFound);
        };
        let offices: Vec<String> = if q.contains_key("office") || q.contains_key("compare_office") {
            self.store
                .offices()
                .await?
                .into_iter()
                .map(|o| o.code)
                .collect()
        } else {
            Vec::new()
        };
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let tz = TimeZone::get(&self.office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        let today = self.clock.now().to_zoned(tz).date();
        let mut date = |field: &str, default: Date| match get(field) {
            None => default,
            Some(v) => v.parse::<Date>().unwrap_or_else(|_| {
                errors.push(field, "invalid_date", "A date as YYYY-MM-DD.");
                default
            }),
        };
        let to = date("to", today);
        let from = date("from", to.checked_sub(29.days()).unwrap_or(to));
        if from > to {
            errors.push("from", "out_of_range", "On or before `to`.");
        } else if (to - from).get_days() as i64 >= MAX_DAYS {
            errors.push(
                "from",
                "out_of_range",
                format!("A period of at most {MAX_DAYS} days."),
            );
        }
        let span = i64::from((to - from).get_days());
        let interval = match get("interval") {
            None if span <= 62 => Interval::Day,
            None if span <= 400 => Interval::Week,
            None => Interval::Month,
            Some(v) => Interval::parse(v).unwrap_or_else(|| {
                errors.push("interval", "unknown_value", "day, week or month.");
                Interval::Day
            }),
        };
        let by = match get("by") {
            None => Dimension::Unit,
            Some(v) => Dimension::parse(v).unwrap_or_else(|| {
                errors.push(
                    "by",
                    "unknown_value",
                    "unit, agent, channel, kind, category or company.",
                );
                Dimension::Unit
            }),
        };
        let compare = match (get("compare_from"), get("compare_to")) {
            (None, None) => None,
            (Some(a), Some(b)) => match (a.parse::<Date>(), b.parse::<Date>()) {
                (Ok(a), Ok(b)) if a <= b && i64::from((b - a).get_days()) < MAX_DAYS => {
                    Some((a, b))
                }
                (Ok(_), Ok(_)) => {
                    errors.push(
                        "compare_from",
                        "out_of_range",
                        format!("On or before compare_to, and at most {MAX_DAYS} days before it."),
                    );
                    None
                }
                _ => {
                    errors.push("compare_from", "invalid_date", "Both dates as YYYY-MM-DD.");
                    None
                }
            },
            (None, Some(_)) => {
                errors.push(
                    "compare_from",
                    "required",
                    "Give both compare_from and compare_to.",
                );
                None
            }
            (Some(_), None) => {
                errors.push(
                    "compare_to",
                    "required",
                    "Give both compare_from and compare_to.",
                );
                None
            }
        };
        let mut number = |field: &str, default: i64, max: i64| match get(field) {
            None => default,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    errors.push(
                        field,
                        "out_of_range",
                        format!("A whole number from 1 to {max}."),
                    );
                    default
                }
            },
        };
        let target_days = number("target_days", 30, 3650);
        let answer_seconds = number("answer_seconds", 30, 3600);
        let mut office_of = |field: &str| -> Option<String> {
            let code = get(field)?;
            if offices.iter().any(|o| o == code) {
                Some(code.to_string())
            } else {
                errors.push(
                    field,
                    "unknown_value",
                    format!("An office's code: {}.", offices.join(", ")),
                );
                None
            }
        };
        let office = office_of("office");
        let compare_office = office_of("compare_office");
        if compare_office.is_some() && compare.is_some() {
            errors.push(
                "compare_office",
                "not_allowed",
                "Compare with another period or with another office, not both.",
            );
        }
        for k in q.keys() {
            if !REPORT_PARAMS.contains(&k.as_str()) && k != "format" && k != "lang" {
                errors.push(
                    k.clone(),
                    "unknown_parameter",
                    format!("Known parameters: {}, format.", REPORT_PARAMS.join(", ")),
                );
            }
        }
        AppError::unless_empty(errors)?;
        Ok(ReportRequest {
            name,
            from,
            to,
            interval,
            by,
            target_days,
            answer_seconds,
            compare,
            office,
            compare_office,
        })
    }

    /// Computes a report for those whose role reads reports.
    pub async fn report(&self, person: &Person, r: &ReportRequest) -> AppResult<Report> {
        person.require(Permission::ReportRead)?;
        self.compute_report(r).await
    }

    /// Computes a report (for a scheduled job or a person already checked); with a period to
    /// compare, its totals beside this period's.
    pub async fn compute_report(&self, r: &ReportRequest) -> AppResult<Report> {
        let mut report = self.compute_one(r, r.from, r.to, r.office.clone()).await?;
        let other = match (r.compare, &r.compare_office) {
            (Some((from, to)), _) => Some((
                self.compute_one(r, from, to, r.office.clone()).await?,
                ["total", "this_period", "other_period", "change_pct"],
            )),
            (None, Some(office)) => Some((
                self.compute_one(r, r.from, r.to, Some(office.clone()))
                    .await?,
                ["total", "this_office", "other_office", "change_pct"],
            )),
            (None, None) => None,
        };
        if let Some((other, columns)) = other {
            let mut table = Table::new("comparison", &columns);
            for ((key, a), (_, b)) in report.totals.iter().zip(other.totals.iter()) {
                let number = |c: &Cell| match c {
                    Cell::Int(i) => Some(*i as f64),
                    Cell::Num(x) => Some(*x),
                    _ => None,
                };
                let change = match (number(a), number(b)) {
                    (Some(x), Some(y)) if y != 0.0 => Some((x - y) * 100.0 / y),
                    _ => None,
                };
                table.rows.push(vec![
                    Cell::text(key.clone()),
                    a.clone(),
                    b.clone(),
                    Cell::num(change),
                ]);
            }
            report.compared = r.compare;
            report.compared_office = r.compare_office.clone();
            report.tables.push(table);
        }
        Ok(report)
    }

    async fn compute_one(
        &self,
        r: &ReportRequest,
        from: Date,
        to: Date,
        office: Option<String>,
    ) -> AppResult<Report> {
        let tz = TimeZone::get(&self.office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        let period = Period {
            tz,
            from,
            to,
            interval: r.interval,
            office: office.clone(),
        };
        let now = self.clock.now();
        let (totals, chart, tables) = match r.name {
            ReportName::Workload => workload::compute(self, &period, r.by).await?,
            ReportName::Backlog => backlog::compute(self, &period, now).await?,
            ReportName::Speed => speed::compute(self, &period, r.target_days).await?,
            ReportName::Companies => companies::compute(self, &period).await?,
            ReportName::Trends => trends::compute(self, &period).await?,
            ReportName::Hotline => hotline::compute(self, &period, r.answer_seconds).await?,
            ReportName::RootCauses => root_causes::compute(self, &period).await?,
        };
        Ok(Report {
            name: r.name,
            from,
            to,
            interval: r.interval,
            office,
            compared: None,
            compared_office: None,
            generated_at: now,
            totals: totals
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            chart,
            tables,
        })
    }
}

/// What each report computes: its totals, chart and tables.
pub(crate) type Computed = (Vec<(&'static str, Cell)>, Chart, Vec<Table>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median_p90(&mut []), (None, None));
        assert_eq!(median_p90(&mut [3.0]), (Some(3.0), Some(3.0)));
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_p90(&mut v), (Some(5.5), Some(9.0)));
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn halves_meet_at_the_middle_day_and_cover_the_period() {
        let ny = TimeZone::get("America/New_York").expect("a known zone");
        let p = |from: jiff::civil::Date, to: jiff::civil::Date| Period {
            tz: ny.clone(),
            from,
            to,
            interval: Interval::Day,
            office: None,
        };
        let at = |d: jiff::civil::Date| {
            d.to_zoned(ny.clone())
                .map(|z| z.timestamp())
                .expect("a day in the zone")
        };
        let d = jiff::civil::date;
        // Seventeen days, across the end of daylight saving time: eight, then nine.
        let h = p(d(2026, 10, 26), d(2026, 11, 11))
            .halves()
            .expect("halves");
        assert_eq!(
            h,
            [
                (at(d(2026, 10, 26)), at(d(2026, 11, 3))),
                (at(d(2026, 11, 3)), at(d(2026, 11, 12)))
            ]
        );
        // Two days: a day each; one day: one part.
        let h = p(d(2026, 3, 1), d(2026, 3, 2)).halves().expect("halves");
        assert_eq!(
            h,
            [
                (at(d(2026, 3, 1)), at(d(2026, 3, 2))),
                (at(d(2026, 3, 2)), at(d(2026, 3, 3)))
            ]
        );
        let h = p(d(2026, 3, 1), d(2026, 3, 1)).halves().expect("halves");
        assert_eq!(h, [(at(d(2026, 3, 1)), at(d(2026, 3, 2)))]);
    }

    #[test]
    fn buckets_cut_the_period() {
        let p = Period {
            tz: TimeZone::UTC,
            from: jiff::civil::date(2026, 11, 4),
            to: jiff::civil::date(2026, 11, 20),
            interval: Interval::Week,
            office: None,
        };
        let b = p.buckets();
        assert_eq!(
            b,
            [
                jiff::civil::date(2026, 11, 4),
                jiff::civil::date(2026, 11, 9),
                jiff::civil::date(2026, 11, 16)
            ]
        );
        // The spans the database counts in: each bucket's first instant, then the period's end
        // (the day after its last), in the office's time zone.
        let at = |d: jiff::civil::Date| d.to_zoned(TimeZone::UTC).map(|z| z.timestamp());
        assert_eq!(
            p.bounds(&b).ok(),
            [
                at(jiff::civil::date(2026, 11, 4)),
                at(jiff::civil::date(2026, 11, 9)),
                at(jiff::civil::date(2026, 11, 16)),
                at(jiff::civil::date(2026, 11, 21)),
            ]
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .ok()
        );
        let m = Period {
            interval: Interval::Month,
            from: jiff::civil::date(2026, 1, 15),
            to: jiff::civil::date(2026, 3, 1),
            ..p
        };
        assert_eq!(
            m.buckets(),
            [
                jiff::civil::date(2026, 1, 15),
                jiff::civil::date(2026, 2, 1),
                jiff::civil::date(2026, 3, 1)
            ]
        );
    }
}

/// A root cause as an administrator adds or changes it.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCauseInput {
    /// A stable code: lower-case letters, digits and `_`, e.g. `billing_error`.
    #[schema(max_length = 64, pattern = "^[a-z0-9_]{1,64}$")]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub name_es: Option<String>,
    /// Where it stands in the list (smaller first; default 100).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i64>,
    /// `false` keeps it for old cases but offers it no more (default `true`).
    #[serde(default)]
    pub active: Option<bool>,
}

impl App {
    /// The office's root causes (everyone who reads reference data).
    pub async fn root_causes(
        &self,
        person: &Person,
    ) -> AppResult<Vec<redress_domain::records::RootCause>> {
        person.require(Permission::ReferenceDataRead)?;
        Ok(self.store.root_causes().await?)
    }

    /// Adds a root cause or changes one by its code (managers and administrators; audited).
    /// The offices whose cases the reports count and compare.
    pub async fn report_offices(
        &self,
        person: &Person,
    ) -> AppResult<Vec<redress_domain::records::Office>> {
        person.require(Permission::ReportRead)?;
        Ok(self.store.offices().await?)
    }

    pub async fn save_root_cause(
        &self,
        person: &Person,
        b: RootCauseInput,
    ) -> AppResult<redress_domain::records::RootCause> {
        use redress_domain::validate as v;
        person.require(Permission::ReferenceDataWrite)?;
        let mut errors = FieldErrors::new();
        let code = b.code.trim().to_string();
        if code.is_empty()
            || code.len() > 64
            || !code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(
                "code",
                "invalid_code",
                "Lower-case letters, digits and _, at most 64, e.g. billing_error.",
            );
        }
        let name = v::required_text(&mut errors, "name", Some(&b.name), v::NAME_MAX);
        let name_es = v::optional_text(&mut errors, "name_es", b.name_es.as_deref(), v::NAME_MAX);
        let position = b.position.unwrap_or(100);
        if !(0..=100_000).contains(&position) {
            errors.push("position", "out_of_range", "From 0 to 100000.");
        }
        AppError::unless_empty(errors)?;
        let cause = redress_domain::records::RootCause {
            code,
            name: name.unwrap_or_default(),
            name_es,
            position,
            active: b.active.unwrap_or(true),
        };
        self.store
            .save_root_cause(&person.actor(), &cause, self.clock.now())
            .await?;
        Ok(cause)
    }
}

/// A company's customers in a year (what its complaints per 100,000 customers count against).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct CustomerCount {
    #[schema(minimum = 1900, maximum = 2200)]
    pub year: i64,
    #[schema(minimum = 0, maximum = 1000000000)]
    pub customers: i64,
}

/// The customers of a year, as set.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomersInput {
    #[schema(minimum = 0, maximum = 1000000000)]
    pub customers: i64,
}

impl App {
    /// A company's customers by year (everyone who reads companies).
    pub async fn company_customers(
        &self,
        person: &Person,
        company_id: i64,
    ) -> AppResult<Vec<CustomerCount>> {
        person.require(Permission::CompanyRead)?;
        self.store.company(company_id).await?;
        Ok(self
            .store
            .company_customers(company_id)
            .await?
            .into_iter()
            .map(|(year, customers)| CustomerCount { year, customers })
            .collect())
    }

    /// Sets a company's customers in a year (managers and administrators; audited).
    pub async fn set_company_customers(
        &self,
        person: &Person,
        company_id: i64,
        year: &str,
        b: CustomersInput,
    ) -> AppResult<CustomerCount> {
        person.require(Permission::CompanyWrite)?;
        let mut errors = FieldErrors::new();
        let year = match year.trim().parse::<i64>() {
            Ok(y) if (1900..=2200).contains(&y) => y,
            _ => {
                errors.push("year", "out_of_range", "A year from 1900 to 2200.");
                0
            }
        };
        if !(0..=1_000_000_000).contains(&b.customers) {
            errors.push("customers", "out_of_range", "From 0 to 1000000000.");
        }
        AppError::unless_empty(errors)?;
        self.store
            .set_company_customers(
                &person.actor(),
                company_id,
                year,
                b.customers,
                self.clock.now(),
            )
            .await?;
        Ok(CustomerCount {
            year,
            customers: b.customers,
        })
    }
}
