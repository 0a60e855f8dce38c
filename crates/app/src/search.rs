//! Finding cases: the case list's filters, full-text words over the case and its timeline,
//! sorted by when cases were received or by relevance, with a snippet of where the words are,
//! a page at a time. A reader searches only what their role may read: a company its own cases
//! and their shared entries, an analyst nothing of the consumer's details.

use crate::{App, AppError, AppResult, Person};
use redress_domain::records::CaseSummary;
use redress_domain::search::{Part, SearchTerms, SnippetPart, searchable_parts};
use redress_domain::validate::FieldErrors;
use redress_domain::{Money, Permission};
use redress_store::{CaseFilter, CaseSearch, SearchOrder, TextQuery};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The parameters [`App::list_cases`] knows.
pub const LIST_PARAMS: &[&str] = &[
    "q",
    "status",
    "kind",
    "channel",
    "unit",
    "assignee",
    "company",
    "consumer",
    "category",
    "flag",
    "open",
    "unassigned",
    "overdue",
    "opened_after",
    "opened_before",
    "amount_min",
    "amount_max",
    "sort",
    "cursor",
    "limit",
];

/// How long a snippet is, in characters.
const SNIPPET_WIDTH: usize = 160;

/// A case found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseHit {
    #[serde(flatten)]
    pub case: CaseSummary,
    /// Where the words searched for are (the case's text or a timeline entry the reader may
    /// see), the words marked `hit`; absent without `q`, or when they matched only the
    /// consumer's details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Vec<SnippetPart>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseHit>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn flag(errors: &mut FieldErrors, field: &str, s: &str) -> bool {
    match s {
        "true" => true,
        "false" => false,
        _ => {
            errors.push(field, "invalid_type", "true or false.");
            false
        }
    }
}

fn word<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    s: &str,
    what: &str,
) -> Option<T> {
    s.parse()
        .map_err(|_| errors.push(field, "unknown_value", format!("Not a known {what}.")))
        .ok()
}

fn amount(errors: &mut FieldErrors, field: &str, s: &str) -> Option<i64> {
    match Money::parse(s) {
        Ok(m) => Some(m.cents()),
        Err(e) => {
            errors.push(
                field,
                "amount_invalid",
                format!("{e}: give an amount such as 125.40."),
            );
            None
        }
    }
}

impl App {
    /// Keeps the search index in few pieces (on SQLite, merges the small segments that writes
    /// leave; see the store's `tidy_search_index`): run by the deadline sweep every minute. The
    /// segments before and after.
    pub async fn tidy_search_index(&self) -> AppResult<(i64, i64)> {
        Ok(self.store.tidy_search_index().await?)
    }

    /// Reads a search's parameters (see [`LIST_PARAMS`]), naming each mistake: what to ask
    /// the store, and the words typed (for snippets).
    async fn case_search(
        &self,
        person: &Person,
        q: &HashMap<String, String>,
    ) -> AppResult<(CaseSearch, Option<SearchTerms>)> {
        person.require(Permission::CaseRead)?;
        let mut errors = FieldErrors::new();
        for k in q.keys() {
            if !LIST_PARAMS.contains(&k.as_str()) {
                errors.push(
                    k.clone(),
                    "unknown_parameter",
                    format!("Known parameters: {}.", LIST_PARAMS.join(", ")),
                );
            }
        }
        // A parameter whose values are words is given a word or left out.
        for k in [
            "status",
            "kind",
            "channel",
            "flag",
            "sort",
            "open",
            "unassigned",
            "overdue",
        ] {
            if q.get(k).is_some_and(|v| v.trim().is_empty()) {
                errors.push(k, "required", "Give a value or leave the parameter out.");
            }
        }
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut s = CaseSearch {
            filter: CaseFilter {
                limit: 50,
                ..CaseFilter::default()
            },
            relevance_pool: i64::from(self.settings.relevance_pool),
            ..CaseSearch::default()
        };
        let terms = match get("q") {
            Some(text) if text.chars().count() > 500 => {
                errors.push("q", "too_long", "At most 500 characters.");
                None
            }
            Some(text) => SearchTerms::parse(text)
                .map_err(|e| errors.push("q", "invalid_search", e.to_string()))
                .ok(),
            None => None,
        };
        let parts = searchable_parts(person.audience());
        if let Some(t) = &terms {
            s.text = Some(TextQuery::new(t, parts));
        }
        s.order = match get("sort") {
            None if terms.is_some() => SearchOrder::Relevance,
            None | Some("newest") => SearchOrder::Newest,
            Some("oldest") => SearchOrder::Oldest,
            Some("relevance") if terms.is_some() => SearchOrder::Relevance,
            Some("relevance") => {
                errors.push(
                    "sort",
                    "needs_q",
                    "Sorting by relevance needs words to search for (q).",
                );
                SearchOrder::Newest
            }
            Some(_) => {
                errors.push("sort", "unknown_value", "newest, oldest or relevance.");
                SearchOrder::Newest
            }
        };
        let f = &mut s.filter;
        if let Some(v) = get("status") {
            f.status = word(&mut errors, "status", v, "status");
        }
        if let Some(v) = get("kind") {
            f.kind = word(&mut errors, "kind", v, "case kind");
        }
        if let Some(v) = get("channel") {
            s.channel = word(&mut errors, "channel", v, "channel");
        }
        if let Some(v) = get("flag") {
            s.flag = word(&mut errors, "flag", v, "flag");
        }
        if let Some(v) = get("unit") {
            f.unit_id = self.lookup_unit(&mut errors, "unit", v).await?;
        }
        if let Some(v) = get("assignee") {
            f.assignee_id = self.lookup_staff(&mut errors, "assignee", v).await?;
        }
        for (field, slot) in [
            ("company", &mut f.company_id),
            ("consumer", &mut f.consumer_id),
        ] {
            if let Some(v) = get(field) {
                *slot = v
                    .parse()
                    .map_err(|_| {
                        errors.push(field, "invalid_type", format!("A {field} id (a number)."))
                    })
                    .ok();
            }
        }
        if let Some(v) = get("category") {
            if v.chars().count() > 1_000 {
                errors.push("category", "too_long", "At most 1000 characters.");
            } else {
                s.category = Some(v.to_string());
            }
        }
        if let Some(v) = get("open") {
            f.open_only = flag(&mut errors, "open", v);
        }
        if let Some(v) = get("unassigned") {
            f.unassigned_only = flag(&mut errors, "unassigned", v);
        }
        if let Some(v) = get("overdue")
            && flag(&mut errors, "overdue", v)
        {
            s.overdue_at = Some(self.clock.now());
        }
        for (field, slot) in [
            ("opened_after", &mut f.opened_after),
            ("opened_before", &mut s.opened_before),
        ] {
            if let Some(v) = get(field) {
                *slot = self.parse_instant(v).or_else(|| {
                    errors.push(
                        field,
                        "invalid_date",
                        "Use an RFC 3339 instant or YYYY-MM-DD.",
                    );
                    None
                });
            }
        }
        if let Some(v) = get("amount_min") {
            s.amount_min_cents = amount(&mut errors, "amount_min", v);
        }
        if let Some(v) = get("amount_max") {
            s.amount_max_cents = amount(&mut errors, "amount_max", v);
        }
        if let Some(v) = get("limit") {
            match v.parse::<i64>() {
                Ok(n) if (1..=500).contains(&n) => s.filter.limit = n,
                _ => errors.push("limit", "out_of_range", "A number from 1 to 500."),
            }
        }
        if let Some(v) = get("cursor") {
            let parsed = match s.order {
                SearchOrder::Relevance => v
                    .strip_prefix('r')
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| (1..=100_000).contains(n))
                    .map(|n| s.offset = n),
                _ => v
                    .split_once('.')
                    .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.parse::<i64>().ok()?)))
                    .filter(|(_, id)| *id > 0)
                    .and_then(|(t, id)| Some((jiff::Timestamp::from_microsecond(t).ok()?, id)))
                    .map(|after| s.after = Some(after)),
            };
            if parsed.is_none() {
                errors.push(
                    "cursor",
                    "invalid_cursor",
                    "Use the next_cursor of a previous page (with the same sort).",
                );
            }
        }
        AppError::unless_empty(errors)?;
        Ok((s, terms))
    }

    /// Finds cases: filters given as text (see [`LIST_PARAMS`]), `q` for words, `sort`
    /// (`newest`, `oldest`, `relevance`; with `q` relevance first), `cursor` and `limit`.
    pub async fn list_cases(
        &self,
        person: &Person,
        q: &HashMap<String, String>,
    ) -> AppResult<CasePage> {
        let (mut s, terms) = self.case_search(person, q).await?;
        let parts = searchable_parts(person.audience());
        let requested = s.filter.limit;
        s.filter.limit = requested + 1;
        let mut hits = self.store.search_cases(&s, person.scope()).await?;
        let next_cursor = if hits.len() as i64 > requested {
            hits.truncate(requested as usize);
            match s.order {
                SearchOrder::Relevance => Some(format!("r{}", s.offset + requested)),
                _ => hits
                    .last()
                    .map(|h| format!("{}.{}", h.opened_at.as_microsecond(), h.id)),
            }
        } else {
            None
        };
        let items = hits
            .into_iter()
            .map(|h| {
                let snippet = match (&terms, &h.parts) {
                    (Some(t), Some(texts)) => [Part::Head, Part::Shared, Part::Internal]
                        .iter()
                        .zip(texts.iter())
                        .filter(|(p, _)| parts.contains(p))
                        .find_map(|(_, text)| t.snippet(text, SNIPPET_WIDTH)),
                    _ => None,
                };
                CaseHit {
                    case: h.summary,
                    snippet,
                }
            })
            .collect();
        Ok(CasePage { items, next_cursor })
    }
}

/// How many of the most recent matches a search by relevance for words in very many cases
/// ranks first, before the older ones (see `redress_store::search::ranked_tiers`). Ranking scores
/// every match it is given: at a million cases a word in half of them took a second
/// (`redress bench --only data`). On PostgreSQL each match ranked is a read of its words,
/// 10–15 µs: with 5,000 a page of a tier took up to 100 ms, search p95 80–92 ms; with 1,000,
/// p95 41–42 ms.
pub const RELEVANCE_POOL: u32 = 1_000;

/// The most cases one export writes.
pub const EXPORT_MAX: usize = 100_000;

impl App {
    /// Every case a search finds (up to [`EXPORT_MAX`]), as a table to write out as CSV or XLSX.
    pub async fn export_cases(
        &self,
        person: &Person,
        q: &HashMap<String, String>,
    ) -> AppResult<crate::reports::Table> {
        use crate::reports::{Cell, Table};
        let mut q = q.clone();
        q.insert("limit".into(), "500".into());
        q.remove("cursor");
        // The same search as the list, without its snippets, a page after another.
        let (mut s, _) = self.case_search(person, &q).await?;
        let mut table = Table {
            key: "cases".into(),
            columns: [
                "reference",
                "opened_at",
                "kind",
                "channel",
                "status",
                "priority",
                "flags",
                "category",
                "company",
                "unit",
                "assignee",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
            rows: Vec::new(),
        };
        loop {
            let hits = self.store.search_cases(&s, person.scope()).await?;
            for h in &hits {
                let c = &h.summary;
                table.rows.push(vec![
                    Cell::text(c.reference.clone()),
                    Cell::text(c.opened_at.to_string()),
                    Cell::text(c.kind.as_str()),
                    Cell::text(c.channel.as_str()),
                    Cell::text(c.status.as_str()),
                    Cell::text(c.priority.as_str()),
                    Cell::text(redress_domain::flags_to_text(&c.flags)),
                    Cell::text(c.category.clone().unwrap_or_default()),
                    Cell::text(
                        c.company
                            .as_ref()
                            .map(|x| x.name.clone())
                            .unwrap_or_default(),
                    ),
                    Cell::text(c.unit.clone().unwrap_or_default()),
                    Cell::text(c.assignee.clone().unwrap_or_default()),
                ]);
            }
            let full = hits.len() as i64 == s.filter.limit;
            match hits.last() {
                Some(last) if full && table.rows.len() < EXPORT_MAX => match s.order {
                    SearchOrder::Relevance => s.offset += s.filter.limit,
                    _ => s.after = Some((last.opened_at, last.id)),
                },
                _ => break,
            }
        }
        table.rows.truncate(EXPORT_MAX);
        Ok(table)
    }
}
