//! A source task's records sent to Kafka and not yet acknowledged.
//!
//! Records wait in one queue ("lane") per target topic and partition, since Kafka answers a
//! partition's batches in the order they were sent. Only the oldest record of each lane waits
//! with a waker; when its batch is answered, the records behind it that share that answer are
//! taken at once rather than each being woken and polled on its own (a batch holds hundreds of
//! records). Lanes are independent: a partition whose batch is still filling does not hold back
//! the records of partitions already acknowledged (they would stay in memory with their fetched
//! buffers).
//!
//! Records without a chosen partition share their topic's lane: the producer's partitioner
//! may spread them over partitions answered in another order, which only delays taking an
//! answered record until the records sent before it are answered too.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use ferry_connect::record::SourceRecord;
use ferry_kafka::producer::DeliveryFuture;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::submitted::Submitted;

/// A record's offset tracking (when it has a source offset), the record and Kafka's answer.
pub(crate) type Acknowledged<T = <DeliveryFuture as Future>::Output> =
    (Option<Submitted>, SourceRecord, T);

/// Records in flight, each waiting on its delivery future `F` (the producer's, or a stand-in
/// in tests).
#[derive(Debug)]
pub(crate) struct InFlight<F: Future + Unpin = DeliveryFuture> {
    lanes: Vec<Lane<F>>,
    /// Each lane's index in `lanes`.
    index: HashMap<(String, Option<i32>), usize>,
    /// The lane of the latest record: consecutive records mostly share one, and comparing is
    /// cheaper than hashing the topic.
    last: Option<usize>,
    /// The oldest record of each lane that has one, waiting for its answer.
    heads: FuturesUnordered<Head<F>>,
    /// Records answered and not yet taken, in the order they were found answered.
    answered: VecDeque<Acknowledged<F::Output>>,
    len: usize,
}

impl<F: Future + Unpin> Default for InFlight<F> {
    fn default() -> Self {
        Self {
            lanes: Vec::new(),
            index: HashMap::new(),
            last: None,
            heads: FuturesUnordered::new(),
            answered: VecDeque::new(),
            len: 0,
        }
    }
}

/// The records of one target partition (or of one topic, for records without a partition)
/// sent after its head, in send order.
#[derive(Debug)]
struct Lane<F> {
    topic: String,
    partition: Option<i32>,
    queue: VecDeque<Sent<F>>,
    /// Whether the lane's head is in `heads`.
    waiting: bool,
}

/// One record waiting for its batch's answer.
#[derive(Debug)]
struct Sent<F> {
    submitted: Option<Submitted>,
    record: SourceRecord,
    delivery: F,
}

/// A lane's oldest record; resolves to the lane and the record with its answer.
#[derive(Debug)]
struct Head<F> {
    lane: usize,
    /// Taken when the answer comes.
    sent: Option<Sent<F>>,
}

impl<F: Future + Unpin> Future for Head<F> {
    type Output = (usize, Acknowledged<F::Output>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let sent = this.sent.as_mut().expect("a lane's head is answered once");
        let result = ready!(Pin::new(&mut sent.delivery).poll(cx));
        let sent = this.sent.take().expect("a lane's head is answered once");
        Poll::Ready((this.lane, (sent.submitted, sent.record, result)))
    }
}

impl<F: Future + Unpin> InFlight<F> {
    /// Adds a record sent to `topic` (and `partition`, when the record chose one).
    pub(crate) fn push(
        &mut self,
        submitted: Option<Submitted>,
        record: SourceRecord,
        topic: &str,
        partition: Option<i32>,
        delivery: F,
    ) {
        let lane = self.lane(topic, partition);
        let sent = Sent {
            submitted,
            record,
            delivery,
        };
        let l = &mut self.lanes[lane];
        if l.waiting {
            l.queue.push_back(sent);
        } else {
            l.waiting = true;
            self.heads.push(Head {
                lane,
                sent: Some(sent),
            });
        }
        self.len += 1;
    }

    fn lane(&mut self, topic: &str, partition: Option<i32>) -> usize {
        if let Some(last) = self.last {
            let l = &self.lanes[last];
            if l.partition == partition && l.topic == topic {
                return last;
            }
        }
        let key = (topic.to_owned(), partition);
        let lane = *self.index.entry(key).or_insert_with(|| {
            self.lanes.push(Lane {
                topic: topic.to_owned(),
                partition,
                queue: VecDeque::new(),
                waiting: false,
            });
            self.lanes.len() - 1
        });
        self.last = Some(lane);
        lane
    }

    /// Whether nothing is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next record Kafka answered for; `None` at once when nothing is in flight.
    /// Cancel-safe: the only wait is `FuturesUnordered::next`, which is.
    pub(crate) async fn next(&mut self) -> Option<Acknowledged<F::Output>> {
        if let Some(answered) = self.take_answered() {
            return Some(answered);
        }
        let (lane, answered) = self.heads.next().await?;
        self.len -= 1;
        self.advance(lane);
        Some(answered)
    }

    /// A record already known to be answered, without waiting.
    pub(crate) fn take_answered(&mut self) -> Option<Acknowledged<F::Output>> {
        let answered = self.answered.pop_front()?;
        self.len -= 1;
        Some(answered)
    }

    /// Moves the records of `lane` whose answer is already there to `answered`, and the first
    /// one still waiting (if any) to `heads`.
    fn advance(&mut self, lane: usize) {
        let l = &mut self.lanes[lane];
        // Records behind a head mostly share its batch, whose answer is in: a poll without a
        // waker reads it. One still waiting gets the real waker when `heads` polls it.
        let mut cx = Context::from_waker(Waker::noop());
        while let Some(mut sent) = l.queue.pop_front() {
            match Pin::new(&mut sent.delivery).poll(&mut cx) {
                Poll::Ready(result) => {
                    self.answered
                        .push_back((sent.submitted, sent.record, result));
                }
                Poll::Pending => {
                    self.heads.push(Head {
                        lane,
                        sent: Some(sent),
                    });
                    return;
                }
            }
        }
        l.waiting = false;
        // A burst may have grown the queue far beyond what an idle lane needs.
        if l.queue.capacity() > IDLE_LANE_CAPACITY {
            l.queue.shrink_to(IDLE_LANE_CAPACITY);
        }
    }
}

/// How many records' room a lane keeps once it has nothing in flight.
const IDLE_LANE_CAPACITY: usize = 1024;

#[cfg(test)]
#[path = "in_flight_tests.rs"]
mod tests;
