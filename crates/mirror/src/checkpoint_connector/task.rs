//! `MirrorCheckpointTask`: emits checkpoints for its consumer groups and, with
//! `sync.group.offsets.enabled`, writes them into the target's groups.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ferry_connect::connector::{ConfigMap, SourceTask};
use ferry_connect::data::{Schema, Value};
use ferry_connect::record::SourceRecord;
use ferry_connect::{ConnectError, Result, async_trait};
use ferry_kafka::admin::{
    GroupDescription, OffsetAndMetadata as KafkaOffset, TopicPartition as KafkaTopicPartition,
};
use ferry_kafka::{Admin, KafkaCode};
use tracing::{debug, info, warn};

use super::read::TopicReader;
use crate::checkpoint::{CheckpointStore, Flow, OffsetAndMetadata, offsets_to_sync};
use crate::config::{
    EMIT_CHECKPOINTS, MirrorConfig, SYNC_GROUP_OFFSETS, Side, TASK_ASSIGNED_GROUPS,
    checkpoint_config_def, kafka_error, task_config_def,
};
use crate::filter::DefaultTopicFilter;
use crate::offset_sync_store::OffsetSyncStore;
use crate::records::{Checkpoint, OffsetSync, TopicPartition};
use crate::schedule::{Background, Pacer, repeat};
use crate::source_maps::{checkpoint_partition, wrap_offset};

/// Emits a checkpoint per consumer group and partition of its `task.assigned.groups` every
/// `emit.checkpoints.interval.seconds`; Java's
/// `org.apache.kafka.connect.mirror.MirrorCheckpointTask`.
///
/// Before the first checkpoint it reads the checkpoints topic (to continue from the last
/// checkpoints) and the offset-syncs topic to their ends, and then keeps reading offset syncs.
/// A checkpoint never moves a group's downstream offset back unless the group was rewound
/// upstream ([`CheckpointStore::is_more_recent`]).
#[derive(Debug, Default)]
pub struct MirrorCheckpointTask {
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    config: MirrorConfig,
    groups: Vec<String>,
    pacer: Pacer,
    topic_filter: DefaultTopicFilter,
    source: Admin,
    state: Arc<Mutex<State>>,
    background: Background,
}

/// What the task learns in the background and uses in `poll`.
#[derive(Debug)]
struct State {
    syncs: OffsetSyncStore,
    checkpoints: CheckpointStore,
    /// Whether both topics were read to their ends once.
    initialized: bool,
}

/// A group's committed offsets as the admin client returns them.
type GroupOffsets = BTreeMap<KafkaTopicPartition, KafkaOffset>;

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl SourceTask for MirrorCheckpointTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let def = task_config_def(checkpoint_config_def(), TASK_ASSIGNED_GROUPS);
        let config = MirrorConfig::parse(&def, &props)?;
        let groups = config.get_list(TASK_ASSIGNED_GROUPS);
        let state = Arc::new(Mutex::new(State {
            syncs: OffsetSyncStore::new(false),
            checkpoints: CheckpointStore::default(),
            initialized: false,
        }));
        let mut background = Background::default();
        background.push(tokio::spawn(load_and_follow(
            config.clone(),
            groups.iter().cloned().collect(),
            state.clone(),
        )));
        if let Some(period) = config.interval(SYNC_GROUP_OFFSETS) {
            let target = Arc::new(config.admin(Side::Target, "checkpoint-target-admin")?);
            let state = state.clone();
            background.push(repeat(
                period,
                true,
                "syncing consumer group offsets",
                move || {
                    let (target, state) = (target.clone(), state.clone());
                    async move {
                        sync_group_offsets(&target, &state).await;
                        Ok(())
                    }
                },
            ));
        }
        info!(
            "Checkpointing {} consumer groups {}->{}: {groups:?}.",
            groups.len(),
            config.source_alias(),
            config.target_alias()
        );
        self.running = Some(Running {
            pacer: Pacer::new(config.interval(EMIT_CHECKPOINTS).unwrap_or(Duration::ZERO)),
            topic_filter: config.topic_filter()?,
            source: config.admin(Side::Source, "checkpoint-source-admin")?,
            config,
            groups,
            state,
            background,
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let running = self
            .running
            .as_mut()
            .ok_or_else(|| ConnectError::IllegalState("the task is not started".into()))?;
        running.pacer.due().await;
        if !lock(&running.state).initialized {
            running.pacer.emitted();
            return Ok(Vec::new());
        }
        // Every await happens before any state changes, so a poll dropped by the runtime
        // loses nothing: the next one reads the groups' offsets again.
        let mut committed = Vec::with_capacity(running.groups.len());
        for group in &running.groups {
            match running.source.list_group_offsets(group, None).await {
                Ok(offsets) => committed.push((group, offsets)),
                Err(e) => warn!(
                    "Error querying offsets for consumer group {group} on cluster {}: {e}",
                    running.config.source_alias()
                ),
            }
        }
        let mut records = Vec::new();
        for (group, offsets) in committed {
            records.extend(running.checkpoints_for_group(group, offsets)?);
        }
        running.pacer.emitted();
        Ok(records)
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(mut running) = self.running.take() {
            running.background.stop();
        }
        Ok(())
    }
}

impl Running {
    /// The new checkpoints of `group` from its `committed` offsets on the source, recorded as
    /// emitted.
    fn checkpoints_for_group(
        &self,
        group: &str,
        committed: GroupOffsets,
    ) -> Result<Vec<SourceRecord>> {
        let timestamp = crate::now_ms();
        let upstream: Vec<(TopicPartition, OffsetAndMetadata)> = committed
            .into_iter()
            .map(|((topic, partition), o)| {
                let offset = OffsetAndMetadata {
                    offset: o.offset,
                    metadata: o.metadata,
                };
                (TopicPartition::new(topic, partition), offset)
            })
            .collect();
        let flow = Flow {
            source_cluster_alias: self.config.source_alias(),
            target_cluster_alias: self.config.target_alias(),
            policy: self.config.policy().as_ref(),
        };
        let mut state = lock(&self.state);
        let State {
            syncs, checkpoints, ..
        } = &mut *state;
        let new = flow.checkpoints_for_group(
            group,
            upstream.iter().map(|(tp, o)| (tp, o)),
            &self.topic_filter,
            syncs,
            checkpoints,
        );
        let topic = self.config.checkpoints_topic();
        let mut records = Vec::with_capacity(new.len());
        for checkpoint in new.into_values() {
            records.push(checkpoint_record(&checkpoint, &topic, timestamp)?);
            checkpoints.insert(checkpoint);
        }
        Ok(records)
    }
}

fn checkpoint_record(checkpoint: &Checkpoint, topic: &str, timestamp: i64) -> Result<SourceRecord> {
    let encode = |e: crate::records::EncodeError| ConnectError::data(e.to_string());
    Ok(SourceRecord {
        source_partition: Some(Arc::new(checkpoint_partition(checkpoint))),
        source_offset: Some(wrap_offset(0).into()),
        topic: topic.to_owned(),
        kafka_partition: Some(0),
        key_schema: Some(Schema::bytes()),
        key: Some(Value::Bytes(checkpoint.encode_key().map_err(encode)?)),
        value_schema: Some(Schema::bytes()),
        value: Some(Value::Bytes(checkpoint.encode_value().map_err(encode)?)),
        timestamp: Some(timestamp),
        headers: Default::default(),
    })
}

/// Reads the previous checkpoints of `groups` and the offset syncs to their ends, marks the
/// task initialized, then follows the offset syncs for as long as the task runs.
async fn load_and_follow(config: MirrorConfig, groups: HashSet<String>, state: Arc<Mutex<State>>) {
    let loaded = load_checkpoints(&config, &groups).await;
    let checkpoints_read = loaded.is_some();
    let (syncs_side, role) = if config.offset_syncs_on_source() {
        (Side::Source, "offset-syncs-source-consumer")
    } else {
        (Side::Target, "offset-syncs-target-consumer")
    };
    let mut syncs = OffsetSyncStore::new(!checkpoints_read);
    let reader = loop {
        let opened = config
            .consumer(syncs_side, role)
            .and_then(|c| TopicReader::new(c, &config.offset_syncs_topic()).map_err(kafka_error));
        let reader = match opened {
            Ok(reader) => reader,
            Err(e) => {
                warn!("Cannot read the offset syncs: {e}");
                tokio::time::sleep(config.admin_timeout().min(Duration::from_secs(5))).await;
                continue;
            }
        };
        match reader.read_to_end(|r| apply_sync(&mut syncs, r)).await {
            Ok(()) => break reader,
            Err(e) => {
                warn!("Failure reading the offset syncs topic to its end: {e}");
                syncs = OffsetSyncStore::new(!checkpoints_read);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    syncs.finish_initial_read();
    {
        let mut state = lock(&state);
        state.syncs = syncs;
        state.checkpoints = loaded.unwrap_or_default();
        state.initialized = true;
    }
    loop {
        match reader.poll().await {
            Ok(records) => {
                let mut state = lock(&state);
                for record in &records {
                    apply_sync(&mut state.syncs, record);
                }
            }
            Err(e) => {
                warn!("Failure reading offset syncs: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn apply_sync(store: &mut OffsetSyncStore, record: &ferry_kafka::ConsumerRecord) {
    let (Some(key), Some(value)) = (&record.key, &record.value) else {
        return;
    };
    match OffsetSync::decode(key, value) {
        Ok(sync) => store.apply(&sync),
        Err(e) => warn!(
            "Ignored invalid offset sync at offset {}: {e}",
            record.offset
        ),
    }
}

/// The last checkpoint per partition of `groups` in the checkpoints topic; `None` when it could
/// not be read (then offset translation starts only from syncs seen after start-up).
async fn load_checkpoints(
    config: &MirrorConfig,
    groups: &HashSet<String>,
) -> Option<CheckpointStore> {
    let read = async {
        let consumer = config.consumer(Side::Target, "checkpoints-target-consumer")?;
        let reader =
            TopicReader::new(consumer, &config.checkpoints_topic()).map_err(kafka_error)?;
        let mut store = CheckpointStore::default();
        reader
            .read_to_end(|record| {
                let (Some(key), Some(value)) = (&record.key, &record.value) else {
                    return;
                };
                match Checkpoint::decode(key, value) {
                    Ok(cp) if groups.contains(&cp.consumer_group_id) => store.insert(cp),
                    Ok(_) => {}
                    Err(e) => warn!(
                        "Ignored invalid checkpoint record at offset {}: {e}",
                        record.offset
                    ),
                }
            })
            .await
            .map_err(kafka_error)?;
        Ok::<_, ConnectError>(store)
    };
    match tokio::time::timeout(config.admin_timeout(), read).await {
        Ok(Ok(store)) => Some(store),
        Ok(Err(e)) => {
            info!(
                "Exception encountered loading checkpoints topic {} - this may degrade offset \
                 translation as only checkpoints for offsets which were mirrored after the task \
                 started will be emitted: {e}",
                config.checkpoints_topic()
            );
            None
        }
        Err(_) => None,
    }
}

/// Writes each group's checkpointed offsets into the target group of the same name, unless the
/// group has active members there; never moves a target offset back.
async fn sync_group_offsets(target: &Admin, state: &Mutex<State>) {
    let converted = lock(state).checkpoints.converted_upstream_offsets();
    // In name order, so that one pass is predictable for whoever watches the target.
    let converted: BTreeMap<_, _> = converted.into_iter().collect();
    for (group, offsets) in converted {
        let described = target
            .describe_groups(&[group.as_str()])
            .await
            .map(|mut all| all.remove(&group));
        if !may_sync(&group, described) {
            continue;
        }
        let Some(current) = target_offsets(target, &group).await else {
            continue;
        };
        let to_sync = offsets_to_sync(&offsets, Some(&current));
        if to_sync.is_empty() {
            continue;
        }
        let request: BTreeMap<(String, i32), KafkaOffset> = to_sync
            .into_iter()
            .map(|(tp, o)| {
                let offset = KafkaOffset {
                    offset: o.offset,
                    leader_epoch: None,
                    metadata: o.metadata,
                };
                ((tp.topic, tp.partition), offset)
            })
            .collect();
        match target.alter_group_offsets(&group, &request).await {
            Ok(results) => {
                for ((topic, partition), result) in results {
                    match result {
                        Ok(()) => {}
                        Err(e) if e.kafka_code() == Some(KafkaCode::UnknownMemberId) => warn!(
                            "Unable to sync offsets for consumer group {group}. This is likely \
                             caused by consumers currently using this group in the target cluster."
                        ),
                        Err(e) => {
                            warn!("Unable to sync offset of {group} for {topic}-{partition}: {e}")
                        }
                    }
                }
            }
            Err(e) => warn!("Unable to sync offsets for consumer group {group}: {e}"),
        }
    }
}

/// Whether offsets may be written into target group `group`, given how it was described: not
/// while it has members (the broker would refuse, and the members own their offsets), nor when
/// the group could not be described; yes when it is empty or unknown to the target.
fn may_sync(
    group: &str,
    described: ferry_kafka::Result<Option<ferry_kafka::Result<GroupDescription>>>,
) -> bool {
    match described {
        Ok(Some(Ok(description))) if !description.members.is_empty() => {
            debug!("Not syncing offsets of {group}: it is active on the target");
            false
        }
        Ok(Some(Err(e))) | Err(e) if e.kafka_code() != Some(KafkaCode::GroupIdNotFound) => {
            warn!("Error querying for consumer group {group} on the target: {e}");
            false
        }
        _ => true,
    }
}

async fn target_offsets(
    target: &Admin,
    group: &str,
) -> Option<HashMap<TopicPartition, Option<i64>>> {
    match target.list_group_offsets(group, None).await {
        Ok(offsets) => Some(
            offsets
                .into_iter()
                .map(|((topic, partition), o)| {
                    (
                        TopicPartition::new(topic, partition),
                        (o.offset >= 0).then_some(o.offset),
                    )
                })
                .collect(),
        ),
        Err(e) => {
            warn!("Error listing offsets of consumer group {group} on the target: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use ferry_kafka::admin::{GroupDescription, MemberDescription};
    use ferry_kafka::{Error, KafkaCode};

    use super::may_sync;

    fn group(members: usize, state: &str) -> GroupDescription {
        GroupDescription {
            group_id: "g".into(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: String::new(),
            members: (0..members)
                .map(|i| MemberDescription {
                    member_id: format!("m{i}"),
                    group_instance_id: None,
                    client_id: String::new(),
                    client_host: String::new(),
                    metadata: Default::default(),
                    assignment: Default::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn only_empty_or_unknown_target_groups_are_written() {
        assert!(may_sync("g", Ok(Some(Ok(group(0, "Empty"))))));
        assert!(may_sync("g", Ok(Some(Ok(group(0, "Dead"))))));
        assert!(may_sync("g", Ok(None)));
        assert!(!may_sync("g", Ok(Some(Ok(group(2, "Stable"))))));
        let not_found = Error::Kafka {
            code: KafkaCode::GroupIdNotFound,
            message: None,
        };
        assert!(may_sync("g", Ok(Some(Err(not_found)))));
        let unavailable = Error::Kafka {
            code: KafkaCode::CoordinatorNotAvailable,
            message: None,
        };
        assert!(!may_sync("g", Ok(Some(Err(unavailable.clone())))));
        assert!(!may_sync("g", Err(unavailable)));
    }
}
