//! Reading partition 0 of an internal topic from its start: to its end first (the end taken
//! from a Fetch answer, which brokers report reliably), then as it grows.

use std::time::Duration;

use ferry_kafka::consumer::{ConsumerRecord, TopicPartition};
use ferry_kafka::{Consumer, Result};

/// How long one poll of an internal topic waits.
const POLL: Duration = Duration::from_millis(500);

/// Partition 0 of one topic, read from its beginning.
#[derive(Debug)]
pub(super) struct TopicReader {
    consumer: Consumer,
    partition: TopicPartition,
}

impl TopicReader {
    pub(super) fn new(consumer: Consumer, topic: &str) -> Result<Self> {
        let partition = TopicPartition::new(topic, 0);
        consumer.assign([partition.clone()]);
        consumer.seek_to_beginning(std::slice::from_ref(&partition))?;
        Ok(Self {
            consumer,
            partition,
        })
    }

    /// Hands every record up to the partition's current end to `apply`.
    pub(super) async fn read_to_end(&self, mut apply: impl FnMut(&ConsumerRecord)) -> Result<()> {
        let ends = self
            .consumer
            .end_offsets_from_fetch(std::slice::from_ref(&self.partition))
            .await?;
        let end = ends.get(&self.partition).copied().unwrap_or(0);
        while self.consumer.position(&self.partition).await? < end {
            for record in self.consumer.poll(POLL).await? {
                apply(&record);
            }
        }
        Ok(())
    }

    /// The records that arrived since the last read, waiting a little for some.
    pub(super) async fn poll(&self) -> Result<Vec<ConsumerRecord>> {
        self.consumer.poll(POLL).await
    }
}
