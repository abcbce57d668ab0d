//! `org.apache.kafka.connect.converters.ByteArrayConverter`: passes bytes through unchanged.

use bytes::Bytes;
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter, RecordHeader};
use ferry_connect::data::{Schema, SchemaAndValue, Type, Value};
use ferry_connect::{ConnectError, Result};

/// Passes `BYTES` values through as the record's bytes; reads any bytes as optional `BYTES`.
///
/// ```
/// use ferry_connect::convert::Converter;
/// use ferry_connect::data::{Schema, Value};
/// use ferry_runtime::converters::ByteArrayConverter;
/// let c = ByteArrayConverter;
/// let out = c.to_connect_data("t", &[], Some(b"\x00\x01")).unwrap();
/// assert_eq!(out.schema, Some(Schema::optional_bytes()));
/// assert_eq!(out.value, Some(Value::Bytes(vec![0u8, 1].into())));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    fn serialize(schema: Option<&Schema>, value: Option<&Value>) -> Result<Option<Bytes>> {
        if let Some(schema) = schema.filter(|s| s.schema_type() != Type::Bytes) {
            return Err(ConnectError::data(format!(
                "Invalid schema type for ByteArrayConverter: {}",
                schema.schema_type()
            )));
        }
        match value {
            None => Ok(None),
            Some(Value::Bytes(bytes)) => Ok(Some(bytes.clone())),
            Some(other) => Err(ConnectError::data(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                other.java_class()
            ))),
        }
    }

    fn deserialize(value: Option<&[u8]>) -> SchemaAndValue {
        let value = value.map(|v| Value::Bytes(Bytes::copy_from_slice(v)));
        SchemaAndValue::new(Some(Schema::optional_bytes()), value)
    }
}

impl Converter for ByteArrayConverter {
    fn configure(&mut self, _configs: &ConfigMap, _is_key: bool) -> Result<()> {
        Ok(())
    }

    fn from_connect_data(
        &self,
        _topic: &str,
        _headers: &mut Vec<RecordHeader>,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Self::serialize(schema, value)
    }

    fn to_connect_data(
        &self,
        _topic: &str,
        _headers: &[RecordHeader],
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(Self::deserialize(value))
    }
}

impl HeaderConverter for ByteArrayConverter {
    fn configure(&mut self, _configs: &ConfigMap) -> Result<()> {
        Ok(())
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Self::serialize(schema, value)
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(Self::deserialize(value))
    }
}
