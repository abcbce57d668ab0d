//! Which source offsets may be committed (Java's `SubmittedRecords`): a record's offset is
//! committable once it and every record submitted before it for the same source partition have
//! been acknowledged by Kafka (or dropped).
//!
//! Acknowledging is O(1) and the acknowledged head of each partition is released at once, so
//! the memory held is bounded by the records in flight, not by how many were written since the
//! last offset commit (`offset.flush.interval.ms`, a minute by default): a source task copying
//! a hundred thousand records a second must not keep millions of entries, nor search them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ferry_connect::record::SourceOffset;

use crate::storage::offset_records::{OffsetKey, OffsetMap};

#[derive(Debug)]
struct Entry {
    offset: SourceOffset,
    acked: bool,
}

#[derive(Debug)]
struct Partition {
    partition: Arc<OffsetMap>,
    /// The number (within this partition) of the first entry of `entries`.
    first: u64,
    entries: VecDeque<Entry>,
    /// The offset of the latest record of the acknowledged head, not yet committed.
    committable: Option<SourceOffset>,
}

impl Partition {
    /// Releases the acknowledged records at the head, keeping the latest offset among them.
    fn release_head(&mut self) {
        while self.entries.front().is_some_and(|e| e.acked) {
            if let Some(entry) = self.entries.pop_front() {
                self.committable = Some(entry.offset);
                self.first += 1;
            }
        }
    }
}

/// A record tracked by [`SubmittedRecords`], to acknowledge with [`SubmittedRecords::ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Submitted {
    partition: usize,
    number: u64,
}

/// Submitted records per source partition, in submission order.
///
/// ```
/// use ferry_connect::record::SourceOffset;
/// use ferry_runtime::worker::SubmittedRecords;
/// use std::sync::Arc;
/// let p = serde_json::json!({"file": "a"}).as_object().cloned().map(Arc::new);
/// let offset = |n: i64| SourceOffset::long("pos", n);
/// let mut submitted = SubmittedRecords::default();
/// let first = submitted.submit(p.as_ref(), Some(&offset(1))).unwrap();
/// let second = submitted.submit(p.as_ref(), Some(&offset(2))).unwrap();
/// submitted.ack(second);
/// assert!(submitted.committable().is_empty()); // the first is still in flight
/// submitted.ack(first);
/// assert_eq!(submitted.committable()[0].1, offset(2).to_map());
/// ```
#[derive(Debug, Default)]
pub struct SubmittedRecords {
    partitions: Vec<Partition>,
    /// Each partition's index in `partitions`, by its offset key's JSON.
    index: HashMap<Vec<u8>, usize>,
    /// The partition of the latest submitted record: consecutive records mostly share one, and
    /// comparing maps is much cheaper than serializing the key.
    last: Option<usize>,
    pending: usize,
}

impl SubmittedRecords {
    /// Tracks a record; `None` (nothing to commit) when it has no source partition or offset.
    pub fn submit(
        &mut self,
        partition: Option<&Arc<OffsetMap>>,
        offset: Option<&SourceOffset>,
    ) -> Option<Submitted> {
        let (partition, offset) = (partition?, offset?);
        let index = self.partition_index(partition);
        self.last = Some(index);
        let p = &mut self.partitions[index];
        let number = p.first + p.entries.len() as u64;
        p.entries.push_back(Entry {
            offset: offset.clone(),
            acked: false,
        });
        self.pending += 1;
        Some(Submitted {
            partition: index,
            number,
        })
    }

    fn partition_index(&mut self, partition: &Arc<OffsetMap>) -> usize {
        if let Some(last) = self.last {
            let known = &self.partitions[last].partition;
            // Tasks usually share one map per partition: most records compare by pointer.
            if Arc::ptr_eq(known, partition) || **known == **partition {
                return last;
            }
        }
        let key = OffsetKey {
            connector: String::new(),
            partition: (**partition).clone(),
        }
        .to_json();
        *self.index.entry(key).or_insert_with(|| {
            self.partitions.push(Partition {
                partition: Arc::clone(partition),
                first: 0,
                entries: VecDeque::new(),
                committable: None,
            });
            self.partitions.len() - 1
        })
    }

    /// Marks a record as written (or dropped); acknowledging it again does nothing.
    pub fn ack(&mut self, submitted: Submitted) {
        let Some(p) = self.partitions.get_mut(submitted.partition) else {
            return;
        };
        let Some(at) = submitted
            .number
            .checked_sub(p.first)
            .and_then(|at| usize::try_from(at).ok())
        else {
            return;
        };
        let Some(entry) = p.entries.get_mut(at) else {
            return;
        };
        if entry.acked {
            return;
        }
        entry.acked = true;
        self.pending -= 1;
        if at == 0 {
            p.release_head();
        }
    }

    /// [`ack`](Self::ack) for a record that may not be tracked (`submit` returned `None`).
    pub fn ack_if_tracked(&mut self, submitted: Option<Submitted>) {
        if let Some(submitted) = submitted {
            self.ack(submitted);
        }
    }

    /// Returns, per partition, the latest offset whose record and every earlier one were
    /// acknowledged since the previous call.
    pub fn committable(&mut self) -> Vec<(Arc<OffsetMap>, Arc<OffsetMap>)> {
        self.partitions
            .iter_mut()
            .filter_map(|p| Some((p.partition.clone(), p.committable.take()?.to_map())))
            .collect()
    }

    /// Takes back offsets from [`committable`](Self::committable) whose commit failed, so that
    /// the next commit retries them (Java's `OffsetStorageWriter.cancelFlush`); a partition
    /// whose head moved on since keeps its newer offset.
    pub fn uncommitted(&mut self, offsets: Vec<(Arc<OffsetMap>, Arc<OffsetMap>)>) {
        for (partition, offset) in offsets {
            let index = self.partition_index(&partition);
            self.partitions[index]
                .committable
                .get_or_insert_with(|| SourceOffset::from(offset));
        }
    }

    /// How many tracked records are not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// How many records are held: those not acknowledged and those acknowledged after one that
    /// is not.
    pub fn held(&self) -> usize {
        self.partitions.iter().map(|p| p.entries.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn map(v: serde_json::Value) -> Arc<OffsetMap> {
        Arc::new(v.as_object().unwrap().clone())
    }

    fn offset(v: serde_json::Value) -> SourceOffset {
        SourceOffset::from(map(v))
    }

    #[test]
    fn partitions_are_independent_and_untracked_records_ignored() {
        let mut s = SubmittedRecords::default();
        let a = map(json!({"p": "a"}));
        let b = map(json!({"p": "b"}));
        let a1 = s.submit(Some(&a), Some(&offset(json!({"o": 1})))).unwrap();
        let b1 = s.submit(Some(&b), Some(&offset(json!({"o": 1})))).unwrap();
        assert_eq!(s.submit(None, Some(&offset(json!({"o": 1})))), None);
        assert_eq!(s.submit(Some(&a), None), None);
        s.ack(b1);
        assert_eq!(s.committable(), vec![(b.clone(), map(json!({"o": 1})))]);
        assert_eq!(s.pending(), 1);
        s.ack(a1);
        assert_eq!(s.committable(), vec![(a, map(json!({"o": 1})))]);
        assert!(s.committable().is_empty());
        assert_eq!(s.pending(), 0);
    }

    /// The cause of a replication that slowed to a halt: acknowledged records stayed tracked
    /// until the next offset commit (a minute apart by default), and each acknowledgement
    /// searched them. Acknowledged heads must be released at once.
    #[test]
    fn acknowledged_records_are_released_before_the_commit() {
        let mut s = SubmittedRecords::default();
        let partitions: Vec<Arc<OffsetMap>> = (0..3).map(|p| map(json!({"p": p}))).collect();
        let mut in_flight = VecDeque::new();
        for i in 0..30_000 {
            let p = &partitions[i % 3];
            in_flight.push_back(s.submit(Some(p), Some(&offset(json!({"o": i})))).unwrap());
            if in_flight.len() > 100 {
                s.ack(in_flight.pop_front().unwrap());
            }
            assert!(s.held() <= 101);
        }
        while let Some(submitted) = in_flight.pop_front() {
            s.ack(submitted);
            s.ack(submitted); // a repeated acknowledgement changes nothing
        }
        assert_eq!((s.held(), s.pending()), (0, 0));
        let mut committed = s.committable();
        committed.sort_by_key(|(p, _)| p["p"].as_i64());
        let expected: Vec<_> = (0..3)
            .map(|p| (partitions[p].clone(), map(json!({"o": 29_997 + p}))))
            .collect();
        assert_eq!(committed, expected);
        assert!(s.committable().is_empty());
    }

    #[test]
    fn offsets_whose_commit_failed_are_committed_next_time() {
        let p = map(json!({"p": 0}));
        let offset = |n: i64| SourceOffset::long("n", n);
        let mut submitted = SubmittedRecords::default();
        let first = submitted.submit(Some(&p), Some(&offset(1))).unwrap();
        submitted.ack(first);
        let failed = submitted.committable();
        assert_eq!(failed, vec![(p.clone(), map(json!({"n": 1})))]);
        submitted.uncommitted(failed.clone());
        assert_eq!(submitted.committable(), failed);

        // A newer acknowledged offset wins over the one given back.
        let second = submitted.submit(Some(&p), Some(&offset(2))).unwrap();
        submitted.ack(second);
        submitted.uncommitted(failed);
        assert_eq!(submitted.committable(), vec![(p, map(json!({"n": 2})))]);
    }

    proptest! {
        /// Whatever the acknowledgement order, a committed offset never passes a record that
        /// is still in flight, and once all are acknowledged the last offset is committed.
        #[test]
        fn never_commits_past_an_unacknowledged_record(order in Just((0..20u64).collect::<Vec<_>>()).prop_shuffle()) {
            let mut s = SubmittedRecords::default();
            let p = map(json!({"p": 0}));
            let seqs: Vec<Submitted> = (0..20).map(|i| s.submit(Some(&p), Some(&offset(json!({"o": i})))).unwrap()).collect();
            let mut acked = [false; 20];
            let mut committed: i64 = -1;
            for i in order {
                s.ack(seqs[i as usize]);
                acked[i as usize] = true;
                for (_, offset) in s.committable() {
                    committed = offset["o"].as_i64().unwrap();
                }
                let prefix = acked.iter().take_while(|a| **a).count() as i64 - 1;
                prop_assert_eq!(committed, prefix);
            }
            prop_assert_eq!(committed, 19);
        }
    }
}
