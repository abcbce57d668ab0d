//! `org.apache.kafka.connect.transforms.HoistField$Key` / `$Value`.

use ferry_connect::Result;
use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{SchemaBuilder, Struct, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;

use super::Side;
use super::support::parse;

/// Wraps the key or value in a struct (or map, without a schema) with one field, `field`.
#[derive(Debug, Clone)]
pub struct HoistField {
    side: Side,
    field: String,
}

impl HoistField {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            field: String::new(),
        }
    }

    /// The configuration definition, Java's `HoistField.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("field", ConfigType::String).importance(Importance::Medium).documentation(
                "Field name for the single field that will be created in the resulting Struct or Map.",
            ),
        )
    }
}

impl<R: ConnectRecord> Transformation<R> for HoistField {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.field = config.get_string("field").unwrap_or_default().to_owned();
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let value = self.side.value(&record).cloned();
        let Some(schema) = self.side.schema(&record) else {
            let map = Value::Map(vec![(Value::from(self.field.as_str()), value)]);
            return Ok(Some(self.side.replace(&record, None, Some(map))));
        };
        let updated_schema = SchemaBuilder::struct_()
            .field(self.field.clone(), schema.clone())
            .build()?;
        let mut updated = Struct::new(updated_schema.clone())?;
        updated.put(&self.field, value)?;
        Ok(Some(self.side.replace(
            &record,
            Some(updated_schema),
            Some(Value::Struct(updated)),
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
