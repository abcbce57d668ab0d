//! Which translated consumer-group offsets MirrorMaker 2's checkpoint task emits as checkpoints,
//! and which it writes into the target cluster's groups (Java's `MirrorCheckpointTask` and
//! `CheckpointStore`).
//!
//! A new checkpoint for a group and partition is emitted when it is the first one, when the
//! group's upstream offset went back (the group was rewound upstream: checkpoints may then go
//! back too), or when its downstream offset moved forward. Otherwise it is dropped, so that a
//! coarser translation never moves a checkpoint backwards.
//!
//! ```
//! use ferry_mirror::checkpoint::CheckpointStore;
//! use ferry_mirror::records::{Checkpoint, TopicPartition};
//!
//! let cp = |up, down| Checkpoint {
//!     consumer_group_id: "app".into(),
//!     topic_partition: TopicPartition::new("A.orders", 0),
//!     upstream_offset: up,
//!     downstream_offset: down,
//!     metadata: String::new(),
//! };
//! let mut store = CheckpointStore::default();
//! assert!(store.is_more_recent(&cp(100, 90)));
//! store.insert(cp(100, 90));
//! assert!(!store.is_more_recent(&cp(120, 85))); // would move the group back downstream
//! assert!(store.is_more_recent(&cp(120, 91)));
//! assert!(store.is_more_recent(&cp(50, 40))); // the group was rewound upstream
//! ```

use std::collections::HashMap;

use crate::filter::TopicFilter;
use crate::offset_sync_store::OffsetSyncStore;
use crate::policy::ReplicationPolicy;
use crate::records::{Checkpoint, TopicPartition};

/// A committed consumer-group offset with its commit metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The committed offset.
    pub offset: i64,
    /// The commit metadata.
    pub metadata: String,
}

/// The last checkpoint per consumer group and (target-named) partition: those read back from the
/// checkpoints topic at start-up, then those emitted since.
#[derive(Debug, Clone, Default)]
pub struct CheckpointStore {
    per_group: HashMap<String, HashMap<TopicPartition, Checkpoint>>,
}

impl CheckpointStore {
    /// Records `checkpoint` as the latest of its group and partition.
    pub fn insert(&mut self, checkpoint: Checkpoint) {
        self.per_group
            .entry(checkpoint.consumer_group_id.clone())
            .or_default()
            .insert(checkpoint.topic_partition.clone(), checkpoint);
    }

    /// The latest checkpoint of `group` for target partition `tp`.
    pub fn get(&self, group: &str, tp: &TopicPartition) -> Option<&Checkpoint> {
        self.per_group.get(group)?.get(tp)
    }

    /// Whether `checkpoint` should be emitted given the last one of its group and partition.
    pub fn is_more_recent(&self, checkpoint: &Checkpoint) -> bool {
        let Some(last) = self.get(&checkpoint.consumer_group_id, &checkpoint.topic_partition)
        else {
            return true;
        };
        checkpoint.upstream_offset < last.upstream_offset
            || checkpoint.downstream_offset > last.downstream_offset
    }

    /// The downstream offsets of all checkpoints, per group: what the target groups would be
    /// set to.
    pub fn converted_upstream_offsets(
        &self,
    ) -> HashMap<String, HashMap<TopicPartition, OffsetAndMetadata>> {
        self.per_group
            .iter()
            .map(|(group, checkpoints)| {
                let offsets = checkpoints
                    .iter()
                    .map(|(tp, cp)| {
                        let offset = OffsetAndMetadata {
                            offset: cp.downstream_offset,
                            metadata: cp.metadata.clone(),
                        };
                        (tp.clone(), offset)
                    })
                    .collect();
                (group.clone(), offsets)
            })
            .collect()
    }
}

/// The names of a flow's two clusters and the policy naming topics between them.
#[derive(Debug, Clone, Copy)]
pub struct Flow<'a> {
    /// The source cluster's alias.
    pub source_cluster_alias: &'a str,
    /// The target cluster's alias.
    pub target_cluster_alias: &'a str,
    /// The replication policy.
    pub policy: &'a dyn ReplicationPolicy,
}

impl Flow<'_> {
    /// The target-cluster name of source partition `tp`: a topic that came from the target
    /// cluster maps back to its original name (`B.orders` → `orders` for target `B`), any other
    /// gets its remote name (`orders` → `A.orders`).
    pub fn rename_topic_partition(&self, tp: &TopicPartition) -> TopicPartition {
        let topic =
            if self.policy.topic_source(&tp.topic).as_deref() == Some(self.target_cluster_alias) {
                self.policy.original_topic(&tp.topic)
            } else {
                self.policy
                    .format_remote_topic(self.source_cluster_alias, &tp.topic)
            };
        TopicPartition::new(topic, tp.partition)
    }

    /// The checkpoints to emit for `group` from its committed offsets on the source cluster:
    /// partitions the topic filter accepts whose offset translates, and that
    /// [`CheckpointStore::is_more_recent`] accepts. Keyed by target partition; the caller emits
    /// them and then [`CheckpointStore::insert`]s them.
    pub fn checkpoints_for_group<'o>(
        &self,
        group: &str,
        upstream_offsets: impl IntoIterator<Item = (&'o TopicPartition, &'o OffsetAndMetadata)>,
        topic_filter: &dyn TopicFilter,
        syncs: &OffsetSyncStore,
        checkpoints: &CheckpointStore,
    ) -> HashMap<TopicPartition, Checkpoint> {
        upstream_offsets
            .into_iter()
            .filter(|(tp, _)| topic_filter.should_replicate_topic(&tp.topic))
            .filter_map(|(tp, committed)| {
                let downstream_offset =
                    syncs.translate_downstream(tp, committed.offset).offset()?;
                Some(Checkpoint {
                    consumer_group_id: group.to_owned(),
                    topic_partition: self.rename_topic_partition(tp),
                    upstream_offset: committed.offset,
                    downstream_offset,
                    metadata: committed.metadata.clone(),
                })
            })
            .filter(|cp| cp.downstream_offset >= 0 && checkpoints.is_more_recent(cp))
            .map(|cp| (cp.topic_partition.clone(), cp))
            .collect()
    }
}

/// The offsets to write into a target-cluster group (`sync.group.offsets.enabled`), given its
/// checkpointed offsets and its current offsets on the target.
///
/// Java reads the target offsets only of groups in state `Empty`; for any other group (`target`
/// is `None`: new on the target, or active there, in which case the broker refuses the write) it
/// writes every checkpointed offset. Otherwise, per partition, a target offset at or beyond the
/// checkpoint is left alone, and a partition the target group lacks or has no offset for (`None`,
/// as after a reset to -1 by some non-Java clients) is written. An empty result means nothing to
/// write.
pub fn offsets_to_sync(
    converted: &HashMap<TopicPartition, OffsetAndMetadata>,
    target: Option<&HashMap<TopicPartition, Option<i64>>>,
) -> HashMap<TopicPartition, OffsetAndMetadata> {
    let Some(target) = target else {
        return converted.clone();
    };
    converted
        .iter()
        .filter(|(tp, converted)| match target.get(*tp) {
            Some(Some(current)) => *current < converted.offset,
            Some(None) | None => true,
        })
        .map(|(tp, offset)| (tp.clone(), offset.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
