//! Full-text search: what a person typed becomes words (lower-cased, accents folded, split at
//! anything that is not a letter or digit), every word must occur in the case, and the last may
//! be a prefix (`bill*`). The same words are given to SQLite's FTS5 and to PostgreSQL's
//! `tsquery`, each limited to the parts of a case the reader's role may search, so that both
//! stores find the same cases. Snippets are cut here, from the text the reader may see.

use crate::view::Audience;
use serde::Serialize;

/// At most this many words in a search.
pub const MAX_WORDS: usize = 12;
/// A word longer than this is refused (no real word is).
pub const MAX_WORD: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("Type at least one word (letters or digits).")]
    NoWords,
    #[error("At most {MAX_WORDS} words.")]
    TooManyWords,
    #[error("A word of at most {MAX_WORD} characters.")]
    WordTooLong,
}

/// The parts of a case the search index keeps apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Reference, company, category and description.
    Head,
    /// Timeline entries the company sees.
    Shared,
    /// The other timeline entries.
    Internal,
    /// The consumer's name, email, phone and account number.
    Person,
}

impl Part {
    fn column(self) -> &'static str {
        match self {
            Part::Head => "head",
            Part::Shared => "shared",
            Part::Internal => "internal",
            Part::Person => "person",
        }
    }
    /// The PostgreSQL weight the part is indexed under.
    fn weight(self) -> char {
        match self {
            Part::Head => 'A',
            Part::Shared => 'B',
            Part::Internal => 'C',
            Part::Person => 'D',
        }
    }
}

/// The parts a reader may search: staff who see consumers everything, staff who do not (an
/// analyst) all but the consumer's details, a company the case, its shared entries and the
/// consumer it answers.
pub fn searchable_parts(audience: Audience) -> &'static [Part] {
    match audience {
        Audience::Staff {
            consumer_details: true,
        } => &[Part::Head, Part::Shared, Part::Internal, Part::Person],
        Audience::Staff {
            consumer_details: false,
        } => &[Part::Head, Part::Shared, Part::Internal],
        Audience::Company { .. } => &[Part::Head, Part::Shared, Part::Person],
        Audience::Consumer => &[Part::Head],
    }
}

/// A character as the index keeps it: lower case, without its accent (the letters both stores
/// fold alike).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'ē' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'ī' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ō' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'ū' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// The words of a text, folded.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().map(fold_char).collect())
        .collect()
}

/// What a person searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    pub words: Vec<String>,
    /// The last word is a prefix (typed with a trailing `*`).
    pub prefix: bool,
    /// Every word is a prefix (a search box that finds as one types: `bil` finds "billed").
    pub prefix_all: bool,
}

impl SearchTerms {
    pub fn parse(text: &str) -> Result<SearchTerms, SearchError> {
        let words = words(text);
        if words.is_empty() {
            return Err(SearchError::NoWords);
        }
        if words.len() > MAX_WORDS {
            return Err(SearchError::TooManyWords);
        }
        if words.iter().any(|w| w.chars().count() > MAX_WORD) {
            return Err(SearchError::WordTooLong);
        }
        Ok(SearchTerms {
            words,
            prefix: text.trim_end().ends_with('*'),
            prefix_all: false,
        })
    }

    /// The same words, each a prefix.
    pub fn as_you_type(mut self) -> SearchTerms {
        self.prefix_all = true;
        self
    }

    /// Whether word `i` is a prefix: the last when typed with `*`; as one types, every word
    /// with a letter in it (numbers are typed whole: `7` does not find `70`).
    fn is_prefix(&self, i: usize) -> bool {
        let typed_star = self.prefix && i + 1 == self.words.len();
        let as_you_type = self.prefix_all
            && self
                .words
                .get(i)
                .is_some_and(|w| w.chars().any(char::is_alphabetic));
        typed_star || as_you_type
    }

    /// Every word whole: none is a prefix.
    pub fn is_whole_words(&self) -> bool {
        (0..self.words.len()).all(|i| !self.is_prefix(i))
    }

    /// An FTS5 query: every word, in the parts given (words are letters and digits only, so
    /// quoting them is enough).
    pub fn fts5(&self, parts: &[Part]) -> String {
        self.fts5_words(parts).join(" AND ")
    }

    /// Each word alone as an FTS5 query, in the parts given: [`SearchTerms::fts5`] is these
    /// joined by `AND`.
    pub fn fts5_words(&self, parts: &[Part]) -> Vec<String> {
        let all = parts.len() == 4;
        let columns: Vec<&str> = parts.iter().map(|p| p.column()).collect();
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let phrase = format!("\"{w}\"{}", if self.is_prefix(i) { "*" } else { "" });
                if all {
                    phrase
                } else {
                    format!("{{{}}} : {phrase}", columns.join(" "))
                }
            })
            .collect()
    }

    /// A PostgreSQL `tsquery` (for `to_tsquery('simple', …)`): every word, in the weights of
    /// the parts given.
    pub fn tsquery(&self, parts: &[Part]) -> String {
        self.tsquery_words(parts).join(" & ")
    }

    /// Each word alone as a `tsquery`: [`SearchTerms::tsquery`] is these joined by `&`.
    pub fn tsquery_words(&self, parts: &[Part]) -> Vec<String> {
        let weights: String = if parts.len() == 4 {
            String::new()
        } else {
            parts.iter().map(|p| p.weight()).collect()
        };
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let star = if self.is_prefix(i) { "*" } else { "" };
                if star.is_empty() && weights.is_empty() {
                    w.clone()
                } else {
                    format!("{w}:{star}{weights}")
                }
            })
            .collect()
    }

    fn matches(&self, word: &str) -> bool {
        self.words
            .iter()
            .enumerate()
            .any(|(i, w)| word == w || (self.is_prefix(i) && word.starts_with(w.as_str())))
    }

    /// A piece of `text` around its first matching word, about `width` characters, with the
    /// matching words marked; `None` when no word of the search is in it.
    pub fn snippet(&self, text: &str, width: usize) -> Option<Vec<SnippetPart>> {
        let chars: Vec<char> = text.chars().collect();
        // Words as (start, end) character positions, and whether each matches; none is needed
        // past `width` characters after the first match (a page of results folds the words of
        // fifty cases' texts).
        let mut spans = Vec::new();
        let mut folded = String::new();
        let mut first_at = None;
        let mut i = 0;
        while i < chars.len() {
            if first_at.is_some_and(|f: usize| i > f + width) {
                break;
            }
            if chars[i].is_alphanumeric() {
                let start = i;
                while i < chars.len() && chars[i].is_alphanumeric() {
                    i += 1;
                }
                folded.clear();
                folded.extend(chars[start..i].iter().map(|c| fold_char(*c)));
                let hit = self.matches(&folded);
                if hit && first_at.is_none() {
                    first_at = Some(start);
                }
                spans.push((start, i, hit));
            } else {
                i += 1;
            }
        }
        let mut from = first_at?.saturating_sub(width / 3);
        let mut to = (from + width).min(chars.len());
        if to == chars.len() {
            from = to.saturating_sub(width);
        }
        // Whole words at both ends.
        if let Some(s) = spans.iter().find(|s| s.0 < from && s.1 > from) {
            from = s.1;
        }
        if let Some(s) = spans.iter().find(|s| s.0 < to && s.1 > to) {
            to = s.0;
        }
        let mut parts = Vec::new();
        let mut at = from;
        let mut push = |text: String, hit: bool| {
            if !text.is_empty() {
                parts.push(SnippetPart { text, hit });
            }
        };
        if from > 0 {
            push("…".into(), false);
        }
        for s in spans.iter().filter(|s| s.2 && s.0 >= from && s.1 <= to) {
            push(one_line(&chars[at..s.0]), false);
            push(chars[s.0..s.1].iter().collect(), true);
            at = s.1;
        }
        push(one_line(&chars[at..to]), false);
        if to < chars.len() {
            push("…".into(), false);
        }
        Some(parts)
    }
}

/// Text on one line: each run of spaces and line breaks becomes one space.
fn one_line(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    for c in chars {
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(*c);
        }
    }
    out
}

/// A piece of a snippet; `hit` marks a word of the search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_are_folded_and_split() {
        assert_eq!(
            words("José DÍAZ, ana@example.org 518-555-0100"),
            [
                "jose", "diaz", "ana", "example", "org", "518", "555", "0100"
            ]
        );
        assert_eq!(SearchTerms::parse("  ,, "), Err(SearchError::NoWords));
        assert_eq!(
            SearchTerms::parse(&"a ".repeat(13)),
            Err(SearchError::TooManyWords)
        );
    }

    #[test]
    fn each_store_gets_the_words_in_the_parts_allowed() {
        let t = SearchTerms::parse("Estimated bill*").expect("words");
        let all = searchable_parts(Audience::Staff {
            consumer_details: true,
        });
        assert_eq!(t.fts5(all), "\"estimated\" AND \"bill\"*");
        assert_eq!(t.tsquery(all), "estimated & bill:*");
        let company = searchable_parts(Audience::Company { company_id: 3 });
        assert_eq!(
            t.fts5(company),
            "{head shared person} : \"estimated\" AND {head shared person} : \"bill\"*"
        );
        assert_eq!(t.tsquery(company), "estimated:ABD & bill:*ABD");
        let analyst = searchable_parts(Audience::Staff {
            consumer_details: false,
        });
        assert_eq!(t.tsquery(analyst), "estimated:ABC & bill:*ABC");
        // Each word alone, as ranking weighs them.
        assert_eq!(
            t.fts5_words(company),
            [
                "{head shared person} : \"estimated\"",
                "{head shared person} : \"bill\"*"
            ]
        );
        assert_eq!(t.tsquery_words(all), ["estimated", "bill:*"]);
    }

    #[test]
    fn a_snippet_marks_the_words_found() {
        let t = SearchTerms::parse("diaz meter").expect("words");
        let text = "The consumer, Ana Díaz, says the gas meter at her home runs fast and she wants a test.";
        let parts = t.snippet(text, 40).expect("found");
        let hits: Vec<&str> = parts
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(hits, ["Díaz", "meter"]);
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(joined.starts_with('…') && joined.ends_with('…'), "{joined}");
        assert_eq!(t.snippet("nothing here", 40), None);
        let prefix = SearchTerms::parse("shut*").expect("words");
        let parts = prefix.snippet("A shut-off notice", 80).expect("found");
        assert_eq!(
            parts[1],
            SnippetPart {
                text: "shut".into(),
                hit: true
            }
        );
    }

    proptest! {
        #[test]
        fn a_query_is_only_letters_digits_and_syntax(text in "\\PC{0,60}") {
            if let Ok(t) = SearchTerms::parse(&text) {
                for w in &t.words {
                    prop_assert!(w.chars().all(char::is_alphanumeric));
                }
                let all = searchable_parts(Audience::Staff { consumer_details: true });
                let fts = t.fts5(all);
                prop_assert!(!fts.contains('\'') && fts.matches('"').count() == 2 * t.words.len());
            }
        }

        #[test]
        fn a_snippet_is_a_piece_of_the_text(text in "[a-zé ,.]{0,300}", word in "[a-z]{1,4}") {
            let t = SearchTerms::parse(&word).expect("a word");
            if let Some(parts) = t.snippet(&text, 60) {
                let body: String = parts.iter().map(|p| p.text.as_str()).collect::<String>().replace('…', "");
                let spaced = one_line(&text.chars().collect::<Vec<_>>());
                prop_assert!(spaced.contains(body.trim()), "{body:?} in {spaced:?}");
                prop_assert!(parts.iter().any(|p| p.hit));
            }
        }
    }
}
