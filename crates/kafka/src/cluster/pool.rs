//! One shared connection per broker, with reconnect backoff and idle expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::CoordinatorType;
use super::backoff::ExponentialBackoff;
use crate::connection::{Connection, ConnectionConfig, Connector};
use crate::error::Result;

/// What a pooled connection is for: a broker known by id (and a second connection to it for
/// consumers' read-ahead fetches), a bootstrap address used before any metadata is known, or
/// the requests for one coordinator key (a group or transactional id) on the broker
/// coordinating it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Broker(i32),
    /// A consumer's read-ahead fetches to a broker (see `Cluster::read_ahead_connection`).
    ReadAhead(i32),
    Bootstrap(String, u16),
    Coordinator(CoordinatorType, String, i32),
}

#[derive(Debug)]
pub(crate) struct Pool {
    connector: Arc<dyn Connector>,
    config: ConnectionConfig,
    backoff: ExponentialBackoff,
    setup_timeout: ExponentialBackoff,
    max_idle: Duration,
    slots: Mutex<HashMap<Endpoint, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// The state of one endpoint. Its async mutex serializes connection attempts, so concurrent
/// callers share one attempt instead of opening several sockets.
#[derive(Debug, Default)]
struct Slot {
    connection: Option<Connection>,
    /// Failed connection attempts (and losses of a connection) since the last success.
    failures: u32,
    /// Failed connection attempts alone, which lengthen the setup timeout.
    failed_connects: u32,
    not_before: Option<Instant>,
    /// When the current run of failed attempts was last reported at WARN.
    warned_at: Option<Instant>,
}

/// How often a broker that stays unreachable is reported again at WARN. Java's client warns at
/// every attempt (about once a second at the default backoff); once per interval says the same
/// without flooding a worker's log with one line per client per second.
const UNREACHABLE_WARN_INTERVAL: Duration = Duration::from_secs(30);

impl Pool {
    pub(crate) fn new(
        connector: Arc<dyn Connector>,
        config: ConnectionConfig,
        backoff: ExponentialBackoff,
        setup_timeout: ExponentialBackoff,
        max_idle: Duration,
    ) -> Self {
        Self {
            connector,
            config,
            backoff,
            setup_timeout,
            max_idle,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Endpoint, Arc<tokio::sync::Mutex<Slot>>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `connection` is open and not idle past `connections.max.idle.ms`.
    fn usable(&self, connection: &Connection) -> bool {
        !connection.is_closed() && connection.idle_for() < self.max_idle
    }

    fn slot(&self, endpoint: &Endpoint) -> Arc<tokio::sync::Mutex<Slot>> {
        self.slots().entry(endpoint.clone()).or_default().clone()
    }

    /// A live connection to `endpoint` at `host:port`, opened if needed. A new attempt waits
    /// out the reconnect backoff of earlier failures first.
    pub(crate) async fn get(
        &self,
        endpoint: &Endpoint,
        host: &str,
        port: u16,
    ) -> Result<Connection> {
        let slot = self.slot(endpoint);
        let mut slot = slot.lock().await;
        if let Some(connection) = slot.connection.clone() {
            if self.usable(&connection) {
                return Ok(connection);
            }
            if let Some(closed_at) = connection.closed_at() {
                // Losing a connection counts as a failure, as in Java: reconnecting waits.
                slot.not_before = Some(closed_at + self.backoff.backoff(slot.failures));
                slot.failures += 1;
            }
            connection.close();
            slot.connection = None;
        }
        if let Endpoint::Broker(_) = endpoint
            && slot.failures == 0
            && let Some(connection) = self.live_bootstrap(host, port)
        {
            // The broker was reached at this address to bootstrap: its connection serves
            // as the broker's (as librdkafka does), which spares a connection set-up, two
            // round trips, per client. It is replaced like any other once it closes.
            slot.connection = Some(connection.clone());
            return Ok(connection);
        }
        if let Some(not_before) = slot.not_before {
            tokio::time::sleep_until(not_before.into()).await;
        }
        let config = ConnectionConfig {
            setup_timeout: self.setup_timeout.backoff(slot.failed_connects),
            ..self.config.clone()
        };
        match Connection::connect(self.connector.as_ref(), host, port, config).await {
            Ok(connection) => {
                if slot.warned_at.take().is_some() {
                    tracing::info!(
                        client_id = %self.config.client_id,
                        "connection to {host}:{port} established again"
                    );
                }
                slot.failures = 0;
                slot.failed_connects = 0;
                slot.not_before = None;
                slot.connection = Some(connection.clone());
                Ok(connection)
            }
            Err(error) => {
                let now = Instant::now();
                if slot
                    .warned_at
                    .is_none_or(|at| now.duration_since(at) >= UNREACHABLE_WARN_INTERVAL)
                {
                    slot.warned_at = Some(now);
                    tracing::warn!(
                        client_id = %self.config.client_id,
                        %error,
                        attempts = slot.failed_connects + 1,
                        "connection to {host}:{port} could not be established; the broker may \
                         not be available, retrying with backoff"
                    );
                } else {
                    tracing::debug!(%host, port, %error, failures = slot.failures, "connect failed");
                }
                slot.not_before = Some(now + self.backoff.backoff(slot.failures));
                slot.failures += 1;
                slot.failed_connects += 1;
                Err(error)
            }
        }
    }

    /// The live connection to bootstrap address `host:port`, if there is one.
    fn live_bootstrap(&self, host: &str, port: u16) -> Option<Connection> {
        let slot = self
            .slots()
            .get(&Endpoint::Bootstrap(host.to_owned(), port))?
            .clone();
        let slot = slot.try_lock().ok()?;
        let connection = slot.connection.as_ref()?;
        self.usable(connection).then(|| connection.clone())
    }

    /// A live connection to any broker or bootstrap endpoint, without connecting; brokers
    /// before bootstrap addresses. Coordinator and read-ahead connections are left out: a
    /// request there can wait behind a JoinGroup the coordinator holds, or behind fetches.
    pub(crate) fn any_live(&self) -> Option<Connection> {
        let slots: Vec<_> = self
            .slots()
            .iter()
            .map(|(e, s)| (e.clone(), s.clone()))
            .collect();
        let mut live: Vec<_> = slots
            .into_iter()
            .filter(|(endpoint, _)| {
                !matches!(
                    endpoint,
                    Endpoint::Coordinator(..) | Endpoint::ReadAhead(..)
                )
            })
            .filter_map(|(endpoint, slot)| {
                let slot = slot.try_lock().ok()?;
                let connection = slot.connection.as_ref()?;
                self.usable(connection).then(|| {
                    (
                        matches!(endpoint, Endpoint::Bootstrap(..)),
                        connection.clone(),
                    )
                })
            })
            .collect();
        live.sort_by_key(|(bootstrap, _)| *bootstrap);
        live.into_iter().next().map(|(_, c)| c)
    }

    /// Closes connections idle for longer than `connections.max.idle.ms`. Failed ones stay, so
    /// that the next [`Pool::get`] still applies the reconnect backoff.
    pub(crate) fn close_idle(&self) {
        let slots: Vec<_> = self.slots().values().cloned().collect();
        for slot in slots {
            let Ok(mut slot) = slot.try_lock() else {
                continue;
            };
            let expired = slot
                .connection
                .as_ref()
                .is_some_and(|c| !c.is_closed() && c.idle_for() >= self.max_idle);
            if expired && let Some(connection) = slot.connection.take() {
                tracing::debug!(broker = connection.broker(), "closing idle connection");
                connection.close();
            }
        }
    }

    /// Closes every connection (for tests and shutdown).
    pub(crate) fn close_all(&self) {
        let slots: Vec<_> = self.slots().drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Ok(mut slot) = slot.try_lock()
                && let Some(connection) = slot.connection.take()
            {
                connection.close();
            }
        }
    }
}
