//! The administrators' pages for what changes after it was set up: a user (name, role, unit,
//! company, email, may sign in, a new password), companies, and categories (with their Spanish
//! names).

use super::staff::csrf_ok;
use super::*;
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::administration::{CompanyChange, PasswordReset, UserChangeInput};
use redress_app::directory::{CategoryChange, NewCategory, NewCompany};
use redress_domain::Role;
use redress_domain::records::CATEGORY_SEPARATOR;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users/{id}", get(user_page).post(user_change))
        .route("/admin/users/{id}/password", post(user_password))
        .route("/admin/companies", get(companies_page).post(company_add))
        .route("/admin/companies/{id}", post(company_change))
        .route("/admin/categories", get(categories_page).post(category_add))
        .route("/admin/categories/{id}", post(category_change))
}

type Fields = HashMap<String, String>;

fn opt(fields: &Fields, k: &str) -> Option<String> {
    fields
        .get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What went wrong with a form: the page again with each field named, or the refusal.
fn problems(tr: &Tr, form: &mut Form, e: &AppError) -> Option<StatusCode> {
    match e {
        AppError::Validation(errors) => {
            form.add_all(tr, errors);
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        }
        AppError::Conflict(_) => {
            form.add(tr, "name", tr.t("error-conflict"));
            Some(StatusCode::CONFLICT)
        }
        _ => None,
    }
}

// ---- one user ----

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    notice: Option<String>,
    id: i64,
    username: String,
    roles: Options,
    units: Options,
    companies: Options,
}

async fn user_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    id: i64,
    mut form: Form,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = ctx.tr;
    let (them, email) = match state.user_to_change(user, id).await {
        Ok(x) => x,
        Err(AppError::NotFound) => {
            return message(
                ctx,
                Some(NavUser::of(user)),
                StatusCode::NOT_FOUND,
                "notfound-title",
                "notfound-body",
            );
        }
        Err(e) => return super::staff::refused(ctx, user, e),
    };
    let (units, _) = match state.list_choices(user).await {
        Ok(x) => x,
        Err(e) => return super::staff::refused(ctx, user, e),
    };
    let companies = match state.companies(user).await {
        Ok(c) => c,
        Err(e) => return super::staff::refused(ctx, user, e),
    };
    if form.values.is_empty() {
        let on_file = [
            ("display_name", them.display_name.clone()),
            ("role", them.role.as_str().to_string()),
            ("unit", them.unit.clone().unwrap_or_default()),
            (
                "company_id",
                them.company_id.map(|c| c.to_string()).unwrap_or_default(),
            ),
            ("email", email.unwrap_or_default()),
        ];
        for (k, v) in on_file {
            form.values.insert(k.into(), v);
        }
        if them.active {
            form.values.insert("active".into(), "1".into());
        }
    }
    let page = UserPage {
        tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        notice,
        id,
        username: them.username,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), tr.word("role", r.as_str())))
            .collect(),
        units: std::iter::once((String::new(), tr.t("case-unassigned")))
            .chain(units.into_iter().map(|u| (u.code, u.name)))
            .collect(),
        companies: std::iter::once((String::new(), tr.t("admin-company-staff")))
            .chain(companies.into_iter().map(|c| (c.id.to_string(), c.name)))
            .collect(),
    };
    ctx.render(status, &page)
}

async fn user_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let notice = match q.get("done").map(String::as_str) {
        Some("changed") => Some(ctx.tr.t("admin-user-changed")),
        Some("password") => Some(ctx.tr.t("admin-password-set")),
        _ => None,
    };
    user_render(
        &state,
        &ctx,
        &user,
        id,
        Form::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn user_change(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
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
        return user_render(&state, &ctx, &user, id, form, None, StatusCode::FORBIDDEN).await;
    }
    let role = match opt(&fields, "role").map(|r| r.parse::<Role>()) {
        Some(Ok(r)) => Some(r),
        None => None,
        Some(Err(_)) => {
            form.add(
                &tr,
                "role",
                tr.error("unknown_value", "Choose one of the options."),
            );
            return user_render(
                &state,
                &ctx,
                &user,
                id,
                form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let company_id = match opt(&fields, "company_id").map(|c| c.parse::<i64>()) {
        Some(Ok(c)) => Some(c),
        _ => None,
    };
    let change = UserChangeInput {
        display_name: Some(fields.get("display_name").cloned().unwrap_or_default()),
        role,
        unit: Some(opt(&fields, "unit")),
        company_id: Some(company_id),
        email: Some(opt(&fields, "email")),
        active: Some(fields.contains_key("active")),
    };
    match state.change_user(&user, id, change).await {
        Ok(_) => Redirect::to(&format!("/admin/users/{id}?done=changed")).into_response(),
        Err(e) => match problems(&tr, &mut form, &e) {
            Some(status) => user_render(&state, &ctx, &user, id, form, None, status).await,
            None if matches!(e, AppError::Forbidden) => forbidden(&ctx, &user),
            None => ApiError::from(e).into_response(),
        },
    }
}

async fn user_password(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    PostForm(fields): PostForm<Fields>,
) -> Response {
    let user = match session(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let ctx = Ctx::new(&state, &uri, &headers);
    let tr = ctx.tr;
    let mut form = Form::default();
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return user_render(&state, &ctx, &user, id, form, None, StatusCode::FORBIDDEN).await;
    }
    let reset = PasswordReset {
        password: fields.get("password").cloned(),
    };
    match state.reset_password(&user, id, reset).await {
        Ok(()) => Redirect::to(&format!("/admin/users/{id}?done=password")).into_response(),
        Err(e) => match problems(&tr, &mut form, &e) {
            Some(status) => user_render(&state, &ctx, &user, id, form, None, status).await,
            None if matches!(e, AppError::Forbidden) => forbidden(&ctx, &user),
            None => ApiError::from(e).into_response(),
        },
    }
}

// ---- companies ----

#[derive(Template)]
#[template(path = "admin_companies.html")]
struct CompaniesPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    notice: Option<String>,
    /// (id, name, industry, customers)
    companies: Vec<(i64, String, String, String)>,
    /// The company being changed, when one was chosen.
    editing: Option<i64>,
}

async fn companies_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    mut form: Form,
    editing: Option<i64>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    if !user.may(redress_domain::Permission::CompanyWrite) {
        return forbidden(ctx, user);
    }
    let companies = match state.companies(user).await {
        Ok(c) => c,
        Err(e) => return super::staff::refused(ctx, user, e),
    };
    if let Some(c) = editing.and_then(|id| companies.iter().find(|c| c.id == id))
        && !form.values.contains_key("edit_name")
    {
        form.values.insert("edit_name".into(), c.name.clone());
        form.values
            .insert("edit_industry".into(), c.industry.clone());
        form.values.insert(
            "edit_customer_count".into(),
            c.customer_count.map(|n| n.to_string()).unwrap_or_default(),
        );
    }
    let page = CompaniesPage {
        tr: ctx.tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        notice,
        companies: companies
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    c.name,
                    c.industry,
                    c.customer_count.map(|n| n.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        editing,
    };
    ctx.render(status, &page)
}

async fn companies_page(
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
    let editing = q.get("edit").and_then(|e| e.parse::<i64>().ok());
    let notice = q.contains_key("done").then(|| ctx.tr.t("admin-saved"));
    companies_render(
        &state,
        &ctx,
        &user,
        Form::default(),
        editing,
        notice,
        StatusCode::OK,
    )
    .await
}

/// A customer count as typed: empty is none; anything but a whole number is refused.
fn count(fields: &Fields, k: &str) -> Result<Option<i64>, ()> {
    match opt(fields, k).map(|v| v.replace(',', "").parse::<i64>()) {
        None => Ok(None),
        Some(Ok(n)) => Ok(Some(n)),
        Some(Err(_)) => Err(()),
    }
}

async fn company_add(
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
        return companies_render(&state, &ctx, &user, form, None, None, StatusCode::FORBIDDEN)
            .await;
    }
    let Ok(customer_count) = count(&fields, "customer_count") else {
        form.add(&tr, "customer_count", tr.t("admin-count-invalid"));
        return companies_render(
            &state,
            &ctx,
            &user,
            form,
            None,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewCompany {
        name: opt(&fields, "name"),
        industry: opt(&fields, "industry").unwrap_or_default(),
        customer_count,
    };
    match state.add_company(&user, new).await {
        Ok(_) => Redirect::to("/admin/companies?done=1").into_response(),
        Err(e) => match problems(&tr, &mut form, &e) {
            Some(status) => companies_render(&state, &ctx, &user, form, None, None, status).await,
            None if matches!(e, AppError::Forbidden) => forbidden(&ctx, &user),
            None => ApiError::from(e).into_response(),
        },
    }
}

async fn company_change(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
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
        return companies_render(
            &state,
            &ctx,
            &user,
            form,
            Some(id),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let Ok(customer_count) = count(&fields, "edit_customer_count") else {
        form.add(&tr, "edit_customer_count", tr.t("admin-count-invalid"));
        return companies_render(
            &state,
            &ctx,
            &user,
            form,
            Some(id),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let change = CompanyChange {
        name: Some(fields.get("edit_name").cloned().unwrap_or_default()),
        industry: Some(fields.get("edit_industry").cloned().unwrap_or_default()),
        customer_count: Some(customer_count),
    };
    match state.change_company(&user, id, change).await {
        Ok(_) => Redirect::to("/admin/companies?done=1").into_response(),
        Err(AppError::Validation(errors)) => {
            for e in &errors.0 {
                form.add(
                    &tr,
                    &format!("edit_{}", e.field),
                    tr.error(&e.code, &e.message),
                );
            }
            companies_render(
                &state,
                &ctx,
                &user,
                form,
                Some(id),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Forbidden) => forbidden(&ctx, &user),
        Err(e) => ApiError::from(e).into_response(),
    }
}

// ---- categories ----

#[derive(Template)]
#[template(path = "admin_categories.html")]
struct CategoriesPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    notice: Option<String>,
    /// (id, path, Spanish name, depth)
    categories: Vec<(i64, String, String, usize)>,
    editing: Option<(i64, String)>,
}

async fn categories_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    mut form: Form,
    editing: Option<i64>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    if !user.may(redress_domain::Permission::ReferenceDataWrite) {
        return forbidden(ctx, user);
    }
    let categories = match state.categories(user).await {
        Ok(c) => c,
        Err(e) => return super::staff::refused(ctx, user, e),
    };
    let editing = editing
        .and_then(|id| categories.iter().find(|c| c.id == id))
        .map(|c| {
            if !form.values.contains_key("name_es") {
                form.values
                    .insert("name_es".into(), c.name_es.clone().unwrap_or_default());
            }
            (c.id, c.path.clone())
        });
    let page = CategoriesPage {
        tr: ctx.tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        notice,
        categories: categories
            .into_iter()
            .map(|c| {
                let depth = c.path.matches(CATEGORY_SEPARATOR).count();
                (c.id, c.path, c.name_es.unwrap_or_default(), depth)
            })
            .collect(),
        editing,
    };
    ctx.render(status, &page)
}

async fn categories_page(
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
    let editing = q.get("edit").and_then(|e| e.parse::<i64>().ok());
    let notice = q.contains_key("done").then(|| ctx.tr.t("admin-saved"));
    categories_render(
        &state,
        &ctx,
        &user,
        Form::default(),
        editing,
        notice,
        StatusCode::OK,
    )
    .await
}

async fn category_add(
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
        return categories_render(&state, &ctx, &user, form, None, None, StatusCode::FORBIDDEN)
            .await;
    }
    let path: Vec<String> = fields
        .get("path")
        .map(|p| p.split('>').map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    match state.add_category(&user, NewCategory { path }).await {
        Ok(_) => Redirect::to("/admin/categories?done=1").into_response(),
        Err(AppError::Validation(errors)) => {
            for e in &errors.0 {
                form.add(&tr, "path", tr.error(&e.code, &e.message));
            }
            categories_render(
                &state,
                &ctx,
                &user,
                form,
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Forbidden) => forbidden(&ctx, &user),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn category_change(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
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
        return categories_render(
            &state,
            &ctx,
            &user,
            form,
            Some(id),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let change = CategoryChange {
        name_es: opt(&fields, "name_es"),
    };
    match state.change_category(&user, id, change).await {
        Ok(_) => Redirect::to("/admin/categories?done=1").into_response(),
        Err(e) => match problems(&tr, &mut form, &e) {
            Some(status) => {
                categories_render(&state, &ctx, &user, form, Some(id), None, status).await
            }
            None if matches!(e, AppError::Forbidden) => forbidden(&ctx, &user),
            None => ApiError::from(e).into_response(),
        },
    }
}
