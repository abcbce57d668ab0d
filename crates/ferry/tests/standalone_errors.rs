//! Failures in `ferry standalone`: failed tasks are FAILED with their trace while the worker
//! keeps serving, and tolerated bad records go to the dead letter queue with Java's context
//! headers.

mod common;

use common::{Standalone, consume_all, produce, rest_port, wait_for, worker_props, write};
use ferry_testkit::Cluster;
use serde_json::Value;

async fn task_state(worker: &Standalone, connector: &str) -> Option<Value> {
    let (status, body) = worker
        .get(&format!("/connectors/{connector}/status"))
        .await?;
    (status == 200).then(|| body["tasks"][0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_tasks_show_their_trace_and_bad_records_go_to_the_dlq() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    produce(
        &bootstrap,
        "events",
        &[r#"{"a":1}"#, "not json", r#"{"a":2}"#],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_props(&bootstrap, dir.path(), port, &[]),
    );
    let json = "value.converter=JsonConverter\nvalue.converter.schemas.enable=false\n";
    let bad_file = write(
        dir.path(),
        "bad-file.properties",
        "name=bad-file\nconnector.class=FileStreamSink\ntopics=events\nfile=/nonexistent/dir/out.txt\n",
    );
    let strict = write(
        dir.path(),
        "strict.properties",
        &format!(
            "name=strict\nconnector.class=FileStreamSink\ntopics=events\nfile={}\n{json}",
            dir.path().join("strict.txt").display()
        ),
    );
    let tolerant_out = dir.path().join("tolerant.txt");
    let tolerant = write(
        dir.path(),
        "tolerant.properties",
        &format!(
            "name=tolerant\nconnector.class=FileStreamSink\ntopics=events\nfile={}\n{json}\
             errors.tolerance=all\nerrors.log.enable=true\nerrors.log.include.messages=true\n\
             errors.deadletterqueue.topic.name=dlq\nerrors.deadletterqueue.topic.replication.factor=1\n\
             errors.deadletterqueue.context.headers.enable=true\n",
            tolerant_out.display()
        ),
    );
    let standalone = Standalone::start(
        dir.path(),
        port,
        &worker,
        &[bad_file, strict, tolerant],
        "worker.log",
    );
    let log = || standalone.child.log_tail(30);

    let failed = wait_for(
        "bad-file's task to fail",
        async || {
            task_state(&standalone, "bad-file")
                .await
                .filter(|t| t["state"] == "FAILED")
        },
        log,
    )
    .await;
    let trace = failed["trace"].as_str().unwrap();
    assert!(trace.contains("Couldn't find or create file"), "{trace}");
    assert_eq!(failed["worker_id"], format!("127.0.0.1:{port}"));

    let failed = wait_for(
        "strict's task to fail on the bad record",
        async || {
            task_state(&standalone, "strict")
                .await
                .filter(|t| t["state"] == "FAILED")
        },
        log,
    )
    .await;
    let trace = failed["trace"].as_str().unwrap();
    assert!(
        trace.contains("Tolerance exceeded in error handler"),
        "{trace}"
    );
    assert!(trace.contains("DataException"), "{trace}");

    wait_for(
        "the tolerant sink to write the two good records",
        async || (std::fs::read_to_string(&tolerant_out).ok()?.lines().count() == 2).then_some(()),
        log,
    )
    .await;
    assert_eq!(
        task_state(&standalone, "tolerant").await.unwrap()["state"],
        "RUNNING"
    );
    let (status, names) = standalone.get("/connectors").await.unwrap();
    assert_eq!(status, 200, "the worker keeps serving");
    assert_eq!(names.as_array().unwrap().len(), 3);

    let dlq = consume_all(&bootstrap, "dlq", 1).await;
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert_eq!(dlq[0]["value"], "not json");
    let headers: std::collections::HashMap<String, String> = dlq[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_owned(),
                h[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let events = consume_all(&bootstrap, "events", 3).await;
    let bad = events.iter().find(|r| r["value"] == "not json").unwrap();
    let (partition, offset) = (bad["partition"].to_string(), bad["offset"].to_string());
    for (name, value) in [
        ("__connect.errors.topic", "events"),
        ("__connect.errors.partition", partition.as_str()),
        ("__connect.errors.offset", offset.as_str()),
        ("__connect.errors.connector.name", "tolerant"),
        ("__connect.errors.task.id", "0"),
        ("__connect.errors.stage", "VALUE_CONVERTER"),
        (
            "__connect.errors.class.name",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        (
            "__connect.errors.exception.class.name",
            "org.apache.kafka.connect.errors.DataException",
        ),
    ] {
        assert_eq!(
            headers.get(name).map(String::as_str),
            Some(value),
            "{name} in {headers:?}"
        );
    }
    assert!(headers.contains_key("__connect.errors.exception.message"));
    assert!(headers.contains_key("__connect.errors.exception.stacktrace"));
    assert_eq!(standalone.terminate().await, Some(0));
}
