//! `ferry mm2 translate-offsets`: a consumer group's offsets on the target cluster, as Java's
//! `RemoteClusterUtils.translateOffsets` finds them in the checkpoints topic.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::time::Duration;

use ferry_kafka::ConsumerRecord;
use ferry_kafka::admin::OffsetAndMetadata;
use ferry_kafka::consumer::TopicPartition as ConsumerPartition;

use super::ToolError;
use super::client::Clients;
use crate::policy::replication_policy_from_config;
use crate::records::{Checkpoint, TopicPartition};

/// The prefix of properties that configure only the consumer and override the unprefixed key,
/// as in Java's `MirrorClientConfig`.
const CONSUMER_PREFIX: &str = "consumer.";

/// What [`translate_offsets`] translates, with the arguments of Java's
/// `RemoteClusterUtils.translateOffsets(properties, remoteClusterAlias, consumerGroupId,
/// timeout)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateOptions {
    /// The *target* cluster's `bootstrap.servers`: where the checkpoints topic is.
    pub bootstrap_servers: String,
    /// The alias of the source cluster the group consumed from; the checkpoints topic is
    /// `ALIAS.checkpoints.internal` under the default replication policy.
    pub source_cluster_alias: String,
    /// The consumer group whose offsets to translate.
    pub group_id: String,
    /// How long reading the checkpoints topic to its end may take. Default 60 s (Java's
    /// `default.api.timeout.ms`; Java's method has no default).
    pub timeout: Duration,
    /// Properties as Java's `MirrorClientConfig` takes them: client keys (`consumer.KEY`
    /// overrides `KEY` for the consumer) and the replication policy keys
    /// (`replication.policy.class`, `replication.policy.separator`,
    /// `replication.policy.internal.topic.separator.enabled`), which name the checkpoints topic.
    pub properties: Vec<(String, String)>,
}

impl TranslateOptions {
    /// The default of [`TranslateOptions::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Options translating `group_id`'s offsets from `source_cluster_alias` into the cluster at
    /// `bootstrap_servers`, with every default.
    pub fn new(
        bootstrap_servers: impl Into<String>,
        source_cluster_alias: impl Into<String>,
        group_id: impl Into<String>,
    ) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            source_cluster_alias: source_cluster_alias.into(),
            group_id: group_id.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            properties: Vec::new(),
        }
    }
}

/// The group's offsets translated to the target cluster, keyed by the partitions as named
/// there (the remote topics, `A.orders` for `orders` from cluster `A`): for each partition the
/// downstream offset and metadata of the group's latest checkpoint.
///
/// As in Java, partition 0 of the checkpoints topic (MirrorMaker 2 creates it with one) is read
/// from the beginning; records that do not decode are skipped. Unlike Java, which returns the
/// offsets read so far when its timeout passes, this fails with [`ToolError::Timeout`] unless it
/// read to the end the topic had when reading started, so a partial answer is never mistaken for
/// a complete one; a missing checkpoints topic is [`ToolError::UnknownTopic`].
///
/// ```no_run
/// # async fn demo() -> Result<(), ferry_mirror::tools::ToolError> {
/// use ferry_mirror::tools::{TranslateOptions, print_offsets, translate_offsets};
///
/// let options = TranslateOptions::new("target:9092", "A", "orders-app");
/// let offsets = translate_offsets(&options).await?;
/// print_offsets(&offsets, &mut std::io::stdout())?;
/// # Ok(()) }
/// ```
pub async fn translate_offsets(
    options: &TranslateOptions,
) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, ToolError> {
    let settings: HashMap<String, String> = options.properties.iter().cloned().collect();
    let policy = replication_policy_from_config(&settings)?;
    let topic = policy.checkpoints_topic(&options.source_cluster_alias);
    let read = read_checkpoints(options, &topic);
    tokio::time::timeout(options.timeout, read)
        .await
        .map_err(|_| ToolError::Timeout {
            topic: topic.clone(),
            after: options.timeout,
        })?
}

/// Writes one `TOPIC PARTITION OFFSET` line per partition, sorted by topic then partition.
///
/// ```
/// use std::collections::BTreeMap;
/// use ferry_kafka::admin::OffsetAndMetadata;
/// use ferry_mirror::records::TopicPartition;
/// use ferry_mirror::tools::print_offsets;
///
/// let offsets = BTreeMap::from([
///     (TopicPartition::new("A.orders", 1), OffsetAndMetadata::new(7)),
///     (TopicPartition::new("A.orders", 0), OffsetAndMetadata::new(42)),
/// ]);
/// let mut out = Vec::new();
/// print_offsets(&offsets, &mut out)?;
/// assert_eq!(String::from_utf8(out).unwrap(), "A.orders 0 42\nA.orders 1 7\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn print_offsets(
    offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    out: &mut impl Write,
) -> io::Result<()> {
    for (tp, offset) in offsets {
        writeln!(out, "{} {} {}", tp.topic, tp.partition, offset.offset)?;
    }
    out.flush()
}

/// Reads partition 0 of `topic` from its beginning to its current end, keeping the latest
/// checkpoint of the group per partition.
async fn read_checkpoints(
    options: &TranslateOptions,
    topic: &str,
) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, ToolError> {
    let clients = Clients::new(
        &options.bootstrap_servers,
        &consumer_properties(&options.properties),
    )?;
    // Fails on a missing topic, which the consumer would otherwise wait for.
    clients.partitions_of(topic).await?;
    let consumer = &clients.consumer;
    let tp = ConsumerPartition::new(topic, 0);
    let assignment = std::slice::from_ref(&tp);
    consumer.assign(assignment.iter().cloned());
    consumer.seek_to_beginning(assignment)?;
    // The end a Fetch reports is exact on every broker, where ListOffsets is not always.
    let end = consumer.end_offsets_from_fetch(assignment).await?;
    let end = end.get(&tp).copied().unwrap_or_default();
    let mut offsets = BTreeMap::new();
    while consumer.position(&tp).await? < end {
        for record in consumer.poll(options.timeout).await? {
            match decode(&record) {
                Ok(checkpoint) if checkpoint.consumer_group_id == options.group_id => {
                    let offset = OffsetAndMetadata {
                        offset: checkpoint.downstream_offset,
                        leader_epoch: None,
                        metadata: checkpoint.metadata,
                    };
                    offsets.insert(checkpoint.topic_partition, offset);
                }
                Ok(_) => {}
                Err(reason) => tracing::info!(
                    "skipping record {tp} at offset {} that is not a checkpoint: {reason}",
                    record.offset
                ),
            }
        }
    }
    Ok(offsets)
}

fn decode(record: &ConsumerRecord) -> Result<Checkpoint, String> {
    match (&record.key, &record.value) {
        (Some(key), Some(value)) => Checkpoint::decode(key, value).map_err(|e| e.to_string()),
        _ => Err("null key or value".to_owned()),
    }
}

/// The consumer's properties: the unprefixed ones, overridden by the `consumer.`-prefixed ones
/// with the prefix removed.
fn consumer_properties(properties: &[(String, String)]) -> Vec<(String, String)> {
    let (prefixed, plain): (Vec<_>, Vec<_>) = properties
        .iter()
        .cloned()
        .partition(|(k, _)| k.starts_with(CONSUMER_PREFIX));
    let overrides = prefixed
        .into_iter()
        .map(|(k, v)| (k[CONSUMER_PREFIX.len()..].to_owned(), v));
    // Later pairs win when the client configs are parsed.
    plain.into_iter().chain(overrides).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn consumer_prefixed_properties_override_plain_ones() {
        let props = pairs(&[
            ("consumer.client.id", "mm2-client"),
            ("client.id", "plain"),
            ("fetch.max.wait.ms", "50"),
        ]);
        assert_eq!(
            consumer_properties(&props),
            pairs(&[
                ("client.id", "plain"),
                ("fetch.max.wait.ms", "50"),
                ("client.id", "mm2-client"),
            ])
        );
    }

    #[test]
    fn offsets_print_sorted_by_topic_then_partition() {
        let offsets = BTreeMap::from([
            (TopicPartition::new("b", 0), OffsetAndMetadata::new(1)),
            (TopicPartition::new("a", 10), OffsetAndMetadata::new(2)),
            (TopicPartition::new("a", 9), OffsetAndMetadata::new(3)),
        ]);
        let mut out = Vec::new();
        print_offsets(&offsets, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a 9 3\na 10 2\nb 0 1\n");
    }
}
