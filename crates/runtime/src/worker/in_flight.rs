//! A source task's records sent to Kafka and not yet acknowledged.
//!
//! Answered in the order Kafka answers, not in send order: a partition whose batch is still
//! filling must not hold back the records of partitions already acknowledged (they would stay
//! in memory with their fetched buffers). Each record waits in a plain future, with no box.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ferry_connect::record::SourceRecord;
use ferry_kafka::producer::{DeliveryFuture, RecordMetadata};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::submitted::Submitted;

/// A record's offset tracking (when it has a source offset), the record and Kafka's answer.
pub(crate) type Acknowledged = (
    Option<Submitted>,
    SourceRecord,
    Result<RecordMetadata, ferry_kafka::Error>,
);

/// Records in flight.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    records: FuturesUnordered<Sent>,
}

impl InFlight {
    /// Adds a sent record.
    pub(crate) fn push(
        &mut self,
        submitted: Option<Submitted>,
        record: SourceRecord,
        delivery: DeliveryFuture,
    ) {
        self.records.push(Sent {
            submitted,
            record: Some(record),
            delivery,
        });
    }

    /// Whether nothing is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The next record Kafka answered for; `None` at once when nothing is in flight.
    /// Cancel-safe, as `FuturesUnordered::next` is.
    pub(crate) async fn next(&mut self) -> Option<Acknowledged> {
        self.records.next().await
    }
}

/// One record waiting for its batch's answer.
#[derive(Debug)]
struct Sent {
    submitted: Option<Submitted>,
    /// Taken when the answer comes.
    record: Option<SourceRecord>,
    delivery: DeliveryFuture,
}

impl Future for Sent {
    type Output = Acknowledged;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Acknowledged> {
        let this = self.get_mut();
        let result = ready!(Pin::new(&mut this.delivery).poll(cx));
        let record = this.record.take().expect("a sent record is answered once");
        Poll::Ready((this.submitted, record, result))
    }
}
