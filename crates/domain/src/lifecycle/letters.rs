//! Form letters: who they go to, their placeholders, and writing one out for a case.

use super::{FieldKind, Lifecycle};
use serde::Serialize;

/// Who a letter goes to; its timeline entry is visible to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Addressee {
    Consumer,
    Company,
}

/// A form letter: English and Spanish text with placeholders such as `{{reference}}`,
/// `{{fact.mailed_on}}` or `{{due.review_request_window}}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LetterDef {
    pub name: String,
    /// The transition that produces it.
    pub transition: String,
    pub to: Addressee,
    /// Always sent on paper, even to a consumer with an email address.
    pub post: bool,
    pub subject: String,
    pub subject_es: String,
    pub body: String,
    pub body_es: String,
}

/// A letter written out for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub name: String,
    pub to: Addressee,
    /// Always sent on paper.
    pub post: bool,
    pub language: crate::Language,
    pub subject: String,
    pub body: String,
}

/// What a letter's placeholders are filled with.
#[derive(Debug, Clone, Default)]
pub struct LetterContext {
    pub reference: String,
    pub consumer: String,
    pub company: String,
    /// The amount in dispute, as money text (`125.40`).
    pub amount: String,
    pub today: String,
    /// Recorded values by field name, as stored (dates `YYYY-MM-DD`, money in cents).
    pub facts: Vec<(String, String)>,
    /// Due dates by clock name, as the office writes them.
    pub dues: Vec<(String, String)>,
    /// The consumer's private status link (notices only).
    pub status_link: String,
}

/// A letter's text with each paragraph on one line: the file wraps lines for reading; a blank
/// line separates paragraphs.
pub(super) fn reflow(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Keeps or drops each section of a text: `{{#word}}...{{/word}}` stays (without its markers)
/// when `has(word)`, and goes otherwise; paragraphs left empty go with it. Sections may nest.
pub(super) fn sections(text: &str, has: &dyn Fn(&str) -> bool) -> String {
    tidy(&keep(text, has))
}

fn keep(text: &str, has: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{#") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let word = rest[open + 3..open + close].trim();
        let after = &rest[open + close + 2..];
        let end_marker = format!("{{{{/{word}}}}}");
        let Some(end) = after.find(&end_marker) else {
            out.push_str(&rest[open..]);
            return out;
        };
        if has(word) {
            out.push_str(&keep(&after[..end], has));
        }
        rest = &after[end + end_marker.len()..];
    }
    out.push_str(rest);
    out
}

/// Paragraphs without their empty neighbours: at most one blank line between two, none at the
/// ends.
fn tidy(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The placeholders of a text: the words between `{{` and `}}`.
pub(super) fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            out.push("");
            break;
        };
        out.push(rest[open + 2..open + close].trim());
        rest = &rest[open + close + 2..];
    }
    out
}

impl Lifecycle {
    /// Writes out a letter in a language, filling its placeholders. Dates stay as recorded,
    /// amounts are shown as money and choices as words.
    pub fn render(
        &self,
        letter: &LetterDef,
        language: crate::Language,
        ctx: &LetterContext,
    ) -> Letter {
        let fill = |text: &str| {
            let mut out = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(open) = rest.find("{{") {
                out.push_str(&rest[..open]);
                let Some(close) = rest[open..].find("}}") else {
                    break;
                };
                let word = rest[open + 2..open + close].trim();
                let value = match word.split_once('.') {
                    None => match word {
                        "reference" => ctx.reference.clone(),
                        "consumer" => ctx.consumer.clone(),
                        "company" => ctx.company.clone(),
                        "amount" => format!("${}", ctx.amount),
                        "status_link" => ctx.status_link.clone(),
                        _ => crate::calendar::recorded_in_words(
                            &ctx.today,
                            language == crate::Language::Es,
                        ),
                    },
                    Some(("fact", f)) => {
                        let raw = ctx
                            .facts
                            .iter()
                            .rev()
                            .find(|(n, _)| n == f)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        match self.field(f).map(|d| &d.kind) {
                            Some(FieldKind::Money) => raw
                                .parse::<i64>()
                                .ok()
                                .and_then(crate::Money::from_cents)
                                .map(|m| format!("${m}"))
                                .unwrap_or(raw),
                            Some(FieldKind::Choice(_)) => self
                                .field(f)
                                .map(|d| d.option_label(&raw, language == crate::Language::Es))
                                .unwrap_or(raw),
                            Some(FieldKind::Date) => crate::calendar::recorded_in_words(
                                &raw,
                                language == crate::Language::Es,
                            ),
                            _ => raw,
                        }
                    }
                    Some((_, c)) => ctx
                        .dues
                        .iter()
                        .rev()
                        .find(|(n, _)| n == c)
                        .map(|(_, v)| {
                            crate::calendar::recorded_in_words(v, language == crate::Language::Es)
                        })
                        .unwrap_or_default(),
                };
                out.push_str(&value);
                rest = &rest[open + close + 2..];
            }
            out.push_str(rest);
            out
        };
        let (subject, body) = if language == crate::Language::Es {
            (&letter.subject_es, &letter.body_es)
        } else {
            (&letter.subject, &letter.body)
        };
        // A section stays only when what it names has a value: no "disputes $0.00".
        let has = |word: &str| match word.split_once('.') {
            None => match word {
                "amount" => !ctx.amount.trim_start_matches(['0', '.']).is_empty(),
                "consumer" => !ctx.consumer.is_empty(),
                "company" => !ctx.company.is_empty(),
                "status_link" => !ctx.status_link.is_empty(),
                _ => true,
            },
            Some(("fact", f)) => ctx.facts.iter().any(|(n, v)| n == f && !v.is_empty()),
            Some((_, c)) => ctx.dues.iter().any(|(n, v)| n == c && !v.is_empty()),
        };
        Letter {
            name: letter.name.clone(),
            to: letter.to,
            post: letter.post,
            language,
            subject: fill(&sections(subject, &has)),
            body: fill(&sections(body, &has)),
        }
    }

    /// The notices sent on an occasion.
    pub fn notices_on(&self, on: &super::NoticeOn) -> Vec<&super::NoticeDef> {
        self.notices.iter().filter(|n| &n.on == on).collect()
    }

    /// The letters a transition produces.
    pub fn letters_for(&self, transition: &str) -> Vec<&LetterDef> {
        self.letters
            .iter()
            .filter(|l| l.transition == transition)
            .collect()
    }
}

#[cfg(test)]
mod section_tests {
    use super::sections;

    #[test]
    fn a_section_stays_only_when_its_placeholder_has_a_value() {
        let text = "Complaint {{reference}}.\n\n{{#amount}}The customer disputes {{amount}}.{{/amount}}\n\nThank you.";
        assert_eq!(
            sections(text, &|w| w == "amount"),
            "Complaint {{reference}}.\n\nThe customer disputes {{amount}}.\n\nThank you."
        );
        assert_eq!(
            sections(text, &|_| false),
            "Complaint {{reference}}.\n\nThank you.",
            "the empty paragraph goes with the section"
        );
        let nested =
            "A{{#company}} for {{company}}{{#amount}} ({{amount}}){{/amount}}{{/company}}.";
        assert_eq!(sections(nested, &|w| w == "company"), "A for {{company}}.");
        assert_eq!(
            sections(nested, &|_| true),
            "A for {{company}} ({{amount}})."
        );
    }
}
