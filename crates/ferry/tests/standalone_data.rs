//! What `ferry standalone` writes to Kafka, read back by librdkafka: each converter's bytes, and
//! the Verifiable source's per-task sequences.

mod common;

use std::collections::BTreeMap;

use common::{Standalone, consume_all, rest_port, wait_for, worker_props, write};
use ferry_testkit::Cluster;

#[tokio::test(flavor = "multi_thread")]
async fn converters_write_javas_bytes() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", "hello\nwörld\n");
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_props(&bootstrap, dir.path(), port, &[]),
    );
    let cases = [
        (
            "string",
            "value.converter=org.apache.kafka.connect.storage.StringConverter\n",
        ),
        (
            "json",
            "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n",
        ),
        ("json-schema", "value.converter=JsonConverter\n"),
    ];
    let files: Vec<_> = cases
        .iter()
        .map(|(name, converter)| {
            write(
                dir.path(),
                &format!("{name}.properties"),
                &format!(
                    "name={name}\nconnector.class=FileStreamSource\nfile={}\ntopic=conv-{name}\n{converter}",
                    input.display()
                ),
            )
        })
        .collect();
    let mut files = files;
    files.push(write(
        dir.path(),
        "numbers.properties",
        "name=numbers\nconnector.class=VerifiableSource\ntopic=conv-numbers\nthroughput=20\n\
         key.converter=org.apache.kafka.connect.converters.IntegerConverter\n\
         value.converter=org.apache.kafka.connect.converters.LongConverter\n",
    ));
    let standalone = Standalone::start(dir.path(), port, &worker, &files, "worker.log");
    // Task 0's key (an INT32) and sequence numbers (INT64), big-endian as Java's serializers.
    let numbers = wait_for(
        "three records in conv-numbers",
        async || Some(consume_all(&bootstrap, "conv-numbers", 3).await).filter(|r| r.len() >= 3),
        || standalone.child.log_tail(20),
    )
    .await;
    let bytes = |v: &serde_json::Value| -> Vec<u8> {
        v.as_str().unwrap().chars().map(|c| c as u8).collect()
    };
    let mut seqnos: Vec<i64> = numbers
        .iter()
        .map(|r| {
            assert_eq!(bytes(&r["key"]), [0, 0, 0, 0]);
            i64::from_be_bytes(bytes(&r["value"]).try_into().unwrap())
        })
        .collect();
    seqnos.sort();
    assert_eq!(&seqnos[..3], [0, 1, 2]);
    let expected: BTreeMap<&str, Vec<String>> = BTreeMap::from([
        ("string", vec!["hello".to_owned(), "wörld".to_owned()]),
        (
            "json",
            vec![r#""hello""#.to_owned(), r#""wörld""#.to_owned()],
        ),
        (
            "json-schema",
            vec![
                r#"{"schema":{"type":"string","optional":false},"payload":"hello"}"#.to_owned(),
                r#"{"schema":{"type":"string","optional":false},"payload":"wörld"}"#.to_owned(),
            ],
        ),
    ]);
    for (name, values) in expected {
        let topic = format!("conv-{name}");
        let records = wait_for(
            &format!("two records in {topic}"),
            async || Some(consume_all(&bootstrap, &topic, 2).await).filter(|r| r.len() == 2),
            || standalone.child.log_tail(20),
        )
        .await;
        let got: Vec<String> = records
            .iter()
            .map(|r| {
                let latin1: Vec<u8> = r["value"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .map(|c| c as u8)
                    .collect();
                String::from_utf8(latin1).unwrap()
            })
            .collect();
        assert_eq!(got, values, "{topic}");
        assert!(records.iter().all(|r| r["key"].is_null()), "{records:?}");
    }
    assert_eq!(standalone.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn verifiable_source_with_four_tasks_writes_four_gap_free_sequences() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    let dir = tempfile::tempdir().unwrap();
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_props(&bootstrap, dir.path(), port, &[]),
    );
    let source = write(
        dir.path(),
        "verifiable.json",
        &serde_json::json!({
            "name": "verifiable",
            "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
            "tasks.max": "4",
            "topic": "sequences",
            "throughput": "200",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false"
        })
        .to_string(),
    );
    let standalone = Standalone::start(dir.path(), port, &worker, &[source], "worker.log");
    wait_for(
        "four running tasks",
        async || {
            let (_, body) = standalone.get("/connectors/verifiable/status").await?;
            let tasks = body["tasks"].as_array()?;
            (tasks.len() == 4 && tasks.iter().all(|t| t["state"] == "RUNNING")).then_some(())
        },
        || standalone.child.log_tail(20),
    )
    .await;
    wait_for(
        "records from every task",
        async || {
            let records = consume_all(&bootstrap, "sequences", 200).await;
            let keys: std::collections::BTreeSet<String> = records
                .iter()
                .map(|r| r["key"].as_str().unwrap_or_default().to_owned())
                .collect();
            (records.len() >= 200 && keys.len() == 4).then_some(())
        },
        || standalone.child.log_tail(20),
    )
    .await;
    assert_eq!(standalone.terminate().await, Some(0));

    let records = consume_all(&bootstrap, "sequences", usize::MAX).await;
    let mut sequences: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for record in &records {
        let key = record["key"].as_str().unwrap().to_owned();
        let seqno: i64 = record["value"].as_str().unwrap().parse().unwrap();
        sequences.entry(key).or_default().push(seqno);
    }
    assert_eq!(
        sequences.keys().cloned().collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    for (task, seqnos) in sequences {
        let expected: Vec<i64> = (0..seqnos.len() as i64).collect();
        assert_eq!(
            seqnos, expected,
            "task {task} wrote a gap-free sequence from 0"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transforms_apply_and_topics_regex_subscribes_to_matching_topics() {
    let cluster = Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    common::produce(&bootstrap, "re-a", &["x1"]).await;
    common::produce(&bootstrap, "re-b", &["x2"]).await;
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", "x3\n");
    let output = dir.path().join("out.txt");
    let port = rest_port();
    let worker = write(
        dir.path(),
        "worker.properties",
        &worker_props(&bootstrap, dir.path(), port, &[]),
    );
    let sink = write(
        dir.path(),
        "sink.properties",
        &format!(
            "name=sink\nconnector.class=FileStreamSink\ntopics.regex=re-.*\nfile={}\n",
            output.display()
        ),
    );
    // The source's records are routed by a transformation to a topic the regex matches, which
    // the source creates, likely after the sink subscribed.
    let source = write(
        dir.path(),
        "source.properties",
        &format!(
            "name=source\nconnector.class=FileStreamSource\nfile={}\ntopic=raw\n\
             transforms=route\ntransforms.route.type=org.apache.kafka.connect.transforms.RegexRouter\n\
             transforms.route.regex=raw\ntransforms.route.replacement=re-c\n",
            input.display()
        ),
    );
    let standalone = Standalone::start(dir.path(), port, &worker, &[sink, source], "worker.log");
    wait_for(
        "all three records in the sink file",
        async || {
            let mut lines: Vec<String> = std::fs::read_to_string(&output)
                .ok()?
                .lines()
                .map(str::to_owned)
                .collect();
            lines.sort();
            (lines == ["x1", "x2", "x3"]).then_some(())
        },
        || standalone.child.log_tail(30),
    )
    .await;
    let (_, topics) = standalone.get("/connectors/source/topics").await.unwrap();
    assert_eq!(topics["source"]["topics"], serde_json::json!(["re-c"]));
    // A matching topic created after the sink subscribed is picked up too.
    common::produce(&bootstrap, "re-d", &["x4"]).await;
    wait_for(
        "the record of the new topic in the sink file",
        async || {
            let text = std::fs::read_to_string(&output).ok()?;
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort();
            (lines == ["x1", "x2", "x3", "x4"]).then_some(())
        },
        || standalone.child.log_tail(30),
    )
    .await;
    assert_eq!(standalone.terminate().await, Some(0));
}
