use super::*;

fn props(pairs: &[(&str, &str)]) -> Properties {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Feeds records as the log would, numbering offsets from 0.
struct Feed {
    state: ConfigLogState,
    next: i64,
}

impl Feed {
    fn new() -> Self {
        Self {
            state: ConfigLogState::default(),
            next: 0,
        }
    }

    fn raw(&mut self, key: &str, value: Option<&str>) -> Option<ConfigUpdate> {
        let offset = self.next;
        self.next += 1;
        self.state.apply(offset, key, value.map(str::as_bytes))
    }

    fn record(&mut self, record: ConfigRecord) -> Option<ConfigUpdate> {
        let value = record.value();
        let offset = self.next;
        self.next += 1;
        self.state.apply(offset, &record.key(), value.as_deref())
    }

    fn connector(&mut self, name: &str) -> Option<ConfigUpdate> {
        self.record(ConfigRecord::ConnectorConfig {
            connector: name.into(),
            properties: Some(props(&[("connector.class", "X")])),
        })
    }

    fn task(&mut self, name: &str, task: i32) {
        let update = self.record(ConfigRecord::TaskConfig {
            task: ConnectorTaskId::new(name, task),
            properties: props(&[("task", &task.to_string())]),
        });
        assert_eq!(update, None, "task configs wait for their commit");
    }

    fn commit(&mut self, name: &str, tasks: i32) -> Option<ConfigUpdate> {
        self.record(ConfigRecord::TaskCommit {
            connector: name.into(),
            tasks,
        })
    }

    fn snapshot(&self) -> &ClusterConfigState {
        &self.state.snapshot
    }
}

fn ids(name: &str, tasks: &[i32]) -> Vec<ConnectorTaskId> {
    tasks
        .iter()
        .map(|t| ConnectorTaskId::new(name, *t))
        .collect()
}

#[test]
fn task_configs_apply_only_at_their_commit() {
    let mut feed = Feed::new();
    assert_eq!(
        feed.connector("c"),
        Some(ConfigUpdate::ConnectorConfigUpdated("c".into()))
    );
    assert_eq!(
        feed.snapshot().target_state("c"),
        Some(TargetState::Started)
    );
    feed.task("c", 0);
    feed.task("c", 1);
    assert!(
        feed.snapshot()
            .task_config(&ConnectorTaskId::new("c", 0))
            .is_none()
    );
    assert_eq!(feed.snapshot().tasks("c"), Vec::new());
    assert_eq!(
        feed.commit("c", 2),
        Some(ConfigUpdate::TasksReconfigured(ids("c", &[0, 1])))
    );
    let snapshot = feed.snapshot();
    assert_eq!(snapshot.tasks("c"), ids("c", &[0, 1]));
    assert_eq!(
        snapshot.task_config(&ConnectorTaskId::new("c", 1)),
        Some(&props(&[("task", "1")]))
    );
    assert_eq!(snapshot.task_config_generation("c"), Some(0));
    assert!(snapshot.pending_fencing("c"));
    assert_eq!(
        snapshot.applied_connector_config("c"),
        snapshot.connector_config("c")
    );
    assert_eq!(snapshot.offset(), 4);
}

#[test]
fn an_incomplete_task_set_marks_the_connector_inconsistent_until_a_complete_one() {
    let mut feed = Feed::new();
    feed.connector("c");
    // Task 0 was compacted away: the commit for 2 tasks cannot be applied.
    feed.task("c", 1);
    assert_eq!(
        feed.commit("c", 2),
        Some(ConfigUpdate::TasksReconfigured(Vec::new()))
    );
    assert!(feed.snapshot().inconsistent_connectors().contains("c"));
    assert_eq!(feed.snapshot().task_count("c"), 2);
    assert!(feed.snapshot().tasks("c").is_empty());
    assert!(
        feed.snapshot()
            .task_config(&ConnectorTaskId::new("c", 1))
            .is_none()
    );
    // The stale task 1 is dropped: task 0 alone does not complete a set of 2.
    feed.task("c", 0);
    feed.commit("c", 2);
    assert!(feed.snapshot().inconsistent_connectors().contains("c"));
    feed.task("c", 0);
    feed.task("c", 1);
    feed.commit("c", 2);
    assert!(feed.snapshot().inconsistent_connectors().is_empty());
    assert_eq!(feed.snapshot().tasks("c"), ids("c", &[0, 1]));
}

#[test]
fn extra_task_configs_do_not_make_a_set_incomplete() {
    let mut feed = Feed::new();
    feed.connector("c");
    feed.task("c", 1);
    feed.task("c", 0);
    feed.commit("c", 1);
    assert_eq!(feed.snapshot().tasks("c"), ids("c", &[0]));
}

#[test]
fn commit_generations_count_from_zero() {
    let mut feed = Feed::new();
    feed.connector("c");
    // A commit with no task configs ever seen applies nothing and counts no generation.
    feed.commit("c", 0);
    assert_eq!(feed.snapshot().task_config_generation("c"), None);
    feed.task("c", 0);
    feed.commit("c", 1);
    feed.commit("c", 0);
    assert_eq!(feed.snapshot().task_config_generation("c"), Some(1));
    assert_eq!(feed.snapshot().task_count("c"), 0);
}

#[test]
fn a_commit_for_a_deleted_connector_is_ignored() {
    let mut feed = Feed::new();
    feed.task("gone", 0);
    assert_eq!(feed.commit("gone", 1), None);
    assert_eq!(feed.snapshot().task_count("gone"), 0);
    assert!(!feed.snapshot().contains("gone"));
}

#[test]
fn deleting_a_connector_drops_its_tasks_and_keeps_others() {
    let mut feed = Feed::new();
    for name in ["c", "c-2"] {
        feed.connector(name);
        feed.task(name, 0);
        feed.commit(name, 1);
    }
    let removed = feed.record(ConfigRecord::ConnectorConfig {
        connector: "c".into(),
        properties: None,
    });
    assert_eq!(
        removed,
        Some(ConfigUpdate::ConnectorConfigRemoved("c".into()))
    );
    let snapshot = feed.snapshot();
    assert!(!snapshot.contains("c"));
    assert_eq!(snapshot.task_count("c"), 0);
    assert!(
        snapshot
            .task_config(&ConnectorTaskId::new("c", 0))
            .is_none()
    );
    assert_eq!(snapshot.tasks("c-2"), ids("c-2", &[0]));
    assert_eq!(snapshot.connectors().collect::<Vec<_>>(), ["c-2"]);
}

#[test]
fn target_states_are_reported_only_for_existing_connectors_when_they_change() {
    let mut feed = Feed::new();
    let stopped = |feed: &mut Feed, name: &str| {
        feed.record(ConfigRecord::TargetState {
            connector: name.into(),
            state: Some(TargetState::Stopped),
        })
    };
    // Written before the connector (an initial state of a create request): not reported.
    assert_eq!(stopped(&mut feed, "c"), None);
    feed.connector("c");
    assert_eq!(
        feed.snapshot().target_state("c"),
        Some(TargetState::Stopped)
    );
    assert_eq!(stopped(&mut feed, "c"), None);
    let paused = feed.raw("target-state-c", Some(r#"{"state":"PAUSED"}"#));
    assert_eq!(paused, Some(ConfigUpdate::TargetStateChanged("c".into())));
    // A tombstone while the connector exists falls back to STARTED, unreported.
    assert_eq!(feed.raw("target-state-c", None), None);
    assert_eq!(
        feed.snapshot().target_state("c"),
        Some(TargetState::Started)
    );
    feed.raw("connector-c", None);
    feed.raw("target-state-c", None);
    assert_eq!(feed.snapshot().target_state("c"), None);
}

#[test]
fn session_keys_restarts_and_fencing_records() {
    let mut feed = Feed::new();
    let key = SessionKey {
        key: vec![1, 2, 3],
        algorithm: "HmacSHA256".into(),
        creation_timestamp: 42,
    };
    assert_eq!(
        feed.record(ConfigRecord::SessionKey(key.clone())),
        Some(ConfigUpdate::SessionKeyUpdated(key.clone()))
    );
    assert_eq!(feed.snapshot().session_key(), Some(&key));
    let restart = feed.raw(
        "restart-connector-c",
        Some(r#"{"include-tasks":true,"only-failed":false}"#),
    );
    assert_eq!(
        restart,
        Some(ConfigUpdate::RestartRequested(RestartRequest {
            connector: "c".into(),
            only_failed: false,
            include_tasks: true,
        }))
    );
    feed.connector("c");
    feed.task("c", 0);
    feed.commit("c", 1);
    assert!(feed.snapshot().pending_fencing("c"));
    feed.raw("tasks-fencing-c", Some(r#"{"task-count":1}"#));
    assert!(!feed.snapshot().pending_fencing("c"));
    assert_eq!(feed.snapshot().task_count_record("c"), Some(1));
}

#[test]
fn unreadable_records_are_skipped_and_only_non_json_keeps_the_offset() {
    let mut feed = Feed::new();
    assert_eq!(feed.raw("connector-c", Some("not json")), None);
    assert_eq!(feed.snapshot().offset(), -1);
    assert_eq!(feed.raw("unknown-key", Some("{}")), None);
    assert_eq!(feed.snapshot().offset(), 2);
    assert_eq!(feed.raw("task-c-0", None), None);
    assert_eq!(feed.raw("connector-c", Some(r#"{"properties":5}"#)), None);
    assert!(!feed.snapshot().contains("c"));
    assert_eq!(feed.snapshot().offset(), 4);
}
