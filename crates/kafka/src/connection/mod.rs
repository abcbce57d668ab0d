//! One connection to one broker: framing, correlation ids, pipelined requests, API version
//! negotiation and request timeouts (`request.timeout.ms`, or a request's own).
//!
//! A [`Connection`] is cheap to clone; every clone shares the same socket. Requests are written
//! in the order they are sent by a writer task and answered through a reader task that matches
//! responses to requests by correlation id, so any number of requests can be in flight at once.
//! When anything goes wrong with the socket or the bytes on it (I/O error, a truncated,
//! oversized or undecodable response, a request timeout), the connection is closed and every
//! request in flight fails with that error; callers then get a new connection from the
//! [`Cluster`](crate::Cluster).

mod codec;
pub(crate) mod guard;
mod transport;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message, Request, StrBytes, VersionRange};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

pub use codec::decode_response;
pub use transport::{BoxTransport, ConnectFuture, Connector, TcpConnector, Transport};

use crate::error::{Error, Result};

/// Largest response frame accepted; a size prefix above it is treated as corruption. Java's
/// client has no fixed bound, but fetch responses are limited by `fetch.max.bytes` (50 MiB by
/// default) and nothing else comes close.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 256 * 1024 * 1024;

/// What a connection needs to know besides where to connect.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// `client.id`, sent in every request header.
    pub client_id: String,
    /// `request.timeout.ms`: how long to wait for each response.
    pub request_timeout: Duration,
    /// `socket.connection.setup.timeout.ms`: how long opening the transport may take.
    pub setup_timeout: Duration,
    /// Largest response frame accepted.
    pub max_response_size: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            request_timeout: Duration::from_millis(30_000),
            setup_timeout: Duration::from_millis(10_000),
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
        }
    }
}

/// A negotiated connection to one broker.
///
/// ```no_run
/// # async fn demo() -> ferry_kafka::Result<()> {
/// use ferry_kafka::connection::{Connection, ConnectionConfig, TcpConnector};
/// use kafka_protocol::messages::MetadataRequest;
///
/// let conn = Connection::connect(&TcpConnector, "127.0.0.1", 9092, ConnectionConfig::default()).await?;
/// let metadata = conn.send(&MetadataRequest::default().with_topics(None)).await?;
/// println!("{} brokers", metadata.brokers.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    link: Link,
    /// Per API key: the versions both this client and the broker support.
    versions: HashMap<i16, VersionRange>,
}

impl Connection {
    /// Opens a transport to `host:port` and negotiates API versions with the broker.
    pub async fn connect(
        connector: &dyn Connector,
        host: &str,
        port: u16,
        config: ConnectionConfig,
    ) -> Result<Self> {
        let broker = format!("{host}:{port}");
        let transport = tokio::time::timeout(config.setup_timeout, connector.connect(host, port))
            .await
            .map_err(|_| Error::Timeout {
                what: format!("connecting to {broker}"),
                after: config.setup_timeout,
            })?
            .map_err(|e| Error::io(&broker, e))?;
        let link = Link::start(broker, transport, config);
        let versions = negotiate(&link).await?;
        tracing::debug!(broker = %link.shared.broker, apis = versions.len(), "connected");
        Ok(Self {
            inner: Arc::new(Inner { link, versions }),
        })
    }

    /// Sends `request` at the highest version both sides support and waits for its response.
    pub async fn send<Req: Request>(&self, request: &Req) -> Result<Req::Response> {
        self.send_with_timeout(request, self.request_timeout())
            .await
    }

    /// Sends `request` at `version`, which must be within [`Connection::version_of`]; for
    /// requests whose shape depends on the version.
    pub async fn send_version<Req: Request>(
        &self,
        request: &Req,
        version: i16,
    ) -> Result<Req::Response> {
        self.send_version_with_timeout(request, version, self.request_timeout())
            .await
    }

    /// Like [`Connection::send`], but waits up to `timeout` instead of `request.timeout.ms`:
    /// for requests the broker may hold on purpose, such as a JoinGroup that waits for the
    /// whole group. Each request in flight has its own deadline, so a long one does not
    /// shorten or lengthen the others; if it does time out, the connection closes as for any
    /// other timeout.
    ///
    /// ```no_run
    /// # async fn demo(conn: ferry_kafka::Connection) -> ferry_kafka::Result<()> {
    /// use std::time::Duration;
    /// use kafka_protocol::messages::JoinGroupRequest;
    ///
    /// let request = JoinGroupRequest::default().with_rebalance_timeout_ms(60_000);
    /// let joined = conn.send_with_timeout(&request, Duration::from_secs(65)).await?;
    /// println!("generation {}", joined.generation_id);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_timeout<Req: Request>(
        &self,
        request: &Req,
        timeout: Duration,
    ) -> Result<Req::Response> {
        let version = self.version_of::<Req>()?.max;
        self.send_version_with_timeout(request, version, timeout)
            .await
    }

    /// [`Connection::send_version`] with its own `timeout`, as in
    /// [`Connection::send_with_timeout`].
    pub async fn send_version_with_timeout<Req: Request>(
        &self,
        request: &Req,
        version: i16,
        timeout: Duration,
    ) -> Result<Req::Response> {
        let range = self.version_of::<Req>()?;
        if version < range.min || version > range.max {
            return Err(unsupported(Req::KEY));
        }
        let link = &self.inner.link;
        let correlation_id = link.next_correlation_id();
        let frame = codec::encode_request(request, version, correlation_id, &link.client_id)?;
        let response = link.round_trip(correlation_id, frame, timeout).await?;
        let header = Req::Response::header_version(version);
        codec::decode_checked(response, version, header, guard::response_layout(Req::KEY))
            .inspect_err(|e| link.shared.fail(e.clone()))
    }

    /// Writes `request` without waiting for an answer, for requests the broker does not answer
    /// (Produce with `acks=0`). Returns once the request is queued for writing.
    pub fn send_without_response<Req: Request>(&self, request: &Req) -> Result<()> {
        let version = self.version_of::<Req>()?.max;
        let link = &self.inner.link;
        let frame = codec::encode_request(
            request,
            version,
            link.next_correlation_id(),
            &link.client_id,
        )?;
        link.write(frame)
    }

    /// `request.timeout.ms`: how long [`Connection::send`] waits for an answer.
    pub fn request_timeout(&self) -> Duration {
        self.inner.link.request_timeout
    }

    /// The versions of `Req` both sides support, or [`Error::Unsupported`].
    pub fn version_of<Req: Request>(&self) -> Result<VersionRange> {
        self.inner
            .versions
            .get(&Req::KEY)
            .map(|negotiated| negotiated.intersect(&Req::VERSIONS))
            .filter(|both| !both.is_empty())
            .ok_or_else(|| unsupported(Req::KEY))
    }

    /// The versions of `api` both sides support, if any.
    pub fn api_versions(&self, api: ApiKey) -> Option<VersionRange> {
        self.inner.versions.get(&(api as i16)).copied()
    }

    /// `host:port` this connection goes to.
    pub fn broker(&self) -> &str {
        &self.inner.link.shared.broker
    }

    /// Whether the connection has failed or was closed; a closed connection answers every
    /// request with the error that closed it.
    pub fn is_closed(&self) -> bool {
        self.inner.link.shared.closed().is_some()
    }

    /// When the connection failed or was closed; reconnect backoff counts from then.
    pub(crate) fn closed_at(&self) -> Option<Instant> {
        self.inner.link.shared.state().closed_at
    }

    /// How long since the last request was sent.
    pub fn idle_for(&self) -> Duration {
        self.inner.link.idle_for()
    }

    /// Closes the connection; requests in flight fail with [`Error::Disconnected`].
    pub fn close(&self) {
        self.inner.link.shared.fail(Error::Disconnected {
            broker: self.broker().to_owned(),
            reason: "closed by the client".into(),
        });
    }
}

fn unsupported(key: i16) -> Error {
    match ApiKey::try_from(key) {
        Ok(api) => Error::Unsupported { api },
        Err(()) => Error::InvalidRequest(format!("unknown api key {key}")),
    }
}

/// Sends ApiVersions (falling back to the version the broker says it supports, as Java's
/// client does on UNSUPPORTED_VERSION) and intersects the broker's ranges with this client's.
async fn negotiate(link: &Link) -> Result<HashMap<i16, VersionRange>> {
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("ferry"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let mut version = ApiVersionsRequest::VERSIONS.max;
    let response = loop {
        let correlation_id = link.next_correlation_id();
        let frame = codec::encode_request(&request, version, correlation_id, &link.client_id)?;
        let bytes = link
            .round_trip(correlation_id, frame, link.request_timeout)
            .await?;
        // A broker answers an ApiVersions version it does not know with UNSUPPORTED_VERSION
        // in version 0 (the error code comes first in every version), listing the ApiVersions
        // versions it does know.
        const UNSUPPORTED_VERSION: i16 = 35;
        let error_code = bytes.get(4..6).map(|b| i16::from_be_bytes([b[0], b[1]]));
        let unsupported = error_code == Some(UNSUPPORTED_VERSION);
        let decode_version = if unsupported { 0 } else { version };
        let header = ApiVersionsResponse::header_version(decode_version);
        let response = codec::decode_response::<ApiVersionsResponse>(bytes, decode_version, header)
            .inspect_err(|e| link.shared.fail(e.clone()))?;
        if unsupported && version > 0 {
            let theirs = response
                .api_keys
                .iter()
                .find(|k| k.api_key == ApiKey::ApiVersions as i16)
                .map_or(0, |k| k.max_version);
            version = theirs.clamp(0, version - 1);
            continue;
        }
        crate::error::check(response.error_code, None)?;
        break response;
    };
    Ok(response
        .api_keys
        .iter()
        .filter_map(|k| {
            let ours = ApiKey::try_from(k.api_key).ok()?.valid_versions();
            let both = ours.intersect(&VersionRange {
                min: k.min_version,
                max: k.max_version,
            });
            (!both.is_empty()).then_some((k.api_key, both))
        })
        .collect())
}

/// The socket machinery shared by all clones of a connection: a writer task, a reader task and
/// the requests waiting for answers. Aborts both tasks when dropped.
#[derive(Debug)]
struct Link {
    shared: Arc<Shared>,
    outgoing: mpsc::UnboundedSender<Bytes>,
    client_id: StrBytes,
    request_timeout: Duration,
    next_correlation: AtomicI32,
    started: Instant,
    last_used_ms: AtomicU64,
    tasks: [AbortHandle; 2],
}

#[derive(Debug)]
struct Shared {
    broker: String,
    state: Mutex<State>,
    /// Turns true when the connection fails, so that both tasks stop and the socket closes
    /// even while clones of the connection are still around.
    closing: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct State {
    waiting: HashMap<i32, oneshot::Sender<Result<Bytes>>>,
    closed: Option<Error>,
    closed_at: Option<Instant>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the map consistent enough to fail.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn closed(&self) -> Option<Error> {
        self.state().closed.clone()
    }

    /// Closes the connection with `error` (the first error wins) and fails every waiter.
    fn fail(&self, error: Error) {
        let waiting = {
            let mut state = self.state();
            if state.closed.is_none() {
                tracing::debug!(broker = %self.broker, %error, "connection closed");
                state.closed = Some(error);
                state.closed_at = Some(Instant::now());
            }
            std::mem::take(&mut state.waiting)
        };
        self.closing.send_replace(true);
        let error = self.closed().expect("closed was just set");
        for (_, waiter) in waiting {
            let _ = waiter.send(Err(error.clone()));
        }
    }
}

impl Link {
    fn start(broker: String, transport: BoxTransport, config: ConnectionConfig) -> Self {
        let shared = Arc::new(Shared {
            broker,
            state: Mutex::new(State::default()),
            closing: watch::channel(false).0,
        });
        let (read, write) = tokio::io::split(transport);
        let (outgoing, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(write, queue, shared.clone()));
        let reader = tokio::spawn(read_loop(read, config.max_response_size, shared.clone()));
        Self {
            shared,
            outgoing,
            client_id: StrBytes::from_string(config.client_id),
            request_timeout: config.request_timeout,
            next_correlation: AtomicI32::new(0),
            started: Instant::now(),
            last_used_ms: AtomicU64::new(0),
            tasks: [writer.abort_handle(), reader.abort_handle()],
        }
    }

    fn next_correlation_id(&self) -> i32 {
        // Wrapping is fine: ids only need to be unique among the requests in flight.
        self.next_correlation.fetch_add(1, Ordering::Relaxed)
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_used_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_used_ms.store(now, Ordering::Relaxed);
    }

    fn write(&self, frame: Bytes) -> Result<()> {
        if let Some(error) = self.shared.closed() {
            return Err(error);
        }
        self.touch();
        self.outgoing.send(frame).map_err(|_| self.gone())
    }

    fn gone(&self) -> Error {
        self.shared.closed().unwrap_or_else(|| Error::Disconnected {
            broker: self.shared.broker.clone(),
            reason: "connection tasks stopped".into(),
        })
    }

    /// Writes one request frame and waits up to `timeout` for the response frame with the same
    /// correlation id.
    async fn round_trip(
        &self,
        correlation_id: i32,
        frame: Bytes,
        timeout: Duration,
    ) -> Result<Bytes> {
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.shared.state();
            if let Some(error) = &state.closed {
                return Err(error.clone());
            }
            state.waiting.insert(correlation_id, tx);
        }
        self.write(frame)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.gone()),
            Err(_) => {
                // As Java's NetworkClient: a request that times out takes its connection down,
                // since the broker (or the path to it) is evidently not keeping up.
                let error = Error::Timeout {
                    what: format!("request to {}", self.shared.broker),
                    after: timeout,
                };
                self.shared.fail(error.clone());
                Err(error)
            }
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.shared.fail(Error::Disconnected {
            broker: self.shared.broker.clone(),
            reason: "connection dropped".into(),
        });
    }
}

/// Socket buffer size: many small pipelined requests share one write, and small responses
/// one read.
const IO_BUFFER: usize = 64 * 1024;

async fn write_loop(
    write: WriteHalf<BoxTransport>,
    mut queue: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
) {
    let mut write = BufWriter::with_capacity(IO_BUFFER, write);
    let mut closing = shared.closing.subscribe();
    loop {
        let frame = tokio::select! {
            frame = queue.recv() => frame,
            _ = closing.wait_for(|closing| *closing) => None,
        };
        let Some(frame) = frame else { return };
        let written = async {
            write.write_all(&frame).await?;
            // Whatever else is queued goes out in the same flush.
            while let Ok(frame) = queue.try_recv() {
                write.write_all(&frame).await?;
            }
            write.flush().await
        };
        let written = tokio::select! {
            written = written => written,
            _ = closing.wait_for(|closing| *closing) => return,
        };
        if let Err(e) = written {
            shared.fail(Error::io(&shared.broker, e));
            return;
        }
    }
}

async fn read_loop(read: ReadHalf<BoxTransport>, max_size: usize, shared: Arc<Shared>) {
    let mut read = BufReader::with_capacity(IO_BUFFER, read);
    let mut closing = shared.closing.subscribe();
    let error = loop {
        let frame = tokio::select! {
            frame = read_frame(&mut read, max_size, &shared.broker) => frame,
            _ = closing.wait_for(|closing| *closing) => return,
        };
        match frame {
            Ok(frame) => {
                let correlation_id = match codec::peek_correlation_id(&frame) {
                    Ok(id) => id,
                    Err(e) => break e,
                };
                let waiter = shared.state().waiting.remove(&correlation_id);
                match waiter {
                    Some(waiter) => {
                        let _ = waiter.send(Ok(frame));
                    }
                    // The waiter timed out (and failed the connection) or this id was never sent.
                    None => {
                        break Error::Protocol(format!(
                            "response with unknown correlation id {correlation_id}"
                        ));
                    }
                }
            }
            Err(e) => break e,
        }
    };
    shared.fail(error);
}

async fn read_frame(
    read: &mut BufReader<ReadHalf<BoxTransport>>,
    max_size: usize,
    broker: &str,
) -> Result<Bytes> {
    let prefix = match read.read_i32().await {
        Ok(prefix) => prefix,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(Error::Disconnected {
                broker: broker.to_owned(),
                reason: "closed by the broker".into(),
            });
        }
        Err(e) => return Err(Error::io(broker, e)),
    };
    let size = codec::frame_size(prefix, max_size)?;
    // Read into spare capacity rather than a zeroed buffer: zeroing a fetch answer of several
    // megabytes first cost about as much CPU as checking its CRCs.
    let mut frame = BytesMut::with_capacity(size);
    while frame.len() < size {
        let remaining = size - frame.len();
        let read = read
            .read_buf(&mut (&mut frame).limit(remaining))
            .await
            .map_err(|e| Error::io(broker, e))?;
        if read == 0 {
            return Err(Error::Protocol(format!(
                "truncated response: connection closed inside a {size}-byte frame"
            )));
        }
    }
    Ok(frame.freeze())
}

#[cfg(test)]
mod tests;
