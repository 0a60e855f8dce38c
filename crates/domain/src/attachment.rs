//! What files may be attached to a case: decided by their content, never by their name.

/// The largest attachment accepted by default: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The type of an allowed file, from its first bytes; `None` for anything else (executables,
/// archives, office macros, HTML, SVG...).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        is_pdf(bytes).then_some("application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        // The first chunk of every PNG is its header.
        (bytes.get(12..16) == Some(b"IHDR".as_slice())).then_some("image/png")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("image/tiff")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if is_plain_text(bytes) {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

/// A light structural check of a PDF beyond its first bytes: the `%PDF-1.x` header, and near
/// the end a `startxref` with the offset of a cross-reference table (`xref`) or stream (`N G obj`)
/// that lies inside the file, then the `%%EOF` marker. What claims to be a PDF and is not one
/// (a renamed executable, a truncated upload, an HTML page behind a PDF header) is refused.
pub fn is_pdf(bytes: &[u8]) -> bool {
    const TAIL: usize = 1024;
    let header_ok = bytes.len() > 8
        && bytes.starts_with(b"%PDF-")
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit();
    if !header_ok {
        return false;
    }
    let tail_start = bytes.len().saturating_sub(TAIL);
    let tail = &bytes[tail_start..];
    let Some(eof) = rfind(tail, b"%%EOF") else {
        return false;
    };
    // Only line ends (and stray NULs some writers add) may follow the marker.
    if !tail[eof + 5..]
        .iter()
        .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0))
    {
        return false;
    }
    let Some(sx) = rfind(&tail[..eof], b"startxref") else {
        return false;
    };
    let number: String = tail[sx + 9..eof]
        .iter()
        .map(|b| *b as char)
        .collect::<String>()
        .trim()
        .to_string();
    let Ok(offset) = number.parse::<usize>() else {
        return false;
    };
    if offset >= tail_start + sx {
        return false;
    }
    let at = &bytes[offset..];
    at.starts_with(b"xref") || is_object_header(at)
}

/// `N G obj` at the start of `bytes` (a cross-reference stream's object).
fn is_object_header(bytes: &[u8]) -> bool {
    let head: String = bytes
        .iter()
        .take(32)
        .map(|b| *b as char)
        .collect::<String>();
    let mut words = head.split_ascii_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(n), Some(g), Some(obj))
            if n.chars().all(|c| c.is_ascii_digit())
                && g.chars().all(|c| c.is_ascii_digit())
                && obj.starts_with("obj")
    )
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// UTF-8 text without NUL or other control characters (tabs and line ends allowed), and not
/// markup a browser would run.
fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return false;
    }
    let head: String = text
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    !(head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.starts_with("<svg")
        || head.starts_with("<?xml")
        || head.starts_with("<script"))
}

/// The longest file name kept, in characters.
pub const FILENAME_MAX: usize = 120;

/// Characters that change how text around them is displayed without being seen: the bidi
/// embeddings, overrides and isolates (a right-to-left override makes `cod.exe` show as
/// `exe.doc`), the zero-width characters and the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A file name safe to store and to send back: no directories, no control or invisible
/// formatting characters (bidi overrides), at most [`FILENAME_MAX`] characters with the
/// extension kept when the name is shortened; empty names become `attachment`.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !is_invisible_format(*c)
                && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':')
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    let cleaned = if cleaned.chars().count() > FILENAME_MAX {
        let ext: String = match cleaned.rsplit_once('.') {
            Some((_, e)) if !e.is_empty() && e.chars().count() <= 16 && !e.contains(' ') => {
                format!(".{e}")
            }
            _ => String::new(),
        };
        let keep = FILENAME_MAX - ext.chars().count();
        let stem: String = cleaned.chars().take(keep).collect();
        format!("{}{ext}", stem.trim_end())
    } else {
        cleaned
    };
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// Whether a type declared for an upload (the part's `Content-Type`) agrees with the type its
/// content was found to be. Generic declarations (none, `application/octet-stream`) agree with
/// anything; any `text/...` (CSV, a log) agrees with plain text; any other must name the same
/// type.
pub fn declared_type_agrees(declared: Option<&str>, found: &str) -> bool {
    let essence = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    match declared.map(essence).as_deref() {
        None | Some("") | Some("application/octet-stream") => true,
        Some("image/jpg" | "image/pjpeg") => essence(found) == "image/jpeg",
        Some("application/x-pdf") => essence(found) == "application/pdf",
        Some(d) if d.starts_with("text/") => essence(found) == "text/plain",
        Some(d) => d == essence(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn allowed_types_by_content() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0"),
            Some("image/png")
        );
        assert_eq!(sniff(PDF), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(
            sniff(b"Account 4455-22\nBilled twice.\n"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            sniff("Cobro doble en octubre".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
    }

    /// A minimal PDF whose `startxref` points at its cross-reference table.
    const PDF: &[u8] =
        b"%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer << >>\nstartxref\n9\n%%EOF\n";

    #[test]
    fn a_pdf_must_parse_as_one() {
        assert!(is_pdf(PDF));
        let stream = b"%PDF-1.7\n1 0 obj << >> endobj\n2 0 obj << /Type /XRef >> stream\nendstream endobj\nstartxref\n30\n%%EOF";
        assert!(is_pdf(stream));
        for bad in [
            b"%PDF-1.7\n...".as_slice(),
            b"%PDF-1.4\n%%EOF\n",
            b"%PDF-1.4\nstartxref\n9999\n%%EOF\n",
            b"%PDF-1.4\nstartxref\n0\n%%EOF\n",
            b"%PDF-1.4\nxref\nstartxref\n9\n%%EOF\n<script>",
            b"%PDF-x\nxref\nstartxref\n7\n%%EOF",
            b"%PDF-1.4\nMZ\x90\0 not a pdf at all",
        ] {
            assert!(!is_pdf(bad), "{}", String::from_utf8_lossy(bad));
            assert_eq!(sniff(bad), None);
        }
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\nMZ\x90\0"),
            None,
            "no PNG header chunk"
        );
    }

    #[test]
    fn declared_types() {
        assert!(declared_type_agrees(None, "application/pdf"));
        assert!(declared_type_agrees(
            Some("application/octet-stream"),
            "image/png"
        ));
        assert!(declared_type_agrees(
            Some("Application/PDF"),
            "application/pdf"
        ));
        assert!(declared_type_agrees(
            Some("text/plain; charset=utf-8"),
            "text/plain; charset=utf-8"
        ));
        assert!(declared_type_agrees(Some("image/jpg"), "image/jpeg"));
        assert!(declared_type_agrees(
            Some("text/csv"),
            "text/plain; charset=utf-8"
        ));
        assert!(!declared_type_agrees(Some("text/csv"), "application/pdf"));
        assert!(!declared_type_agrees(Some("application/pdf"), "image/png"));
        assert!(!declared_type_agrees(
            Some("image/png"),
            "text/plain; charset=utf-8"
        ));
    }

    #[test]
    fn refused_types() {
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None, "Windows executable");
        assert_eq!(sniff(b"\x7fELF\x02\x01"), None, "Linux executable");
        assert_eq!(sniff(b"PK\x03\x04"), None, "zip archive");
        assert_eq!(sniff(b"<!DOCTYPE html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"  <svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"text with a \0 nul"), None);
    }

    #[test]
    fn filenames() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\ana\\bill.pdf"), "bill.pdf");
        assert_eq!(clean_filename("\"bad\"\r\n.pdf"), "bad.pdf");
        assert_eq!(clean_filename(".hidden"), "hidden");
        assert_eq!(clean_filename(""), "attachment");
        assert_eq!(clean_filename("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            clean_filename("\u{2067}bill\u{200B}.pdf\u{2069}"),
            "bill.pdf"
        );
        let long = format!("{}.pdf", "a".repeat(5000));
        let c = clean_filename(&long);
        assert_eq!(c.chars().count(), FILENAME_MAX);
        assert!(c.ends_with("aaa.pdf"));
        assert_eq!(
            clean_filename(&"b".repeat(5000)).chars().count(),
            FILENAME_MAX
        );
    }

    proptest! {
        #[test]
        fn cleaned_names_are_safe(name in ".{0,300}") {
            let c = clean_filename(&name);
            prop_assert!(!c.is_empty() && c.chars().count() <= 120);
            prop_assert!(!c.contains('/') && !c.contains('\\') && !c.contains('"') && !c.chars().any(char::is_control));
            prop_assert!(!c.chars().any(is_invisible_format));
        }

        #[test]
        fn sniff_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = sniff(&bytes);
        }
    }
}
