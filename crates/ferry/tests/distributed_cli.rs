//! `ferry distributed`: configuration mistakes are one line and exit code 2; a worker joins its
//! cluster, serves REST, and stops gracefully on SIGTERM.

mod common;

use std::process::Command;

use common::{rest_port, wait_for, write};
use ferry_testkit::{ChildGuard, Cluster};

/// Runs `ferry distributed` on a worker file holding `text`; returns the exit code and stderr.
fn run_with(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let worker = write(dir.path(), "worker.properties", text);
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("distributed")
        .arg(&worker)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A worker file for `bootstrap` with every required key and fast group joins.
fn worker_text(bootstrap: &str, port: u16) -> String {
    format!(
        "bootstrap.servers={bootstrap}\n\
         group.id=ferry-cli-test\n\
         config.storage.topic=cli-configs\n\
         offset.storage.topic=cli-offsets\n\
         status.storage.topic=cli-status\n\
         config.storage.replication.factor=1\n\
         offset.storage.replication.factor=1\n\
         status.storage.replication.factor=1\n\
         key.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n\
         listeners=http://127.0.0.1:{port}\n\
         session.timeout.ms=4000\n\
         heartbeat.interval.ms=1000\n"
    )
}

#[test]
fn a_bad_worker_file_exits_2_with_one_line_naming_the_key() {
    // Nothing listens at this address: each mistake must be found before connecting.
    let valid = worker_text("127.0.0.1:1", 1);
    let without_group: String = valid
        .lines()
        .filter(|l| !l.starts_with("group.id="))
        .map(|l| format!("{l}\n"))
        .collect();
    let cases = [
        (without_group, "group.id"),
        (
            format!("{valid}session.timeout.ms=soon\n"),
            "session.timeout.ms",
        ),
        (
            format!("{valid}connect.protocol=chatty\n"),
            "connect.protocol",
        ),
    ];
    for (text, key) in cases {
        let (code, stderr) = run_with(&text);
        assert_eq!(code, Some(2), "{key}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{key}: {stderr}");
        assert!(stderr.contains(key), "{key}: {stderr}");
        assert!(stderr.contains("worker.properties"), "{key}: {stderr}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["distributed", "/nonexistent/worker.properties"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/worker.properties"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_serves_rest_and_stops_on_sigterm() {
    let cluster = Cluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_text(&cluster.bootstrap(), port),
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
    command
        .arg("distributed")
        .arg(&worker)
        .env("RUST_LOG", "info");
    let mut child = ChildGuard::spawn(command, dir.path().join("worker.log")).unwrap();
    let log = child.log_path().to_owned();
    let tail = || std::fs::read_to_string(&log).unwrap_or_default();
    let connectors = wait_for(
        "the worker to answer GET /connectors",
        async || match common::http(port, "GET", "/connectors").await {
            Some((200, body)) => Some(body),
            _ => None,
        },
        tail,
    )
    .await;
    assert_eq!(connectors, serde_json::json!([]));
    let (status, root) = common::http(port, "GET", "/").await.unwrap();
    assert_eq!(status, 200);
    assert!(root["kafka_cluster_id"].is_string(), "{root}");

    let signal = Command::new("kill")
        .arg("-TERM")
        .arg(child.pid().to_string())
        .status()
        .unwrap();
    assert!(signal.success());
    let code = wait_for(
        "the worker to exit after SIGTERM",
        async || child.try_wait().unwrap().map(|s| s.code()),
        tail,
    )
    .await;
    assert_eq!(code, Some(0), "{}", tail());
    assert!(tail().contains("Kafka Connect stopped"), "{}", tail());
}
