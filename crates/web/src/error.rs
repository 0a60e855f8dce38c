//! Error policy: every failure an HTTP client sees is an RFC 9457 `application/problem+json`
//! body with a stable `code`. Handlers return [`ApiError`]: the application's [`AppError`]
//! plus what only HTTP can get wrong (a body that is not JSON, a missing `If-Match`); it is
//! mapped to a status here, once. Unexpected errors are logged with their cause and answered with `internal` only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::AppError;
use redress_domain::FieldErrors;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {0}")]
    Validation(FieldErrors),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("authentication required")]
    Unauthenticated,
    #[error("the one-time code is missing or wrong")]
    SecondFactorRequired,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("precondition failed: current version is {current}")]
    PreconditionFailed { current: i64 },
    #[error("If-Match header required")]
    PreconditionRequired,
    /// A status change or lifecycle transition not allowed from where the case stands;
    /// `allowed` names what is.
    #[error("invalid transition: {detail}")]
    InvalidTransition {
        detail: String,
        allowed: Vec<String>,
    },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: &str) -> ApiError {
        let mut e = FieldErrors::new();
        e.push(field, code, message);
        ApiError::Validation(e)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Validation(f) => ApiError::Validation(f),
            AppError::Unauthenticated => ApiError::Unauthenticated,
            AppError::SecondFactorRequired => ApiError::SecondFactorRequired,
            AppError::Forbidden => ApiError::Forbidden,
            AppError::NotFound => ApiError::NotFound,
            AppError::Stale { current } => ApiError::PreconditionFailed { current },
            AppError::InvalidTransition { detail, allowed } => {
                ApiError::InvalidTransition { detail, allowed }
            }
            AppError::Conflict(what) => ApiError::Conflict(what),
            AppError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            AppError::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            AppError::Unavailable(cause) => ApiError::Unavailable(cause),
            AppError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// What a client is told to wait (seconds) while the database is out of reach.
pub const RETRY_AFTER_OUTAGE_SECS: &str = "5";

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<i64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = match &self {
            ApiError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some fields need attention",
            ),
            ApiError::MalformedJson(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The request body is not valid JSON",
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large",
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send application/json",
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::SecondFactorRequired => (
                StatusCode::UNAUTHORIZED,
                "second_factor_required",
                "Enter the code from your authenticator app",
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role does not allow this",
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                "The record changed since you read it",
            ),
            ApiError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "Send If-Match with the version you read",
            ),
            ApiError::InvalidTransition { .. } => (
                StatusCode::CONFLICT,
                "invalid_transition",
                "That status change is not allowed now",
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "That already exists"),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request",
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many attempts; wait and try again",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Redress cannot reach its database just now; nothing was changed. Try again shortly",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side",
            ),
        };
        let detail = match &self {
            ApiError::MalformedJson(m) => Some(m.clone()),
            ApiError::InvalidTransition { detail, .. } => Some(detail.clone()),
            ApiError::Conflict(what) => Some(format!("Duplicate: {what}")),
            ApiError::Validation(e) => Some(e.to_string()),
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
                tracing::error!(%cause, "request failed");
                None
            }
            _ => None,
        };
        let problem = Problem {
            kind: format!("/problems/{code}"),
            title,
            status: status.as_u16(),
            code,
            detail,
            errors: match &self {
                ApiError::Validation(e) => Some(e),
                _ => None,
            },
            allowed: match &self {
                ApiError::InvalidTransition { allowed, .. } => Some(allowed),
                _ => None,
            },
            current_version: match &self {
                ApiError::PreconditionFailed { current } => Some(*current),
                _ => None,
            },
        };
        let body =
            serde_json::to_vec(&problem).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(status, StatusCode::SERVICE_UNAVAILABLE) {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_OUTAGE_SECS),
            );
        }
        if matches!(status, StatusCode::UNAUTHORIZED) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
