//! The workload and trend reports' counts, made in the database: cases opened and closed per
//! quarter hour (UTC) and per value of one breakdown, and the cases open at an instant. Every
//! time zone's day is made of whole quarter hours, so the application adds quarter hours into
//! the office's days exactly, without reading a row per case.

use crate::Result;
use crate::office::for_office;
use crate::tx::{Engine, args, job};
use async_trait::async_trait;
use jiff::Timestamp;

/// A quarter hour, in microseconds.
pub const QUARTER_HOUR_MICROS: i64 = 900_000_000;

/// What a report breaks its counts down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKey {
    Unit,
    Agent,
    Channel,
    Kind,
    Category,
    Company,
}

/// How many cases (opened or closed) fell in a quarter hour with one value of the breakdown
/// (`None`: the case has none, such as no unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowCount {
    /// The quarter hour's start.
    pub at: Timestamp,
    pub key: Option<String>,
    pub cases: i64,
}

/// Cases counted per `q` and the id in `$id`, then named from `$names` (`nm.$name`).
macro_rules! named {
    ($id:literal, $names:literal, $name:literal, $inner:literal; $($outer:tt)+) => {
        concat!(
            "SELECT g.q, nm.", $name, " AS k, g.n FROM (SELECT ", $inner, ", c.", $id,
            " AS id, COUNT(*) AS n FROM cases c WHERE ", $($outer)+, " GROUP BY 1, 2) g LEFT JOIN ",
            $names, " nm ON nm.id = g.id"
        )
    };
}

/// Cases counted per `q` and a column that is its own name.
macro_rules! plain {
    ($column:literal, $inner:literal; $($outer:tt)+) => {
        concat!(
            "SELECT ", $inner, ", c.", $column, " AS k, COUNT(*) AS n FROM cases c WHERE ", $($outer)+,
            " GROUP BY 1, 2"
        )
    };
}

/// Per breakdown, in `FlowKey` order: unit, agent, channel, kind, category, company.
macro_rules! keyed {
    ($inner:literal; $($outer:tt)+) => {
        [
            named!("unit_id", "units", "code", $inner; $($outer)+),
            named!("assignee_id", "users", "username", $inner; $($outer)+),
            plain!("channel", $inner; $($outer)+),
            plain!("kind", $inner; $($outer)+),
            named!("category_id", "categories", "path", $inner; $($outer)+),
            named!("company_id", "companies", "name", $inner; $($outer)+),
        ]
    };
}

/// Which cases are open at `$1`, in two parts that indexes find: still open, and closed at or
/// after `$1`.
macro_rules! still_open {
    () => {
        "c.status <> 'merged' AND c.opened_at < $1 AND c.closed_at IS NULL"
    };
}
macro_rules! closed_since {
    () => {
        "c.status <> 'merged' AND c.closed_at >= $1 AND c.opened_at < $1"
    };
}

/// Cases whose `$col` falls in each span of the JSON array `$1` (`[start, end)` pairs, in
/// microseconds), counted per span (`s`, its place in the array: reading the start back from the
/// JSON for every case would cost three times the count) and value of `$column` (`k`).
/// The spans come first (`CROSS JOIN` keeps SQLite to that order), so each span is one range of
/// the covering index on `$col`, and only a row per span and value comes back.
macro_rules! span_plain {
    ($column:literal, $spans:literal, $key:literal, $lo:literal, $hi:literal, $col:literal) => {
        concat!(
            "SELECT ",
            $key,
            " AS s, c.",
            $column,
            " AS k, COUNT(*) AS n FROM ",
            $spans,
            " CROSS JOIN cases c WHERE c.status <> 'merged' AND c.",
            $col,
            " >= ",
            $lo,
            " AND c.",
            $col,
            " < ",
            $hi,
            " GROUP BY 1, 2"
        )
    };
}

/// The same for an id in `$id`, then named from `$names` (`nm.$name`).
macro_rules! span_named {
    ($id:literal, $names:literal, $name:literal, $spans:literal, $key:literal, $lo:literal, $hi:literal, $col:literal) => {
        concat!(
            "SELECT g.s, nm.",
            $name,
            " AS k, g.n FROM (",
            span_plain!($id, $spans, $key, $lo, $hi, $col),
            ") g LEFT JOIN ",
            $names,
            " nm ON nm.id = g.k"
        )
    };
}

/// Per breakdown, in `FlowKey` order: unit, agent, channel, kind, category, company.
macro_rules! spanned {
    ($spans:literal, $key:literal, $lo:literal, $hi:literal, $col:literal) => {
        [
            span_named!("unit_id", "units", "code", $spans, $key, $lo, $hi, $col),
            span_named!(
                "assignee_id",
                "users",
                "username",
                $spans,
                $key,
                $lo,
                $hi,
                $col
            ),
            span_plain!("channel", $spans, $key, $lo, $hi, $col),
            span_plain!("kind", $spans, $key, $lo, $hi, $col),
            span_named!(
                "category_id",
                "categories",
                "path",
                $spans,
                $key,
                $lo,
                $hi,
                $col
            ),
            span_named!(
                "company_id",
                "companies",
                "name",
                $spans,
                $key,
                $lo,
                $hi,
                $col
            ),
        ]
    };
}

/// The spans of `$1`, a row each, on each store.
macro_rules! sqlite_spans {
    ($col:literal) => {
        spanned!(
            "json_each($1) w",
            "w.key",
            "json_extract(w.value, '$[0]')",
            "json_extract(w.value, '$[1]')",
            $col
        )
    };
}
macro_rules! postgres_spans {
    ($col:literal) => {
        spanned!(
            "jsonb_array_elements($1::jsonb) WITH ORDINALITY w(value, i)",
            "w.i - 1",
            "(w.value->>0)::bigint",
            "(w.value->>1)::bigint",
            $col
        )
    };
}

/// Cases opened, and closed, in each span, per value.
const OPENED_SQLITE: [&str; 6] = sqlite_spans!("opened_at");
const CLOSED_SQLITE: [&str; 6] = sqlite_spans!("closed_at");
const OPENED_POSTGRES: [&str; 6] = postgres_spans!("opened_at");
const CLOSED_POSTGRES: [&str; 6] = postgres_spans!("closed_at");
/// Cases open at `$1` (opened before it, not closed before it), per value (`q` is 0).
const STILL_OPEN: [&str; 6] = keyed!("0 AS q"; still_open!());
const CLOSED_SINCE: [&str; 6] = keyed!("0 AS q"; closed_since!());

/// Cases open at `$1`, per quarter hour they were opened in, in the same two parts.
macro_rules! by_opened {
    ($($where:tt)+) => {
        concat!(
            "SELECT c.opened_at / 900000000 AS q, NULL AS k, COUNT(*) AS n FROM cases c WHERE ",
            $($where)+,
            " GROUP BY 1"
        )
    };
}
const STILL_OPEN_BY_OPENED: &str = by_opened!(still_open!());
const CLOSED_SINCE_BY_OPENED: &str = by_opened!(closed_since!());
/// The `$2` oldest cases open at `$1`: their ids first, from each part by the index for its own
/// condition (`+ 0` keeps the order from choosing the index), and only then their names.
macro_rules! oldest_part {
    ($($where:tt)+) => {
        concat!(
            "SELECT * FROM (SELECT c.id FROM cases c WHERE ",
            $($where)+,
            " ORDER BY c.opened_at + 0, c.id LIMIT $2)"
        )
    };
}
const OLDEST_OPEN: &str = concat!(
    "SELECT c.id, c.reference, c.opened_at, c.closed_at, c.status, c.kind, c.channel, \
     un.code AS unit_code, a.username AS assignee, cat.path AS category_path, co.name AS company_name FROM (",
    oldest_part!(still_open!()),
    " AS still_open UNION ALL ",
    oldest_part!(closed_since!()),
    " AS closed_since) o JOIN cases c ON c.id = o.id \
     LEFT JOIN units un ON un.id = c.unit_id LEFT JOIN users a ON a.id = c.assignee_id \
     LEFT JOIN categories cat ON cat.id = c.category_id LEFT JOIN companies co ON co.id = c.company_id \
     ORDER BY c.opened_at, c.id LIMIT $2"
);

fn index(key: FlowKey) -> usize {
    match key {
        FlowKey::Unit => 0,
        FlowKey::Agent => 1,
        FlowKey::Channel => 2,
        FlowKey::Kind => 3,
        FlowKey::Category => 4,
        FlowKey::Company => 5,
    }
}

#[async_trait]
pub trait FlowCounts: Send + Sync {
    /// Cases opened in each span between consecutive `bounds` (ascending), per value of `key`
    /// (`FlowCount::at` is the span's start).
    async fn opened_counts(
        &self,
        bounds: &[Timestamp],
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>>;
    /// Cases closed in each span between consecutive `bounds`, per value of `key`.
    async fn closed_counts(
        &self,
        bounds: &[Timestamp],
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>>;
    /// Cases open at `at`, per quarter hour they were opened in (a quarter hour may come twice).
    async fn open_by_opened(&self, at: Timestamp, office: Option<&str>) -> Result<Vec<FlowCount>>;
    /// The `limit` cases open at `at` that were opened first.
    async fn oldest_open(
        &self,
        at: Timestamp,
        limit: i64,
        office: Option<&str>,
    ) -> Result<Vec<crate::FlowCase>>;
    /// Cases open at `at`, per value of `key` (`FlowCount::at` is `at`; a value may come twice,
    /// to be added up). Every count is the whole database's, or one `office`'s.
    async fn open_counts(
        &self,
        at: Timestamp,
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>>;
}

async fn counts<E: Engine + ?Sized>(
    engine: &E,
    sql: &'static str,
    args: Vec<crate::tx::Arg>,
    at: Option<Timestamp>,
) -> Result<Vec<FlowCount>> {
    engine
        .read(job(move |tx| {
            Box::pin(async move {
                tx.query(sql, args)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(FlowCount {
                            at: match at {
                                Some(t) => t,
                                None => crate::rows::instant(r.int("q")? * QUARTER_HOUR_MICROS)?,
                            },
                            key: r.opt_text("k")?,
                            cases: r.int("n")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
}

/// Counts per span and value: the bounds as `[start, end)` pairs, the statement of the store's
/// kind (`[sqlite, postgres]`) for `key`, restricted to `office`.
async fn span_counts<E: Engine + ?Sized>(
    engine: &E,
    bounds: &[Timestamp],
    sql: [&'static [&'static str; 6]; 2],
    key: FlowKey,
    office: Option<&str>,
) -> Result<Vec<FlowCount>> {
    // The non-empty spans; a row's `s` is its place among them.
    let spans: Vec<(Timestamp, Timestamp)> = bounds
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|(lo, hi)| lo < hi)
        .collect();
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let json = spans
        .iter()
        .map(|(lo, hi)| format!("[{},{}]", lo.as_microsecond(), hi.as_microsecond()))
        .collect::<Vec<_>>()
        .join(",");
    let office = office.map(str::to_string);
    engine
        .read(job(move |tx| {
            Box::pin(async move {
                let mut args = args![format!("[{json}]")];
                let sql = sql[usize::from(tx.is_postgres())][index(key)];
                let sql = for_office(sql, office.as_deref(), &mut args);
                tx.query(sql, args)
                    .await?
                    .iter()
                    .map(|r| {
                        let at = usize::try_from(r.int("s")?)
                            .ok()
                            .and_then(|i| spans.get(i).map(|(lo, _)| *lo))
                            .ok_or_else(|| {
                                crate::StoreError::Corrupt("a span the query was not given".into())
                            })?;
                        Ok(FlowCount {
                            at,
                            key: r.opt_text("k")?,
                            cases: r.int("n")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
}

#[async_trait]
impl<E: Engine> FlowCounts for E {
    async fn opened_counts(
        &self,
        bounds: &[Timestamp],
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>> {
        span_counts(
            self,
            bounds,
            [&OPENED_SQLITE, &OPENED_POSTGRES],
            key,
            office,
        )
        .await
    }
    async fn closed_counts(
        &self,
        bounds: &[Timestamp],
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>> {
        span_counts(
            self,
            bounds,
            [&CLOSED_SQLITE, &CLOSED_POSTGRES],
            key,
            office,
        )
        .await
    }
    async fn open_by_opened(&self, at: Timestamp, office: Option<&str>) -> Result<Vec<FlowCount>> {
        let mut open = Vec::new();
        for part in [STILL_OPEN_BY_OPENED, CLOSED_SINCE_BY_OPENED] {
            let mut args = args![at.as_microsecond()];
            let sql = for_office(part, office, &mut args);
            open.extend(counts(self, sql, args, None).await?);
        }
        Ok(open)
    }
    async fn oldest_open(
        &self,
        at: Timestamp,
        limit: i64,
        office: Option<&str>,
    ) -> Result<Vec<crate::FlowCase>> {
        let mut args = args![at.as_microsecond(), limit];
        let sql = for_office(OLDEST_OPEN, office, &mut args);
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(sql, args)
                    .await?
                    .iter()
                    .map(crate::reports::flow_case)
                    .collect()
            })
        }))
        .await
    }
    async fn open_counts(
        &self,
        at: Timestamp,
        key: FlowKey,
        office: Option<&str>,
    ) -> Result<Vec<FlowCount>> {
        let mut open = Vec::new();
        for part in [STILL_OPEN[index(key)], CLOSED_SINCE[index(key)]] {
            let mut args = args![at.as_microsecond()];
            let sql = for_office(part, office, &mut args);
            open.extend(counts(self, sql, args, Some(at)).await?);
        }
        Ok(open)
    }
}
