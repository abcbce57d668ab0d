//! `ferry mirror` end to end: two nodes started from one `mm2.properties` (each with its own
//! `listeners`) replicate A→B and B→A between two brokers, serve every flow's REST API under
//! `/{source}/{target}/`, and keep replicating after one of them is killed. librdkafka writes
//! the source records and reads the replicas.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{http, python, rest_port, wait_for, write};
use ferry_testkit::{ChildGuard, Cluster};
use serde_json::Value;

const CONNECTORS: [&str; 3] = [
    "MirrorCheckpointConnector",
    "MirrorHeartbeatConnector",
    "MirrorSourceConnector",
];

/// The file both nodes read, but for `listeners`: fast group joins on tansu (TEST-BROKER.md),
/// replication factor 1 everywhere, ACL sync off (tansu answers CreateAcls with a truncated
/// reply).
fn mm2_properties(a: &str, b: &str, port: u16) -> String {
    let mut text = format!(
        "clusters = A, B\n\
         A.bootstrap.servers = {a}\n\
         B.bootstrap.servers = {b}\n\
         A->B.enabled = true\n\
         B->A.enabled = true\n\
         listeners = http://127.0.0.1:{port}\n\
         replication.factor = 1\n\
         offset-syncs.topic.replication.factor = 1\n\
         checkpoints.topic.replication.factor = 1\n\
         heartbeats.topic.replication.factor = 1\n\
         config.storage.replication.factor = 1\n\
         offset.storage.replication.factor = 1\n\
         status.storage.replication.factor = 1\n\
         sync.topic.acls.enabled = false\n\
         refresh.topics.interval.seconds = 1\n\
         refresh.groups.interval.seconds = 1\n\
         emit.heartbeats.interval.seconds = 1\n\
         tasks.max = 2\n"
    );
    for cluster in ["A", "B"] {
        text.push_str(&format!(
            "{cluster}.session.timeout.ms = 4000\n\
             {cluster}.heartbeat.interval.ms = 1000\n\
             {cluster}.scheduled.rebalance.max.delay.ms = 2000\n\
             {cluster}.offset.flush.interval.ms = 500\n\
             {cluster}.consumer.fetch.max.wait.ms = 100\n\
             {cluster}.producer.linger.ms = 5\n"
        ));
    }
    text
}

/// A running `ferry mirror`.
struct Node {
    child: ChildGuard,
    port: u16,
}

impl Node {
    fn start(dir: &Path, name: &str, a: &str, b: &str) -> Self {
        let port = rest_port();
        let file = write(
            dir,
            &format!("{name}.properties"),
            &mm2_properties(a, b, port),
        );
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command.arg("mirror").arg(file).env("RUST_LOG", "info");
        let child = ChildGuard::spawn(command, dir.join(format!("{name}.log"))).unwrap();
        Self { child, port }
    }

    async fn request(&self, method: &str, path: &str) -> Option<(u16, Value)> {
        http(self.port, method, path).await
    }

    /// The worker id the node's flows report in statuses: its advertised `host:port`.
    fn worker_id(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        self.child.log_tail(60)
    }
}

/// Every value of `topic` librdkafka reads until the topic has been quiet for a while, or
/// nothing if it does not exist.
const READ_VALUES: &str = r#"
import sys, json
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic = sys.argv[1], sys.argv[2]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'checker', 'auto.offset.reset': 'earliest',
              'enable.auto.commit': False, 'allow.auto.create.topics': False})
md = c.list_topics(timeout=10)
out, idle = [], 0
if topic in md.topics:
    c.assign([TopicPartition(topic, p, -2) for p in md.topics[topic].partitions])
    while idle < 6:
        m = c.poll(0.5)
        if m is None or m.error():
            idle += 1
            continue
        idle = 0
        out.append(m.value().decode('latin-1'))
c.close()
print(json.dumps(out))
"#;

const LIST_TOPICS: &str = r#"
import sys, json
from confluent_kafka.admin import AdminClient
a = AdminClient({'bootstrap.servers': sys.argv[1]})
print(json.dumps(sorted(a.list_topics(timeout=10).topics.keys())))
"#;

async fn values(bootstrap: &str, topic: &str) -> BTreeSet<String> {
    let out = python(READ_VALUES, vec![bootstrap.to_owned(), topic.to_owned()]).await;
    serde_json::from_str(out.trim()).unwrap()
}

async fn topics(bootstrap: &str) -> Vec<String> {
    let out = python(LIST_TOPICS, vec![bootstrap.to_owned()]).await;
    serde_json::from_str(out.trim()).unwrap()
}

async fn produce(bootstrap: &str, topic: &str, values: &BTreeSet<String>) {
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    common::produce(bootstrap, topic, &values).await;
}

fn batch(prefix: &str, range: std::ops::Range<usize>) -> BTreeSet<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

/// Waits until `remote` on `cluster` holds every value of `expected`.
async fn replicated(cluster: &Cluster, remote: &str, expected: &BTreeSet<String>, nodes: &[&Node]) {
    let bootstrap = cluster.bootstrap();
    wait_for(
        &format!("{remote} to hold {} records", expected.len()),
        async || {
            let seen = values(&bootstrap, remote).await;
            expected.is_subset(&seen).then_some(())
        },
        || {
            nodes
                .iter()
                .map(|n| n.log())
                .collect::<Vec<_>>()
                .join("\n----\n")
        },
    )
    .await;
}

/// Waits until `node` reports every connector of every flow RUNNING with its tasks RUNNING
/// (the checkpoint connector has none while no consumer group exists), on a worker `owner`
/// accepts; returns the worker ids that run something.
async fn all_running(node: &Node, owner: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let mut workers = BTreeSet::new();
    for flow in ["/A/B", "/B/A"] {
        for connector in CONNECTORS {
            let path = format!("{flow}/connectors/{connector}/status");
            let body = wait_for(
                &format!("{path} RUNNING on port {}", node.port),
                async || {
                    let (status, body) = node.request("GET", &path).await?;
                    let running = |v: &Value| {
                        v["state"] == "RUNNING" && v["worker_id"].as_str().is_some_and(&owner)
                    };
                    let tasks = body["tasks"].as_array()?;
                    (status == 200 && running(&body["connector"]) && tasks.iter().all(running))
                        .then_some(body)
                },
                || node.log(),
            )
            .await;
            let tasks = body["tasks"].as_array().unwrap().iter();
            for unit in std::iter::once(&body["connector"]).chain(tasks) {
                workers.insert(unit["worker_id"].as_str().unwrap().to_owned());
            }
        }
    }
    workers
}

// Everything up to the kill passes; the fail-over does not yet: the surviving leader's
// delayed re-assignment rejoins with unchanged metadata, and tansu starts no new generation for
// it (TEST-BROKER.md, deviation 5), so the dead node's tasks are never re-assigned. Run with
// `--ignored` once the distributed herder forces a new generation there.
#[ignore = "fail-over waits on the distributed herder's rejoin under tansu's deviation 5"]
#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_replicate_both_ways_and_survive_one_death() {
    let [a, b] = Cluster::start_many::<2>().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (first_a, first_b) = (batch("a", 0..50), batch("b", 0..50));
    produce(&a.bootstrap(), "orders", &first_a).await;
    produce(&b.bootstrap(), "events", &first_b).await;

    let mut one = Node::start(dir.path(), "one", &a.bootstrap(), &b.bootstrap());
    let two = Node::start(dir.path(), "two", &a.bootstrap(), &b.bootstrap());

    // `GET /` lists the node's flows with their paths.
    let listing = wait_for(
        "GET / to list the flows",
        async || two.request("GET", "/").await.filter(|(s, _)| *s == 200),
        || two.log(),
    )
    .await
    .1;
    let paths: BTreeSet<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, BTreeSet::from(["/A/B", "/B/A"]), "{listing}");

    // Each flow's leader writes its three connectors; both nodes answer for every flow.
    for node in [&one, &two] {
        for flow in ["/A/B", "/B/A"] {
            let path = format!("{flow}/connectors");
            let listed = wait_for(
                &format!("{path} on port {} to list the connectors", node.port),
                async || {
                    let (status, body) = node.request("GET", &path).await?;
                    let names: Vec<&str> =
                        body.as_array()?.iter().filter_map(Value::as_str).collect();
                    (status == 200 && names.len() == 3).then(|| body.clone())
                },
                || node.log(),
            )
            .await;
            let mut names: Vec<&str> = listed
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            names.sort_unstable();
            assert_eq!(names, CONNECTORS, "{flow}");
        }
    }
    // The two nodes share the work (the group balances it once both joined).
    let (id_one, id_two) = (one.worker_id(), two.worker_id());
    wait_for(
        "both nodes to run part of the flows",
        async || {
            let workers = all_running(&two, |_| true).await;
            (workers.contains(&id_one) && workers.contains(&id_two)).then_some(())
        },
        || format!("{}\n----\n{}", one.log(), two.log()),
    )
    .await;
    assert_eq!(
        two.request("GET", "/A/C/connectors").await.map(|(s, _)| s),
        Some(404)
    );

    replicated(&b, "A.orders", &first_a, &[&one, &two]).await;
    replicated(&a, "B.events", &first_b, &[&one, &two]).await;

    // A restart through either node reaches the flow's leader.
    let restart = two
        .request("POST", "/A/B/connectors/MirrorSourceConnector/restart")
        .await
        .map(|(s, _)| s);
    assert_eq!(restart, Some(204), "{}", two.log());

    // Kill one node: the survivor takes its share of both flows.
    one.child.kill();
    let (second_a, second_b) = (batch("a", 50..100), batch("b", 50..100));
    produce(&a.bootstrap(), "orders", &second_a).await;
    produce(&b.bootstrap(), "events", &second_b).await;
    let all_a: BTreeSet<String> = first_a.union(&second_a).cloned().collect();
    let all_b: BTreeSet<String> = first_b.union(&second_b).cloned().collect();
    replicated(&b, "A.orders", &all_a, &[&two]).await;
    replicated(&a, "B.events", &all_b, &[&two]).await;
    all_running(&two, |worker| worker == id_two).await;

    // Heartbeats went both ways, and cycle detection kept replicas from coming back.
    let on_a = topics(&a.bootstrap()).await;
    let on_b = topics(&b.bootstrap()).await;
    assert!(on_a.contains(&"B.heartbeats".to_owned()), "{on_a:?}");
    assert!(on_b.contains(&"A.heartbeats".to_owned()), "{on_b:?}");
    assert!(!on_a.iter().any(|t| t.starts_with("B.A.")), "{on_a:?}");
    assert!(!on_b.iter().any(|t| t.starts_with("A.B.")), "{on_b:?}");
}

/// Runs `ferry mirror FILE` to its end: exit code and standard error.
fn run_to_exit(dir: &Path, text: &str) -> (Option<i32>, String) {
    let file = write(dir, "mm2.properties", text);
    let output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("mirror")
        .arg(file)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_file_is_one_line_naming_the_key_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("A.bootstrap.servers = a:9092\n", "clusters"),
        (
            "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n\
             A->B.enabled = true\nB.session.timeout.ms = soon\n",
            "session.timeout.ms",
        ),
        (
            "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\n\
             A->B.enabled = true\nlisteners = gopher://:1\n",
            "listeners",
        ),
    ] {
        let (code, stderr) = run_to_exit(dir.path(), text);
        assert_eq!(code, Some(2), "{text}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ferry:")).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(key), "{stderr}");
    }
}
