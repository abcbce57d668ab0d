//! TEMPORARY scratch measurement; deleted before the report.
mod producer_support;
use bytes::Bytes;
use ferry_kafka::producer::ProducerRecord;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch_throughput() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    producer_support::create_topic(&bootstrap, "bench", 3).await;
    let n: u32 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let codec = std::env::var("CODEC").unwrap_or("none".into());
    let producer = producer_support::producer(
        &bootstrap,
        &[
            ("compression.type", codec.as_str()),
            (
                "batch.size",
                std::env::var("BATCH").unwrap_or("65536".into()).as_str(),
            ),
            ("linger.ms", "5"),
        ],
    );
    let value = Bytes::from(vec![b'x'; 512]);
    let cpu0 = cpu();
    let t = Instant::now();
    for i in 0..n {
        let r = ProducerRecord {
            topic: "bench".into(),
            partition: Some((i % 3) as i32),
            value: Some(value.clone()),
            ..Default::default()
        };
        drop(producer.send(r).await.unwrap());
    }
    producer.flush().await;
    let el = t.elapsed();
    let cpu1 = cpu();
    eprintln!(
        "ferry: {n} x 512B in {el:?} = {:.0} rec/s, client cpu {:.2}s",
        n as f64 / el.as_secs_f64(),
        cpu1 - cpu0
    );
    producer.close().await;
    let script = r#"
import sys, time, resource
from confluent_kafka import Producer
b, n = sys.argv[1], int(sys.argv[2])
p = Producer({'bootstrap.servers': b, 'linger.ms': 5, 'batch.size': 65536, 'compression.type': sys.argv[3]})
v = b'x' * 512
r0 = resource.getrusage(resource.RUSAGE_SELF)
t = time.time()
for i in range(n):
    while True:
        try:
            p.produce('bench', v, partition=i % 3); break
        except BufferError:
            p.poll(0.01)
p.flush()
el = time.time() - t
r1 = resource.getrusage(resource.RUSAGE_SELF)
print("rdkafka: %d in %.2fs = %.0f rec/s cpu %.2fs" % (n, el, n / el, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)))
"#;
    let out = tokio::task::spawn_blocking(move || {
        ferry_testkit::python(script, &[bootstrap, n.to_string(), codec])
    })
    .await
    .unwrap()
    .unwrap();
    eprintln!("{out}");
}

fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}
