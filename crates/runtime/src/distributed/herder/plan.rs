//! The herder's decisions that need no I/O: what to stop and start when an assignment arrives,
//! which running work a config change touches, and which instances a restart request restarts.

use std::collections::BTreeSet;

use crate::ConnectorTaskId;
use crate::distributed::protocol::Assignment;
use crate::herder::ConnectorStateInfo;
use crate::storage::kafka::ClusterConfigState;
use crate::worker::State;

/// Connectors and tasks, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Connector instances.
    pub connectors: BTreeSet<String>,
    /// Tasks.
    pub tasks: BTreeSet<ConnectorTaskId>,
}

impl Work {
    /// What an assignment hands out (its revocations aside).
    pub fn assigned(assignment: &Assignment) -> Self {
        Self {
            connectors: assignment.connectors.iter().cloned().collect(),
            tasks: assignment.tasks.iter().cloned().collect(),
        }
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    /// What is here and not in `other`.
    pub fn minus(&self, other: &Work) -> Work {
        Work {
            connectors: self
                .connectors
                .difference(&other.connectors)
                .cloned()
                .collect(),
            tasks: self.tasks.difference(&other.tasks).cloned().collect(),
        }
    }
}

/// What a worker does to go from running `running` to running `target`: stop first (the
/// revocations of an incremental rebalance, everything under eager rebalancing), then start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkPlan {
    /// Running now, not in the target.
    pub stop: Work,
    /// In the target, not running now.
    pub start: Work,
}

impl WorkPlan {
    /// The plan from `running` to `target`.
    ///
    /// ```
    /// use ferry_runtime::ConnectorTaskId;
    /// use ferry_runtime::distributed::herder::plan::{Work, WorkPlan};
    /// let running = Work { connectors: ["a".to_owned()].into(), tasks: [ConnectorTaskId::new("a", 0)].into() };
    /// let target = Work { connectors: ["a".to_owned()].into(), tasks: [ConnectorTaskId::new("a", 1)].into() };
    /// let plan = WorkPlan::between(&running, &target);
    /// assert_eq!(plan.stop.tasks, [ConnectorTaskId::new("a", 0)].into());
    /// assert_eq!(plan.start.tasks, [ConnectorTaskId::new("a", 1)].into());
    /// assert!(plan.start.connectors.is_empty() && plan.stop.connectors.is_empty());
    /// ```
    pub fn between(running: &Work, target: &Work) -> Self {
        Self {
            stop: running.minus(target),
            start: target.minus(running),
        }
    }
}

/// How a batch of config-topic changes touches what this worker runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// Running connectors that were deleted: stop them.
    pub removed_connectors: BTreeSet<String>,
    /// Running connectors whose config changed: restart them with the new config.
    pub reconfigured_connectors: BTreeSet<String>,
    /// Connectors whose target state changed and which run here (instance or tasks).
    pub target_state_changed: BTreeSet<String>,
    /// Running tasks that no longer exist: stop them.
    pub removed_tasks: BTreeSet<ConnectorTaskId>,
    /// Running tasks whose config changed: restart them.
    pub reconfigured_tasks: BTreeSet<ConnectorTaskId>,
    /// Whether connectors or tasks appeared or vanished, so the group must rebalance for the
    /// assignment to cover them.
    pub rebalance_needed: bool,
}

impl ConfigChanges {
    /// Compares two snapshots for what `running` is affected by.
    pub fn between(
        before: &ClusterConfigState,
        after: &ClusterConfigState,
        running: &Work,
    ) -> Self {
        let mut changes = Self::default();
        for connector in &running.connectors {
            match after.connector_config(connector) {
                None => {
                    changes.removed_connectors.insert(connector.clone());
                }
                Some(config) if before.connector_config(connector) != Some(config) => {
                    changes.reconfigured_connectors.insert(connector.clone());
                }
                Some(_) => {}
            }
        }
        let touched = running
            .connectors
            .iter()
            .chain(running.tasks.iter().map(|t| &t.connector));
        for connector in touched {
            if after.contains(connector)
                && before.target_state(connector) != after.target_state(connector)
            {
                changes.target_state_changed.insert(connector.clone());
            }
        }
        for task in &running.tasks {
            match after.task_config(task) {
                Some(_) if task.task >= after.task_count(&task.connector) => {
                    changes.removed_tasks.insert(task.clone());
                }
                None => {
                    changes.removed_tasks.insert(task.clone());
                }
                Some(config) if before.task_config(task) != Some(config) => {
                    changes.reconfigured_tasks.insert(task.clone());
                }
                Some(_) if !after.contains(&task.connector) => {
                    changes.removed_tasks.insert(task.clone());
                }
                Some(_) => {}
            }
        }
        let names = |s: &ClusterConfigState| -> BTreeSet<String> {
            s.connectors().map(str::to_owned).collect()
        };
        let (names_before, names_after) = (names(before), names(after));
        changes.rebalance_needed = names_before != names_after
            || names_after
                .iter()
                .any(|c| before.task_count(c) != after.task_count(c));
        changes
    }
}

/// Which instances a KIP-745 restart request restarts, judged by the connector's current
/// status: the connector instance unless only failed ones are asked for and it has not
/// failed, and (with `include_tasks`) each task by the same rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPlan {
    /// Whether the connector instance restarts.
    pub connector: bool,
    /// The task indexes that restart.
    pub tasks: Vec<i32>,
}

impl RestartPlan {
    /// The plan for a request with these flags on a connector with this status.
    pub fn new(only_failed: bool, include_tasks: bool, status: &ConnectorStateInfo) -> Self {
        let restarts = |state: &str| !only_failed || state == State::Failed.name();
        Self {
            connector: restarts(&status.connector.state),
            tasks: if include_tasks {
                status
                    .tasks
                    .iter()
                    .filter(|t| restarts(&t.state))
                    .map(|t| t.id)
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The status to answer the request with: what restarts shown as RESTARTING.
    pub fn restarting(&self, mut status: ConnectorStateInfo) -> ConnectorStateInfo {
        if self.connector {
            status.connector.state = State::Restarting.name().to_owned();
        }
        for task in status
            .tasks
            .iter_mut()
            .filter(|t| self.tasks.contains(&t.id))
        {
            task.state = State::Restarting.name().to_owned();
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::herder::{ConnectorState, ConnectorType, TaskState};
    use proptest::prelude::*;

    fn work(connectors: &[&str], tasks: &[(&str, i32)]) -> Work {
        Work {
            connectors: connectors.iter().map(|c| (*c).to_owned()).collect(),
            tasks: tasks
                .iter()
                .map(|(c, t)| ConnectorTaskId::new(*c, *t))
                .collect(),
        }
    }

    #[test]
    fn revoked_work_stops_and_new_work_starts() {
        let running = work(&["a", "b"], &[("a", 0), ("a", 1), ("b", 0)]);
        let target = work(&["a", "c"], &[("a", 0), ("c", 0)]);
        let plan = WorkPlan::between(&running, &target);
        assert_eq!(plan.stop, work(&["b"], &[("a", 1), ("b", 0)]));
        assert_eq!(plan.start, work(&["c"], &[("c", 0)]));
        assert_eq!(WorkPlan::between(&target, &target), WorkPlan::default());
    }

    fn set(items: Vec<(u8, i32)>) -> Work {
        Work {
            connectors: items.iter().map(|(c, _)| format!("c{c}")).collect(),
            tasks: items
                .iter()
                .map(|(c, t)| ConnectorTaskId::new(format!("c{c}"), *t))
                .collect(),
        }
    }

    proptest! {
        #[test]
        fn applying_a_plan_reaches_the_target(
            running in proptest::collection::vec((0u8..5, 0i32..4), 0..12),
            target in proptest::collection::vec((0u8..5, 0i32..4), 0..12),
        ) {
            let (running, target) = (set(running), set(target));
            let plan = WorkPlan::between(&running, &target);
            let mut after = running.minus(&plan.stop);
            after.connectors.extend(plan.start.connectors.iter().cloned());
            after.tasks.extend(plan.start.tasks.iter().cloned());
            prop_assert_eq!(&after, &target);
            // Nothing is both stopped and started.
            prop_assert!(plan.stop.connectors.is_disjoint(&plan.start.connectors));
            prop_assert!(plan.stop.tasks.is_disjoint(&plan.start.tasks));
        }
    }

    fn status(connector: &str, tasks: &[&str]) -> ConnectorStateInfo {
        ConnectorStateInfo {
            name: "c".into(),
            connector: ConnectorState {
                state: connector.into(),
                worker_id: "w:1".into(),
                trace: None,
            },
            tasks: tasks
                .iter()
                .enumerate()
                .map(|(i, s)| TaskState {
                    id: i as i32,
                    state: (*s).into(),
                    worker_id: "w:1".into(),
                    trace: None,
                })
                .collect(),
            kind: ConnectorType::Source,
        }
    }

    fn state(records: &[(&str, Option<&str>)]) -> ClusterConfigState {
        let mut log = crate::storage::kafka::config_state::ConfigLogState::default();
        for (offset, (key, value)) in records.iter().enumerate() {
            log.apply(offset as i64, key, value.map(str::as_bytes));
        }
        log.snapshot
    }

    const CONNECTOR: (&str, Option<&str>) = ("connector-a", Some(r#"{"properties":{"x":"1"}}"#));
    const TASK0: (&str, Option<&str>) = ("task-a-0", Some(r#"{"properties":{"t":"0"}}"#));
    const TASK1: (&str, Option<&str>) = ("task-a-1", Some(r#"{"properties":{"t":"1"}}"#));

    #[test]
    fn config_changes_name_the_running_work_they_touch() {
        let before = state(&[
            CONNECTOR,
            TASK0,
            TASK1,
            ("commit-a", Some(r#"{"tasks":2}"#)),
        ]);
        let running = work(&["a"], &[("a", 0), ("a", 1)]);
        assert_eq!(
            ConfigChanges::between(&before, &before, &running),
            ConfigChanges::default()
        );
        // One task fewer, task 0 reconfigured, connector paused.
        let after = state(&[
            CONNECTOR,
            TASK0,
            TASK1,
            ("commit-a", Some(r#"{"tasks":2}"#)),
            ("task-a-0", Some(r#"{"properties":{"t":"new"}}"#)),
            ("commit-a", Some(r#"{"tasks":1}"#)),
            ("target-state-a", Some(r#"{"state":"PAUSED"}"#)),
        ]);
        let changes = ConfigChanges::between(&before, &after, &running);
        assert_eq!(changes.removed_tasks, [ConnectorTaskId::new("a", 1)].into());
        assert_eq!(
            changes.reconfigured_tasks,
            [ConnectorTaskId::new("a", 0)].into()
        );
        assert_eq!(changes.target_state_changed, ["a".to_owned()].into());
        assert!(changes.rebalance_needed && changes.removed_connectors.is_empty());
        // Deleted: everything stops. Tasks elsewhere only: their target state still applies.
        let deleted = state(&[("connector-a", None)]);
        let changes = ConfigChanges::between(&before, &deleted, &running);
        assert_eq!(changes.removed_connectors, ["a".to_owned()].into());
        assert_eq!(changes.removed_tasks.len(), 2);
        let tasks_only = work(&[], &[("a", 0)]);
        let paused = ConfigChanges::between(&before, &after, &tasks_only);
        assert_eq!(paused.target_state_changed, ["a".to_owned()].into());
    }

    #[test]
    fn restart_plans_follow_the_flags() {
        let current = status("RUNNING", &["FAILED", "RUNNING", "FAILED"]);
        let only_failed = RestartPlan::new(true, true, &current);
        assert_eq!(
            only_failed,
            RestartPlan {
                connector: false,
                tasks: vec![0, 2]
            }
        );
        let shown = only_failed.restarting(current.clone());
        let states: Vec<&str> = shown.tasks.iter().map(|t| t.state.as_str()).collect();
        assert_eq!(states, ["RESTARTING", "RUNNING", "RESTARTING"]);
        assert_eq!(shown.connector.state, "RUNNING");
        let all = RestartPlan::new(false, true, &current);
        assert!(all.connector && all.tasks == [0, 1, 2]);
        let connector_only = RestartPlan::new(false, false, &current);
        assert!(connector_only.connector && connector_only.tasks.is_empty());
        let failed = status("FAILED", &[]);
        assert!(RestartPlan::new(true, false, &failed).connector);
    }
}
