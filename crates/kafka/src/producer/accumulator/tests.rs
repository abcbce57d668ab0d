//! The accumulator's bookkeeping: sequences, ordered retries, producer id resets, expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::cluster::PartitionMetadata;
use crate::producer::config::CompressionLevels;

fn metadata() -> Metadata {
    let topic = TopicMetadata {
        name: "t".into(),
        id: [0; 16],
        is_internal: false,
        error: None,
        partitions: (0..2)
            .map(|partition| PartitionMetadata {
                partition,
                leader: 1,
                leader_epoch: 0,
                replicas: vec![1],
                isr: vec![1],
                error: None,
            })
            .collect(),
    };
    Metadata {
        cluster_id: None,
        controller_id: 1,
        brokers: BTreeMap::new(),
        topics: HashMap::from([("t".to_owned(), topic)]),
        fetched_at: Instant::now(),
    }
}

/// One record per batch, sent at once, retried without waiting.
fn config() -> ProducerConfig {
    ProducerConfig {
        batch_size: 0,
        linger: Duration::ZERO,
        ..ProducerConfig::default()
    }
}

fn state(meta: &Metadata) -> State {
    let mut state = State::default();
    state.update_topic(&StrBytes::from_static_str("t"), &meta.topics["t"]);
    state.producer = Some((7, 0));
    state
}

fn send(state: &mut State, n: u8) -> DeliveryFuture {
    let record = ProducerRecord::new("t", Bytes::from(vec![n])).with_partition(0);
    state.append(&config(), &record, 0, 10).unwrap().0
}

/// Drains once and returns the batches sent, with their base sequences.
fn drain(state: &mut State, meta: &Metadata) -> Vec<Sent> {
    let drained = state.drain(
        &config(),
        meta,
        Instant::now() + Duration::from_secs(1),
        true,
    );
    let sent: Vec<Sent> = drained.requests.into_iter().flat_map(|(_, b)| b).collect();
    for _ in &sent {
        state.request_done(1);
    }
    sent
}

fn complete(state: &mut State, sent: Sent, outcome: Result<(i64, i64)>) {
    complete_with(state, &config(), sent, outcome);
}

/// Books one batch's outcome; returns the bytes of `buffer.memory` released.
fn complete_with(
    state: &mut State,
    config: &ProducerConfig,
    sent: Sent,
    outcome: Result<(i64, i64)>,
) -> usize {
    let backoff = ExponentialBackoff::new(Duration::ZERO, Duration::ZERO);
    let mut completed = Completed::default();
    state.complete(config, &backoff, sent, outcome, &mut completed);
    completed.released
}

fn kafka(code: KafkaCode) -> Result<(i64, i64)> {
    Err(Error::Kafka {
        code,
        message: None,
    })
}

fn sequences(sent: &[Sent]) -> Vec<i32> {
    sent.iter().map(|s| s.stamp.base_sequence).collect()
}

#[tokio::test]
async fn failed_batches_are_retried_alone_and_in_sequence_order() {
    let meta = metadata();
    let mut state = state(&meta);
    let futures: Vec<_> = (0..3).map(|n| send(&mut state, n)).collect();
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        in_flight.extend(drain(&mut state, &meta));
    }
    assert_eq!(sequences(&in_flight), [0, 1, 2]);
    let mut in_flight = in_flight.into_iter();
    complete(
        &mut state,
        in_flight.next().unwrap(),
        kafka(KafkaCode::NotLeaderOrFollower),
    );
    // The broker saw a gap: retriable because batch 0 is being retried.
    complete(
        &mut state,
        in_flight.next().unwrap(),
        kafka(KafkaCode::OutOfOrderSequenceNumber),
    );
    complete(
        &mut state,
        in_flight.next().unwrap(),
        Err(Error::Disconnected {
            broker: "b".into(),
            reason: "cut".into(),
        }),
    );
    assert!(state.metadata_wanted);
    for (expected, offset) in (0..3).zip(100..) {
        let sent = drain(&mut state, &meta);
        assert_eq!(sequences(&sent), [expected], "one retried batch at a time");
        assert!(drain(&mut state, &meta).is_empty());
        let sent = sent.into_iter().next().unwrap();
        assert_eq!(sent.batch.attempts, 1);
        let outcome = if expected == 1 {
            kafka(KafkaCode::DuplicateSequenceNumber)
        } else {
            Ok((offset, -1))
        };
        complete(&mut state, sent, outcome);
    }
    let mut results = Vec::new();
    for future in futures {
        results.push(future.await.unwrap().offset);
    }
    assert_eq!(results, [100, -1, 102]);
    assert!(state.incomplete.is_empty());
}

#[tokio::test]
async fn a_lost_sequence_restarts_sequences_under_a_new_producer_id() {
    let meta = metadata();
    let mut state = state(&meta);
    let first = send(&mut state, 0);
    let second = send(&mut state, 1);
    let mut in_flight: Vec<Sent> = drain(&mut state, &meta);
    in_flight.extend(drain(&mut state, &meta));
    let mut in_flight = in_flight.into_iter();
    // Out of order for the very sequence the broker expects: not fixable by retrying.
    complete(
        &mut state,
        in_flight.next().unwrap(),
        kafka(KafkaCode::OutOfOrderSequenceNumber),
    );
    complete(
        &mut state,
        in_flight.next().unwrap(),
        kafka(KafkaCode::OutOfOrderSequenceNumber),
    );
    let drained = state.drain(
        &config(),
        &meta,
        Instant::now() + Duration::from_secs(1),
        true,
    );
    assert!(drained.requests.is_empty() && drained.need_producer_id);
    state.producer = Some((8, 0));
    let sent = drain(&mut state, &meta);
    assert_eq!(sent[0].stamp.producer_id, 8);
    assert_eq!(sequences(&sent), [0]);
    complete(&mut state, sent.into_iter().next().unwrap(), Ok((5, -1)));
    assert!(matches!(
        first.await.unwrap_err().kafka_code(),
        Some(KafkaCode::OutOfOrderSequenceNumber)
    ));
    assert_eq!(second.await.unwrap().offset, 5);
}

#[tokio::test]
async fn batches_expire_after_the_delivery_timeout() {
    let meta = metadata();
    let mut state = state(&meta);
    let record = ProducerRecord::new("t", Bytes::new()).with_partition(1);
    let config = ProducerConfig {
        linger: Duration::from_secs(10),
        delivery_timeout: Duration::from_secs(1),
        ..config()
    };
    let (future, _) = state.append(&config, &record, 0, 10).unwrap();
    let drained = state.drain(
        &config,
        &meta,
        Instant::now() + Duration::from_secs(2),
        true,
    );
    assert!(drained.requests.is_empty());
    assert_eq!(drained.released, 10);
    assert!(matches!(future.await, Err(Error::Timeout { .. })));
}

#[test]
fn a_full_request_does_not_starve_the_partitions_left_out() {
    let meta = metadata();
    let mut state = state(&meta);
    let config = ProducerConfig {
        max_request_size: 100, // one batch per request
        ..config()
    };
    for partition in [0, 1, 0, 1] {
        let record = ProducerRecord::new("t", Bytes::from_static(b"v")).with_partition(partition);
        let _ = state.append(&config, &record, 0, 10).unwrap();
    }
    let mut served = Vec::new();
    for _ in 0..2 {
        let drained = state.drain(&config, &meta, Instant::now(), false);
        served.extend(
            drained
                .requests
                .iter()
                .flat_map(|(_, b)| b)
                .map(|s| s.partition),
        );
    }
    served.sort_unstable();
    assert_eq!(served, [0, 1]);
}

#[test]
fn sequences_wrap_like_javas() {
    assert_eq!(increment_sequence(0, 5), 5);
    assert_eq!(increment_sequence(i32::MAX - 1, 1), i32::MAX);
    assert_eq!(increment_sequence(i32::MAX, 1), 0);
    assert_eq!(increment_sequence(i32::MAX - 1, 5), 3);
}

/// Batches of up to 1000 bytes, closed at the next drain.
fn big_batches() -> ProducerConfig {
    ProducerConfig {
        batch_size: 1_000,
        ..config()
    }
}

/// Appends to partition 0 a record whose value is 100 bytes of `n`, reserving 10 bytes.
fn append(state: &mut State, n: u8) -> DeliveryFuture {
    let record = ProducerRecord::new("t", Bytes::from(vec![n; 100]))
        .with_key(Bytes::from(vec![n]))
        .with_partition(0);
    state
        .append(&big_batches(), &record, 1_000 + i64::from(n), 10)
        .unwrap()
        .0
}

/// Drains once with `big_batches()` and encodes what was taken, as the sender does.
fn drain_encoded(
    state: &mut State,
    meta: &Metadata,
    idempotent: bool,
    compression: Compression,
) -> Vec<Sent> {
    let drained = state.drain(
        &big_batches(),
        meta,
        Instant::now() + Duration::from_secs(1),
        idempotent,
    );
    let mut sent: Vec<Sent> = drained.requests.into_iter().flat_map(|(_, b)| b).collect();
    for s in &mut sent {
        state.request_done(1);
        s.batch
            .wire(compression, &CompressionLevels::default(), s.stamp)
            .unwrap();
    }
    sent
}

/// The values' first bytes of the records an encoded batch holds.
fn values(sent: &mut Sent, compression: Compression) -> Vec<u8> {
    let mut bytes = sent
        .batch
        .wire(compression, &CompressionLevels::default(), sent.stamp)
        .unwrap();
    let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut bytes).unwrap();
    set.records
        .iter()
        .map(|r| r.value.as_ref().unwrap()[0])
        .collect()
}

fn one(mut sent: Vec<Sent>) -> Sent {
    assert_eq!(sent.len(), 1, "one batch expected");
    sent.pop().unwrap()
}

#[tokio::test]
async fn a_refused_batch_is_split_and_sent_again_before_later_ones() {
    let meta = metadata();
    let mut state = state(&meta);
    let mut futures: Vec<_> = (0..6).map(|n| append(&mut state, n)).collect();
    let refused = one(drain_encoded(&mut state, &meta, true, Compression::None));
    let created = refused.batch.created;
    futures.extend((6..8).map(|n| append(&mut state, n)));
    let later = one(drain_encoded(&mut state, &meta, true, Compression::None));
    assert_eq!(
        (refused.stamp.base_sequence, later.stamp.base_sequence),
        (0, 6)
    );
    let mut released = complete_with(
        &mut state,
        &big_batches(),
        refused,
        kafka(KafkaCode::MessageTooLarge),
    );
    assert_eq!(released, 0, "the pieces hold the memory");
    assert_eq!(state.incomplete.get(&0), Some(&2), "a flush waits for both");
    assert!(
        drain_encoded(&mut state, &meta, true, Compression::None).is_empty(),
        "the pieces wait for the batch in flight"
    );
    // The broker never took sequence 0, so the later batch is out of order: retried after.
    released += complete_with(
        &mut state,
        &big_batches(),
        later,
        kafka(KafkaCode::OutOfOrderSequenceNumber),
    );
    let mut offset = 100;
    for (sequence, expected) in [(0, vec![0, 1, 2]), (3, vec![3, 4, 5]), (6, vec![6, 7])] {
        let mut sent = one(drain_encoded(&mut state, &meta, true, Compression::None));
        assert!(drain_encoded(&mut state, &meta, true, Compression::None).is_empty());
        assert_eq!(sent.stamp.base_sequence, sequence);
        assert_eq!((sent.stamp.producer_id, sent.stamp.producer_epoch), (7, 0));
        assert_eq!(
            sent.batch.attempts,
            u32::from(sequence == 6),
            "a split is no retry"
        );
        // delivery.timeout.ms still counts from the refused batch's creation.
        assert_eq!(sent.batch.created == created, sequence < 6);
        let records = values(&mut sent, Compression::None);
        assert_eq!(records, expected);
        let next = offset + records.len() as i64;
        released += complete_with(&mut state, &big_batches(), sent, Ok((offset, -1)));
        offset = next;
    }
    assert_eq!(released, 80);
    assert!(state.incomplete.is_empty() && !state.reset_producer);
    let mut offsets = Vec::new();
    for future in futures {
        let metadata = future.await.unwrap();
        assert_eq!(metadata.timestamp, 1_000 + (metadata.offset - 100));
        offsets.push(metadata.offset);
    }
    assert_eq!(offsets, (100..108).collect::<Vec<_>>());
}

#[tokio::test]
async fn pieces_are_split_again_until_single_records_fail() {
    let meta = metadata();
    let mut state = state(&meta);
    let futures: Vec<_> = (0..3).map(|n| append(&mut state, n)).collect();
    let sent = one(drain_encoded(&mut state, &meta, true, Compression::Zstd));
    let mut released = complete_with(
        &mut state,
        &big_batches(),
        sent,
        kafka(KafkaCode::MessageTooLarge),
    );
    // Pieces of one record and two (the middle record's middle is at the half).
    let mut sent = one(drain_encoded(&mut state, &meta, true, Compression::Zstd));
    assert_eq!(values(&mut sent, Compression::Zstd), [0]);
    released += complete_with(&mut state, &big_batches(), sent, Ok((50, -1)));
    let mut sent = one(drain_encoded(&mut state, &meta, true, Compression::Zstd));
    assert_eq!(values(&mut sent, Compression::Zstd), [1, 2]);
    assert_eq!(sent.stamp.base_sequence, 1);
    released += complete_with(
        &mut state,
        &big_batches(),
        sent,
        kafka(KafkaCode::MessageTooLarge),
    );
    let mut sent = one(drain_encoded(&mut state, &meta, true, Compression::Zstd));
    assert_eq!(values(&mut sent, Compression::Zstd), [1]);
    assert_eq!(sent.stamp.base_sequence, 1);
    released += complete_with(
        &mut state,
        &big_batches(),
        sent,
        kafka(KafkaCode::MessageTooLarge),
    );
    // A sequence is lost for good: the last record goes under a new producer id.
    assert!(drain_encoded(&mut state, &meta, true, Compression::Zstd).is_empty());
    state.producer = Some((8, 0));
    let mut sent = one(drain_encoded(&mut state, &meta, true, Compression::Zstd));
    assert_eq!(values(&mut sent, Compression::Zstd), [2]);
    assert_eq!((sent.stamp.producer_id, sent.stamp.base_sequence), (8, 0));
    released += complete_with(&mut state, &big_batches(), sent, Ok((51, -1)));
    assert_eq!(released, 30);
    let mut futures = futures.into_iter();
    assert_eq!(futures.next().unwrap().await.unwrap().offset, 50);
    let refused = futures.next().unwrap().await.unwrap_err();
    assert_eq!(refused.kafka_code(), Some(KafkaCode::MessageTooLarge));
    assert_eq!(futures.next().unwrap().await.unwrap().offset, 51);
    assert!(state.incomplete.is_empty());
}

#[tokio::test]
async fn a_single_record_batch_still_fails_with_message_too_large() {
    let meta = metadata();
    let mut state = state(&meta);
    let future = append(&mut state, 1);
    let sent = one(drain_encoded(&mut state, &meta, true, Compression::Gzip));
    let released = complete_with(
        &mut state,
        &big_batches(),
        sent,
        kafka(KafkaCode::MessageTooLarge),
    );
    assert_eq!(released, 10);
    let error = future.await.unwrap_err();
    assert_eq!(error.kafka_code(), Some(KafkaCode::MessageTooLarge));
    // As before splitting existed: the sequence is lost, so the producer id is renewed.
    let drained = state.drain(
        &big_batches(),
        &meta,
        Instant::now() + Duration::from_secs(1),
        true,
    );
    assert!(drained.requests.is_empty() && drained.need_producer_id);
}

#[tokio::test]
async fn compressed_batches_split_without_sequences_go_back_in_front() {
    let meta = metadata();
    let mut state = state(&meta);
    state.producer = None;
    let mut futures: Vec<_> = (0..4).map(|n| append(&mut state, n)).collect();
    let refused = one(drain_encoded(&mut state, &meta, false, Compression::Gzip));
    assert_eq!(refused.stamp, Stamp::NONE);
    // A younger batch, queued and not sent yet.
    futures.extend((4..6).map(|n| append(&mut state, n)));
    state.close_and_expire(
        &big_batches(),
        Instant::now() + Duration::from_secs(1),
        &mut Drained::default(),
    );
    let mut released = complete_with(
        &mut state,
        &big_batches(),
        refused,
        kafka(KafkaCode::MessageTooLarge),
    );
    let mut offset = 0;
    for expected in [vec![0, 1], vec![2, 3], vec![4, 5]] {
        let mut sent = one(drain_encoded(&mut state, &meta, false, Compression::Gzip));
        assert_eq!(sent.stamp, Stamp::NONE);
        assert_eq!(values(&mut sent, Compression::Gzip), expected);
        let bytes = sent
            .batch
            .wire(Compression::Gzip, &CompressionLevels::default(), sent.stamp)
            .unwrap();
        assert_eq!(
            i16::from_be_bytes([bytes[21], bytes[22]]) & 7,
            Compression::Gzip.attribute()
        );
        released += complete_with(&mut state, &big_batches(), sent, Ok((offset, 7)));
        offset += 2;
    }
    assert_eq!(released, 60);
    assert!(state.incomplete.is_empty());
    for (n, future) in (0..).zip(futures) {
        let metadata = future.await.unwrap();
        assert_eq!((metadata.offset, metadata.timestamp), (n, 7));
    }
}
