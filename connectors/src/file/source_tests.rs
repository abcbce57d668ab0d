use std::io::Write;

use ferry_connect::connector::{Connector, ExactlyOnceSupport, SourceConnector, SourceTask};
use ferry_connect::data::{Schema, Value};
use serde_json::json;

use super::*;
use crate::tests::{MemoryOffsets, config};

fn map(value: serde_json::Value) -> SourceMap {
    value.as_object().cloned().unwrap()
}

async fn started_task(
    path: &str,
    offsets: &MemoryOffsets,
    batch_size: &str,
) -> FileStreamSourceTask {
    let mut task = FileStreamSourceTask::default();
    task.initialize(offsets.context());
    task.start(config(&[
        ("file", path),
        ("topic", "lines"),
        ("batch.size", batch_size),
    ]))
    .await
    .unwrap();
    task
}

fn values(records: &[SourceRecord]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r.value.as_ref().and_then(Value::as_str).unwrap())
        .collect()
}

fn positions(records: &[SourceRecord]) -> Vec<u64> {
    records
        .iter()
        .map(|r| {
            r.source_offset.as_ref().unwrap().as_map()[POSITION_FIELD]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn records_carry_the_line_its_partition_and_the_position_after_it() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"first\r\nsecond\n").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut task = started_task(&path, &MemoryOffsets::default(), "2000").await;

    let records = task.poll().await.unwrap();
    assert_eq!(values(&records), ["first", "second"]);
    assert_eq!(positions(&records), [7, 14]);
    let record = &records[0];
    assert_eq!(record.topic, "lines");
    assert_eq!(
        record.source_partition.as_deref(),
        Some(&map(json!({"filename": path})))
    );
    assert_eq!(record.value_schema, Some(Schema::string()));
    assert_eq!(
        (&record.key, &record.key_schema, record.kafka_partition),
        (&None, &None, None)
    );
    assert!(record.timestamp.is_some());
}

#[tokio::test]
async fn follows_a_growing_file_and_holds_back_partial_lines() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut task = started_task(&path, &MemoryOffsets::default(), "2000").await;
    assert!(task.poll().await.unwrap().is_empty());

    file.write_all(b"one\ntw").unwrap();
    let records = task.poll().await.unwrap();
    assert_eq!(
        (values(&records), positions(&records)),
        (vec!["one"], vec![4])
    );

    file.write_all(b"o\nthree\n").unwrap();
    let records = task.poll().await.unwrap();
    assert_eq!(
        (values(&records), positions(&records)),
        (vec!["two", "three"], vec![8, 14])
    );
}

#[tokio::test]
async fn batches_hold_at_most_batch_size_records() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"a\nb\nc\nd\ne\n").unwrap();
    let mut task = started_task(
        file.path().to_str().unwrap(),
        &MemoryOffsets::default(),
        "2",
    )
    .await;
    let mut batches = Vec::new();
    for _ in 0..3 {
        batches.push(values(&task.poll().await.unwrap()).join(""));
    }
    assert_eq!(batches, ["ab", "cd", "e"]);
}

#[tokio::test]
async fn a_restarted_task_resumes_after_the_committed_position() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"one\ntwo\nthree\n").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let offsets = MemoryOffsets::default();

    let mut task = started_task(&path, &offsets, "2").await;
    let first = task.poll().await.unwrap();
    offsets.commit(&first);
    task.stop().await.unwrap();

    file.write_all(b"four\n").unwrap();
    let mut task = started_task(&path, &offsets, "2000").await;
    let records = task.poll().await.unwrap();
    assert_eq!(values(&records), ["three", "four"]);
    assert_eq!(positions(&records), [14, 19]);
}

#[tokio::test]
async fn waits_for_a_file_that_does_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.txt");
    let mut task = started_task(path.to_str().unwrap(), &MemoryOffsets::default(), "2000").await;
    assert!(task.poll().await.unwrap().is_empty());
    std::fs::write(&path, "hello\n").unwrap();
    assert_eq!(values(&task.poll().await.unwrap()), ["hello"]);
}

#[tokio::test]
async fn a_file_shorter_than_the_stored_position_yields_nothing_until_it_grows_past_it() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"abc\n").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let offsets = MemoryOffsets::default();
    offsets.store(
        &map(json!({"filename": path})),
        &map(json!({"position": 9})),
    );
    let mut task = started_task(&path, &offsets, "2000").await;
    assert!(task.poll().await.unwrap().is_empty());

    file.write_all(b"defg\nnew\n").unwrap();
    let records = task.poll().await.unwrap();
    assert_eq!(
        (values(&records), positions(&records)),
        (vec!["new"], vec![13])
    );
}

#[tokio::test]
async fn a_stored_position_that_is_not_a_number_fails_the_poll() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let offsets = MemoryOffsets::default();
    offsets.store(
        &map(json!({"filename": path})),
        &map(json!({"position": "7"})),
    );
    let mut task = started_task(&path, &offsets, "2000").await;
    let err = task.poll().await.unwrap_err();
    assert_eq!(err.to_string(), "Offset position is the incorrect type");
}

#[tokio::test]
async fn configuration_errors_read_as_java_s() {
    let mut connector = FileStreamSourceConnector::default();
    let err = connector
        .start(config(&[("file", "/tmp/x")]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Missing required configuration \"topic\" which has no default value."
    );
    let err = connector.start(config(&[("topic", "")])).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value  for configuration topic: String must be non-empty"
    );
    let err = connector
        .start(config(&[("topic", "t"), ("batch.size", "x")]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value x for configuration batch.size: Not a number of type INT"
    );

    let errors: Vec<(String, Vec<String>)> = connector
        .validate(&config(&[]))
        .into_iter()
        .map(|v| (v.name, v.errors))
        .collect();
    assert_eq!(errors[0], ("file".to_owned(), vec![]));
    assert_eq!(errors[1].0, "topic");
    assert_eq!(
        errors[1].1,
        ["Missing required configuration \"topic\" which has no default value."]
    );
}

#[tokio::test]
async fn runs_one_task_whatever_tasks_max_is() {
    let mut connector = FileStreamSourceConnector::default();
    let props = config(&[("file", "in.txt"), ("topic", "t")]);
    connector.start(props.clone()).await.unwrap();
    assert_eq!(connector.task_configs(3).await.unwrap(), [props]);
}

#[test]
fn exactly_once_is_supported_only_for_files() {
    let connector = FileStreamSourceConnector::default();
    let support = |pairs: &[(&str, &str)]| connector.exactly_once_support(&config(pairs));
    assert_eq!(
        support(&[("file", "in.txt"), ("topic", "t")]),
        Some(ExactlyOnceSupport::Supported)
    );
    assert_eq!(
        support(&[("file", ""), ("topic", "t")]),
        Some(ExactlyOnceSupport::Unsupported)
    );
    assert_eq!(
        support(&[("topic", "t")]),
        Some(ExactlyOnceSupport::Unsupported)
    );
}

#[tokio::test]
async fn altered_offsets_are_checked_as_java_checks_them() {
    let mut connector = FileStreamSourceConnector::default();
    let file = config(&[("file", "in.txt"), ("topic", "t")]);
    let partition = map(json!({"filename": "in.txt"}));
    let alter = |offset: serde_json::Value| vec![(partition.clone(), offset.as_object().cloned())];

    assert!(
        connector
            .alter_offsets(&file, &alter(json!({"position": 10})))
            .await
            .unwrap()
    );
    assert!(
        connector
            .alter_offsets(&file, &alter(json!(null)))
            .await
            .unwrap()
    );
    let cases = [
        (
            json!({"pos": 1}),
            "Offset objects should either be null or contain the key 'position'",
        ),
        (
            json!({"position": "1"}),
            "The value for the 'position' key in the offset is expected to be a Long value",
        ),
        (
            json!({"position": -1}),
            "The value for the 'position' key in the offset should be a non-negative value",
        ),
    ];
    for (offset, message) in cases {
        let err = connector
            .alter_offsets(&file, &alter(offset))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    let no_filename = vec![(
        map(json!({"file": "in.txt"})),
        Some(map(json!({"position": 1}))),
    )];
    let err = connector
        .alter_offsets(&file, &no_filename)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Partition objects should contain the key 'filename'"
    );

    let stdin = config(&[("topic", "t")]);
    let err = connector
        .alter_offsets(&stdin, &alter(json!({"position": 1})))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Offsets cannot be modified if the 'file' configuration is unspecified.")
    );
}

#[tokio::test]
async fn a_file_truncated_while_open_is_read_again_only_past_the_old_position() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"aaaa\n").unwrap();
    let mut task = started_task(
        file.path().to_str().unwrap(),
        &MemoryOffsets::default(),
        "2000",
    )
    .await;
    assert_eq!(values(&task.poll().await.unwrap()), ["aaaa"]);

    file.as_file().set_len(0).unwrap();
    let mut writer = file.reopen().unwrap();
    writer.write_all(b"bb\n").unwrap();
    assert!(task.poll().await.unwrap().is_empty());

    // As with Java's stream, reading goes on at the old position 5, here a line end.
    writer.write_all(b"cc\ndd\n").unwrap();
    let records = task.poll().await.unwrap();
    assert_eq!(
        (values(&records), positions(&records)),
        (vec!["", "dd"], vec![6, 9])
    );
}

#[tokio::test]
async fn lines_from_standard_input_carry_no_source_partition_or_offset() {
    let (sender, receiver) = mpsc::channel(4);
    let mut task = FileStreamSourceTask {
        settings: Some(Settings {
            file: None,
            topic: "lines".to_owned(),
            batch_size: 10,
        }),
        input: Some(Input::Stdin(receiver)),
        ..FileStreamSourceTask::default()
    };
    sender.send(b"typed\nand pi".to_vec()).await.unwrap();
    sender.send(b"ped\n".to_vec()).await.unwrap();
    let records = task.poll().await.unwrap();
    assert_eq!(values(&records), ["typed", "and piped"]);
    assert!(
        records
            .iter()
            .all(|r| r.source_partition.is_none() && r.source_offset.is_none())
    );

    drop(sender);
    assert!(task.poll().await.unwrap().is_empty());
}
