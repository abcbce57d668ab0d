//! Kafka Connect's built-in converters: Connect data to and from the bytes of record keys,
//! values and headers, with Java's class names, configuration keys and output bytes.
//!
//! | type | Java class |
//! | --- | --- |
//! | [`JsonConverter`] | `org.apache.kafka.connect.json.JsonConverter` |
//! | [`StringConverter`] | `org.apache.kafka.connect.storage.StringConverter` |
//! | [`ByteArrayConverter`] | `org.apache.kafka.connect.converters.ByteArrayConverter` |
//! | [`NumberConverter`] | `org.apache.kafka.connect.converters.{Integer,Long,Float,Double,Short}Converter` |
//! | [`BooleanConverter`] | `org.apache.kafka.connect.converters.BooleanConverter` |
//! | [`SimpleHeaderConverter`] | `org.apache.kafka.connect.storage.SimpleHeaderConverter` |

mod byte_array;
pub(crate) mod date_format;
mod json;
mod number;
mod simple_header;
mod string;

pub use byte_array::ByteArrayConverter;
pub use json::{
    DECIMAL_FORMAT_CONFIG, DecimalFormat, JsonConverter, REPLACE_NULL_WITH_DEFAULT_CONFIG,
    SCHEMAS_CACHE_SIZE_CONFIG, SCHEMAS_ENABLE_CONFIG,
};
pub use number::{BooleanConverter, NumberConverter, NumberKind};
pub use simple_header::SimpleHeaderConverter;
pub use string::{ENCODING_CONFIG, StringConverter};

use ferry_connect::ConfigError;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, ParsedConfig, ValidString,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::plugin::PluginRegistry;

/// `converter.type`: `key`, `value` or `header`, set by the runtime when it configures a converter.
pub const CONVERTER_TYPE_CONFIG: &str = "converter.type";

/// Java's `ConverterConfig.newConfigDef()`: the `converter.type` key every converter config has.
fn converter_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(CONVERTER_TYPE_CONFIG, ConfigType::String)
            .validator(ValidString::of(["key", "value", "header"]))
            .importance(Importance::Low)
            .documentation("How this converter will be used."),
    )
}

/// The `converter.type` of a key or value converter.
fn converter_type(is_key: bool) -> &'static str {
    if is_key { "key" } else { "value" }
}

/// Parses a converter's `configs` against `def` as Java's `ConverterConfig` does: `converter.type`
/// is the role the converter is configured for unless the configs name one.
fn parse_converter_config(
    def: &ConfigDef,
    configs: &ConfigMap,
    converter_type: &str,
) -> Result<ParsedConfig, ConfigError> {
    let mut configs = configs.clone();
    configs
        .entry(CONVERTER_TYPE_CONFIG.to_owned())
        .or_insert_with(|| converter_type.to_owned());
    def.parse(&configs)
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Registers every built-in converter and header converter in `registry` under its Java class
/// name; `JsonConverter`, `StringConverter`, `ByteArrayConverter` and the number converters are
/// also header converters, as in Java.
///
/// ```
/// use ferry_connect::plugin::PluginRegistry;
/// let mut registry = PluginRegistry::new();
/// ferry_runtime::converters::register(&mut registry);
/// assert!(registry.converter("org.apache.kafka.connect.json.JsonConverter").is_some());
/// assert!(registry.converter("StringConverter").is_some());
/// assert!(registry.header_converter("SimpleHeaderConverter").is_some());
/// ```
pub fn register(registry: &mut PluginRegistry) {
    registry.register_converter(
        "org.apache.kafka.connect.json.JsonConverter",
        VERSION,
        || Box::new(JsonConverter::default()),
    );
    registry.register_header_converter(
        "org.apache.kafka.connect.json.JsonConverter",
        VERSION,
        || Box::new(JsonConverter::default()),
    );
    registry.register_converter(
        "org.apache.kafka.connect.storage.StringConverter",
        VERSION,
        || Box::new(StringConverter::default()),
    );
    registry.register_header_converter(
        "org.apache.kafka.connect.storage.StringConverter",
        VERSION,
        || Box::new(StringConverter::default()),
    );
    let byte_array = "org.apache.kafka.connect.converters.ByteArrayConverter";
    registry.register_converter(byte_array, VERSION, || Box::new(ByteArrayConverter));
    registry.register_header_converter(byte_array, VERSION, || Box::new(ByteArrayConverter));
    let boolean = "org.apache.kafka.connect.converters.BooleanConverter";
    registry.register_converter(boolean, VERSION, || Box::new(BooleanConverter));
    registry.register_header_converter(boolean, VERSION, || Box::new(BooleanConverter));
    for kind in [
        NumberKind::Short,
        NumberKind::Integer,
        NumberKind::Long,
        NumberKind::Float,
        NumberKind::Double,
    ] {
        let class = format!(
            "org.apache.kafka.connect.converters.{}",
            kind.class_simple_name()
        );
        registry.register_converter(&class, VERSION, move || {
            Box::new(NumberConverter::new(kind))
        });
        registry.register_header_converter(&class, VERSION, move || {
            Box::new(NumberConverter::new(kind))
        });
    }
    registry.register_header_converter(
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        VERSION,
        || Box::new(SimpleHeaderConverter),
    );
}
