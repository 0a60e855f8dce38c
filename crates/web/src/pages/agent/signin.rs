//! Signing in and out, and keeping a session alive.

use super::*;

// ---- log in and out ----

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    tr: Tr,
    nav: Option<NavUser>,
    switch_href: String,
    csrf: String,
    form: Form,
    failure: Option<String>,
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
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

pub(super) async fn login_submit(
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
    match state
        .login(&username, &password, SecondStep::Code(code), peer.ip())
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
        Err(AppError::RateLimited { .. }) => {
            failure(StatusCode::TOO_MANY_REQUESTS, "login-locked", shown)
        }
        Err(AppError::Unauthenticated) => failure(StatusCode::UNAUTHORIZED, "login-failed", shown),
        Err(AppError::SecondFactorRequired) => {
            failure(StatusCode::UNAUTHORIZED, "login-code-needed", shown)
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(super) async fn logout(
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
        let _ = state.end_session(&id).await;
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

/// Extends the session by its full length: from the warning box (JSON) or without script
/// (a redirect back).
pub(super) async fn extend_session(
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
    let until = match state.renew_session(&id).await {
        Ok(until) => until,
        Err(e) => return internal(e),
    };
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
