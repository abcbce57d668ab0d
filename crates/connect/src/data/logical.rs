//! Connect's logical types: `Decimal` (`BYTES`), `Date` and `Time` (`INT32`) and `Timestamp`
//! (`INT64`), recognised by schema name, with conversions between their logical values and the
//! base values that converters serialize.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
pub use num_bigint::BigInt;

use super::schema::{Schema, SchemaBuilder, Type};
use super::value::Value;
use crate::error::{ConnectError, Result};

/// Schema name of the `Decimal` logical type.
pub const DECIMAL_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
/// Schema parameter holding a `Decimal`'s scale.
pub const DECIMAL_SCALE_FIELD: &str = "scale";
/// Schema name of the `Date` logical type.
pub const DATE_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Date";
/// Schema name of the `Time` logical type.
pub const TIME_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Time";
/// Schema name of the `Timestamp` logical type.
pub const TIMESTAMP_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Timestamp";

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// An arbitrary-precision decimal, `unscaled × 10^-scale`: Java's `BigDecimal`.
///
/// Encoded in a `Decimal` schema as the big-endian two's-complement bytes of the unscaled value,
/// Java's `BigInteger.toByteArray()`.
///
/// ```
/// use ferry_connect::data::{Decimal, Value};
/// let schema = Decimal::schema(2);
/// let price: Decimal = "-1.50".parse().unwrap();
/// assert_eq!(price.to_string(), "-1.50");
/// let bytes = Decimal::from_logical(&schema, &price).unwrap();
/// assert_eq!(bytes.as_ref(), &[0xff, 0x6a]);
/// assert_eq!(Decimal::to_logical(&schema, &bytes).unwrap(), price);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    unscaled: BigInt,
    scale: i32,
}

impl Decimal {
    /// `unscaled × 10^-scale`.
    pub fn new(unscaled: impl Into<BigInt>, scale: i32) -> Self {
        Self {
            unscaled: unscaled.into(),
            scale,
        }
    }

    /// The unscaled value.
    pub fn unscaled(&self) -> &BigInt {
        &self.unscaled
    }

    /// The scale (digits after the decimal point).
    pub fn scale(&self) -> i32 {
        self.scale
    }

    /// A builder for a `Decimal` schema of `scale`, Java's `Decimal.builder(scale)`.
    pub fn builder(scale: i32) -> SchemaBuilder {
        SchemaBuilder::bytes()
            .name(DECIMAL_LOGICAL_NAME)
            .parameter(DECIMAL_SCALE_FIELD, scale.to_string())
            .version(1)
    }

    /// A required `Decimal` schema of `scale`.
    pub fn schema(scale: i32) -> Schema {
        Self::builder(scale).into_built()
    }

    /// The scale a `Decimal` schema declares.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the parameter is missing or not an integer.
    pub fn scale_of(schema: &Schema) -> Result<i32> {
        let scale = schema
            .parameters()
            .and_then(|p| p.get(DECIMAL_SCALE_FIELD))
            .ok_or_else(|| {
                ConnectError::data("Invalid Decimal schema: scale parameter not found.")
            })?;
        scale
            .parse()
            .map_err(|_| ConnectError::data("Invalid scale parameter found in Decimal schema: "))
    }

    /// Encodes `value` for `schema`: the unscaled value's minimal two's-complement bytes.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the value's scale differs from the schema's.
    pub fn from_logical(schema: &Schema, value: &Decimal) -> Result<Bytes> {
        let scale = Self::scale_of(schema)?;
        if value.scale != scale {
            return Err(ConnectError::data(format!(
                "Decimal value has mismatching scale for given Decimal schema. Schema has scale \
                 {scale}, value has scale {}.",
                value.scale
            )));
        }
        Ok(Bytes::from(value.unscaled.to_signed_bytes_be()))
    }

    /// Decodes the bytes of a `Decimal` with the scale of `schema`.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the schema has no valid scale.
    pub fn to_logical(schema: &Schema, bytes: &[u8]) -> Result<Decimal> {
        let scale = Self::scale_of(schema)?;
        Ok(Decimal {
            unscaled: BigInt::from_signed_bytes_be(bytes),
            scale,
        })
    }
}

/// Java's `BigDecimal.toString()`: plain notation unless the scale is negative or the adjusted
/// exponent is below -6, then scientific (`1.23E+5`).
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.unscaled.magnitude().to_string();
        let sign = if self.unscaled.sign() == num_bigint::Sign::Minus {
            "-"
        } else {
            ""
        };
        let scale = i64::from(self.scale);
        let adjusted = -scale + (digits.len() as i64 - 1);
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        if scale > 0 && adjusted >= -6 {
            let point = digits.len() as i64 - scale;
            return if point > 0 {
                let (int, frac) = digits.split_at(point as usize);
                write!(f, "{sign}{int}.{frac}")
            } else {
                write!(f, "{sign}0.{}{digits}", "0".repeat((-point) as usize))
            };
        }
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if adjusted >= 0 { "+" } else { "" };
        write!(f, "{sign}{first}{point}E{exp_sign}{adjusted}")
    }
}

/// Parses Java's `BigDecimal(String)` syntax: `-12.340`, `1E+3`, `.5`.
impl FromStr for Decimal {
    type Err = ConnectError;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = || ConnectError::data(format!("Invalid decimal: {s}"));
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(pos) => {
                let exp = s[pos + 1..].strip_prefix('+').unwrap_or(&s[pos + 1..]);
                (&s[..pos], exp.parse::<i32>().map_err(|_| invalid())?)
            }
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let (sign, int) = match int.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", int.strip_prefix('+').unwrap_or(int)),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return Err(invalid());
        }
        let unscaled: BigInt = format!("{sign}{int}{frac}")
            .parse()
            .map_err(|_| invalid())?;
        let frac_len = i32::try_from(frac.len()).map_err(|_| invalid())?;
        let scale = frac_len.checked_sub(exponent).ok_or_else(invalid)?;
        Ok(Decimal { unscaled, scale })
    }
}

impl SchemaBuilder {
    /// Builds a schema from a builder that is known to be valid.
    fn into_built(self) -> Schema {
        match self.build() {
            Ok(schema) => schema,
            Err(e) => unreachable!("logical type schema is valid: {e}"),
        }
    }
}

/// The `Date` logical type: days since the Unix epoch in an `INT32` schema.
#[derive(Debug, Clone, Copy)]
pub struct Date;

impl Date {
    /// A builder for a `Date` schema, Java's `Date.builder()`.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::int32().name(DATE_LOGICAL_NAME).version(1)
    }

    /// A required `Date` schema.
    pub fn schema() -> Schema {
        Self::builder().into_built()
    }

    /// The day of a Unix timestamp that falls exactly on midnight UTC.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the timestamp has a time-of-day part, or the day is out of range.
    pub fn from_unix_millis(millis: i64) -> Result<i32> {
        if millis % MILLIS_PER_DAY != 0 {
            return Err(ConnectError::data(
                "Kafka Connect Date type should not have any time fields set to non-zero values.",
            ));
        }
        i32::try_from(millis / MILLIS_PER_DAY)
            .map_err(|_| ConnectError::data(format!("Date out of range: {millis}")))
    }

    /// The Unix timestamp of midnight UTC of `days` since the epoch.
    pub fn to_unix_millis(days: i32) -> i64 {
        i64::from(days) * MILLIS_PER_DAY
    }
}

/// The `Time` logical type: milliseconds since midnight in an `INT32` schema.
#[derive(Debug, Clone, Copy)]
pub struct Time;

impl Time {
    /// A builder for a `Time` schema, Java's `Time.builder()`.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::int32().name(TIME_LOGICAL_NAME).version(1)
    }

    /// A required `Time` schema.
    pub fn schema() -> Schema {
        Self::builder().into_built()
    }

    /// The time of day of a Unix timestamp on the epoch's day (`0..=86_400_000`).
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the timestamp has a date part.
    pub fn from_unix_millis(millis: i64) -> Result<i32> {
        match i32::try_from(millis) {
            Ok(ms) if (0..=MILLIS_PER_DAY).contains(&millis) => Ok(ms),
            _ => Err(ConnectError::data(
                "Kafka Connect Time type should not have any date fields set to non-zero values.",
            )),
        }
    }
}

/// The `Timestamp` logical type: milliseconds since the Unix epoch in an `INT64` schema.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp;

impl Timestamp {
    /// A builder for a `Timestamp` schema, Java's `Timestamp.builder()`.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::int64()
            .name(TIMESTAMP_LOGICAL_NAME)
            .version(1)
    }

    /// A required `Timestamp` schema.
    pub fn schema() -> Schema {
        Self::builder().into_built()
    }
}

/// Converts a logical value to the base value a converter serializes: `Decimal` to `Bytes`,
/// `Date`/`Time` to `Int32`, `Timestamp` to `Int64`; other values are returned unchanged.
///
/// # Errors
/// [`ConnectError::Data`] when the schema is not the value's logical type, or a `Decimal`'s scale
/// differs from the schema's.
pub fn to_base(schema: &Schema, value: Value) -> Result<Value> {
    let mismatch = |what: &str| {
        ConnectError::data(format!(
            "Requested conversion of {what} object but the schema does not match."
        ))
    };
    match value {
        Value::Decimal(d) => match schema.name() {
            Some(DECIMAL_LOGICAL_NAME) => Ok(Value::Bytes(Decimal::from_logical(schema, &d)?)),
            _ => Err(mismatch("Decimal")),
        },
        Value::Date(days) => match schema.name() {
            Some(DATE_LOGICAL_NAME) => Ok(Value::Int32(days)),
            _ => Err(mismatch("Date")),
        },
        Value::Time(ms) => match schema.name() {
            Some(TIME_LOGICAL_NAME) => Ok(Value::Int32(ms)),
            _ => Err(mismatch("Time")),
        },
        Value::Timestamp(ms) => match schema.name() {
            Some(TIMESTAMP_LOGICAL_NAME) => Ok(Value::Int64(ms)),
            _ => Err(mismatch("Timestamp")),
        },
        other => Ok(other),
    }
}

/// Converts a deserialized base value to the logical value its schema names; values of schemas
/// that name no logical type are returned unchanged.
///
/// # Errors
/// [`ConnectError::Data`] when the base value has the wrong type for the logical type, or a
/// `Time` is outside a day.
pub fn from_base(schema: &Schema, value: Value) -> Result<Value> {
    let wrong = |v: &Value| {
        ConnectError::data(format!(
            "Invalid Java object for schema \"{}\" with type {}: {}",
            schema.name().unwrap_or_default(),
            schema.schema_type(),
            v.java_class()
        ))
    };
    match (schema.name(), value) {
        (Some(DECIMAL_LOGICAL_NAME), Value::Bytes(b)) => {
            Ok(Value::Decimal(Decimal::to_logical(schema, &b)?))
        }
        (Some(DATE_LOGICAL_NAME), Value::Int32(days)) => Ok(Value::Date(days)),
        (Some(TIME_LOGICAL_NAME), Value::Int32(ms)) => {
            if ms < 0 || i64::from(ms) > MILLIS_PER_DAY {
                return Err(ConnectError::data(
                    "Time values must use number of milliseconds greater than 0 and less than \
                     86400000",
                ));
            }
            Ok(Value::Time(ms))
        }
        (Some(TIMESTAMP_LOGICAL_NAME), Value::Int64(ms)) => Ok(Value::Timestamp(ms)),
        (
            Some(
                DECIMAL_LOGICAL_NAME
                | DATE_LOGICAL_NAME
                | TIME_LOGICAL_NAME
                | TIMESTAMP_LOGICAL_NAME,
            ),
            v,
        ) if !is_logical(&v) => Err(wrong(&v)),
        (_, v) => Ok(v),
    }
}

fn is_logical(value: &Value) -> bool {
    matches!(
        value,
        Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_)
    )
}

/// Whether `schema` names one of the logical types.
pub fn is_logical_schema(schema: &Schema) -> bool {
    matches!(
        schema.name(),
        Some(DECIMAL_LOGICAL_NAME | DATE_LOGICAL_NAME | TIME_LOGICAL_NAME | TIMESTAMP_LOGICAL_NAME)
    ) && matches!(
        schema.schema_type(),
        Type::Bytes | Type::Int32 | Type::Int64
    )
}
