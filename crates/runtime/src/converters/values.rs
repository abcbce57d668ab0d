//! Connect's `Values.parseString` and `Values.convertToString`: the text form of header values
//! that `SimpleHeaderConverter` and `InsertHeader` use.
//!
//! Parsing infers a schema: `true`/`false` are `BOOLEAN`, whole numbers the smallest of
//! `INT8`..`INT64`, fractions `FLOAT32` or `FLOAT64`, larger numbers a `Decimal`, ISO-8601 dates,
//! times and timestamps the logical types, `[...]` arrays and `{k:v,...}` maps whose elements share
//! a schema, and anything else a `STRING`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ferry_connect::data::{
    Date, Decimal, MILLIS_PER_DAY, Schema, SchemaAndValue, SchemaBuilder, Time, Timestamp, Type,
    Value,
};

use super::date_format::{DateFormat, days_from_civil};

/// Java's `Values.convertToString` of a non-null value.
pub(crate) fn convert_to_string(value: &Value) -> String {
    let mut out = String::new();
    append(&mut out, Some(value), false);
    out
}

/// Java's `Values.append`: strings are quoted (with `\` and `"` escaped) only inside containers.
fn append(out: &mut String, value: Option<&Value>, embedded: bool) {
    let Some(value) = value else {
        out.push_str("null");
        return;
    };
    match value {
        Value::String(s) if embedded => {
            out.push('"');
            out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
        Value::Bytes(b) if embedded => {
            out.push('"');
            out.push_str(&BASE64.encode(b));
            out.push('"');
        }
        Value::Bytes(b) => out.push_str(&BASE64.encode(b)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, item.as_ref(), true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, Some(key), true);
                out.push(':');
                append(out, value.as_ref(), true);
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push('{');
            for (i, field) in s.schema().fields().unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, Some(&Value::String(field.name().to_owned())), true);
                out.push(':');
                append(out, s.get_field(field), true);
            }
            out.push('}');
        }
        Value::Date(days) => out.push_str(&format_date(i64::from(*days) * MILLIS_PER_DAY)),
        Value::Time(ms) => out.push_str(&format_date(i64::from(*ms))),
        Value::Timestamp(ms) => out.push_str(&format_date(*ms)),
        other => out.push_str(&other.to_string()),
    }
}

/// Java's `Values.dateFormatFor`: a time for the epoch's first day, a date for midnights, a
/// timestamp otherwise.
pub(crate) fn format_date(millis: i64) -> String {
    let pattern = if millis < MILLIS_PER_DAY {
        "HH:mm:ss.SSS'Z'"
    } else if millis % MILLIS_PER_DAY == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    DateFormat::new(pattern)
        .map(|f| f.format(millis))
        .unwrap_or_default()
}

/// Java's `Values.parseString`; `null` and the empty string are handled as Java does.
pub(crate) fn parse_string(text: &str) -> SchemaAndValue {
    if text.is_empty() {
        return SchemaAndValue::new(Some(Schema::string()), Some(Value::from("")));
    }
    let mut parser = Parser {
        tokens: tokenize(text),
        pos: 0,
        original: text,
    };
    parser.parse(false).unwrap_or(SchemaAndValue::NULL)
}

/// Splits on the delimiters `: , { } [ ] "` (each its own token) unless escaped with `\`.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' => escaped = !escaped,
            ':' | ',' | '{' | '}' | '[' | ']' | '"' if !escaped => {
                if start < i {
                    tokens.push(&text[start..i]);
                }
                tokens.push(&text[i..=i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// A failure that makes Java fall back to treating the text as a string.
struct Unparsable;

struct Parser<'a> {
    tokens: Vec<&'a str>,
    pos: usize,
    original: &'a str,
}

impl Parser<'_> {
    fn has_next(&self) -> bool {
        self.pos < self.tokens.len()
    }

    /// Consumes the next non-blank token if, trimmed, it is `expected` (Java's `canConsume`).
    fn can_consume(&mut self, expected: &str) -> bool {
        let mut pos = self.pos;
        while pos + 1 < self.tokens.len() && self.tokens[pos].trim().is_empty() {
            pos += 1;
        }
        if self.tokens.get(pos).is_some_and(|t| t.trim() == expected) {
            self.pos = pos + 1;
            true
        } else {
            false
        }
    }

    fn string(text: &str) -> SchemaAndValue {
        SchemaAndValue::new(Some(Schema::string()), Some(Value::from(text)))
    }

    /// One value; `None` for `null`. At the top level anything unparsable is the original string.
    fn parse(&mut self, embedded: bool) -> Option<SchemaAndValue> {
        match self.parse_value(embedded) {
            Ok(value) => value,
            Err(Unparsable) => Some(Self::string(self.original)),
        }
    }

    fn parse_value(&mut self, embedded: bool) -> Result<Option<SchemaAndValue>, Unparsable> {
        if !self.has_next() {
            return Ok(None);
        }
        if embedded && self.can_consume("\"") {
            return Ok(Some(self.quoted_string()));
        }
        for (literal, value) in [("null", None), ("true", Some(true)), ("false", Some(false))] {
            let mark = self.pos;
            if self.can_consume(literal) {
                if embedded || !self.has_next() {
                    return Ok(value.map(|b| {
                        SchemaAndValue::new(Some(Schema::boolean()), Some(Value::Boolean(b)))
                    }));
                }
                self.pos = mark;
            }
        }
        let mark = self.pos;
        let container = if self.can_consume("[") {
            Some(self.array())
        } else if self.can_consume("{") {
            Some(self.map())
        } else {
            None
        };
        match container {
            Some(Ok(value)) => return Ok(Some(value)),
            Some(Err(Unparsable)) if embedded => return Err(Unparsable),
            Some(Err(Unparsable)) => self.pos = mark,
            None => {}
        }
        let token = self.tokens[self.pos];
        self.pos += 1;
        if token.trim().is_empty() {
            return Ok(Some(Self::string(token)));
        }
        self.next_token(embedded, token.trim()).map(Some)
    }

    fn next_token(&mut self, embedded: bool, token: &str) -> Result<SchemaAndValue, Unparsable> {
        let first = token.chars().next().unwrap_or(' ');
        if first.is_ascii_digit() {
            // Times and timestamps contain `:`, a delimiter, so they span five tokens.
            if self.pos + 4 <= self.tokens.len() {
                let joined: String = std::iter::once(token)
                    .chain(self.tokens[self.pos..self.pos + 4].iter().copied())
                    .collect();
                if let Some(temporal) = parse_temporal(&joined) {
                    self.pos += 4;
                    return Ok(temporal);
                }
            }
            if let Some(temporal) = parse_temporal(token) {
                return Ok(temporal);
            }
        }
        if (first.is_ascii_digit() || first == '+' || first == '-')
            && let Some(number) = parse_number(token)
        {
            return Ok(number);
        }
        if embedded {
            return Err(Unparsable);
        }
        Ok(Self::string(self.original))
    }

    fn quoted_string(&mut self) -> SchemaAndValue {
        let mut content = String::new();
        while self.has_next() {
            if self.can_consume("\"") {
                break;
            }
            content.push_str(self.tokens[self.pos]);
            self.pos += 1;
        }
        parse_temporal(&content).unwrap_or_else(|| Self::string(&content))
    }

    fn array(&mut self) -> Result<SchemaAndValue, Unparsable> {
        let mut items = Vec::new();
        let mut merger = SchemaMerger::default();
        while self.has_next() {
            if self.can_consume("]") {
                let schema = merger.common.ok_or(Unparsable)?;
                let items = items
                    .into_iter()
                    .map(|item| align(&schema, item))
                    .collect::<Result<Vec<_>, _>>()?;
                let array = SchemaBuilder::array(schema)
                    .build()
                    .map_err(|_| Unparsable)?;
                return Ok(SchemaAndValue::new(Some(array), Some(Value::Array(items))));
            }
            if self.can_consume(",") {
                return Err(Unparsable);
            }
            let element = self.parse_value(true)?;
            merger.merge(element.as_ref());
            items.push(element.and_then(|e| e.value));
            let mark = self.pos;
            if self.can_consume("]") {
                self.pos = mark;
            } else if !self.can_consume(",") {
                return Err(Unparsable);
            }
        }
        Err(Unparsable)
    }

    fn map(&mut self) -> Result<SchemaAndValue, Unparsable> {
        let mut entries: Vec<(Value, Option<Value>)> = Vec::new();
        let (mut keys, mut values) = (SchemaMerger::default(), SchemaMerger::default());
        while self.has_next() {
            if self.can_consume("}") {
                let key_schema = keys.common.ok_or(Unparsable)?;
                let value_schema = values.common.ok_or(Unparsable)?;
                let mut aligned = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key = align(&key_schema, Some(key))?.ok_or(Unparsable)?;
                    aligned.push((key, align(&value_schema, value)?));
                }
                let map = SchemaBuilder::map(key_schema, value_schema)
                    .build()
                    .map_err(|_| Unparsable)?;
                return Ok(SchemaAndValue::new(Some(map), Some(Value::Map(aligned))));
            }
            if self.can_consume(",") {
                return Err(Unparsable);
            }
            let key = self.parse_value(true)?;
            let Some(key_value) = key.as_ref().and_then(|k| k.value.clone()) else {
                return Err(Unparsable);
            };
            if !self.can_consume(":") {
                return Err(Unparsable);
            }
            let value = self.parse_value(true)?;
            let entry_value = value.as_ref().and_then(|v| v.value.clone());
            match entries.iter_mut().find(|(k, _)| *k == key_value) {
                Some(entry) => entry.1 = entry_value,
                None => entries.push((key_value, entry_value)),
            }
            self.can_consume(",");
            keys.merge(key.as_ref());
            values.merge(value.as_ref());
        }
        Err(Unparsable)
    }
}

/// Java's `SchemaMerger`: the common schema of the elements, widening numbers.
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

fn numeric_rank(schema: &Schema) -> Option<u8> {
    if schema.name().is_some() {
        return None;
    }
    Some(match schema.schema_type() {
        Type::Int8 => 0,
        Type::Int16 => 1,
        Type::Int32 => 2,
        Type::Int64 => 3,
        Type::Float32 => 4,
        Type::Float64 => 5,
        _ => return None,
    })
}

fn merge_schemas(previous: &Schema, latest: &Schema) -> Option<Schema> {
    if previous.schema_type() != latest.schema_type() {
        let (a, b) = (numeric_rank(previous)?, numeric_rank(latest)?);
        return Some(if a >= b {
            previous.clone()
        } else {
            latest.clone()
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

/// Java's `Values.convertTo` for aligning an element with the common schema: numbers widen,
/// other values stay; a null element fails unless the schema is optional.
fn align(schema: &Schema, value: Option<Value>) -> Result<Option<Value>, Unparsable> {
    let Some(value) = value else {
        return if schema.is_optional() {
            Ok(None)
        } else {
            Err(Unparsable)
        };
    };
    let as_f64 = |v: &Value| match v {
        Value::Int8(x) => Some(f64::from(*x)),
        Value::Int16(x) => Some(f64::from(*x)),
        Value::Int32(x) => Some(f64::from(*x)),
        Value::Int64(x) => Some(*x as f64),
        Value::Float32(x) => Some(f64::from(*x)),
        Value::Float64(x) => Some(*x),
        _ => None,
    };
    let as_i64 = |v: &Value| match v {
        Value::Int8(x) => Some(i64::from(*x)),
        Value::Int16(x) => Some(i64::from(*x)),
        Value::Int32(x) => Some(i64::from(*x)),
        Value::Int64(x) => Some(*x),
        _ => None,
    };
    Ok(Some(match (numeric_rank(schema), &value) {
        (Some(0), v) => Value::Int8(as_i64(v).ok_or(Unparsable)? as i8),
        (Some(1), v) => Value::Int16(as_i64(v).ok_or(Unparsable)? as i16),
        (Some(2), v) => Value::Int32(as_i64(v).ok_or(Unparsable)? as i32),
        (Some(3), v) => Value::Int64(as_i64(v).ok_or(Unparsable)?),
        (Some(4), Value::Float32(f)) => Value::Float32(*f),
        (Some(4), v) => Value::Float32(as_f64(v).ok_or(Unparsable)? as f32),
        (Some(5), v) => Value::Float64(as_f64(v).ok_or(Unparsable)?),
        _ => value,
    }))
}

/// Java's `parseAsNumber`: whole numbers take the smallest integer type, fractions a float
/// when one holds them, anything else a `Decimal` of the number's scale.
fn parse_number(token: &str) -> Option<SchemaAndValue> {
    let decimal: Decimal = token.parse().ok()?;
    let typed = |schema: Schema, value: Value| SchemaAndValue::new(Some(schema), Some(value));
    if let Some(integral) = whole_number(&decimal) {
        return Some(if let Ok(v) = i8::try_from(integral) {
            typed(Schema::int8(), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(integral) {
            typed(Schema::int16(), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(integral) {
            typed(Schema::int32(), Value::Int32(v))
        } else {
            typed(Schema::int64(), Value::Int64(integral))
        });
    }
    let double: f64 = token.parse().ok()?;
    if decimal.scale() != 0 && (double as f32).is_finite() {
        return Some(typed(Schema::float32(), Value::Float32(double as f32)));
    }
    if decimal.scale() != 0 && double.is_finite() {
        return Some(typed(Schema::float64(), Value::Float64(double)));
    }
    Some(typed(
        Decimal::schema(decimal.scale()),
        Value::Decimal(decimal),
    ))
}

/// The value as an `i64` when it has no fractional part and fits a `long`.
fn whole_number(decimal: &Decimal) -> Option<i64> {
    let unscaled = decimal.unscaled().to_string();
    let scale = decimal.scale();
    if scale <= 0 {
        let zeros = "0".repeat(usize::try_from(-scale).ok()?);
        return format!("{unscaled}{zeros}").parse().ok();
    }
    let scale = usize::try_from(scale).ok()?;
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, unscaled.as_str()),
    };
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    if frac.bytes().any(|b| b != b'0') {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    Some(if negative { -int } else { int })
}

/// Java's `parseAsTemporal`: `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`,
/// chosen by length, in UTC.
fn parse_temporal(token: &str) -> Option<SchemaAndValue> {
    let token = token.replace("\\:", ":");
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = token.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let literal = |at: usize, c: u8| token.as_bytes().get(at) == Some(&c);
    let time_at = |at: usize| -> Option<i64> {
        let ok = literal(at + 2, b':')
            && literal(at + 5, b':')
            && literal(at + 8, b'.')
            && literal(at + 12, b'Z');
        let (h, m) = (number(at..at + 2)?, number(at + 3..at + 5)?);
        let (s, ms) = (number(at + 6..at + 8)?, number(at + 9..at + 12)?);
        ok.then_some(((h * 60 + m) * 60 + s) * 1000 + ms)
    };
    let days = || -> Option<i64> {
        let ok = literal(4, b'-') && literal(7, b'-');
        let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
        ok.then(|| days_from_civil(y, m, d))
    };
    match token.len() {
        13 => {
            let ms = i32::try_from(time_at(0)?).ok()?;
            Some(SchemaAndValue::new(
                Some(Time::schema()),
                Some(Value::Time(ms)),
            ))
        }
        24 if literal(10, b'T') => {
            let ms = days()? * MILLIS_PER_DAY + time_at(11)?;
            Some(SchemaAndValue::new(
                Some(Timestamp::schema()),
                Some(Value::Timestamp(ms)),
            ))
        }
        10 => {
            let days = i32::try_from(days()?).ok()?;
            Some(SchemaAndValue::new(
                Some(Date::schema()),
                Some(Value::Date(days)),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
