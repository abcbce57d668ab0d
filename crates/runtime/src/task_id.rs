//! The identity of one task of one connector, as Kafka Connect names it everywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One task of a connector: the connector's name and the task's index (0-based).
///
/// Ordered by connector name, then task index, as Java's `ConnectorTaskId.compareTo` orders
/// them; displayed as `NAME-N`; in REST bodies it is `{"connector": NAME, "task": N}`.
///
/// ```
/// use ferry_runtime::ConnectorTaskId;
/// let id = ConnectorTaskId::new("orders-sink", 3);
/// assert_eq!(id.to_string(), "orders-sink-3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectorTaskId {
    /// The connector's name.
    pub connector: String,
    /// The task's index within the connector.
    pub task: i32,
}

impl ConnectorTaskId {
    /// Names task `task` of connector `connector`.
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        Self {
            connector: connector.into(),
            task,
        }
    }
}

impl fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}
