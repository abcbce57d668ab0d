//! The dedicated-mode driver in process, against two brokers: `--clusters` picks the flows, each
//! flow's REST API lives under `/{source}/{target}/`, and the leader of a flow's group writes
//! the connector configs of the file.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::plugin::PluginRegistry;
use ferry_mirror::dedicated::{MirrorConnector, MirrorMaker, Mm2Config, SourceAndTarget};
use ferry_runtime::rest::{LogLevel, LogLevels, TracingLogLevels};
use ferry_testkit::Cluster;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::reload;

const PATIENCE: Duration = Duration::from_secs(90);

/// Logs to the test's output, filtered by `RUST_LOG`.
fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn plugins() -> Arc<PluginRegistry> {
    let mut registry = PluginRegistry::new();
    ferry_runtime::converters::register(&mut registry);
    ferry_mirror::register(&mut registry);
    Arc::new(registry)
}

fn log_levels() -> Arc<dyn LogLevels> {
    let (_layer, handle) = reload::Layer::new(Targets::new());
    Arc::new(TracingLogLevels::<tracing_subscriber::Registry>::new(
        handle,
        LogLevel::Info,
        [],
    ))
}

/// Both flows enabled, fast joins on tansu, replication factor 1, no ACL sync (tansu's
/// CreateAcls reply is truncated).
fn config(a: &Cluster, b: &Cluster) -> Mm2Config {
    let mut text = format!(
        "clusters = A, B\n\
         A.bootstrap.servers = {}\n\
         B.bootstrap.servers = {}\n\
         A->B.enabled = true\n\
         B->A.enabled = true\n\
         listeners = http://127.0.0.1:0\n\
         replication.factor = 1\n\
         offset-syncs.topic.replication.factor = 1\n\
         checkpoints.topic.replication.factor = 1\n\
         heartbeats.topic.replication.factor = 1\n\
         config.storage.replication.factor = 1\n\
         offset.storage.replication.factor = 1\n\
         status.storage.replication.factor = 1\n\
         sync.topic.acls.enabled = false\n\
         emit.heartbeats.interval.seconds = 1\n",
        a.bootstrap(),
        b.bootstrap()
    );
    for cluster in ["A", "B"] {
        text.push_str(&format!(
            "{cluster}.session.timeout.ms = 4000\n\
             {cluster}.heartbeat.interval.ms = 1000\n\
             {cluster}.scheduled.rebalance.max.delay.ms = 2000\n"
        ));
    }
    Mm2Config::parse_str(&text).unwrap()
}

/// A response: status, headers (lower-case names), JSON body (`Null` when empty).
struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: Value,
}

/// One HTTP/1.1 request to the node's REST server.
async fn request(node: &MirrorMaker, method: &str, path: &str, body: Option<&Value>) -> Response {
    let port = node.rest().local_addrs()[0].port();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status: status.parse().unwrap(),
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Polls `GET path` until `accept` says yes; panics after [`PATIENCE`].
async fn wait_for(node: &MirrorMaker, path: &str, accept: impl Fn(&Response) -> bool) -> Response {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = request(node, "GET", path, None).await;
        if accept(&response) {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out on GET {path}: {} {}",
            response.status,
            response.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn listed(response: &Response, name: &str) -> bool {
    response.status == 200
        && response
            .body
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == name))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_serves_the_flows_of_its_clusters_under_their_paths() {
    init_logs();
    let [a, b] = Cluster::start_many::<2>().await.unwrap();
    let config = config(&a, &b);
    let node = MirrorMaker::start(&config, Some(&["B".to_owned()]), plugins(), log_levels())
        .await
        .unwrap();
    let pair = SourceAndTarget::new("A", "B");
    assert_eq!(node.flows().collect::<Vec<_>>(), [&pair]);
    assert!(node.herder(&SourceAndTarget::new("B", "A")).is_none());

    let url = format!("{}A/B/", node.rest().advertised_url());
    let root = request(&node, "GET", "/", None).await;
    assert_eq!(root.status, 200);
    assert_eq!(
        root.body,
        json!([{"source": "A", "target": "B", "path": "/A/B", "url": url}])
    );

    // The leader (the only node) writes the file's three connector configs.
    let flow = config.flows(Some(&["B".to_owned()])).unwrap().remove(0);
    for connector in MirrorConnector::ALL.map(MirrorConnector::simple_name) {
        wait_for(&node, "/A/B/connectors", |r| listed(r, connector)).await;
    }
    let source = flow.connector(MirrorConnector::Source).unwrap();
    let stored = request(
        &node,
        "GET",
        "/A/B/connectors/MirrorSourceConnector/config",
        None,
    )
    .await;
    assert_eq!(stored.status, 200);
    let expected: BTreeMap<&String, &String> = source.config.iter().collect();
    assert_eq!(stored.body, json!(expected));

    // Flows this node does not serve, and paths outside every flow, are Jersey's 404.
    for path in ["/B/A/connectors", "/connectors"] {
        let response = request(&node, "GET", path, None).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(
            response.body,
            json!({"error_code": 404, "message": "HTTP 404 Not Found"})
        );
    }

    // Pause and resume go through the namespace to the flow's herder.
    let pause = request(
        &node,
        "PUT",
        "/A/B/connectors/MirrorHeartbeatConnector/pause",
        None,
    )
    .await;
    assert_eq!(pause.status, 202);
    wait_for(
        &node,
        "/A/B/connectors/MirrorHeartbeatConnector/status",
        |r| r.body["connector"]["state"] == "PAUSED",
    )
    .await;
    let resume = request(
        &node,
        "PUT",
        "/A/B/connectors/MirrorHeartbeatConnector/resume",
        None,
    )
    .await;
    assert_eq!(resume.status, 202);
    wait_for(
        &node,
        "/A/B/connectors/MirrorHeartbeatConnector/status",
        |r| r.body["connector"]["state"] == "RUNNING",
    )
    .await;

    // A connector created over REST gets a Location inside the namespace.
    let mut extra = flow
        .connector(MirrorConnector::Heartbeat)
        .unwrap()
        .config
        .clone();
    extra.insert("name".to_owned(), "extra heartbeats".to_owned());
    let created = request(
        &node,
        "POST",
        "/A/B/connectors",
        Some(&json!({"name": "extra heartbeats", "config": extra})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.headers["location"],
        format!(
            "http://127.0.0.1:{}/A/B/connectors/extra%20heartbeats",
            node.rest().local_addrs()[0].port()
        )
    );
    node.stop().await;
}
