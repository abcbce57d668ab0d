//! The accumulator's bookkeeping: sequences, ordered retries, producer id resets, expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::cluster::PartitionMetadata;

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
    let backoff = ExponentialBackoff::new(Duration::ZERO, Duration::ZERO);
    state.complete(
        &config(),
        &backoff,
        sent,
        outcome,
        &mut Completed::default(),
    );
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
