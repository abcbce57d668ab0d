use std::sync::Arc;

use super::*;
use crate::consumer::record::TimestampType;

fn tp(partition: i32) -> TopicPartition {
    TopicPartition::new("t", partition)
}

fn record(partition: i32, offset: i64) -> ConsumerRecord {
    ConsumerRecord {
        topic: Arc::from("t"),
        partition,
        offset,
        timestamp: 0,
        timestamp_type: TimestampType::CreateTime,
        key: None,
        value: None,
        headers: Vec::new(),
        leader_epoch: None,
    }
}

/// Buffers records `offsets` of partition `p` as one fetched chunk, as a fetch answer would.
fn buffer(state: &mut State, p: i32, offsets: std::ops::Range<i64>, next_offset: i64) {
    let chunk = Chunk::Records {
        records: offsets.map(|o| record(p, o)).collect(),
        bytes: 100,
        next_offset,
    };
    state.buffered_bytes += 100;
    let partition = state.partitions.get_mut(&tp(p)).unwrap();
    partition.chunks.push_back(chunk);
    partition.fetch_offset = Some(next_offset);
}

fn assigned(partitions: &[i32]) -> State {
    let mut state = State::default();
    state.assign(partitions.iter().map(|p| tp(*p)), OffsetReset::Earliest);
    for p in partitions {
        state.seek(&tp(*p), 0).unwrap();
    }
    state
}

fn offsets(records: &[ConsumerRecord]) -> Vec<(i32, i64)> {
    records.iter().map(|r| (r.partition, r.offset)).collect()
}

#[test]
fn drains_up_to_max_and_moves_positions_past_skipped_batches() {
    let mut state = assigned(&[0]);
    buffer(&mut state, 0, 0..3, 5); // offsets 3 and 4: a control batch
    buffer(&mut state, 0, 5..6, 6);
    let first = state.drain(2, OffsetReset::Earliest).unwrap();
    assert_eq!(offsets(&first), [(0, 0), (0, 1)]);
    assert_eq!(state.partitions[&tp(0)].position, Some(2));
    assert_eq!(state.buffered_bytes, 200);
    let rest = state.drain(10, OffsetReset::Earliest).unwrap();
    assert_eq!(offsets(&rest), [(0, 2), (0, 5)]);
    assert_eq!(state.partitions[&tp(0)].position, Some(6));
    assert_eq!(state.buffered_bytes, 0);
}

#[test]
fn serves_partitions_in_turn_and_skips_paused_ones() {
    let mut state = assigned(&[0, 1, 2]);
    for p in 0..3 {
        buffer(&mut state, p, 0..2, 2);
        buffer(&mut state, p, 2..4, 4);
    }
    state.partitions.get_mut(&tp(2)).unwrap().paused = true;
    let mut served = Vec::new();
    for _ in 0..6 {
        served.extend(offsets(&state.drain(1, OffsetReset::Earliest).unwrap()));
    }
    // One fetched chunk per turn, even across polls.
    assert_eq!(served, [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3)]);
    let rest = state.drain(100, OffsetReset::Earliest).unwrap();
    assert!(rest.iter().all(|r| r.partition != 2));
    assert_eq!(state.partitions[&tp(2)].position, Some(0));
}

#[test]
fn out_of_range_resets_when_reached_or_fails_under_none() {
    let mut state = assigned(&[0]);
    buffer(&mut state, 0, 0..2, 2);
    let partition = state.partitions.get_mut(&tp(0)).unwrap();
    partition.chunks.push_back(Chunk::OutOfRange { offset: 2 });
    partition.fetch_offset = None;
    let generation = partition.generation;

    // Under `none` the records before come first, then the error, once.
    let mut none = assigned(&[0]);
    std::mem::swap(&mut none.partitions, &mut state.partitions);
    none.buffered_bytes = 100;
    assert_eq!(none.drain(10, OffsetReset::None).unwrap().len(), 2);
    let error = none.drain(10, OffsetReset::None).unwrap_err();
    assert_eq!(error.kafka_code(), Some(KafkaCode::OffsetOutOfRange));
    assert_eq!(none.partitions[&tp(0)].fetch_offset, Some(2));

    let mut state = assigned(&[0]);
    buffer(&mut state, 0, 0..2, 2);
    let partition = state.partitions.get_mut(&tp(0)).unwrap();
    partition.chunks.push_back(Chunk::OutOfRange { offset: 2 });
    assert_eq!(state.drain(10, OffsetReset::Latest).unwrap().len(), 2);
    let partition = &state.partitions[&tp(0)];
    assert_eq!(partition.position, None);
    assert_eq!(partition.reset, Some(OffsetReset::Latest));
    assert_ne!(partition.generation, generation);
}

#[test]
fn a_failed_fetch_is_reported_once_then_fetched_again() {
    let mut state = assigned(&[0]);
    buffer(&mut state, 0, 0..1, 1);
    let partition = state.partitions.get_mut(&tp(0)).unwrap();
    partition
        .chunks
        .push_back(Chunk::Failed(Error::Protocol("bad batch".into())));
    partition.fetch_offset = None;
    assert_eq!(state.drain(10, OffsetReset::Earliest).unwrap().len(), 1);
    assert!(state.drain(10, OffsetReset::Earliest).is_err());
    assert!(state.drain(10, OffsetReset::Earliest).unwrap().is_empty());
    assert_eq!(state.partitions[&tp(0)].fetch_offset, Some(1));
}

#[test]
fn seeks_and_reassignment_drop_fetched_data() {
    let mut state = assigned(&[0, 1]);
    buffer(&mut state, 0, 0..5, 5);
    buffer(&mut state, 1, 0..5, 5);
    let before = state.partitions[&tp(0)].generation;
    state.seek(&tp(0), 3).unwrap();
    assert_eq!(state.buffered_bytes, 100);
    assert_ne!(state.partitions[&tp(0)].generation, before);
    assert_eq!(state.partitions[&tp(0)].fetch_offset, Some(3));
    // Keeping partition 1 keeps its data; dropping it frees it.
    state.assign([tp(1), tp(2)], OffsetReset::Latest);
    assert_eq!(state.buffered_bytes, 100);
    assert_eq!(state.partitions[&tp(2)].reset, Some(OffsetReset::Latest));
    state.remove(&[tp(1)]);
    assert_eq!(state.buffered_bytes, 0);
    assert_eq!(state.assignment(), [tp(2)]);
    assert!(state.seek(&tp(0), 1).is_err());
}

/// Holds the place of fetched bytes `id` of partition `p` whose records are being decoded, as
/// a fetch answer does before the next fetch goes out.
fn placeholder(state: &mut State, p: i32, id: u64, next_offset: i64) {
    state.buffered_bytes += 100;
    let partition = state.partitions.get_mut(&tp(p)).unwrap();
    partition
        .chunks
        .push_back(Chunk::Decoding { id, bytes: 100 });
    partition.fetch_offset = Some(next_offset);
}

#[test]
fn records_decoded_after_the_next_fetch_keep_their_place() {
    let mut state = assigned(&[0]);
    placeholder(&mut state, 0, 7, 2);
    buffer(&mut state, 0, 2..4, 4);
    // Not decoded yet: nothing to hand out, not even what came after.
    assert!(state.drain(10, OffsetReset::Earliest).unwrap().is_empty());
    state.decoded(&tp(0), 7, 2, Ok((0..2).map(|o| record(0, o)).collect()));
    let all = state.drain(10, OffsetReset::Earliest).unwrap();
    assert_eq!(offsets(&all), [(0, 0), (0, 1), (0, 2), (0, 3)]);
    assert_eq!(state.buffered_bytes, 0);
    assert_eq!(state.partitions[&tp(0)].position, Some(4));
    // A placeholder dropped by a seek meanwhile takes nothing.
    placeholder(&mut state, 0, 8, 6);
    state.seek(&tp(0), 4).unwrap();
    state.decoded(&tp(0), 8, 6, Ok((4..6).map(|o| record(0, o)).collect()));
    assert!(state.drain(10, OffsetReset::Earliest).unwrap().is_empty());
    assert_eq!(state.buffered_bytes, 0);
}

#[test]
fn records_that_fail_to_decode_drop_what_was_fetched_after_them() {
    let mut state = assigned(&[0]);
    buffer(&mut state, 0, 0..1, 1);
    placeholder(&mut state, 0, 9, 3);
    buffer(&mut state, 0, 3..5, 5);
    state.decoded(&tp(0), 9, 3, Err(Error::Protocol("bad crc".into())));
    assert_eq!(state.buffered_bytes, 100);
    assert_eq!(state.partitions[&tp(0)].fetch_offset, None);
    assert_eq!(
        offsets(&state.drain(10, OffsetReset::Earliest).unwrap()),
        [(0, 0)]
    );
    assert!(state.drain(10, OffsetReset::Earliest).is_err());
    // Fetched again from where the bad records start.
    assert_eq!(state.partitions[&tp(0)].fetch_offset, Some(1));
    assert_eq!(state.buffered_bytes, 0);
}
