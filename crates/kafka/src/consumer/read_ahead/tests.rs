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
    p.ahead.span = Some(Span::About {
        records: span,
        largest: 0,
    });
    state
}

/// Sends a window at `start`, as `schedule` would; returns what its fetch was planned with.
fn send(state: &mut State, start: i64) -> (Planned, u64) {
    let p = state.partitions.get_mut(&tp()).unwrap();
    let id = p.ahead.send(start);
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
fn an_answer_past_what_was_received_waits_for_a_window_that_fills_the_gap() {
    let mut state = reading(12);
    let due = |state: &State| {
        let p = &state.partitions[&tp()];
        p.ahead.due(p.fetch_offset.unwrap(), Some(1000))
    };
    assert_eq!(due(&state), Some(0));
    let (first, first_id) = send(&mut state, 0);
    assert_eq!(due(&state), Some(12));
    let (second, second_id) = send(&mut state, 12);
    let (third, third_id) = send(&mut state, 24);
    let (fourth, _) = send(&mut state, 36);
    // Four in flight: no more.
    assert_eq!(due(&state), None);
    let ready = state.window_answered(
        &first,
        first_id,
        answer(&first, batch(0..10), 1000),
        &config(),
    );
    assert_eq!(state.partitions[&tp()].fetch_offset, Some(10));
    // The second window starts past 10, but less than a batch past: its answer may well
    // start at 10. What is due is a window after the fourth, on the grid of batches of 10.
    assert_eq!(due(&state), Some(45));
    let second_answer = answer(&second, batch(12..24), 1000);
    assert!(
        state
            .window_answered(&second, second_id, second_answer, &config())
            .is_empty()
    );
    // It does not: a window from 10 is due however many are in flight, and goes first.
    assert_eq!(due(&state), Some(10));
    let (fill, fill_id) = send(&mut state, 10);
    assert_eq!(due(&state), None);
    let third_answer = answer(&third, batch(24..30), 1000);
    assert!(
        state
            .window_answered(&third, third_id, third_answer, &config())
            .is_empty()
    );
    // The fill brings 10..20: the second window's answer follows from 20 and the third's
    // whole; the fourth is still in flight.
    let filled = state.window_answered(
        &fill,
        fill_id,
        answer(&fill, batch(10..20), 1000),
        &config(),
    );
    assert_eq!(filled.len(), 3);
    let p = &state.partitions[&tp()];
    assert_eq!(p.fetch_offset, Some(30));
    assert!(p.ahead.is_reading());
    assert_eq!(
        p.ahead.windows.iter().map(|w| w.start).collect::<Vec<_>>(),
        [fourth.offset]
    );
    // The fourth starts a batch (of 6) or more past 30: a window from 30 is due before its
    // answer comes.
    assert_eq!(due(&state), Some(30));
    let mut offsets = poll(&mut state, ready);
    offsets.extend(poll(&mut state, filled));
    assert_eq!(offsets, (0..30).collect::<Vec<_>>());
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
fn windows_start_half_a_batch_into_a_grid_of_even_batches_or_span_less_the_largest_and_a_sixteenth()
{
    let mut ahead = ReadAhead::default();
    let extent = |first, next, batches, largest| {
        Some(Extent {
            first,
            next,
            batches,
            largest,
        })
    };
    // 160 records in 4 batches of uneven size, the first starting before the fetch offset.
    ahead.answered(10, extent(0, 160, 4, 60), Some(1000));
    assert_eq!(
        ahead.span,
        Some(Span::About {
            records: 90,
            largest: 60
        })
    );
    assert_eq!(ahead.span.unwrap().next(200), 290);
    // 5 batches of 20: a window ends 5 batches after the one it starts in, and the next one
    // starts half a batch on.
    ahead.answered(10, extent(0, 100, 5, 20), Some(1000));
    let grid = ahead.span.unwrap();
    assert_eq!(
        (grid.next(100), grid.next(119), grid.next(-5)),
        (210, 210, 90)
    );
    // 32 batches of 2: two in 32 short.
    ahead.answered(100, extent(100, 164, 32, 2), Some(1000));
    assert_eq!(ahead.span.unwrap().next(164), 225);
    // Batches as large as a window: a batch at a time.
    ahead.answered(160, extent(160, 260, 1, 100), Some(1000));
    assert_eq!(ahead.span.unwrap().next(260), 410);
    // Once a window has started past what was received, a batch short.
    ahead.send(400);
    ahead.send(300);
    ahead.answered(260, extent(260, 360, 5, 20), Some(1000));
    assert_eq!(ahead.span.unwrap().next(360), 450);
    // An answer that reaches the end, or brings nothing new, stops it, and starts afresh.
    ahead.answered(260, extent(260, 300, 2, 20), Some(300));
    assert_eq!(ahead.span, None);
    ahead.answered(0, extent(0, 100, 5, 20), Some(1000));
    assert_eq!(ahead.span.unwrap().next(100), 210);
    ahead.answered(100, extent(0, 100, 2, 50), Some(1000));
    assert_eq!(ahead.span, None);
    ahead.answered(0, extent(0, 100, 2, 60), Some(1000));
    ahead.answered(100, None, Some(1000));
    assert_eq!(ahead.span, None);
}

#[test]
fn offsets_an_answer_skips_after_the_window_start_are_no_gap() {
    // Compaction removed 0..5: the window from 0 gets 5..10, which follows on.
    let mut state = reading(10);
    let (first, first_id) = send(&mut state, 0);
    let ready = state.window_answered(
        &first,
        first_id,
        answer(&first, batch(5..10), 1000),
        &config(),
    );
    assert_eq!(poll(&mut state, ready), (5..10).collect::<Vec<_>>());
    assert_eq!(state.partitions[&tp()].fetch_offset, Some(10));
}
