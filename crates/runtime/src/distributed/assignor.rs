//! What the group leader knows when it assigns work, and what it hands out: shared by the
//! eager and the incremental cooperative assignors.

use std::collections::BTreeMap;

use indexmap::IndexSet;

use super::protocol::{Assignment, ConnectProtocolCompatibility, WorkerMetadata};
use crate::ConnectorTaskId;

/// The leader's view of the config topic: which connectors exist and how many tasks each has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSnapshot {
    /// The config-topic offset the snapshot was read up to.
    pub offset: i64,
    /// Task count per connector. A connector whose task configs are inconsistent counts 0 tasks,
    /// as Java's `ClusterConfigState.tasks` reports none for it.
    pub task_counts: BTreeMap<String, u32>,
}

impl ConfigSnapshot {
    /// The ids of all tasks of `connector`, in index order.
    pub fn tasks(&self, connector: &str) -> impl Iterator<Item = ConnectorTaskId> + use<> {
        let count = self.task_counts.get(connector).copied().unwrap_or(0);
        let connector = connector.to_owned();
        (0..count).map(move |i| ConnectorTaskId::new(connector.clone(), i as i32))
    }
}

/// One rebalance as the leader sees it.
#[derive(Debug, Clone)]
pub struct AssignmentRequest<'a> {
    /// The leader's member id.
    pub leader_id: &'a str,
    /// The sub-protocol the group coordinator chose.
    pub protocol: ConnectProtocolCompatibility,
    /// Every member's JoinGroup metadata by member id; must contain the leader.
    pub members: &'a BTreeMap<String, WorkerMetadata>,
    /// The leader's freshest config snapshot.
    pub snapshot: &'a ConfigSnapshot,
    /// The generation of the leader's last completed rebalance (-1 before its first).
    pub last_completed_generation: i32,
    /// The generation being assigned.
    pub current_generation: i32,
    /// Wall-clock milliseconds, for scheduled rebalance delays.
    pub now_ms: i64,
}

/// Why the leader cannot assign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignorError {
    /// The leader's own metadata is not among the members'.
    #[error("leader {0} is not a member of the group")]
    LeaderNotMember(String),
}

/// Connectors and tasks as ordered sets; the order decides which ones a load-balancing
/// revocation picks, as it does in Java.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorsAndTasks {
    /// Connector instances.
    pub connectors: IndexSet<String>,
    /// Tasks.
    pub tasks: IndexSet<ConnectorTaskId>,
}

impl ConnectorsAndTasks {
    /// Whether there is neither a connector nor a task.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    /// Adds everything in `other` that is not here yet, keeping this set's order first.
    pub fn add_all(&mut self, other: &ConnectorsAndTasks) {
        self.connectors.extend(other.connectors.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
    }

    /// Removes everything in `other`, keeping the order of what remains.
    pub fn remove_all(&mut self, other: &ConnectorsAndTasks) {
        self.connectors.retain(|c| !other.connectors.contains(c));
        self.tasks.retain(|t| !other.tasks.contains(t));
    }
}

/// The leader's result: the assignment to send each member, and who runs what afterwards
/// (for locating a connector's or task's owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssignment {
    /// The assignment for each member id.
    pub assignments: BTreeMap<String, Assignment>,
    /// Everything each member runs once the assignments are applied.
    pub owned: BTreeMap<String, ConnectorsAndTasks>,
}

/// The highest config offset any member has read, and the offset the assignment is made at;
/// `None` for the latter when the leader is behind and must answer
/// [`Assignment::CONFIG_MISMATCH`].
pub(crate) fn config_offsets(request: &AssignmentRequest<'_>) -> (i64, Option<i64>) {
    let max = request
        .members
        .values()
        .map(|m| m.config_offset)
        .max()
        .unwrap_or(i64::MIN);
    let usable = (request.snapshot.offset >= max).then_some(request.snapshot.offset);
    (max, usable)
}

/// The leader's URL from its own metadata.
pub(crate) fn leader_url(request: &AssignmentRequest<'_>) -> Result<String, AssignorError> {
    request
        .members
        .get(request.leader_id)
        .map(|m| m.url.clone())
        .ok_or_else(|| AssignorError::LeaderNotMember(request.leader_id.to_owned()))
}

/// Builds the assignment header every member gets, with nothing assigned or revoked.
pub(crate) fn empty_assignment(
    request: &AssignmentRequest<'_>,
    leader_url: &str,
    error: i16,
    config_offset: i64,
) -> Assignment {
    Assignment {
        version: request.protocol.version(),
        error,
        leader: request.leader_id.to_owned(),
        leader_url: leader_url.to_owned(),
        config_offset,
        connectors: Vec::new(),
        tasks: Vec::new(),
        revoked_connectors: Vec::new(),
        revoked_tasks: Vec::new(),
        delay_ms: 0,
    }
}

/// The [`Assignment::CONFIG_MISMATCH`] answer for every member.
pub(crate) fn config_mismatch(
    request: &AssignmentRequest<'_>,
    leader_url: &str,
    max_offset: i64,
) -> GroupAssignment {
    let failed = empty_assignment(request, leader_url, Assignment::CONFIG_MISMATCH, max_offset);
    GroupAssignment {
        assignments: request
            .members
            .keys()
            .map(|m| (m.clone(), failed.clone()))
            .collect(),
        owned: BTreeMap::new(),
    }
}
