//! Connector-config validation as both herders answer it: the `validate` endpoint's report, the
//! 400 a create or update gets when that report has errors, and a plugin's config keys.

use ferry_connect::config::{ConfigDef, ConfigInfos, ConfigKeyInfo, ConfigValue};
use ferry_connect::plugin::ConnectorPlugin;

use super::requests::hash;
use super::{ConfigMap, ConnectorType, HerderError, HerderResult};
use crate::worker::{CONNECTOR_CLASS_CONFIG, Worker, add_sink_topic_errors, connector_config_def};

/// Validates a connector config as `PUT /connector-plugins/{plugin}/config/validate` does: the
/// connector's own keys, the framework's, the sink topic rules and the client override policy.
/// Config provider references (`${file:...}`) must already be resolved; see [`validate_resolved`].
///
/// # Errors
/// [`HerderError::BadRequest`] when the config names no connector class or an unknown one.
pub fn validate_config(worker: &Worker, config: &ConfigMap) -> HerderResult<ConfigInfos> {
    let class = config.get(CONNECTOR_CLASS_CONFIG).ok_or_else(|| {
        HerderError::BadRequest(
            "Connector config {} contains no connector type".replace("{}", &format!("{config:?}")),
        )
    })?;
    let props = hash(config);
    let (def, kind) = match worker.plugins().connector(class) {
        Some(ConnectorPlugin::Source(c)) => (
            connector_config_def(ConnectorType::Source).merge(&c.config()),
            ConnectorType::Source,
        ),
        Some(ConnectorPlugin::Sink(c)) => (
            connector_config_def(ConnectorType::Sink).merge(&c.config()),
            ConnectorType::Sink,
        ),
        None => {
            return Err(HerderError::BadRequest(format!(
                "Failed to find any class that implements Connector and which name matches {class}"
            )));
        }
    };
    let mut values = def.validate(&props);
    add_sink_topic_errors(&mut values, &props, kind);
    if let Err(error) = worker.config().check_overrides(&props) {
        let key = error.key().unwrap_or_default().to_owned();
        let mut value = ConfigValue::new(key);
        value.add_error(error.message());
        values.push(value);
    }
    let resolved = worker.plugins().resolve(class).unwrap_or(class).to_owned();
    Ok(ConfigInfos::generate(&resolved, &def, &values))
}

/// Resolves the config's provider references with the worker's config providers, then
/// validates the result with [`validate_config`].
///
/// # Errors
/// [`HerderError::BadRequest`] when a reference cannot be resolved, or as [`validate_config`].
pub fn validate_resolved(worker: &Worker, config: &ConfigMap) -> HerderResult<ConfigInfos> {
    let resolved = worker
        .config()
        .transform(&hash(config))
        .map_err(|e| HerderError::BadRequest(e.to_string()))?;
    validate_config(worker, &resolved.into_iter().collect())
}

/// The 400 that creating or updating a connector with an invalid config answers, listing every
/// error as Java words it; `None` when the report has no errors.
///
/// ```
/// use std::collections::HashMap;
///
/// use ferry_connect::config::{ConfigDef, ConfigInfos, ConfigKey, ConfigType};
/// use ferry_runtime::herder::validation::validation_error;
///
/// let def = ConfigDef::new().define(ConfigKey::new("topic", ConfigType::String));
/// let valid = HashMap::from([("topic".to_owned(), "t".to_owned())]);
/// assert!(validation_error(&ConfigInfos::generate("C", &def, &def.validate(&valid))).is_none());
/// ```
pub fn validation_error(infos: &ConfigInfos) -> Option<HerderError> {
    if infos.error_count == 0 {
        return None;
    }
    let mut message = format!(
        "Connector configuration is invalid and contains the following {} error(s):",
        infos.error_count
    );
    for value in infos.configs.iter().filter_map(|info| info.value.as_ref()) {
        for error in &value.errors {
            message.push('\n');
            message.push_str(error);
        }
    }
    message.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    Some(HerderError::BadRequest(message))
}

/// Resolves and validates a config about to be stored, failing with [`validation_error`]'s 400
/// when it has errors.
///
/// # Errors
/// As [`validate_resolved`], or the 400 listing the config's errors.
pub fn require_valid(worker: &Worker, config: &ConfigMap) -> HerderResult<()> {
    match validation_error(&validate_resolved(worker, config)?) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `GET /connector-plugins/{plugin}/config`: the plugin's own keys first, then the framework's
/// source or sink connector keys it does not redefine.
///
/// # Errors
/// [`HerderError::NotFound`] for a plugin the worker does not have.
pub fn connector_plugin_config(worker: &Worker, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
    let (own, kind): (ConfigDef, ConnectorType) = match worker.plugins().connector(plugin) {
        Some(ConnectorPlugin::Source(c)) => (c.config(), ConnectorType::Source),
        Some(ConnectorPlugin::Sink(c)) => (c.config(), ConnectorType::Sink),
        None => return Err(HerderError::NotFound(format!("Unknown plugin {plugin}."))),
    };
    let mut keys: Vec<ConfigKeyInfo> = own.keys().map(ConfigKeyInfo::from).collect();
    let framework = connector_config_def(kind);
    keys.extend(
        framework
            .keys()
            .filter(|k| own.key(k.name()).is_none())
            .map(ConfigKeyInfo::from),
    );
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ferry_connect::config::{ConfigKey, ConfigType};

    use super::*;

    #[test]
    fn invalid_configs_list_every_error_as_java_does() {
        let def = ConfigDef::new()
            .define(ConfigKey::new("topic", ConfigType::String))
            .define(ConfigKey::new("batch", ConfigType::Int).default_value("1"));
        let props = HashMap::from([("batch".to_owned(), "many".to_owned())]);
        let infos = ConfigInfos::generate("C", &def, &def.validate(&props));
        let Some(HerderError::BadRequest(message)) = validation_error(&infos) else {
            panic!("not a bad request");
        };
        assert_eq!(
            message,
            "Connector configuration is invalid and contains the following 2 error(s):\n\
             Missing required configuration \"topic\" which has no default value.\n\
             Invalid value many for configuration batch: Not a number of type INT\n\
             You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
        );
        let valid = HashMap::from([("topic".to_owned(), "t".to_owned())]);
        let infos = ConfigInfos::generate("C", &def, &def.validate(&valid));
        assert!(validation_error(&infos).is_none());
    }
}
