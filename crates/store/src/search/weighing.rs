//! How common the words searched are: among the cases filed last, and among as many from the
//! middle of the store (see [`Weighed`]).

use super::{RECENT_CASES, TextQuery};
use crate::Result;
use crate::tx::args;

/// How many cases filed last (`$2` of them) the words (`$1`) are in, and the last case id.
const SQLITE_RECENT_MATCHES: &str = "SELECT (SELECT COALESCE(MAX(id), 0) FROM cases) AS cases, \
     (SELECT COUNT(*) FROM case_search WHERE case_search MATCH $1 \
       AND rowid > (SELECT COALESCE(MAX(id), 0) - $2 FROM cases)) AS recent";
/// On PostgreSQL each of those cases' words is tested (about 2 ms for a thousand): asked of the
/// words' index, the planner listed every match of common words first (three common words: 60
/// ms) or, given the ids above a subquery's, guessed a third of the table and started parallel
/// workers (8 ms).
const PG_RECENT_MATCHES: &str = "SELECT (SELECT COALESCE(MAX(id), 0) FROM cases) AS cases, \
     (SELECT COUNT(*) FILTER (WHERE r.doc @@ to_tsquery('simple', $1)) \
       FROM (SELECT doc FROM case_search ORDER BY case_id DESC LIMIT $2) r) AS recent";
/// How many of the cases with ids above `$2` and at most `$3` hold some words (see
/// [`older_matches`]).
const SQLITE_MATCHES_AMONG: &str = "SELECT COUNT(*) AS n FROM case_search WHERE case_search MATCH $1 \
     AND rowid > $2 AND rowid <= $3";
/// The same on PostgreSQL: those cases' words tested, as for the recent ones.
const PG_MATCHES_AMONG: &str = "SELECT COUNT(*) FILTER (WHERE doc @@ to_tsquery('simple', $1)) AS n \
     FROM case_search WHERE case_id > $2 AND case_id <= $3";
/// How many of the last `$2` cases filed hold each of several queries on PostgreSQL (`$1`: a
/// JSON array of `tsquery`s), in their order, in one pass over those cases.
const PG_RECENT_MATCHES_EACH: &str = "SELECT w.i, COUNT(s.case_id) FILTER (WHERE s.doc @@ w.tq) AS recent \
     FROM (SELECT i, to_tsquery('simple', q) AS tq FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS w(q, i)) w \
     LEFT JOIN case_search s ON s.case_id > (SELECT COALESCE(MAX(id), 0) FROM cases) - $2 \
     GROUP BY w.i ORDER BY w.i";
/// How many of the cases with ids above `$2` and at most `$3` hold each of several queries on
/// PostgreSQL (`$1`, as for `PG_RECENT_MATCHES_EACH`), in their order.
const PG_MATCHES_AMONG_EACH: &str = "SELECT w.i, COUNT(s.case_id) FILTER (WHERE s.doc @@ w.tq) AS n \
     FROM (SELECT i, to_tsquery('simple', q) AS tq FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS w(q, i)) w \
     LEFT JOIN case_search s ON s.case_id > $2 AND s.case_id <= $3 \
     GROUP BY w.i ORDER BY w.i";
/// How many of the last `window` cases filed these words (`query`, in the store's language)
/// are in, and the last case id.
pub(super) async fn recent_matches(
    tx: &mut dyn crate::tx::Tx,
    query: &str,
    window: i64,
) -> Result<(i64, i64)> {
    let sql = if tx.is_postgres() {
        PG_RECENT_MATCHES
    } else {
        SQLITE_RECENT_MATCHES
    };
    let m = tx.one(sql, args![query, window]).await?;
    Ok((m.int("recent")?, m.int("cases")?))
}

/// The cases from the middle of the store that some words are also counted in (see
/// [`older_matches`]).
pub const OLDER_CASES: i64 = 250;

/// How many of [`RECENT_CASES`] cases hold some words, judged by [`OLDER_CASES`] cases from the
/// middle of the store (0 for a store of no more than twice [`RECENT_CASES`], which the recent
/// cases judge well). The cases filed last are not like the others in every way: their
/// timelines are short yet, and words that come later in a case are rare in them. Filed in date
/// order, "pending collection" was in 3 of the last thousand cases and in 211,374 of a million,
/// so the recent tier of a search by relevance (see [`super::ranked_tiers`]) held 70,000 matches; the
/// words are judged by the denser of the two samples.
async fn older_matches(tx: &mut dyn crate::tx::Tx, query: &str, cases: i64) -> Result<i64> {
    let Some(ids) = middle(cases, OLDER_CASES) else {
        return Ok(0);
    };
    let n = matches_among(tx, query, ids).await?;
    Ok(n.saturating_mul(RECENT_CASES) / OLDER_CASES)
}

/// The ids (above, up to) of `count` cases from the middle of a store whose last case id is
/// `cases`; none for a store of no more than twice [`RECENT_CASES`], which the recent cases
/// judge well.
fn middle(cases: i64, count: i64) -> Option<(i64, i64)> {
    (cases > 2 * RECENT_CASES).then(|| {
        let above = cases / 2 - count / 2;
        (above, above + count)
    })
}

/// How many of the cases with ids in `(above, upto]` hold some words.
async fn matches_among(
    tx: &mut dyn crate::tx::Tx,
    query: &str,
    (above, upto): (i64, i64),
) -> Result<i64> {
    let sql = if tx.is_postgres() {
        PG_MATCHES_AMONG
    } else {
        SQLITE_MATCHES_AMONG
    };
    tx.one(sql, args![query, above, upto]).await?.int("n")
}

/// The cases filed last that each word of several is judged by (see [`Weighed`]): enough to
/// tell half from not (a share near a half is known within about 3 %), and a quarter of
/// [`RECENT_CASES`], since PostgreSQL reads each case's words once for every word (about 5 ms
/// for three words at 250 cases, 19 at 1,000).
const WEIGHING_CASES: i64 = 250;

/// How common the words searched are: the last case id, how many of the last
/// [`RECENT_CASES`] cases filed hold every word (or of as many older ones, see
/// [`older_matches`]), and which words weigh in a ranking, each judged by the last
/// [`WEIGHING_CASES`] and as many from the middle of the store, whichever hold it more (one
/// word, as every word).
/// A word in half of the cases or more does not: FTS5's bm25 gives it a weight of a millionth
/// (its inverse document frequency, `ln((N - n + ½) / (n + ½))`, would be zero or less), yet
/// counts every case it is in to find that out, about 55 ms for a word in every case of a
/// million. So such words only choose the matches, and the others rank them; when no word
/// weighs, the matches come newest first. PostgreSQL, whose `ts_rank` does not weigh words
/// by how common they are, follows the same rule, so that both stores rank alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Weighed {
    /// The last case id.
    pub cases: i64,
    /// How many of [`RECENT_CASES`] cases hold every word: of the cases filed last, or as
    /// many judged by the older ones (see [`older_matches`]), whichever is more.
    pub recent: i64,
    /// The words (their places in the query) that weigh in a ranking.
    pub ranked: Vec<usize>,
}

impl Weighed {
    /// From the last case id, the recent cases that hold every word, and how many of the last
    /// `window` cases hold each word.
    pub fn new(cases: i64, recent: i64, each: &[i64], window: i64) -> Weighed {
        let window = cases.min(window);
        let ranked = each
            .iter()
            .enumerate()
            .filter(|(_, n)| n.saturating_mul(2) < window)
            .map(|(i, _)| i)
            .collect();
        Weighed {
            cases,
            recent,
            ranked,
        }
    }

    /// The words that weigh, joined as the query language wants them, from each word alone.
    pub(super) fn query(&self, words: &[String], and: &str) -> String {
        self.ranked
            .iter()
            .filter_map(|&i| words.get(i).map(String::as_str))
            .collect::<Vec<_>>()
            .join(and)
    }
}

/// How common the words are (see [`Weighed`]).
pub(super) async fn weigh(tx: &mut dyn crate::tx::Tx, text: &TextQuery) -> Result<Weighed> {
    let (words, whole) = if tx.is_postgres() {
        (&text.tsquery_words, &text.tsquery)
    } else {
        (&text.fts5_words, &text.fts5)
    };
    let (recent, cases) = recent_matches(tx, whole, RECENT_CASES).await?;
    let recent = recent.max(older_matches(tx, whole, cases).await?);
    if words.len() == 1 {
        return Ok(Weighed::new(cases, recent, &[recent], RECENT_CASES));
    }
    // Each word by the last cases filed, and by as many from the middle of the store (see
    // `older_matches`): filed in date order, "company" was in 70 of the last 250 cases and in
    // 997,727 of a million, and ranking by it counted every one of those.
    let middle = middle(cases, WEIGHING_CASES);
    let mut each = Vec::with_capacity(words.len());
    if tx.is_postgres() {
        let listed = serde_json::json!(words).to_string();
        for r in tx
            .query(
                PG_RECENT_MATCHES_EACH,
                args![listed.as_str(), WEIGHING_CASES],
            )
            .await?
        {
            each.push(r.int("recent")?);
        }
        if let Some((above, upto)) = middle {
            for (n, r) in each.iter_mut().zip(
                tx.query(PG_MATCHES_AMONG_EACH, args![listed.as_str(), above, upto])
                    .await?,
            ) {
                *n = (*n).max(r.int("n")?);
            }
        }
    } else {
        for w in words {
            let mut n = recent_matches(tx, w, WEIGHING_CASES).await?.0;
            if let Some(ids) = middle {
                n = n.max(matches_among(tx, w, ids).await?);
            }
            each.push(n);
        }
    }
    Ok(Weighed::new(cases, recent, &each, WEIGHING_CASES))
}
