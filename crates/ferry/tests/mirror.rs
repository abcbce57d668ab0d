//! `ferry mirror` end to end: two nodes started from one `mm2.properties` (each with its own
//! `listeners`) replicate A→B and B→A between two brokers, serve every flow's REST API under
//! `/{source}/{target}/`, and keep replicating after one of them is killed. librdkafka writes
//! the source records and reads the replicas.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use cluster::{Reply, send, verifiable};
use common::{python, rest_port, wait_for, write};
use ferry_testkit::{ChildGuard, Cluster, Nudges};
use serde_json::Value;

const CONNECTORS: [&str; 3] = [
    "MirrorCheckpointConnector",
    "MirrorHeartbeatConnector",
    "MirrorSourceConnector",
];

/// The REST prefix of each flow.
const FLOWS: [&str; 2] = ["/A/B", "/B/A"];

/// How often [`converge`] adds a STOPPED connector to every flow.
const NUDGE_EVERY: Duration = Duration::from_secs(10);

/// The file both nodes read, but for `listeners`: fast group joins on tansu (TEST-BROKER.md:
/// every JoinGroup waits half the session timeout), a short delay before a departed node's work
/// is handed out, replication factor 1 everywhere, ACL sync off (tansu answers CreateAcls with a
/// truncated reply), and a one-second pause (Java's default is five minutes) before a worker
/// that could not read its config topic to the end within `worker.sync.timeout.ms` rejoins: on
/// two busy cores that read sometimes takes longer. The internal topics' consumers wait 50 ms
/// per fetch: tansu holds a fetch at the end of a partition for its whole wait and no produce
/// wakes it, so each read to the end costs a few of those waits. `dedicated.mode.enable.internal.rest` is
/// Java's default, false: Java's nodes then cannot reach a flow's leader, Ferry's always can.
fn mm2_properties(a: &str, b: &str, port: u16) -> String {
    let mut text = format!(
        "clusters = A, B\n\
         A.bootstrap.servers = {a}\n\
         B.bootstrap.servers = {b}\n\
         A->B.enabled = true\n\
         B->A.enabled = true\n\
         listeners = http://127.0.0.1:{port}\n\
         dedicated.mode.enable.internal.rest = false\n\
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
         tasks.max = 2\n\
         worker.unsync.backoff.ms = 1000\n"
    );
    for cluster in ["A", "B"] {
        text.push_str(&format!(
            "{cluster}.session.timeout.ms = 4000\n\
             {cluster}.heartbeat.interval.ms = 1000\n\
             {cluster}.scheduled.rebalance.max.delay.ms = 2000\n\
             {cluster}.offset.flush.interval.ms = 500\n\
             {cluster}.consumer.fetch.max.wait.ms = 100\n\
             {cluster}.fetch.max.wait.ms = 50\n\
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
        // Without each REST request's line, a failure's log tail shows the rebalances.
        command
            .arg("mirror")
            .arg(file)
            .env("RUST_LOG", "info,ferry_runtime::rest::filters=warn");
        let child = ChildGuard::spawn(command, dir.join(format!("{name}.log"))).unwrap();
        Self { child, port }
    }

    async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Reply> {
        send(self.port, method, path, body).await
    }

    /// The worker id the node's flows report in statuses: its advertised `host:port`.
    fn worker_id(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        format!("--- port {} ---\n{}", self.port, self.child.log_tail(60))
    }
}

fn logs(nodes: &[&Node]) -> String {
    nodes.iter().map(|n| n.log()).collect::<Vec<_>>().join("\n")
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

/// Whether `remote` on `cluster` holds every value of `expected`.
async fn holds(cluster: &Cluster, remote: &str, expected: &BTreeSet<String>) -> bool {
    expected.is_subset(&values(&cluster.bootstrap(), remote).await)
}

/// Asserts that each cluster has the other's heartbeats and that no replica came back to the
/// cluster it was copied from: `A.orders` on B must not return to A as `B.A.orders`, nor
/// `B.events` to B as `A.B.events` (cycle detection of active/active flows).
async fn no_cycles(a: &Cluster, b: &Cluster) {
    let on_a = topics(&a.bootstrap()).await;
    let on_b = topics(&b.bootstrap()).await;
    assert!(on_a.contains(&"B.heartbeats".to_owned()), "{on_a:?}");
    assert!(on_b.contains(&"A.heartbeats".to_owned()), "{on_b:?}");
    assert!(!on_a.iter().any(|t| t.starts_with("B.A.")), "{on_a:?}");
    assert!(!on_b.iter().any(|t| t.starts_with("A.B.")), "{on_b:?}");
}

/// The worker ids that run the connectors and tasks of every flow as `node` reports them, once
/// every connector of every flow is RUNNING with all its tasks RUNNING, each on a worker `owner`
/// accepts (the checkpoint connector has no task while no consumer group exists); else the
/// first status that is not.
async fn all_running(
    node: &Node,
    owner: impl Fn(&str) -> bool,
) -> Result<BTreeSet<String>, String> {
    let running =
        |v: &Value| v["state"] == "RUNNING" && v["worker_id"].as_str().is_some_and(&owner);
    let mut workers = BTreeSet::new();
    for flow in FLOWS {
        for connector in CONNECTORS {
            let path = format!("{flow}/connectors/{connector}/status");
            let reply = node.send("GET", &path, None).await;
            let not_yet = || format!("GET {path} on port {}: {reply:?}", node.port);
            let Some(Reply { status: 200, body }) = &reply else {
                return Err(not_yet());
            };
            let (connector, tasks) = (&body["connector"], body["tasks"].as_array());
            let tasks = tasks.ok_or_else(not_yet)?;
            if !running(connector) || !tasks.iter().all(running) {
                return Err(not_yet());
            }
            for unit in std::iter::once(connector).chain(tasks) {
                workers.insert(unit["worker_id"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    Ok(workers)
}

/// Waits until `check` holds, adding a STOPPED connector to every flow through `via` every
/// [`NUDGE_EVERY`]; a failure shows what `check` last found missing.
///
/// The nudge is for tansu, not for Ferry: a group's leader hands out a departed node's work
/// once `scheduled.rebalance.max.delay.ms` has passed, by rejoining with unchanged metadata, and
/// tansu starts no new generation for such a rejoin where Kafka does (TEST-BROKER.md, deviation
/// 5), so the dead node's connectors and tasks would stay unassigned. A new connector moves the
/// config offset each member puts in its metadata, so the next rejoin is a new generation. A
/// STOPPED connector has no instance and no tasks: it mirrors nothing.
async fn converge<T>(
    via: &Node,
    nodes: &[&Node],
    what: &str,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let mut nudges = Nudges::new(NUDGE_EVERY);
    let mut name = String::new();
    let mut pending: Vec<&str> = Vec::new();
    let missing = Mutex::new(String::new());
    wait_for(
        what,
        async || {
            match check().await {
                Ok(value) => return Some(value),
                Err(why) => *missing.lock().unwrap() = why,
            }
            if pending.is_empty()
                && let Some(next) = nudges.due()
            {
                name = next;
                pending = FLOWS.to_vec();
            }
            let mut refused = Vec::new();
            for flow in pending.drain(..) {
                if !nudge(via, flow, &name).await {
                    refused.push(flow);
                }
            }
            pending = refused;
            None
        },
        || format!("{}\n{}", missing.lock().unwrap(), logs(nodes)),
    )
    .await
}

/// Creates the STOPPED connector `name` in `flow`; whether it exists now (a retry after an
/// answer that was lost finds it).
async fn nudge(node: &Node, flow: &str, name: &str) -> bool {
    let body = Nudges::body(name, verifiable("nudge-data", 1, 1));
    let reply = node
        .send("POST", &format!("{flow}/connectors"), Some(&body))
        .await;
    reply.is_some_and(|r| Nudges::accepted(r.status, &r.body))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_replicate_both_ways_and_survive_one_death() {
    let [a, b] = Cluster::start_many::<2>().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (first_a, first_b) = (batch("a", 0..50), batch("b", 0..50));
    produce(&a.bootstrap(), "orders", &first_a).await;
    produce(&b.bootstrap(), "events", &first_b).await;

    let mut one = Node::start(dir.path(), "one", &a.bootstrap(), &b.bootstrap());
    let two = Node::start(dir.path(), "two", &a.bootstrap(), &b.bootstrap());
    let both = [&one, &two];

    // `GET /` lists the node's flows with their paths.
    let listing = wait_for(
        "GET / to list the flows",
        async || two.send("GET", "/", None).await.filter(|r| r.status == 200),
        || two.log(),
    )
    .await
    .body;
    let paths: BTreeSet<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, BTreeSet::from(FLOWS), "{listing}");

    // Each flow's leader writes its three connectors; both nodes list them for every flow.
    for node in both {
        for flow in FLOWS {
            let path = format!("{flow}/connectors");
            let names = wait_for(
                &format!("{path} on port {} to list the connectors", node.port),
                async || {
                    let reply = node.send("GET", &path, None).await?;
                    let mut names: Vec<String> = reply
                        .body
                        .as_array()?
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect();
                    names.sort_unstable();
                    (reply.status == 200 && names.len() == 3).then_some(names)
                },
                || node.log(),
            )
            .await;
            assert_eq!(names, CONNECTORS, "{flow}");
        }
    }
    // The two nodes share the work once both joined each flow's group.
    let (id_one, id_two) = (one.worker_id(), two.worker_id());
    converge(
        &two,
        &both,
        "both nodes to run part of the flows",
        async || {
            let workers = all_running(&two, |_| true).await?;
            if workers.contains(&id_one) && workers.contains(&id_two) {
                Ok(())
            } else {
                Err(format!("only {workers:?} run something"))
            }
        },
    )
    .await;
    // Both nodes answer every connector's status, wherever it runs.
    wait_for(
        "every connector RUNNING through the other node",
        async || all_running(&one, |w| w == id_one || w == id_two).await.ok(),
        || logs(&both),
    )
    .await;
    assert_eq!(
        two.send("GET", "/A/C/connectors", None)
            .await
            .map(|r| r.status),
        Some(404)
    );

    wait_for(
        "the first records replicated both ways",
        async || {
            (holds(&b, "A.orders", &first_a).await && holds(&a, "B.events", &first_b).await)
                .then_some(())
        },
        || logs(&both),
    )
    .await;
    no_cycles(&a, &b).await;

    // A restart through either node reaches the flow's leader.
    for node in both {
        let path = "/A/B/connectors/MirrorSourceConnector/restart";
        let restart = wait_for(
            &format!("an answer to POST {path} on port {}", node.port),
            async || {
                node.send("POST", path, None)
                    .await
                    .filter(|r| !r.rebalancing())
            },
            || logs(&both),
        )
        .await;
        assert_eq!(restart.status, 204, "{restart:?}");
    }

    // Kill one node: the survivor takes its share of both flows and replicates what comes next.
    one.child.kill();
    let (second_a, second_b) = (batch("a", 50..100), batch("b", 50..100));
    produce(&a.bootstrap(), "orders", &second_a).await;
    produce(&b.bootstrap(), "events", &second_b).await;
    let all_a: BTreeSet<String> = first_a.union(&second_a).cloned().collect();
    let all_b: BTreeSet<String> = first_b.union(&second_b).cloned().collect();
    converge(
        &two,
        &[&two],
        "the survivor to run everything and replicate the second records",
        async || {
            all_running(&two, |w| w == id_two).await?;
            if !holds(&b, "A.orders", &all_a).await {
                return Err("A.orders on B misses records".to_owned());
            }
            if !holds(&a, "B.events", &all_b).await {
                return Err("B.events on A misses records".to_owned());
            }
            Ok(())
        },
    )
    .await;
    no_cycles(&a, &b).await;
    for node in [&one, &two] {
        let log = node.child.log_tail(usize::MAX);
        assert!(!log.contains("isn't a known config"), "{log}");
    }
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
