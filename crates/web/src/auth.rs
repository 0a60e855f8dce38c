//! Who is calling: API tokens (`Authorization: Bearer rdr_...`, stored as SHA-256) and session
//! cookies (HttpOnly, SameSite=Lax, Secure behind TLS). Passwords are Argon2id, verified only
//! at login, with per-account throttling kept in the database so every node agrees.

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use jiff::{SignedDuration, Timestamp};
use redress_domain::audit::sha256_hex;
use redress_domain::records::User;
use redress_domain::{Permission, Role};
use redress_store::{Actor, LoginThrottle, Scope, StoreError, Throttle};

pub const SESSION_COOKIE: &str = "redress_session";
pub const SESSION_HOURS: i64 = 8;
/// Failed logins of one username from one address before that pair is locked for a while.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// Failed logins from one address, whatever the username, before the address is locked.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: i64 = 20;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// Set when authenticated by session cookie: the form/CSRF token of that session.
    pub csrf: Option<String>,
    /// When the session ends, unless extended.
    pub session_expires: Option<Timestamp>,
}

impl CurrentUser {
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.user.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }
    /// Who this user is as an audience of a case (what the role may see of it).
    pub fn audience(&self) -> redress_domain::view::Audience {
        redress_domain::view::Audience::of(self.user.role, self.user.company_id)
    }
    pub fn scope(&self) -> Scope {
        if self.user.role == Role::Company {
            // A company user with no company sees nothing: id 0 never exists.
            Scope {
                company_id: Some(self.user.company_id.unwrap_or(0)),
            }
        } else {
            Scope::default()
        }
    }
}

/// Random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    Ok(hex::encode(buf))
}

/// A new API token: `rdr_` and 64 hex characters (32 random bytes). Returns (token, hash).
pub fn new_token() -> Result<(String, String), ApiError> {
    let token = format!("rdr_{}", random_hex(32)?);
    let hash = sha256_hex(token.as_bytes());
    Ok((token, hash))
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hash: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Password rules: 12 to 256 characters.
pub fn check_password_rules(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < 12 {
        return Err(ApiError::field(
            "password",
            "too_short",
            "Use at least 12 characters.",
        ));
    }
    if n > 256 {
        return Err(ApiError::field(
            "password",
            "too_long",
            "Use at most 256 characters.",
        ));
    }
    Ok(())
}

/// A hash checked against when the user does not exist, so timing does not reveal it.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1H6H3jvpQy2mtOuVOhP4Hm6xIcE4Q7fI3I9M1dEJ8uE";

/// Checks a username and password, applying the lockout. Returns the user on success.
/// Whether login asks for the one-time code of users who turned two-step login on.
#[derive(Debug, Clone, Copy)]
pub enum SecondStep<'a> {
    /// A login: the code typed, if any.
    Code(Option<&'a str>),
    /// Re-checking the password of someone already signed in.
    Skip,
}

pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    second: SecondStep<'_>,
    address: std::net::IpAddr,
) -> Result<User, ApiError> {
    let now = state.clock.now();
    // Failures are counted for the name as typed, whether or not it exists, so a lockout tells
    // nothing about which names are real; and for the pair with the address, so nobody
    // elsewhere can lock a user out.
    let key: String = username
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let addr = address.to_string();
    let throttle = fresh(state.store.login_throttle(&key, &addr).await?, now);
    let locked = [throttle.pair.locked_until, throttle.address.locked_until]
        .into_iter()
        .flatten()
        .filter(|until| *until > now)
        .max();
    if let Some(until) = locked {
        // Attempts made while locked are audited (on the account's chain when there is one).
        let chain = match credentials_of(state, username).await {
            Ok(c) => format!("user:{}", c.user.username),
            Err(StoreError::NotFound) => "logins".to_string(),
            Err(e) => return Err(e.into()),
        };
        let detail = serde_json::json!({
            "username": key, "address": addr, "locked_until": until.to_string(),
        })
        .to_string();
        let anonymous = Actor {
            user_id: None,
            username: "anonymous".into(),
        };
        state
            .store
            .audit(
                &anonymous,
                &chain,
                "user.login_locked",
                &chain,
                &detail,
                now,
            )
            .await?;
        let secs = until.duration_since(now).as_secs().max(1) as u64;
        return Err(ApiError::RateLimited {
            retry_after_secs: secs,
        });
    }
    let creds = match credentials_of(state, username).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let ok = match creds
        .as_ref()
        .and_then(|c| c.password_hash.clone().filter(|_| c.user.active))
    {
        Some(h) => {
            let pw = password.to_string();
            tokio::task::spawn_blocking(move || verify_password(&pw, &h))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
        }
        None => {
            // The same work as a real check, so timing does not tell either.
            let pw = password.to_string();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, DUMMY_HASH)).await;
            false
        }
    };
    let creds = match creds {
        Some(c) if ok => c,
        known => {
            let next = LoginThrottle {
                pair: failed(throttle.pair, MAX_FAILED_LOGINS, now),
                address: failed(throttle.address, MAX_FAILED_LOGINS_PER_ADDRESS, now),
            };
            state
                .store
                .set_login_throttle(&key, &addr, &next, now)
                .await?;
            if let Some(c) = known {
                state
                    .store
                    .record_login(c.user.id, false, None, now)
                    .await?;
            }
            return Err(ApiError::Unauthenticated);
        }
    };
    // The second step, for users who turned it on.
    let second_ok = match (&creds.totp_secret, second) {
        (Some(secret), SecondStep::Code(code)) => {
            let secret = redress_domain::totp::base32_decode(secret).unwrap_or_default();
            match code.and_then(|c| {
                redress_domain::totp::verify(&secret, c, now.as_second(), creds.totp_last_step)
            }) {
                Some(step) => state.store.use_totp_step(creds.user.id, step).await?,
                None => false,
            }
        }
        _ => true,
    };
    if !second_ok {
        state
            .store
            .record_login(creds.user.id, false, None, now)
            .await?;
        return Err(ApiError::SecondFactorRequired);
    }
    state.store.clear_login_throttle(&key, &addr).await?;
    state
        .store
        .record_login(creds.user.id, true, None, now)
        .await?;
    Ok(creds.user)
}

/// The account a typed username names. The one text rule holds before the store: a username
/// with control characters names no one.
async fn credentials_of(
    state: &AppState,
    username: &str,
) -> Result<redress_store::Credentials, StoreError> {
    if redress_domain::validate::is_clean_text(username, false) {
        state.store.credentials(username).await
    } else {
        Err(StoreError::NotFound)
    }
}

/// Failures older than a day are forgotten.
fn fresh(mut t: LoginThrottle, now: Timestamp) -> LoginThrottle {
    for row in [&mut t.pair, &mut t.address] {
        if row
            .last_failed_at
            .is_some_and(|at| now.duration_since(at) > SignedDuration::from_hours(24))
        {
            *row = Throttle::default();
        }
    }
    t
}

/// One more failure: from the `allowed`-th on, a lock of one minute, doubling with each
/// further failure, at most a day.
fn failed(t: Throttle, allowed: i64, now: Timestamp) -> Throttle {
    let failures = t.failures + 1;
    let locked_until = (failures >= allowed).then(|| {
        let minutes = 1i64 << (failures - allowed).min(10);
        now + SignedDuration::from_mins(minutes.min(24 * 60))
    });
    Throttle {
        failures,
        locked_until,
        last_failed_at: Some(now),
    }
}

/// Starts a session; returns (cookie value, Set-Cookie header value).
pub async fn start_session(
    state: &AppState,
    user: &User,
    secure: bool,
) -> Result<(String, String), ApiError> {
    let id = random_hex(32)?;
    let csrf = random_hex(16)?;
    let now = state.clock.now();
    let expires = now + SignedDuration::from_hours(SESSION_HOURS);
    state
        .store
        .create_session(&sha256_hex(id.as_bytes()), user.id, &csrf, now, expires)
        .await?;
    Ok((
        id.clone(),
        session_cookie(&id, SESSION_HOURS * 3600, secure),
    ))
}

pub fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request came over TLS (directly configured, or said by the proxy).
pub fn is_secure(state: &AppState, parts_headers: &axum::http::HeaderMap) -> bool {
    state.settings.secure_cookies
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
    now: Timestamp,
) -> Result<Option<CurrentUser>, StoreError> {
    let Some(id) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    match state.store.session(&sha256_hex(id.as_bytes()), now).await {
        Ok(s) => Ok(Some(CurrentUser {
            user: s.user,
            csrf: Some(s.csrf),
            session_expires: Some(s.expires_at),
        })),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
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
            let token = token.trim();
            if !token.starts_with("rdr_") || token.len() != 68 {
                return Err(ApiError::Unauthenticated);
            }
            return match state
                .store
                .user_by_token(&sha256_hex(token.as_bytes()))
                .await
            {
                Ok(user) => Ok(CurrentUser {
                    user,
                    csrf: None,
                    session_expires: None,
                }),
                Err(StoreError::NotFound) => Err(ApiError::Unauthenticated),
                Err(e) => Err(e.into()),
            };
        }
        let now = state.clock.now();
        let current = session_user(state, &parts.headers, now)
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
    fn tokens_are_long_and_distinct() {
        let (a, ha) = new_token().expect("token");
        let (b, _) = new_token().expect("token");
        assert_eq!(a.len(), 68);
        assert!(a.starts_with("rdr_"));
        assert_ne!(a, b);
        assert_eq!(ha, sha256_hex(a.as_bytes()));
    }

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", DUMMY_HASH));
    }

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
