//! The settings of the three MirrorMaker 2 connectors, with Java's names, defaults and meaning
//! (`MirrorConnectorConfig`, `MirrorSourceConfig`, `MirrorCheckpointConfig`,
//! `MirrorHeartbeatConfig` and their task configs), as `ConfigDef`s so that `config/validate`
//! reports them as Java does, plus [`MirrorConfig`], a parsed connector or task configuration.
//!
//! The generic connector keys (`name`, `connector.class`, `tasks.max`, converters, …) are the
//! worker's; these definitions hold only what MirrorMaker 2 adds.
//!
//! ```
//! use std::collections::HashMap;
//! use ferry_mirror::config::{MirrorConfig, source_config_def};
//!
//! let props = HashMap::from([
//!     ("source.cluster.alias".to_owned(), "A".to_owned()),
//!     ("target.cluster.alias".to_owned(), "B".to_owned()),
//! ]);
//! let config = MirrorConfig::parse(&source_config_def(), &props)?;
//! assert_eq!(config.offset_syncs_topic(), "mm2-offset-syncs.B.internal");
//! assert_eq!(config.checkpoints_topic(), "A.checkpoints.internal");
//! assert_eq!(config.get_int("replication.factor"), 2);
//! # Ok::<(), ferry_connect::ConnectError>(())
//! ```

mod clients;
mod defs;

use std::sync::Arc;
use std::time::Duration;

use ferry_connect::config::{ConfigDef, ParsedConfig};
use ferry_connect::connector::ConfigMap;
use ferry_connect::{ConfigError, ConnectError};

use crate::filter::{DefaultConfigPropertyFilter, DefaultGroupFilter, DefaultTopicFilter};
use crate::policy::{ReplicationPolicy, replication_policy_from_config};

pub(crate) use clients::kafka_error;
pub use clients::{ClientKind, Side, client_config};
pub use defs::*;

/// A parsed MirrorMaker 2 connector or task configuration: typed values, the original strings
/// (which the client prefixes and the task configs are taken from) and the replication policy.
#[derive(Debug, Clone)]
pub struct MirrorConfig {
    props: ConfigMap,
    parsed: ParsedConfig,
    policy: Arc<dyn ReplicationPolicy>,
}

impl MirrorConfig {
    /// Parses `props` against `def` (one of the `*_config_def` functions) and builds the
    /// replication policy. Errors carry Java's `ConfigException` messages.
    pub fn parse(def: &ConfigDef, props: &ConfigMap) -> Result<Self, ConnectError> {
        let parsed = def.parse(props)?;
        for class_key in [
            TOPIC_FILTER_CLASS,
            GROUP_FILTER_CLASS,
            CONFIG_PROPERTY_FILTER_CLASS,
        ] {
            check_builtin_class(&parsed, class_key)?;
        }
        check_builtin_class(&parsed, FORWARDING_ADMIN_CLASS)?;
        let policy = replication_policy_from_config(props).map_err(|e| {
            ConfigError::for_key(
                crate::policy::REPLICATION_POLICY_CLASS_CONFIG,
                e.to_string(),
            )
        })?;
        Ok(Self {
            props: props.clone(),
            parsed,
            policy: Arc::from(policy),
        })
    }

    /// The configuration as given, for task configs (Java's `originalsStrings`).
    pub fn originals(&self) -> &ConfigMap {
        &self.props
    }

    /// `enabled` (true).
    pub fn enabled(&self) -> bool {
        self.get_bool(ENABLED)
    }

    /// `source.cluster.alias` (required).
    pub fn source_alias(&self) -> &str {
        self.get_string(SOURCE_CLUSTER_ALIAS)
    }

    /// `target.cluster.alias` (`target`).
    pub fn target_alias(&self) -> &str {
        self.get_string(TARGET_CLUSTER_ALIAS)
    }

    /// The connector's `name`, as the worker passes it.
    pub fn connector_name(&self) -> &str {
        self.props.get("name").map_or("", String::as_str)
    }

    /// `admin.timeout.ms` (60000).
    pub fn admin_timeout(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.get_long(ADMIN_TIMEOUT_MS)).unwrap_or(0))
    }

    /// `consumer.poll.timeout.ms` (1000).
    pub fn consumer_poll_timeout(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.get_long(CONSUMER_POLL_TIMEOUT_MS)).unwrap_or(0))
    }

    /// The replication policy of `replication.policy.class`.
    pub fn policy(&self) -> &Arc<dyn ReplicationPolicy> {
        &self.policy
    }

    /// The period of a feature switched by `<feature>.enabled` and timed by
    /// `<feature>.interval.seconds`; `None` when disabled (Java's negative interval).
    pub fn interval(&self, feature: &str) -> Option<Duration> {
        let enabled = self.parsed.get_bool(&format!("{feature}.enabled"))?;
        let seconds = self
            .parsed
            .get_long(&format!("{feature}.interval.seconds"))?;
        (enabled && seconds >= 0).then(|| Duration::from_secs(seconds.unsigned_abs()))
    }

    /// Whether the offset-syncs topic lives on the source cluster (`offset-syncs.topic.location`
    /// = `source`, the default) rather than the target.
    pub fn offset_syncs_on_source(&self) -> bool {
        self.parsed.get_string(OFFSET_SYNCS_TOPIC_LOCATION) != Some("target")
    }

    /// The offset-syncs topic: named after the *other* cluster than the one it lives on.
    pub fn offset_syncs_topic(&self) -> String {
        let other = if self.offset_syncs_on_source() {
            self.target_alias()
        } else {
            self.source_alias()
        };
        self.policy.offset_syncs_topic(other)
    }

    /// The checkpoints topic on the target: `SOURCE.checkpoints.internal`.
    pub fn checkpoints_topic(&self) -> String {
        self.policy.checkpoints_topic(self.source_alias())
    }

    /// The topic filter (`topics`, `topics.exclude`).
    pub fn topic_filter(&self) -> Result<DefaultTopicFilter, ConnectError> {
        DefaultTopicFilter::from_config(&self.props).map_err(filter_error)
    }

    /// The group filter (`groups`, `groups.exclude`).
    pub fn group_filter(&self) -> Result<DefaultGroupFilter, ConnectError> {
        DefaultGroupFilter::from_config(&self.props).map_err(filter_error)
    }

    /// The topic-config property filter (`config.properties.exclude`, `use.defaults.from`).
    pub fn config_property_filter(&self) -> Result<DefaultConfigPropertyFilter, ConnectError> {
        DefaultConfigPropertyFilter::from_config(&self.props).map_err(filter_error)
    }

    /// `source.cluster.alias->target.cluster.alias|name`, the label Java puts in client ids.
    pub fn entity_label(&self) -> String {
        format!(
            "{}->{}|{}",
            self.source_alias(),
            self.target_alias(),
            self.connector_name()
        )
    }

    /// A `BOOLEAN` setting; false when not defined by this configuration's definition.
    pub fn get_bool(&self, key: &str) -> bool {
        self.parsed.get_bool(key).unwrap_or(false)
    }

    /// A `STRING` or `CLASS` setting; empty when not defined.
    pub fn get_string(&self, key: &str) -> &str {
        self.parsed.get_string(key).unwrap_or("")
    }

    /// A `LONG` setting; 0 when not defined.
    pub fn get_long(&self, key: &str) -> i64 {
        self.parsed.get_long(key).unwrap_or(0)
    }

    /// An `INT` setting; 0 when not defined.
    pub fn get_int(&self, key: &str) -> i32 {
        self.parsed.get_int(key).unwrap_or(0)
    }

    /// A `SHORT` setting; 0 when not defined.
    pub fn get_short(&self, key: &str) -> i16 {
        self.parsed.get_short(key).unwrap_or(0)
    }

    /// A `LIST` setting; empty when not defined or null.
    pub fn get_list(&self, key: &str) -> Vec<String> {
        self.parsed
            .get_list(key)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

    /// The client settings for one client on one cluster; see [`client_config`].
    pub fn client_config(&self, side: Side, kind: ClientKind, role: &str) -> ConfigMap {
        let label = format!("{}|{role}", self.entity_label());
        client_config(&self.props, side, kind, &label)
    }
}

fn filter_error(e: crate::filter::FilterError) -> ConnectError {
    ConfigError::for_key(e.key, e.message).into()
}

/// Java instantiates these classes by name; Ferry has only the built-in ones.
fn check_builtin_class(parsed: &ParsedConfig, key: &str) -> Result<(), ConfigError> {
    let Some(class) = parsed.get_string(key) else {
        return Ok(());
    };
    let builtin = match key {
        TOPIC_FILTER_CLASS => TOPIC_FILTER_CLASS_DEFAULT,
        GROUP_FILTER_CLASS => GROUP_FILTER_CLASS_DEFAULT,
        CONFIG_PROPERTY_FILTER_CLASS => CONFIG_PROPERTY_FILTER_CLASS_DEFAULT,
        _ => FORWARDING_ADMIN_CLASS_DEFAULT,
    };
    let simple = builtin.rsplit('.').next().unwrap_or(builtin);
    if class == builtin || class == simple {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            key,
            class,
            Some(&format!("Ferry supports only {builtin}")),
        ))
    }
}

#[cfg(test)]
mod tests;
