//! A Connect cluster of `ferry distributed` processes survives faults without an operator: a
//! worker killed with SIGKILL has its tasks taken over by the others, and workers whose broker
//! connections are cut or stalled reconnect and settle. Throughout, the Verifiable source's
//! sequences have no gaps and committed offsets never move backwards.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cluster::{
    Worker, check_delivery, committed, logs, offsets_past, settled, spread_over, start_workers,
    stop_connector, verifiable,
};
use common::wait_for;
use ferry_testkit::{Cluster, FaultProxy, free_port};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_workers_tasks_move_to_the_survivors() {
    let broker = Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let mut workers = start_workers(dir.path(), &bootstrap, 3).await;
    let body = json!({"name": "flow", "config": verifiable("flow-data", 6, 50)});
    let created = settled(&workers[0], "POST", "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let ids: Vec<String> = workers.iter().map(Worker::id).collect();
    spread_over(&workers, &workers[0], "flow", 6, &ids).await;
    let before = offsets_past(&workers, "flow", 6, &BTreeMap::new()).await;

    workers[2].kill();
    let survivors = &workers[..2];
    spread_over(survivors, &workers[0], "flow", 6, &ids[..2]).await;
    let at_takeover = committed(&workers[0], "flow").await.unwrap();
    offsets_past(survivors, "flow", 6, &at_takeover).await;
    let after = committed(&workers[1], "flow").await.unwrap();
    for (task, seqno) in &before {
        assert!(
            after[task] >= *seqno,
            "task {task}: {before:?} then {after:?}"
        );
    }

    stop_connector(survivors, &workers[1], "flow").await;
    check_delivery(dir.path(), &bootstrap, "flow", "flow-data", 6).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_recover_from_cut_and_stalled_broker_connections() {
    let proxy_port = free_port().unwrap();
    let broker = Cluster::start_advertising(proxy_port).await.unwrap();
    let proxy = FaultProxy::start(proxy_port, broker.listen_port())
        .await
        .unwrap();
    let bootstrap = broker.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let workers = start_workers(dir.path(), &bootstrap, 2).await;
    let body = json!({"name": "flaky", "config": verifiable("flaky-data", 4, 50)});
    let created = settled(&workers[0], "POST", "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let ids: Vec<String> = workers.iter().map(Worker::id).collect();
    spread_over(&workers, &workers[0], "flaky", 4, &ids).await;
    let before = offsets_past(&workers, "flaky", 4, &BTreeMap::new()).await;

    // Every connection reset at once: producers, consumers, the group member.
    proxy.cut_all();
    let after_cut = offsets_past(&workers, "flaky", 4, &before).await;
    spread_over(&workers, &workers[1], "flaky", 4, &ids).await;

    // Nothing passes for longer than the session timeout: the broker expires both members.
    proxy.stall(true);
    tokio::time::sleep(Duration::from_secs(6)).await;
    proxy.stall(false);
    let after_stall = wait_for(
        "offsets read back after the stall",
        async || committed(&workers[0], "flaky").await,
        || logs(&workers),
    )
    .await;
    for (task, seqno) in &after_cut {
        assert!(
            after_stall[task] >= *seqno,
            "{after_cut:?} then {after_stall:?}"
        );
    }
    offsets_past(&workers, "flaky", 4, &after_stall).await;
    spread_over(&workers, &workers[0], "flaky", 4, &ids).await;

    stop_connector(&workers, &workers[0], "flaky").await;
    check_delivery(dir.path(), &bootstrap, "flaky", "flaky-data", 4).await;
}
