//! Reading requests as Jersey and Jackson read them in Java's Connect: query parameters with
//! JAX-RS's boolean rules, JSON bodies whose parse errors are 500s (Java's exception mapper sees
//! Jackson's exception, not a `WebApplicationException`), string maps that accept numbers and
//! booleans as strings (Jackson's scalar coercion), and path parameters whose conversion failure
//! is a 404.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, ApiResult};

/// The largest request body accepted; Java sets no limit, but an unbounded body is a denial of
/// service, and no Connect request comes near this.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The query string's parameters, in order, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        Self(pairs)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present at all.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A boolean parameter as JAX-RS converts it (`Boolean.valueOf`: `true` in any case is true,
    /// anything else false), `None` when absent.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        Ok(Self::parse(parts.uri.query()))
    }
}

/// Path parameters; a parameter that does not convert (e.g. a task id that is not a number) is
/// a 404, as JAX-RS answers.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::jersey(StatusCode::NOT_FOUND)),
        }
    }
}

/// A request body declared JSON (or of no declared type), with the request's headers; the raw
/// bytes are kept because signed internal requests need them.
#[derive(Debug)]
pub struct RequestBody {
    /// The body as received.
    pub raw: Bytes,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl RequestBody {
    /// The body parsed as JSON, `null` when empty.
    pub fn json(&self) -> ApiResult<Value> {
        parse_json(&self.raw)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl<S: Send + Sync> FromRequest<S> for RequestBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> ApiResult<Self> {
        let (parts, body) = request.into_parts();
        if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE)
            && !is_json(content_type.to_str().unwrap_or(""))
        {
            return Err(ApiError::jersey(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let raw = read_body(body).await?;
        Ok(Self {
            raw,
            headers: parts.headers,
        })
    }
}

async fn read_body(body: Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })
}

/// Whether a `Content-Type` is one Java's `@Consumes(APPLICATION_JSON)` accepts.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/json" | "application/*" | "*/*"
    )
}

fn parse_json(raw: &[u8]) -> ApiResult<Value> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw).map_err(|e| ApiError::internal(format!("Invalid JSON body: {e}")))
}

/// Reads a JSON object of strings into a map the way Jackson reads a `Map<String, String>`:
/// numbers and booleans become their text, `null` values are kept as `None`, anything else is
/// an error (a 500 in Java, from Jackson's mapping exception). A `null` body is `None`.
pub fn string_map(value: &Value) -> ApiResult<Option<BTreeMap<String, Option<String>>>> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        other => {
            return Err(cannot_deserialize(
                "java.util.LinkedHashMap<java.lang.String,java.lang.String>",
                other,
            ));
        }
    };
    let mut map = BTreeMap::new();
    for (key, value) in object {
        map.insert(key.clone(), scalar_text(value)?);
    }
    Ok(Some(map))
}

/// [`string_map`] without its `null` values, which Connect's configs never hold.
pub fn config_map(value: &Value) -> ApiResult<Option<BTreeMap<String, String>>> {
    Ok(string_map(value)?.map(|map| {
        map.into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }))
}

/// A JSON scalar as Jackson coerces it into a `String`.
pub fn scalar_text(value: &Value) -> ApiResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(cannot_deserialize("java.lang.String", other)),
    }
}

fn cannot_deserialize(java_type: &str, value: &Value) -> ApiError {
    let token = match value {
        Value::Object(_) => "Object value (token `JsonToken.START_OBJECT`)",
        Value::Array(_) => "Array value (token `JsonToken.START_ARRAY`)",
        Value::String(_) => "String value (token `JsonToken.VALUE_STRING`)",
        Value::Number(_) => "Number value (token `JsonToken.VALUE_NUMBER_INT`)",
        Value::Bool(_) => "Boolean value (token `JsonToken.VALUE_TRUE`)",
        Value::Null => "Null value (token `JsonToken.VALUE_NULL`)",
    };
    ApiError::internal(format!(
        "Cannot deserialize value of type `{java_type}` from {token}"
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn booleans_follow_jax_rs() {
        let query = Query::parse(Some("a=TRUE&b=yes&expand=status&expand=info"));
        assert_eq!(query.boolean("a"), Some(true));
        assert_eq!(query.boolean("b"), Some(false));
        assert_eq!(query.boolean("c"), None);
        assert_eq!(query.all("expand").collect::<Vec<_>>(), ["status", "info"]);
    }

    #[test]
    fn string_maps_coerce_scalars_like_jackson() {
        let map = config_map(&json!({"tasks.max": 1, "x": true, "y": null, "z": "s"}))
            .unwrap()
            .unwrap();
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            [
                ("tasks.max".into(), "1".into()),
                ("x".into(), "true".into()),
                ("z".into(), "s".into())
            ]
        );
        let error = config_map(&json!({"a": {"b": 1}})).unwrap_err();
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            error.message,
            "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`)"
        );
        assert_eq!(config_map(&Value::Null).unwrap(), None);
    }

    #[test]
    fn content_types() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
