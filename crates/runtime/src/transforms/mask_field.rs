//! `org.apache.kafka.connect.transforms.MaskField$Key` / `$Value`.

use std::collections::HashSet;

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, NonEmptyString};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Decimal, Struct, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConnectError, Result};

use super::Side;
use super::support::{
    field_value, list, map_get, map_put, non_empty_list, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};

const PURPOSE: &str = "mask fields";

/// Replaces the values of the listed fields with the type's "empty" value (`0`, `false`, `""`,
/// empty list or map, epoch) or with a `replacement` converted to the field's type.
#[derive(Debug, Clone)]
pub struct MaskField {
    side: Side,
    fields: HashSet<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
}

impl MaskField {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            fields: HashSet::new(),
            replacement: None,
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `MaskField.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .validator(non_empty_list())
                    .importance(Importance::High)
                    .documentation("Names of fields to mask."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .default_null()
                    .validator(NonEmptyString)
                    .importance(Importance::Low)
                    .documentation(
                        "Custom value replacement, that will be applied to all 'fields' values \
                         (numeric or non-empty string values only).",
                    ),
            )
            .define(replace_null_with_default_key())
    }

    fn masked(&self, value: Option<&Value>) -> Result<Option<Value>> {
        let Some(value) = value else {
            return Ok(None);
        };
        match &self.replacement {
            None => mask_with_null_value(value).map(Some),
            Some(replacement) => mask_with_replacement(value, replacement).map(Some),
        }
    }
}

fn mask_with_null_value(value: &Value) -> Result<Value> {
    Ok(match value {
        Value::Boolean(_) => Value::Boolean(false),
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::Decimal(_) => Value::Decimal(Decimal::new(0, 0)),
        Value::Date(_) => Value::Date(0),
        Value::Time(_) => Value::Time(0),
        Value::Timestamp(_) => Value::Timestamp(0),
        Value::String(_) => Value::from(""),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type: {}",
                other.java_class()
            )));
        }
    })
}

fn mask_with_replacement(value: &Value, replacement: &str) -> Result<Value> {
    let invalid = || {
        ConnectError::data(format!(
            "Unable to convert {replacement} (class java.lang.String) to number"
        ))
    };
    let number = |r: &str| r.trim().parse::<f64>().ok();
    Ok(match value {
        Value::Int8(_) => Value::Int8(
            number(replacement)
                .filter(|n| n.fract() == 0.0)
                .ok_or_else(invalid)? as i8,
        ),
        Value::Int16(_) => Value::Int16(
            number(replacement)
                .filter(|n| n.fract() == 0.0)
                .ok_or_else(invalid)? as i16,
        ),
        Value::Int32(_) => Value::Int32(
            number(replacement)
                .filter(|n| n.fract() == 0.0)
                .ok_or_else(invalid)? as i32,
        ),
        Value::Int64(_) => Value::Int64(replacement.trim().parse().map_err(|_| invalid())?),
        Value::Float32(_) => Value::Float32(number(replacement).ok_or_else(invalid)? as f32),
        Value::Float64(_) => Value::Float64(number(replacement).ok_or_else(invalid)?),
        Value::String(_) => Value::from(replacement),
        Value::Decimal(_) => Value::Decimal(replacement.parse().map_err(|_| invalid())?),
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type {} with custom replacement.",
                other.java_class()
            )));
        }
    })
}

impl<R: ConnectRecord> Transformation<R> for MaskField {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.fields = list(&config, "fields").into_iter().collect();
        self.replacement = config.get_string("replacement").map(str::to_owned);
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let value = self.side.value(&record);
        if self.side.schema(&record).is_none() {
            let original = require_map(value, PURPOSE)?;
            let mut updated = original.clone();
            let mut fields: Vec<&String> = self.fields.iter().collect();
            fields.sort();
            for field in fields {
                map_put(&mut updated, field, self.masked(map_get(original, field))?);
            }
            return Ok(Some(self.side.replace(
                &record,
                None,
                Some(Value::Map(updated)),
            )));
        }
        let value = require_struct(value, PURPOSE)?;
        let mut updated = Struct::new(value.schema().clone())?;
        for field in value.schema().fields()? {
            let original = field_value(value, field.name(), self.replace_null_with_default)?;
            let v = if self.fields.contains(field.name()) {
                self.masked(original)?
            } else {
                original.cloned()
            };
            updated.put_field(field, v)?;
        }
        let schema = self.side.schema(&record).cloned();
        Ok(Some(self.side.replace(
            &record,
            schema,
            Some(Value::Struct(updated)),
        )))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}
