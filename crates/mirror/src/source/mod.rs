//! `MirrorSourceConnector` and `MirrorSourceTask`: replicating topics from the source cluster to
//! remote topics on the target, with offset syncs for checkpointing.

mod offset_sync_writer;
mod task;
mod topics;

use std::sync::Arc;

use ferry_connect::config::{ConfigDef, ConfigValue};
use ferry_connect::connector::{
    ConfigMap, Connector, ConnectorContext, ExactlyOnceSupport, SourceConnector, SourceTask,
};
use ferry_connect::record::SourceMap;
use ferry_connect::{Result, async_trait};
use tracing::{error, info, warn};

use crate::config::{
    ClientKind, EMIT_OFFSET_SYNCS_ENABLED, MirrorConfig, OFFSET_SYNCS_TOPIC_REPLICATION_FACTOR,
    REFRESH_TOPICS, SYNC_TOPIC_ACLS, SYNC_TOPIC_CONFIGS, Side, TASK_ASSIGNED_PARTITIONS,
    TASK_INDEX, client_config, source_config_def,
};
use crate::internal_topics::create_compacted_topic;
use crate::records::TopicPartition;
use crate::schedule::{Background, repeat};
use crate::source_maps::{SOURCE_CLUSTER_KEY, TOPIC_KEY, encode_topic_partition, validate_offsets};

pub use offset_sync_writer::PartitionState;
pub use task::MirrorSourceTask;
use topics::Topics;

/// Splits `partitions` round-robin over at most `max_tasks` tasks, as Java does: partition `i`
/// goes to task `i % tasks`.
///
/// ```
/// use ferry_mirror::records::TopicPartition;
/// use ferry_mirror::source::assign_partitions;
/// let tps: Vec<_> = (0..5).map(|p| TopicPartition::new("t", p)).collect();
/// let tasks = assign_partitions(&tps, 2);
/// assert_eq!(tasks[0].iter().map(|tp| tp.partition).collect::<Vec<_>>(), [0, 2, 4]);
/// assert_eq!(tasks[1].iter().map(|tp| tp.partition).collect::<Vec<_>>(), [1, 3]);
/// ```
pub fn assign_partitions(
    partitions: &[TopicPartition],
    max_tasks: usize,
) -> Vec<Vec<TopicPartition>> {
    let tasks = max_tasks.min(partitions.len());
    let mut assigned = vec![Vec::new(); tasks];
    for (i, tp) in partitions.iter().enumerate() {
        assigned[i % tasks].push(tp.clone());
    }
    assigned
}

/// Replicates the selected topics of the source cluster to remote topics on the target; Java's
/// `org.apache.kafka.connect.mirror.MirrorSourceConnector`.
///
/// At start it creates the offset-syncs topic, finds the source partitions to replicate and
/// creates the missing remote topics (with the source's partition count) and partitions; then,
/// in the background, it copies topic ACLs and configs and looks for new topics and partitions
/// (asking the worker for new task configs when it finds some).
#[derive(Debug, Default)]
pub struct MirrorSourceConnector {
    context: Option<Arc<dyn ConnectorContext>>,
    topics: Option<Arc<Topics>>,
    config: Option<MirrorConfig>,
    background: Background,
}

#[async_trait]
impl Connector for MirrorSourceConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    fn initialize(&mut self, context: Arc<dyn ConnectorContext>) {
        self.context = Some(context);
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let config = MirrorConfig::parse(&source_config_def(), &props)?;
        self.config = Some(config.clone());
        if !config.enabled() {
            return Ok(());
        }
        let timeout = config.admin_timeout();
        let offset_syncs_admin = if config.get_bool(EMIT_OFFSET_SYNCS_ENABLED) {
            let side = if config.offset_syncs_on_source() {
                Side::Source
            } else {
                Side::Target
            };
            let role = match side {
                Side::Source => "offset-syncs-source-admin",
                Side::Target => "offset-syncs-target-admin",
            };
            Some(config.admin(side, role)?)
        } else {
            None
        };
        let topics = Arc::new(Topics::new(config.clone())?);
        // The offset-syncs topic and the remote topics are created side by side: each takes
        // a few round trips to a cluster that may be far away.
        let create_offset_syncs = async {
            let Some(admin) = offset_syncs_admin else {
                return;
            };
            let rf = config.get_short(OFFSET_SYNCS_TOPIC_REPLICATION_FACTOR);
            let topic = config.offset_syncs_topic();
            match tokio::time::timeout(timeout, create_compacted_topic(&admin, &topic, rf)).await {
                // Like Java's scheduler: logged, and the connector starts anyway.
                Ok(Err(e)) => error!("Failure creating internal topic {topic}: {e}"),
                Ok(Ok(())) => {}
                Err(_) => warn!("Timed out creating the offset-syncs topic {topic}"),
            }
        };
        let load_and_create = async {
            match tokio::time::timeout(timeout, topics.load_and_create()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => warn!("Failure loading and creating topic-partitions: {e}"),
                Err(_) => warn!("Timed out loading and creating topic-partitions"),
            }
        };
        tokio::join!(create_offset_syncs, load_and_create);
        if let Some(period) = config.interval(SYNC_TOPIC_ACLS) {
            let t = topics.clone();
            self.background
                .push(repeat(period, false, "syncing topic ACLs", move || {
                    let t = t.clone();
                    async move { t.sync_acls().await }
                }));
        }
        if let Some(period) = config.interval(SYNC_TOPIC_CONFIGS) {
            let t = topics.clone();
            self.background
                .push(repeat(period, false, "syncing topic configs", move || {
                    let t = t.clone();
                    async move { t.sync_configs().await }
                }));
        }
        if let Some(period) = config.interval(REFRESH_TOPICS) {
            let t = topics.clone();
            let context = self.context.clone();
            self.background
                .push(repeat(period, true, "refreshing topics", move || {
                    let t = t.clone();
                    let context = context.clone();
                    async move {
                        if t.refresh().await?
                            && let Some(context) = context
                        {
                            context.request_task_reconfiguration();
                        }
                        Ok(())
                    }
                }));
        }
        info!(
            "Started {} with {} topic-partitions.",
            config.connector_name(),
            topics.known_source_partitions().len()
        );
        self.topics = Some(topics);
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>> {
        let (Some(config), Some(topics)) = (&self.config, &self.topics) else {
            return Ok(Vec::new());
        };
        let known = topics.known_source_partitions();
        if !config.enabled() || known.is_empty() {
            return Ok(Vec::new());
        }
        Ok(assign_partitions(&known, max_tasks.max(1))
            .into_iter()
            .enumerate()
            .map(|(i, partitions)| {
                let mut props = config.originals().clone();
                let list: Vec<String> = partitions.iter().map(encode_topic_partition).collect();
                props.insert(TASK_ASSIGNED_PARTITIONS.into(), list.join(","));
                props.insert(TASK_INDEX.into(), i.to_string());
                props
            })
            .collect())
    }

    async fn stop(&mut self) -> Result<()> {
        self.background.stop();
        self.topics = None;
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        source_config_def()
    }

    /// Java's checks on top of the definitions: `exactly.once.support=required` needs a
    /// `read_committed` source consumer, and offset-syncs settings conflict with
    /// `emit.offset-syncs.enabled=false`.
    fn validate(&self, props: &ConfigMap) -> Vec<ConfigValue> {
        let mut values = self.config().validate(props);
        let mut add_error =
            |name: &str, message: String| match values.iter_mut().find(|v| v.name == name) {
                Some(value) => value.add_error(message),
                None => {
                    let mut value = ConfigValue::new(name);
                    value.add_error(message);
                    values.push(value);
                }
            };
        if props.get("exactly.once.support").map(String::as_str) == Some("required")
            && !reads_committed(props)
        {
            add_error(
                "exactly.once.support",
                "MirrorSourceConnector can only provide exactly-once guarantees when its source \
                 consumer is configured with isolation.level set to 'read_committed'; otherwise, \
                 records from aborted and uncommitted transactions will be replicated from the \
                 source cluster to the target cluster."
                    .to_owned(),
            );
        }
        let offset_syncs_configured = props
            .keys()
            .any(|k| k.starts_with("offset-syncs-") || k.starts_with("offset-syncs.topic."));
        if props.get(EMIT_OFFSET_SYNCS_ENABLED).map(String::as_str) == Some("false")
            && offset_syncs_configured
        {
            add_error(
                EMIT_OFFSET_SYNCS_ENABLED,
                format!(
                    "MirrorSourceConnector can't setup offset-syncs feature while \
                     {EMIT_OFFSET_SYNCS_ENABLED} set to false"
                ),
            );
        }
        values
    }
}

fn reads_committed(props: &ConfigMap) -> bool {
    let consumer = client_config(props, Side::Source, ClientKind::Consumer, "");
    consumer.get("isolation.level").map(String::as_str) == Some("read_committed")
}

#[async_trait]
impl SourceConnector for MirrorSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(MirrorSourceTask::default())
    }

    /// Supported when the source consumer reads with `isolation.level=read_committed`.
    fn exactly_once_support(&self, config: &ConfigMap) -> Option<ExactlyOnceSupport> {
        Some(if reads_committed(config) {
            ExactlyOnceSupport::Supported
        } else {
            ExactlyOnceSupport::Unsupported
        })
    }

    /// Accepts offsets `{"offset": N ≥ 0}` for partitions `{"cluster", "topic", "partition"}`.
    async fn alter_offsets(
        &mut self,
        _config: &ConfigMap,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        validate_offsets(offsets, &[SOURCE_CLUSTER_KEY, TOPIC_KEY], true, false)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use ferry_connect::connector::{Connector, SourceConnector};

    use super::*;

    fn props(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn errors(values: &[ConfigValue], name: &str) -> Vec<String> {
        values
            .iter()
            .filter(|v| v.name == name)
            .flat_map(|v| v.errors.clone())
            .collect()
    }

    #[test]
    fn exactly_once_needs_a_read_committed_source_consumer() {
        let connector = MirrorSourceConnector::default();
        let base = [
            ("source.cluster.alias", "A"),
            ("exactly.once.support", "required"),
        ];
        let values = connector.validate(&props(&base));
        assert_eq!(errors(&values, "exactly.once.support").len(), 1);
        let mut committed = base.to_vec();
        committed.push(("source.consumer.isolation.level", "read_committed"));
        let values = connector.validate(&props(&committed));
        assert!(errors(&values, "exactly.once.support").is_empty());
        assert_eq!(
            connector.exactly_once_support(&props(&committed)),
            Some(ExactlyOnceSupport::Supported)
        );
        assert_eq!(
            connector.exactly_once_support(&props(&base)),
            Some(ExactlyOnceSupport::Unsupported)
        );
    }

    #[test]
    fn offset_sync_settings_conflict_with_disabled_offset_syncs() {
        let connector = MirrorSourceConnector::default();
        let values = connector.validate(&props(&[
            ("source.cluster.alias", "A"),
            ("emit.offset-syncs.enabled", "false"),
            ("offset-syncs.topic.location", "target"),
        ]));
        assert_eq!(
            errors(&values, EMIT_OFFSET_SYNCS_ENABLED),
            [
                "MirrorSourceConnector can't setup offset-syncs feature while \
              emit.offset-syncs.enabled set to false"
            ]
        );
    }

    #[tokio::test]
    async fn a_disabled_connector_has_no_tasks() {
        let mut connector = MirrorSourceConnector::default();
        let config = props(&[("source.cluster.alias", "A"), ("enabled", "false")]);
        connector.start(config).await.unwrap();
        assert!(connector.task_configs(4).await.unwrap().is_empty());
    }
}
