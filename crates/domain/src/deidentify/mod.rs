//! De-identification for the public open-data export: the ZIP code cut to its first three
//! digits, and the consumer's narrative with personal data blanked out the way the CFPB's
//! public complaint database does it.
//!
//! Pure: no I/O, no clock. The caller gathers what it knows about the consumer (name, email,
//! phone, account numbers, street line) and passes it to [`scrub`], which also finds the kinds
//! of personal data that have a recognisable shape (emails, URLs, phone numbers, Social
//! Security numbers, long numbers, dates and street addresses).
//!
//! The rules lean towards removing too much rather than too little: a page range like
//! "10-12" or a year like "2021" is blanked, because an account number looks the same.

/// What replaces each removed word.
pub const MARK: &str = "XXXX";

/// What replaces a whole date.
pub const DATE_MARK: &str = "XX/XX/XXXX";

/// The first three digits of a US ZIP code followed by `XX`, as the CFPB publishes it:
/// `"12207"` and `"12207-1234"` both give `"122XX"`.
///
/// Surrounding spaces are ignored. Anything that is not a five-digit ZIP or a ZIP+4 with
/// its dash (missing, empty, too short, letters, a foreign postcode) gives `None`, so the
/// export leaves the field empty rather than publish something odd.
pub fn zip3(zip: Option<&str>) -> Option<String> {
    let zip = zip?.trim();
    let b = zip.as_bytes();
    let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let valid = match b.len() {
        5 => all_digits(b),
        10 => all_digits(&b[..5]) && b[5] == b'-' && all_digits(&b[6..]),
        _ => false,
    };
    valid.then(|| format!("{}XX", &zip[..3]))
}

/// The narrative with personal data replaced, ready for publication.
///
/// Each removed word becomes `XXXX` (so "Ann Smith" becomes "XXXX XXXX"); a date becomes
/// `XX/XX/XXXX` as a whole. Everything else is kept exactly as written: punctuation, line
/// breaks, accents, money amounts, ordinary words and short numbers.
///
/// What is removed:
///
/// * **What the caller knows** (`known`): every occurrence of each string, ignoring case
///   ("ann smith" matches "Ann Smith", "josé" matches "JOSÉ"). Spaces and punctuation at
///   either end of a known string are ignored, and a string is skipped when what is left
///   is shorter than two characters, contains `$`, or looks like a redaction mark (contains
///   `XXXX`, or has a word made only of X's). A known string that begins or ends with a
///   letter only matches as a whole word at that end, so the name "Ann" blanks "Ann" and
///   "Ann's" but not "Annual" or "Joanne".
/// * **Email addresses** (`ann.smith+bank@example.co.uk`) and **web addresses** starting
///   with `http://`, `https://` or `www.` (up to the next space; closing punctuation such
///   as a final full stop or bracket is left in place).
/// * **Phone numbers**: `518-555-0100`, `(518) 555-0100`, `518.555.0100`, `518 555 0100`,
///   `5185550100`, `1-518-555-0100`, `+1 518 555 0100`.
/// * **Social Security numbers**: `123-45-6789`, `123 45 6789`.
/// * **Long numbers** (accounts, cards, loans, references): any run of four or more digits,
///   also when broken by single dashes (`1234-5678`, `10-12`) or single spaces between
///   groups of two or more and then three or more digits (`4111 1111 1111 1111`), so that
///   "in 2020 12 payments" keeps its "12". Digits glued to letters are removed too
///   ("A12345" becomes "AXXXX").
///   **Money amounts are kept**: a number written directly after `$` (`$35`, `$1,200.00`,
///   `$12000`) is never touched.
/// * **Dates**: `03/14/2021`, `3/14/21`, `03-14-2021`, `14.03.2021`, `2021-03-14`,
///   `2021/03/14`, `March 14, 2021`, `Mar. 14th 2021`, `14 March 2021`,
///   `14th of March, 2021` and the Spanish `14 de marzo de 2021`. The whole date becomes
///   `XX/XX/XXXX`. A bare year ("in 2021") is a four-digit number and becomes `XXXX`.
/// * **Street addresses**: a house number of up to six digits, then up to four words of
///   which the last is a street suffix (Street, St, Avenue, Ave, Road, Rd, Boulevard, Blvd,
///   Lane, Ln, Drive, Dr, Court, Ct, Place, Pl, Way, Terrace, Parkway, Pkwy, Highway, Hwy;
///   any case, optional full stop), then optionally a unit such as `Apt 4B`, `Unit 12`,
///   `Suite 300` or `#5`. The words before the suffix must start with a capital letter or
///   be a numbered street ("12 Main St", "350 W. 42nd St"), so everyday phrases like
///   "2 bills on the way" are left alone. A full stop after the suffix is left in place
///   unless a unit follows.
///
/// Running `scrub` again on its own output changes nothing. The work is linear in the
/// length of the text for each known string (no rescanning of the whole text per match).
pub fn scrub(text: &str, known: &[&str]) -> String {
    let mut spans = find_known(text, known);
    find_patterns(text.as_bytes(), &mut spans);
    let first = replace(text, spans).unwrap_or_else(|| text.to_owned());
    // Email addresses are looked for in what the first pass left, exactly as a second pass
    // would see it (an address whose domain was glued to a phone number or a date is only
    // recognisable once those are blanked).
    if !first.contains('@') {
        return first;
    }
    let emails = find_emails(first.as_bytes());
    replace(&first, emails).unwrap_or(first)
}

/// `text` with `spans` blanked out, or `None` when there is nothing to blank.
fn replace(text: &str, mut spans: Vec<Span>) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    // Widen any span that would cut a character in two (cannot happen with the rules
    // above, but a panic on a published narrative would be worse than one more XXXX).
    for s in &mut spans {
        while s.start > 0 && !text.is_char_boundary(s.start) {
            s.start -= 1;
        }
        while s.end < text.len() && !text.is_char_boundary(s.end) {
            s.end += 1;
        }
    }
    spans.sort_unstable_by_key(|s| (s.start, s.end));

    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last)
                if s.start < last.end
                    || (s.start == last.end
                        && s.mark == Mark::Words
                        && last.mark == Mark::Words) =>
            {
                if s.mark != last.mark {
                    last.mark = Mark::Words;
                }
                last.end = last.end.max(s.end);
            }
            _ => merged.push(s),
        }
    }

    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for s in merged {
        out.push_str(text.get(pos..s.start).unwrap_or_default());
        match s.mark {
            Mark::Date => out.push_str(DATE_MARK),
            Mark::Words => push_words(&mut out, text.get(s.start..s.end).unwrap_or_default()),
        }
        pos = s.end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    Some(out)
}

/// How a removed stretch of text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Each word (run of non-space characters) becomes `XXXX`; spaces and line breaks stay.
    Words,
    /// The whole stretch becomes `XX/XX/XXXX`.
    Date,
}

/// A stretch of the narrative to remove, in bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    mark: Mark,
}

/// Writes `XXXX` for each word of `s`, keeping its whitespace.
fn push_words(out: &mut String, s: &str) {
    let mut in_word = false;
    for ch in s.chars() {
        if ch.is_whitespace() {
            out.push(ch);
            in_word = false;
        } else if !in_word {
            out.push_str(MARK);
            in_word = true;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Known strings
// ---------------------------------------------------------------------------------------

/// A known string ready for matching.
struct Needle {
    /// Its characters, case-folded.
    chars: Vec<char>,
    /// Its failure table (Knuth–Morris–Pratt), so a text is read once per needle.
    fail: Vec<usize>,
    starts_with_letter: bool,
    ends_with_letter: bool,
}

/// Lower case, one character for one character (the few characters whose lower case is
/// longer, such as the Turkish dotted capital I, stay as they are).
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Whether a trimmed known string may be used (see [`scrub`]).
fn usable(k: &str) -> bool {
    k.chars().count() >= 2
        && !k.contains('$')
        && !k.to_lowercase().contains("xxxx")
        && k.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .all(|w| !w.chars().all(|c| c == 'x' || c == 'X'))
}

fn needle(k: &str) -> Needle {
    let chars: Vec<char> = k.chars().map(fold).collect();
    let mut fail = vec![0; chars.len()];
    let mut m = 0;
    for i in 1..chars.len() {
        while m > 0 && chars[i] != chars[m] {
            m = fail[m - 1];
        }
        if chars[i] == chars[m] {
            m += 1;
        }
        fail[i] = m;
    }
    Needle {
        starts_with_letter: k.chars().next().is_some_and(char::is_alphabetic),
        ends_with_letter: k.chars().next_back().is_some_and(char::is_alphabetic),
        chars,
        fail,
    }
}

/// Every whole-word, case-insensitive occurrence of the usable known strings.
fn find_known(text: &str, known: &[&str]) -> Vec<Span> {
    let mut needles: Vec<Needle> = Vec::new();
    for k in known {
        let k = k.trim_matches(|c: char| !c.is_alphanumeric());
        if usable(k) {
            let n = needle(k);
            if !needles.iter().any(|o| o.chars == n.chars) {
                needles.push(n);
            }
        }
    }
    let mut spans = Vec::new();
    if needles.is_empty() {
        return spans;
    }

    let hay: Vec<(usize, char)> = text.char_indices().map(|(i, c)| (i, fold(c))).collect();
    let letter_at = |i: usize| hay.get(i).is_some_and(|&(_, c)| c.is_alphabetic());
    for n in &needles {
        let mut m = 0;
        for (i, &(_, c)) in hay.iter().enumerate() {
            while m > 0 && c != n.chars[m] {
                m = n.fail[m - 1];
            }
            if c == n.chars[m] {
                m += 1;
            }
            if m == n.chars.len() {
                let first = i + 1 - m;
                let after = i + 1;
                let bounded_before = !n.starts_with_letter || first == 0 || !letter_at(first - 1);
                let bounded_after = !n.ends_with_letter || !letter_at(after);
                if bounded_before && bounded_after {
                    spans.push(Span {
                        start: hay[first].0,
                        end: hay.get(after).map_or(text.len(), |&(b, _)| b),
                        mark: Mark::Words,
                    });
                }
                m = n.fail[m - 1];
            }
        }
    }
    spans
}

// ---------------------------------------------------------------------------------------
// Byte helpers (all the shapes below are ASCII; other bytes only ever count as letters)
// ---------------------------------------------------------------------------------------

/// The byte at `i`, or 0 past the end.
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// The byte before `i`, or 0 at the start.
fn before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(0, |p| at(b, p))
}

/// A letter or digit, counting every non-ASCII byte as part of a letter.
fn is_wordish(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c >= 0x80
}

fn digits_end(b: &[u8], i: usize) -> usize {
    let mut p = i;
    while at(b, p).is_ascii_digit() {
        p += 1;
    }
    p
}

fn letters_end(b: &[u8], i: usize) -> usize {
    let mut p = i;
    while at(b, p).is_ascii_alphabetic() {
        p += 1;
    }
    p
}

fn blanks_end(b: &[u8], i: usize) -> usize {
    let mut p = i;
    while matches!(at(b, p), b' ' | b'\t') {
        p += 1;
    }
    p
}

/// At least one space or tab, then the position after them.
fn blanks1(b: &[u8], i: usize) -> Option<usize> {
    let p = blanks_end(b, i);
    (p > i).then_some(p)
}

/// Exactly `n` digits starting at `i` (the caller checks what follows).
fn exact_digits(b: &[u8], i: usize, n: usize) -> Option<usize> {
    (i..i + n)
        .all(|p| at(b, p).is_ascii_digit())
        .then_some(i + n)
}

/// Whether the ASCII word at `i..end` is one of `words`, ignoring case.
fn word_in(b: &[u8], i: usize, end: usize, words: &[&str]) -> bool {
    b.get(i..end)
        .is_some_and(|w| words.iter().any(|x| x.as_bytes().eq_ignore_ascii_case(w)))
}

// ---------------------------------------------------------------------------------------
// Emails, found from their `@`
// ---------------------------------------------------------------------------------------

fn is_local(c: u8) -> bool {
    is_wordish(c) || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn is_domain(c: u8) -> bool {
    is_wordish(c) || c == b'-'
}

/// The end of a domain of two or more labels whose last label has two or more characters.
fn domain_end(b: &[u8], from: usize) -> Option<usize> {
    let mut p = from;
    let mut labels = 0;
    let mut last = 0;
    loop {
        let s = p;
        while is_domain(at(b, p)) {
            p += 1;
        }
        if p == s {
            break;
        }
        labels += 1;
        last = p - s;
        if at(b, p) == b'.' && is_domain(at(b, p + 1)) {
            p += 1;
        } else {
            break;
        }
    }
    (labels >= 2 && last >= 2).then_some(p)
}

/// Every email address, left to right. Each `@` looks back only as far as the previous
/// address or the first character that cannot be in one, so the text is read about twice.
fn find_emails(b: &[u8]) -> Vec<Span> {
    let mut found = Vec::new();
    let mut floor = 0;
    for (sign, _) in b.iter().enumerate().filter(|&(_, &c)| c == b'@') {
        if sign < floor {
            continue;
        }
        let mut s = sign;
        while s > floor && is_local(b[s - 1]) {
            s -= 1;
        }
        let reached_floor = s == floor;
        while s < sign && !is_wordish(b[s]) {
            s += 1;
        }
        let Some(end) = domain_end(b, sign + 1) else {
            continue;
        };
        if s < sign {
            found.push(Span {
                start: s,
                end,
                mark: Mark::Words,
            });
            floor = end;
        } else if let Some(last) = found.last_mut().filter(|l| reached_floor && l.end == floor) {
            // `ann@bank.com@evil.com`: the previous address runs on; a second pass would
            // otherwise find `XXXX@evil.com`.
            last.end = end;
            floor = end;
        }
    }
    found
}

// ---------------------------------------------------------------------------------------
// Shapes found by one left-to-right pass
// ---------------------------------------------------------------------------------------

/// Runs one pass over the text, adding what it finds to `spans`. `$` amounts are stepped
/// over and kept.
fn find_patterns(b: &[u8], spans: &mut Vec<Span>) {
    let mut i = 0;
    let mut last_end = usize::MAX;
    while i < b.len() {
        if at(b, i) == b'$' && at(b, i + 1).is_ascii_digit() {
            i = money_end(b, i + 1);
            continue;
        }
        let word_start = i == last_end || !is_wordish(before(b, i));
        match pattern_at(b, i, word_start) {
            Some((end, mark)) => {
                spans.push(Span {
                    start: i,
                    end,
                    mark,
                });
                i = end.max(i + 1);
                last_end = i;
            }
            None => i += 1,
        }
    }
}

/// The shape starting at `i`, if any: where it ends and how it is written.
fn pattern_at(b: &[u8], i: usize, word_start: bool) -> Option<(usize, Mark)> {
    let c = at(b, i);
    let words = |e| (e, Mark::Words);
    let date = |e| (e, Mark::Date);
    if c.is_ascii_alphabetic() {
        if !word_start {
            return None;
        }
        return url_at(b, i)
            .map(words)
            .or_else(|| month_first_date_at(b, i).map(date));
    }
    if c == b'(' || c == b'+' {
        return phone_at(b, i).map(words);
    }
    if !c.is_ascii_digit() || before(b, i).is_ascii_digit() {
        return None;
    }
    if word_start && let Some(e) = numeric_date_at(b, i).or_else(|| day_first_date_at(b, i)) {
        return Some(date(e));
    }
    if let Some(e) = phone_at(b, i).or_else(|| ssn_at(b, i)) {
        return Some(words(e));
    }
    if word_start && let Some(e) = address_at(b, i) {
        return Some(words(e));
    }
    digit_run_at(b, i).map(words)
}

/// The end of a money amount whose first digit is at `i`: digits, with `,` or `.` between
/// digits.
fn money_end(b: &[u8], i: usize) -> usize {
    let mut p = i;
    loop {
        let c = at(b, p);
        if c.is_ascii_digit() {
            p += 1;
        } else if matches!(c, b',' | b'.') && at(b, p + 1).is_ascii_digit() {
            p += 2;
        } else {
            return p;
        }
    }
}

fn url_at(b: &[u8], i: usize) -> Option<usize> {
    let prefix = [&b"https://"[..], b"http://", b"www."]
        .into_iter()
        .find(|p| {
            b.get(i..i + p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
        })?
        .len();
    let body = i + prefix;
    let mut e = body;
    while e < b.len() && !at(b, e).is_ascii_whitespace() && !matches!(at(b, e), b'<' | b'>' | b'"')
    {
        e += 1;
    }
    while e > body && b".,;:!?)]}'".contains(&before(b, e)) {
        e -= 1;
    }
    (e > body).then_some(e)
}

// Dates ---------------------------------------------------------------------------------

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "setiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// `03/14/2021`, `3/14/21`, `03-14-2021`, `14.03.2021`, `2021-03-14`, `2021/03/14`.
fn numeric_date_at(b: &[u8], i: usize) -> Option<usize> {
    let p1 = digits_end(b, i);
    let sep = at(b, p1);
    if !matches!(sep, b'/' | b'-' | b'.') {
        return None;
    }
    let p2 = digits_end(b, p1 + 1);
    if at(b, p2) != sep {
        return None;
    }
    let p3 = digits_end(b, p2 + 1);
    let ok = match (p1 - i, p2 - p1 - 1, p3 - p2 - 1) {
        (1..=2, 1..=2, 4) | (4, 1..=2, 1..=2) => true,
        (1..=2, 1..=2, 2) => sep == b'/',
        _ => false,
    };
    ok.then_some(p3)
}

/// A month name (English or Spanish, full or abbreviated) and an optional full stop.
fn month_at(b: &[u8], i: usize) -> Option<usize> {
    let e = letters_end(b, i);
    if is_wordish(at(b, e)) || !word_in(b, i, e, MONTHS) {
        return None;
    }
    Some(if at(b, e) == b'.' { e + 1 } else { e })
}

/// A day of one or two digits, with an optional `st`, `nd`, `rd` or `th`.
fn day_at(b: &[u8], i: usize) -> Option<usize> {
    let e = digits_end(b, i);
    if !(1..=2).contains(&(e - i)) {
        return None;
    }
    let l = letters_end(b, e);
    if l == e {
        return (!is_wordish(at(b, e))).then_some(e);
    }
    (word_in(b, e, l, &["st", "nd", "rd", "th"]) && !is_wordish(at(b, l))).then_some(l)
}

/// Exactly four digits.
fn year_at(b: &[u8], i: usize) -> Option<usize> {
    let e = digits_end(b, i);
    (e - i == 4).then_some(e)
}

/// `, ` or ` ` between parts of a date.
fn date_gap(b: &[u8], i: usize) -> Option<usize> {
    let (p, comma) = if at(b, i) == b',' {
        (i + 1, true)
    } else {
        (i, false)
    };
    let q = blanks_end(b, p);
    (comma || q > p).then_some(q)
}

/// `de `, `del ` or `of ` inside a date, if there.
fn connector(b: &[u8], i: usize) -> Option<usize> {
    let e = letters_end(b, i);
    if word_in(b, i, e, &["de", "del", "of"]) {
        blanks1(b, e)
    } else {
        None
    }
}

/// `March 14, 2021`, `Mar. 14th 2021`.
fn month_first_date_at(b: &[u8], i: usize) -> Option<usize> {
    let p = month_at(b, i)?;
    let p = blanks1(b, p)?;
    let p = day_at(b, p)?;
    let p = date_gap(b, p)?;
    year_at(b, p)
}

/// `14 March 2021`, `14th of March, 2021`, `14 de marzo de 2021`.
fn day_first_date_at(b: &[u8], i: usize) -> Option<usize> {
    let p = day_at(b, i)?;
    let p = blanks1(b, p)?;
    let p = connector(b, p).unwrap_or(p);
    let p = month_at(b, p)?;
    let p = date_gap(b, p)?;
    let p = connector(b, p).unwrap_or(p);
    year_at(b, p)
}

// Phones, SSNs, long numbers ------------------------------------------------------------

fn is_phone_sep(c: u8) -> bool {
    matches!(c, b'-' | b'.' | b' ')
}

/// A US phone number, with or without `+1` / `1` in front.
fn phone_at(b: &[u8], i: usize) -> Option<usize> {
    match at(b, i) {
        b'+' => {
            if at(b, i + 1) != b'1' {
                return None;
            }
            let p = i + 2;
            phone_body(b, if is_phone_sep(at(b, p)) { p + 1 } else { p })
        }
        b'1' if is_phone_sep(at(b, i + 1)) => phone_body(b, i + 2).or_else(|| phone_body(b, i)),
        _ => phone_body(b, i),
    }
}

/// `518-555-0100`, `518.555.0100`, `518 555 0100`, `(518) 555-0100`, `(518)555-0100`.
fn phone_body(b: &[u8], i: usize) -> Option<usize> {
    let p = if at(b, i) == b'(' {
        let q = exact_digits(b, i + 1, 3)?;
        if at(b, q) != b')' {
            return None;
        }
        if matches!(at(b, q + 1), b' ' | b'-') {
            q + 2
        } else {
            q + 1
        }
    } else {
        let q = exact_digits(b, i, 3)?;
        if !is_phone_sep(at(b, q)) {
            return None;
        }
        q + 1
    };
    let q = exact_digits(b, p, 3)?;
    let q = if is_phone_sep(at(b, q)) { q + 1 } else { q };
    let q = exact_digits(b, q, 4)?;
    (!at(b, q).is_ascii_digit()).then_some(q)
}

/// `123-45-6789` or `123 45 6789`.
fn ssn_at(b: &[u8], i: usize) -> Option<usize> {
    let p = exact_digits(b, i, 3)?;
    let sep = at(b, p);
    if !matches!(sep, b'-' | b' ') {
        return None;
    }
    let p = exact_digits(b, p + 1, 2)?;
    if at(b, p) != sep {
        return None;
    }
    let p = exact_digits(b, p + 1, 4)?;
    (!at(b, p).is_ascii_digit()).then_some(p)
}

/// Four or more digits in groups joined by single dashes, or by single spaces where the
/// group before has two or more digits and the group after three or more.
fn digit_run_at(b: &[u8], i: usize) -> Option<usize> {
    let mut p = digits_end(b, i);
    let mut last = p - i;
    let mut total = last;
    loop {
        let sep = at(b, p);
        if !matches!(sep, b'-' | b' ') || !at(b, p + 1).is_ascii_digit() {
            break;
        }
        let e = digits_end(b, p + 1);
        let len = e - p - 1;
        if sep == b' ' && (last < 2 || len < 3) {
            break;
        }
        total += len;
        last = len;
        p = e;
    }
    (total >= 4).then_some(p)
}

// Street addresses ----------------------------------------------------------------------

const SUFFIXES: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "place",
    "pl",
    "way",
    "terrace",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
];

const UNITS: &[&str] = &["apt", "apartment", "unit", "suite", "ste"];

fn is_street_byte(c: u8) -> bool {
    is_wordish(c) || matches!(c, b'.' | b'\'' | b'-')
}

/// The end of a word of a street line (at most 40 bytes, so a run-on token is not one).
fn street_word_end(b: &[u8], i: usize) -> Option<usize> {
    let mut e = i;
    while is_street_byte(at(b, e)) {
        e += 1;
        if e - i > 40 {
            return None;
        }
    }
    (e > i).then_some(e)
}

fn is_suffix(word: &[u8]) -> bool {
    let w = word.strip_suffix(b".").unwrap_or(word);
    SUFFIXES
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(w))
}

/// A word that may be part of a street name: it starts with a capital (`Main`, `Ñandú`) or
/// is a numbered street (`5th`), and does not contain a redaction mark, so a second `scrub`
/// finds nothing new.
fn is_name_word(word: &[u8]) -> bool {
    let capital = std::str::from_utf8(word)
        .ok()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase);
    (capital || is_ordinal(word)) && !word.windows(4).any(|w| w == b"XXXX")
}

/// `1st`, `42nd`, `3rd`, `5th`: a numbered street (a bare number is not, so "3 2 way" is
/// not an address).
fn is_ordinal(word: &[u8]) -> bool {
    let d = word.iter().take_while(|c| c.is_ascii_digit()).count();
    d > 0
        && word.get(d..).is_some_and(|rest| {
            ["st", "nd", "rd", "th"]
                .iter()
                .any(|o| o.as_bytes().eq_ignore_ascii_case(rest))
        })
}

/// `12 Main St`, `350 5th Ave, Apt 4B`, `7 Oak Ln. #5`.
fn address_at(b: &[u8], i: usize) -> Option<usize> {
    let number_end = digits_end(b, i);
    if number_end - i > 6 {
        return None;
    }
    let mut p = number_end;
    let mut best = None;
    for w in 0..4 {
        let s = blanks_end(b, p);
        if s == p {
            break;
        }
        let Some(e) = street_word_end(b, s) else {
            break;
        };
        let word = b.get(s..e).unwrap_or_default();
        if w > 0 && is_suffix(word) {
            best = Some(e);
        }
        if !is_name_word(word) {
            break;
        }
        p = e;
    }
    best.map(|end| unit_end(b, end))
}

/// The end of an optional `, Apt 4B` / ` Unit 12` / ` #5` after a street line. A full stop
/// after the suffix belongs to the address only when a unit follows; otherwise it is left
/// in place, as it usually also ends the sentence.
fn unit_end(b: &[u8], end: usize) -> usize {
    let bare = if before(b, end) == b'.' { end - 1 } else { end };
    unit_after(b, end).unwrap_or(bare)
}

/// The end of a `, Apt 4B` / ` Unit 12` / ` #5` starting at `end`, if there is one.
fn unit_after(b: &[u8], end: usize) -> Option<usize> {
    let mut p = end;
    if at(b, p) == b',' {
        p += 1;
    }
    p = blanks_end(b, p);
    let id = if at(b, p) == b'#' {
        p + 1
    } else {
        let e = letters_end(b, p);
        if !word_in(b, p, e, UNITS) {
            return None;
        }
        let e = if at(b, e) == b'.' { e + 1 } else { e };
        let e = blanks_end(b, e);
        if at(b, e) == b'#' { e + 1 } else { e }
    };
    let id = blanks_end(b, id);
    let mut r = id;
    while at(b, r).is_ascii_alphanumeric() {
        r += 1;
    }
    let ident = b.get(id..r).unwrap_or_default();
    let shaped = (1..=6).contains(&ident.len())
        && (ident.len() == 1 || ident.iter().any(u8::is_ascii_digit))
        && !is_wordish(at(b, r));
    shaped.then_some(r)
}

#[cfg(test)]
mod tests;
