//! The key, value and header converters of one task, configured as Java's `Plugins` does: the
//! connector's `key.converter` (with its `key.converter.*` settings) when it sets one, else the
//! worker's.

use std::collections::HashMap;

use ferry_connect::ConnectError;
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter};
use ferry_connect::plugin::PluginRegistry;

use super::config::{WorkerConfig, with_prefix};
use super::connector_config::ConnectorConfig;
use crate::converters::CONVERTER_TYPE_CONFIG;

/// A task's converters and their class names (for error reports).
#[derive(Debug)]
pub(crate) struct TaskConverters {
    pub key: Box<dyn Converter>,
    pub value: Box<dyn Converter>,
    pub header: Box<dyn HeaderConverter>,
    pub key_class: String,
    pub value_class: String,
    pub header_class: String,
}

/// Which class and which settings: the connector's if it names a class, else the worker's.
fn pick(
    key: &str,
    connector_class: Option<&str>,
    worker_class: &str,
    connector: &HashMap<String, String>,
    worker: &WorkerConfig,
    kind: &str,
) -> (String, ConfigMap) {
    let prefix = format!("{key}.");
    let (class, mut settings) = match connector_class {
        Some(class) => (class.to_owned(), with_prefix(connector, &prefix)),
        None => (worker_class.to_owned(), worker.with_prefix(&prefix)),
    };
    settings.insert(CONVERTER_TYPE_CONFIG.to_owned(), kind.to_owned());
    (class, settings)
}

impl TaskConverters {
    /// Instantiates and configures the converters of a task of `connector`.
    pub fn build(
        plugins: &PluginRegistry,
        worker: &WorkerConfig,
        connector: &ConnectorConfig,
    ) -> Result<Self, ConnectError> {
        let missing = |key: &str, class: &str| {
            ConnectError::Config(ferry_connect::ConfigError::invalid(
                key,
                class,
                Some(&format!("Class {class} could not be found.")),
            ))
        };
        let props = &connector.props;
        let (key_class, key_settings) = pick(
            "key.converter",
            connector.key_converter.as_deref(),
            &worker.key_converter,
            props,
            worker,
            "key",
        );
        let (value_class, value_settings) = pick(
            "value.converter",
            connector.value_converter.as_deref(),
            &worker.value_converter,
            props,
            worker,
            "value",
        );
        let (header_class, header_settings) = pick(
            "header.converter",
            connector.header_converter.as_deref(),
            &worker.header_converter,
            props,
            worker,
            "header",
        );
        let mut key = plugins
            .converter(&key_class)
            .ok_or_else(|| missing("key.converter", &key_class))?;
        key.configure(&key_settings, true)?;
        let mut value = plugins
            .converter(&value_class)
            .ok_or_else(|| missing("value.converter", &value_class))?;
        value.configure(&value_settings, false)?;
        let mut header = plugins
            .header_converter(&header_class)
            .ok_or_else(|| missing("header.converter", &header_class))?;
        header.configure(&header_settings)?;
        // Error reports name the class as Java does: fully qualified, even when an alias was used.
        let qualified =
            |class: String| plugins.resolve(&class).map_or(class.clone(), str::to_owned);
        Ok(Self {
            key,
            value,
            header,
            key_class: qualified(key_class),
            value_class: qualified(value_class),
            header_class: qualified(header_class),
        })
    }
}
