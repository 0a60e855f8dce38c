//! A case's timeline (entries in position order, each with its visibility) and its
//! attachments (their bytes live outside the database, under their SHA-256).

use crate::audit::{append_audit, audit_case_change};
use crate::queries as q;
use crate::rows::{change_row, instant, micros, not_merged, word};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, Result, Scope, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::records::*;
use redress_domain::*;

#[derive(Debug, Clone)]
pub struct NewEntry {
    pub entry_type: EntryType,
    pub body: String,
    pub visibility: Visibility,
    pub data: serde_json::Value,
    pub at: Timestamp,
    /// Author; `None` for system entries.
    pub author_id: Option<i64>,
}

/// A file being attached; its bytes are already stored under their SHA-256.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub visibility: Visibility,
    /// What the timeline says about it; the file name when empty.
    pub note: Option<String>,
    pub at: Timestamp,
    pub author_id: Option<i64>,
}

/// A case's timeline and attachments.
#[async_trait]
pub trait Timeline: Send + Sync {
    async fn add_entry(
        &self,
        actor: &Actor,
        reference: &str,
        entry: &NewEntry,
        scope: Scope,
    ) -> Result<TimelineEntry>;
    /// The timeline, oldest first; `visible_to` limits it to entries of that visibility.
    async fn timeline(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        visible_to: Option<Visibility>,
        at: Timestamp,
    ) -> Result<Vec<TimelineEntry>>;
    /// Records an attachment and its timeline entry.
    async fn add_attachment(
        &self,
        actor: &Actor,
        reference: &str,
        attachment: &NewAttachment,
        scope: Scope,
    ) -> Result<Attachment>;
    /// A case's attachments that the caller may see.
    async fn attachments(
        &self,
        reference: &str,
        scope: Scope,
        visible_to: Option<Visibility>,
    ) -> Result<Vec<Attachment>>;
    /// One attachment, for download; the download is audited.
    async fn open_attachment(
        &self,
        actor: &Actor,
        reference: &str,
        id: i64,
        scope: Scope,
        visible_to: Option<Visibility>,
        at: Timestamp,
    ) -> Result<Attachment>;
}

fn entry_from(r: &Row) -> Result<TimelineEntry> {
    Ok(TimelineEntry {
        seq: r.int("seq")?,
        entry_type: word(&r.text("entry_type")?)?,
        body: r.text("body")?,
        visibility: word(&r.text("visibility")?)?,
        data: serde_json::from_str(&r.text("data")?)
            .map_err(|e| StoreError::Corrupt(format!("timeline data: {e}")))?,
        author: r.opt_text("author")?,
        at: instant(r.int("at")?)?,
    })
}

fn attachment_from(r: &Row) -> Result<Attachment> {
    Ok(Attachment {
        id: r.int("id")?,
        filename: r.text("filename")?,
        content_type: r.text("content_type")?,
        size_bytes: r.int("size_bytes")?,
        sha256: r.text("sha256")?,
        visibility: word(&r.text("visibility")?)?,
        uploaded_by: r.text("uploaded_by")?,
        uploaded_at: instant(r.int("uploaded_at")?)?,
    })
}

pub(crate) async fn insert_entry(tx: &mut dyn Tx, case_id: i64, e: &NewEntry) -> Result<i64> {
    let r = tx
        .one(
            q::INSERT_ENTRY,
            args![
                case_id,
                e.entry_type.as_str(),
                e.body.as_str(),
                e.visibility.as_str(),
                e.data.to_string(),
                e.author_id,
                micros(e.at)
            ],
        )
        .await?;
    r.int("seq")
}

/// Timelines and attachments, for any engine.
#[async_trait]
impl<E: Engine> Timeline for E {
    async fn add_entry(
        &self,
        actor: &Actor,
        reference: &str,
        e: &NewEntry,
        scope: Scope,
    ) -> Result<TimelineEntry> {
        let (actor, reference, e) = (actor.clone(), reference.to_string(), e.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, scope).await?;
                tx.execute(q::TOUCH_CASE, args![row.id, micros(e.at)]).await?;
                let seq = insert_entry(tx, row.id, &e).await?;
                let detail = serde_json::json!({"seq": seq, "type": e.entry_type, "visibility": e.visibility});
                audit_case_change(tx, &actor, row.id, &reference, "case.timeline.add", detail, row.timeline_seq, e.at, false).await?;
                entry_from(&tx.one(q::TIMELINE_ENTRY, args![row.id, seq]).await?)
            })
        }))
        .await
    }

    async fn timeline(
        &self,
        actor: &Actor,
        reference: &str,
        scope: Scope,
        visible_to: Option<Visibility>,
        at: Timestamp,
    ) -> Result<Vec<TimelineEntry>> {
        let reference = reference.to_string();
        let r = reference.clone();
        let entries = self
            .read(job(move |tx| {
                Box::pin(async move {
                    let id = tx
                        .one(q::CASE_FOR_CHANGE, args![r, scope.company_id])
                        .await?
                        .int("id")?;
                    tx.query(q::TIMELINE, args![id, visible_to.map(|v| v.as_str())])
                        .await?
                        .iter()
                        .map(entry_from)
                        .collect::<Result<Vec<_>>>()
                })
            }))
            .await?;
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                append_audit(
                    tx,
                    &actor,
                    &format!("case:{reference}"),
                    "case.timeline.view",
                    &reference,
                    "{}",
                    at,
                )
                .await
            })
        }))
        .await?;
        Ok(entries)
    }

    async fn add_attachment(
        &self,
        actor: &Actor,
        reference: &str,
        a: &NewAttachment,
        scope: Scope,
    ) -> Result<Attachment> {
        let (actor, reference, a) = (actor.clone(), reference.to_string(), a.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let row = change_row(tx, &reference, scope).await?;
                not_merged(&row)?;
                tx.execute(q::TOUCH_CASE, args![row.id, micros(a.at)]).await?;
                let id = tx
                    .one(q::INSERT_ATTACHMENT, args![row.id, &a.filename, &a.content_type, a.size_bytes, &a.sha256, a.visibility.as_str(), actor.username.as_str(), micros(a.at)])
                    .await?
                    .int("id")?;
                let entry = NewEntry {
                    entry_type: EntryType::Attachment,
                    body: a.note.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| a.filename.clone()),
                    visibility: a.visibility,
                    data: serde_json::json!({"attachment_id": id, "filename": a.filename, "content_type": a.content_type, "size_bytes": a.size_bytes}),
                    at: a.at,
                    author_id: a.author_id,
                };
                insert_entry(tx, row.id, &entry).await?;
                let detail = serde_json::json!({"attachment_id": id, "filename": a.filename, "sha256": a.sha256, "size_bytes": a.size_bytes});
                audit_case_change(tx, &actor, row.id, &reference, "case.attachment.add", detail, row.timeline_seq, a.at, false).await?;
                Ok(Attachment {
                    id,
                    filename: a.filename,
                    content_type: a.content_type,
                    size_bytes: a.size_bytes,
                    sha256: a.sha256,
                    visibility: a.visibility,
                    uploaded_by: actor.username,
                    uploaded_at: a.at,
                })
            })
        }))
        .await
    }

    async fn attachments(
        &self,
        reference: &str,
        scope: Scope,
        visible_to: Option<Visibility>,
    ) -> Result<Vec<Attachment>> {
        let reference = reference.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(
                    q::ATTACHMENTS,
                    args![reference, scope.company_id, visible_to.map(|v| v.as_str())],
                )
                .await?
                .iter()
                .map(attachment_from)
                .collect()
            })
        }))
        .await
    }

    async fn open_attachment(
        &self,
        actor: &Actor,
        reference: &str,
        id: i64,
        scope: Scope,
        visible_to: Option<Visibility>,
        at: Timestamp,
    ) -> Result<Attachment> {
        let (actor, reference) = (actor.clone(), reference.to_string());
        let r = reference.clone();
        let found = self
            .read(job(move |tx| {
                Box::pin(async move {
                    attachment_from(
                        &tx.one(
                            q::ATTACHMENT,
                            args![r, scope.company_id, visible_to.map(|v| v.as_str()), id],
                        )
                        .await?,
                    )
                })
            }))
            .await?;
        self.write(job(move |tx| {
            Box::pin(async move {
                let detail = serde_json::json!({"attachment_id": id}).to_string();
                append_audit(
                    tx,
                    &actor,
                    &format!("case:{reference}"),
                    "case.attachment.download",
                    &reference,
                    &detail,
                    at,
                )
                .await
            })
        }))
        .await?;
        Ok(found)
    }
}
