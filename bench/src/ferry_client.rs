//! The same benchmarks on Ferry's own client (ferry-kafka), configured with its defaults, which
//! are Java's (acks=all, idempotence on).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::Bytes;
use ferry_kafka::consumer::{Consumer, ConsumerConfig};
use ferry_kafka::producer::{Producer, ProducerRecord};
use ferry_kafka::{ClientConfig, Cluster, TopicPartition};

use crate::{ConsumeArgs, ProduceArgs, payload, report};

/// Delivery futures kept before the oldest is awaited: bounds memory without stalling the
/// producer's batching.
const OUTSTANDING: usize = 100_000;

pub async fn produce(args: &ProduceArgs) -> anyhow::Result<()> {
    let pairs = [("bootstrap.servers", args.bootstrap.as_str())];
    let cluster = Cluster::new(ClientConfig::from_pairs(pairs)?);
    let batch_size = args.batch_size.map(|b| b.to_string());
    let producer_pairs = pairs
        .into_iter()
        .chain(batch_size.as_deref().map(|b| ("batch.size", b)));
    let producer = Producer::new(cluster, producer_pairs)?;
    let values: Vec<Bytes> = (0..1024)
        .map(|i| Bytes::from(payload(i, args.size)))
        .collect();
    let topic = kafka_protocol::protocol::StrBytes::from_string(args.topic.clone());
    let mut pending = VecDeque::with_capacity(OUTSTANDING);
    let start = Instant::now();
    for i in 0..args.records {
        let record = ProducerRecord::new(topic.clone(), values[(i % 1024) as usize].clone())
            .with_partition((i % args.partitions as u64) as i32);
        pending.push_back(producer.send(record).await?);
        if pending.len() >= OUTSTANDING {
            pending.pop_front().expect("not empty").await?;
        }
    }
    for delivery in pending {
        delivery.await?;
    }
    report(
        args.records,
        args.records * args.size as u64,
        start.elapsed(),
    );
    producer.close().await;
    Ok(())
}

pub async fn consume(args: &ConsumeArgs) -> anyhow::Result<()> {
    let wait = args.fetch_wait_ms.map(|w| w.to_string());
    let mut pairs = vec![("bootstrap.servers", args.bootstrap.as_str())];
    if let Some(wait) = &wait {
        pairs.push(("fetch.max.wait.ms", wait.as_str()));
    }
    let cluster = Cluster::new(ClientConfig::from_pairs(pairs.iter().copied())?);
    let consumer = Consumer::new(cluster, ConsumerConfig::from_pairs(pairs.iter().copied())?);
    let partitions: Vec<TopicPartition> = (0..args.partitions)
        .map(|p| TopicPartition::new(args.topic.as_str(), p))
        .collect();
    consumer.assign(partitions.iter().cloned());
    consumer.seek_to_beginning(&partitions)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut start = None;
    while count < args.records {
        let records = consumer.poll(Duration::from_secs(30)).await?;
        if records.is_empty() {
            bail!("no record for 30 s after {count}");
        }
        start.get_or_insert_with(Instant::now);
        for record in &records {
            count += 1;
            bytes += record.value.as_ref().map_or(0, |v| v.len()) as u64;
        }
    }
    report(count, bytes, start.map_or(Duration::ZERO, |s| s.elapsed()));
    Ok(())
}
