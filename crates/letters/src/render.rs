//! The typst side: fonts, the data handed to the template, compiling and
//! PDF export.

use std::sync::LazyLock;

use serde::Serialize;
use typst::World;
use typst::WorldExt;
use typst::diag::SourceDiagnostic;
use typst::ecow::EcoVec;
use typst::foundations::{Dict, Value};
use typst::text::Font;
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::{
    LetterError, Letterhead, MAX_ADDRESS_LINES, MailingLine, PrintedLetter, TemplateProblem,
};

/// The template's file name inside the typst world (errors refer to it).
const MAIN_FILE: &str = "/letter.typ";

/// How many compilations typst's memoization cache keeps unused entries for.
/// Small, so memory stays flat across many letters, while fonts and the
/// parsed template are reused between consecutive letters.
const CACHE_MAX_AGE: usize = 3;

static FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../fonts/LiberationSans-Regular.ttf"),
    include_bytes!("../fonts/LiberationSans-Bold.ttf"),
    include_bytes!("../fonts/LiberationSans-Italic.ttf"),
    include_bytes!("../fonts/LiberationSans-BoldItalic.ttf"),
];

static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(typst::foundations::Bytes::new(*data)))
        .collect()
});

/// A template with its typst engine (fonts and parsed source).
pub(crate) struct Compiled {
    source: String,
    engine: TypstEngine<TypstTemplateMainFile>,
}

impl Compiled {
    pub(crate) fn new(source: String) -> Self {
        let engine = TypstEngine::builder()
            .main_file((MAIN_FILE, source.clone()))
            .fonts(FONTS.iter().cloned())
            .comemo_evict_max_age(Some(CACHE_MAX_AGE))
            .build();
        Compiled { source, engine }
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }
}

/// Typesets `input` with the template and writes the PDF.
pub(crate) fn render(template: &Compiled, input: &Input<'_>) -> Result<Vec<u8>, LetterError> {
    let json = serde_json::to_string(input)?;
    let mut inputs = Dict::new();
    inputs.insert("data".into(), Value::Str(json.as_str().into()));
    let world = template
        .engine
        .world_builder()
        .with_inputs(inputs)
        .build()
        .map_err(|error| LetterError::Engine(error.to_string()))?;
    let compiled = typst::compile::<PagedDocument>(&world).output;
    let result = match compiled {
        Ok(document) => typst_pdf::pdf(&document, &PdfOptions::default())
            .map_err(|errors| LetterError::Pdf(messages(&errors))),
        Err(errors) => Err(LetterError::Template(problems(&world, &errors))),
    };
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

fn problems(world: &dyn World, errors: &EcoVec<SourceDiagnostic>) -> Vec<TemplateProblem> {
    errors
        .iter()
        .map(|error| {
            let position = world.range(error.span).and_then(|range| {
                let source = world.source(error.span.id()?).ok()?;
                source.lines().byte_to_line_column(range.start)
            });
            let mut hints: Vec<String> =
                error.hints.iter().map(|hint| hint.v.to_string()).collect();
            if error.message.starts_with("file not found") {
                hints.push(
                    "a letter template can load no files or packages; all data comes from \
                     sys.inputs.data"
                        .to_owned(),
                );
            }
            TemplateProblem {
                line: position.map(|(line, _)| line + 1),
                column: position.map(|(_, column)| column + 1),
                message: error.message.to_string(),
                hints,
            }
        })
        .collect()
}

fn messages(errors: &EcoVec<SourceDiagnostic>) -> String {
    errors
        .iter()
        .map(|error| error.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The JSON document the template reads (`sys.inputs.data`). Its shape is
/// described at the top of `templates/letter.typ`.
#[derive(Debug, Serialize)]
pub(crate) struct Input<'a> {
    letterhead: &'a Letterhead,
    batch_title: Option<&'a str>,
    letters: Vec<LetterData<'a>>,
    mailing_list: Vec<MailingRow<'a>>,
}

#[derive(Debug, Serialize)]
struct LetterData<'a> {
    spanish: bool,
    lang: &'static str,
    recipient: Vec<String>,
    date: &'a str,
    reference: &'a str,
    subject: &'a str,
    paragraphs: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct MailingRow<'a> {
    number: usize,
    reference: &'a str,
    recipient: String,
    letter: &'a str,
    pages: Option<u32>,
}

impl<'a> Input<'a> {
    pub(crate) fn new(
        letterhead: &'a Letterhead,
        letters: &'a [PrintedLetter],
        list: &'a [MailingLine],
        batch_title: Option<&'a str>,
    ) -> Result<Self, LetterError> {
        let letters = letters
            .iter()
            .enumerate()
            .map(|(index, letter)| {
                let recipient = address_block(&letter.recipient);
                if recipient.is_empty() {
                    return Err(LetterError::NoRecipient { number: index + 1 });
                }
                Ok(LetterData {
                    spanish: letter.spanish,
                    lang: if letter.spanish { "es" } else { "en" },
                    recipient,
                    date: &letter.date,
                    reference: &letter.reference,
                    subject: &letter.subject,
                    paragraphs: paragraphs(&letter.body),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mailing_list = list
            .iter()
            .enumerate()
            .map(|(index, line)| MailingRow {
                number: index + 1,
                reference: &line.reference,
                recipient: clean_lines(&line.recipient).join(", "),
                letter: &line.letter,
                pages: line.pages,
            })
            .collect();
        Ok(Input {
            letterhead,
            batch_title,
            letters,
            mailing_list,
        })
    }
}

/// Text without control characters (tabs become spaces), trimmed.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn clean_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|line| line.lines())
        .map(clean)
        .filter(|line| !line.is_empty())
        .collect()
}

/// The recipient as at most [`MAX_ADDRESS_LINES`] non-empty lines: the name,
/// then the middle lines joined with ", ", then the last three lines (street,
/// unit, city line) as given.
fn address_block(recipient: &[String]) -> Vec<String> {
    let mut lines = clean_lines(recipient);
    if lines.len() > MAX_ADDRESS_LINES {
        let keep_tail = MAX_ADDRESS_LINES - 2;
        let tail = lines.split_off(lines.len() - keep_tail);
        let middle = lines.split_off(1).join(", ");
        lines.push(middle);
        lines.extend(tail);
    }
    lines
}

/// The body as paragraphs of lines: a blank line (or one of only spaces)
/// separates paragraphs, a single line break stays a line break.
fn paragraphs(body: &str) -> Vec<Vec<String>> {
    let mut paragraphs = Vec::new();
    let mut current = Vec::new();
    for line in body.lines() {
        let line = clean(line);
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// The sample batch an office's template is checked with; also the content
/// of `templates/sample-data.json`.
pub(crate) fn sample_input() -> Input<'static> {
    static LETTERHEAD: LazyLock<Letterhead> = LazyLock::new(|| Letterhead {
        name: "Office of Consumer Protection".to_owned(),
        address_lines: vec![
            "99 Washington Avenue, Suite 650".to_owned(),
            "Albany NY 12231".to_owned(),
        ],
        phone: Some("(518) 555-0100".to_owned()),
        web: Some("consumer.example.gov".to_owned()),
    });
    static LETTERS: LazyLock<[PrintedLetter; 2]> = LazyLock::new(|| {
        [
            PrintedLetter {
                spanish: false,
                recipient: vec![
                    "Jane Q. Consumer".to_owned(),
                    "12 Main St".to_owned(),
                    "Apt 4".to_owned(),
                    "Albany NY 12207".to_owned(),
                ],
                date: "December 2, 2026".to_owned(),
                reference: "2026-000123".to_owned(),
                subject: "Your complaint about Example Motors".to_owned(),
                body: "Dear Ms. Consumer:\n\nWe have received your complaint and sent it to \
                       the company. It has 15 business days to answer.\n\nSincerely,\nA. Agent\n\
                       Consumer Representative"
                    .to_owned(),
            },
            PrintedLetter {
                spanish: true,
                recipient: vec![
                    "José Núñez Peña".to_owned(),
                    "45 Calle Ñandú".to_owned(),
                    "Bronx NY 10451".to_owned(),
                ],
                date: "2 de diciembre de 2026".to_owned(),
                reference: "2026-000124".to_owned(),
                subject: "Su queja sobre Ejemplo Telecomunicaciones".to_owned(),
                body: "Estimado Sr. Núñez:\n\n¿Recibió nuestra carta? ¡Gracias por escribirnos! \
                       Su queja — número 2026-000124 — está en trámite.\n\nAtentamente,\nA. Agente"
                    .to_owned(),
            },
        ]
    });
    static LIST: LazyLock<[MailingLine; 2]> = LazyLock::new(|| {
        LETTERS.clone().map(|letter| MailingLine {
            reference: letter.reference,
            recipient: letter.recipient,
            letter: "Acknowledgement".to_owned(),
            pages: Some(1),
        })
    });
    // The sample is fixed and valid: every letter has a recipient.
    Input {
        letterhead: &LETTERHEAD,
        batch_title: Some("Sample batch"),
        letters: LETTERS
            .iter()
            .map(|letter| LetterData {
                spanish: letter.spanish,
                lang: if letter.spanish { "es" } else { "en" },
                recipient: address_block(&letter.recipient),
                date: &letter.date,
                reference: &letter.reference,
                subject: &letter.subject,
                paragraphs: paragraphs(&letter.body),
            })
            .collect(),
        mailing_list: LIST
            .iter()
            .enumerate()
            .map(|(index, line)| MailingRow {
                number: index + 1,
                reference: &line.reference,
                recipient: clean_lines(&line.recipient).join(", "),
                letter: &line.letter,
                pages: line.pages,
            })
            .collect(),
    }
}

/// The sample data as pretty JSON, as committed in `templates/sample-data.json`.
#[cfg(test)]
pub(crate) fn sample_json() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&sample_input()).map(|mut json| {
        json.push('\n');
        json
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn address_keeps_short_blocks_and_drops_blank_lines() {
        assert_eq!(
            address_block(&strings(&[
                " Jane Doe ",
                "",
                "12 Main St",
                "Albany NY 12207"
            ])),
            strings(&["Jane Doe", "12 Main St", "Albany NY 12207"])
        );
    }

    #[test]
    fn address_merges_middle_lines_beyond_five() {
        assert_eq!(
            address_block(&strings(&[
                "Jane Doe",
                "c/o Acme",
                "Attn: Billing",
                "Building 7",
                "12 Main St",
                "Apt 4",
                "Albany NY 12207"
            ])),
            strings(&[
                "Jane Doe",
                "c/o Acme, Attn: Billing, Building 7",
                "12 Main St",
                "Apt 4",
                "Albany NY 12207"
            ])
        );
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(
            paragraphs("Dear Jane,\r\n\r\nFirst line\nsecond line\n \n\n\nLast\t one\n"),
            vec![
                strings(&["Dear Jane,"]),
                strings(&["First line", "second line"]),
                strings(&["Last  one"]),
            ]
        );
    }

    /// Set `REDRESS_BLESS=1` to rewrite the file after changing the sample.
    #[test]
    fn sample_data_file_matches_the_sample() {
        let expected = sample_json().expect("sample encodes");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/sample-data.json");
        if std::env::var_os("REDRESS_BLESS").is_some() {
            std::fs::write(path, &expected).expect("write sample-data.json");
        }
        let file = std::fs::read_to_string(path).expect("read sample-data.json");
        assert_eq!(
            file, expected,
            "templates/sample-data.json is stale; rerun with REDRESS_BLESS=1"
        );
    }
}
