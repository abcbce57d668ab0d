//! Waits until a topic holds a number of records, counted from the high watermarks that Fetch
//! answers carry (the test broker's ListOffsets "latest" undercounts), for replication
//! benchmarks whose copier does not exit by itself.

use std::time::{Duration, Instant};

use anyhow::bail;
use ferry_kafka::consumer::{Consumer, ConsumerConfig};
use ferry_kafka::{ClientConfig, Cluster, TopicPartition};

use crate::WaitRecordsArgs;

/// How often the ends are read: short against the copy times measured, light on the broker.
const POLL: Duration = Duration::from_millis(20);

pub async fn wait_records(args: &WaitRecordsArgs) -> anyhow::Result<()> {
    let pairs = [("bootstrap.servers", args.bootstrap.as_str())];
    let consumer = Consumer::new(
        Cluster::new(ClientConfig::from_pairs(pairs)?),
        ConsumerConfig::from_pairs(pairs)?,
    );
    let partitions: Vec<TopicPartition> = (0..args.partitions)
        .map(|p| TopicPartition::new(args.topic.as_str(), p))
        .collect();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.timeout_s);
    let mut last = 0;
    loop {
        // The topic may not exist yet (the copier creates it): errors only mean "not yet".
        if let Ok(ends) = consumer.end_offsets_from_fetch(&partitions).await {
            last = ends.values().map(|&e| e.max(0) as u64).sum();
            if last >= args.records {
                println!(
                    "{}",
                    serde_json::json!({"records": last, "seconds": start.elapsed().as_secs_f64()})
                );
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{last} of {} records after {} s",
                args.records,
                args.timeout_s
            );
        }
        tokio::time::sleep(POLL).await;
    }
}
