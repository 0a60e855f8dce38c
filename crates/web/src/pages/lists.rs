//! Work lists on the pages: the table every list of cases shares (sortable columns, the next
//! deadline, age and last activity, paging) and the `/cases` page with its filters.

use super::staff::{csrf_ok, refused};
use super::{Ctx, NavUser, clock_label, contact_line, local_time, session, store_failed};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::i18n::Tr;
use askama::Template;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use redress_app::AppError;
use redress_app::lists::{CaseList, ListRequest};
use redress_app::saved::{SAVED_PARAMS, SavedSearchInput, may_keep_for_unit, search_params};
use redress_app::work::Found;
use redress_domain::records::WorkRow;
use redress_domain::{CaseKind, Status, WorkOrder};
use std::collections::HashMap;

/// A column heading: its label, the link that sorts by it, and how the list is sorted by it now
/// (`ascending`, `descending`, or empty).
pub struct Column {
    pub label: String,
    pub href: String,
    pub sort: &'static str,
}

/// A case as a row of a work list, in the reader's words.
pub struct ListRow {
    pub reference: String,
    pub consumer: String,
    pub company: String,
    pub company_href: String,
    pub stage: String,
    pub priority: String,
    pub priority_word: String,
    pub deadline: String,
    pub due: String,
    pub overdue: bool,
    pub age: String,
    pub activity: String,
    pub unit: String,
    pub assignee: String,
    /// Where the words searched for are: pieces of text, `true` for a word found.
    pub snippet: Vec<(String, bool)>,
}

/// A list of cases as a table: headings, rows, and where this page stands among the others.
pub struct CaseTable {
    pub caption: String,
    pub empty: String,
    pub consumer: bool,
    pub unit: bool,
    pub assignee: bool,
    pub columns: Vec<Column>,
    pub rows: Vec<ListRow>,
    /// "Cases 1–25 of 140", or empty when everything is on one page.
    pub range: String,
    pub prev_href: String,
    pub next_href: String,
}

/// The query string a list was asked for, kept so that sorting and paging keep the filters.
#[derive(Clone, Default)]
pub struct ListLinks {
    pub base: String,
    pub kept: Vec<(String, String)>,
}

impl ListLinks {
    pub fn new(base: &str, query: &HashMap<String, String>) -> ListLinks {
        let mut kept: Vec<(String, String)> = query
            .iter()
            .filter(|(k, v)| {
                !v.trim().is_empty() && !matches!(k.as_str(), "sort" | "dir" | "page" | "lang")
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        kept.sort();
        ListLinks {
            base: base.to_string(),
            kept,
        }
    }

    fn href(&self, extra: &[(&str, String)]) -> String {
        let pairs: Vec<String> = self
            .kept
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
            .map(|(k, v)| format!("{}={}", enc(k), enc(&v)))
            .collect();
        if pairs.is_empty() {
            self.base.clone()
        } else {
            format!("{}?{}", self.base, pairs.join("&"))
        }
    }
}

fn enc(s: &str) -> String {
    redress_domain::records::percent(s)
}

/// Whole days from `from` to `to`, never below zero.
fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()).max(0) / 86_400
}

/// Which columns a table shows besides the reference, company, stage, deadline, age and
/// activity, and its caption.
pub struct TableSpec {
    pub consumer: bool,
    pub unit: bool,
    pub assignee: bool,
    /// Whether the headings sort (the list's links lead to the full list).
    pub sortable: bool,
    pub caption: String,
    /// What the table says when it has no rows.
    pub empty: String,
}

/// The table for a page of a work list.
pub fn case_table(
    state: &AppState,
    tr: &Tr,
    list: &CaseList,
    req: &ListRequest,
    links: &ListLinks,
    shown: TableSpec,
) -> CaseTable {
    let now = state.clock.now();
    let mut order: Vec<(WorkOrder, &str)> = vec![(WorkOrder::Reference, "col-reference")];
    if shown.consumer {
        order.push((WorkOrder::Consumer, "col-consumer"));
    }
    order.extend([
        (WorkOrder::Company, "col-company"),
        (WorkOrder::Stage, "col-status"),
        (WorkOrder::Due, "col-next-deadline"),
        (WorkOrder::Age, "col-age"),
        (WorkOrder::Activity, "col-activity"),
    ]);
    let mut columns: Vec<Column> = order
        .into_iter()
        .map(|(o, key)| {
            let current = req.order == o;
            let sort = match (current, req.descending) {
                (true, false) => "ascending",
                (true, true) => "descending",
                _ => "",
            };
            let descending = current && !req.descending;
            let mut extra = vec![("sort", o.as_str().to_string())];
            if descending {
                extra.push(("dir", "desc".to_string()));
            }
            Column {
                label: tr.t(key),
                href: if shown.sortable {
                    links.href(&extra)
                } else {
                    String::new()
                },
                sort,
            }
        })
        .collect();
    if shown.unit {
        columns.push(Column {
            label: tr.t("home-queue-unit"),
            href: String::new(),
            sort: "",
        });
    }
    if shown.assignee {
        columns.push(Column {
            label: tr.t("col-assignee"),
            href: String::new(),
            sort: "",
        });
    }
    let rows = list
        .rows
        .iter()
        .map(|r: &WorkRow| {
            let c = &r.case;
            let (deadline, due, overdue) = match &r.next_deadline {
                Some(d) => (
                    clock_label(state, tr, c.kind, &d.clock),
                    local_time(state, d.due_at),
                    d.due_at < now,
                ),
                None => (String::new(), String::new(), false),
            };
            ListRow {
                reference: c.reference.clone(),
                consumer: r.consumer.clone().unwrap_or_default(),
                company: c
                    .company
                    .as_ref()
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                company_href: c
                    .company
                    .as_ref()
                    .filter(|_| shown.sortable)
                    .map(|x| {
                        let mut l = links.clone();
                        l.kept.retain(|(k, _)| k != "company");
                        l.href(&[("company", x.id.to_string())])
                    })
                    .unwrap_or_default(),
                stage: tr.word("status", c.status.as_str()),
                priority: c.priority.as_str().to_string(),
                priority_word: tr.word("priority", c.priority.as_str()),
                deadline,
                due,
                overdue,
                age: tr.tn("age-days", "days", days_between(c.opened_at, now)),
                activity: local_time(state, c.updated_at),
                unit: c.unit.clone().unwrap_or_default(),
                assignee: r
                    .assignee_name
                    .clone()
                    .or_else(|| c.assignee.clone())
                    .unwrap_or_default(),
                snippet: list
                    .snippets
                    .get(&c.reference)
                    .map(|parts| parts.iter().map(|p| (p.text.clone(), p.hit)).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let first = (list.page - 1) * list.per_page + 1;
    let last = (first + list.rows.len() as i64 - 1).max(first);
    let range = if list.more || list.total > list.rows.len() as i64 || list.page > 1 {
        tr.targs(
            if list.more {
                "list-range-more"
            } else {
                "list-range"
            },
            &[
                ("first", &first.to_string()),
                ("last", &last.to_string()),
                ("total", &list.total.to_string()),
            ],
        )
    } else {
        String::new()
    };
    let page_href = |page: i64| {
        let mut extra = vec![("sort", req.order.as_str().to_string())];
        if req.descending {
            extra.push(("dir", "desc".to_string()));
        }
        extra.push(("page", page.to_string()));
        links.href(&extra)
    };
    CaseTable {
        caption: shown.caption,
        empty: shown.empty,
        consumer: shown.consumer,
        unit: shown.unit,
        assignee: shown.assignee,
        columns,
        rows,
        range,
        prev_href: if list.page > 1 {
            page_href(list.page - 1)
        } else {
            String::new()
        },
        next_href: if list.has_next() {
            page_href(list.page + 1)
        } else {
            String::new()
        },
    }
}

// ---- the /cases page ----

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    /// The words searched for (empty for a plain list).
    query: String,
    /// (consumer id, who they are, the link to their cases) for each person the words name.
    people: Vec<(i64, String, String)>,
    /// The person the list is narrowed to, with the link that widens it again.
    person: Option<(String, String)>,
    /// What was wrong with the filters (shown above the list, which then shows the defaults).
    problems: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    units: Vec<(String, String)>,
    staff: Vec<(String, String)>,
    /// The current filters' values, by name.
    status: String,
    kind: String,
    unit: String,
    assignee: String,
    closed: bool,
    overdue: bool,
    /// The company the list is narrowed to, with the link that widens it again.
    company: Option<(String, String)>,
    company_id: String,
    consumer_id: String,
    table: CaseTable,
    /// The person's and their unit's saved searches.
    saved: Vec<SavedLink>,
    /// What was wrong with the search the person tried to save.
    save_problems: Vec<(String, String)>,
    /// The filters shown now, to save: (name, value).
    current: Vec<(String, String)>,
    /// (code, name) of the units the person keeps searches for.
    units_for_saving: Vec<(String, String)>,
    /// The filters shown, as a query string, for the download links.
    download_query: String,
    csrf: String,
}

/// A saved search on the case list.
struct SavedLink {
    id: i64,
    name: String,
    unit: Option<String>,
    href: String,
    may_forget: bool,
}

/// Every case the list's filters find (up to 100,000), as CSV or XLSX
/// (`GET /cases/download?format=csv|xlsx&...`): the case search's export, for the filters shown.
pub(super) async fn download(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let xlsx = query.get("format").map(String::as_str) == Some("xlsx");
    let shown: std::collections::BTreeMap<String, String> = query
        .into_iter()
        .filter(|(k, v)| SAVED_PARAMS.contains(&k.as_str()) && !v.trim().is_empty())
        .collect();
    let q = search_params(&user, &shown);
    let table = match state.export_cases(&user, &q).await {
        Ok(t) => t,
        Err(AppError::Validation(_)) => {
            return cases_render(
                &state,
                &ctx,
                &user,
                shown.into_iter().collect(),
                vec![],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return refused(&ctx, &user, e),
    };
    crate::api::cases::cases_file(&table, xlsx).unwrap_or_else(super::internal)
}

/// Keeps the shown filters under a name (`POST /cases/saved`), then shows the saved list.
pub(super) async fn save_search(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(fields): PostForm<HashMap<String, String>>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let params: std::collections::BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("param.")?.to_string(), v.clone())))
        .collect();
    let shown: HashMap<String, String> = params.clone().into_iter().collect();
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        let problems = vec![(tr.t("saved-title"), tr.t("error-csrf"))];
        return cases_render(&state, &ctx, &user, shown, problems, StatusCode::FORBIDDEN).await;
    }
    let input = SavedSearchInput {
        name: fields.get("name").cloned().unwrap_or_default(),
        params,
        unit: fields.get("unit").cloned(),
    };
    match state.save_search(&user, input).await {
        Ok(saved) => Redirect::to(&saved.href).into_response(),
        Err(AppError::Validation(f)) => {
            let problems =
                f.0.iter()
                    .map(|e| {
                        let label = match e.field.strip_prefix("params.") {
                            Some(filter) => tr.t(&format!("filter-{filter}")),
                            None => tr.t(&format!("saved-{}", e.field)),
                        };
                        (label, tr.error(&e.code, &e.message))
                    })
                    .collect();
            cases_render(
                &state,
                &ctx,
                &user,
                shown,
                problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => refused(&ctx, &user, e),
    }
}

/// Forgets a saved search (`POST /cases/saved/{id}/forget`), then shows the case list.
pub(super) async fn forget_search(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    PostForm(fields): PostForm<HashMap<String, String>>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let not_found = || {
        super::message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        )
    };
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        let problems = vec![(ctx.tr.t("saved-title"), ctx.tr.t("error-csrf"))];
        return cases_render(
            &state,
            &ctx,
            &user,
            HashMap::new(),
            problems,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    match state.forget_saved_search(&user, id).await {
        Ok(()) => Redirect::to("/cases").into_response(),
        Err(AppError::NotFound) => not_found(),
        Err(e) => refused(&ctx, &user, e),
    }
}

/// The list of cases (`/cases`) and search (`/search?q=`): a whole reference opens its case;
/// a phone, email or account number lists the people on file with it (and, when it is one
/// person, their cases); other words find cases by reference, consumer, company or description.
pub(super) async fn cases_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    cases_render(&state, &ctx, &user, query, vec![], StatusCode::OK).await
}

/// The case list with its filters, saved searches, and what was wrong with the last save.
async fn cases_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    mut query: HashMap<String, String>,
    save_problems: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let words = query
        .get("q")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut people = vec![];
    if !words.is_empty() {
        match state.search(user, &words).await {
            Ok(Found::Case(r)) => return Redirect::to(&format!("/cases/{r}")).into_response(),
            Ok(Found::People(found)) => people = found,
            Err(e) => return store_failed(ctx, e),
        }
    }
    // One person named by a phone, email or account number: the list is their cases.
    if let [one] = people.as_slice() {
        query.remove("q");
        query.insert("consumer".into(), one.id.to_string());
    } else if !people.is_empty() {
        query.remove("q");
    }
    // Each filter not understood, by the filter's name in the reader's language.
    let named = |f: &redress_domain::FieldErrors| -> Vec<(String, String)> {
        f.0.iter()
            .map(|e| {
                (
                    tr.t(&format!("filter-{}", e.field)),
                    tr.error(&e.code, &e.message),
                )
            })
            .collect()
    };
    let (mut req, mut problems) = match ListRequest::parse(|k| query.get(k).map(String::as_str)) {
        Ok(r) => (r, vec![]),
        Err(AppError::Validation(f)) => (ListRequest::default(), named(&f)),
        Err(e) => return store_failed(ctx, e),
    };
    let list = match state.case_list(user, &req).await {
        Ok(l) => l,
        Err(AppError::Validation(f)) => {
            problems.extend(named(&f));
            req = ListRequest::default();
            match state.case_list(user, &req).await {
                Ok(l) => l,
                Err(e) => return store_failed(ctx, e),
            }
        }
        Err(e) => return store_failed(ctx, e),
    };
    let staff_view = !user.is_company();
    let (units, staff) = if staff_view {
        match state.list_choices(user).await {
            Ok((units, staff)) => (
                units.into_iter().map(|u| (u.code, u.name)).collect(),
                staff
                    .into_iter()
                    .map(|u| (u.username, u.display_name))
                    .collect(),
            ),
            Err(e) => return store_failed(ctx, e),
        }
    } else {
        (vec![], vec![])
    };
    let saved = match state.saved_searches(user).await {
        Ok(list) => list
            .into_iter()
            .map(|s| SavedLink {
                may_forget: s.unit.as_deref().is_none_or(|u| may_keep_for_unit(user, u)),
                id: s.id,
                name: s.name,
                unit: s.unit,
                href: s.href,
            })
            .collect(),
        Err(e) => return store_failed(ctx, e),
    };
    let units_for_saving = match state.units_for_saved_searches(user).await {
        Ok(units) => units.into_iter().map(|u| (u.code, u.name)).collect(),
        Err(e) => return store_failed(ctx, e),
    };
    let links = ListLinks::new("/cases", &query);
    let person = req.consumer_id.map(|id| {
        let name = people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .or_else(|| list.rows.iter().find_map(|r| r.consumer.clone()))
            .unwrap_or_else(|| format!("#{id}"));
        let mut wider = links.clone();
        wider.kept.retain(|(k, _)| k != "consumer");
        (name, wider.href(&[]))
    });
    let company = req.company_id.map(|id| {
        let name = list
            .rows
            .iter()
            .find_map(|r| r.case.company.as_ref().filter(|c| c.id == id))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("#{id}"));
        let mut wider = links.clone();
        wider.kept.retain(|(k, _)| k != "company");
        (name, wider.href(&[]))
    });
    let shown = TableSpec {
        consumer: redress_domain::view::sees_consumer_name(user.audience()),
        unit: staff_view,
        assignee: staff_view,
        sortable: true,
        caption: tr.t("cases-caption"),
        empty: tr.t("cases-none"),
    };
    let table = case_table(state, &tr, &list, &req, &links, shown);
    let any = tr.t("filter-any");
    let page = CasesPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        query: words,
        people: people
            .iter()
            .map(|p| {
                (
                    p.id,
                    format!("{} · {}", p.name, contact_line(p)),
                    format!("/cases?consumer={}&closed=1", p.id),
                )
            })
            .collect(),
        person,
        problems,
        statuses: std::iter::once((String::new(), any.clone()))
            .chain(
                Status::ALL
                    .iter()
                    .map(|s| (s.as_str().to_string(), tr.word("status", s.as_str()))),
            )
            .collect(),
        kinds: std::iter::once((String::new(), any.clone()))
            .chain(
                CaseKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_string(), tr.word("kind", k.as_str()))),
            )
            .collect(),
        units: std::iter::once((String::new(), any.clone()))
            .chain(units)
            .collect(),
        staff: [
            (String::new(), any),
            ("me".to_string(), tr.t("filter-assignee-me")),
            ("none".to_string(), tr.t("filter-assignee-none")),
        ]
        .into_iter()
        .chain(staff)
        .collect(),
        status: req
            .status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        kind: req.kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        unit: req.unit.clone().unwrap_or_default(),
        assignee: match &req.assignee {
            None => String::new(),
            Some(redress_app::lists::Assignee::Me) => "me".into(),
            Some(redress_app::lists::Assignee::Nobody) => "none".into(),
            Some(redress_app::lists::Assignee::User(u)) => u.clone(),
        },
        closed: !req.open_only,
        overdue: req.overdue_only,
        company,
        company_id: req.company_id.map(|i| i.to_string()).unwrap_or_default(),
        consumer_id: req.consumer_id.map(|i| i.to_string()).unwrap_or_default(),
        table,
        saved,
        save_problems,
        current: query
            .iter()
            .filter(|(k, v)| SAVED_PARAMS.contains(&k.as_str()) && !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect(),
        units_for_saving,
        download_query: links
            .href(&[])
            .trim_start_matches("/cases")
            .trim_start_matches('?')
            .to_string(),
        csrf: user.csrf.clone().unwrap_or_default(),
    };
    ctx.render(status, &page)
}
