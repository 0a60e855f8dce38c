//! Saved searches over HTTP: a person's and their unit's named case-list filters, and running
//! one as the case search.

use super::id_of;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use redress_app::saved::SavedSearchInput;
use redress_app::search::CasePage;
use redress_domain::records::SavedSearch;
use std::collections::HashMap;

/// The caller's own saved searches, then their unit's.
#[utoipa::path(get, path = "/saved-searches", tag = "cases",
    responses((status = 200, body = Vec<SavedSearch>)),
    security(("bearer" = [])))]
pub async fn list_saved_searches(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<SavedSearch>>> {
    Ok(Json(state.saved_searches(&user).await?))
}

/// Keep a search of the case list under a name, for the caller or (with `unit`) for everyone
/// in a unit. Audited.
#[utoipa::path(post, path = "/saved-searches", tag = "cases", request_body = SavedSearchInput,
    responses((status = 201, body = SavedSearch), (status = 422, description = "A field is wrong; the error names it (`params.status`, `name`, `unit`)")),
    security(("bearer" = [])))]
pub async fn save_search(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<SavedSearchInput>,
) -> ApiResult<Response> {
    let s = state.save_search(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// One saved search the caller may use.
#[utoipa::path(get, path = "/saved-searches/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = SavedSearch), (status = 404, description = "No such saved search, or not the caller's")),
    security(("bearer" = [])))]
pub async fn get_saved_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SavedSearch>> {
    Ok(Json(state.saved_search(&user, id_of(&id)?).await?))
}

/// Forget a saved search (the caller's own; a unit's for those who keep the unit's). Audited.
#[utoipa::path(delete, path = "/saved-searches/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 204, description = "Forgotten"), (status = 403, description = "A unit's search the caller does not keep"),
              (status = 404, description = "No such saved search, or not the caller's")),
    security(("bearer" = [])))]
pub async fn forget_saved_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.forget_saved_search(&user, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cases a saved search finds, a page at a time, as `GET /cases` returns them.
#[utoipa::path(get, path = "/saved-searches/{id}/cases", tag = "cases",
    params(("id" = i64, Path),
           ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50")),
    responses((status = 200, body = CasePage), (status = 404, description = "No such saved search, or not the caller's"),
              (status = 422, description = "A parameter is wrong; the error names it")),
    security(("bearer" = [])))]
pub async fn run_saved_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<CasePage>> {
    Ok(Json(state.run_saved_search(&user, id_of(&id)?, &q).await?))
}
