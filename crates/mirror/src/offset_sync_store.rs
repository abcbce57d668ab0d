//! The offset-sync store and offset translation of MirrorMaker 2's checkpoint task (Java's
//! `OffsetSyncStore`, KAFKA-12468 and KAFKA-14666).
//!
//! Per source partition the store keeps [`SYNCS_PER_PARTITION`] slots of offset syncs, spaced
//! roughly exponentially: slot 0 holds the latest sync, later slots ever older ones, so
//! translation is precise near the live end of the topic and coarser further back. Slots may
//! repeat the same sync. With `syncs[i]` the sync in slot `i`, after every update:
//!
//! - A: `syncs[0]` is the latest sync received;
//! - B: for `i < j` holding different syncs, `syncs[i].upstream <= syncs[j].upstream + 2^j - 2^i`
//!   (no slot is older than its position allows);
//! - C: for `i < j` holding different syncs, `syncs[i].upstream >= syncs[j].upstream + 2^(i-2)`
//!   (distinct syncs are spread out; the exponent is at least 0);
//! - D: `syncs[63]` is the earliest sync usable for translation.
//!
//! A sync whose upstream offset is below the latest one (the source partition was recreated or
//! truncated) clears every slot to that sync. A downstream reset keeps the older syncs.
//!
//! ```
//! use ferry_mirror::offset_sync_store::{OffsetSyncStore, Translation};
//! use ferry_mirror::records::{OffsetSync, TopicPartition};
//!
//! let tp = TopicPartition::new("orders", 0);
//! let mut store = OffsetSyncStore::new(true);
//! store.finish_initial_read();
//! store.apply(&OffsetSync { topic_partition: tp.clone(), upstream_offset: 100, downstream_offset: 200 });
//! assert_eq!(store.translate_downstream(&tp, 100), Translation::Offset(200));
//! // Past the sync, never further than one record beyond what is known to be replicated.
//! assert_eq!(store.translate_downstream(&tp, 150), Translation::Offset(201));
//! assert_eq!(store.translate_downstream(&tp, 99), Translation::BeforeEarliestSync);
//! ```

use std::collections::HashMap;

use crate::records::{OffsetSync, TopicPartition};

/// Slots kept per source partition: one per bit of an offset.
pub const SYNCS_PER_PARTITION: usize = 64;

/// The outcome of translating a consumer group's upstream offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// The initial read of the offset-syncs topic has not finished (Java: empty).
    NotReady,
    /// No offset sync was ever seen for the partition (Java: empty).
    NoSyncs,
    /// The offset is older than every stored sync, so it cannot be translated safely (Java: -1).
    BeforeEarliestSync,
    /// The translated downstream offset.
    Offset(i64),
}

impl Translation {
    /// The translated offset, if there is one.
    pub fn offset(self) -> Option<i64> {
        match self {
            Self::Offset(offset) => Some(offset),
            _ => None,
        }
    }
}

/// A stored sync. Java compares stored syncs by object identity, so two syncs with equal offsets
/// received separately are distinct; `id` (the arrival number) stands for that identity.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: u64,
    upstream: i64,
    downstream: i64,
}

impl Slot {
    fn same(self, other: Self) -> bool {
        self.id == other.id
    }
}

type Slots = [Slot; SYNCS_PER_PARTITION];

/// Offset syncs per source partition and the translation of upstream offsets through them.
///
/// Syncs read while loading the offset-syncs topic at start-up are [`apply`](Self::apply)ed
/// before [`finish_initial_read`](Self::finish_initial_read); translation is unavailable until
/// then. When `initialization_must_read_to_end` is set (Java sets it when the previous
/// checkpoints could not be read), only the last sync read during start-up is kept per partition,
/// so that no offset is translated further back than an earlier run may already have done.
#[derive(Debug, Clone)]
pub struct OffsetSyncStore {
    syncs: HashMap<TopicPartition, Box<Slots>>,
    initialization_must_read_to_end: bool,
    read_to_end: bool,
    next_id: u64,
}

impl OffsetSyncStore {
    /// An empty store that has not finished its initial read.
    pub fn new(initialization_must_read_to_end: bool) -> Self {
        Self {
            syncs: HashMap::new(),
            initialization_must_read_to_end,
            read_to_end: false,
            next_id: 0,
        }
    }

    /// Marks the initial read of the offset-syncs topic as done: translation becomes available.
    pub fn finish_initial_read(&mut self) {
        self.read_to_end = true;
    }

    /// Adds a sync read from the offset-syncs topic.
    pub fn apply(&mut self, sync: &OffsetSync) {
        let slot = Slot {
            id: self.next_id,
            upstream: sync.upstream_offset,
            downstream: sync.downstream_offset,
        };
        self.next_id += 1;
        let only_load_last = !self.read_to_end && self.initialization_must_read_to_end;
        match self.syncs.get_mut(&sync.topic_partition) {
            Some(slots) => update_slots(slots, slot, only_load_last),
            None => {
                self.syncs.insert(
                    sync.topic_partition.clone(),
                    Box::new([slot; SYNCS_PER_PARTITION]),
                );
            }
        }
    }

    /// Translates a consumer group's offset in source partition `tp` to the replica: through the
    /// latest stored sync at or before `upstream_offset`, to that sync's downstream offset if the
    /// group is exactly at it, or one past it if the group is further on — records after a sync
    /// may have been filtered, so guessing further could skip data.
    pub fn translate_downstream(&self, tp: &TopicPartition, upstream_offset: i64) -> Translation {
        if !self.read_to_end {
            return Translation::NotReady;
        }
        let Some(slots) = self.syncs.get(tp) else {
            return Translation::NoSyncs;
        };
        let sync = slots
            .iter()
            .find(|s| s.upstream <= upstream_offset)
            .unwrap_or(&slots[SYNCS_PER_PARTITION - 1]);
        if sync.upstream > upstream_offset {
            return Translation::BeforeEarliestSync;
        }
        let step = i64::from(upstream_offset != sync.upstream);
        // Java's long arithmetic wraps.
        Translation::Offset(sync.downstream.wrapping_add(step))
    }

    /// The stored syncs of `tp`, latest first, as `(upstream, downstream)` pairs, one per slot.
    pub fn syncs(&self, tp: &TopicPartition) -> Option<impl Iterator<Item = (i64, i64)> + '_> {
        self.syncs
            .get(tp)
            .map(|slots| slots.iter().map(|s| (s.upstream, s.downstream)))
    }
}

/// Whether `i_sync` in slot `i` is recent enough relative to `j_sync` in slot `j` (invariant B).
fn invariant_b(i_sync: Slot, j_sync: Slot, i: usize, j: usize) -> bool {
    let bound = j_sync
        .upstream
        .wrapping_add(1i64 << j)
        .wrapping_sub(1i64 << i);
    i_sync.same(j_sync) || bound < 0 || i_sync.upstream <= bound
}

/// Whether `i_sync` in slot `i` is far enough ahead of the older `j_sync` (invariant C).
fn invariant_c(i_sync: Slot, j_sync: Slot, i: usize) -> bool {
    let bound = j_sync.upstream.wrapping_add(1i64 << i.saturating_sub(2));
    i_sync.same(j_sync) || (bound >= 0 && i_sync.upstream >= bound)
}

/// Puts `new` in slot 0 and repairs invariant B slot by slot, reusing older syncs where they
/// satisfy the invariants so that as many distinct syncs as possible survive; stops as soon as a
/// slot already satisfies B, since then all later ones do.
fn update_slots(slots: &mut Slots, new: Slot, only_load_last: bool) {
    if only_load_last || new.upstream < slots[0].upstream {
        *slots = [new; SYNCS_PER_PARTITION];
        return;
    }
    let original = *slots;
    let mut replacement = new;
    let mut replacement_index = 0;
    slots[0] = new;
    for current in 1..SYNCS_PER_PARTITION {
        let previous = current - 1;
        loop {
            let old = original[replacement_index];
            // Too old here may still fit a later, coarser slot.
            let is_recent = invariant_b(slots[previous], old, previous, current);
            // Too close to the previous slot never fits later either.
            let separated_from_previous = invariant_c(slots[previous], old, previous);
            let separated_from_next =
                current + 1 >= SYNCS_PER_PARTITION || invariant_c(old, slots[current + 1], current);
            let duplicate = replacement_index + 1 < SYNCS_PER_PARTITION
                && old.same(original[replacement_index + 1]);
            let promote = is_recent && separated_from_previous && separated_from_next;
            if promote {
                replacement = old;
            }
            let skip = duplicate || !separated_from_previous;
            if promote || skip {
                replacement_index += 1;
            }
            // Only promote from lower to higher slots.
            if !(skip && replacement_index < current) {
                break;
            }
        }
        debug_assert!(invariant_b(slots[previous], replacement, previous, current));
        debug_assert!(invariant_c(slots[previous], replacement, previous));
        if invariant_b(slots[previous], slots[current], previous, current) {
            break;
        }
        slots[current] = replacement;
    }
}

#[cfg(test)]
mod tests;
