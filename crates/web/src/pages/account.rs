//! A person's own account: their password and two-step sign-in.

use super::staff::csrf_ok;
use super::*;
use crate::error::ApiError;
use axum::Form as PostForm;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::post;
use redress_app::accounts::PasswordChange;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/totp/on", post(totp_on))
        .route("/account/totp/off", post(totp_off))
}

type Fields = HashMap<String, String>;

// ---- my account ----

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    changed: bool,
    notice: Option<String>,
    totp_on: bool,
    new_secret: String,
    new_secret_grouped: String,
    otpauth: String,
}

async fn account_render(
    state: &AppState,
    ctx: &Ctx,
    user: &CurrentUser,
    form: Form,
    changed: bool,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let offered = form.values.get("secret").map(String::as_str);
    let setup = match state.totp_setup(user, offered).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    // In groups of four, to be typed.
    let grouped = setup
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let page = AccountPage {
        tr: ctx.tr,
        nav: Some(NavUser::of(user)),
        switch_href: ctx.switch_href.clone(),
        csrf: user.csrf.clone().unwrap_or_default(),
        form,
        changed,
        notice,
        totp_on: setup.enabled,
        new_secret: setup.secret,
        new_secret_grouped: grouped,
        otpauth: setup.otpauth,
    };
    ctx.render(status, &page)
}

async fn account_page(
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
    let notice = match q.get("totp").map(String::as_str) {
        Some("on") => Some(ctx.tr.t("totp-on-done")),
        Some("off") => Some(ctx.tr.t("totp-off-done")),
        _ => None,
    };
    account_render(
        &state,
        &ctx,
        &user,
        Form::default(),
        q.contains_key("changed"),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn change_password(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
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
    let mut form = Form::default();
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return account_render(
            &state,
            &ctx,
            &user,
            form,
            false,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    let change = PasswordChange {
        current: field("current_password"),
        new: field("new_password"),
        confirm: field("confirm_password"),
    };
    match state.change_password(&user, change, peer.ip()).await {
        // Every session ended with the old password, this one too: a new one replaces it.
        Ok(()) => {
            match auth::start_session(&state, &user.user, auth::is_secure(&state, &headers)).await {
                Ok((_, cookie)) => with_cookie(
                    Redirect::to("/account?changed=1").into_response(),
                    Some(cookie),
                ),
                Err(e) => e.into_response(),
            }
        }
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            account_render(
                &state,
                &ctx,
                &user,
                form,
                false,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn totp_on(
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
    let mut form = Form::with(
        fields
            .iter()
            .filter(|(k, _)| k.as_str() == "secret")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return account_render(
            &state,
            &ctx,
            &user,
            form,
            false,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let secret = fields.get("secret").map(String::as_str).unwrap_or("");
    let code = fields.get("totp_code").map(String::as_str).unwrap_or("");
    match state.turn_totp_on(&user, secret, code).await {
        Ok(()) => Redirect::to("/account?totp=on").into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            account_render(
                &state,
                &ctx,
                &user,
                form,
                false,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => internal(e),
    }
}

async fn totp_off(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
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
    let mut form = Form::default();
    if !csrf_ok(&user, &headers, fields.get("csrf").map(String::as_str)) {
        form.add(&tr, "csrf", tr.t("error-csrf"));
        return account_render(
            &state,
            &ctx,
            &user,
            form,
            false,
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let password = fields
        .get("totp_password")
        .map(String::as_str)
        .unwrap_or("");
    match state.turn_totp_off(&user, password, peer.ip()).await {
        Ok(()) => Redirect::to("/account?totp=off").into_response(),
        Err(AppError::Validation(errors)) => {
            form.add_all(&tr, &errors);
            account_render(
                &state,
                &ctx,
                &user,
                form,
                false,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
