//! The agent workspace: log in, my work, search, intake, the case page and its actions.

use super::*;
use crate::api::cases::{AddressInput, ConsumerInput, CreateCase, open_case};
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_domain::records::TimelineEntry;
use redress_domain::*;
use redress_store::{CaseFilter, ConsumerLookup, NewEntry, Scope, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/help", get(help))
        .route("/search", get(search))
        .route("/cases/new", get(intake_page).post(intake_submit))
        .route("/cases/{reference}", get(case_page))
        .route("/cases/{reference}/note", post(case_note))
        .route("/cases/{reference}/call", post(case_call))
        .route("/cases/{reference}/status", post(case_status))
        .route("/cases/{reference}/transition", post(case_transition))
        .route("/cases/{reference}/assign", post(case_assign))
        .route("/cases/{reference}/attachments", post(case_attach))
        .route("/cases/{reference}/link", post(case_link))
        .route("/cases/{reference}/merge", post(case_merge))
        .route(
            "/cases/{reference}/consumer-merge",
            post(case_consumer_merge),
        )
        .route("/session/extend", post(extend_session))
        .route("/cases/{reference}/attachments/{id}", get(case_download))
}

type Fields = HashMap<String, String>;

fn csrf_ok(user: &CurrentUser, headers: &HeaderMap, form: &Fields) -> bool {
    same_origin(headers)
        && user.csrf.is_some()
        && user.csrf.as_deref() == form.get("csrf").map(String::as_str)
}

// ---- log in and out ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    failure: Option<String>,
}

async fn login_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let (csrf, cookie) = form_token(ctx.secure, &headers);
    let page = LoginPage {
        tr: ctx.tr,
        nav: None,
        switch_href: ctx.switch_href.clone(),
        csrf,
        form: Form::default(),
        failure: None,
    };
    with_cookie(ctx.render(StatusCode::OK, &page), cookie)
}

async fn login_submit(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(form): PostForm<Fields>,
) -> Response {
    let ctx = Ctx::new(&state, &uri, &headers);
    let (csrf, cookie) = form_token(ctx.secure, &headers);
    let username = form
        .get("username")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let mut shown = Form::with([("username".to_string(), username.clone())].into());
    let failure = |status: StatusCode, id: &str, shown: Form| {
        let page = LoginPage {
            tr: ctx.tr,
            nav: None,
            switch_href: ctx.switch_href.clone(),
            csrf: csrf.clone(),
            form: shown,
            failure: Some(ctx.tr.t(id)),
        };
        with_cookie(ctx.render(status, &page), cookie.clone())
    };
    if !form_token_ok(&headers, &form) {
        return failure(StatusCode::FORBIDDEN, "error-csrf", shown);
    }
    if username.is_empty() || password.is_empty() {
        if username.is_empty() {
            shown.add(&ctx.tr, "username", ctx.tr.t("error-required"));
        }
        if password.is_empty() {
            shown.add(&ctx.tr, "password", ctx.tr.t("error-required"));
        }
        return failure(StatusCode::UNPROCESSABLE_ENTITY, "login-failed", shown);
    }
    let code = form.get("code").map(|c| c.trim()).filter(|c| !c.is_empty());
    match auth::login(
        &state,
        &username,
        &password,
        auth::SecondStep::Code(code),
        peer.ip(),
    )
    .await
    {
        Ok(user) => match auth::start_session(&state, &user, ctx.secure).await {
            Ok((_, cookie)) => {
                let mut r = Redirect::to("/").into_response();
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                r
            }
            Err(e) => e.into_response(),
        },
        Err(ApiError::RateLimited { .. }) => {
            failure(StatusCode::TOO_MANY_REQUESTS, "login-locked", shown)
        }
        Err(ApiError::Unauthenticated) => failure(StatusCode::UNAUTHORIZED, "login-failed", shown),
        Err(ApiError::SecondFactorRequired) => {
            failure(StatusCode::UNAUTHORIZED, "login-code-needed", shown)
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostForm(form): PostForm<Fields>,
) -> Response {
    if let Ok(Some(current)) = auth::session_user(&state, &headers).await
        && !csrf_ok(&current, &headers, &form)
    {
        return (StatusCode::FORBIDDEN, "request refused").into_response();
    }
    if let Some(id) = auth::cookie_value(&headers, auth::SESSION_COOKIE) {
        let _ = state
            .store
            .delete_session(&redress_domain::audit::sha256_hex(id.as_bytes()))
            .await;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(
        "",
        0,
        auth::is_secure(&state, &headers),
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---- my work ----

struct Row {
    reference: String,
    status: String,
    priority: String,
    kind: String,
    company: String,
    assignee: String,
    updated: String,
    opened: String,
}

fn row(state: &AppState, c: &redress_domain::records::CaseSummary) -> Row {
    Row {
        reference: c.reference.clone(),
        status: c.status.to_string(),
        priority: c.priority.to_string(),
        kind: c.kind.to_string(),
        company: c
            .company
            .as_ref()
            .map(|x| x.name.clone())
            .unwrap_or_default(),
        assignee: c.assignee.clone().unwrap_or_default(),
        updated: local_time(state, c.updated_at),
        opened: local_time(state, c.opened_at),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
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

async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let scope = user.scope();
    let mine = state
        .store
        .cases(
            &CaseFilter {
                assignee_id: Some(user.user.id),
                open_only: true,
                limit: 50,
                ..CaseFilter::default()
            },
            scope,
        )
        .await;
    let recent = state
        .store
        .cases(
            &CaseFilter {
                limit: 10,
                ..CaseFilter::default()
            },
            scope,
        )
        .await;
    let now = state.clock.now();
    let end_of_today = jiff::tz::TimeZone::get(&state.office.time_zone)
        .ok()
        .and_then(|tz| now.to_zoned(tz).end_of_day().ok())
        .map(|z| z.timestamp())
        .unwrap_or(now);
    let due = match state.store.deadlines_for(user.user.id, end_of_today).await {
        Ok(d) => d
            .into_iter()
            .map(|(r, name, at)| (r, name, local_time(&state, at), at < now))
            .collect(),
        Err(e) => return internal(e),
    };
    let queues = if user.user.role.allows(Permission::CaseAssign) {
        state.store.unit_queues().await
    } else {
        Ok(vec![])
    };
    let (mine, recent, queues) = match (mine, recent, queues) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return internal(e),
    };
    let page = HomePage {
        tr: ctx.tr,
        nav: Some(NavUser::of(&user)),
        switch_href: ctx.switch_href.clone(),
        name: user.user.display_name.clone(),
        can_create: user.user.role.allows(Permission::CaseCreate),
        mine: mine.iter().map(|(_, c)| row(&state, c)).collect(),
        recent: recent.iter().map(|(_, c)| row(&state, c)).collect(),
        queues: queues
            .into_iter()
            .map(|q| (q.name, q.open, q.new_unassigned))
            .collect(),
        due,
    };
    ctx.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
}

async fn help(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
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
struct SearchPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    query: String,
    /// (consumer id, who they are) for each person found.
    people: Vec<(i64, String)>,
    cases: Vec<Row>,
}

async fn search(
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
    if let Ok(r) = query.to_ascii_uppercase().parse::<Reference>() {
        let r = r.to_string();
        if state
            .store
            .case(&user.actor(), &r, user.scope(), false, state.clock.now())
            .await
            .is_ok()
        {
            return Redirect::to(&format!("/cases/{r}")).into_response();
        }
    }
    let mut people = Vec::new();
    let mut cases = Vec::new();
    if user.user.role.allows(Permission::ConsumerRead) && !query.is_empty() {
        let lookup = if let Some(p) = validate::normalize_phone(&query) {
            Some(ConsumerLookup::Phone(p))
        } else if validate::is_email(&query) {
            Some(ConsumerLookup::Email(query.to_ascii_lowercase()))
        } else {
            let mut errs = FieldErrors::new();
            validate::account_number(&mut errs, "q", &query).map(ConsumerLookup::Account)
        };
        if let Some(lookup) = lookup {
            let found = match state.store.find_consumers(&lookup, 20).await {
                Ok(f) => f,
                Err(e) => return internal(e),
            };
            let detail = serde_json::json!({"search": "page", "consumer_ids": found.iter().map(|c| c.id).collect::<Vec<_>>()}).to_string();
            if let Err(e) = state
                .store
                .audit(
                    &user.actor(),
                    &format!("user:{}", user.user.username),
                    "consumer.search",
                    "consumers",
                    &detail,
                    state.clock.now(),
                )
                .await
            {
                return internal(e);
            }
            for c in &found {
                people.push((c.id, format!("{} · {}", c.name, contact_line(c))));
                match state
                    .store
                    .cases(
                        &CaseFilter {
                            consumer_id: Some(c.id),
                            limit: 50,
                            ..CaseFilter::default()
                        },
                        user.scope(),
                    )
                    .await
                {
                    Ok(rows) => cases.extend(rows.iter().map(|(_, s)| row(&state, s))),
                    Err(e) => return internal(e),
                }
            }
        }
    }
    if query.chars().count() >= 3 {
        match state.store.search_cases(&query, user.scope(), 50).await {
            Ok(found) => {
                for c in &found {
                    if !cases.iter().any(|r| r.reference == c.reference) {
                        cases.push(row(&state, c));
                    }
                }
            }
            Err(e) => return internal(e),
        }
    }
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

/// A consumer's phone and email, as one line for people.
fn contact_line(c: &redress_domain::records::Consumer) -> String {
    [c.phone.as_deref(), c.email.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

// ---- intake ----

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    kinds: Options,
    channels: Options,
    languages: Options,
    companies: Options,
    categories: Options,
}

async fn intake_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let (companies, categories) = match (
        state.store.companies().await,
        state.store.categories().await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let mut company_options = vec![(String::new(), tr.t("intake-company-none"))];
    company_options.extend(companies.into_iter().map(|c| (c.id.to_string(), c.name)));
    let mut category_options = vec![(String::new(), tr.t("intake-category-none"))];
    category_options.extend(categories.into_iter().map(|c| (c.path.clone(), c.path)));
    let page = IntakePage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        kinds: word_options(
            &tr,
            "kind",
            &[
                CaseKind::Complaint,
                CaseKind::Inquiry,
                CaseKind::Hotline,
                CaseKind::Mediation,
                CaseKind::InformationRequest,
                CaseKind::FoilRequest,
            ],
        ),
        channels: word_options(
            &tr,
            "channel",
            &[
                Channel::Phone,
                Channel::WalkIn,
                Channel::Mail,
                Channel::Fax,
                Channel::Email,
                Channel::Hotline,
                Channel::ReferralIn,
            ],
        ),
        languages: word_options(&tr, "language", Language::ALL),
        companies: company_options,
        categories: category_options,
    };
    ctx.render(status, &page)
}

async fn intake_page(
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
    if !user.user.role.allows(Permission::CaseCreate) {
        return forbidden(&ctx, &user);
    }
    let mut defaults: Fields = [
        ("kind", "complaint"),
        ("channel", "phone"),
        ("consumer.preferred_language", ctx.lang().code()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // "New case for this person" (from search): the person is chosen, without JavaScript.
    if let Some(id) = q
        .get("consumer_id")
        .and_then(|c| c.trim().parse::<i64>().ok())
        && user.user.role.allows(Permission::ConsumerRead)
    {
        match state
            .store
            .view_consumer(&user.actor(), id, state.clock.now())
            .await
        {
            Ok(c) if c.merged_into.is_none() => {
                let contact = contact_line(&c);
                for (k, v) in [
                    ("consumer_id", c.id.to_string()),
                    ("consumer_chosen_name", format!("{} — {contact}", c.name)),
                    ("consumer.name", c.name.clone()),
                    ("consumer.phone", c.phone.clone().unwrap_or_default()),
                    ("consumer.email", c.email.clone().unwrap_or_default()),
                    (
                        "consumer.preferred_language",
                        c.preferred_language.as_str().to_string(),
                    ),
                ] {
                    defaults.insert(k.to_string(), v);
                }
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return store_failed(&ctx, e),
        }
    }
    intake_render(&state, &ctx, &user, Form::with(defaults), StatusCode::OK).await
}

fn opt(form: &Fields, name: &str) -> Option<String> {
    form.get(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

async fn intake_submit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    if !user.user.role.allows(Permission::CaseCreate) {
        return forbidden(&ctx, &user);
    }
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, &fields) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return intake_render(&state, &ctx, &user, form, StatusCode::FORBIDDEN).await;
    }
    let kind = opt(&fields, "kind").and_then(|k| k.parse::<CaseKind>().ok());
    let channel = opt(&fields, "channel").and_then(|c| c.parse::<Channel>().ok());
    let language =
        opt(&fields, "consumer.preferred_language").and_then(|l| l.parse::<Language>().ok());
    let company_id = opt(&fields, "company_id").map(|c| c.parse::<i64>());
    let call_seconds = opt(&fields, "call_seconds").map(|c| c.parse::<i64>());
    // The consumer on file that the agent chose ("Use this person"); never guessed.
    let chosen = match opt(&fields, "consumer_id").map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            form.add(&tr, "consumer_id", tr.t("error-unknown_consumer"));
            None
        }
    };
    if kind.is_none() {
        form.add(&tr, "kind", tr.t("error-unknown_value"));
    }
    if channel.is_none() {
        form.add(&tr, "channel", tr.t("error-unknown_value"));
    }
    if matches!(company_id, Some(Err(_))) {
        form.add(&tr, "company_id", tr.t("error-unknown_company"));
    }
    if matches!(call_seconds, Some(Err(_)))
        || matches!(call_seconds, Some(Ok(n)) if !(0..=86_400).contains(&n))
    {
        form.add(&tr, "call_seconds", tr.t("error-invalid_type"));
    }
    let (Some(kind), Some(channel), true) = (kind, channel, form.errors.is_empty()) else {
        return intake_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let input = CreateCase {
        kind,
        channel,
        description: opt(&fields, "description"),
        consumer_id: chosen,
        consumer: Some(ConsumerInput {
            name: opt(&fields, "consumer.name"),
            email: opt(&fields, "consumer.email"),
            phone: opt(&fields, "consumer.phone"),
            preferred_language: language,
            address: Some(AddressInput {
                line1: opt(&fields, "consumer.address.line1"),
                line2: None,
                city: opt(&fields, "consumer.address.city"),
                state: opt(&fields, "consumer.address.state"),
                zip: opt(&fields, "consumer.address.zip"),
            }),
            account_number: opt(&fields, "consumer.account_number"),
        }),
        company_id: company_id.and_then(Result::ok),
        category: opt(&fields, "category"),
        amount_in_dispute: opt(&fields, "amount_in_dispute").map(serde_json::Value::String),
        priority: None,
        flags: vec![],
        unit: user.user.unit.clone(),
        assignee: Some(user.user.username.clone()),
        office: None,
    };
    let opened = match open_case(&state, &user.actor(), Some(&user), input, None).await {
        Ok((case, _)) => case,
        Err(ApiError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            return intake_render(&state, &ctx, &user, form, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    if let Some(Ok(secs)) = call_seconds
        && secs > 0
    {
        let entry = NewEntry {
            entry_type: EntryType::Call,
            body: format!(
                "{} ({} min {} s)",
                tr.word("direction", "inbound"),
                secs / 60,
                secs % 60
            ),
            visibility: Visibility::Internal,
            data: serde_json::json!({"direction": "inbound", "duration_seconds": secs}),
            at: now,
            author_id: Some(user.user.id),
        };
        if let Err(e) = state
            .store
            .add_entry(&user.actor(), &opened.reference, &entry, Scope::default())
            .await
        {
            return internal(e);
        }
    }
    if fields.get("answered").map(String::as_str) == Some("yes")
        && let Err(e) = crate::lifecycle::take_status(
            &state,
            &user,
            &opened.reference,
            Status::Closed,
            Some("Answered on the call"),
            None,
        )
        .await
    {
        return e.into_response();
    }
    Redirect::to(&format!("/cases/{}", opened.reference)).into_response()
}

// ---- the case page ----

struct CaseView {
    reference: String,
    status: String,
    priority: String,
    kind: String,
    channel: String,
    flags: String,
    assignee: String,
    unit: String,
    company: String,
    category: String,
    amount: String,
    opened: String,
    consumer: String,
    description: String,
    merged_into: Option<String>,
    links: Vec<(String, String)>,
    version: i64,
}

struct EntryView {
    kind: String,
    at: String,
    at_iso: String,
    author: String,
    visibility: String,
    body: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    c: CaseView,
    entries: Vec<EntryView>,
    filter: String,
    filters: Options,
    form: Form,
    notice: Option<String>,
    can_write: bool,
    can_staff: bool,
    can_assign: bool,
    visibilities: Options,
    directions: Options,
    units: Options,
    staff: Options,
    audit: Vec<(String, String, String)>,
    attachments: Vec<(i64, String, String, String)>,
    can_merge: bool,
    link_kinds: Options,
    clocks: Vec<ClockRow>,
    stage: String,
    lifecycle: String,
    steps: Vec<StepView>,
    hold: Option<HoldView>,
    hotline: Option<HotlineRow>,
    duplicates: Vec<DuplicateView>,
    can_merge_consumer: bool,
}

/// Another consumer record that may be the case's consumer.
struct DuplicateView {
    id: i64,
    name: String,
    contact: String,
    /// What they share: phone, email, account.
    why: String,
    since: String,
}

struct ClockRow {
    label: String,
    kind: String,
    source: String,
    due: String,
    due_iso: String,
    state: String,
}

struct StepField {
    id: String,
    path: String,
    label: String,
    kind: String,
    options: Vec<(String, String)>,
    required: bool,
    value: String,
    error: Option<String>,
}

struct StepView {
    name: String,
    label: String,
    open: bool,
    fields: Vec<StepField>,
}

struct HoldView {
    active: bool,
    message: String,
    text: String,
    source: String,
}

struct HotlineRow {
    earliest: Option<String>,
    cold_weather: bool,
    open_now: bool,
    hours: String,
}

fn keep(entry: &TimelineEntry, filter: &str) -> bool {
    match filter {
        "notes" => entry.entry_type == EntryType::Note,
        "correspondence" => matches!(
            entry.entry_type,
            EntryType::Call | EntryType::Letter | EntryType::Email
        ),
        "company" => entry.visibility == Visibility::Company,
        _ => true,
    }
}

#[allow(clippy::too_many_arguments)]
async fn case_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    reference: &str,
    filter: &str,
    form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let now = state.clock.now();
    let with_pii = user.user.role.sees_consumer_details();
    let full = match state
        .store
        .case(&user.actor(), reference, user.scope(), with_pii, now)
        .await
    {
        Ok(c) if with_pii => c,
        Ok(c) => match crate::audit_case_view(state, &user.actor(), reference, now).await {
            Ok(()) => c,
            Err(e) => return store_failed(ctx, e),
        },
        Err(StoreError::NotFound) => {
            return message(
                ctx,
                Some(NavUser::of(user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e) => return store_failed(ctx, e),
    };
    // What this role may see of it: the same rule as the API's (the lifecycle's description below
    // is worked out from the whole case, and shows only derived dates).
    let case = state.case_for(user.audience(), full.clone());
    let visible = (user.user.role == Role::Company).then_some(Visibility::Company);
    let entries = match state
        .store
        .timeline(&user.actor(), reference, user.scope(), visible, now)
        .await
    {
        Ok(e) => e,
        Err(e) => return store_failed(ctx, e),
    };
    let audit = if user.user.role.allows(Permission::AuditRead) {
        match state.store.audit_for_subject(reference, 50).await {
            Ok(rows) => rows
                .into_iter()
                .map(|a| (local_time(state, a.at), a.actor, a.action))
                .collect(),
            Err(e) => return store_failed(ctx, e),
        }
    } else {
        vec![]
    };
    let visible_files = (user.user.role == Role::Company).then_some(Visibility::Company);
    let attachments = match state
        .store
        .attachments(reference, user.scope(), visible_files)
        .await
    {
        Ok(a) => a
            .into_iter()
            .map(|a| {
                (
                    a.id,
                    a.filename,
                    human_size(a.size_bytes),
                    a.visibility.to_string(),
                )
            })
            .collect(),
        Err(e) => return store_failed(ctx, e),
    };
    let raw_clocks = match state.store.clocks(reference, user.scope(), now).await {
        Ok(c) => c,
        Err(e) => return store_failed(ctx, e),
    };
    let spanish = tr.lang == crate::i18n::Lang::Es;
    let life =
        match crate::lifecycle::describe(state, &full, &raw_clocks, Some(user.user.role), spanish)
            .await
        {
            Ok(l) => l,
            Err(e) => return e.into_response(),
        };
    let clocks: Vec<ClockRow> = life
        .clocks
        .iter()
        .map(|k| ClockRow {
            label: k.label.clone(),
            kind: k
                .kind
                .map(|x| tr.word("clockkind", x.as_str()))
                .unwrap_or_default(),
            source: k.source.clone(),
            due: local_time(state, k.due_at),
            due_iso: k.due_at.to_string(),
            state: k.state.as_str().to_string(),
        })
        .collect();
    let failed_step = form.v("transition").to_string();
    let steps: Vec<StepView> = life
        .transitions
        .iter()
        .map(|t| {
            let mine = failed_step == t.name;
            StepView {
                name: t.name.clone(),
                label: t.label.clone(),
                open: mine,
                fields: t
                    .fields
                    .iter()
                    .map(|f| {
                        let path = format!("fields.{}", f.name);
                        StepField {
                            id: format!("t-{}-{}", t.name, f.name),
                            label: f.label.clone(),
                            kind: f.kind.clone(),
                            options: f
                                .options
                                .iter()
                                .map(|o| (o.value.clone(), o.label.clone()))
                                .collect(),
                            required: f.required,
                            value: if mine {
                                form.v(&path).to_string()
                            } else {
                                String::new()
                            },
                            error: if mine {
                                form.err(&path).map(str::to_string)
                            } else {
                                None
                            },
                            path,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let hold = life.hold.as_ref().map(|h| HoldView {
        active: h.active,
        message: {
            let amount = h
                .disputed_cents
                .and_then(Money::from_cents)
                .map(|m| format!("${m}"))
                .unwrap_or_default();
            let until = h.ends_at.map(|t| local_time(state, t));
            match (h.active, until) {
                (true, Some(u)) => tr.targs("hold-until", &[("amount", &amount), ("until", &u)]),
                (true, None) => tr.t1("hold-pending", "amount", &amount),
                (false, Some(u)) => tr.t1("hold-ended-on", "until", &u),
                (false, None) => String::new(),
            }
        },
        text: if spanish {
            h.text_es.clone()
        } else {
            h.text.clone()
        },
        source: h.source.clone(),
    });
    let hotline = life.hotline.as_ref().map(|h| HotlineRow {
        earliest: h.earliest_termination.map(|t| local_time(state, t)),
        cold_weather: h.cold_weather_period,
        open_now: h.hotline_open_now,
        hours: h.hours.clone(),
    });
    let can_assign = user.user.role.allows(Permission::CaseAssign) && case.status != Status::Merged;
    let (units, staff) = if can_assign {
        match (state.store.units().await, state.store.users().await) {
            (Ok(u), Ok(s)) => {
                let mut units = vec![(String::new(), tr.t("case-unassigned"))];
                units.extend(u.into_iter().map(|u| (u.code, u.name)));
                let mut staff = vec![(String::new(), tr.t("case-unassigned"))];
                staff.extend(
                    s.into_iter()
                        .filter(|s| s.active && s.role != Role::Company)
                        .map(|s| (s.username, s.display_name)),
                );
                (units, staff)
            }
            (Err(e), _) | (_, Err(e)) => return internal(e),
        }
    } else {
        (vec![], vec![])
    };
    let mut form = form;
    if !form.values.contains_key("unit") {
        form.values
            .insert("unit".into(), case.unit.clone().unwrap_or_default());
    }
    if !form.values.contains_key("assignee") {
        form.values
            .insert("assignee".into(), case.assignee.clone().unwrap_or_default());
    }
    let is_company = user.user.role == Role::Company;
    let visibilities = if is_company {
        word_options(&tr, "visibility", &[Visibility::Company])
    } else {
        word_options(&tr, "visibility", Visibility::ALL)
    };
    let consumer = case
        .consumer
        .as_ref()
        .map(|c| {
            let mut parts = vec![c.name.clone()];
            parts.extend(c.phone.clone());
            parts.extend(c.email.clone());
            parts.push(tr.word("language", c.preferred_language.as_str()));
            parts.join(" · ")
        })
        .unwrap_or_default();
    let duplicates = match (
        &case.consumer,
        user.user.role.allows(Permission::ConsumerRead),
    ) {
        (Some(mine), true) => match state
            .store
            .consumer_duplicates(&user.actor(), mine.id, 20, now)
            .await
        {
            Ok(found) => found
                .into_iter()
                .map(|d| {
                    let mut why = Vec::new();
                    if d.phone.is_some() && d.phone == mine.phone {
                        why.push(tr.t("intake-phone"));
                    }
                    if d.email.is_some() && d.email == mine.email {
                        why.push(tr.t("intake-email"));
                    }
                    if d.account_numbers
                        .iter()
                        .any(|a| mine.account_numbers.contains(a))
                    {
                        why.push(tr.t("intake-account"));
                    }
                    DuplicateView {
                        id: d.id,
                        contact: contact_line(&d),
                        name: d.name,
                        why: why.join(", "),
                        since: local_date(state, d.created_at),
                    }
                })
                .collect(),
            Err(e) => return store_failed(ctx, e),
        },
        _ => vec![],
    };
    let view = CaseView {
        reference: case.reference.clone(),
        status: case.status.to_string(),
        priority: case.priority.to_string(),
        kind: case.kind.to_string(),
        channel: case.channel.to_string(),
        flags: case
            .flags
            .iter()
            .map(|f| f.as_str().replace('_', " "))
            .collect::<Vec<_>>()
            .join(", "),
        assignee: case.assignee.clone().unwrap_or_default(),
        unit: case.unit.clone().unwrap_or_default(),
        company: case
            .company
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        category: case.category.clone().unwrap_or_default(),
        amount: case
            .amount_in_dispute
            .as_ref()
            .map(|a| format!("${a}"))
            .unwrap_or_default(),
        opened: local_time(state, case.opened_at),
        consumer,
        description: case.description.clone(),
        merged_into: case.merged_into.clone(),
        links: case
            .links
            .iter()
            .map(|l| (l.reference.clone(), l.kind.as_str().replace('_', " ")))
            .collect(),
        version: case.version,
    };
    let page = CasePage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        entries: entries
            .iter()
            .filter(|e| keep(e, filter))
            .map(|e| EntryView {
                kind: e.entry_type.to_string(),
                at: local_time(state, e.at),
                at_iso: e.at.to_string(),
                author: e.author.clone().unwrap_or_default(),
                visibility: e.visibility.to_string(),
                body: e.body.clone(),
            })
            .collect(),
        filter: filter.to_string(),
        filters: vec![
            ("all".into(), tr.t("case-filter-all")),
            ("notes".into(), tr.t("case-filter-notes")),
            ("correspondence".into(), tr.t("case-filter-correspondence")),
            ("company".into(), tr.t("case-filter-company")),
        ],
        form,
        notice,
        can_write: user.user.role.allows(Permission::TimelineWrite)
            && case.status != Status::Merged,
        can_staff: user.user.role.allows(Permission::CaseChangeStatus)
            && case.status != Status::Merged,
        can_assign,
        visibilities,
        directions: word_options(&tr, "direction", CallDirection::ALL),
        units,
        staff,
        audit,
        attachments,
        can_merge: user.user.role.allows(Permission::CaseMerge) && case.status != Status::Merged,
        link_kinds: word_options(&tr, "link", LinkKind::ALL),
        clocks,
        stage: life.stage_label.clone(),
        lifecycle: life.lifecycle.clone(),
        steps,
        hold,
        hotline,
        duplicates,
        can_merge_consumer: user.user.role.allows(Permission::ConsumerMerge),
        c: view,
    };
    ctx.render(status, &page)
}

async fn case_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let Ok(reference) = reference.parse::<Reference>() else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    let filter = q
        .get("filter")
        .map(String::as_str)
        .filter(|f| ["all", "notes", "correspondence", "company"].contains(f))
        .unwrap_or("all");
    let mut form = Form::default();
    form.values.insert(
        "visibility".into(),
        if user.user.role == Role::Company {
            "company".into()
        } else {
            "internal".into()
        },
    );
    form.values.insert("minutes".into(), "0".into());
    form.values.insert("link_kind".into(), "related".into());
    form.values.insert(
        "file_visibility".into(),
        if user.user.role == Role::Company {
            "company".into()
        } else {
            "internal".into()
        },
    );
    case_render(
        &state,
        &ctx,
        &user,
        &reference.to_string(),
        filter,
        form,
        None,
        StatusCode::OK,
    )
    .await
}

/// What a case action needs: the user, the context and the checked form, or a response.
async fn action(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    reference: &str,
    fields: &Fields,
    permission: Permission,
) -> Result<(CurrentUser, Ctx, String), Response> {
    let user = session(state, headers).await?;
    let ctx = Ctx::new(state, uri, headers);
    let Ok(reference) = reference.parse::<Reference>() else {
        return Err(message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ));
    };
    if !csrf_ok(&user, headers, fields) {
        let tr = ctx.tr;
        let mut form = Form::with(fields.clone());
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return Err(case_render(
            state,
            &ctx,
            &user,
            &reference.to_string(),
            "all",
            form,
            None,
            StatusCode::FORBIDDEN,
        )
        .await);
    }
    if !user.user.role.allows(permission) {
        return Err(forbidden(&ctx, &user));
    }
    Ok((user, ctx, reference.to_string()))
}

fn back_to(reference: &str) -> Response {
    Redirect::to(&format!("/cases/{reference}#timeline")).into_response()
}

async fn failed(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    reference: &str,
    fields: &Fields,
    e: ApiError,
) -> Response {
    let tr = ctx.tr;
    let mut form = Form::with(fields.clone());
    match e {
        ApiError::Validation(errors) => {
            form.add_all(&tr, &errors);
            case_render(
                state,
                ctx,
                user,
                reference,
                "all",
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        ApiError::InvalidTransition { .. } => {
            case_render(
                state,
                ctx,
                user,
                reference,
                "all",
                form,
                Some(tr.t("case-status-not-allowed")),
                StatusCode::CONFLICT,
            )
            .await
        }
        ApiError::PreconditionFailed { .. } => {
            case_render(
                state,
                ctx,
                user,
                reference,
                "all",
                form,
                Some(tr.t("case-stale")),
                StatusCode::CONFLICT,
            )
            .await
        }
        ApiError::Forbidden => forbidden(ctx, user),
        other => other.into_response(),
    }
}

async fn case_note(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::TimelineWrite,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let body = validate::required_text(
        &mut errors,
        "body",
        fields.get("body").map(String::as_str),
        validate::BODY_MAX,
    );
    let visibility = match fields
        .get("visibility")
        .and_then(|v| v.parse::<Visibility>().ok())
    {
        Some(v) if user.user.role != Role::Company || v == Visibility::Company => v,
        _ => {
            errors.push("visibility", "not_allowed", "Not allowed.");
            Visibility::Internal
        }
    };
    let Some(body) = body.filter(|_| errors.is_empty()) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    let entry = NewEntry {
        entry_type: EntryType::Note,
        body,
        visibility,
        data: serde_json::json!({}),
        at: state.clock.now(),
        author_id: Some(user.user.id),
    };
    match state
        .store
        .add_entry(&user.actor(), &reference, &entry, user.scope())
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

async fn case_call(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseChangeStatus,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let body = validate::required_text(
        &mut errors,
        "call_body",
        fields.get("call_body").map(String::as_str),
        validate::BODY_MAX,
    );
    let direction = fields
        .get("direction")
        .and_then(|d| d.parse::<CallDirection>().ok());
    if direction.is_none() {
        errors.push("direction", "unknown_value", "Choose a direction.");
    }
    let minutes = fields
        .get("minutes")
        .and_then(|m| m.trim().parse::<i64>().ok())
        .filter(|m| (0..=600).contains(m));
    if minutes.is_none() {
        errors.push("minutes", "invalid_type", "From 0 to 600 minutes.");
    }
    let (Some(body), Some(direction), Some(minutes), true) =
        (body, direction, minutes, errors.is_empty())
    else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    let entry = NewEntry {
        entry_type: EntryType::Call,
        body,
        visibility: Visibility::Internal,
        data: serde_json::json!({"direction": direction, "duration_seconds": minutes * 60}),
        at: state.clock.now(),
        author_id: Some(user.user.id),
    };
    match state
        .store
        .add_entry(&user.actor(), &reference, &entry, user.scope())
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

async fn case_status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseChangeStatus,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let to = fields
        .get("status")
        .and_then(|s| s.parse::<Status>().ok())
        .filter(|s| *s != Status::Merged);
    if to.is_none() {
        errors.push("status", "unknown_value", "Choose a status.");
    }
    let reason = validate::optional_text(
        &mut errors,
        "reason",
        fields.get("reason").map(String::as_str),
        1000,
    );
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    let (Some(to), true) = (to, errors.is_empty()) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    match crate::lifecycle::take_status(&state, &user, &reference, to, reason.as_deref(), version)
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

/// Takes a lifecycle transition from the case page: `transition` names it, `fields.NAME` carry
/// its values.
async fn case_transition(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseRead,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let transition = fields.get("transition").cloned().unwrap_or_default();
    let values: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("fields.")
                .filter(|_| !v.trim().is_empty())
                .map(|n| (n.to_string(), v.clone()))
        })
        .collect();
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    match crate::lifecycle::take(
        &state,
        crate::lifecycle::Taker::Person(&user),
        &reference,
        &transition,
        &values,
        version,
    )
    .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e).await,
    }
}

async fn case_assign(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseAssign,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let unit_id = match opt(&fields, "unit") {
        Some(code) => {
            match crate::api::cases::lookup_unit(&state, &mut errors, "unit", &code).await {
                Ok(u) => u,
                Err(e) => return e.into_response(),
            }
        }
        None => None,
    };
    let assignee_id = match opt(&fields, "assignee") {
        Some(name) => {
            match crate::api::cases::lookup_staff(&state, &mut errors, "assignee", &name).await {
                Ok(u) => u,
                Err(e) => return e.into_response(),
            }
        }
        None => None,
    };
    if !errors.is_empty() {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    }
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    match state
        .store
        .assign(
            &user.actor(),
            &reference,
            version,
            Some(unit_id),
            Some(assignee_id),
            state.clock.now(),
        )
        .await
    {
        Ok(_) => back_to(&reference),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

pub(crate) fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

async fn case_attach(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    mp: axum::extract::Multipart,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let Ok(reference) = reference.parse::<Reference>().map(|r| r.to_string()) else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    if !user.user.role.allows(Permission::TimelineWrite) {
        return forbidden(&ctx, &user);
    }
    let max = state.settings.max_upload_bytes;
    let (upload, mut fields) = match crate::attachments::read_upload(mp, max, true).await {
        Ok(x) => x,
        Err(p) => {
            return failed(
                &state,
                &ctx,
                &user,
                &reference,
                &Fields::new(),
                p.into_api(max),
            )
            .await;
        }
    };
    if !csrf_ok(&user, &headers, &fields) {
        let tr = ctx.tr;
        let mut form = Form::default();
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return case_render(
            &state,
            &ctx,
            &user,
            &reference,
            "all",
            form,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if let Some(v) = fields.remove("file_visibility") {
        fields.insert("visibility".into(), v);
    }
    match crate::api::files::store_upload(&state, &user, &reference, upload, &fields).await {
        Ok(_) => back_to(&reference),
        Err(e) => {
            fields.remove("csrf");
            failed(&state, &ctx, &user, &reference, &fields, e).await
        }
    }
}

async fn case_download(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path((reference, id)): Path<(String, String)>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let (Ok(reference), Ok(id)) = (reference.parse::<Reference>(), id.parse::<i64>()) else {
        return message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        );
    };
    let visible = (user.user.role == Role::Company).then_some(Visibility::Company);
    match state
        .store
        .open_attachment(
            &user.actor(),
            &reference.to_string(),
            id,
            user.scope(),
            visible,
            state.clock.now(),
        )
        .await
    {
        Ok(a) => crate::api::files::send_file(&state, &a)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(StoreError::NotFound) => message(
            &ctx,
            Some(NavUser::of(&user)),
            StatusCode::NOT_FOUND,
            "notfound-title",
            "notfound-body",
        ),
        Err(e) => internal(e),
    }
}

/// Reads a reference typed into a form field, recording a problem if it is not one.
fn typed_reference(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&String>,
    this: &str,
) -> Option<String> {
    match value
        .map(|v| v.trim().to_ascii_uppercase())
        .filter(|v| !v.is_empty())
    {
        None => {
            errors.push(field, "required", "Required.");
            None
        }
        Some(v) => match v.parse::<Reference>() {
            Ok(r) if r.to_string() == this => {
                errors.push(field, "same_case", "Choose another case.");
                None
            }
            Ok(r) => Some(r.to_string()),
            Err(_) => {
                errors.push(
                    field,
                    "invalid_reference",
                    "A reference such as NYC-2026-000123.",
                );
                None
            }
        },
    }
}

async fn case_link(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseLink,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let target = typed_reference(&mut errors, "target", fields.get("target"), &reference);
    let kind = fields
        .get("link_kind")
        .and_then(|k| k.parse::<LinkKind>().ok());
    if kind.is_none() {
        errors.push("link_kind", "unknown_value", "Choose how they are related.");
    }
    let (Some(target), Some(kind), true) = (target, kind, errors.is_empty()) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    match state
        .store
        .link(&user.actor(), &reference, &target, kind, state.clock.now())
        .await
    {
        Ok(_) => back_to(&reference),
        Err(StoreError::NotFound) => {
            failed(
                &state,
                &ctx,
                &user,
                &reference,
                &fields,
                ApiError::field("target", "unknown_case", "No case has that reference."),
            )
            .await
        }
        Err(StoreError::Duplicate(_)) => {
            let notice = Some(ctx.tr.t("case-already-linked"));
            case_render(
                &state,
                &ctx,
                &user,
                &reference,
                "all",
                Form::with(fields.clone()),
                notice,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

/// "Same person: merge": the case's consumer and another record are one person. The newer record
/// is merged into the one on file longer; both records' values are kept (see `merge_consumers`).
async fn case_consumer_merge(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::ConsumerMerge,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = state.clock.now();
    let case = match state
        .store
        .case(&user.actor(), &reference, user.scope(), true, now)
        .await
    {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return message(
                &ctx,
                Some(NavUser::of(&user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e) => return internal(e),
    };
    let other = fields
        .get("other")
        .and_then(|o| o.trim().parse::<i64>().ok());
    let Some(other) = other.filter(|o| *o != case.consumer_id) else {
        let mut errors = FieldErrors::new();
        errors.push(
            "other",
            "unknown_consumer",
            "Choose a record from the list.",
        );
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    let (from, into) = if other > case.consumer_id {
        (other, case.consumer_id)
    } else {
        (case.consumer_id, other)
    };
    match state
        .store
        .merge_consumers(&user.actor(), from, into, now)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{reference}#summary-title")).into_response(),
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

async fn case_merge(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(reference): Path<String>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let (user, ctx, reference) = match action(
        &state,
        &uri,
        &headers,
        &reference,
        &fields,
        Permission::CaseMerge,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::new();
    let Some(into) = typed_reference(&mut errors, "into", fields.get("into"), &reference) else {
        return failed(
            &state,
            &ctx,
            &user,
            &reference,
            &fields,
            ApiError::Validation(errors),
        )
        .await;
    };
    match state
        .store
        .merge(&user.actor(), &reference, &into, state.clock.now())
        .await
    {
        Ok(_) => back_to(&reference),
        Err(StoreError::NotFound) => {
            failed(
                &state,
                &ctx,
                &user,
                &reference,
                &fields,
                ApiError::field("into", "unknown_case", "No case has that reference."),
            )
            .await
        }
        Err(e) => failed(&state, &ctx, &user, &reference, &fields, e.into()).await,
    }
}

/// Extends the session by its full length: from the warning box (JSON) or without script
/// (a redirect back).
async fn extend_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !csrf_ok(&user, &headers, &fields) {
        return (StatusCode::FORBIDDEN, "request refused").into_response();
    }
    let Some(id) = auth::cookie_value(&headers, auth::SESSION_COOKIE) else {
        return Redirect::to("/login").into_response();
    };
    let now = state.clock.now();
    let until = now + jiff::SignedDuration::from_hours(auth::SESSION_HOURS);
    if let Err(e) = state
        .store
        .extend_session(
            &redress_domain::audit::sha256_hex(id.as_bytes()),
            until,
            now,
        )
        .await
    {
        return internal(e);
    }
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        axum::Json(serde_json::json!({"expires_ms": until.as_millisecond()})).into_response()
    } else {
        let back = headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| {
                r.find("://")
                    .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
            })
            .unwrap_or_else(|| "/".into());
        Redirect::to(&back).into_response()
    }
}
