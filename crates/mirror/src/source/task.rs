//! `MirrorSourceTask`: consumes its source partitions and hands their records to the worker
//! under their remote topic names; writes offset syncs as the worker acknowledges them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::connector::{ConfigMap, RecordMetadata, SourceTask, SourceTaskContext};
use ferry_connect::data::{Schema, Value};
use ferry_connect::header::{Header, Headers};
use ferry_connect::record::{SourceMap, SourceOffset, SourceRecord};
use ferry_connect::{ConnectError, Result, async_trait};
use ferry_kafka::Consumer;
use ferry_kafka::consumer::{ConsumerRecord, TopicPartition as KafkaPartition};
use tracing::{error, info, warn};

use super::offset_sync_writer::OffsetSyncWriter;
use crate::config::{
    EMIT_OFFSET_SYNCS_ENABLED, MirrorConfig, OFFSET_LAG_MAX, Side, TASK_ASSIGNED_PARTITIONS,
    source_config_def, task_config_def,
};
use crate::policy::ReplicationPolicy;
use crate::records::TopicPartition;
use crate::source_maps::{
    OFFSET_KEY, decode_topic_partition, unwrap_offset, unwrap_partition, wrap_partition,
};

/// Replicates the source partitions of its `task.assigned.partitions`; Java's
/// `org.apache.kafka.connect.mirror.MirrorSourceTask`.
///
/// Each partition resumes after the offset last committed for its source partition
/// `{"cluster", "partition", "topic"}` (offset `{"offset": N}`, Java's layout), or from the
/// source consumer's `auto.offset.reset` (`earliest` unless overridden) when there is none.
/// Records keep their partition, key, value, headers and timestamp; keys, values and header
/// values stay `Bytes` slices of the fetched data, for `ByteArrayConverter`.
#[derive(Debug, Default)]
pub struct MirrorSourceTask {
    context: Option<Arc<dyn SourceTaskContext>>,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    source_alias: String,
    policy: Arc<dyn ReplicationPolicy>,
    consumer: Consumer,
    poll_timeout: Duration,
    offset_syncs: Option<OffsetSyncWriter>,
    templates: Vec<PartitionTemplate>,
    /// Each template's index in `templates`.
    template_index: HashMap<(Arc<str>, i32), usize>,
    /// The template of the latest record converted: consecutive records mostly share one, and
    /// comparing is cheaper than hashing the topic.
    last_template: Option<usize>,
    /// The source partition of the latest record written, and its topic-partition.
    last_written: Option<(Arc<SourceMap>, TopicPartition)>,
}

/// What every record of one source partition shares, made once rather than per record.
#[derive(Debug)]
struct PartitionTemplate {
    topic: Arc<str>,
    partition: i32,
    source_partition: Arc<SourceMap>,
    remote_topic: String,
}

impl Running {
    fn template(&mut self, topic: &Arc<str>, partition: i32) -> &PartitionTemplate {
        if let Some(last) = self.last_template {
            let t = &self.templates[last];
            if t.partition == partition && (Arc::ptr_eq(&t.topic, topic) || t.topic == *topic) {
                return &self.templates[last];
            }
        }
        let index = *self
            .template_index
            .entry((topic.clone(), partition))
            .or_insert_with(|| {
                let source_tp = TopicPartition::new(&**topic, partition);
                self.templates.push(PartitionTemplate {
                    topic: topic.clone(),
                    partition,
                    source_partition: Arc::new(wrap_partition(&source_tp, &self.source_alias)),
                    remote_topic: self.policy.format_remote_topic(&self.source_alias, topic),
                });
                self.templates.len() - 1
            });
        self.last_template = Some(index);
        &self.templates[index]
    }

    fn convert(&mut self, record: ConsumerRecord) -> SourceRecord {
        let template = self.template(&record.topic, record.partition);
        let mut headers = Headers::new();
        for header in record.headers {
            let schema = if header.value.is_some() {
                Schema::bytes()
            } else {
                Schema::optional_bytes()
            };
            headers.push(Header::new(
                header.key.as_str(),
                Some(schema),
                header.value.map(Value::Bytes),
            ));
        }
        SourceRecord {
            source_partition: Some(template.source_partition.clone()),
            // Java's `{"offset": N}`, without a map per record.
            source_offset: Some(SourceOffset::long(OFFSET_KEY, record.offset)),
            topic: template.remote_topic.clone(),
            kafka_partition: Some(record.partition),
            key_schema: Some(Schema::optional_bytes()),
            key: record.key.map(Value::Bytes),
            value_schema: Some(Schema::bytes()),
            value: record.value.map(Value::Bytes),
            timestamp: Some(record.timestamp),
            headers,
        }
    }
}

impl MirrorSourceTask {
    fn running(&mut self) -> Result<&mut Running> {
        self.running
            .as_mut()
            .ok_or_else(|| ConnectError::IllegalState("the task is not started".into()))
    }
}

#[async_trait]
impl SourceTask for MirrorSourceTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    fn initialize(&mut self, context: Arc<dyn SourceTaskContext>) {
        self.context = Some(context);
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let def = task_config_def(source_config_def(), TASK_ASSIGNED_PARTITIONS);
        let config = MirrorConfig::parse(&def, &props)?;
        let source_alias = config.source_alias().to_owned();
        let partitions: Vec<TopicPartition> = config
            .get_list(TASK_ASSIGNED_PARTITIONS)
            .iter()
            .map(|text| {
                decode_topic_partition(text).ok_or_else(|| {
                    ConnectError::other(format!(
                        "invalid {TASK_ASSIGNED_PARTITIONS} entry '{text}'"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        let offset_syncs = if config.get_bool(EMIT_OFFSET_SYNCS_ENABLED) {
            let (side, role) = if config.offset_syncs_on_source() {
                (Side::Source, "offset-syncs-source-producer")
            } else {
                (Side::Target, "offset-syncs-target-producer")
            };
            Some(OffsetSyncWriter::new(
                config.producer(side, role)?,
                config.offset_syncs_topic(),
                config.get_long(OFFSET_LAG_MAX),
            ))
        } else {
            None
        };
        let consumer = config.consumer(Side::Source, "replication-consumer")?;
        let reader = self
            .context
            .as_ref()
            .ok_or_else(|| ConnectError::IllegalState("the task was not initialized".into()))?
            .offset_storage_reader();
        let keys: Vec<_> = partitions
            .iter()
            .map(|tp| wrap_partition(tp, &source_alias))
            .collect();
        let committed = reader.offsets(&keys).await?;
        consumer.assign(
            partitions
                .iter()
                .map(|tp| KafkaPartition::new(tp.topic.as_str(), tp.partition)),
        );
        let mut resumed = 0;
        for (partition, offset) in &committed {
            let (Some(tp), Some(offset)) =
                (unwrap_partition(partition), unwrap_offset(Some(offset)))
            else {
                continue;
            };
            if offset < 0 {
                continue;
            }
            consumer
                .seek(
                    &KafkaPartition::new(tp.topic.as_str(), tp.partition),
                    offset + 1,
                )
                .map_err(|e| ConnectError::other(e.to_string()))?;
            resumed += 1;
        }
        info!(
            "Replicating {} topic-partitions {}->{} ({resumed} resumed from committed offsets): {:?}",
            partitions.len(),
            source_alias,
            config.target_alias(),
            partitions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
        self.running = Some(Running {
            source_alias,
            policy: config.policy().clone(),
            consumer,
            poll_timeout: config.consumer_poll_timeout(),
            offset_syncs,
            templates: Vec::new(),
            template_index: HashMap::new(),
            last_template: None,
            last_written: None,
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let running = self.running()?;
        match running.consumer.poll(running.poll_timeout).await {
            Ok(records) => Ok(records.into_iter().map(|r| running.convert(r)).collect()),
            Err(e) => {
                // Java logs and polls again; pause so that a lasting failure does not spin.
                warn!("Failure during poll: {e}");
                tokio::time::sleep(running.poll_timeout).await;
                Ok(Vec::new())
            }
        }
    }

    async fn commit(&mut self) -> Result<()> {
        if let Some(writer) = self.running()?.offset_syncs.as_mut() {
            writer.commit().await;
        }
        Ok(())
    }

    /// Offset syncs need only where a record came from and where it went.
    fn commit_record_reads_payload(&self) -> bool {
        false
    }

    async fn commit_record(
        &mut self,
        record: &SourceRecord,
        metadata: Option<&RecordMetadata>,
    ) -> Result<()> {
        let Some(metadata) = metadata else {
            return Ok(());
        };
        if metadata.offset < 0 {
            error!(
                "RecordMetadata has no offset -- can't sync offsets for {}.",
                record.topic
            );
            return Ok(());
        }
        let running = self.running()?;
        let Some(writer) = running.offset_syncs.as_mut() else {
            return Ok(());
        };
        let (Some(partition), Some(upstream)) = (
            record.source_partition.as_ref(),
            record
                .source_offset
                .as_ref()
                .and_then(|o| o.get_i64(OFFSET_KEY)),
        ) else {
            return Ok(());
        };
        // Records of one partition share their source partition map: its topic-partition is
        // read once per run of them, not per record.
        let known = running
            .last_written
            .as_ref()
            .is_some_and(|(last, _)| Arc::ptr_eq(last, partition));
        if !known {
            let Some(tp) = unwrap_partition(partition) else {
                return Ok(());
            };
            running.last_written = Some((partition.clone(), tp));
        }
        if let Some((_, tp)) = &running.last_written {
            writer.record(tp, upstream, metadata.offset).await;
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(running) = self.running.take() {
            running.consumer.unassign();
            if let Some(writer) = running.offset_syncs {
                writer.close().await;
            }
        }
        Ok(())
    }
}
