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
        concat!(
            summary_columns!(),
            ", case_search.head AS s_head, case_search.shared AS s_shared, case_search.internal AS s_internal, \
             case_search.person AS s_person FROM (SELECT c.id AS hit, case_search.rank AS hit_rank \
             FROM case_search JOIN cases c ON c.id = case_search.rowid \
             LEFT JOIN categories cat ON cat.id = c.category_id WHERE case_search MATCH $23 AND",
            search_filters!(),
            $inner_order,
            ") page JOIN cases c ON c.id = page.hit JOIN case_search ON case_search.rowid = page.hit",
            joins!(),
            $outer_order
        )
    };
}

/// The same page of matches, found the other way round: walking the cases in date order (the
/// `(opened_at, id)` index, after the cursor) and keeping the matches, until the page is full.
/// For words in many cases this stops after a page's worth of cases instead of sorting every
/// match. The walk goes at most `WALK_CASES` cases: a page it does not fill there is found by
/// sorting the matches. `CROSS JOIN` keeps the walk's order as the join's (SQLite does not
/// reorder it), so the first `$9` kept are the page.
macro_rules! sqlite_walk {
    ($direction:literal, $after:literal, $matches:expr, $outer_order:expr) => {
        concat!(
            summary_columns!(),
            ", case_search.head AS s_head, case_search.shared AS s_shared, case_search.internal AS s_internal, \
             case_search.person AS s_person FROM (SELECT c.id AS hit FROM (SELECT id FROM cases INDEXED BY cases_opened_id \
             WHERE $20 IS NULL OR opened_at ", $after, " $20 OR (opened_at = $20 AND id ", $after, " $21) \
             ORDER BY opened_at ", $direction, ", id ", $direction, " LIMIT 20000) walk \
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

/// How many matches (at most `$2`) some words have, about how many cases there are, and how
/// many of the last thousand cases filed match (how dense the matches are where a walk starts).
const SQLITE_MATCHES: &str = "SELECT (SELECT COUNT(*) FROM (SELECT rowid FROM case_search WHERE case_search MATCH $1 LIMIT $2)) AS n, \
     (SELECT COALESCE(MAX(id), 0) FROM cases) AS cases, \
     (SELECT COUNT(*) FROM case_search WHERE case_search MATCH $1 \
       AND rowid > (SELECT COALESCE(MAX(id), 0) - 1000 FROM cases)) AS recent";
/// From this many matches on (or one case in ten), a date-ordered search first walks the cases
/// (see `sqlite_walk!`).
const WALK_FROM_MATCHES: i64 = 20_000;

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

const LIST_NEWEST: &str = list!(newest);
const LIST_OLDEST: &str = list!(oldest);
const SQLITE_NEWEST: &str = sqlite_text!(newest!(), " ORDER BY c.opened_at DESC, c.id DESC");
const SQLITE_OLDEST: &str = sqlite_text!(oldest!(), " ORDER BY c.opened_at ASC, c.id ASC");
/// Whether a case matches, asked of each case walked: a probe of the index for one word in
/// most cases (a page is a few dozen probes); otherwise the matches gathered once (probes for
/// several words, a prefix or a sparser word cost more than gathering them).
macro_rules! probe {
    () => {
        "EXISTS (SELECT 1 FROM case_search WHERE case_search MATCH $23 AND rowid = c.id)"
    };
}
macro_rules! gathered {
    () => {
        "+c.id IN (SELECT rowid FROM case_search WHERE case_search MATCH $23)"
    };
}
const SQLITE_NEWEST_WALK: [&str; 2] = [
    sqlite_walk!(
        "DESC",
        "<",
        probe!(),
        " ORDER BY c.opened_at DESC, c.id DESC"
    ),
    sqlite_walk!(
        "DESC",
        "<",
        gathered!(),
        " ORDER BY c.opened_at DESC, c.id DESC"
    ),
];
const SQLITE_OLDEST_WALK: [&str; 2] = [
    sqlite_walk!("ASC", ">", probe!(), " ORDER BY c.opened_at ASC, c.id ASC"),
    sqlite_walk!(
        "ASC",
        ">",
        gathered!(),
        " ORDER BY c.opened_at ASC, c.id ASC"
    ),
];
const SQLITE_RELEVANCE: &str = sqlite_text!(
    " AND ($20 IS NULL OR $21 IS NULL OR TRUE) ORDER BY case_search.rank, c.opened_at DESC, c.id DESC LIMIT $9 OFFSET $22",
    " ORDER BY page.hit_rank, c.opened_at DESC, c.id DESC"
);
const PG_NEWEST: &str = pg_text!(newest!());
const PG_OLDEST: &str = pg_text!(oldest!());
const PG_RELEVANCE: &str = pg_text!(
    " AND ($20::BIGINT IS NULL OR $21::BIGINT IS NULL OR TRUE) ORDER BY ts_rank(s.doc, to_tsquery('simple', $23)) DESC, c.opened_at DESC, c.id DESC LIMIT $9 OFFSET $22"
);

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
    /// One whole word (not several, not a prefix): each case is quickly asked whether it
    /// matches, which the date orders' walk uses (see `sqlite_walk!`).
    pub one_word: bool,
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

#[async_trait]
pub trait CaseSearching {
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
                let sql = match (&s.text, s.order, pg) {
                    (None, SearchOrder::Oldest, _) => LIST_OLDEST,
                    (None, _, _) => LIST_NEWEST,
                    (Some(_), SearchOrder::Newest, false) => SQLITE_NEWEST,
                    (Some(_), SearchOrder::Oldest, false) => SQLITE_OLDEST,
                    (Some(_), SearchOrder::Relevance, false) => SQLITE_RELEVANCE,
                    (Some(_), SearchOrder::Newest, true) => PG_NEWEST,
                    (Some(_), SearchOrder::Oldest, true) => PG_OLDEST,
                    (Some(_), SearchOrder::Relevance, true) => PG_RELEVANCE,
                };
                if let (Some(t), true) = (&s.text, pg)
                    && let Some(last) = bound.last_mut()
                {
                    *last = Arg::Text(Some(t.tsquery.clone()));
                }
                // Words in many cases, in date order: walk the cases first, rather than sort
                // every match; a page the walk does not fill is found by the sort.
                let walk = match (&s.text, s.order, pg) {
                    (Some(_), SearchOrder::Newest, false) => Some(SQLITE_NEWEST_WALK),
                    (Some(_), SearchOrder::Oldest, false) => Some(SQLITE_OLDEST_WALK),
                    _ => None,
                };
                if let (Some(walks), Some(t)) = (walk, &s.text) {
                    let m = tx
                        .one(SQLITE_MATCHES, args![t.fts5.as_str(), WALK_FROM_MATCHES])
                        .await?;
                    let (n, cases, recent) = (m.int("n")?, m.int("cases")?, m.int("recent")?);
                    if n > 0 && (n >= WALK_FROM_MATCHES || n * 10 >= cases) {
                        let dense = recent * 2 >= cases.min(1000);
                        let walk = walks[usize::from(!(t.one_word && dense))];
                        let rows = tx.query(walk, bound.clone()).await?;
                        if rows.len() as i64 >= s.filter.limit {
                            return hits(&rows, s.text.is_some());
                        }
                    }
                }
                let rows = tx.query(sql, bound).await?;
                hits(&rows, s.text.is_some())
            })
        }))
        .await
    }
}
