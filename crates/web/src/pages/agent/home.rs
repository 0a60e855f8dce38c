//! An agent's home (their work and today's deadlines), help, and search.

use super::*;

#[derive(Template)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    name: String,
    can_create: bool,
    mine: Vec<Row>,
    recent: Vec<Row>,
    queues: Vec<(String, i64, i64)>,
    /// (reference, clock, due, overdue)
    due: Vec<(String, String, String, bool)>,
}

pub(super) async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let work = match state.my_work(&user).await {
        Ok(w) => w,
        Err(e) => return store_failed(&ctx, e),
    };
    let page = HomePage {
        tr: ctx.tr,
        nav: Some(NavUser::of(&user)),
        switch_href: ctx.switch_href.clone(),
        name: user.user.display_name.clone(),
        can_create: user.user.role.allows(Permission::CaseCreate),
        mine: work.mine.iter().map(|c| row(&state, c)).collect(),
        recent: work.recent.iter().map(|c| row(&state, c)).collect(),
        queues: work
            .queues
            .into_iter()
            .map(|q| (q.name, q.open, q.new_unassigned))
            .collect(),
        due: work
            .due
            .into_iter()
            .map(|(r, name, at, overdue)| (r, name, local_time(&state, at), overdue))
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

// ---- search ----

#[derive(Template)]
#[template(path = "search.html")]
pub(super) struct SearchPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    query: String,
    /// (consumer id, who they are) for each person found.
    people: Vec<(i64, String)>,
    cases: Vec<Row>,
}

pub(super) async fn search(
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
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let (people, cases) = match state.search(&user, &query).await {
        Ok(Found::Case(r)) => return Redirect::to(&format!("/cases/{r}")).into_response(),
        Ok(Found::Matches { people, cases }) => (
            people
                .iter()
                .map(|c| (c.id, format!("{} · {}", c.name, contact_line(c))))
                .collect(),
            cases.iter().map(|c| row(&state, c)).collect(),
        ),
        Err(e) => return store_failed(&ctx, e),
    };
    let page = SearchPage {
        tr: ctx.tr,
        nav: Some(NavUser::of(&user)),
        switch_href: ctx.switch_href.clone(),
        query,
        people,
        cases,
    };
    ctx.render(StatusCode::OK, &page)
}
