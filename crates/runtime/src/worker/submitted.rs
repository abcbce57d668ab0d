//! Which source offsets may be committed (Java's `SubmittedRecords`): a record's offset is
//! committable once it and every record submitted before it for the same source partition have
//! been acknowledged by Kafka (or dropped).

use std::collections::{HashMap, VecDeque};

use crate::storage::offset_records::{OffsetKey, OffsetMap};

#[derive(Debug)]
struct Entry {
    seq: u64,
    offset: OffsetMap,
    acked: bool,
}

#[derive(Debug)]
struct Partition {
    partition: OffsetMap,
    entries: VecDeque<Entry>,
}

/// Submitted records per source partition, in submission order.
///
/// ```
/// use ferry_runtime::worker::SubmittedRecords;
/// let p = serde_json::json!({"file": "a"}).as_object().cloned();
/// let offset = |n: i64| serde_json::json!({"pos": n}).as_object().cloned();
/// let mut submitted = SubmittedRecords::default();
/// let first = submitted.submit(p.as_ref(), offset(1).as_ref()).unwrap();
/// let second = submitted.submit(p.as_ref(), offset(2).as_ref()).unwrap();
/// submitted.ack(second);
/// assert!(submitted.committable().is_empty()); // the first is still in flight
/// submitted.ack(first);
/// assert_eq!(submitted.committable()[0].1, offset(2).unwrap());
/// ```
#[derive(Debug, Default)]
pub struct SubmittedRecords {
    next_seq: u64,
    partitions: HashMap<Vec<u8>, Partition>,
    /// Which partition each outstanding sequence number belongs to.
    owners: HashMap<u64, Vec<u8>>,
}

impl SubmittedRecords {
    /// Tracks a record; `None` (nothing to commit) when it has no source partition or offset.
    pub fn submit(
        &mut self,
        partition: Option<&OffsetMap>,
        offset: Option<&OffsetMap>,
    ) -> Option<u64> {
        let (partition, offset) = (partition?, offset?);
        let key = OffsetKey {
            connector: String::new(),
            partition: partition.clone(),
        }
        .to_json();
        let seq = self.next_seq;
        self.next_seq += 1;
        self.partitions
            .entry(key.clone())
            .or_insert_with(|| Partition {
                partition: partition.clone(),
                entries: VecDeque::new(),
            })
            .entries
            .push_back(Entry {
                seq,
                offset: offset.clone(),
                acked: false,
            });
        self.owners.insert(seq, key);
        Some(seq)
    }

    /// Marks a record as written (or dropped).
    pub fn ack(&mut self, seq: u64) {
        let Some(key) = self.owners.remove(&seq) else {
            return;
        };
        if let Some(partition) = self.partitions.get_mut(&key)
            && let Some(entry) = partition.entries.iter_mut().find(|e| e.seq == seq)
        {
            entry.acked = true;
        }
    }

    /// Removes the acknowledged records at the head of each partition and returns, per
    /// partition, the latest offset among them.
    pub fn committable(&mut self) -> Vec<(OffsetMap, OffsetMap)> {
        let mut offsets = Vec::new();
        self.partitions.retain(|_, partition| {
            let mut latest = None;
            while partition.entries.front().is_some_and(|e| e.acked) {
                latest = partition.entries.pop_front().map(|e| e.offset);
            }
            if let Some(offset) = latest {
                offsets.push((partition.partition.clone(), offset));
            }
            !partition.entries.is_empty()
        });
        offsets
    }

    /// How many tracked records are not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn map(v: serde_json::Value) -> OffsetMap {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn partitions_are_independent_and_untracked_records_ignored() {
        let mut s = SubmittedRecords::default();
        let a = map(json!({"p": "a"}));
        let b = map(json!({"p": "b"}));
        let a1 = s.submit(Some(&a), Some(&map(json!({"o": 1})))).unwrap();
        let b1 = s.submit(Some(&b), Some(&map(json!({"o": 1})))).unwrap();
        assert_eq!(s.submit(None, Some(&map(json!({"o": 1})))), None);
        assert_eq!(s.submit(Some(&a), None), None);
        s.ack(b1);
        assert_eq!(s.committable(), vec![(b.clone(), map(json!({"o": 1})))]);
        assert_eq!(s.pending(), 1);
        s.ack(a1);
        assert_eq!(s.committable(), vec![(a, map(json!({"o": 1})))]);
        assert!(s.committable().is_empty());
        assert_eq!(s.pending(), 0);
    }

    proptest! {
        /// Whatever the acknowledgement order, a committed offset never passes a record that
        /// is still in flight, and once all are acknowledged the last offset is committed.
        #[test]
        fn never_commits_past_an_unacknowledged_record(order in Just((0..20u64).collect::<Vec<_>>()).prop_shuffle()) {
            let mut s = SubmittedRecords::default();
            let p = map(json!({"p": 0}));
            let seqs: Vec<u64> = (0..20).map(|i| s.submit(Some(&p), Some(&map(json!({"o": i})))).unwrap()).collect();
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
