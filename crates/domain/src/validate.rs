//! Field validation: every check returns the normalised value or records a [`FieldError`]
//! naming the field (dotted path, as in the JSON body), so that one response can list every
//! problem at once.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The offending field, dotted for nesting, e.g. `consumer.email`.
    pub field: String,
    /// A stable machine-readable code, e.g. `email_invalid`, `required`, `too_long`.
    pub code: String,
    /// A human-readable explanation in English.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors(Vec::new())
    }
    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }
    /// `Ok(value)` when no error was recorded.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const BODY_MAX: usize = 50_000;
pub const SHORT_MAX: usize = 200;
pub const ACCOUNT_MAX: usize = 64;

/// The one rule for text from outside, applied before anything reaches a store: no control
/// characters (NUL, escape sequences, DEL, the C1 range). Multi-line text may hold tabs and line
/// ends; single-line values (names, codes, usernames, filters) may not.
pub fn is_clean_text(s: &str, multiline: bool) -> bool {
    !s.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
}

fn has_control(s: &str) -> bool {
    !is_clean_text(s, true)
}

/// A value used to look something up (a unit code, a username, a category path, an office, a
/// query filter): trimmed, at most `max` characters, single-line text under the one rule.
/// Records `invalid_characters` or `too_long` and returns `None` when it breaks them, so the
/// lookup never runs.
pub fn lookup_key<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: &'a str,
    max: usize,
) -> Option<&'a str> {
    let v = value.trim();
    if !is_clean_text(v, false) {
        errors.push(field, "invalid_characters", "Contains control characters.");
        None
    } else if v.chars().count() > max {
        errors.push(field, "too_long", format!("At most {max} characters."));
        None
    } else {
        Some(v)
    }
}

/// A required piece of text, trimmed, at most `max` characters.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let raw = value.map_or(0, |v| v.chars().count());
    match value.map(str::trim) {
        None | Some("") => {
            errors.push(field, "required", "This field is required.");
            None
        }
        Some(v) => text_checks(errors, field, v, raw, max),
    }
}

/// An optional piece of text; empty counts as absent.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let raw = value.map_or(0, |v| v.chars().count());
    match value.map(str::trim) {
        None | Some("") => None,
        Some(v) => text_checks(errors, field, v, raw, max),
    }
}

/// `len` is the length as given, before trimming: the limit is the one the API document states.
fn text_checks(
    errors: &mut FieldErrors,
    field: &str,
    v: &str,
    len: usize,
    max: usize,
) -> Option<String> {
    if len > max {
        errors.push(
            field,
            "too_long",
            format!("At most {max} characters (got {len})."),
        );
        None
    } else if has_control(v) {
        errors.push(field, "invalid_characters", "Contains control characters.");
        None
    } else {
        Some(v.to_string())
    }
}

/// Normalises an email address (lower-cased) or records `email_invalid`.
pub fn email(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    if is_email(v) {
        Some(v.to_ascii_lowercase())
    } else {
        errors.push(
            field,
            "email_invalid",
            "Not a valid email address, e.g. name@example.org.",
        );
        None
    }
}

pub fn is_email(v: &str) -> bool {
    if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || local.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
}

/// Normalises a phone number. North American numbers become `NXX-NXX-XXXX`; international
/// numbers written with `+` keep their digits as `+CCC...` (8 to 15 digits).
pub fn phone(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    match normalize_phone(value) {
        Some(p) => Some(p),
        None => {
            errors.push(
                field,
                "phone_invalid",
                "Not a valid phone number, e.g. 518-555-0100.",
            );
            None
        }
    }
}

pub fn normalize_phone(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 32 {
        return None;
    }
    // Only digits and common punctuation; an extension is not accepted here.
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || " ()-.+".contains(c))
    {
        return None;
    }
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    if v.starts_with('+') && !v.starts_with("+1") {
        return (8..=15)
            .contains(&digits.len())
            .then(|| format!("+{digits}"));
    }
    let national = match digits.len() {
        10 => digits.as_str(),
        11 if digits.starts_with('1') => &digits[1..],
        _ => return None,
    };
    let b = national.as_bytes();
    // NANP: area code and exchange cannot start with 0 or 1.
    if b[0] < b'2' || b[3] < b'2' {
        return None;
    }
    Some(format!(
        "{}-{}-{}",
        &national[0..3],
        &national[3..6],
        &national[6..10]
    ))
}

/// A US ZIP code: `12345` or `12345-6789`.
pub fn zip(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    let ok = match v.len() {
        5 => v.chars().all(|c| c.is_ascii_digit()),
        10 => {
            v.as_bytes()[5] == b'-'
                && v[..5].chars().all(|c| c.is_ascii_digit())
                && v[6..].chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    };
    if ok {
        Some(v.to_string())
    } else {
        errors.push(
            field,
            "zip_invalid",
            "Not a valid ZIP code, e.g. 12207 or 12207-1234.",
        );
        None
    }
}

/// A two-letter US state or territory code.
pub fn state(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    const STATES: &str = "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP";
    let v = value.trim().to_ascii_uppercase();
    if v.len() == 2 && STATES.split(' ').any(|s| s == v) {
        Some(v)
    } else {
        errors.push(field, "state_invalid", "Not a US state code, e.g. NY.");
        None
    }
}

/// An account number: letters, digits, spaces and dashes, normalised to upper case without spaces.
pub fn account_number(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let v: String = value
        .trim()
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    if v.is_empty()
        || v.len() > ACCOUNT_MAX
        || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        errors.push(
            field,
            "account_invalid",
            "Account numbers use letters, digits and dashes (at most 64).",
        );
        None
    } else {
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert!(is_email("ana@example.org"));
        assert!(is_email("a.b+c@sub.example.co"));
        assert!(is_email("josé@correo.es"));
        for bad in [
            "not-an-email",
            "a@b",
            "@example.org",
            "a@@example.org",
            "a b@example.org",
            "a@example.c0m",
            "a..b@example.org",
            "a@-x.org",
            "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("518-555-0100").as_deref(),
            Some("518-555-0100")
        );
        assert_eq!(
            normalize_phone("(518) 555 0100").as_deref(),
            Some("518-555-0100")
        );
        assert_eq!(
            normalize_phone("+1 518.555.0100").as_deref(),
            Some("518-555-0100")
        );
        assert_eq!(
            normalize_phone("+34 912 345 678").as_deref(),
            Some("+34912345678")
        );
        for bad in [
            "555-0100",
            "018-555-0100",
            "518-055-0100",
            "call me",
            "518-555-01000",
            "",
            "+12",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn one_text_rule() {
        assert!(is_clean_text("Línea 1\n\tLínea 2\r\n", true));
        assert!(!is_clean_text("a\nb", false));
        for bad in ["a\0b", "\x1b[31mred", "del\x7f", "c1\u{85}x", "bell\x07"] {
            assert!(!is_clean_text(bad, true), "{bad:?}");
            let mut e = FieldErrors::new();
            assert_eq!(lookup_key(&mut e, "unit", bad, 64), None);
            assert_eq!(e.0[0].code, "invalid_characters");
            assert_eq!(optional_text(&mut e, "note", Some(bad), 64), None);
            assert_eq!(e.fields(), vec!["unit", "note"]);
        }
        let mut e = FieldErrors::new();
        assert_eq!(lookup_key(&mut e, "unit", " CALL ", 64), Some("CALL"));
        assert_eq!(lookup_key(&mut e, "unit", &"x".repeat(65), 64), None);
        assert_eq!(e.fields(), vec!["unit"]);
    }

    #[test]
    fn zips_and_lengths() {
        let mut e = FieldErrors::new();
        assert_eq!(zip(&mut e, "z", "12207").as_deref(), Some("12207"));
        assert_eq!(
            zip(&mut e, "z", "12207-1234").as_deref(),
            Some("12207-1234")
        );
        assert!(e.is_empty());
        assert_eq!(zip(&mut e, "z", "1220"), None);
        assert_eq!(required_text(&mut e, "d", Some("   "), 10), None);
        assert_eq!(required_text(&mut e, "d", Some("01234567890"), 10), None);
        assert_eq!(e.fields(), vec!["z", "d", "d"]);
        assert_eq!(e.0[1].code, "required");
        assert_eq!(e.0[2].code, "too_long");
    }

    proptest! {
        #[test]
        fn normalised_phone_is_stable(area in 200u32..999, exch in 200u32..999, line in 0u32..9999) {
            let p = format!("({area}) {exch}-{line:04}");
            let n = normalize_phone(&p).expect("valid NANP");
            prop_assert_eq!(normalize_phone(&n), Some(n.clone()));
        }

        #[test]
        fn validators_never_panic(s in ".{0,80}") {
            let mut e = FieldErrors::new();
            let _ = email(&mut e, "f", &s);
            let _ = phone(&mut e, "f", &s);
            let _ = zip(&mut e, "f", &s);
            let _ = account_number(&mut e, "f", &s);
            let _ = required_text(&mut e, "f", Some(&s), 10);
        }

        #[test]
        fn accepted_email_has_one_at_and_a_dot_after_it(s in "[a-z0-9.@-]{1,30}") {
            if is_email(&s) {
                let (_, d) = s.rsplit_once('@').expect("has @");
                prop_assert!(d.contains('.'));
            }
        }
    }
}
