use super::*;

fn props(pairs: &[(&str, &str)]) -> Properties {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Checks key and exact value bytes, then that the record reads back.
fn check(record: ConfigRecord, key: &str, value: Option<&str>) {
    assert_eq!(record.key(), key);
    let written = record.value();
    assert_eq!(written.as_deref(), value.map(str::as_bytes));
    assert_eq!(
        ConfigRecord::parse(key, written.as_deref()).unwrap(),
        record
    );
}

#[test]
fn connector_config_and_its_tombstone() {
    let properties = Some(props(&[("a", "b"), ("connector.class", "MirrorSource")]));
    check(
        ConfigRecord::ConnectorConfig {
            connector: "my-conn".into(),
            properties,
        },
        "connector-my-conn",
        Some(r#"{"properties":{"a":"b","connector.class":"MirrorSource"}}"#),
    );
    check(
        ConfigRecord::ConnectorConfig {
            connector: "my-conn".into(),
            properties: None,
        },
        "connector-my-conn",
        None,
    );
}

#[test]
fn task_config_and_commit() {
    check(
        ConfigRecord::TaskConfig {
            task: ConnectorTaskId::new("my-conn", 3),
            properties: props(&[("task.class", "X")]),
        },
        "task-my-conn-3",
        Some(r#"{"properties":{"task.class":"X"}}"#),
    );
    check(
        ConfigRecord::TaskCommit {
            connector: "my-conn".into(),
            tasks: 4,
        },
        "commit-my-conn",
        Some(r#"{"tasks":4}"#),
    );
}

#[test]
fn target_states_keep_old_workers_reading_paused() {
    let state = |s| ConfigRecord::TargetState {
        connector: "c".into(),
        state: s,
    };
    check(
        state(Some(TargetState::Started)),
        "target-state-c",
        Some(r#"{"state":"STARTED","state.v2":"STARTED"}"#),
    );
    check(
        state(Some(TargetState::Paused)),
        "target-state-c",
        Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
    );
    check(
        state(Some(TargetState::Stopped)),
        "target-state-c",
        Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
    );
    check(state(None), "target-state-c", None);
}

#[test]
fn target_state_from_older_or_odd_writers() {
    let read = |v: &str| ConfigRecord::parse("target-state-c", Some(v.as_bytes()));
    let paused = ConfigRecord::TargetState {
        connector: "c".into(),
        state: Some(TargetState::Paused),
    };
    assert_eq!(read(r#"{"state":"PAUSED"}"#).unwrap(), paused);
    assert_eq!(read(r#"{"state":"PAUSED","state.v2":7}"#).unwrap(), paused);
    assert_eq!(
        read(r#"{"state":"PAUSED","state.v2":null}"#).unwrap(),
        paused
    );
    assert!(read(r#"{"state":"paused"}"#).is_err());
    assert!(read(r#"{"state.v2":5}"#).is_err());
}

#[test]
fn session_key() {
    let key = SessionKey {
        key: vec![0, 1, 2, 250],
        algorithm: "HmacSHA256".into(),
        creation_timestamp: 1_700_000_000_000,
    };
    check(
        ConfigRecord::SessionKey(key.clone()),
        "session-key",
        Some(r#"{"key":"AAEC+g==","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#),
    );
    let unpadded =
        br#"{"key":"AAEC+g","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#;
    let read = ConfigRecord::parse("session-key", Some(unpadded)).unwrap();
    assert_eq!(read, ConfigRecord::SessionKey(key));
    let float_ts = br#"{"key":"AA==","algorithm":"HmacSHA256","creation-timestamp":1.5}"#;
    assert!(ConfigRecord::parse("session-key", Some(float_ts)).is_err());
}

#[test]
fn fencing_restart_and_logger_records() {
    check(
        ConfigRecord::TaskCount {
            connector: "c".into(),
            task_count: 2,
        },
        "tasks-fencing-c",
        Some(r#"{"task-count":2}"#),
    );
    check(
        ConfigRecord::Restart(RestartRequest {
            connector: "c".into(),
            only_failed: false,
            include_tasks: true,
        }),
        "restart-connector-c",
        Some(r#"{"include-tasks":true,"only-failed":false}"#),
    );
    check(
        ConfigRecord::LoggerLevel {
            namespace: "org.apache".into(),
            level: "DEBUG".into(),
        },
        "logger-cluster-org.apache",
        Some(r#"{"level":"DEBUG"}"#),
    );
    let lax = ConfigRecord::parse("restart-connector-c", Some(br#"{"only-failed":"yes"}"#));
    assert_eq!(
        lax.unwrap(),
        ConfigRecord::Restart(RestartRequest {
            connector: "c".into(),
            only_failed: false,
            include_tasks: false,
        })
    );
}

#[test]
fn task_keys_split_like_java() {
    let parse = |k| parse_task_key(k, 1);
    assert_eq!(
        parse("task-a-b-c-7"),
        Some(ConnectorTaskId::new("a-b-c", 7))
    );
    assert_eq!(parse("task-a--1"), Some(ConnectorTaskId::new("a-", 1)));
    assert_eq!(parse("task--a-1"), Some(ConnectorTaskId::new("-a", 1)));
    assert_eq!(parse("task-a-+2"), Some(ConnectorTaskId::new("a", 2)));
    assert_eq!(parse("task-a-b-"), None);
    assert_eq!(parse("task-a"), None);
    assert_eq!(parse("task-a-x"), None);
    assert!(matches!(
        ConfigRecord::parse("task-a", Some(b"{}")),
        Err(FormatError::Key(_))
    ));
}

#[test]
fn values_that_java_would_ignore_are_errors() {
    let parse = |k, v: &str| ConfigRecord::parse(k, Some(v.as_bytes()));
    assert!(matches!(
        ConfigRecord::parse("task-a-0", None),
        Err(FormatError::Tombstone)
    ));
    assert!(matches!(
        ConfigRecord::parse("commit-a", None),
        Err(FormatError::Tombstone)
    ));
    assert!(parse("connector-a", r#"{"properties":[1]}"#).is_err());
    assert!(parse("connector-a", r#"["x"]"#).is_err());
    assert!(parse("commit-a", r#"{"tasks":"3"}"#).is_err());
    assert!(
        parse(
            "session-key",
            r#"{"key":"!!","algorithm":"a","creation-timestamp":1}"#
        )
        .is_err()
    );
    assert!(matches!(parse("unknown-a", "{}"), Err(FormatError::Key(_))));
    assert!(matches!(
        parse("connector-a", "{"),
        Err(FormatError::Json(_))
    ));
}

#[test]
fn null_properties_read_as_unset() {
    let read = ConfigRecord::parse("connector-a", Some(br#"{"properties":{"x":null,"y":"1"}}"#));
    assert_eq!(
        read.unwrap(),
        ConfigRecord::ConnectorConfig {
            connector: "a".into(),
            properties: Some(props(&[("y", "1")])),
        }
    );
}

#[test]
fn property_values_escape_like_jackson() {
    let record = ConfigRecord::TaskConfig {
        task: ConnectorTaskId::new("c", 0),
        properties: props(&[("k", "line1\nline2\u{1}\"q\"")]),
    };
    assert_eq!(
        record.value().unwrap(),
        br#"{"properties":{"k":"line1\nline2\u0001\"q\""}}"#
    );
}
