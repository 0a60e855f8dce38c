//! Uploads and downloads as HTTP carries them: reading a multipart form (the size limit is
//! enforced while reading) and the download's headers. The upload rules and storage are
//! [`redress_app::attachments`].

use axum::extract::Multipart;
pub use redress_app::attachments::{Upload, UploadProblem};
use std::collections::HashMap;

/// Reads a multipart form: the `file` part (optional when `file_required` is false; a second
/// one is refused) and the other parts as text. Nothing is stored here.
pub async fn read_upload(
    mut mp: Multipart,
    max: usize,
    file_required: bool,
) -> Result<(Option<Upload>, HashMap<String, String>), UploadProblem> {
    let mut fields = HashMap::new();
    let mut file: Option<(String, Vec<u8>, Option<String>)> = None;
    let mut file_parts = 0;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(UploadProblem::TooLarge);
            }
            Err(_) => return Err(UploadProblem::Malformed),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            file_parts += 1;
            if file_parts > 1 {
                return Err(UploadProblem::SeveralFiles);
            }
            let filename = field.file_name().unwrap_or("").to_string();
            let declared = field.content_type().map(str::to_string);
            let mut bytes = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > max {
                            return Err(UploadProblem::TooLarge);
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(UploadProblem::TooLarge);
                    }
                    Err(_) => return Err(UploadProblem::Malformed),
                }
            }
            if !bytes.is_empty() {
                file = Some((filename, bytes, declared));
            }
        } else {
            let text = field.text().await.map_err(|_| UploadProblem::Malformed)?;
            if text.len() > 60_000 {
                return Err(UploadProblem::Malformed);
            }
            fields.insert(name, text);
        }
    }
    match file {
        Some((filename, bytes, declared)) => {
            let upload = Upload::checked(&filename, bytes, declared.as_deref(), fields.clone())?;
            Ok((Some(upload), fields))
        }
        None if file_required => Err(UploadProblem::Missing),
        None => Ok((None, fields)),
    }
}

/// `Content-Disposition` for a download: always an attachment, never shown inline.
pub fn disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
