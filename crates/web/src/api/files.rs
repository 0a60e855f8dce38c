//! Attachments on a case over HTTP: upload (multipart), list and download (audited).

use crate::AppState;
use crate::attachments::{disposition, read_upload};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_domain::Permission;
use redress_domain::records::Attachment;

/// An attachment's bytes, as a download that no browser will show inline or run.
pub(crate) fn send_file(a: &Attachment, bytes: Vec<u8>) -> Response {
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
    r
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
    let r = redress_app::case_reference(&r)?;
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
        .map_err(|p| p.into_error(max))?;
    let a = state.attach_file(&user, &r, upload, &fields).await?;
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
    let r = redress_app::case_reference(&r)?;
    Ok(Json(state.attachments(&user, &r).await?))
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
    let r = redress_app::case_reference(&r)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let (a, bytes) = state.open_attachment(&user, &r, id).await?;
    Ok(send_file(&a, bytes))
}
