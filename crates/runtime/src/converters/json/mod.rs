//! `org.apache.kafka.connect.json.JsonConverter`: Connect data as JSON, by default wrapped in an
//! envelope that carries the schema: `{"schema":{...},"payload":...}`.

mod node;
mod schema;
mod value;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ferry_connect::ConnectError;
use ferry_connect::Result;
use ferry_connect::config::{
    CaseInsensitiveValidString, ConfigDef, ConfigKey, ConfigType, Importance, Width,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter, RecordHeader};
use ferry_connect::data::{Schema, SchemaAndValue, Value};

pub use value::DecimalFormat;

use self::node::JsonNode;
use self::value::Options;
use super::{converter_type, parse_converter_config};

/// `schemas.enable`: whether to wrap data in the schema envelope.
pub const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
/// `schemas.cache.size`: how many schemas' JSON to keep (default 1000).
pub const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
/// `decimal.format`: `BASE64` (default) or `NUMERIC`, case-insensitive.
pub const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
/// `replace.null.with.default`: write a field's default in place of null (default true).
pub const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";

/// Java's default `schemas.cache.size`.
const DEFAULT_SCHEMAS_CACHE_SIZE: usize = 1000;

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" \
    fields and may not contain additional fields. If you are trying to deserialize plain JSON data, \
    set schemas.enable=false in your converter configuration.";

/// Converts Connect data to and from JSON exactly as Java's `JsonConverter` does; it is also a
/// header converter.
///
/// ```
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::convert::Converter;
/// use ferry_connect::data::{Schema, Value};
/// use ferry_runtime::converters::JsonConverter;
///
/// let mut converter = JsonConverter::default();
/// converter.configure(&ConfigMap::new(), false).unwrap();
/// let bytes = converter
///     .from_connect_data("t", &mut Vec::new(), Some(&Schema::int32()), Some(&Value::Int32(7)))
///     .unwrap()
///     .unwrap();
/// assert_eq!(&bytes[..], br#"{"schema":{"type":"int32","optional":false},"payload":7}"#);
/// ```
#[derive(Debug)]
pub struct JsonConverter {
    schemas_enabled: bool,
    options: Options,
    schema_cache: SchemaCache,
}

/// The JSON text of recently written schemas, Java's `fromConnectSchemaCache`: records of one
/// topic usually share a schema, and its JSON need not be rebuilt for each.
#[derive(Debug)]
struct SchemaCache {
    capacity: usize,
    entries: Mutex<VecDeque<(Schema, Arc<str>)>>,
}

impl SchemaCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The JSON of `schema`, from the cache or made by `make` (and then cached).
    fn get_or_insert(
        &self,
        schema: &Schema,
        make: impl FnOnce() -> Result<String>,
    ) -> Result<Arc<str>> {
        if self.capacity == 0 {
            return make().map(Arc::from);
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, text)) = entries.iter().find(|(s, _)| s == schema) {
            return Ok(Arc::clone(text));
        }
        let text: Arc<str> = Arc::from(make()?);
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back((schema.clone(), Arc::clone(&text)));
        Ok(text)
    }
}

impl Default for JsonConverter {
    /// A converter with Java's defaults: schemas enabled, base64 decimals, nulls replaced by
    /// defaults.
    fn default() -> Self {
        Self {
            schemas_enabled: true,
            options: Options {
                decimal_format: DecimalFormat::Base64,
                replace_null_with_default: true,
            },
            schema_cache: SchemaCache::new(DEFAULT_SCHEMAS_CACHE_SIZE),
        }
    }
}

impl JsonConverter {
    /// The definition of the configuration, Java's `JsonConverterConfig.configDef()`.
    pub fn config_def() -> ConfigDef {
        super::converter_config_def()
            .define(
                ConfigKey::new(SCHEMAS_ENABLE_CONFIG, ConfigType::Boolean)
                    .default_value("true")
                    .importance(Importance::High)
                    .documentation("Include schemas within each of the serialized values and keys.")
                    .group("Schemas")
                    .order(0)
                    .width(Width::Medium)
                    .display_name("Enable Schemas"),
            )
            .define(
                ConfigKey::new(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int)
                    .default_value("1000")
                    .importance(Importance::High)
                    .documentation("The maximum number of schemas that can be cached in this converter instance.")
                    .group("Schemas")
                    .order(1)
                    .width(Width::Medium)
                    .display_name("Schema Cache Size"),
            )
            .define(
                ConfigKey::new(DECIMAL_FORMAT_CONFIG, ConfigType::String)
                    .default_value("BASE64")
                    .validator(CaseInsensitiveValidString::of(["BASE64", "NUMERIC"]))
                    .importance(Importance::Low)
                    .documentation(
                        "Controls which format this converter will serialize decimals in. This \
                         value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
                    )
                    .group("Serialization")
                    .order(0)
                    .width(Width::Medium)
                    .display_name("Decimal Format"),
            )
            .define(
                ConfigKey::new(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean)
                    .default_value("true")
                    .importance(Importance::Low)
                    .documentation(
                        "Whether to replace fields that have a default value and that are null to \
                         the default value. When set to true, the default value is used, otherwise \
                         null is used.",
                    )
                    .group("Serialization")
                    .order(1)
                    .width(Width::Medium)
                    .display_name("Replace null with default"),
            )
    }

    fn apply_config(&mut self, configs: &ConfigMap, converter_type: &str) -> Result<()> {
        let parsed = parse_converter_config(&Self::config_def(), configs, converter_type)?;
        self.schemas_enabled = parsed.get_bool(SCHEMAS_ENABLE_CONFIG).unwrap_or(true);
        let numeric = parsed
            .get_string(DECIMAL_FORMAT_CONFIG)
            .is_some_and(|f| f.eq_ignore_ascii_case("NUMERIC"));
        self.options.decimal_format = if numeric {
            DecimalFormat::Numeric
        } else {
            DecimalFormat::Base64
        };
        self.options.replace_null_with_default = parsed
            .get_bool(REPLACE_NULL_WITH_DEFAULT_CONFIG)
            .unwrap_or(true);
        Ok(())
    }

    fn serialize(&self, schema: Option<&Schema>, value: Option<&Value>) -> Result<Option<Bytes>> {
        if schema.is_none() && value.is_none() {
            return Ok(None);
        }
        let payload = value::convert_to_json(schema, value, &self.options)?.to_bytes();
        if !self.schemas_enabled {
            return Ok(Some(Bytes::from(payload)));
        }
        let schema_json = match schema {
            Some(schema) => self.schema_cache.get_or_insert(schema, || {
                let json = schema::as_json_schema(schema, &self.options)?;
                Ok(json.to_text())
            })?,
            None => Arc::from("null"),
        };
        let mut out = Vec::with_capacity(schema_json.len() + payload.len() + 24);
        out.extend_from_slice(b"{\"schema\":");
        out.extend_from_slice(schema_json.as_bytes());
        out.extend_from_slice(b",\"payload\":");
        out.extend_from_slice(&payload);
        out.push(b'}');
        Ok(Some(Bytes::from(out)))
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        let json = JsonNode::parse(bytes)?;
        if !self.schemas_enabled {
            let value = value::convert_to_connect(None, json.as_ref(), &self.options)?;
            return Ok(SchemaAndValue::new(None, value));
        }
        let envelope = match &json {
            Some(JsonNode::Object(members)) if members.len() == 2 => json
                .as_ref()
                .and_then(|j| Some((j.get("schema")?, j.get("payload")?))),
            _ => None,
        };
        let (schema_json, payload) = envelope.ok_or_else(|| ConnectError::data(ENVELOPE_ERROR))?;
        let schema = schema::as_connect_schema(schema_json, &self.options)?;
        let value = value::convert_to_connect(schema.as_ref(), Some(payload), &self.options)?;
        Ok(SchemaAndValue::new(schema, value))
    }
}

impl Converter for JsonConverter {
    fn configure(&mut self, configs: &ConfigMap, is_key: bool) -> Result<()> {
        self.apply_config(configs, converter_type(is_key))
    }

    fn from_connect_data(
        &self,
        _topic: &str,
        _headers: &mut Vec<RecordHeader>,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        self.serialize(schema, value)
    }

    fn to_connect_data(
        &self,
        _topic: &str,
        _headers: &[RecordHeader],
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        self.deserialize(value)
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

impl HeaderConverter for JsonConverter {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        self.apply_config(configs, "header")
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        self.serialize(schema, value)
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        self.deserialize(value)
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
