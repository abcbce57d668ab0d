//! `org.apache.kafka.connect.storage.StringConverter`: any value as its string form.

use bytes::Bytes;
use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, Width};
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter, RecordHeader};
use ferry_connect::data::{Schema, SchemaAndValue, Value};
use ferry_connect::{ConfigError, Result};

use super::{converter_config_def, converter_type, parse_converter_config};

/// `converter.encoding`: the character set of the strings (default `UTF-8`).
pub const ENCODING_CONFIG: &str = "converter.encoding";

/// The character sets Ferry supports, by the names Java's `Charset.forName` accepts for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Encoding {
    #[default]
    Utf8,
    Ascii,
    Latin1,
}

impl Encoding {
    fn for_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "UTF-8" | "UTF8" | "UNICODE-1-1-UTF-8" => Some(Encoding::Utf8),
            "US-ASCII" | "ASCII" | "ISO646-US" | "ASCII7" | "646" | "DEFAULT" => {
                Some(Encoding::Ascii)
            }
            "ISO-8859-1" | "ISO8859_1" | "ISO8859-1" | "LATIN1" | "L1" | "8859_1" | "CP819"
            | "IBM819" => Some(Encoding::Latin1),
            _ => None,
        }
    }

    /// Characters the charset cannot hold become `?`, as Java's `String.getBytes` does.
    fn encode(self, s: &str) -> Bytes {
        match self {
            Encoding::Utf8 => Bytes::copy_from_slice(s.as_bytes()),
            Encoding::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            Encoding::Latin1 => s.chars().map(|c| u8::try_from(c).unwrap_or(b'?')).collect(),
        }
    }

    /// Malformed input becomes U+FFFD, as Java's `new String(bytes, charset)` does.
    fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Ascii => bytes
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
                .collect(),
            Encoding::Latin1 => bytes.iter().map(|&b| b as char).collect(),
        }
    }
}

/// Writes any value as its string form (Java's `toString`) and reads bytes as an optional
/// `STRING`.
///
/// ```
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::convert::Converter;
/// use ferry_connect::data::Value;
/// use ferry_runtime::converters::StringConverter;
/// let mut c = StringConverter::default();
/// c.configure(&ConfigMap::new(), true).unwrap();
/// let bytes = c.from_connect_data("t", &mut Vec::new(), None, Some(&Value::Int32(42))).unwrap();
/// assert_eq!(bytes.as_deref(), Some(&b"42"[..]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StringConverter {
    encoding: Encoding,
}

impl StringConverter {
    /// The definition of the configuration, Java's `StringConverterConfig.configDef()`.
    pub fn config_def() -> ConfigDef {
        converter_config_def().define(
            ConfigKey::new(ENCODING_CONFIG, ConfigType::String)
                .default_value("UTF-8")
                .importance(Importance::High)
                .documentation(
                    "The name of the Java character set to use for encoding strings as byte arrays.",
                )
                .order(-1)
                .width(Width::Medium)
                .display_name("Encoding"),
        )
    }

    fn apply_config(&mut self, configs: &ConfigMap, converter_type: &str) -> Result<()> {
        let parsed = parse_converter_config(&Self::config_def(), configs, converter_type)?;
        let name = parsed.get_string(ENCODING_CONFIG).unwrap_or("UTF-8");
        self.encoding = Encoding::for_name(name).ok_or_else(|| {
            ConfigError::invalid(ENCODING_CONFIG, name, Some("Unsupported character set"))
        })?;
        Ok(())
    }

    fn serialize(&self, value: Option<&Value>) -> Option<Bytes> {
        value.map(|v| self.encoding.encode(&v.to_string()))
    }

    fn deserialize(&self, value: Option<&[u8]>) -> SchemaAndValue {
        let value = value.map(|v| Value::String(self.encoding.decode(v)));
        SchemaAndValue::new(Some(Schema::optional_string()), value)
    }
}

impl Converter for StringConverter {
    fn configure(&mut self, configs: &ConfigMap, is_key: bool) -> Result<()> {
        self.apply_config(configs, converter_type(is_key))
    }

    fn from_connect_data(
        &self,
        _topic: &str,
        _headers: &mut Vec<RecordHeader>,
        _schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Ok(self.serialize(value))
    }

    fn to_connect_data(
        &self,
        _topic: &str,
        _headers: &[RecordHeader],
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(self.deserialize(value))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

impl HeaderConverter for StringConverter {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        self.apply_config(configs, "header")
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        _schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Ok(self.serialize(value))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(self.deserialize(value))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
