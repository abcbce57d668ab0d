//! `ferry standalone` end to end against a real broker: FileStream round trip and restart,
//! with librdkafka as the independent reader.

mod common;

use common::{Standalone, consume_all, rest_port, wait_for, worker_props, write};
use ferry_testkit::Cluster;

fn lines(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("line {i} ünïcödé \t with tabs and \"quotes\"\n"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn file_to_topic_to_file_round_trip_resumes_after_restart() {
    let cluster = Cluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    std::fs::write(&input, lines(0..200)).unwrap();
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_props(&cluster.bootstrap(), dir.path(), port, &[]),
    );
    let source = write(
        dir.path(),
        "source.properties",
        &format!(
            "name=file-source\nconnector.class=FileStreamSource\nfile={}\ntopic=lines\n",
            input.display()
        ),
    );
    let sink = write(
        dir.path(),
        "sink.json",
        &serde_json::json!({"name": "file-sink", "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "file": output.display().to_string(), "topics": "lines"}})
        .to_string(),
    );
    let connectors = vec![source.clone(), sink.clone()];

    let first = Standalone::start(dir.path(), port, &worker, &connectors, "first.log");
    let expected = lines(0..200);
    wait_for(
        "the sink file to hold every line",
        async || (std::fs::read_to_string(&output).ok()? == expected).then_some(()),
        || first.child.log_tail(30),
    )
    .await;
    let (status, body) = first.get("/connectors/file-source/status").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["tasks"][0]["state"], "RUNNING", "{body}");
    assert_eq!(body["connector"]["worker_id"], format!("127.0.0.1:{port}"));
    assert_eq!(first.terminate().await, Some(0));
    let offsets = std::fs::read_to_string(dir.path().join("connect.offsets")).unwrap();
    assert!(offsets.contains("\"position\""), "{offsets}");

    // Lines appended while the worker is down are copied once it is back, and nothing twice.
    let mut all = lines(0..200);
    all.push_str(&lines(200..260));
    std::fs::write(&input, &all).unwrap();
    let second = Standalone::start(dir.path(), port, &worker, &connectors, "second.log");
    wait_for(
        "the sink file to hold the appended lines",
        async || (std::fs::read_to_string(&output).ok()? == all).then_some(()),
        || second.child.log_tail(30),
    )
    .await;
    let records = consume_all(&cluster.bootstrap(), "lines", 260).await;
    let mut got: Vec<Vec<u8>> = records
        .iter()
        .map(|r| {
            r["value"]
                .as_str()
                .unwrap()
                .chars()
                .map(|c| c as u8)
                .collect()
        })
        .collect();
    let mut want: Vec<Vec<u8>> = all.lines().map(|l| l.as_bytes().to_vec()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "every line exactly once, byte for byte");
    assert_eq!(second.terminate().await, Some(0));
}

#[test]
fn help_describes_the_files() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["standalone", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "WORKER",
        "CONNECTOR",
        "offset.storage.file.filename",
        "RUST_LOG",
        "SIGTERM",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
}

#[tokio::test]
async fn bad_input_exits_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: Vec<std::path::PathBuf>| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
            .arg("standalone")
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let missing = run(vec![dir.path().join("nope.properties")]);
    assert_eq!(missing.0, Some(2));
    assert_eq!(missing.1.lines().count(), 1, "{}", missing.1);

    let no_value_converter = write(
        dir.path(),
        "w1.properties",
        "key.converter=org.apache.kafka.connect.storage.StringConverter\noffset.storage.file.filename=/tmp/x\n",
    );
    let (code, err) = run(vec![no_value_converter]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("value.converter"), "{err}");

    let worker = write(
        dir.path(),
        "w2.properties",
        &worker_props("127.0.0.1:1", dir.path(), 0, &[]),
    );
    let bad_flush = write(
        dir.path(),
        "w3.properties",
        &worker_props(
            "127.0.0.1:1",
            dir.path(),
            0,
            &[("offset.flush.interval.ms", "often")],
        ),
    );
    let (code, err) = run(vec![bad_flush]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("offset.flush.interval.ms") && err.lines().count() == 1,
        "{err}"
    );

    let sink = write(
        dir.path(),
        "sink.properties",
        "name=s\nconnector.class=FileStreamSink\nfile=/tmp/o\n",
    );
    let (code, err) = run(vec![worker.clone(), sink]);
    assert_eq!(code, Some(2));
    assert!(err.contains("topics") && err.lines().count() == 1, "{err}");

    let tasks = write(
        dir.path(),
        "src.json",
        r#"{"name":"s","connector.class":"FileStreamSource","topic":"t","tasks.max":"many"}"#,
    );
    let (code, err) = run(vec![worker.clone(), tasks]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("tasks.max") && err.lines().count() == 1,
        "{err}"
    );

    let unknown = write(
        dir.path(),
        "u.properties",
        "name=u\nconnector.class=NoSuchConnector\n",
    );
    let (code, err) = run(vec![worker, unknown]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("NoSuchConnector") && err.lines().count() == 1,
        "{err}"
    );
}
