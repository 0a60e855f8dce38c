//! Request extractors whose rejections are problem+json naming the field: JSON bodies (read
//! with `serde_path_to_error` so a wrong type or unknown value names its path), `If-Match`
//! versions and path references; and the query parameters each operation takes.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use redress_domain::FieldErrors;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest JSON body accepted.
pub const JSON_MAX_BYTES: usize = 256 * 1024;

/// A JSON body, plus its raw bytes (for idempotency hashing).
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                ct == "application/json"
                    || (ct.starts_with("application/") && ct.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let raw = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson(format!("could not read the body: {e}"))
            }
        })?;
        if raw.len() > JSON_MAX_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

/// Parses JSON, naming the offending field on a data error. The body must be one JSON value
/// (trailing data is refused), and every string in it must follow the one text rule
/// ([`redress_domain::validate::is_clean_text`]).
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    // Every body this API takes is an object; serde would read an array into a struct's fields
    // by position.
    if raw.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::field(
            "body",
            "invalid_type",
            "A JSON object is expected.",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| {
                ApiError::MalformedJson(format!("unexpected data after the JSON value: {e}"))
            })?;
            v
        }
        // JSON has one number type: `3.0` is the integer 3 (as JSON Schema says too).
        Err(err)
            if err
                .inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            with_integral_floats(raw)?
        }
        Err(err) => return Err(json_error(raw, err)),
    };
    if let Some(field) = unclean_string(raw) {
        return Err(ApiError::field(
            &field,
            "invalid_characters",
            "Contains control characters.",
        ));
    }
    Ok(value)
}

/// Reads a body whose numbers with no fraction (`3.0`, `1e2`) are taken as integers.
fn with_integral_floats<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    fn integral(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(f) = n
                    .as_f64()
                    .filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0)
                {
                    *n = serde_json::Number::from(f as i64);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(integral),
            serde_json::Value::Object(map) => map.values_mut().for_each(integral),
            _ => {}
        }
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    integral(&mut value);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| json_error(raw, err))
}

fn json_error(raw: &[u8], err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let named = |field: String| {
        if field == "." || field.is_empty() {
            "body".to_string()
        } else {
            field
        }
    };
    use serde_json::error::Category;
    match inner.classify() {
        Category::Data => {
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let (field, code) = if let Some(name) =
                backticked(&msg).filter(|_| msg.starts_with("unknown field"))
            {
                (join(&path, &name), "unknown_field")
            } else if let Some(name) = backticked(&msg).filter(|_| msg.starts_with("missing field"))
            {
                (join(&path, &name), "required")
            } else if msg.starts_with("unknown variant") {
                (path.clone(), "unknown_value")
            } else {
                (path.clone(), "invalid_type")
            };
            ApiError::field(&named(field), code, &msg)
        }
        // A well-formed document can still stop the parser: a number where an enumeration's
        // word belongs (`"kind": 5`) is reported by serde_json as a syntax error. That is the
        // field's type, not the body's syntax.
        Category::Syntax
            if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_ok() && !path.is_empty() =>
        {
            ApiError::field(
                &named(path),
                "invalid_type",
                "Wrong type: see the schema for the values this field takes.",
            )
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(inner.to_string())
        }
    }
}

/// The path (`consumer.name`, `flags[0]`) of the first string in a JSON document that breaks
/// the one text rule, or of the object holding a key that does. Control characters can appear
/// in JSON only escaped (`\u0000`, `\b`, `\f`), as DEL, or as UTF-8 for the C1 range, so a
/// body with none of those is not walked.
fn unclean_string(raw: &[u8]) -> Option<String> {
    let suspect = raw.contains(&0x7F)
        || raw.windows(2).any(|w| {
            (w[0] == b'\\' && matches!(w[1], b'u' | b'b' | b'f'))
                || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
        });
    if !suspect {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        use redress_domain::validate::is_clean_text;
        let here = || {
            if path.is_empty() {
                "body".to_string()
            } else {
                path.to_string()
            }
        };
        match v {
            serde_json::Value::String(s) => (!is_clean_text(s, true)).then(here),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                if !is_clean_text(k, false) {
                    Some(here())
                } else if path.is_empty() {
                    walk(x, k)
                } else {
                    walk(x, &format!("{path}.{k}"))
                }
            }),
            _ => None,
        }
    }
    walk(&value, "")
}

fn backticked(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_string())
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The query parameters each API operation's description names, by method and route.
#[derive(Debug, Default)]
pub struct QueryRules(HashMap<(Method, String), Vec<String>>);

impl QueryRules {
    /// Reads the rules from the OpenAPI document, so that the server takes exactly the
    /// parameters the document describes.
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> QueryRules {
        use utoipa::openapi::path::ParameterIn;
        let mut rules = HashMap::new();
        for (route, item) in &spec.paths.paths {
            let shared = item.parameters.iter().flatten();
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                let Some(op) = op else { continue };
                let names = shared
                    .clone()
                    .chain(op.parameters.iter().flatten())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                rules.insert((method, route.clone()), names);
            }
        }
        QueryRules(rules)
    }
}

/// Middleware for the API's routes: a query parameter the operation does not describe, one
/// given twice, or one whose value breaks the one text rule is a 422 naming it, before the
/// handler (and any store lookup) runs.
pub async fn check_query(
    State(rules): State<Arc<QueryRules>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let known = route.and_then(|r| rules.0.get(&(req.method().clone(), r)));
    let Some(known) = known.filter(|_| req.uri().query().is_some()) else {
        return next.run(req).await;
    };
    // A query string that cannot be read is left to the handler's own extractor.
    let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(req.uri()) else {
        return next.run(req).await;
    };
    let mut errors = FieldErrors::new();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &pairs {
        if !known.iter().any(|k| k == name) {
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            errors.push(
                name.clone(),
                "unknown_parameter",
                format!("Known parameters: {known}."),
            );
        } else if seen.contains(&name.as_str()) {
            errors.push(name.clone(), "repeated_parameter", "Give it once.");
        } else if !redress_domain::validate::is_clean_text(value, false) {
            errors.push(
                name.clone(),
                "invalid_characters",
                "Contains control characters.",
            );
        }
        seen.push(name);
    }
    if errors.is_empty() {
        next.run(req).await
    } else {
        ApiError::Validation(errors).into_response()
    }
}

/// The version in `If-Match`: `"3"`, `W/"3"` or `3`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().map_err(|_| {
        ApiError::field(
            "If-Match",
            "invalid",
            "If-Match must be a version such as \"3\"",
        )
    })?;
    let t = text.trim().trim_start_matches("W/").trim_matches('"');
    t.parse::<i64>().map(Some).map_err(|_| {
        ApiError::field(
            "If-Match",
            "invalid",
            "If-Match must be a version such as \"3\"",
        )
    })
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Deserialises a field that distinguishes absent (`None`) from `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        email: String,
        n: Option<i64>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        kind: redress_domain::CaseKind,
        consumer: Inner,
    }

    fn fields(r: Result<Outer, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(e)) => {
                e.0.iter()
                    .map(|x| format!("{}:{}", x.field, x.code))
                    .collect()
            }
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn names_the_field() {
        assert_eq!(
            fields(parse_json(br#"{"kind":"nope","consumer":{"email":"a"}}"#)),
            vec!["kind:unknown_value"]
        );
        assert_eq!(
            fields(parse_json(
                br#"{"kind":"complaint","consumer":{"email":5}}"#
            )),
            vec!["consumer.email:invalid_type"]
        );
        assert_eq!(
            fields(parse_json(
                br#"{"kind":"complaint","consumer":{"email":"a","x":1}}"#
            )),
            vec!["consumer.x:unknown_field"]
        );
        assert_eq!(
            fields(parse_json(br#"{"kind":"complaint"}"#)),
            vec!["consumer:required"]
        );
        assert!(matches!(
            parse_json::<Outer>(b"{"),
            Err(ApiError::MalformedJson(_))
        ));
        // A wrong type in an enumeration names the field.
        assert_eq!(
            fields(parse_json(br#"{"kind":5,"consumer":{"email":"a"}}"#)),
            vec!["kind:invalid_type"]
        );
        // One value only: trailing data is not ignored.
        assert!(matches!(
            parse_json::<Outer>(br#"{"kind":"complaint","consumer":{"email":"a"}} {"x":1}"#),
            Err(ApiError::MalformedJson(_))
        ));
        // The one text rule, on every string.
        assert_eq!(
            fields(parse_json(
                br#"{"kind":"complaint","consumer":{"email":"a\u0000b"}}"#
            )),
            vec!["consumer.email:invalid_characters"]
        );
        assert_eq!(
            fields(parse_json(
                br#"{"kind":"complaint","consumer":{"email":"\u001b[2J"}}"#
            )),
            vec!["consumer.email:invalid_characters"]
        );
        assert!(
            parse_json::<Outer>(
                br#"{"kind":"complaint","consumer":{"email":"Jos\u00e9\nline\t2"}}"#
            )
            .is_ok()
        );
        // Numbers without a fraction are integers, whichever way they are written.
        let o: Outer = parse_json(br#"{"kind":"complaint","consumer":{"email":"a","n":3.0}}"#)
            .expect("3.0 is 3");
        assert_eq!(o.consumer.n, Some(3));
        assert_eq!(
            fields(parse_json(
                br#"{"kind":"complaint","consumer":{"email":"a","n":3.5}}"#
            )),
            vec!["consumer.n:invalid_type"]
        );
    }
}
