//! Attachment bytes on disk, named by their SHA-256 under the attachments directory (a shared
//! directory when several nodes serve one office), and the upload rules: a size limit and an
//! allow-list of types decided by content.

use crate::error::ApiError;
use axum::extract::Multipart;
use redress_domain::attachment::{clean_filename, declared_type_agrees, sniff};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Blobs {
        Blobs { dir }
    }

    fn path_of(&self, sha: &str) -> Option<PathBuf> {
        (sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| self.dir.join(&sha[..2]).join(sha))
    }

    /// Stores bytes durably (written, flushed, renamed into place, directory flushed) and
    /// returns their SHA-256. Storing the same bytes twice keeps one copy.
    pub async fn save(&self, bytes: Vec<u8>) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(&bytes));
        let Some(path) = self.path_of(&sha) else {
            return Err(std::io::Error::other("bad digest"));
        };
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if path.exists() {
                return Ok(());
            }
            let dir = path
                .parent()
                .ok_or_else(|| std::io::Error::other("no parent"))?;
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(
                ".{}.tmp",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("upload")
            ));
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(dir)?.sync_all()?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(sha)
    }

    pub async fn read(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path_of(sha)
            .ok_or_else(|| std::io::Error::other("bad digest"))?;
        tokio::fs::read(&path).await
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A file and the text fields sent with it.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub fields: HashMap<String, String>,
}

/// Why an upload was refused; each names the `file` field.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadProblem {
    Missing,
    TooLarge,
    TypeNotAllowed,
    /// The content is not what the part's `Content-Type` says it is.
    TypeMismatch,
    /// More than one `file` part: one file per upload.
    SeveralFiles,
    Malformed,
}

impl UploadProblem {
    pub fn code(&self) -> &'static str {
        match self {
            UploadProblem::Missing => "required",
            UploadProblem::TooLarge => "file_too_large",
            UploadProblem::TypeNotAllowed => "file_type_not_allowed",
            UploadProblem::TypeMismatch => "file_type_mismatch",
            UploadProblem::SeveralFiles => "too_many_files",
            UploadProblem::Malformed => "invalid_type",
        }
    }
    pub fn message(&self, max: usize) -> String {
        match self {
            UploadProblem::Missing => "Choose a file.".into(),
            UploadProblem::TooLarge => format!("Files may be at most {} MB.", max / (1024 * 1024)),
            UploadProblem::TypeNotAllowed => {
                "Only PDF, PNG, JPEG, GIF, TIFF, WebP and plain-text files are accepted.".into()
            }
            UploadProblem::TypeMismatch => {
                "The file's content does not match the type it was sent as.".into()
            }
            UploadProblem::SeveralFiles => "Send one file per upload.".into(),
            UploadProblem::Malformed => "The upload could not be read.".into(),
        }
    }
    pub fn into_api(self, max: usize) -> ApiError {
        ApiError::field("file", self.code(), &self.message(max))
    }
}

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
            let filename = clean_filename(field.file_name().unwrap_or(""));
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
            let content_type = sniff(&bytes).ok_or(UploadProblem::TypeNotAllowed)?;
            if !declared_type_agrees(declared.as_deref(), content_type) {
                return Err(UploadProblem::TypeMismatch);
            }
            Ok((
                Some(Upload {
                    filename,
                    bytes,
                    content_type,
                    fields: fields.clone(),
                }),
                fields,
            ))
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
