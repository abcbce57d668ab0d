//! What the transformations share: Java's `Requirements` checks and messages, `SchemaUtil`, and
//! helpers for schema-less maps (Java `Map<String, Object>`).

use ferry_connect::config::LambdaValidator;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, ParsedConfig, TypedValue,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Value};
use ferry_connect::{ConfigError, ConnectError, Result};

/// A schema-less record key or value: a map with string keys.
pub(crate) type MapEntries = Vec<(Value, Option<Value>)>;

/// The `replace.null.with.default` key several transformations share.
pub(crate) const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";

/// Java's class name of a value as `getClass().getName()` prints it, or `null`.
pub(crate) fn class_name(value: Option<&Value>) -> String {
    value.map_or_else(
        || "null".to_owned(),
        |v| v.java_class().trim_start_matches("class ").to_owned(),
    )
}

/// Java's `Requirements.requireMap`.
pub(crate) fn require_map<'a>(value: Option<&'a Value>, purpose: &str) -> Result<&'a MapEntries> {
    match value {
        Some(Value::Map(entries)) => Ok(entries),
        other => Err(ConnectError::data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            class_name(other)
        ))),
    }
}

/// Java's `Requirements.requireStruct`.
pub(crate) fn require_struct<'a>(value: Option<&'a Value>, purpose: &str) -> Result<&'a Struct> {
    match value {
        Some(Value::Struct(s)) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            class_name(other)
        ))),
    }
}

/// Java's `Requirements.requireSchema`.
pub(crate) fn require_schema<'a>(schema: Option<&'a Schema>, purpose: &str) -> Result<&'a Schema> {
    schema.ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

/// Java's `SchemaUtil.copySchemaBasics`: name, version, doc and parameters.
pub(crate) fn copy_schema_basics(source: &Schema, mut builder: SchemaBuilder) -> SchemaBuilder {
    if let Some(name) = source.name() {
        builder = builder.name(name);
    }
    if let Some(version) = source.version() {
        builder = builder.version(version);
    }
    if let Some(doc) = source.doc() {
        builder = builder.doc(doc);
    }
    if let Some(parameters) = source.parameters() {
        builder = builder.parameters(parameters.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    builder
}

/// The value of a struct field, with or without the field's default.
pub(crate) fn field_value<'a>(
    s: &'a Struct,
    name: &str,
    with_default: bool,
) -> Result<Option<&'a Value>> {
    if with_default {
        s.get(name)
    } else {
        s.get_without_default(name)
    }
}

/// The value under `key` in a schema-less map; `None` when absent or null.
pub(crate) fn map_get<'a>(entries: &'a MapEntries, key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .and_then(|(_, v)| v.as_ref())
}

/// Puts `key` into a schema-less map, replacing an existing entry in place.
pub(crate) fn map_put(entries: &mut MapEntries, key: &str, value: Option<Value>) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(entry) => entry.1 = value,
        None => entries.push((Value::from(key), value)),
    }
}

/// Removes `key` from a schema-less map.
pub(crate) fn map_remove(entries: &mut MapEntries, key: &str) {
    entries.retain(|(k, _)| k.as_str() != Some(key));
}

/// Parses a transformation's configuration with its definition (Java's `SimpleConfig`).
pub(crate) fn parse(def: &ConfigDef, configs: &ConfigMap) -> Result<ParsedConfig> {
    Ok(def.parse(configs)?)
}

/// The `replace.null.with.default` key (default `true`).
pub(crate) fn replace_null_with_default_key() -> ConfigKey {
    ConfigKey::new(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean)
        .default_value("true")
        .importance(Importance::Medium)
        .documentation(
            "Whether to replace fields that have a default value and that are null to the default \
             value. When set to true, the default value is used, otherwise null is used.",
        )
}

/// The `replace.null.with.default` setting of a configuration parsed with
/// [`replace_null_with_default_key`].
pub(crate) fn replace_null_with_default(config: &ParsedConfig) -> bool {
    config
        .get_bool(REPLACE_NULL_WITH_DEFAULT_CONFIG)
        .unwrap_or(true)
}

/// Java's `NonEmptyListValidator`.
pub(crate) fn non_empty_list() -> LambdaValidator {
    LambdaValidator::new(
        "non-empty list",
        |name: &str, value: Option<&TypedValue>| match value {
            Some(TypedValue::List(items)) if !items.is_empty() => Ok(()),
            other => {
                let shown = other.map_or_else(
                    || "null".to_owned(),
                    |v| format!("[{}]", v.to_string().replace(',', ", ")),
                );
                Err(ConfigError::invalid(name, shown, Some("Empty list")))
            }
        },
    )
}

/// A list setting as a vector (empty when unset).
pub(crate) fn list(config: &ParsedConfig, key: &str) -> Vec<String> {
    config
        .get_list(key)
        .map(<[String]>::to_vec)
        .unwrap_or_default()
}
