//! The outcome of a send: one shared result per batch, and a small future per record that
//! reads its own offset from it (no allocation or task per record).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use kafka_protocol::protocol::StrBytes;

use crate::error::Result;

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

/// Where a batch went and what happened to it, shared by the futures of its records.
#[derive(Debug)]
pub(crate) struct BatchResult {
    topic: StrBytes,
    partition: i32,
    /// `(base offset, log append time)` or the error.
    outcome: OnceLock<Result<(i64, i64)>>,
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
        if let Some(outcome) = this.batch.outcome.get() {
            return Poll::Ready(this.ready(outcome));
        }
        let mut wakers = this.batch.wakers();
        // Checked again under the lock: `complete` sets the outcome before taking the wakers.
        if let Some(outcome) = this.batch.outcome.get() {
            drop(wakers);
            return Poll::Ready(this.ready(outcome));
        }
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
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

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
    async fn errors_reach_every_record() {
        let batch = BatchResult::new(StrBytes::from_static_str("t"), 0);
        batch.complete(Err(Error::InvalidRequest("x".into())));
        batch.complete(Ok((1, -1))); // ignored: the first outcome wins
        assert!(DeliveryFuture::new(batch, 0, 0).await.is_err());
    }
}
