//! A date-ordered search on SQLite that walks the cases in windows. The walk asks whether each
//! case walked matches of the matches gathered once; gathering every match of a word in most
//! cases took longer than the walk (at a million cases filed in the order received: "wrong",
//! in 992,041 cases and 30 of the last thousand, 154 ms gathered, 37 ms probed case by case).
//! So the cases are walked a window at a time: first how many the window holds and the lowest
//! and highest id among them (`span!`), then the walk, gathering only the matches with ids in
//! between. Where cases are filed as they come in, ids follow the dates, and a window of the
//! newest 4,000 cases gathers the matches among 4,000 ids: "wrong" in 3 ms, "changed" (in 72 %
//! of the cases, 1.3 % of the last thousand) in 4 against 113. A window the page does not fill
//! is widened by what it found (see `wider`), up to [`MOST_WALKED`] cases; past that the
//! caller sorts every match.
//!
//! When the search filters on a column of `cases_report_opened` (status, kind, unit, assignee,
//! company, or only open or unassigned cases), the walk goes along that index and keeps only
//! the cases those filters pass, so that the window counts them alone: "response" among the
//! closed cases, where the newest cases are open, 5 ms in a window of 4,000 closed cases
//! against 9–26 in windows of all cases (whose status is read from each matching case's row).
//! That index does not hold the walk's order for cases received at the same instant, so SQLite
//! sorts those few among themselves; without such a filter the narrower `(opened_at, id)`
//! index is walked (50,000 cases: 5 ms against 20).

use super::{CaseSearch, RECENT_CASES, SearchOrder, wider};
use crate::Result;
use crate::tx::{Arg, Row, Tx};

/// The cases after the cursor that pass the filters the `cases_report_opened` index answers,
/// in date order, at most `$24` of them.
macro_rules! walk_filtered {
    ($direction:literal, $after:literal) => {
        concat!(
            "SELECT id FROM cases INDEXED BY cases_report_opened \
             WHERE ($20 IS NULL OR opened_at ", $after, " $20 OR (opened_at = $20 AND id ", $after, " $21)) \
             AND ($1 IS NULL OR status = $1) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR unit_id = $3) \
             AND ($4 IS NULL OR assignee_id = $4) AND ($5 IS NULL OR company_id = $5) \
             AND ($6 IS NULL OR opened_at >= $6) AND ($7 IS NULL OR opened_at < $7) \
             AND ($8 IS NULL OR company_id = $8) \
             AND ($11 IS NULL OR status NOT IN ('resolved', 'closed', 'merged')) \
             AND ($12 IS NULL OR assignee_id IS NULL) AND ($13 IS NULL OR channel = $13) \
             ORDER BY opened_at ", $direction, ", id ", $direction, " LIMIT $24"
        )
    };
}

/// How many cases a window (`$walk`) holds, and its lowest and highest ids.
macro_rules! span {
    ($walk:expr) => {
        concat!(
            "SELECT COUNT(*) AS n, COALESCE(MIN(id), 0) AS lo, COALESCE(MAX(id), 0) AS hi FROM (",
            $walk,
            ")"
        )
    };
}

/// Whether a case walked matches: among the matches with ids from `$25` to `$26`, gathered once.
macro_rules! in_window {
    () => {
        "walk.id IN (SELECT rowid FROM case_search WHERE case_search MATCH $23 AND rowid >= $25 AND rowid <= $26)"
    };
}

/// A window's span and its walk: newest first and oldest first, each along the dates alone
/// and along the filters' index.
struct Walk {
    span: &'static str,
    page: &'static str,
}

/// A window's span and its walk along `$walk`, the page in `$order`.
macro_rules! walk {
    ($walk:expr, $order:literal) => {
        Walk {
            span: span!($walk),
            page: sqlite_walk!($walk, in_window!(), $order),
        }
    };
}

const NEWEST: Walk = walk!(
    walk_dates!("DESC", "<", "$24"),
    " ORDER BY c.opened_at DESC, c.id DESC"
);
const OLDEST: Walk = walk!(
    walk_dates!("ASC", ">", "$24"),
    " ORDER BY c.opened_at ASC, c.id ASC"
);
const NEWEST_FILTERED: Walk = walk!(
    walk_filtered!("DESC", "<"),
    " ORDER BY c.opened_at DESC, c.id DESC"
);
const OLDEST_FILTERED: Walk = walk!(
    walk_filtered!("ASC", ">"),
    " ORDER BY c.opened_at ASC, c.id ASC"
);

/// The most cases a walk goes before the matches are sorted instead.
pub(crate) const MOST_WALKED: i64 = 50_000;

/// The search's arguments (`$1`–`$23`) that `cases_report_opened` answers: status, kind,
/// unit, assignee, company, the caller's company, open only, unassigned only.
const ON_THE_INDEX: [usize; 8] = [0, 1, 2, 3, 4, 7, 10, 11];

/// The first window for `wanted` matches (a page, and the offset before it) of words that
/// `recent` of the last [`RECENT_CASES`] of `cases` cases hold: twice the cases expected to
/// hold them (the cases filed earlier hold more words, their timelines being longer), at least
/// four times `wanted`, at most [`MOST_WALKED`].
pub(crate) fn first_window(wanted: i64, recent: i64, cases: i64) -> i64 {
    let sampled = cases.clamp(1, RECENT_CASES);
    let window = if recent > 0 {
        wanted.saturating_mul(2).saturating_mul(sampled) / recent
    } else {
        MOST_WALKED
    };
    window.max(wanted.saturating_mul(4)).min(MOST_WALKED)
}

/// A page of matches in date order, walked a window at a time (`bound`: the search's
/// arguments, `$1`–`$23`); `None` when [`MOST_WALKED`] cases do not fill it.
pub(super) async fn walked(
    tx: &mut dyn Tx,
    s: &CaseSearch,
    recent: i64,
    cases: i64,
    bound: &[Arg],
) -> Result<Option<Vec<Row>>> {
    let filtered = ON_THE_INDEX
        .iter()
        .any(|&i| bound.get(i).is_some_and(|a| !a.is_null()));
    let walk = match (s.order == SearchOrder::Oldest, filtered) {
        (false, false) => &NEWEST,
        (true, false) => &OLDEST,
        (false, true) => &NEWEST_FILTERED,
        (true, true) => &OLDEST_FILTERED,
    };
    let limit = s.filter.limit;
    let mut window = first_window(limit.saturating_add(s.offset), recent, cases);
    loop {
        let mut a = bound.to_vec();
        a.push(Arg::Int(Some(window)));
        let span = tx.one(walk.span, a.clone()).await?;
        let held = span.int("n")?;
        a.push(Arg::Int(Some(span.int("lo")?)));
        a.push(Arg::Int(Some(span.int("hi")?)));
        let rows = if held > 0 {
            tx.query(walk.page, a).await?
        } else {
            Vec::new()
        };
        let found = rows.len() as i64;
        // A full page, or every case after the cursor walked.
        if found >= limit || held < window {
            return Ok(Some(rows));
        }
        if window >= MOST_WALKED {
            return Ok(None);
        }
        window = wider(window, found, limit).min(MOST_WALKED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_window_holds_twice_the_cases_expected_to_fill_the_page() {
        // A word in 30 of the last thousand cases: 3,333 cases for 50 matches.
        assert_eq!(first_window(50, 30, 1_000_000), 3_333);
        // Words the recent cases do not hold: as far as a walk goes.
        assert_eq!(first_window(50, 0, 1_000_000), MOST_WALKED);
        // Dense words: four times the page at least; rare ones: no further than a walk goes.
        assert_eq!(first_window(50, 900, 1_000_000), 200);
        assert_eq!(first_window(50, 1, 1_000_000), MOST_WALKED);
        // A small store judges by the cases it has.
        assert_eq!(first_window(50, 10, 100), 1_000);
        assert_eq!(first_window(i64::MAX, 10, 100), MOST_WALKED);
    }
}
