use proptest::prelude::*;

use super::*;

fn tp() -> TopicPartition {
    TopicPartition::new("topic1", 2)
}

fn sync(store: &mut OffsetSyncStore, upstream: i64, downstream: i64) {
    store.apply(&OffsetSync {
        topic_partition: tp(),
        upstream_offset: upstream,
        downstream_offset: downstream,
    });
    assert_sparse_invariants(store);
}

fn started() -> OffsetSyncStore {
    let mut store = OffsetSyncStore::new(true);
    store.finish_initial_read();
    store
}

fn translate(store: &OffsetSyncStore, upstream: i64) -> Translation {
    store.translate_downstream(&tp(), upstream)
}

fn slots(store: &OffsetSyncStore) -> &Slots {
    &store.syncs[&tp()]
}

/// Invariants B and C over every pair of slots holding different offsets.
fn assert_sparse_invariants(store: &OffsetSyncStore) {
    let slots = slots(store);
    for j in 0..SYNCS_PER_PARTITION {
        for i in 0..j {
            let (iu, ju) = (slots[i].upstream, slots[j].upstream);
            if iu == ju {
                continue;
            }
            let lower = ju.wrapping_add(1i64 << i.saturating_sub(2));
            if lower < 0 {
                continue;
            }
            assert!(iu >= lower, "invariant C({i},{j}): {iu} < {lower}");
            let upper = ju.wrapping_add(1i64 << j).wrapping_sub(1i64 << i);
            if upper < 0 {
                continue;
            }
            assert!(iu <= upper, "invariant B({i},{j}): {iu} > {upper}");
        }
    }
}

fn distinct_syncs(store: &OffsetSyncStore) -> usize {
    let slots = slots(store);
    1 + slots.windows(2).filter(|w| !w[0].same(w[1])).count()
}

/// Checks translation just before, at and after a stored sync at `offset` whose predecessor in
/// the store is at `previous` (or none when `previous` is -1), with upstream == downstream.
fn assert_sparse_sync(store: &OffsetSyncStore, offset: i64, previous: i64) {
    let before = if previous == -1 {
        Translation::BeforeEarliestSync
    } else {
        Translation::Offset(previous + 1)
    };
    assert_eq!(translate(store, offset - 1), before, "before {offset}");
    assert_eq!(translate(store, offset), Translation::Offset(offset));
    assert_eq!(
        translate(store, offset + 1),
        Translation::Offset(offset + 1)
    );
    assert_eq!(
        translate(store, offset + 2),
        Translation::Offset(offset + 1)
    );
}

#[test]
fn translates_through_the_latest_sync_at_or_before() {
    let mut store = started();
    sync(&mut store, 100, 200);
    assert_eq!(translate(&store, 150), Translation::Offset(201));
    sync(&mut store, 150, 251);
    assert_eq!(translate(&store, 150), Translation::Offset(251));
    assert_eq!(translate(&store, 5), Translation::BeforeEarliestSync);
    // A downstream reset is taken as it comes.
    sync(&mut store, 200, 10);
    assert_eq!(translate(&store, 200), Translation::Offset(10));
    // An upstream rewind clears everything older.
    sync(&mut store, 20, 20);
    assert_eq!(translate(&store, 20), Translation::Offset(20));
    assert_eq!(translate(&store, 150), Translation::Offset(21));
    assert_eq!(translate(&store, 19), Translation::BeforeEarliestSync);
}

#[test]
fn nothing_is_translated_before_the_initial_read_ends() {
    let mut store = OffsetSyncStore::new(true);
    assert_eq!(translate(&store, 0), Translation::NotReady);
    sync(&mut store, 100, 200);
    for offset in [0, 100, 200] {
        assert_eq!(translate(&store, offset), Translation::NotReady);
    }
    store.finish_initial_read();
    assert_eq!(translate(&store, 0), Translation::BeforeEarliestSync);
    assert_eq!(translate(&store, 100), Translation::Offset(200));
    assert_eq!(translate(&store, 200), Translation::Offset(201));
    assert_eq!(translate(&store, 200).offset(), Some(201));
    assert_eq!(translate(&store, 0).offset(), None);
}

#[test]
fn partitions_without_syncs_are_not_translated() {
    let store = started();
    assert_eq!(translate(&store, 0), Translation::NoSyncs);
    assert!(store.syncs(&tp()).is_none());
}

#[test]
fn past_offsets_translate_with_decreasing_precision() {
    let mut store = OffsetSyncStore::new(true);
    for offset in (0..=1000).step_by(10) {
        sync(&mut store, offset, offset);
    }
    store.finish_initial_read();
    // Only the last sync of the initial read is kept.
    assert_sparse_sync(&store, 1000, -1);
    for offset in (1010..=10_000).step_by(10) {
        sync(&mut store, offset, offset);
    }
    // Invariant D: the last sync of the initial read is still the earliest.
    assert_sparse_sync(&store, 1000, -1);
    for (offset, previous) in [
        (4840, 1000),
        (6760, 4840),
        (8680, 6760),
        (9160, 8680),
        (9640, 9160),
        (9880, 9640),
        (9940, 9880),
        (9970, 9940),
        (9990, 9970),
        (10_000, 9990),
    ] {
        assert_sparse_sync(&store, offset, previous);
    }
    sync(&mut store, 1500, 11_000);
    assert_eq!(translate(&store, 1499), Translation::BeforeEarliestSync);
    assert_eq!(translate(&store, 1500), Translation::Offset(11_000));
    assert_eq!(translate(&store, 2000), Translation::Offset(11_001));
}

#[test]
fn initial_syncs_are_all_kept_when_not_required_to_read_to_end() {
    let mut store = OffsetSyncStore::new(false);
    for offset in (0..=1000).step_by(10) {
        sync(&mut store, offset, offset);
    }
    store.finish_initial_read();
    assert_sparse_sync(&store, 480, 0);
    assert_sparse_sync(&store, 720, 480);
    assert_sparse_sync(&store, 1000, 990);
    for offset in (1000..=10_000).step_by(10) {
        sync(&mut store, offset, offset);
    }
    for (offset, previous) in [
        (3840, 0),
        (7680, 3840),
        (8640, 7680),
        (9120, 8640),
        (9600, 9120),
        (9840, 9600),
        (9900, 9840),
        (9960, 9900),
        (9990, 9960),
        (10_000, 9990),
    ] {
        assert_sparse_sync(&store, offset, previous);
    }
    sync(&mut store, 1500, 11_000);
    assert_eq!(translate(&store, 1499), Translation::BeforeEarliestSync);
    assert_eq!(translate(&store, 1500), Translation::Offset(11_000));
    assert_eq!(translate(&store, 2000), Translation::Offset(11_001));
}

/// Feeds syncs spaced by `steps` after `first` and checks invariants A and D and that no update
/// expires more than `max_expirations` distinct syncs.
fn assert_bounded_expirations(
    first: i64,
    steps: impl IntoIterator<Item = i64>,
    max_expirations: usize,
) {
    let mut store = started();
    sync(&mut store, first, first);
    let mut offset = first;
    let mut last_count = 1;
    for step in steps {
        offset += step;
        assert!(offset >= 0, "test offsets overflowed");
        sync(&mut store, offset, offset);
        assert_eq!(slots(&store)[0].upstream, offset, "invariant A");
        assert_eq!(
            slots(&store)[SYNCS_PER_PARTITION - 1].upstream,
            first,
            "invariant D"
        );
        let count = distinct_syncs(&store);
        let expired = last_count + 1 - count;
        assert!(
            expired <= max_expirations,
            "expired {expired} syncs at offset {offset}"
        );
        last_count = count;
    }
}

#[test]
fn consistently_spaced_syncs_expire_at_most_one_sync_each() {
    let iterations = 100;
    let max_step = i64::MAX / iterations;
    let mut step = 1;
    while step < max_step {
        for first in 0..30 {
            assert_bounded_expirations(first, (0..iterations).map(|_| step), 1);
        }
        step = step * 2 + 1;
    }
}

/// Java's `java.util.Random`, so that the spacing tests see the same sequences as Java's tests
/// (whose expiration bounds were established on them).
struct JavaRandom(u64);

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_deec_e66d;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: u64) -> Self {
        Self((seed ^ Self::MULTIPLIER) & Self::MASK)
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.0 = (self.0.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xb)) & Self::MASK;
        // Java keeps the low 32 bits of the shifted seed as a signed int.
        (self.0 >> (48 - bits)) as u32 as i32
    }

    fn next_long(&mut self) -> i64 {
        (i64::from(self.next(32)) << 32).wrapping_add(i64::from(self.next(32)))
    }

    /// `Random.longs(..., origin, origin + 2^bits)`: with a power-of-two range Java masks.
    fn next_long_in(&mut self, origin: i64, bits: u32) -> i64 {
        (self.next_long() & ((1i64 << bits) - 1)) + origin
    }

    fn next_double(&mut self) -> f64 {
        let high = i64::from(self.next(26)) << 27;
        let value = high + i64::from(self.next(27));
        value as f64 * (1.0 / (1i64 << 53) as f64)
    }
}

#[test]
fn java_random_matches_java() {
    // new Random(0).nextLong(), new Random(0).nextInt() and new Random(42).nextInt(),
    // new Random(0).nextDouble() in Java.
    assert_eq!(JavaRandom::new(0).next_long(), -4_962_768_465_676_381_896);
    assert_eq!(JavaRandom::new(0).next(32), -1_155_484_576);
    assert_eq!(JavaRandom::new(42).next(32), -1_170_105_035);
    assert_eq!(JavaRandom::new(0).next_double(), 0.730_967_787_376_657);
}

#[test]
fn randomly_spaced_syncs_expire_a_bounded_number_of_syncs() {
    let mut rng = JavaRandom::new(0);
    let iterations = 1 << 10;
    for n in 1..(64 - 10) {
        // Steps differing in at most n bits expire at most n + 2 syncs at once.
        let steps: Vec<i64> = (0..iterations).map(|_| rng.next_long_in(0, n)).collect();
        assert_bounded_expirations(0, steps, n as usize + 2);
        let lag = 1i64 << 16;
        let steps: Vec<i64> = (0..iterations).map(|_| rng.next_long_in(lag, n)).collect();
        assert_bounded_expirations(0, steps, n as usize + 2);
    }
}

#[test]
fn dropped_syncs_expire_at_most_two_syncs() {
    let mut rng = JavaRandom::new(0);
    let lag = 100;
    let steps = (0..10_000).map(|_| {
        if rng.next_double() < 0.5 {
            2 * lag
        } else {
            lag
        }
    });
    assert_bounded_expirations(0, steps, 2);
}

#[test]
fn equal_syncs_received_twice_are_distinct() {
    let mut store = started();
    sync(&mut store, 0, 0);
    sync(&mut store, 0, 0);
    // The repeat replaces slot 0 only; the first copy stays behind it.
    assert_eq!(distinct_syncs(&store), 2);
    assert_eq!(translate(&store, 0), Translation::Offset(0));
}

/// A partition replicated with some records filtered, and the syncs written for it.
#[derive(Debug, Clone)]
struct Replication {
    /// Downstream offset of each upstream record, `None` when filtered.
    downstream: Vec<Option<i64>>,
    /// The downstream offset the next replicated record would get.
    end: i64,
    /// Upstream offsets of replicated records that got an offset sync.
    synced: Vec<usize>,
}

impl Replication {
    /// Where a group at upstream `offset` should resume downstream: the first replicated record
    /// at or after it, or the end of the replica.
    fn expected(&self, offset: usize) -> i64 {
        self.downstream
            .iter()
            .skip(offset)
            .flatten()
            .next()
            .copied()
            .unwrap_or(self.end)
    }
}

fn replication() -> impl Strategy<Value = Replication> {
    (
        0i64..1_000_000,
        proptest::collection::vec((any::<bool>(), any::<bool>()), 1..300),
    )
        .prop_map(|(base, records)| {
            let mut next = base;
            let mut downstream = Vec::new();
            let mut synced = Vec::new();
            for (i, (replicated, with_sync)) in records.into_iter().enumerate() {
                if replicated {
                    downstream.push(Some(next));
                    next += 1;
                    if with_sync {
                        synced.push(i);
                    }
                } else {
                    downstream.push(None);
                }
            }
            Replication {
                downstream,
                end: next,
                synced,
            }
        })
}

proptest! {
    #[test]
    fn translation_never_skips_replicated_records(r in replication(), must_read_to_end: bool) {
        let mut store = OffsetSyncStore::new(must_read_to_end);
        store.finish_initial_read();
        for &u in &r.synced {
            let up = i64::try_from(u).unwrap();
            store.apply(&OffsetSync {
                topic_partition: tp(),
                upstream_offset: up,
                downstream_offset: r.downstream[u].unwrap(),
            });
        }
        let mut last = None;
        for g in 0..=r.downstream.len() + 2 {
            let translation = translate(&store, i64::try_from(g).unwrap());
            if r.synced.is_empty() {
                prop_assert_eq!(translation, Translation::NoSyncs);
                continue;
            }
            if g < r.synced[0] {
                prop_assert_eq!(translation, Translation::BeforeEarliestSync);
                continue;
            }
            let Translation::Offset(t) = translation else {
                return Err(TestCaseError::fail(format!("{g} not translated: {translation:?}")));
            };
            // Never past where the group should resume, so no record is skipped.
            prop_assert!(t <= r.expected(g), "{} > {} at {}", t, r.expected(g), g);
            // Exact when the group sits on the latest sync.
            if Some(&g) == r.synced.last() {
                prop_assert_eq!(t, r.expected(g));
            }
            // Monotone in the upstream offset.
            prop_assert!(last <= Some(t));
            last = Some(t);
        }
    }

    #[test]
    fn invariants_hold_after_any_syncs(
        syncs in proptest::collection::vec((0i64..1 << 20, 0i64..1 << 20), 1..200),
        big in proptest::collection::vec(any::<i64>(), 0..20),
        must_read_to_end: bool, initial in 0usize..50,
    ) {
        let mut store = OffsetSyncStore::new(must_read_to_end);
        let all = syncs.into_iter().chain(big.into_iter().map(|b| (b, b)));
        for (n, (up, down)) in all.enumerate() {
            if n == initial {
                store.finish_initial_read();
            }
            let before = slots_or_none(&store);
            sync(&mut store, up, down);
            let after = slots(&store);
            // Invariant A: the latest sync is in slot 0.
            prop_assert_eq!((after[0].upstream, after[0].downstream), (up, down));
            prop_assert_eq!(after[0].id, store.next_id - 1);
            // A rewind (or the first sync, or start-up without history) leaves only that sync.
            let cleared = before.is_none_or(|b| up < b[0].upstream)
                || (must_read_to_end && n < initial);
            if cleared {
                prop_assert_eq!(distinct_syncs(&store), 1);
            } else if let Some(before) = before {
                // Invariant D: the earliest offset survives updates, as long as the offsets
                // stored span less than 2^62 (beyond, Java's bounds overflow).
                let last = SYNCS_PER_PARTITION - 1;
                if i128::from(up) - i128::from(before[last].upstream) < 1 << 62 {
                    prop_assert_eq!(after[last].upstream, before[last].upstream);
                }
            }
            // Slots never get newer going back.
            prop_assert!(after.windows(2).all(|w| w[0].id >= w[1].id));
        }
    }
}

fn slots_or_none(store: &OffsetSyncStore) -> Option<Slots> {
    store.syncs.get(&tp()).map(|s| **s)
}
