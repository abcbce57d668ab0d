//! Java's default partitioner: keyed records go to `toPositive(murmur2(key)) % partitions`;
//! records without a key stick to one partition until about `batch.size` bytes have gone to
//! it, then move to another one picked at random (KIP-480, KIP-794).

/// Kafka's murmur2 hash of `data`, exactly as Java's `Utils.murmur2` computes it (seed
/// `0x9747b28c`), so that keyed records land in the same partition as with Java clients and
/// librdkafka's `murmur2_random` partitioner.
///
/// ```
/// use ferry_kafka::producer::partitioner::murmur2;
/// assert_eq!(murmur2(b"foobar"), -790332482);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java hashes the length as an int; keys are far below 2^32 bytes.
    let mut h = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(*byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Java's default partitioner picks for `key` among `partitions`.
///
/// ```
/// use ferry_kafka::producer::partitioner::partition_for_key;
/// assert_eq!(partition_for_key(b"foobar", 6), (-790332482i32 & 0x7fffffff) % 6);
/// ```
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    to_positive(murmur2(key)) % partitions.max(1)
}

/// Where unkeyed records of one topic go: the current sticky partition and how many bytes went
/// to it since it was picked.
#[derive(Debug, Default)]
pub(crate) struct Sticky {
    current: Option<i32>,
    produced: usize,
}

impl Sticky {
    /// The partition for the next unkeyed record, among `available` (partitions with a leader;
    /// all partitions when none has one), switching after `batch_size` bytes.
    pub(crate) fn partition(
        &mut self,
        available: &[i32],
        partitions: i32,
        batch_size: usize,
    ) -> i32 {
        match self.current {
            Some(p) if self.produced < batch_size.max(1) && p < partitions => p,
            previous => {
                let p = pick(available, partitions, previous);
                self.current = Some(p);
                self.produced = 0;
                p
            }
        }
    }

    /// Counts `bytes` appended to the sticky partition `partition`.
    pub(crate) fn record(&mut self, partition: i32, bytes: usize) {
        if self.current == Some(partition) {
            self.produced += bytes;
        }
    }
}

/// A random partition from `available` (or from all `partitions` when none is available),
/// different from `previous` when there is a choice.
fn pick(available: &[i32], partitions: i32, previous: Option<i32>) -> i32 {
    let count = if available.is_empty() {
        partitions.max(1) as usize
    } else {
        available.len()
    };
    let nth = |i: usize| available.get(i).copied().unwrap_or(i as i32);
    if count == 1 {
        return nth(0);
    }
    loop {
        let p = nth(fastrand::usize(..count));
        if Some(p) != previous {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn murmur2_matches_javas_published_values() {
        // From Kafka's UtilsTest.testMurmur2.
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (data, expected) in cases {
            assert_eq!(
                murmur2(data),
                expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn sticky_switches_after_a_batch_worth_of_bytes() {
        let mut sticky = Sticky::default();
        let available = [0, 1, 2, 3];
        let first = sticky.partition(&available, 4, 100);
        sticky.record(first, 60);
        assert_eq!(sticky.partition(&available, 4, 100), first);
        sticky.record(first, 60);
        let second = sticky.partition(&available, 4, 100);
        assert_ne!(second, first);
        // Only one partition available: it is kept.
        let mut one = Sticky::default();
        let p = one.partition(&[2], 4, 1);
        one.record(p, 10);
        assert_eq!((p, one.partition(&[2], 4, 1)), (2, 2));
    }

    proptest! {
        #[test]
        fn keyed_partition_is_in_range(key in proptest::collection::vec(any::<u8>(), 0..64), n in 1i32..1000) {
            let p = partition_for_key(&key, n);
            prop_assert!((0..n).contains(&p));
        }
    }
}
