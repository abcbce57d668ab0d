//! Which settings each Kafka client of a MirrorMaker 2 connector sees, resolved as Java's
//! `MirrorConnectorConfig` does, and the clients built from them.

use ferry_connect::ConnectError;
use ferry_connect::connector::ConfigMap;
use ferry_kafka::consumer::ConsumerConfig;
use ferry_kafka::{Admin, ClientConfig, Cluster, Consumer, Producer};

use super::MirrorConfig;

/// One of the two clusters of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The cluster replicated from (`source.cluster.*`, `source.<client>.*`).
    Source,
    /// The cluster replicated to (`target.cluster.*`, `target.<client>.*`).
    Target,
}

impl Side {
    fn prefix(self) -> &'static str {
        match self {
            Side::Source => "source.",
            Side::Target => "target.",
        }
    }
}

/// The kind of client, which picks the `consumer.` / `producer.` / `admin.` overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A consumer.
    Consumer,
    /// A producer.
    Producer,
    /// An admin client.
    Admin,
}

impl ClientKind {
    fn prefix(self) -> &'static str {
        match self {
            ClientKind::Consumer => "consumer.",
            ClientKind::Producer => "producer.",
            ClientKind::Admin => "admin.",
        }
    }
}

/// Whether `key` is one of the connection settings Java's `MirrorClientConfig.CLIENT_CONFIG_DEF`
/// keeps from `source.cluster.*` / `target.cluster.*`: the bootstrap servers, the security
/// protocol and the SSL and SASL settings.
fn is_connection_key(key: &str) -> bool {
    key == "bootstrap.servers"
        || key == "security.protocol"
        || key.starts_with("ssl.")
        || key.starts_with("sasl.")
}

fn with_prefix<'a>(
    props: &'a ConfigMap,
    prefix: &'a str,
) -> impl Iterator<Item = (String, String)> + 'a {
    props.iter().filter_map(move |(k, v)| {
        k.strip_prefix(prefix)
            .filter(|rest| !rest.is_empty())
            .map(|rest| (rest.to_owned(), v.clone()))
    })
}

/// The settings of one client, as Java resolves them, later sources winning: the connection
/// settings of `<side>.cluster.*`, then every `<kind>.*`, then every `<side>.<kind>.*`.
/// Consumers get `enable.auto.commit=false` and, unless set, `auto.offset.reset=earliest`.
/// `client.id` becomes `label` (Java's `SOURCE->TARGET|NAME|role`), after the user's own id
/// and a `|` when one is set.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_mirror::config::{ClientKind, Side, client_config};
/// let props = HashMap::from([
///     ("source.cluster.bootstrap.servers".to_owned(), "a:9092".to_owned()),
///     ("source.cluster.linger.ms".to_owned(), "7".to_owned()),
///     ("producer.linger.ms".to_owned(), "9".to_owned()),
///     ("source.consumer.fetch.max.wait.ms".to_owned(), "50".to_owned()),
/// ]);
/// let consumer = client_config(&props, Side::Source, ClientKind::Consumer, "A->B|mm|c");
/// assert_eq!(consumer["bootstrap.servers"], "a:9092");
/// assert_eq!(consumer["fetch.max.wait.ms"], "50");
/// assert_eq!(consumer["auto.offset.reset"], "earliest");
/// assert!(!consumer.contains_key("linger.ms")); // not a connection setting
/// let producer = client_config(&props, Side::Target, ClientKind::Producer, "A->B|mm|p");
/// assert_eq!(producer["linger.ms"], "9");
/// assert!(!producer.contains_key("bootstrap.servers"));
/// ```
pub fn client_config(props: &ConfigMap, side: Side, kind: ClientKind, label: &str) -> ConfigMap {
    let cluster_prefix = format!("{}cluster.", side.prefix());
    let mut config: ConfigMap = with_prefix(props, &cluster_prefix)
        .filter(|(k, _)| is_connection_key(k))
        .collect();
    config.extend(with_prefix(props, kind.prefix()));
    let side_kind = format!("{}{}", side.prefix(), kind.prefix());
    config.extend(with_prefix(props, &side_kind));
    if kind == ClientKind::Consumer {
        config.insert("enable.auto.commit".into(), "false".into());
        config
            .entry("auto.offset.reset".into())
            .or_insert_with(|| "earliest".into());
    }
    let client_id = match config.get("client.id") {
        Some(user) => format!("{user}|{label}"),
        None => label.to_owned(),
    };
    config.insert("client.id".into(), client_id);
    config
}

/// A Kafka client failure as a connector error: retriable ones stay retriable.
pub(crate) fn kafka_error(e: ferry_kafka::Error) -> ConnectError {
    if e.is_retriable() {
        ConnectError::retriable(e.to_string())
    } else {
        ConnectError::other(e.to_string())
    }
}

/// A cluster connection configured from a resolved client configuration.
fn cluster_for(config: &ConfigMap) -> Result<Cluster, ConnectError> {
    let client = ClientConfig::from_pairs(config.iter()).map_err(kafka_error)?;
    Ok(Cluster::new(client))
}

impl MirrorConfig {
    /// An admin client for `side`, with the `role` Java names it by.
    pub fn admin(&self, side: Side, role: &str) -> Result<Admin, ConnectError> {
        let config = self.client_config(side, ClientKind::Admin, role);
        Ok(Admin::new(cluster_for(&config)?))
    }

    /// A consumer of `side` (`auto.offset.reset=earliest` unless overridden).
    pub fn consumer(&self, side: Side, role: &str) -> Result<Consumer, ConnectError> {
        let config = self.client_config(side, ClientKind::Consumer, role);
        let consumer = ConsumerConfig::from_pairs(config.iter()).map_err(kafka_error)?;
        Ok(Consumer::new(cluster_for(&config)?, consumer))
    }

    /// A producer to `side`.
    pub fn producer(&self, side: Side, role: &str) -> Result<Producer, ConnectError> {
        let config = self.client_config(side, ClientKind::Producer, role);
        Producer::new(cluster_for(&config)?, config.iter()).map_err(kafka_error)
    }
}
