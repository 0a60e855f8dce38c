//! Attachments: bytes on disk, named by their SHA-256 under the attachments directory (a shared
//! directory when several nodes serve one office); the upload rules (a size limit and an
//! allow-list of types decided by content); attaching a file to a case, listing and opening
//! (audited) what a person may see.

use crate::{App, AppError, AppResult, Person};
use redress_domain::attachment::{clean_filename, declared_type_agrees, sniff};
use redress_domain::records::Attachment;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{Role, Visibility};
use redress_store::NewAttachment;
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
            UploadProblem::TooLarge if max >= 1024 * 1024 => {
                format!("Files may be at most {} MB.", max / (1024 * 1024))
            }
            UploadProblem::TooLarge => format!("Files may be at most {} KB.", max.div_ceil(1024)),
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
    /// The problem as a field error on `file`.
    pub fn into_error(self, max: usize) -> AppError {
        AppError::field("file", self.code(), &self.message(max))
    }
}

impl Upload {
    /// Checks a file as received (its name as sent, its bytes, the type it was declared as):
    /// the type is decided by content and must agree with the declared one; the name is cleaned.
    pub fn checked(
        filename: &str,
        bytes: Vec<u8>,
        declared: Option<&str>,
        fields: HashMap<String, String>,
    ) -> Result<Upload, UploadProblem> {
        let content_type = sniff(&bytes).ok_or(UploadProblem::TypeNotAllowed)?;
        if !declared_type_agrees(declared, content_type) {
            return Err(UploadProblem::TypeMismatch);
        }
        Ok(Upload {
            filename: clean_filename(filename),
            bytes,
            content_type,
            fields,
        })
    }
}

/// What a company user may see: company-visible files only.
fn visible_to(person: &Person) -> Option<Visibility> {
    (person.user.role == Role::Company).then_some(Visibility::Company)
}

impl App {
    /// Checks, stores and records an upload on a case. `fields` are the form's other values
    /// (`note`, `visibility`). Nothing is written when anything is wrong.
    pub async fn attach_file(
        &self,
        person: &Person,
        reference: &str,
        upload: Option<Upload>,
        fields: &HashMap<String, String>,
    ) -> AppResult<Attachment> {
        let Some(upload) = upload else {
            return Err(AppError::field("file", "required", "Choose a file."));
        };
        let mut errors = FieldErrors::new();
        let note = v::optional_text(
            &mut errors,
            "note",
            fields.get("note").map(String::as_str),
            v::SHORT_MAX * 5,
        );
        let is_company = person.is_company();
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
        errors.finish(()).map_err(AppError::Validation)?;
        // The case must exist and be visible before anything is written to disk.
        self.store
            .case(
                &person.actor(),
                reference,
                person.scope(),
                false,
                self.clock.now(),
            )
            .await?;
        let size = upload.bytes.len() as i64;
        let sha = self
            .blobs
            .save(upload.bytes)
            .await
            .map_err(|e| AppError::Internal(format!("storing an attachment: {e}")))?;
        let new = NewAttachment {
            filename: upload.filename,
            content_type: upload.content_type.to_string(),
            size_bytes: size,
            sha256: sha,
            visibility,
            note,
            at: self.clock.now(),
            author_id: Some(person.user.id),
        };
        Ok(self
            .store
            .add_attachment(&person.actor(), reference, &new, person.scope())
            .await?)
    }

    /// The case's attachments that the person may see (404 for a case they cannot see).
    pub async fn attachments(
        &self,
        person: &Person,
        reference: &str,
    ) -> AppResult<Vec<Attachment>> {
        self.store
            .case(
                &person.actor(),
                reference,
                person.scope(),
                false,
                self.clock.now(),
            )
            .await?;
        Ok(self
            .store
            .attachments(reference, person.scope(), visible_to(person))
            .await?)
    }

    /// Opens an attachment (the opening is audited by the store): its record and its bytes.
    pub async fn open_attachment(
        &self,
        person: &Person,
        reference: &str,
        id: i64,
    ) -> AppResult<(Attachment, Vec<u8>)> {
        let a = self
            .store
            .open_attachment(
                &person.actor(),
                reference,
                id,
                person.scope(),
                visible_to(person),
                self.clock.now(),
            )
            .await?;
        let bytes = self.file_bytes(&a).await?;
        Ok((a, bytes))
    }

    /// The stored bytes of an attachment already opened.
    pub async fn file_bytes(&self, a: &Attachment) -> AppResult<Vec<u8>> {
        self.blobs
            .read(&a.sha256)
            .await
            .map_err(|e| AppError::Internal(format!("reading attachment {}: {e}", a.id)))
    }
}
