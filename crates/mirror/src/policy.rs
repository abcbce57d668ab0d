//! Replication policies: how MirrorMaker 2 names remote topics (`A.orders` for `orders` replicated
//! from cluster `A`) and its internal topics, as Java's `ReplicationPolicy`,
//! `DefaultReplicationPolicy` and `IdentityReplicationPolicy`.
//!
//! ```
//! use ferry_mirror::policy::{DefaultReplicationPolicy, ReplicationPolicy};
//!
//! let policy = DefaultReplicationPolicy::default();
//! assert_eq!(policy.format_remote_topic("A", "orders"), "A.orders");
//! assert_eq!(policy.topic_source("B.A.orders").as_deref(), Some("B"));
//! assert_eq!(policy.upstream_topic("B.A.orders").as_deref(), Some("A.orders"));
//! assert_eq!(policy.original_topic("B.A.orders"), "orders");
//! assert_eq!(policy.offset_syncs_topic("B"), "mm2-offset-syncs.B.internal");
//! ```

use std::collections::HashMap;
use std::fmt::Debug;

use thiserror::Error;

/// `replication.policy.class`: the policy's Java class name.
pub const REPLICATION_POLICY_CLASS_CONFIG: &str = "replication.policy.class";
/// `replication.policy.separator`: the text between a source alias and a topic name.
pub const SEPARATOR_CONFIG: &str = "replication.policy.separator";
/// The default of [`SEPARATOR_CONFIG`].
pub const SEPARATOR_DEFAULT: &str = ".";
/// `replication.policy.internal.topic.separator.enabled`: whether the offset-syncs and
/// checkpoints topic names use the custom separator (`true`) or `.` (`false`).
pub const INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG: &str =
    "replication.policy.internal.topic.separator.enabled";
/// `source.cluster.alias`: the source alias `IdentityReplicationPolicy` reports for every topic.
pub const SOURCE_CLUSTER_ALIAS_CONFIG: &str = "source.cluster.alias";

const DEFAULT_POLICY_CLASS: &str = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy";
const IDENTITY_POLICY_CLASS: &str = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy";

/// Names topics between source and target clusters (Java's `ReplicationPolicy`); the provided
/// methods are Java's default implementations.
pub trait ReplicationPolicy: Debug + Send + Sync {
    /// The name of `topic` from cluster `source_cluster_alias` once replicated.
    fn format_remote_topic(&self, source_cluster_alias: &str, topic: &str) -> String;

    /// The alias of the cluster `topic` was replicated from, or `None` if it is not a remote topic.
    fn topic_source(&self, topic: &str) -> Option<String>;

    /// The name of `topic` on the cluster it was replicated from (which may itself be remote),
    /// or `None` if it is not a remote topic.
    fn upstream_topic(&self, topic: &str) -> Option<String>;

    /// The name of the topic `topic` was first replicated from, over any number of hops; `topic`
    /// itself if it is not a remote topic.
    fn original_topic(&self, topic: &str) -> String {
        let mut topic = topic.to_owned();
        loop {
            match self.upstream_topic(&topic) {
                Some(upstream) if upstream != topic => topic = upstream,
                _ => return topic,
            }
        }
    }

    /// The heartbeats topic: `heartbeats`.
    fn heartbeats_topic(&self) -> String {
        "heartbeats".to_owned()
    }

    /// The offset-syncs topic kept for target cluster `cluster_alias`.
    fn offset_syncs_topic(&self, cluster_alias: &str) -> String {
        format!("mm2-offset-syncs.{cluster_alias}.internal")
    }

    /// The checkpoints topic for source cluster `cluster_alias`.
    fn checkpoints_topic(&self, cluster_alias: &str) -> String {
        format!("{cluster_alias}.checkpoints.internal")
    }

    /// Whether `topic` is a heartbeats topic, local or replicated over any number of hops.
    fn is_heartbeats_topic(&self, topic: &str) -> bool {
        self.heartbeats_topic() == self.original_topic(topic)
    }

    /// Whether `topic` is a checkpoints topic.
    fn is_checkpoints_topic(&self, topic: &str) -> bool {
        topic.ends_with(".checkpoints.internal")
    }

    /// Whether `topic` is one of MirrorMaker 2's internal topics, never to be replicated.
    fn is_mm2_internal_topic(&self, topic: &str) -> bool {
        topic.ends_with(".internal")
    }

    /// Whether `topic` counts as internal: an MM2 internal topic, a Kafka-internal topic (name
    /// starting `__` or `.`) or a Connect-internal one (name ending `-internal` or `.internal`).
    fn is_internal_topic(&self, topic: &str) -> bool {
        let kafka_internal = topic.starts_with("__") || topic.starts_with('.');
        let connect_internal = topic.ends_with("-internal") || topic.ends_with(".internal");
        self.is_mm2_internal_topic(topic) || kafka_internal || connect_internal
    }
}

/// Prefixes remote topics with their source cluster's alias and a separator: `us-west.orders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultReplicationPolicy {
    separator: String,
    internal_topic_separator_enabled: bool,
}

impl Default for DefaultReplicationPolicy {
    fn default() -> Self {
        Self::new(SEPARATOR_DEFAULT, true)
    }
}

impl DefaultReplicationPolicy {
    /// A policy with this separator; `internal_topic_separator_enabled` says whether the
    /// offset-syncs and checkpoints topics use it too (otherwise they use `.`).
    pub fn new(separator: impl Into<String>, internal_topic_separator_enabled: bool) -> Self {
        Self {
            separator: separator.into(),
            internal_topic_separator_enabled,
        }
    }

    /// Configures the policy from properties as Java's `configure` does.
    ///
    /// As in Java, [`INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG`] is read only when
    /// [`SEPARATOR_CONFIG`] is set, and any value but `true` (in any case) disables it.
    pub fn from_config(props: &HashMap<String, String>) -> Self {
        let mut policy = Self::default();
        if let Some(separator) = props.get(SEPARATOR_CONFIG) {
            policy.separator.clone_from(separator);
            if let Some(enabled) = props.get(INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG) {
                policy.internal_topic_separator_enabled = enabled.eq_ignore_ascii_case("true");
            }
        }
        policy
    }

    /// The separator between a source alias and a topic name.
    pub fn separator(&self) -> &str {
        &self.separator
    }

    fn internal_separator(&self) -> &str {
        if self.internal_topic_separator_enabled {
            &self.separator
        } else {
            "."
        }
    }

    fn internal_suffix(&self) -> String {
        format!("{}internal", self.internal_separator())
    }

    fn checkpoints_topic_suffix(&self) -> String {
        format!(
            "{}checkpoints{}",
            self.internal_separator(),
            self.internal_suffix()
        )
    }
}

/// The pieces Java's `Pattern.compile(Pattern.quote(sep)).split(s)` returns: a leading empty
/// piece is kept when `s` starts with a non-empty separator, trailing empty pieces are dropped,
/// and `s` without any separator is returned whole (even when empty).
fn java_split<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    if s.is_empty() || (!separator.is_empty() && !s.contains(separator)) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(separator).collect();
    if separator.is_empty() {
        // Java drops the empty piece before a zero-width match at the start of the input.
        parts.remove(0);
    }
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

impl ReplicationPolicy for DefaultReplicationPolicy {
    fn format_remote_topic(&self, source_cluster_alias: &str, topic: &str) -> String {
        format!("{source_cluster_alias}{}{topic}", self.separator)
    }

    fn topic_source(&self, topic: &str) -> Option<String> {
        let parts = java_split(topic, &self.separator);
        (parts.len() >= 2).then(|| parts[0].to_owned())
    }

    fn upstream_topic(&self, topic: &str) -> Option<String> {
        let source = self.topic_source(topic)?;
        Some(topic[source.len() + self.separator.len()..].to_owned())
    }

    fn offset_syncs_topic(&self, cluster_alias: &str) -> String {
        format!(
            "mm2-offset-syncs{}{cluster_alias}{}",
            self.internal_separator(),
            self.internal_suffix()
        )
    }

    fn checkpoints_topic(&self, cluster_alias: &str) -> String {
        format!("{cluster_alias}{}", self.checkpoints_topic_suffix())
    }

    fn is_checkpoints_topic(&self, topic: &str) -> bool {
        topic.ends_with(&self.checkpoints_topic_suffix())
    }

    fn is_mm2_internal_topic(&self, topic: &str) -> bool {
        topic.ends_with(&self.internal_suffix())
    }
}

/// Keeps topic names unchanged when replicating, except heartbeats topics, which are named as by
/// [`DefaultReplicationPolicy`] so that heartbeats still trace the replication path.
///
/// It cannot tell a remote topic's source from its name: [`ReplicationPolicy::topic_source`]
/// reports the configured [`SOURCE_CLUSTER_ALIAS_CONFIG`] for every topic but heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityReplicationPolicy {
    default: DefaultReplicationPolicy,
    source_cluster_alias: Option<String>,
}

impl IdentityReplicationPolicy {
    /// A policy reporting `source_cluster_alias` as every non-heartbeats topic's source.
    pub fn new(default: DefaultReplicationPolicy, source_cluster_alias: Option<String>) -> Self {
        Self {
            default,
            source_cluster_alias,
        }
    }

    /// Configures the policy from properties as Java's `configure` does: the
    /// [`DefaultReplicationPolicy`] settings plus [`SOURCE_CLUSTER_ALIAS_CONFIG`].
    pub fn from_config(props: &HashMap<String, String>) -> Self {
        Self::new(
            DefaultReplicationPolicy::from_config(props),
            props.get(SOURCE_CLUSTER_ALIAS_CONFIG).cloned(),
        )
    }

    fn looks_like_heartbeat(&self, topic: &str) -> bool {
        topic.ends_with(&self.heartbeats_topic())
    }
}

impl ReplicationPolicy for IdentityReplicationPolicy {
    fn format_remote_topic(&self, source_cluster_alias: &str, topic: &str) -> String {
        if self.looks_like_heartbeat(topic) {
            self.default
                .format_remote_topic(source_cluster_alias, topic)
        } else {
            topic.to_owned()
        }
    }

    fn topic_source(&self, topic: &str) -> Option<String> {
        if self.looks_like_heartbeat(topic) {
            self.default.topic_source(topic)
        } else {
            self.source_cluster_alias.clone()
        }
    }

    fn upstream_topic(&self, topic: &str) -> Option<String> {
        if self.looks_like_heartbeat(topic) {
            self.default.upstream_topic(topic)
        } else {
            Some(topic.to_owned())
        }
    }

    fn offset_syncs_topic(&self, cluster_alias: &str) -> String {
        self.default.offset_syncs_topic(cluster_alias)
    }

    fn checkpoints_topic(&self, cluster_alias: &str) -> String {
        self.default.checkpoints_topic(cluster_alias)
    }

    fn is_checkpoints_topic(&self, topic: &str) -> bool {
        self.default.is_checkpoints_topic(topic)
    }

    fn is_mm2_internal_topic(&self, topic: &str) -> bool {
        self.default.is_mm2_internal_topic(topic)
    }
}

/// A `replication.policy.class` that names no policy Ferry has.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown replication policy class '{0}'")]
pub struct UnknownPolicyError(pub String);

/// Builds the policy named by Java class name (fully qualified or simple, e.g.
/// `org.apache.kafka.connect.mirror.IdentityReplicationPolicy` or `IdentityReplicationPolicy`),
/// configured from `props`.
pub fn replication_policy_for_class(
    class_name: &str,
    props: &HashMap<String, String>,
) -> Result<Box<dyn ReplicationPolicy>, UnknownPolicyError> {
    let class_name = class_name.trim();
    let is = |full: &str| class_name == full || Some(class_name) == full.rsplit('.').next();
    if is(DEFAULT_POLICY_CLASS) {
        Ok(Box::new(DefaultReplicationPolicy::from_config(props)))
    } else if is(IDENTITY_POLICY_CLASS) {
        Ok(Box::new(IdentityReplicationPolicy::from_config(props)))
    } else {
        Err(UnknownPolicyError(class_name.to_owned()))
    }
}

/// Builds the policy named by [`REPLICATION_POLICY_CLASS_CONFIG`] in `props` (default
/// `DefaultReplicationPolicy`), configured from the same properties.
pub fn replication_policy_from_config(
    props: &HashMap<String, String>,
) -> Result<Box<dyn ReplicationPolicy>, UnknownPolicyError> {
    let class_name = props
        .get(REPLICATION_POLICY_CLASS_CONFIG)
        .map_or(DEFAULT_POLICY_CLASS, String::as_str);
    replication_policy_for_class(class_name, props)
}

#[cfg(test)]
mod tests;
