//! Admin calls: topics, configs, partitions, groups and their offsets, offsets by time,
//! cluster description, ACLs and record deletion — what Kafka Connect and MirrorMaker 2 use
//! from Java's `Admin`.
//!
//! Every call retries retriable errors with `retry.backoff.ms` until `request.timeout.ms`, and
//! answers [`Error::Unsupported`] when the broker does not offer the API. Batch calls return one
//! result per item, as Java's per-item futures do.

mod acls;
mod configs;
mod groups;
mod offsets;
mod topics;

use std::collections::BTreeMap;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{DescribeClusterRequest, MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

pub use acls::{AclBinding, AclFilter, AclOperation, AclPermission, PatternType, ResourceType};
pub use configs::{AlterConfigOp, ConfigEntry, ConfigResource, ConfigSource, OpType};
pub use groups::{GroupDescription, GroupListing, MemberDescription, OffsetAndMetadata};
pub use offsets::{ListedOffset, OffsetSpec};
pub use topics::NewTopic;

use crate::cluster::{Broker, Cluster, TopicMetadata};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode, Result, check};

/// A topic name and partition index.
pub type TopicPartition = (String, i32);

/// The admin client of one cluster. Cheap to clone; shares the [`Cluster`]'s connections.
///
/// ```no_run
/// # async fn demo() -> ferry_kafka::Result<()> {
/// use ferry_kafka::{Admin, ClientConfig, Cluster};
/// use ferry_kafka::admin::NewTopic;
/// let admin = Admin::new(Cluster::new(ClientConfig::new("localhost:9092")?));
/// let results = admin.create_topics(&[NewTopic::new("orders", 3, -1)]).await?;
/// results["orders"].clone()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Admin {
    cluster: Cluster,
}

/// The cluster as DescribeCluster reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    /// Cluster id.
    pub cluster_id: String,
    /// Broker id of the controller, -1 if unknown.
    pub controller_id: i32,
    /// Brokers, by id.
    pub brokers: Vec<Broker>,
}

impl Admin {
    /// An admin client for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self { cluster }
    }

    /// The cluster this client talks to.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Names of all topics except internal ones (`__consumer_offsets`), sorted.
    pub async fn list_topics(&self) -> Result<Vec<String>> {
        let metadata = self.cluster.refresh_all_topics().await?;
        let mut names: Vec<String> = metadata
            .topics
            .values()
            .filter(|t| !t.is_internal && t.error.is_none())
            .map(|t| t.name.clone())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Partitions and their leaders for each topic; a missing topic maps to
    /// `Err(Kafka { code: UnknownTopicOrPartition })`. Never creates topics.
    pub async fn describe_topics(
        &self,
        topics: &[&str],
    ) -> Result<BTreeMap<String, Result<TopicMetadata>>> {
        let request = MetadataRequest::default()
            .with_topics(Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t))))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(false);
        let response = self
            .cluster
            .retry("Metadata", || async {
                self.cluster.any_connection().await?.send(&request).await
            })
            .await?;
        let snapshot = crate::cluster::Metadata::merge(&self.cluster.metadata(), &response, true);
        Ok(topics
            .iter()
            .map(|name| {
                let result = match snapshot.topics.get(*name) {
                    Some(t) => match t.error {
                        Some(code) => Err(Error::Kafka {
                            code,
                            message: Some((*name).to_owned()),
                        }),
                        None => Ok(t.clone()),
                    },
                    None => Err(Error::Kafka {
                        code: KafkaCode::UnknownTopicOrPartition,
                        message: Some((*name).to_owned()),
                    }),
                };
                ((*name).to_owned(), result)
            })
            .collect())
    }

    /// Cluster id, controller and brokers (DescribeCluster).
    pub async fn describe_cluster(&self) -> Result<ClusterDescription> {
        let response = self
            .cluster
            .retry("DescribeCluster", || async {
                let response = self
                    .cluster
                    .any_connection()
                    .await?
                    .send(&DescribeClusterRequest::default())
                    .await?;
                check(response.error_code, response.error_message.as_deref())?;
                Ok(response)
            })
            .await?;
        Ok(ClusterDescription {
            cluster_id: response.cluster_id.to_string(),
            controller_id: response.controller_id.0,
            brokers: response
                .brokers
                .iter()
                .filter_map(|b| {
                    Some(Broker {
                        id: b.broker_id.0,
                        host: b.host.to_string(),
                        port: u16::try_from(b.port).ok()?,
                        rack: b.rack.as_ref().map(ToString::to_string),
                    })
                })
                .collect(),
        })
    }

    /// The connection for controller-bound requests (topic creation and deletion): the
    /// controller when metadata names one that is a known broker, else any broker (which
    /// forwards, in KRaft clusters).
    async fn controller(&self) -> Result<Connection> {
        let mut metadata = self.cluster.metadata();
        if metadata.brokers.is_empty() {
            metadata = self.cluster.refresh_metadata().await?;
        }
        if metadata.brokers.contains_key(&metadata.controller_id) {
            self.cluster.connection(metadata.controller_id).await
        } else {
            self.cluster.any_connection().await
        }
    }

    fn timeout_ms(&self) -> i32 {
        i32::try_from(self.cluster.config().request_timeout.as_millis()).unwrap_or(i32::MAX)
    }
}

fn topic_name(name: &str) -> TopicName {
    TopicName(str_bytes(name))
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

/// Runs a batch operation in which each item can fail on its own: items with retriable errors
/// are sent again (after the retry backoff) until they succeed, fail for good, or time runs out;
/// a failure of the whole request is retried the same way.
async fn per_item<K, V, F, Fut>(
    cluster: &Cluster,
    what: &str,
    items: Vec<K>,
    mut attempt: F,
) -> Result<BTreeMap<K, Result<V>>>
where
    K: Ord + Clone,
    F: FnMut(Vec<K>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(K, Result<V>)>>>,
{
    let mut retrier = cluster.retrier(what);
    let mut pending = items;
    let mut done = BTreeMap::new();
    while !pending.is_empty() {
        let outcome = match attempt(pending.clone()).await {
            Ok(outcome) => outcome,
            Err(error) if retrier.wait(&error).await => continue,
            Err(error) => return Err(error),
        };
        let mut retry = Vec::new();
        let mut last_error = None;
        for (key, result) in outcome {
            match result {
                Err(e) if e.is_retriable() => {
                    retry.push((key, e.clone()));
                    last_error = Some(e);
                }
                result => {
                    done.insert(key, result);
                }
            }
        }
        for key in &pending {
            if !done.contains_key(key) && !retry.iter().any(|(r, _)| r == key) {
                let missing = Error::Protocol(format!("{what} response left out an item"));
                done.insert(key.clone(), Err(missing));
            }
        }
        pending.retain(|k| retry.iter().any(|(r, _)| r == k));
        if let Some(error) = last_error
            && !retrier.wait(&error).await
        {
            done.extend(retry.into_iter().map(|(k, e)| (k, Err(e))));
            break;
        }
    }
    Ok(done)
}
