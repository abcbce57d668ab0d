//! Consumer and Connect groups: listing, describing, deleting, and their committed offsets.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, GroupId, ListGroupsRequest, OffsetCommitRequest,
    OffsetDeleteRequest, OffsetFetchRequest,
};

use super::topics::group_by_topic;
use super::{Admin, TopicPartition, per_item, str_bytes, topic_name};
use crate::cluster::CoordinatorType;
use crate::connection::Connection;
use crate::error::{Error, KafkaCode, Result, check};

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// Protocol type (`consumer`, `connect`), empty for groups that only commit offsets.
    pub protocol_type: String,
    /// Group state (`Stable`, `Empty`, …) when the broker reports it (ListGroups v4+).
    pub state: Option<String>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// Group state (`Stable`, `Dead`, …).
    pub state: String,
    /// Protocol type (`consumer`, `connect`).
    pub protocol_type: String,
    /// The selected protocol (assignor) name.
    pub protocol: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// One member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static membership id, if any.
    pub group_instance_id: Option<String>,
    /// The member's `client.id`.
    pub client_id: String,
    /// The member's host.
    pub client_host: String,
    /// The member's protocol metadata, as sent in JoinGroup.
    pub metadata: Bytes,
    /// The member's assignment, as sent in SyncGroup.
    pub assignment: Bytes,
}

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The offset of the next record to consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record, when known.
    pub leader_epoch: Option<i32>,
    /// Free-form metadata stored with the commit.
    pub metadata: String,
}

impl OffsetAndMetadata {
    /// An offset without epoch or metadata.
    pub fn new(offset: i64) -> Self {
        Self {
            offset,
            leader_epoch: None,
            metadata: String::new(),
        }
    }
}

impl Admin {
    /// Every group known to any broker (ListGroups sent to each broker).
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>> {
        let mut metadata = self.cluster.metadata();
        if metadata.brokers.is_empty() {
            metadata = self.cluster.refresh_metadata().await?;
        }
        let mut groups = BTreeMap::new();
        for &broker in metadata.brokers.keys() {
            let response = self
                .cluster
                .retry("ListGroups", || async {
                    let response = self
                        .cluster
                        .connection(broker)
                        .await?
                        .send(&ListGroupsRequest::default())
                        .await?;
                    check(response.error_code, None)?;
                    Ok(response)
                })
                .await?;
            for g in response.groups {
                let listing = GroupListing {
                    group_id: g.group_id.to_string(),
                    protocol_type: g.protocol_type.to_string(),
                    state: Some(g.group_state.to_string()).filter(|s| !s.is_empty()),
                };
                groups.insert(listing.group_id.clone(), listing);
            }
        }
        Ok(groups.into_values().collect())
    }

    /// Describes groups, each asked of its coordinator.
    pub async fn describe_groups(
        &self,
        groups: &[&str],
    ) -> Result<BTreeMap<String, Result<GroupDescription>>> {
        let ids = groups.iter().map(|g| (*g).to_owned()).collect();
        per_item(
            &self.cluster,
            "DescribeGroups",
            ids,
            |ids: Vec<String>| async move {
                let mut outcome = Vec::new();
                for id in ids {
                    let result = self.describe_group(&id).await;
                    if let Err(e) = &result {
                        self.coordinator_failed(&id, e);
                    }
                    outcome.push((id, result));
                }
                Ok(outcome)
            },
        )
        .await
    }

    async fn describe_group(&self, group: &str) -> Result<GroupDescription> {
        let connection = self.coordinator(group).await?;
        let request = DescribeGroupsRequest::default().with_groups(vec![group_id(group)]);
        let response = connection.send(&request).await?;
        let g = response
            .groups
            .into_iter()
            .find(|g| g.group_id.as_str() == group)
            .ok_or_else(|| Error::Protocol(format!("DescribeGroups left out {group}")))?;
        check(g.error_code, g.error_message.as_deref())?;
        Ok(GroupDescription {
            group_id: g.group_id.to_string(),
            state: g.group_state.to_string(),
            protocol_type: g.protocol_type.to_string(),
            protocol: g.protocol_data.to_string(),
            members: g
                .members
                .into_iter()
                .map(|m| MemberDescription {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.map(|s| s.to_string()),
                    client_id: m.client_id.to_string(),
                    client_host: m.client_host.to_string(),
                    metadata: m.member_metadata,
                    assignment: m.member_assignment,
                })
                .collect(),
        })
    }

    /// Deletes groups and their committed offsets (DeleteGroups, Java's
    /// `deleteConsumerGroups`), each asked of its coordinator.
    ///
    /// Each group maps to its own result: `GROUP_ID_NOT_FOUND` for a group the broker does not
    /// know, `NON_EMPTY_GROUP` for one that still has members. A broker that does not offer
    /// DeleteGroups fails the whole call with [`Error::Unsupported`].
    ///
    /// ```no_run
    /// # async fn demo(admin: ferry_kafka::Admin) -> ferry_kafka::Result<()> {
    /// use ferry_kafka::KafkaCode;
    /// let results = admin.delete_groups(&["connect-sink"]).await?;
    /// match &results["connect-sink"] {
    ///     Err(e) if e.kafka_code() == Some(KafkaCode::GroupIdNotFound) => {} // gone already
    ///     other => other.clone()?,
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn delete_groups(&self, groups: &[&str]) -> Result<BTreeMap<String, Result<()>>> {
        let ids = groups.iter().map(|g| (*g).to_owned()).collect();
        per_item(
            &self.cluster,
            "DeleteGroups",
            ids,
            |ids: Vec<String>| async move {
                let mut outcome = Vec::new();
                for id in ids {
                    let result = self.delete_group(&id).await;
                    match result {
                        // The same for every group: fail the call rather than each item.
                        Err(e @ Error::Unsupported { .. }) => return Err(e),
                        Err(ref e) => self.coordinator_failed(&id, e),
                        Ok(()) => {}
                    }
                    outcome.push((id, result));
                }
                Ok(outcome)
            },
        )
        .await
    }

    async fn delete_group(&self, group: &str) -> Result<()> {
        let connection = self.coordinator(group).await?;
        let response = connection.send(&delete_groups_request(&[group])).await?;
        let result = response
            .results
            .into_iter()
            .find(|r| r.group_id.as_str() == group)
            .ok_or_else(|| Error::Protocol(format!("DeleteGroups left out {group}")))?;
        check(result.error_code, None)
    }

    /// The committed offsets of `group` (OffsetFetch), for the given partitions or, with
    /// `None`, for all partitions it has committed. Partitions without a committed offset are
    /// left out.
    pub async fn list_group_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        self.cluster
            .retry("OffsetFetch", || async {
                let result = self.fetch_offsets(group, partitions).await;
                if let Err(e) = &result {
                    self.coordinator_failed(group, e);
                }
                result
            })
            .await
    }

    async fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        let connection = self.coordinator(group).await?;
        let version = connection.version_of::<OffsetFetchRequest>()?.max;
        let mut offsets = BTreeMap::new();
        let mut add = |topic: &str,
                       partition: i32,
                       offset: i64,
                       epoch: i32,
                       metadata: Option<&str>,
                       error: i16| {
            check(error, None)?;
            if offset >= 0 {
                let committed = OffsetAndMetadata {
                    offset,
                    leader_epoch: (epoch >= 0).then_some(epoch),
                    metadata: metadata.unwrap_or_default().to_owned(),
                };
                offsets.insert((topic.to_owned(), partition), committed);
            }
            Ok::<_, Error>(())
        };
        // Version 8 moved the request into a list of groups; brokers that answer "all
        // partitions" only in that form (tansu) need it.
        if version >= 8 {
            let topics = partitions.map(|ps| {
                group_by_topic(ps, |tp| tp.1)
                    .into_iter()
                    .map(|(t, idx)| {
                        OffsetFetchRequestTopics::default()
                            .with_name(topic_name(&t))
                            .with_partition_indexes(idx)
                    })
                    .collect()
            });
            let request = OffsetFetchRequest::default().with_groups(vec![
                OffsetFetchRequestGroup::default()
                    .with_group_id(group_id(group))
                    .with_topics(topics),
            ]);
            let response = connection.send_version(&request, version).await?;
            for g in &response.groups {
                check(g.error_code, None)?;
                for t in &g.topics {
                    for p in &t.partitions {
                        add(
                            &t.name,
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            p.metadata.as_deref(),
                            p.error_code,
                        )?;
                    }
                }
            }
        } else {
            let topics = partitions.map(|ps| {
                group_by_topic(ps, |tp| tp.1)
                    .into_iter()
                    .map(|(t, idx)| {
                        OffsetFetchRequestTopic::default()
                            .with_name(topic_name(&t))
                            .with_partition_indexes(idx)
                    })
                    .collect()
            });
            let request = OffsetFetchRequest::default()
                .with_group_id(group_id(group))
                .with_topics(topics);
            let response = connection.send_version(&request, version).await?;
            check(response.error_code, None)?;
            for t in &response.topics {
                for p in &t.partitions {
                    add(
                        &t.name,
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.metadata.as_deref(),
                        p.error_code,
                    )?;
                }
            }
        }
        Ok(offsets)
    }

    /// Commits offsets for `group` from outside the group (OffsetCommit with generation -1 and
    /// no member id, as Java's `alterConsumerGroupOffsets`); the group must have no active
    /// members.
    pub async fn alter_group_offsets(
        &self,
        group: &str,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<BTreeMap<TopicPartition, Result<()>>> {
        let partitions = offsets.keys().cloned().collect();
        per_item(
            &self.cluster,
            "OffsetCommit",
            partitions,
            |partitions: Vec<TopicPartition>| async move {
                let request = OffsetCommitRequest::default()
                    .with_group_id(group_id(group))
                    .with_generation_id_or_member_epoch(-1)
                    .with_member_id(str_bytes(""))
                    .with_retention_time_ms(-1)
                    .with_topics(
                        group_by_topic(&partitions, |tp| {
                            let o = &offsets[tp];
                            OffsetCommitRequestPartition::default()
                                .with_partition_index(tp.1)
                                .with_committed_offset(o.offset)
                                .with_committed_leader_epoch(o.leader_epoch.unwrap_or(-1))
                                .with_committed_metadata(Some(str_bytes(&o.metadata)))
                        })
                        .into_iter()
                        .map(|(t, ps)| {
                            OffsetCommitRequestTopic::default()
                                .with_name(topic_name(&t))
                                .with_partitions(ps)
                        })
                        .collect(),
                    );
                let response = self.coordinator(group).await?.send(&request).await;
                let response = response.inspect_err(|e| self.coordinator_failed(group, e))?;
                let mut outcome = Vec::new();
                for t in &response.topics {
                    for p in &t.partitions {
                        let result = check(p.error_code, None);
                        if let Err(e) = &result {
                            self.coordinator_failed(group, e);
                        }
                        outcome.push(((t.name.to_string(), p.partition_index), result));
                    }
                }
                Ok(outcome)
            },
        )
        .await
    }

    /// Deletes the committed offsets of `group` for the given partitions (OffsetDelete); the
    /// group must not be subscribed to them.
    pub async fn delete_group_offsets(
        &self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, Result<()>>> {
        let request = OffsetDeleteRequest::default()
            .with_group_id(group_id(group))
            .with_topics(
                group_by_topic(partitions, |tp| {
                    OffsetDeleteRequestPartition::default().with_partition_index(tp.1)
                })
                .into_iter()
                .map(|(t, ps)| {
                    OffsetDeleteRequestTopic::default()
                        .with_name(topic_name(&t))
                        .with_partitions(ps)
                })
                .collect(),
            );
        let response = self
            .cluster
            .retry("OffsetDelete", || async {
                let response = self.coordinator(group).await?.send(&request).await;
                let response = response.and_then(|r| check(r.error_code, None).map(|()| r));
                response.inspect_err(|e| self.coordinator_failed(group, e))
            })
            .await?;
        Ok(response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| {
                    (
                        (t.name.to_string(), p.partition_index),
                        check(p.error_code, None),
                    )
                })
            })
            .collect())
    }

    async fn coordinator(&self, group: &str) -> Result<Connection> {
        self.cluster
            .coordinator_connection(group, CoordinatorType::Group)
            .await
    }

    /// Forgets the group's coordinator after errors that say it moved or is unreachable.
    fn coordinator_failed(&self, group: &str, error: &Error) {
        let moved = matches!(
            error.kafka_code(),
            Some(KafkaCode::NotCoordinator | KafkaCode::CoordinatorNotAvailable)
        );
        if moved || matches!(error, Error::Io { .. } | Error::Disconnected { .. }) {
            self.cluster
                .invalidate_coordinator(group, CoordinatorType::Group);
        }
    }
}

fn group_id(group: &str) -> GroupId {
    GroupId(str_bytes(group))
}

fn delete_groups_request(groups: &[&str]) -> DeleteGroupsRequest {
    DeleteGroupsRequest::default().with_groups_names(groups.iter().map(|g| group_id(g)).collect())
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use kafka_protocol::protocol::Encodable;

    use super::*;

    fn encoded(groups: &[&str], version: i16) -> Vec<u8> {
        let mut buf = BytesMut::new();
        delete_groups_request(groups)
            .encode(&mut buf, version)
            .unwrap();
        buf.to_vec()
    }

    #[test]
    fn delete_groups_request_lists_the_group_names() {
        // v0/v1: int32 count, then int16-length strings.
        let mut v0 = vec![0, 0, 0, 2, 0, 9];
        v0.extend_from_slice(b"connect-s");
        v0.extend_from_slice(&[0, 1, b'g']);
        assert_eq!(encoded(&["connect-s", "g"], 0), v0);
        assert_eq!(encoded(&["connect-s", "g"], 1), v0);
        // v2 is flexible: unsigned-varint count + 1 and lengths + 1, then empty tagged fields.
        let mut v2 = vec![3, 10];
        v2.extend_from_slice(b"connect-s");
        v2.extend_from_slice(&[2, b'g', 0]);
        assert_eq!(encoded(&["connect-s", "g"], 2), v2);
    }
}
