use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::*;
use crate::consumer::batch::DecodeOptions;
use crate::consumer::config::OffsetReset;
use crate::consumer::record::TopicPartition;

fn tp() -> TopicPartition {
    TopicPartition::new("t", 0)
}

fn config() -> ConsumerConfig {
    ConsumerConfig {
        max_partition_fetch_bytes: 1024,
        ..ConsumerConfig::default()
    }
}

/// One batch holding records `offsets`.
fn batch(offsets: std::ops::Range<i64>) -> Bytes {
    let records: Vec<Record> = offsets
        .map(|offset| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            sequence: offset as i32,
            timestamp: offset,
            key: None,
            value: Some(Bytes::from(vec![b'v'; 20])),
            headers: IndexMap::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).unwrap();
    buf.freeze()
}

/// A state with the partition at position 0, being read ahead by windows of `span` records.
fn reading(span: i64) -> State {
    let mut state = State::default();
    state.assign([tp()], OffsetReset::Earliest);
    state.seek(&tp(), 0).unwrap();
    let p = state.partitions.get_mut(&tp()).unwrap();
    p.high_watermark = Some(1000);
    p.ahead.span = Some(span);
    state
}

/// Sends a window at `start`, as `schedule` would; returns what its fetch was planned with.
fn send(state: &mut State, start: i64) -> (Planned, u64) {
    let p = state.partitions.get_mut(&tp()).unwrap();
    let id = WINDOW_IDS.fetch_add(1, Ordering::Relaxed);
    p.ahead.windows.push_back(Window {
        id,
        start,
        answer: None,
    });
    let planned = Planned {
        tp: tp(),
        generation: p.generation,
        offset: start,
        leader_epoch: 0,
    };
    (planned, id)
}

/// The broker's answer to `planned`: `records` (batches) and the high watermark.
fn answer(planned: &Planned, records: Bytes, high_watermark: i64) -> Answer {
    let response = FetchResponse::default().with_responses(vec![
        FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![
                PartitionData::default()
                    .with_partition_index(0)
                    .with_high_watermark(high_watermark)
                    .with_records(Some(records)),
            ]),
    ]);
    let mut deferred = Vec::new();
    let (_, outcome, marks) = fetch::outcomes(
        std::slice::from_ref(planned),
        response,
        &config(),
        &mut deferred,
    )
    .pop()
    .unwrap();
    Answer {
        outcome,
        marks,
        deferred: deferred.pop(),
    }
}

/// Decodes `ready` into the state and hands out everything buffered; returns the offsets.
fn poll(state: &mut State, ready: Vec<Deferred>) -> Vec<i64> {
    for deferred in ready {
        let (tp, id, next, records) = deferred.decode(DecodeOptions { check_crcs: true });
        state.decoded(&tp, id, next, records);
    }
    state
        .drain(usize::MAX, OffsetReset::Earliest)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect()
}

#[test]
fn answers_apply_in_the_order_sent_and_overlaps_are_skipped() {
    let mut state = reading(8);
    let (first, first_id) = send(&mut state, 0);
    let (second, second_id) = send(&mut state, 8);
    // The second answer comes first (its batch starts before the window): it waits.
    let early = answer(&second, batch(6..16), 1000);
    let ready = state.window_answered(&second, second_id, early, &config());
    assert!(ready.is_empty());
    assert_eq!(state.partitions[&tp()].fetch_offset, Some(0));
    let late = answer(&first, batch(0..10), 1000);
    let ready = state.window_answered(&first, first_id, late, &config());
    assert_eq!(ready.len(), 2);
    assert_eq!(poll(&mut state, ready), (0..16).collect::<Vec<_>>());
    let p = &state.partitions[&tp()];
    assert_eq!(p.fetch_offset, Some(16));
    assert!(p.ahead.is_reading() && p.ahead.windows.is_empty());
    assert_eq!(state.buffered_bytes, 0);
}

#[test]
fn a_window_past_what_was_received_starts_the_windows_again_from_there() {
    let mut state = reading(12);
    let (first, first_id) = send(&mut state, 0);
    let (second, second_id) = send(&mut state, 12);
    let (third, third_id) = send(&mut state, 24);
    let ready = state.window_answered(
        &first,
        first_id,
        answer(&first, batch(0..10), 1000),
        &config(),
    );
    let gap = answer(&second, batch(12..20), 1000);
    assert!(
        state
            .window_answered(&second, second_id, gap, &config())
            .is_empty()
    );
    let p = &state.partitions[&tp()];
    assert!(p.ahead.is_reading() && p.ahead.windows.is_empty());
    assert_eq!(p.fetch_offset, Some(10));
    // The windows sent after it are forgotten: their answers find no place.
    let stale = answer(&third, batch(24..30), 1000);
    assert!(
        state
            .window_answered(&third, third_id, stale, &config())
            .is_empty()
    );
    let (again, again_id) = send(&mut state, 10);
    let ready_again = state.window_answered(
        &again,
        again_id,
        answer(&again, batch(10..20), 1000),
        &config(),
    );
    let mut offsets = poll(&mut state, ready);
    offsets.extend(poll(&mut state, ready_again));
    assert_eq!(offsets, (0..20).collect::<Vec<_>>());
}

#[test]
fn an_answer_with_nothing_new_is_skipped() {
    let mut state = reading(4);
    let (first, first_id) = send(&mut state, 0);
    let (second, second_id) = send(&mut state, 4);
    // A batch larger than a window comes back whole to both windows.
    let whole = batch(0..10);
    let ready = state.window_answered(
        &first,
        first_id,
        answer(&first, whole.clone(), 1000),
        &config(),
    );
    let again = state.window_answered(&second, second_id, answer(&second, whole, 1000), &config());
    assert!(again.is_empty());
    assert!(state.partitions[&tp()].ahead.is_reading());
    assert_eq!(poll(&mut state, ready), (0..10).collect::<Vec<_>>());
}

#[test]
fn the_end_of_the_partition_an_error_or_a_seek_end_it() {
    let mut state = reading(10);
    let (first, first_id) = send(&mut state, 0);
    let (second, second_id) = send(&mut state, 10);
    let ready = state.window_answered(
        &first,
        first_id,
        answer(&first, batch(0..10), 10),
        &config(),
    );
    assert_eq!(ready.len(), 1);
    assert!(!state.partitions[&tp()].ahead.is_reading());
    let late = answer(&second, batch(10..20), 20);
    assert!(
        state
            .window_answered(&second, second_id, late, &config())
            .is_empty()
    );

    let mut state = reading(10);
    let (first, first_id) = send(&mut state, 0);
    let failed = Answer {
        outcome: Outcome::Retry,
        marks: Marks::default(),
        deferred: None,
    };
    assert!(
        state
            .window_answered(&first, first_id, failed, &config())
            .is_empty()
    );
    assert!(!state.partitions[&tp()].ahead.is_reading());

    let mut state = reading(10);
    let (first, first_id) = send(&mut state, 0);
    state.seek(&tp(), 5).unwrap();
    let stale = answer(&first, batch(0..10), 1000);
    assert!(
        state
            .window_answered(&first, first_id, stale, &config())
            .is_empty()
    );
    assert_eq!(state.partitions[&tp()].fetch_offset, Some(5));
}

#[test]
fn windows_span_what_the_last_answer_held_less_a_batch_and_a_sixteenth() {
    let mut ahead = ReadAhead::default();
    let extent = |first, next, batches| {
        Some(Extent {
            first,
            next,
            batches,
        })
    };
    // 160 records in 4 batches, the first starting before the fetch offset.
    ahead.answered(10, extent(0, 160, 4), Some(1000));
    assert_eq!(ahead.span, Some(110));
    // Batches as large as a window: a batch at a time.
    ahead.answered(160, extent(160, 260, 1), Some(1000));
    assert_eq!(ahead.span, Some(100));
    // An answer that reaches the end, or brings nothing new, stops it.
    ahead.answered(260, extent(260, 300, 2), Some(300));
    assert_eq!(ahead.span, None);
    ahead.answered(0, extent(0, 100, 2), Some(1000));
    ahead.answered(100, extent(0, 100, 2), Some(1000));
    assert_eq!(ahead.span, None);
    ahead.answered(0, extent(0, 100, 2), Some(1000));
    ahead.answered(100, None, Some(1000));
    assert_eq!(ahead.span, None);
}
