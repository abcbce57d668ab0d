//! The outcome of a send: one shared result per batch, and a small future per record that
//! reads its own offset from it (no allocation or task per record), following the batch into
//! the smaller ones it is split into when the broker refuses it as too large.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use kafka_protocol::protocol::StrBytes;

use crate::error::{Error, Result};

/// Where a record was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The topic.
    pub topic: StrBytes,
    /// The partition.
    pub partition: i32,
    /// The record's offset; -1 when unknown (`acks=0`, or a batch the broker reported as a
    /// duplicate of one it already had).
    pub offset: i64,
    /// The record's timestamp: the broker's log append time when the topic uses
    /// `LogAppendTime`, else the create time that was sent.
    pub timestamp: i64,
}

/// What became of a batch.
#[derive(Debug)]
enum Outcome {
    /// `(base offset, log append time)` or the error.
    Done(Result<(i64, i64)>),
    /// The broker refused the batch as too large and its records went on in smaller batches:
    /// each piece's result with the offset delta its first record had here, in order.
    Split(Vec<(i32, Arc<BatchResult>)>),
}

/// Where a batch went and what happened to it, shared by the futures of its records.
#[derive(Debug)]
pub(crate) struct BatchResult {
    topic: StrBytes,
    partition: i32,
    outcome: OnceLock<Outcome>,
    wakers: Mutex<Vec<Waker>>,
}

impl BatchResult {
    pub(crate) fn new(topic: StrBytes, partition: i32) -> Arc<Self> {
        Arc::new(Self {
            topic,
            partition,
            outcome: OnceLock::new(),
            wakers: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn partition(&self) -> i32 {
        self.partition
    }

    pub(crate) fn topic(&self) -> &StrBytes {
        &self.topic
    }

    /// Sets the outcome (the first one wins) and wakes every record's future.
    pub(crate) fn complete(&self, outcome: Result<(i64, i64)>) {
        self.set(Outcome::Done(outcome));
    }

    /// Hands the records on to the batches this one was split into: `pieces` pairs each
    /// piece's result with the offset delta its first record has in this batch, in order.
    /// The records' futures follow, so that they resolve to their offsets in the pieces.
    pub(crate) fn split(&self, pieces: Vec<(i32, Arc<BatchResult>)>) {
        self.set(Outcome::Split(pieces));
    }

    fn set(&self, outcome: Outcome) {
        if self.outcome.set(outcome).is_ok() {
            let wakers = std::mem::take(&mut *self.wakers());
            for waker in wakers {
                waker.wake();
            }
        }
    }

    fn wakers(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Resolves to the [`RecordMetadata`] of one sent record once its batch is acknowledged, or
/// to the error that made its delivery fail. Dropping it does not cancel the send.
#[derive(Debug)]
#[must_use = "a delivery future tells whether the record was written"]
pub struct DeliveryFuture {
    batch: Arc<BatchResult>,
    offset_delta: i32,
    timestamp: i64,
    /// Index of our waker in the batch's list, once registered.
    slot: Option<usize>,
}

impl DeliveryFuture {
    pub(crate) fn new(batch: Arc<BatchResult>, offset_delta: i32, timestamp: i64) -> Self {
        Self {
            batch,
            offset_delta,
            timestamp,
            slot: None,
        }
    }

    fn ready(&self, outcome: &Result<(i64, i64)>) -> Result<RecordMetadata> {
        let (base_offset, log_append_time) = outcome.as_ref().map_err(Clone::clone)?;
        Ok(RecordMetadata {
            topic: self.batch.topic.clone(),
            partition: self.batch.partition,
            offset: if *base_offset >= 0 {
                base_offset + i64::from(self.offset_delta)
            } else {
                -1
            },
            timestamp: if *log_append_time >= 0 {
                *log_append_time
            } else {
                self.timestamp
            },
        })
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let outcome = match this.batch.outcome.get() {
                Some(outcome) => outcome,
                None => {
                    let mut wakers = this.batch.wakers();
                    // Checked again under the lock: `set` sets the outcome before taking the
                    // wakers.
                    if let Some(outcome) = this.batch.outcome.get() {
                        drop(wakers);
                        outcome
                    } else {
                        match this.slot {
                            Some(i) if i < wakers.len() => {
                                if !wakers[i].will_wake(cx.waker()) {
                                    wakers[i] = cx.waker().clone();
                                }
                            }
                            _ => {
                                this.slot = Some(wakers.len());
                                wakers.push(cx.waker().clone());
                            }
                        }
                        return Poll::Pending;
                    }
                }
            };
            let piece = match outcome {
                Outcome::Done(result) => return Poll::Ready(this.ready(result)),
                Outcome::Split(pieces) => pieces
                    .iter()
                    .rev()
                    .find(|(first, _)| *first <= this.offset_delta)
                    .cloned(),
            };
            let Some((first, piece)) = piece else {
                return Poll::Ready(Err(Error::Protocol(format!(
                    "record {} missing from the split batch",
                    this.offset_delta
                ))));
            };
            // The record moved to `piece`: wait there, registered afresh.
            this.batch = piece;
            this.offset_delta -= first;
            this.slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_read_their_offsets_from_the_batch() {
        let batch = BatchResult::new(StrBytes::from_static_str("t"), 3);
        let first = DeliveryFuture::new(batch.clone(), 0, 100);
        let second = DeliveryFuture::new(batch.clone(), 1, 101);
        let waiter = tokio::spawn(second);
        tokio::task::yield_now().await;
        batch.complete(Ok((40, -1)));
        let second = waiter.await.unwrap().unwrap();
        assert_eq!(
            (second.partition, second.offset, second.timestamp),
            (3, 41, 101)
        );
        let first = first.await.unwrap();
        assert_eq!((first.offset, first.timestamp), (40, 100));
        // Log append time wins over the create time.
        let appended = BatchResult::new(StrBytes::from_static_str("t"), 0);
        appended.complete(Ok((7, 555)));
        assert_eq!(
            DeliveryFuture::new(appended, 2, 1).await.unwrap().timestamp,
            555
        );
    }

    #[tokio::test]
    async fn records_follow_their_batch_into_its_pieces() {
        let batch = BatchResult::new(StrBytes::from_static_str("t"), 2);
        let futures: Vec<_> = (0..5)
            .map(|delta| DeliveryFuture::new(batch.clone(), delta, 100 + i64::from(delta)))
            .collect();
        let mut futures = futures.into_iter();
        // One future already waits on the original batch when it is split.
        let waiting = tokio::spawn(futures.next().unwrap());
        tokio::task::yield_now().await;
        let pieces: Vec<_> = (0..3)
            .map(|_| BatchResult::new(StrBytes::from_static_str("t"), 2))
            .collect();
        batch.split(vec![
            (0, pieces[0].clone()),
            (2, pieces[1].clone()),
            (4, pieces[2].clone()),
        ]);
        batch.complete(Ok((1, -1))); // ignored: the batch was split
        let rest: Vec<_> = futures.map(tokio::spawn).collect();
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        pieces[2].complete(Ok((70, -1)));
        pieces[1].complete(Err(Error::InvalidRequest("x".into())));
        pieces[0].complete(Ok((50, -1)));
        let first = waiting.await.unwrap().unwrap();
        assert_eq!(
            (first.partition, first.offset, first.timestamp),
            (2, 50, 100)
        );
        let mut outcomes = Vec::new();
        for future in rest {
            outcomes.push(future.await.unwrap().map(|m| (m.offset, m.timestamp)).ok());
        }
        assert_eq!(
            outcomes,
            [Some((51, 101)), None, None, Some((70, 104))],
            "records 2 and 3 share the failed piece"
        );
    }

    #[tokio::test]
    async fn errors_reach_every_record() {
        let batch = BatchResult::new(StrBytes::from_static_str("t"), 0);
        batch.complete(Err(Error::InvalidRequest("x".into())));
        batch.complete(Ok((1, -1))); // ignored: the first outcome wins
        assert!(DeliveryFuture::new(batch, 0, 0).await.is_err());
    }
}
