//! `ferry mm2 format` and `ferry mm2 translate-offsets` against a real broker. The records are
//! written by librdkafka with bytes packed in Python from Java's layouts, independently of
//! Ferry's encoders.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_kafka::admin::{NewTopic, OffsetAndMetadata};
use ferry_kafka::{Admin, ClientConfig, Cluster};
use ferry_mirror::records::TopicPartition;
use ferry_mirror::tools::{
    FormatOptions, FormatSummary, RecordKind, ToolError, TranslateOptions, format, print_offsets,
    translate_offsets,
};

/// Packs each record spec `KIND|PARTITION|FIELDS...` in Java's byte layout and produces it:
/// `hb|p|source|target|timestamp`, `cp|p|group|topic|partition|upstream|downstream|metadata`,
/// `os|p|topic|partition|upstream|downstream`, `raw|p|keyhex|valuehex`, `null|p` (null value).
const PRODUCE: &str = r#"
import struct, sys
from confluent_kafka import Producer

def string(s):
    b = s.encode('utf-8')
    return struct.pack('>h', len(b)) + b

def encode(kind, f):
    if kind == 'hb':
        return string(f[0]) + string(f[1]), struct.pack('>hq', 0, int(f[2]))
    if kind == 'cp':
        key = string(f[0]) + string(f[1]) + struct.pack('>i', int(f[2]))
        return key, struct.pack('>hqq', 0, int(f[3]), int(f[4])) + string(f[5])
    if kind == 'os':
        return string(f[0]) + struct.pack('>i', int(f[1])), struct.pack('>qq', int(f[2]), int(f[3]))
    if kind == 'raw':
        return bytes.fromhex(f[0]), bytes.fromhex(f[1])
    if kind == 'null':
        return b'k', None
    raise ValueError(kind)

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
for spec in sys.argv[3:]:
    kind, partition, *fields = spec.split('|')
    key, value = encode(kind, fields)
    producer.produce(topic, key=key, value=value, partition=int(partition))
assert producer.flush(30) == 0
"#;

async fn produce(bootstrap: &str, topic: &str, specs: &[&str]) {
    let mut args = vec![bootstrap.to_owned(), topic.to_owned()];
    args.extend(specs.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || ferry_testkit::python(PRODUCE, &args))
        .await
        .unwrap()
        .unwrap();
}

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin = Admin::new(Cluster::new(ClientConfig::new(bootstrap).unwrap()));
    let created = admin
        .create_topics(&[NewTopic::new(topic, partitions, 1)])
        .await
        .unwrap();
    created[topic].as_ref().unwrap();
}

/// Options reading `kind` from the beginning and stopping when idle, with short fetch waits.
fn reading(kind: RecordKind, bootstrap: &str) -> FormatOptions {
    let mut options = FormatOptions::new(kind, bootstrap);
    options.from_beginning = true;
    options.idle_timeout = Some(Duration::from_secs(3));
    options.properties = vec![("fetch.max.wait.ms".into(), "100".into())];
    options
}

/// Runs the formatter, failing the test if it does not stop on its own.
async fn run(options: &FormatOptions) -> (Result<FormatSummary, ToolError>, String, String) {
    let (mut out, mut diagnostics) = (Vec::new(), Vec::new());
    let result = tokio::time::timeout(
        Duration::from_secs(120),
        format(options, &mut out, &mut diagnostics),
    )
    .await
    .expect("the formatter did not stop");
    let text = |b| String::from_utf8(b).unwrap();
    (result, text(out), text(diagnostics))
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[tokio::test]
async fn format_prints_every_kind_as_javas_formatters() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "heartbeats", 2).await;
    create_topic(&b, "A.checkpoints.internal", 1).await;
    create_topic(&b, "mm2-offset-syncs.B.internal", 1).await;
    produce(
        &b,
        "heartbeats",
        &[
            "hb|0|A|B|1700000000000",
            "hb|1|C|B|-1",
            "hb|0|A|B|1700000000002",
        ],
    )
    .await;
    produce(
        &b,
        "A.checkpoints.internal",
        &[
            "cp|0|app|A.orders|3|100|90|",
            "cp|0|grüppe|A.orders|0|5|4|meta data",
        ],
    )
    .await;
    produce(&b, "mm2-offset-syncs.B.internal", &["os|0|orders|2|100|90"]).await;

    // Heartbeats default to the `heartbeats` topic; partitions interleave, each in order.
    let (result, out, diagnostics) = run(&reading(RecordKind::Heartbeats, &b)).await;
    assert_eq!(
        result.unwrap(),
        FormatSummary {
            printed: 3,
            skipped: 0
        }
    );
    assert_eq!(diagnostics, "");
    let first = "Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=1700000000000}";
    let third = "Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=1700000000002}";
    let other = "Heartbeat{sourceClusterAlias=C, targetClusterAlias=B, timestamp=-1}";
    let printed = lines(&out);
    let partition_0: Vec<_> = printed.iter().filter(|l| **l != other).copied().collect();
    assert_eq!(partition_0, [first, third]);
    assert!(printed.contains(&other), "{out}");
    assert!(out.ends_with('\n'));

    // The cluster's only checkpoints topic is the default.
    let (result, out, _) = run(&reading(RecordKind::Checkpoints, &b)).await;
    assert_eq!(result.unwrap().printed, 2);
    assert_eq!(
        out,
        "Checkpoint{consumerGroupId=app, topicPartition=A.orders-3, upstreamOffset=100, \
         downstreamOffset=90, metadata=}\n\
         Checkpoint{consumerGroupId=grüppe, topicPartition=A.orders-0, upstreamOffset=5, \
         downstreamOffset=4, metadata=meta data}\n"
    );

    // The target alias names the offset-syncs topic.
    let mut options = reading(RecordKind::OffsetSyncs, &b);
    options.cluster_alias = Some("B".into());
    let (result, out, _) = run(&options).await;
    assert_eq!(result.unwrap().printed, 1);
    assert_eq!(
        out,
        "OffsetSync{topicPartition=orders-2, upstreamOffset=100, downstreamOffset=90}\n"
    );

    let mut options = reading(RecordKind::OffsetSyncs, &b);
    options.topic = Some("missing".into());
    let (result, out, _) = run(&options).await;
    assert!(matches!(result, Err(ToolError::UnknownTopic(t)) if t == "missing"));
    assert_eq!(out, "");
}

#[tokio::test]
async fn format_stops_after_max_messages() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "heartbeats", 1).await;
    produce(
        &b,
        "heartbeats",
        &[
            "hb|0|A|B|1",
            "hb|0|A|B|2",
            "hb|0|A|B|3",
            "hb|0|A|B|4",
            "hb|0|A|B|5",
        ],
    )
    .await;
    let mut options = reading(RecordKind::Heartbeats, &b);
    options.idle_timeout = None;
    options.max_messages = Some(3);
    let (result, out, _) = run(&options).await;
    assert_eq!(
        result.unwrap(),
        FormatSummary {
            printed: 3,
            skipped: 0
        }
    );
    let expected: Vec<String> = (1..=3)
        .map(|t| format!("Heartbeat{{sourceClusterAlias=A, targetClusterAlias=B, timestamp={t}}}"))
        .collect();
    assert_eq!(lines(&out), expected);
}

/// An output both the test and the formatter's task write to.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn format_starts_at_the_end_by_default_and_stops_when_idle() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "heartbeats", 1).await;
    produce(&b, "heartbeats", &["hb|0|old|B|1", "hb|0|old|B|2"]).await;

    let mut options = reading(RecordKind::Heartbeats, &b);
    options.from_beginning = false;
    options.idle_timeout = Some(Duration::from_secs(5));
    let out = SharedBuf::default();
    let task = tokio::spawn({
        let mut out = out.clone();
        async move { format(&options, &mut out, &mut io::sink()).await }
    });
    // The formatter's start position is not observable: write new heartbeats until one shows.
    let mut sent = 0;
    while out.text().is_empty() && !task.is_finished() {
        sent += 1;
        let spec = format!("hb|0|new|B|{sent}");
        produce(&b, "heartbeats", &[spec.as_str()]).await;
        for _ in 0..20 {
            if !out.text().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let summary = tokio::time::timeout(Duration::from_secs(120), task)
        .await
        .expect("the formatter did not stop when idle")
        .unwrap()
        .unwrap();
    let text = out.text();
    let printed = lines(&text);
    assert!(
        !printed.is_empty(),
        "nothing printed after {sent} heartbeats"
    );
    assert_eq!(summary.printed as usize, printed.len());
    for line in &printed {
        assert!(
            line.starts_with("Heartbeat{sourceClusterAlias=new,"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn format_reports_and_skips_records_that_do_not_decode() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "bad-checkpoints", 1).await;
    produce(
        &b,
        "bad-checkpoints",
        &[
            "cp|0|g|t|0|1|1|",
            "raw|0|0001|0000",
            "null|0",
            "cp|0|g|t|0|2|2|",
        ],
    )
    .await;
    let mut options = reading(RecordKind::Checkpoints, &b);
    options.topic = Some("bad-checkpoints".into());
    let (result, out, diagnostics) = run(&options).await;
    assert_eq!(
        result.unwrap(),
        FormatSummary {
            printed: 2,
            skipped: 2
        }
    );
    assert_eq!(
        out,
        "Checkpoint{consumerGroupId=g, topicPartition=t-0, upstreamOffset=1, downstreamOffset=1, \
         metadata=}\n\
         Checkpoint{consumerGroupId=g, topicPartition=t-0, upstreamOffset=2, downstreamOffset=2, \
         metadata=}\n"
    );
    let reported = lines(&diagnostics);
    assert_eq!(reported.len(), 2, "{diagnostics}");
    assert!(
        reported[0].starts_with("skipping record bad-checkpoints-0 at offset 1: "),
        "{diagnostics}"
    );
    assert!(reported[0].contains("upstreamOffset"), "{diagnostics}");
    assert_eq!(
        reported[1],
        "skipping record bad-checkpoints-0 at offset 2: the value is null"
    );
}

fn offset(offset: i64, metadata: &str) -> OffsetAndMetadata {
    OffsetAndMetadata {
        offset,
        leader_epoch: None,
        metadata: metadata.into(),
    }
}

#[tokio::test]
async fn translate_offsets_keeps_the_latest_checkpoint_per_partition_of_the_group() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "A.checkpoints.internal", 1).await;
    produce(
        &b,
        "A.checkpoints.internal",
        &[
            "cp|0|g1|A.orders|0|10|8|",
            "cp|0|g1|A.orders|1|5|5|",
            "cp|0|g2|A.orders|0|99|97|",
            "raw|0|00|00",
            "cp|0|g1|A.other|0|7|6|m",
            "cp|0|g1|A.orders|0|30|28|latest",
        ],
    )
    .await;
    let translate = |group: &str| {
        let mut options = TranslateOptions::new(b.clone(), "A", group);
        options.timeout = Duration::from_secs(60);
        async move { translate_offsets(&options).await.unwrap() }
    };

    let g1 = translate("g1").await;
    assert_eq!(
        g1,
        BTreeMap::from([
            (TopicPartition::new("A.orders", 0), offset(28, "latest")),
            (TopicPartition::new("A.orders", 1), offset(5, "")),
            (TopicPartition::new("A.other", 0), offset(6, "m")),
        ])
    );
    let mut printed = Vec::new();
    print_offsets(&g1, &mut printed).unwrap();
    assert_eq!(
        String::from_utf8(printed).unwrap(),
        "A.orders 0 28\nA.orders 1 5\nA.other 0 6\n"
    );
    assert_eq!(
        translate("g2").await,
        BTreeMap::from([(TopicPartition::new("A.orders", 0), offset(97, ""))])
    );
    assert_eq!(translate("nobody").await, BTreeMap::new());
}

#[tokio::test]
async fn translate_offsets_names_the_checkpoints_topic_by_the_policy() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let b = broker.bootstrap();
    create_topic(&b, "A_checkpoints_internal", 1).await;
    produce(&b, "A_checkpoints_internal", &["cp|0|g|A_t|2|4|3|"]).await;

    let mut options = TranslateOptions::new(b.clone(), "A", "g");
    options.properties = vec![
        ("replication.policy.separator".into(), "_".into()),
        ("consumer.fetch.max.wait.ms".into(), "100".into()),
    ];
    assert_eq!(
        translate_offsets(&options).await.unwrap(),
        BTreeMap::from([(TopicPartition::new("A_t", 2), offset(3, ""))])
    );

    options.source_cluster_alias = "Z".into();
    match translate_offsets(&options).await {
        Err(ToolError::UnknownTopic(topic)) => assert_eq!(topic, "Z_checkpoints_internal"),
        other => panic!("{other:?}"),
    }
    // A broker that accepts connections and never answers: nothing can be read before the
    // deadline, whatever the machine's speed (a zero timeout would race the first poll).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let answering = std::mem::replace(
        &mut options.bootstrap_servers,
        silent.local_addr().unwrap().to_string(),
    );
    options.timeout = Duration::from_millis(300);
    match translate_offsets(&options).await {
        Err(ToolError::Timeout { topic, after }) => {
            assert_eq!(
                (topic.as_str(), after),
                ("Z_checkpoints_internal", Duration::from_millis(300))
            );
        }
        other => panic!("{other:?}"),
    }
    options.bootstrap_servers = answering;
    options.properties = vec![("replication.policy.class".into(), "Nope".into())];
    assert!(matches!(
        translate_offsets(&options).await,
        Err(ToolError::Policy(_))
    ));
}
