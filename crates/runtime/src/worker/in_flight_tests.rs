use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use proptest::prelude::*;

use super::*;

/// A stand-in for a producer batch: one answer shared by the delivery futures of its records,
/// which wakes them all when it comes.
#[derive(Debug, Default)]
struct Batch {
    answer: Mutex<(Option<u32>, Vec<Waker>)>,
}

impl Batch {
    fn answer(&self, answer: u32) {
        let wakers = {
            let mut state = self.answer.lock().unwrap();
            state.0 = Some(answer);
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// A record's delivery: its batch's answer.
#[derive(Debug)]
struct Delivery(Arc<Batch>);

impl Future for Delivery {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut state = self.0.answer.lock().unwrap();
        match state.0 {
            Some(answer) => Poll::Ready(answer),
            None => {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A record numbered `n` (its topic says which).
fn record(n: usize) -> SourceRecord {
    SourceRecord::new(None, None, n.to_string(), None, None)
}

/// Takes every record answered so far, as (record number, answer).
fn take_all(in_flight: &mut InFlight<Delivery>) -> Vec<(usize, u32)> {
    let mut taken = Vec::new();
    while let Some(Some((_, record, answer))) = in_flight.next().now_or_never() {
        taken.push((record.topic.parse().unwrap(), answer));
    }
    taken
}

#[test]
fn nothing_in_flight_answers_none_at_once() {
    let mut in_flight = InFlight::<Delivery>::default();
    assert!(in_flight.is_empty());
    assert_eq!(in_flight.next().now_or_never(), Some(None));
}

/// A partition whose batch is still waiting holds back neither another partition's records
/// nor a record without a partition; within a partition, records come out in send order.
#[test]
fn a_waiting_partition_does_not_hold_back_the_others() {
    let mut in_flight = InFlight::default();
    let (first, second, other, keyless) = (
        Arc::new(Batch::default()),
        Arc::new(Batch::default()),
        Arc::new(Batch::default()),
        Arc::new(Batch::default()),
    );
    for n in 0..3 {
        in_flight.push(None, record(n), "t", Some(0), Delivery(first.clone()));
    }
    in_flight.push(None, record(3), "t", Some(0), Delivery(second.clone()));
    in_flight.push(None, record(4), "t", Some(1), Delivery(other.clone()));
    in_flight.push(None, record(5), "t", None, Delivery(keyless.clone()));
    in_flight.push(None, record(6), "u", Some(0), Delivery(other.clone()));
    assert_eq!(take_all(&mut in_flight), []);

    other.answer(7);
    let mut taken = take_all(&mut in_flight);
    taken.sort_unstable();
    assert_eq!(taken, [(4, 7), (6, 7)]);
    // The second batch of partition 0 is answered before the first: it waits its turn.
    second.answer(2);
    assert_eq!(take_all(&mut in_flight), []);
    first.answer(1);
    assert_eq!(take_all(&mut in_flight), [(0, 1), (1, 1), (2, 1), (3, 2)]);
    keyless.answer(5);
    assert_eq!(take_all(&mut in_flight), [(5, 5)]);
    assert!(in_flight.is_empty());
}

/// The records behind an answered head are taken without another wait.
#[test]
fn records_sharing_an_answer_are_taken_without_waiting() {
    let mut in_flight = InFlight::default();
    let batch = Arc::new(Batch::default());
    for n in 0..5 {
        in_flight.push(None, record(n), "t", Some(0), Delivery(batch.clone()));
    }
    batch.answer(9);
    let (_, head, _) = in_flight.next().now_or_never().unwrap().unwrap();
    assert_eq!(head.topic, "0");
    let behind: Vec<_> = std::iter::from_fn(|| in_flight.take_answered())
        .map(|(_, r, _)| r.topic)
        .collect();
    assert_eq!(behind, ["1", "2", "3", "4"]);
    assert!(in_flight.is_empty());
}

proptest! {
    /// However batches are answered, every record comes out exactly once, those of one lane
    /// in send order, and only once its batch is answered.
    #[test]
    fn every_record_comes_out_once_in_lane_order(
        sends in proptest::collection::vec((0..3usize, 0..3usize), 1..60),
        order in Just((0..60usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        // Each send is (lane, whether it starts a new batch of that lane: 0).
        let mut in_flight = InFlight::default();
        let mut batches: Vec<(usize, Arc<Batch>)> = Vec::new();
        let mut current: [Option<usize>; 3] = [None; 3];
        let mut batch_of = Vec::new();
        for (n, &(lane, new)) in sends.iter().enumerate() {
            let b = match current[lane] {
                Some(b) if new != 0 => b,
                _ => {
                    batches.push((lane, Arc::new(Batch::default())));
                    current[lane] = Some(batches.len() - 1);
                    batches.len() - 1
                }
            };
            batch_of.push(b);
            let partition = i32::try_from(lane).unwrap();
            in_flight.push(None, record(n), "t", Some(partition), Delivery(batches[b].1.clone()));
        }
        let mut answered = vec![false; batches.len()];
        let mut taken = Vec::new();
        for b in order.into_iter().filter(|b| *b < batches.len()) {
            batches[b].1.answer(u32::try_from(b).unwrap());
            answered[b] = true;
            for (n, answer) in take_all(&mut in_flight) {
                prop_assert_eq!(answer as usize, batch_of[n]);
                prop_assert!(answered[batch_of[n]]);
                taken.push(n);
            }
        }
        prop_assert!(in_flight.is_empty());
        let mut all = taken.clone();
        all.sort_unstable();
        prop_assert_eq!(all, (0..sends.len()).collect::<Vec<_>>());
        for lane in 0..3 {
            let of_lane: Vec<_> = taken.iter().filter(|n| sends[**n].0 == lane).collect();
            prop_assert!(of_lane.is_sorted());
        }
    }
}
