//! Staff and company users: their accounts, credentials, two-step login, the login
//! throttle, API tokens and browser sessions.

use crate::audit::append_audit;
use crate::queries as q;
use crate::rows::{instant, micros, word};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::Role;
use redress_domain::records::*;

/// What an administrator may change about a user: everything but the user name (the whole set
/// replaces what is on file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub company_id: Option<i64>,
    pub email: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub company_id: Option<i64>,
    pub password_hash: Option<String>,
    /// Where deadline notices go.
    pub email: Option<String>,
}

/// Failed logins counted for one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttle {
    pub failures: i64,
    pub locked_until: Option<Timestamp>,
    pub last_failed_at: Option<Timestamp>,
}

/// The counts that decide whether a login may be tried: the username (as typed) from this
/// address, and this address over every username.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginThrottle {
    pub pair: Throttle,
    pub address: Throttle,
}

/// A live browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// A user as needed to log in.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
    /// Base32 TOTP secret when the user turned on two-step login.
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
}

/// Users and how they prove who they are: passwords, two-step login, the login throttle,
/// API tokens and browser sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    async fn create_user(&self, actor: &Actor, user: &NewUser, at: Timestamp) -> Result<User>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Changes a user, audited with each changed field's old and new value; a user made
    /// inactive loses every session at once.
    async fn change_user(
        &self,
        actor: &Actor,
        id: i64,
        change: &UserChange,
        at: Timestamp,
    ) -> Result<User>;
    /// A user's email address, if they have one.
    async fn user_email(&self, id: i64) -> Result<Option<String>>;
    async fn user(&self, id: i64) -> Result<User>;
    async fn credentials(&self, username: &str) -> Result<Credentials>;
    /// Turns two-step login on (a secret) or off (`None`).
    async fn set_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        secret: Option<&str>,
        at: Timestamp,
    ) -> Result<()>;
    /// Spends a TOTP time step; false when it was spent already.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool>;
    /// Failed logins of a username (as typed) from an address, and of the address over every
    /// username (`*`).
    async fn login_throttle(&self, username: &str, address: &str) -> Result<LoginThrottle>;
    /// Records a failed login's counts and locks for the pair and for the address.
    async fn set_login_throttle(
        &self,
        username: &str,
        address: &str,
        throttle: &LoginThrottle,
        at: Timestamp,
    ) -> Result<()>;
    /// A successful login clears the pair's count (the address's stays).
    async fn clear_login_throttle(&self, username: &str, address: &str) -> Result<()>;
    /// Sets a new password hash and ends every session of the user (in one transaction).
    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<()>;
    async fn record_login(
        &self,
        user_id: i64,
        ok: bool,
        locked_until: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<()>;
    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<ApiToken>;
    async fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    async fn revoke_token(
        &self,
        actor: &Actor,
        user_id: i64,
        token_id: i64,
        at: Timestamp,
    ) -> Result<()>;
    /// The active user behind a token hash.
    async fn user_by_token(&self, token_hash: &str) -> Result<User>;
    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// The user and CSRF token of a live session.
    async fn session(&self, id_hash: &str, now: Timestamp) -> Result<Session>;
    /// Moves a live session's end to `until`.
    async fn extend_session(&self, id_hash: &str, until: Timestamp, now: Timestamp) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
}

fn user_from(r: &Row) -> Result<User> {
    Ok(User {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: word(&r.text("role")?)?,
        unit: r.opt_text("unit_code")?,
        company_id: r.opt_int("company_id")?,
        active: r.bool("active")?,
        created_at: instant(r.int("created_at")?)?,
    })
}

async fn user_by_id(tx: &mut dyn Tx, id: i64) -> Result<User> {
    user_from(&tx.one(q::USER, args![id]).await?)
}

/// Accounts, for any engine.
#[async_trait]
impl<E: Engine> Accounts for E {
    async fn change_user(
        &self,
        actor: &Actor,
        id: i64,
        c: &UserChange,
        at: Timestamp,
    ) -> Result<User> {
        let (actor, c) = (actor.clone(), c.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let before = user_by_id(tx, id).await?;
                let email_before = tx.one(q::USER_EMAIL, args![id]).await?.opt_text("email")?;
                let unit_before = tx
                    .optional(q::UNIT_ID_OF_USER, args![id])
                    .await?
                    .and_then(|r| r.opt_int("unit_id").ok().flatten());
                tx.execute(
                    q::UPDATE_USER,
                    args![
                        id,
                        c.display_name.as_str(),
                        c.role.as_str(),
                        c.unit_id,
                        c.company_id,
                        &c.email,
                        c.active
                    ],
                )
                .await?;
                let mut changes = serde_json::Map::new();
                let mut note = |k: &str, from: serde_json::Value, to: serde_json::Value| {
                    if from != to {
                        changes.insert(k.into(), serde_json::json!({"from": from, "to": to}));
                    }
                };
                note(
                    "display_name",
                    before.display_name.clone().into(),
                    c.display_name.clone().into(),
                );
                note("role", before.role.as_str().into(), c.role.as_str().into());
                note("unit_id", unit_before.into(), c.unit_id.into());
                note("company_id", before.company_id.into(), c.company_id.into());
                note("email", email_before.into(), c.email.clone().into());
                note("active", before.active.into(), c.active.into());
                let ended = if c.active {
                    0
                } else {
                    tx.execute(q::DELETE_USER_SESSIONS, args![id]).await?
                };
                let chain = format!("user:{}", before.username);
                let detail =
                    serde_json::json!({"changes": changes, "sessions_ended": ended}).to_string();
                append_audit(tx, &actor, &chain, "user.update", &chain, &detail, at).await?;
                user_by_id(tx, id).await
            })
        }))
        .await
    }

    async fn user_email(&self, id: i64) -> Result<Option<String>> {
        self.read(job(move |tx| {
            Box::pin(async move { tx.one(q::USER_EMAIL, args![id]).await?.opt_text("email") })
        }))
        .await
    }

    async fn create_user(&self, actor: &Actor, u: &NewUser, at: Timestamp) -> Result<User> {
        let (actor, u) = (actor.clone(), u.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = tx
                    .one(q::INSERT_USER, args![&u.username, &u.display_name, u.role.as_str(), u.unit_id, u.company_id, &u.password_hash, true, micros(at), &u.email])
                    .await?
                    .int("id")?;
                let detail = serde_json::json!({"role": u.role.as_str(), "unit_id": u.unit_id, "company_id": u.company_id}).to_string();
                let chain = format!("user:{}", u.username);
                append_audit(tx, &actor, &chain, "user.create", &chain, &detail, at).await?;
                user_by_id(tx, id).await
            })
        }))
        .await
    }

    async fn users(&self) -> Result<Vec<User>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::USERS, args![])
                    .await?
                    .iter()
                    .map(user_from)
                    .collect()
            })
        }))
        .await
    }

    async fn user(&self, id: i64) -> Result<User> {
        self.read(job(move |tx| {
            Box::pin(async move { user_by_id(tx, id).await })
        }))
        .await
    }

    async fn credentials(&self, username: &str) -> Result<Credentials> {
        let username = username.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                let r = tx.one(q::CREDENTIALS, args![username]).await?;
                let user = user_by_id(tx, r.int("id")?).await?;
                Ok(Credentials {
                    user,
                    password_hash: r.opt_text("password_hash")?,
                    failed_logins: r.int("failed_logins")?,
                    locked_until: r.opt_int("locked_until")?.map(instant).transpose()?,
                    totp_secret: r.opt_text("totp_secret")?,
                    totp_last_step: r.opt_int("totp_last_step")?,
                })
            })
        }))
        .await
    }

    async fn set_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        secret: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, secret) = (actor.clone(), secret.map(str::to_string));
        self.write(job(move |tx| {
            Box::pin(async move {
                let user = user_by_id(tx, user_id).await?;
                let on = secret.is_some();
                tx.execute(q::SET_TOTP, args![user_id, secret]).await?;
                let chain = format!("user:{}", user.username);
                append_audit(
                    tx,
                    &actor,
                    &chain,
                    if on { "user.totp.on" } else { "user.totp.off" },
                    &chain,
                    "{}",
                    at,
                )
                .await
            })
        }))
        .await
    }

    async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        self.write(job(move |tx| {
            Box::pin(
                async move { Ok(tx.execute(q::USE_TOTP_STEP, args![user_id, step]).await? == 1) },
            )
        }))
        .await
    }

    async fn login_throttle(&self, username: &str, address: &str) -> Result<LoginThrottle> {
        let (username, address) = (username.to_string(), address.to_string());
        self.read(job(move |tx| {
            Box::pin(async move {
                let mut out = LoginThrottle::default();
                for (slot, who) in [(&mut out.pair, username.as_str()), (&mut out.address, "*")] {
                    if let Some(r) = tx
                        .optional(q::LOGIN_THROTTLE, args![who, address.as_str()])
                        .await?
                    {
                        *slot = Throttle {
                            failures: r.int("failures")?,
                            locked_until: r.opt_int("locked_until")?.map(instant).transpose()?,
                            last_failed_at: Some(instant(r.int("last_failed_at")?)?),
                        };
                    }
                }
                Ok(out)
            })
        }))
        .await
    }

    async fn set_login_throttle(
        &self,
        username: &str,
        address: &str,
        throttle: &LoginThrottle,
        at: Timestamp,
    ) -> Result<()> {
        let (username, address, t) = (username.to_string(), address.to_string(), *throttle);
        self.write(job(move |tx| {
            Box::pin(async move {
                for (who, row) in [(username.as_str(), t.pair), ("*", t.address)] {
                    tx.execute(
                        q::SET_LOGIN_THROTTLE,
                        args![
                            who,
                            address.as_str(),
                            row.failures,
                            row.locked_until.map(micros),
                            micros(at)
                        ],
                    )
                    .await?;
                }
                Ok(())
            })
        }))
        .await
    }

    async fn clear_login_throttle(&self, username: &str, address: &str) -> Result<()> {
        let (username, address) = (username.to_string(), address.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(q::CLEAR_LOGIN_THROTTLE, args![username, address])
                    .await
                    .map(|_| ())
            })
        }))
        .await
    }

    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        hash: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, hash) = (actor.clone(), hash.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let user = user_by_id(tx, user_id).await?;
                tx.execute(q::SET_PASSWORD, args![user_id, hash]).await?;
                // Whoever held a session with the old password holds nothing now.
                let ended = tx.execute(q::DELETE_USER_SESSIONS, args![user_id]).await?;
                let chain = format!("user:{}", user.username);
                let detail = serde_json::json!({"sessions_ended": ended}).to_string();
                append_audit(tx, &actor, &chain, "user.password", &chain, &detail, at).await
            })
        }))
        .await
    }

    async fn record_login(
        &self,
        user_id: i64,
        ok: bool,
        locked_until: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<()> {
        self.write(job(move |tx| {
            Box::pin(async move {
                let user = user_by_id(tx, user_id).await?;
                if ok {
                    tx.execute(q::LOGIN_OK, args![user_id]).await?;
                } else {
                    tx.execute(q::LOGIN_FAILED, args![user_id, locked_until.map(micros)])
                        .await?;
                }
                let chain = format!("user:{}", user.username);
                let action = if ok {
                    "user.login"
                } else {
                    "user.login_failed"
                };
                append_audit(tx, &Actor::user(&user), &chain, action, &chain, "{}", at).await
            })
        }))
        .await
    }

    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<ApiToken> {
        let (actor, name, token_hash) = (actor.clone(), name.to_string(), token_hash.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let user = user_by_id(tx, user_id).await?;
                let id = tx
                    .one(
                        q::INSERT_TOKEN,
                        args![user_id, &name, token_hash, micros(at)],
                    )
                    .await?
                    .int("id")?;
                let chain = format!("user:{}", user.username);
                append_audit(
                    tx,
                    &actor,
                    &chain,
                    "token.create",
                    &chain,
                    &serde_json::json!({"token_id": id, "name": name}).to_string(),
                    at,
                )
                .await?;
                Ok(ApiToken {
                    id,
                    name,
                    created_at: at,
                    revoked_at: None,
                })
            })
        }))
        .await
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::TOKENS, args![user_id])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(ApiToken {
                            id: r.int("id")?,
                            name: r.text("name")?,
                            created_at: instant(r.int("created_at")?)?,
                            revoked_at: r.opt_int("revoked_at")?.map(instant).transpose()?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn revoke_token(
        &self,
        actor: &Actor,
        user_id: i64,
        token_id: i64,
        at: Timestamp,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                let user = user_by_id(tx, user_id).await?;
                if tx
                    .execute(q::REVOKE_TOKEN, args![token_id, user_id, micros(at)])
                    .await?
                    == 0
                {
                    return Err(StoreError::NotFound);
                }
                let chain = format!("user:{}", user.username);
                append_audit(
                    tx,
                    &actor,
                    &chain,
                    "token.revoke",
                    &chain,
                    &serde_json::json!({"token_id": token_id}).to_string(),
                    at,
                )
                .await
            })
        }))
        .await
    }

    async fn user_by_token(&self, token_hash: &str) -> Result<User> {
        let token_hash = token_hash.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { user_from(&tx.one(q::USER_BY_TOKEN, args![token_hash]).await?) })
        }))
        .await
    }

    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let (id_hash, csrf) = (id_hash.to_string(), csrf.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(
                    q::INSERT_SESSION,
                    args![id_hash, user_id, csrf, micros(at), micros(expires_at)],
                )
                .await
                .map(|_| ())
            })
        }))
        .await
    }

    async fn session(&self, id_hash: &str, now: Timestamp) -> Result<Session> {
        let id_hash = id_hash.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                let r = tx.one(q::SESSION, args![id_hash, micros(now)]).await?;
                Ok(Session {
                    user: user_by_id(tx, r.int("user_id")?).await?,
                    csrf: r.text("csrf_token")?,
                    expires_at: instant(r.int("expires_at")?)?,
                })
            })
        }))
        .await
    }

    async fn extend_session(&self, id_hash: &str, until: Timestamp, now: Timestamp) -> Result<()> {
        let id_hash = id_hash.to_string();
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx
                    .execute(
                        q::EXTEND_SESSION,
                        args![id_hash, micros(until), micros(now)],
                    )
                    .await?
                    == 0
                {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
        }))
        .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let id_hash = id_hash.to_string();
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(q::DELETE_SESSION, args![id_hash])
                    .await
                    .map(|_| ())
            })
        }))
        .await
    }
}
