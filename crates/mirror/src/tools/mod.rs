//! MirrorMaker 2's command-line tools as a library, for `ferry mm2 format` and
//! `ferry mm2 translate-offsets`:
//!
//! - [`format()`]: prints the records of a heartbeats, checkpoints or offset-syncs topic, one line
//!   each, exactly as Java's KIP-597 formatters do under `kafka-console-consumer`;
//! - [`translate_offsets`]: a consumer group's offsets translated to the target cluster, read from
//!   its checkpoints topic as Java's `RemoteClusterUtils.translateOffsets` does, and
//!   [`print_offsets`] to print them.
//!
//! Both take clap-free option structs whose fields map one to one onto command-line flags.

mod client;
mod format;
mod translate;

use std::time::Duration;

use thiserror::Error;

use crate::policy::UnknownPolicyError;

pub use format::{FormatOptions, FormatSummary, RecordKind, UnknownRecordKind, format};
pub use translate::{TranslateOptions, print_offsets, translate_offsets};

/// Why a tool failed.
#[derive(Debug, Error)]
pub enum ToolError {
    /// A client call failed, or a client property was invalid.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::Error),
    /// `replication.policy.class` names a policy Ferry does not have.
    #[error(transparent)]
    Policy(#[from] UnknownPolicyError),
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The topic to read does not exist on the cluster.
    #[error("topic '{0}' does not exist on the cluster")]
    UnknownTopic(String),
    /// No topic was given and the cluster has no topic of this kind to default to.
    #[error("no {kind} topic on the cluster: name the topic or the cluster alias")]
    NoTopic {
        /// The kind of records looked for.
        kind: RecordKind,
    },
    /// No topic was given and the cluster has several topics of this kind.
    #[error("several {kind} topics on the cluster ({}): name the topic", candidates.join(", "))]
    AmbiguousTopic {
        /// The kind of records looked for.
        kind: RecordKind,
        /// The topics that would fit, sorted.
        candidates: Vec<String>,
    },
    /// The topic was not read to its end within the allowed time.
    #[error("could not read topic '{topic}' to its end within {after:?}")]
    Timeout {
        /// The topic being read.
        topic: String,
        /// The time allowed.
        after: Duration,
    },
}
