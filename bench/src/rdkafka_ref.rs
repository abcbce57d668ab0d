//! The librdkafka reference programs, written as a user would with the rdkafka crate's base
//! (callback-free, poll-driven) clients, configured like Ferry's defaults (acks=all, idempotence,
//! 32 MiB of buffered records).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::{ConsumeArgs, PipeArgs, ProduceArgs, payload, report};

fn producer(bootstrap: &str, batch_size: Option<usize>) -> anyhow::Result<BaseProducer> {
    let mut config = ClientConfig::new();
    if let Some(bytes) = batch_size {
        config.set("batch.size", bytes.to_string());
    }
    Ok(config
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        // The same memory bound as Java's (and Ferry's) `buffer.memory` default, 32 MiB:
        // librdkafka's own (1 GiB) would let the reference buffer a whole run in memory.
        .set("queue.buffering.max.kbytes", "32768")
        .set("queue.buffering.max.messages", "1000000")
        .create()?)
}

fn consumer(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    fetch_wait_ms: Option<u32>,
) -> anyhow::Result<BaseConsumer> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "ferry-bench")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    if let Some(wait) = fetch_wait_ms {
        config.set("fetch.wait.max.ms", wait.to_string());
    }
    let consumer: BaseConsumer = config.create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    Ok(consumer)
}

/// Sends one record, waiting for queue space as a user's loop would.
fn send(producer: &BaseProducer, mut record: BaseRecord<'_, [u8], [u8]>) -> anyhow::Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => bail!("produce failed: {e}"),
        }
    }
}

pub fn produce(args: &ProduceArgs) -> anyhow::Result<()> {
    let producer = producer(&args.bootstrap, args.batch_size)?;
    let values: Vec<Vec<u8>> = (0..1024).map(|i| payload(i, args.size)).collect();
    let start = Instant::now();
    for i in 0..args.records {
        let value = &values[(i % 1024) as usize];
        let partition = (i % args.partitions as u64) as i32;
        send(
            &producer,
            BaseRecord::to(&args.topic)
                .payload(value.as_slice())
                .partition(partition),
        )?;
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(120)).context("flush")?;
    report(
        args.records,
        args.records * args.size as u64,
        start.elapsed(),
    );
    Ok(())
}

pub fn consume(args: &ConsumeArgs) -> anyhow::Result<()> {
    let consumer = consumer(
        &args.bootstrap,
        &args.topic,
        args.partitions,
        args.fetch_wait_ms,
    )?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut start = None;
    while count < args.records {
        let Some(message) = consumer.poll(Duration::from_secs(30)) else {
            bail!("no record for 30 s after {count}");
        };
        let message = message?;
        start.get_or_insert_with(Instant::now);
        count += 1;
        bytes += message.payload().map_or(0, |p| p.len()) as u64;
    }
    report(count, bytes, start.map_or(Duration::ZERO, |s| s.elapsed()));
    Ok(())
}

pub fn pipe(args: &PipeArgs) -> anyhow::Result<()> {
    let consumer = consumer(
        &args.source,
        &args.topic,
        args.partitions,
        args.fetch_wait_ms,
    )?;
    let producer = producer(&args.target, None)?;
    let target_topic = args.target_topic.as_deref().unwrap_or(&args.topic);
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut start = None;
    while count < args.records {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            producer.poll(Duration::ZERO);
            if start.is_some_and(|s: Instant| s.elapsed() > Duration::from_secs(300)) {
                bail!("stalled after {count} records");
            }
            continue;
        };
        let message = message?;
        start.get_or_insert_with(Instant::now);
        let mut record = BaseRecord::to(target_topic).partition(message.partition());
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(value) = message.payload() {
            record = record.payload(value);
            bytes += value.len() as u64;
        }
        if let Some(ts) = message.timestamp().to_millis() {
            record = record.timestamp(ts);
        }
        if let Some(headers) = message.headers() {
            let mut owned = OwnedHeaders::new_with_capacity(headers.count());
            for h in headers.iter() {
                owned = owned.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
            record = record.headers(owned);
        }
        send(&producer, record)?;
        producer.poll(Duration::ZERO);
        count += 1;
    }
    producer.flush(Duration::from_secs(120)).context("flush")?;
    report(count, bytes, start.map_or(Duration::ZERO, |s| s.elapsed()));
    Ok(())
}
