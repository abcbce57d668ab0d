//! Running `ferry standalone` in tests: files, the process, its REST API, waiting for conditions.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferry_testkit::{ChildGuard, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long any awaited condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Waits until `check` returns `Some`, polling; panics with `what` and `context()` after
/// [`PATIENCE`].
pub async fn wait_for<T>(
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}\n{}", context());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A worker config for a test broker, with fast offset flushes and group joins.
pub fn worker_props(bootstrap: &str, dir: &Path, port: u16, extra: &[(&str, &str)]) -> String {
    let mut text = format!(
        "bootstrap.servers={bootstrap}\n\
         key.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n\
         offset.storage.file.filename={}\n\
         offset.flush.interval.ms=500\n\
         listeners=http://127.0.0.1:{port}\n\
         consumer.session.timeout.ms=4000\n\
         consumer.heartbeat.interval.ms=1000\n\
         consumer.fetch.max.wait.ms=100\n\
         producer.linger.ms=5\n",
        dir.join("connect.offsets").display()
    );
    for (k, v) in extra {
        text.push_str(&format!("{k}={v}\n"));
    }
    text
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A running `ferry standalone`.
pub struct Standalone {
    pub child: ChildGuard,
    pub port: u16,
}

impl Standalone {
    /// Starts `ferry standalone WORKER CONNECTORS...`; the worker file must listen on `port`.
    pub fn start(dir: &Path, port: u16, worker: &Path, connectors: &[PathBuf], log: &str) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command
            .arg("standalone")
            .arg(worker)
            .args(connectors)
            .env("RUST_LOG", "info");
        let child = ChildGuard::spawn(command, dir.join(log)).unwrap();
        Self { child, port }
    }

    /// `GET path` on the worker's REST API: `(status, body)`, `None` if it does not answer.
    pub async fn get(&self, path: &str) -> Option<(u16, serde_json::Value)> {
        http(self.port, "GET", path).await
    }

    /// Stops the worker with SIGTERM and waits for it to exit; returns its exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let log = self.child.log_tail(40);
        wait_for(
            "the worker to exit after SIGTERM",
            async || self.child.try_wait().unwrap().map(|s| s.code()),
            || log.clone(),
        )
        .await
    }
}

/// A free port for a worker's REST listener.
pub fn rest_port() -> u16 {
    free_port().unwrap()
}

/// A one-shot HTTP/1.1 request with an empty body.
pub async fn http(port: u16, method: &str, path: &str) -> Option<(u16, serde_json::Value)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    Some((status, body))
}

/// Runs a librdkafka snippet off the async runtime.
pub async fn python(script: &'static str, args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || ferry_testkit::python(script, &args))
        .await
        .unwrap()
        .unwrap()
}

/// Reads every record of `topic` with librdkafka: one JSON line per record with `key`,
/// `value` (latin-1 decoded), `partition`, `offset` and `headers`.
pub const CONSUME_ALL: &str = r#"
import sys, json
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'checker', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
md = c.list_topics(topic, timeout=10)
c.assign([TopicPartition(topic, p, -2) for p in md.topics[topic].partitions])
out, idle = [], 0
while len(out) < expected and idle < 20:
    m = c.poll(0.5)
    if m is None:
        idle += 1
        continue
    if m.error():
        continue
    idle = 0
    dec = lambda b: None if b is None else b.decode('latin-1')
    out.append({'key': dec(m.key()), 'value': dec(m.value()), 'partition': m.partition(), 'offset': m.offset(),
                'headers': [[k, dec(v)] for k, v in (m.headers() or [])]})
c.close()
for r in out:
    print(json.dumps(r))
"#;

/// Reads `expected` records of `topic` (or as many as arrive).
pub async fn consume_all(bootstrap: &str, topic: &str, expected: usize) -> Vec<serde_json::Value> {
    python(
        CONSUME_ALL,
        vec![bootstrap.to_owned(), topic.to_owned(), expected.to_string()],
    )
    .await
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// Produces `values` (latin-1 text; `None` for a null value) to `topic` with librdkafka.
pub async fn produce(bootstrap: &str, topic: &str, values: &[&str]) {
    let script = r#"
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1]})
for v in sys.argv[3:]:
    p.produce(sys.argv[2], v.encode('latin-1'))
p.flush()
"#;
    let mut args = vec![bootstrap.to_owned(), topic.to_owned()];
    args.extend(values.iter().map(|v| (*v).to_owned()));
    python(script, args).await;
}
