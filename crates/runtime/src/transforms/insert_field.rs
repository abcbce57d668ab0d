//! `org.apache.kafka.connect.transforms.InsertField$Key` / `$Value`.

use std::any::Any;

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Timestamp, Value};
use ferry_connect::record::{ConnectRecord, SinkRecord};
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, ConnectError, Result};

use super::Side;
use super::support::{
    copy_schema_basics, field_value, map_put, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};

const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).";

/// A field to insert: `name?` or `name` is optional, `name!` required.
#[derive(Debug, Clone, PartialEq, Eq)]
struct InsertionSpec {
    name: String,
    optional: bool,
}

impl InsertionSpec {
    fn parse(spec: Option<&str>) -> Option<Self> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('?') {
            Self {
                name: name.to_owned(),
                optional: true,
            }
        } else if let Some(name) = spec.strip_suffix('!') {
            Self {
                name: name.to_owned(),
                optional: false,
            }
        } else {
            Self {
                name: spec.to_owned(),
                optional: true,
            }
        })
    }

    fn schema(&self, optional: Schema, required: Schema) -> Schema {
        if self.optional { optional } else { required }
    }
}

/// Inserts the topic, partition, offset (sink records only), timestamp and/or a static string
/// into a struct or map.
///
/// Keys: `topic.field`, `partition.field`, `offset.field`, `timestamp.field`, `static.field`,
/// `static.value`, `replace.null.with.default` (true).
#[derive(Debug, Clone)]
pub struct InsertField {
    side: Side,
    topic: Option<InsertionSpec>,
    partition: Option<InsertionSpec>,
    offset: Option<InsertionSpec>,
    timestamp: Option<InsertionSpec>,
    static_field: Option<InsertionSpec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
}

impl InsertField {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            topic: None,
            partition: None,
            offset: None,
            timestamp: None,
            static_field: None,
            static_value: None,
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `InsertField.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        let field = |name: &str, doc: String| {
            ConfigKey::new(name, ConfigType::String)
                .default_null()
                .importance(Importance::Medium)
                .documentation(doc)
        };
        ConfigDef::new()
            .define(field("topic.field", format!("Field name for Kafka topic. {OPTIONALITY_DOC}")))
            .define(field("partition.field", format!("Field name for Kafka partition. {OPTIONALITY_DOC}")))
            .define(field(
                "offset.field",
                format!("Field name for Kafka offset - only applicable to sink connectors.<br/>{OPTIONALITY_DOC}"),
            ))
            .define(field("timestamp.field", format!("Field name for record timestamp. {OPTIONALITY_DOC}")))
            .define(field("static.field", format!("Field name for static data field. {OPTIONALITY_DOC}")))
            .define(field("static.value", "Static field value, if field name configured.".to_owned()))
            .define(replace_null_with_default_key())
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema> {
        let mut builder = copy_schema_basics(schema, SchemaBuilder::struct_());
        for field in schema.fields()? {
            builder = builder.field(field.name(), field.schema().clone());
        }
        let additions = [
            (&self.topic, Schema::optional_string(), Schema::string()),
            (&self.partition, Schema::optional_int32(), Schema::int32()),
            (&self.offset, Schema::optional_int64(), Schema::int64()),
            (
                &self.timestamp,
                Timestamp::builder().optional().build()?,
                Timestamp::schema(),
            ),
            (
                &self.static_field,
                Schema::optional_string(),
                Schema::string(),
            ),
        ];
        for (spec, optional, required) in additions {
            if let Some(spec) = spec {
                builder = builder.field(spec.name.clone(), spec.schema(optional, required));
            }
        }
        builder.build()
    }

    /// The values to insert, in Java's order; `None` entries are skipped like Java's null checks.
    fn insertions<R: ConnectRecord>(
        &self,
        record: &R,
        logical: bool,
    ) -> Result<Vec<(&str, Value)>> {
        let mut out = Vec::new();
        if let Some(spec) = &self.topic {
            out.push((spec.name.as_str(), Value::from(record.topic())));
        }
        if let (Some(spec), Some(partition)) = (&self.partition, record.kafka_partition()) {
            out.push((spec.name.as_str(), Value::Int32(partition)));
        }
        if let Some(spec) = &self.offset {
            let Some(sink) = (record as &dyn Any).downcast_ref::<SinkRecord>() else {
                return Err(ConnectError::data(format!(
                    "Only SinkRecord supported for [{PURPOSE}], found: \
                     org.apache.kafka.connect.source.SourceRecord"
                )));
            };
            out.push((spec.name.as_str(), Value::Int64(sink.kafka_offset)));
        }
        if let (Some(spec), Some(ts)) = (&self.timestamp, record.timestamp()) {
            let value = if logical {
                Value::Timestamp(ts)
            } else {
                Value::Int64(ts)
            };
            out.push((spec.name.as_str(), value));
        }
        if let (Some(spec), Some(value)) = (&self.static_field, &self.static_value) {
            out.push((spec.name.as_str(), Value::from(value.as_str())));
        }
        Ok(out)
    }
}

impl<R: ConnectRecord> Transformation<R> for InsertField {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        let spec = |key: &str| InsertionSpec::parse(config.get_string(key));
        self.topic = spec("topic.field");
        self.partition = spec("partition.field");
        self.offset = spec("offset.field");
        self.timestamp = spec("timestamp.field");
        self.static_field = spec("static.field");
        self.static_value = config.get_string("static.value").map(str::to_owned);
        self.replace_null_with_default = replace_null_with_default(&config);
        let specs = [
            &self.topic,
            &self.partition,
            &self.offset,
            &self.timestamp,
            &self.static_field,
        ];
        if specs.iter().all(|s| s.is_none()) {
            return Err(ConfigError::new("No field insertion configured").into());
        }
        if let (Some(field), None) = (&self.static_field, &self.static_value) {
            // Java prints the spec object; its name is what users recognise.
            return Err(ConfigError::invalid(
                "static.value",
                "null",
                Some(&format!(
                    "No value specified for static field: {}",
                    field.name
                )),
            )
            .into());
        }
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(value) = self.side.value(&record) else {
            return Ok(Some(record));
        };
        if self.side.schema(&record).is_none() {
            let mut updated = require_map(Some(value), PURPOSE)?.clone();
            for (name, v) in self.insertions(&record, false)? {
                map_put(&mut updated, name, Some(v));
            }
            return Ok(Some(self.side.replace(
                &record,
                None,
                Some(Value::Map(updated)),
            )));
        }
        let value = require_struct(Some(value), PURPOSE)?;
        let updated_schema = self.updated_schema(value.schema())?;
        let mut updated = Struct::new(updated_schema.clone())?;
        for field in value.schema().fields()? {
            let v = field_value(value, field.name(), self.replace_null_with_default)?;
            updated.put(field.name(), v.cloned())?;
        }
        for (name, v) in self.insertions(&record, true)? {
            updated.put(name, v)?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_default_to_optional() {
        let parse = |s| InsertionSpec::parse(Some(s)).unwrap();
        assert_eq!(
            parse("a"),
            InsertionSpec {
                name: "a".into(),
                optional: true
            }
        );
        assert_eq!(
            parse("a?"),
            InsertionSpec {
                name: "a".into(),
                optional: true
            }
        );
        assert_eq!(
            parse("a!"),
            InsertionSpec {
                name: "a".into(),
                optional: false
            }
        );
    }
}
