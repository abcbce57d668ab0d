//! The crate's one error type, and Kafka's error codes.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::ApiKey;

/// A Kafka error code from a response, typed: `KafkaCode::NotCoordinator`,
/// `KafkaCode::Unknown(code)`, … with [`KafkaCode::is_retriable`] following Kafka's own
/// classification (`RetriableException` subclasses in Java's `Errors`).
///
/// ```
/// use ferry_kafka::KafkaCode;
/// assert_eq!(KafkaCode::try_from_code(16), Some(KafkaCode::NotCoordinator));
/// assert!(KafkaCode::NotCoordinator.is_retriable());
/// assert_eq!(KafkaCode::try_from_code(0), None);
/// ```
pub use kafka_protocol::error::ResponseError as KafkaCode;

/// Everything that can go wrong in this crate.
///
/// `Clone` because one connection failure is delivered to every request in flight on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Reading from or writing to a broker failed, or the connection could not be opened.
    #[error("I/O error with broker {broker}: {source}")]
    Io {
        /// `host:port` of the broker.
        broker: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// No answer came within the time allowed (`request.timeout.ms`, a request's own timeout
    /// such as a JoinGroup's, or the connection setup timeout while connecting).
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long it was waited for.
        after: Duration,
    },
    /// The connection was closed, by the broker or because it failed earlier.
    #[error("connection to {broker} is closed: {reason}")]
    Disconnected {
        /// `host:port` of the broker.
        broker: String,
        /// Why it was closed.
        reason: String,
    },
    /// The broker sent bytes that are not a valid response: truncated, oversized, undecodable
    /// or answering a request that was never sent. The connection is closed.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The broker does not offer this API, or no version of it that this client can speak.
    #[error("the broker does not support {api:?} in a version this client can use")]
    Unsupported {
        /// The API that is missing.
        api: ApiKey,
    },
    /// The broker answered with a Kafka error code.
    #[error("{code} (error code {code_num}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(), code_num = code.code())]
    Kafka {
        /// The error code.
        code: KafkaCode,
        /// The broker's error message, when it sent one.
        message: Option<String>,
    },
    /// A configuration value is missing or invalid.
    #[error("invalid value for configuration {key}: {reason}")]
    Config {
        /// The configuration key, as in Java (`request.timeout.ms`).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A consumer's partition has no position and `auto.offset.reset` is `none`, so there is
    /// nowhere to start reading: seek it first (Java's `NoOffsetForPartitionException`).
    #[error(
        "partition {topic}-{partition} has no position and auto.offset.reset is none: seek first"
    )]
    NoOffsetForPartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The request cannot be sent because the client was given something it cannot express
    /// (an unknown topic, a value out of range for the protocol).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// Whether trying again (after a backoff, maybe on a new connection or after refreshing
    /// metadata) can succeed: I/O errors, timeouts, closed connections and Kafka's retriable
    /// codes.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Io { .. } | Error::Timeout { .. } | Error::Disconnected { .. } => true,
            Error::Kafka { code, .. } => code.is_retriable(),
            Error::Protocol(_)
            | Error::Unsupported { .. }
            | Error::Config { .. }
            | Error::NoOffsetForPartition { .. }
            | Error::InvalidRequest(_) => false,
        }
    }

    /// The Kafka error code, when this is one.
    pub fn kafka_code(&self) -> Option<KafkaCode> {
        match self {
            Error::Kafka { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether cached metadata (partition leaders, coordinators) may be stale after this error,
    /// so that the caller should ask the [`Cluster`](crate::Cluster) for an update before
    /// retrying.
    pub fn invalidates_metadata(&self) -> bool {
        matches!(
            self.kafka_code(),
            Some(
                KafkaCode::NotLeaderOrFollower
                    | KafkaCode::LeaderNotAvailable
                    | KafkaCode::UnknownTopicOrPartition
                    | KafkaCode::UnknownTopicId
                    | KafkaCode::FencedLeaderEpoch
                    | KafkaCode::UnknownLeaderEpoch
                    | KafkaCode::NotCoordinator
                    | KafkaCode::CoordinatorNotAvailable
                    | KafkaCode::KafkaStorageError
            )
        ) || matches!(self, Error::Io { .. } | Error::Disconnected { .. })
    }

    pub(crate) fn io(broker: &str, source: std::io::Error) -> Self {
        Error::Io {
            broker: broker.to_owned(),
            source: Arc::new(source),
        }
    }
}

/// Turns a response's error code (and optional message) into a result.
///
/// ```
/// use ferry_kafka::{Error, KafkaCode, error::check};
/// assert!(check(0, None).is_ok());
/// assert!(matches!(check(3, None), Err(Error::Kafka { code: KafkaCode::UnknownTopicOrPartition, .. })));
/// ```
pub fn check(code: i16, message: Option<&str>) -> Result<(), Error> {
    match KafkaCode::try_from_code(code) {
        None => Ok(()),
        Some(code) => Err(Error::Kafka {
            code,
            message: message.filter(|m| !m.is_empty()).map(str::to_owned),
        }),
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retriable_follows_kafka() {
        assert!(
            Error::Kafka {
                code: KafkaCode::NotLeaderOrFollower,
                message: None
            }
            .is_retriable()
        );
        assert!(
            !Error::Kafka {
                code: KafkaCode::TopicAlreadyExists,
                message: None
            }
            .is_retriable()
        );
        assert!(
            !Error::Unsupported {
                api: ApiKey::CreatePartitions
            }
            .is_retriable()
        );
        assert!(Error::io("b:1", std::io::ErrorKind::ConnectionReset.into()).is_retriable());
    }

    #[test]
    fn no_offset_for_partition_is_final_and_names_the_partition() {
        let e = Error::NoOffsetForPartition {
            topic: "orders".into(),
            partition: 3,
        };
        assert!(!e.is_retriable());
        assert!(!e.invalidates_metadata());
        assert_eq!(
            e.to_string(),
            "partition orders-3 has no position and auto.offset.reset is none: seek first"
        );
    }

    #[test]
    fn display_names_code_and_message() {
        let e = check(36, Some("exists")).unwrap_err();
        assert_eq!(e.to_string(), "TopicAlreadyExists (error code 36): exists");
        let e = check(36, Some("")).unwrap_err();
        assert_eq!(e.to_string(), "TopicAlreadyExists (error code 36)");
    }
}
