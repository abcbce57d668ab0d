//! Conversion of a value to another schema, Java's `Values.convertTo` and the
//! `Values.convertToXxx` methods built on it (used by the `Cast` transformation and to align
//! parsed elements with their common schema).

use super::logical::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, Decimal, MILLIS_PER_DAY, TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME,
};
use super::schema::{Schema, Type};
use super::value::Value;
use super::values::{convert_to_string, parse_string};
use crate::error::{ConnectError, Result};
use crate::java;

fn unable(value: &Value, to: &str) -> ConnectError {
    ConnectError::data(format!(
        "Unable to convert {value} ({}) to {to}",
        value.java_class()
    ))
}

/// Converts `value` (of schema `from`, if known) to schema `to`, Java's `Values.convertTo`:
/// numbers narrow or widen (truncating like Java's casts), strings are parsed with
/// [`parse_string`](super::parse_string) where a structured or temporal value is wanted, anything
/// becomes a string with [`convert_to_string`], and temporal values convert between `Date`,
/// `Time` and `Timestamp`. A logical value counts as a number only when `from` names its
/// logical type, as in Java.
///
/// # Errors
/// [`ConnectError::Data`] when the value cannot be converted, or is null for a required schema.
///
/// ```
/// use ferry_connect::data::{convert_to, Schema, Timestamp, Value};
/// assert_eq!(convert_to(&Schema::int8(), None, Some(Value::Int32(300))).unwrap(), Some(Value::Int8(44)));
/// assert_eq!(convert_to(&Schema::boolean(), None, Some(Value::from("0"))).unwrap(), Some(Value::Boolean(false)));
/// let ts = convert_to(&Timestamp::schema(), None, Some(Value::from("2019-08-23"))).unwrap();
/// assert_eq!(ts, Some(Value::Timestamp(1_566_518_400_000)));
/// ```
pub fn convert_to(
    to: &Schema,
    from: Option<&Schema>,
    value: Option<Value>,
) -> Result<Option<Value>> {
    match value {
        Some(value) => convert_value(to, from, value).map(Some),
        None if to.is_optional() => Ok(None),
        None => Err(ConnectError::data(
            "Unable to convert a null value to a schema that requires a value",
        )),
    }
}

/// [`convert_to`] for a non-null value.
///
/// # Errors
/// [`ConnectError::Data`] when the value cannot be converted.
pub fn convert_value(to: &Schema, from: Option<&Schema>, value: Value) -> Result<Value> {
    let name = to.name();
    Ok(match (to.schema_type(), value) {
        (Type::Bytes, v) if name == Some(DECIMAL_LOGICAL_NAME) => {
            Value::Decimal(to_decimal(to, v)?)
        }
        (Type::Bytes, Value::Bytes(b)) => Value::Bytes(b),
        (Type::Bytes, Value::Decimal(d)) => Value::Bytes(Decimal::from_logical(to, &d)?),
        (Type::String, v) => Value::String(convert_to_string(Some(&v)).unwrap_or_default()),
        (Type::Boolean, Value::Boolean(b)) => Value::Boolean(b),
        (Type::Boolean, Value::String(s)) => match parse_string(&s).value {
            Some(Value::Boolean(b)) => Value::Boolean(b),
            _ => Value::Boolean(as_long(&Value::String(s), from)? != 0),
        },
        (Type::Boolean, v) => Value::Boolean(as_long(&v, from)? != 0),
        (Type::Int32, v) if name == Some(DATE_LOGICAL_NAME) => to_date(from, v)?,
        (Type::Int32, v) if name == Some(TIME_LOGICAL_NAME) => to_time(from, v)?,
        (Type::Int64, v) if name == Some(TIMESTAMP_LOGICAL_NAME) => to_timestamp(from, v)?,
        (Type::Int8, Value::Int8(v)) => Value::Int8(v),
        (Type::Int16, Value::Int16(v)) => Value::Int16(v),
        (Type::Int32, Value::Int32(v)) => Value::Int32(v),
        (Type::Int64, Value::Int64(v)) => Value::Int64(v),
        (Type::Int8, v) => Value::Int8(as_long(&v, from)? as i8),
        (Type::Int16, v) => Value::Int16(as_long(&v, from)? as i16),
        (Type::Int32, v) => Value::Int32(as_long(&v, from)? as i32),
        (Type::Int64, v) => Value::Int64(as_long(&v, from)?),
        (Type::Float32, Value::Float32(v)) => Value::Float32(v),
        (Type::Float64, Value::Float64(v)) => Value::Float64(v),
        (Type::Float32, v) => Value::Float32(as_double(&v, from)? as f32),
        (Type::Float64, v) => Value::Float64(as_double(&v, from)?),
        (Type::Array | Type::Map, Value::String(s)) => {
            match (to.schema_type(), parse_string(&s).value) {
                (Type::Array, Some(v @ Value::Array(_))) | (Type::Map, Some(v @ Value::Map(_))) => {
                    v
                }
                (_, _) => return Err(unable(&Value::String(s), &to.to_string())),
            }
        }
        (Type::Array, v @ Value::Array(_))
        | (Type::Map, v @ Value::Map(_))
        | (Type::Struct, v @ Value::Struct(_)) => v,
        (_, v) => return Err(unable(&v, &to.to_string())),
    })
}

fn to_decimal(to: &Schema, value: Value) -> Result<Decimal> {
    let parse = |text: &str| text.parse::<Decimal>();
    match value {
        Value::Bytes(b) => Decimal::to_logical(to, &b),
        Value::Decimal(d) => Ok(d),
        Value::String(s) => parse(&s),
        // Java's `BigDecimal.valueOf(double)`: the shortest decimal that reads back as the double.
        Value::Float32(v) => parse(&java::double_to_string(f64::from(v))),
        Value::Float64(v) => parse(&java::double_to_string(v)),
        v @ (Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_)) => {
            parse(&java::double_to_string(as_long(&v, None)? as f64))
        }
        other => Err(unable(&other, &to.to_string())),
    }
}

/// The milliseconds since the epoch a temporal value stands for.
fn temporal_millis(value: &Value) -> Option<i64> {
    match value {
        Value::Date(days) => Some(i64::from(*days) * MILLIS_PER_DAY),
        Value::Time(ms) => Some(i64::from(*ms)),
        Value::Timestamp(ms) => Some(*ms),
        _ => None,
    }
}

/// Parses strings first, as Java's `convertToDate`/`Time`/`Timestamp` do.
fn parsed(value: Value) -> Value {
    match value {
        Value::String(s) => parse_string(&s).value.unwrap_or(Value::String(s)),
        other => other,
    }
}

fn from_name(from: Option<&Schema>) -> Option<&str> {
    from.and_then(Schema::name)
}

fn to_date(from: Option<&Schema>, value: Value) -> Result<Value> {
    let value = parsed(value);
    if let Some(millis) = temporal_millis(&value) {
        match (from, from_name(from)) {
            (None, _) | (_, Some(DATE_LOGICAL_NAME)) => {
                return super::logical::Date::from_unix_millis(millis).map(Value::Date);
            }
            (_, Some(TIMESTAMP_LOGICAL_NAME)) => {
                return Ok(Value::Date((millis / MILLIS_PER_DAY) as i32));
            }
            _ => {}
        }
    }
    Ok(Value::Date(as_long(&value, from)? as i32))
}

fn to_time(from: Option<&Schema>, value: Value) -> Result<Value> {
    let value = parsed(value);
    if let Some(millis) = temporal_millis(&value) {
        match (from, from_name(from)) {
            (None, _) | (_, Some(TIME_LOGICAL_NAME)) => {
                return super::logical::Time::from_unix_millis(millis).map(Value::Time);
            }
            (_, Some(TIMESTAMP_LOGICAL_NAME)) => {
                return Ok(Value::Time(millis.rem_euclid(MILLIS_PER_DAY) as i32));
            }
            _ => {}
        }
    }
    let ms = as_long(&value, from)?;
    if !(0..=MILLIS_PER_DAY).contains(&ms) {
        return Err(ConnectError::data(
            "Time values must use number of milliseconds greater than 0 and less than 86400000",
        ));
    }
    Ok(Value::Time(ms as i32))
}

fn to_timestamp(from: Option<&Schema>, value: Value) -> Result<Value> {
    let value = parsed(value);
    if let Some(millis) = temporal_millis(&value) {
        match (from, from_name(from)) {
            (None, _) | (_, Some(TIMESTAMP_LOGICAL_NAME)) => return Ok(Value::Timestamp(millis)),
            (_, Some(DATE_LOGICAL_NAME)) => {
                super::logical::Date::from_unix_millis(millis)?;
                return Ok(Value::Timestamp(millis));
            }
            (_, Some(TIME_LOGICAL_NAME)) => {
                super::logical::Time::from_unix_millis(millis)?;
                return Ok(Value::Timestamp(millis));
            }
            _ => {}
        }
    }
    Ok(Value::Timestamp(as_long(&value, from)?))
}

/// Java's `Values.asLong`: `Number.longValue()` (truncation toward zero, low 64 bits kept),
/// strings read as decimals, and logical values as their number when `from` names their type.
pub(super) fn as_long(value: &Value, from: Option<&Schema>) -> Result<i64> {
    let target = || from.map_or_else(|| "a number".to_owned(), ToString::to_string);
    Ok(match value {
        Value::Int8(v) => (*v).into(),
        Value::Int16(v) => (*v).into(),
        Value::Int32(v) => (*v).into(),
        Value::Int64(v) => *v,
        Value::Float32(v) => *v as i64,
        Value::Float64(v) => *v as i64,
        Value::Decimal(d) => decimal_long_value(d),
        Value::String(s) => {
            decimal_long_value(&s.parse::<Decimal>().map_err(|_| unable(value, &target()))?)
        }
        temporal @ (Value::Date(_) | Value::Time(_) | Value::Timestamp(_)) => {
            let millis = temporal_millis(temporal).unwrap_or_default();
            match from_name(from) {
                Some(DATE_LOGICAL_NAME) => super::logical::Date::from_unix_millis(millis)?.into(),
                Some(TIME_LOGICAL_NAME) => super::logical::Time::from_unix_millis(millis)?.into(),
                Some(TIMESTAMP_LOGICAL_NAME) => millis,
                _ => return Err(unable(temporal, &target())),
            }
        }
        other => return Err(unable(other, &target())),
    })
}

fn as_double(value: &Value, from: Option<&Schema>) -> Result<f64> {
    let decimal = |d: &Decimal| decimal_to_f64(d);
    Ok(match value {
        Value::Float32(v) => (*v).into(),
        Value::Float64(v) => *v,
        Value::Decimal(d) => decimal(d),
        Value::String(s) => match s.parse::<Decimal>() {
            Ok(d) => decimal(&d),
            Err(_) => as_long(value, from)? as f64,
        },
        other => as_long(other, from)? as f64,
    })
}

/// Java's `BigDecimal.doubleValue()`: correctly rounded.
pub(super) fn decimal_to_f64(d: &Decimal) -> f64 {
    format!("{}e{}", d.unscaled(), -i64::from(d.scale()))
        .parse()
        .unwrap_or(f64::NAN)
}

fn decimal_long_value(d: &Decimal) -> i64 {
    let ten = super::BigInt::from(10);
    let integral = if d.scale() <= 0 {
        d.unscaled() * ten.pow(d.scale().unsigned_abs())
    } else {
        d.unscaled() / ten.pow(d.scale().unsigned_abs())
    };
    let (sign, digits) = integral.to_u64_digits();
    let low = digits.first().copied().unwrap_or(0) as i64;
    if sign == num_bigint::Sign::Minus {
        low.wrapping_neg()
    } else {
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Date, Schema, SchemaBuilder, Time, Timestamp};
    use bytes::Bytes;

    fn conv(to: &Schema, from: Option<&Schema>, value: Value) -> Result<Value> {
        convert_value(to, from, value)
    }

    fn err(result: Result<Value>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn numbers_narrow_and_widen_like_java_casts() {
        assert_eq!(
            conv(&Schema::int8(), None, Value::Int32(300)).unwrap(),
            Value::Int8(44)
        );
        assert_eq!(
            conv(&Schema::int32(), None, Value::Float64(-2.9)).unwrap(),
            Value::Int32(-2)
        );
        assert!(
            conv(&Schema::int64(), None, Value::from(" 12.9")).is_err(),
            "BigDecimal rejects blanks"
        );
        assert_eq!(
            conv(&Schema::int64(), None, Value::from("12.9")).unwrap(),
            Value::Int64(12)
        );
        assert_eq!(
            conv(&Schema::float32(), None, Value::Int64(3)).unwrap(),
            Value::Float32(3.0)
        );
        assert_eq!(
            conv(&Schema::float64(), None, Value::from("0.1")).unwrap(),
            Value::Float64(0.1)
        );
        assert_eq!(
            conv(
                &Schema::int64(),
                None,
                Value::Decimal("18446744073709551617".parse().unwrap())
            )
            .unwrap(),
            Value::Int64(1),
            "longValue keeps the low 64 bits"
        );
        assert_eq!(
            err(conv(&Schema::int32(), None, Value::from("abc"))),
            "Unable to convert abc (class java.lang.String) to a number"
        );
    }

    #[test]
    fn booleans_strings_and_containers() {
        assert_eq!(
            conv(&Schema::boolean(), None, Value::from("true")).unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            conv(&Schema::boolean(), None, Value::Int8(2)).unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            conv(
                &Schema::string(),
                None,
                Value::Array(vec![Some(Value::Int8(1))])
            )
            .unwrap(),
            Value::from("[1]")
        );
        let list = SchemaBuilder::array(Schema::int32()).build().unwrap();
        assert_eq!(
            conv(&list, None, Value::from("[1,2]")).unwrap(),
            Value::Array(vec![Some(Value::Int8(1)), Some(Value::Int8(2))])
        );
        assert_eq!(
            err(conv(&list, None, Value::from("x"))),
            "Unable to convert x (class java.lang.String) to Schema{ARRAY}"
        );
        assert_eq!(
            convert_to(&Schema::int32(), None, None)
                .unwrap_err()
                .to_string(),
            "Unable to convert a null value to a schema that requires a value"
        );
        assert_eq!(
            convert_to(&Schema::optional_int32(), None, None).unwrap(),
            None
        );
    }

    #[test]
    fn decimals_and_bytes() {
        let dec = Decimal::schema(2);
        assert_eq!(
            conv(&dec, None, Value::Float64(1.5)).unwrap(),
            Value::Decimal("1.5".parse().unwrap())
        );
        assert_eq!(
            conv(&dec, None, Value::Int32(7)).unwrap(),
            Value::Decimal("7.0".parse().unwrap())
        );
        assert_eq!(
            conv(&dec, None, Value::Bytes(Bytes::from_static(&[0x01]))).unwrap(),
            Value::Decimal(Decimal::new(1, 2))
        );
        assert_eq!(
            err(conv(
                &Schema::bytes(),
                None,
                Value::Decimal(Decimal::new(1, 0))
            )),
            "Invalid Decimal schema: scale parameter not found."
        );
    }

    #[test]
    fn temporal_conversions() {
        let day = MILLIS_PER_DAY;
        let ts = Timestamp::schema();
        let date = Date::schema();
        let time = Time::schema();
        assert_eq!(
            conv(&date, Some(&ts), Value::Timestamp(3 * day + 5)).unwrap(),
            Value::Date(3)
        );
        assert_eq!(
            conv(&time, Some(&ts), Value::Timestamp(3 * day + 5)).unwrap(),
            Value::Time(5)
        );
        assert_eq!(
            conv(&ts, Some(&date), Value::Date(2)).unwrap(),
            Value::Timestamp(2 * day)
        );
        assert_eq!(
            conv(&ts, Some(&time), Value::Time(9)).unwrap(),
            Value::Timestamp(9)
        );
        assert_eq!(conv(&date, None, Value::Int32(4)).unwrap(), Value::Date(4));
        assert_eq!(
            conv(&ts, None, Value::from("1970-01-02")).unwrap(),
            Value::Timestamp(day)
        );
        assert_eq!(
            conv(&Schema::int64(), Some(&ts), Value::Timestamp(77)).unwrap(),
            Value::Int64(77)
        );
        assert_eq!(
            conv(&Schema::int32(), Some(&date), Value::Date(5)).unwrap(),
            Value::Int32(5)
        );
        assert_eq!(
            err(conv(&Schema::int64(), None, Value::Timestamp(77))),
            "Unable to convert 77 (class java.util.Date) to a number"
        );
        assert_eq!(
            err(conv(&time, None, Value::Int64(day + 1))),
            "Time values must use number of milliseconds greater than 0 and less than 86400000"
        );
        assert_eq!(
            err(conv(&date, None, Value::Timestamp(day + 1))),
            "Kafka Connect Date type should not have any time fields set to non-zero values."
        );
    }
}
