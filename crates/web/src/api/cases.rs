//! Cases over HTTP: create, read, change, list, timeline, assignment, status, lifecycle steps,
//! links and merge. Each handler reads the request, calls one use case of
//! [`redress_app::cases`], and answers (with the case's version as its `ETag`).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, etag, if_match};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::IdempotencyKey;
use redress_app::cases::Intake;
pub use redress_app::cases::{
    AddressInput, AssignInput, ConsumerInput, CreateCase, LinkInput, MergeInput, PatchCase,
    StatusInput, TransitionInput,
};
pub use redress_app::search::{CaseHit, CasePage};
pub use redress_app::timeline::{CallInput, NewTimelineEntry, ReminderInput};
use redress_domain::records::*;
use redress_domain::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A case with its version as the `ETag`.
fn case_response(status: StatusCode, case: Case) -> Response {
    let mut resp = (status, Json(&case)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(case.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// The `Idempotency-Key` header, tied to the exact request body.
fn idempotency_key(headers: &HeaderMap, body: &[u8]) -> ApiResult<Option<IdempotencyKey>> {
    let Some(k) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = k
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::field("Idempotency-Key", "invalid", "1 to 200 visible characters.")
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        request_hash: redress_domain::audit::sha256_hex(body),
    }))
}

/// Open a case.
#[utoipa::path(post, path = "/cases", tag = "cases", request_body = CreateCase,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the same case")),
    responses((status = 201, description = "Created; `Location` names the case", body = Case),
              (status = 422, description = "Invalid input, with the offending fields")),
    security(("bearer" = [])))]
pub async fn create_case(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: JsonBody<CreateCase>,
) -> ApiResult<Response> {
    user.require(Permission::CaseCreate)?;
    let idempotency = idempotency_key(&headers, &body.raw)?;
    let (case, created) = state
        .open_case(Intake::Staff(&user), body.value, idempotency.as_ref())
        .await?;
    let location = format!("/api/v1/cases/{}", case.reference);
    let mut resp = case_response(StatusCode::CREATED, case);
    if let Ok(loc) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    if !created {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Read a case (the view of personal data is audited).
#[utoipa::path(get, path = "/cases/{reference}", tag = "cases",
    params(("reference" = String, Path, example = "NYC-2026-000123")),
    responses((status = 200, body = Case, description = "The case; `ETag` carries its version"), (status = 404, description = "No such case")),
    security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> ApiResult<Response> {
    let case = state.read_case(&user, &reference).await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Change a case's details. Requires `If-Match` with the version read.
#[utoipa::path(patch, path = "/cases/{reference}", tag = "cases", request_body = PatchCase,
    params(("reference" = String, Path), ("If-Match" = String, Header, description = "The version read, e.g. \"3\"")),
    responses((status = 200, body = Case), (status = 412, description = "Stale version"), (status = 428, description = "If-Match missing")),
    security(("bearer" = [])))]
pub async fn patch_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<PatchCase>,
) -> ApiResult<Response> {
    user.require(Permission::CaseUpdate)?;
    // A malformed reference names no case (404) before the version is asked for.
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let case = state
        .change_case(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Correct the contact details of the case's consumer: the whole set replaces what is on file
/// (a phone or email left out is cleared). Requires `If-Match` with the case's version; the old
/// and new values are audited on the consumer, the case gets a new version.
#[utoipa::path(put, path = "/cases/{reference}/consumer", tag = "consumers", request_body = ConsumerInput,
    params(("reference" = String, Path), ("If-Match" = String, Header, description = "The case's version read, e.g. \"3\"")),
    responses((status = 200, body = Case), (status = 412, description = "Stale version"), (status = 422, description = "Invalid details"), (status = 428, description = "If-Match missing")),
    security(("bearer" = [])))]
pub async fn correct_consumer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ConsumerInput>,
) -> ApiResult<Response> {
    user.require(Permission::CaseUpdate)?;
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let case = state
        .correct_consumer(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// The cases a search found, as the file to download: `cases.xlsx` or `cases.csv`.
pub fn cases_file(
    table: &redress_app::reports::Table,
    xlsx: bool,
) -> Result<Response, redress_app::AppError> {
    use crate::api::reports::{XLSX, file_response};
    use redress_app::reports::render::{table_csv, table_xlsx};
    Ok(if xlsx {
        file_response(table_xlsx(table)?, XLSX, "cases.xlsx")
    } else {
        file_response(table_csv(table)?, "text/csv; charset=utf-8", "cases.csv")
    })
}

/// Find cases: full-text words (`q`: every word must occur in the case, its timeline or its
/// consumer's details, as far as the caller's role may read them; a trailing `*` makes the last
/// word a prefix), filters, sorted by when cases were received or by relevance, with a snippet
/// of where the words are, a page at a time.
#[utoipa::path(get, path = "/cases", tag = "cases",
    params(("q" = Option<String>, Query, description = "Words to find (accents and case do not matter), e.g. `estimated bill` or `shut*`"),
           ("status" = Option<Status>, Query), ("kind" = Option<CaseKind>, Query), ("channel" = Option<Channel>, Query),
           ("unit" = Option<String>, Query, description = "Unit code"),
           ("assignee" = Option<String>, Query, description = "Username"), ("company" = Option<i64>, Query, description = "Company id"),
           ("consumer" = Option<i64>, Query, description = "Consumer id"),
           ("category" = Option<String>, Query, description = "A category path, e.g. `Energy > Electric`: that category and everything below it"),
           ("flag" = Option<Flag>, Query), ("open" = Option<bool>, Query, description = "Only cases still open"),
           ("unassigned" = Option<bool>, Query, description = "Only cases nobody is assigned to"),
           ("overdue" = Option<bool>, Query, description = "Only cases with a running deadline already missed"),
           ("opened_after" = Option<String>, Query, description = "Received at or after: RFC 3339 instant or YYYY-MM-DD (office time)"),
           ("opened_before" = Option<String>, Query, description = "Received before: RFC 3339 instant or YYYY-MM-DD (office time)"),
           ("amount_min" = Option<String>, Query, description = "Amount in dispute at least, e.g. `100` or `125.40`"),
           ("amount_max" = Option<String>, Query, description = "Amount in dispute at most"),
           ("sort" = Option<String>, Query, description = "`newest` (default without q), `oldest`, or `relevance` (default with q). By relevance, words in very many cases rank the most recent matches (about `relevance_pool`, 1,000) first, then the older ones; a word in half of the cases or more only chooses the matches, and when every word is that common they come newest first"),
           ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
           ("format" = Option<String>, Query, description = "`json` (the default, a page); `csv` or `xlsx`: every case found (up to 100,000), as a file")),
    responses((status = 200, description = "A page of cases (JSON), or every case found (CSV, XLSX)", content(
                  (CasePage = "application/json"),
                  (String = "text/csv"),
                  (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 422, description = "A parameter is wrong; the error names it")),
    security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(mut q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let format = q.remove("format").unwrap_or_else(|| "json".into());
    match format.trim() {
        "json" => Ok(Json(state.list_cases(&user, &q).await?).into_response()),
        f @ ("csv" | "xlsx") => Ok(cases_file(
            &state.export_cases(&user, &q).await?,
            f == "xlsx",
        )?),
        _ => {
            let mut e = FieldErrors::new();
            e.push("format", "unknown_value", "json, csv or xlsx.");
            Err(ApiError::from(redress_app::AppError::Validation(e)))
        }
    }
}

/// Add a note, call, letter, email or attachment reference to the timeline.
#[utoipa::path(post, path = "/cases/{reference}/timeline", tag = "timeline", request_body = NewTimelineEntry,
    params(("reference" = String, Path)),
    responses((status = 201, body = TimelineEntry), (status = 422, description = "Invalid entry")),
    security(("bearer" = [])))]
pub async fn add_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<NewTimelineEntry>,
) -> ApiResult<Response> {
    let saved = state.add_to_timeline(&user, &reference, body.value).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// The case's timeline, oldest first (company users see company-visible entries only).
#[utoipa::path(get, path = "/cases/{reference}/timeline", tag = "timeline",
    params(("reference" = String, Path), ("visibility" = Option<Visibility>, Query)),
    responses((status = 200, body = Vec<TimelineEntry>)),
    security(("bearer" = [])))]
pub async fn get_timeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let visibility = q.get("visibility").map(String::as_str);
    Ok(Json(state.timeline(&user, &reference, visibility).await?))
}

/// Assign a case to a unit and/or a staff member.
#[utoipa::path(post, path = "/cases/{reference}/assignment", tag = "cases", request_body = AssignInput,
    params(("reference" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Case)),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AssignInput>,
) -> ApiResult<Response> {
    user.require(Permission::CaseAssign)?;
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let case = state
        .assign_case(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Move a case to another status; 409 names the statuses allowed from here.
#[utoipa::path(post, path = "/cases/{reference}/status", tag = "cases", request_body = StatusInput,
    params(("reference" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Case), (status = 409, description = "Transition not allowed; `allowed` lists the possible statuses")),
    security(("bearer" = [])))]
pub async fn change_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<StatusInput>,
) -> ApiResult<Response> {
    user.require(Permission::CaseChangeStatus)?;
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let case = state
        .set_status(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Take a lifecycle transition. 409 (`allowed` names the transitions possible now) when the
/// case is not in a state it starts from; 403 when the role may not take it; 422 naming each
/// missing or invalid field. Nothing changes on any error.
#[utoipa::path(post, path = "/cases/{reference}/transitions", tag = "cases", request_body = TransitionInput,
    params(("reference" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Case), (status = 403, description = "The role may not take this transition"),
              (status = 409, description = "Not allowed from the case's state; `allowed` lists the transitions that are"),
              (status = 422, description = "Missing or invalid fields (`fields.NAME`)")),
    security(("bearer" = [])))]
pub async fn take_transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TransitionInput>,
) -> ApiResult<Response> {
    user.require(Permission::CaseRead)?;
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let case = state
        .take_transition(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Put a case still at the start of its lifecycle on another of its kind's lifecycles (the wrong
/// process was chosen at intake): its state becomes the new one's first, the old clocks stop and
/// the new one's start. Requires `If-Match` with the case's version; 409 once the case has moved on.
#[utoipa::path(post, path = "/cases/{reference}/lifecycle", tag = "cases", request_body = redress_app::steps::LifecycleChange,
    params(("reference" = String, Path), ("If-Match" = String, Header, description = "The version read, e.g. \"1\"")),
    responses((status = 200, body = Case), (status = 409, description = "The case is past the start of its lifecycle"), (status = 412, description = "Stale version"), (status = 422, description = "Not a lifecycle of the case's kind"), (status = 428, description = "If-Match missing")),
    security(("bearer" = [])))]
pub async fn change_lifecycle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: JsonBody<redress_app::steps::LifecycleChange>,
) -> ApiResult<Response> {
    user.require(Permission::CaseUpdate)?;
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let case = state
        .change_lifecycle(&user, &reference, expected, body.value)
        .await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Where the case stands in its lifecycle: its state, the transitions the caller may take now
/// (with their fields), its clocks with labels, the termination hold and, on hotline cases, the
/// earliest lawful shut-off.
#[utoipa::path(get, path = "/cases/{reference}/lifecycle", tag = "cases",
    params(("reference" = String, Path), ("lang" = Option<Language>, Query, description = "`es` for Spanish labels")),
    responses((status = 200, body = redress_app::steps::CaseLifecycle)),
    security(("bearer" = [])))]
pub async fn case_lifecycle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    Query(q): Query<LangQuery>,
) -> ApiResult<Json<redress_app::steps::CaseLifecycle>> {
    user.require(Permission::CaseRead)?;
    let reference = redress_app::case_reference(&reference)?;
    let spanish = match q.lang.as_deref() {
        None | Some("en") => false,
        Some("es") => true,
        Some(_) => return Err(ApiError::field("lang", "unknown_value", "en or es.")),
    };
    Ok(Json(state.case_stage(&user, &reference, spanish).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// Link two cases (related, or duplicate-of).
#[utoipa::path(post, path = "/cases/{reference}/links", tag = "cases", request_body = LinkInput,
    params(("reference" = String, Path)),
    responses((status = 200, body = Case), (status = 409, description = "Already linked")),
    security(("bearer" = [])))]
pub async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<LinkInput>,
) -> ApiResult<Response> {
    let case = state.link_cases(&user, &reference, body.value).await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Merge this case into another; it keeps pointing at the survivor.
#[utoipa::path(post, path = "/cases/{reference}/merge", tag = "cases", request_body = MergeInput,
    params(("reference" = String, Path)),
    responses((status = 200, body = Case, description = "The merged case"), (status = 409, description = "Already merged")),
    security(("bearer" = [])))]
pub async fn merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<MergeInput>,
) -> ApiResult<Response> {
    let case = state.merge_case(&user, &reference, body.value).await?;
    Ok(case_response(StatusCode::OK, case))
}

/// Who did what to the case, and who viewed it (supervisors, managers, auditors).
#[utoipa::path(get, path = "/cases/{reference}/audit", tag = "audit",
    params(("reference" = String, Path)),
    responses((status = 200, body = Vec<AuditRecord>)),
    security(("bearer" = [])))]
pub async fn case_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    Ok(Json(state.case_audit(&user, &reference).await?))
}

/// The case's deadline clocks: when each started, when it is due, and its state now
/// (`running`, `paused`, `met`, `missed` or `stopped`).
#[utoipa::path(get, path = "/cases/{reference}/clocks", tag = "cases",
    params(("reference" = String, Path)),
    responses((status = 200, body = Vec<CaseClock>)),
    security(("bearer" = [])))]
pub async fn clocks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> ApiResult<Json<Vec<CaseClock>>> {
    Ok(Json(state.case_clocks(&user, &reference).await?))
}

/// Each case kind's lifecycle: states (with the status each counts as and the termination
/// hold), transitions (from, to, roles, required fields, clock effects), clocks and fields.
#[utoipa::path(get, path = "/lifecycles", tag = "cases", responses((status = 200, body = Vec<redress_domain::lifecycle::Lifecycle>)), security(("bearer" = [])))]
pub async fn lifecycles(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<redress_domain::lifecycle::Lifecycle>>> {
    Ok(Json(state.lifecycles_for(&user)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderScheduled {
    pub at: jiff::Timestamp,
}

/// Schedule a reminder: a note written on the timeline at the given time (run by the job
/// worker, exactly once).
#[utoipa::path(post, path = "/cases/{reference}/reminders", tag = "timeline", request_body = ReminderInput,
    params(("reference" = String, Path)),
    responses((status = 202, body = ReminderScheduled), (status = 422, description = "Bad time or text")),
    security(("bearer" = [])))]
pub async fn schedule_reminder(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    body: JsonBody<ReminderInput>,
) -> ApiResult<Response> {
    let at = state
        .schedule_reminder(&user, &reference, body.value)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ReminderScheduled { at })).into_response())
}

/// Assign to me: the caller takes the case (its unit stays). Agents may, unless the office
/// turned it off (`agents_take_cases`); senior agents and up always may.
#[utoipa::path(post, path = "/cases/{reference}/take", tag = "cases",
    params(("reference" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Case), (status = 403, description = "The caller may not take cases")),
    security(("bearer" = [])))]
pub async fn take(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let reference = redress_app::case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let case = state.take_case(&user, &reference, expected).await?;
    Ok(case_response(StatusCode::OK, case))
}
