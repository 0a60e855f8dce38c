//! Reports over HTTP: any report for any period, as JSON, CSV or XLSX.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
pub use redress_app::reports::schedule::{Schedule, ScheduleInput};
pub use redress_app::reports::{
    Chart, CustomerCount, CustomersInput, Report, RootCauseInput, Series, Table,
};
use redress_domain::records::RootCause;
use redress_domain::validate::FieldErrors;
use std::collections::HashMap;

/// The report names.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code, reason = "describes the `name` path parameter")]
pub enum ReportNameParam {
    Workload,
    Backlog,
    Speed,
    Companies,
    Trends,
    Hotline,
    RootCauses,
}

/// The formats a report comes in.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code, reason = "describes the `format` query parameter")]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

/// A file to download under a name.
pub fn file_response(bytes: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub const XLSX: &str = redress_app::reports::render::XLSX;

/// A report for a period of the office's days: `workload` (new, closed and open per day, week or
/// month, and by `by`), `backlog` (open cases by age at the end of the period, the oldest, the
/// deadlines missed), `speed` (median and 90th-percentile days to first contact, company response
/// and close; share within `target_days`; reopened; deadlines met), `companies` (complaints per
/// 100,000 customers, on-time answers, escalations, ranked, with the change from the period
/// before), `trends` (weekly volume against each category's and company's own baseline, and the
/// spikes), `hotline` (calls, handle time, speed of answer and service level per hour and day)
/// or `root_causes` (closed cases by root cause and outcome, by company and category). With
/// `compare_from` and `compare_to`, the table `comparison` sets the totals of that period beside
/// this one's; with `compare_office`, another office's totals for the same period. With
/// `office`, only that office's cases count (offices share one database). CSV holds the first
/// table; XLSX the totals and every table.
#[utoipa::path(get, path = "/reports/{name}", tag = "reports",
    params(("name" = inline(ReportNameParam), Path),
           ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (default: 29 days before `to`)"),
           ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD, included (default: today)"),
           ("compare_from" = Option<String>, Query, description = "First day of a period to compare with, YYYY-MM-DD"),
           ("compare_to" = Option<String>, Query, description = "Last day of the period to compare with"),
           ("format" = inline(Option<ReportFormat>), Query, description = "json (the default), csv or xlsx"),
           ("interval" = Option<String>, Query, description = "day, week or month (default by the period's length)"),
           ("by" = Option<String>, Query, description = "workload: unit (default), agent, channel, kind, category or company"),
           ("target_days" = Option<i64>, Query, minimum = 1, maximum = 3650, description = "speed: the target days to close (default 30)"),
           ("answer_seconds" = Option<i64>, Query, minimum = 1, maximum = 3600, description = "hotline: the service level's answer time (default 30)"),
           ("office" = Option<String>, Query, description = "Count only this office's cases (an office's code); every office's by default"),
           ("compare_office" = Option<String>, Query, description = "Another office's code: the table `comparison` sets its totals for the same period beside these (not with compare_from)")),
    responses((status = 200, description = "The report (JSON), or the file (CSV, XLSX)", content(
                  (Report = "application/json"),
                  (String = "text/csv"),
                  (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 404, description = "No such report"), (status = 422, description = "A parameter is wrong; the error names it")),
    security(("bearer" = [])))]
pub async fn get_report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let format = q.get("format").map(|f| f.trim()).unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        let mut e = FieldErrors::new();
        e.push("format", "unknown_value", "json, csv or xlsx.");
        return Err(ApiError::from(redress_app::AppError::Validation(e)));
    }
    let request = state.report_request(&name, &q).await?;
    let report = state.report(&user, &request).await?;
    let file = format!("{}-{}-{}", request.name.as_str(), request.from, request.to);
    Ok(match format {
        "csv" => file_response(
            redress_app::reports::render::csv(&report)?,
            "text/csv; charset=utf-8",
            &format!("{file}.csv"),
        ),
        "xlsx" => file_response(
            redress_app::reports::render::xlsx(&report)?,
            XLSX,
            &format!("{file}.xlsx"),
        ),
        _ => Json(report).into_response(),
    })
}

/// The office's root causes, recorded when a case closes (`root_cause` on a status change or a
/// closing step, with `outcome`).
#[utoipa::path(get, path = "/root-causes", tag = "reference data", responses((status = 200, body = Vec<RootCause>)), security(("bearer" = [])))]
pub async fn list_root_causes(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<RootCause>>> {
    Ok(Json(state.root_causes(&user).await?))
}

/// Add a root cause, or change one by its code (a cause no longer used is made inactive).
#[utoipa::path(post, path = "/root-causes", tag = "reference data", request_body = RootCauseInput,
    responses((status = 200, body = RootCause), (status = 422, description = "A field is wrong; the error names it")),
    security(("bearer" = [])))]
pub async fn save_root_cause(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<RootCauseInput>,
) -> ApiResult<Response> {
    let c = state.save_root_cause(&user, body.value).await?;
    Ok((StatusCode::OK, Json(c)).into_response())
}

/// A company id from the path; anything else names no company.
fn company_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

/// A company's customers by year: what its complaints per 100,000 customers count against (a
/// year without a figure uses the company's current `customer_count`).
#[utoipa::path(get, path = "/companies/{id}/customers", tag = "companies", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<CustomerCount>), (status = 404, description = "No such company")),
    security(("bearer" = [])))]
pub async fn company_customers(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CustomerCount>>> {
    Ok(Json(
        state.company_customers(&user, company_id(&id)?).await?,
    ))
}

/// Set a company's customers in a year (managers and administrators; audited).
#[utoipa::path(put, path = "/companies/{id}/customers/{year}", tag = "companies", request_body = CustomersInput,
    params(("id" = i64, Path), ("year" = i64, Path, minimum = 1900, maximum = 2200)),
    responses((status = 200, body = CustomerCount), (status = 404, description = "No such company"),
              (status = 422, description = "A field is wrong; the error names it")),
    security(("bearer" = [])))]
pub async fn set_company_customers(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, year)): Path<(String, String)>,
    body: JsonBody<CustomersInput>,
) -> ApiResult<Json<CustomerCount>> {
    Ok(Json(
        state
            .set_company_customers(&user, company_id(&id)?, &year, body.value)
            .await?,
    ))
}

/// The reports emailed on a schedule.
#[utoipa::path(get, path = "/report-schedules", tag = "reports",
    responses((status = 200, body = Vec<Schedule>)),
    security(("bearer" = [])))]
pub async fn list_schedules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Schedule>>> {
    Ok(Json(state.report_schedules(&user).await?))
}

/// Email a report to a list every week (each Monday, for the week before) or every month (on
/// the 1st, for the month before), as CSV or XLSX; `spikes` sends the week's spikes, only when
/// there are some. Audited.
#[utoipa::path(post, path = "/report-schedules", tag = "reports", request_body = ScheduleInput,
    responses((status = 201, body = Schedule), (status = 422, description = "A field is wrong; the error names it (`recipients[1]`)")),
    security(("bearer" = [])))]
pub async fn add_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody<ScheduleInput>,
) -> ApiResult<Response> {
    let s = state.add_report_schedule(&user, body.value).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// Stop a scheduled report. Audited.
#[utoipa::path(delete, path = "/report-schedules/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 204, description = "Stopped"), (status = 404, description = "No such schedule")),
    security(("bearer" = [])))]
pub async fn remove_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .remove_report_schedule(&user, super::id_of(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
