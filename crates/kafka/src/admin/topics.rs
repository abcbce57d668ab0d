//! Creating and deleting topics, adding partitions, deleting records.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteRecordsRequest, DeleteTopicsRequest,
};

use super::{Admin, TopicPartition, per_item, str_bytes, topic_name};
use crate::error::{Result, check};

/// A topic to create. `-1` partitions or replication factor means the broker's default
/// (`num.partitions`, `default.replication.factor`), as in Java's `NewTopic` with empty
/// optionals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Number of partitions, or -1.
    pub num_partitions: i32,
    /// Replication factor, or -1.
    pub replication_factor: i16,
    /// Topic configs (`cleanup.policy=compact`, …).
    pub configs: BTreeMap<String, String>,
}

impl NewTopic {
    /// A topic without config overrides.
    pub fn new(name: &str, num_partitions: i32, replication_factor: i16) -> Self {
        Self {
            name: name.to_owned(),
            num_partitions,
            replication_factor,
            configs: BTreeMap::new(),
        }
    }

    /// Adds a config override.
    pub fn with_config(mut self, key: &str, value: &str) -> Self {
        self.configs.insert(key.to_owned(), value.to_owned());
        self
    }
}

impl Admin {
    /// Creates topics; per topic `Ok(())` or the error, e.g. `TopicAlreadyExists`.
    pub async fn create_topics(&self, topics: &[NewTopic]) -> Result<BTreeMap<String, Result<()>>> {
        let by_name: HashMap<String, &NewTopic> =
            topics.iter().map(|t| (t.name.clone(), t)).collect();
        let names = topics.iter().map(|t| t.name.clone()).collect();
        let results = per_item(
            &self.cluster,
            "CreateTopics",
            names,
            |names: Vec<String>| {
                let request = CreateTopicsRequest::default()
                    .with_timeout_ms(self.timeout_ms())
                    .with_topics(names.iter().map(|n| creatable(by_name[n])).collect());
                async move {
                    let response = self.controller().await?.send(&request).await?;
                    Ok(response
                        .topics
                        .iter()
                        .map(|t| {
                            let result = check(t.error_code, t.error_message.as_deref());
                            (t.name.to_string(), result)
                        })
                        .collect())
                }
            },
        )
        .await?;
        if results.values().any(Result::is_ok) {
            self.cluster.request_update();
        }
        Ok(results)
    }

    /// Deletes topics by name; per topic `Ok(())` or the error.
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<BTreeMap<String, Result<()>>> {
        let names = topics.iter().map(|t| (*t).to_owned()).collect();
        let results = per_item(
            &self.cluster,
            "DeleteTopics",
            names,
            |names: Vec<String>| async move {
                let connection = self.controller().await?;
                let version = connection.version_of::<DeleteTopicsRequest>()?.max;
                let mut request = DeleteTopicsRequest::default().with_timeout_ms(self.timeout_ms());
                if version >= 6 {
                    request.topics = names
                        .iter()
                        .map(|n| DeleteTopicState::default().with_name(Some(topic_name(n))))
                        .collect();
                } else {
                    request.topic_names = names.iter().map(|n| topic_name(n)).collect();
                }
                let response = connection.send_version(&request, version).await?;
                Ok(response
                    .responses
                    .iter()
                    .filter_map(|t| {
                        let result = check(t.error_code, t.error_message.as_deref());
                        Some((t.name.as_ref()?.to_string(), result))
                    })
                    .collect())
            },
        )
        .await?;
        self.cluster.request_update();
        Ok(results)
    }

    /// Grows topics to the given total partition counts (CreatePartitions).
    pub async fn create_partitions(
        &self,
        new_totals: &BTreeMap<String, i32>,
    ) -> Result<BTreeMap<String, Result<()>>> {
        let names = new_totals.keys().cloned().collect();
        let results = per_item(
            &self.cluster,
            "CreatePartitions",
            names,
            |names: Vec<String>| {
                let request = CreatePartitionsRequest::default()
                    .with_timeout_ms(self.timeout_ms())
                    .with_topics(
                        names
                            .iter()
                            .map(|n| {
                                CreatePartitionsTopic::default()
                                    .with_name(topic_name(n))
                                    .with_count(new_totals[n])
                                    .with_assignments(None)
                            })
                            .collect(),
                    );
                async move {
                    let response = self.controller().await?.send(&request).await?;
                    Ok(response
                        .results
                        .iter()
                        .map(|t| {
                            let result = check(t.error_code, t.error_message.as_deref());
                            (t.name.to_string(), result)
                        })
                        .collect())
                }
            },
        )
        .await?;
        self.cluster.request_update();
        Ok(results)
    }

    /// Deletes records before the given offsets (DeleteRecords, sent to each partition's
    /// leader); per partition the new low watermark or the error.
    pub async fn delete_records(
        &self,
        before: &BTreeMap<TopicPartition, i64>,
    ) -> Result<BTreeMap<TopicPartition, Result<i64>>> {
        let partitions = before.keys().cloned().collect();
        per_item(
            &self.cluster,
            "DeleteRecords",
            partitions,
            |partitions| async move {
                let mut outcome = Vec::new();
                let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
                for tp in partitions {
                    match self.cluster.leader_for(&tp.0, tp.1).await {
                        Ok(leader) => by_leader.entry(leader).or_default().push(tp),
                        Err(e) => outcome.push((tp, Err(e))),
                    }
                }
                for (leader, partitions) in by_leader {
                    let request = DeleteRecordsRequest::default()
                        .with_timeout_ms(self.timeout_ms())
                        .with_topics(
                            group_by_topic(&partitions, |tp| {
                                DeleteRecordsPartition::default()
                                    .with_partition_index(tp.1)
                                    .with_offset(before[tp])
                            })
                            .into_iter()
                            .map(|(t, ps)| {
                                DeleteRecordsTopic::default()
                                    .with_name(topic_name(&t))
                                    .with_partitions(ps)
                            })
                            .collect(),
                        );
                    let response = self
                        .cluster
                        .connection(leader)
                        .await?
                        .send(&request)
                        .await?;
                    for t in &response.topics {
                        for p in &t.partitions {
                            let result = check(p.error_code, None).map(|()| p.low_watermark);
                            outcome.push(((t.name.to_string(), p.partition_index), result));
                        }
                    }
                }
                Ok(outcome)
            },
        )
        .await
    }
}

fn creatable(topic: &NewTopic) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(topic_name(&topic.name))
        .with_num_partitions(topic.num_partitions)
        .with_replication_factor(topic.replication_factor)
        .with_configs(
            topic
                .configs
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(str_bytes(k))
                        .with_value(Some(str_bytes(v)))
                })
                .collect(),
        )
}

/// Groups partitions by topic, building each partition's request entry with `entry`.
pub(super) fn group_by_topic<T>(
    partitions: &[TopicPartition],
    entry: impl Fn(&TopicPartition) -> T,
) -> BTreeMap<String, Vec<T>> {
    let mut topics: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for tp in partitions {
        topics.entry(tp.0.clone()).or_default().push(entry(tp));
    }
    topics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_topic_defaults_to_broker_settings() {
        let t = NewTopic::new("t", -1, -1).with_config("cleanup.policy", "compact");
        let c = creatable(&t);
        assert_eq!(c.num_partitions, -1);
        assert_eq!(c.replication_factor, -1);
        assert_eq!(c.configs[0].name.as_str(), "cleanup.policy");
        assert_eq!(c.configs[0].value.as_deref(), Some("compact"));
    }

    #[test]
    fn groups_partitions_by_topic() {
        let ps = vec![
            ("a".to_owned(), 1),
            ("b".to_owned(), 0),
            ("a".to_owned(), 0),
        ];
        let grouped = group_by_topic(&ps, |tp| tp.1);
        assert_eq!(grouped["a"], vec![1, 0]);
        assert_eq!(grouped["b"], vec![0]);
    }
}
