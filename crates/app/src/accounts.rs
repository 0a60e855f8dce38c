//! Accounts: passwords (Argon2id, verified only at sign-in), API tokens (`rdr_` and 64 hex
//! characters, stored as SHA-256), username rules, sign-in with per-account and per-address
//! throttling kept in the store (so every node agrees), and sessions.

use crate::{App, AppError, AppResult, Person};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::{SignedDuration, Timestamp};
use redress_domain::audit::sha256_hex;
use redress_domain::records::User;
use redress_domain::validate::FieldErrors;
use redress_store::{Actor, LoginThrottle, StoreError, Throttle};

/// How long a session lasts unless extended.
pub const SESSION_HOURS: i64 = 8;
/// Failed logins of one username from one address before that pair is locked for a while.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// Failed logins from one address, whatever the username, before the address is locked.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: i64 = 20;

/// Usernames: 2 to 64 characters, lowercase letters, digits, `.`, `-` and `_`.
pub fn valid_username(u: &str) -> bool {
    (2..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
}

/// Random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(hex::encode(buf))
}

/// A new API token: `rdr_` and 64 hex characters (32 random bytes). Returns (token, hash).
pub fn new_token() -> Result<(String, String), AppError> {
    let token = format!("rdr_{}", random_hex(32)?);
    let hash = sha256_hex(token.as_bytes());
    Ok((token, hash))
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hash: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Password rules: 12 to 256 characters.
pub fn check_password_rules(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < 12 {
        return Err(AppError::field(
            "password",
            "too_short",
            "Use at least 12 characters.",
        ));
    }
    if n > 256 {
        return Err(AppError::field(
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
    app: &App,
    username: &str,
    password: &str,
    second: SecondStep<'_>,
    address: std::net::IpAddr,
) -> Result<User, AppError> {
    let now = app.clock.now();
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
    let throttle = fresh(app.store.login_throttle(&key, &addr).await?, now);
    let locked = [throttle.pair.locked_until, throttle.address.locked_until]
        .into_iter()
        .flatten()
        .filter(|until| *until > now)
        .max();
    if let Some(until) = locked {
        // Attempts made while locked are audited (on the account's chain when there is one).
        let chain = match credentials_of(app, username).await {
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
        app.store
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
        return Err(AppError::RateLimited {
            retry_after_secs: secs,
        });
    }
    let creds = match credentials_of(app, username).await {
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
                .map_err(|e| AppError::Internal(e.to_string()))?
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
            app.store
                .set_login_throttle(&key, &addr, &next, now)
                .await?;
            if let Some(c) = known {
                app.store.record_login(c.user.id, false, None, now).await?;
            }
            return Err(AppError::Unauthenticated);
        }
    };
    // The second step, for users who turned it on.
    let second_ok = match (&creds.totp_secret, second) {
        (Some(secret), SecondStep::Code(code)) => {
            let secret = redress_domain::totp::base32_decode(secret).unwrap_or_default();
            match code.and_then(|c| {
                redress_domain::totp::verify(&secret, c, now.as_second(), creds.totp_last_step)
            }) {
                Some(step) => app.store.use_totp_step(creds.user.id, step).await?,
                None => false,
            }
        }
        _ => true,
    };
    if !second_ok {
        app.store
            .record_login(creds.user.id, false, None, now)
            .await?;
        return Err(AppError::SecondFactorRequired);
    }
    app.store.clear_login_throttle(&key, &addr).await?;
    app.store
        .record_login(creds.user.id, true, None, now)
        .await?;
    Ok(creds.user)
}

/// The account a typed username names. The one text rule holds before the store: a username
/// with control characters names no one.
async fn credentials_of(
    app: &App,
    username: &str,
) -> Result<redress_store::Credentials, StoreError> {
    if redress_domain::validate::is_clean_text(username, false) {
        app.store.credentials(username).await
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

/// A session just started: the secret for the browser and its form (CSRF) token.
pub struct NewSession {
    pub secret: String,
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// A live session and who it belongs to.
pub struct LiveSession {
    pub person: Person,
    pub csrf: String,
    pub expires_at: Timestamp,
}

impl App {
    /// Starts a session for a person who has just signed in.
    pub async fn start_session(&self, user: &User) -> AppResult<NewSession> {
        let secret = random_hex(32)?;
        let csrf = random_hex(16)?;
        let now = self.clock.now();
        let expires_at = now + SignedDuration::from_hours(SESSION_HOURS);
        self.store
            .create_session(
                &sha256_hex(secret.as_bytes()),
                user.id,
                &csrf,
                now,
                expires_at,
            )
            .await?;
        Ok(NewSession {
            secret,
            csrf,
            expires_at,
        })
    }

    /// The session a secret names: `Ok(None)` when there is no live session, an error when the
    /// store cannot tell (an outage must not read as "signed out").
    pub async fn session(&self, secret: &str) -> AppResult<Option<LiveSession>> {
        match self
            .store
            .session(&sha256_hex(secret.as_bytes()), self.clock.now())
            .await
        {
            Ok(s) => Ok(Some(LiveSession {
                person: Person::new(s.user),
                csrf: s.csrf,
                expires_at: s.expires_at,
            })),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps a session alive until `until`.
    pub async fn extend_session(&self, secret: &str, until: Timestamp) -> AppResult<()> {
        Ok(self
            .store
            .extend_session(&sha256_hex(secret.as_bytes()), until, self.clock.now())
            .await?)
    }

    /// Ends a session.
    pub async fn end_session(&self, secret: &str) -> AppResult<()> {
        Ok(self
            .store
            .delete_session(&sha256_hex(secret.as_bytes()))
            .await?)
    }

    /// The person an API token belongs to; `Unauthenticated` for a token that is malformed,
    /// unknown, revoked, or whose owner is inactive.
    pub async fn person_by_token(&self, token: &str) -> AppResult<Person> {
        let token = token.trim();
        if !token.starts_with("rdr_") || token.len() != 68 {
            return Err(AppError::Unauthenticated);
        }
        match self
            .store
            .user_by_token(&sha256_hex(token.as_bytes()))
            .await
        {
            Ok(user) => Ok(Person::new(user)),
            Err(StoreError::NotFound) => Err(AppError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a username and password (and the one-time code of those who turned two-step
    /// sign-in on), applying the lockout.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        second: SecondStep<'_>,
        address: std::net::IpAddr,
    ) -> AppResult<User> {
        login(self, username, password, second, address).await
    }
}

/// Bytes in a two-step sign-in secret (160 bits, as RFC 4226 recommends).
pub const TOTP_SECRET_BYTES: usize = 20;

/// The person's two-step sign-in as the account page shows it.
pub struct TotpSetup {
    /// Whether two-step sign-in is on.
    pub enabled: bool,
    /// A secret to turn it on with (Base32), shown to be typed or scanned.
    pub secret: String,
    /// The same secret as an authenticator app's `otpauth://` link.
    pub otpauth: String,
}

/// A password change as typed.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// The new password typed again.
    pub confirm: &'a str,
}

/// Whether a Base32 text is a two-step sign-in secret of the right length.
pub fn is_totp_secret(secret: &str) -> bool {
    redress_domain::totp::base32_decode(secret).is_some_and(|b| b.len() == TOTP_SECRET_BYTES)
}

/// A new two-step sign-in secret, in Base32.
pub fn new_totp_secret() -> AppResult<String> {
    let mut bytes = [0u8; TOTP_SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(redress_domain::totp::base32_encode(&bytes))
}

/// The link an authenticator app reads (usually as a QR code) to add a secret.
pub fn otpauth_uri(username: &str, secret: &str) -> String {
    format!("otpauth://totp/Redress:{username}?secret={secret}&issuer=Redress")
}

/// The rules a new password must meet, and the confirmation: each problem named by its field
/// (`new_password`, `confirm_password`).
pub fn check_new_password(new: &str, confirm: &str) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    if let Err(AppError::Validation(e)) = check_password_rules(new) {
        for err in e.0 {
            errors.push("new_password", &err.code, err.message);
        }
    }
    if new != confirm {
        errors.push(
            "confirm_password",
            "password_mismatch",
            "The two new passwords are not the same.",
        );
    }
    AppError::unless_empty(errors)
}

impl App {
    /// Checks the password of someone already signed in (before a change to their account),
    /// like a sign-in: failures count towards the lockout. A wrong password, or a locked
    /// account, is a problem with `field`.
    pub async fn recheck_password(
        &self,
        person: &Person,
        password: &str,
        field: &str,
        address: std::net::IpAddr,
    ) -> AppResult<()> {
        match self
            .login(&person.user.username, password, SecondStep::Skip, address)
            .await
        {
            Ok(_) => Ok(()),
            Err(AppError::Unauthenticated) | Err(AppError::RateLimited { .. }) => {
                Err(AppError::field(
                    field,
                    "password_wrong",
                    "The current password is not right.",
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Changes the person's own password: the new one must meet the rules and be typed twice
    /// alike, and the current one is checked like a sign-in. Every session of the person ends
    /// (the caller starts a new one).
    pub async fn change_password(
        &self,
        person: &Person,
        change: PasswordChange<'_>,
        address: std::net::IpAddr,
    ) -> AppResult<()> {
        check_new_password(change.new, change.confirm)?;
        self.recheck_password(person, change.current, "current_password", address)
            .await?;
        let new = change.new.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&new))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(self
            .store
            .set_password(&person.actor(), person.user.id, &hash, self.clock.now())
            .await?)
    }

    /// Whether the person's two-step sign-in is on, and a secret to turn it on with: `offered`
    /// when it is one (the secret the person was already shown), else a new one.
    pub async fn totp_setup(&self, person: &Person, offered: Option<&str>) -> AppResult<TotpSetup> {
        let enabled = self
            .store
            .credentials(&person.user.username)
            .await?
            .totp_secret
            .is_some();
        let secret = match offered.filter(|s| is_totp_secret(s)) {
            Some(s) => s.to_string(),
            None => new_totp_secret()?,
        };
        Ok(TotpSetup {
            enabled,
            otpauth: otpauth_uri(&person.user.username, &secret),
            secret,
        })
    }

    /// Turns two-step sign-in on with a secret and a code the person's app shows for it; the
    /// code is spent. A wrong code (or secret) is a problem with `totp_code`.
    pub async fn turn_totp_on(&self, person: &Person, secret: &str, code: &str) -> AppResult<()> {
        let now = self.clock.now();
        let step = redress_domain::totp::base32_decode(secret)
            .filter(|b| b.len() == TOTP_SECRET_BYTES)
            .and_then(|b| redress_domain::totp::verify(&b, code, now.as_second(), None));
        let Some(step) = step else {
            return Err(AppError::field(
                "totp_code",
                "code_wrong",
                "That code is not right.",
            ));
        };
        self.store
            .set_totp(&person.actor(), person.user.id, Some(secret), now)
            .await?;
        // The code used to turn it on is spent.
        self.store.use_totp_step(person.user.id, step).await?;
        Ok(())
    }

    /// Turns two-step sign-in off once the person's password is checked (a wrong one is a
    /// problem with `totp_password`).
    pub async fn turn_totp_off(
        &self,
        person: &Person,
        password: &str,
        address: std::net::IpAddr,
    ) -> AppResult<()> {
        self.recheck_password(person, password, "totp_password", address)
            .await?;
        Ok(self
            .store
            .set_totp(&person.actor(), person.user.id, None, self.clock.now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, ha) = new_token().expect("token");
        let (b, _) = new_token().expect("token");
        assert!(a.starts_with("rdr_") && a.len() == 68);
        assert_ne!(a, b);
        assert_eq!(ha, sha256_hex(a.as_bytes()));
    }

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn password_and_username_rules() {
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules("twelve chars").is_ok());
        assert!(check_password_rules(&"x".repeat(257)).is_err());
        assert!(valid_username("ana.perez"));
        assert!(!valid_username("Ana"));
        assert!(!valid_username("a"));
        assert!(!valid_username("ana perez"));
    }

    #[test]
    fn lockout_grows_and_is_forgotten() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
        let mut t = Throttle::default();
        for _ in 0..4 {
            t = failed(t, 5, now);
            assert!(t.locked_until.is_none());
        }
        t = failed(t, 5, now);
        assert_eq!(t.locked_until, Some(now + SignedDuration::from_mins(1)));
        t = failed(t, 5, now);
        assert_eq!(t.locked_until, Some(now + SignedDuration::from_mins(2)));
        let later = now + SignedDuration::from_hours(25);
        let fresh = fresh(
            LoginThrottle {
                pair: t,
                address: Throttle::default(),
            },
            later,
        );
        assert_eq!(fresh.pair.failures, 0);
    }

    #[test]
    fn a_new_password_is_checked_and_confirmed() {
        assert!(check_new_password("twelve chars", "twelve chars").is_ok());
        let Err(AppError::Validation(f)) = check_new_password("short", "shorter") else {
            panic!("refused");
        };
        assert_eq!(f.fields(), vec!["new_password", "confirm_password"]);
        assert_eq!(f.0[0].code, "too_short");
        assert_eq!(f.0[1].code, "password_mismatch");
    }

    #[test]
    fn totp_secrets() {
        let s = new_totp_secret().expect("secret");
        assert_eq!(s.len(), 32);
        assert!(is_totp_secret(&s));
        assert!(!is_totp_secret("ABCD"));
        assert!(!is_totp_secret("not base32!"));
        assert_eq!(
            otpauth_uri("ana", "ABC"),
            "otpauth://totp/Redress:ana?secret=ABC&issuer=Redress"
        );
    }
}
