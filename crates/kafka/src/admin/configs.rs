//! Describing and changing topic and broker configs.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};

use super::{Admin, per_item, str_bytes};
use crate::connection::Connection;
use crate::error::{Error, Result, check};

/// Something that has configs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigResource {
    /// A topic, by name.
    Topic(String),
    /// A broker, by id as a string; `""` for the cluster-wide broker defaults.
    Broker(String),
}

impl ConfigResource {
    /// The protocol's resource type code (`ConfigResource.Type` in Java).
    pub fn type_code(&self) -> i8 {
        match self {
            ConfigResource::Topic(_) => 2,
            ConfigResource::Broker(_) => 4,
        }
    }

    /// The resource name as sent.
    pub fn name(&self) -> &str {
        match self {
            ConfigResource::Topic(name) | ConfigResource::Broker(name) => name,
        }
    }

    fn from_wire(type_code: i8, name: &str) -> Option<Self> {
        match type_code {
            2 => Some(ConfigResource::Topic(name.to_owned())),
            4 => Some(ConfigResource::Broker(name.to_owned())),
            _ => None,
        }
    }
}

/// Where a config value comes from (`ConfigEntry.ConfigSource` in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic.
    DynamicTopic,
    /// Set dynamically for this broker.
    DynamicBroker,
    /// Set dynamically as the default of all brokers.
    DynamicDefaultBroker,
    /// From the broker's properties file.
    StaticBroker,
    /// The built-in default.
    Default,
    /// Set dynamically on a broker logger.
    DynamicBrokerLogger,
    /// Any other source code.
    Unknown(i8),
}

impl From<i8> for ConfigSource {
    fn from(code: i8) -> Self {
        match code {
            1 => ConfigSource::DynamicTopic,
            2 => ConfigSource::DynamicBroker,
            3 => ConfigSource::DynamicDefaultBroker,
            4 => ConfigSource::StaticBroker,
            5 => ConfigSource::Default,
            6 => ConfigSource::DynamicBrokerLogger,
            other => ConfigSource::Unknown(other),
        }
    }
}

/// One config of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Config name.
    pub name: String,
    /// Value; `None` for sensitive or unset values.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// Whether the value is sensitive (passwords).
    pub is_sensitive: bool,
    /// Whether it cannot be changed.
    pub read_only: bool,
}

/// The kind of change of an [`AlterConfigOp`] (`AlterConfigOp.OpType` in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpType {
    /// Sets the value.
    Set = 0,
    /// Reverts to the default.
    Delete = 1,
    /// Adds to a list value.
    Append = 2,
    /// Removes from a list value.
    Subtract = 3,
}

/// One change of an incremental config update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigOp {
    /// Config name.
    pub name: String,
    /// What to do.
    pub op: OpType,
    /// The value, for everything but [`OpType::Delete`].
    pub value: Option<String>,
}

impl AlterConfigOp {
    /// Sets `name` to `value`.
    pub fn set(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            op: OpType::Set,
            value: Some(value.to_owned()),
        }
    }

    /// Reverts `name` to its default.
    pub fn delete(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            op: OpType::Delete,
            value: None,
        }
    }
}

impl Admin {
    /// All configs of each resource (DescribeConfigs). Broker resources are asked of that
    /// broker, as Java does.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<BTreeMap<ConfigResource, Result<Vec<ConfigEntry>>>> {
        per_item(
            &self.cluster,
            "DescribeConfigs",
            resources.to_vec(),
            |resources| async move {
                let mut outcome = Vec::new();
                for (connection, resources) in self.route(resources).await? {
                    let request = DescribeConfigsRequest::default().with_resources(
                        resources
                            .iter()
                            .map(|r| {
                                DescribeConfigsResource::default()
                                    .with_resource_type(r.type_code())
                                    .with_resource_name(str_bytes(r.name()))
                                    .with_configuration_keys(None)
                            })
                            .collect(),
                    );
                    let response = connection.send(&request).await?;
                    for r in &response.results {
                        let Some(resource) =
                            ConfigResource::from_wire(r.resource_type, &r.resource_name)
                        else {
                            continue;
                        };
                        let result = check(r.error_code, r.error_message.as_deref()).map(|()| {
                            r.configs
                                .iter()
                                .map(|c| ConfigEntry {
                                    name: c.name.to_string(),
                                    value: c.value.as_ref().map(ToString::to_string),
                                    source: c.config_source.into(),
                                    is_sensitive: c.is_sensitive,
                                    read_only: c.read_only,
                                })
                                .collect()
                        });
                        outcome.push((resource, result));
                    }
                }
                Ok(outcome)
            },
        )
        .await
    }

    /// Applies config changes per resource (IncrementalAlterConfigs).
    pub async fn incremental_alter_configs(
        &self,
        changes: &BTreeMap<ConfigResource, Vec<AlterConfigOp>>,
    ) -> Result<BTreeMap<ConfigResource, Result<()>>> {
        let resources = changes.keys().cloned().collect();
        per_item(
            &self.cluster,
            "IncrementalAlterConfigs",
            resources,
            |resources| async move {
                let mut outcome = Vec::new();
                for (connection, resources) in self.route(resources).await? {
                    let request = IncrementalAlterConfigsRequest::default().with_resources(
                        resources
                            .iter()
                            .map(|r| {
                                AlterConfigsResource::default()
                                    .with_resource_type(r.type_code())
                                    .with_resource_name(str_bytes(r.name()))
                                    .with_configs(changes[r].iter().map(alterable).collect())
                            })
                            .collect(),
                    );
                    let response = connection.send(&request).await?;
                    for r in &response.responses {
                        if let Some(resource) =
                            ConfigResource::from_wire(r.resource_type, &r.resource_name)
                        {
                            outcome
                                .push((resource, check(r.error_code, r.error_message.as_deref())));
                        }
                    }
                }
                Ok(outcome)
            },
        )
        .await
    }

    /// Splits resources by the broker to ask: a broker resource goes to that broker, the rest
    /// (topics, cluster-wide broker defaults) to any broker.
    async fn route(
        &self,
        resources: Vec<ConfigResource>,
    ) -> Result<Vec<(Connection, Vec<ConfigResource>)>> {
        let mut by_broker: BTreeMap<Option<i32>, Vec<ConfigResource>> = BTreeMap::new();
        for resource in resources {
            let broker = match &resource {
                ConfigResource::Broker(id) if !id.is_empty() => Some(id.parse().map_err(|_| {
                    Error::InvalidRequest(format!("broker id {id:?} is not a number"))
                })?),
                _ => None,
            };
            by_broker.entry(broker).or_default().push(resource);
        }
        let mut routed = Vec::new();
        for (broker, resources) in by_broker {
            let connection = match broker {
                Some(id) => self.cluster.connection(id).await?,
                None => self.cluster.any_connection().await?,
            };
            routed.push((connection, resources));
        }
        Ok(routed)
    }
}

fn alterable(op: &AlterConfigOp) -> AlterableConfig {
    AlterableConfig::default()
        .with_name(str_bytes(&op.name))
        .with_config_operation(op.op as i8)
        .with_value(op.value.as_deref().map(str_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_codes_are_javas() {
        assert_eq!(ConfigResource::Topic("t".into()).type_code(), 2);
        assert_eq!(ConfigResource::Broker("1".into()).type_code(), 4);
        assert_eq!(ConfigSource::from(1), ConfigSource::DynamicTopic);
        assert_eq!(ConfigSource::from(9), ConfigSource::Unknown(9));
        let op = alterable(&AlterConfigOp::delete("retention.ms"));
        assert_eq!((op.config_operation, op.value), (1, None));
    }
}
