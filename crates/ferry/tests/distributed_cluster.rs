//! `ferry distributed` processes sharing a `group.id` on a real broker form one Connect
//! cluster: a connector's tasks are spread evenly over the workers, and every worker, leader
//! or follower, answers every REST request the same way.
//!
//! The broker is tansu (TEST-BROKER.md): joins take about `session.timeout.ms / 2`, and a rejoin
//! with byte-identical metadata starts no new generation, so [`converge`] nudges the group with
//! a config write where real Kafka would rebalance on its own.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cluster::{Reply, Worker, converge, logs, running_tasks, settled, start_workers, verifiable};
use common::wait_for;
use ferry_testkit::Cluster;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_spread_six_tasks_evenly() {
    let broker = Cluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workers = start_workers(dir.path(), &broker.bootstrap(), 3).await;
    let body = json!({"name": "spread", "config": verifiable("spread-data", 6, 20)});
    let created = settled(&workers[1], "POST", "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");

    let ids: Vec<String> = workers.iter().map(Worker::id).collect();
    let per_worker = converge(&workers, "two RUNNING tasks on each worker", async || {
        let owners = running_tasks(&workers[2], "spread", 6).await?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for owner in owners {
            *counts.entry(owner).or_default() += 1;
        }
        (counts.len() == 3 && counts.values().all(|c| *c == 2)).then_some(counts)
    })
    .await;
    assert_eq!(
        per_worker.keys().cloned().collect::<Vec<_>>(),
        {
            let mut sorted = ids.clone();
            sorted.sort();
            sorted
        },
        "tasks run on the three workers, reported with their ids"
    );
    let status = settled(&workers[0], "GET", "/connectors/spread/status", None).await;
    let owner = status.body["connector"]["worker_id"].as_str().unwrap();
    assert!(ids.iter().any(|id| id == owner), "{status:?}");
}

/// Sends the same request to every worker until all answer alike (they may lag behind the
/// config topic for a moment); the answer.
async fn same_everywhere(
    workers: &[Worker],
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let last = Arc::new(Mutex::new(Vec::new()));
    let seen = last.clone();
    wait_for(
        &format!("every worker to answer {method} {path} alike"),
        async || {
            let mut replies = Vec::new();
            for worker in workers {
                let reply = worker.send(method, path, body).await?;
                replies.push(reply);
            }
            *seen.lock().unwrap() = replies.clone();
            let alike = replies.iter().all(|r| *r == replies[0]) && !replies[0].rebalancing();
            alike.then(|| replies[0].clone())
        },
        || {
            format!(
                "last answers: {:?}\n{}",
                last.lock().unwrap(),
                logs(workers)
            )
        },
    )
    .await
}

/// The reply with `name` replaced by `NAME`, to compare writes made under different names.
fn generic(reply: &Reply, name: &str) -> (u16, String) {
    (reply.status, reply.body.to_string().replace(name, "NAME"))
}

#[tokio::test(flavor = "multi_thread")]
async fn followers_answer_like_the_leader() {
    let broker = Cluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workers = start_workers(dir.path(), &broker.bootstrap(), 3).await;
    let shared = json!({"name": "shared", "config": verifiable("shared-data", 2, 10)});
    let created = settled(&workers[0], "POST", "/connectors", Some(&shared)).await;
    assert_eq!(created.status, 201, "{created:?}");
    converge(&workers, "the shared connector RUNNING", async || {
        running_tasks(&workers[1], "shared", 2).await
    })
    .await;

    // Reads and refused writes change nothing: each worker must give the same answer.
    let bad_class = json!({"name": "bad", "config": {"connector.class": "NoSuchConnector"}});
    let renamed = json!({"name": "other", "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector", "topic": "t"});
    let cases: Vec<(&str, &str, Option<&Value>, u16)> = vec![
        ("GET", "/connectors", None, 200),
        ("GET", "/connectors/shared", None, 200),
        ("GET", "/connectors/shared/config", None, 200),
        ("GET", "/connectors/shared/tasks", None, 200),
        ("GET", "/connectors/shared/status", None, 200),
        ("GET", "/connectors/shared/tasks/1/status", None, 200),
        ("GET", "/connectors/missing", None, 404),
        ("GET", "/connectors/missing/status", None, 404),
        ("GET", "/connectors/shared/tasks/9/status", None, 404),
        ("POST", "/connectors", Some(&shared), 409),
        ("POST", "/connectors", Some(&bad_class), 400),
        ("PUT", "/connectors/shared/config", Some(&renamed), 400),
        ("PUT", "/connectors/missing/pause", None, 404),
        ("PUT", "/connectors/missing/resume", None, 404),
        ("POST", "/connectors/missing/restart", None, 404),
        ("POST", "/connectors/shared/tasks/9/restart", None, 404),
        ("DELETE", "/connectors/missing", None, 404),
    ];
    for (method, path, body, expected) in cases {
        let reply = same_everywhere(&workers, method, path, body).await;
        assert_eq!(reply.status, expected, "{method} {path}: {reply:?}");
        if expected >= 400 {
            assert_eq!(
                reply.body["error_code"], expected,
                "{method} {path}: {reply:?}"
            );
            assert!(
                reply.body["message"].is_string(),
                "{method} {path}: {reply:?}"
            );
        }
    }

    // Writes: the same steps through each worker, on a connector of its own.
    let mut answers = Vec::new();
    for (i, worker) in workers.iter().enumerate() {
        let name = format!("made-by-{i}");
        let config = verifiable(&format!("{name}-data"), 1, 10);
        let mut steps = Vec::new();
        let create = json!({"name": name, "config": config});
        steps.push(settled(worker, "POST", "/connectors", Some(&create)).await);
        wait_for(
            &format!("the task of {name}"),
            async || {
                let r = worker
                    .send("GET", &format!("/connectors/{name}/tasks"), None)
                    .await?;
                (r.body.as_array().map(Vec::len) == Some(1)).then_some(())
            },
            || logs(&workers),
        )
        .await;
        let path = format!("/connectors/{name}");
        steps.push(settled(worker, "PUT", &format!("{path}/config"), Some(&config)).await);
        let fresh = format!("/connectors/{name}-fresh/config");
        steps.push(settled(worker, "PUT", &fresh, Some(&config)).await);
        steps.push(settled(worker, "PUT", &format!("{path}/pause"), None).await);
        steps.push(settled(worker, "PUT", &format!("{path}/resume"), None).await);
        steps.push(settled(worker, "DELETE", &format!("{path}-fresh"), None).await);
        steps.push(settled(worker, "DELETE", &path, None).await);
        let statuses: Vec<u16> = steps.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [201, 200, 201, 202, 202, 204, 204],
            "{name}: {steps:?}"
        );
        answers.push(steps.iter().map(|r| generic(r, &name)).collect::<Vec<_>>());
    }
    assert_eq!(
        answers[0], answers[1],
        "worker 1 answered writes unlike worker 0"
    );
    assert_eq!(
        answers[0], answers[2],
        "worker 2 answered writes unlike worker 0"
    );
    let list = same_everywhere(&workers, "GET", "/connectors", None).await;
    assert!(
        list.body
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n != "made-by-0"),
        "{list:?}"
    );
}
