//! `org.apache.kafka.connect.transforms.TimestampConverter$Key` / `$Value`.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, ValidString};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{
    DATE_LOGICAL_NAME, Date, MILLIS_PER_DAY, Schema, SchemaBuilder, Struct, TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME, Time, Timestamp, Type, Value,
};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, ConnectError, Result};

use super::Side;
use super::support::{
    copy_schema_basics, field_value, map_get, map_put, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};
use crate::converters::date_format::DateFormat;

const PURPOSE: &str = "converting timestamp formats";

/// A representation of a point in time the transformation reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `string`, formatted with `format`.
    String,
    /// `unix`: an `INT64` in `unix.precision` units.
    Unix,
    /// `Date`.
    Date,
    /// `Time`.
    Time,
    /// `Timestamp`.
    Timestamp,
}

impl Kind {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            "Timestamp" => Kind::Timestamp,
            _ => return None,
        })
    }

    fn schema(self, optional: bool) -> Result<Schema> {
        let builder = match self {
            Kind::String => SchemaBuilder::string(),
            Kind::Unix => SchemaBuilder::int64(),
            Kind::Date => Date::builder(),
            Kind::Time => Time::builder(),
            Kind::Timestamp => Timestamp::builder(),
        };
        if optional {
            builder.optional().build()
        } else {
            builder.build()
        }
    }

    /// Java's `timestampTypeFromSchema`.
    fn of_schema(schema: &Schema) -> Result<Self> {
        Ok(match (schema.name(), schema.schema_type()) {
            (Some(TIMESTAMP_LOGICAL_NAME), _) => Kind::Timestamp,
            (Some(DATE_LOGICAL_NAME), _) => Kind::Date,
            (Some(TIME_LOGICAL_NAME), _) => Kind::Time,
            (_, Type::String) => Kind::String,
            (_, Type::Int64) => Kind::Unix,
            _ => {
                return Err(ConnectError::other(format!(
                    "Schema {schema} does not correspond to a known timestamp type format"
                )));
            }
        })
    }
}

/// Units of `unix` timestamps, `unix.precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

/// Converts a field, or the whole key or value, between Unix epochs, formatted strings and
/// Connect's `Date`, `Time` and `Timestamp` (`field`, `target.type`, `format`, `unix.precision`).
#[derive(Debug, Clone)]
pub struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<(String, DateFormat)>,
    precision: Precision,
    replace_null_with_default: bool,
}

impl TimestampConverter {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            field: String::new(),
            target: Kind::Timestamp,
            format: None,
            precision: Precision::Milliseconds,
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `TimestampConverter.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("field", ConfigType::String)
                    .default_value("")
                    .importance(Importance::High)
                    .documentation("The field containing the timestamp, or empty if the entire value is a timestamp"),
            )
            .define(
                ConfigKey::new("target.type", ConfigType::String)
                    .validator(ValidString::of(["string", "unix", "Date", "Time", "Timestamp"]))
                    .importance(Importance::High)
                    .documentation("The desired timestamp representation: string, unix, Date, Time, or Timestamp"),
            )
            .define(
                ConfigKey::new("format", ConfigType::String)
                    .default_value("")
                    .importance(Importance::Medium)
                    .documentation(
                        "A SimpleDateFormat-compatible format for the timestamp. Used to generate the \
                         output when type=string or used to parse the input if the input is a string.",
                    ),
            )
            .define(
                ConfigKey::new("unix.precision", ConfigType::String)
                    .default_value("milliseconds")
                    .validator(ValidString::of(["nanoseconds", "microseconds", "milliseconds", "seconds"]))
                    .importance(Importance::Low)
                    .documentation(
                        "The desired Unix precision for the timestamp: seconds, milliseconds, \
                         microseconds, or nanoseconds. Used to generate the output when type=unix or \
                         used to parse the input if the input is a Long.Note: This SMT will cause \
                         precision loss during conversions from, and to, values with sub-millisecond \
                         components.",
                    ),
            )
            .define(replace_null_with_default_key())
    }

    /// Java's `convertTimestamp`: from `source` (inferred when `None`) to the target type.
    fn convert(&self, value: Option<&Value>, source: Option<Kind>) -> Result<Option<Value>> {
        let Some(value) = value else {
            return Ok(None);
        };
        let source = match source {
            Some(kind) => kind,
            None => match value {
                Value::Timestamp(_) | Value::Date(_) | Value::Time(_) => Kind::Timestamp,
                Value::Int64(_) => Kind::Unix,
                Value::String(_) => Kind::String,
                other => {
                    return Err(ConnectError::data(format!(
                        "TimestampConverter does not support {} objects as timestamps",
                        other.java_class()
                    )));
                }
            },
        };
        let millis = self.source_millis(value, source)?;
        Ok(Some(self.to_target(millis)))
    }

    fn source_millis(&self, value: &Value, source: Kind) -> Result<i64> {
        let date = |what: &str| {
            ConnectError::data(format!(
                "Expected {what} to be a java.util.Date, but found {}",
                value.java_class()
            ))
        };
        match (source, value) {
            (Kind::String, Value::String(text)) => {
                let (pattern, format) = self.format.as_ref().ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ()"
                    ))
                })?;
                format.parse(text).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ({pattern})"
                    ))
                })
            }
            (Kind::String, other) => Err(ConnectError::data(format!(
                "Expected string timestamp to be a String, but found {}",
                other.java_class()
            ))),
            (Kind::Unix, Value::Int64(v)) => Ok(match self.precision {
                Precision::Seconds => v.saturating_mul(1000),
                Precision::Milliseconds => *v,
                Precision::Microseconds => v / 1000,
                Precision::Nanoseconds => v / 1_000_000,
            }),
            (Kind::Unix, other) => Err(ConnectError::data(format!(
                "Expected Unix timestamp to be a Long, but found {}",
                other.java_class()
            ))),
            (_, Value::Timestamp(ms)) => Ok(*ms),
            (_, Value::Date(days)) => Ok(i64::from(*days) * MILLIS_PER_DAY),
            (_, Value::Time(ms)) => Ok(i64::from(*ms)),
            (Kind::Date, _) => Err(date("Date")),
            (Kind::Time, _) => Err(date("Time")),
            (Kind::Timestamp, _) => Err(date("Timestamp")),
        }
    }

    fn to_target(&self, millis: i64) -> Value {
        match self.target {
            Kind::String => match &self.format {
                Some((_, format)) => Value::String(format.format(millis)),
                None => Value::String(millis.to_string()),
            },
            Kind::Unix => Value::Int64(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Milliseconds => millis,
                Precision::Microseconds => millis.saturating_mul(1000),
                Precision::Nanoseconds => millis.saturating_mul(1_000_000),
            }),
            Kind::Date => Value::Date(millis.div_euclid(MILLIS_PER_DAY) as i32),
            Kind::Time => Value::Time(millis.rem_euclid(MILLIS_PER_DAY) as i32),
            Kind::Timestamp => Value::Timestamp(millis),
        }
    }

    fn updated_struct(&self, value: &Struct, schema: &Schema) -> Result<Struct> {
        let mut updated = Struct::new(schema.clone())?;
        for field in value.schema().fields()? {
            let original = field_value(value, field.name(), self.replace_null_with_default)?;
            let v = if field.name() == self.field {
                self.convert(original, Some(Kind::of_schema(field.schema())?))?
            } else {
                original.cloned()
            };
            updated.put(field.name(), v)?;
        }
        Ok(updated)
    }
}

impl<R: ConnectRecord> Transformation<R> for TimestampConverter {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.field = config.get_string("field").unwrap_or_default().to_owned();
        let target = config.get_string("target.type").unwrap_or_default();
        self.target = Kind::from_name(target).ok_or_else(|| {
            ConfigError::invalid(
                "target.type",
                target,
                Some("String must be one of: string, unix, Date, Time, Timestamp"),
            )
        })?;
        let pattern = config.get_string("format").unwrap_or_default();
        if self.target == Kind::String && pattern.trim().is_empty() {
            return Err(ConfigError::new(
                "TimestampConverter requires format option to be specified when using string timestamps",
            )
            .into());
        }
        self.format = if pattern.trim().is_empty() {
            None
        } else {
            let format = DateFormat::new(pattern).map_err(|_| {
                ConfigError::new(format!(
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for string \
                     timestamps: {pattern}"
                ))
            })?;
            Some((pattern.to_owned(), format))
        };
        self.precision = match config.get_string("unix.precision") {
            Some("seconds") => Precision::Seconds,
            Some("microseconds") => Precision::Microseconds,
            Some("nanoseconds") => Precision::Nanoseconds,
            _ => Precision::Milliseconds,
        };
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let value = self.side.value(&record);
        let Some(schema) = self.side.schema(&record) else {
            if value.is_none() || self.field.is_empty() {
                let converted = self.convert(value, None)?;
                return Ok(Some(self.side.replace(&record, None, converted)));
            }
            let original = require_map(value, PURPOSE)?;
            let mut updated = original.clone();
            map_put(
                &mut updated,
                &self.field,
                self.convert(map_get(original, &self.field), None)?,
            );
            return Ok(Some(self.side.replace(
                &record,
                None,
                Some(Value::Map(updated)),
            )));
        };
        if self.field.is_empty() {
            let updated_schema = self.target.schema(schema.is_optional())?;
            let converted = self.convert(value, Some(Kind::of_schema(schema)?))?;
            return Ok(Some(self.side.replace(
                &record,
                Some(updated_schema),
                converted,
            )));
        }
        let value = match value {
            None => None,
            some => Some(require_struct(some, PURPOSE)?),
        };
        let mut builder = copy_schema_basics(schema, SchemaBuilder::struct_());
        for field in schema.fields()? {
            let field_schema = if field.name() == self.field {
                self.target.schema(field.schema().is_optional())?
            } else {
                field.schema().clone()
            };
            builder = builder.field(field.name(), field_schema);
        }
        if schema.is_optional() {
            builder = builder.optional();
        }
        let mut updated_schema = builder.build()?;
        if let Some(Value::Struct(default)) = schema.default_value() {
            let default = self.updated_struct(default, &updated_schema)?;
            updated_schema = updated_schema
                .to_builder()
                .default_value(Value::Struct(default))
                .build()?;
        }
        let updated = value
            .map(|v| self.updated_struct(v, &updated_schema))
            .transpose()?;
        Ok(Some(self.side.replace(
            &record,
            Some(updated_schema),
            updated.map(Value::Struct),
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
