//! The consumer's bookkeeping: per assigned partition, the position handed out so far, the
//! offset to fetch next (ahead of it while fetched data waits to be polled), and the fetched
//! data itself.

use std::collections::{HashMap, HashSet, VecDeque};

use super::config::OffsetReset;
use super::read_ahead::ReadAhead;
use super::record::{ConsumerRecord, TopicPartition};
use crate::error::{Error, KafkaCode};

/// Everything behind the consumer's lock.
#[derive(Debug, Default)]
pub(super) struct State {
    pub partitions: HashMap<TopicPartition, PartitionState>,
    /// The assignment in the order [`State::drain`] serves it, round-robin from `cursor`.
    order: Vec<TopicPartition>,
    cursor: usize,
    /// Brokers with a fetch in flight: at most one each.
    pub fetching: HashSet<i32>,
    /// Where in the assignment the next fetches start listing partitions.
    pub fetch_rotation: usize,
    /// Consecutive failed fetches per broker, for the backoff.
    pub failures: HashMap<i32, u32>,
    /// Whether an offset reset (ListOffsets) is in flight.
    pub resetting: bool,
    /// Whether a metadata refresh for unknown leaders is in flight.
    pub refreshing: bool,
    /// Fetched bytes not yet polled.
    pub buffered_bytes: usize,
    /// Read-ahead fetches in flight, over every partition.
    pub windows_in_flight: usize,
    /// The largest answer a read-ahead fetch has brought, in bytes.
    pub window_bytes: usize,
    /// Errors for the next poll to return, from work that is not tied to a partition's data.
    pub errors: VecDeque<Error>,
    generations: u64,
}

/// One assigned partition.
#[derive(Debug)]
pub(super) struct PartitionState {
    /// Bumped whenever the position changes other than by polling; answers to requests sent
    /// before are dropped.
    pub generation: u64,
    /// The offset of the next record to hand out; `None` until reset.
    pub position: Option<i64>,
    /// The offset to fetch next; `None` while a reset, an error or an out-of-range answer is
    /// pending.
    pub fetch_offset: Option<i64>,
    /// The reset waiting to be done while `position` is `None`.
    pub reset: Option<OffsetReset>,
    pub paused: bool,
    /// Fetched and not yet polled, in offset order.
    pub chunks: VecDeque<Chunk>,
    pub high_watermark: Option<i64>,
    pub last_stable_offset: Option<i64>,
    pub log_start_offset: Option<i64>,
    /// Fetches kept in flight ahead of the data while the partition is behind.
    pub ahead: ReadAhead,
}

/// One partition's share of one fetch response.
#[derive(Debug)]
pub(super) enum Chunk {
    /// Records to hand out, then the position moves to `next_offset` (past control and aborted
    /// batches).
    Records {
        records: VecDeque<ConsumerRecord>,
        bytes: usize,
        next_offset: i64,
    },
    /// Fetched bytes still being decoded: the next fetch is sent before its answer is decoded,
    /// and this holds the answer's place in offset order meanwhile (see
    /// [`State::decoded`]).
    Decoding { id: u64, bytes: usize },
    /// The broker said the fetch offset is out of range: reset when the position gets here.
    OutOfRange { offset: i64 },
    /// An error to report when the position gets here; the partition is fetched again after.
    Failed(Error),
}

impl State {
    /// Puts the records decoded for the [`Chunk::Decoding`] placeholder `id` of `tp` in its
    /// place, or the decoding error: then what was fetched after it is dropped and the
    /// partition stops fetching until the error has been polled (it is fetched again from
    /// the position then, as after a failed fetch). Nothing happens when the placeholder is
    /// gone (the partition was sought, reset or unassigned meanwhile).
    pub fn decoded(
        &mut self,
        tp: &TopicPartition,
        id: u64,
        next_offset: i64,
        decoded: Result<VecDeque<ConsumerRecord>, Error>,
    ) {
        let Some(p) = self.partitions.get_mut(tp) else {
            return;
        };
        let Some((at, bytes)) = p.chunks.iter().enumerate().find_map(|(at, c)| match c {
            Chunk::Decoding { id: i, bytes } if *i == id => Some((at, *bytes)),
            _ => None,
        }) else {
            return;
        };
        match decoded {
            Ok(records) => {
                p.chunks[at] = Chunk::Records {
                    records,
                    bytes,
                    next_offset,
                };
            }
            Err(error) => {
                let later: usize = p.chunks.drain(at + 1..).map(|c| c.bytes()).sum();
                p.chunks[at] = Chunk::Failed(error);
                p.fetch_offset = None;
                p.ahead.stop();
                self.buffered_bytes -= bytes + later;
            }
        }
    }

    fn next_generation(&mut self) -> u64 {
        self.generations += 1;
        self.generations
    }

    /// Makes `partitions` the assignment. Partitions kept keep their positions and data; new
    /// ones start without a position (reset with `reset`).
    pub fn assign(
        &mut self,
        partitions: impl IntoIterator<Item = TopicPartition>,
        reset: OffsetReset,
    ) {
        let wanted: HashSet<TopicPartition> = partitions.into_iter().collect();
        let removed: Vec<TopicPartition> = self
            .order
            .iter()
            .filter(|tp| !wanted.contains(*tp))
            .cloned()
            .collect();
        self.remove(&removed);
        let mut added: Vec<TopicPartition> = wanted
            .into_iter()
            .filter(|tp| !self.partitions.contains_key(tp))
            .collect();
        added.sort();
        for tp in added {
            let generation = self.next_generation();
            self.partitions.insert(
                tp.clone(),
                PartitionState {
                    generation,
                    position: None,
                    fetch_offset: None,
                    reset: Some(reset),
                    paused: false,
                    chunks: VecDeque::new(),
                    high_watermark: None,
                    last_stable_offset: None,
                    log_start_offset: None,
                    ahead: ReadAhead::default(),
                },
            );
            self.order.push(tp);
        }
    }

    /// Drops `partitions` from the assignment, with their fetched data.
    pub fn remove(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            if let Some(mut p) = self.partitions.remove(tp) {
                self.buffered_bytes -= p.clear();
            }
        }
        let gone: HashSet<&TopicPartition> = partitions.iter().collect();
        self.order.retain(|tp| !gone.contains(tp));
        self.cursor = 0;
    }

    /// The assignment, in assignment order.
    pub fn assignment(&self) -> &[TopicPartition] {
        &self.order
    }

    /// Moves `tp` to `offset`, dropping what was fetched for it.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), Error> {
        let generation = self.next_generation();
        let p = self
            .partitions
            .get_mut(tp)
            .ok_or_else(|| not_assigned(tp))?;
        let freed = p.clear();
        p.generation = generation;
        p.position = Some(offset);
        p.fetch_offset = Some(offset);
        p.reset = None;
        self.buffered_bytes -= freed;
        Ok(())
    }

    /// Makes `tp` look up its position again with `reset`, dropping what was fetched.
    pub fn request_reset(&mut self, tp: &TopicPartition, reset: OffsetReset) -> Result<(), Error> {
        let generation = self.next_generation();
        let p = self
            .partitions
            .get_mut(tp)
            .ok_or_else(|| not_assigned(tp))?;
        let freed = p.clear();
        p.generation = generation;
        p.position = None;
        p.fetch_offset = None;
        p.reset = Some(reset);
        self.buffered_bytes -= freed;
        Ok(())
    }

    /// Up to `max` records from the fetched data, advancing positions. Partitions take turns
    /// (paused ones are skipped), each handing out one fetched chunk before the next one's
    /// turn, as Java's consumer does. An error is returned only when no record comes before it.
    pub fn drain(&mut self, max: usize, reset: OffsetReset) -> Result<Vec<ConsumerRecord>, Error> {
        let mut out = Vec::new();
        let n = self.order.len();
        // Partitions in a row that had nothing: a full round of them ends the drain.
        let mut idle = 0;
        while out.len() < max && idle < n {
            let index = self.cursor % n;
            let tp = &self.order[index];
            let p = self
                .partitions
                .get_mut(tp)
                .expect("ordered partitions are assigned");
            let stop = if p.paused {
                Stop::Drained
            } else {
                p.drain_chunk(&mut out, max, &mut self.buffered_bytes)
            };
            match stop {
                Stop::Full => return Ok(out),
                Stop::Drained => idle += 1,
                Stop::ChunkDone => idle = 0,
                Stop::OutOfRange(offset) if reset == OffsetReset::None => {
                    // Reported like a failed fetch: now if nothing comes before it, and again
                    // on every later fetch until the caller seeks.
                    p.chunks.push_front(Chunk::Failed(out_of_range(tp, offset)));
                    if out.is_empty()
                        && let Stop::Failed(error) =
                            p.drain_chunk(&mut out, max, &mut self.buffered_bytes)
                    {
                        return Err(error);
                    }
                    return Ok(out);
                }
                Stop::OutOfRange(_) => {
                    let generation = self.next_generation();
                    let p = self
                        .partitions
                        .get_mut(&self.order[index])
                        .expect("assigned");
                    p.generation = generation;
                    p.position = None;
                    p.reset = Some(reset);
                    idle = 0;
                }
                Stop::Failed(error) if out.is_empty() => return Err(error),
                Stop::Failed(error) => {
                    p.chunks.push_front(Chunk::Failed(error));
                    return Ok(out);
                }
            }
            self.cursor = (index + 1) % n;
        }
        Ok(out)
    }
}

impl Chunk {
    /// The fetched bytes it counts against the fetch buffer.
    pub fn bytes(&self) -> usize {
        match self {
            Chunk::Records { bytes, .. } | Chunk::Decoding { bytes, .. } => *bytes,
            Chunk::OutOfRange { .. } | Chunk::Failed(_) => 0,
        }
    }
}

/// Why [`PartitionState::drain_chunk`] stopped.
enum Stop {
    /// Nothing was buffered.
    Drained,
    /// A chunk was handed out completely.
    ChunkDone,
    /// `max` records were reached inside a chunk.
    Full,
    OutOfRange(i64),
    Failed(Error),
}

impl PartitionState {
    /// Drops fetched data and the read-ahead, and returns how many buffered bytes that freed.
    fn clear(&mut self) -> usize {
        self.ahead.stop();
        self.chunks.drain(..).map(|c| c.bytes()).sum()
    }

    /// Hands out records of the first fetched chunk, up to `max` in `out`.
    fn drain_chunk(
        &mut self,
        out: &mut Vec<ConsumerRecord>,
        max: usize,
        buffered: &mut usize,
    ) -> Stop {
        let Some(chunk) = self.chunks.front_mut() else {
            return Stop::Drained;
        };
        match chunk {
            Chunk::Records {
                records,
                bytes,
                next_offset,
            } => {
                let take = records.len().min(max - out.len());
                out.extend(records.drain(..take));
                if !records.is_empty() {
                    self.position = out.last().map(|last| last.offset + 1);
                    return Stop::Full;
                }
                self.position = Some(*next_offset);
                *buffered -= *bytes;
                self.chunks.pop_front();
                Stop::ChunkDone
            }
            // The records are on their way: the partition has nothing to hand out yet.
            Chunk::Decoding { .. } => Stop::Drained,
            Chunk::OutOfRange { offset } => {
                let offset = *offset;
                self.chunks.pop_front();
                Stop::OutOfRange(offset)
            }
            Chunk::Failed(_) => {
                let Some(Chunk::Failed(error)) = self.chunks.pop_front() else {
                    unreachable!("the front chunk is a failure")
                };
                self.fetch_offset = self.position;
                Stop::Failed(error)
            }
        }
    }
}

fn not_assigned(tp: &TopicPartition) -> Error {
    Error::InvalidRequest(format!("partition {tp} is not assigned to this consumer"))
}

fn out_of_range(tp: &TopicPartition, offset: i64) -> Error {
    Error::Kafka {
        code: KafkaCode::OffsetOutOfRange,
        message: Some(format!(
            "offset {offset} of {tp} is out of range and auto.offset.reset is none"
        )),
    }
}

#[cfg(test)]
mod tests;
