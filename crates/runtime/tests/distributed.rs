//! Distributed mode end to end, in process: several workers with the same `group.id` form a
//! Connect cluster on a real broker, share a connector's tasks, forward REST writes to the
//! leader, and follow pause/resume/stop/restart and the offsets API.
//!
//! The broker is tansu (TEST-BROKER.md): joins take about `session.timeout.ms / 2`, and a
//! rejoin with byte-identical metadata starts no new generation, so the tests nudge the group
//! with a config write where real Kafka would rebalance on its own.

mod rest_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::plugin::PluginRegistry;
use ferry_runtime::distributed::herder::DistributedWorker;
use rest_support::{Api, Reply, log_levels};
use serde_json::{Value, json};

const CONNECTOR: &str = "verifiable";
const WAIT: Duration = Duration::from_secs(90);

fn plugins() -> Arc<PluginRegistry> {
    let mut registry = PluginRegistry::new();
    ferry_runtime::converters::register(&mut registry);
    ferry_runtime::transforms::register(&mut registry);
    ferry_connectors::register(&mut registry);
    Arc::new(registry)
}

fn props(bootstrap: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut props: HashMap<String, String> = [
        ("bootstrap.servers", bootstrap),
        ("listeners", "http://127.0.0.1:0"),
        ("group.id", "ferry-cluster"),
        ("config.storage.topic", "connect-configs"),
        ("offset.storage.topic", "connect-offsets"),
        ("status.storage.topic", "connect-status"),
        ("config.storage.replication.factor", "1"),
        ("offset.storage.replication.factor", "1"),
        ("status.storage.replication.factor", "1"),
        ("offset.storage.partitions", "3"),
        ("status.storage.partitions", "2"),
        (
            "key.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("session.timeout.ms", "4000"),
        ("heartbeat.interval.ms", "500"),
        ("scheduled.rebalance.max.delay.ms", "2000"),
        ("offset.flush.interval.ms", "200"),
        ("fetch.max.wait.ms", "50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    props.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    props
}

/// Logs go to the test's output, shown when it fails.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_test_writer()
        .try_init();
}

async fn start_worker(bootstrap: &str) -> DistributedWorker {
    start_with(bootstrap, &[]).await
}

async fn start_with(bootstrap: &str, extra: &[(&str, &str)]) -> DistributedWorker {
    DistributedWorker::start(props(bootstrap, extra), plugins(), log_levels())
        .await
        .expect("a distributed worker")
}

fn api(worker: &DistributedWorker) -> Api {
    Api::new(worker.rest().advertised_url())
}

/// Polls `check` until it returns `Some`, failing the test after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends a write until it is not refused for a rebalance in progress (409).
async fn write(api: &Api, method: axum::http::Method, path: &str, body: Option<&str>) -> Reply {
    eventually(&format!("{method} {path}"), || async {
        let reply = api.send(method.clone(), path, body, &[]).await;
        (reply.status != 409
            || reply.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("already exists")))
        .then_some(reply)
    })
    .await
}

async fn wait_for_group(workers: &[&DistributedWorker]) {
    eventually("every worker to join one generation", || async {
        let generations: BTreeSet<Option<i32>> =
            workers.iter().map(|w| w.herder().generation()).collect();
        let leaders = workers.iter().filter(|w| w.herder().is_leader()).count();
        (generations.len() == 1 && !generations.contains(&None) && leaders == 1).then_some(())
    })
    .await;
}

fn connector_config(tasks: u32) -> Value {
    connector_config_to("verifiable-data", tasks)
}

fn connector_config_to(topic: &str, tasks: u32) -> Value {
    json!({
        "connector.class": "VerifiableSource",
        "tasks.max": tasks.to_string(),
        "topic": topic,
        "throughput": "200",
    })
}

/// The connector's status once the connector and `tasks` tasks are all in `state`.
async fn status_in(api: &Api, state: &str, tasks: usize) -> Value {
    status_of(api, CONNECTOR, state, tasks).await
}

async fn status_of(api: &Api, connector: &str, state: &str, tasks: usize) -> Value {
    eventually(&format!("{connector}: {tasks} tasks {state}"), || async {
        let reply = api.get(&format!("/connectors/{connector}/status")).await;
        let status = reply.json();
        let all = status["tasks"]
            .as_array()
            .map_or(0, |t| t.iter().filter(|t| t["state"] == state).count());
        (reply.status == 200
            && status["connector"]["state"] == state
            && all == tasks
            && status["tasks"].as_array().map(Vec::len) == Some(tasks))
        .then_some(status)
    })
    .await
}

/// Each source partition's `seqno`, by task id.
async fn offsets(api: &Api) -> BTreeMap<i64, i64> {
    offsets_of(api, CONNECTOR).await
}

async fn offsets_of(api: &Api, connector: &str) -> BTreeMap<i64, i64> {
    let reply = api.get(&format!("/connectors/{connector}/offsets")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["partition"]["id"].as_str().map_or_else(
                    || o["partition"]["id"].as_i64().unwrap(),
                    |s| s.parse().unwrap(),
                ),
                o["offset"]["seqno"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn assert_not_backwards(before: &BTreeMap<i64, i64>, after: &BTreeMap<i64, i64>) {
    for (partition, offset) in before {
        let now = after.get(partition).copied().unwrap_or(i64::MIN);
        assert!(
            now >= *offset,
            "offset of {partition} went back from {offset} to {now}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_share_a_connector_and_follow_its_lifecycle() {
    logs();
    let broker = ferry_testkit::Cluster::start().await.expect("a broker");
    let bootstrap = broker.bootstrap();
    let w1 = start_worker(&bootstrap).await;
    let w2 = start_worker(&bootstrap).await;
    let w3 = start_worker(&bootstrap).await;
    let workers = [&w1, &w2, &w3];
    wait_for_group(&workers).await;
    let follower = workers
        .iter()
        .find(|w| !w.herder().is_leader())
        .map(|w| api(w))
        .unwrap();

    // Created through a follower: forwarded to the leader.
    let body = json!({"name": CONNECTOR, "config": connector_config(6)}).to_string();
    let created = write(
        &follower,
        axum::http::Method::POST,
        "/connectors",
        Some(&body),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json()["name"], CONNECTOR);
    let duplicate = follower.post("/connectors", Some(&body)).await;
    assert_eq!(duplicate.status, 409, "{duplicate:?}");

    // Six tasks, two per worker, each reported by the worker that runs it.
    status_in(&follower, "RUNNING", 6).await;
    let per_worker = eventually("two tasks on each worker", || async {
        let counts: Vec<usize> = workers
            .iter()
            .map(|w| w.herder().running().tasks.len())
            .collect();
        (counts == [2, 2, 2]).then_some(counts)
    })
    .await;
    assert_eq!(per_worker, [2, 2, 2]);
    let ids: BTreeSet<String> = workers.iter().map(|w| w.rest().worker_id()).collect();
    let status = eventually("statuses from all three workers", || async {
        let status = status_in(&follower, "RUNNING", 6).await;
        let reporting: BTreeSet<String> = status["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["worker_id"].as_str().unwrap().to_owned())
            .collect();
        (reporting == ids).then_some(status)
    })
    .await;
    assert!(ids.contains(status["connector"]["worker_id"].as_str().unwrap()));
    let tasks = follower
        .get(&format!("/connectors/{CONNECTOR}/tasks"))
        .await;
    assert_eq!(tasks.json().as_array().map(Vec::len), Some(6));
    assert_eq!(tasks.json()[5]["config"]["id"], "5");

    // Records flow and offsets are committed; they only move forward from here.
    let first = eventually("offsets for all six tasks", || async {
        let o = offsets(&follower).await;
        (o.len() == 6 && o.values().all(|s| *s > 0)).then_some(o)
    })
    .await;

    // Pause and resume through a follower.
    let paused = write(
        &follower,
        axum::http::Method::PUT,
        &format!("/connectors/{CONNECTOR}/pause"),
        None,
    )
    .await;
    assert_eq!(paused.status, 202, "{paused:?}");
    status_in(&follower, "PAUSED", 6).await;
    let resumed = write(
        &follower,
        axum::http::Method::PUT,
        &format!("/connectors/{CONNECTOR}/resume"),
        None,
    )
    .await;
    assert_eq!(resumed.status, 202, "{resumed:?}");
    status_in(&follower, "RUNNING", 6).await;

    // KIP-745 restart of everything: answered with RESTARTING, then running again.
    let restart = write(
        &follower,
        axum::http::Method::POST,
        &format!("/connectors/{CONNECTOR}/restart?includeTasks=true"),
        None,
    )
    .await;
    assert_eq!(restart.status, 202, "{restart:?}");
    assert_eq!(restart.json()["connector"]["state"], "RESTARTING");
    status_in(&follower, "RUNNING", 6).await;
    let second = offsets(&follower).await;
    assert_not_backwards(&first, &second);

    // Stop (KIP-875): no tasks left; the offsets can then be altered and reset.
    let early = follower
        .patch(
            &format!("/connectors/{CONNECTOR}/offsets"),
            Some(r#"{"offsets":[]}"#),
        )
        .await;
    assert_eq!(early.status, 400, "{early:?}");
    let stopped = write(
        &follower,
        axum::http::Method::PUT,
        &format!("/connectors/{CONNECTOR}/stop"),
        None,
    )
    .await;
    assert_eq!(stopped.status, 204, "{stopped:?}");
    eventually("the connector STOPPED without tasks", || async {
        let status = follower
            .get(&format!("/connectors/{CONNECTOR}/status"))
            .await
            .json();
        let tasks = follower
            .get(&format!("/connectors/{CONNECTOR}/tasks"))
            .await
            .json();
        (status["connector"]["state"] == "STOPPED" && tasks == json!([])).then_some(())
    })
    .await;
    let third = offsets(&follower).await;
    assert_not_backwards(&second, &third);
    let target = third[&0] + 1000;
    let patch =
        json!({"offsets": [{"partition": {"id": 0}, "offset": {"seqno": target}}]}).to_string();
    let altered = write(
        &follower,
        axum::http::Method::PATCH,
        &format!("/connectors/{CONNECTOR}/offsets"),
        Some(&patch),
    )
    .await;
    assert_eq!(altered.status, 200, "{altered:?}");
    assert_eq!(offsets(&follower).await[&0], target);

    // Resumed from STOPPED: tasks come back and continue from the stored offsets.
    let resumed = write(
        &follower,
        axum::http::Method::PUT,
        &format!("/connectors/{CONNECTOR}/resume"),
        None,
    )
    .await;
    assert_eq!(resumed.status, 202, "{resumed:?}");
    status_in(&follower, "RUNNING", 6).await;
    let after = eventually("task 0 continuing past the altered offset", || async {
        let o = offsets(&follower).await;
        (o.get(&0).is_some_and(|s| *s > target)).then_some(o)
    })
    .await;
    assert_not_backwards(&third, &after);

    // Internal requests must carry a valid KIP-507 signature (the group uses `sessioned`).
    let leader = workers
        .iter()
        .find(|w| w.herder().is_leader())
        .map(|w| api(w))
        .unwrap();
    let tasks_path = format!("/connectors/{CONNECTOR}/tasks");
    leader
        .post(&tasks_path, Some("[]"))
        .await
        .expect_error(400, "Internal request missing required signature");
    let forged = [
        ("X-Connect-Authorization", "c2lnbmF0dXJl"),
        ("X-Connect-Request-Signature-Algorithm", "HmacSHA256"),
    ];
    leader
        .send(axum::http::Method::POST, &tasks_path, Some("[]"), &forged)
        .await
        .expect_error(403, "Internal request contained invalid signature.");
    status_in(&follower, "RUNNING", 6).await;

    // A cluster-wide logger level reaches every worker through the config topic.
    let set = follower
        .put(
            "/admin/loggers/org.example.distributed?scope=cluster",
            Some(r#"{"level":"DEBUG"}"#),
        )
        .await;
    assert_eq!(set.status, 204, "{set:?}");
    for worker in workers {
        let api = api(worker);
        eventually("the logger level on every worker", || async {
            let reply = api.get("/admin/loggers/org.example.distributed").await;
            (reply.status == 200 && reply.json()["level"] == "DEBUG").then_some(())
        })
        .await;
    }

    // Deleted through a follower: no config, no status left.
    let deleted = write(
        &follower,
        axum::http::Method::DELETE,
        &format!("/connectors/{CONNECTOR}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    eventually("the connector gone", || async {
        let list = follower.get("/connectors").await.json();
        let status = follower
            .get(&format!("/connectors/{CONNECTOR}/status"))
            .await;
        (list == json!([]) && status.status == 404).then_some(())
    })
    .await;
    for worker in [w1, w2, w3] {
        worker.stop().await;
    }
}

async fn create(api: &Api, name: &str, tasks: u32) {
    let body = json!({"name": name, "config": connector_config_to(&format!("{name}-data"), tasks)})
        .to_string();
    let created = write(api, axum::http::Method::POST, "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");
}

/// The worker ids the tasks of `connectors` report, once all are RUNNING.
async fn task_workers(api: &Api, connectors: &[&str], tasks: usize) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for connector in connectors {
        let status = status_of(api, connector, "RUNNING", tasks).await;
        for task in status["tasks"].as_array().unwrap() {
            ids.insert(task["worker_id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

/// Waits for `done`, nudging the group with a STOPPED connector every 20 s (see
/// [`ferry_testkit::Nudges`]).
async fn converge(api: &Api, what: &str, done: impl Fn() -> bool) {
    let nudges = std::sync::Mutex::new(ferry_testkit::Nudges::new(Duration::from_secs(20)));
    eventually(what, || async {
        if done() {
            return Some(());
        }
        let due = nudges.lock().unwrap().due();
        if let Some(name) = due {
            let body = ferry_testkit::Nudges::body(&name, connector_config_to("nudge-data", 1))
                .to_string();
            let reply = write(api, axum::http::Method::POST, "/connectors", Some(&body)).await;
            assert_eq!(reply.status, 201, "{reply:?}");
        }
        None
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_workers_work_moves_to_the_others() {
    logs();
    let broker = ferry_testkit::Cluster::start().await.expect("a broker");
    let bootstrap = broker.bootstrap();
    let w1 = start_worker(&bootstrap).await;
    let w2 = start_worker(&bootstrap).await;
    // The third worker lives in its own runtime: shutting that down is a crash (no LeaveGroup,
    // no last statuses).
    let doomed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let third = bootstrap.clone();
    let w3 = doomed
        .spawn(async move { start_worker(&third).await })
        .await
        .unwrap();
    wait_for_group(&[&w1, &w2, &w3]).await;
    let api1 = api(&w1);
    // One connector per worker: two of them generate their task configs on a follower and
    // hand them to the leader in signed requests.
    let names = ["a", "b", "c"];
    for name in names {
        create(&api1, name, 2).await;
    }
    converge(&api1, "two tasks of a, b, c per worker", || {
        let loads: Vec<usize> = [&w1, &w2, &w3]
            .iter()
            .map(|w| w.herder().running().tasks.len())
            .collect();
        let connectors: BTreeSet<String> = [&w1, &w2, &w3]
            .iter()
            .flat_map(|w| w.herder().running().connectors)
            .collect();
        loads == [2, 2, 2] && names.iter().all(|n| connectors.contains(*n))
    })
    .await;
    let all: BTreeSet<String> = [&w1, &w2, &w3]
        .iter()
        .map(|w| w.rest().worker_id())
        .collect();
    let reporting = eventually("statuses from all workers", || async {
        let ids = task_workers(&api1, &names, 2).await;
        (ids == all).then_some(ids)
    })
    .await;
    assert_eq!(reporting.len(), 3);
    let before = eventually("offsets of connector a", || async {
        let o = offsets_of(&api1, "a").await;
        (o.len() == 2).then_some(o)
    })
    .await;

    let crashed = w3.rest().worker_id();
    std::mem::forget(w3);
    doomed.shutdown_background();

    let survivors: BTreeSet<String> = [&w1, &w2].iter().map(|w| w.rest().worker_id()).collect();
    converge(&api1, "the crashed worker's work on the survivors", || {
        let mut connectors = BTreeSet::new();
        let mut tasks = BTreeSet::new();
        for w in [&w1, &w2] {
            let running = w.herder().running();
            connectors.extend(running.connectors);
            tasks.extend(running.tasks);
        }
        names.iter().all(|n| {
            connectors.contains(*n)
                && (0..2).all(|t| tasks.contains(&ferry_runtime::ConnectorTaskId::new(*n, t)))
        })
    })
    .await;
    eventually("statuses from the survivors only", || async {
        let ids = task_workers(&api1, &names, 2).await;
        (ids.is_subset(&survivors) && !ids.contains(&crashed)).then_some(())
    })
    .await;
    let after = eventually("offsets of connector a moving on", || async {
        let o = offsets_of(&api1, "a").await;
        (o.len() == 2 && o.iter().all(|(p, s)| *s > before[p])).then_some(o)
    })
    .await;
    assert_not_backwards(&before, &after);
    for worker in [w1, w2] {
        worker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eager_workers_hand_over_everything_when_one_leaves() {
    logs();
    let broker = ferry_testkit::Cluster::start().await.expect("a broker");
    let bootstrap = broker.bootstrap();
    let eager = [("connect.protocol", "eager")];
    let w1 = start_with(&bootstrap, &eager).await;
    let w2 = start_with(&bootstrap, &eager).await;
    wait_for_group(&[&w1, &w2]).await;
    let api1 = api(&w1);
    create(&api1, CONNECTOR, 4).await;
    eventually("two tasks per worker", || async {
        let loads: Vec<usize> = [&w1, &w2]
            .iter()
            .map(|w| w.herder().running().tasks.len())
            .collect();
        (loads == [2, 2]).then_some(())
    })
    .await;
    let before = eventually("offsets of all tasks", || async {
        let o = offsets(&api1).await;
        (o.len() == 4).then_some(o)
    })
    .await;
    // A graceful stop leaves the group: the other worker takes everything at once.
    w2.stop().await;
    eventually("all work on the remaining worker", || async {
        let running = w1.herder().running();
        (running.tasks.len() == 4 && running.connectors.len() == 1).then_some(())
    })
    .await;
    let id1 = w1.rest().worker_id();
    eventually("every status from the remaining worker", || async {
        let ids = task_workers(&api1, &[CONNECTOR], 4).await;
        (ids.len() == 1 && ids.contains(&id1)).then_some(())
    })
    .await;
    let after = offsets(&api1).await;
    assert_not_backwards(&before, &after);
    w1.stop().await;
}
