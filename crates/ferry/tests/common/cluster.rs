//! A Connect cluster of `ferry distributed` processes in tests: the workers, their REST API,
//! and reading what the `VerifiableSourceConnector` wrote (data and committed offsets) with
//! librdkafka.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferry_testkit::{ChildGuard, Nudges, free_port};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{python, wait_for, write};

/// The group every worker of a test joins.
pub const GROUP: &str = "ferry-e2e";
/// The offset topic the workers share.
pub const OFFSETS_TOPIC: &str = "e2e-offsets";

/// The worker file of one member: fast joins on tansu (every JoinGroup waits half the session
/// timeout), a short scheduled-rebalance delay, and frequent offset commits.
pub fn distributed_props(bootstrap: &str, port: u16) -> String {
    format!(
        "bootstrap.servers={bootstrap}\n\
         group.id={GROUP}\n\
         config.storage.topic=e2e-configs\n\
         offset.storage.topic={OFFSETS_TOPIC}\n\
         status.storage.topic=e2e-status\n\
         config.storage.replication.factor=1\n\
         offset.storage.replication.factor=1\n\
         status.storage.replication.factor=1\n\
         offset.storage.partitions=3\n\
         status.storage.partitions=2\n\
         key.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n\
         listeners=http://127.0.0.1:{port}\n\
         session.timeout.ms=4000\n\
         heartbeat.interval.ms=500\n\
         scheduled.rebalance.max.delay.ms=2000\n\
         offset.flush.interval.ms=300\n\
         fetch.max.wait.ms=50\n\
         producer.linger.ms=5\n"
    )
}

/// One `ferry distributed` process; killed when dropped.
pub struct Worker {
    child: ChildGuard,
    dir: PathBuf,
    name: String,
    file: PathBuf,
    starts: usize,
    /// The REST port, also the worker id's port.
    pub port: u16,
}

impl Worker {
    /// Writes `NAME.properties` in `dir` and starts the worker.
    pub fn start(dir: &Path, name: &str, bootstrap: &str) -> Self {
        let port = free_port().unwrap();
        let file = write(
            dir,
            &format!("{name}.properties"),
            &distributed_props(bootstrap, port),
        );
        let child = spawn(dir, name, &file, 0);
        Self {
            child,
            dir: dir.to_owned(),
            name: name.to_owned(),
            file,
            starts: 1,
            port,
        }
    }

    /// The worker id it reports in statuses: its advertised `host:port`.
    pub fn id(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The end of its current log, for failure messages.
    pub fn log(&self) -> String {
        format!("--- {} ---\n{}", self.name, self.child.log_tail(60))
    }

    /// Everything the worker has logged so far.
    pub fn output(&self) -> String {
        self.child.log_tail(usize::MAX)
    }

    /// A request to this worker's REST API.
    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Reply> {
        send(self.port, method, path, body).await
    }

    /// Crashes the worker: SIGKILL, no LeaveGroup, no last commit.
    pub fn kill(&mut self) {
        self.child.kill();
    }

    /// Stops the worker with SIGTERM and waits for it to exit; returns its exit code.
    pub async fn terminate(&mut self) -> Option<i32> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let log = self.log();
        let child = &mut self.child;
        wait_for(
            &format!("{} to exit after SIGTERM", self.name),
            async || child.try_wait().unwrap().map(|s| s.code()),
            || log.clone(),
        )
        .await
    }

    /// Starts the worker again with the same file (and so the same REST port and worker id).
    pub fn restart(&mut self) {
        self.child = spawn(&self.dir, &self.name, &self.file, self.starts);
        self.starts += 1;
    }
}

fn spawn(dir: &Path, name: &str, file: &Path, start: usize) -> ChildGuard {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
    command.arg("distributed").arg(file).env("RUST_LOG", "info");
    ChildGuard::spawn(command, dir.join(format!("{name}-{start}.log"))).unwrap()
}

/// The generation of the last round `worker` synced, if its log shows no membership step after
/// that sync (no rejoin requested, no JoinGroup sent or answered).
fn synced_generation(worker: &Worker) -> Option<u64> {
    let log = worker.output();
    let last = log.lines().rev().find(|line| {
        [
            "synced group",
            "joined group group=",
            "(re-)joining group",
            "rejoin requested",
        ]
        .iter()
        .any(|step| line.contains(step))
    })?;
    let (_, after) = last.split_once("synced group")?;
    after.split_once("generation=")?.1.trim().parse().ok()
}

/// Waits until every worker has synced the same generation and none has started another round.
///
/// A rolling restart waits for this before stopping the next worker: tansu keeps a leader that
/// leaves while its group is forming as that group's leader forever (only a leader that misses
/// its heartbeats is replaced), so a SIGTERM that lands mid-rebalance on the leader would leave
/// the survivors rejoining a round no one can complete. Real Kafka rebalances on that LeaveGroup.
pub async fn group_settled(workers: &[Worker]) {
    wait_for(
        "every worker to sync one generation",
        async || {
            let generations: Vec<Option<u64>> = workers.iter().map(synced_generation).collect();
            let first = generations[0]?;
            generations.iter().all(|g| *g == Some(first)).then_some(())
        },
        || logs(workers),
    )
    .await
}

/// The logs of all `workers`.
pub fn logs(workers: &[Worker]) -> String {
    workers
        .iter()
        .map(Worker::log)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Starts `n` workers of one group and waits until each answers REST.
pub async fn start_workers(dir: &std::path::Path, bootstrap: &str, n: usize) -> Vec<Worker> {
    let workers: Vec<Worker> = (0..n)
        .map(|i| Worker::start(dir, &format!("worker{i}"), bootstrap))
        .collect();
    for worker in &workers {
        settled(worker, "GET", "/connectors", None).await;
    }
    workers
}

/// Waits until `check` holds, creating a STOPPED connector every 20 s (see [`Nudges`]).
pub async fn converge<T>(
    workers: &[Worker],
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let mut nudges = Nudges::new(Duration::from_secs(20));
    wait_for(
        what,
        async || {
            if let Some(value) = check().await {
                return Some(value);
            }
            if let Some(name) = nudges.due() {
                let body = Nudges::body(&name, verifiable("nudge-data", 1, 1));
                let reply = settled(&workers[0], "POST", "/connectors", Some(&body)).await;
                assert!(Nudges::accepted(reply.status, &reply.body), "{reply:?}");
            }
            None
        },
        || logs(workers),
    )
    .await
}

/// An HTTP answer: status code and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// Whether the answer is the 409 a worker gives while a rebalance is under way.
    pub fn rebalancing(&self) -> bool {
        self.status == 409
            && self.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("rebalance"))
    }
}

/// A one-shot HTTP/1.1 request with an optional JSON body; `None` if nothing answers.
pub async fn send(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<Reply> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut response))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    Some(Reply { status, body })
}

/// Sends a request until it is answered with something other than "rebalance in progress".
pub async fn settled(worker: &Worker, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let log = worker.log();
    wait_for(
        &format!("an answer to {method} {path}"),
        async || {
            worker
                .send(method, path, body)
                .await
                .filter(|r| !r.rebalancing())
        },
        || log.clone(),
    )
    .await
}

/// The config of a `VerifiableSourceConnector` with `tasks` tasks writing to `topic`.
pub fn verifiable(topic: &str, tasks: u32, throughput: u32) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        "tasks.max": tasks.to_string(),
        "topic": topic,
        "throughput": throughput.to_string(),
    })
}

/// The status of `connector` as `worker` reports it, once the connector and all `tasks` tasks
/// are RUNNING; returns the worker id of each task.
pub async fn running_tasks(worker: &Worker, connector: &str, tasks: usize) -> Option<Vec<String>> {
    let reply = worker
        .send("GET", &format!("/connectors/{connector}/status"), None)
        .await?;
    let listed = reply.body["tasks"].as_array()?;
    let all_running = reply.status == 200
        && reply.body["connector"]["state"] == "RUNNING"
        && listed.len() == tasks
        && listed.iter().all(|t| t["state"] == "RUNNING");
    all_running.then(|| {
        listed
            .iter()
            .map(|t| t["worker_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    })
}

/// The committed `seqno` of each task of `connector`, by task id, from the offsets API.
pub async fn committed(worker: &Worker, connector: &str) -> Option<BTreeMap<i64, i64>> {
    let reply = worker
        .send("GET", &format!("/connectors/{connector}/offsets"), None)
        .await?;
    (reply.status == 200).then_some(())?;
    reply.body["offsets"]
        .as_array()?
        .iter()
        .map(|o| {
            let id = &o["partition"]["id"];
            let id = id
                .as_i64()
                .or_else(|| id.as_str().and_then(|s| s.parse().ok()))?;
            Some((id, o["offset"]["seqno"].as_i64()?))
        })
        .collect()
}

/// Waits until every one of `tasks` tasks of `connector` has committed an offset past `floor`.
pub async fn offsets_past(
    workers: &[Worker],
    connector: &str,
    tasks: usize,
    floor: &BTreeMap<i64, i64>,
) -> BTreeMap<i64, i64> {
    wait_for(
        "every task to commit past its earlier offset",
        async || {
            for worker in workers {
                if let Some(o) = committed(worker, connector).await {
                    let past = o.len() == tasks
                        && o.iter()
                            .all(|(t, s)| floor.get(t).is_none_or(|before| s > before));
                    return past.then_some(o);
                }
            }
            None
        },
        || logs(workers),
    )
    .await
}

/// Reads every partition of `topic` from the start to its end (librdkafka's partition EOF, which
/// follows the Fetch high watermark); one JSON line per record: `partition`, `offset`, `key`,
/// `value` (UTF-8 text, `null` for none).
const READ_TO_END: &str = r#"
import sys, json
from confluent_kafka import Consumer, TopicPartition, KafkaError
bootstrap, topic = sys.argv[1], sys.argv[2]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'e2e-checker', 'enable.auto.commit': False,
              'enable.partition.eof': True, 'fetch.wait.max.ms': 50})
md = c.list_topics(topic, timeout=10)
parts = sorted(md.topics[topic].partitions)
c.assign([TopicPartition(topic, p, -2) for p in parts])
ended, out, idle = set(), [], 0
while len(ended) < len(parts):
    m = c.poll(1.0)
    if m is None:
        idle += 1
        if idle > 60:
            sys.exit('no end of ' + topic)
        continue
    idle = 0
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            ended.add(m.partition())
            continue
        sys.exit(str(m.error()))
    dec = lambda b: None if b is None else b.decode('utf-8')
    out.append({'partition': m.partition(), 'offset': m.offset(), 'key': dec(m.key()), 'value': dec(m.value())})
c.close()
for r in sorted(out, key=lambda r: (r['partition'], r['offset'])):
    print(json.dumps(r))
"#;

/// Every record of `topic`, in partition and offset order.
pub async fn read_topic(bootstrap: &str, topic: &str) -> Vec<Value> {
    python(READ_TO_END, vec![bootstrap.to_owned(), topic.to_owned()])
        .await
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The seqnos the Verifiable source wrote to `topic`, per task (the record key), in the order
/// they were written.
pub async fn sequences(bootstrap: &str, topic: &str) -> BTreeMap<i64, Vec<i64>> {
    let mut by_task: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for record in read_topic(bootstrap, topic).await {
        let task = record["key"].as_str().unwrap().parse().unwrap();
        let seqno = record["value"].as_str().unwrap().parse().unwrap();
        by_task.entry(task).or_default().push(seqno);
    }
    by_task
}

/// Asserts that each of `tasks` tasks wrote every seqno from 0 to its highest. Duplicates are
/// allowed: delivery is at least once, and Connect's source producers are not idempotent (Java
/// sets `enable.idempotence=false`), so a batch whose answer was lost to a cut connection is
/// written again.
pub fn assert_gapless(sequences: &BTreeMap<i64, Vec<i64>>, tasks: i64) {
    assert_eq!(
        sequences.keys().copied().collect::<Vec<_>>(),
        (0..tasks).collect::<Vec<_>>(),
        "tasks that wrote records"
    );
    for (task, seqnos) in sequences {
        let distinct: BTreeSet<i64> = seqnos.iter().copied().collect();
        let highest = *distinct.last().unwrap();
        let missing: Vec<i64> = (0..=highest).filter(|s| !distinct.contains(s)).collect();
        assert!(
            missing.is_empty(),
            "task {task} skipped seqnos {missing:?} (highest {highest})"
        );
    }
}

/// The seqno each start of one of `connector`'s Verifiable source tasks resumed from, by task,
/// as every worker log in `dir` (those of killed and restarted workers too) reports it.
///
/// A task's own report is the ground truth here: in the data, a task that resumed from an
/// earlier offset looks the same as a batch the producer sent twice.
pub fn task_starts(dir: &Path, connector: &str) -> BTreeMap<i64, Vec<i64>> {
    let prefix = format!("Started VerifiableSourceTask {connector}-");
    let mut starts: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let Some((_, start)) = line.split_once(&prefix) else {
                continue;
            };
            let task = start.split_once(' ').unwrap().0.parse().unwrap();
            let seqno = start.rsplit_once("resuming from seqno ").unwrap().1;
            starts
                .entry(task)
                .or_default()
                .push(seqno.trim().parse().unwrap());
        }
    }
    starts
}

/// The `seqno`s committed for each task of `connector` in the offset topic, in commit order.
pub async fn offset_history(bootstrap: &str, connector: &str) -> BTreeMap<i64, Vec<i64>> {
    let mut by_task: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for record in read_topic(bootstrap, OFFSETS_TOPIC).await {
        let Some(key) = record["key"].as_str() else {
            continue;
        };
        let key: Value = serde_json::from_str(key).unwrap();
        if key[0] != connector {
            continue;
        }
        let Some(value) = record["value"].as_str() else {
            continue;
        };
        let value: Value = serde_json::from_str(value).unwrap();
        let task = key[1]["id"].as_i64().unwrap();
        by_task
            .entry(task)
            .or_default()
            .push(value["seqno"].as_i64().unwrap());
    }
    by_task
}

/// Asserts that no task's committed offset ever moved backwards.
pub fn assert_monotonic(history: &BTreeMap<i64, Vec<i64>>, tasks: i64) {
    assert_eq!(
        history.len() as i64,
        tasks,
        "tasks with commits: {history:?}"
    );
    for (task, seqnos) in history {
        if let Some(w) = seqnos.windows(2).find(|w| w[1] < w[0]) {
            panic!(
                "task {task}'s committed offset moved back from {} to {}",
                w[0], w[1]
            );
        }
    }
}

/// Asserts that each task started from 0 once and otherwise resumed right after an offset that
/// was committed: never from an offset that was not written.
pub fn assert_resumes_after_commits(
    starts: &BTreeMap<i64, Vec<i64>>,
    history: &BTreeMap<i64, Vec<i64>>,
) {
    for (task, points) in starts {
        let zeros = points.iter().filter(|s| **s == 0).count();
        assert_eq!(zeros, 1, "task {task} started from 0 {zeros} times");
        let commits: BTreeSet<i64> = history.get(task).into_iter().flatten().copied().collect();
        for point in points.iter().filter(|s| **s > 0) {
            assert!(
                commits.contains(&(point - 1)),
                "task {task} resumed at {point}, but {} was never committed; commits {commits:?}",
                point - 1
            );
        }
    }
}

/// Stops `connector` (KIP-875) through `worker` and waits until it is STOPPED without tasks, so
/// that everything its tasks wrote is in the topic.
pub async fn stop_connector(workers: &[Worker], worker: &Worker, connector: &str) {
    let path = format!("/connectors/{connector}");
    let stopped = settled(worker, "PUT", &format!("{path}/stop"), None).await;
    assert_eq!(stopped.status, 204, "{stopped:?}");
    wait_for(
        &format!("{connector} STOPPED without tasks"),
        async || {
            let status = worker.send("GET", &format!("{path}/status"), None).await?;
            let tasks = worker.send("GET", &format!("{path}/tasks"), None).await?;
            (status.body["connector"]["state"] == "STOPPED" && tasks.body == json!([]))
                .then_some(())
        },
        || logs(workers),
    )
    .await;
}

/// Checks what a Verifiable source `connector` with `tasks` tasks left behind, its workers
/// having logged in `dir`: no gaps in any task's sequence, no task starting over from 0, every
/// resumption right after a committed offset, and committed offsets that never move backwards.
pub async fn check_delivery(dir: &Path, bootstrap: &str, connector: &str, topic: &str, tasks: i64) {
    let written = sequences(bootstrap, topic).await;
    assert_gapless(&written, tasks);
    let history = offset_history(bootstrap, connector).await;
    assert_monotonic(&history, tasks);
    let starts = task_starts(dir, connector);
    assert_eq!(starts.len() as i64, tasks, "tasks that started: {starts:?}");
    assert_resumes_after_commits(&starts, &history);
}

/// The worker ids `connector`'s RUNNING tasks report, once all `tasks` run on `ids` only, each
/// of `ids` running at least one.
pub async fn spread_over(
    workers: &[Worker],
    via: &Worker,
    connector: &str,
    tasks: usize,
    ids: &[String],
) -> BTreeMap<String, usize> {
    converge(
        workers,
        &format!("{connector}'s {tasks} tasks RUNNING on {ids:?}"),
        async || {
            let owners = running_tasks(via, connector, tasks).await?;
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for owner in owners {
                *counts.entry(owner).or_default() += 1;
            }
            let on_ids = counts.len() == ids.len() && ids.iter().all(|id| counts.contains_key(id));
            on_ids.then_some(counts)
        },
    )
    .await
}
