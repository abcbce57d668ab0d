//! Committing and reading a group's offsets (OffsetCommit / OffsetFetch).

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{GroupId, OffsetCommitRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::admin::{Admin, OffsetAndMetadata};
use crate::cluster::{Cluster, CoordinatorType};
use crate::consumer::TopicPartition;
use crate::error::{Error, Result, check};
use crate::group::Generation;

/// Who commits: a member of a generation, or (with `None`) a client outside the group.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    pub(super) group_id: String,
    pub(super) group_instance_id: Option<String>,
    pub(super) generation: Option<Generation>,
}

impl Committer {
    /// Commits `offsets`, retrying retriable errors (after finding the coordinator again when
    /// it moved). Fails with the first partition error.
    pub(super) async fn commit(
        &self,
        cluster: &Cluster,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        cluster
            .retry("OffsetCommit", || async {
                let result = self.send(cluster, offsets).await;
                if let Err(e) = &result
                    && (e.invalidates_metadata() || matches!(e, Error::Timeout { .. }))
                {
                    cluster.invalidate_coordinator(&self.group_id, CoordinatorType::Group);
                }
                result
            })
            .await
    }

    async fn send(
        &self,
        cluster: &Cluster,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        let connection = cluster
            .coordinator_connection(&self.group_id, CoordinatorType::Group)
            .await?;
        let version = connection.version_of::<OffsetCommitRequest>()?.max;
        let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
        for (tp, committed) in offsets {
            let partition = OffsetCommitRequestPartition::default()
                .with_partition_index(tp.partition)
                .with_committed_offset(committed.offset)
                .with_committed_leader_epoch(if version >= 6 {
                    committed.leader_epoch.unwrap_or(-1)
                } else {
                    -1
                })
                .with_committed_metadata(Some(StrBytes::from_string(committed.metadata.clone())));
            match topics.last_mut() {
                Some(t) if *t.name == *tp.topic => t.partitions.push(partition),
                _ => topics.push(
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(StrBytes::from_string(tp.topic.to_string())))
                        .with_partitions(vec![partition]),
                ),
            }
        }
        let (generation_id, member_id) = match &self.generation {
            Some(g) => (g.id, g.member_id.clone()),
            None => (-1, String::new()),
        };
        let request = OffsetCommitRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id_or_member_epoch(generation_id)
            .with_member_id(StrBytes::from_string(member_id))
            .with_group_instance_id(
                self.group_instance_id
                    .clone()
                    .filter(|_| version >= 7)
                    .map(StrBytes::from_string),
            )
            .with_topics(topics);
        let response = connection.send_version(&request, version).await?;
        for topic in &response.topics {
            for partition in &topic.partitions {
                check(
                    partition.error_code,
                    Some(&format!("{}-{}", &*topic.name, partition.partition_index)),
                )?;
            }
        }
        Ok(())
    }
}

/// The committed offsets of `group` for `partitions`, or for every partition with `None`.
pub(super) async fn committed(
    cluster: &Cluster,
    group: &str,
    partitions: Option<&[TopicPartition]>,
) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
    let wanted: Option<Vec<(String, i32)>> = partitions.map(|ps| {
        ps.iter()
            .map(|tp| (tp.topic.to_string(), tp.partition))
            .collect()
    });
    let offsets = Admin::new(cluster.clone())
        .list_group_offsets(group, wanted.as_deref())
        .await?;
    Ok(offsets
        .into_iter()
        .map(|((topic, partition), committed)| (TopicPartition::new(topic, partition), committed))
        .collect())
}
