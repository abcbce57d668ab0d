//! Java's `org.apache.kafka.connect.converters.{Short,Integer,Long,Float,Double,Boolean}Converter`:
//! single numbers in the big-endian layout of Kafka's primitive serializers.

use bytes::Bytes;
use ferry_connect::config::ConfigDef;
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter, RecordHeader};
use ferry_connect::data::{Schema, SchemaAndValue, Type, Value};
use ferry_connect::{ConnectError, Result};

use super::{converter_config_def, converter_type, parse_converter_config};

/// Which primitive a [`NumberConverter`] handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// `ShortConverter`: `INT16`, 2 bytes.
    Short,
    /// `IntegerConverter`: `INT32`, 4 bytes.
    Integer,
    /// `LongConverter`: `INT64`, 8 bytes.
    Long,
    /// `FloatConverter`: `FLOAT32`, 4 bytes of IEEE 754.
    Float,
    /// `DoubleConverter`: `FLOAT64`, 8 bytes of IEEE 754.
    Double,
}

impl NumberKind {
    /// The name Java uses in messages (`integer`, `long`, ...).
    pub fn type_name(self) -> &'static str {
        match self {
            NumberKind::Short => "short",
            NumberKind::Integer => "integer",
            NumberKind::Long => "long",
            NumberKind::Float => "float",
            NumberKind::Double => "double",
        }
    }

    /// The simple name of Java's converter class, e.g. `IntegerConverter`.
    pub fn class_simple_name(self) -> &'static str {
        match self {
            NumberKind::Short => "ShortConverter",
            NumberKind::Integer => "IntegerConverter",
            NumberKind::Long => "LongConverter",
            NumberKind::Float => "FloatConverter",
            NumberKind::Double => "DoubleConverter",
        }
    }

    fn schema(self) -> Schema {
        match self {
            NumberKind::Short => Schema::optional_int16(),
            NumberKind::Integer => Schema::optional_int32(),
            NumberKind::Long => Schema::optional_int64(),
            NumberKind::Float => Schema::optional_float32(),
            NumberKind::Double => Schema::optional_float64(),
        }
    }

    fn size(self) -> usize {
        match self {
            NumberKind::Short => 2,
            NumberKind::Integer | NumberKind::Float => 4,
            NumberKind::Long | NumberKind::Double => 8,
        }
    }

    fn encode(self, value: &Value) -> Option<Bytes> {
        let bytes: Vec<u8> = match (self, value) {
            (NumberKind::Short, Value::Int16(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Integer, Value::Int32(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Long, Value::Int64(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Float, Value::Float32(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Double, Value::Float64(v)) => v.to_be_bytes().to_vec(),
            _ => return None,
        };
        Some(bytes.into())
    }

    fn decode(self, bytes: &[u8]) -> Option<Value> {
        Some(match self {
            NumberKind::Short => Value::Int16(i16::from_be_bytes(bytes.try_into().ok()?)),
            NumberKind::Integer => Value::Int32(i32::from_be_bytes(bytes.try_into().ok()?)),
            NumberKind::Long => Value::Int64(i64::from_be_bytes(bytes.try_into().ok()?)),
            NumberKind::Float => Value::Float32(f32::from_be_bytes(bytes.try_into().ok()?)),
            NumberKind::Double => Value::Float64(f64::from_be_bytes(bytes.try_into().ok()?)),
        })
    }

    fn deserializer_name(self) -> &'static str {
        match self {
            NumberKind::Short => "ShortDeserializer",
            NumberKind::Integer => "IntegerDeserializer",
            NumberKind::Long => "LongDeserializer",
            NumberKind::Float => "FloatDeserializer",
            NumberKind::Double => "DoubleDeserializer",
        }
    }
}

/// One converter for the five number types, Java's `NumberConverter` subclasses.
///
/// ```
/// use ferry_connect::convert::Converter;
/// use ferry_connect::data::Value;
/// use ferry_runtime::converters::{NumberConverter, NumberKind};
/// let c = NumberConverter::new(NumberKind::Integer);
/// let bytes = c.from_connect_data("t", &mut Vec::new(), None, Some(&Value::Int32(258))).unwrap();
/// assert_eq!(bytes.as_deref(), Some(&[0u8, 0, 1, 2][..]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NumberConverter {
    kind: NumberKind,
}

impl NumberConverter {
    /// A converter for `kind`.
    pub fn new(kind: NumberKind) -> Self {
        Self { kind }
    }

    fn check_config(configs: &ConfigMap, converter_type: &str) -> Result<()> {
        parse_converter_config(&converter_config_def(), configs, converter_type)?;
        Ok(())
    }

    fn serialize(&self, value: Option<&Value>) -> Result<Option<Bytes>> {
        let Some(value) = value else {
            return Ok(None);
        };
        self.kind.encode(value).map(Some).ok_or_else(|| {
            ConnectError::data(format!(
                "Failed to serialize to {} (was {}): ",
                self.kind.type_name(),
                value.java_class()
            ))
        })
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let value = match bytes {
            None => None,
            Some(bytes) => Some(self.kind.decode(bytes).ok_or_else(|| {
                ConnectError::data(format!(
                    "Failed to deserialize {}: Size of data received by {} is not {}",
                    self.kind.type_name(),
                    self.kind.deserializer_name(),
                    self.kind.size()
                ))
            })?),
        };
        Ok(SchemaAndValue::new(Some(self.kind.schema()), value))
    }
}

/// `BooleanConverter`: one byte, `1` for true and `0` for false.
///
/// ```
/// use ferry_connect::convert::Converter;
/// use ferry_connect::data::Value;
/// use ferry_runtime::converters::BooleanConverter;
/// let out = BooleanConverter.to_connect_data("t", &[], Some(&[1])).unwrap();
/// assert_eq!(out.value, Some(Value::Boolean(true)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BooleanConverter;

impl BooleanConverter {
    fn serialize(schema: Option<&Schema>, value: Option<&Value>) -> Result<Option<Bytes>> {
        if let Some(schema) = schema.filter(|s| s.schema_type() != Type::Boolean) {
            return Err(ConnectError::data(format!(
                "Invalid schema type for BooleanConverter: {}",
                schema.schema_type()
            )));
        }
        match value {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(Bytes::from(vec![u8::from(*b)]))),
            Some(other) => Err(ConnectError::data(format!(
                "BooleanConverter is not compatible with objects of type {}",
                other.java_class()
            ))),
        }
    }

    fn deserialize(bytes: Option<&[u8]>) -> Result<SchemaAndValue> {
        let failed =
            |why: String| ConnectError::data(format!("Failed to deserialize boolean: {why}"));
        let value = match bytes {
            None => None,
            Some([0]) => Some(Value::Boolean(false)),
            Some([1]) => Some(Value::Boolean(true)),
            Some([b]) => {
                return Err(failed(format!(
                    "Unexpected byte received by BooleanDeserializer: {}",
                    *b as i8
                )));
            }
            Some(_) => {
                return Err(failed(
                    "Size of data received by BooleanDeserializer is not 1".into(),
                ));
            }
        };
        Ok(SchemaAndValue::new(Some(Schema::optional_boolean()), value))
    }
}

/// Implements both converter traits for a type from its `serialize`/`deserialize` pair.
macro_rules! number_converter_traits {
    ($ty:ty, |$this:ident, $schema:ident, $value:ident| $ser:expr, |$this2:ident, $bytes:ident| $de:expr,
     |$configs:ident, $ctype:ident| $configure:expr) => {
        impl Converter for $ty {
            fn configure(&mut self, $configs: &ConfigMap, is_key: bool) -> Result<()> {
                let $ctype = converter_type(is_key);
                $configure
            }
            fn from_connect_data(
                &self,
                _topic: &str,
                _headers: &mut Vec<RecordHeader>,
                $schema: Option<&Schema>,
                $value: Option<&Value>,
            ) -> Result<Option<Bytes>> {
                let $this = self;
                $ser
            }
            fn to_connect_data(
                &self,
                _topic: &str,
                _headers: &[RecordHeader],
                $bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                let $this2 = self;
                $de
            }
            fn config(&self) -> ConfigDef {
                converter_config_def()
            }
        }

        impl HeaderConverter for $ty {
            fn configure(&mut self, $configs: &ConfigMap) -> Result<()> {
                let $ctype = "header";
                $configure
            }
            fn from_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                $schema: Option<&Schema>,
                $value: Option<&Value>,
            ) -> Result<Option<Bytes>> {
                let $this = self;
                $ser
            }
            fn to_connect_header(
                &self,
                _topic: &str,
                _header_key: &str,
                $bytes: Option<&[u8]>,
            ) -> Result<SchemaAndValue> {
                let $this2 = self;
                $de
            }
            fn config(&self) -> ConfigDef {
                converter_config_def()
            }
        }
    };
}

number_converter_traits!(
    NumberConverter,
    |this, _schema, value| this.serialize(value),
    |this, bytes| this.deserialize(bytes),
    |configs, converter_type| NumberConverter::check_config(configs, converter_type)
);

number_converter_traits!(
    BooleanConverter,
    |_this, schema, value| BooleanConverter::serialize(schema, value),
    |_this, bytes| BooleanConverter::deserialize(bytes),
    |configs, converter_type| NumberConverter::check_config(configs, converter_type)
);
