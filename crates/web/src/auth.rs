//! Who is calling, as HTTP tells it: API tokens (`Authorization: Bearer rdr_...`) and session
//! cookies (HttpOnly, SameSite=Lax, Secure behind TLS), with the CSRF check on cookie-signed
//! changes. Passwords, tokens and sessions themselves are [`redress_app::accounts`].

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use jiff::Timestamp;
use redress_app::Person;
use redress_app::accounts::SESSION_HOURS;
use redress_domain::records::User;

pub const SESSION_COOKIE: &str = "redress_session";

/// The authenticated caller: the person, and how their request proved it.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub person: Person,
    /// Set when authenticated by session cookie: the form/CSRF token of that session.
    pub csrf: Option<String>,
    /// When the session ends, unless extended.
    pub session_expires: Option<Timestamp>,
}

impl std::ops::Deref for CurrentUser {
    type Target = Person;
    fn deref(&self) -> &Person {
        &self.person
    }
}

/// Starts a session; returns (the session secret, the `Set-Cookie` header value).
pub async fn start_session(
    state: &AppState,
    user: &User,
    secure: bool,
) -> Result<(String, String), ApiError> {
    let session = state.start_session(user).await?;
    let cookie = session_cookie(&session.secret, SESSION_HOURS * 3600, secure);
    Ok((session.secret, cookie))
}

pub fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request came over TLS (directly configured, or said by the proxy).
pub fn is_secure(state: &AppState, parts_headers: &axum::http::HeaderMap) -> bool {
    state.http.secure_cookies
        || parts_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https")
}

pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

/// The user of the request's session cookie: `Ok(None)` when there is no live session, an
/// error when the store cannot tell (an outage must not read as "logged out").
pub async fn session_user(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<CurrentUser>, redress_app::AppError> {
    let Some(id) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state.session(&id).await?.map(|s| CurrentUser {
        person: s.person,
        csrf: Some(s.csrf),
        session_expires: Some(s.expires_at),
    }))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let text = auth.to_str().map_err(|_| ApiError::Unauthenticated)?;
            let token = text
                .strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .ok_or(ApiError::Unauthenticated)?;
            return Ok(CurrentUser {
                person: state.person_by_token(token).await?,
                csrf: None,
                session_expires: None,
            });
        }
        let current = session_user(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        // Cookie-authenticated changes must prove they come from our own pages.
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let header_token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            let same_site = parts
                .headers
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                == Some("same-origin");
            if header_token != current.csrf.as_deref() && !same_site {
                return Err(ApiError::Forbidden);
            }
        }
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_parsing() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; redress_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert!(session_cookie("x", 10, true).contains("; Secure"));
        assert!(session_cookie("x", 10, false).contains("HttpOnly; SameSite=Lax"));
    }
}
