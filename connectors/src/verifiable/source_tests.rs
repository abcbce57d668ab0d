use ferry_connect::connector::{Connector, SourceTask};
use serde_json::json;

use super::*;
use crate::tests::{MemoryOffsets, config};

async fn started_task(task_config: ConfigMap, offsets: &MemoryOffsets) -> VerifiableSourceTask {
    let mut task = VerifiableSourceTask::default();
    task.initialize(offsets.context());
    task.start(task_config).await.unwrap();
    task
}

async fn poll_seqnos(
    task: &mut VerifiableSourceTask,
    count: usize,
    offsets: &MemoryOffsets,
) -> Vec<i64> {
    let mut seqnos = Vec::new();
    for _ in 0..count {
        let records = task.poll().await.unwrap();
        offsets.commit(&records);
        seqnos.extend(records.iter().map(|r| match r.value {
            Some(Value::Int64(seqno)) => seqno,
            ref other => panic!("unexpected value {other:?}"),
        }));
    }
    seqnos
}

#[tokio::test]
async fn records_are_keyed_by_task_id_and_numbered_by_seqno() {
    let offsets = MemoryOffsets::default();
    let props = config(&[
        ("name", "v"),
        ("id", "3"),
        ("topic", "test"),
        ("throughput", "-1"),
    ]);
    let mut task = started_task(props, &offsets).await;
    let records = task.poll().await.unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.topic, "test");
    assert_eq!(
        (record.key_schema.clone(), record.key.clone()),
        (Some(Schema::int32()), Some(Value::Int32(3)))
    );
    assert_eq!(
        (record.value_schema.clone(), record.value.clone()),
        (Some(Schema::int64()), Some(Value::Int64(0)))
    );
    assert_eq!(
        record.source_partition.as_deref(),
        json!({"id": 3}).as_object()
    );
    assert_eq!(
        record.source_offset.as_ref().unwrap(),
        json!({"seqno": 0}).as_object().unwrap()
    );
    assert_eq!(record.timestamp, None);
    task.commit_record(record, None).await.unwrap();
}

#[tokio::test]
async fn four_tasks_produce_four_gap_free_sequences_that_resume_after_a_restart() {
    let offsets = MemoryOffsets::default();
    let mut connector = VerifiableSourceConnector::default();
    connector
        .start(config(&[
            ("name", "v"),
            ("topic", "test"),
            ("throughput", "-1"),
        ]))
        .await
        .unwrap();
    let task_configs = connector.task_configs(4).await.unwrap();
    let ids: Vec<&str> = task_configs.iter().map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["0", "1", "2", "3"]);

    for (i, task_config) in task_configs.iter().enumerate() {
        let mut task = started_task(task_config.clone(), &offsets).await;
        assert_eq!(
            poll_seqnos(&mut task, 3 + i, &offsets).await,
            (0..(3 + i) as i64).collect::<Vec<_>>()
        );
        task.stop().await.unwrap();
    }
    for (i, task_config) in task_configs.iter().enumerate() {
        let mut task = started_task(task_config.clone(), &offsets).await;
        let resumed = poll_seqnos(&mut task, 2, &offsets).await;
        let next = (3 + i) as i64;
        assert_eq!(resumed, [next, next + 1], "task {i}");
    }
}

#[tokio::test]
async fn complete_record_data_makes_the_value_a_struct() {
    let offsets = MemoryOffsets::default();
    let props = config(&[
        ("name", "v"),
        ("id", "1"),
        ("topic", "test"),
        ("throughput", "-1"),
        ("complete.record.data", "TRUE"),
    ]);
    let mut task = started_task(props, &offsets).await;
    let record = task.poll().await.unwrap().remove(0);
    let Some(Value::Struct(value)) = &record.value else {
        panic!("{:?}", record.value)
    };
    let fields: Vec<&str> = value
        .schema()
        .fields()
        .unwrap()
        .iter()
        .map(|f| f.name())
        .collect();
    assert_eq!(fields, ["name", "task", "topic", "time_ms", "seqno"]);
    assert_eq!(value.get_string("name").unwrap(), Some("v"));
    assert_eq!(value.get_int32("task").unwrap(), Some(1));
    assert_eq!(value.get_int64("seqno").unwrap(), Some(0));
    assert_eq!(record.value_schema.as_ref(), Some(value.schema()));
}

#[tokio::test]
async fn bad_numbers_fail_the_start() {
    for props in [
        config(&[("id", "x"), ("topic", "t"), ("throughput", "1")]),
        config(&[("id", "1"), ("topic", "t")]),
    ] {
        let mut task = VerifiableSourceTask::default();
        task.initialize(MemoryOffsets::default().context());
        let err = task.start(props).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Invalid VerifiableSourceTask configuration"),
            "{err}"
        );
    }
}
