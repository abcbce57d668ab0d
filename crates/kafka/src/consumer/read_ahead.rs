//! Read-ahead: fetches kept in flight ahead of a partition's data.
//!
//! A consumer with one fetch in flight per broker gets at most one answer per round trip: on a
//! link with a long round trip, a partition that is behind is read at `max.partition.fetch.bytes`
//! per round trip however much bandwidth there is. So once an answer stops short of the
//! partition's high watermark, the partition leaves the regular fetch and is read by *windows*:
//! single-partition fetches with the regular fetch's limits, up to [`WINDOWS`] in flight, each
//! starting where the one before is expected to end.
//!
//! A broker answers a single-partition fetch with about the same amount each time, and a
//! window that starts inside a batch gets that batch whole, from its start. When the last
//! answer's batches all covered the same number of offsets (a producer filling its batches),
//! they lay a grid: a window starts half a batch past where the one before is expected to end,
//! as many batches on as that answer held (less one in sixteen, for batches whose size in bytes
//! varies). It then gets whole the batch that starts where the one before ends, even when
//! batches are a few records longer or shorter than they looked, and windows meet without
//! fetching a batch twice. Otherwise a window spans what the last answer held less its largest
//! batch and a sixteenth, so that windows overlap rather than leave gaps.
//!
//! Answers are applied in the order the windows were sent, whatever order they come in. Records
//! an earlier answer already brought are skipped. When an answer starts past what has been
//! received (the estimate was too long), or a window not yet answered starts a batch or more
//! past it, a window is sent from what was received to fill the gap, ahead of the windows in
//! flight, which are kept; on a grid, windows then start a batch shorter. An empty answer, an
//! error, or an answer that reaches the high watermark ends the read-ahead: windows still in
//! flight are forgotten, and the partition goes back to the regular fetch, which handles errors
//! and waits for new data. Order and at-least-once are thus those of the regular fetch.
//!
//! Windows go over a connection of their own (`Cluster::read_ahead_connection`): a broker
//! serves one request per connection at a time, and the regular fetch may be held there for
//! `fetch.max.wait.ms`. Windows are sent while unpolled data is under `fetch_buffer_bytes`, and
//! the windows in flight (each counted as the largest answer a window has brought) stay within
//! four times that much: at the default 16 MiB, 64 MiB in flight keeps a link with a 50 ms
//! round trip busy at about a gigabyte a second.

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
    /// What one window is expected to bring; `None` while the partition is fetched the regular
    /// way.
    span: Option<Span>,
    /// Windows in flight, oldest first.
    windows: VecDeque<Window>,
    /// Whether a window has started past what was received since the read-ahead began.
    overshot: bool,
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

impl Window {
    /// Whether records between `received` and the window are missing: it starts past
    /// `received`, and its answer does too (a window gets whole the batch it starts in) or,
    /// before the answer comes, it starts at least `batch` offsets past it. (A window from
    /// `received` or before has no gap: offsets its answer skips do not exist.)
    fn leaves_gap(&self, received: i64, batch: i64) -> bool {
        self.start > received
            && match &self.answer {
                Some(answer) => matches!(
                    answer.outcome,
                    Outcome::Data { extent: Some(e), .. } if e.first > received
                ),
                None => self.start - received >= batch,
            }
    }
}

/// How far apart windows start, learnt from the last answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Span {
    /// Batches of `stride` offsets each, one of them at `boundary`: a window ends `batches`
    /// whole batches after the batch it starts in, and the next one starts half a batch on,
    /// where it gets the batch that starts at that end whole even if batches are a few
    /// records longer or shorter than they looked.
    Grid {
        boundary: i64,
        stride: i64,
        batches: i64,
    },
    /// Batches of uneven size, the largest covering `largest` offsets: a window brings about
    /// `records` new records.
    About { records: i64, largest: i64 },
}

impl Span {
    /// Where the window after one sent at `start` starts. Always past `start`.
    pub fn next(self, start: i64) -> i64 {
        match self {
            Span::Grid {
                boundary,
                stride,
                batches,
            } => {
                let batch = boundary + (start - boundary).div_euclid(stride) * stride;
                batch + batches * stride + stride / 2
            }
            Span::About { records, .. } => start + records,
        }
    }

    /// The most offsets a batch covers, as far as the last answer showed.
    fn batch(self) -> i64 {
        match self {
            Span::Grid { stride, .. } => stride,
            Span::About { largest, .. } => largest,
        }
    }
}

impl ReadAhead {
    /// Whether the partition is read by windows (and left out of the regular fetch).
    pub fn is_reading(&self) -> bool {
        self.span.is_some()
    }

    /// Learns from an answer to a fetch at `start` whose batches lie at `extent`, with the
    /// partition's readable end at `end`: reading goes on by windows while answers stop short
    /// of the end, and stops once one reaches it (or brings nothing).
    ///
    /// Batches that all cover the same number of offsets lay a grid: each window starts in
    /// the batch where the one before is expected to end, as many batches on as the answer
    /// held, less one in sixteen, and less one more once a window has started past what was
    /// received (batches are not as even as they looked). Otherwise a window that starts
    /// inside a batch gets that batch whole, which costs it up to a batch of new records: the
    /// next window starts the largest batch, and a sixteenth, short of what the answer held.
    pub fn answered(&mut self, start: i64, extent: Option<Extent>, end: Option<i64>) {
        let Some(extent) = extent else {
            self.stop();
            return;
        };
        let Extent {
            first,
            next,
            batches,
            largest,
        } = extent;
        if next <= start || end.is_none_or(|end| next >= end) {
            self.stop();
            return;
        }
        let batches = i64::try_from(batches).unwrap_or(i64::MAX);
        let held = next - first;
        self.span = Some(match extent.stride() {
            Some(stride) => Span::Grid {
                boundary: first,
                stride,
                batches: (batches - batches / 16 - i64::from(self.overshot)).max(1),
            },
            None => Span::About {
                records: (held - largest - held / 16).max(1),
                largest,
            },
        });
    }

    /// Where the next window should start, with `received` the offset received up to and
    /// `end` the partition's readable end, if one is due. From `received` when the first
    /// window in flight leaves a gap after it (whatever the number in flight): its answer
    /// starts past `received`, or, before it comes, the window starts a batch or more past
    /// it. Else where the last window is expected to end, while fewer than [`WINDOWS`] are in
    /// flight and that is short of the end.
    fn due(&self, received: i64, end: Option<i64>) -> Option<i64> {
        let span = self.span?;
        let Some(back) = self.windows.back() else {
            return Some(received);
        };
        if self.gap_after(received) {
            return Some(received);
        }
        let next = span.next(back.start);
        (self.windows.len() < WINDOWS && end.is_some_and(|end| next < end)).then_some(next)
    }

    /// Whether the first window in flight leaves a gap after `received`.
    fn gap_after(&self, received: i64) -> bool {
        match (self.windows.front(), self.span) {
            (Some(front), Some(span)) => front.leaves_gap(received, span.batch()),
            _ => false,
        }
    }

    /// Records a window sent at `start` (where [`Self::due`] said), and returns its id.
    fn send(&mut self, start: i64) -> u64 {
        let id = WINDOW_IDS.fetch_add(1, Ordering::Relaxed);
        let window = Window {
            id,
            start,
            answer: None,
        };
        if self.windows.front().is_some_and(|w| w.start > start) {
            self.overshot = true;
            self.windows.push_front(window);
        } else {
            self.windows.push_back(window);
        }
        id
    }

    /// Forgets the windows in flight (their answers will find no place) and goes back to the
    /// regular fetch.
    pub fn stop(&mut self) {
        self.span = None;
        self.windows.clear();
        self.overshot = false;
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
    } in behind
    {
        loop {
            let full = (state.windows_in_flight + 1) * window > 4 * config.fetch_buffer_bytes;
            let p = state.partitions.get_mut(&tp).expect("assigned");
            let Some(next) = p.ahead.due(received, end(p, config)).filter(|_| !full) else {
                break;
            };
            let id = p.ahead.send(next);
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
        // An answer that starts past what was received waits for the window `schedule` then
        // sends to fill the gap.
        while p.ahead.windows.front().is_some_and(|w| w.answer.is_some())
            && p.fetch_offset
                .is_some_and(|received| !p.ahead.gap_after(received))
        {
            let window = p.ahead.windows.pop_front().expect("checked above");
            let answer = window.answer.expect("checked above");
            answer.marks.record(p);
            let (
                Some(received),
                Outcome::Data {
                    chunk: Some(chunk),
                    extent: Some(extent),
                },
                Some(mut deferred),
            ) = (p.fetch_offset, answer.outcome, answer.deferred)
            else {
                p.ahead.stop();
                break;
            };
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
