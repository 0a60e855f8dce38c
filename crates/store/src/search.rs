//! Finding cases: the case list's filters, full-text words (SQLite FTS5, PostgreSQL `tsvector`
//! with a GIN index, both kept by triggers in step with the cases), sorted by when cases were
//! received or by relevance, a page at a time. Each order has its own statement, so that the
//! database walks an index in that order instead of sorting every match.

use crate::cases::{CaseFilter, summary};
use crate::rows::micros;
use crate::tx::{Arg, Engine, args, job};
use crate::{Result, Scope};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::records::CaseSummary;
use redress_domain::search::{Part, SearchTerms};
use redress_domain::{Channel, Flag};

/// The filters, `$1`–`$22`: status, kind, unit, assignee, company, opened after, opened
/// before, the caller's company, page size, consumer, open only, unassigned only, channel,
/// category (exact), category (`LIKE` pattern of what is below it), flag (`LIKE` pattern),
/// amount from, amount to, overdue at (a running clock due before it), the cursor's
/// `opened_at` and id, and the offset.
macro_rules! search_filters {
    () => {
        " ($1 IS NULL OR c.status = $1) AND ($2 IS NULL OR c.kind = $2) AND ($3 IS NULL OR c.unit_id = $3) \
         AND ($4 IS NULL OR c.assignee_id = $4) AND ($5 IS NULL OR c.company_id = $5) \
         AND ($6 IS NULL OR c.opened_at >= $6) AND ($7 IS NULL OR c.opened_at < $7) \
         AND ($8 IS NULL OR c.company_id = $8) AND ($10 IS NULL OR c.consumer_id = $10) \
         AND ($11 IS NULL OR c.status NOT IN ('resolved', 'closed', 'merged')) AND ($12 IS NULL OR c.assignee_id IS NULL) \
         AND ($13 IS NULL OR c.channel = $13) \
         AND ($14 IS NULL OR cat.path = $14 OR cat.path LIKE $15 ESCAPE '\\') \
         AND ($16 IS NULL OR (',' || c.flags || ',') LIKE $16) \
         AND ($17 IS NULL OR c.amount_cents >= $17) AND ($18 IS NULL OR c.amount_cents <= $18) \
         AND ($19 IS NULL OR EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL \
              AND k.paused_at IS NULL AND k.due_at < $19)) "
    };
}

macro_rules! newest {
    () => {
        " AND ($20 IS NULL OR c.opened_at < $20 OR (c.opened_at = $20 AND c.id < $21)) \
          ORDER BY c.opened_at DESC, c.id DESC LIMIT $9 OFFSET $22"
    };
}

macro_rules! oldest {
    () => {
        " AND ($20 IS NULL OR c.opened_at > $20 OR (c.opened_at = $20 AND c.id > $21)) \
          ORDER BY c.opened_at ASC, c.id ASC LIMIT $9 OFFSET $22"
    };
}

macro_rules! summary_columns {
    () => {
        "SELECT c.id, c.reference, c.kind, c.channel, c.status, c.priority, c.flags, cat.path AS category_path, \
         c.company_id, co.name AS company_name, un.code AS unit_code, a.username AS assignee, \
         c.opened_at, c.updated_at, c.version"
    };
}

macro_rules! joins {
    () => {
        " LEFT JOIN categories cat ON cat.id = c.category_id \
          LEFT JOIN companies co ON co.id = c.company_id \
          LEFT JOIN units un ON un.id = c.unit_id \
          LEFT JOIN users a ON a.id = c.assignee_id "
    };
}

macro_rules! list {
    ($order:tt) => {
        concat!(
            summary_columns!(),
            " FROM cases c",
            joins!(),
            "WHERE",
            search_filters!(),
            $order!()
        )
    };
}

/// A page of matches is chosen first, carrying only ids (and the rank), and only that page's
/// text is read for its snippets: sorting every match with its text made common words slow.
macro_rules! sqlite_text {
    ($inner_order:expr, $outer_order:expr) => {
        sqlite_text!("$23", $inner_order, $outer_order)
    };
    ($matched:expr, $inner_order:expr, $outer_order:expr) => {
        concat!(
            summary_columns!(),
            ", case_search.head AS s_head, case_search.shared AS s_shared, case_search.internal AS s_internal, \
             case_search.person AS s_person FROM (SELECT c.id AS hit, case_search.rank AS hit_rank \
             FROM case_search JOIN cases c ON c.id = case_search.rowid \
             LEFT JOIN categories cat ON cat.id = c.category_id WHERE case_search MATCH ", $matched, " AND",
            search_filters!(),
            $inner_order,
            ") page JOIN cases c ON c.id = page.hit JOIN case_search ON case_search.rowid = page.hit",
            joins!(),
            $outer_order
        )
    };
}

/// The cases in date order after the cursor (`$20`, `$21`), at most `$limit` of them, walking
/// the `(opened_at, id)` index.
macro_rules! walk_dates {
    ($direction:literal, $after:literal, $limit:literal) => {
        concat!(
            "SELECT id FROM cases INDEXED BY cases_opened_id \
             WHERE $20 IS NULL OR opened_at ",
            $after,
            " $20 OR (opened_at = $20 AND id ",
            $after,
            " $21) \
             ORDER BY opened_at ",
            $direction,
            ", id ",
            $direction,
            " LIMIT ",
            $limit
        )
    };
}

/// The same page of matches, found the other way round: walking the cases in date order
/// (`$walk`, see `walk_dates!`) and keeping the matches, until the page is full. For words in
/// many cases this stops after a page's worth of cases instead of sorting every match. Whether
/// each case matches is asked after the filters (see `probe!`), or of the walk's ids before
/// them (see `window`). A page the walk does not fill is found by sorting the matches.
/// `CROSS JOIN` keeps the walk's order as the join's (SQLite does not reorder it), so the
/// first `$9` kept are the page.
macro_rules! sqlite_walk {
    ($walk:expr, $matches:expr, $outer_order:expr) => {
        concat!(
            summary_columns!(),
            ", case_search.head AS s_head, case_search.shared AS s_shared, case_search.internal AS s_internal, \
             case_search.person AS s_person FROM (SELECT c.id AS hit FROM (", $walk, ") walk \
             CROSS JOIN cases c ON c.id = walk.id LEFT JOIN categories cat ON cat.id = c.category_id \
             WHERE ", $matches, " AND",
            search_filters!(),
            " LIMIT $9 OFFSET $22) page CROSS JOIN cases c ON c.id = page.hit \
             CROSS JOIN case_search ON case_search.rowid = page.hit",
            joins!(),
            $outer_order
        )
    };
}

mod weighing;
mod window;

pub use weighing::OLDER_CASES;
use weighing::{Weighed, recent_matches, weigh};

/// How many matches (at most `$2`) some words have, about how many cases there are, and how
/// many of the last `$3` cases filed match (how dense the matches are where a walk starts).
const SQLITE_MATCHES: &str = "SELECT (SELECT COUNT(*) FROM (SELECT rowid FROM case_search WHERE case_search MATCH $1 LIMIT $2)) AS n, \
     (SELECT COALESCE(MAX(id), 0) FROM cases) AS cases, \
     (SELECT COUNT(*) FROM case_search WHERE case_search MATCH $1 \
       AND rowid > (SELECT COALESCE(MAX(id), 0) - $3 FROM cases)) AS recent";
/// From this many matches on (or one case in ten), a date-ordered search first walks the cases
/// (see `sqlite_walk!`). Sorting the matches looks up each one's case (about 3 µs each at a
/// million cases, with the store in memory); the walk gathers the matches (a tenth of that) and
/// steps through the index until it has a page, about `cases / matches` index entries a result.
/// At a million cases, a word in 14,889 cases: 48 ms sorted, 3 ms walked.
const WALK_FROM_MATCHES: i64 = 2_000;

macro_rules! pg_text {
    ($order:expr) => {
        concat!(
            summary_columns!(),
            ", s.head AS s_head, s.shared AS s_shared, s.internal AS s_internal, s.person AS s_person \
             FROM case_search s JOIN cases c ON c.id = s.case_id",
            joins!(),
            "WHERE s.doc @@ to_tsquery('simple', $23) AND",
            search_filters!(),
            $order
        )
    };
}

/// The same page on PostgreSQL for words in few cases: the matches are gathered first (the GIN
/// index's bitmap), then sorted by date, and only the page's text is read. Left to itself the
/// planner may walk the date index and test each case's words instead, which for two words in
/// 2,106 of a million cases read 41,956 cases' words (380 ms against 20). The matches are
/// sorted by their own dates (`case_search.opened_at`, migration 0038, the same as their
/// cases') in a subquery of their own (`OFFSET 0` keeps PostgreSQL from folding it into the
/// join), and their cases read in that order, for the filters, only until the page is full:
/// sorted after the join, every match's case was read ("consent please", 3,779 matches: 59 ms,
/// of which 33 reading their cases).
macro_rules! pg_sorted {
    ($within:literal, newest) => {
        pg_sorted!(@ $within, "<", "DESC")
    };
    ($within:literal, oldest) => {
        pg_sorted!(@ $within, ">", "ASC")
    };
    (@ $within:literal, $before:literal, $dir:literal) => {
        concat!(
            "WITH m AS MATERIALIZED (SELECT case_id, opened_at FROM case_search WHERE doc @@ to_tsquery('simple', $23)",
            $within,
            " AND ($20::BIGINT IS NULL OR opened_at ", $before, " $20 OR (opened_at = $20 AND case_id ", $before, " $21))) ",
            summary_columns!(),
            ", s.head AS s_head, s.shared AS s_shared, s.internal AS s_internal, s.person AS s_person \
             FROM (SELECT c.id AS hit FROM (SELECT case_id, opened_at FROM m \
             ORDER BY opened_at ", $dir, ", case_id ", $dir, " OFFSET 0) m JOIN cases c ON c.id = m.case_id \
             LEFT JOIN categories cat ON cat.id = c.category_id WHERE",
            search_filters!(),
            " ORDER BY m.opened_at ", $dir, ", m.case_id ", $dir, " LIMIT $9 OFFSET $22\
             ) page JOIN cases c ON c.id = page.hit JOIN case_search s ON s.case_id = page.hit",
            joins!(),
            " ORDER BY c.opened_at ", $dir, ", c.id ", $dir
        )
    };
}
const PG_NEWEST_SORTED: &str = pg_sorted!("", newest);
const PG_OLDEST_SORTED: &str = pg_sorted!("", oldest);
/// The same, among the cases received from `$24` to `$25` (both included): the words' index and
/// the dates' index of `case_search` (migration 0038) are asked together, so that only the
/// matches received in that window are read (see [`windowed`]).
const PG_NEWEST_WINDOW: &str = pg_sorted!(" AND opened_at >= $24 AND opened_at <= $25", newest);
const PG_OLDEST_WINDOW: &str = pg_sorted!(" AND opened_at >= $24 AND opened_at <= $25", oldest);
/// When the `$2`-th case received before `$1` (included) was received; none when there are
/// fewer cases.
const PG_NEWEST_EDGE: &str = "SELECT opened_at FROM case_search WHERE opened_at <= $1 \
     ORDER BY opened_at DESC LIMIT 1 OFFSET $2";
const PG_OLDEST_EDGE: &str = "SELECT opened_at FROM case_search WHERE opened_at >= $1 \
     ORDER BY opened_at ASC LIMIT 1 OFFSET $2";
/// How a date-ordered search on PostgreSQL finds a page of `limit` matches of words expected in
/// `expected` of `cases` cases (the larger of what the last [`RECENT_CASES`] cases filed and
/// the planner's statistics say), whichever costs least. In tenths of a microsecond, measured
/// at a million cases:
/// - sorting every match (`pg_sorted!`) reads each match's row, about 15 µs a match when its
///   case was read too; since the matches are sorted on their own, about 7 µs ("consent
///   please", 3,779 matches in 25 ms), not yet weighed here;
/// - walking the cases in date order (the planner's plan for `pg_text!`) tests each case's
///   words, about 11 µs a case, `cases / expected` cases a result ("verifiable", in 6,931 of a
///   million cases: 27,793 cases walked, 307 ms), and up to four times as many where the cases
///   received last hold fewer words yet ("proof", in 4.5 % of the cases and 5.9 % of the last
///   thousand filed: a page in about 6,000 cases walked, 62–67 ms);
/// - a window (see [`windowed`]) of four times the cases that hold a page's worth of matches
///   (filters pass only some matches, and the cases received last hold fewer words yet) lists
///   every match from the words' index (about 0.15 µs each), the window's cases from the
///   dates' index twice, for its edge and its cases (about 0.2 µs each), and reads the matches
///   in it, about 20 µs each ("verifiable": 30,000 cases, 184 matches, 15 ms).
fn date_plan(expected: i64, cases: i64, limit: i64) -> DatePlan {
    let sort = expected.saturating_mul(150);
    if expected <= 0 {
        return DatePlan::Sort;
    }
    let span = (cases.saturating_mul(limit).saturating_mul(4) / expected).max(limit);
    let walk = cases.saturating_mul(limit).saturating_mul(110 * 4) / expected;
    let window = (expected.saturating_mul(15) / 10)
        .saturating_add(span.saturating_mul(4))
        .saturating_add(limit.saturating_mul(800));
    if sort <= window && sort <= walk {
        DatePlan::Sort
    } else if window < walk {
        DatePlan::Window(span)
    } else {
        DatePlan::Walk
    }
}

/// See [`date_plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePlan {
    Sort,
    /// A window of about this many cases first.
    Window(i64),
    Walk,
}

const LIST_NEWEST: &str = list!(newest);
const LIST_OLDEST: &str = list!(oldest);
const SQLITE_NEWEST: &str = sqlite_text!(newest!(), " ORDER BY c.opened_at DESC, c.id DESC");
const SQLITE_OLDEST: &str = sqlite_text!(oldest!(), " ORDER BY c.opened_at ASC, c.id ASC");
/// Whether a case matches, asked of each case walked when the words are whole and in a fifth
/// of the recent cases or more (a page is a few hundred probes at most; otherwise the walk
/// goes in windows, see `window`). At a million cases: three words in half the cases, 14 ms
/// probed against 167 with every match gathered; two words in one case in a hundred, 99 ms
/// probed against 12 gathered. A probe names the case's row (`c.id`), so that the filters on
/// the row are tested first (SQLite tests a correlated subquery after a loop's other terms):
/// for a common word among the closed cases, where the newest cases are open, probing each
/// case walked before its status took 513 ms, after it 40. The walk goes at most 50,000 cases.
macro_rules! probe {
    () => {
        "EXISTS (SELECT 1 FROM case_search WHERE case_search MATCH $23 AND rowid = c.id)"
    };
}
const SQLITE_NEWEST_PROBED: &str = sqlite_walk!(
    walk_dates!("DESC", "<", "50000"),
    probe!(),
    " ORDER BY c.opened_at DESC, c.id DESC"
);
const SQLITE_OLDEST_PROBED: &str = sqlite_walk!(
    walk_dates!("ASC", ">", "50000"),
    probe!(),
    " ORDER BY c.opened_at ASC, c.id ASC"
);
/// By relevance, among the matches whose case id is above `$24` and at most `$25` (see
/// [`ranked_tiers`]).
const SQLITE_RELEVANCE: &str = sqlite_text!(
    " AND case_search.rowid > $24 AND case_search.rowid <= $25 AND ($20 IS NULL OR $21 IS NULL OR TRUE) \
     ORDER BY case_search.rank, c.opened_at DESC, c.id DESC LIMIT $9 OFFSET $22",
    " ORDER BY page.hit_rank, c.opened_at DESC, c.id DESC"
);
/// The same, ranked by some of the words (`$26`: those in fewer than half of the cases, see
/// [`Weighed`]) among the cases all the words are in: the matches of every word in the tier are
/// gathered once (`+` keeps SQLite from probing the ranked words case by case, which would
/// count them again for each case).
const SQLITE_RELEVANCE_SOME: &str = sqlite_text!(
    "$26 AND +case_search.rowid IN (SELECT rowid FROM case_search every WHERE every.case_search MATCH $23 \
     AND every.rowid > $24 AND every.rowid <= $25)",
    " AND case_search.rowid > $24 AND case_search.rowid <= $25 AND ($20 IS NULL OR $21 IS NULL OR TRUE) \
     ORDER BY case_search.rank, c.opened_at DESC, c.id DESC LIMIT $9 OFFSET $22",
    " ORDER BY page.hit_rank, c.opened_at DESC, c.id DESC"
);
const PG_NEWEST: &str = pg_text!(newest!());
const PG_OLDEST: &str = pg_text!(oldest!());
/// By relevance on PostgreSQL (`$matches`: how the words are tested): the page of matches is
/// chosen first, carrying only ids and the rank, and only that page's text is read (as on
/// SQLite). The tier's matches are ranked and sorted on their own, in a subquery that yields
/// only their ids, dates and ranks (`OFFSET 0` keeps PostgreSQL from folding it into the
/// join), then their cases are read in that order, for the filters, only until the page is
/// full. Ranked in the join, the sort carried each match's words along (a kilobyte and three
/// quarters), which spilled to disk past `work_mem`: a word in 9,469 of a million cases, its
/// tier's 3,198 matches, 43 ms (31–34 with the block range index of migration 0039, which
/// finds the tier's cases), now 18. Ties are broken by the matches' own dates and ids
/// (`case_search.opened_at`, migration 0038, the same as their cases').
macro_rules! pg_ranked {
    ($matches:literal) => {
        concat!(
            summary_columns!(),
            ", s.head AS s_head, s.shared AS s_shared, s.internal AS s_internal, s.person AS s_person \
             FROM (SELECT c.id AS hit, m.hit_rank \
             FROM (SELECT case_id, opened_at, ts_rank(doc, to_tsquery('simple', $26)) AS hit_rank \
             FROM case_search WHERE ",
            $matches,
            " AND case_id > $24 AND case_id <= $25 \
             ORDER BY hit_rank DESC, opened_at DESC, case_id DESC OFFSET 0) m \
             JOIN cases c ON c.id = m.case_id \
             LEFT JOIN categories cat ON cat.id = c.category_id WHERE",
            search_filters!(),
            " AND ($20::BIGINT IS NULL OR $21::BIGINT IS NULL OR TRUE) \
             ORDER BY m.hit_rank DESC, m.opened_at DESC, m.case_id DESC LIMIT $9 OFFSET $22) page \
             JOIN cases c ON c.id = page.hit JOIN case_search s ON s.case_id = page.hit",
            joins!(),
            " ORDER BY page.hit_rank DESC, c.opened_at DESC, c.id DESC"
        )
    };
}
/// The planner chooses how to find the tier's matches: the words' index, or the tier's cases.
const PG_RELEVANCE: &str = pg_ranked!("doc @@ to_tsquery('simple', $23)");
/// The tier's cases walked by id, each case's words tested (the words' index cannot answer a
/// test wrapped in `COALESCE`); see [`walk_pays`].
const PG_RELEVANCE_WALK: &str = pg_ranked!("COALESCE(doc @@ to_tsquery('simple', $23), FALSE)");

/// Whether a recent tier of `tier` cases is found faster on PostgreSQL by testing each of its
/// cases' words than through the words' index, for words expected in `expected` of `cases`
/// cases. The index lists every match of the words, about 0.15 µs each, then each match in the
/// tier is read (about 5 µs); testing a case's words takes about 1.3 µs. The planner prices a
/// test as nearly free and the index's list by the matches' pages, and chose wrongly both ways
/// at a million cases: a word in 44 % of the cases, its tier of 10,845 cases: 92–105 ms through
/// the index, 32–38 walked; a word in 7 %, its tier of 96,153: 89–96 through the index, 123–130
/// walked. So the walk is asked for where it pays, and otherwise the planner chooses.
fn walk_pays(tier: i64, expected: i64, cases: i64) -> bool {
    let in_tier = if cases > 0 {
        expected.saturating_mul(tier) / cases
    } else {
        0
    };
    tier.saturating_mul(26)
        < expected
            .saturating_mul(3)
            .saturating_add(in_tier.saturating_mul(100))
}
/// How many cases PostgreSQL's planner expects the words (`$1`) in (migration 0039).
const PG_ESTIMATED_MATCHES: &str = "SELECT redress_estimated_matches($1) AS n";
/// How many matches pass the filters among the cases with an id above `$24` and at most `$25`.
const SQLITE_TIER_COUNT: &str = concat!(
    "SELECT COUNT(*) AS n FROM case_search JOIN cases c ON c.id = case_search.rowid \
     LEFT JOIN categories cat ON cat.id = c.category_id WHERE case_search MATCH $23 \
     AND case_search.rowid > $24 AND case_search.rowid <= $25 AND",
    search_filters!()
);
const PG_TIER_COUNT: &str = concat!(
    "SELECT COUNT(*) AS n FROM case_search s JOIN cases c ON c.id = s.case_id \
     LEFT JOIN categories cat ON cat.id = c.category_id WHERE s.doc @@ to_tsquery('simple', $23) \
     AND s.case_id > $24 AND s.case_id <= $25 \
     AND ($9::BIGINT IS NULL OR $20::BIGINT IS NULL OR $21::BIGINT IS NULL OR $22::BIGINT IS NULL OR TRUE) AND",
    search_filters!()
);
/// The cases filed last whose matches tell how common some words are.
pub const RECENT_CASES: i64 = 1_000;

/// How many of `cases` cases some words are expected in, when `recent` of the last
/// [`RECENT_CASES`] cases filed hold them.
fn expected_matches(recent: i64, cases: i64) -> i64 {
    recent.saturating_mul(cases) / RECENT_CASES
}

/// Which matches a relevance-ordered search ranks together. Ranking scores every match, and
/// words in a large share of a million cases have hundreds of thousands; so for words that
/// common the most recent matches (about [`CaseSearch::relevance_pool`] of them, judged by how
/// many of the last [`RECENT_CASES`] cases filed match) are ranked first, then the older ones
/// in tiers each expected to hold [`TIER_GROWTH`] times the matches of the one before, until
/// the page is full. A filter the recent cases seldom pass (closed cases, when the cases filed
/// last are still open) then reaches back a tier at a time instead of ranking every older
/// match at once: "collection", closed, at a million cases filed in date order, 1,989 ms when
/// the second tier was every older match.
///
/// Words the samples hardly saw (fewer than [`SELDOM_SEEN`] of a thousand) may still be in a few
/// thousand cases of a large store ("requisite": in 2,231 of a million, ranked together 48 ms on
/// PostgreSQL, where each match ranked is a read of its words); in a store of at least
/// [`QUARTERED_FROM`] cases their first tier is the newest quarter of the cases, then the rest.
pub fn ranked_tiers(pool: i64, recent: i64, last_id: i64) -> Vec<(i64, i64)> {
    if pool <= 0 {
        return vec![(0, i64::MAX)];
    }
    let judged = if recent > 0 {
        pool.saturating_mul(RECENT_CASES) / recent
    } else {
        i64::MAX
    };
    let mut window = if recent < SELDOM_SEEN && last_id >= QUARTERED_FROM {
        judged.min(last_id / TIER_GROWTH)
    } else {
        judged
    };
    let mut tiers = Vec::new();
    let mut upto = i64::MAX;
    while window < last_id {
        let above = last_id - window;
        tiers.push((above, upto));
        upto = above;
        window = window.saturating_mul(TIER_GROWTH);
    }
    tiers.push((0, upto));
    tiers
}

/// Of [`RECENT_CASES`], how many cases must hold some words for the samples to judge how many
/// cases of the store hold them (see [`ranked_tiers`]): below it, a count is about as uncertain
/// as itself.
pub const SELDOM_SEEN: i64 = 4;

/// The stores large enough that words the samples hardly saw are ranked in tiers (see
/// [`ranked_tiers`]): in fewer cases, such words are in a few hundred at most.
pub const QUARTERED_FROM: i64 = 100 * RECENT_CASES;

/// How many times the matches of the tier before a tier is expected to hold (see
/// [`ranked_tiers`]): the work of ranking a page that reaches back to a tier is at most about
/// 4/3 of that tier's.
pub const TIER_GROWTH: i64 = 4;

/// The order of a search's results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchOrder {
    /// Most recently received first.
    #[default]
    Newest,
    Oldest,
    /// Best match first (words in the description and reference count most).
    Relevance,
}

/// Words to find, as each store's query language says them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    pub fts5: String,
    pub tsquery: String,
    /// No word is a prefix: each case can be asked on its own whether it matches, which the
    /// date orders' walk uses when the matches are dense (see `sqlite_walk!`).
    pub whole_words: bool,
    /// Each word alone, in each language (`fts5` and `tsquery` are these joined), to weigh how
    /// common each word is when ranking (see [`Weighed`]).
    pub fts5_words: Vec<String>,
    pub tsquery_words: Vec<String>,
}

impl TextQuery {
    /// The words searched, in the parts of a case the reader may search.
    pub fn new(terms: &SearchTerms, parts: &[Part]) -> TextQuery {
        TextQuery {
            fts5: terms.fts5(parts),
            tsquery: terms.tsquery(parts),
            whole_words: terms.is_whole_words(),
            fts5_words: terms.fts5_words(parts),
            tsquery_words: terms.tsquery_words(parts),
        }
    }
}

/// A search: the list's filters and more, words, order and page.
#[derive(Debug, Clone, Default)]
pub struct CaseSearch {
    /// Status, kind, unit, assignee, company, consumer, open only, unassigned only, opened
    /// after (`opened_at >=`), page size.
    pub filter: CaseFilter,
    pub opened_before: Option<Timestamp>,
    pub channel: Option<Channel>,
    /// A category path: the category and everything below it.
    pub category: Option<String>,
    pub flag: Option<Flag>,
    pub amount_min_cents: Option<i64>,
    pub amount_max_cents: Option<i64>,
    /// Only cases with a running clock due before this instant (now: overdue).
    pub overdue_at: Option<Timestamp>,
    pub text: Option<TextQuery>,
    pub order: SearchOrder,
    /// The last case of the previous page (when it was received, its id), for the date orders.
    pub after: Option<(Timestamp, i64)>,
    /// Rows to skip, for the relevance order.
    pub offset: i64,
    /// By relevance, for words in very many cases: about how many of the most recent matches
    /// are ranked first, before the older ones (see [`ranked_tiers`]); 0 ranks every match
    /// together.
    pub relevance_pool: i64,
}

/// A case found, with the indexed text of each part (for snippets; the caller shows only the
/// parts the reader may see).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: i64,
    pub opened_at: Timestamp,
    pub summary: CaseSummary,
    /// Head, shared, internal and person text, when words were searched.
    pub parts: Option<[String; 4]>,
}

const TEXTS_SQLITE: &str = "SELECT s.head, s.shared, s.internal, s.person FROM cases c \
     JOIN case_search s ON s.rowid = c.id WHERE c.reference = $1";
const TEXTS_POSTGRES: &str = "SELECT s.head, s.shared, s.internal, s.person FROM cases c \
     JOIN case_search s ON s.case_id = c.id WHERE c.reference = $1";

/// How many segments the search index is in (SQLite).
const SEARCH_SEGMENTS_SQLITE: &str = "SELECT COUNT(DISTINCT segid) AS n FROM case_search_idx";
/// Merges the search index's small segments, writing at most about 500 pages (SQLite; see
/// migration 0036).
const MERGE_SEARCH_SEGMENTS_SQLITE: &str =
    "INSERT INTO case_search (case_search, rank) VALUES ('merge', 500)";

#[async_trait]
pub trait CaseSearching {
    /// Keeps the search index in few pieces: on SQLite, when it is in more than one segment,
    /// merges the small ones (FTS5's `merge`); PostgreSQL's index needs nothing. The segments
    /// before and after (both 0 on PostgreSQL).
    async fn tidy_search_index(&self) -> Result<(i64, i64)>;
    async fn search_cases(&self, search: &CaseSearch, scope: Scope) -> Result<Vec<SearchHit>>;
    /// The indexed text (head, shared, internal, person) of each of these cases, for the
    /// snippets of a page of results.
    async fn search_texts(&self, references: Vec<String>) -> Result<Vec<(String, [String; 4])>>;
}

fn like_below(path: &str) -> String {
    let escaped: String = path
        .chars()
        .flat_map(|c| {
            if matches!(c, '%' | '_' | '\\') {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect();
    format!("{escaped}{}%", redress_domain::records::CATEGORY_SEPARATOR)
}

fn search_args(s: &CaseSearch, scope: Scope) -> Vec<Arg> {
    let f = &s.filter;
    let mut a = args![
        f.status.map(|x| x.as_str()),
        f.kind.map(|x| x.as_str()),
        f.unit_id,
        f.assignee_id,
        f.company_id,
        f.opened_after.map(micros),
        s.opened_before.map(micros),
        scope.company_id,
        f.limit,
        f.consumer_id,
        f.open_only.then_some(1i64),
        f.unassigned_only.then_some(1i64),
        s.channel.map(|x| x.as_str()),
        s.category.clone(),
        s.category.as_deref().map(like_below),
        s.flag.map(|x| format!("%,{},%", x.as_str())),
        s.amount_min_cents,
        s.amount_max_cents,
        s.overdue_at.map(micros),
        s.after.map(|(t, _)| micros(t)),
        s.after.map(|(_, id)| id),
        s.offset,
    ];
    if let Some(t) = &s.text {
        a.push(Arg::Text(Some(t.fts5.clone())));
    }
    a
}

/// The cases found, with their indexed text when words were searched.
fn hits(rows: &[crate::tx::Row], texts: bool) -> Result<Vec<SearchHit>> {
    rows.iter()
        .map(|r| {
            let parts = if texts {
                Some([
                    r.text("s_head")?,
                    r.text("s_shared")?,
                    r.text("s_internal")?,
                    r.text("s_person")?,
                ])
            } else {
                None
            };
            Ok(SearchHit {
                id: r.int("id")?,
                opened_at: crate::rows::instant(r.int("opened_at")?)?,
                summary: summary(r)?,
                parts,
            })
        })
        .collect()
}

#[async_trait]
impl<E: Engine> CaseSearching for E {
    async fn tidy_search_index(&self) -> Result<(i64, i64)> {
        if E::BACKEND == "postgres" {
            return Ok((0, 0));
        }
        let before = self
            .read(job(|tx| {
                Box::pin(async move { tx.one(SEARCH_SEGMENTS_SQLITE, args![]).await?.int("n") })
            }))
            .await?;
        if before <= 1 {
            return Ok((before, before));
        }
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(MERGE_SEARCH_SEGMENTS_SQLITE, args![]).await?;
                let after = tx.one(SEARCH_SEGMENTS_SQLITE, args![]).await?.int("n")?;
                Ok((before, after))
            })
        }))
        .await
    }

    async fn search_texts(&self, references: Vec<String>) -> Result<Vec<(String, [String; 4])>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let sql = if tx.is_postgres() {
                    TEXTS_POSTGRES
                } else {
                    TEXTS_SQLITE
                };
                let mut out = Vec::with_capacity(references.len());
                for r in references {
                    if let Some(row) = tx.optional(sql, args![r.as_str()]).await? {
                        let texts = [
                            row.text("head")?,
                            row.text("shared")?,
                            row.text("internal")?,
                            row.text("person")?,
                        ];
                        out.push((r, texts));
                    }
                }
                Ok(out)
            })
        }))
        .await
    }

    async fn search_cases(&self, search: &CaseSearch, scope: Scope) -> Result<Vec<SearchHit>> {
        let s = search.clone();
        self.read(job(move |tx| {
            Box::pin(async move {
                let pg = tx.is_postgres();
                let mut bound = search_args(&s, scope);
                if let (Some(t), true) = (&s.text, pg)
                    && let Some(last) = bound.last_mut()
                {
                    *last = Arg::Text(Some(t.tsquery.clone()));
                }
                // How common the words are among the recent cases, once asked.
                let mut recent_known = None;
                if let (Some(t), SearchOrder::Relevance) = (&s.text, s.order) {
                    let weighed = weigh(tx, t).await?;
                    if !weighed.ranked.is_empty() {
                        let rows = ranked(tx, &s, t, &weighed, bound).await?;
                        return hits(&rows, true);
                    }
                    // Every word is in half of the cases or more: none weighs in the
                    // ranking, and the matches come newest first.
                    recent_known = Some((weighed.recent, weighed.cases));
                }
                // Without words, by date, or by relevance when no word weighs.
                let oldest = s.order == SearchOrder::Oldest;
                let sql = match (&s.text, oldest, pg) {
                    (None, true, _) => LIST_OLDEST,
                    (None, false, _) => LIST_NEWEST,
                    (Some(_), true, false) => SQLITE_OLDEST,
                    (Some(_), false, false) => SQLITE_NEWEST,
                    (Some(_), true, true) => PG_OLDEST,
                    (Some(_), false, true) => PG_NEWEST,
                };
                // Words in many cases, in date order: walk the cases first, rather than sort
                // every match; a page the walk does not fill is found by the sort.
                let probed = match (&s.text, oldest, pg) {
                    (Some(_), false, false) => Some(SQLITE_NEWEST_PROBED),
                    (Some(_), true, false) => Some(SQLITE_OLDEST_PROBED),
                    _ => None,
                };
                if let (Some(probed), Some(t)) = (probed, &s.text) {
                    let m = tx
                        .one(
                            SQLITE_MATCHES,
                            args![t.fts5.as_str(), WALK_FROM_MATCHES, RECENT_CASES],
                        )
                        .await?;
                    let (n, cases, recent) = (m.int("n")?, m.int("cases")?, m.int("recent")?);
                    if n > 0 && (n >= WALK_FROM_MATCHES || n * 10 >= cases) {
                        // Probes cost about a page over the share that matches; a window, the
                        // cases in it and the matches among them.
                        let dense = recent * 5 >= cases.min(RECENT_CASES);
                        if t.whole_words && dense {
                            let rows = tx.query(probed, bound.clone()).await?;
                            if rows.len() as i64 >= s.filter.limit {
                                return hits(&rows, true);
                            }
                        } else if let Some(rows) =
                            window::walked(tx, &s, recent, cases, &bound).await?
                        {
                            return hits(&rows, true);
                        }
                    }
                }
                let mut sql = sql;
                if let (Some(t), true) = (&s.text, pg) {
                    let (recent, cases) = match recent_known {
                        Some(known) => known,
                        None => recent_matches(tx, &t.tsquery, RECENT_CASES).await?,
                    };
                    // The last thousand cases misjudge rarer words, and the planner's
                    // statistics words found together: the larger guess. A larger guess only
                    // moves the plan towards the walk, so words the thousand already walk for
                    // are not asked about.
                    let mut expected = expected_matches(recent, cases);
                    if date_plan(expected, cases, s.filter.limit) != DatePlan::Walk {
                        let estimated = tx
                            .one(PG_ESTIMATED_MATCHES, args![t.tsquery.as_str()])
                            .await?
                            .opt_int("n")?
                            .unwrap_or(0);
                        expected = expected.max(estimated);
                    }
                    let sorted = if oldest {
                        PG_OLDEST_SORTED
                    } else {
                        PG_NEWEST_SORTED
                    };
                    match date_plan(expected, cases, s.filter.limit) {
                        DatePlan::Sort => sql = sorted,
                        DatePlan::Window(span) => {
                            if let Some(rows) = windowed(tx, &s, span, &bound).await? {
                                return hits(&rows, true);
                            }
                            sql = sorted;
                        }
                        DatePlan::Walk => {}
                    }
                }
                let rows = tx.query(sql, bound).await?;
                hits(&rows, s.text.is_some())
            })
        }))
        .await
    }
}

/// A page in date order on PostgreSQL from the matches received in a window of `span` cases
/// after the cursor (`PG_NEWEST_WINDOW`); when they do not fill the page, a window wider by
/// what the last one found (twice the cases it would take at its rate of matches, at most
/// sixteen times as many); `None` once a window would hold every case left (the caller sorts
/// every match then). Everything outside a window was received after (or before) everything
/// in it, so a page the window fills is the page.
async fn windowed(
    tx: &mut dyn crate::tx::Tx,
    s: &CaseSearch,
    mut span: i64,
    bound: &[Arg],
) -> Result<Option<Vec<crate::tx::Row>>> {
    let oldest = s.order == SearchOrder::Oldest;
    let (edge_sql, sql) = if oldest {
        (PG_OLDEST_EDGE, PG_OLDEST_WINDOW)
    } else {
        (PG_NEWEST_EDGE, PG_NEWEST_WINDOW)
    };
    let from = match (s.after, oldest) {
        (Some((at, _)), _) => micros(at),
        (None, false) => i64::MAX,
        (None, true) => i64::MIN,
    };
    loop {
        let Some(edge) = tx.optional(edge_sql, args![from, span]).await? else {
            return Ok(None);
        };
        let edge = edge.int("opened_at")?;
        let (low, high) = if oldest { (from, edge) } else { (edge, from) };
        let mut a = bound.to_vec();
        a.push(Arg::Int(Some(low)));
        a.push(Arg::Int(Some(high)));
        let rows = tx.query(sql, a).await?;
        let found = rows.len() as i64;
        if found >= s.filter.limit {
            return Ok(Some(rows));
        }
        span = wider(span, found, s.filter.limit);
    }
}

/// The next window after one of `span` cases that found `found` of a page of `limit` (see
/// [`windowed`]).
fn wider(span: i64, found: i64, limit: i64) -> i64 {
    let times = if found > 0 {
        (limit.saturating_mul(2) / found).clamp(2, 16)
    } else {
        16
    };
    span.saturating_mul(times)
}

/// A page of matches by relevance (`bound`: the search's arguments, `$1`–`$23`): the recent
/// tier's page, and when the recent matches run out on it, the next older tier's, and so on
/// (see [`ranked_tiers`]), ranked by the words that weigh (see [`Weighed`]).
async fn ranked(
    tx: &mut dyn crate::tx::Tx,
    s: &CaseSearch,
    text: &TextQuery,
    weighed: &Weighed,
    bound: Vec<Arg>,
) -> Result<Vec<crate::tx::Row>> {
    let pg = tx.is_postgres();
    let every = weighed.ranked.len() == text.fts5_words.len();
    let (rank, count) = match (pg, every) {
        (true, _) => (PG_RELEVANCE, PG_TIER_COUNT),
        (false, true) => (SQLITE_RELEVANCE, SQLITE_TIER_COUNT),
        (false, false) => (SQLITE_RELEVANCE_SOME, SQLITE_TIER_COUNT),
    };
    let weighing = if pg {
        weighed.query(&text.tsquery_words, " & ")
    } else {
        weighed.query(&text.fts5_words, " AND ")
    };
    let tiers = ranked_tiers(s.relevance_pool, weighed.recent, weighed.cases);
    // The arguments with the ids of a tier (`$24` < id <= `$25`), a page size and an offset;
    // a ranking's also with the words that weigh (`$26`).
    let within = |above: i64, upto: i64, limit: i64, offset: i64| {
        let mut a = bound.clone();
        a[8] = Arg::Int(Some(limit));
        a[21] = Arg::Int(Some(offset));
        a.push(Arg::Int(Some(above)));
        a.push(Arg::Int(Some(upto)));
        a
    };
    let ranking = |above: i64, upto: i64, limit: i64, offset: i64| {
        let mut a = within(above, upto, limit, offset);
        a.push(Arg::Text(Some(weighing.clone())));
        a
    };
    let limit = s.filter.limit;
    let expected = expected_matches(weighed.recent, weighed.cases);
    let mut rows = Vec::new();
    // How many of the filtered matches, tier after tier, come before this page.
    let mut offset = s.offset;
    for (n, &(above, upto)) in tiers.iter().enumerate() {
        let last = n + 1 == tiers.len();
        let size = upto.min(weighed.cases).saturating_sub(above);
        let sql = if pg && !last && walk_pays(size, expected, weighed.cases) {
            PG_RELEVANCE_WALK
        } else {
            rank
        };
        let want = limit - rows.len() as i64;
        let page = tx.query(sql, ranking(above, upto, want, offset)).await?;
        let taken = page.len() as i64;
        rows.extend(page);
        if rows.len() as i64 >= limit || last {
            break;
        }
        // The tier's filtered matches end on this page (or before it).
        let in_tier = if taken > 0 || offset == 0 {
            offset + taken
        } else {
            tx.one(count, within(above, upto, limit, offset))
                .await?
                .int("n")?
        };
        offset = (offset - in_tier).max(0);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_tier_holds_the_cases_expected_to_have_the_pool_and_each_older_four_times_more() {
        const M: i64 = i64::MAX;
        // (pool, recent matches of the last 1,000 cases, last case id, tiers newest first)
        for (pool, recent, last, tiers) in [
            // Every recent case matches: the pool is the last 5,000 cases, then 20,000, ...
            (
                5_000,
                1_000,
                1_000_000,
                vec![
                    (995_000, M),
                    (980_000, 995_000),
                    (920_000, 980_000),
                    (680_000, 920_000),
                    (0, 680_000),
                ],
            ),
            // One in ten: the last 50,000, then 200,000, then 800,000, then the rest.
            (
                5_000,
                100,
                1_000_000,
                vec![
                    (950_000, M),
                    (800_000, 950_000),
                    (200_000, 800_000),
                    (0, 200_000),
                ],
            ),
            // Five in a thousand: about 5,000 matches in all, ranked together.
            (5_000, 5, 1_000_000, vec![(0, M)]),
            // Hardly seen in a large store: the newest quarter, then the rest.
            (5_000, 0, 1_000_000, vec![(750_000, M), (0, 750_000)]),
            (1_000, 3, 1_000_000, vec![(750_000, M), (0, 750_000)]),
            (1_000, 3, 100_000, vec![(75_000, M), (0, 75_000)]),
            // Seen often enough to judge: the pool's window (250,000 here, the same).
            (1_000, 4, 1_000_000, vec![(750_000, M), (0, 750_000)]),
            (
                1_000,
                8,
                1_000_000,
                vec![(875_000, M), (500_000, 875_000), (0, 500_000)],
            ),
            // None recent in a smaller store, no pool, or no more cases than the window: one
            // tier.
            (5_000, 0, 99_999, vec![(0, M)]),
            (1_000, 3, 99_999, vec![(0, M)]),
            (0, 1_000, 1_000_000, vec![(0, M)]),
            (5_000, 1_000, 5_000, vec![(0, M)]),
            (5_000, 1_000, 5_001, vec![(1, M), (0, 1)]),
            (i64::MAX, 1, 10, vec![(0, M)]),
            (1, 1_000, i64::MAX, {
                // Windows of 1, 4, 16, ... until one reaches back past the first case.
                let mut t = vec![(M - 1, M)];
                let mut w = 1i64;
                while w.saturating_mul(4) < M {
                    t.push((M - w * 4, M - w));
                    w *= 4;
                }
                t.push((0, M - w));
                t
            }),
        ] {
            let got = ranked_tiers(pool, recent, last);
            assert_eq!(got, tiers, "{pool} {recent} {last}");
            // The tiers cover every id once, newest first.
            assert_eq!(got.first().map(|t| t.1), Some(M));
            assert_eq!(got.last().map(|t| t.0), Some(0));
            assert!(got.windows(2).all(|w| w[0].0 == w[1].1 && w[1].0 < w[1].1));
        }
    }

    #[test]
    fn words_in_half_of_the_cases_or_more_do_not_weigh() {
        // (last case id, recent cases holding each word, the words that weigh)
        for (cases, each, ranked) in [
            // Of the last 1,000: 499 weighs, 500 does not.
            (1_000_000, vec![499, 500, 1_000, 3], vec![0, 3]),
            (1_000_000, vec![1_000, 999], vec![]),
            (1_000_000, vec![0], vec![0]),
            // A small office is its own window: 3 of 5 cases do not weigh, 2 of 5 do.
            (5, vec![3, 2], vec![1]),
            (4, vec![2], vec![]),
            (0, vec![0], vec![]),
        ] {
            let w = Weighed::new(cases, 0, &each, 1_000);
            assert_eq!(w.ranked, ranked, "{cases} {each:?}");
        }
        let w = Weighed::new(10, 1, &[1, 9, 2], 250);
        let words = ["\"a\"", "\"b\"", "\"c\""].map(String::from);
        assert_eq!(w.query(&words, " AND "), "\"a\" AND \"c\"");
    }

    #[test]
    fn postgres_walks_a_small_tier_of_a_common_word() {
        // Measured at a million cases (see `walk_pays`).
        assert!(walk_pays(10_845, 441_188, 1_000_000));
        assert!(!walk_pays(96_153, 72_778, 1_000_000));
        // A word in a tenth of the cases, its tier of 48,543: 80 ms walked, 68 through the index.
        assert!(!walk_pays(48_543, 103_000, 1_000_000));
        // Every case in one tier: never walked.
        assert!(!walk_pays(1_000_000, 4_000, 1_000_000));
        // No matches expected: nothing to gain by walking.
        assert!(!walk_pays(5, 0, 0));
    }

    #[test]
    fn postgres_sorts_rare_words_windows_middling_ones_and_walks_common_ones() {
        use DatePlan::*;
        // (expected matches, cases, page, plan), at a million cases with a page of 51.
        for (expected, cases, limit, plan) in [
            (0, 1_000_000, 51, Sort),
            // One word in a thousand: 15 ms sorted, a window of 204,000 cases ~ 88 ms.
            (1_000, 1_000_000, 51, Sort),
            // "verifiable" (6,931): a window of 29,432 cases.
            (6_931, 1_000_000, 51, Window(29_432)),
            // "proof", in 59 of the last thousand cases: a window of 3,457 cases.
            (59_000, 1_000_000, 51, Window(3_457)),
            // A word in 2 %: a window of 10,200 cases.
            (20_000, 1_000_000, 51, Window(10_200)),
            // A word in 44 % ("payment"): a walk finds a page within some 120 cases.
            (441_188, 1_000_000, 51, Walk),
            // A small office where every case holds the word: a page within 51 cases walked.
            (3_000, 3_000, 51, Walk),
            // Pages of three, a word in 80 of 3,000 cases: a window of 600 cases.
            (80, 3_000, 4, Window(600)),
            (i64::MAX, i64::MAX, 51, Walk),
        ] {
            assert_eq!(
                date_plan(expected, cases, limit),
                plan,
                "{expected} {cases} {limit}"
            );
        }
    }

    #[test]
    fn once_the_walk_pays_it_pays_for_more_matches_too() {
        // The search skips the planner's guess when the recent cases alone choose the walk,
        // which holds only if a larger guess never chooses anything else.
        for cases in [1_000, 100_000, 1_000_000, 10_000_000] {
            for limit in [2, 51, 501] {
                let mut walked = false;
                for expected in (1..=200).map(|i| cases * i / 200) {
                    let walk = date_plan(expected, cases, limit) == DatePlan::Walk;
                    assert!(walk || !walked, "{expected} of {cases}, {limit} a page");
                    walked |= walk;
                }
            }
        }
    }

    #[test]
    fn a_window_that_found_too_few_widens_by_what_it_found() {
        // Half a page: four times wider (twice the cases the page would take at that rate).
        assert_eq!(wider(10_000, 25, 50), 40_000);
        // Nearly a page: at least twice.
        assert_eq!(wider(10_000, 49, 50), 20_000);
        // Nothing, or next to nothing: sixteen times.
        assert_eq!(wider(10_000, 0, 50), 160_000);
        assert_eq!(wider(10_000, 1, 50), 160_000);
        assert_eq!(wider(i64::MAX, 0, 50), i64::MAX);
    }
}
