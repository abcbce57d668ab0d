//! Text forms of Connect values, Java's `org.apache.kafka.connect.data.Values`: the string a
//! value prints as ([`convert_to_string`]), the value a string parses to ([`parse_string`]),
//! and the schema a schema-less value implies ([`infer_schema`]). `SimpleHeaderConverter`, the
//! default header converter, is these two conversions over UTF-8.
//!
//! Temporal values print and parse in UTC; Java uses the JVM's default time zone, which is UTC
//! on typical Connect deployments.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::conversion::{convert_to, convert_value};
use super::logical::{Date, Decimal, MILLIS_PER_DAY, Time, Timestamp};
use super::schema::{Schema, SchemaBuilder, Type};
use super::temporal::{Temporal, format_millis, parse_temporal};
use super::value::{SchemaAndValue, Value};
use crate::error::{ConnectError, Result};
use crate::java;

/// The text of a value, Java's `Values.convertToString`: strings as they are, bytes in base64,
/// arrays as `[1,2]`, maps and structs as `{"k":v}`, temporal values in ISO-8601.
///
/// ```
/// use ferry_connect::data::{convert_to_string, Value};
/// let v = Value::Map(vec![("a".into(), Some(Value::Array(vec![Some(Value::Int32(1)), None])))]);
/// assert_eq!(convert_to_string(Some(&v)).as_deref(), Some(r#"{"a":[1,null]}"#));
/// ```
pub fn convert_to_string(value: Option<&Value>) -> Option<String> {
    let mut out = String::new();
    append(&mut out, value?, false);
    Some(out)
}

fn append_nullable(out: &mut String, value: Option<&Value>) {
    match value {
        Some(v) => append(out, v, true),
        None => out.push_str("null"),
    }
}

fn append(out: &mut String, value: &Value, embedded: bool) {
    let quoted = |out: &mut String, text: &str| {
        if embedded {
            out.push('"');
            out.push_str(text);
            out.push('"');
        } else {
            out.push_str(text);
        }
    };
    match value {
        Value::String(s) if embedded => quoted(out, &s.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => quoted(out, &BASE64.encode(b)),
        Value::Float32(v) => out.push_str(&java::double_to_string(*v)),
        Value::Float64(v) => out.push_str(&java::double_to_string(*v)),
        Value::Date(days) => out.push_str(&format_millis(i64::from(*days) * MILLIS_PER_DAY)),
        Value::Time(ms) => out.push_str(&format_millis(i64::from(*ms))),
        Value::Timestamp(ms) => out.push_str(&format_millis(*ms)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append_nullable(out, item.as_ref());
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, k, true);
                out.push(':');
                append_nullable(out, v.as_ref());
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push('{');
            for (i, field) in s.schema().fields().unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, &Value::from(field.name()), true);
                out.push(':');
                append_nullable(out, s.get_field(field));
            }
            out.push('}');
        }
        Value::Int8(_)
        | Value::Int16(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Boolean(_)
        | Value::Decimal(_) => {
            out.push_str(&value.to_string());
        }
    }
}

/// The schema a schema-less value implies, Java's `Values.inferSchema`: required primitive
/// schemas, a struct's own schema, and for non-empty arrays and maps whose elements share one
/// type, a schema of that type (optional when some element is null). `None` when no schema can
/// be inferred, as for logical values.
pub fn infer_schema(value: &Value) -> Option<Schema> {
    match value {
        Value::Array(items) => {
            let element = detect(items.iter().map(Option::as_ref))?;
            SchemaBuilder::array(element).build().ok()
        }
        Value::Map(entries) => {
            let key = detect(entries.iter().map(|(k, _)| Some(k)))?;
            let value = detect(entries.iter().map(|(_, v)| v.as_ref()))?;
            SchemaBuilder::map(key, value).build().ok()
        }
        Value::Struct(s) => Some(s.schema().clone()),
        other => Some(match other.inferred_type()? {
            Type::Int8 => Schema::int8(),
            Type::Int16 => Schema::int16(),
            Type::Int32 => Schema::int32(),
            Type::Int64 => Schema::int64(),
            Type::Float32 => Schema::float32(),
            Type::Float64 => Schema::float64(),
            Type::Boolean => Schema::boolean(),
            Type::String => Schema::string(),
            _ => Schema::bytes(),
        }),
    }
}

/// Java's `SchemaDetector`: the one type all non-null values have; only the type is kept.
fn detect<'a>(values: impl Iterator<Item = Option<&'a Value>>) -> Option<Schema> {
    let mut known: Option<Type> = None;
    let mut optional = false;
    for value in values {
        let Some(value) = value else {
            optional = true;
            continue;
        };
        let found = infer_schema(value)?.schema_type();
        if known.is_some_and(|k| k != found) {
            return None;
        }
        known = Some(found);
    }
    let builder = SchemaBuilder::new(known?);
    let builder = if optional {
        builder.optional()
    } else {
        builder
    };
    builder.build().ok()
}

/// Parses text into a value and the schema it implies, Java's `Values.parseString`: `null`,
/// `true`/`false`, integers as the smallest of `INT8`..`INT64`, other numbers as `FLOAT32`,
/// `FLOAT64` or `Decimal`, ISO-8601 dates, times and timestamps, and `[..]` arrays and `{..}`
/// maps of such values (strings inside quoted); anything else is the string itself.
///
/// ```
/// use ferry_connect::data::{parse_string, Schema, SchemaBuilder, Type, Value};
/// let parsed = parse_string("[1, 300]");
/// assert_eq!(parsed.schema, Some(SchemaBuilder::array(Schema::int16()).build().unwrap()));
/// assert_eq!(parsed.value, Some(Value::Array(vec![Some(Value::Int16(1)), Some(Value::Int16(300))])));
/// assert_eq!(parse_string("true}").value, Some(Value::from("true}")));
/// assert_eq!(parse_string("2020-01-01").value, Some(Value::Date(18262)));
/// ```
pub fn parse_string(text: &str) -> SchemaAndValue {
    if text.is_empty() {
        return SchemaAndValue::new(Some(Schema::string()), Some(Value::from("")));
    }
    let mut parser = Parser::new(text);
    match parse(&mut parser, false) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => SchemaAndValue::NULL,
        // Only embedded values fail, and the top level falls back to the text on those.
        Err(_) => SchemaAndValue::new(Some(Schema::string()), Some(Value::from(text))),
    }
}

fn is_blank(s: &str) -> bool {
    java::trim(s).is_empty()
}

/// Java's `Values.Parser`: splits on unescaped `: , { } [ ] "`, each delimiter its own token.
struct Parser<'a> {
    original: &'a str,
    position: usize,
    next_token: Option<&'a str>,
    previous: Option<&'a str>,
}

impl<'a> Parser<'a> {
    fn new(original: &'a str) -> Self {
        Self {
            original,
            position: 0,
            next_token: None,
            previous: None,
        }
    }

    fn mark(&self) -> usize {
        self.position - self.next_token.map_or(0, str::len)
    }

    fn rewind_to(&mut self, position: usize) {
        self.position = position;
        self.next_token = None;
        self.previous = None;
    }

    fn has_next(&self) -> bool {
        self.next_token.is_some() || self.position < self.original.len()
    }

    fn consume_token(&mut self) -> &'a str {
        let start = self.position;
        let mut escaped = false;
        for (offset, c) in self.original[start..].char_indices() {
            match c {
                '\\' => escaped = !escaped,
                ':' | ',' | '{' | '}' | '[' | ']' | '"' if !escaped => {
                    let end = if offset == 0 { 1 } else { offset };
                    self.position = start + end;
                    return &self.original[start..start + end];
                }
                _ => escaped = false,
            }
        }
        self.position = self.original.len();
        &self.original[start..]
    }

    fn next(&mut self) -> Option<&'a str> {
        let token = match self.next_token.take() {
            Some(token) => token,
            None if self.has_next() => self.consume_token(),
            None => return None,
        };
        self.previous = Some(token);
        Some(token)
    }

    /// The text of the next `n` tokens, or `None` (and nothing consumed) when there are fewer.
    fn next_n(&mut self, n: usize) -> Option<&'a str> {
        let start = self.mark();
        for _ in 0..n {
            if self.next().is_none() {
                self.rewind_to(start);
                return None;
            }
        }
        Some(&self.original[start..self.position])
    }

    /// Consumes the next token if, trimmed, it is `expected`; blank tokens before it are skipped.
    fn can_consume(&mut self, expected: &str) -> bool {
        if self.next_token.is_none() {
            if !self.has_next() {
                return false;
            }
            self.next_token = Some(self.consume_token());
        }
        while self.next_token.is_some_and(is_blank) && self.position < self.original.len() {
            self.next_token = Some(self.consume_token());
        }
        if self.next_token.is_some_and(|t| java::trim(t) == expected) {
            self.next_token = None;
            return true;
        }
        false
    }

    fn single_token_literal(&mut self, embedded: bool, literal: &str) -> bool {
        let start = self.mark();
        if self.can_consume(literal) && (embedded || !self.has_next()) {
            return true;
        }
        self.rewind_to(start);
        false
    }
}

fn parse(parser: &mut Parser<'_>, embedded: bool) -> Result<Option<SchemaAndValue>> {
    if !parser.has_next() {
        return Ok(None);
    }
    if embedded && parser.can_consume("\"") {
        return Ok(Some(parse_quoted(parser)));
    }
    if parser.single_token_literal(embedded, "null") {
        return Ok(None);
    }
    for (literal, value) in [("true", true), ("false", false)] {
        if parser.single_token_literal(embedded, literal) {
            return Ok(Some(SchemaAndValue::new(
                Some(Schema::boolean()),
                Some(Value::Boolean(value)),
            )));
        }
    }
    let start = parser.mark();
    let nested = if parser.can_consume("[") {
        Some(parse_array(parser))
    } else if parser.can_consume("{") {
        Some(parse_map(parser))
    } else {
        None
    };
    match nested {
        Some(Ok(parsed)) => return Ok(Some(parsed)),
        Some(Err(_)) => parser.rewind_to(start),
        None => {}
    }
    let token = parser.next().unwrap_or_default();
    if is_blank(token) {
        return Ok(Some(SchemaAndValue::new(
            Some(Schema::string()),
            Some(Value::from(token)),
        )));
    }
    parse_token(parser, embedded, java::trim(token)).map(Some)
}

fn parse_token(parser: &mut Parser<'_>, embedded: bool, token: &str) -> Result<SchemaAndValue> {
    let first = token.chars().next().unwrap_or_default();
    if first.is_ascii_digit() {
        let position = parser.mark();
        let joined = parser.next_n(4).map(|rest| format!("{token}{rest}"));
        if let Some(temporal) = joined.as_deref().and_then(temporal_value) {
            return Ok(temporal);
        }
        parser.rewind_to(position);
        if let Some(temporal) = temporal_value(token) {
            return Ok(temporal);
        }
    }
    if (first.is_ascii_digit() || first == '+' || first == '-')
        && let Ok(decimal) = token.parse::<Decimal>()
    {
        return Ok(number(decimal));
    }
    if embedded {
        return Err(ConnectError::Data(
            "Failed to parse embedded value".to_owned(),
        ));
    }
    Ok(SchemaAndValue::new(
        Some(Schema::string()),
        Some(Value::from(parser.original)),
    ))
}

fn temporal_value(token: &str) -> Option<SchemaAndValue> {
    let (schema, value) = match parse_temporal(token)? {
        Temporal::Date(days) => (Date::schema(), Value::Date(i32::try_from(days).ok()?)),
        Temporal::Time(ms) if (0..=MILLIS_PER_DAY).contains(&ms) => {
            (Time::schema(), Value::Time(i32::try_from(ms).ok()?))
        }
        Temporal::Time(_) => return None,
        Temporal::Timestamp(ms) => (Timestamp::schema(), Value::Timestamp(ms)),
    };
    Some(SchemaAndValue::new(Some(schema), Some(value)))
}

fn parse_quoted(parser: &mut Parser<'_>) -> SchemaAndValue {
    let mut content = String::new();
    while parser.has_next() {
        if parser.can_consume("\"") {
            break;
        }
        content.push_str(parser.next().unwrap_or_default());
    }
    temporal_value(&content).unwrap_or_else(|| {
        SchemaAndValue::new(Some(Schema::string()), Some(Value::String(content)))
    })
}

/// Java's `parseAsNumber`: integral values in the smallest integer type that holds them, other
/// finite values as `FLOAT32` (or `FLOAT64` when out of `float` range), the rest as `Decimal`.
fn number(decimal: Decimal) -> SchemaAndValue {
    let pair = |schema: Schema, value: Value| SchemaAndValue::new(Some(schema), Some(value));
    if let Some(integral) = exact_integer(&decimal) {
        return if let Ok(v) = i8::try_from(integral) {
            pair(Schema::int8(), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(integral) {
            pair(Schema::int16(), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(integral) {
            pair(Schema::int32(), Value::Int32(v))
        } else {
            pair(Schema::int64(), Value::Int64(integral))
        };
    }
    let scientific = format!("{}e{}", decimal.unscaled(), -i64::from(decimal.scale()));
    if decimal.scale() != 0 {
        if let Some(f) = scientific.parse::<f32>().ok().filter(|f| f.is_finite()) {
            return pair(Schema::float32(), Value::Float32(f));
        }
        if let Some(d) = scientific.parse::<f64>().ok().filter(|d| d.is_finite()) {
            return pair(Schema::float64(), Value::Float64(d));
        }
    }
    pair(Decimal::schema(decimal.scale()), Value::Decimal(decimal))
}

/// The value as an `i64` if it is a whole number within `long` range.
fn exact_integer(decimal: &Decimal) -> Option<i64> {
    let scale = decimal.scale();
    let ten = super::BigInt::from(10);
    let integral = if scale <= 0 {
        decimal.unscaled() * ten.pow(scale.unsigned_abs())
    } else {
        let divisor = ten.pow(scale.unsigned_abs());
        if decimal.unscaled() % &divisor != super::BigInt::from(0) {
            return None;
        }
        decimal.unscaled() / divisor
    };
    i64::try_from(integral).ok()
}

/// Java's `SchemaMerger`: the schema all elements share, widening numbers.
#[derive(Default)]
struct SchemaMerger {
    common: Option<Schema>,
    incompatible: bool,
}

impl SchemaMerger {
    fn merge(&mut self, latest: Option<&SchemaAndValue>) {
        let Some(schema) = latest.and_then(|l| l.schema.as_ref()) else {
            return;
        };
        if self.incompatible {
            return;
        }
        self.common = match &self.common {
            None => Some(schema.clone()),
            Some(previous) => merge_schemas(previous, schema),
        };
        self.incompatible = self.common.is_none();
    }
}

fn numeric_rank(t: Type) -> Option<u8> {
    [
        Type::Int8,
        Type::Int16,
        Type::Int32,
        Type::Int64,
        Type::Float32,
        Type::Float64,
    ]
    .iter()
    .position(|x| *x == t)
    .and_then(|p| u8::try_from(p).ok())
}

fn merge_schemas(previous: &Schema, latest: &Schema) -> Option<Schema> {
    if previous.schema_type() != latest.schema_type() {
        let (p, l) = (
            numeric_rank(previous.schema_type())?,
            numeric_rank(latest.schema_type())?,
        );
        return Some(if l > p {
            latest.clone()
        } else {
            previous.clone()
        });
    }
    if previous.is_optional() == latest.is_optional() {
        return Some(if previous.is_optional() {
            previous.clone()
        } else {
            latest.clone()
        });
    }
    (previous == latest).then(|| previous.clone())
}

fn parse_array(parser: &mut Parser<'_>) -> Result<SchemaAndValue> {
    let mut items = Vec::new();
    let mut merger = SchemaMerger::default();
    while parser.has_next() {
        if parser.can_consume("]") {
            let Some(element) = merger.common else {
                let schema = SchemaBuilder::new(Type::Array).build()?;
                return Ok(SchemaAndValue::new(Some(schema), Some(Value::Array(items))));
            };
            let items = items
                .into_iter()
                .map(|v| convert_to(&element, None, v))
                .collect::<Result<_>>()?;
            let schema = SchemaBuilder::array(element).build()?;
            return Ok(SchemaAndValue::new(Some(schema), Some(Value::Array(items))));
        }
        if parser.can_consume(",") {
            return Err(ConnectError::Data(format!(
                "Unable to parse an empty array element: {}",
                parser.original
            )));
        }
        let element = parse(parser, true)?;
        merger.merge(element.as_ref());
        items.push(element.and_then(|e| e.value));
        let position = parser.mark();
        if parser.can_consume("]") {
            parser.rewind_to(position);
        } else if !parser.can_consume(",") {
            return Err(ConnectError::Data(
                "Array elements missing ',' delimiter".to_owned(),
            ));
        }
    }
    if parser.previous == Some(",") {
        return Err(ConnectError::Data(format!(
            "Array is missing element after ',': {}",
            parser.original
        )));
    }
    Err(ConnectError::Data(format!(
        "Array is missing terminating ']': {}",
        parser.original
    )))
}

fn parse_map(parser: &mut Parser<'_>) -> Result<SchemaAndValue> {
    let mut entries: Vec<(Value, Option<Value>)> = Vec::new();
    let (mut keys, mut values) = (SchemaMerger::default(), SchemaMerger::default());
    while parser.has_next() {
        if parser.can_consume("}") {
            let schema = match (keys.common, values.common) {
                (Some(k), Some(v)) => {
                    entries = entries
                        .into_iter()
                        .map(|(key, value)| {
                            Ok((convert_value(&k, None, key)?, convert_to(&v, None, value)?))
                        })
                        .collect::<Result<_>>()?;
                    SchemaBuilder::map(k, v).build()?
                }
                (Some(k), None) => {
                    entries = entries
                        .into_iter()
                        .map(|(key, value)| Ok((convert_value(&k, None, key)?, value)))
                        .collect::<Result<_>>()?;
                    SchemaBuilder::map_with_null_values(k).build()?
                }
                (None, _) => SchemaBuilder::new(Type::Map).build()?,
            };
            return Ok(SchemaAndValue::new(Some(schema), Some(Value::Map(entries))));
        }
        if parser.can_consume(",") {
            return Err(ConnectError::Data(format!(
                "Unable to parse a map entry with no key or value: {}",
                parser.original
            )));
        }
        let key = parse(parser, true)?;
        let Some(key_value) = key.as_ref().and_then(|k| k.value.clone()) else {
            return Err(ConnectError::Data(format!(
                "Map entry may not have a null key: {}",
                parser.original
            )));
        };
        if !parser.can_consume(":") {
            return Err(ConnectError::Data(format!(
                "Map entry is missing ':' at {} in {}",
                parser.position, parser.original
            )));
        }
        let value = parse(parser, true)?;
        keys.merge(key.as_ref());
        values.merge(value.as_ref());
        let value = value.and_then(|v| v.value);
        match entries.iter_mut().find(|(k, _)| *k == key_value) {
            Some(entry) => entry.1 = value,
            None => entries.push((key_value, value)),
        }
        parser.can_consume(",");
    }
    if parser.previous == Some(",") {
        return Err(ConnectError::Data(format!(
            "Map is missing element after ',': {}",
            parser.original
        )));
    }
    Err(ConnectError::Data(format!(
        "Map is missing terminating '}}': {}",
        parser.original
    )))
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
