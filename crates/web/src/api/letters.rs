//! Letters on paper over HTTP: the print queue, batches (one PDF with a mailing list), marking a
//! batch mailed, and any letter as a PDF.

use super::id_of;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use redress_app::letters::{BatchMailed, LetterBatch, PrintedLetter};
use std::collections::HashMap;

/// The states a letter is listed by.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code, reason = "describes the `state` query parameter")]
pub enum LetterState {
    /// Waiting to be printed (the print queue).
    Queued,
    /// In a batch not yet marked mailed.
    Batched,
    Mailed,
    /// Sent by email only.
    Emailed,
    /// Kept for the record (a company's copy).
    NotQueued,
}

/// A PDF to download under a file name.
pub fn pdf_response(bytes: Vec<u8>, filename: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Letters in a state: `queued` (the default) lists those waiting to be printed; also
/// `batched`, `mailed`, `emailed` and `not_queued`. Viewing their addresses is audited.
#[utoipa::path(get, path = "/letters", tag = "letters",
    params(("state" = inline(Option<LetterState>), Query, description = "queued (the default)")),
    responses((status = 200, body = Vec<PrintedLetter>), (status = 422, description = "Unknown state")),
    security(("bearer" = [])))]
pub async fn list_letters(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<PrintedLetter>>> {
    Ok(Json(
        state
            .letters(&user, q.get("state").map(String::as_str))
            .await?,
    ))
}

/// One letter as a PDF, typeset from the office's template (letterhead, an address block that
/// shows through a #10 window envelope, date, reference, page numbers).
#[utoipa::path(get, path = "/letters/{id}/pdf", tag = "letters", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", description = "The letter"), (status = 404, description = "No such letter")),
    security(("bearer" = [])))]
pub async fn letter_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (letter, pdf) = state.letter_pdf(&user, id_of(&id)?).await?;
    Ok(pdf_response(
        pdf,
        &format!("{}-letter-{}.pdf", letter.reference, letter.id),
    ))
}

/// Gather every queued letter into a batch printed for today; answers with its id. A letter
/// whose step left its mailing date to the queue is written with today as that date.
#[utoipa::path(post, path = "/letter-batches", tag = "letters",
    responses((status = 201, body = LetterBatch), (status = 422, description = "No letter waits in the print queue")),
    security(("bearer" = [])))]
pub async fn make_batch(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    let batch = state.make_batch(&user).await?;
    let mut r = (StatusCode::CREATED, Json(&batch)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/letter-batches/{}", batch.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// The most recent batches.
#[utoipa::path(get, path = "/letter-batches", tag = "letters",
    responses((status = 200, body = Vec<LetterBatch>)), security(("bearer" = [])))]
pub async fn list_batches(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<LetterBatch>>> {
    Ok(Json(state.letter_batches(&user).await?))
}

/// A batch and its letters (its mailing list).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BatchWithLetters {
    pub batch: LetterBatch,
    pub letters: Vec<PrintedLetter>,
}

/// A batch with its letters.
#[utoipa::path(get, path = "/letter-batches/{id}", tag = "letters", params(("id" = i64, Path)),
    responses((status = 200, body = BatchWithLetters), (status = 404, description = "No such batch")),
    security(("bearer" = [])))]
pub async fn get_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<BatchWithLetters>> {
    let (batch, letters) = state.letter_batch(&user, id_of(&id)?).await?;
    Ok(Json(BatchWithLetters { batch, letters }))
}

/// The batch as one PDF: every letter (each numbered on its own), then the mailing list.
#[utoipa::path(get, path = "/letter-batches/{id}/pdf", tag = "letters", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", description = "The batch"), (status = 404, description = "No such batch")),
    security(("bearer" = [])))]
pub async fn batch_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = id_of(&id)?;
    let pdf = state.batch_pdf(&user, id).await?;
    Ok(pdf_response(pdf, &format!("letter-batch-{id}.pdf")))
}

/// Mark a batch mailed on a day: each letter's mailing date is recorded, and the clocks that
/// count from it start (e.g. the window to request a review after an initial decision).
#[utoipa::path(post, path = "/letter-batches/{id}/mailed", tag = "letters", request_body = BatchMailed,
    params(("id" = i64, Path)),
    responses((status = 200, body = LetterBatch), (status = 409, description = "Marked mailed before"),
        (status = 422, description = "A date in the future or before the batch was printed")),
    security(("bearer" = [])))]
pub async fn batch_mailed(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: JsonBody<BatchMailed>,
) -> ApiResult<Json<LetterBatch>> {
    Ok(Json(
        state
            .mark_batch_mailed(&user, id_of(&id)?, body.value)
            .await?,
    ))
}
