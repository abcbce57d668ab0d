//! The internal topics' settings, read from the worker config as Java's `DistributedConfig`
//! reads them, and their creation as Java's `TopicAdmin` creates them: compacted, created when
//! missing, and checked to be compacted-only when they already exist.
//!
//! | topic | partitions | replication factor |
//! | --- | --- | --- |
//! | `config.storage.topic` | always 1 | `config.storage.replication.factor` (3) |
//! | `offset.storage.topic` | `offset.storage.partitions` (25) | `offset.storage.replication.factor` (3) |
//! | `status.storage.topic` | `status.storage.partitions` (5) | `status.storage.replication.factor` (3) |
//!
//! `-1` asks for the broker's default. Other `PREFIX.*` keys (e.g.
//! `offset.storage.min.insync.replicas`) become topic configs; `cleanup.policy` is always
//! `compact`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferry_kafka::admin::{ConfigResource, NewTopic};
use ferry_kafka::{Admin, Error, KafkaCode};

use super::{Result, StoreError, WorkerProps};

const CLEANUP_POLICY: &str = "cleanup.policy";
const COMPACT: &str = "compact";

/// One internal topic as the worker config describes it.
///
/// ```
/// use ferry_runtime::storage::kafka::{InternalTopic, WorkerProps};
/// let props: WorkerProps = [
///     ("offset.storage.topic", "connect-offsets"),
///     ("offset.storage.replication.factor", "1"),
///     ("offset.storage.min.insync.replicas", "1"),
///     ("offset.storage.cleanup.policy", "delete"),
/// ]
/// .into_iter()
/// .map(|(k, v)| (k.to_owned(), v.to_owned()))
/// .collect();
/// let topic = InternalTopic::offsets(&props).unwrap();
/// assert_eq!((topic.name.as_str(), topic.partitions, topic.replication_factor), ("connect-offsets", 25, 1));
/// assert_eq!(topic.configs["cleanup.policy"], "compact");
/// assert_eq!(topic.configs["min.insync.replicas"], "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalTopic {
    /// The topic's name.
    pub name: String,
    /// The worker config key that names it (`config.storage.topic`, …), for error messages.
    pub worker_key: &'static str,
    /// What it holds, for error messages.
    pub purpose: &'static str,
    /// Partitions to create it with; -1 for the broker's default.
    pub partitions: i32,
    /// Replication factor to create it with; -1 for the broker's default.
    pub replication_factor: i16,
    /// Topic configs to create it with, `cleanup.policy=compact` included.
    pub configs: BTreeMap<String, String>,
}

impl InternalTopic {
    /// The config topic (`config.storage.*`): always one partition.
    pub fn configs(props: &WorkerProps) -> Result<Self> {
        Self::from_props(props, "config.storage.", None, "connector configurations")
    }

    /// The offset topic (`offset.storage.*`).
    pub fn offsets(props: &WorkerProps) -> Result<Self> {
        Self::from_props(
            props,
            "offset.storage.",
            Some(25),
            "source connector offsets",
        )
    }

    /// The status topic (`status.storage.*`).
    pub fn statuses(props: &WorkerProps) -> Result<Self> {
        Self::from_props(
            props,
            "status.storage.",
            Some(5),
            "connector and task statuses",
        )
    }

    fn from_props(
        props: &WorkerProps,
        prefix: &'static str,
        default_partitions: Option<i32>,
        purpose: &'static str,
    ) -> Result<Self> {
        let worker_key = match prefix {
            "config.storage." => "config.storage.topic",
            "offset.storage." => "offset.storage.topic",
            _ => "status.storage.topic",
        };
        let name = props
            .get(worker_key)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| StoreError::Config(format!("{worker_key} must be set")))?
            .to_owned();
        let partitions = match default_partitions {
            None => 1,
            Some(default) => number(props, prefix, "partitions", default)?,
        };
        let replication_factor = number(props, prefix, "replication.factor", 3)?;
        let mut configs: BTreeMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v)))
            .filter(|(k, _)| !["topic", "partitions", "replication.factor"].contains(k))
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        configs.insert(CLEANUP_POLICY.to_owned(), COMPACT.to_owned());
        Ok(Self {
            name,
            worker_key,
            purpose,
            partitions,
            replication_factor,
            configs,
        })
    }

    /// The CreateTopics description.
    pub fn new_topic(&self) -> NewTopic {
        let mut topic = NewTopic::new(&self.name, self.partitions, self.replication_factor);
        topic.configs = self.configs.clone();
        topic
    }

    /// Creates the topic if it is missing (retrying `InvalidReplicationFactor` and timeouts
    /// for up to `timeout`, as brokers may still be joining), or checks that an existing one
    /// is compacted only. Returns whether this call created it.
    ///
    /// As in Java, a broker that cannot create topics (no CreateTopics, not authorized) is
    /// taken to have the topic already, and a cleanup policy that cannot be read is not an
    /// error; a cleanup policy other than `compact` is.
    pub async fn ensure(&self, admin: &Admin, timeout: Duration) -> Result<bool> {
        let started = Instant::now();
        let backoff = admin.cluster().config().retry_backoff;
        let created = loop {
            let outcome = admin
                .create_topics(&[self.new_topic()])
                .await
                .and_then(|mut results| {
                    results.remove(&self.name).unwrap_or_else(|| {
                        Err(Error::Protocol(format!(
                            "no CreateTopics answer for {}",
                            self.name
                        )))
                    })
                });
            match outcome {
                Ok(()) => break true,
                Err(e) if assumes_existing(&e) => break false,
                Err(e) if retries_creation(&e) && started.elapsed() < timeout => {
                    tracing::info!(topic = %self.name, error = %e, "creating the topic failed, retrying");
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => {
                    return Err(StoreError::Config(format!(
                        "cannot create the {} topic '{}' ({}): {e}",
                        self.purpose, self.name, self.worker_key
                    )));
                }
            }
        };
        if !created {
            self.verify_compacted(admin).await?;
        }
        Ok(created)
    }

    async fn verify_compacted(&self, admin: &Admin) -> Result<()> {
        let resource = ConfigResource::Topic(self.name.clone());
        let entries = match admin
            .describe_configs(std::slice::from_ref(&resource))
            .await
        {
            Ok(mut all) => all.remove(&resource).and_then(Result::ok),
            Err(_) => None,
        };
        let policies = cleanup_policies(entries.iter().flatten().find_map(|e| {
            (e.name == CLEANUP_POLICY)
                .then(|| e.value.clone())
                .flatten()
        }));
        if policies.is_empty() {
            tracing::info!(
                topic = %self.name,
                "cannot check that the topic is compacted: the broker does not report its cleanup.policy"
            );
            return Ok(());
        }
        if policies != [COMPACT] {
            return Err(StoreError::Config(format!(
                "topic '{}' supplied via the '{}' property is required to have 'cleanup.policy=compact' \
                 to guarantee consistency and durability of {}, but found 'cleanup.policy={}'",
                self.name,
                self.worker_key,
                self.purpose,
                policies.join(",")
            )));
        }
        Ok(())
    }
}

/// Errors after which Java assumes the topic exists (or will be auto-created).
fn assumes_existing(error: &Error) -> bool {
    matches!(error, Error::Unsupported { .. })
        || matches!(
            error.kafka_code(),
            Some(
                KafkaCode::TopicAlreadyExists
                    | KafkaCode::ClusterAuthorizationFailed
                    | KafkaCode::TopicAuthorizationFailed
            )
        )
}

fn retries_creation(error: &Error) -> bool {
    matches!(error, Error::Timeout { .. })
        || matches!(
            error.kafka_code(),
            Some(KafkaCode::InvalidReplicationFactor | KafkaCode::RequestTimedOut)
        )
}

/// The set of policies in a `cleanup.policy` value, lower-cased and sorted.
fn cleanup_policies(value: Option<String>) -> Vec<String> {
    let mut policies: Vec<String> = value
        .iter()
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    policies.sort();
    policies.dedup();
    policies
}

fn number<T: std::str::FromStr + PartialOrd + From<i8>>(
    props: &WorkerProps,
    prefix: &str,
    suffix: &str,
    default: T,
) -> Result<T> {
    let key = format!("{prefix}{suffix}");
    let Some(value) = props.get(&key) else {
        return Ok(default);
    };
    match value.trim().parse::<T>() {
        Ok(n) if n == T::from(-1) || n > T::from(0) => Ok(n),
        _ => Err(StoreError::Config(format!(
            "invalid value {value} for configuration {key}: must be a positive number, or -1 to use the broker's default"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> WorkerProps {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_distributed_config() {
        let p = props(&[
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
        ]);
        let c = InternalTopic::configs(&p).unwrap();
        let o = InternalTopic::offsets(&p).unwrap();
        let s = InternalTopic::statuses(&p).unwrap();
        assert_eq!((c.partitions, c.replication_factor), (1, 3));
        assert_eq!((o.partitions, o.replication_factor), (25, 3));
        assert_eq!((s.partitions, s.replication_factor), (5, 3));
        for t in [&c, &o, &s] {
            assert_eq!(t.configs, props(&[("cleanup.policy", "compact")]));
        }
    }

    #[test]
    fn config_topic_partitions_are_always_one() {
        let p = props(&[
            ("config.storage.topic", "c"),
            ("config.storage.partitions", "7"),
            ("config.storage.replication.factor", "-1"),
        ]);
        let c = InternalTopic::configs(&p).unwrap();
        assert_eq!((c.partitions, c.replication_factor), (1, -1));
        assert!(!c.configs.contains_key("partitions"));
    }

    #[test]
    fn invalid_counts_and_missing_names_are_refused() {
        for (key, value) in [
            ("status.storage.partitions", "0"),
            ("status.storage.partitions", "-2"),
            ("status.storage.replication.factor", "x"),
        ] {
            let p = props(&[("status.storage.topic", "s"), (key, value)]);
            assert!(InternalTopic::statuses(&p).is_err(), "{key}={value}");
        }
        assert!(InternalTopic::statuses(&props(&[("status.storage.topic", " ")])).is_err());
        assert!(InternalTopic::configs(&props(&[])).is_err());
    }

    #[test]
    fn cleanup_policy_lists_are_read_as_sets() {
        assert_eq!(cleanup_policies(Some("Compact".into())), ["compact"]);
        assert_eq!(
            cleanup_policies(Some("delete, compact,".into())),
            ["compact", "delete"]
        );
        assert!(cleanup_policies(None).is_empty());
    }

    #[test]
    fn new_topic_carries_settings() {
        let p = props(&[
            ("status.storage.topic", "s"),
            ("status.storage.partitions", "2"),
            ("status.storage.replication.factor", "1"),
            ("status.storage.segment.ms", "1000"),
        ]);
        let topic = InternalTopic::statuses(&p).unwrap().new_topic();
        assert_eq!(
            (
                topic.name.as_str(),
                topic.num_partitions,
                topic.replication_factor
            ),
            ("s", 2, 1)
        );
        assert_eq!(
            topic.configs,
            props(&[("cleanup.policy", "compact"), ("segment.ms", "1000")])
        );
    }
}
