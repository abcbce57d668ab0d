//! The eager assignor (sub-protocol `default`): every rebalance stops everything and the leader
//! deals all connectors, then all tasks, round-robin over the members.

use super::assignor::{
    AssignmentRequest, AssignorError, ConnectorsAndTasks, GroupAssignment, config_mismatch,
    config_offsets, empty_assignment, leader_url,
};
use super::protocol::Assignment;

/// Assigns all connectors and tasks round-robin over the members sorted by member id.
///
/// Connectors go first, in name order; tasks follow, connector by connector in index order,
/// continuing the round where the connectors stopped, as Java's `EagerAssignor` does (so that
/// one-task connectors do not put every task on the members that got no connector).
///
/// ```
/// use std::collections::BTreeMap;
/// use ferry_runtime::distributed::assignor::{AssignmentRequest, ConfigSnapshot};
/// use ferry_runtime::distributed::eager::assign;
/// use ferry_runtime::distributed::protocol::{ConnectProtocolCompatibility, WorkerMetadata};
///
/// let member = |url: &str| WorkerMetadata { url: url.into(), config_offset: 5, assignment: None };
/// let members = BTreeMap::from([("a".to_string(), member("http://a/")), ("b".to_string(), member("http://b/"))]);
/// let snapshot = ConfigSnapshot { offset: 5, task_counts: BTreeMap::from([("c".to_string(), 2)]) };
/// let result = assign(&AssignmentRequest {
///     leader_id: "a", protocol: ConnectProtocolCompatibility::Eager, members: &members,
///     snapshot: &snapshot, last_completed_generation: -1, current_generation: 1, now_ms: 0,
/// }).unwrap();
/// assert_eq!(result.assignments["a"].connectors, ["c"]);
/// assert_eq!(result.assignments["b"].tasks[0].to_string(), "c-0");
/// assert_eq!(result.assignments["a"].tasks[0].to_string(), "c-1");
/// ```
pub fn assign(request: &AssignmentRequest<'_>) -> Result<GroupAssignment, AssignorError> {
    let leader_url = leader_url(request)?;
    let (max_offset, usable) = config_offsets(request);
    let Some(offset) = usable else {
        return Ok(config_mismatch(request, &leader_url, max_offset));
    };
    let base = empty_assignment(request, &leader_url, Assignment::NO_ERROR, offset);
    let mut assignments: Vec<(String, Assignment)> = request
        .members
        .keys()
        .map(|m| (m.clone(), base.clone()))
        .collect();
    let mut next = (0..assignments.len()).cycle();
    let snapshot = request.snapshot;
    for connector in snapshot.task_counts.keys() {
        let at = next.next().expect("a group has at least its leader");
        assignments[at].1.connectors.push(connector.clone());
    }
    for task in snapshot.task_counts.keys().flat_map(|c| snapshot.tasks(c)) {
        let at = next.next().expect("a group has at least its leader");
        assignments[at].1.tasks.push(task);
    }
    let owned = assignments
        .iter()
        .map(|(member, a)| {
            let owned = ConnectorsAndTasks {
                connectors: a.connectors.iter().cloned().collect(),
                tasks: a.tasks.iter().cloned().collect(),
            };
            (member.clone(), owned)
        })
        .collect();
    Ok(GroupAssignment {
        assignments: assignments.into_iter().collect(),
        owned,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::distributed::assignor::ConfigSnapshot;
    use crate::distributed::protocol::{ConnectProtocolCompatibility, WorkerMetadata};

    fn members(ids: &[&str], offset: i64) -> BTreeMap<String, WorkerMetadata> {
        ids.iter()
            .map(|id| {
                let m = WorkerMetadata {
                    url: format!("http://{id}/"),
                    config_offset: offset,
                    assignment: None,
                };
                (id.to_string(), m)
            })
            .collect()
    }

    fn request<'a>(
        members: &'a BTreeMap<String, WorkerMetadata>,
        snapshot: &'a ConfigSnapshot,
    ) -> AssignmentRequest<'a> {
        AssignmentRequest {
            leader_id: "w2",
            protocol: ConnectProtocolCompatibility::Eager,
            members,
            snapshot,
            last_completed_generation: 0,
            current_generation: 1,
            now_ms: 0,
        }
    }

    #[test]
    fn round_robin_continues_from_connectors_into_tasks() {
        let members = members(&["w2", "w1", "w3"], 10);
        let snapshot = ConfigSnapshot {
            offset: 10,
            task_counts: BTreeMap::from([("b".into(), 1), ("a".into(), 2)]),
        };
        let result = assign(&request(&members, &snapshot)).unwrap();
        let got = |m: &str| {
            let a = &result.assignments[m];
            let tasks: Vec<String> = a.tasks.iter().map(|t| t.to_string()).collect();
            (a.connectors.clone(), tasks)
        };
        assert_eq!(got("w1"), (vec!["a".to_string()], vec!["a-1".to_string()]));
        assert_eq!(got("w2"), (vec!["b".to_string()], vec!["b-0".to_string()]));
        assert_eq!(got("w3"), (vec![], vec!["a-0".to_string()]));
        let a = &result.assignments["w3"];
        assert_eq!(
            (a.version, a.leader.as_str(), a.leader_url.as_str()),
            (0, "w2", "http://w2/")
        );
        assert_eq!(a.config_offset, 10);
    }

    #[test]
    fn leader_behind_answers_config_mismatch() {
        let mut members = members(&["w1", "w2"], 10);
        members.get_mut("w1").unwrap().config_offset = 12;
        let snapshot = ConfigSnapshot {
            offset: 10,
            task_counts: BTreeMap::from([("a".into(), 2)]),
        };
        let result = assign(&request(&members, &snapshot)).unwrap();
        for a in result.assignments.values() {
            assert_eq!(a.error, Assignment::CONFIG_MISMATCH);
            assert_eq!(a.config_offset, 12);
            assert!(a.connectors.is_empty() && a.tasks.is_empty());
        }
    }

    #[test]
    fn leader_must_be_a_member() {
        let members = members(&["w1"], 0);
        let snapshot = ConfigSnapshot::default();
        assert_eq!(
            assign(&request(&members, &snapshot)),
            Err(AssignorError::LeaderNotMember("w2".into()))
        );
    }

    proptest! {
        #[test]
        fn everything_assigned_once_and_balanced(
            workers in 1usize..6,
            counts in prop::collection::vec(0u32..7, 0..6),
        ) {
            let ids: Vec<String> = (0..workers).map(|i| format!("w{}", i + 1)).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut members = members(&ids, 3);
            members.insert("w2".into(), members["w1"].clone());
            let snapshot = ConfigSnapshot {
                offset: 3,
                task_counts: counts.iter().enumerate().map(|(i, n)| (format!("c{i}"), *n)).collect(),
            };
            let result = assign(&request(&members, &snapshot)).unwrap();
            let mut units: Vec<String> = Vec::new();
            let mut loads = Vec::new();
            for a in result.assignments.values() {
                units.extend(a.connectors.iter().cloned());
                units.extend(a.tasks.iter().map(|t| t.to_string()));
                loads.push(a.connectors.len() + a.tasks.len());
            }
            let total = snapshot.task_counts.len() + counts.iter().map(|n| *n as usize).sum::<usize>();
            prop_assert_eq!(units.len(), total);
            units.sort();
            units.dedup();
            prop_assert_eq!(units.len(), total);
            let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            prop_assert!(max - min <= 1);
        }
    }
}
