//! `ferry mm2 format`: prints MirrorMaker 2's internal records as Java's formatters do.

use std::collections::HashMap;
use std::fmt::{self, Display, Formatter};
use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use ferry_kafka::ConsumerRecord;
use thiserror::Error;

use super::ToolError;
use super::client::Clients;
use crate::format::RecordFormatter;
use crate::policy::{ReplicationPolicy, replication_policy_from_config};

/// Which of MirrorMaker 2's internal records a topic holds.
///
/// Parses from its command-line name or from the Java formatter's class name:
///
/// ```
/// use ferry_mirror::tools::RecordKind;
/// assert_eq!("offset-syncs".parse::<RecordKind>(), Ok(RecordKind::OffsetSyncs));
/// assert_eq!(
///     "org.apache.kafka.connect.mirror.formatters.CheckpointFormatter".parse::<RecordKind>(),
///     Ok(RecordKind::Checkpoints)
/// );
/// assert_eq!(RecordKind::Heartbeats.to_string(), "heartbeats");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// Heartbeats, printed as `HeartbeatFormatter` does.
    Heartbeats,
    /// Checkpoints, printed as `CheckpointFormatter` does.
    Checkpoints,
    /// Offset syncs, printed as `OffsetSyncFormatter` does.
    OffsetSyncs,
}

impl RecordKind {
    /// Every kind, in command-line order.
    pub const ALL: [RecordKind; 3] = [Self::Heartbeats, Self::Checkpoints, Self::OffsetSyncs];

    /// The command-line name: `heartbeats`, `checkpoints` or `offset-syncs`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Heartbeats => "heartbeats",
            Self::Checkpoints => "checkpoints",
            Self::OffsetSyncs => "offset-syncs",
        }
    }

    /// The Java formatter for this kind of record.
    pub fn formatter(self) -> RecordFormatter {
        match self {
            Self::Heartbeats => RecordFormatter::Heartbeat,
            Self::Checkpoints => RecordFormatter::Checkpoint,
            Self::OffsetSyncs => RecordFormatter::OffsetSync,
        }
    }

    /// Whether `topic` looks like a topic of this kind under `policy`.
    fn matches(self, policy: &dyn ReplicationPolicy, topic: &str) -> bool {
        match self {
            Self::Heartbeats => policy.is_heartbeats_topic(topic),
            Self::Checkpoints => policy.is_checkpoints_topic(topic),
            Self::OffsetSyncs => {
                topic.starts_with("mm2-offset-syncs") && policy.is_mm2_internal_topic(topic)
            }
        }
    }
}

impl Display for RecordKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is neither a [`RecordKind`] nor a Java formatter class.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown record kind '{0}': expected heartbeats, checkpoints or offset-syncs")]
pub struct UnknownRecordKind(pub String);

impl FromStr for RecordKind {
    type Err = UnknownRecordKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let by_formatter = RecordFormatter::from_class_name(s)
            .and_then(|f| Self::ALL.into_iter().find(|k| k.formatter() == f));
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .or(by_formatter)
            .ok_or_else(|| UnknownRecordKind(s.to_owned()))
    }
}

/// What [`format()`] reads and when it stops. [`FormatOptions::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// The kind of records in the topic, which chooses the formatter.
    pub kind: RecordKind,
    /// The cluster's `bootstrap.servers` (`host:port[,host:port...]`).
    pub bootstrap_servers: String,
    /// The topic to read. Without it: `heartbeats` for heartbeats; for checkpoints and offset
    /// syncs the topic named after [`FormatOptions::cluster_alias`], or else the only topic of
    /// that kind on the cluster (an error when there is none or there are several).
    pub topic: Option<String>,
    /// Names the topic when [`FormatOptions::topic`] is not given: for checkpoints the alias of
    /// the *source* cluster (`ALIAS.checkpoints.internal`, on the target cluster), for offset
    /// syncs the alias of the *target* cluster (`mm2-offset-syncs.ALIAS.internal`, on the source
    /// cluster by default). Ignored for heartbeats.
    pub cluster_alias: Option<String>,
    /// Start at the beginning of every partition instead of printing only records that arrive
    /// from now on (the console consumer's `--from-beginning`). Default `false`.
    pub from_beginning: bool,
    /// Stop after this many records, printed or skipped, as the console consumer's
    /// `--max-messages`. Default: no limit.
    pub max_messages: Option<u64>,
    /// Stop once no record has arrived for this long, as the console consumer's `--timeout-ms`.
    /// Default: wait for records forever.
    pub idle_timeout: Option<Duration>,
    /// Client properties (`--consumer-property key=value`), with Java's keys. The replication
    /// policy keys (`replication.policy.class`, `replication.policy.separator`) are read from
    /// them too, to name the topic from [`FormatOptions::cluster_alias`].
    pub properties: Vec<(String, String)>,
}

impl FormatOptions {
    /// Options reading `kind` records from `bootstrap_servers`, with every default.
    ///
    /// ```
    /// use ferry_mirror::tools::{FormatOptions, RecordKind};
    /// let options = FormatOptions::new(RecordKind::Heartbeats, "localhost:9092");
    /// assert!(!options.from_beginning);
    /// assert_eq!(options.max_messages, None);
    /// ```
    pub fn new(kind: RecordKind, bootstrap_servers: impl Into<String>) -> Self {
        Self {
            kind,
            bootstrap_servers: bootstrap_servers.into(),
            topic: None,
            cluster_alias: None,
            from_beginning: false,
            max_messages: None,
            idle_timeout: None,
            properties: Vec::new(),
        }
    }
}

/// How many records [`format()`] consumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FormatSummary {
    /// Records printed.
    pub printed: u64,
    /// Records that did not decode, reported and skipped.
    pub skipped: u64,
}

impl FormatSummary {
    /// Every record consumed, printed or skipped: the count the console consumer reports as
    /// `Processed a total of N messages`.
    pub fn consumed(&self) -> u64 {
        self.printed + self.skipped
    }
}

/// How long one poll waits when no idle timeout is set: any long time, since polling again
/// changes nothing.
const POLL_FOREVER: Duration = Duration::from_secs(3600);

/// Reads the topic from every partition and writes one line per record to `out`, exactly as
/// Java's formatter prints it (`record.toString()` and a newline). A record that does not
/// decode is reported on `diagnostics` as one line naming its topic, partition and offset, and
/// skipped. Runs until [`FormatOptions::max_messages`] records were consumed or none arrived
/// for [`FormatOptions::idle_timeout`]; without either, until the future is dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), ferry_mirror::tools::ToolError> {
/// use std::time::Duration;
/// use ferry_mirror::tools::{FormatOptions, RecordKind, format};
///
/// let mut options = FormatOptions::new(RecordKind::Checkpoints, "localhost:9092");
/// options.cluster_alias = Some("A".into()); // reads A.checkpoints.internal
/// options.from_beginning = true;
/// options.idle_timeout = Some(Duration::from_secs(5));
/// let summary = format(&options, &mut std::io::stdout(), &mut std::io::stderr()).await?;
/// eprintln!("Processed a total of {} messages", summary.consumed());
/// # Ok(()) }
/// ```
pub async fn format(
    options: &FormatOptions,
    out: &mut impl Write,
    diagnostics: &mut impl Write,
) -> Result<FormatSummary, ToolError> {
    let clients = Clients::new(&options.bootstrap_servers, &options.properties)?;
    let topic = resolve_topic(options, &clients).await?;
    let partitions = clients.partitions_of(&topic).await?;
    let consumer = &clients.consumer;
    consumer.assign(partitions.clone());
    if options.from_beginning {
        consumer.seek_to_beginning(&partitions)?;
    } else {
        // The ends a Fetch reports are exact on every broker, where ListOffsets is not always.
        let ends = consumer.end_offsets_from_fetch(&partitions).await?;
        for (tp, end) in &ends {
            consumer.seek(tp, *end)?;
        }
    }
    let formatter = options.kind.formatter();
    let reached_max = |summary: &FormatSummary| {
        options
            .max_messages
            .is_some_and(|max| summary.consumed() >= max)
    };
    let mut summary = FormatSummary::default();
    while !reached_max(&summary) {
        let records = consumer
            .poll(options.idle_timeout.unwrap_or(POLL_FOREVER))
            .await?;
        if records.is_empty() && options.idle_timeout.is_some() {
            break;
        }
        for record in &records {
            if reached_max(&summary) {
                break;
            }
            match format_record(formatter, record) {
                Ok(line) => {
                    writeln!(out, "{line}")?;
                    summary.printed += 1;
                }
                Err(reason) => {
                    writeln!(
                        diagnostics,
                        "skipping record {}-{} at offset {}: {reason}",
                        record.topic, record.partition, record.offset
                    )?;
                    summary.skipped += 1;
                }
            }
        }
        out.flush()?;
    }
    Ok(summary)
}

/// The formatter's line for `record`, or why it cannot be printed.
fn format_record(formatter: RecordFormatter, record: &ConsumerRecord) -> Result<String, String> {
    match (&record.key, &record.value) {
        (Some(key), Some(value)) => formatter.format(key, value).map_err(|e| e.to_string()),
        (None, _) => Err("the key is null".to_owned()),
        (_, None) => Err("the value is null".to_owned()),
    }
}

/// The topic the options name, or the default for their kind (see [`FormatOptions::topic`]).
async fn resolve_topic(options: &FormatOptions, clients: &Clients) -> Result<String, ToolError> {
    if let Some(topic) = &options.topic {
        return Ok(topic.clone());
    }
    let properties: HashMap<String, String> = options.properties.iter().cloned().collect();
    let policy = replication_policy_from_config(&properties)?;
    Ok(match (options.kind, &options.cluster_alias) {
        (RecordKind::Heartbeats, _) => policy.heartbeats_topic(),
        (RecordKind::Checkpoints, Some(alias)) => policy.checkpoints_topic(alias),
        (RecordKind::OffsetSyncs, Some(alias)) => policy.offset_syncs_topic(alias),
        (kind, None) => {
            let topics = clients.admin.list_topics().await?;
            only_topic_of_kind(kind, policy.as_ref(), &topics)?
        }
    })
}

/// The one topic of `kind` among `topics`.
fn only_topic_of_kind(
    kind: RecordKind,
    policy: &dyn ReplicationPolicy,
    topics: &[String],
) -> Result<String, ToolError> {
    let mut candidates: Vec<String> = topics
        .iter()
        .filter(|t| kind.matches(policy, t))
        .cloned()
        .collect();
    candidates.sort();
    match candidates.len() {
        0 => Err(ToolError::NoTopic { kind }),
        1 => Ok(candidates.remove(0)),
        _ => Err(ToolError::AmbiguousTopic { kind, candidates }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DefaultReplicationPolicy;

    #[test]
    fn kinds_parse_from_names_and_formatter_classes() {
        for kind in RecordKind::ALL {
            assert_eq!(kind.name().parse::<RecordKind>(), Ok(kind));
            assert_eq!(
                kind.formatter().class_name().parse::<RecordKind>(),
                Ok(kind)
            );
        }
        assert_eq!(
            "OffsetSyncFormatter".parse::<RecordKind>(),
            Ok(RecordKind::OffsetSyncs)
        );
        assert_eq!(
            "heartbeat".parse::<RecordKind>(),
            Err(UnknownRecordKind("heartbeat".into()))
        );
    }

    fn topics(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_only_topic_of_a_kind_is_the_default() {
        let policy = DefaultReplicationPolicy::default();
        let all = topics(&[
            "orders",
            "A.orders",
            "A.checkpoints.internal",
            "mm2-offset-syncs.B.internal",
            "mm2-configs.B.internal",
        ]);
        let pick = |kind| only_topic_of_kind(kind, &policy, &all).unwrap();
        assert_eq!(pick(RecordKind::Checkpoints), "A.checkpoints.internal");
        assert_eq!(pick(RecordKind::OffsetSyncs), "mm2-offset-syncs.B.internal");
    }

    #[test]
    fn no_or_several_topics_of_a_kind_are_errors() {
        let policy = DefaultReplicationPolicy::new("_", true);
        let all = topics(&["A_checkpoints_internal", "C_checkpoints_internal", "x"]);
        match only_topic_of_kind(RecordKind::Checkpoints, &policy, &all) {
            Err(ToolError::AmbiguousTopic { kind, candidates }) => {
                assert_eq!(kind, RecordKind::Checkpoints);
                assert_eq!(
                    candidates,
                    ["A_checkpoints_internal", "C_checkpoints_internal"]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            only_topic_of_kind(RecordKind::OffsetSyncs, &policy, &all),
            Err(ToolError::NoTopic {
                kind: RecordKind::OffsetSyncs
            })
        ));
    }
}
