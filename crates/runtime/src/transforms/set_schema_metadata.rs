//! `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key` / `$Value`.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Type, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, Result};

use super::Side;
use super::support::{
    field_value, parse, replace_null_with_default, replace_null_with_default_key, require_schema,
};

/// Sets the name and/or version of the key or value schema (`schema.name`, `schema.version`).
#[derive(Debug, Clone)]
pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            name: None,
            version: None,
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `SetSchemaMetadata.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("schema.name", ConfigType::String)
                    .default_null()
                    .importance(Importance::High)
                    .documentation("Schema name to set."),
            )
            .define(
                ConfigKey::new("schema.version", ConfigType::Int)
                    .default_null()
                    .importance(Importance::High)
                    .documentation("Schema version to set."),
            )
            .define(replace_null_with_default_key())
    }

    /// The schema with the new name and version and everything else kept.
    fn updated_schema(&self, schema: &Schema) -> Result<Schema> {
        let mut builder = match schema.schema_type() {
            Type::Array => SchemaBuilder::array(schema.value_schema()?.clone()),
            Type::Map => {
                SchemaBuilder::map(schema.key_schema()?.clone(), schema.value_schema()?.clone())
            }
            other => SchemaBuilder::new(other),
        };
        for field in schema.fields().unwrap_or_default() {
            builder = builder.field(field.name(), field.schema().clone());
        }
        if schema.is_optional() {
            builder = builder.optional();
        }
        if let Some(name) = self.name.as_deref().or(schema.name()) {
            builder = builder.name(name);
        }
        if let Some(version) = self.version.or(schema.version()) {
            builder = builder.version(version);
        }
        if let Some(doc) = schema.doc() {
            builder = builder.doc(doc);
        }
        if let Some(parameters) = schema.parameters() {
            builder = builder.parameters(parameters.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let built = builder.build()?;
        // The default is attached after the name change so a struct default can be rebuilt on the
        // new schema.
        match schema.default_value() {
            None => Ok(built),
            Some(default) => {
                let default = self.rebuild(default, &built)?;
                built.to_builder().default_value(default).build()
            }
        }
    }

    /// Java's `updateSchemaIn`: a struct is copied onto the updated schema; anything else is kept.
    fn rebuild(&self, value: &Value, schema: &Schema) -> Result<Value> {
        let Value::Struct(original) = value else {
            return Ok(value.clone());
        };
        let mut updated = Struct::new(schema.clone())?;
        for field in schema.fields()? {
            updated.put_field(
                field,
                field_value(original, field.name(), self.replace_null_with_default)?.cloned(),
            )?;
        }
        Ok(Value::Struct(updated))
    }
}

impl<R: ConnectRecord> Transformation<R> for SetSchemaMetadata {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.name = config.get_string("schema.name").map(str::to_owned);
        self.version = config.get_int("schema.version");
        self.replace_null_with_default = replace_null_with_default(&config);
        if self.name.is_none() && self.version.is_none() {
            return Err(ConfigError::new("Neither schema name nor version configured").into());
        }
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let value = self.side.value(&record);
        let schema = self.side.schema(&record);
        if value.is_none() && schema.is_none() {
            return Ok(Some(record));
        }
        let schema = require_schema(schema, "updating schema metadata")?;
        let updated_schema = self.updated_schema(schema)?;
        let updated = value
            .map(|v| self.rebuild(v, &updated_schema))
            .transpose()?;
        Ok(Some(self.side.replace(
            &record,
            Some(updated_schema),
            updated,
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
