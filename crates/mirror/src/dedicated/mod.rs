//! Dedicated MirrorMaker 2's configuration: an `mm2.properties` file read with Java's
//! `MirrorMakerConfig` semantics, and the flows a node runs, each a Connect worker config plus
//! the three connector configs Java's `MirrorMaker` would create.
//!
//! The file's keys come in three scopes:
//! - `ALIAS.key` for the cluster `ALIAS` (listed in `clusters`): client settings such as
//!   `A.bootstrap.servers`, `A.consumer.max.poll.records`, or worker settings of the flows that
//!   target `A` (`A.group.id`);
//! - `SOURCE->TARGET.key` for one flow: `A->B.enabled = true`, `A->B.topics = orders.*`; these
//!   beat every other scope in the flow's connector configs;
//! - everything else is global: connector keys (`tasks.max`, `replication.factor`, …) reach every
//!   connector, worker keys with the prefixes `offset.storage`, `config.storage`,
//!   `status.storage`, `key.converter`, `value.converter`, `header.converter`, `task`, `worker`
//!   and `replication.policy` reach every worker, client keys (`security.protocol`, `ssl.*`,
//!   `sasl.*`) reach every cluster's clients.
//!
//! ```
//! use ferry_mirror::dedicated::{Mm2Config, MirrorConnector};
//!
//! let config = Mm2Config::parse_str(
//!     "clusters = A, B\n\
//!      A.bootstrap.servers = a:9092\n\
//!      B.bootstrap.servers = b:9092\n\
//!      A->B.enabled = true\n\
//!      A->B.topics = orders.*\n",
//! )?;
//! // The node that serves cluster B runs A->B (replication) only; B->A exists for heartbeats
//! // into A and is served by nodes targeting A.
//! let flows = config.flows(Some(&["B".to_owned()]))?;
//! assert_eq!(flows.len(), 1);
//! let flow = &flows[0];
//! assert_eq!(flow.worker["bootstrap.servers"], "b:9092");
//! assert_eq!(flow.worker["group.id"], "A-mm2");
//! assert_eq!(flow.worker["config.storage.topic"], "mm2-configs.A.internal");
//! let source = flow.connector(MirrorConnector::Source).unwrap();
//! assert_eq!(source.name, "MirrorSourceConnector");
//! assert_eq!(source.config["source.cluster.bootstrap.servers"], "a:9092");
//! assert_eq!(source.config["topics"], "orders.*");
//! assert!(source.active);
//! assert_eq!(flow.rest.path_prefix(), "/A/B");
//! # Ok::<(), ferry_mirror::dedicated::Mm2ConfigError>(())
//! ```

mod driver;
mod flow;
mod names;
mod properties_error;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ferry_connect::ConfigError;
use ferry_connect::connector::ConfigMap;
use ferry_connect::properties::{Properties, PropertiesError};
use ferry_connect::provider::ConfigTransformer;
use thiserror::Error;

pub use driver::{DriverError, MirrorMaker, run_mirror_maker};
pub use flow::{Flow, FlowConnector, FlowRest, MirrorConnector, SourceAndTarget};
pub use names::{
    CLUSTERS, CONFIG_PROVIDERS, ENABLE_INTERNAL_REST, LISTENERS, LISTENERS_DEFAULT,
    REST_ADVERTISED_HOST_NAME, REST_ADVERTISED_LISTENER, REST_ADVERTISED_PORT, client_keys,
    is_connector_key,
};

/// The worker keys copied from the global scope into every flow's worker config (prefixes, so
/// `task` also takes `tasks.max`).
const WORKER_PREFIXES: [&str; 9] = [
    "offset.storage",
    "config.storage",
    "status.storage",
    "key.converter",
    "value.converter",
    "header.converter",
    "task",
    "worker",
    "replication.policy",
];

const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
const CLIENT_PREFIXES: [&str; 3] = ["producer", "consumer", "admin"];

/// Why an `mm2.properties` file cannot be used.
#[derive(Debug, Error)]
pub enum Mm2ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: PropertiesError,
    },
    /// A `\uXXXX` escape without four hexadecimal digits, on this (1-based) line.
    #[error("line {line}: malformed \\uxxxx encoding")]
    MalformedEscape {
        /// The line the escape starts on.
        line: usize,
    },
    /// A value Java's `MirrorMakerConfig` rejects, or a missing `clusters`; the message is
    /// Java's and names the key.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// A config provider failed while resolving a flow's worker config.
    #[error("resolving config variables of the {flow} worker config: {source}")]
    Provider {
        /// The flow, `source->target`.
        flow: String,
        /// The provider's error.
        source: ConfigError,
    },
    /// No flow targets the clusters this node serves (Java's `MirrorMaker` refuses to start).
    #[error("No source->target replication flows.")]
    NoFlows,
}

/// A parsed `mm2.properties` (Java's `MirrorMakerConfig`).
#[derive(Debug, Clone)]
pub struct Mm2Config {
    /// The file as written; worker and connector configs are built from these.
    raw: HashMap<String, String>,
    /// The file with config-provider variables resolved, which decides the flows.
    resolved: HashMap<String, String>,
    clusters: Vec<String>,
    enable_internal_rest: bool,
    listeners: Vec<String>,
    advertised_host_name: Option<String>,
    advertised_port: Option<i32>,
    advertised_listener: Option<String>,
}

impl Mm2Config {
    /// Reads and parses a file, as Java's `Utils.loadProps` (ISO-8859-1) then
    /// [`Mm2Config::parse`].
    ///
    /// # Errors
    /// [`Mm2ConfigError::Read`], [`Mm2ConfigError::MalformedEscape`] or the errors of
    /// [`Mm2Config::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Mm2ConfigError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Mm2ConfigError::Read {
            path: path.display().to_string(),
            source: PropertiesError::Io {
                path: path.display().to_string(),
                source,
            },
        })?;
        let props = Properties::parse_latin1(&bytes).map_err(|e| {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            properties_error::locate(e, &text)
        })?;
        Self::parse(&props)
    }

    /// Parses properties text (already decoded), then [`Mm2Config::parse`].
    ///
    /// # Errors
    /// [`Mm2ConfigError::MalformedEscape`] or the errors of [`Mm2Config::parse`].
    pub fn parse_str(text: &str) -> Result<Self, Mm2ConfigError> {
        let props = Properties::parse(text).map_err(|e| properties_error::locate(e, text))?;
        Self::parse(&props)
    }

    /// Validates the properties as Java's `MirrorMakerConfig` does: `clusters` is required,
    /// and the top-level security and REST keys must parse. Config-provider variables in the
    /// file are resolved first, with the providers the file declares.
    ///
    /// # Errors
    /// [`Mm2ConfigError::Invalid`] with Java's message, naming the key.
    pub fn parse(props: &Properties) -> Result<Self, Mm2ConfigError> {
        let raw: HashMap<String, String> = props
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // AbstractConfig resolves the originals with the providers they declare, names split
        // on ',' as written.
        let resolved = ConfigTransformer::from_config(&raw)?.transform(&raw)?.data;
        let parsed = names::mm2_config_def().parse(&resolved)?;
        let mut clusters: Vec<String> = Vec::new();
        for alias in parsed.get_list(CLUSTERS).unwrap_or_default() {
            if !clusters.contains(alias) {
                clusters.push(alias.clone());
            }
        }
        Ok(Self {
            clusters,
            enable_internal_rest: parsed.get_bool(ENABLE_INTERNAL_REST).unwrap_or(false),
            listeners: parsed
                .get_list(LISTENERS)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            advertised_host_name: parsed
                .get_string(REST_ADVERTISED_HOST_NAME)
                .map(str::to_owned),
            advertised_port: parsed.get_int(REST_ADVERTISED_PORT),
            advertised_listener: parsed
                .get_string(REST_ADVERTISED_LISTENER)
                .map(str::to_owned),
            raw,
            resolved,
        })
    }

    /// The cluster aliases, in file order, without repeats.
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// `dedicated.mode.enable.internal.rest` (default false, as in Java). In Java it decides
    /// whether a node runs a REST server at all, one with only the internal endpoints a flow's
    /// followers use to hand task configs to the flow's leader (KIP-710); without it, Java's
    /// multi-node clusters cannot apply new task configs. Ferry always serves every flow's full
    /// REST API, internal endpoints included, so the value is validated but changes nothing.
    pub fn enable_internal_rest(&self) -> bool {
        self.enable_internal_rest
    }

    /// Every pair that gets a worker group, Java's `MirrorMakerConfig.clusterPairs`: a pair is
    /// included when `S->T.enabled` is true, or when heartbeats are on for it
    /// (`S->T.emit.heartbeats.enabled`, else the global `emit.heartbeats.enabled`, default
    /// true) — so by default every ordered pair of distinct clusters is included, because the
    /// reverse of a replication flow carries its heartbeats. Ordered by `clusters`, source first.
    pub fn cluster_pairs(&self) -> Vec<SourceAndTarget> {
        let global_heartbeats = self
            .resolved
            .get("emit.heartbeats.enabled")
            .is_none_or(|v| java_bool(v));
        let mut pairs = Vec::new();
        for source in &self.clusters {
            for target in self.clusters.iter().filter(|t| *t != source) {
                let prefix = format!("{source}->{target}.");
                let enabled = self
                    .resolved
                    .get(&format!("{prefix}enabled"))
                    .is_some_and(|v| java_bool(v));
                let heartbeats = self
                    .resolved
                    .get(&format!("{prefix}emit.heartbeats.enabled"))
                    .map_or(global_heartbeats, |v| java_bool(v));
                if enabled || heartbeats {
                    pairs.push(SourceAndTarget::new(source, target));
                }
            }
        }
        pairs
    }

    /// The flows a node serves, Java's `MirrorMaker` with `--clusters`: the pairs of
    /// [`Mm2Config::cluster_pairs`] whose target is one of `target_clusters` (all clusters when
    /// `None` or empty), each with its worker config, connectors and REST location.
    ///
    /// # Errors
    /// [`Mm2ConfigError::NoFlows`] when no pair is left; [`Mm2ConfigError::Provider`] when a
    /// config provider fails.
    pub fn flows(&self, target_clusters: Option<&[String]>) -> Result<Vec<Flow>, Mm2ConfigError> {
        let targets: HashSet<&str> = match target_clusters {
            Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
            _ => self.clusters.iter().map(String::as_str).collect(),
        };
        let flows = self
            .cluster_pairs()
            .into_iter()
            .filter(|pair| targets.contains(pair.target.as_str()))
            .map(|pair| self.flow(pair))
            .collect::<Result<Vec<_>, _>>()?;
        if flows.is_empty() {
            return Err(Mm2ConfigError::NoFlows);
        }
        Ok(flows)
    }

    fn flow(&self, pair: SourceAndTarget) -> Result<Flow, Mm2ConfigError> {
        let worker = self.worker_config(&pair)?;
        // The worker resolves a connector's variables before the connector reads `enabled`.
        let transformer = self.worker_transformer().ok();
        let connectors = MirrorConnector::ALL
            .into_iter()
            .map(|kind| {
                let config = self.connector_config(&pair, kind);
                let resolved = transformer.as_ref().and_then(|t| t.transform(&config).ok());
                FlowConnector {
                    kind,
                    name: config.get("name").cloned().unwrap_or_default(),
                    active: kind.is_active(resolved.as_ref().map_or(&config, |r| &r.data)),
                    config,
                }
            })
            .collect();
        let rest = FlowRest {
            listeners: self.listeners.clone(),
            advertised_host_name: self.advertised_host_name.clone(),
            advertised_port: self.advertised_port,
            advertised_listener: self.advertised_listener.clone(),
            namespace: [
                flow::encode_path(&pair.source),
                flow::encode_path(&pair.target),
            ],
        };
        Ok(Flow {
            pair,
            worker,
            connectors,
            rest,
        })
    }

    /// A cluster's settings, Java's `MirrorMakerConfig.clusterProps`: the `ALIAS.` keys with
    /// the prefix stripped; each client key set there is also given to the producer, consumer
    /// and admin (`producer.KEY`, …) unless set for them; then each global client key fills
    /// what is still missing, for the three clients and the cluster itself.
    pub fn cluster_props(&self, alias: &str) -> ConfigMap {
        let mut props = strip_prefix(&self.raw, &format!("{alias}."));
        let share = |props: &mut ConfigMap, key: &str, value: &str| {
            for client in CLIENT_PREFIXES {
                props
                    .entry(format!("{client}.{key}"))
                    .or_insert_with(|| value.to_owned());
            }
        };
        for key in client_keys() {
            if let Some(value) = props.get(key).cloned() {
                share(&mut props, key, &value);
            }
        }
        for key in client_keys() {
            if let Some(value) = self.raw.get(key) {
                share(&mut props, key, value);
                props.entry(key.to_owned()).or_insert_with(|| value.clone());
            }
        }
        props
    }

    /// The Connect distributed worker config of a flow, Java's `MirrorMakerConfig.workerConfig`:
    /// the target's [`Mm2Config::cluster_props`], the global keys with the worker prefixes,
    /// variables resolved, then the `config.providers*` keys as written, then defaults for
    /// `client.id` (`S->T`), `group.id` (`S-mm2`), the internal topics
    /// (`mm2-offsets.S.internal`, `mm2-status.S.internal`, `mm2-configs.S.internal`, on the
    /// target cluster) and ByteArray key, value and header converters.
    ///
    /// # Errors
    /// [`Mm2ConfigError::Provider`] when a config provider fails.
    pub fn worker_config(&self, pair: &SourceAndTarget) -> Result<ConfigMap, Mm2ConfigError> {
        let mut props = self.cluster_props(&pair.target);
        for prefix in WORKER_PREFIXES {
            props.extend(with_prefix(&self.raw, prefix));
        }
        let provider_error = |source| Mm2ConfigError::Provider {
            flow: pair.to_string(),
            source,
        };
        let mut props = self
            .worker_transformer()
            .and_then(|t| t.transform(&props))
            .map_err(provider_error)?
            .data;
        props.extend(with_prefix(&self.raw, CONFIG_PROVIDERS));
        let source = &pair.source;
        let defaults = [
            ("client.id", pair.to_string()),
            ("group.id", format!("{source}-mm2")),
            (
                "offset.storage.topic",
                format!("mm2-offsets.{source}.internal"),
            ),
            (
                "status.storage.topic",
                format!("mm2-status.{source}.internal"),
            ),
            (
                "config.storage.topic",
                format!("mm2-configs.{source}.internal"),
            ),
            ("key.converter", BYTE_ARRAY_CONVERTER.to_owned()),
            ("value.converter", BYTE_ARRAY_CONVERTER.to_owned()),
            ("header.converter", BYTE_ARRAY_CONVERTER.to_owned()),
        ];
        for (key, value) in defaults {
            props.entry(key.to_owned()).or_insert(value);
        }
        Ok(props)
    }

    /// The config of one of a flow's connectors, Java's `MirrorMakerConfig.connectorBaseConfig`:
    /// the global keys some MirrorMaker 2 connector defines, the `config.providers*` and
    /// `replication.policy*` keys, both clusters' [`Mm2Config::cluster_props`] as
    /// `source.cluster.KEY` / `target.cluster.KEY` (client-specific ones as
    /// `source.consumer.KEY`, `target.producer.KEY`, …), defaults for `name`,
    /// `connector.class` and the two aliases, then every `S->T.` key, and `enabled=false`
    /// unless set. Variables are left for the worker to resolve.
    pub fn connector_config(
        &self,
        pair: &SourceAndTarget,
        connector: MirrorConnector,
    ) -> ConfigMap {
        let mut props: ConfigMap = self
            .raw
            .iter()
            .filter(|(k, _)| is_connector_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        props.extend(with_prefix(&self.raw, CONFIG_PROVIDERS));
        props.extend(with_prefix(&self.raw, "replication.policy"));
        for (side, alias) in [("source", &pair.source), ("target", &pair.target)] {
            for (key, value) in self.cluster_props(alias) {
                let is_client = CLIENT_PREFIXES.iter().any(|c| key.starts_with(c));
                let key = if is_client {
                    format!("{side}.{key}")
                } else {
                    format!("{side}.cluster.{key}")
                };
                props.insert(key, value);
            }
        }
        let defaults = [
            ("name", connector.simple_name()),
            ("connector.class", connector.class_name()),
            ("source.cluster.alias", pair.source.as_str()),
            ("target.cluster.alias", pair.target.as_str()),
        ];
        for (key, value) in defaults {
            props
                .entry(key.to_owned())
                .or_insert_with(|| value.to_owned());
        }
        props.extend(strip_prefix(&self.raw, &format!("{pair}.")));
        props
            .entry("enabled".to_owned())
            .or_insert_with(|| "false".to_owned());
        props
    }

    /// The providers `MirrorMakerConfig.transform` uses: names from `config.providers` parsed
    /// as a list (trimmed), unlike the file-level resolution.
    fn worker_transformer(&self) -> Result<ConfigTransformer, ConfigError> {
        let mut configs = self.raw.clone();
        if let Some(names) = configs.get_mut(CONFIG_PROVIDERS) {
            *names = names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join(",");
        }
        ConfigTransformer::from_config(&configs)
    }
}

/// `Boolean.parseBoolean`: true only for `true` in any case.
fn java_bool(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

/// The entries whose key starts with `prefix` (or equals it), keys kept whole.
fn with_prefix(props: &HashMap<String, String>, prefix: &str) -> ConfigMap {
    props
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The entries whose key is longer than `prefix` and starts with it, the prefix removed.
fn strip_prefix(props: &HashMap<String, String>, prefix: &str) -> ConfigMap {
    props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .filter(|rest| !rest.is_empty())
                .map(|rest| (rest.to_owned(), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
