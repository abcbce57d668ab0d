//! Read-ahead: fetches kept in flight ahead of a partition's data.
//!
//! A consumer with one fetch in flight per broker gets at most one answer per round trip: on a
//! link with a long round trip, a partition that is behind is read at `max.partition.fetch.bytes`
//! per round trip however much bandwidth there is. So once an answer stops short of the
//! partition's high watermark, the partition leaves the regular fetch and is read by *windows*:
//! single-partition fetches with the regular fetch's limits, up to [`WINDOWS`] in flight, each
//! starting where the one before is expected to end: a broker answers a single-partition fetch
//! with about the same amount each time, so a window spans what the partition's last answer
//! held, less a batch (a window that starts inside a batch gets that batch whole) and a
//! sixteenth, so that windows overlap rather than leave gaps.
//!
//! Answers are applied in the order the windows were sent, whatever order they come in. Records
//! an earlier answer already brought are skipped. A window that starts past what has been
//! received (the estimate was too long) is dropped with the windows after it, and windows start
//! again from there. An empty answer, an error, or an answer that reaches the high watermark
//! ends the read-ahead: windows still in flight are forgotten, and the partition goes back to
//! the regular fetch, which handles errors and waits for new data. Order and at-least-once are
//! thus those of the regular fetch.
//!
//! Windows go over a connection of their own (`Cluster::read_ahead_connection`): a broker
//! serves one request per connection at a time, and the regular fetch may be held there for
//! `fetch.max.wait.ms`. Windows are sent while unpolled data is under `fetch_buffer_bytes`, and
//! the windows in flight (each counted as the largest answer a window has brought) stay within
//! twice that much: a round trip's worth of answers in flight while the last ones are polled.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use super::Shared;
use super::batch::Extent;
use super::config::{ConsumerConfig, IsolationLevel};
use super::fetch::{self, Deferred, Marks, Outcome, Planned};
use super::state::{PartitionState, State};
use crate::Cluster;

/// Windows in flight per partition at most.
const WINDOWS: usize = 4;

/// Names windows uniquely in the process.
static WINDOW_IDS: AtomicU64 = AtomicU64::new(0);

/// One partition's read-ahead.
#[derive(Debug, Default)]
pub(super) struct ReadAhead {
    /// Records one window is expected to bring; `None` while the partition is fetched the
    /// regular way.
    span: Option<i64>,
    /// Windows in flight, oldest first.
    windows: VecDeque<Window>,
}

#[derive(Debug)]
struct Window {
    id: u64,
    start: i64,
    /// Its answer, held until the windows sent before it have been applied.
    answer: Option<Answer>,
}

/// What a window's fetch brought back.
#[derive(Debug)]
pub(super) struct Answer {
    outcome: Outcome,
    marks: Marks,
    deferred: Option<Deferred>,
}

impl ReadAhead {
    /// Whether the partition is read by windows (and left out of the regular fetch).
    pub fn is_reading(&self) -> bool {
        self.span.is_some()
    }

    /// The records one window is expected to bring, while the partition is read by windows.
    pub fn span(&self) -> Option<i64> {
        self.span
    }

    /// Learns from an answer to a fetch at `start` whose batches lie at `extent`, with the
    /// partition's readable end at `end`: reading goes on by windows while answers stop short
    /// of the end, and stops once one reaches it (or brings nothing).
    ///
    /// A window that starts inside a batch gets that batch whole, which costs it up to a
    /// batch of new records: the next window starts that much, and a sixteenth, short of
    /// what the answer held. An answer of one batch means batches at least as large as what
    /// is asked for: windows then go a batch at a time.
    pub fn answered(&mut self, start: i64, extent: Option<Extent>, end: Option<i64>) {
        let Some(Extent {
            first,
            next,
            batches,
        }) = extent
        else {
            self.stop();
            return;
        };
        if next <= start || end.is_none_or(|end| next >= end) {
            self.stop();
            return;
        }
        let held = next - first;
        let span = match i64::try_from(batches).unwrap_or(i64::MAX) {
            1 => held,
            batches => held - held / batches - held / 16,
        };
        self.span = Some(span.max(1));
    }

    /// Forgets the windows in flight (their answers will find no place) and goes back to the
    /// regular fetch.
    pub fn stop(&mut self) {
        self.span = None;
        self.windows.clear();
    }
}

/// Where `p`'s records end for this consumer, as the broker last said: the high watermark, or
/// the last stable offset under `read_committed`.
pub(super) fn end(p: &PartitionState, config: &ConsumerConfig) -> Option<i64> {
    match config.isolation_level {
        IsolationLevel::ReadCommitted => p.last_stable_offset,
        IsolationLevel::ReadUncommitted => p.high_watermark,
    }
}

/// The bytes a window is counted as before any has answered.
fn max_partition_bytes(config: &ConsumerConfig) -> usize {
    usize::try_from(config.max_partition_fetch_bytes).unwrap_or(0)
}

/// A partition being read ahead that may be due windows: one with a position, not paused,
/// with a known leader, while the fetch buffer has room (the regular fetch's checks, made by
/// `Shared::schedule`).
pub(super) struct Behind {
    /// The partition, the offset received up to, and what its leader was planned against.
    pub planned: Planned,
    pub leader: i32,
    /// Records a window is expected to bring.
    pub span: i64,
}

/// Sends the windows the partitions `behind` are due. Called with the lock held.
pub(super) fn schedule(shared: &Arc<Shared>, state: &mut State, behind: Vec<Behind>) {
    let config = &shared.config;
    let window = state.window_bytes.max(max_partition_bytes(config));
    for Behind {
        planned:
            Planned {
                tp,
                generation,
                offset: received,
                leader_epoch,
            },
        leader,
        span,
    } in behind
    {
        loop {
            let full = (state.windows_in_flight + 1) * window > 2 * config.fetch_buffer_bytes;
            let p = state.partitions.get_mut(&tp).expect("assigned");
            let next = p.ahead.windows.back().map_or(received, |w| w.start + span);
            let worth_it =
                p.ahead.windows.is_empty() || end(p, config).is_some_and(|end| next < end);
            if p.ahead.windows.len() >= WINDOWS || !worth_it || full {
                break;
            }
            let id = WINDOW_IDS.fetch_add(1, Ordering::Relaxed);
            p.ahead.windows.push_back(Window {
                id,
                start: next,
                answer: None,
            });
            let planned = Planned {
                tp: tp.clone(),
                generation,
                offset: next,
                leader_epoch,
            };
            state.windows_in_flight += 1;
            tokio::spawn(fetch_window(
                Arc::downgrade(shared),
                shared.cluster.clone(),
                config.clone(),
                leader,
                planned,
                id,
            ));
        }
    }
}

/// Fetches one window and applies what can be applied.
async fn fetch_window(
    shared: Weak<Shared>,
    cluster: Cluster,
    config: Arc<ConsumerConfig>,
    broker: i32,
    planned: Planned,
    id: u64,
) {
    let plan = std::slice::from_ref(&planned);
    let answer = match cluster.read_ahead_connection(broker).await {
        Ok(connection) => fetch::send(&connection, &cluster, &config, plan).await,
        Err(error) => Err(error),
    };
    let answer = match answer {
        Ok(response) => {
            let mut deferred = Vec::new();
            let (_, outcome, marks) = fetch::outcomes(plan, response, &config, &mut deferred)
                .pop()
                .expect("one outcome per planned partition");
            Answer {
                outcome,
                marks,
                deferred: deferred.pop(),
            }
        }
        Err(error) => {
            tracing::debug!(broker, tp = %planned.tp, %error, "read-ahead fetch failed");
            Answer {
                outcome: Outcome::Retry,
                marks: Marks::default(),
                deferred: None,
            }
        }
    };
    let Some(consumer) = shared.upgrade() else {
        return;
    };
    let mut ready = Vec::new();
    consumer.update(|state| {
        state.windows_in_flight -= 1;
        ready = state.window_answered(&planned, id, answer, &config);
    });
    fetch::decode(&consumer, ready);
}

impl State {
    /// Takes the answer of window `id` of `planned.tp` and applies, in order, every answer
    /// whose earlier windows have been applied; returns the records to decode.
    pub(super) fn window_answered(
        &mut self,
        planned: &Planned,
        id: u64,
        answer: Answer,
        config: &ConsumerConfig,
    ) -> Vec<Deferred> {
        let mut ready = Vec::new();
        let Some(p) = self.partitions.get_mut(&planned.tp) else {
            return ready;
        };
        if p.generation != planned.generation {
            return ready;
        }
        let Some(window) = p.ahead.windows.iter_mut().find(|w| w.id == id) else {
            return ready;
        };
        window.answer = Some(answer);
        while p.ahead.windows.front().is_some_and(|w| w.answer.is_some()) {
            let window = p.ahead.windows.pop_front().expect("checked above");
            let answer = window.answer.expect("checked above");
            answer.marks.record(p);
            let received = p.fetch_offset;
            let (
                Some(received),
                Outcome::Data {
                    chunk: Some(chunk),
                    extent: Some(extent),
                },
                Some(mut deferred),
            ) = (received, answer.outcome, answer.deferred)
            else {
                p.ahead.stop();
                break;
            };
            if window.start > received {
                // A gap: the estimate ran past the answer before.
                p.ahead.windows.clear();
                break;
            }
            // An answer with nothing new (a batch larger than a window returns whole to
            // every window that starts inside it) is skipped.
            let bytes = chunk.bytes();
            self.window_bytes = self.window_bytes.max(bytes);
            if extent.next > received {
                deferred.fetch_offset = received;
                self.buffered_bytes += bytes;
                p.chunks.push_back(chunk);
                p.fetch_offset = Some(extent.next);
                ready.push(deferred);
                let end = end(p, config);
                p.ahead.answered(window.start, Some(extent), end);
            }
            if !p.ahead.is_reading() {
                break;
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests;
