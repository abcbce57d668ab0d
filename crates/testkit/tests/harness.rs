//! Proves the test harness: independent brokers start in parallel, and the independent client
//! (librdkafka through confluent-kafka) writes to one and reads the same bytes back from it, while
//! the other cluster never sees the topic.

use ferry_testkit::{Cluster, python};

const PRODUCE_AND_READ: &str = r#"
import sys
from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": bootstrap})
for i in range(count):
    p.produce(topic, key=b"k%d" % i, value=b"value-%d" % i, partition=0, headers=[("h", b"%d" % i)])
assert p.flush(30) == 0, "records left unsent"

c = Consumer({"bootstrap.servers": bootstrap, "group.id": "harness", "enable.auto.commit": False})
c.assign([TopicPartition(topic, 0, 0)])
seen = []
while len(seen) < count:
    m = c.poll(10)
    assert m is not None, "timed out after %d records" % len(seen)
    assert m.error() is None, m.error()
    seen.append(m)
c.close()
for i, m in enumerate(seen):
    assert m.offset() == i, (i, m.offset())
    assert m.key() == b"k%d" % i and m.value() == b"value-%d" % i, (m.key(), m.value())
    assert m.headers() == [("h", b"%d" % i)], m.headers()
print(len(seen))
"#;

const LIST_TOPICS: &str = r#"
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=10)
print(",".join(sorted(md.topics)))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_are_independent_and_round_trip_records() -> anyhow::Result<()> {
    let [a, b] = Cluster::start_many::<2>().await?;
    assert_ne!(a.bootstrap(), b.bootstrap());

    let args = [a.bootstrap(), "harness-topic".to_owned(), "100".to_owned()];
    let read = tokio::task::spawn_blocking(move || python(PRODUCE_AND_READ, &args)).await??;
    assert_eq!(read.trim(), "100", "broker log:\n{}", a.log_tail(20));

    let on_a = python(LIST_TOPICS, &[a.bootstrap()])?;
    let on_b = python(LIST_TOPICS, &[b.bootstrap()])?;
    assert!(
        on_a.split(',').any(|t| t.trim() == "harness-topic"),
        "{on_a}"
    );
    assert!(
        !on_b.split(',').any(|t| t.trim() == "harness-topic"),
        "{on_b}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_cluster_stops_answering() -> anyhow::Result<()> {
    let cluster = Cluster::start().await?;
    let port = cluster.listen_port();
    drop(cluster);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "broker still listening on {port} after drop"
    );
    Ok(())
}
