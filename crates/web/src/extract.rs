//! Request extractors whose rejections are problem+json naming the field: JSON bodies (read
//! with `serde_path_to_error` so a wrong type or unknown value names its path), `If-Match`
//! versions and path references.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

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

/// Parses JSON, naming the offending field on a data error.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(raw);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Data => {
                    let msg = inner.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    let (field, code) = if let Some(name) =
                        backticked(&msg).filter(|_| msg.starts_with("unknown field"))
                    {
                        (join(&path, &name), "unknown_field")
                    } else if let Some(name) =
                        backticked(&msg).filter(|_| msg.starts_with("missing field"))
                    {
                        (join(&path, &name), "required")
                    } else if msg.starts_with("unknown variant") {
                        (path.clone(), "unknown_value")
                    } else {
                        (path.clone(), "invalid_type")
                    };
                    let field = if field == "." || field.is_empty() {
                        "body".to_string()
                    } else {
                        field
                    };
                    Err(ApiError::field(&field, code, &msg))
                }
                Category::Syntax | Category::Eof | Category::Io => {
                    Err(ApiError::MalformedJson(inner.to_string()))
                }
            }
        }
    }
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
    }
}
