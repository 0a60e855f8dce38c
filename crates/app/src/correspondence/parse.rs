//! Reading an RFC 5322 message (mail-parser) into what the intake needs: who wrote, to whom,
//! what it answers, its text (HTML-only bodies turned into plain text, forwarded messages
//! included), its files, what kind of message it is, and, for a bounce, what it reports.
//! Never panics: malformed MIME, unknown charsets and truncated messages give what can be read.

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use redress_domain::correspondence::{ClassHeaders, MailClass, classify, message_ids};

/// A file that came with a message, before the content checks.
#[derive(Debug, Clone)]
pub struct MailFile {
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BounceReport {
    /// The `Message-ID`s (without brackets) of the messages it returns.
    pub original_ids: Vec<String>,
    pub recipient: Option<String>,
    /// The status and diagnostic, as the reporting server wrote them.
    pub reason: String,
}

/// An incoming message as the intake reads it.
#[derive(Debug, Clone)]
pub struct IncomingMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    /// What it answers: `In-Reply-To` then `References`, newest first, without brackets.
    pub answers: Vec<String>,
    /// Its `References` as written (for the thread of an answer to it).
    pub references: Vec<String>,
    pub text: String,
    pub content_language: Option<String>,
    pub class: MailClass,
    pub files: Vec<MailFile>,
    pub bounce: Option<BounceReport>,
}

fn text_of(v: &HeaderValue<'_>) -> Option<String> {
    match v {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => Some(l.join(" ")),
        _ => None,
    }
}

fn ids_of(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => message_ids(&format!("<{t}>")),
        HeaderValue::TextList(l) => l.iter().map(|t| t.trim().to_string()).collect(),
        _ => vec![],
    }
}

fn addresses(v: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    v.map(|a| {
        a.iter()
            .filter_map(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase())
            .collect()
    })
    .unwrap_or_default()
}

/// The text of a message: every text body (HTML ones turned into text by mail-parser when
/// there is no plain version), then each forwarded message's sender, subject and text.
fn body_text(m: &Message<'_>, depth: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    for i in 0..m.text_body_count().max(1) {
        if let Some(t) = m.body_text(i) {
            let t = t.trim();
            if !t.is_empty() {
                parts.push(t.to_string());
            }
        }
    }
    if parts.is_empty() {
        // A message cut short or badly formed may leave its text outside the body list: take
        // any text part that is not a named file.
        for part in m.parts.iter().skip(1) {
            if part.attachment_name().is_some() {
                continue;
            }
            match &part.body {
                PartType::Text(t) if !t.trim().is_empty() => parts.push(t.trim().to_string()),
                PartType::Html(h) => {
                    let t = mail_parser::decoders::html::html_to_text(h);
                    if !t.trim().is_empty() {
                        parts.push(t.trim().to_string());
                    }
                }
                _ => {}
            }
        }
    }
    if depth < 3 {
        for part in m.attachments() {
            if let PartType::Message(inner) = &part.body {
                let from = inner
                    .from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or("");
                let subject = inner.subject().unwrap_or("");
                parts.push(format!(
                    "---------- Forwarded message ----------\nFrom: {from}\nSubject: {subject}\n\n{}",
                    body_text(inner, depth + 1)
                ));
            }
        }
    }
    parts.join("\n\n")
}

/// The files of a message (and of the messages it forwards), with their names as sent.
fn files(m: &Message<'_>, depth: usize, out: &mut Vec<MailFile>) {
    for (i, part) in m.attachments().enumerate() {
        let content_type = part.content_type().map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        });
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let bytes = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Message(inner) => {
                if depth < 3 {
                    files(inner, depth + 1, out);
                }
                continue;
            }
            PartType::Multipart(_) => continue,
        };
        out.push(MailFile {
            filename: name,
            content_type,
            bytes,
        });
    }
}

/// The header lines named `name` anywhere after the message's own header: in a bounce, those
/// of the report and of the returned message.
fn body_fields(raw: &[u8], body_offset: usize, name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(raw.get(body_offset..).unwrap_or_default());
    let prefix = format!("{}:", name.to_ascii_lowercase());
    text.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
        .collect()
}

fn bounce_report(m: &Message<'_>, raw: &[u8]) -> BounceReport {
    let offset = m.root_part().raw_body_offset() as usize;
    let mut original_ids: Vec<String> = Vec::new();
    for part in m.attachments() {
        if let PartType::Message(inner) = &part.body
            && let Some(id) = inner.message_id()
        {
            original_ids.push(id.to_string());
        }
    }
    for line in body_fields(raw, offset, "Message-ID") {
        for id in message_ids(&line) {
            if !original_ids.contains(&id) {
                original_ids.push(id);
            }
        }
    }
    let recipient = body_fields(raw, offset, "Final-Recipient")
        .into_iter()
        .chain(body_fields(raw, offset, "Original-Recipient"))
        .next()
        .map(|r| r.rsplit(';').next().unwrap_or(&r).trim().to_string());
    let status = body_fields(raw, offset, "Status").into_iter().next();
    let diagnostic = body_fields(raw, offset, "Diagnostic-Code")
        .into_iter()
        .next();
    let reason = match (status, diagnostic) {
        (Some(s), Some(d)) => format!("{s} {d}"),
        (Some(s), None) => s,
        (None, Some(d)) => d,
        (None, None) => "undeliverable".to_string(),
    };
    BounceReport {
        original_ids,
        recipient,
        reason: reason.chars().take(500).collect(),
    }
}

/// The headers that say what a message is.
fn class_of(m: &Message<'_>, sender: Option<&str>) -> MailClass {
    let header = |name: &str| m.header(name).and_then(text_of);
    let auto_submitted = header("Auto-Submitted");
    let precedence = header("Precedence");
    let suppress = header("X-Auto-Response-Suppress")
        .map(|v| v.to_ascii_lowercase())
        .is_some_and(|v| v.contains("all") || v.contains("oof") || v.contains("autoreply"));
    let x_autoreply = m.header("X-Autoreply").is_some()
        || m.header("X-Autorespond").is_some()
        || m.header("X-Autoresponder").is_some()
        || suppress;
    let null_return_path = m
        .header_raw("Return-Path")
        .is_some_and(|v| v.trim().trim_start_matches(':').trim() == "<>")
        || matches!(m.return_path(), HeaderValue::Text(t) if t.trim().is_empty());
    let delivery_report = m.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    });
    classify(&ClassHeaders {
        auto_submitted: auto_submitted.as_deref(),
        precedence: precedence.as_deref(),
        x_autoreply,
        null_return_path,
        delivery_report,
        list_id: !m.list_id().is_empty(),
        from: sender,
        subject: m.subject(),
    })
}

/// Reads a message; `None` when nothing in it can be read as a message.
pub fn read(raw: &[u8]) -> Option<IncomingMail> {
    let m = MessageParser::default().parse(raw)?;
    if m.headers().is_empty() {
        return None;
    }
    let from = m.from().and_then(|a| a.first());
    let sender = from
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| a.contains('@'));
    let sender_name = from.and_then(|a| a.name()).map(str::to_string);
    let mut recipients = addresses(m.to());
    recipients.extend(addresses(m.cc()));
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(v) = m.header(name).and_then(text_of) {
            let v = v.trim().trim_matches(['<', '>']).to_ascii_lowercase();
            if v.contains('@') && !recipients.contains(&v) {
                recipients.push(v);
            }
        }
    }
    let references = ids_of(m.references());
    let mut answers = ids_of(m.in_reply_to());
    for id in references.iter().rev() {
        if !answers.contains(id) {
            answers.push(id.clone());
        }
    }
    let class = class_of(&m, sender.as_deref());
    let bounce = (class == MailClass::Bounce).then(|| bounce_report(&m, raw));
    let mut attached = Vec::new();
    if class != MailClass::Bounce {
        files(&m, 0, &mut attached);
    }
    let content_language = text_of(m.content_language()).or_else(|| {
        m.text_bodies()
            .next()
            .and_then(|p| text_of(p.content_language()))
    });
    Some(IncomingMail {
        message_id: m
            .message_id()
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty()),
        sender,
        sender_name,
        recipients,
        subject: m.subject().unwrap_or("").trim().to_string(),
        answers,
        references,
        text: body_text(&m, 0),
        content_language,
        class,
        files: attached,
        bounce,
    })
}

/// What can be told of a message from its header alone (one too large to take in whole).
pub fn read_header(raw: &[u8]) -> (Option<String>, String, String) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .map_or(raw.len().min(64 * 1024), |p| p + 2);
    let head = &raw[..end.min(raw.len())];
    match MessageParser::default().parse_headers(head) {
        Some(m) => (
            m.message_id().map(|id| id.trim().to_string()),
            m.from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or("")
                .to_ascii_lowercase(),
            m.subject().unwrap_or("").to_string(),
        ),
        None => (None, String::new(), String::new()),
    }
}
