//! Consumers, companies, units, categories, users, API tokens, sessions and the audit check.

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_domain::records::*;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::*;
use redress_store::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Find consumers by phone, email or account number (exactly one), so repeat contacts link
/// to the same person.
#[utoipa::path(get, path = "/consumers", tag = "consumers",
    params(("phone" = Option<String>, Query), ("email" = Option<String>, Query), ("account" = Option<String>, Query)),
    responses((status = 200, body = Vec<Consumer>)),
    security(("bearer" = [])))]
pub async fn find_consumers(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<Consumer>>> {
    user.require(Permission::ConsumerRead)?;
    let mut errors = FieldErrors::new();
    let lookup = match (q.get("phone"), q.get("email"), q.get("account")) {
        (Some(p), None, None) => v::phone(&mut errors, "phone", p).map(ConsumerLookup::Phone),
        (None, Some(e), None) => v::email(&mut errors, "email", e).map(ConsumerLookup::Email),
        (None, None, Some(a)) => {
            v::account_number(&mut errors, "account", a).map(ConsumerLookup::Account)
        }
        _ => {
            errors.push(
                "query",
                "one_lookup_required",
                "Give exactly one of phone, email or account.",
            );
            None
        }
    };
    let Some(lookup) = lookup else {
        return Err(ApiError::Validation(errors));
    };
    let found = state.store.find_consumers(&lookup, 20).await?;
    let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
    let detail =
        serde_json::json!({"lookup": format!("{lookup:?}").split('(').next(), "consumer_ids": ids})
            .to_string();
    state
        .store
        .audit(
            &user.actor(),
            &format!("user:{}", user.user.username),
            "consumer.search",
            "consumers",
            &detail,
            state.clock.now(),
        )
        .await?;
    Ok(Json(found))
}

/// One consumer's record (the view is audited).
#[utoipa::path(get, path = "/consumers/{id}", tag = "consumers", params(("id" = i64, Path)),
    responses((status = 200, body = Consumer), (status = 404, description = "No such consumer")),
    security(("bearer" = [])))]
pub async fn get_consumer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Consumer>> {
    user.require(Permission::ConsumerRead)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(
        state
            .store
            .view_consumer(&user.actor(), id, state.clock.now())
            .await?,
    ))
}

/// Other consumer records that share a phone number, an email address or an account number with
/// this one: possibly the same person. Only a person decides (see `/consumers/{id}/merge`).
/// The view is audited.
#[utoipa::path(get, path = "/consumers/{id}/duplicates", tag = "consumers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Consumer>), (status = 404, description = "No such consumer")),
    security(("bearer" = [])))]
pub async fn consumer_duplicates(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Consumer>>> {
    user.require(Permission::ConsumerRead)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(
        state
            .store
            .consumer_duplicates(&user.actor(), id, 20, state.clock.now())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeConsumerInput {
    /// The record to keep.
    pub into: i64,
}

/// Same person: merge this consumer record into another. The merged record keeps its own values
/// and points at the one kept; the kept record gains what it lacked and the account numbers; the
/// merged record's cases move to the kept one. Every step is audited.
#[utoipa::path(post, path = "/consumers/{id}/merge", tag = "consumers", params(("id" = i64, Path)),
    request_body = MergeConsumerInput,
    responses((status = 200, body = Consumer, description = "The record kept"),
              (status = 404, description = "No such consumer"),
              (status = 409, description = "One of the records was already merged"),
              (status = 422, description = "`into` names no consumer, or this one")),
    security(("bearer" = [])))]
pub async fn merge_consumer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: JsonBody<MergeConsumerInput>,
) -> ApiResult<Json<Consumer>> {
    user.require(Permission::ConsumerMerge)?;
    let from: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state.store.consumer(from).await?;
    let into = body.value.into;
    if into == from {
        return Err(ApiError::field(
            "into",
            "same_record",
            "Choose another record to keep.",
        ));
    }
    match state.store.consumer(into).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::field(
                "into",
                "unknown_consumer",
                "No such consumer; see /api/v1/consumers.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(
        state
            .store
            .merge_consumers(&user.actor(), from, into, state.clock.now())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub industry: String,
    #[schema(minimum = 0)]
    pub customer_count: Option<i64>,
}

/// Companies complained about, with their customer counts.
#[utoipa::path(get, path = "/companies", tag = "companies", responses((status = 200, body = Vec<Company>)), security(("bearer" = [])))]
pub async fn list_companies(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Company>>> {
    user.require(Permission::CompanyRead)?;
    let mut all = state.store.companies().await?;
    if let Some(id) = user.scope().company_id {
        all.retain(|c| c.id == id);
    }
    Ok(Json(all))
}

/// Add a company.
#[utoipa::path(post, path = "/companies", tag = "companies", request_body = NewCompany,
    responses((status = 201, body = Company), (status = 409, description = "Name taken")), security(("bearer" = [])))]
pub async fn create_company(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewCompany>,
) -> ApiResult<Response> {
    user.require(Permission::CompanyWrite)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    let name = v::required_text(&mut errors, "name", b.name.as_deref(), v::NAME_MAX);
    let industry =
        v::optional_text(&mut errors, "industry", Some(&b.industry), 100).unwrap_or_default();
    if b.customer_count.is_some_and(|n| n < 0) {
        errors.push("customer_count", "out_of_range", "Cannot be negative.");
    }
    let name = errors
        .finish(name)
        .map_err(ApiError::Validation)?
        .unwrap_or_default();
    let c = state
        .store
        .create_company(
            &user.actor(),
            &name,
            &industry,
            b.customer_count,
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// One company.
#[utoipa::path(get, path = "/companies/{id}", tag = "companies", params(("id" = i64, Path)),
    responses((status = 200, body = Company)), security(("bearer" = [])))]
pub async fn get_company(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Company>> {
    user.require(Permission::CompanyRead)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    if user.scope().company_id.is_some_and(|own| own != id) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(state.store.company(id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Letters, digits, `-` and `_`.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Office code; defaults to the server's office.
    pub office: Option<String>,
}

/// The office's units (call center, hotline, hearings...).
#[utoipa::path(get, path = "/units", tag = "reference data", responses((status = 200, body = Vec<Unit>)), security(("bearer" = [])))]
pub async fn list_units(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Unit>>> {
    user.require(Permission::ReferenceDataRead)?;
    Ok(Json(state.store.units().await?))
}

/// Add a unit.
#[utoipa::path(post, path = "/units", tag = "reference data", request_body = NewUnit, responses((status = 201, body = Unit)), security(("bearer" = [])))]
pub async fn create_unit(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewUnit>,
) -> ApiResult<Response> {
    user.require(Permission::ReferenceDataWrite)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    let code = v::required_text(&mut errors, "code", b.code.as_deref(), 32);
    if code.as_deref().is_some_and(|c| {
        !c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    }) {
        errors.push(
            "code",
            "invalid_characters",
            "Letters, digits, - and _ only.",
        );
    }
    let name = v::required_text(&mut errors, "name", b.name.as_deref(), v::NAME_MAX);
    let office = b.office.unwrap_or_else(|| state.office.code.clone());
    if v::lookup_key(&mut errors, "office", &office, 32).is_some()
        && state.store.office(&office).await.is_err()
    {
        errors.push("office", "unknown_office", "No such office.");
    }
    let (code, name) = errors
        .finish((code.unwrap_or_default(), name.unwrap_or_default()))
        .map_err(ApiError::Validation)?;
    let u = state
        .store
        .create_unit(&user.actor(), &code, &name, &office, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Names from the root down, e.g. `["Energy", "Electric", "Billing"]`; no name contains `>`.
    #[schema(min_items = 1, max_items = 6)]
    pub path: Vec<String>,
}

/// The category tree (industry > service > issue > sub-issue), as paths.
#[utoipa::path(get, path = "/categories", tag = "reference data", responses((status = 200, body = Vec<Category>)), security(("bearer" = [])))]
pub async fn list_categories(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Category>>> {
    user.require(Permission::ReferenceDataRead)?;
    Ok(Json(state.store.categories().await?))
}

/// Add a category path (missing levels are created).
#[utoipa::path(post, path = "/categories", tag = "reference data", request_body = NewCategory, responses((status = 201, body = Category)), security(("bearer" = [])))]
pub async fn create_category(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewCategory>,
) -> ApiResult<Response> {
    user.require(Permission::ReferenceDataWrite)?;
    let mut errors = FieldErrors::new();
    if body.value.path.is_empty() || body.value.path.len() > 6 {
        errors.push("path", "out_of_range", "From 1 to 6 levels.");
    }
    let names: Vec<String> = body
        .value
        .path
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let field = format!("path[{i}]");
            let t = v::required_text(&mut errors, &field, Some(n), 100)?;
            if t.contains('>') {
                errors.push(field, "invalid_characters", "Names cannot contain '>'.");
                return None;
            }
            Some(t)
        })
        .collect();
    let names = errors.finish(names).map_err(ApiError::Validation)?;
    let c = state
        .store
        .ensure_category_path(&user.actor(), &names, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Lower-case letters, digits, `.`, `-` and `_`.
    #[schema(value_type = String, required = true, min_length = 2, max_length = 64, pattern = "^[a-z0-9._-]{2,64}$")]
    pub username: Option<String>,
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    pub role: Role,
    pub unit: Option<String>,
    pub company_id: Option<i64>,
    /// 12 to 256 characters.
    #[schema(value_type = String, required = true, min_length = 12, max_length = 256)]
    pub password: Option<String>,
    /// Where deadline notices (due soon, missed) are sent.
    #[serde(default)]
    pub email: Option<String>,
}

/// Staff and company users.
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = Vec<User>)), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<User>>> {
    user.require(Permission::UserRead)?;
    Ok(Json(state.store.users().await?))
}

/// Add a user (admins).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUserInput, responses((status = 201, body = User), (status = 409, description = "Username taken")), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewUserInput>,
) -> ApiResult<Response> {
    user.require(Permission::UserWrite)?;
    let u = add_user(&state, &user.actor(), body.value).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

/// Validates and adds a user; shared by the API and the admin page.
pub(crate) async fn add_user(state: &AppState, actor: &Actor, b: NewUserInput) -> ApiResult<User> {
    let mut errors = FieldErrors::new();
    let username = v::required_text(&mut errors, "username", b.username.as_deref(), 64);
    if username.as_deref().is_some_and(|u| !valid_username(u)) {
        errors.push(
            "username",
            "invalid_characters",
            "Lower-case letters, digits, '.', '-' and '_'; 2 to 64 characters.",
        );
    }
    let display = v::optional_text(
        &mut errors,
        "display_name",
        b.display_name.as_deref(),
        v::NAME_MAX,
    );
    let unit_id = match &b.unit {
        Some(u) => crate::api::cases::lookup_unit(state, &mut errors, "unit", u).await?,
        None => None,
    };
    if b.role == Role::Company && b.company_id.is_none() {
        errors.push(
            "company_id",
            "required",
            "Company users belong to a company.",
        );
    }
    if let Some(id) = b.company_id
        && state.store.company(id).await.is_err()
    {
        errors.push("company_id", "unknown_company", "No such company.");
    }
    let email = match b.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => v::email(&mut errors, "email", e),
        None => None,
    };
    let password = b.password.unwrap_or_default();
    if let Err(ApiError::Validation(e)) = auth::check_password_rules(&password) {
        errors.0.extend(e.0);
    }
    let username = errors
        .finish(username.unwrap_or_default())
        .map_err(ApiError::Validation)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let new = NewUser {
        email,
        display_name: display.unwrap_or_else(|| username.clone()),
        username,
        role: b.role,
        unit_id,
        company_id: b.company_id,
        password_hash: Some(hash),
    };
    Ok(state
        .store
        .create_user(actor, &new, state.clock.now())
        .await?)
}

pub fn valid_username(u: &str) -> bool {
    (2..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, body = User)), security(("bearer" = [])))]
pub async fn me(user: CurrentUser) -> Json<User> {
    Json(user.user)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenInput {
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    /// Shown once; store it now.
    pub token: String,
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/tokens", tag = "users", responses((status = 200, body = Vec<ApiToken>)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<ApiToken>>> {
    user.require(Permission::OwnTokens)?;
    Ok(Json(state.store.tokens(user.user.id).await?))
}

/// Create an API token for the caller; the secret is returned once.
#[utoipa::path(post, path = "/tokens", tag = "users", request_body = NewTokenInput, responses((status = 201, body = CreatedToken)), security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewTokenInput>,
) -> ApiResult<Response> {
    user.require(Permission::OwnTokens)?;
    let mut errors = FieldErrors::new();
    let name = v::optional_text(&mut errors, "name", body.value.name.as_deref(), 100)
        .unwrap_or_else(|| "api".into());
    errors.finish(()).map_err(ApiError::Validation)?;
    let (token, hash) = auth::new_token()?;
    let t = state
        .store
        .create_token(&user.actor(), user.user.id, &name, &hash, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: t.id,
            name: t.name,
            token,
        }),
    )
        .into_response())
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "users", params(("id" = i64, Path)), responses((status = 204, description = "Revoked")), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Permission::OwnTokens)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .store
        .revoke_token(&user.actor(), user.user.id, id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    /// The authenticator app's code, for users who turned on two-step login.
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub user: User,
    /// Send as `X-CSRF-Token` with cookie-authenticated changes.
    pub csrf_token: String,
}

/// Log in with a password; sets the session cookie.
#[utoipa::path(post, path = "/session", tag = "users", request_body = LoginInput,
    responses((status = 200, body = SessionInfo), (status = 401, description = "Wrong username or password"), (status = 429, description = "Locked for a while after repeated failures")))]
pub async fn login(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: JsonBody<LoginInput>,
) -> ApiResult<Response> {
    let user = auth::login(
        &state,
        &body.value.username,
        &body.value.password,
        auth::SecondStep::Code(body.value.code.as_deref()),
        peer.ip(),
    )
    .await?;
    let secure = auth::is_secure(&state, &headers);
    let (id, cookie) = auth::start_session(&state, &user, secure).await?;
    let csrf = state
        .store
        .session(
            &redress_domain::audit::sha256_hex(id.as_bytes()),
            state.clock.now(),
        )
        .await?
        .csrf;
    let mut resp = Json(SessionInfo {
        user,
        csrf_token: csrf,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Log out: ends the session.
#[utoipa::path(delete, path = "/session", tag = "users", responses((status = 204, description = "Logged out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(id) = auth::cookie_value(&headers, auth::SESSION_COOKIE) {
        state
            .store
            .delete_session(&redress_domain::audit::sha256_hex(id.as_bytes()))
            .await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(
        "",
        0,
        auth::is_secure(&state, &headers),
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditCheck {
    pub intact: bool,
    pub rows: i64,
    pub chains: i64,
    /// When broken: the first row that fails, and why.
    pub broken_row: Option<i64>,
    pub reason: Option<String>,
}

/// Recompute the audit log's hash chains.
#[utoipa::path(get, path = "/audit/verify", tag = "audit", responses((status = 200, body = AuditCheck)), security(("bearer" = [])))]
pub async fn verify_audit(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<AuditCheck>> {
    user.require(Permission::AuditRead)?;
    Ok(Json(match state.store.verify_audit().await? {
        AuditVerdict::Intact { rows, chains } => AuditCheck {
            intact: true,
            rows,
            chains,
            broken_row: None,
            reason: None,
        },
        AuditVerdict::Broken {
            row_id,
            chain,
            seq,
            reason,
        } => AuditCheck {
            intact: false,
            rows: 0,
            chains: 0,
            broken_row: Some(row_id),
            reason: Some(format!("{chain} position {seq}: {reason}")),
        },
    }))
}
