//! What `MirrorSourceConnector` does to topics: selecting the source partitions to replicate,
//! creating remote topics and partitions on the target, and copying topic configs and ACLs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_connect::ConnectError;
use ferry_kafka::admin::{
    AclBinding, AclFilter, AclOperation, AclPermission, AlterConfigOp, ConfigEntry, ConfigResource,
    ConfigSource, NewTopic, PatternType, ResourceType,
};
use ferry_kafka::{Admin, Error, KafkaCode};
use tracing::{debug, info, warn};

use crate::config::{
    HEARTBEATS_REPLICATION_ENABLED, MirrorConfig, REPLICATION_FACTOR, SYNC_TOPIC_ACLS, Side,
    kafka_error,
};
use crate::filter::{
    ConfigPropertyFilter, DefaultConfigPropertyFilter, DefaultTopicFilter, TopicFilter,
};
use crate::policy::ReplicationPolicy;
use crate::records::TopicPartition;

/// Whether `topic` came, over any number of hops, from `target`: replicating it there again
/// would make a cycle (Java's `MirrorSourceConnector.isCycle`).
pub(crate) fn is_cycle(policy: &dyn ReplicationPolicy, target: &str, topic: &str) -> bool {
    let mut topic = topic.to_owned();
    loop {
        let Some(source) = policy.topic_source(&topic) else {
            return false;
        };
        if source == target {
            return true;
        }
        match policy.upstream_topic(&topic) {
            Some(upstream) if upstream != topic => topic = upstream,
            _ => return false,
        }
    }
}

/// The source partitions and remote partitions the connector knows of.
#[derive(Debug, Default)]
struct Known {
    source: Vec<TopicPartition>,
    target: Vec<TopicPartition>,
}

/// The connector's view of both clusters and the topic work it does on them.
#[derive(Debug)]
pub(crate) struct Topics {
    pub(crate) config: MirrorConfig,
    source: Admin,
    target: Admin,
    topic_filter: DefaultTopicFilter,
    property_filter: DefaultConfigPropertyFilter,
    known: Mutex<Known>,
    acl_warning_given: AtomicBool,
}

impl Topics {
    pub(crate) fn new(config: MirrorConfig) -> Result<Self, ConnectError> {
        Ok(Self {
            source: config.admin(Side::Source, "replication-source-admin")?,
            target: config.admin(Side::Target, "replication-target-admin")?,
            topic_filter: config.topic_filter()?,
            property_filter: config.config_property_filter()?,
            config,
            known: Mutex::new(Known::default()),
            acl_warning_given: AtomicBool::new(false),
        })
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The known source partitions, sorted.
    pub(crate) fn known_source_partitions(&self) -> Vec<TopicPartition> {
        self.known().source.clone()
    }

    /// Whether `topic` on the source is replicated: accepted by the topic filter (or a
    /// heartbeats topic, with `heartbeats.replication.enabled`), not internal, not a cycle.
    pub(crate) fn should_replicate_topic(&self, topic: &str) -> bool {
        let policy = self.config.policy().as_ref();
        let heartbeats = self.config.get_bool(HEARTBEATS_REPLICATION_ENABLED)
            && policy.is_heartbeats_topic(topic);
        (self.topic_filter.should_replicate_topic(topic) || heartbeats)
            && !policy.is_internal_topic(topic)
            && !is_cycle(policy, self.config.target_alias(), topic)
    }

    fn remote_topic(&self, topic: &str) -> String {
        self.config
            .policy()
            .format_remote_topic(self.config.source_alias(), topic)
    }

    async fn partitions_of(
        admin: &Admin,
        topics: Vec<String>,
    ) -> Result<Vec<TopicPartition>, ConnectError> {
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let described = admin.describe_topics(&names).await.map_err(kafka_error)?;
        let mut partitions = Vec::new();
        for (name, result) in described {
            match result {
                Ok(meta) => partitions.extend(
                    meta.partitions
                        .iter()
                        .map(|p| TopicPartition::new(name.clone(), p.partition)),
                ),
                // Deleted between listing and describing: gone from the next refresh.
                Err(e) => warn!("Could not describe topic {name}: {e}"),
            }
        }
        partitions.sort();
        Ok(partitions)
    }

    async fn find_source_partitions(&self) -> Result<Vec<TopicPartition>, ConnectError> {
        let topics = self.source.list_topics().await.map_err(kafka_error)?;
        let selected = topics
            .into_iter()
            .filter(|t| self.should_replicate_topic(t))
            .collect();
        Self::partitions_of(&self.source, selected).await
    }

    async fn find_target_partitions(&self) -> Result<Vec<TopicPartition>, ConnectError> {
        let policy = self.config.policy();
        let source = self.config.source_alias();
        let checkpoints = self.config.checkpoints_topic();
        let topics = self.target.list_topics().await.map_err(kafka_error)?;
        let remote = topics
            .into_iter()
            .filter(|t| policy.topic_source(t).as_deref() == Some(source) && *t != checkpoints)
            .collect();
        Self::partitions_of(&self.target, remote).await
    }

    /// Java's `loadTopicPartitions` followed by `computeAndCreateTopicPartitions`.
    pub(crate) async fn load_and_create(&self) -> Result<(), ConnectError> {
        let source = self.find_source_partitions().await?;
        let target = self.find_target_partitions().await?;
        {
            let mut known = self.known();
            known.source = source;
            known.target = target;
        }
        self.create_topic_partitions().await?;
        let target = self.find_target_partitions().await?;
        self.known().target = target;
        Ok(())
    }

    /// Looks for new or deleted source partitions and partitions missing on the target; when
    /// something changed, creates what is missing and returns true (the connector then asks
    /// for new task configs).
    pub(crate) async fn refresh(&self) -> Result<bool, ConnectError> {
        let source = self.find_source_partitions().await?;
        let target = self.find_target_partitions().await?;
        let policy = self.config.policy();
        let upstream_of_target: BTreeSet<TopicPartition> = target
            .iter()
            .filter_map(|tp| {
                let upstream = policy.upstream_topic(&tp.topic)?;
                Some(TopicPartition::new(upstream, tp.partition))
            })
            .collect();
        let missing_in_target = source.iter().any(|tp| !upstream_of_target.contains(tp));
        let changed = {
            let mut known = self.known();
            known.target = target;
            let changed = known.source != source || missing_in_target;
            if changed {
                let old: BTreeSet<_> = known.source.iter().cloned().collect();
                let new: BTreeSet<_> = source.iter().cloned().collect();
                info!(
                    "Found {} new topic-partitions on {}. Found {} deleted topic-partitions on {}. \
                     Topic-partitions missing on {}: {missing_in_target}.",
                    new.difference(&old).count(),
                    self.config.source_alias(),
                    old.difference(&new).count(),
                    self.config.source_alias(),
                    self.config.target_alias(),
                );
                known.source = source;
            }
            changed
        };
        if changed {
            self.create_topic_partitions().await?;
        }
        Ok(changed)
    }

    async fn create_topic_partitions(&self) -> Result<(), ConnectError> {
        let (source_counts, target_counts) = {
            let known = self.known();
            (counts(&known.source), counts(&known.target))
        };
        let mut new_topics = Vec::new();
        let mut grown = BTreeMap::new();
        for (topic, &count) in &source_counts {
            let remote = self.remote_topic(topic);
            match target_counts.get(&remote) {
                None => new_topics.push(topic.clone()),
                Some(&existing) if existing < count => {
                    grown.insert(remote, count);
                }
                Some(_) => {}
            }
        }
        if !new_topics.is_empty() {
            self.create_topics(&new_topics, &source_counts).await?;
        }
        if !grown.is_empty() {
            match self.target.create_partitions(&grown).await {
                Ok(results) => {
                    for (topic, result) in results {
                        match result {
                            Ok(()) => {
                                info!("Increased size of {topic} to {} partitions.", grown[&topic])
                            }
                            Err(e) if e.kafka_code() == Some(KafkaCode::InvalidPartitions) => {}
                            Err(e) => warn!("Could not create topic-partitions for {topic}: {e}"),
                        }
                    }
                }
                Err(e) => warn!("Could not create partitions {grown:?} on the target: {e}"),
            }
        }
        Ok(())
    }

    async fn create_topics(
        &self,
        topics: &[String],
        counts: &BTreeMap<String, i32>,
    ) -> Result<(), ConnectError> {
        let configs = self.describe_source_configs(topics).await?;
        let replication_factor =
            i16::try_from(self.config.get_int(REPLICATION_FACTOR)).unwrap_or(i16::MAX);
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .map(|topic| {
                let mut new =
                    NewTopic::new(&self.remote_topic(topic), counts[topic], replication_factor);
                for entry in configs.get(topic).into_iter().flatten() {
                    if self.copies(entry, false) {
                        new = new.with_config(&entry.name, entry.value.as_deref().unwrap_or(""));
                    }
                }
                new
            })
            .collect();
        let results = self
            .target
            .create_topics(&new_topics)
            .await
            .map_err(kafka_error)?;
        for topic in &new_topics {
            match results.get(&topic.name) {
                Some(Ok(())) => info!(
                    "Created remote topic {} with {} partitions.",
                    topic.name, topic.num_partitions
                ),
                Some(Err(e)) => warn!("Could not create topic {}: {e}", topic.name),
                None => warn!("Could not create topic {}: no answer", topic.name),
            }
        }
        Ok(())
    }

    async fn describe_source_configs(
        &self,
        topics: &[String],
    ) -> Result<HashMap<String, Vec<ConfigEntry>>, ConnectError> {
        let resources: Vec<ConfigResource> = topics
            .iter()
            .map(|t| ConfigResource::Topic(t.clone()))
            .collect();
        let described = self
            .source
            .describe_configs(&resources)
            .await
            .map_err(kafka_error)?;
        let mut configs = HashMap::new();
        for (resource, result) in described {
            match result {
                Ok(entries) => {
                    configs.insert(resource.name().to_owned(), entries);
                }
                Err(e) => warn!("Could not describe the configs of {}: {e}", resource.name()),
            }
        }
        Ok(configs)
    }

    /// Java's `targetConfig` filter: whether `entry` is copied to the remote topic.
    fn copies(&self, entry: &ConfigEntry, incremental: bool) -> bool {
        let is_default = entry.source == ConfigSource::Default;
        let wanted = incremental
            || !is_default
            || self
                .property_filter
                .should_replicate_source_default(&entry.name);
        wanted
            && !entry.read_only
            && !entry.is_sensitive
            && entry.source != ConfigSource::StaticBroker
            && self
                .property_filter
                .should_replicate_config_property(&entry.name)
    }

    /// Copies the configs of replicated topics to their remote topics (`sync.topic.configs`).
    pub(crate) async fn sync_configs(&self) -> Result<(), ConnectError> {
        let replicated: Vec<String> = {
            let known = self.known();
            let remote: BTreeSet<&str> = known.target.iter().map(|tp| tp.topic.as_str()).collect();
            let topics: BTreeSet<&str> = known.source.iter().map(|tp| tp.topic.as_str()).collect();
            topics
                .into_iter()
                .filter(|t| remote.contains(self.remote_topic(t).as_str()))
                .map(str::to_owned)
                .collect()
        };
        if replicated.is_empty() {
            return Ok(());
        }
        let configs = self.describe_source_configs(&replicated).await?;
        let mut ops = BTreeMap::new();
        for (topic, entries) in configs {
            let topic_ops: Vec<AlterConfigOp> = entries
                .iter()
                .filter(|e| self.copies(e, true))
                .map(|e| {
                    let is_default = e.source == ConfigSource::Default;
                    if is_default
                        && !self
                            .property_filter
                            .should_replicate_source_default(&e.name)
                    {
                        AlterConfigOp::delete(&e.name)
                    } else {
                        AlterConfigOp::set(&e.name, e.value.as_deref().unwrap_or(""))
                    }
                })
                .collect();
            ops.insert(ConfigResource::Topic(self.remote_topic(&topic)), topic_ops);
        }
        debug!("Syncing topic configs: {ops:?}");
        let results = self
            .target
            .incremental_alter_configs(&ops)
            .await
            .map_err(kafka_error)?;
        for (resource, result) in results {
            if let Err(e) = result {
                warn!(
                    "Could not alter configuration of topic {}: {e}",
                    resource.name()
                );
            }
        }
        Ok(())
    }

    /// Copies literal topic ACLs of replicated topics to their remote topics
    /// (`sync.topic.acls`), except ALLOW WRITE, and with ALLOW ALL downgraded to ALLOW READ.
    /// A source cluster without ACL support is reported once and skipped.
    pub(crate) async fn sync_acls(&self) -> Result<(), ConnectError> {
        let filter = AclFilter {
            resource_type: ResourceType::Topic,
            ..AclFilter::any()
        };
        let bindings = match self.source.describe_acls(&filter).await {
            Ok(bindings) => bindings,
            Err(e) if acls_unavailable(&e) => {
                if !self.acl_warning_given.swap(true, Ordering::Relaxed) {
                    warn!(
                        "The source Kafka cluster offers no ACLs ({e}), so no topic ACL syncing \
                         will take place. Consider disabling topic ACL syncing by setting \
                         {SYNC_TOPIC_ACLS}.enabled to 'false'."
                    );
                }
                return Ok(());
            }
            Err(e) => return Err(kafka_error(e)),
        };
        let wanted: Vec<AclBinding> = bindings
            .into_iter()
            .filter(|b| b.resource_type == ResourceType::Topic)
            .filter(|b| b.pattern_type == PatternType::Literal)
            .filter(|b| {
                !(b.permission == AclPermission::Allow && b.operation == AclOperation::Write)
            })
            .filter(|b| self.should_replicate_topic(&b.resource_name))
            .map(|mut b| {
                b.resource_name = self.remote_topic(&b.resource_name);
                if b.permission == AclPermission::Allow && b.operation == AclOperation::All {
                    b.operation = AclOperation::Read;
                }
                b
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        match self.target.create_acls(&wanted).await {
            Ok(results) => {
                for (binding, result) in wanted.iter().zip(results) {
                    if let Err(e) = result {
                        warn!("Could not sync ACL of topic {}: {e}", binding.resource_name);
                    }
                }
                Ok(())
            }
            Err(e) if acls_unavailable(&e) => {
                warn!("The target cluster cannot create ACLs: {e}");
                Ok(())
            }
            Err(e) => Err(kafka_error(e)),
        }
    }
}

fn acls_unavailable(error: &Error) -> bool {
    matches!(error, Error::Unsupported { .. } | Error::Protocol(_))
        || error.kafka_code() == Some(KafkaCode::SecurityDisabled)
}

fn counts(partitions: &[TopicPartition]) -> BTreeMap<String, i32> {
    let mut counts = BTreeMap::new();
    for tp in partitions {
        *counts.entry(tp.topic.clone()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use ferry_kafka::kafka_protocol::messages::ApiKey;
    use ferry_kafka::{Error, KafkaCode};

    use super::{acls_unavailable, is_cycle};
    use crate::policy::{DefaultReplicationPolicy, IdentityReplicationPolicy};

    #[test]
    fn cycles_follow_every_hop() {
        let policy = DefaultReplicationPolicy::default();
        assert!(is_cycle(&policy, "B", "B.orders"));
        assert!(is_cycle(&policy, "B", "C.B.orders"));
        assert!(!is_cycle(&policy, "B", "C.orders"));
        assert!(!is_cycle(&policy, "B", "orders"));
    }

    #[test]
    fn identity_policy_topics_are_cycles_only_by_their_configured_source() {
        let policy = IdentityReplicationPolicy::new(Default::default(), Some("A".into()));
        assert!(!is_cycle(&policy, "B", "orders"));
        assert!(is_cycle(&policy, "A", "orders"));
        assert!(is_cycle(&policy, "B", "B.heartbeats"));
    }

    #[test]
    fn brokers_without_acls_are_recognised() {
        let unsupported = Error::Unsupported {
            api: ApiKey::DescribeAcls,
        };
        assert!(acls_unavailable(&unsupported));
        let disabled = Error::Kafka {
            code: KafkaCode::SecurityDisabled,
            message: None,
        };
        assert!(acls_unavailable(&disabled));
        let denied = Error::Kafka {
            code: KafkaCode::ClusterAuthorizationFailed,
            message: None,
        };
        assert!(!acls_unavailable(&denied));
    }
}
