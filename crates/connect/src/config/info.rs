//! The JSON of Connect's `PUT /connector-plugins/{plugin}/config/validate` response, Java's
//! `ConfigInfos`, `ConfigInfo`, `ConfigKeyInfo` and `ConfigValueInfo`, and how a definition and
//! validation results become it (Java's `AbstractHerder.generateResult`).

use serde::{Deserialize, Serialize};

use super::def::{ConfigDef, ConfigKey, ConfigValue};

/// The validation response: `{"name", "error_count", "groups", "configs"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInfos {
    /// The connector class that was validated.
    pub name: String,
    /// The number of error messages over all keys.
    pub error_count: usize,
    /// The groups of the definition, in order.
    pub groups: Vec<String>,
    /// One entry per key.
    pub configs: Vec<ConfigInfo>,
}

/// One key of the response: its definition (absent for values of undefined keys) and its
/// validation result (absent when the key was not validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// The key's definition.
    pub definition: Option<ConfigKeyInfo>,
    /// The key's value and errors.
    pub value: Option<ConfigValueInfo>,
}

/// A key's definition as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKeyInfo {
    /// The key's name.
    pub name: String,
    /// Java's type name, e.g. `STRING`.
    #[serde(rename = "type")]
    pub config_type: String,
    /// Whether the key has no default.
    pub required: bool,
    /// The default as Java's `convertToString` prints it; null when required or null.
    pub default_value: Option<String>,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub importance: String,
    /// The documentation.
    pub documentation: Option<String>,
    /// The group.
    pub group: Option<String>,
    /// `NONE`, `SHORT`, `MEDIUM` or `LONG`.
    pub width: String,
    /// The display name.
    pub display_name: String,
    /// The dependents.
    pub dependents: Vec<String>,
    /// The order within the group.
    pub order: i32,
}

/// A key's validation result as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValueInfo {
    /// The key's name.
    pub name: String,
    /// The value as Java's `convertToString` prints it (`[hidden]` for passwords).
    pub value: Option<String>,
    /// Recommended values, printed the same way.
    pub recommended_values: Vec<String>,
    /// Error messages.
    pub errors: Vec<String>,
    /// Whether the key is relevant.
    pub visible: bool,
}

impl From<&ConfigKey> for ConfigKeyInfo {
    fn from(key: &ConfigKey) -> Self {
        Self {
            name: key.name().to_owned(),
            config_type: key.config_type().java_name().to_owned(),
            required: key.is_required(),
            default_value: key.default().map(ToString::to_string),
            importance: key.get_importance().java_name().to_owned(),
            documentation: key.get_documentation().map(str::to_owned),
            group: key.get_group().map(str::to_owned),
            width: key.get_width().java_name().to_owned(),
            display_name: key.get_display_name().to_owned(),
            dependents: key.get_dependents().to_vec(),
            order: key.order_in_group(),
        }
    }
}

impl From<&ConfigValue> for ConfigValueInfo {
    fn from(value: &ConfigValue) -> Self {
        Self {
            name: value.name.clone(),
            value: value.value.as_ref().map(ToString::to_string),
            recommended_values: value
                .recommended_values
                .iter()
                .map(ToString::to_string)
                .collect(),
            errors: value.errors.clone(),
            visible: value.visible,
        }
    }
}

impl ConfigInfos {
    /// Builds the response for connector class `name` from a definition and validation results,
    /// as Java's `generateResult` does: first the values of keys the definition lacks, then every
    /// defined key in definition order with its value if it was validated.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ferry_connect::config::{ConfigDef, ConfigInfos, ConfigKey, ConfigType};
    /// let def = ConfigDef::new().define(ConfigKey::new("topic", ConfigType::String).group("Common"));
    /// let values = def.validate(&HashMap::new());
    /// let infos = ConfigInfos::generate("FileStreamSource", &def, &values);
    /// assert_eq!(infos.error_count, 1);
    /// assert_eq!(infos.groups, ["Common"]);
    /// ```
    pub fn generate(name: &str, def: &ConfigDef, values: &[ConfigValue]) -> Self {
        let mut configs = Vec::with_capacity(values.len().max(def.keys().count()));
        let mut error_count = 0;
        for value in values.iter().filter(|v| def.key(&v.name).is_none()) {
            error_count += value.errors.len();
            configs.push(ConfigInfo {
                definition: None,
                value: Some(value.into()),
            });
        }
        for key in def.keys() {
            let value = values.iter().find(|v| v.name == key.name());
            if let Some(value) = value {
                error_count += value.errors.len();
            }
            configs.push(ConfigInfo {
                definition: Some(key.into()),
                value: value.map(Into::into),
            });
        }
        Self {
            name: name.to_owned(),
            error_count,
            groups: def.groups().to_vec(),
            configs,
        }
    }
}

impl ConfigDef {
    /// Validates `props` and builds the response JSON for connector class `name`.
    pub fn validate_to_infos(
        &self,
        name: &str,
        props: &std::collections::HashMap<String, String>,
    ) -> ConfigInfos {
        ConfigInfos::generate(name, self, &self.validate(props))
    }
}
