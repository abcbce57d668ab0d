//! The client settings shared by producers, consumers and admin clients, with Java's keys and
//! defaults.

use std::time::Duration;

use crate::connection::{ConnectionConfig, DEFAULT_MAX_RESPONSE_SIZE};
use crate::error::{Error, Result};

/// Settings common to every client of one Kafka cluster (`CommonClientConfigs` in Java).
///
/// ```
/// use ferry_kafka::ClientConfig;
/// let config = ClientConfig::from_pairs([
///     ("bootstrap.servers", "localhost:9092,other:9093"),
///     ("request.timeout.ms", "5000"),
///     ("acks", "all"), // not ours: ignored
/// ])?;
/// assert_eq!(config.bootstrap_servers.len(), 2);
/// assert_eq!(config.retry_backoff.as_millis(), 100);
/// # Ok::<_, ferry_kafka::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `bootstrap.servers`: `host:port` pairs to discover the cluster from (required).
    pub bootstrap_servers: Vec<(String, u16)>,
    /// `client.id` (empty by default), sent with every request.
    pub client_id: String,
    /// `request.timeout.ms` (30000).
    pub request_timeout: Duration,
    /// `retry.backoff.ms` (100): first wait before retrying a failed request.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (1000): longest wait between retries.
    pub retry_backoff_max: Duration,
    /// `reconnect.backoff.ms` (50): first wait before reconnecting to a broker.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (1000): longest wait before reconnecting.
    pub reconnect_backoff_max: Duration,
    /// `connections.max.idle.ms` (540000): idle connections are closed after this.
    pub connections_max_idle: Duration,
    /// `metadata.max.age.ms` (300000): metadata is refreshed at least this often.
    pub metadata_max_age: Duration,
    /// `socket.connection.setup.timeout.ms` (10000): how long opening a connection may take.
    pub socket_connection_setup_timeout: Duration,
    /// `socket.connection.setup.timeout.max.ms` (30000): the setup timeout grows
    /// exponentially with consecutive failed attempts up to this.
    pub socket_connection_setup_timeout_max: Duration,
}

impl ClientConfig {
    /// A configuration with Java's defaults and the given bootstrap servers.
    pub fn new(bootstrap_servers: &str) -> Result<Self> {
        Self::from_pairs([("bootstrap.servers", bootstrap_servers)])
    }

    /// Parses the common keys from `(key, value)` pairs, as found in a `.properties` file; keys
    /// that are not common client settings are ignored (they belong to the producer, consumer
    /// or admin layers). Errors name the offending key.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = Self {
            bootstrap_servers: Vec::new(),
            client_id: String::new(),
            request_timeout: Duration::from_millis(30_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1_000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1_000),
            connections_max_idle: Duration::from_millis(540_000),
            metadata_max_age: Duration::from_millis(300_000),
            socket_connection_setup_timeout: Duration::from_millis(10_000),
            socket_connection_setup_timeout_max: Duration::from_millis(30_000),
        };
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            match key {
                "bootstrap.servers" => config.bootstrap_servers = parse_servers(key, value)?,
                "client.id" => config.client_id = value.to_owned(),
                "request.timeout.ms" => config.request_timeout = millis(key, value)?,
                "retry.backoff.ms" => config.retry_backoff = millis(key, value)?,
                "retry.backoff.max.ms" => config.retry_backoff_max = millis(key, value)?,
                "reconnect.backoff.ms" => config.reconnect_backoff = millis(key, value)?,
                "reconnect.backoff.max.ms" => config.reconnect_backoff_max = millis(key, value)?,
                "connections.max.idle.ms" => config.connections_max_idle = millis(key, value)?,
                "metadata.max.age.ms" => config.metadata_max_age = millis(key, value)?,
                "socket.connection.setup.timeout.ms" => {
                    config.socket_connection_setup_timeout = millis(key, value)?
                }
                "socket.connection.setup.timeout.max.ms" => {
                    config.socket_connection_setup_timeout_max = millis(key, value)?
                }
                _ => {}
            }
        }
        if config.bootstrap_servers.is_empty() {
            return Err(Error::Config {
                key: "bootstrap.servers".into(),
                reason: "missing; at least one host:port is required".into(),
            });
        }
        Ok(config)
    }

    /// The settings each connection of this client uses.
    pub fn connection_config(&self) -> ConnectionConfig {
        ConnectionConfig {
            client_id: self.client_id.clone(),
            request_timeout: self.request_timeout,
            setup_timeout: self.socket_connection_setup_timeout,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
        }
    }
}

fn millis(key: &str, value: &str) -> Result<Duration> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|e| Error::Config {
            key: key.to_owned(),
            reason: format!("{value:?} is not a non-negative number of milliseconds: {e}"),
        })
}

/// Parses `host:port[,host:port…]`; IPv6 hosts are written in brackets (`[::1]:9092`).
fn parse_servers(key: &str, value: &str) -> Result<Vec<(String, u16)>> {
    let bad = |reason: String| Error::Config {
        key: key.to_owned(),
        reason,
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|server| {
            let (host, port) = server
                .rsplit_once(':')
                .ok_or_else(|| bad(format!("{server:?} has no port")))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(bad(format!("{server:?} has no host")));
            }
            let port = port
                .parse::<u16>()
                .map_err(|e| bad(format!("{server:?} has an invalid port: {e}")))?;
            Ok((host.to_owned(), port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_javas() {
        let c = ClientConfig::new("a:1").unwrap();
        assert_eq!(c.bootstrap_servers, vec![("a".to_owned(), 1)]);
        assert_eq!(c.client_id, "");
        assert_eq!(c.request_timeout, Duration::from_millis(30_000));
        assert_eq!(c.retry_backoff, Duration::from_millis(100));
        assert_eq!(c.retry_backoff_max, Duration::from_millis(1_000));
        assert_eq!(c.reconnect_backoff, Duration::from_millis(50));
        assert_eq!(c.reconnect_backoff_max, Duration::from_millis(1_000));
        assert_eq!(c.connections_max_idle, Duration::from_millis(540_000));
        assert_eq!(c.metadata_max_age, Duration::from_millis(300_000));
        assert_eq!(
            c.socket_connection_setup_timeout,
            Duration::from_millis(10_000)
        );
        assert_eq!(
            c.socket_connection_setup_timeout_max,
            Duration::from_millis(30_000)
        );
    }

    #[test]
    fn parses_servers_and_ignores_unknown_keys() {
        let c = ClientConfig::from_pairs([
            ("bootstrap.servers", " a:1, [::1]:9092 ,"),
            ("client.id", "me"),
            ("linger.ms", "x"),
        ])
        .unwrap();
        assert_eq!(
            c.bootstrap_servers,
            vec![("a".to_owned(), 1), ("::1".to_owned(), 9092)]
        );
        assert_eq!(c.client_id, "me");
    }

    #[test]
    fn errors_name_the_key() {
        let e =
            ClientConfig::from_pairs([("bootstrap.servers", "a:1"), ("retry.backoff.ms", "-5")])
                .unwrap_err();
        assert!(
            matches!(e, Error::Config { ref key, .. } if key == "retry.backoff.ms"),
            "{e}"
        );
        let e = ClientConfig::new("a").unwrap_err();
        assert!(
            matches!(e, Error::Config { ref key, .. } if key == "bootstrap.servers"),
            "{e}"
        );
        let e = ClientConfig::from_pairs([("client.id", "x")]).unwrap_err();
        assert!(
            matches!(e, Error::Config { ref key, .. } if key == "bootstrap.servers"),
            "{e}"
        );
    }
}
