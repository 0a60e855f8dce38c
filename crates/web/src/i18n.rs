//! English and Spanish: Fluent message catalogs (`locales/en-US`, `locales/es-US`), embedded at
//! compile time. The language comes from `?lang=`, then the `redress_lang` cookie, then
//! `Accept-Language`, then English.

use axum::http::{HeaderMap, header};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use unic_langid::{LanguageIdentifier, langid};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en-US",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

pub const LANG_COOKIE: &str = "redress_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en-US"),
            Lang::Es => langid!("es-US"),
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "en-us" => Some(Lang::En),
            "es" | "es-us" | "es-mx" | "es-es" => Some(Lang::Es),
            _ => None,
        }
    }
}

/// Picks the language for a request. Returns it and whether `?lang=` chose it (so the
/// caller remembers it in a cookie).
pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    if let Some(l) = query_lang.and_then(Lang::parse) {
        return (l, true);
    }
    if let Some(l) = crate::auth::cookie_value(headers, LANG_COOKIE)
        .as_deref()
        .and_then(Lang::parse)
    {
        return (l, false);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut bits = part.split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .find_map(|b| {
                b.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = if tag.starts_with("es") {
            Some(Lang::Es)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        };
        if let Some(l) = lang
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, l));
        }
    }
    (best.map(|(_, l)| l).unwrap_or(Lang::En), false)
}

/// The translator a page carries.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// A message by id.
    pub fn t(&self, id: &str) -> String {
        LOCALES.lookup(&self.lang.id(), id)
    }
    /// A message with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(
            Cow::Owned(name.to_string()),
            FluentValue::from(value.to_string()),
        );
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }
    /// A message with several text arguments.
    pub fn targs(&self, id: &str, pairs: &[(&str, &str)]) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        for (k, v) in pairs {
            args.insert(
                Cow::Owned((*k).to_string()),
                FluentValue::from((*v).to_string()),
            );
        }
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }
    /// A message with a number (for plurals).
    pub fn tn(&self, id: &str, name: &str, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Owned(name.to_string()), FluentValue::from(n));
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }
    /// The message for an error code (`error-email_invalid`), or the given English text.
    pub fn error(&self, code: &str, fallback: &str) -> String {
        let id = format!("error-{code}");
        let text = self.t(&id);
        if text.starts_with("Unknown localization") || text == id {
            fallback.to_string()
        } else {
            text
        }
    }
    /// A word of a closed set (`status-pending_company`), translated.
    pub fn word(&self, prefix: &str, word: &str) -> String {
        let id = format!("{prefix}-{word}");
        let text = self.t(&id);
        if text.starts_with("Unknown localization") || text == id {
            word.replace('_', " ")
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(path: &str) -> Vec<String> {
        let text = std::fs::read_to_string(path).expect("catalog");
        let mut ids: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap_or("").trim().to_string())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn both_languages_have_every_message() {
        let en = ids(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/locales/en-US/main.ftl"
        ));
        let es = ids(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/locales/es-US/main.ftl"
        ));
        let only_en: Vec<_> = en.iter().filter(|k| !es.contains(k)).collect();
        let only_es: Vec<_> = es.iter().filter(|k| !en.contains(k)).collect();
        assert!(
            only_en.is_empty() && only_es.is_empty(),
            "only in English: {only_en:?}; only in Spanish: {only_es:?}"
        );
        assert!(en.len() > 50);
    }

    #[test]
    fn every_message_id_used_in_templates_exists() {
        let en = ids(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/locales/en-US/main.ftl"
        ));
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for entry in std::fs::read_dir(dir).expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for piece in text
                .split("tr.t(\"")
                .skip(1)
                .chain(text.split("tr.t1(\"").skip(1))
                .chain(text.split("tr.tn(\"").skip(1))
            {
                let id = piece.split('"').next().unwrap_or("");
                assert!(
                    en.iter().any(|k| k == id),
                    "{} uses unknown message {id}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn negotiation_order() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr;q=0.9, es-MX;q=0.8, en;q=0.5".parse().expect("header"),
        );
        assert_eq!(negotiate(None, &h), (Lang::Es, false));
        assert_eq!(negotiate(Some("en"), &h), (Lang::En, true));
        h.insert(header::COOKIE, "redress_lang=en".parse().expect("header"));
        assert_eq!(negotiate(None, &h), (Lang::En, false));
        assert_eq!(negotiate(None, &HeaderMap::new()), (Lang::En, false));
    }

    #[test]
    fn spanish_is_spanish() {
        assert_eq!(Tr::new(Lang::Es).t("nav-logout"), "Cerrar sesión");
        assert_eq!(
            Tr::new(Lang::En).t1("portal-filed-reference", "reference", "NYC-2026-000001"),
            "Your reference number is NYC-2026-000001."
        );
    }
}
