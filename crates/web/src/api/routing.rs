//! Routing rules over HTTP: where new cases go when nobody chose a unit.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use redress_app::routing::NewRoutingRule;
use redress_domain::Permission;
use redress_domain::routing::RoutingRule;

/// The routing rules, in the order they are tried: a new case without a unit goes to the unit of
/// the first rule whose conditions (channel, kind, category, company; each optional) all hold.
#[utoipa::path(get, path = "/routing-rules", tag = "reference data",
    responses((status = 200, body = Vec<RoutingRule>)), security(("bearer" = [])))]
pub async fn list_routing_rules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<RoutingRule>>> {
    Ok(Json(state.routing_rules(&user).await?))
}

/// Add a routing rule (administrators and managers). A rule without conditions catches every
/// case that reaches it: place it last, as the office's intake unit.
#[utoipa::path(post, path = "/routing-rules", tag = "reference data", request_body = NewRoutingRule,
    responses((status = 201, body = RoutingRule), (status = 422, description = "A unit, category or company that does not exist")),
    security(("bearer" = [])))]
pub async fn add_routing_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<NewRoutingRule>,
) -> ApiResult<Response> {
    let rule = state.add_routing_rule(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

/// Remove a routing rule.
#[utoipa::path(delete, path = "/routing-rules/{id}", tag = "reference data", params(("id" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such rule")),
    security(("bearer" = [])))]
pub async fn remove_routing_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Permission::ReferenceDataWrite)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state.remove_routing_rule(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
