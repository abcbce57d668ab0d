//! A Kafka cluster as clients see it: bootstrap servers, a metadata cache, one shared
//! connection per broker, group coordinators, and the retry and reconnect policies.

mod backoff;
mod config;
mod metadata;
mod pool;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    FindCoordinatorRequest, MetadataRequest, TopicName, metadata_request::MetadataRequestTopic,
};
use kafka_protocol::protocol::StrBytes;

pub use backoff::ExponentialBackoff;
pub use config::ClientConfig;
pub use metadata::{Broker, Metadata, PartitionMetadata, TopicMetadata};

use crate::connection::{Connection, Connector, TcpConnector};
use crate::error::{Error, KafkaCode, Result, check};
use pool::{Endpoint, Pool};

/// The kind of coordinator to look up with FindCoordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoordinatorType {
    /// The group coordinator of a consumer or Connect group.
    Group = 0,
    /// The transaction coordinator of a transactional id.
    Transaction = 1,
}

/// A handle on one Kafka cluster, shared by every producer, consumer and admin client built
/// from it: they share its metadata and its connections. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> ferry_kafka::Result<()> {
/// use ferry_kafka::{ClientConfig, Cluster};
/// use kafka_protocol::messages::ListOffsetsRequest;
///
/// let cluster = Cluster::new(ClientConfig::new("localhost:9092")?);
/// let leader = cluster.leader_for("orders", 0).await?;
/// let connection = cluster.connection(leader).await?;
/// // connection.send(&some_request).await? — see `Connection::send`.
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ClientConfig,
    pool: Pool,
    metadata: RwLock<Arc<Metadata>>,
    /// Set when a caller reports stale metadata; the next lookup refreshes.
    stale: AtomicBool,
    /// Topics whose metadata is kept current.
    topics: Mutex<BTreeSet<String>>,
    /// Serializes metadata refreshes so that concurrent callers share one.
    refreshing: tokio::sync::Mutex<()>,
    coordinators: Mutex<HashMap<(CoordinatorType, String), Broker>>,
    reaper: Option<tokio::task::AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(reaper) = &self.reaper {
            reaper.abort();
        }
        self.pool.close_all();
    }
}

impl Cluster {
    /// A cluster reached over plain TCP. Nothing is connected until the first request. When
    /// called inside a Tokio runtime, a task closes connections idle for longer than
    /// `connections.max.idle.ms`.
    pub fn new(config: ClientConfig) -> Self {
        Self::with_connector(config, Arc::new(TcpConnector))
    }

    /// A cluster reached through `connector` (TLS, or a test transport).
    pub fn with_connector(config: ClientConfig, connector: Arc<dyn Connector>) -> Self {
        let pool = Pool::new(
            connector,
            config.connection_config(),
            ExponentialBackoff::new(config.reconnect_backoff, config.reconnect_backoff_max),
            ExponentialBackoff::new(
                config.socket_connection_setup_timeout,
                config.socket_connection_setup_timeout_max,
            ),
            config.connections_max_idle,
        );
        let idle = config.connections_max_idle;
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let reaper = tokio::runtime::Handle::try_current()
                .ok()
                .map(|rt| rt.spawn(reap_idle(weak.clone(), idle)).abort_handle());
            Inner {
                config,
                pool,
                metadata: RwLock::new(Arc::new(Metadata::empty())),
                stale: AtomicBool::new(true),
                topics: Mutex::new(BTreeSet::new()),
                refreshing: tokio::sync::Mutex::new(()),
                coordinators: Mutex::new(HashMap::new()),
                reaper,
            }
        });
        Self { inner }
    }

    /// The configuration this cluster was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The current metadata snapshot, without refreshing it.
    pub fn metadata(&self) -> Arc<Metadata> {
        self.inner
            .metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Marks the metadata as stale: the next lookup refreshes it. Call this after errors for
    /// which [`Error::invalidates_metadata`] is true.
    pub fn request_update(&self) {
        self.inner.stale.store(true, Ordering::Relaxed);
    }

    /// Fetches metadata now for the brokers and every topic looked up so far.
    pub async fn refresh_metadata(&self) -> Result<Arc<Metadata>> {
        let topics: Vec<String> = self.tracked_topics().into_iter().collect();
        self.fetch_metadata(Some(&topics), false).await
    }

    /// Fetches metadata for every topic in the cluster; the snapshot then holds all of them.
    pub async fn refresh_all_topics(&self) -> Result<Arc<Metadata>> {
        self.fetch_metadata(None, false).await
    }

    /// Metadata holding `topics`, refreshed if one is missing, the cache is stale or older
    /// than `metadata.max.age.ms`. With `allow_auto_create`, a broker configured for it creates
    /// missing topics (as producers and consumers ask). Topics that do not exist appear with
    /// `error: Some(UnknownTopicOrPartition)`.
    pub async fn metadata_for(
        &self,
        topics: &[&str],
        allow_auto_create: bool,
    ) -> Result<Arc<Metadata>> {
        {
            let mut tracked = self.inner.topics.lock().unwrap_or_else(|e| e.into_inner());
            tracked.extend(topics.iter().map(|t| (*t).to_owned()));
        }
        let current = self.metadata();
        let fresh = !self.inner.stale.load(Ordering::Relaxed)
            && current.fetched_at.elapsed() < self.inner.config.metadata_max_age
            && topics.iter().all(|t| {
                current.topics.get(*t).is_some_and(|m| {
                    m.error.is_none() && m.partitions.iter().all(|p| p.leader >= 0)
                })
            });
        if fresh {
            return Ok(current);
        }
        if allow_auto_create {
            // Only the topics asked for may be created, not every topic tracked so far.
            let asked: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
            return self.fetch_metadata(Some(&asked), true).await;
        }
        let all: Vec<String> = self.tracked_topics().into_iter().collect();
        self.fetch_metadata(Some(&all), false).await
    }

    /// The broker id leading `topic`'s `partition`. Errors are typed and retriable where
    /// Kafka's are: `UnknownTopicOrPartition` for a missing topic or partition,
    /// `LeaderNotAvailable` while there is no leader.
    pub async fn leader_for(&self, topic: &str, partition: i32) -> Result<i32> {
        let metadata = self.metadata_for(&[topic], false).await?;
        let kafka = |code| Error::Kafka {
            code,
            message: Some(format!("{topic}-{partition}")),
        };
        let t = metadata
            .topics
            .get(topic)
            .ok_or_else(|| kafka(KafkaCode::UnknownTopicOrPartition))?;
        if let Some(code) = t.error {
            return Err(kafka(code));
        }
        let p = metadata
            .partition(topic, partition)
            .ok_or_else(|| kafka(KafkaCode::UnknownTopicOrPartition))?;
        match p.leader {
            -1 => Err(kafka(p.error.unwrap_or(KafkaCode::LeaderNotAvailable))),
            leader => Ok(leader),
        }
    }

    /// A connection to the leader of `topic`'s `partition`.
    pub async fn leader_connection(&self, topic: &str, partition: i32) -> Result<Connection> {
        let leader = self.leader_for(topic, partition).await?;
        self.connection(leader).await
    }

    /// The shared connection to broker `broker_id`, opened if needed (after the reconnect
    /// backoff of earlier failures).
    pub async fn connection(&self, broker_id: i32) -> Result<Connection> {
        let broker = self.broker(broker_id).await?;
        self.connection_to(&broker).await
    }

    /// A second connection to broker `broker_id`, for a consumer's read-ahead fetches. A broker
    /// serves the requests of one connection in order, one at a time: on the shared connection
    /// they would wait behind a fetch the broker holds for `fetch.max.wait.ms`.
    pub(crate) async fn read_ahead_connection(&self, broker_id: i32) -> Result<Connection> {
        let broker = self.broker(broker_id).await?;
        self.inner
            .pool
            .get(&Endpoint::ReadAhead(broker.id), &broker.host, broker.port)
            .await
    }

    /// Broker `broker_id`'s address, from the cached metadata or, when it is not there, from
    /// fresh metadata.
    async fn broker(&self, broker_id: i32) -> Result<Broker> {
        let mut broker = self.metadata().brokers.get(&broker_id).cloned();
        if broker.is_none() {
            broker = self
                .refresh_metadata()
                .await?
                .brokers
                .get(&broker_id)
                .cloned();
        }
        broker.ok_or_else(|| Error::Kafka {
            code: KafkaCode::BrokerNotAvailable,
            message: Some(format!("broker {broker_id} is not in the metadata")),
        })
    }

    /// The shared connection to `broker`, whose address is known (e.g. from FindCoordinator).
    pub async fn connection_to(&self, broker: &Broker) -> Result<Connection> {
        self.inner
            .pool
            .get(&Endpoint::Broker(broker.id), &broker.host, broker.port)
            .await
    }

    /// A connection to some broker: an open one if there is one, else the known brokers and
    /// then the bootstrap servers are tried in turn.
    pub async fn any_connection(&self) -> Result<Connection> {
        if let Some(connection) = self.inner.pool.any_live() {
            return Ok(connection);
        }
        let brokers: Vec<Broker> = self.metadata().brokers.values().cloned().collect();
        let mut last_error = None;
        for broker in &brokers {
            match self.connection_to(broker).await {
                Ok(connection) => return Ok(connection),
                Err(e) => last_error = Some(e),
            }
        }
        for (host, port) in &self.inner.config.bootstrap_servers {
            let endpoint = Endpoint::Bootstrap(host.clone(), *port);
            match self.inner.pool.get(&endpoint, host, *port).await {
                Ok(connection) => return Ok(connection),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("bootstrap.servers is never empty"))
    }

    /// The cluster id, fetching metadata if none is known yet.
    pub async fn cluster_id(&self) -> Result<Option<String>> {
        let metadata = self.metadata();
        if metadata.cluster_id.is_some() {
            return Ok(metadata.cluster_id.clone());
        }
        Ok(self.refresh_metadata().await?.cluster_id.clone())
    }

    /// The coordinator of `key` (a group id or transactional id), from the cache or found with
    /// FindCoordinator. Call [`Cluster::invalidate_coordinator`] on `NOT_COORDINATOR` or
    /// `COORDINATOR_NOT_AVAILABLE`.
    pub async fn coordinator(&self, key: &str, key_type: CoordinatorType) -> Result<Broker> {
        let cache_key = (key_type, key.to_owned());
        if let Some(broker) = self.coordinators().get(&cache_key) {
            return Ok(broker.clone());
        }
        let broker = self
            .retry("FindCoordinator", || self.find_coordinator(key, key_type))
            .await?;
        self.coordinators().insert(cache_key, broker.clone());
        Ok(broker)
    }

    /// A connection to the coordinator of `key`, for that key's requests only (as Java's
    /// clients open a separate connection to their coordinator). A broker answers the requests
    /// of one connection in order, one at a time, and a coordinator holds a JoinGroup until the
    /// whole group has rejoined: on a shared connection, fetches, produces and other groups'
    /// heartbeats would wait behind it, time out and take the JoinGroup down with them.
    /// Requests for the same key still queue behind each other.
    pub async fn coordinator_connection(
        &self,
        key: &str,
        key_type: CoordinatorType,
    ) -> Result<Connection> {
        let broker = self.coordinator(key, key_type).await?;
        let endpoint = Endpoint::Coordinator(key_type, key.to_owned(), broker.id);
        self.inner
            .pool
            .get(&endpoint, &broker.host, broker.port)
            .await
    }

    /// Forgets the cached coordinator of `key`.
    pub fn invalidate_coordinator(&self, key: &str, key_type: CoordinatorType) {
        self.coordinators().remove(&(key_type, key.to_owned()));
    }

    /// Runs `attempt` until it succeeds, fails with a non-retriable error, or
    /// `request.timeout.ms` has passed, with the waits and metadata invalidation of
    /// [`Retrier`]. `what` names the operation in logs.
    pub async fn retry<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut retrier = self.retrier(what);
        loop {
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) if retrier.wait(&error).await => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// A [`Retrier`] for one operation, for loops that [`Cluster::retry`] cannot express
    /// (retrying only the failed items of a batch).
    pub fn retrier(&self, what: &str) -> Retrier {
        let config = &self.inner.config;
        Retrier {
            cluster: self.clone(),
            what: what.to_owned(),
            deadline: Instant::now() + config.request_timeout,
            backoff: ExponentialBackoff::new(config.retry_backoff, config.retry_backoff_max),
            attempts: 0,
        }
    }

    fn tracked_topics(&self) -> BTreeSet<String> {
        self.inner
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn coordinators(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(CoordinatorType, String), Broker>> {
        self.inner
            .coordinators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one Metadata request (retrying per [`Cluster::retry`]) and installs the result.
    /// `topics: None` asks for all topics.
    async fn fetch_metadata(
        &self,
        topics: Option<&[String]>,
        allow_auto_create: bool,
    ) -> Result<Arc<Metadata>> {
        let requested_at = Instant::now();
        let _guard = self.inner.refreshing.lock().await;
        let current = self.metadata();
        // Someone else refreshed while we waited: take theirs unless it lacks our topics.
        if current.fetched_at >= requested_at
            && !self.inner.stale.load(Ordering::Relaxed)
            && topics.is_some_and(|ts| ts.iter().all(|t| current.topics.contains_key(t)))
        {
            return Ok(current);
        }
        let request = MetadataRequest::default()
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(allow_auto_create);
        // Only a refresh of every tracked topic makes the whole cache fresh again.
        let complete = topics.is_none_or(|asked| {
            let asked: BTreeSet<&String> = asked.iter().collect();
            self.tracked_topics().iter().all(|t| asked.contains(t))
        });
        if complete {
            self.inner.stale.store(false, Ordering::Relaxed);
        }
        let response = self
            .retry("Metadata", || async {
                let connection = self.any_connection().await?;
                connection.send(&request).await
            })
            .await
            .inspect_err(|_| self.request_update())?;
        let updated = Arc::new(Metadata::merge(&current, &response, topics.is_none()));
        *self
            .inner
            .metadata
            .write()
            .unwrap_or_else(|e| e.into_inner()) = updated.clone();
        Ok(updated)
    }

    async fn find_coordinator(&self, key: &str, key_type: CoordinatorType) -> Result<Broker> {
        let connection = self.any_connection().await?;
        let version = connection.version_of::<FindCoordinatorRequest>()?.max;
        let key_bytes = StrBytes::from_string(key.to_owned());
        let mut request = FindCoordinatorRequest::default().with_key_type(key_type as i8);
        if version >= 4 {
            request.coordinator_keys = vec![key_bytes];
        } else {
            request.key = key_bytes;
        }
        let response = connection.send_version(&request, version).await?;
        let (error, message, node_id, host, port) = if version >= 4 {
            let c = response.coordinators.first().ok_or_else(|| {
                Error::Protocol("FindCoordinator response without coordinators".into())
            })?;
            (
                c.error_code,
                c.error_message.clone(),
                c.node_id,
                c.host.clone(),
                c.port,
            )
        } else {
            let r = &response;
            (
                r.error_code,
                r.error_message.clone(),
                r.node_id,
                r.host.clone(),
                r.port,
            )
        };
        check(error, message.as_deref())?;
        Ok(Broker {
            id: node_id.0,
            host: host.to_string(),
            port: u16::try_from(port)
                .map_err(|_| Error::Protocol(format!("coordinator port {port}")))?,
            rack: None,
        })
    }
}

/// Closes idle connections now and then, until the cluster is dropped.
async fn reap_idle(cluster: Weak<Inner>, max_idle: Duration) {
    let period = (max_idle / 4).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(period).await;
        let Some(inner) = cluster.upgrade() else {
            return;
        };
        inner.pool.close_idle();
    }
}

/// The retry policy of one operation: retriable errors are retried with exponential backoff
/// from `retry.backoff.ms` to `retry.backoff.max.ms` (±20 % jitter) until `request.timeout.ms`
/// after the operation started; errors that make metadata stale mark it for update.
///
/// ```no_run
/// # async fn demo(cluster: ferry_kafka::Cluster) -> ferry_kafka::Result<()> {
/// let mut retrier = cluster.retrier("my call");
/// loop {
///     match cluster.any_connection().await {
///         Ok(connection) => break,
///         Err(error) if retrier.wait(&error).await => continue,
///         Err(error) => return Err(error),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Retrier {
    cluster: Cluster,
    what: String,
    deadline: Instant,
    backoff: ExponentialBackoff,
    attempts: u32,
}

impl Retrier {
    /// After a failed attempt: whether to try again. If so, the backoff has already been waited
    /// out when this returns.
    pub async fn wait(&mut self, error: &Error) -> bool {
        if error.invalidates_metadata() {
            self.cluster.request_update();
        }
        let wait = self.backoff.backoff(self.attempts);
        if !error.is_retriable() || Instant::now() + wait > self.deadline {
            return false;
        }
        tracing::debug!(what = %self.what, %error, ?wait, "retrying");
        tokio::time::sleep(wait).await;
        self.attempts += 1;
        true
    }
}
