//! Connect values to JSON and back, following Java's `JsonConverter.convertToJson` and
//! `convertToConnect`.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ferry_connect::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, Decimal, Schema, Struct, TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME, Type, Value, from_base,
};
use ferry_connect::{ConnectError, Result};

use super::node::{JsonNode, java_number};

/// How decimals are written, the `decimal.format` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalFormat {
    /// The unscaled value's two's-complement bytes in base64, e.g. `"D0I="`.
    #[default]
    Base64,
    /// A JSON number, e.g. `39.06`.
    Numeric,
}

/// The settings value conversion depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) decimal_format: DecimalFormat,
    pub(crate) replace_null_with_default: bool,
}

/// The JSON of `value` under `schema`; a missing schema means schema-less data, whose type is
/// inferred from the value.
pub(crate) fn convert_to_json(
    schema: Option<&Schema>,
    value: Option<&Value>,
    options: &Options,
) -> Result<JsonNode> {
    let Some(value) = value else {
        let Some(schema) = schema else {
            return Ok(JsonNode::Null);
        };
        if let Some(default) = schema
            .default_value()
            .filter(|_| options.replace_null_with_default)
        {
            return convert_to_json(Some(schema), Some(default), options);
        }
        if schema.is_optional() {
            return Ok(JsonNode::Null);
        }
        return Err(ConnectError::data(
            "Conversion error: null value for field that is required and has no default value",
        ));
    };
    if let Some(node) = logical_to_json(schema, value, options)? {
        return Ok(node);
    }
    let schema_type = match schema {
        Some(schema) => schema.schema_type(),
        None => value.inferred_type().ok_or_else(|| {
            ConnectError::data(format!(
                "Java class {} does not have corresponding schema type.",
                value.java_class()
            ))
        })?,
    };
    let mismatch = || {
        let type_name = schema.map_or("unknown schema".to_owned(), |s| s.schema_type().to_string());
        ConnectError::data(format!(
            "Invalid type for {type_name}: {}",
            value.java_class()
        ))
    };
    Ok(match (schema_type, value) {
        (Type::Int8, Value::Int8(v)) => JsonNode::Number(v.to_string()),
        (Type::Int16, Value::Int16(v)) => JsonNode::Number(v.to_string()),
        (Type::Int32, Value::Int32(v)) => JsonNode::Number(v.to_string()),
        (Type::Int64, Value::Int64(v)) => JsonNode::Number(v.to_string()),
        (Type::Float32, Value::Float32(v)) => java_number(*v),
        (Type::Float64, Value::Float64(v)) => java_number(*v),
        (Type::Boolean, Value::Boolean(v)) => JsonNode::Bool(*v),
        (Type::String, Value::String(v)) => JsonNode::String(v.clone()),
        (Type::Bytes, Value::Bytes(v)) => JsonNode::String(BASE64.encode(v)),
        (Type::Array, Value::Array(items)) => {
            let item_schema = schema.map(Schema::value_schema).transpose()?;
            let items = items
                .iter()
                .map(|item| convert_to_json(item_schema, item.as_ref(), options))
                .collect::<Result<_>>()?;
            JsonNode::Array(items)
        }
        (Type::Map, Value::Map(entries)) => map_to_json(schema, entries, options)?,
        (Type::Struct, Value::Struct(s)) => {
            let schema = schema.filter(|schema| *schema == s.schema());
            let schema = schema.ok_or_else(|| ConnectError::data("Mismatching schema."))?;
            let mut members = Vec::new();
            for field in schema.fields()? {
                let field_value = s.get_without_default(field.name())?;
                members.push((
                    field.name().to_owned(),
                    convert_to_json(Some(field.schema()), field_value, options)?,
                ));
            }
            JsonNode::Object(members)
        }
        _ => return Err(mismatch()),
    })
}

/// A map with string keys is a JSON object; any other map is an array of `[key, value]` pairs.
fn map_to_json(
    schema: Option<&Schema>,
    entries: &[(Value, Option<Value>)],
    options: &Options,
) -> Result<JsonNode> {
    let (key_schema, value_schema) = match schema {
        Some(schema) => (Some(schema.key_schema()?), Some(schema.value_schema()?)),
        None => (None, None),
    };
    let object_mode = match key_schema {
        Some(key_schema) => key_schema.schema_type() == Type::String,
        None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
    };
    let mut object = JsonNode::Object(Vec::new());
    let mut pairs = Vec::new();
    for (key, value) in entries {
        let key = convert_to_json(key_schema, Some(key), options)?;
        let value = convert_to_json(value_schema, value.as_ref(), options)?;
        if object_mode {
            // Jackson's `asText()` of the key node.
            let name = match key {
                JsonNode::String(s) | JsonNode::Number(s) => s,
                other => String::from_utf8_lossy(&other.to_bytes()).into_owned(),
            };
            object.set(&name, value);
        } else {
            pairs.push(JsonNode::Array(vec![key, value]));
        }
    }
    Ok(if object_mode {
        object
    } else {
        JsonNode::Array(pairs)
    })
}

fn logical_to_json(
    schema: Option<&Schema>,
    value: &Value,
    options: &Options,
) -> Result<Option<JsonNode>> {
    let Some(schema) = schema else {
        return Ok(None);
    };
    let wrong = |logical: &str, expected: &str| {
        ConnectError::data(format!(
            "Invalid type for {logical}, expected {expected} but was {}",
            value.java_class()
        ))
    };
    Ok(Some(match (schema.name(), value) {
        (Some(DECIMAL_LOGICAL_NAME), Value::Decimal(d)) => match options.decimal_format {
            DecimalFormat::Numeric => JsonNode::Number(d.to_string()),
            DecimalFormat::Base64 => {
                JsonNode::String(BASE64.encode(Decimal::from_logical(schema, d)?))
            }
        },
        (Some(DECIMAL_LOGICAL_NAME), _) => return Err(wrong("Decimal", "BigDecimal")),
        (Some(DATE_LOGICAL_NAME), Value::Date(days)) => JsonNode::Number(days.to_string()),
        (Some(DATE_LOGICAL_NAME), _) => return Err(wrong("Date", "Date")),
        (Some(TIME_LOGICAL_NAME), Value::Time(ms)) => JsonNode::Number(ms.to_string()),
        (Some(TIME_LOGICAL_NAME), _) => return Err(wrong("Time", "Date")),
        (Some(TIMESTAMP_LOGICAL_NAME), Value::Timestamp(ms)) => JsonNode::Number(ms.to_string()),
        (Some(TIMESTAMP_LOGICAL_NAME), _) => return Err(wrong("Timestamp", "Date")),
        _ => return Ok(None),
    }))
}

/// The Connect value of `json` under `schema`; without a schema, integers become `INT64`,
/// other numbers `FLOAT64` and objects maps with string keys.
pub(crate) fn convert_to_connect(
    schema: Option<&Schema>,
    json: Option<&JsonNode>,
    options: &Options,
) -> Result<Option<Value>> {
    let json = json.filter(|j| **j != JsonNode::Null);
    let Some(schema) = schema else {
        return Ok(json.and_then(schemaless_to_connect));
    };
    let Some(json) = json else {
        if let Some(default) = schema
            .default_value()
            .filter(|_| options.replace_null_with_default)
        {
            return Ok(Some(default.clone()));
        }
        if schema.is_optional() {
            return Ok(None);
        }
        return Err(ConnectError::data(format!(
            "Invalid null value for required {} field",
            schema.schema_type()
        )));
    };
    if let Some(value) = logical_to_connect(schema, json)? {
        return Ok(Some(value));
    }
    Ok(match schema.schema_type() {
        Type::Boolean => Some(Value::Boolean(*json == JsonNode::Bool(true))),
        Type::Int8 => Some(Value::Int8(json.long_value() as i8)),
        Type::Int16 => Some(Value::Int16(json.long_value() as i16)),
        Type::Int32 => Some(Value::Int32(json.long_value() as i32)),
        Type::Int64 => Some(Value::Int64(json.long_value())),
        Type::Float32 => Some(Value::Float32(json.float_value())),
        Type::Float64 => Some(Value::Float64(json.double_value())),
        Type::Bytes => match json {
            JsonNode::String(text) => Some(Value::Bytes(decode_base64(text)?.into())),
            _ => None,
        },
        Type::String => match json {
            JsonNode::String(text) => Some(Value::String(text.clone())),
            _ => None,
        },
        Type::Array => {
            let item_schema = schema.value_schema()?;
            let items = match json {
                JsonNode::Array(items) => items.as_slice(),
                _ => &[],
            };
            let items = items
                .iter()
                .map(|item| convert_to_connect(Some(item_schema), Some(item), options))
                .collect::<Result<_>>()?;
            Some(Value::Array(items))
        }
        Type::Map => Some(map_to_connect(schema, json, options)?),
        Type::Struct => {
            let JsonNode::Object(_) = json else {
                return Err(ConnectError::data(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    json.node_type()
                )));
            };
            let mut result = Struct::new(schema.clone())?;
            for field in schema.fields()? {
                let value =
                    convert_to_connect(Some(field.schema()), json.get(field.name()), options)?;
                result.put_field(field, value)?;
            }
            Some(Value::Struct(result))
        }
    })
}

fn map_to_connect(schema: &Schema, json: &JsonNode, options: &Options) -> Result<Value> {
    let (key_schema, value_schema) = (schema.key_schema()?, schema.value_schema()?);
    let mut entries = Vec::new();
    if key_schema.schema_type() == Type::String {
        let JsonNode::Object(members) = json else {
            return Err(ConnectError::data(format!(
                "Maps with string fields should be encoded as JSON objects, but found {}",
                json.node_type()
            )));
        };
        for (key, value) in members {
            let value = convert_to_connect(Some(value_schema), Some(value), options)?;
            entries.push((Value::String(key.clone()), value));
        }
        return Ok(Value::Map(entries));
    }
    let JsonNode::Array(pairs) = json else {
        return Err(ConnectError::data(format!(
            "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
            json.node_type()
        )));
    };
    for pair in pairs {
        let JsonNode::Array(pair) = pair else {
            return Err(ConnectError::data(format!(
                "Found invalid map entry instead of array tuple: {}",
                pair.node_type()
            )));
        };
        if pair.len() != 2 {
            return Err(ConnectError::data(format!(
                "Found invalid map entry, expected length 2 but found :{}",
                pair.len()
            )));
        }
        let key = convert_to_connect(Some(key_schema), Some(&pair[0]), options)?
            .ok_or_else(|| ConnectError::data("Map keys may not be null"))?;
        let value = convert_to_connect(Some(value_schema), Some(&pair[1]), options)?;
        entries.push((key, value));
    }
    Ok(Value::Map(entries))
}

fn logical_to_connect(schema: &Schema, json: &JsonNode) -> Result<Option<Value>> {
    let wrong = |logical: &str, expected: &str| {
        ConnectError::data(format!(
            "Invalid type for {logical}, underlying representation should be {expected} but was {}",
            json.node_type()
        ))
    };
    Ok(Some(match schema.name() {
        Some(DECIMAL_LOGICAL_NAME) => match json {
            JsonNode::Number(text) => Value::Decimal(Decimal::from_str(text)?),
            JsonNode::String(text) => {
                let bytes = decode_base64(text)
                    .map_err(|_| ConnectError::data("Invalid bytes for Decimal field"))?;
                Value::Decimal(Decimal::to_logical(schema, &bytes)?)
            }
            _ => return Err(wrong("Decimal", "numeric or bytes")),
        },
        Some(DATE_LOGICAL_NAME) if json.is_int() => Value::Date(json.long_value() as i32),
        Some(DATE_LOGICAL_NAME) => return Err(wrong("Date", "integer")),
        Some(TIME_LOGICAL_NAME) if json.is_int() => {
            from_base(schema, Value::Int32(json.long_value() as i32))?
        }
        Some(TIME_LOGICAL_NAME) => return Err(wrong("Time", "integer")),
        Some(TIMESTAMP_LOGICAL_NAME) if json.is_integral() => Value::Timestamp(json.long_value()),
        Some(TIMESTAMP_LOGICAL_NAME) => return Err(wrong("Timestamp", "integral")),
        _ => return Ok(None),
    }))
}

fn schemaless_to_connect(json: &JsonNode) -> Option<Value> {
    Some(match json {
        JsonNode::Null => return None,
        JsonNode::Bool(b) => Value::Boolean(*b),
        JsonNode::Number(_) if json.is_integral() => Value::Int64(json.long_value()),
        JsonNode::Number(_) => Value::Float64(json.double_value()),
        JsonNode::String(s) => Value::String(s.clone()),
        JsonNode::Array(items) => Value::Array(items.iter().map(schemaless_to_connect).collect()),
        JsonNode::Object(members) => Value::Map(
            members
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), schemaless_to_connect(v)))
                .collect(),
        ),
    })
}

/// Jackson decodes base64 text leniently about a missing final padding.
fn decode_base64(text: &str) -> Result<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT
        .decode(text)
        .map_err(|e| ConnectError::data(format!("Invalid bytes field: {e}")))
}
