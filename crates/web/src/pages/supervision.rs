//! Supervision: each unit's load, the team's load and what falls due, cases not yet assigned,
//! and moving a unit's cases to other people.

use super::staff::{csrf_ok, refused};
use super::*;
use crate::error::ApiError;
use crate::pages::lists::{CaseTable, ListLinks, TableSpec, case_table};
use axum::Form as PostForm;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::UnitLoad;
use redress_app::lists::ListRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervisor", get(dashboard))
        .route("/supervisor/cases", get(unit_cases))
        .route("/supervisor/reassign", post(reassign))
}

type Fields = HashMap<String, String>;

// ---- supervision ----

struct UnitRow {
    code: String,
    name: String,
    name_short: String,
    open: i64,
    new_today: i64,
    aging: [i64; 4],
    row_y: usize,
    /// (x, width) of each age segment of the bar.
    segments: Vec<(i64, i64)>,
}

#[derive(Template)]
#[template(path = "supervisor.html")]
struct DashboardPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    units: Vec<UnitRow>,
    chart_height: usize,
    team: Vec<AgentRow>,
    team_due: CaseTable,
    unassigned: CaseTable,
}

fn unit_rows(loads: Vec<UnitLoad>) -> Vec<UnitRow> {
    let max = loads
        .iter()
        .map(|l| l.aging.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    loads
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let mut x = 180i64;
            let segments = l
                .aging
                .iter()
                .map(|n| {
                    let w = n * 440 / max;
                    let seg = (x, w);
                    x += w;
                    seg
                })
                .collect();
            UnitRow {
                name_short: l.name.chars().take(24).collect(),
                code: l.code,
                name: l.name,
                open: l.open,
                new_today: l.new_today,
                aging: l.aging,
                row_y: i * 28 + 4,
                segments,
            }
        })
        .collect()
}

async fn dashboard(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let overview = match state.supervision(&user).await {
        Ok(o) => o,
        Err(e) => return refused(&ctx, &user, e),
    };
    let tr = ctx.tr;
    let consumer = redress_domain::view::sees_consumer_name(user.audience());
    let unassigned = case_table(
        &state,
        &tr,
        &overview.unassigned,
        &overview.unassigned_request,
        &ListLinks::new(
            "/cases",
            &HashMap::from([("assignee".to_string(), "none".to_string())]),
        ),
        TableSpec {
            consumer,
            unit: true,
            assignee: false,
            sortable: true,
            caption: tr.t("sup-unassigned-caption"),
            empty: tr.t("sup-unassigned-none"),
        },
    );
    let team_due = case_table(
        &state,
        &tr,
        &overview.team.due,
        &ListRequest::default(),
        &ListLinks::default(),
        TableSpec {
            consumer,
            unit: true,
            assignee: true,
            sortable: false,
            caption: tr.t("sup-team-due-caption"),
            empty: tr.t("sup-team-due-none"),
        },
    );
    let team = overview
        .team
        .loads
        .into_iter()
        .map(|l| AgentRow {
            name: l.name,
            username: l.username,
            unit: l.unit.unwrap_or_default(),
            open: l.open,
            due_soon: l.due_soon,
            overdue: l.overdue,
            new_today: l.new_today,
        })
        .collect();
    let units = unit_rows(overview.loads);
    let chart_height = units.len() * 28 + 8;
    ctx.render(
        StatusCode::OK,
        &DashboardPage {
            tr,
            nav: Some(NavUser::of(&user)),
            switch_href: ctx.switch_href.clone(),
            units,
            chart_height,
            team,
            team_due,
            unassigned,
        },
    )
}

/// A person's load on the supervisor's page.
struct AgentRow {
    name: String,
    username: String,
    unit: String,
    open: i64,
    due_soon: i64,
    overdue: i64,
    new_today: i64,
}

struct CaseRow {
    reference: String,
    status: String,
    priority: String,
    assignee: String,
    opened: String,
}

#[derive(Template)]
#[template(path = "reassign.html")]
struct ReassignPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    unit_code: String,
    unit_name: String,
    cases: Vec<CaseRow>,
    units: Options,
    staff: Options,
    done: i64,
}

async fn reassign_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    unit_code: &str,
    form: Form,
    done: i64,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let shown = match state.unit_cases(user, unit_code).await {
        Ok(s) => s,
        Err(AppError::NotFound) => {
            return message(
                ctx,
                Some(NavUser::of(user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e) => return refused(ctx, user, e),
    };
    let (unit, cases) = (shown.unit, shown.cases);
    let mut unit_options = vec![(String::new(), tr.t("case-unassigned"))];
    unit_options.extend(shown.units.into_iter().map(|u| (u.code, u.name)));
    let mut staff = vec![(String::new(), tr.t("case-unassigned"))];
    staff.extend(
        shown
            .staff
            .into_iter()
            .map(|u| (u.username, u.display_name)),
    );
    let page = ReassignPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        unit_code: unit.code,
        unit_name: unit.name,
        cases: cases
            .iter()
            .map(|c| CaseRow {
                reference: c.reference.clone(),
                status: c.status.to_string(),
                priority: c.priority.to_string(),
                assignee: c.assignee.clone().unwrap_or_default(),
                opened: local_time(state, c.opened_at),
            })
            .collect(),
        units: unit_options,
        staff,
        done,
    };
    ctx.render(status, &page)
}

async fn unit_cases(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let unit = q.get("unit").cloned().unwrap_or_default();
    let done = q.get("done").and_then(|d| d.parse().ok()).unwrap_or(0);
    let mut form = Form::default();
    form.values.insert("unit".into(), unit.clone());
    reassign_render(&state, &ctx, &user, &unit, form, done, StatusCode::OK).await
}

async fn reassign(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(pairs): PostForm<Vec<(String, String)>>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let from_unit = one("from_unit").unwrap_or_default();
    let selected: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "case")
        .map(|(_, v)| v.clone())
        .collect();
    let mut form = Form::with(
        pairs
            .iter()
            .filter(|(k, _)| k == "unit" || k == "assignee")
            .cloned()
            .collect(),
    );
    if !csrf_ok(&user, &headers, one("csrf").as_deref()) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return reassign_render(
            &state,
            &ctx,
            &user,
            &from_unit,
            form,
            0,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let unit = one("unit");
    let assignee = one("assignee");
    match state
        .reassign_cases(&user, &selected, unit.as_deref(), assignee.as_deref())
        .await
    {
        Ok(done) => {
            Redirect::to(&format!("/supervisor/cases?unit={from_unit}&done={done}")).into_response()
        }
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            reassign_render(
                &state,
                &ctx,
                &user,
                &from_unit,
                form,
                0,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Forbidden) => forbidden(&ctx, &user),
        Err(e) => ApiError::from(e).into_response(),
    }
}
