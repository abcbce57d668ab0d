//! Connect record headers, Java's `org.apache.kafka.connect.header`: an ordered list of
//! key/schema/value triples in which a key may repeat.

use bytes::Bytes;

use crate::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, Date, Decimal, Schema, SchemaAndValue, Struct,
    TIME_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, Time, Timestamp, Type, Value,
};
use crate::error::{ConnectError, Result};

/// One header: a key with a schema and value, Java's `ConnectHeader`.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    key: String,
    schema: Option<Schema>,
    value: Option<Value>,
}

impl Header {
    /// A header; the value is not checked against the schema (use [`Headers::add`] for that).
    pub fn new(key: impl Into<String>, schema: Option<Schema>, value: Option<Value>) -> Self {
        Self {
            key: key.into(),
            schema,
            value,
        }
    }

    /// The header's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The header's schema; `None` for schema-less values.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The header's value; `None` for `null`.
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// The schema and value as a pair.
    pub fn schema_and_value(&self) -> SchemaAndValue {
        SchemaAndValue::new(self.schema.clone(), self.value.clone())
    }

    /// A copy with the same key and a new schema and value.
    pub fn with(&self, schema: Option<Schema>, value: Option<Value>) -> Header {
        Header::new(self.key.clone(), schema, value)
    }

    /// A copy with a new key.
    pub fn rename(&self, key: impl Into<String>) -> Header {
        Header::new(key, self.schema.clone(), self.value.clone())
    }
}

/// The headers of a record in order, Java's `ConnectHeaders`.
///
/// ```
/// use ferry_connect::header::Headers;
/// let mut headers = Headers::new();
/// headers.add_string("trace", "a").add_int32("n", 1).add_string("trace", "b");
/// assert_eq!(headers.last_with_name("trace").unwrap().value().unwrap().as_str(), Some("b"));
/// headers.retain_latest("trace");
/// assert_eq!(headers.iter().map(|h| h.key()).collect::<Vec<_>>(), ["n", "trace"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers {
    headers: Vec<Header>,
}

macro_rules! typed_add {
    ($($(#[$doc:meta])* $fn:ident($ty:ty) => $schema:expr, $variant:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $fn(&mut self, key: impl Into<String>, value: $ty) -> &mut Self {
                self.push(Header::new(key, Some($schema), Some(Value::$variant(value.into()))))
            }
        )*
    };
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Removes every header.
    pub fn clear(&mut self) -> &mut Self {
        self.headers.clear();
        self
    }

    /// Appends a header without checking its value against its schema.
    pub fn push(&mut self, header: Header) -> &mut Self {
        self.headers.push(header);
        self
    }

    /// Appends a header after checking that the value suits the schema, as Java's
    /// `ConnectHeaders.add(key, SchemaAndValue)` does.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the value does not suit the schema.
    pub fn add(
        &mut self,
        key: impl Into<String>,
        schema_and_value: SchemaAndValue,
    ) -> Result<&mut Self> {
        check_schema_matches(&schema_and_value)?;
        let SchemaAndValue { schema, value } = schema_and_value;
        Ok(self.push(Header::new(key, schema, value)))
    }

    typed_add! {
        /// Appends a `STRING` header.
        add_string(&str) => Schema::string(), String;
        /// Appends a `BYTES` header.
        add_bytes(Bytes) => Schema::bytes(), Bytes;
        /// Appends a `BOOLEAN` header.
        add_boolean(bool) => Schema::boolean(), Boolean;
        /// Appends an `INT8` header.
        add_int8(i8) => Schema::int8(), Int8;
        /// Appends an `INT16` header.
        add_int16(i16) => Schema::int16(), Int16;
        /// Appends an `INT32` header.
        add_int32(i32) => Schema::int32(), Int32;
        /// Appends an `INT64` header.
        add_int64(i64) => Schema::int64(), Int64;
        /// Appends a `FLOAT32` header.
        add_float32(f32) => Schema::float32(), Float32;
        /// Appends a `FLOAT64` header.
        add_float64(f64) => Schema::float64(), Float64;
        /// Appends a `Date` header (days since the epoch).
        add_date(i32) => Date::schema(), Date;
        /// Appends a `Time` header (milliseconds since midnight).
        add_time(i32) => Time::schema(), Time;
        /// Appends a `Timestamp` header (milliseconds since the epoch).
        add_timestamp(i64) => Timestamp::schema(), Timestamp;
    }

    /// Appends a `Decimal` header with a schema of the value's scale.
    pub fn add_decimal(&mut self, key: impl Into<String>, value: Decimal) -> &mut Self {
        let schema = Decimal::schema(value.scale());
        self.push(Header::new(key, Some(schema), Some(Value::Decimal(value))))
    }

    /// Appends a struct header with the struct's own schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the struct is not valid for its schema.
    pub fn add_struct(&mut self, key: impl Into<String>, value: Struct) -> Result<&mut Self> {
        value.validate()?;
        let schema = value.schema().clone();
        Ok(self.push(Header::new(key, Some(schema), Some(Value::Struct(value)))))
    }

    /// The last header with `key`.
    pub fn last_with_name(&self, key: &str) -> Option<&Header> {
        self.headers.iter().rev().find(|h| h.key == key)
    }

    /// Every header with `key`, in order.
    pub fn all_with_name<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.headers.iter().filter(move |h| h.key == key)
    }

    /// Every header, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.headers.iter()
    }

    /// Removes every header with `key`.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.headers.retain(|h| h.key != key);
        self
    }

    /// Keeps only the last header with `key`.
    pub fn retain_latest(&mut self, key: &str) -> &mut Self {
        if let Some(last) = self.headers.iter().rposition(|h| h.key == key) {
            let mut index = 0;
            self.headers.retain(|h| {
                let keep = h.key != key || index == last;
                index += 1;
                keep
            });
        }
        self
    }

    /// Keeps only the last header of every key, in their original relative order.
    pub fn retain_latest_all(&mut self) -> &mut Self {
        let mut seen = std::collections::HashSet::new();
        let mut keep: Vec<bool> = self
            .headers
            .iter()
            .rev()
            .map(|h| seen.insert(h.key.clone()))
            .collect();
        keep.reverse();
        let mut flags = keep.into_iter();
        self.headers.retain(|_| flags.next().unwrap_or(true));
        self
    }

    /// Replaces every header with the result of `transform`; a `None` result removes it.
    pub fn apply(&mut self, mut transform: impl FnMut(&Header) -> Option<Header>) -> &mut Self {
        self.headers = self.headers.iter().filter_map(&mut transform).collect();
        self
    }

    /// Replaces every header with `key` with the result of `transform`; `None` removes it.
    pub fn apply_to(
        &mut self,
        key: &str,
        mut transform: impl FnMut(&Header) -> Option<Header>,
    ) -> &mut Self {
        self.apply(|h| {
            if h.key == key {
                transform(h)
            } else {
                Some(h.clone())
            }
        })
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;

    fn into_iter(self) -> Self::IntoIter {
        self.headers.iter()
    }
}

impl IntoIterator for Headers {
    type Item = Header;
    type IntoIter = std::vec::IntoIter<Header>;

    fn into_iter(self) -> Self::IntoIter {
        self.headers.into_iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        Self {
            headers: iter.into_iter().collect(),
        }
    }
}

/// Java's `ConnectHeaders.checkSchemaMatches`: only the value's top-level type is checked, and a
/// logical value is accepted for the base type its logical schema names.
fn check_schema_matches(schema_and_value: &SchemaAndValue) -> Result<()> {
    let Some(schema) = &schema_and_value.schema else {
        return Ok(());
    };
    let Some(value) = &schema_and_value.value else {
        if schema.is_optional() {
            return Ok(());
        }
        return Err(ConnectError::data(format!(
            "A null value requires an optional schema but was {schema}"
        )));
    };
    let name = schema.name();
    let matches = match (schema.schema_type(), value) {
        (Type::Bytes, Value::Bytes(_))
        | (Type::String, Value::String(_))
        | (Type::Boolean, Value::Boolean(_))
        | (Type::Int8, Value::Int8(_))
        | (Type::Int16, Value::Int16(_))
        | (Type::Int32, Value::Int32(_))
        | (Type::Int64, Value::Int64(_))
        | (Type::Float32, Value::Float32(_))
        | (Type::Float64, Value::Float64(_))
        | (Type::Array, Value::Array(_))
        | (Type::Map, Value::Map(_))
        | (Type::Struct, Value::Struct(_)) => true,
        (Type::Bytes, Value::Decimal(_)) => name == Some(DECIMAL_LOGICAL_NAME),
        (Type::Int32, Value::Date(_)) => name == Some(DATE_LOGICAL_NAME),
        (Type::Int32, Value::Time(_)) => name == Some(TIME_LOGICAL_NAME),
        (Type::Int64, Value::Timestamp(_)) => name == Some(TIMESTAMP_LOGICAL_NAME),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(ConnectError::data(format!(
            "The value {value} is not compatible with the schema {schema}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(headers: &Headers) -> Vec<&str> {
        headers.iter().map(Header::key).collect()
    }

    #[test]
    fn add_checks_the_value_against_the_schema() {
        let mut headers = Headers::new();
        let err = headers
            .add(
                "k",
                SchemaAndValue::new(Some(Schema::int32()), Some(Value::from("x"))),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "The value x is not compatible with the schema Schema{INT32}"
        );
        let err = headers
            .add("k", SchemaAndValue::new(Some(Schema::int32()), None))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "A null value requires an optional schema but was Schema{INT32}"
        );
        headers
            .add(
                "k",
                SchemaAndValue::new(Some(Schema::optional_int32()), None),
            )
            .unwrap();
        headers.add("k", SchemaAndValue::NULL).unwrap();
        headers
            .add(
                "d",
                SchemaAndValue::new(Some(Date::schema()), Some(Value::Date(3))),
            )
            .unwrap();
        assert!(
            headers
                .add(
                    "d",
                    SchemaAndValue::new(Some(Schema::int32()), Some(Value::Date(3)))
                )
                .is_err()
        );
        assert_eq!(headers.len(), 3);
    }

    #[test]
    fn retain_latest_keeps_the_last_of_each_key_in_order() {
        let mut headers = Headers::new();
        headers
            .add_int32("a", 1)
            .add_int32("b", 2)
            .add_int32("a", 3)
            .add_int32("c", 4)
            .add_int32("b", 5);
        let mut one = headers.clone();
        one.retain_latest("a");
        assert_eq!(keys(&one), ["b", "a", "c", "b"]);
        assert_eq!(
            one.last_with_name("a").unwrap().value(),
            Some(&Value::Int32(3))
        );
        headers.retain_latest_all();
        assert_eq!(keys(&headers), ["a", "c", "b"]);
        let values: Vec<_> = headers.iter().map(|h| h.value().cloned()).collect();
        assert_eq!(
            values,
            [
                Some(Value::Int32(3)),
                Some(Value::Int32(4)),
                Some(Value::Int32(5))
            ]
        );
    }

    #[test]
    fn remove_apply_and_all_with_name() {
        let mut headers = Headers::new();
        headers
            .add_string("a", "1")
            .add_string("b", "2")
            .add_string("a", "3");
        assert_eq!(headers.all_with_name("a").count(), 2);
        headers.apply_to("a", |h| Some(h.rename("z")));
        assert_eq!(keys(&headers), ["z", "b", "z"]);
        headers.apply(|h| (h.key() != "b").then(|| h.clone()));
        assert_eq!(keys(&headers), ["z", "z"]);
        headers.remove("z");
        assert!(headers.is_empty());
        assert!(headers.last_with_name("z").is_none());
    }
}
