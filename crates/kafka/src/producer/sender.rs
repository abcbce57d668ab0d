//! The sender: one task per producer that closes lingering batches and groups ready batches by
//! partition leader into Produce requests, and one task per broker that encodes (compresses)
//! and writes that broker's requests in order, several in flight; the answers are booked as
//! they come: completion, ordered retries, producer ids and metadata refreshes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use tokio::sync::mpsc;

use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{InitProducerIdRequest, ProduceRequest, ProduceResponse, TopicName};

use super::Shared;
use super::accumulator::{Completed, Sent};
use super::config::Acks;
use crate::cluster::ExponentialBackoff;
use crate::error::{Error, Result, check};

/// Java's default `transaction.timeout.ms`, sent with InitProducerId as Java does.
const TRANSACTION_TIMEOUT_MS: i32 = 60_000;

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut brokers: HashMap<i32, mpsc::UnboundedSender<Vec<Sent>>> = HashMap::new();
    loop {
        let notified = shared.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let metadata = shared.cluster.metadata();
        let drained =
            shared
                .state()
                .drain(&shared.config, &metadata, Instant::now(), shared.idempotent);
        shared.release(drained.released);
        if drained.need_metadata {
            spawn_metadata_refresh(&shared);
        }
        if drained.need_producer_id {
            spawn_init_producer_id(&shared);
        }
        for (broker, batches) in drained.requests {
            let queue = brokers.entry(broker).or_insert_with(|| {
                let (queue, requests) = mpsc::unbounded_channel();
                tokio::spawn(broker_sender(shared.clone(), broker, requests));
                queue
            });
            // The broker task ends only when its queue is dropped, below.
            let _ = queue.send(batches);
        }
        if drained.finished {
            return;
        }
        match drained.next_check {
            Some(at) => {
                tokio::select! {
                    _ = &mut notified => {}
                    _ = tokio::time::sleep_until(at.into()) => {}
                }
            }
            None => notified.await,
        }
    }
}

fn spawn_metadata_refresh(shared: &Arc<Shared>) {
    let topics: Vec<String> = {
        let mut state = shared.state();
        if state.metadata_running {
            return;
        }
        state.metadata_running = true;
        state.metadata_wanted = false;
        state.topics.keys().map(ToString::to_string).collect()
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        shared.cluster.request_update();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        if let Err(error) = shared.cluster.metadata_for(&names, true).await {
            tracing::debug!(%error, "producer metadata refresh failed");
        }
        // Spaces refreshes out while leaders are missing.
        tokio::time::sleep(shared.cluster.config().retry_backoff).await;
        shared.state().metadata_running = false;
        shared.wake.notify_one();
    });
}

fn spawn_init_producer_id(shared: &Arc<Shared>) {
    {
        let mut state = shared.state();
        if state.init_running {
            return;
        }
        state.init_running = true;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let result = shared
            .cluster
            .retry("InitProducerId", || init_producer_id(&shared))
            .await;
        let retry = {
            let mut state = shared.state();
            state.init_running = false;
            match result {
                Ok(producer) => {
                    tracing::debug!(?producer, "producer id");
                    state.producer = Some(producer);
                    false
                }
                Err(error) if error.is_retriable() => true,
                Err(error) => {
                    tracing::warn!(%error, "InitProducerId failed");
                    state.fatal = Some(error);
                    false
                }
            }
        };
        if retry {
            tokio::time::sleep(shared.cluster.config().retry_backoff).await;
        }
        shared.wake.notify_one();
    });
}

async fn init_producer_id(shared: &Shared) -> Result<(i64, i16)> {
    let connection = shared.cluster.any_connection().await?;
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(TRANSACTION_TIMEOUT_MS)
        .with_producer_id((-1).into())
        .with_producer_epoch(-1);
    let response = connection.send(&request).await?;
    check(response.error_code, None)?;
    Ok((response.producer_id.0, response.producer_epoch))
}

/// Writes the requests for `broker` in the order the sender drained them, so that the broker
/// receives each partition's batches in sequence order.
async fn broker_sender(
    shared: Arc<Shared>,
    broker: i32,
    mut requests: mpsc::UnboundedReceiver<Vec<Sent>>,
) {
    while let Some(batches) = requests.recv().await {
        send_request(&shared, broker, batches).await;
    }
}

/// Encodes and writes one Produce request; its answer is booked by a task of its own so that
/// the next request can go out meanwhile.
async fn send_request(shared: &Arc<Shared>, broker: i32, mut batches: Vec<Sent>) {
    let config = &shared.config;
    let mut topic_data: Vec<TopicProduceData> = Vec::new();
    let mut outcomes: Vec<Option<Result<(i64, i64)>>> = Vec::with_capacity(batches.len());
    for sent in &mut batches {
        match sent
            .batch
            .wire(config.compression, &config.compression_levels, sent.stamp)
        {
            Ok(records) => {
                let partition = PartitionProduceData::default()
                    .with_index(sent.partition)
                    .with_records(Some(records));
                match topic_data.iter_mut().find(|t| t.name.0 == sent.topic) {
                    Some(topic) => topic.partition_data.push(partition),
                    // Name for Produce v3–12, id for v13+: whichever version is negotiated.
                    None => topic_data.push(
                        TopicProduceData::default()
                            .with_name(TopicName(sent.topic.clone()))
                            .with_topic_id(sent.topic_id)
                            .with_partition_data(vec![partition]),
                    ),
                }
                outcomes.push(None);
            }
            Err(error) => outcomes.push(Some(Err(error))),
        }
    }
    let request = ProduceRequest::default()
        .with_acks(config.acks as i16)
        .with_timeout_ms(
            i32::try_from(shared.cluster.config().request_timeout.as_millis()).unwrap_or(i32::MAX),
        )
        .with_topic_data(topic_data);
    let connection = match shared.cluster.connection(broker).await {
        Ok(connection) => connection,
        Err(error) => return book(shared, broker, batches, outcomes, Err(error)),
    };
    if config.acks == Acks::None {
        let written = connection.send_without_response(&request).map(|()| None);
        return book(shared, broker, batches, outcomes, written);
    }
    let mut answer = Box::pin(async move { connection.send(&request).await });
    // `Connection::send` queues its request when first polled: polling it here, before the
    // next request's, keeps the order. The answer is awaited elsewhere.
    match poll_once(&mut answer).await {
        Some(answer) => book(shared, broker, batches, outcomes, answer.map(Some)),
        None => {
            let shared = shared.clone();
            tokio::spawn(async move {
                let answer = answer.await.map(Some);
                book(&shared, broker, batches, outcomes, answer);
            });
        }
    }
}

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match Pin::new(&mut *future).poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// Records the outcome of every batch of one request (`None`: `acks=0`, no answer).
fn book(
    shared: &Shared,
    broker: i32,
    batches: Vec<Sent>,
    mut outcomes: Vec<Option<Result<(i64, i64)>>>,
    answer: Result<Option<ProduceResponse>>,
) {
    for (sent, outcome) in batches.iter().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            *outcome = Some(match &answer {
                Err(error) => Err(error.clone()),
                Ok(None) => Ok((-1, -1)),
                Ok(Some(response)) => partition_outcome(response, sent),
            });
        }
    }
    let cluster = shared.cluster.config();
    let backoff = ExponentialBackoff::new(cluster.retry_backoff, cluster.retry_backoff_max);
    let mut completed = Completed::default();
    {
        let mut state = shared.state();
        for (sent, outcome) in batches.into_iter().zip(outcomes) {
            let outcome = outcome.expect("every batch has an outcome");
            state.complete(&shared.config, &backoff, sent, outcome, &mut completed);
        }
        state.request_done(broker);
    }
    shared.release(completed.released);
    shared.wake.notify_one();
}

fn partition_outcome(response: &ProduceResponse, sent: &Sent) -> Result<(i64, i64)> {
    let partition = response
        .responses
        .iter()
        .filter(|t| {
            if t.name.0.is_empty() {
                t.topic_id == sent.topic_id
            } else {
                t.name.0 == sent.topic
            }
        })
        .flat_map(|t| &t.partition_responses)
        .find(|p| p.index == sent.partition)
        .ok_or_else(|| {
            Error::Protocol(format!(
                "Produce response without {}-{}",
                sent.topic, sent.partition
            ))
        })?;
    check(partition.error_code, partition.error_message.as_deref())?;
    Ok((partition.base_offset, partition.log_append_time_ms))
}
