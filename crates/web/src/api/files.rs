//! Attachments on a case: upload (multipart), list and download (audited).

use crate::AppState;
use crate::attachments::{Upload, disposition, read_upload};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_domain::records::Attachment;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::*;
use redress_store::NewAttachment;
use std::collections::HashMap;

fn reference(r: &str) -> ApiResult<String> {
    r.parse::<Reference>()
        .map(|r| r.to_string())
        .map_err(|_| ApiError::NotFound)
}

/// What a company user may see: company-visible files only.
fn visible_to(user: &CurrentUser) -> Option<Visibility> {
    (user.user.role == Role::Company).then_some(Visibility::Company)
}

/// Checks, stores and records an upload read by [`read_upload`]; shared by the API and the
/// case page.
pub(crate) async fn store_upload(
    state: &AppState,
    user: &CurrentUser,
    reference: &str,
    upload: Option<Upload>,
    fields: &HashMap<String, String>,
) -> ApiResult<Attachment> {
    let Some(upload) = upload else {
        return Err(ApiError::field("file", "required", "Choose a file."));
    };
    let mut errors = FieldErrors::new();
    let note = v::optional_text(
        &mut errors,
        "note",
        fields.get("note").map(String::as_str),
        v::SHORT_MAX * 5,
    );
    let is_company = user.user.role == Role::Company;
    let visibility = match (
        fields
            .get("visibility")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty()),
        is_company,
    ) {
        (None, true) => Visibility::Company,
        (None, false) => Visibility::Internal,
        (Some(s), _) => match s.parse::<Visibility>() {
            Ok(Visibility::Company) if is_company => Visibility::Company,
            Ok(v) if !is_company => v,
            _ => {
                errors.push(
                    "visibility",
                    "not_allowed",
                    "internal, consumer or company (company users: company).",
                );
                Visibility::Internal
            }
        },
    };
    errors.finish(()).map_err(ApiError::Validation)?;
    // The case must exist and be visible before anything is written to disk.
    state
        .store
        .case(
            &user.actor(),
            reference,
            user.scope(),
            false,
            state.clock.now(),
        )
        .await?;
    let size = upload.bytes.len() as i64;
    let sha = state
        .blobs
        .save(upload.bytes)
        .await
        .map_err(|e| ApiError::Internal(format!("storing an attachment: {e}")))?;
    let new = NewAttachment {
        filename: upload.filename,
        content_type: upload.content_type.to_string(),
        size_bytes: size,
        sha256: sha,
        visibility,
        note,
        at: state.clock.now(),
        author_id: Some(user.user.id),
    };
    Ok(state
        .store
        .add_attachment(&user.actor(), reference, &new, user.scope())
        .await?)
}

/// Sends an attachment's bytes, as a download.
pub(crate) async fn send_file(state: &AppState, a: &Attachment) -> ApiResult<Response> {
    let bytes = state
        .blobs
        .read(&a.sha256)
        .await
        .map_err(|e| ApiError::Internal(format!("reading attachment {}: {e}", a.id)))?;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&a.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

/// Attach a file (multipart form: `file`, optional `visibility` and `note`). PDF, PNG, JPEG,
/// GIF, TIFF, WebP and plain text are accepted, decided by content; at most 10 MB by default.
#[utoipa::path(post, path = "/cases/{reference}/attachments", tag = "timeline",
    params(("reference" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` (required), `visibility`, `note`"),
    responses((status = 201, body = Attachment), (status = 422, description = "Missing file, type not allowed or too large; nothing is stored")),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(r): Path<String>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    user.require(Permission::TimelineWrite)?;
    let r = reference(&r)?;
    let mp = mp.map_err(|e| {
        ApiError::field(
            "file",
            "invalid_type",
            &format!("Send multipart/form-data with a `file` part ({e})."),
        )
    })?;
    let max = state.settings.max_upload_bytes;
    let (upload, fields) = read_upload(mp, max, true)
        .await
        .map_err(|p| p.into_api(max))?;
    let a = store_upload(&state, &user, &r, upload, &fields).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// The case's attachments that the caller may see.
#[utoipa::path(get, path = "/cases/{reference}/attachments", tag = "timeline",
    params(("reference" = String, Path)),
    responses((status = 200, body = Vec<Attachment>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(r): Path<String>,
) -> ApiResult<Json<Vec<Attachment>>> {
    user.require(Permission::TimelineRead)?;
    let r = reference(&r)?;
    // 404 for cases the caller cannot see.
    state
        .store
        .case(&user.actor(), &r, user.scope(), false, state.clock.now())
        .await?;
    Ok(Json(
        state
            .store
            .attachments(&r, user.scope(), visible_to(&user))
            .await?,
    ))
}

/// Download an attachment (audited).
#[utoipa::path(get, path = "/cases/{reference}/attachments/{id}", tag = "timeline",
    params(("reference" = String, Path), ("id" = i64, Path)),
    responses((status = 200, description = "The file, as a download"), (status = 404, description = "No such attachment")),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((r, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    user.require(Permission::TimelineRead)?;
    let r = reference(&r)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let a = state
        .store
        .open_attachment(
            &user.actor(),
            &r,
            id,
            user.scope(),
            visible_to(&user),
            state.clock.now(),
        )
        .await?;
    send_file(&state, &a).await
}
