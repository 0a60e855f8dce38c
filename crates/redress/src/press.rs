//! The typeset press: printed letters through `redress-letters` (typst and the office's
//! template), for the app's print queue.

use redress_app::letters::{Letterhead, ListLine, Press, Sheet};

/// Typesets letters with a template (the shipped one, or the office's `letter_template`).
pub struct TypesetPress {
    template: redress_letters::Template,
}

impl TypesetPress {
    /// The office's template from `path` (checked by typesetting a sample batch), else the
    /// shipped one.
    pub fn new(path: Option<&std::path::Path>) -> anyhow::Result<TypesetPress> {
        use anyhow::Context;
        let template = match path {
            Some(p) => {
                let source = std::fs::read_to_string(p)
                    .with_context(|| format!("reading letter_template {}", p.display()))?;
                redress_letters::Template::from_source(source)
                    .map_err(|e| anyhow::anyhow!("letter_template {}: {e}", p.display()))?
            }
            None => redress_letters::Template::shipped(),
        };
        Ok(TypesetPress { template })
    }
}

impl Press for TypesetPress {
    fn print(
        &self,
        letterhead: &Letterhead,
        sheets: &[Sheet],
        list: &[ListLine],
        title: &str,
    ) -> Result<Vec<u8>, String> {
        let head = redress_letters::Letterhead {
            name: letterhead.name.clone(),
            address_lines: letterhead.address_lines.clone(),
            phone: letterhead.phone.clone(),
            web: letterhead.web.clone(),
        };
        let letters: Vec<redress_letters::PrintedLetter> = sheets
            .iter()
            .map(|s| redress_letters::PrintedLetter {
                spanish: s.spanish,
                recipient: s.recipient.clone(),
                date: s.date.clone(),
                reference: s.reference.clone(),
                subject: s.subject.clone(),
                body: s.body.clone(),
            })
            .collect();
        let lines: Vec<redress_letters::MailingLine> = list
            .iter()
            .map(|l| redress_letters::MailingLine {
                reference: l.reference.clone(),
                recipient: l.recipient.clone(),
                letter: l.letter.clone(),
                pages: None,
            })
            .collect();
        let pdf = if letters.len() == 1 && lines.is_empty() {
            redress_letters::letter_pdf(&head, &letters[0], &self.template)
        } else {
            redress_letters::batch_pdf(&head, &letters, &lines, title, &self.template)
        };
        pdf.map_err(|e| e.to_string())
    }
}
