//! A rolling restart of a Connect cluster of `ferry distributed` processes: each worker in turn
//! stops gracefully on SIGTERM and starts again, and no task loses its source offsets.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::BTreeMap;

use cluster::{
    Worker, check_delivery, committed, group_settled, offsets_past, settled, spread_over,
    start_workers, stop_connector, verifiable,
};
use ferry_testkit::Cluster;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_restart_keeps_every_tasks_offsets() {
    let broker = Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let mut workers = start_workers(dir.path(), &bootstrap, 3).await;
    let body = json!({"name": "roll", "config": verifiable("roll-data", 6, 50)});
    let created = settled(&workers[0], "POST", "/connectors", Some(&body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let ids: Vec<String> = workers.iter().map(Worker::id).collect();
    spread_over(&workers, &workers[0], "roll", 6, &ids).await;
    let mut floor = offsets_past(&workers, "roll", 6, &BTreeMap::new()).await;

    for i in 0..workers.len() {
        group_settled(&workers).await;
        let code = workers[i].terminate().await;
        assert_eq!(code, Some(0), "{}", workers[i].log());
        workers[i].restart();
        settled(&workers[i], "GET", "/connectors", None).await;
        let other = &workers[(i + 1) % workers.len()];
        spread_over(&workers, other, "roll", 6, &ids).await;
        let now = offsets_past(&workers, "roll", 6, &floor).await;
        for (task, seqno) in &floor {
            assert!(now[task] > *seqno, "task {task}: {floor:?} then {now:?}");
        }
        floor = now;
    }
    let last = committed(&workers[0], "roll").await.unwrap();
    assert_eq!(last.len(), 6, "{last:?}");

    stop_connector(&workers, &workers[0], "roll").await;
    check_delivery(dir.path(), &bootstrap, "roll", "roll-data", 6).await;
}
