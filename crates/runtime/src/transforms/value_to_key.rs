//! `org.apache.kafka.connect.transforms.ValueToKey`.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{SchemaAndValue, SchemaBuilder, Struct, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConnectError, Result};

use super::support::{
    field_value, list, map_get, map_put, non_empty_list, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};

const PURPOSE: &str = "copying fields from value to key";

/// Replaces the key with a struct or map of the listed value fields.
#[derive(Debug, Clone)]
pub struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
}

impl Default for ValueToKey {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            replace_null_with_default: true,
        }
    }
}

impl ValueToKey {
    /// The configuration definition, Java's `ValueToKey.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .validator(non_empty_list())
                    .importance(Importance::High)
                    .documentation("Field names on the record value to extract as the record key."),
            )
            .define(replace_null_with_default_key())
    }
}

impl<R: ConnectRecord> Transformation<R> for ValueToKey {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.fields = list(&config, "fields");
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        if record.value_schema().is_none() {
            let value = require_map(record.value(), PURPOSE)?;
            let mut key = Vec::new();
            for field in &self.fields {
                map_put(&mut key, field, map_get(value, field).cloned());
            }
            return Ok(Some(
                record.with_key(SchemaAndValue::new(None, Some(Value::Map(key)))),
            ));
        }
        let value = require_struct(record.value(), PURPOSE)?;
        let mut builder = SchemaBuilder::struct_();
        for field in &self.fields {
            let from_value = value
                .schema()
                .field(field)
                .ok_or_else(|| ConnectError::data(format!("Field does not exist: {field}")))?;
            builder = builder.field(field.clone(), from_value.schema().clone());
        }
        let key_schema = builder.build()?;
        let mut key = Struct::new(key_schema.clone())?;
        for field in &self.fields {
            key.put(
                field,
                field_value(value, field, self.replace_null_with_default)?.cloned(),
            )?;
        }
        Ok(Some(record.with_key(SchemaAndValue::new(
            Some(key_schema),
            Some(Value::Struct(key)),
        ))))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
