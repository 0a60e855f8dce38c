//! The reports as pages: the list of reports, and each report for a period with its chart,
//! totals and tables, and its CSV and XLSX. The analyst's home.

use super::*;
use crate::api::reports::{XLSX, file_response};
use axum::extract::{Path, Query, State};
use redress_app::reports::schedule::{SCHEDULED, ScheduleInput};
use redress_app::reports::{Cell, Dimension, Report, ReportName, chart, render};
use redress_domain::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(index))
        .route("/reports/{name}", get(report_page))
        .route("/reports/{name}/download", get(download))
        .route("/reports/schedules", axum::routing::post(add_schedule))
        .route(
            "/reports/schedules/{id}/remove",
            axum::routing::post(remove_schedule),
        )
}

/// A report on the index: name, title, what it shows.
type Entry = (String, String, String);

#[derive(Template)]
#[template(path = "reports.html")]
struct IndexPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    entries: Vec<Entry>,
    /// The scheduled reports: id, report, how often, format and language, recipients, the last
    /// period sent.
    schedules: Vec<(i64, String, String, String, String, String)>,
    /// Whether the person keeps schedules (everyone who reads reports but auditors).
    may_schedule: bool,
    form: Form,
    reports: Options,
    everies: Options,
    formats: Options,
    languages: Options,
    csrf: String,
}

/// A table ready to show: key, caption, headings, rows of cells (text, numeric?).
type ShownTable = (String, String, Vec<String>, Vec<Vec<(String, bool)>>);

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    form: Form,
    name: String,
    title: String,
    about: String,
    /// The query string that asked for this report (kept by the download links).
    query: String,
    intervals: Options,
    dimensions: Options,
    show_by: bool,
    show_target: bool,
    show_answer: bool,
    /// The offices sharing the database (code, name), when there are several to compare.
    offices: Options,
    totals: Vec<(String, String)>,
    svg: String,
    chart_caption: String,
    tables: Vec<ShownTable>,
}

/// The signed-in person who reads reports, with the page context; else the login page or a
/// refusal.
async fn reader(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(CurrentUser, Ctx), Response> {
    let user = session(state, headers).await?;
    let ctx = Ctx::new(state, uri, headers);
    if !user.user.role.allows(Permission::ReportRead) {
        return Err(forbidden(&ctx, &user));
    }
    Ok((user, ctx))
}

async fn index(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (user, ctx) = match reader(&state, &uri, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    index_render(&state, &ctx, &user, Form::default(), StatusCode::OK).await
}

/// The list of reports and the scheduled ones, with the form to schedule another.
async fn index_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let schedules = match state.report_schedules(user).await {
        Ok(list) => list
            .into_iter()
            .map(|s| {
                (
                    s.id,
                    tr.t(&format!("schedule-report-{}", s.report)),
                    tr.t(&format!("schedule-every-{}", s.every)),
                    format!(
                        "{} · {}",
                        s.format.to_uppercase(),
                        s.language.to_uppercase()
                    ),
                    s.recipients.join(", "),
                    s.last_period_to,
                )
            })
            .collect(),
        Err(e) => return store_failed(ctx, e),
    };
    let word = |prefix: &str, w: &str| (w.to_string(), tr.t(&format!("{prefix}-{w}")));
    let entries = ReportName::ALL
        .iter()
        .map(|n| {
            (
                n.as_str().to_string(),
                tr.t(&format!("report-{}-title", n.as_str())),
                tr.t(&format!("report-{}-about", n.as_str())),
            )
        })
        .collect();
    ctx.render(
        status,
        &IndexPage {
            tr,
            nav: Some(NavUser::of(user)),
            switch_href: ctx.switch_href.clone(),
            entries,
            schedules,
            may_schedule: user.user.role != Role::Auditor,
            form,
            reports: SCHEDULED
                .iter()
                .map(|r| word("schedule-report", r))
                .collect(),
            everies: ["week", "month"]
                .iter()
                .map(|e| word("schedule-every", e))
                .collect(),
            formats: ["xlsx", "csv"]
                .iter()
                .map(|f| word("schedule-format", f))
                .collect(),
            languages: [("en", "English"), ("es", "Español")]
                .iter()
                .map(|(c, n)| (c.to_string(), n.to_string()))
                .collect(),
            csrf: user.csrf.clone().unwrap_or_default(),
        },
    )
}

/// Schedules a report (`POST /reports/schedules`), then shows the list again.
async fn add_schedule(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<HashMap<String, String>>,
) -> Response {
    let (user, ctx) = match reader(&state, &uri, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    if !super::staff::csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return index_render(&state, &ctx, &user, form, StatusCode::FORBIDDEN).await;
    }
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let input = ScheduleInput {
        report: field("report"),
        every: field("every"),
        format: fields.get("format").cloned(),
        language: fields.get("language").cloned(),
        recipients: field("recipients")
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect(),
    };
    match state.add_report_schedule(&user, input).await {
        Ok(_) => axum::response::Redirect::to("/reports#schedules").into_response(),
        Err(AppError::Validation(errors)) => {
            for e in &errors.0 {
                // One box holds every address: each wrong one is named there.
                let name = if e.field.starts_with("recipients") {
                    "recipients"
                } else {
                    e.field.as_str()
                };
                form.add(&tr, name, tr.error(&e.code, &e.message));
            }
            index_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => super::staff::refused(&ctx, &user, e),
    }
}

/// Stops a scheduled report (`POST /reports/schedules/{id}/remove`).
async fn remove_schedule(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<HashMap<String, String>>,
) -> Response {
    let (user, ctx) = match reader(&state, &uri, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::staff::csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        let mut form = Form::default();
        form.add(&ctx.tr, "csrf", ctx.tr.t("error-csrf"));
        return index_render(&state, &ctx, &user, form, StatusCode::FORBIDDEN).await;
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found_page(&state, &uri, &headers);
    };
    match state.remove_report_schedule(&user, id).await {
        Ok(()) => axum::response::Redirect::to("/reports#schedules").into_response(),
        Err(AppError::NotFound) => not_found_page(&state, &uri, &headers),
        Err(e) => super::staff::refused(&ctx, &user, e),
    }
}

/// A cell as the page shows it: text, and whether it is a number (right-aligned). Root causes
/// show by their name in the page's language.
fn shown(tr: &Tr, causes: &HashMap<String, String>, column: &str, c: &Cell) -> (String, bool) {
    match c {
        Cell::Int(_) | Cell::Num(_) => (c.display(), true),
        Cell::Text(t) => {
            let word = match column {
                "root_cause" => causes
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| tr.word("report-cause", t)),
                "total" => tr.t(&format!("report-total-{t}")),
                "status" => tr.word("status", t),
                "kind" => tr.word("kind", t),
                "channel" => tr.word("channel", t),
                "measure" => tr.word("report-measure", t),
                "dimension" => tr.word("report-by", t),
                _ => t.clone(),
            };
            (word, false)
        }
        Cell::Empty => ("—".into(), false),
    }
}

fn page_of(tr: Tr, user: &CurrentUser, ctx: &Ctx, name: ReportName, uri: &Uri) -> ReportPage {
    let n = name.as_str();
    ReportPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        form: Form::default(),
        name: n.into(),
        title: tr.t(&format!("report-{n}-title")),
        about: tr.t(&format!("report-{n}-about")),
        query: uri.query().unwrap_or("").to_string(),
        intervals: ["day", "week", "month"]
            .iter()
            .map(|i| (i.to_string(), tr.t(&format!("report-interval-{i}"))))
            .collect(),
        dimensions: Dimension::ALL
            .iter()
            .map(|d| (d.as_str().to_string(), tr.word("report-by", d.as_str())))
            .collect(),
        show_by: name == ReportName::Workload,
        show_target: name == ReportName::Speed,
        show_answer: name == ReportName::Hotline,
        offices: Vec::new(),
        totals: Vec::new(),
        svg: String::new(),
        chart_caption: String::new(),
        tables: Vec::new(),
    }
}

fn fill(page: &mut ReportPage, tr: &Tr, report: &Report, causes: &HashMap<String, String>) {
    page.form
        .values
        .insert("from".into(), report.from.to_string());
    page.form.values.insert("to".into(), report.to.to_string());
    let interval = serde_json::to_value(report.interval)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    page.form.values.insert("interval".into(), interval);
    page.totals = report
        .totals
        .iter()
        .map(|(k, v)| {
            (
                tr.t(&format!("report-total-{k}")),
                shown(tr, causes, k, v).0,
            )
        })
        .collect();
    let names: Vec<String> = report
        .chart
        .series
        .iter()
        .map(|s| tr.t(&format!("col-report-{}", s.key)))
        .collect();
    page.chart_caption = tr.targs(
        "report-chart-caption",
        &[
            ("title", &page.title),
            ("from", &report.from.to_string()),
            ("to", &report.to.to_string()),
        ],
    );
    page.svg = chart::svg(&report.chart, &page.title, &page.chart_caption, &names);
    page.tables = report
        .tables
        .iter()
        .map(|t| {
            let key = t
                .key
                .strip_prefix("by_")
                .filter(|_| t.key != "by_hour" && t.key != "by_day");
            let caption = match key {
                Some(dim) => tr.t1("report-table-by", "by", &tr.word("report-by", dim)),
                None => tr.t(&format!("report-table-{}", t.key)),
            };
            (
                t.key.clone(),
                caption,
                t.columns
                    .iter()
                    .map(|c| tr.t(&format!("col-report-{c}")))
                    .collect(),
                t.rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .zip(t.columns.iter())
                            .map(|(cell, col)| shown(tr, causes, col, cell))
                            .collect()
                    })
                    .collect(),
            )
        })
        .collect();
}

async fn report_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (user, ctx) = match reader(&state, &uri, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(report_name) = ReportName::parse(&name) else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    let tr = ctx.tr;
    let mut page = page_of(tr, &user, &ctx, report_name, &uri);
    let q: HashMap<String, String> = q.into_iter().filter(|(k, _)| k != "lang").collect();
    match state.report_offices(&user).await {
        Ok(offices) if offices.len() > 1 => {
            page.offices = offices.into_iter().map(|o| (o.code, o.name)).collect();
        }
        Ok(_) => {}
        Err(e) => return store_failed(&ctx, e),
    }
    match state.report_request(&name, &q).await {
        Ok(request) => match state.report(&user, &request).await {
            Ok(report) => {
                let spanish = tr.lang == Lang::Es;
                let causes: HashMap<String, String> = state
                    .root_causes(&user)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let name = match (c.name_es, spanish) {
                            (Some(es), true) => es,
                            _ => c.name,
                        };
                        (c.code, name)
                    })
                    .collect();
                fill(&mut page, &tr, &report, &causes);
                if let Some((a, b)) = report.compared {
                    page.form
                        .values
                        .insert("compare_from".into(), a.to_string());
                    page.form.values.insert("compare_to".into(), b.to_string());
                }
                for (k, v) in [
                    ("office", &report.office),
                    ("compare_office", &report.compared_office),
                ] {
                    if let Some(code) = v {
                        page.form.values.insert(k.into(), code.clone());
                    }
                }
                ctx.render(StatusCode::OK, &page)
            }
            Err(e) => store_failed(&ctx, e),
        },
        Err(AppError::Validation(errors)) => {
            page.form = Form::with(q);
            page.form.add_all(&tr, &errors);
            ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => store_failed(&ctx, e),
    }
}

async fn download(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (user, ctx) = match reader(&state, &uri, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let format = q.get("format").cloned().unwrap_or_default();
    let q: HashMap<String, String> = q
        .into_iter()
        .filter(|(k, _)| k != "lang" && k != "format")
        .collect();
    let request = match state.report_request(&name, &q).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let report = match state.report(&user, &request).await {
        Ok(r) => r,
        Err(e) => return store_failed(&ctx, e),
    };
    let file = format!("{}-{}-{}", request.name.as_str(), request.from, request.to);
    let written = match format.as_str() {
        "xlsx" => render::xlsx(&report).map(|b| file_response(b, XLSX, &format!("{file}.xlsx"))),
        _ => render::csv(&report)
            .map(|b| file_response(b, "text/csv; charset=utf-8", &format!("{file}.csv"))),
    };
    written.unwrap_or_else(internal)
}
