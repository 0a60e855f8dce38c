//! The HTTP face of Redress: the JSON API (`/api/v1`, OpenAPI at `/api/openapi.json`),
//! health probes, and the pages staff log in to.

pub mod api;
pub mod attachments;
pub mod auth;
pub mod error;
pub mod extract;
pub mod i18n;
mod pages;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use redress_app::App;
use std::sync::Arc;

/// Settings of the HTTP face (the office's own are [`redress_app::Settings`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (set when Redress is served over TLS).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Portal submissions (complaints, status look-ups) allowed per address in ten minutes.
    pub portal_submissions_per_10_minutes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            max_body_bytes: 256 * 1024,
            portal_submissions_per_10_minutes: 10,
        }
    }
}

/// What every handler holds: the office's use cases ([`App`], reached through `Deref`) and
/// what the HTTP face keeps for itself.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub http: Settings,
    /// Public portal submissions per client address.
    pub limiter: Arc<RateLimiter>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(app: App, http: Settings) -> AppState {
        let limiter = Arc::new(RateLimiter::new(
            http.portal_submissions_per_10_minutes,
            jiff::SignedDuration::from_mins(10),
        ));
        AppState { app, http, limiter }
    }
}

/// A sliding-window limit per client address (per node; the portal's anti-abuse measure).
pub struct RateLimiter {
    max: usize,
    window: jiff::SignedDuration,
    hits: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Vec<jiff::Timestamp>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: jiff::SignedDuration) -> RateLimiter {
        RateLimiter {
            max,
            window,
            hits: Default::default(),
        }
    }

    /// Records a hit; false when the address is over its limit.
    pub fn allow(&self, ip: std::net::IpAddr, now: jiff::Timestamp) -> bool {
        let Ok(mut hits) = self.hits.lock() else {
            return false;
        };
        if hits.len() > 100_000 {
            hits.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let list = hits.entry(ip).or_default();
        list.retain(|t| now.duration_since(*t) < self.window);
        if list.len() >= self.max {
            return false;
        }
        list.push(now);
        true
    }
}

fn routes_and_spec() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut spec) = utoipa_axum::router::OpenApiRouter::with_openapi(api::doc())
        .nest("/api/v1", api::router())
        .routes(utoipa_axum::routes!(healthz))
        .routes(utoipa_axum::routes!(readyz))
        .split_for_parts();
    api::complete(&mut spec);
    (routes, spec)
}

/// The OpenAPI 3.1 document, as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    routes_and_spec()
        .1
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (routes, openapi) = routes_and_spec();
    let query_rules = Arc::new(extract::QueryRules::from_spec(&openapi));
    let routes = routes.route_layer(axum::middleware::from_fn_with_state(
        query_rules,
        extract::check_query,
    ));
    let spec = Arc::new(openapi.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let docs = Arc::new(pages::api_docs_page(&openapi));
    // Uploads need room; JSON bodies are held to max_body_bytes by their extractor.
    let limit = state
        .http
        .max_body_bytes
        .max(state.settings.max_upload_bytes + 1024 * 1024);
    Router::new()
        .merge(routes)
        .route(
            "/api/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        spec.as_str().to_owned(),
                    )
                }
            }),
        )
        .route(
            "/api/docs",
            get(move || {
                let docs = docs.clone();
                async move { Html(docs.as_str().to_owned()) }
            }),
        )
        .merge(pages::router())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(api_problems))
        .layer(axum::middleware::map_response_with_state(
            state.http.secure_cookies,
            security_headers,
        ))
        .with_state(state)
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Up", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// The database is reachable.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "Ready", body = String), (status = 503, description = "Database unreachable")))]
async fn readyz(State(state): State<AppState>) -> Response {
    match state.ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn fallback(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    if uri.path().starts_with("/api/") {
        error::ApiError::NotFound.into_response()
    } else {
        pages::not_found_page(&state, &uri, &headers)
    }
}

/// Any error the framework itself answers under `/api/` (a wrong method, a malformed query
/// string...) becomes problem+json too, so clients see one error format.
async fn api_problems(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_api || is_problem || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (code, title) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This endpoint does not accept that method",
        ),
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large"),
        s if s.is_server_error() => ("internal", "Something went wrong on our side"),
        _ => ("bad_request", "The request could not be read"),
    };
    let allow = resp.headers().get(header::ALLOW).cloned();
    let body = serde_json::json!({"type": format!("/problems/{code}"), "title": title, "status": status.as_u16(), "code": code});
    let mut out = (status, body.to_string()).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// Headers on every response. `tls`: Redress is served over HTTPS (`secure_cookies`), so browsers
/// are told to keep to it (HSTS). A response that set its own, stricter Content-Security-Policy
/// (an attachment download: `default-src 'none'; sandbox`) keeps it.
async fn security_headers(State(tls): State<bool>, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Serves until the shutdown future completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
