//! The pages staff reach with a browser: log in, a start page with their open work, and the
//! API reference. Plain HTML forms; no script needed.

use crate::AppState;
use crate::auth;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redress_store::CaseFilter;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;line-height:1.5}\
header,main,footer{padding:1rem 2rem}header{background:#1a4480;color:#fff}header a{color:#fff}\
a{color:#1a4480}:focus{outline:3px solid #e5a000;outline-offset:2px}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.5rem}\
label{display:block;font-weight:600;margin-top:1rem}input{font-size:1rem;padding:.4rem;border:1px solid #565c65}\
button{margin-top:1rem;font-size:1rem;padding:.5rem 1rem;background:#1a4480;color:#fff;border:0}\
.error{border-left:4px solid #b50909;padding:.5rem 1rem;background:#f4e3db}\
table{border-collapse:collapse}th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #dfe1e2}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · Redress</title><style>{STYLE}</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a>\
<header><p><strong>Redress</strong></p></header><main id=\"main\">{body}</main>\
<footer><p><a href=\"/api/docs\">API reference</a></p></footer></body></html>",
        t = escape(title)
    )
}

pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(layout(
            "Not found",
            "<h1>Page not found</h1><p><a href=\"/\">Go to the start page</a></p>",
        )),
    )
        .into_response()
}

fn login_form(error: Option<&str>, username: &str) -> String {
    let err = error
        .map(|e| {
            format!(
                "<div class=\"error\" role=\"alert\" id=\"login-error\"><p>{}</p></div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let described = if error.is_some() {
        " aria-describedby=\"login-error\" aria-invalid=\"true\""
    } else {
        ""
    };
    layout(
        "Log in",
        &format!(
            "<h1>Log in</h1>{err}<form method=\"post\" action=\"/login\">\
<label for=\"username\">Username</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{u}\"{described}>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described}>\
<div><button type=\"submit\">Log in</button></div></form>",
            u = escape(username)
        ),
    )
}

async fn login_page() -> Html<String> {
    Html(login_form(None, ""))
}

/// A cross-site form post is refused: the Origin, when sent, must be this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").is_some_and(|(_, h)| h == host)
}

async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Html(layout("Forbidden", "<h1>Request refused</h1>")),
        )
            .into_response();
    }
    let username = form.get("username").map(|s| s.trim()).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    match auth::login(&state, username, password).await {
        Ok(user) => {
            match auth::start_session(&state, &user, auth::is_secure(&state, &headers)).await {
                Ok((_, cookie)) => {
                    let mut resp = Redirect::to("/").into_response();
                    if let Ok(v) = HeaderValue::from_str(&cookie) {
                        resp.headers_mut().insert(header::SET_COOKIE, v);
                    }
                    resp
                }
                Err(e) => e.into_response(),
            }
        }
        Err(crate::error::ApiError::RateLimited { .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Html(login_form(
                Some("Too many failed attempts. Wait a few minutes and try again."),
                username,
            )),
        )
            .into_response(),
        Err(crate::error::ApiError::Unauthenticated) => (
            StatusCode::UNAUTHORIZED,
            Html(login_form(Some("Wrong username or password."), username)),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(current) = auth::session_user(&state, &headers, state.clock.now()).await
        && form.get("csrf").map(String::as_str) != current.csrf.as_deref()
    {
        return (
            StatusCode::FORBIDDEN,
            Html(layout("Forbidden", "<h1>Request refused</h1>")),
        )
            .into_response();
    }
    if let Some(id) = auth::cookie_value(&headers, auth::SESSION_COOKIE) {
        let _ = state
            .store
            .delete_session(&redress_domain::audit::sha256_hex(id.as_bytes()))
            .await;
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(
        "",
        0,
        auth::is_secure(&state, &headers),
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(current) = auth::session_user(&state, &headers, state.clock.now()).await else {
        return Redirect::to("/login").into_response();
    };
    let filter = CaseFilter {
        assignee_id: Some(current.user.id),
        limit: 50,
        ..CaseFilter::default()
    };
    let rows = match state.store.cases(&filter, current.scope()).await {
        Ok(r) => r,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let mut table = String::from(
        "<table><caption>My cases (newest first)</caption><thead><tr><th scope=\"col\">Reference</th><th scope=\"col\">Status</th>\
<th scope=\"col\">Priority</th><th scope=\"col\">Kind</th><th scope=\"col\">Opened</th></tr></thead><tbody>",
    );
    for (_, c) in &rows {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.reference),
            c.status,
            c.priority,
            c.kind,
            c.opened_at.strftime("%Y-%m-%d")
        ));
    }
    table.push_str("</tbody></table>");
    if rows.is_empty() {
        table = "<p>No cases are assigned to you.</p>".into();
    }
    let csrf = current.csrf.unwrap_or_default();
    Html(layout(
        "Start",
        &format!(
            "<h1>Hello, {}</h1><p>Role: {}</p>{table}<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">Log out</button></form>",
            escape(&current.user.display_name),
            current.user.role,
            escape(&csrf)
        ),
    ))
    .into_response()
}

/// A readable page listing every operation of the OpenAPI document.
pub fn api_docs_page(openapi: &utoipa::openapi::OpenApi) -> String {
    let mut body = String::from(
        "<h1>Redress API reference</h1><p>The machine-readable description is at <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1). \
Send <code>Authorization: Bearer TOKEN</code>.</p>\
<table><caption>Operations</caption><thead><tr><th scope=\"col\">Method</th><th scope=\"col\">Path</th><th scope=\"col\">What it does</th></tr></thead><tbody>",
    );
    let json = serde_json::to_value(openapi).unwrap_or_default();
    if let Some(paths) = json.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            if let Some(ops) = item.as_object() {
                for (method, op) in ops {
                    let summary = op.get("summary").and_then(|s| s.as_str()).unwrap_or("");
                    body.push_str(&format!(
                        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                        escape(&method.to_uppercase()),
                        escape(path),
                        escape(summary)
                    ));
                }
            }
        }
    }
    body.push_str("</tbody></table>");
    layout("API reference", &body)
}
