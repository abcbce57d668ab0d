//! `org.apache.kafka.connect.transforms.Flatten$Key` / `$Value`.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Type, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConnectError, Result};

use super::Side;
use super::support::{MapEntries, copy_schema_basics, map_put, parse, require_map, require_struct};

const PURPOSE: &str = "flattening";

/// Flattens nested structs (or maps, without a schema) into one level, joining field names with
/// `delimiter` (default `.`).
#[derive(Debug, Clone)]
pub struct Flatten {
    side: Side,
    delimiter: String,
}

impl Flatten {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            delimiter: ".".to_owned(),
        }
    }

    /// The configuration definition, Java's `Flatten.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("delimiter", ConfigType::String)
                .default_value(".")
                .importance(Importance::Medium)
                .documentation(
                    "Delimiter to insert between field names from the input record when \
                     generating field names for the output record",
                ),
        )
    }

    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn flatten_map(&self, map: &MapEntries, prefix: &str, out: &mut MapEntries) -> Result<()> {
        for (key, value) in map {
            let name = self.name(prefix, key.as_str().unwrap_or_default());
            let Some(value) = value else {
                map_put(out, &name, None);
                continue;
            };
            match value.inferred_type() {
                None => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation was passed a value of type {} which is not \
                         supported by Connect's data API",
                        value.java_class()
                    )));
                }
                Some(Type::Map) => {
                    self.flatten_map(require_map(Some(value), PURPOSE)?, &name, out)?
                }
                Some(Type::Struct) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support {} for record without schemas \
                         (for field {name}).",
                        value.java_class()
                    )));
                }
                Some(_) => map_put(out, &name, Some(value.clone())),
            }
        }
        Ok(())
    }

    fn flatten_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        mut builder: SchemaBuilder,
        optional: bool,
        parent_default: Option<&Struct>,
    ) -> Result<SchemaBuilder> {
        for field in schema.fields()? {
            let name = self.name(prefix, field.name());
            let field_optional = optional || field.schema().is_optional();
            let default = field
                .schema()
                .default_value()
                .or_else(|| parent_default.and_then(|d| d.get_field(field)));
            match field.schema().schema_type() {
                Type::Struct => {
                    let default = default.and_then(Value::as_struct);
                    builder = self.flatten_schema(
                        field.schema(),
                        &name,
                        builder,
                        field_optional,
                        default,
                    )?;
                }
                Type::Map => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support MAP for record with schemas (for \
                         field {name})."
                    )));
                }
                _ => {
                    let mut fb = copy_schema_basics(field.schema(), base_builder(field.schema())?);
                    if field_optional {
                        fb = fb.optional();
                    }
                    if let Some(default) = default {
                        fb = fb.default_value(default.clone());
                    }
                    builder = builder.field(name, fb.build()?);
                }
            }
        }
        Ok(builder)
    }

    fn flatten_struct(&self, s: &Struct, prefix: &str, out: &mut Struct) -> Result<()> {
        for field in s.schema().fields()? {
            let name = self.name(prefix, field.name());
            match field.schema().schema_type() {
                Type::Struct => {
                    if let Some(nested) = s.get_field(field) {
                        self.flatten_struct(require_struct(Some(nested), PURPOSE)?, &name, out)?;
                    }
                }
                Type::Map => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support MAP for record with schemas (for \
                         field {name})."
                    )));
                }
                _ => {
                    out.put(&name, s.get_field(field).cloned())?;
                }
            }
        }
        Ok(())
    }
}

/// Java's `SchemaUtil.copySchemaBasics(Schema)` starting point: arrays keep their element schema.
fn base_builder(schema: &Schema) -> Result<SchemaBuilder> {
    Ok(match schema.schema_type() {
        Type::Array => SchemaBuilder::array(schema.value_schema()?.clone()),
        other => SchemaBuilder::new(other),
    })
}

impl<R: ConnectRecord> Transformation<R> for Flatten {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.delimiter = config.get_string("delimiter").unwrap_or(".").to_owned();
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(value) = self.side.value(&record) else {
            return Ok(Some(record));
        };
        let Some(schema) = self.side.schema(&record) else {
            let mut out = Vec::new();
            self.flatten_map(require_map(Some(value), PURPOSE)?, "", &mut out)?;
            return Ok(Some(self.side.replace(
                &record,
                None,
                Some(Value::Map(out)),
            )));
        };
        let value = require_struct(Some(value), PURPOSE)?;
        let builder = copy_schema_basics(schema, SchemaBuilder::struct_());
        let default = schema.default_value().and_then(Value::as_struct);
        let updated_schema = self
            .flatten_schema(schema, "", builder, schema.is_optional(), default)?
            .build()?;
        let mut out = Struct::new(updated_schema.clone())?;
        self.flatten_struct(value, "", &mut out)?;
        Ok(Some(self.side.replace(
            &record,
            Some(updated_schema),
            Some(Value::Struct(out)),
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
