//! MirrorMaker 2's `MirrorSourceConnector` on a Connect cluster of two `ferry distributed`
//! workers (on the target cluster) under faults: a worker killed mid-replication, the whole
//! Connect cluster stopped and started again, a source topic deleted and the source cluster
//! unreachable. librdkafka writes records carrying per-partition sequence numbers to the
//! source and reads the replicas: every record must arrive, in order, and records are copied
//! again only from right after a committed source offset.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/mirror.rs"]
mod mirror;

use std::collections::BTreeMap;

use cluster::{
    Worker, converge, group_settled, logs, running_tasks, settled, spread_over, start_workers,
};
use common::wait_for;
use ferry_testkit::{Cluster, FaultProxy, free_port};
use mirror::{
    Replica, assert_replicated, committed_history, committed_offsets, create_topic, delete_topic,
    mirror_source, produce_sequences, produce_until, sequences,
};

const CONNECTOR: &str = "mm2-source";

/// Starts replicating `topics` from `source` with two tasks, once both run (one per worker).
async fn deploy(
    workers: &[Worker],
    source: &str,
    target: &str,
    topics: &str,
    extra: &[(&str, &str)],
) {
    let mut settings = vec![("tasks.max", "2")];
    settings.extend_from_slice(extra);
    let body = mirror_source(CONNECTOR, source, target, topics, &settings);
    let created = settled(&workers[0], "POST", "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let ids: Vec<String> = workers.iter().map(Worker::id).collect();
    spread_over(workers, &workers[0], CONNECTOR, 2, &ids).await;
}

/// Writes `count` sequence numbers from `from` to each of `partitions` partitions of `topic`
/// in the background, in rounds of 50 per partition every 100 ms.
fn produce_in_background(
    source: &str,
    topic: &'static str,
    partitions: i32,
    from: u64,
    count: u64,
) -> tokio::task::JoinHandle<()> {
    let source = source.to_owned();
    tokio::spawn(async move {
        produce_sequences(&source, topic, partitions, from, count, 50, 100).await;
    })
}

/// The offsets committed for `topic`'s partitions as `via` reports them (KIP-875), once each
/// of `partitions` partitions has one that `done` accepts.
async fn committed_when(
    workers: &[Worker],
    via: &Worker,
    topic: &str,
    partitions: usize,
    done: impl Fn(i64) -> bool,
) -> BTreeMap<i32, i64> {
    converge(
        workers,
        &format!("committed offsets for {partitions} partitions of {topic}"),
        async || {
            let reply = via
                .send("GET", &format!("/connectors/{CONNECTOR}/offsets"), None)
                .await?;
            let offsets = committed_offsets(&reply.body, topic);
            (offsets.len() == partitions && offsets.values().all(|o| done(*o))).then_some(offsets)
        },
    )
    .await
}

/// Asserts that every restart point of a replica resumes right after a source offset that was
/// committed for that partition: nothing older than the last commit is copied again.
async fn assert_resumed_after_commits(
    target: &str,
    topic: &str,
    replicas: &BTreeMap<i32, Replica>,
) {
    let history = committed_history(target, CONNECTOR).await;
    for (partition, replica) in replicas {
        let commits = history
            .get(&(topic.to_owned(), *partition))
            .cloned()
            .unwrap_or_default();
        for restart in &replica.restarts {
            assert!(
                commits.contains(&(*restart as i64 - 1)),
                "partition {partition} was copied again from {restart}, but {} was never \
                 committed (commits: {commits:?})",
                *restart as i64 - 1
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_loses_no_record_and_recopies_only_its_uncommitted_tail() {
    const PARTITIONS: i32 = 4;
    const COUNT: u64 = 3000;
    let [a, b] = Cluster::start_many::<2>().await.unwrap();
    let (source, target) = (a.bootstrap(), b.bootstrap());
    create_topic(&source, "orders", PARTITIONS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut workers = start_workers(dir.path(), &target, 2).await;
    deploy(&workers, &source, &target, "orders", &[]).await;
    let producing = produce_in_background(&source, "orders", PARTITIONS, 0, COUNT);
    committed_when(&workers, &workers[0], "orders", 4, |o| o > 0).await;
    assert!(
        !producing.is_finished(),
        "the records were all written before the kill: nothing is left to fault"
    );

    workers[1].kill();
    let survivor = [workers[0].id()];
    spread_over(&workers[..1], &workers[0], CONNECTOR, 2, &survivor).await;
    producing.await.unwrap();
    committed_when(&workers[..1], &workers[0], "orders", 4, |o| {
        o == COUNT as i64 - 1
    })
    .await;

    let replicas = assert_replicated(&sequences(&target, "A.orders").await, PARTITIONS, COUNT);
    assert_resumed_after_commits(&target, "orders", &replicas).await;
    for (partition, replica) in &replicas {
        // One kill: at most one replay per partition, of what was copied after the last
        // commit (offset.flush.interval.ms is 300 ms; 500 records a second arrive).
        assert!(
            replica.restarts.len() <= 1,
            "partition {partition}: {replica:?}"
        );
        assert!(
            replica.duplicates <= 1000,
            "partition {partition}: {replica:?}"
        );
    }
    eprintln!("after the kill: {replicas:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_connect_cluster_resumes_from_its_committed_offsets() {
    const PARTITIONS: i32 = 4;
    let [a, b] = Cluster::start_many::<2>().await.unwrap();
    let (source, target) = (a.bootstrap(), b.bootstrap());
    create_topic(&source, "orders", PARTITIONS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut workers = start_workers(dir.path(), &target, 2).await;
    deploy(&workers, &source, &target, "orders", &[]).await;
    // Records keep arriving on the source until the cluster runs again.
    let stop_producing = dir.path().join("stop-producing");
    let producing = {
        let (source, stop) = (source.clone(), stop_producing.clone());
        tokio::spawn(async move { produce_until(&source, "orders", PARTITIONS, &stop).await })
    };
    committed_when(&workers, &workers[0], "orders", 4, |o| o > 0).await;

    // One after the other, each once the group is settled: tansu keeps a leader that leaves a
    // forming group as its leader forever (TEST-BROKER.md), which would leave the restarted
    // workers unable to form the group. The first worker's tasks move to the second (a
    // graceful handover) before it stops in turn.
    group_settled(&workers).await;
    assert_eq!(workers[1].terminate().await, Some(0), "{}", logs(&workers));
    let survivor = [workers[0].id()];
    spread_over(&workers[..1], &workers[0], CONNECTOR, 2, &survivor).await;
    group_settled(&workers[..1]).await;
    assert_eq!(workers[0].terminate().await, Some(0), "{}", logs(&workers));
    let stopped_at = sequences(&target, "A.orders").await;
    assert!(
        !producing.is_finished(),
        "the source stopped receiving records before the Connect cluster stopped"
    );

    for worker in &mut workers {
        worker.restart();
    }
    for worker in &workers {
        settled(worker, "GET", "/connectors", None).await;
    }
    converge(&workers, "mm2-source's tasks RUNNING again", async || {
        running_tasks(&workers[0], CONNECTOR, 2).await
    })
    .await;
    std::fs::write(&stop_producing, b"").unwrap();
    let count = producing.await.unwrap();
    committed_when(&workers, &workers[0], "orders", 4, |o| {
        o == count as i64 - 1
    })
    .await;

    let replicas = assert_replicated(&sequences(&target, "A.orders").await, PARTITIONS, count);
    // A graceful stop (and a graceful handover) commits the offsets of every record Kafka
    // acknowledged: nothing is copied twice.
    for (partition, replica) in &replicas {
        assert_eq!(
            (replica.duplicates, replica.restarts.len()),
            (0, 0),
            "partition {partition} (copied before the stop: {} of {count})",
            stopped_at.get(partition).map_or(0, Vec::len)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_source_topic_and_an_unreachable_source_cluster_fail_nothing() {
    const PARTITIONS: i32 = 2;
    let proxy_port = free_port().unwrap();
    let a = Cluster::start_advertising(proxy_port).await.unwrap();
    let proxy = FaultProxy::start(proxy_port, a.listen_port())
        .await
        .unwrap();
    let b = Cluster::start().await.unwrap();
    let (source, target) = (a.bootstrap(), b.bootstrap());
    create_topic(&source, "orders", PARTITIONS).await;
    create_topic(&source, "doomed", PARTITIONS).await;
    produce_sequences(&source, "doomed", PARTITIONS, 0, 500, 500, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let workers = start_workers(dir.path(), &target, 2).await;
    // The connector does not notice the deletion for ten minutes (Java's default refresh): the
    // tasks go on fetching the deleted partitions next to the live ones.
    let slow_refresh = [("refresh.topics.interval.seconds", "600")];
    deploy(&workers, &source, &target, "orders|doomed", &slow_refresh).await;
    let producing = produce_in_background(&source, "orders", PARTITIONS, 0, 1000);
    committed_when(&workers, &workers[0], "doomed", 2, |o| o == 499).await;

    // A topic deleted while the tasks replicate it and the topic next to it.
    delete_topic(&source, "doomed").await;
    producing.await.unwrap();
    committed_when(&workers, &workers[0], "orders", 2, |o| o == 999).await;
    assert_all_running(&workers).await;

    // The source cluster unreachable: every connection reset and new ones refused, until the
    // source clients (the tasks' consumers and offset-sync producers, the connector's admin)
    // have come back many times. Throughout, the workers answer and nothing fails.
    proxy.reject(true);
    proxy.cut_all();
    let refused = proxy.rejected();
    wait_for(
        "the source clients to retry",
        async || {
            assert_all_running(&workers).await;
            (proxy.rejected() >= refused + 60).then_some(())
        },
        || logs(&workers),
    )
    .await;
    // Java's clients warn when a broker cannot be reached; so do the workers' source clients.
    assert!(
        workers.iter().any(|w| w
            .output()
            .lines()
            .any(|l| l.contains("WARN") && l.contains("could not be established"))),
        "no worker warned about the unreachable source cluster\n{}",
        logs(&workers)
    );
    proxy.reject(false);

    produce_sequences(&source, "orders", PARTITIONS, 1000, 500, 500, 0).await;
    committed_when(&workers, &workers[0], "orders", 2, |o| o == 1499).await;
    let replicas = assert_replicated(&sequences(&target, "A.orders").await, PARTITIONS, 1500);
    assert_resumed_after_commits(&target, "orders", &replicas).await;
    assert_replicated(&sequences(&target, "A.doomed").await, PARTITIONS, 500);
    assert_all_running(&workers).await;
}

/// Asserts that both workers answer and report the connector and both tasks RUNNING: a task
/// that cannot reach its source retries, as Java's does, rather than failing.
async fn assert_all_running(workers: &[Worker]) {
    for worker in workers {
        let reply = worker
            .send("GET", &format!("/connectors/{CONNECTOR}/status"), None)
            .await
            .unwrap_or_else(|| panic!("{} does not answer\n{}", worker.id(), logs(workers)));
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.body["connector"]["state"], "RUNNING", "{reply:?}");
        let tasks = reply.body["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 2, "{reply:?}");
        for task in tasks {
            assert_eq!(task["state"], "RUNNING", "{reply:?}\n{}", logs(workers));
        }
    }
}
