//! Administration (users, units, where new cases go) and the lifecycles an administrator reads.

use super::*;
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::supervision::NewStaffUser;
use redress_domain::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/lifecycles", get(lifecycles_page))
        .route("/admin/users", post(admin_add_user))
        .route("/admin/units", post(admin_add_unit))
        .route("/admin/routing", post(admin_add_routing))
        .route("/admin/routing/remove", post(admin_remove_routing))
}

type Fields = HashMap<String, String>;

pub(super) fn csrf_ok(user: &CurrentUser, headers: &HeaderMap, token: Option<&str>) -> bool {
    same_origin(headers) && user.csrf.is_some() && user.csrf.as_deref() == token
}

/// A use case the person's role does not allow: the page that says so; else an error.
pub(super) fn refused(ctx: &Ctx, user: &CurrentUser, e: AppError) -> Response {
    match e {
        AppError::Forbidden => forbidden(ctx, user),
        e => internal(e),
    }
}

// ---- administration ----

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    notice: Option<String>,
    /// (id, user name, name, role, unit, company, active)
    users: Vec<(i64, String, String, String, String, String, bool)>,
    companies: Options,
    unit_rows: Vec<(String, String)>,
    roles: Options,
    units: Options,
    /// Jobs waiting, done and dead, in words.
    jobs_line: String,
    /// (id, kind, attempts, when, last error)
    dead_jobs: Vec<(i64, String, i64, String, String)>,
    /// (id, position, conditions in words, unit code)
    routing: Vec<(i64, i64, String, String)>,
    channels: Options,
    kinds: Options,
    categories: Options,
    routing_units: Options,
}

async fn admin_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let shown = match state.admin_overview(user).await {
        Ok(s) => s,
        Err(e) => return refused(ctx, user, e),
    };
    let routing = shown
        .routing
        .iter()
        .map(|r| {
            let mut when = Vec::new();
            if let Some(c) = r.channel {
                when.push(tr.word("channel", c.as_str()));
            }
            if let Some(k) = r.kind {
                when.push(tr.word("kind", k.as_str()));
            }
            if let Some(c) = &r.category {
                when.push(c.clone());
            }
            if let Some(id) = r.company_id {
                when.push(tr.t1("admin-routing-company", "id", &id.to_string()));
            }
            let when = if when.is_empty() {
                tr.t("admin-routing-any")
            } else {
                when.join(" · ")
            };
            (r.id, r.position, when, r.unit.clone())
        })
        .collect();
    let mut any = vec![(String::new(), tr.t("admin-routing-any"))];
    let channels = {
        let mut o = any.clone();
        o.extend(
            redress_domain::Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), tr.word("channel", c.as_str()))),
        );
        o
    };
    let kinds = {
        let mut o = any.clone();
        o.extend(
            redress_domain::CaseKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), tr.word("kind", k.as_str()))),
        );
        o
    };
    any.extend(
        shown
            .categories
            .iter()
            .map(|c| (c.path.clone(), c.path.clone())),
    );
    let categories = any;
    let (users, units, counts, dead) = (shown.users, shown.units, shown.jobs, shown.dead_jobs);
    let routing_units: Options = units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let mut unit_options = vec![(String::new(), tr.t("case-unassigned"))];
    unit_options.extend(units.iter().map(|u| (u.code.clone(), u.name.clone())));
    let roles: Options = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), tr.word("role", r.as_str())))
        .collect();
    let company_name = |id: Option<i64>| {
        id.and_then(|id| shown.companies.iter().find(|c| c.id == id))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let users = users
        .into_iter()
        .map(|u| {
            (
                u.id,
                u.username,
                u.display_name,
                u.role.as_str().to_string(),
                u.unit.unwrap_or_default(),
                company_name(u.company_id),
                u.active,
            )
        })
        .collect();
    let mut companies = vec![(String::new(), tr.t("admin-company-staff"))];
    companies.extend(
        shown
            .companies
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone())),
    );
    let page = AdminPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        notice,
        users,
        companies,
        unit_rows: units.into_iter().map(|u| (u.code, u.name)).collect(),
        routing,
        channels,
        kinds,
        categories,
        routing_units,
        roles,
        units: unit_options,
        jobs_line: tr.targs(
            "admin-jobs-counts",
            &[
                ("waiting", &counts.waiting.to_string()),
                ("done", &counts.done.to_string()),
                ("dead", &counts.dead.to_string()),
            ],
        ),
        dead_jobs: dead
            .into_iter()
            .map(|j| {
                (
                    j.id,
                    j.kind,
                    j.attempts,
                    local_time(state, j.dead_at),
                    j.last_error.unwrap_or_default(),
                )
            })
            .collect(),
    };
    ctx.render(status, &page)
}

async fn admin_page(
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
    let notice = match q.get("added").map(String::as_str) {
        Some("user") => Some(ctx.tr.t("admin-user-added")),
        Some("unit") => Some(ctx.tr.t("admin-unit-added")),
        Some("routing") => Some(ctx.tr.t("admin-routing-added")),
        Some("routing-removed") => Some(ctx.tr.t("admin-routing-removed")),
        _ => None,
    };
    let mut form = Form::default();
    form.values.insert("role".into(), "agent".into());
    admin_render(&state, &ctx, &user, form, notice, StatusCode::OK).await
}

async fn admin_add_user(
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
    let mut shown = fields.clone();
    shown.remove("password");
    let mut form = Form::with(shown);
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return admin_render(&state, &ctx, &user, form, None, StatusCode::FORBIDDEN).await;
    }
    let opt = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let input = NewStaffUser {
        username: opt("username"),
        display_name: opt("display_name"),
        role: opt("role"),
        unit: opt("user_unit"),
        company: opt("user_company"),
        password: fields.get("password").cloned(),
        email: opt("email"),
    };
    match state.add_staff_user(&user, input).await {
        Ok(_) => Redirect::to("/admin?added=user").into_response(),
        Err(AppError::Validation(errors)) => {
            for e in &errors.0 {
                let field = match e.field.as_str() {
                    "unit" => "user_unit",
                    "company_id" => "user_company",
                    f => f,
                };
                form.add(&tr, field, tr.error(&e.code, &e.message));
            }
            admin_render(
                &state,
                &ctx,
                &user,
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(_)) => {
            form.add(&tr, "username", tr.t("error-conflict"));
            admin_render(&state, &ctx, &user, form, None, StatusCode::CONFLICT).await
        }
        Err(AppError::Forbidden) => forbidden(&ctx, &user),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn admin_add_unit(
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
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return admin_render(&state, &ctx, &user, form, None, StatusCode::FORBIDDEN).await;
    }
    let code = fields.get("code").map(String::as_str);
    let name = fields.get("name").map(String::as_str);
    match state.add_office_unit(&user, code, name).await {
        Ok(_) => Redirect::to("/admin?added=unit").into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            admin_render(
                &state,
                &ctx,
                &user,
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict(_)) => {
            form.add(&tr, "code", tr.t("error-conflict"));
            admin_render(&state, &ctx, &user, form, None, StatusCode::CONFLICT).await
        }
        Err(e) => refused(&ctx, &user, e),
    }
}

// ---- lifecycles ----

struct TransitionRow {
    name: String,
    label: String,
    from: String,
    to: String,
    roles: String,
    requires: String,
    effects: String,
}

struct LifecycleView {
    id: String,
    /// Which cases of its kind follow it, in words.
    applies: String,
    kind: String,
    name: String,
    version: u32,
    file: String,
    source: String,
    hold: String,
    /// (label, name, status, hold)
    states: Vec<(String, String, String, String)>,
    transitions: Vec<TransitionRow>,
    /// (label, name, kind, length, source, when missed)
    clocks: Vec<(String, String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "lifecycles.html")]
struct LifecyclesPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    lifecycles: Vec<LifecycleView>,
}

/// Every case kind's lifecycle as tables: states, transitions and clocks.
async fn lifecycles_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    use redress_domain::lifecycle::Hold;
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let lifecycles = match state.lifecycle_reference(&user) {
        Ok(l) => l,
        Err(e) => return refused(&ctx, &user, e),
    };
    let es = ctx.tr.lang == crate::i18n::Lang::Es;
    let pick = |en: &str, sp: &str| if es { sp.to_string() } else { en.to_string() };
    let lifecycles = lifecycles
        .iter()
        .map(|l| LifecycleView {
            id: l.id.clone(),
            applies: if l.applies.is_general() {
                ctx.tr.t("lifecycle-applies-general")
            } else {
                ctx.tr.targs(
                    "lifecycle-applies",
                    &[
                        ("industries", &l.applies.industries.join(", ")),
                        ("categories", &l.applies.categories.join(", ")),
                    ],
                )
            },
            kind: l.kind.to_string(),
            name: pick(&l.name, &l.name_es),
            version: l.version,
            file: l.file.clone(),
            source: l.source.clone(),
            hold: l
                .hold
                .as_ref()
                .map(|h| format!("{} ({})", pick(&h.text, &h.text_es), h.source))
                .unwrap_or_default(),
            states: l
                .states
                .iter()
                .map(|s| {
                    let hold = match &s.hold {
                        Hold::None => String::new(),
                        Hold::Pending => "✓".into(),
                        Hold::Until(c) => format!("→ {c}"),
                    };
                    (
                        pick(&s.label, &s.label_es),
                        s.name.clone(),
                        s.status.to_string(),
                        hold,
                    )
                })
                .collect(),
            transitions: l
                .transitions
                .iter()
                .map(|t| {
                    let mut effects = Vec::new();
                    for (sign, list) in [
                        ("+", &t.start),
                        ("✓", &t.stop),
                        ("×", &t.cancel),
                        ("‖", &t.pause),
                        ("▶", &t.resume),
                    ] {
                        effects.extend(list.iter().map(|c| format!("{sign}{c}")));
                    }
                    if let Some(p) = t.priority {
                        effects.push(format!("priority ≥ {p}"));
                    }
                    TransitionRow {
                        name: t.name.clone(),
                        label: pick(&t.label, &t.label_es),
                        from: t.from.join(", "),
                        to: t.to.clone(),
                        roles: if t.system {
                            "system".into()
                        } else {
                            let roles = t.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>();
                            let who = roles.join(", ");
                            if t.independent {
                                format!("{who} (new to the case)")
                            } else {
                                who
                            }
                        },
                        requires: t.requires.join(", "),
                        effects: effects.join(" "),
                    }
                })
                .collect(),
            clocks: l
                .clocks
                .iter()
                .map(|c| {
                    (
                        pick(&c.label, &c.label_es),
                        c.name.clone(),
                        c.kind.as_str().to_string(),
                        c.length_text(),
                        c.source.clone(),
                        c.overdue_text(),
                    )
                })
                .collect(),
        })
        .collect();
    ctx.render(
        StatusCode::OK,
        &LifecyclesPage {
            tr: ctx.tr,
            nav: Some(NavUser::of(&user)),
            switch_href: ctx.switch_href.clone(),
            lifecycles,
        },
    )
}

/// Adds a routing rule from the administration page.
async fn admin_add_routing(
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
    let mut form = Form::with(fields.clone());
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return admin_render(&state, &ctx, &user, form, None, StatusCode::FORBIDDEN).await;
    }
    let opt = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // Words from the page's own lists; anything else is refused, naming the field.
    let channel = opt("routing_channel").map(|c| c.parse::<redress_domain::Channel>());
    let kind = opt("routing_kind").map(|k| k.parse::<redress_domain::CaseKind>());
    let position = opt("routing_position").map(|p| p.parse::<i64>());
    if matches!(channel, Some(Err(_))) {
        form.add(&tr, "routing_channel", tr.t("error-unknown_value"));
    }
    if matches!(kind, Some(Err(_))) {
        form.add(&tr, "routing_kind", tr.t("error-unknown_value"));
    }
    if matches!(position, Some(Err(_))) {
        form.add(&tr, "routing_position", tr.t("error-invalid_type"));
    }
    if !form.errors.is_empty() {
        return admin_render(
            &state,
            &ctx,
            &user,
            form,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let rule = redress_app::routing::NewRoutingRule {
        position: position.and_then(Result::ok),
        channel: channel.and_then(Result::ok),
        kind: kind.and_then(Result::ok),
        category: opt("routing_category"),
        company_id: None,
        unit: opt("routing_unit"),
    };
    match state.add_routing_rule(&user, rule).await {
        Ok(_) => Redirect::to("/admin?added=routing#routing-title").into_response(),
        Err(AppError::Validation(errors)) => {
            // The page's fields are named `routing_…`.
            let mut named = redress_domain::FieldErrors::new();
            for e in errors.0 {
                named.push(format!("routing_{}", e.field), &e.code, e.message);
            }
            form.add_all(&tr, &named);
            admin_render(
                &state,
                &ctx,
                &user,
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => refused(&ctx, &user, e),
    }
}

/// Removes a routing rule from the administration page.
async fn admin_remove_routing(
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
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        let mut form = Form::default();
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return admin_render(&state, &ctx, &user, form, None, StatusCode::FORBIDDEN).await;
    }
    let Some(id) = fields.get("id").and_then(|i| i.trim().parse::<i64>().ok()) else {
        return admin_render(
            &state,
            &ctx,
            &user,
            Form::default(),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    match state.remove_routing_rule(&user, id).await {
        Ok(()) => Redirect::to("/admin?added=routing-removed#routing-title").into_response(),
        Err(AppError::NotFound) => {
            admin_render(
                &state,
                &ctx,
                &user,
                Form::default(),
                None,
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(e) => refused(&ctx, &user, e),
    }
}
