//! `org.apache.kafka.connect.transforms.ReplaceField$Key` / `$Value`.

use std::collections::{HashMap, HashSet};

use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, TypedValue,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Value};
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, Result};

use super::Side;
use super::support::{
    copy_schema_basics, field_value, list, map_put, parse, replace_null_with_default,
    replace_null_with_default_key, require_map, require_struct,
};

const PURPOSE: &str = "field replacement";

/// `exclude`: fields to drop (wins over `include`); `blacklist` is its pre-3.0 name.
const EXCLUDE_CONFIG: &str = "exclude";
/// `include`: when set, only these fields are kept; `whitelist` is its pre-3.0 name.
const INCLUDE_CONFIG: &str = "include";
/// `renames`: `old:new` pairs.
const RENAMES_CONFIG: &str = "renames";

/// Drops, keeps or renames fields of a struct or map.
#[derive(Debug, Clone)]
pub struct ReplaceField {
    side: Side,
    exclude: HashSet<String>,
    include: HashSet<String>,
    renames: HashMap<String, String>,
    reverse_renames: HashMap<String, String>,
    replace_null_with_default: bool,
}

fn parse_renames(mappings: &[String]) -> Result<HashMap<String, String>, ConfigError> {
    let mut renames = HashMap::new();
    for mapping in mappings {
        // Java's String.split drops trailing empty parts, so `a:` has one part.
        let mut parts: Vec<&str> = mapping.split(':').collect();
        parts.truncate(
            parts
                .iter()
                .rposition(|p| !p.is_empty())
                .map_or(0, |i| i + 1),
        );
        if parts.len() != 2 {
            return Err(ConfigError::invalid(
                RENAMES_CONFIG,
                format!("[{}]", mappings.join(", ")),
                Some(&format!("Invalid rename mapping: {mapping}")),
            ));
        }
        renames.insert(parts[0].to_owned(), parts[1].to_owned());
    }
    Ok(renames)
}

impl ReplaceField {
    /// An unconfigured transformation of `side`.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            exclude: HashSet::new(),
            include: HashSet::new(),
            renames: HashMap::new(),
            reverse_renames: HashMap::new(),
            replace_null_with_default: true,
        }
    }

    /// The configuration definition, Java's `ReplaceField.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        let list_key = |name: &str, doc: &str| {
            ConfigKey::new(name, ConfigType::List)
                .default_value("")
                .importance(Importance::Medium)
                .documentation(doc)
        };
        let renames_validator = LambdaValidator::new(
            "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>",
            |_: &str, value: Option<&TypedValue>| match value {
                Some(TypedValue::List(items)) => parse_renames(items).map(|_| ()),
                _ => Ok(()),
            },
        );
        ConfigDef::new()
            .define(list_key(
                EXCLUDE_CONFIG,
                "Fields to exclude. This takes precedence over the fields to include.",
            ))
            .define(list_key(
                INCLUDE_CONFIG,
                "Fields to include. If specified, only these fields will be used.",
            ))
            .define(list_key(RENAMES_CONFIG, "Field rename mappings.").validator(renames_validator))
            .define(replace_null_with_default_key())
    }

    fn keeps(&self, name: &str) -> bool {
        !self.exclude.contains(name) && (self.include.is_empty() || self.include.contains(name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema> {
        let mut builder = copy_schema_basics(schema, SchemaBuilder::struct_());
        for field in schema.fields()? {
            if self.keeps(field.name()) {
                builder = builder.field(self.renamed(field.name()), field.schema().clone());
            }
        }
        builder.build()
    }
}

/// Java 2.x names, translated as `ConfigUtils.translateDeprecatedConfigs` did.
fn translate_deprecated(configs: &ConfigMap) -> ConfigMap {
    let mut configs = configs.clone();
    for (old, new) in [("blacklist", EXCLUDE_CONFIG), ("whitelist", INCLUDE_CONFIG)] {
        if let Some(value) = configs.remove(old) {
            configs.entry(new.to_owned()).or_insert(value);
        }
    }
    configs
}

impl<R: ConnectRecord> Transformation<R> for ReplaceField {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), &translate_deprecated(configs))?;
        self.exclude = list(&config, EXCLUDE_CONFIG).into_iter().collect();
        self.include = list(&config, INCLUDE_CONFIG).into_iter().collect();
        self.renames = parse_renames(&list(&config, RENAMES_CONFIG))?;
        self.reverse_renames = self
            .renames
            .iter()
            .map(|(k, v)| (v.clone(), k.clone()))
            .collect();
        self.replace_null_with_default = replace_null_with_default(&config);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(value) = self.side.value(&record) else {
            return Ok(Some(record));
        };
        if self.side.schema(&record).is_none() {
            let mut updated = Vec::new();
            for (key, v) in require_map(Some(value), PURPOSE)? {
                let name = key.as_str().unwrap_or_default();
                if self.keeps(name) {
                    map_put(&mut updated, self.renamed(name), v.clone());
                }
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
        for field in updated_schema.fields()? {
            let original = self
                .reverse_renames
                .get(field.name())
                .map_or(field.name(), String::as_str);
            let v = field_value(value, original, self.replace_null_with_default)?;
            updated.put_field(field, v.cloned())?;
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
    fn rename_mappings_need_exactly_two_parts() {
        let ok = parse_renames(&["a:b".into(), "c:d".into()]).unwrap();
        assert_eq!(ok.get("a").map(String::as_str), Some("b"));
        let err = parse_renames(&["a:b".into(), "x".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value [a:b, x] for configuration renames: Invalid rename mapping: x"
        );
        assert!(parse_renames(&["a:b:c".into()]).is_err());
        assert!(parse_renames(&["a:".into()]).is_err());
        assert!(parse_renames(&["a:b:".into()]).is_ok());
    }

    #[test]
    fn old_names_are_translated() {
        let configs = ConfigMap::from([("blacklist".to_owned(), "a".to_owned())]);
        assert_eq!(
            translate_deprecated(&configs)
                .get("exclude")
                .map(String::as_str),
            Some("a")
        );
    }
}
