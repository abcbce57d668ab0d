//! `org.apache.kafka.connect.transforms.Cast$Key` / `$Value`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, TypedValue,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{
    DATE_LOGICAL_NAME, MILLIS_PER_DAY, Schema, SchemaBuilder, Struct, TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME, Type, Value,
};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, ConnectError, Result};

use super::Side;
use super::support::{
    copy_schema_basics, field_value, list, map_get, map_put, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};
use crate::converters::date_format::DateFormat;

const PURPOSE: &str = "cast types";
const INPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";
const OUTPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

/// What `spec` asks for: one type for the whole key/value, or a type per field.
#[derive(Debug, Clone, PartialEq)]
enum Spec {
    Whole(Type),
    Fields(Vec<(String, Type)>),
}

/// Casts fields, or the whole key or value, to another primitive type (`spec`, e.g.
/// `age:int32,score:float64` or just `string`).
#[derive(Debug, Clone)]
pub struct Cast {
    side: Side,
    spec: Spec,
    replace_null_with_default: bool,
}

fn parse_type(name: &str) -> Result<Type, ConfigError> {
    let name = name.trim();
    let ty = Type::ALL
        .into_iter()
        .find(|t| t.to_string().eq_ignore_ascii_case(name))
        .ok_or_else(|| ConfigError::new(format!("Invalid type found in casting spec: {name}")))?;
    if matches!(ty, Type::Bytes | Type::Array | Type::Map | Type::Struct) {
        return Err(ConfigError::new(format!(
            "Cast transformation does not support casting to {ty}; supported types are {OUTPUT_TYPES}"
        )));
    }
    Ok(ty)
}

fn parse_spec(mappings: &[String]) -> Result<Spec, ConfigError> {
    if mappings.is_empty() {
        return Err(ConfigError::new("Must specify at least one field to cast."));
    }
    let mut whole = None;
    let mut fields = Vec::new();
    for mapping in mappings {
        let mut parts: Vec<&str> = mapping.split(':').collect();
        parts.truncate(
            parts
                .iter()
                .rposition(|p| !p.is_empty())
                .map_or(1, |i| i + 1),
        );
        match parts.as_slice() {
            [ty] => whole = Some(parse_type(ty)?),
            [field, ty] => fields.push((field.trim().to_owned(), parse_type(ty)?)),
            // Java reports this under the key of ReplaceField's `renames`.
            _ => {
                return Err(ConfigError::invalid(
                    "renames",
                    format!("[{}]", mappings.join(", ")),
                    Some(&format!("Invalid rename mapping: {mapping}")),
                ));
            }
        }
    }
    match whole {
        Some(_) if mappings.len() > 1 => Err(ConfigError::new(
            "Cast transformations that specify a type to cast the entire value to may only specify \
             a single cast in their spec",
        )),
        Some(ty) => Ok(Spec::Whole(ty)),
        None => Ok(Spec::Fields(fields)),
    }
}

impl Cast {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            spec: Spec::Fields(Vec::new()),
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `Cast.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        let validator = LambdaValidator::new(
            "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>",
            |_: &str, value: Option<&TypedValue>| match value {
                Some(TypedValue::List(items)) => parse_spec(items).map(|_| ()),
                _ => Err(ConfigError::new("Must specify at least one field to cast.")),
            },
        );
        ConfigDef::new()
            .define(
                ConfigKey::new("spec", ConfigType::List)
                    .validator(validator)
                    .importance(Importance::High)
                    .documentation(
                        "List of fields and the type to cast them to of the form \
                         field1:type,field2:type to cast fields of Maps or Structs. A single type \
                         to cast the entire value. Valid types are int8, int16, int32, int64, \
                         float32, float64, boolean, and string. Note that binary fields can only \
                         be cast to string.",
                    ),
            )
            .define(replace_null_with_default_key())
    }

    fn field_type(&self, name: &str) -> Option<Type> {
        match &self.spec {
            Spec::Fields(fields) => fields.iter().find(|(f, _)| f == name).map(|(_, t)| *t),
            Spec::Whole(_) => None,
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema> {
        let mut builder = match &self.spec {
            Spec::Whole(ty) => copy_schema_basics(schema, SchemaBuilder::new(*ty)),
            Spec::Fields(_) => {
                let mut builder = copy_schema_basics(schema, SchemaBuilder::struct_());
                for field in schema.fields()? {
                    let field_schema = match self.field_type(field.name()) {
                        None => field.schema().clone(),
                        Some(ty) => {
                            let mut fb = SchemaBuilder::new(ty);
                            if field.schema().is_optional() {
                                fb = fb.optional();
                            }
                            if let Some(default) = field.schema().default_value() {
                                let cast = cast_value(Some(field.schema()), Some(default), ty)?;
                                fb = fb.default_value(cast.unwrap_or_else(|| default.clone()));
                            }
                            fb.build()?
                        }
                    };
                    builder = builder.field(field.name(), field_schema);
                }
                builder
            }
        };
        if schema.is_optional() {
            builder = builder.optional();
        }
        let default = cast_value(Some(schema), schema.default_value(), builder.schema_type())?;
        if let Some(default) = default {
            builder = builder.default_value(default);
        }
        builder.build()
    }
}

/// Java's `castValueToType`.
fn cast_value(
    schema: Option<&Schema>,
    value: Option<&Value>,
    target: Type,
) -> Result<Option<Value>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let input = match schema {
        Some(schema) => schema.schema_type(),
        None => value.inferred_type().ok_or_else(|| {
            ConnectError::data(format!(
                "Cast transformation was passed a value of type {} which is not supported by \
                 Connect's data API",
                value.java_class()
            ))
        })?,
    };
    if matches!(input, Type::Array | Type::Map | Type::Struct) {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {input}; supported types are {INPUT_TYPES}"
        )));
    }
    let value = match (schema.and_then(Schema::name), target, value) {
        (Some(_), Type::String, v) => v.clone(),
        (Some(DATE_LOGICAL_NAME), _, Value::Date(days)) => Value::Int32(*days),
        (Some(TIME_LOGICAL_NAME), _, Value::Time(ms)) => Value::Int32(*ms),
        (Some(TIMESTAMP_LOGICAL_NAME), _, Value::Timestamp(ms)) => Value::Int64(*ms),
        (_, _, v) => v.clone(),
    };
    let out_of_range = || {
        ConnectError::data(format!(
            "Value ({value}) was out of range for requested data type"
        ))
    };
    let unexpected = || {
        ConnectError::data(format!(
            "Unexpected type in Cast transformation: {}",
            value.java_class()
        ))
    };
    let cast = match target {
        Type::Int8 => Value::Int8(
            integral(&value, |s| s.parse().ok(), |d| d as i32 as i8, |l| l as i8)
                .ok_or_else(unexpected)?
                .ok_or_else(out_of_range)?,
        ),
        Type::Int16 => Value::Int16(
            integral(
                &value,
                |s| s.parse().ok(),
                |d| d as i32 as i16,
                |l| l as i16,
            )
            .ok_or_else(unexpected)?
            .ok_or_else(out_of_range)?,
        ),
        Type::Int32 => Value::Int32(
            integral(&value, |s| s.parse().ok(), |d| d as i32, |l| l as i32)
                .ok_or_else(unexpected)?
                .ok_or_else(out_of_range)?,
        ),
        Type::Int64 => Value::Int64(
            integral(&value, |s| s.parse().ok(), |d| d as i64, |l| l)
                .ok_or_else(unexpected)?
                .ok_or_else(out_of_range)?,
        ),
        Type::Float32 => {
            let d = floating(&value)
                .ok_or_else(unexpected)?
                .ok_or_else(out_of_range)?;
            Value::Float32(match &value {
                Value::Float32(f) => *f,
                _ => d as f32,
            })
        }
        Type::Float64 => Value::Float64(
            floating(&value)
                .ok_or_else(unexpected)?
                .ok_or_else(out_of_range)?,
        ),
        Type::Boolean => Value::Boolean(match &value {
            Value::Boolean(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            other => {
                integral(other, |_| None, |d| d as i64, |l| l)
                    .ok_or_else(unexpected)?
                    .ok_or_else(out_of_range)?
                    != 0
            }
        }),
        Type::String => Value::String(cast_to_string(&value)),
        other => {
            return Err(ConnectError::data(format!(
                "{other} is not supported in the Cast transformation."
            )));
        }
    };
    Ok(Some(cast))
}

/// An integer from a number (floats narrowed like Java's casts), a boolean or a string;
/// `None` for another type, `Some(None)` for a string that does not parse.
fn integral<T>(
    value: &Value,
    parse: impl Fn(&str) -> Option<T>,
    from_double: impl Fn(f64) -> T,
    from_long: impl Fn(i64) -> T,
) -> Option<Option<T>> {
    Some(Some(match value {
        Value::Int8(v) => from_long(i64::from(*v)),
        Value::Int16(v) => from_long(i64::from(*v)),
        Value::Int32(v) | Value::Date(v) | Value::Time(v) => from_long(i64::from(*v)),
        Value::Int64(v) | Value::Timestamp(v) => from_long(*v),
        Value::Float32(v) => from_double(f64::from(*v)),
        Value::Float64(v) => from_double(*v),
        Value::Decimal(d) => from_double(d.to_string().parse().unwrap_or(0.0)),
        Value::Boolean(b) => from_long(i64::from(*b)),
        Value::String(s) => return Some(parse(s)),
        _ => return None,
    }))
}

/// A double from a number, boolean or string (Java's `Double.parseDouble` trims and accepts
/// `NaN`, `Infinity` and a trailing `d`/`f`).
fn floating(value: &Value) -> Option<Option<f64>> {
    if let Value::String(s) = value {
        let s = s.trim();
        let s = s.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(s);
        let parsed = match s.trim_start_matches('+') {
            "Infinity" => Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            "-Infinity" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            t if t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("nan") => None,
            _ => s.parse().ok(),
        };
        return Some(parsed);
    }
    integral(value, |_| None, |d| d, |l| l as f64)
}

/// Java's `castToString`: dates in ISO-8601, bytes in base64, anything else its `toString`.
fn cast_to_string(value: &Value) -> String {
    let date = |millis: i64| {
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
    };
    match value {
        Value::Date(days) => date(i64::from(*days) * MILLIS_PER_DAY),
        Value::Time(ms) => date(i64::from(*ms)),
        Value::Timestamp(ms) => date(*ms),
        Value::Bytes(b) => BASE64.encode(b),
        other => other.to_string(),
    }
}

impl<R: ConnectRecord> Transformation<R> for Cast {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.spec = parse_spec(&list(&config, "spec"))?;
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(value) = self.side.value(&record) else {
            return Ok(Some(record));
        };
        let Some(schema) = self.side.schema(&record) else {
            let updated = match &self.spec {
                Spec::Whole(ty) => cast_value(None, Some(value), *ty)?,
                Spec::Fields(fields) => {
                    let original = require_map(Some(value), PURPOSE)?;
                    let mut updated = original.clone();
                    for (field, ty) in fields {
                        map_put(
                            &mut updated,
                            field,
                            cast_value(None, map_get(original, field), *ty)?,
                        );
                    }
                    Some(Value::Map(updated))
                }
            };
            return Ok(Some(self.side.replace(&record, None, updated)));
        };
        let updated_schema = self.updated_schema(schema)?;
        if let Spec::Whole(ty) = self.spec {
            let cast = cast_value(Some(schema), Some(value), ty)?;
            return Ok(Some(self.side.replace(&record, Some(updated_schema), cast)));
        }
        let value = require_struct(Some(value), PURPOSE)?;
        let mut updated = Struct::new(updated_schema.clone())?;
        for field in value.schema().fields()? {
            let original = field_value(value, field.name(), self.replace_null_with_default)?;
            let v = match self.field_type(field.name()) {
                Some(ty) => cast_value(Some(field.schema()), original, ty)?,
                None => original.cloned(),
            };
            updated.put(field.name(), v)?;
        }
        Ok(Some(self.side.replace(
            &record,
            Some(updated_schema),
            Some(Value::Struct(updated)),
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(items: &[&str]) -> Result<Spec, ConfigError> {
        parse_spec(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn spec_parsing_follows_java() {
        assert_eq!(spec(&["int8"]).unwrap(), Spec::Whole(Type::Int8));
        assert_eq!(
            spec(&["a:int32", " b : float64"]).unwrap(),
            Spec::Fields(vec![("a".into(), Type::Int32), ("b".into(), Type::Float64)])
        );
        assert_eq!(
            spec(&[]).unwrap_err().to_string(),
            "Must specify at least one field to cast."
        );
        assert_eq!(
            spec(&["a:uint8"]).unwrap_err().to_string(),
            "Invalid type found in casting spec: uint8"
        );
        assert_eq!(
            spec(&["a:bytes"]).unwrap_err().to_string(),
            "Cast transformation does not support casting to BYTES; supported types are \
             [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
        );
        assert!(
            spec(&["int8", "a:int16"])
                .unwrap_err()
                .to_string()
                .starts_with("Cast transformations that")
        );
        assert_eq!(
            spec(&["a:b:c"]).unwrap_err().to_string(),
            "Invalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c"
        );
    }

    #[test]
    fn values_cast_like_java() {
        let cast = |v: Value, t| cast_value(None, Some(&v), t).map(Option::unwrap);
        assert_eq!(
            cast(Value::Int32(300), Type::Int8).unwrap(),
            Value::Int8(44)
        );
        assert_eq!(
            cast(Value::Float64(1e20), Type::Int16).unwrap(),
            Value::Int16(-1)
        );
        assert_eq!(
            cast(Value::Float64(-1.9), Type::Int32).unwrap(),
            Value::Int32(-1)
        );
        assert_eq!(
            cast(Value::from("42"), Type::Int64).unwrap(),
            Value::Int64(42)
        );
        assert_eq!(
            cast(Value::Boolean(true), Type::Float32).unwrap(),
            Value::Float32(1.0)
        );
        assert_eq!(
            cast(Value::from(" 1.5 "), Type::Float64).unwrap(),
            Value::Float64(1.5)
        );
        assert_eq!(
            cast(Value::from("TRUE"), Type::Boolean).unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            cast(Value::Int64(0), Type::Boolean).unwrap(),
            Value::Boolean(false)
        );
        assert_eq!(
            cast(Value::Float32(2.5), Type::String).unwrap(),
            Value::from("2.5")
        );
        assert_eq!(
            cast(Value::Bytes(vec![1u8, 2].into()), Type::String).unwrap(),
            Value::from("AQI=")
        );
        assert_eq!(
            cast(Value::from("x"), Type::Int8).unwrap_err().to_string(),
            "Value (x) was out of range for requested data type"
        );
        assert_eq!(
            cast(Value::Array(vec![]), Type::Int8)
                .unwrap_err()
                .to_string(),
            "Cast transformation does not support casting from ARRAY; supported types are \
             [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
        );
        let ts = cast_value(
            Some(&ferry_connect::data::Timestamp::schema()),
            Some(&Value::Timestamp(86_400_001)),
            Type::String,
        );
        assert_eq!(ts.unwrap(), Some(Value::from("1970-01-02T00:00:00.001Z")));
    }
}
