//! Printed letters, typeset to PDF with typst from an editable template.
//!
//! A [`Template`] is typst source; the shipped one is
//! `templates/letter.typ`, and an office may replace it with its own copy
//! ([`Template::from_source`]). [`letter_pdf`] typesets one letter,
//! [`batch_pdf`] a batch of letters followed by a mailing list.
//!
//! # How the data reaches the template
//!
//! The letterhead, the letters and the mailing list are encoded as one JSON
//! document and handed to typst as the string input `sys.inputs.data`; the
//! template decodes it with `json(bytes(sys.inputs.data))`. No data is ever
//! written into typst source, so markup characters in names or letter text
//! (`#`, `*`, `$`, `_`, `<`, `@`, `\`) print as themselves.
//!
//! # Isolation
//!
//! The typst world has no file system, no package access and no network: the
//! template is the only source file, and the only fonts are the embedded
//! Liberation Sans faces (SIL Open Font License, see `fonts/`), so the same
//! input gives the same PDF on every machine. PDFs carry no creation date.
//!
//! # Envelope window
//!
//! The shipped template puts the recipient where a standard US #10 window
//! envelope shows it, for a US Letter sheet folded in thirds. On the flat
//! sheet, in PDF points (1/72 in) from the top-left corner, the window is
//! `x 27..351, y 147..228` (see [`WINDOW`]); the address is kept at least
//! 1/8 in (9 pt) inside it. The template explains the geometry and its source.
//!
//! # Cost
//!
//! Typesetting is synchronous and CPU-bound (tens of milliseconds for a
//! letter in a release build); call it from a blocking thread in async code.

mod error;
mod render;

pub use error::{LetterError, TemplateProblem};

use std::fmt;
use std::sync::{Arc, LazyLock};

use serde::Serialize;

/// A rectangle on a US Letter page, in PDF points (1/72 in), measured from
/// the top-left corner of the sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRect {
    /// Distance of the left edge from the left edge of the sheet.
    pub left: f64,
    /// Distance of the top edge from the top edge of the sheet.
    pub top: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Where the window of a standard US #10 window envelope lies on the flat
/// sheet of a letter folded in thirds, as used by the shipped template.
///
/// The envelope is 4-1/8 x 9-1/2 in; its window is 4-1/2 in wide and
/// 1-1/8 in high, 7/8 in from the envelope's left edge and 1/2 in from its
/// bottom edge (the usual position recommended to mailers; California State
/// University mail services give "1/2 in from the bottom and 7/8 in from the
/// left, window size 1-1/8 x 4-1/2 in"). The folded sheet (panels of
/// 11/3 in) rests on its first fold at the envelope's bottom and is centred
/// across the envelope's width, 1/2 in from each side. So the window starts
/// 7/8 - 1/2 = 0.375 in from the sheet's left edge and
/// 11/3 - (1/2 + 1-1/8) = 2.042 in from its top edge. USPS (Domestic Mail
/// Manual 202, window envelopes) asks for 1/8 in of clear space between the
/// address and each window edge, also when the insert moves; the template
/// keeps it.
pub const WINDOW: PageRect = PageRect {
    left: 27.0,
    top: 147.0,
    width: 324.0,
    height: 81.0,
};

/// The most lines an address block can have in the window. Longer
/// recipients are merged into five lines: the name, the middle lines joined
/// with ", ", then the last three lines as given.
pub const MAX_ADDRESS_LINES: usize = 5;

/// The office's letterhead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Letterhead {
    /// The office's name, printed largest.
    pub name: String,
    /// The office's postal address, one entry a line; it is also the
    /// letter's return address.
    pub address_lines: Vec<String>,
    /// A phone number, printed as given.
    pub phone: Option<String>,
    /// A web address, printed as given.
    pub web: Option<String>,
}

/// One letter to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLetter {
    /// Whether the letter is in Spanish (labels such as "Página 1 de 2").
    pub spanish: bool,
    /// The address block: name, then address lines (already in mailing order, e.g. "12 Main St", "Apt 4", "Albany NY 12207").
    pub recipient: Vec<String>,
    /// The date as it should appear, already written in the letter's language (e.g. "December 2, 2026" / "2 de diciembre de 2026").
    pub date: String,
    /// The case reference, printed under the date and on every later page.
    pub reference: String,
    /// The subject line, printed in bold.
    pub subject: String,
    /// Paragraphs separated by a blank line ("\n\n"); single "\n" inside a paragraph is a line break.
    pub body: String,
}

/// One line of a batch's mailing list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailingLine {
    /// The case reference.
    pub reference: String,
    /// The recipient's name and address lines; printed on one line, joined
    /// with ", ".
    pub recipient: Vec<String>,
    /// The name of the letter sent.
    pub letter: String,
    /// The letter's number of pages, when known.
    pub pages: Option<u32>,
}

/// A typst letter template, ready to typeset with.
///
/// Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Template {
    inner: Arc<render::Compiled>,
}

/// The shipped template's source.
const SHIPPED_SOURCE: &str = include_str!("../templates/letter.typ");

static SHIPPED: LazyLock<Template> = LazyLock::new(|| Template {
    inner: Arc::new(render::Compiled::new(SHIPPED_SOURCE.to_owned())),
});

impl Template {
    /// The shipped template (crates/letters/templates/letter.typ, included with include_str!).
    pub fn shipped() -> Template {
        SHIPPED.clone()
    }

    /// An office's own template from its text; checked by compiling a sample letter, errors name the line.
    ///
    /// The check typesets a sample batch (an English and a Spanish letter and
    /// a mailing list), so every part of the template runs once. The
    /// template can load no files or packages; only the embedded fonts exist.
    pub fn from_source(source: String) -> Result<Template, LetterError> {
        let template = Template {
            inner: Arc::new(render::Compiled::new(source)),
        };
        render::render(&template.inner, &render::sample_input())?;
        Ok(template)
    }

    /// The template's typst source, e.g. to offer the shipped one for
    /// download as a starting point.
    pub fn source(&self) -> &str {
        self.inner.source()
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("source_bytes", &self.source().len())
            .finish_non_exhaustive()
    }
}

/// One letter as a PDF.
pub fn letter_pdf(
    letterhead: &Letterhead,
    letter: &PrintedLetter,
    template: &Template,
) -> Result<Vec<u8>, LetterError> {
    let input = render::Input::new(letterhead, std::slice::from_ref(letter), &[], None)?;
    render::render(&template.inner, &input)
}

/// A batch: every letter, each starting on a new page with its own page numbering ("Page 1 of 2" / "Página 1 de 2"), then (when `list` is not empty) a mailing list page(s) titled "Mailing list" with a table: number, reference, recipient (one line, joined with ", "), letter name. Returns the PDF bytes.
///
/// The batch title appears on the mailing list and as the PDF's title.
pub fn batch_pdf(
    letterhead: &Letterhead,
    letters: &[PrintedLetter],
    list: &[MailingLine],
    batch_title: &str,
    template: &Template,
) -> Result<Vec<u8>, LetterError> {
    if letters.is_empty() && list.is_empty() {
        return Err(LetterError::EmptyBatch);
    }
    let input = render::Input::new(letterhead, letters, list, Some(batch_title))?;
    render::render(&template.inner, &input)
}
