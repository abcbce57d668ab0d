use ferry_connect::connector::{Connector, SinkConnector, SinkTask};
use ferry_connect::data::{Schema, SchemaAndValue, SchemaBuilder, Struct, Value};
use ferry_connect::header::Headers;
use ferry_connect::record::TimestampType;

use super::*;
use crate::tests::config;

fn record(value: Option<Value>) -> SinkRecord {
    let value = SchemaAndValue::new(None, value);
    SinkRecord::new(
        "t",
        0,
        SchemaAndValue::NULL,
        value,
        0,
        None,
        TimestampType::NoTimestamp,
        Headers::new(),
    )
}

#[tokio::test]
async fn appends_one_line_per_record_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    std::fs::write(&path, "existing\n").unwrap();
    let mut task = FileStreamSinkTask::default();
    task.start(config(&[("file", path.to_str().unwrap()), ("topics", "t")]))
        .await
        .unwrap();

    let schema = SchemaBuilder::struct_()
        .field("id", Schema::int32())
        .build()
        .unwrap();
    let mut value = Struct::new(schema).unwrap();
    value.put("id", Value::Int32(7)).unwrap();
    let map = Value::Map(vec![(Value::from("k"), Some(Value::Float64(1.5)))]);
    let records = vec![
        record(Some(Value::from("plain text"))),
        record(None),
        record(Some(Value::Int64(42))),
        record(Some(Value::Struct(value))),
        record(Some(map)),
    ];
    task.put(records).await.unwrap();
    // Written by `put` already, before any flush.
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "existing\nplain text\nnull\n42\nStruct{id=7}\n{k=1.5}\n"
    );
    task.flush(&HashMap::new()).await.unwrap();
    task.stop().await.unwrap();
}

#[tokio::test]
async fn a_file_that_cannot_be_created_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("out.txt");
    let path = path.to_str().unwrap();
    let err = FileStreamSinkTask::default()
        .start(config(&[("file", path)]))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "Couldn't find or create file '{path}' for FileStreamSinkTask"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn every_task_gets_the_connector_configuration() {
    let mut connector = FileStreamSinkConnector::default();
    let props = config(&[("file", "out.txt"), ("topics.regex", "t.*")]);
    connector.start(props.clone()).await.unwrap();
    assert_eq!(
        connector.task_configs(3).await.unwrap(),
        [props.clone(), props.clone(), props.clone()]
    );
    assert!(
        connector
            .alter_offsets(&props, &HashMap::new())
            .await
            .unwrap()
    );
    let keys: Vec<String> = connector
        .config()
        .keys()
        .map(|k| k.name().to_owned())
        .collect();
    assert_eq!(keys, ["file"]);
}
