//! The group consumer's settings, with Java's keys and defaults.

use std::sync::Arc;
use std::time::Duration;

use super::assignor::{self, Assignor, CooperativeStickyAssignor, RangeAssignor};
use crate::error::{Error, Result};
use crate::group::MembershipConfig;

/// What a [`GroupConsumer`](super::GroupConsumer) needs besides the fetcher's
/// [`ConsumerConfig`](crate::consumer::ConsumerConfig).
///
/// ```
/// use ferry_kafka::group::consumer::GroupConsumerConfig;
/// let config = GroupConsumerConfig::from_pairs([
///     ("group.id", "g"),
///     ("partition.assignment.strategy", "cooperative-sticky"),
///     ("enable.auto.commit", "false"),
/// ])?;
/// assert_eq!(config.assignors[0].name(), "cooperative-sticky");
/// assert!(!config.enable_auto_commit);
/// assert_eq!(config.membership.session_timeout.as_millis(), 45_000);
/// # Ok::<_, ferry_kafka::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GroupConsumerConfig {
    /// `group.id`, `group.instance.id`, `session.timeout.ms` (45000), `max.poll.interval.ms`
    /// (300000, the rebalance timeout) and `heartbeat.interval.ms` (3000).
    pub membership: MembershipConfig,
    /// `partition.assignment.strategy`, in preference order (`range`, `cooperative-sticky`).
    pub assignors: Vec<Arc<dyn Assignor>>,
    /// `enable.auto.commit` (true).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5000).
    pub auto_commit_interval: Duration,
}

impl GroupConsumerConfig {
    /// Java's defaults for `group_id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            membership: MembershipConfig::consumer(group_id),
            assignors: vec![Arc::new(RangeAssignor), Arc::new(CooperativeStickyAssignor)],
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(5_000),
        }
    }

    /// Parses a consumer's `(key, value)` pairs; `group.id` is required, unknown keys are
    /// ignored.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .collect();
        let invalid = |key: &str, reason: String| Error::Config {
            key: key.to_owned(),
            reason,
        };
        let group_id = pairs
            .iter()
            .find(|(k, _)| k == "group.id")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid("group.id", "required for a group consumer".into()))?;
        let mut config = Self::new(group_id);
        config.membership = config.membership.with_pairs(pairs.iter().cloned())?;
        for (key, value) in &pairs {
            match key.as_str() {
                "partition.assignment.strategy" => {
                    config.assignors = value
                        .split(',')
                        .filter(|name| !name.trim().is_empty())
                        .map(|name| {
                            assignor::by_name(name)
                                .map(Arc::from)
                                .ok_or_else(|| invalid(key, format!("unknown assignor {name:?}")))
                        })
                        .collect::<Result<_>>()?;
                    if config.assignors.is_empty() {
                        return Err(invalid(key, "no assignor".into()));
                    }
                }
                "enable.auto.commit" => {
                    config.enable_auto_commit = value
                        .parse()
                        .map_err(|_| invalid(key, format!("{value:?} is not true or false")))?
                }
                "auto.commit.interval.ms" => {
                    config.auto_commit_interval = value
                        .parse()
                        .map(Duration::from_millis)
                        .map_err(|e| invalid(key, format!("{value:?}: {e}")))?
                }
                _ => {}
            }
        }
        Ok(config)
    }
}
