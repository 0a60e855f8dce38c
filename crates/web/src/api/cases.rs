//! Cases: create, read, change, list, timeline, assignment, status, links and merge.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, double_option, etag, if_match};
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

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    /// Two-letter state code.
    pub state: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub email: Option<String>,
    /// North American numbers in any common format, or `+` and the country code.
    pub phone: Option<String>,
    pub preferred_language: Option<Language>,
    pub address: Option<AddressInput>,
    /// The consumer's account number with the company.
    pub account_number: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    pub kind: CaseKind,
    pub channel: Channel,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    /// An existing consumer that staff chose for this contact (see `/api/v1/consumers`). Without
    /// it, a new consumer record is created with exactly what `consumer` holds: nobody is ever
    /// attached to an existing record because a phone number, email or account number matches.
    pub consumer_id: Option<i64>,
    /// Who is complaining. Required unless `consumer_id` is given; with it, these details only
    /// fill in what the chosen record lacks.
    pub consumer: Option<ConsumerInput>,
    /// A company id from `/api/v1/companies`.
    pub company_id: Option<i64>,
    /// A category path from `/api/v1/categories`, e.g. `Energy > Electric > Billing`.
    pub category: Option<String>,
    /// Exact decimal, as a string (`"125.40"`) or a JSON number; never negative.
    #[schema(value_type = Option<String>, example = "125.40")]
    pub amount_in_dispute: Option<serde_json::Value>,
    pub priority: Option<Priority>,
    #[serde(default)]
    pub flags: Vec<Flag>,
    /// Unit code.
    pub unit: Option<String>,
    /// Username of the staff member to assign.
    pub assignee: Option<String>,
    /// Office code; defaults to the server's office.
    pub office: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCase {
    #[schema(value_type = Priority, required = false)]
    pub priority: Option<Priority>,
    #[schema(value_type = Vec<Flag>, required = false)]
    pub flags: Option<Vec<Flag>>,
    #[schema(value_type = String, required = false, min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    /// A category path, or `null` to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub account_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub amount_in_dispute: Option<Option<serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    pub direction: CallDirection,
    #[schema(minimum = 0, maximum = 86400)]
    pub duration_seconds: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTimelineEntry {
    /// `note`, `call`, `letter`, `email` or `attachment`; the others are written by the system.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50000)]
    pub body: Option<String>,
    #[schema(value_type = Visibility, required = false)]
    pub visibility: Option<Visibility>,
    /// Required for calls.
    pub call: Option<CallInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// Unit code, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    /// Username, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: Status,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The other case's reference.
    #[schema(
        example = "NYC-2026-000123",
        pattern = "^[A-Z]{2,8}-[0-9]{4}-[0-9]{6}$"
    )]
    pub target: String,
    pub kind: LinkKind,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The reference of the case that survives.
    #[schema(
        example = "NYC-2026-000123",
        pattern = "^[A-Z]{2,8}-[0-9]{4}-[0-9]{6}$"
    )]
    pub into: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub(crate) fn amount(
    errors: &mut FieldErrors,
    field: &str,
    value: &serde_json::Value,
) -> Option<Money> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            errors.push(
                field,
                "amount_invalid",
                "Give the amount as a decimal, e.g. \"125.40\".",
            );
            return None;
        }
    };
    match Money::parse(&text) {
        Ok(m) => Some(m),
        Err(e) => {
            let code = match e {
                money::MoneyError::Negative => "amount_negative",
                money::MoneyError::TooPrecise => "amount_too_precise",
                money::MoneyError::TooLarge => "amount_too_large",
                money::MoneyError::NotANumber => "amount_invalid",
            };
            errors.push(field, code, format!("{e}."));
            None
        }
    }
}

/// The consumer's details as entered; `new_record` when they make a new consumer record (the
/// name is then required).
fn consumer(errors: &mut FieldErrors, c: &ConsumerInput, new_record: bool) -> NewConsumer {
    let name = if new_record {
        v::required_text(errors, "consumer.name", c.name.as_deref(), v::NAME_MAX)
    } else {
        v::optional_text(errors, "consumer.name", c.name.as_deref(), v::NAME_MAX)
    }
    .unwrap_or_default();
    let email = c
        .email
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|e| v::email(errors, "consumer.email", e));
    let phone = c
        .phone
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|p| v::phone(errors, "consumer.phone", p));
    let mut address = Address::default();
    if let Some(a) = &c.address {
        address.line1 = v::optional_text(
            errors,
            "consumer.address.line1",
            a.line1.as_deref(),
            v::SHORT_MAX,
        );
        address.line2 = v::optional_text(
            errors,
            "consumer.address.line2",
            a.line2.as_deref(),
            v::SHORT_MAX,
        );
        address.city = v::optional_text(errors, "consumer.address.city", a.city.as_deref(), 100);
        address.state = a
            .state
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| v::state(errors, "consumer.address.state", s));
        address.zip = a
            .zip
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|z| v::zip(errors, "consumer.address.zip", z));
    }
    let account_number = c
        .account_number
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|a| v::account_number(errors, "consumer.account_number", a));
    NewConsumer {
        name,
        phone,
        email,
        address,
        preferred_language: c.preferred_language,
        account_number,
    }
}

async fn lookup_category(
    state: &AppState,
    errors: &mut FieldErrors,
    field: &str,
    path: &str,
) -> ApiResult<Option<i64>> {
    let Some(path) = v::lookup_key(errors, field, path, 1000) else {
        return Ok(None);
    };
    match state.store.category_by_path(path).await {
        Ok(c) => Ok(Some(c.id)),
        Err(StoreError::NotFound) => {
            errors.push(
                field,
                "unknown_category",
                "No such category; see /api/v1/categories.",
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn lookup_company(
    state: &AppState,
    errors: &mut FieldErrors,
    field: &str,
    id: i64,
) -> ApiResult<Option<i64>> {
    match state.store.company(id).await {
        Ok(c) => Ok(Some(c.id)),
        Err(StoreError::NotFound) => {
            errors.push(
                field,
                "unknown_company",
                "No such company; see /api/v1/companies.",
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A consumer that staff chose: it must exist; a record merged into another stands for the one kept.
async fn lookup_consumer(
    state: &AppState,
    errors: &mut FieldErrors,
    field: &str,
    id: i64,
) -> ApiResult<Option<i64>> {
    let mut id = id;
    for _ in 0..8 {
        match state.store.consumer(id).await {
            Ok(c) => match c.merged_into {
                Some(kept) => id = kept,
                None => return Ok(Some(c.id)),
            },
            Err(StoreError::NotFound) => break,
            Err(e) => return Err(e.into()),
        }
    }
    errors.push(
        field,
        "unknown_consumer",
        "No such consumer; see /api/v1/consumers.",
    );
    Ok(None)
}

pub(crate) async fn lookup_unit(
    state: &AppState,
    errors: &mut FieldErrors,
    field: &str,
    code: &str,
) -> ApiResult<Option<i64>> {
    let Some(code) = v::lookup_key(errors, field, code, 64) else {
        return Ok(None);
    };
    match state.store.unit_by_code(code).await {
        Ok(u) => Ok(Some(u.id)),
        Err(StoreError::NotFound) => {
            errors.push(field, "unknown_unit", "No such unit; see /api/v1/units.");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn lookup_staff(
    state: &AppState,
    errors: &mut FieldErrors,
    field: &str,
    username: &str,
) -> ApiResult<Option<i64>> {
    let Some(username) = v::lookup_key(errors, field, username, 64) else {
        return Ok(None);
    };
    match state.store.credentials(username).await {
        Ok(c) if c.user.active && c.user.role != Role::Company => Ok(Some(c.user.id)),
        Ok(_) | Err(StoreError::NotFound) => {
            errors.push(
                field,
                "unknown_user",
                "No active staff member with that username.",
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Validates a new case and opens it. Shared by the API, the intake screen and the public
/// portal; `staff` is the staff member taking it (`None` on the portal).
pub(crate) async fn open_case(
    state: &AppState,
    actor: &Actor,
    staff: Option<&CurrentUser>,
    b: CreateCase,
    idempotency: Option<&IdempotencyKey>,
) -> ApiResult<(Case, bool)> {
    let mut errors = FieldErrors::new();
    let description = v::required_text(
        &mut errors,
        "description",
        b.description.as_deref(),
        v::DESCRIPTION_MAX,
    )
    .unwrap_or_default();
    let chosen = match b.consumer_id {
        None => None,
        Some(_) if staff.is_none_or(|s| !s.user.role.allows(Permission::ConsumerRead)) => {
            errors.push(
                "consumer_id",
                "not_allowed",
                "Only staff who may see consumers choose an existing consumer.",
            );
            None
        }
        Some(id) => lookup_consumer(state, &mut errors, "consumer_id", id).await?,
    };
    let new_consumer = match (&b.consumer, b.consumer_id) {
        (Some(c), None) => consumer(&mut errors, c, true),
        (Some(c), Some(_)) => consumer(&mut errors, c, false),
        (None, Some(_)) => NewConsumer {
            name: String::new(),
            phone: None,
            email: None,
            address: Address::default(),
            preferred_language: None,
            account_number: None,
        },
        (None, None) => {
            errors.push(
                "consumer",
                "required",
                "Give the consumer's details, or consumer_id to choose an existing consumer.",
            );
            consumer(&mut FieldErrors::new(), &ConsumerInput::default(), false)
        }
    };
    if b.consumer_id.is_none()
        && b.consumer.is_some()
        && new_consumer.email.is_none()
        && new_consumer.phone.is_none()
        && new_consumer.address.line1.is_none()
        && errors.0.iter().all(|e| !e.field.starts_with("consumer."))
    {
        errors.push(
            "consumer",
            "contact_required",
            "Give at least a phone number, an email or a postal address.",
        );
    }
    let amount = b
        .amount_in_dispute
        .as_ref()
        .filter(|a| !a.is_null())
        .and_then(|a| amount(&mut errors, "amount_in_dispute", a));
    let category_id = match b.category.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(p) => lookup_category(state, &mut errors, "category", p).await?,
        None => None,
    };
    let company_id = match b.company_id {
        Some(id) => lookup_company(state, &mut errors, "company_id", id).await?,
        None => None,
    };
    let unit_id = match b.unit.as_deref() {
        Some(u) => lookup_unit(state, &mut errors, "unit", u).await?,
        None => None,
    };
    let assignee_id = match b.assignee.as_deref() {
        Some(u) => {
            if staff
                .is_none_or(|s| !s.user.role.allows(Permission::CaseAssign) && u != s.user.username)
            {
                errors.push(
                    "assignee",
                    "not_allowed",
                    "Your role may only assign a new case to yourself.",
                );
                None
            } else {
                lookup_staff(state, &mut errors, "assignee", u).await?
            }
        }
        None => None,
    };
    let office = match b.office.as_deref() {
        None => state.office.clone(),
        Some(code) if v::lookup_key(&mut errors, "office", code, 32).is_none() => {
            state.office.clone()
        }
        Some(code) => match state.store.office(code.trim()).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                errors.push("office", "unknown_office", "No such office.");
                state.office.clone()
            }
            Err(e) => return Err(e.into()),
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let tz = jiff::tz::TimeZone::get(&office.time_zone)
        .map_err(|e| ApiError::Internal(format!("office time zone: {e}")))?;
    let year = now.to_zoned(tz).year();
    let priority = b
        .priority
        .unwrap_or(Priority::Normal)
        .max(minimum_priority(b.kind, &b.flags));
    let lc = state
        .lifecycles
        .for_kind(b.kind)
        .ok_or_else(|| ApiError::Internal(format!("no lifecycle for {}", b.kind)))?;
    let initial = lc.current(Some(&lc.initial), Status::New);
    let new_case = NewCase {
        office: office.code.clone(),
        year,
        kind: b.kind,
        channel: b.channel,
        status: initial.status,
        stage: Some(initial.name.clone()),
        opening: lc.opening(now),
        priority,
        flags: b.flags,
        category_id,
        company_id,
        account_number: new_consumer.account_number.clone(),
        amount,
        description,
        unit_id,
        assignee_id,
        consumer_id: chosen,
        consumer: new_consumer,
        opened_at: now,
        closed_at: None,
        history: vec![],
    };
    Ok(state
        .store
        .create_case(actor, &new_case, idempotency)
        .await?)
}

/// A case as the caller may see it (`domain::view`), with its version as the `ETag`.
fn case_response(state: &AppState, user: &CurrentUser, status: StatusCode, case: Case) -> Response {
    let case = state.case_for(user.audience(), case);
    let mut resp = (status, Json(&case)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(case.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

fn case_reference(reference: &str) -> ApiResult<String> {
    // A malformed reference cannot name a case.
    reference
        .parse::<Reference>()
        .map(|r| r.to_string())
        .map_err(|_| ApiError::NotFound)
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
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(k) => {
            let key = k
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::field("Idempotency-Key", "invalid", "1 to 200 visible characters.")
                })?;
            Some(IdempotencyKey {
                key: key.to_string(),
                request_hash: redress_domain::audit::sha256_hex(&body.raw),
            })
        }
    };
    let (case, created) = open_case(
        &state,
        &user.actor(),
        Some(&user),
        body.value,
        idempotency.as_ref(),
    )
    .await?;
    let location = format!("/api/v1/cases/{}", case.reference);
    let mut resp = case_response(&state, &user, StatusCode::CREATED, case);
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
    user.require(Permission::CaseRead)?;
    let reference = case_reference(&reference)?;
    let with_pii = user.user.role.sees_consumer_details();
    let now = state.clock.now();
    let case = state
        .store
        .case(&user.actor(), &reference, user.scope(), with_pii, now)
        .await?;
    if !with_pii {
        crate::audit_case_view(&state, &user.actor(), &reference, now).await?;
    }
    Ok(case_response(&state, &user, StatusCode::OK, case))
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
    let reference = case_reference(&reference)?;
    let expected = if_match(&headers)?.ok_or(ApiError::PreconditionRequired)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    let mut patch = CasePatch {
        priority: b.priority,
        flags: b.flags,
        ..CasePatch::default()
    };
    if let Some(d) = &b.description {
        patch.description =
            v::required_text(&mut errors, "description", Some(d), v::DESCRIPTION_MAX);
    }
    if let Some(c) = &b.category {
        patch.category_id = Some(match c.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(p) => lookup_category(&state, &mut errors, "category", p).await?,
            None => None,
        });
    }
    if let Some(c) = b.company_id {
        patch.company_id = Some(match c {
            Some(id) => lookup_company(&state, &mut errors, "company_id", id).await?,
            None => None,
        });
    }
    if let Some(a) = &b.account_number {
        patch.account_number = Some(
            a.as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| v::account_number(&mut errors, "account_number", s)),
        );
    }
    if let Some(a) = &b.amount_in_dispute {
        patch.amount = Some(
            a.as_ref()
                .filter(|x| !x.is_null())
                .and_then(|x| amount(&mut errors, "amount_in_dispute", x)),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if patch.is_empty() {
        return Err(ApiError::field(
            "body",
            "empty_patch",
            "Give at least one field to change.",
        ));
    }
    let case = state
        .store
        .update_case(
            &user.actor(),
            &reference,
            expected,
            &patch,
            state.clock.now(),
        )
        .await?;
    Ok(case_response(&state, &user, StatusCode::OK, case))
}

const LIST_PARAMS: &[&str] = &[
    "status",
    "kind",
    "unit",
    "assignee",
    "company",
    "consumer",
    "open",
    "opened_after",
    "cursor",
    "limit",
];

/// List cases, newest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/cases", tag = "cases",
    params(("status" = Option<Status>, Query), ("kind" = Option<CaseKind>, Query), ("unit" = Option<String>, Query, description = "Unit code"),
           ("assignee" = Option<String>, Query, description = "Username"), ("company" = Option<i64>, Query, description = "Company id"),
           ("consumer" = Option<i64>, Query, description = "Consumer id"), ("open" = Option<bool>, Query, description = "Only cases still open"),
           ("opened_after" = Option<String>, Query, description = "RFC 3339 instant or YYYY-MM-DD (office time)"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50")),
    responses((status = 200, body = CasePage)),
    security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<CasePage>> {
    user.require(Permission::CaseRead)?;
    let mut errors = FieldErrors::new();
    for k in q.keys() {
        if !LIST_PARAMS.contains(&k.as_str()) {
            errors.push(
                k.clone(),
                "unknown_parameter",
                format!("Known parameters: {}.", LIST_PARAMS.join(", ")),
            );
        }
    }
    let mut f = CaseFilter {
        limit: 50,
        ..CaseFilter::default()
    };
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    if let Some(s) = get("status") {
        f.status = s
            .parse()
            .map_err(|_| errors.push("status", "unknown_value", "Not a known status."))
            .ok();
    }
    if let Some(s) = get("kind") {
        f.kind = s
            .parse()
            .map_err(|_| errors.push("kind", "unknown_value", "Not a known case kind."))
            .ok();
    }
    if let Some(s) = get("unit") {
        f.unit_id = lookup_unit(&state, &mut errors, "unit", s).await?;
    }
    if let Some(s) = get("assignee") {
        f.assignee_id = lookup_staff(&state, &mut errors, "assignee", s).await?;
    }
    if let Some(s) = get("company") {
        f.company_id = s
            .parse()
            .map_err(|_| errors.push("company", "invalid_type", "A company id (a number)."))
            .ok();
    }
    if let Some(s) = get("consumer") {
        f.consumer_id = s
            .parse()
            .map_err(|_| errors.push("consumer", "invalid_type", "A consumer id (a number)."))
            .ok();
    }
    if let Some(s) = get("open") {
        match s {
            "true" => f.open_only = true,
            "false" => {}
            _ => errors.push("open", "invalid_type", "true or false."),
        }
    }
    if let Some(s) = get("opened_after") {
        f.opened_after = parse_instant(&state, s).or_else(|| {
            errors.push(
                "opened_after",
                "invalid_date",
                "Use an RFC 3339 instant or YYYY-MM-DD.",
            );
            None
        });
    }
    if let Some(s) = get("cursor") {
        f.before_id = s.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
            errors.push(
                "cursor",
                "invalid_cursor",
                "Use the next_cursor of a previous page.",
            );
            None
        });
    }
    if let Some(s) = get("limit") {
        match s.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => f.limit = n,
            _ => errors.push("limit", "out_of_range", "A number from 1 to 500."),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let requested = f.limit;
    f.limit = requested + 1;
    let mut rows = state.store.cases(&f, user.scope()).await?;
    let next_cursor = if rows.len() as i64 > requested {
        rows.truncate(requested as usize);
        rows.last().map(|(id, _)| id.to_string())
    } else {
        None
    };
    Ok(Json(CasePage {
        items: rows.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
    }))
}

fn parse_instant(state: &AppState, s: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let d = s.parse::<jiff::civil::Date>().ok()?;
    let tz = jiff::tz::TimeZone::get(&state.office.time_zone).ok()?;
    d.to_zoned(tz).ok().map(|z| z.timestamp())
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
    user.require(Permission::TimelineWrite)?;
    let reference = case_reference(&reference)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    if !b.entry_type.is_manual() {
        errors.push(
            "type",
            "not_allowed",
            "Only note, call, letter, email and attachment entries can be added.",
        );
    }
    let text =
        v::required_text(&mut errors, "body", b.body.as_deref(), v::BODY_MAX).unwrap_or_default();
    let is_company = user.user.role == Role::Company;
    let visibility = match (b.visibility, is_company) {
        (None, true) | (Some(Visibility::Company), true) => Visibility::Company,
        (Some(_), true) => {
            errors.push(
                "visibility",
                "not_allowed",
                "Company users write company-visible entries.",
            );
            Visibility::Company
        }
        (None, false) => Visibility::Internal,
        (Some(vis), false) => vis,
    };
    let mut data = serde_json::json!({});
    match (&b.call, b.entry_type) {
        (Some(c), EntryType::Call) => {
            if !(0..=86_400).contains(&c.duration_seconds) {
                errors.push(
                    "call.duration_seconds",
                    "out_of_range",
                    "From 0 to 86400 seconds.",
                );
            }
            data = serde_json::json!({"direction": c.direction, "duration_seconds": c.duration_seconds});
        }
        (None, EntryType::Call) => errors.push(
            "call",
            "required",
            "A call needs its direction and duration.",
        ),
        (Some(_), _) => errors.push(
            "call",
            "not_allowed",
            "Only call entries carry call details.",
        ),
        (None, _) => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let entry = NewEntry {
        entry_type: b.entry_type,
        body: text,
        visibility,
        data,
        at: state.clock.now(),
        author_id: Some(user.user.id),
    };
    let saved = state
        .store
        .add_entry(&user.actor(), &reference, &entry, user.scope())
        .await?;
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
    user.require(Permission::TimelineRead)?;
    let reference = case_reference(&reference)?;
    let mut visible = match q.get("visibility") {
        Some(s) => Some(s.parse::<Visibility>().map_err(|_| {
            ApiError::field(
                "visibility",
                "unknown_value",
                "internal, consumer or company.",
            )
        })?),
        None => None,
    };
    if user.user.role == Role::Company {
        visible = Some(Visibility::Company);
    }
    let entries = state
        .store
        .timeline(
            &user.actor(),
            &reference,
            user.scope(),
            visible,
            state.clock.now(),
        )
        .await?;
    Ok(Json(entries))
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
    let reference = case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    // Absent keeps the current value; null clears it.
    let unit_id = match &b.unit {
        Some(Some(code)) => Some(lookup_unit(&state, &mut errors, "unit", code).await?),
        Some(None) => Some(None),
        None => None,
    };
    let assignee_id = match &b.assignee {
        Some(Some(name)) => Some(lookup_staff(&state, &mut errors, "assignee", name).await?),
        Some(None) => Some(None),
        None => None,
    };
    if b.unit.is_none() && b.assignee.is_none() {
        errors.push(
            "body",
            "empty_assignment",
            "Give a unit, an assignee or both.",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let case = state
        .store
        .assign(
            &user.actor(),
            &reference,
            expected,
            unit_id,
            assignee_id,
            state.clock.now(),
        )
        .await?;
    Ok(case_response(&state, &user, StatusCode::OK, case))
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
    let reference = case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    let reason = v::optional_text(&mut errors, "reason", b.reason.as_deref(), v::SHORT_MAX * 5);
    if b.status == Status::Merged {
        errors.push(
            "status",
            "not_allowed",
            "Use the merge endpoint to merge cases.",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let case = crate::lifecycle::take_status(
        &state,
        &user,
        &reference,
        b.status,
        reason.as_deref(),
        expected,
    )
    .await?;
    Ok(case_response(&state, &user, StatusCode::OK, case))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// A transition's name from `GET /cases/{reference}/lifecycle` or `GET /lifecycles`.
    pub transition: String,
    /// The values the transition requires or accepts: dates as `YYYY-MM-DD`, amounts as
    /// `125.40`, choices by their word.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
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
    let reference = case_reference(&reference)?;
    let expected = if_match(&headers)?;
    let b = body.value;
    let fields: Vec<(String, String)> = b.fields.into_iter().collect();
    let case = crate::lifecycle::take(
        &state,
        crate::lifecycle::Taker::Person(&user),
        &reference,
        b.transition.trim(),
        &fields,
        expected,
    )
    .await?;
    Ok(case_response(&state, &user, StatusCode::OK, case))
}

/// Where the case stands in its lifecycle: its state, the transitions the caller may take now
/// (with their fields), its clocks with labels, the termination hold and, on hotline cases, the
/// earliest lawful shut-off.
#[utoipa::path(get, path = "/cases/{reference}/lifecycle", tag = "cases",
    params(("reference" = String, Path), ("lang" = Option<Language>, Query, description = "`es` for Spanish labels")),
    responses((status = 200, body = crate::lifecycle::CaseLifecycle)),
    security(("bearer" = [])))]
pub async fn case_lifecycle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(reference): Path<String>,
    Query(q): Query<LangQuery>,
) -> ApiResult<Json<crate::lifecycle::CaseLifecycle>> {
    user.require(Permission::CaseRead)?;
    let reference = case_reference(&reference)?;
    let now = state.clock.now();
    let case = state
        .store
        .case(&user.actor(), &reference, user.scope(), false, now)
        .await?;
    let clocks = state.store.clocks(&reference, user.scope(), now).await?;
    let spanish = match q.lang.as_deref() {
        None | Some("en") => false,
        Some("es") => true,
        Some(_) => return Err(ApiError::field("lang", "unknown_value", "en or es.")),
    };
    Ok(Json(
        crate::lifecycle::describe(&state, &case, &clocks, Some(user.user.role), spanish).await?,
    ))
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
    user.require(Permission::CaseLink)?;
    let reference = case_reference(&reference)?;
    let target = body.value.target.trim().to_string();
    let target = target
        .parse::<Reference>()
        .map(|r| r.to_string())
        .map_err(|_| {
            ApiError::field(
                "target",
                "invalid_reference",
                "A case reference such as NYC-2026-000123.",
            )
        })?;
    if target == reference {
        return Err(ApiError::field(
            "target",
            "same_case",
            "A case cannot be linked to itself.",
        ));
    }
    let case = match state
        .store
        .link(
            &user.actor(),
            &reference,
            &target,
            body.value.kind,
            state.clock.now(),
        )
        .await
    {
        Err(StoreError::NotFound)
            if state
                .store
                .case(
                    &user.actor(),
                    &reference,
                    user.scope(),
                    false,
                    state.clock.now(),
                )
                .await
                .is_ok() =>
        {
            return Err(ApiError::field(
                "target",
                "unknown_case",
                "No case with that reference.",
            ));
        }
        other => other?,
    };
    Ok(case_response(&state, &user, StatusCode::OK, case))
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
    user.require(Permission::CaseMerge)?;
    let reference = case_reference(&reference)?;
    let into = body
        .value
        .into
        .trim()
        .parse::<Reference>()
        .map(|r| r.to_string())
        .map_err(|_| {
            ApiError::field(
                "into",
                "invalid_reference",
                "A case reference such as NYC-2026-000123.",
            )
        })?;
    if into == reference {
        return Err(ApiError::field(
            "into",
            "same_case",
            "A case cannot be merged into itself.",
        ));
    }
    let case = match state
        .store
        .merge(&user.actor(), &reference, &into, state.clock.now())
        .await
    {
        Err(StoreError::NotFound)
            if state
                .store
                .case(
                    &user.actor(),
                    &reference,
                    user.scope(),
                    false,
                    state.clock.now(),
                )
                .await
                .is_ok() =>
        {
            return Err(ApiError::field(
                "into",
                "unknown_case",
                "No case with that reference.",
            ));
        }
        other => other?,
    };
    Ok(case_response(&state, &user, StatusCode::OK, case))
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
    user.require(Permission::AuditRead)?;
    let reference = case_reference(&reference)?;
    // 404 for unknown cases, as elsewhere.
    state
        .store
        .case(
            &user.actor(),
            &reference,
            user.scope(),
            false,
            state.clock.now(),
        )
        .await?;
    Ok(Json(state.store.audit_for_subject(&reference, 500).await?))
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
    user.require(Permission::CaseRead)?;
    let reference = case_reference(&reference)?;
    Ok(Json(
        state
            .store
            .clocks(&reference, user.scope(), state.clock.now())
            .await?,
    ))
}

/// Each case kind's lifecycle: states (with the status each counts as and the termination
/// hold), transitions (from, to, roles, required fields, clock effects), clocks and fields.
#[utoipa::path(get, path = "/lifecycles", tag = "cases", responses((status = 200, body = Vec<redress_domain::lifecycle::Lifecycle>)), security(("bearer" = [])))]
pub async fn lifecycles(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<redress_domain::lifecycle::Lifecycle>>> {
    user.require(Permission::ReferenceDataRead)?;
    Ok(Json(state.lifecycles.0.clone()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderInput {
    /// When to write the reminder on the timeline (RFC 3339).
    #[schema(value_type = String, format = DateTime, example = "2026-12-01T14:00:00Z")]
    pub at: String,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50000)]
    pub body: Option<String>,
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
    user.require(Permission::CaseUpdate)?;
    let reference = case_reference(&reference)?;
    let b = body.value;
    let mut errors = FieldErrors::new();
    let text = v::required_text(&mut errors, "body", b.body.as_deref(), v::BODY_MAX);
    let now = state.clock.now();
    let at = match b.at.parse::<jiff::Timestamp>() {
        Ok(t) if t >= now - jiff::SignedDuration::from_mins(1) => Some(t),
        Ok(_) => {
            errors.push("at", "in_the_past", "Choose a time in the future.");
            None
        }
        Err(_) => {
            errors.push(
                "at",
                "invalid_date",
                "An RFC 3339 time such as 2026-12-01T14:00:00Z.",
            );
            None
        }
    };
    let (Some(text), Some(at), true) = (text, at, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    state
        .store
        .schedule_reminder(&user.actor(), &reference, user.scope(), &text, at, now)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ReminderScheduled { at })).into_response())
}
