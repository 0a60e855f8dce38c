//! Consumers, companies, units, categories, users, API tokens, sessions and the audit check over
//! HTTP: each handler reads the request, calls one use case of [`redress_app`], and answers.

use super::id_of;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::AuditVerdict;
use redress_app::accounts::SecondStep;
pub use redress_app::administration::{CompanyChange, PasswordReset, UserChangeInput};
pub use redress_app::consumers::MergeConsumerInput;
use redress_app::consumers::{SearchFrom, lookup_from};
pub use redress_app::directory::{
    CategoryChange, NewCategory, NewCompany, NewTokenInput, NewUnit, NewUserInput,
};
use redress_domain::records::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// An id in a path: one that is not a number names nothing.
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
    user.require(redress_domain::Permission::ConsumerRead)?;
    let lookup = lookup_from(&q)?;
    Ok(Json(
        state
            .find_consumers(&user, &lookup, SearchFrom::Api)
            .await?,
    ))
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
    user.require(redress_domain::Permission::ConsumerRead)?;
    Ok(Json(state.view_consumer(&user, id_of(&id)?).await?))
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
    user.require(redress_domain::Permission::ConsumerRead)?;
    Ok(Json(state.consumer_duplicates(&user, id_of(&id)?).await?))
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
    user.require(redress_domain::Permission::ConsumerMerge)?;
    Ok(Json(
        state
            .merge_consumers(&user, id_of(&id)?, body.value.into)
            .await?,
    ))
}

/// Companies complained about, with their customer counts.
#[utoipa::path(get, path = "/companies", tag = "companies", responses((status = 200, body = Vec<Company>)), security(("bearer" = [])))]
pub async fn list_companies(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Company>>> {
    Ok(Json(state.companies(&user).await?))
}

/// Add a company.
#[utoipa::path(post, path = "/companies", tag = "companies", request_body = NewCompany,
    responses((status = 201, body = Company), (status = 409, description = "Name taken")), security(("bearer" = [])))]
pub async fn create_company(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewCompany>,
) -> ApiResult<Response> {
    let c = state.add_company(&user, body.value).await?;
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
    user.require(redress_domain::Permission::CompanyRead)?;
    Ok(Json(state.company(&user, id_of(&id)?).await?))
}

/// The office's units (call center, hotline, hearings...).
#[utoipa::path(get, path = "/units", tag = "reference data", responses((status = 200, body = Vec<Unit>)), security(("bearer" = [])))]
pub async fn list_units(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Unit>>> {
    Ok(Json(state.units(&user).await?))
}

/// Add a unit.
#[utoipa::path(post, path = "/units", tag = "reference data", request_body = NewUnit, responses((status = 201, body = Unit)), security(("bearer" = [])))]
pub async fn create_unit(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewUnit>,
) -> ApiResult<Response> {
    let u = state.add_unit(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

/// The category tree (industry > service > issue > sub-issue), as paths.
#[utoipa::path(get, path = "/categories", tag = "reference data", responses((status = 200, body = Vec<Category>)), security(("bearer" = [])))]
pub async fn list_categories(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Category>>> {
    Ok(Json(state.categories(&user).await?))
}

/// Add a category path (missing levels are created).
#[utoipa::path(post, path = "/categories", tag = "reference data", request_body = NewCategory, responses((status = 201, body = Category)), security(("bearer" = [])))]
pub async fn create_category(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewCategory>,
) -> ApiResult<Response> {
    let c = state.add_category(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// Name a category in Spanish (what the public portal and Spanish-speaking staff read).
#[utoipa::path(patch, path = "/categories/{id}", tag = "reference data", request_body = CategoryChange,
    params(("id" = i64, Path)),
    responses((status = 200, body = Category), (status = 404, description = "No such category"), (status = 422, description = "Invalid name")),
    security(("bearer" = [])))]
pub async fn change_category(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody<CategoryChange>,
) -> ApiResult<Json<Category>> {
    Ok(Json(state.change_category(&user, id, body.value).await?))
}

/// Staff and company users.
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = Vec<User>)), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.users(&user).await?))
}

/// Add a user (admins).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUserInput, responses((status = 201, body = User), (status = 409, description = "Username taken")), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewUserInput>,
) -> ApiResult<Response> {
    let u = state.add_user(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

/// Change a user (administrators): name, role, unit, company, email, or whether they may sign
/// in (`"active": false` ends their sessions at once). Only the fields given change.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserChangeInput,
    params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, description = "No such user"), (status = 422, description = "Invalid change")),
    security(("bearer" = [])))]
pub async fn change_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody<UserChangeInput>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.change_user(&user, id, body.value).await?))
}

/// Set a new password for a user who lost theirs (administrators); their sessions end.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", request_body = PasswordReset,
    params(("id" = i64, Path)),
    responses((status = 204, description = "Set"), (status = 404, description = "No such user"), (status = 422, description = "Password too weak")),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    state.reset_password(&user, id, body.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a company's name, industry or customer count. Only the fields given change.
#[utoipa::path(patch, path = "/companies/{id}", tag = "reference data", request_body = CompanyChange,
    params(("id" = i64, Path)),
    responses((status = 200, body = Company), (status = 404, description = "No such company"), (status = 422, description = "Invalid change")),
    security(("bearer" = [])))]
pub async fn change_company(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody<CompanyChange>,
) -> ApiResult<Json<Company>> {
    Ok(Json(state.change_company(&user, id, body.value).await?))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, body = User)), security(("bearer" = [])))]
pub async fn me(user: CurrentUser) -> Json<User> {
    Json(user.person.user)
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
    Ok(Json(state.own_tokens(&user).await?))
}

/// Create an API token for the caller; the secret is returned once.
#[utoipa::path(post, path = "/tokens", tag = "users", request_body = NewTokenInput, responses((status = 201, body = CreatedToken)), security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewTokenInput>,
) -> ApiResult<Response> {
    let t = state.issue_token(&user, body.value).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: t.token.id,
            name: t.token.name,
            token: t.secret,
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
    user.require(redress_domain::Permission::OwnTokens)?;
    state.revoke_token(&user, id_of(&id)?).await?;
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
    let user = state
        .login(
            &body.value.username,
            &body.value.password,
            SecondStep::Code(body.value.code.as_deref()),
            peer.ip(),
        )
        .await?;
    let session = state.start_session(&user).await?;
    let cookie = auth::session_cookie(
        &session.secret,
        redress_app::accounts::SESSION_HOURS * 3600,
        auth::is_secure(&state, &headers),
    );
    let mut resp = Json(SessionInfo {
        user,
        csrf_token: session.csrf,
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
        state.end_session(&id).await?;
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
    Ok(Json(match state.verify_audit(&user).await? {
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
