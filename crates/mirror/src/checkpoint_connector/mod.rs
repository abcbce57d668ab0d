//! `MirrorCheckpointConnector` and `MirrorCheckpointTask`: translating the source cluster's
//! consumer-group offsets to the target through the offset syncs, emitting them as checkpoints
//! to `SOURCE.checkpoints.internal`, and optionally writing them into the target's groups.

mod read;
mod task;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use ferry_connect::config::{ConfigDef, ConfigValue};
use ferry_connect::connector::{
    ConfigMap, Connector, ConnectorContext, SourceConnector, SourceTask,
};
use ferry_connect::record::SourceMap;
use ferry_connect::{ConnectError, Result, async_trait};
use ferry_kafka::Admin;
use tracing::{error, info, warn};

use crate::config::{
    CHECKPOINTS_TOPIC_REPLICATION_FACTOR, EMIT_CHECKPOINTS, EMIT_OFFSET_SYNCS_ENABLED, ENABLED,
    MirrorConfig, REFRESH_GROUPS, Side, TASK_ASSIGNED_GROUPS, TASK_INDEX, checkpoint_config_def,
    kafka_error,
};
use crate::filter::{DefaultGroupFilter, DefaultTopicFilter, GroupFilter, TopicFilter};
use crate::internal_topics::create_compacted_topic;
use crate::schedule::{Background, repeat};
use crate::source_maps::{CONSUMER_GROUP_ID_KEY, TOPIC_KEY, validate_offsets};

pub use task::MirrorCheckpointTask;

/// Splits `groups` into at most `max_tasks` contiguous runs of nearly equal size, the first
/// ones one longer (Java's `ConnectorUtils.groupPartitions`).
///
/// ```
/// use ferry_mirror::checkpoint_connector::assign_groups;
/// let groups: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
/// assert_eq!(assign_groups(&groups, 2), [vec!["a", "b", "c"], vec!["d", "e"]]);
/// assert_eq!(assign_groups(&groups, 9).len(), 5);
/// ```
pub fn assign_groups(groups: &[String], max_tasks: usize) -> Vec<Vec<String>> {
    let tasks = max_tasks.min(groups.len());
    if tasks == 0 {
        return Vec::new();
    }
    let (per_task, leftover) = (groups.len() / tasks, groups.len() % tasks);
    let mut rest = groups;
    (0..tasks)
        .map(|i| {
            let (run, tail) = rest.split_at(per_task + usize::from(i < leftover));
            rest = tail;
            run.to_vec()
        })
        .collect()
}

/// Finds the consumer groups to checkpoint and spreads them over tasks; Java's
/// `org.apache.kafka.connect.mirror.MirrorCheckpointConnector`.
///
/// At start it creates the checkpoints topic on the target and lists the source's consumer
/// groups that the group filter accepts and that have committed offsets for a topic the topic
/// filter accepts; it lists them again every `refresh.groups.interval.seconds`.
#[derive(Debug, Default)]
pub struct MirrorCheckpointConnector {
    context: Option<Arc<dyn ConnectorContext>>,
    config: Option<MirrorConfig>,
    groups: Arc<Mutex<Option<BTreeSet<String>>>>,
    background: Background,
}

/// What listing groups needs.
#[derive(Debug)]
struct GroupFinder {
    source: Admin,
    group_filter: DefaultGroupFilter,
    topic_filter: DefaultTopicFilter,
}

impl GroupFinder {
    async fn find(&self) -> Result<BTreeSet<String>> {
        let listed = self.source.list_groups().await.map_err(kafka_error)?;
        let mut found = BTreeSet::new();
        for listing in listed {
            // Java's listConsumerGroups: classic consumer groups and groups without a protocol.
            let consumer = matches!(listing.protocol_type.as_str(), "consumer" | "");
            if !consumer || !self.group_filter.should_replicate_group(&listing.group_id) {
                continue;
            }
            let offsets = self
                .source
                .list_group_offsets(&listing.group_id, None)
                .await
                .map_err(kafka_error)?;
            if offsets
                .keys()
                .any(|(topic, _)| self.topic_filter.should_replicate_topic(topic))
            {
                found.insert(listing.group_id);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Connector for MirrorCheckpointConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    fn initialize(&mut self, context: Arc<dyn ConnectorContext>) {
        self.context = Some(context);
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let config = MirrorConfig::parse(&checkpoint_config_def(), &props)?;
        self.config = Some(config.clone());
        if !config.enabled() {
            return Ok(());
        }
        let timeout = config.admin_timeout();
        let target = config.admin(Side::Target, "checkpoint-target-admin")?;
        let topic = config.checkpoints_topic();
        let rf = config.get_short(CHECKPOINTS_TOPIC_REPLICATION_FACTOR);
        match tokio::time::timeout(timeout, create_compacted_topic(&target, &topic, rf)).await {
            // Like Java's scheduler: logged, and the connector starts anyway.
            Ok(Err(e)) => error!("Failure creating internal topic {topic}: {e}"),
            Ok(Ok(())) => {}
            Err(_) => warn!("Timed out creating the checkpoints topic {topic}"),
        }
        let finder = Arc::new(GroupFinder {
            source: config.admin(Side::Source, "checkpoint-source-admin")?,
            group_filter: config.group_filter()?,
            topic_filter: config.topic_filter()?,
        });
        match tokio::time::timeout(timeout, finder.find()).await {
            Ok(Ok(groups)) => {
                info!(
                    "Started {} with {} consumer groups.",
                    config.connector_name(),
                    groups.len()
                );
                *self.groups.lock().unwrap_or_else(|e| e.into_inner()) = Some(groups);
            }
            Ok(Err(e)) => warn!("Failure loading initial consumer groups: {e}"),
            Err(_) => warn!("Timed out loading initial consumer groups"),
        }
        if let Some(period) = config.interval(REFRESH_GROUPS) {
            let known = self.groups.clone();
            let context = self.context.clone();
            self.background.push(repeat(
                period,
                true,
                "refreshing consumer groups",
                move || {
                    let (finder, known, context) = (finder.clone(), known.clone(), context.clone());
                    async move {
                        let found = finder.find().await?;
                        let changed = {
                            let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
                            let changed = known.as_ref() != Some(&found);
                            if changed {
                                info!("Found {} consumer groups; the set changed.", found.len());
                                *known = Some(found);
                            }
                            changed
                        };
                        if changed && let Some(context) = context {
                            context.request_task_reconfiguration();
                        }
                        Ok(())
                    }
                },
            ));
        }
        Ok(())
    }

    /// Fails with a retriable error while the groups could not be listed yet, as Java does.
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>> {
        let Some(config) = &self.config else {
            return Ok(Vec::new());
        };
        if !config.enabled() {
            return Ok(Vec::new());
        }
        let groups = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(groups) = groups else {
            return Err(ConnectError::retriable(
                "Timeout while loading consumer groups.",
            ));
        };
        if groups.is_empty() || config.interval(EMIT_CHECKPOINTS).is_none() {
            return Ok(Vec::new());
        }
        let groups: Vec<String> = groups.into_iter().collect();
        Ok(assign_groups(&groups, max_tasks.max(1))
            .into_iter()
            .enumerate()
            .map(|(i, run)| {
                let mut props = config.originals().clone();
                props.insert(TASK_ASSIGNED_GROUPS.into(), run.join(","));
                props.insert(TASK_INDEX.into(), i.to_string());
                props
            })
            .collect())
    }

    async fn stop(&mut self) -> Result<()> {
        self.background.stop();
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        checkpoint_config_def()
    }

    /// Java's extra checks: a checkpoint connector needs checkpoints and offset syncs enabled.
    fn validate(&self, props: &ConfigMap) -> Vec<ConfigValue> {
        let mut values = self.config().validate(props);
        if props.get(ENABLED).map(String::as_str) == Some("false") {
            return values;
        }
        let emit_checkpoints = format!("{EMIT_CHECKPOINTS}.enabled");
        let checks = [
            (
                emit_checkpoints.as_str(),
                format!("MirrorCheckpointConnector can't run with {emit_checkpoints} set to false"),
            ),
            (
                EMIT_OFFSET_SYNCS_ENABLED,
                "MirrorCheckpointConnector can't run without offset syncs".to_owned(),
            ),
        ];
        for (key, message) in checks {
            if props.get(key).map(String::as_str) != Some("false") {
                continue;
            }
            match values.iter_mut().find(|v| v.name == key) {
                Some(value) => value.add_error(message),
                None => {
                    let mut value = ConfigValue::new(key);
                    value.add_error(message);
                    values.push(value);
                }
            }
        }
        values
    }
}

#[async_trait]
impl SourceConnector for MirrorCheckpointConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(MirrorCheckpointTask::default())
    }

    /// Accepts only offset `{"offset": 0}` for partitions `{"group", "topic", "partition"}`.
    async fn alter_offsets(
        &mut self,
        _config: &ConfigMap,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        validate_offsets(offsets, &[CONSUMER_GROUP_ID_KEY, TOPIC_KEY], true, true)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_and_offset_syncs_must_stay_enabled() {
        let connector = MirrorCheckpointConnector::default();
        let props: ConfigMap = [
            ("source.cluster.alias", "A"),
            ("emit.checkpoints.enabled", "false"),
            ("emit.offset-syncs.enabled", "false"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let errors: Vec<(String, Vec<String>)> = connector
            .validate(&props)
            .into_iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name, v.errors))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    "emit.checkpoints.enabled".to_owned(),
                    vec![
                        "MirrorCheckpointConnector can't run with emit.checkpoints.enabled set \
                          to false"
                            .to_owned()
                    ]
                ),
                (
                    "emit.offset-syncs.enabled".to_owned(),
                    vec!["MirrorCheckpointConnector can't run without offset syncs".to_owned()]
                ),
            ]
        );
        let mut disabled = props;
        disabled.insert(ENABLED.into(), "false".into());
        assert!(
            connector
                .validate(&disabled)
                .iter()
                .all(|v| v.errors.is_empty())
        );
    }

    #[tokio::test]
    async fn task_configs_wait_for_the_groups() {
        let mut connector = MirrorCheckpointConnector::default();
        // No cluster to list groups from: the initial listing fails within the timeout.
        let config: ConfigMap = [
            ("source.cluster.alias", "A"),
            ("source.cluster.bootstrap.servers", "127.0.0.1:1"),
            ("target.cluster.bootstrap.servers", "127.0.0.1:1"),
            ("admin.timeout.ms", "200"),
            ("refresh.groups.enabled", "false"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        connector.start(config).await.unwrap();
        let err = connector.task_configs(1).await.unwrap_err();
        assert!(err.is_retriable(), "{err}");
        assert_eq!(err.to_string(), "Timeout while loading consumer groups.");
    }
}
