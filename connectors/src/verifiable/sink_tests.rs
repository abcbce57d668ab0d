use std::sync::{Arc, Mutex};

use ferry_connect::connector::{Connector, SinkConnector, SinkTask};
use ferry_connect::data::{Schema, SchemaAndValue, Value};
use ferry_connect::header::Headers;
use ferry_connect::record::TimestampType;
use serde_json::json;

use super::*;
use crate::tests::config;

/// Output shared with the test, to read what the task printed.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The lines printed since the last call, as JSON with `time_ms` removed.
    fn take_lines(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap();
        text.lines()
            .map(|line| {
                let mut json: serde_json::Value = serde_json::from_str(line).unwrap();
                assert!(json["time_ms"].as_i64().unwrap() > 0);
                json.as_object_mut().unwrap().remove("time_ms");
                json
            })
            .collect()
    }
}

fn record(partition: i32, offset: i64, task: i32, seqno: i64) -> SinkRecord {
    let key = SchemaAndValue::new(Some(Schema::int32()), Some(Value::Int32(task)));
    let value = SchemaAndValue::new(Some(Schema::int64()), Some(Value::Int64(seqno)));
    SinkRecord::new(
        "test",
        partition,
        key,
        value,
        offset,
        None,
        TimestampType::CreateTime,
        Headers::new(),
    )
}

#[tokio::test]
async fn prints_each_record_when_received_and_again_when_its_partition_is_flushed() {
    let output = Captured::default();
    let mut task = VerifiableSinkTask::with_output(output.clone());
    task.start(config(&[
        ("name", "check"),
        ("id", "2"),
        ("topics", "test"),
    ]))
    .await
    .unwrap();

    task.put(vec![record(0, 10, 1, 5), record(1, 4, 0, 9)])
        .await
        .unwrap();
    let received = |offset, task, seqno| json!({"task": task, "seqno": seqno, "offset": offset, "name": "check", "topic": "test", "sinkTask": 2});
    assert_eq!(output.take_lines(), [received(10, 1, 5), received(4, 0, 9)]);

    let flushed_partition =
        HashMap::from([(TopicPartition::new("test", 1), OffsetAndMetadata::new(5))]);
    task.flush(&flushed_partition).await.unwrap();
    let mut flushed = received(4, 0, 9);
    flushed["flushed"] = json!(true);
    assert_eq!(output.take_lines(), [flushed]);

    // Already flushed, so nothing is printed again.
    task.flush(&flushed_partition).await.unwrap();
    assert_eq!(output.take_lines(), Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn lines_keep_java_s_key_order() {
    let output = Captured::default();
    let mut task = VerifiableSinkTask::with_output(output.clone());
    task.start(config(&[("name", "check"), ("id", "0")]))
        .await
        .unwrap();
    task.put(vec![record(0, 1, 2, 3)]).await.unwrap();
    let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.starts_with(r#"{"task":2,"seqno":3,"offset":1,"time_ms":"#),
        "{text}"
    );
    assert!(
        text.ends_with(",\"name\":\"check\",\"topic\":\"test\",\"sinkTask\":0}\n"),
        "{text}"
    );
}

#[tokio::test]
async fn tasks_get_their_own_ids() {
    let mut connector = VerifiableSinkConnector::default();
    connector
        .start(config(&[("name", "check"), ("topics", "test")]))
        .await
        .unwrap();
    let configs = connector.task_configs(2).await.unwrap();
    assert_eq!(
        configs[0],
        config(&[("name", "check"), ("topics", "test"), ("id", "0")])
    );
    assert_eq!(configs[1]["id"], "1");
    assert!(
        connector
            .create_task()
            .start(config(&[("id", "x")]))
            .await
            .is_err()
    );
}
