//! What files may be attached to a case: decided by their content, never by their name.

/// The largest attachment accepted by default: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The type of an allowed file, from its first bytes; `None` for anything else (executables,
/// archives, office macros, HTML, SVG...).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
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

/// A file name safe to store and to send back: no directories, no control characters, at
/// most 120 characters; empty names become `attachment`.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let cleaned: String = cleaned.chars().take(120).collect();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn allowed_types_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
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
    }

    proptest! {
        #[test]
        fn cleaned_names_are_safe(name in ".{0,300}") {
            let c = clean_filename(&name);
            prop_assert!(!c.is_empty() && c.chars().count() <= 120);
            prop_assert!(!c.contains('/') && !c.contains('\\') && !c.contains('"') && !c.chars().any(char::is_control));
        }

        #[test]
        fn sniff_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = sniff(&bytes);
        }
    }
}
