//! The `consumer` protocol's member metadata (a subscription) and assignment: Kafka's
//! `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment`, each prefixed with its
//! `int16` version.
//!
//! Versions 0–3 are read; a newer version is read as version 3, as Java does (new versions
//! may only append fields). Subscriptions and assignments are written at version 3, as Java's
//! clients do; librdkafka writes lower versions, which read the same with defaults.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::TopicName;
use kafka_protocol::messages::consumer_protocol_assignment::{self, ConsumerProtocolAssignment};
use kafka_protocol::messages::consumer_protocol_subscription::{
    self, ConsumerProtocolSubscription,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::connection::guard;
use crate::consumer::TopicPartition;
use crate::group::GroupError;

/// The highest version of both formats.
pub const LATEST_VERSION: i16 = 3;

/// A consumer's member metadata: what it subscribes to and what it owns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription {
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Assignor-specific data (the cooperative-sticky assignor's generation).
    pub user_data: Option<Bytes>,
    /// Partitions the member owns now (version 1+).
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation in which it got them, -1 when unknown (version 2+).
    pub generation_id: i32,
    /// `client.rack` (version 3+).
    pub rack_id: Option<String>,
}

/// The partitions the leader assigns to one member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    /// The assigned partitions.
    pub partitions: Vec<TopicPartition>,
    /// Assignor-specific data.
    pub user_data: Option<Bytes>,
}

impl Subscription {
    /// Encodes at `version` (clamped to 0–3) with its version prefix. Topics and owned
    /// partitions are sorted, as Java writes them.
    pub fn encode(&self, version: i16) -> Bytes {
        let version = version.clamp(0, LATEST_VERSION);
        let mut topics = self.topics.clone();
        topics.sort();
        topics.dedup();
        let mut owned = self.owned_partitions.clone();
        owned.sort();
        let data = ConsumerProtocolSubscription::default()
            .with_topics(topics.into_iter().map(StrBytes::from_string).collect())
            .with_user_data(self.user_data.clone())
            .with_owned_partitions(if version >= 1 {
                group_by_topic(&owned)
                    .into_iter()
                    .map(|(topic, partitions)| {
                        consumer_protocol_subscription::TopicPartition::default()
                            .with_topic(topic_name(&topic))
                            .with_partitions(partitions)
                    })
                    .collect()
            } else {
                Vec::new()
            })
            .with_generation_id(if version >= 2 { self.generation_id } else { -1 })
            .with_rack_id(if version >= 3 {
                self.rack_id.clone().map(StrBytes::from_string)
            } else {
                None
            });
        prefixed(version, |buf| data.encode(buf, version))
    }

    /// Decodes a version-prefixed subscription.
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        let malformed = |reason: String| GroupError::Malformed {
            what: "consumer subscription",
            reason,
        };
        let mut buf = Bytes::copy_from_slice(bytes);
        let version = read_version(&mut buf).map_err(malformed)?;
        check::<ConsumerProtocolSubscription>(&buf, version).map_err(malformed)?;
        let data = ConsumerProtocolSubscription::decode(&mut buf, version)
            .map_err(|e| malformed(e.to_string()))?;
        Ok(Self {
            topics: data.topics.iter().map(|t| t.to_string()).collect(),
            user_data: data.user_data,
            owned_partitions: data
                .owned_partitions
                .iter()
                .flat_map(|tp| {
                    tp.partitions
                        .iter()
                        .map(|p| TopicPartition::new(tp.topic.to_string(), *p))
                })
                .collect(),
            generation_id: data.generation_id,
            rack_id: data
                .rack_id
                .map(|r| r.to_string())
                .filter(|r| !r.is_empty()),
        })
    }
}

impl Assignment {
    /// Encodes at `version` (clamped to 0–3) with its version prefix; partitions are grouped
    /// by topic in order of first appearance, as Java writes them.
    pub fn encode(&self, version: i16) -> Bytes {
        let version = version.clamp(0, LATEST_VERSION);
        let data = ConsumerProtocolAssignment::default()
            .with_assigned_partitions(
                group_by_topic(&self.partitions)
                    .into_iter()
                    .map(|(topic, partitions)| {
                        consumer_protocol_assignment::TopicPartition::default()
                            .with_topic(topic_name(&topic))
                            .with_partitions(partitions)
                    })
                    .collect(),
            )
            .with_user_data(self.user_data.clone());
        prefixed(version, |buf| data.encode(buf, version))
    }

    /// Decodes a version-prefixed assignment. Empty bytes (what a leader sends a member it
    /// left out) are an empty assignment.
    pub fn decode(bytes: &[u8]) -> Result<Self, GroupError> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let malformed = |reason: String| GroupError::Malformed {
            what: "consumer assignment",
            reason,
        };
        let mut buf = Bytes::copy_from_slice(bytes);
        let version = read_version(&mut buf).map_err(malformed)?;
        check::<ConsumerProtocolAssignment>(&buf, version).map_err(malformed)?;
        let data = ConsumerProtocolAssignment::decode(&mut buf, version)
            .map_err(|e| malformed(e.to_string()))?;
        Ok(Self {
            partitions: data
                .assigned_partitions
                .iter()
                .flat_map(|tp| {
                    tp.partitions
                        .iter()
                        .map(|p| TopicPartition::new(tp.topic.to_string(), *p))
                })
                .collect(),
            user_data: data.user_data,
        })
    }
}

/// The bytes come from other members (through the coordinator), so their array counts are
/// checked before kafka-protocol reserves memory for them (see `connection::guard`).
fn check<M: 'static>(buf: &[u8], version: i16) -> Result<(), String> {
    let layout = guard::layout_of::<M>().expect("the consumer protocol formats have layouts");
    guard::check_prefix(buf, layout, version)
}

fn read_version(buf: &mut Bytes) -> Result<i16, String> {
    if buf.remaining() < 2 {
        return Err("no version".into());
    }
    match buf.get_i16() {
        v if v < 0 => Err(format!("version {v}")),
        v => Ok(v.min(LATEST_VERSION)),
    }
}

fn prefixed<E: std::fmt::Debug>(
    version: i16,
    encode: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i16(version);
    encode(&mut buf).expect("consumer protocol data always encodes at versions 0-3");
    buf.freeze()
}

/// Partitions grouped by topic, topics in order of first appearance.
fn group_by_topic(partitions: &[TopicPartition]) -> Vec<(String, Vec<i32>)> {
    let mut grouped: Vec<(String, Vec<i32>)> = Vec::new();
    for tp in partitions {
        match grouped.iter_mut().find(|(t, _)| **t == *tp.topic) {
            Some((_, ps)) => ps.push(tp.partition),
            None => grouped.push((tp.topic.to_string(), vec![tp.partition])),
        }
    }
    grouped
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_owned()))
}

#[cfg(test)]
mod tests;
