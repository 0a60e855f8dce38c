//! An agent's home (their work and today's deadlines), help, and search.

use super::*;
use crate::pages::lists::{CaseTable, ListLinks, TableSpec, case_table};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    name: String,
    can_create: bool,
    /// A company user's home: the company's open cases rather than their own.
    company: bool,
    mine: CaseTable,
    recent: CaseTable,
    /// (unit code, name, open, new and not assigned)
    queues: Vec<(String, String, i64, i64)>,
    /// (reference, clock, due, overdue)
    due: Vec<(String, String, String, bool)>,
}

pub(super) async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    // An analyst's work is the reports.
    if user.user.role == redress_domain::Role::Analyst {
        return axum::response::Redirect::to("/reports").into_response();
    }
    let ctx = Ctx::new(&state, &uri, &headers);
    let work = match state.my_work(&user).await {
        Ok(w) => w,
        Err(e) => return store_failed(&ctx, e),
    };
    let tr = ctx.tr;
    let company = user.is_company();
    let mut kept = HashMap::new();
    if !company {
        kept.insert("assignee".to_string(), "me".to_string());
    }
    let mine = case_table(
        &state,
        &tr,
        &work.mine,
        &work.mine_request,
        &ListLinks::new("/cases", &kept),
        TableSpec {
            consumer: redress_domain::view::sees_consumer_name(user.audience()),
            unit: false,
            assignee: false,
            sortable: true,
            caption: tr.t(if company {
                "home-company-caption"
            } else {
                "home-my-caption"
            }),
            empty: tr.t(if company {
                "home-company-none"
            } else {
                "home-no-open"
            }),
        },
    );
    let recent = case_table(
        &state,
        &tr,
        &work.recent,
        &work.recent_request,
        &ListLinks::new(
            "/cases",
            &HashMap::from([("closed".to_string(), "1".to_string())]),
        ),
        TableSpec {
            consumer: redress_domain::view::sees_consumer_name(user.audience()),
            unit: false,
            assignee: !company,
            sortable: true,
            caption: tr.t("home-recent-caption"),
            empty: tr.t("search-none"),
        },
    );
    let page = HomePage {
        tr,
        nav: Some(NavUser::of(&user)),
        switch_href: ctx.switch_href.clone(),
        name: user.user.display_name.clone(),
        can_create: user.user.role.allows(Permission::CaseCreate),
        company,
        mine,
        recent,
        queues: work
            .queues
            .into_iter()
            .map(|q| (q.code, q.name, q.open, q.new_unassigned))
            .collect(),
        due: work
            .due
            .into_iter()
            .map(|(r, kind, name, at, overdue)| {
                (
                    r,
                    clock_label(&state, &tr, kind, &name),
                    local_time(&state, at),
                    overdue,
                )
            })
            .collect(),
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "help.html")]
pub(super) struct HelpPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
}

pub(super) async fn help(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    ctx.render(
        StatusCode::OK,
        &HelpPage {
            tr: ctx.tr,
            nav: Some(NavUser::of(&user)),
            switch_href: ctx.switch_href.clone(),
        },
    )
}
