//! Reading other systems' complaint files. A [`Mapping`] names, for each Redress field, where its
//! value comes from in a row of a CSV file: a column, several columns joined, a constant, or a
//! column's values translated through a table (a source status to a Redress status). Binding a
//! mapping to a file's header row refuses it, before any row is read, when it names a column the
//! file lacks; each row then becomes an [`ImportRecord`] or the list of what is wrong with it.
//!
//! The built-in mappings (`cfpb`, `nyc311`) are mapping files like any other, shipped in
//! `crates/domain/mappings/`.

use crate::case::{CaseKind, Channel, Language, Status};
use crate::money::Money;
use crate::records::CATEGORY_SEPARATOR;
use crate::validate::{self, FieldErrors};
use jiff::civil::DateTime;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The built-in mappings, by the name `--mapping` takes.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("cfpb", include_str!("../mappings/cfpb.toml")),
    ("nyc311", include_str!("../mappings/nyc311.toml")),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the mapping file is not valid: {0}")]
    Syntax(String),
    #[error("the mapping's field {field}: {message}")]
    Field { field: String, message: String },
    #[error("the mapping names columns the file lacks: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("the file has no header row")]
    NoHeader,
}

/// Where one field's value comes from.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldSource {
    /// The source column (by its header).
    pub column: Option<String>,
    /// Several columns, their non-empty values joined with `separator`.
    pub columns: Option<Vec<String>>,
    /// What joins `columns` (default `" > "`, the category path's separator).
    pub separator: Option<String>,
    /// A constant.
    pub value: Option<String>,
    /// Source values to Redress values (matched exactly, then ignoring case).
    pub map: Option<BTreeMap<String, String>>,
    /// The value when the source is empty or (with `map`) a value the table lacks.
    pub default: Option<String>,
    /// The date format of this field (strftime, e.g. `%m/%d/%Y %I:%M:%S %p`) when it is not the
    /// mapping's `date_format`.
    pub format: Option<String>,
    /// Text put before a value that is not empty, e.g. `"Consumer finance > "`.
    pub prefix: Option<String>,
    /// Where the value comes from when this source gives nothing.
    pub or: Option<Box<FieldSource>>,
}

/// The fields a row can fill.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// The row's identifier in its source system: a re-run of a file imports no row twice.
    /// Without it, a digest of the row's values is its identifier.
    pub external_id: Option<FieldSource>,
    pub received: Option<FieldSource>,
    pub closed: Option<FieldSource>,
    pub sent_to_company: Option<FieldSource>,
    pub kind: Option<FieldSource>,
    pub channel: Option<FieldSource>,
    pub status: Option<FieldSource>,
    pub company: Option<FieldSource>,
    pub category: Option<FieldSource>,
    pub description: Option<FieldSource>,
    pub company_response: Option<FieldSource>,
    pub timely: Option<FieldSource>,
    pub resolution: Option<FieldSource>,
    pub referred_to: Option<FieldSource>,
    pub consumer_name: Option<FieldSource>,
    pub phone: Option<FieldSource>,
    pub email: Option<FieldSource>,
    pub address_line1: Option<FieldSource>,
    pub city: Option<FieldSource>,
    pub state: Option<FieldSource>,
    pub zip: Option<FieldSource>,
    pub account_number: Option<FieldSource>,
    pub language: Option<FieldSource>,
    pub amount: Option<FieldSource>,
    pub publish_consent: Option<FieldSource>,
}

impl Fields {
    fn all(&self) -> [(&'static str, Option<&FieldSource>); 25] {
        [
            ("external_id", self.external_id.as_ref()),
            ("received", self.received.as_ref()),
            ("closed", self.closed.as_ref()),
            ("sent_to_company", self.sent_to_company.as_ref()),
            ("kind", self.kind.as_ref()),
            ("channel", self.channel.as_ref()),
            ("status", self.status.as_ref()),
            ("company", self.company.as_ref()),
            ("category", self.category.as_ref()),
            ("description", self.description.as_ref()),
            ("company_response", self.company_response.as_ref()),
            ("timely", self.timely.as_ref()),
            ("resolution", self.resolution.as_ref()),
            ("referred_to", self.referred_to.as_ref()),
            ("consumer_name", self.consumer_name.as_ref()),
            ("phone", self.phone.as_ref()),
            ("email", self.email.as_ref()),
            ("address_line1", self.address_line1.as_ref()),
            ("city", self.city.as_ref()),
            ("state", self.state.as_ref()),
            ("zip", self.zip.as_ref()),
            ("account_number", self.account_number.as_ref()),
            ("language", self.language.as_ref()),
            ("amount", self.amount.as_ref()),
            ("publish_consent", self.publish_consent.as_ref()),
        ]
    }
}

/// A mapping file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The name imported rows are kept under, with their `external_id`: the same source and
    /// identifier is never imported twice.
    pub source: String,
    /// What the mapping reads, for people.
    #[serde(default)]
    pub description: String,
    /// The dates' format (strftime), e.g. `%Y-%m-%d`.
    pub date_format: String,
    /// The industry of the companies an import adds.
    #[serde(default)]
    pub company_industry: Option<String>,
    pub fields: Fields,
}

fn field_error(field: &str, message: impl Into<String>) -> MappingError {
    MappingError::Field {
        field: field.to_string(),
        message: message.into(),
    }
}

impl Mapping {
    /// A built-in mapping by name.
    pub fn built_in(name: &str) -> Option<Mapping> {
        BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, text)| Mapping::parse(text).ok())
    }

    /// Reads and checks a mapping file.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let m: Mapping = toml::from_str(text).map_err(|e| MappingError::Syntax(e.to_string()))?;
        if m.source.trim().is_empty()
            || !m
                .source
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(field_error(
                "source",
                "a short name of letters, digits, '-', '_' or '.'",
            ));
        }
        check_format(&m.date_format).map_err(|e| field_error("date_format", e))?;
        for (name, source) in m.fields.all() {
            if let Some(s) = source {
                s.check(name)?;
            }
        }
        for required in ["received", "description"] {
            if m.fields
                .all()
                .iter()
                .any(|(n, s)| *n == required && s.is_none())
            {
                return Err(field_error(required, "is required in every mapping"));
            }
        }
        // The words a table or constant gives must be Redress words.
        let words: [WordCheck; 6] = [
            ("kind", m.fields.kind.as_ref(), |w| {
                w.parse::<CaseKind>().is_ok()
            }),
            ("channel", m.fields.channel.as_ref(), |w| {
                w.parse::<Channel>().is_ok()
            }),
            ("status", m.fields.status.as_ref(), |w| {
                w.parse::<Status>().is_ok_and(|s| s != Status::Merged)
            }),
            ("language", m.fields.language.as_ref(), |w| {
                w.parse::<Language>().is_ok()
            }),
            ("timely", m.fields.timely.as_ref(), |w| yes_no(w).is_some()),
            ("publish_consent", m.fields.publish_consent.as_ref(), |w| {
                yes_no(w).is_some()
            }),
        ];
        for (name, source, ok) in words {
            if let Some(s) = source {
                s.check_words(name, ok)?;
            }
        }
        Ok(m)
    }

    /// Every column the mapping reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for (_, s) in self.fields.all() {
            if let Some(s) = s {
                s.columns_into(&mut out);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Binds the mapping to a file's header row; refused when a column it names is missing.
    pub fn bind(&self, headers: &[&str]) -> Result<BoundMapping, MappingError> {
        if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
            return Err(MappingError::NoHeader);
        }
        let index = |c: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').trim() == c)
        };
        let missing: Vec<String> = self
            .columns()
            .into_iter()
            .filter(|c| index(c).is_none())
            .map(|c| format!("{c:?}"))
            .collect();
        if !missing.is_empty() {
            return Err(MappingError::MissingColumns(missing));
        }
        let columns = self
            .columns()
            .into_iter()
            .filter_map(|c| index(c).map(|i| (c.to_string(), i)))
            .collect();
        Ok(BoundMapping {
            mapping: self.clone(),
            columns,
        })
    }
}

/// A field whose values must be words of a kind: its name, its source and the test.
type WordCheck<'a> = (&'a str, Option<&'a FieldSource>, fn(&str) -> bool);

fn yes_no(w: &str) -> Option<bool> {
    match w.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "1" => Some(true),
        "no" | "false" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn check_format(format: &str) -> Result<(), String> {
    if format.trim().is_empty() || !format.contains('%') {
        return Err(format!("{format:?} is not a date format such as %Y-%m-%d"));
    }
    Ok(())
}

impl FieldSource {
    fn check(&self, field: &str) -> Result<(), MappingError> {
        let given = [
            self.column.is_some(),
            self.columns.is_some(),
            self.value.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(field_error(
                field,
                "give exactly one of column, columns or value",
            ));
        }
        if let Some(cs) = &self.columns
            && (cs.is_empty() || cs.iter().any(|c| c.trim().is_empty()))
        {
            return Err(field_error(field, "columns must name at least one column"));
        }
        if let Some(c) = &self.column
            && c.trim().is_empty()
        {
            return Err(field_error(field, "column must name a column"));
        }
        if let Some(f) = &self.format {
            check_format(f).map_err(|e| field_error(field, e))?;
        }
        if let Some(or) = &self.or {
            or.check(field)?;
        }
        Ok(())
    }

    fn check_words(&self, field: &str, ok: fn(&str) -> bool) -> Result<(), MappingError> {
        let mut words: Vec<&String> = Vec::new();
        words.extend(self.value.iter());
        words.extend(self.default.iter());
        if let Some(m) = &self.map {
            words.extend(m.values());
        }
        if let Some(bad) = words.into_iter().find(|w| !ok(w)) {
            return Err(field_error(
                field,
                format!("{bad:?} is not a value this field takes"),
            ));
        }
        match &self.or {
            Some(or) => or.check_words(field, ok),
            None => Ok(()),
        }
    }

    fn columns_into<'a>(&'a self, out: &mut Vec<&'a str>) {
        out.extend(self.column.as_deref());
        if let Some(cs) = &self.columns {
            out.extend(cs.iter().map(String::as_str));
        }
        if let Some(or) = &self.or {
            or.columns_into(out);
        }
    }
}

/// A mapping bound to a file's columns.
#[derive(Debug, Clone)]
pub struct BoundMapping {
    mapping: Mapping,
    columns: BTreeMap<String, usize>,
}

/// A person's details as a row gives them (each already checked; unusable ones left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedPerson {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub account_number: Option<String>,
    pub language: Option<Language>,
}

/// One row, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// The row's place among the file's data rows (1 is the row after the header).
    pub row: u64,
    pub source: String,
    pub external_id: String,
    /// Office-local.
    pub received: DateTime,
    pub closed: Option<DateTime>,
    pub sent_to_company: Option<DateTime>,
    pub kind: CaseKind,
    pub channel: Channel,
    pub status: Status,
    pub company: Option<String>,
    /// The category path, from the top.
    pub category: Vec<String>,
    pub description: String,
    pub company_response: Option<String>,
    pub timely: Option<bool>,
    pub resolution: Option<String>,
    pub referred_to: Option<String>,
    pub consumer: ImportedPerson,
    pub amount: Option<Money>,
    pub publish_consent: Option<bool>,
}

impl BoundMapping {
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn raw(&self, s: &FieldSource, row: &[&str]) -> String {
        let cell = |c: &str| {
            self.columns
                .get(c)
                .and_then(|i| row.get(*i))
                .map(|v| v.trim())
                .unwrap_or("")
        };
        let v = if let Some(c) = &s.column {
            cell(c).to_string()
        } else if let Some(cs) = &s.columns {
            let sep = s.separator.as_deref().unwrap_or(CATEGORY_SEPARATOR);
            cs.iter()
                .map(|c| cell(c))
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(sep)
        } else {
            s.value.clone().unwrap_or_default()
        };
        match (&s.or, &s.prefix) {
            (Some(or), _) if v.is_empty() => self.raw(or, row),
            (_, Some(prefix)) if !v.is_empty() => format!("{prefix}{v}"),
            _ => v,
        }
    }

    /// The value of a field, translated through its table; `Err` names the value the table
    /// lacks.
    fn value(&self, s: &FieldSource, row: &[&str]) -> Result<String, String> {
        let raw = self.raw(s, row);
        if let Some(map) = &s.map {
            if let Some(v) = map.get(&raw) {
                return Ok(v.clone());
            }
            if let Some((_, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&raw)) {
                return Ok(v.clone());
            }
            return match &s.default {
                Some(d) => Ok(d.clone()),
                None if raw.is_empty() => Ok(raw),
                None => Err(raw),
            };
        }
        match &s.default {
            Some(d) if raw.is_empty() => Ok(d.clone()),
            _ => Ok(raw),
        }
    }

    fn source_name(s: &FieldSource) -> String {
        if let Some(c) = &s.column {
            format!("column {c:?}")
        } else if let Some(cs) = &s.columns {
            format!("columns {}", cs.join(", "))
        } else {
            "the mapping's constant".into()
        }
    }

    /// Reads one data row (`row` counts from 1 after the header).
    pub fn record(&self, row: u64, cells: &[&str]) -> Result<ImportRecord, FieldErrors> {
        let f = &self.mapping.fields;
        let mut errors = FieldErrors::new();
        let text =
            |name: &str, s: Option<&FieldSource>, errors: &mut FieldErrors| -> Option<String> {
                let s = s?;
                match self.value(s, cells) {
                    Ok(v) if v.is_empty() => None,
                    Ok(v) => Some(v),
                    Err(unknown) => {
                        errors.push(
                            name,
                            "unknown_value",
                            format!(
                                "{unknown:?} ({}) is not in the mapping's table",
                                Self::source_name(s)
                            ),
                        );
                        None
                    }
                }
            };
        let date =
            |name: &str, s: Option<&FieldSource>, errors: &mut FieldErrors, v: Option<String>| {
                let v = v?;
                let format = s
                    .and_then(|s| s.format.as_deref())
                    .unwrap_or(&self.mapping.date_format);
                match parse_date(format, &v) {
                    Some(d) => Some(d),
                    None => {
                        errors.push(
                            name,
                            "date_invalid",
                            format!(
                                "{v:?} ({}) is not a date in the format {format}",
                                s.map(Self::source_name).unwrap_or_default()
                            ),
                        );
                        None
                    }
                }
            };
        let received_text = text("received", f.received.as_ref(), &mut errors);
        if received_text.is_none() && errors.is_empty() {
            errors.push("received", "required", "The date received is empty.");
        }
        let received = date("received", f.received.as_ref(), &mut errors, received_text);
        let closed_text = text("closed", f.closed.as_ref(), &mut errors);
        let closed = date("closed", f.closed.as_ref(), &mut errors, closed_text);
        let sent_text = text("sent_to_company", f.sent_to_company.as_ref(), &mut errors);
        let sent_to_company = date(
            "sent_to_company",
            f.sent_to_company.as_ref(),
            &mut errors,
            sent_text,
        );
        let word = |name: &str, v: Option<String>, errors: &mut FieldErrors| -> Option<String> {
            v.map(|w| w.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
                .filter(|w| {
                    if w.is_empty() {
                        errors.push(name, "required", "Empty.");
                    }
                    !w.is_empty()
                })
        };
        let kind_word = text("kind", f.kind.as_ref(), &mut errors);
        let kind = match word("kind", kind_word, &mut errors) {
            None => CaseKind::Complaint,
            Some(w) => w.parse().unwrap_or_else(|_| {
                errors.push("kind", "unknown_value", format!("{w:?} is not a case kind"));
                CaseKind::Complaint
            }),
        };
        let channel_word = text("channel", f.channel.as_ref(), &mut errors);
        let channel = match word("channel", channel_word, &mut errors) {
            None => Channel::Web,
            Some(w) => w.parse().unwrap_or_else(|_| {
                errors.push(
                    "channel",
                    "unknown_value",
                    format!("{w:?} is not a channel"),
                );
                Channel::Web
            }),
        };
        let status_word = text("status", f.status.as_ref(), &mut errors);
        let status = match word("status", status_word, &mut errors) {
            None => None,
            Some(w) => match w.parse::<Status>() {
                Ok(Status::Merged) | Err(_) => {
                    errors.push(
                        "status",
                        "unknown_value",
                        format!("{w:?} is not a status an imported case can have"),
                    );
                    None
                }
                Ok(s) => Some(s),
            },
        };
        // One-line fields: line breaks, tabs and stray control characters (a mis-decoded
        // character in another system's export) become spaces.
        let short = |name: &str, s: Option<&FieldSource>, max: usize, errors: &mut FieldErrors| {
            let v = text(name, s, errors).map(|v| {
                v.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect::<String>()
            });
            validate::optional_text(errors, name, v.as_deref(), max)
        };
        let company = short(
            "company",
            f.company.as_ref(),
            validate::NAME_MAX,
            &mut errors,
        );
        let category_text = short("category", f.category.as_ref(), 1_000, &mut errors);
        let category: Vec<String> = category_text
            .map(|c| {
                c.split(CATEGORY_SEPARATOR)
                    .map(|p| p.trim().replace('>', "-"))
                    .filter(|p| !p.is_empty())
                    .map(|p| p.chars().take(validate::SHORT_MAX).collect())
                    .collect()
            })
            .unwrap_or_default();
        let description_text = text("description", f.description.as_ref(), &mut errors);
        let description = validate::required_text(
            &mut errors,
            "description",
            description_text.as_deref(),
            validate::DESCRIPTION_MAX,
        );
        let company_response = short(
            "company_response",
            f.company_response.as_ref(),
            validate::BODY_MAX,
            &mut errors,
        );
        let resolution = short(
            "resolution",
            f.resolution.as_ref(),
            validate::BODY_MAX,
            &mut errors,
        );
        let referred_to = short(
            "referred_to",
            f.referred_to.as_ref(),
            validate::NAME_MAX,
            &mut errors,
        );
        let flag = |name: &str, v: Option<String>, errors: &mut FieldErrors| {
            v.and_then(|v| {
                let b = yes_no(&v);
                if b.is_none() {
                    errors.push(name, "unknown_value", format!("{v:?} is not yes or no"));
                }
                b
            })
        };
        let timely_text = text("timely", f.timely.as_ref(), &mut errors);
        let timely = flag("timely", timely_text, &mut errors);
        let consent_text = text("publish_consent", f.publish_consent.as_ref(), &mut errors);
        let publish_consent = flag("publish_consent", consent_text, &mut errors);
        let amount = match text("amount", f.amount.as_ref(), &mut errors) {
            None => None,
            Some(v) => match Money::parse(&v) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push("amount", "amount_invalid", format!("{v:?}: {e}"));
                    None
                }
            },
        };
        // Contact details: a value that is not usable is left out, not fatal; the complaint
        // itself still goes in.
        let mut ignore = FieldErrors::new();
        let phone = text("phone", f.phone.as_ref(), &mut errors)
            .and_then(|v| validate::normalize_phone(&v));
        let email = text("email", f.email.as_ref(), &mut errors)
            .filter(|v| validate::is_email(v))
            .map(|v| v.to_ascii_lowercase());
        let zip = text("zip", f.zip.as_ref(), &mut errors).and_then(|v| {
            let v = v.strip_suffix(".0").unwrap_or(&v).to_string();
            validate::zip(&mut ignore, "zip", &v)
        });
        let state = text("state", f.state.as_ref(), &mut errors)
            .and_then(|v| validate::state(&mut ignore, "state", &v));
        let account_number = text("account_number", f.account_number.as_ref(), &mut errors)
            .and_then(|v| validate::account_number(&mut ignore, "account_number", &v));
        let language = text("language", f.language.as_ref(), &mut errors)
            .and_then(|v| v.trim().to_ascii_lowercase().parse().ok());
        let name = short(
            "consumer_name",
            f.consumer_name.as_ref(),
            validate::NAME_MAX,
            &mut ignore,
        );
        let address_line1 = short(
            "address_line1",
            f.address_line1.as_ref(),
            validate::SHORT_MAX,
            &mut ignore,
        );
        let city = short("city", f.city.as_ref(), validate::SHORT_MAX, &mut ignore);
        let external_id = match text("external_id", f.external_id.as_ref(), &mut errors) {
            Some(id) if id.chars().count() <= 200 => id,
            Some(_) => {
                errors.push("external_id", "too_long", "At most 200 characters.");
                String::new()
            }
            None if f.external_id.is_some() => {
                errors.push("external_id", "required", "The row's identifier is empty.");
                String::new()
            }
            None => row_digest(cells),
        };
        let (Some(received), Some(description)) = (received, description) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let status = status.unwrap_or(if closed.is_some() {
            Status::Closed
        } else if sent_to_company.is_some() {
            Status::PendingCompany
        } else {
            Status::Open
        });
        if let Some(c) = closed
            && c < received
        {
            errors.push("closed", "date_invalid", "Closed before it was received.");
            return Err(errors);
        }
        Ok(ImportRecord {
            row,
            source: self.mapping.source.clone(),
            external_id,
            received,
            closed,
            sent_to_company,
            kind,
            channel,
            status,
            company,
            category,
            description,
            company_response,
            timely,
            resolution,
            referred_to,
            consumer: ImportedPerson {
                name,
                phone,
                email,
                address_line1,
                city,
                state,
                zip,
                account_number,
                language,
            },
            amount,
            publish_consent,
        })
    }
}

/// The identifier of a row that has none: a digest of its values.
fn row_digest(cells: &[&str]) -> String {
    let mut h = Sha256::new();
    for c in cells {
        h.update(c.trim().as_bytes());
        h.update([0x1f]);
    }
    format!("sha256:{}", &hex::encode(h.finalize())[..32])
}

/// A date (or date and time) in a strftime format; a date alone is midnight.
pub fn parse_date(format: &str, text: &str) -> Option<DateTime> {
    let parsed = jiff::fmt::strtime::parse(format, text.trim()).ok()?;
    parsed.to_datetime().ok().or_else(|| {
        parsed
            .to_date()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfpb() -> BoundMapping {
        let m = Mapping::built_in("cfpb").expect("cfpb mapping");
        let headers = "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,Company response to consumer,Timely response?,Consumer disputed?,Complaint ID";
        m.bind(&headers.split(',').collect::<Vec<_>>())
            .expect("binds")
    }

    fn row(cells: &str) -> Vec<&str> {
        cells.split('|').collect()
    }

    #[test]
    fn the_built_in_mappings_parse() {
        for (name, text) in BUILT_IN {
            Mapping::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn a_cfpb_row_becomes_a_record() {
        let r = cfpb()
            .record(
                1,
                &row(
                    "2020-03-06|Mortgage|Conventional home mortgage|Trouble during payment process||They lost my payment.||Bank of Example|NC|27105||Consent provided|Phone|2020-03-09|Closed with explanation|Yes|N/A|3556830",
                ),
            )
            .expect("a record");
        assert_eq!(r.external_id, "3556830");
        assert_eq!(r.source, "cfpb");
        assert_eq!(r.received.date(), jiff::civil::date(2020, 3, 6));
        assert_eq!(r.channel, Channel::Phone);
        assert_eq!(r.status, Status::Closed);
        assert_eq!(
            r.category,
            vec![
                "Consumer finance",
                "Mortgage",
                "Conventional home mortgage",
                "Trouble during payment process"
            ]
        );
        assert_eq!(r.description, "They lost my payment.");
        assert_eq!(r.timely, Some(true));
        assert_eq!(r.publish_consent, Some(true));
        assert_eq!(r.consumer.zip.as_deref(), Some("27105"));
        assert_eq!(r.company.as_deref(), Some("Bank of Example"));
    }

    #[test]
    fn a_row_without_narrative_is_described_by_its_issue() {
        let r = cfpb()
            .record(
                2,
                &row("2020-03-06|Mortgage||Trouble during payment process|Lost payment|||Bank|XX|275XX||Consent not provided|Web|||||9"),
            )
            .expect("a record");
        assert_eq!(
            r.description,
            "Trouble during payment process: Lost payment"
        );
        assert_eq!(r.status, Status::Open);
        assert_eq!(r.consumer.zip, None, "a masked ZIP is left out");
        assert_eq!(r.consumer.state, None);
        assert_eq!(r.publish_consent, Some(false));
    }

    #[test]
    fn a_bad_row_names_its_fields() {
        let e = cfpb()
            .record(3, &row("03/06/2020|Mortgage||||||Bank|NC|||||||||9"))
            .expect_err("refused");
        let fields = e.fields();
        assert!(fields.contains(&"received"), "{e}");
        assert!(fields.contains(&"description"), "{e}");
        assert!(e.to_string().contains("Date received"), "{e}");
    }

    #[test]
    fn an_unknown_value_in_a_table_is_refused() {
        let m = Mapping::parse(
            r#"
source = "x"
date_format = "%Y-%m-%d"
[fields]
received = { column = "d" }
description = { column = "t" }
status = { column = "s", map = { "Done" = "closed", "Working" = "open" } }
"#,
        )
        .expect("parses");
        let b = m.bind(&["d", "t", "s"]).expect("binds");
        assert_eq!(
            b.record(1, &["2024-01-02", "x", "done"])
                .expect("ok")
                .status,
            Status::Closed
        );
        let e = b
            .record(2, &["2024-01-02", "x", "Lost"])
            .expect_err("refused");
        assert_eq!(e.fields(), vec!["status"]);
        assert!(e.to_string().contains("\"Lost\""), "{e}");
        // Without an identifier, the row's values are its identity.
        let a = b.record(1, &["2024-01-02", "x", "Done"]).expect("ok");
        let again = b.record(9, &["2024-01-02", "x", "Done"]).expect("ok");
        assert_eq!(a.external_id, again.external_id);
    }

    #[test]
    fn a_mapping_naming_a_missing_column_is_refused_before_any_row() {
        let m = Mapping::built_in("nyc311").expect("nyc311");
        let e = m
            .bind(&["Unique Key", "Created Date"])
            .expect_err("refused");
        let MappingError::MissingColumns(cols) = &e else {
            panic!("{e}")
        };
        assert!(cols.iter().any(|c| c.contains("Descriptor")), "{e}");
    }

    #[test]
    fn mapping_mistakes_are_named() {
        let bad_word = "source = \"x\"\ndate_format = \"%Y\"\n[fields]\nreceived = { column = \"d\" }\ndescription = { column = \"t\" }\nchannel = { value = \"pigeon\" }\n";
        let e = Mapping::parse(bad_word).expect_err("refused");
        assert!(e.to_string().contains("channel"), "{e}");
        let typo = "source = \"x\"\ndate_format = \"%Y\"\n[fields]\nreceived = { column = \"d\" }\ndescription = { column = \"t\" }\nchanel = { value = \"web\" }\n";
        assert!(
            Mapping::parse(typo)
                .expect_err("refused")
                .to_string()
                .contains("chanel")
        );
        let both = "source = \"x\"\ndate_format = \"%Y\"\n[fields]\nreceived = { column = \"d\", value = \"2020\" }\ndescription = { column = \"t\" }\n";
        assert!(
            Mapping::parse(both)
                .expect_err("refused")
                .to_string()
                .contains("received")
        );
        let no_date =
            "source = \"x\"\ndate_format = \"%Y\"\n[fields]\ndescription = { column = \"t\" }\n";
        assert!(
            Mapping::parse(no_date)
                .expect_err("refused")
                .to_string()
                .contains("received")
        );
    }

    #[test]
    fn dates_with_times_parse() {
        let d = parse_date("%m/%d/%Y %I:%M:%S %p", "09/01/2016 04:23:55 PM").expect("parses");
        assert_eq!(d, jiff::civil::date(2016, 9, 1).at(16, 23, 55, 0));
        assert_eq!(
            parse_date("%Y-%m-%d", "2016-09-01"),
            Some(jiff::civil::date(2016, 9, 1).at(0, 0, 0, 0))
        );
        assert_eq!(parse_date("%Y-%m-%d", "2016-13-01"), None);
    }
}
