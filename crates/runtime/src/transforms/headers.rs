//! Header transformations: `InsertHeader`, `DropHeaders` and `HeaderFrom$Key` / `$Value`.

use std::collections::HashSet;

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, ValidString};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{SchemaAndValue, SchemaBuilder, Struct, Value, parse_string};
use ferry_connect::header::Headers;
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, Result};

use super::Side;
use super::support::{
    copy_schema_basics, field_value, list, map_get, map_remove, non_empty_list, parse,
    replace_null_with_default, replace_null_with_default_key, require_map, require_struct,
};

/// Adds a header `header` whose value is `value.literal`, typed by Connect's `Values` parsing
/// (`42` is an `INT8`, `true` a `BOOLEAN`, other text a `STRING`).
#[derive(Debug, Clone, Default)]
pub struct InsertHeader {
    header: String,
    value: SchemaAndValue,
}

impl InsertHeader {
    /// The configuration definition, Java's `InsertHeader.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("header", ConfigType::String)
                    .importance(Importance::High)
                    .documentation("The name of the header."),
            )
            .define(
                ConfigKey::new("value.literal", ConfigType::String)
                    .importance(Importance::High)
                    .documentation(
                        "The literal value that is to be set as the header value on all records.",
                    ),
            )
    }
}

impl<R: ConnectRecord> Transformation<R> for InsertHeader {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.header = config.get_string("header").unwrap_or_default().to_owned();
        self.value = parse_string(config.get_string("value.literal").unwrap_or_default());
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let mut headers = record.headers().clone();
        headers.add(self.header.clone(), self.value.clone())?;
        Ok(Some(record.with_headers(headers)))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

/// Removes every header named in `headers`.
#[derive(Debug, Clone, Default)]
pub struct DropHeaders {
    headers: HashSet<String>,
}

impl DropHeaders {
    /// The configuration definition, Java's `DropHeaders.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("headers", ConfigType::List)
                .validator(non_empty_list())
                .importance(Importance::High)
                .documentation("The name of the headers to be removed."),
        )
    }
}

impl<R: ConnectRecord> Transformation<R> for DropHeaders {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.headers = list(&config, "headers").into_iter().collect();
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let headers: Headers = record
            .headers()
            .iter()
            .filter(|h| !self.headers.contains(h.key()))
            .cloned()
            .collect();
        Ok(Some(record.with_headers(headers)))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

/// Whether [`HeaderFrom`] removes the fields it copies into headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Move,
    Copy,
}

/// Copies (`operation=copy`) or moves (`operation=move`) the fields in `fields` into the headers
/// named at the same position in `headers`.
#[derive(Debug, Clone)]
pub struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    operation: Operation,
    replace_null_with_default: bool,
}

impl HeaderFrom {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            fields: Vec::new(),
            headers: Vec::new(),
            operation: Operation::Copy,
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `HeaderFrom.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .validator(non_empty_list())
                    .importance(Importance::High)
                    .documentation("Field names in the record whose values are to be copied or moved to headers."),
            )
            .define(
                ConfigKey::new("headers", ConfigType::List)
                    .validator(non_empty_list())
                    .importance(Importance::High)
                    .documentation(
                        "Header names, in the same order as the field names listed in the fields \
                         configuration property.",
                    ),
            )
            .define(
                ConfigKey::new("operation", ConfigType::String)
                    .validator(ValidString::of(["move", "copy"]))
                    .importance(Importance::High)
                    .documentation(
                        "Either <code>move</code> if the fields are to be moved to the headers \
                         (removed from the key/value), or <code>copy</code> if the fields are to be \
                         copied to the headers (retained in the key/value).",
                    ),
            )
            .define(replace_null_with_default_key())
    }

    fn purpose(&self) -> &'static str {
        match self.operation {
            Operation::Move => "header move",
            Operation::Copy => "header copy",
        }
    }
}

impl<R: ConnectRecord> Transformation<R> for HeaderFrom {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.fields = list(&config, "fields");
        self.headers = list(&config, "headers");
        if self.fields.len() != self.headers.len() {
            return Err(ConfigError::new(
                "'fields' config must have the same number of elements as 'headers' config.",
            )
            .into());
        }
        self.operation = if config.get_string("operation") == Some("move") {
            Operation::Move
        } else {
            Operation::Copy
        };
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let mut headers = record.headers().clone();
        let value = self.side.value(&record);
        let Some(schema) = self.side.schema(&record) else {
            let original = require_map(value, self.purpose())?;
            let mut updated = original.clone();
            for (field, header) in self.fields.iter().zip(&self.headers) {
                if self.operation == Operation::Move {
                    map_remove(&mut updated, field);
                }
                headers.add(
                    header.clone(),
                    SchemaAndValue::new(None, map_get(original, field).cloned()),
                )?;
            }
            let record = self.side.replace(&record, None, Some(Value::Map(updated)));
            return Ok(Some(record.with_headers(headers)));
        };
        let original = require_struct(value, self.purpose())?;
        let (updated_schema, updated) = match self.operation {
            Operation::Copy => (schema.clone(), original.clone()),
            Operation::Move => {
                let mut builder = copy_schema_basics(schema, SchemaBuilder::struct_());
                for field in schema.fields()? {
                    if !self.fields.contains(&field.name().to_owned()) {
                        builder = builder.field(field.name(), field.schema().clone());
                    }
                }
                let moved_schema = builder.build()?;
                let mut moved = Struct::new(moved_schema.clone())?;
                for field in moved_schema.fields()? {
                    let v = field_value(original, field.name(), self.replace_null_with_default)?;
                    moved.put_field(field, v.cloned())?;
                }
                (moved_schema, moved)
            }
        };
        for (field, header) in self.fields.iter().zip(&self.headers) {
            let v = match original.schema().field(field) {
                Some(_) => field_value(original, field, self.replace_null_with_default)?.cloned(),
                None => None,
            };
            let field_schema = schema.field(field).map(|f| f.schema().clone());
            headers.add(header.clone(), SchemaAndValue::new(field_schema, v))?;
        }
        let record = self
            .side
            .replace(&record, Some(updated_schema), Some(Value::Struct(updated)));
        Ok(Some(record.with_headers(headers)))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
