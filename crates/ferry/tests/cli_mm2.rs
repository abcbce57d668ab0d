//! `ferry mm2 format` and `ferry mm2 translate-offsets` against a real broker, reading records
//! that librdkafka wrote in Java's byte layout (the layout `compat/vectors.md` records).

mod common;

use std::process::{Command, Output};

use ferry_testkit::Cluster;

/// Creates the three internal topics (one partition each, as MirrorMaker 2 creates them) and
/// writes records packed as Java's `Heartbeat`, `Checkpoint` and `OffsetSync` serialize them,
/// plus one record in the checkpoints topic that is not a checkpoint.
const WRITE_MM2_RECORDS: &str = r#"
import struct, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

def s(text):
    data = text.encode()
    return struct.pack('>h', len(data)) + data

bootstrap = sys.argv[1]
admin = AdminClient({'bootstrap.servers': bootstrap})
topics = ['heartbeats', 'A.checkpoints.internal', 'mm2-offset-syncs.B.internal']
for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
    future.result(30)
p = Producer({'bootstrap.servers': bootstrap})
for ts in (1700000000000, 1700000001000):
    p.produce('heartbeats', key=s('A') + s('B'), value=struct.pack('>hq', 0, ts))
checkpoints = [('g1', 'A.orders', 0, 100, 90, ''), ('g1', 'A.orders', 1, 7, 5, 'm'),
               ('g2', 'A.orders', 0, 3, 2, ''), ('g1', 'A.orders', 0, 120, 110, '')]
for group, topic, partition, upstream, downstream, metadata in checkpoints:
    p.produce('A.checkpoints.internal', key=s(group) + s(topic) + struct.pack('>i', partition),
              value=struct.pack('>hqq', 0, upstream, downstream) + s(metadata))
p.produce('A.checkpoints.internal', key=b'not', value=b'a checkpoint')
for partition, upstream, downstream in ((0, 100, 90), (2, 5, 4)):
    p.produce('mm2-offset-syncs.B.internal', key=s('orders') + struct.pack('>i', partition),
              value=struct.pack('>qq', upstream, downstream))
if p.flush(30):
    sys.exit('records were not delivered')
"#;

fn ferry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Runs `ferry mm2 ARGS` off the async runtime and expects success.
async fn mm2_ok(args: Vec<String>) -> (String, String) {
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ferry(&args)
    })
    .await
    .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success(),
        "{:?}\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    (stdout, stderr)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn formats_and_translates_java_records() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    common::python(WRITE_MM2_RECORDS, vec![bootstrap.clone()]).await;
    let b = bootstrap.as_str();

    let (out, err) = mm2_ok(args(&[
        "mm2",
        "format",
        "heartbeats",
        "--bootstrap-server",
        b,
        "--from-beginning",
        "--max-messages",
        "2",
    ]))
    .await;
    assert_eq!(
        out,
        "Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=1700000000000}\n\
         Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=1700000001000}\n"
    );
    assert_eq!(err.lines().last(), Some("Processed a total of 2 messages"));

    // The record that is no checkpoint is reported on one line, skipped, and counted.
    let (out, err) = mm2_ok(args(&[
        "mm2",
        "format",
        "org.apache.kafka.connect.mirror.formatters.CheckpointFormatter",
        "--bootstrap-server",
        b,
        "--topic",
        "A.checkpoints.internal",
        "--from-beginning",
        "--max-messages",
        "5",
    ]))
    .await;
    assert_eq!(
        out,
        "Checkpoint{consumerGroupId=g1, topicPartition=A.orders-0, upstreamOffset=100, downstreamOffset=90, metadata=}\n\
         Checkpoint{consumerGroupId=g1, topicPartition=A.orders-1, upstreamOffset=7, downstreamOffset=5, metadata=m}\n\
         Checkpoint{consumerGroupId=g2, topicPartition=A.orders-0, upstreamOffset=3, downstreamOffset=2, metadata=}\n\
         Checkpoint{consumerGroupId=g1, topicPartition=A.orders-0, upstreamOffset=120, downstreamOffset=110, metadata=}\n"
    );
    let err: Vec<&str> = err.lines().collect();
    assert_eq!(err.len(), 2, "{err:?}");
    assert!(
        err[0].starts_with("skipping record A.checkpoints.internal-0 at offset 4: "),
        "{err:?}"
    );
    assert_eq!(err[1], "Processed a total of 5 messages");

    // The topic named by the target alias; stops when nothing more arrives.
    let (out, err) = mm2_ok(args(&[
        "mm2",
        "format",
        "offset-syncs",
        "--bootstrap-server",
        b,
        "--cluster-alias",
        "B",
        "--from-beginning",
        "--timeout-ms",
        "3000",
    ]))
    .await;
    assert_eq!(
        out,
        "OffsetSync{topicPartition=orders-0, upstreamOffset=100, downstreamOffset=90}\n\
         OffsetSync{topicPartition=orders-2, upstreamOffset=5, downstreamOffset=4}\n"
    );
    assert_eq!(err.lines().last(), Some("Processed a total of 2 messages"));

    // The latest checkpoint of the group per partition, sorted.
    let (out, _) = mm2_ok(args(&[
        "mm2",
        "translate-offsets",
        "--bootstrap-server",
        b,
        "--source-alias",
        "A",
        "--group",
        "g1",
    ]))
    .await;
    assert_eq!(out, "A.orders 0 110\nA.orders 1 5\n");
    let (out, _) = mm2_ok(args(&[
        "mm2",
        "translate-offsets",
        "--bootstrap-server",
        b,
        "--source-alias",
        "A",
        "--group",
        "unknown-group",
        "--property",
        "consumer.client.id=translator",
    ]))
    .await;
    assert_eq!(out, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_checkpoints_topic_is_a_one_line_failure() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    let output = tokio::task::spawn_blocking(move || {
        ferry(&[
            "mm2",
            "translate-offsets",
            "--bootstrap-server",
            &bootstrap,
            "--source-alias",
            "C",
            "--group",
            "g1",
        ])
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "ferry: topic 'C.checkpoints.internal' does not exist on the cluster\n"
    );
}

/// Asserts exit code 2 and one line on standard error that contains `naming`.
fn assert_usage_error(args: &[&str], naming: &str) {
    let output = ferry(args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(naming), "{args:?}: {stderr}");
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    // Nothing listens here: each mistake must be found before any connection is tried.
    let b = "127.0.0.1:1";
    assert_usage_error(
        &["mm2", "format", "heartbeat", "--bootstrap-server", b],
        "unknown record kind 'heartbeat'",
    );
    assert_usage_error(
        &[
            "mm2",
            "format",
            "heartbeats",
            "--bootstrap-server",
            b,
            "--consumer-property",
            "fetch.max.wait.ms",
        ],
        "invalid --consumer-property 'fetch.max.wait.ms': expected KEY=VALUE",
    );
    assert_usage_error(
        &[
            "mm2",
            "format",
            "heartbeats",
            "--bootstrap-server",
            b,
            "--max-messages",
            "0",
        ],
        "--max-messages",
    );
    assert_usage_error(
        &[
            "mm2",
            "format",
            "checkpoints",
            "--bootstrap-server",
            b,
            "--consumer-property",
            "request.timeout.ms=soon",
        ],
        "request.timeout.ms",
    );
    assert_usage_error(
        &[
            "mm2",
            "translate-offsets",
            "--bootstrap-server",
            b,
            "--source-alias",
            "A",
            "--group",
            "g",
            "--property",
            "replication.policy.class=NoSuchPolicy",
        ],
        "NoSuchPolicy",
    );
    assert_usage_error(
        &[
            "mm2",
            "translate-offsets",
            "--bootstrap-server",
            b,
            "--source-alias",
            "A",
            "--group",
            "g",
            "--command-config",
            "/nonexistent/client.properties",
        ],
        "/nonexistent/client.properties",
    );
    // clap's own usage errors.
    let output = ferry(&["mm2", "translate-offsets", "--bootstrap-server", b]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--source-alias"));
}

#[test]
fn help_lists_the_commands() {
    let output = ferry(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for command in ["distributed", "standalone", "mirror", "mm2"] {
        assert!(help.contains(command), "{help}");
    }
    let output = ferry(&["mm2", "--help"]);
    let help = text(&output.stdout);
    for command in ["format", "translate-offsets"] {
        assert!(help.contains(command), "{help}");
    }
}
