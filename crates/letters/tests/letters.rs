//! Typesets letters and reads the PDFs back with poppler's `pdftotext`
//! (Debian package poppler-utils), which these tests require.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use redress_letters::{
    LetterError, Letterhead, MailingLine, PrintedLetter, Template, WINDOW, batch_pdf, letter_pdf,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

fn letterhead() -> Letterhead {
    Letterhead {
        name: "Office of Consumer Protection".to_owned(),
        address_lines: vec![
            "99 Washington Avenue, Suite 650".to_owned(),
            "Albany NY 12231".to_owned(),
        ],
        phone: Some("(518) 555-0100".to_owned()),
        web: Some("consumer.example.gov".to_owned()),
    }
}

fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| (*line).to_owned()).collect()
}

fn english() -> PrintedLetter {
    PrintedLetter {
        spanish: false,
        recipient: lines(&["Jane Q. Consumer", "12 Main St", "Apt 4", "Albany NY 12207"]),
        date: "December 2, 2026".to_owned(),
        reference: "2026-000123".to_owned(),
        subject: "Your complaint about Example Motors".to_owned(),
        body: "Dear Ms. Consumer:\n\nWe have received your complaint and sent it to the \
               company.\n\nSincerely,\nA. Agent"
            .to_owned(),
    }
}

fn spanish() -> PrintedLetter {
    PrintedLetter {
        spanish: true,
        recipient: lines(&["José Núñez Peña", "45 Calle Ñandú", "Bronx NY 10451"]),
        date: "2 de diciembre de 2026".to_owned(),
        reference: "2026-000124".to_owned(),
        subject: "Su queja sobre Ejemplo Telecomunicaciones".to_owned(),
        body: "Estimado Sr. Núñez:\n\n¿Recibió nuestra carta? ¡Gracias por escribirnos! Su \
               queja — número 2026-000124 — está en trámite; la compañía tiene quince días \
               hábiles para contestar. Lingüística, pingüino.\n\nAtentamente,\nA. Agente"
            .to_owned(),
    }
}

fn long_letter(paragraphs: usize) -> PrintedLetter {
    let body = (1..=paragraphs)
        .map(|n| {
            format!(
                "Paragraph {n}. The company has answered your complaint, and we have read its \
                 answer carefully together with the documents you sent us."
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    PrintedLetter {
        reference: "2026-000777".to_owned(),
        body,
        ..english()
    }
}

// ---------------------------------------------------------------------------
// Reading PDFs back
// ---------------------------------------------------------------------------

/// Runs `pdftotext ARGS file -` on the PDF and returns its output.
fn pdftotext(pdf: &[u8], args: &[&str]) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "letters-{}-{}.pdf",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, pdf).expect("write the PDF to a temporary file");
    let output = Command::new("pdftotext")
        .args(args)
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    let output = match output {
        Ok(output) => output,
        Err(error) => panic!(
            "cannot run pdftotext ({error}); these tests need poppler-utils: \
             apt-get install -y poppler-utils"
        ),
    };
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// The text of each page (`pdftotext -layout`), in order.
fn pages(pdf: &[u8]) -> Vec<String> {
    let text = pdftotext(pdf, &["-layout"]);
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|page| page.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// All text with runs of white space made single spaces.
fn flat(pdf: &[u8]) -> String {
    pdftotext(pdf, &[])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone)]
struct Word {
    text: String,
    x_min: f64,
    y_min: f64,
    x_max: f64,
    y_max: f64,
}

/// The words of the first page with their boxes (`pdftotext -bbox`), in PDF
/// points from the top-left corner.
fn first_page_words(pdf: &[u8]) -> Vec<Word> {
    let html = pdftotext(pdf, &["-bbox", "-f", "1", "-l", "1"]);
    let attribute = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!("{name}=\"")).expect("attribute present") + name.len() + 2;
        let end = start + tag[start..].find('"').expect("attribute closed");
        tag[start..end].parse().expect("a number")
    };
    html.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("<word ")?;
            let (tag, rest) = rest.split_once('>')?;
            let text = rest.strip_suffix("</word>")?;
            Some(Word {
                text: text
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&"),
                x_min: attribute(tag, "xMin"),
                y_min: attribute(tag, "yMin"),
                x_max: attribute(tag, "xMax"),
                y_max: attribute(tag, "yMax"),
            })
        })
        .collect()
}

/// The words of one line of text, found by its first word.
fn line_of<'a>(words: &'a [Word], line: &str) -> Vec<&'a Word> {
    let wanted: Vec<&str> = line.split_whitespace().collect();
    for start in 0..words.len() {
        let candidate = &words[start..(start + wanted.len()).min(words.len())];
        if candidate.len() == wanted.len()
            && candidate
                .iter()
                .zip(&wanted)
                .all(|(word, want)| word.text == *want)
        {
            return candidate.iter().collect();
        }
    }
    panic!(
        "line {line:?} not found among {:?}",
        words.iter().map(|w| &w.text).collect::<Vec<_>>()
    );
}

/// USPS asks for 1/8 in between the address and each edge of the window.
const CLEARANCE: f64 = 9.0;
/// Rounding in pdftotext's boxes.
const TOLERANCE: f64 = 0.5;

fn assert_in_window(words: &[&Word]) {
    for word in words {
        let inside = word.x_min >= WINDOW.left + CLEARANCE - TOLERANCE
            && word.x_max <= WINDOW.left + WINDOW.width - CLEARANCE + TOLERANCE
            && word.y_min >= WINDOW.top + CLEARANCE - TOLERANCE
            && word.y_max <= WINDOW.top + WINDOW.height - CLEARANCE + TOLERANCE;
        assert!(
            inside,
            "{word:?} is not inside the envelope window {WINDOW:?} with {CLEARANCE} pt clearance"
        );
    }
}

fn render(letter: &PrintedLetter) -> Vec<u8> {
    letter_pdf(&letterhead(), letter, &Template::shipped()).expect("the letter typesets")
}

// ---------------------------------------------------------------------------
// Single letters
// ---------------------------------------------------------------------------

#[test]
fn english_letter_has_its_data_and_page_number() {
    let pdf = render(&english());
    assert!(pdf.starts_with(b"%PDF-"));
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let text = &pages[0];
    for expected in [
        "Office of Consumer Protection",
        "99 Washington Avenue, Suite 650",
        "(518) 555-0100",
        "consumer.example.gov",
        "Jane Q. Consumer",
        "12 Main St",
        "Apt 4",
        "Albany NY 12207",
        "December 2, 2026",
        "Reference: 2026-000123",
        "Your complaint about Example Motors",
        "Dear Ms. Consumer:",
        "Sincerely,",
        "A. Agent",
        "Page 1 of 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // The recipient block comes before the date, which comes before the body.
    let position = |needle: &str| text.find(needle).expect("present");
    assert!(position("Albany NY 12207") < position("December 2, 2026"));
    assert!(position("Reference: 2026-000123") < position("Dear Ms. Consumer:"));
    // "Sincerely," and "A. Agent" are separate lines (a "\n" in the body).
    assert!(
        text.lines().any(|line| line.trim() == "A. Agent"),
        "line break lost:\n{text}"
    );
}

#[test]
fn spanish_letter_has_accents_and_spanish_labels() {
    let pdf = render(&spanish());
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let text = &pages[0];
    for expected in [
        "José Núñez Peña",
        "45 Calle Ñandú",
        "Bronx NY 10451",
        "2 de diciembre de 2026",
        "Referencia: 2026-000124",
        "Su queja sobre Ejemplo Telecomunicaciones",
        "¿Recibió nuestra carta?",
        "¡Gracias por escribirnos!",
        "—",
        "trámite",
        "hábiles",
        "Lingüística, pingüino.",
        "Teléfono: (518) 555-0100",
        "Página 1 de 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("Page 1 of 1"), "English label in:\n{text}");
    let flat = flat(&pdf);
    assert!(flat.contains("queja — número 2026-000124 — está"), "{flat}");
}

#[test]
fn recipient_shows_through_the_window_of_a_number_10_envelope() {
    let words = first_page_words(&render(&english()));
    assert_in_window(&line_of(&words, "Jane Q. Consumer"));
    assert_in_window(&line_of(&words, "Albany NY 12207"));
    // Nothing else is printed in the window.
    for word in &words {
        let overlaps = word.x_max > WINDOW.left
            && word.x_min < WINDOW.left + WINDOW.width
            && word.y_max > WINDOW.top
            && word.y_min < WINDOW.top + WINDOW.height;
        let address = [
            "Jane", "Q.", "Consumer", "12", "Main", "St", "Apt", "4", "Albany",
        ]
        .contains(&word.text.as_str())
            || ["NY", "12207"].contains(&word.text.as_str());
        assert!(!overlaps || address, "{word:?} shows through the window");
    }
}

#[test]
fn five_line_and_overlong_addresses_stay_in_the_window() {
    let mut letter = spanish();
    letter.recipient = lines(&[
        "María José Fernández de la Cruz y Ñúñez-Quintanilla, Executrix of the Estate",
        "c/o Legal Aid Society of Northeastern New York",
        "Attn: Consumer Unit",
        "Building 7, Floor 3",
        "1234 Extraordinarily Long Boulevard Name Extension",
        "Suite 5000",
        "Schenectady NY 12345-6789",
    ]);
    let pdf = render(&letter);
    let words = first_page_words(&pdf);
    // Seven lines became five; the last three are kept as given.
    assert_in_window(&line_of(&words, "Schenectady NY 12345-6789"));
    assert_in_window(&line_of(&words, "Suite 5000"));
    let first = line_of(&words, "María José Fernández");
    assert_in_window(&first[..3]);
    assert!(pages(&pdf)[0].contains(
        "c/o Legal Aid Society of Northeastern New York, Attn: Consumer Unit, Building 7, Floor 3"
    ));
}

#[test]
fn long_letter_numbers_its_pages_and_repeats_the_reference() {
    let pdf = render(&long_letter(60));
    let pages = pages(&pdf);
    let total = pages.len();
    assert!(total >= 3, "60 paragraphs made only {total} pages");
    for (index, page) in pages.iter().enumerate() {
        let number = format!("Page {} of {total}", index + 1);
        assert!(
            page.contains(&number),
            "{number:?} missing from page {}:\n{page}",
            index + 1
        );
        if index > 0 {
            assert!(
                page.contains("Reference: 2026-000777"),
                "reference missing from page {}:\n{page}",
                index + 1
            );
            assert!(
                !page.contains("Jane Q. Consumer"),
                "address repeated on page {}",
                index + 1
            );
        }
    }
    assert!(pages[0].contains("Paragraph 1."));
    assert!(pages[total - 1].contains("Paragraph 60."));
}

#[test]
fn markup_characters_in_data_print_literally() {
    let tricky = r"#set page(width: 1cm) $x^2$ *bold* _under_ @ref <b>tag</b> back\slash ] [a] = Heading // not a comment /* nor this */ `raw` ~ -- --- ...";
    let letterhead = Letterhead {
        name: "Office #1 * $ _".to_owned(),
        ..letterhead()
    };
    let letter = PrintedLetter {
        recipient: lines(&[
            "Jane #Doe* $5 _x_",
            "@home <b>1</b> \\ ]",
            "Albany NY 12207",
        ]),
        reference: "REF#1_$*".to_owned(),
        subject: "Subject with #emph[x] and $y$".to_owned(),
        body: format!("{tricky}\n\nSecond ] paragraph \\"),
        ..english()
    };
    let pdf = letter_pdf(&letterhead, &letter, &Template::shipped()).expect("the letter typesets");
    let flat = flat(&pdf);
    for expected in [
        "Office #1 * $ _",
        "Jane #Doe* $5 _x_",
        "@home <b>1</b> \\ ]",
        "Reference: REF#1_$*",
        "Subject with #emph[x] and $y$",
        tricky,
        "Second ] paragraph \\",
    ] {
        assert!(
            flat.contains(expected),
            "{expected:?} missing from:\n{flat}"
        );
    }
    assert_eq!(pages(&pdf).len(), 1);
}

#[test]
fn sparse_data_still_typesets() {
    let letterhead = Letterhead {
        name: "Office".to_owned(),
        address_lines: Vec::new(),
        phone: None,
        web: None,
    };
    let letter = PrintedLetter {
        spanish: true,
        recipient: lines(&["Ana"]),
        date: String::new(),
        reference: String::new(),
        subject: String::new(),
        body: "\n\n  \n".to_owned(),
    };
    let pdf = letter_pdf(&letterhead, &letter, &Template::shipped()).expect("typesets");
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 1);
    assert!(
        pages[0].contains("Ana") && pages[0].contains("Página 1 de 1"),
        "{}",
        pages[0]
    );
}

#[test]
fn the_same_letter_gives_the_same_bytes() {
    assert_eq!(render(&spanish()), render(&spanish()));
}

#[test]
fn a_letter_needs_a_recipient() {
    let letter = PrintedLetter {
        recipient: lines(&["", "  "]),
        ..english()
    };
    let error = letter_pdf(&letterhead(), &letter, &Template::shipped()).unwrap_err();
    assert!(
        matches!(error, LetterError::NoRecipient { number: 1 }),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------

#[test]
fn batch_restarts_page_numbers_per_letter_and_ends_with_the_mailing_list() {
    let long = long_letter(14);
    let letters = vec![english(), long.clone(), spanish()];
    let list: Vec<MailingLine> = letters
        .iter()
        .map(|letter| MailingLine {
            reference: letter.reference.clone(),
            recipient: letter.recipient.clone(),
            letter: if letter.spanish {
                "Acuse de recibo"
            } else {
                "Acknowledgement"
            }
            .to_owned(),
            pages: None,
        })
        .collect();
    let pdf = batch_pdf(
        &letterhead(),
        &letters,
        &list,
        "Batch 2026-12-02 #4",
        &Template::shipped(),
    )
    .expect("the batch typesets");
    let pages = pages(&pdf);

    let long_pages = self::pages(&render(&long)).len();
    assert!(long_pages >= 2, "the long letter should take several pages");
    let mut expected = vec!["Page 1 of 1".to_owned()];
    expected.extend((1..=long_pages).map(|n| format!("Page {n} of {long_pages}")));
    expected.push("Página 1 de 1".to_owned());
    assert_eq!(
        pages.len(),
        expected.len() + 1,
        "letters plus one list page: {pages:#?}"
    );
    for (page, number) in pages.iter().zip(&expected) {
        assert!(
            page.contains(number.as_str()),
            "{number:?} missing from:\n{page}"
        );
    }
    // Each letter starts on its own page with its own address.
    assert!(pages[0].contains("Jane Q. Consumer"));
    assert!(pages[1].contains("Reference: 2026-000777") && pages[1].contains("Jane Q. Consumer"));
    assert!(pages[long_pages + 1].contains("José Núñez Peña"));

    let list_page = pages.last().expect("a list page");
    assert!(list_page.contains("Mailing list"), "{list_page}");
    assert!(list_page.contains("Batch 2026-12-02 #4"), "{list_page}");
    assert!(!list_page.contains("Page 1 of 1 "), "{list_page}");
    let rows: Vec<&str> = list_page
        .lines()
        .filter(|line| line.contains("2026-000"))
        .collect();
    assert_eq!(rows.len(), 3, "{list_page}");
    for (row, (number, reference, recipient, letter)) in rows.iter().zip([
        (
            "1",
            "2026-000123",
            "Jane Q. Consumer, 12 Main St, Apt 4, Albany NY 12207",
            "Acknowledgement",
        ),
        (
            "2",
            "2026-000777",
            "Jane Q. Consumer, 12 Main St, Apt 4, Albany NY 12207",
            "Acknowledgement",
        ),
        (
            "3",
            "2026-000124",
            "José Núñez Peña, 45 Calle Ñandú, Bronx NY 10451",
            "Acuse de recibo",
        ),
    ]) {
        let cells: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells, [number, reference, recipient, letter], "row {row:?}");
    }
}

#[test]
fn mailing_list_shows_pages_when_known_and_runs_over_pages() {
    let letters = vec![english()];
    let list: Vec<MailingLine> = (1..=80)
        .map(|n| MailingLine {
            reference: format!("2026-{n:06}"),
            recipient: lines(&[&format!("Consumer {n}"), "12 Main St", "Albany NY 12207"]),
            letter: "Acknowledgement".to_owned(),
            pages: Some(2),
        })
        .collect();
    let pdf = batch_pdf(
        &letterhead(),
        &letters,
        &list,
        "Big batch",
        &Template::shipped(),
    )
    .expect("the batch typesets");
    let pages = pages(&pdf);
    assert!(pages.len() >= 3, "80 rows should need two list pages");
    let list_pages = &pages[1..];
    let total = list_pages.len();
    for (index, page) in list_pages.iter().enumerate() {
        assert!(page.contains("Pages"), "header row repeated:\n{page}");
        let number = format!("Mailing list — Page {} of {total}", index + 1);
        assert!(page.contains(&number), "{number:?} missing from:\n{page}");
    }
    let all = list_pages.join("\n");
    assert!(all.contains("2026-000001") && all.contains("2026-000080"));
}

#[test]
fn an_empty_batch_is_refused() {
    let error = batch_pdf(&letterhead(), &[], &[], "Nothing", &Template::shipped()).unwrap_err();
    assert!(matches!(error, LetterError::EmptyBatch), "{error:?}");
}

// ---------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------

#[test]
fn the_shipped_template_passes_its_own_check() {
    let shipped = Template::shipped();
    let copy =
        Template::from_source(shipped.source().to_owned()).expect("the shipped template is valid");
    assert_eq!(copy.source(), shipped.source());
    // An office's copy typesets like the original.
    assert_eq!(
        letter_pdf(&letterhead(), &english(), &copy).expect("typesets"),
        render(&english())
    );
}

#[test]
fn an_office_template_changes_the_letters() {
    let source = Template::shipped()
        .source()
        .replace("reference: \"Reference\",", "reference: \"Our reference\",");
    let template = Template::from_source(source).expect("still valid");
    let pdf = letter_pdf(&letterhead(), &english(), &template).expect("typesets");
    assert!(pages(&pdf)[0].contains("Our reference: 2026-000123"));
}

#[test]
fn a_broken_template_is_refused_with_its_line() {
    let source = "#let data = json(bytes(sys.inputs.data))\n\
                  #set page(paper: \"us-letter\")\n\
                  #for l in data.letters [\n\
                  \x20 #l.subject #undefined-thing\n\
                  ]\n"
    .to_owned();
    let error = Template::from_source(source).unwrap_err();
    let LetterError::Template(problems) = &error else {
        panic!("expected a template error, got {error:?}");
    };
    assert_eq!(problems[0].line, Some(4), "{problems:?}");
    assert!(
        problems[0].message.contains("undefined-thing"),
        "{problems:?}"
    );
    assert!(error.to_string().contains("line 4"), "{error}");

    let syntax = Template::from_source("#let x = (1, 2\nHello\n".to_owned()).unwrap_err();
    assert!(syntax.to_string().contains("line "), "{syntax}");
}

#[test]
fn a_template_cannot_load_packages_or_files() {
    for (source, what) in [
        ("#import \"@preview/example:0.1.0\": *\nHello", "package"),
        ("#image(\"logo.png\")", "file"),
        ("#read(\"/etc/passwd\")", "file"),
    ] {
        let error = Template::from_source(source.to_owned()).unwrap_err();
        let LetterError::Template(problems) = &error else {
            panic!("expected a template error for the {what}, got {error:?}");
        };
        assert_eq!(problems[0].line, Some(1), "{what}: {problems:?}");
        assert!(
            error.to_string().contains("no files or packages"),
            "{error}"
        );
    }
}

// ---------------------------------------------------------------------------
// Timing, on demand:
// cargo test -p redress-letters --release --test letters -- --ignored --nocapture
// ---------------------------------------------------------------------------

#[test]
#[ignore = "a measurement, not a check"]
fn timing() {
    let letter = PrintedLetter {
        body: format!("{}\n\nSincerely,\nA. Agent", long_letter(8).body),
        ..english()
    };
    let template = Template::shipped();
    let start = std::time::Instant::now();
    let first = letter_pdf(&letterhead(), &letter, &template).expect("typesets");
    let cold = start.elapsed();
    let start = std::time::Instant::now();
    letter_pdf(&letterhead(), &spanish(), &template).expect("typesets");
    let warm = start.elapsed();
    let letters: Vec<PrintedLetter> = (0..100)
        .map(|n| PrintedLetter {
            reference: format!("2026-{n:06}"),
            spanish: n % 3 == 2,
            ..letter.clone()
        })
        .collect();
    let list: Vec<MailingLine> = letters
        .iter()
        .map(|letter| MailingLine {
            reference: letter.reference.clone(),
            recipient: letter.recipient.clone(),
            letter: "Acknowledgement".to_owned(),
            pages: Some(1),
        })
        .collect();
    let start = std::time::Instant::now();
    let batch = batch_pdf(&letterhead(), &letters, &list, "Timing", &template).expect("typesets");
    let batch_time = start.elapsed();
    println!(
        "one letter: {cold:?} (first, {} bytes), {warm:?} (next); 100 letters + list: {batch_time:?} ({} bytes)",
        first.len(),
        batch.len()
    );
}
