//! Correspondence over HTTP: writing to a case's consumer by email, and the incoming messages
//! that wait for a person (unmatched or quarantined).

use super::id_of;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use redress_app::correspondence::{
    EmailToConsumer, FileInbound, InboundMail, InboundMessage, NoticePreference, SentEmail,
};
use std::collections::HashMap;

/// Email the case's consumer: the message goes out through the outbox with the reference in its
/// subject, answering their latest email on the case, and is recorded on the timeline.
#[utoipa::path(post, path = "/cases/{reference}/emails", tag = "timeline", request_body = EmailToConsumer,
    params(("reference" = String, Path)),
    responses((status = 202, body = SentEmail, description = "Queued for sending"),
        (status = 422, description = "No text, or the consumer has no email address")),
    security(("bearer" = [])))]
pub async fn email_consumer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<EmailToConsumer>,
) -> ApiResult<Response> {
    let reference = redress_app::case_reference(&reference)?;
    let sent = state.email_consumer(&user, &reference, body.value).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

/// Incoming messages that wait for a person (unmatched or quarantined), newest first; with
/// `all=true`, the 200 most recent of every kind. The view is audited.
#[utoipa::path(get, path = "/mail/inbound", tag = "mail",
    params(("all" = Option<bool>, Query)),
    responses((status = 200, body = Vec<InboundMail>)), security(("bearer" = [])))]
pub async fn list_inbound(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<InboundMail>>> {
    let all = match q.get("all").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(redress_app::AppError::field("all", "invalid", "true or false.").into());
        }
    };
    Ok(Json(state.inbound_mail(&user, all).await?))
}

/// One incoming message with its text and files, read again from the message kept.
#[utoipa::path(get, path = "/mail/inbound/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = InboundMessage), (status = 404, description = "No such message")),
    security(("bearer" = [])))]
pub async fn get_inbound(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<InboundMessage>> {
    Ok(Json(state.inbound_message(&user, id_of(&id)?).await?))
}

/// File a waiting message on a case (its text and files go on the timeline; nothing is sent).
#[utoipa::path(post, path = "/mail/inbound/{id}/file", tag = "mail", request_body = FileInbound,
    params(("id" = i64, Path)),
    responses((status = 204, description = "Filed"), (status = 422, description = "No such case, or the message was already filed or set aside")),
    security(("bearer" = [])))]
pub async fn file_inbound(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: JsonBody<FileInbound>,
) -> ApiResult<StatusCode> {
    state
        .file_inbound(&user, id_of(&id)?, &body.value.reference)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a waiting message aside: nothing more is done with it.
#[utoipa::path(post, path = "/mail/inbound/{id}/dismiss", tag = "mail", params(("id" = i64, Path)),
    responses((status = 204, description = "Set aside"), (status = 422, description = "Already filed or set aside")),
    security(("bearer" = [])))]
pub async fn dismiss_inbound(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.dismiss_inbound(&user, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record the consumer's choice of email updates: with `opt_out`, only the notices the law
/// requires are sent (recorded on the case, audited).
#[utoipa::path(post, path = "/cases/{reference}/notices", tag = "timeline", request_body = NoticePreference,
    params(("reference" = String, Path)),
    responses((status = 204, description = "Recorded")), security(("bearer" = [])))]
pub async fn notice_preference(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<NoticePreference>,
) -> ApiResult<StatusCode> {
    state
        .set_notice_preference(&user, &reference, body.value)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
