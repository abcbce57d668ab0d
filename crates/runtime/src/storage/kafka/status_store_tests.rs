use std::sync::Arc;

use ferry_kafka::consumer::TimestampType;

use super::*;

fn record(key: &str, value: Option<Vec<u8>>) -> ConsumerRecord {
    ConsumerRecord {
        topic: Arc::from("statuses"),
        partition: 0,
        offset: 0,
        timestamp: 0,
        timestamp_type: TimestampType::CreateTime,
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: value.map(Bytes::from),
        headers: Vec::new(),
        leader_epoch: None,
    }
}

fn status(state: State, worker: &str, generation: i32) -> Status {
    Status {
        state,
        trace: None,
        worker_id: worker.into(),
        generation,
    }
}

fn task_value(statuses: &Statuses, connector: &str, task: i32) -> Option<Status> {
    let subject = Subject::Task(ConnectorTaskId::new(connector, task));
    statuses.entries.get(&subject)?.value.clone()
}

#[test]
fn a_stale_unassigned_does_not_hide_a_running_task() {
    let mut statuses = Statuses::default();
    let key = "status-task-c-0";
    statuses.apply(&record(
        key,
        Some(status(State::Running, "w1", 5).to_json()),
    ));
    statuses.apply(&record(
        key,
        Some(status(State::Unassigned, "w2", 5).to_json()),
    ));
    assert_eq!(task_value(&statuses, "c", 0).unwrap().state, State::Running);
    statuses.apply(&record(
        key,
        Some(status(State::Unassigned, "w2", 6).to_json()),
    ));
    assert_eq!(
        task_value(&statuses, "c", 0).unwrap().state,
        State::Unassigned
    );
}

#[test]
fn tombstones_remove_connectors_with_their_tasks() {
    let mut statuses = Statuses::default();
    for key in ["status-connector-c", "status-task-c-0", "status-task-c-x-1"] {
        statuses.apply(&record(key, Some(status(State::Running, "w", 1).to_json())));
    }
    statuses.apply(&record("status-connector-c", None));
    assert!(task_value(&statuses, "c", 0).is_none());
    assert!(task_value(&statuses, "c-x", 1).is_some());
    statuses.apply(&record("status-task-c-x-1", None));
    assert!(statuses.entries.is_empty());
}

#[test]
fn safe_writes_respect_newer_generations_of_other_workers() {
    let mut statuses = Statuses::default();
    let entry = statuses.entry(Subject::Connector("c".into()));
    entry.value = Some(status(State::Running, "w1", 5));
    assert!(entry.can_write_safely(&status(State::Failed, "w1", 1)));
    assert!(entry.can_write_safely(&status(State::Failed, "w2", 5)));
    assert!(!entry.can_write_safely(&status(State::Failed, "w2", 4)));
}

#[test]
fn retries_are_dropped_once_superseded_or_deleted() {
    let mut statuses = Statuses::default();
    let subject = Subject::Connector("c".into());
    let entry = statuses.entry(subject.clone());
    entry.sequence = 1;
    let guard = RetryGuard {
        subject: subject.clone(),
        incarnation: entry.incarnation,
        generation: 2,
        safe: Some((status(State::Running, "w", 2), 1)),
    };
    statuses.generation = 2;
    assert!(guard.still_wanted(&statuses));
    statuses.entry(subject.clone()).sequence = 2;
    assert!(!guard.still_wanted(&statuses), "a newer write followed");
    statuses.entry(subject.clone()).sequence = 1;
    statuses.generation = 3;
    assert!(!guard.still_wanted(&statuses), "a newer generation wrote");
    statuses.generation = 2;
    statuses.remove_connector("c");
    statuses.entry(subject);
    assert!(!guard.still_wanted(&statuses), "deleted and re-created");
}

#[test]
fn topic_statuses_are_kept_per_connector_and_forgotten_by_tombstones() {
    let mut statuses = Statuses::default();
    let topic = TopicStatus {
        topic: "orders".into(),
        connector: "sink".into(),
        task: 0,
        discover_timestamp: 1,
    };
    let key = "status-topic-orders:connector-sink";
    statuses.apply(&record(key, Some(topic.to_json())));
    assert_eq!(statuses.topics["sink"]["orders"], topic);
    statuses.apply(&record(key, None));
    assert!(statuses.topics["sink"].is_empty());
    statuses.apply(&record(
        "status-topic-orders:connector-sink",
        Some(b"[]".to_vec()),
    ));
    assert!(statuses.topics["sink"].is_empty());
}
