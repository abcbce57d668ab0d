//! Errors of group membership and the group consumer.

use crate::error::{Error, KafkaCode};

/// What can go wrong while being a member of a group.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// A request to the coordinator failed, or the coordinator answered with an error code.
    #[error(transparent)]
    Client(#[from] Error),
    /// The member was closed (or dropped) before the operation finished.
    #[error("the group member is closed")]
    Closed,
    /// This member led a generation but its assignment request was dropped without an answer.
    #[error("the assignment of generation {generation} was abandoned by the leader")]
    AssignmentAbandoned {
        /// The generation that could not be assigned.
        generation: i32,
    },
    /// The coordinator chose a protocol type or name this member did not offer.
    #[error("inconsistent group protocol: {0}")]
    InconsistentProtocol(String),
    /// Bytes in the group protocol (a subscription or an assignment) could not be decoded.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
}

impl GroupError {
    /// The Kafka error code, when the coordinator answered with one.
    pub fn kafka_code(&self) -> Option<KafkaCode> {
        match self {
            GroupError::Client(e) => e.kafka_code(),
            _ => None,
        }
    }

    /// Whether trying again can succeed (Kafka's retriable codes, I/O errors, timeouts).
    pub fn is_retriable(&self) -> bool {
        match self {
            GroupError::Client(e) => e.is_retriable(),
            _ => false,
        }
    }
}

impl From<KafkaCode> for GroupError {
    fn from(code: KafkaCode) -> Self {
        GroupError::Client(Error::Kafka {
            code,
            message: None,
        })
    }
}
