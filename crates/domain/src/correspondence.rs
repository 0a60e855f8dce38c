//! Correspondence rules: what kind of message an incoming email is (a person writing, an
//! automatic reply, a bounce, list traffic), which case a reply belongs to (the `Message-ID`s
//! it answers, the reference in its subject), where a new one goes (the office's mail routes),
//! the language it is written in, and the subject and `Message-ID` of what Redress sends.
//!
//! Pure: the MIME parsing and the store live outside; these take what was read.

use crate::{CaseKind, Language, Reference};
use serde::Deserialize;

/// What an incoming message is, from its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailClass {
    /// Written by a person: threaded onto its case or opens one, and may be answered.
    Personal,
    /// An out-of-office or other automatic answer (RFC 3834 `Auto-Submitted`, `X-Autoreply`,
    /// `Precedence: auto_reply`): kept, never answered, never opens a case.
    AutoReply,
    /// A delivery status notification: marks the message it refers to as failed.
    Bounce,
    /// Mailing-list or bulk traffic (`List-Id`, `Precedence: bulk|list|junk`): kept, never
    /// answered, never opens a case.
    List,
}

impl MailClass {
    pub fn as_str(self) -> &'static str {
        match self {
            MailClass::Personal => "personal",
            MailClass::AutoReply => "auto_reply",
            MailClass::Bounce => "bounce",
            MailClass::List => "list",
        }
    }

    /// Whether Redress may ever answer it (no notice, no acknowledgement otherwise: two
    /// automatic responders must not write to each other for ever).
    pub fn may_be_answered(self) -> bool {
        self == MailClass::Personal
    }
}

/// The headers that say what a message is, as read (absent headers are `None`).
#[derive(Debug, Clone, Default)]
pub struct ClassHeaders<'a> {
    pub auto_submitted: Option<&'a str>,
    pub precedence: Option<&'a str>,
    /// `X-Autoreply`, `X-Autorespond` or `X-Auto-Response-Suppress: All|OOF|AutoReply`.
    pub x_autoreply: bool,
    /// `Return-Path: <>`: the null sender of bounces and other automatic mail.
    pub null_return_path: bool,
    /// `Content-Type: multipart/report; report-type=delivery-status`.
    pub delivery_report: bool,
    pub list_id: bool,
    /// The sender's address.
    pub from: Option<&'a str>,
    pub subject: Option<&'a str>,
}

/// What kind of message the headers describe.
pub fn classify(h: &ClassHeaders<'_>) -> MailClass {
    let from_local = h
        .from
        .and_then(|f| f.split('@').next())
        .unwrap_or("")
        .to_ascii_lowercase();
    let daemon = matches!(from_local.as_str(), "mailer-daemon" | "postmaster");
    if h.delivery_report || (daemon && h.null_return_path) {
        return MailClass::Bounce;
    }
    if daemon {
        let subject = h.subject.unwrap_or("").to_ascii_lowercase();
        if [
            "undeliver",
            "delivery status",
            "failure notice",
            "returned mail",
        ]
        .iter()
        .any(|w| subject.contains(w))
        {
            return MailClass::Bounce;
        }
    }
    let auto = h
        .auto_submitted
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| !v.is_empty() && !v.starts_with("no"));
    let precedence = h
        .precedence
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if auto || h.x_autoreply || precedence == "auto_reply" {
        return MailClass::AutoReply;
    }
    if h.list_id || matches!(precedence.as_str(), "bulk" | "list" | "junk") {
        return MailClass::List;
    }
    if h.null_return_path || daemon {
        // Null sender without a report: automatic mail of some other kind.
        return MailClass::AutoReply;
    }
    MailClass::Personal
}

/// The first case reference written in a text (a subject such as `Re: Your complaint
/// [NYC-2026-000123]`), with any office code.
pub fn reference_in(text: &str) -> Option<Reference> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_uppercase() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
                .map_or(bytes.len(), |p| i + p);
            if let Ok(r) = text[i..end].parse::<Reference>() {
                return Some(r);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// The subject of a message Redress sends about a case: always carries the reference in
/// brackets, so that an answer finds its case even when its mail program drops the threading
/// headers. `Re: ` is added once to the subject being answered.
pub fn subject_for(reference: &str, subject: &str, answering: bool) -> String {
    let subject = subject.trim();
    let mut out = if answering && !subject.to_ascii_lowercase().starts_with("re:") {
        format!("Re: {subject}")
    } else {
        subject.to_string()
    };
    if !out.contains(reference) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('[');
        out.push_str(reference);
        out.push(']');
    }
    out
}

/// The `Message-ID` of an outgoing message: unique per outbox row, the same on every retry
/// (so that a receiver drops duplicates), and naming the case it is about.
pub fn message_id_for(outbox_id: i64, reference: Option<&str>, domain: &str) -> String {
    match reference {
        Some(r) => format!("<redress.{outbox_id}.{r}@{domain}>"),
        None => format!("<redress.{outbox_id}@{domain}>"),
    }
}

/// The case a `Message-ID` of Redress's own names, if it is one.
pub fn reference_of_message_id(id: &str) -> Option<Reference> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let local = id.split('@').next()?;
    let rest = local.strip_prefix("redress.")?;
    let (_, reference) = rest.split_once('.')?;
    reference.parse().ok()
}

/// Message ids as written in `In-Reply-To` or `References`: each `<...>` in order, without
/// duplicates; bare ids (without brackets) are taken whole.
pub fn message_ids(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    let mut found = false;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let id = rest[open + 1..open + close].trim();
        if !id.is_empty() && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
        found = true;
        rest = &rest[open + close + 1..];
    }
    if !found {
        for word in text.split_whitespace() {
            if word.contains('@') && !out.iter().any(|o| o == word) {
                out.push(word.to_string());
            }
        }
    }
    out
}

/// A guess at the language of a message: Spanish when its common words outnumber English
/// ones clearly, else English (the office's default). A `Content-Language` header, when
/// present, wins over the guess.
pub fn guess_language(content_language: Option<&str>, text: &str) -> Language {
    if let Some(tag) = content_language {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("es") {
            return Language::Es;
        }
        if tag.starts_with("en") {
            return Language::En;
        }
    }
    const ES: &[&str] = &[
        "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "por", "para", "con",
        "mi", "su", "es", "no", "se", "me", "lo", "pero", "porque", "factura", "servicio",
        "cuenta", "gracias", "hola", "queja", "estimado", "señor", "señora", "usted", "está",
        "están", "cobro", "pago", "luz", "agua",
    ];
    const EN: &[&str] = &[
        "the",
        "and",
        "to",
        "of",
        "a",
        "in",
        "my",
        "is",
        "for",
        "that",
        "it",
        "with",
        "on",
        "this",
        "was",
        "i",
        "you",
        "have",
        "not",
        "are",
        "bill",
        "service",
        "account",
        "thank",
        "please",
        "hello",
        "dear",
        "complaint",
    ];
    let (mut es, mut en) = (0usize, 0usize);
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(400)
    {
        let w = word.to_lowercase();
        if ES.contains(&w.as_str()) {
            es += 1;
        }
        if EN.contains(&w.as_str()) {
            en += 1;
        }
    }
    if es >= 3 && es * 2 > en * 3 {
        Language::Es
    } else {
        Language::En
    }
}

/// An office's rule for where new mail goes: a message sent to `recipient` (when given) and
/// holding one of `keywords` in its subject or text (when given) opens a case of `kind`,
/// following `lifecycle`, in `unit`. The first rule that matches wins; without one, a mail
/// opens a complaint and the routing rules choose its unit.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailRoute {
    pub recipient: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub kind: Option<CaseKind>,
    pub lifecycle: Option<String>,
    /// A unit code.
    pub unit: Option<String>,
}

/// The first route that matches a message sent to `recipients` with this text.
pub fn route_mail<'r>(
    routes: &'r [MailRoute],
    recipients: &[String],
    text: &str,
) -> Option<&'r MailRoute> {
    let text = text.to_lowercase();
    routes.iter().find(|r| {
        let to_ok = r.recipient.as_ref().is_none_or(|want| {
            recipients
                .iter()
                .any(|got| got.trim().eq_ignore_ascii_case(want.trim()))
        });
        let words_ok = r.keywords.is_empty()
            || r.keywords
                .iter()
                .any(|k| !k.trim().is_empty() && text.contains(&k.trim().to_lowercase()));
        to_ok && words_ok
    })
}

/// The display name for a sender without one: the part of the address before `@`.
pub fn sender_name(name: Option<&str>, address: &str) -> String {
    name.map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| address.split('@').next().unwrap_or(address).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> ClassHeaders<'static> {
        ClassHeaders {
            from: Some("maria@example.com"),
            subject: Some("My bill"),
            ..ClassHeaders::default()
        }
    }

    #[test]
    fn a_person_writing_is_personal() {
        assert_eq!(classify(&headers()), MailClass::Personal);
        let h = ClassHeaders {
            auto_submitted: Some("no"),
            ..headers()
        };
        assert_eq!(classify(&h), MailClass::Personal);
    }

    #[test]
    fn automatic_replies_are_recognized() {
        for h in [
            ClassHeaders {
                auto_submitted: Some("auto-replied"),
                ..headers()
            },
            ClassHeaders {
                auto_submitted: Some("auto-generated"),
                ..headers()
            },
            ClassHeaders {
                x_autoreply: true,
                ..headers()
            },
            ClassHeaders {
                precedence: Some("auto_reply"),
                ..headers()
            },
        ] {
            assert_eq!(classify(&h), MailClass::AutoReply);
            assert!(!classify(&h).may_be_answered());
        }
    }

    #[test]
    fn bounces_and_lists_are_recognized() {
        let dsn = ClassHeaders {
            delivery_report: true,
            ..headers()
        };
        assert_eq!(classify(&dsn), MailClass::Bounce);
        let daemon = ClassHeaders {
            from: Some("MAILER-DAEMON@mx.example.com"),
            null_return_path: true,
            ..headers()
        };
        assert_eq!(classify(&daemon), MailClass::Bounce);
        let old_style = ClassHeaders {
            from: Some("postmaster@mx.example.com"),
            subject: Some("Undelivered Mail Returned to Sender"),
            ..headers()
        };
        assert_eq!(classify(&old_style), MailClass::Bounce);
        let list = ClassHeaders {
            list_id: true,
            ..headers()
        };
        assert_eq!(classify(&list), MailClass::List);
        let bulk = ClassHeaders {
            precedence: Some("Bulk"),
            ..headers()
        };
        assert_eq!(classify(&bulk), MailClass::List);
        let null = ClassHeaders {
            null_return_path: true,
            ..headers()
        };
        assert_eq!(classify(&null), MailClass::AutoReply);
    }

    #[test]
    fn references_are_found_in_subjects() {
        assert_eq!(
            reference_in("Re: Your complaint [NYC-2026-000123]").map(|r| r.to_string()),
            Some("NYC-2026-000123".into())
        );
        assert_eq!(
            reference_in("RE:NYC-2026-000123 follow up").map(|r| r.to_string()),
            Some("NYC-2026-000123".into())
        );
        assert!(reference_in("Order 1NYC-2026-000123").is_none());
        assert!(reference_in("no reference here, NYC-26-1").is_none());
        assert!(reference_in("").is_none());
        assert!(reference_in("ñ-é Ü").is_none());
    }

    #[test]
    fn subjects_carry_the_reference_once() {
        assert_eq!(
            subject_for("NYC-2026-000001", "My bill", true),
            "Re: My bill [NYC-2026-000001]"
        );
        assert_eq!(
            subject_for("NYC-2026-000001", "RE: My bill [NYC-2026-000001]", true),
            "RE: My bill [NYC-2026-000001]"
        );
        assert_eq!(
            subject_for("NYC-2026-000001", "", false),
            "[NYC-2026-000001]"
        );
    }

    #[test]
    fn message_ids_name_their_case() {
        let id = message_id_for(42, Some("NYC-2026-000123"), "example.gov");
        assert_eq!(id, "<redress.42.NYC-2026-000123@example.gov>");
        assert_eq!(
            reference_of_message_id(&id).map(|r| r.to_string()),
            Some("NYC-2026-000123".into())
        );
        assert!(reference_of_message_id("<redress.42@example.gov>").is_none());
        assert!(reference_of_message_id("<abc@example.com>").is_none());
        assert_eq!(
            message_ids("<a@x> <b@y>\r\n <a@x>"),
            vec!["a@x".to_string(), "b@y".to_string()]
        );
        assert_eq!(message_ids("a@x"), vec!["a@x".to_string()]);
        assert!(message_ids("<").is_empty());
    }

    #[test]
    fn language_is_guessed() {
        assert_eq!(
            guess_language(
                None,
                "Hola, mi factura de luz es muy alta y no entiendo por qué. Gracias."
            ),
            Language::Es
        );
        assert_eq!(
            guess_language(None, "Hello, my bill is too high and I do not know why."),
            Language::En
        );
        assert_eq!(guess_language(Some("es-US"), "Hello"), Language::Es);
        assert_eq!(guess_language(None, ""), Language::En);
    }

    #[test]
    fn routes_match_recipient_and_keywords() {
        let routes = vec![
            MailRoute {
                recipient: Some("foil@office.example.gov".into()),
                kind: Some(CaseKind::FoilRequest),
                unit: Some("FOIL".into()),
                ..MailRoute::default()
            },
            MailRoute {
                keywords: vec!["shut off".into(), "corte".into()],
                unit: Some("HOT".into()),
                ..MailRoute::default()
            },
        ];
        let to = |a: &str| vec![a.to_string()];
        assert_eq!(
            route_mail(&routes, &to("FOIL@office.example.gov"), "records")
                .and_then(|r| r.unit.as_deref()),
            Some("FOIL")
        );
        assert_eq!(
            route_mail(
                &routes,
                &to("help@office.example.gov"),
                "They will SHUT OFF my gas"
            )
            .and_then(|r| r.unit.as_deref()),
            Some("HOT")
        );
        assert!(route_mail(&routes, &to("help@office.example.gov"), "billing").is_none());
    }

    #[test]
    fn senders_get_a_name() {
        assert_eq!(sender_name(Some(" Ana Ruiz "), "ana@x.org"), "Ana Ruiz");
        assert_eq!(sender_name(None, "ana@x.org"), "ana");
    }
}
