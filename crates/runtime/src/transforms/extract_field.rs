//! `org.apache.kafka.connect.transforms.ExtractField$Key` / `$Value`.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::ConfigMap;
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConnectError, Result};

use super::Side;
use super::field_path::{FIELD_SYNTAX_VERSION_CONFIG, FieldPath, append_syntax_version};
use super::support::{
    parse, replace_null_with_default, replace_null_with_default_key, require_map, require_struct,
};

const PURPOSE: &str = "field extraction";

/// Replaces the key or value with one of its fields (`field`, with `field.syntax.version` for
/// nested paths).
#[derive(Debug, Clone)]
pub struct ExtractField {
    side: Side,
    original_path: String,
    path: FieldPath,
    replace_null_with_default: bool,
}

impl ExtractField {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            original_path: String::new(),
            path: FieldPath::top_level(""),
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `ExtractField.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        append_syntax_version(
            ConfigDef::new()
                .define(
                    ConfigKey::new("field", ConfigType::String)
                        .importance(Importance::Medium)
                        .documentation("Field name to extract."),
                )
                .define(replace_null_with_default_key()),
        )
    }
}

impl<R: ConnectRecord> Transformation<R> for ExtractField {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.original_path = config.get_string("field").unwrap_or_default().to_owned();
        let version = config
            .get_string(FIELD_SYNTAX_VERSION_CONFIG)
            .unwrap_or("V1");
        self.path = FieldPath::new(&self.original_path, version)?;
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let value = self.side.value(&record);
        let Some(schema) = self.side.schema(&record) else {
            let extracted = match value {
                None => None,
                some => self
                    .path
                    .value_from_map(require_map(some, PURPOSE)?)?
                    .cloned(),
            };
            return Ok(Some(self.side.replace(&record, None, extracted)));
        };
        let value = match value {
            None => None,
            some => Some(require_struct(some, PURPOSE)?),
        };
        let field = self
            .path
            .field_from(schema)
            .ok_or_else(|| ConnectError::other(format!("Unknown field: {}", self.original_path)))?;
        let extracted = match value {
            None => None,
            Some(s) => self
                .path
                .value_from_struct(s, self.replace_null_with_default)?
                .cloned(),
        };
        let field_schema = field.schema().clone();
        Ok(Some(self.side.replace(
            &record,
            Some(field_schema),
            extracted,
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
