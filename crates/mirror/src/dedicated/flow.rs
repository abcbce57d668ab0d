//! What a dedicated MirrorMaker 2 node runs for one source→target pair: a Connect worker (its
//! own group on the target cluster), the three connectors, and where its REST API lives.

use std::fmt;

use ferry_connect::connector::ConfigMap;

use super::names::{
    LISTENERS, REST_ADVERTISED_HOST_NAME, REST_ADVERTISED_LISTENER, REST_ADVERTISED_PORT,
};

/// A replication direction between two cluster aliases, Java's `SourceAndTarget`; displayed
/// `source->target`, the form `mm2.properties` uses for flow settings.
///
/// ```
/// use ferry_mirror::dedicated::SourceAndTarget;
/// let pair = SourceAndTarget::new("primary", "backup");
/// assert_eq!(pair.to_string(), "primary->backup");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceAndTarget {
    /// The alias of the cluster records come from.
    pub source: String,
    /// The alias of the cluster records go to (where the flow's worker group lives).
    pub target: String,
}

impl SourceAndTarget {
    /// The pair `source->target`.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            target: target.into(),
        }
    }
}

impl fmt::Display for SourceAndTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}", self.source, self.target)
    }
}

/// One of the three connectors every flow runs, in the order Java's `MirrorMaker` configures
/// them ([`MirrorConnector::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorConnector {
    /// `MirrorSourceConnector`: replicates topics, their configs and ACLs.
    Source,
    /// `MirrorHeartbeatConnector`: emits heartbeats into the target cluster.
    Heartbeat,
    /// `MirrorCheckpointConnector`: emits consumer-group checkpoints and syncs group offsets.
    Checkpoint,
}

impl MirrorConnector {
    /// All three, in Java's `MirrorMaker.CONNECTOR_CLASSES` order.
    pub const ALL: [MirrorConnector; 3] = [Self::Source, Self::Heartbeat, Self::Checkpoint];

    /// The simple class name, which is also the connector's name in dedicated mode.
    ///
    /// ```
    /// use ferry_mirror::dedicated::MirrorConnector;
    /// assert_eq!(MirrorConnector::Checkpoint.simple_name(), "MirrorCheckpointConnector");
    /// ```
    pub fn simple_name(self) -> &'static str {
        match self {
            Self::Source => "MirrorSourceConnector",
            Self::Heartbeat => "MirrorHeartbeatConnector",
            Self::Checkpoint => "MirrorCheckpointConnector",
        }
    }

    /// The fully qualified Java class name, the value of `connector.class`.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Source => "org.apache.kafka.connect.mirror.MirrorSourceConnector",
            Self::Heartbeat => "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector",
            Self::Checkpoint => "org.apache.kafka.connect.mirror.MirrorCheckpointConnector",
        }
    }

    /// Whether a connector with this config does any work: the source and checkpoint
    /// connectors stay idle unless `enabled`, the heartbeat connector ignores `enabled` and
    /// stays idle when `emit.heartbeats.enabled` is false. Values parse as Java's booleans;
    /// anything but `true`/`false` (any case) makes Java's connector fail, reported as idle.
    pub fn is_active(self, config: &ConfigMap) -> bool {
        let (key, default) = match self {
            Self::Source | Self::Checkpoint => ("enabled", true),
            Self::Heartbeat => ("emit.heartbeats.enabled", true),
        };
        config
            .get(key)
            .map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// A connector a flow's worker group runs, with the config the group's leader writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConnector {
    /// Which connector.
    pub kind: MirrorConnector,
    /// Its name in the flow's config topic (`name`; Java's simple class name unless the file
    /// overrides `name`).
    pub name: String,
    /// The config to put, variables left as written (the worker resolves them).
    pub config: ConfigMap,
    /// [`MirrorConnector::is_active`] for `config` with its variables resolved. Java creates
    /// all three connectors either way; an inactive one runs no tasks.
    pub active: bool,
}

/// Where a node serves a flow's REST API. A node has one REST server (`listeners`); Ferry
/// serves each flow's full Connect REST API under [`FlowRest::path_prefix`], which is also the
/// namespace Java's internal-REST forwarding puts between the leader's URL and `/connectors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRest {
    /// The node's `listeners` (default `http://:8083`).
    pub listeners: Vec<String>,
    /// `rest.advertised.host.name`, if set.
    pub advertised_host_name: Option<String>,
    /// `rest.advertised.port`, if set.
    pub advertised_port: Option<i32>,
    /// `rest.advertised.listener`, if set.
    pub advertised_listener: Option<String>,
    /// The flow's path segments, source then target, URL-encoded as Java's `MirrorMaker`
    /// encodes them (spaces as `%20`).
    pub namespace: [String; 2],
}

impl FlowRest {
    /// `/{source}/{target}`, encoded.
    ///
    /// ```
    /// use ferry_mirror::dedicated::Mm2Config;
    /// let config = Mm2Config::parse_str("clusters = a b, c\na\\ b->c.enabled = true\n")?;
    /// let flows = config.flows(None)?;
    /// let flow = flows.iter().find(|f| f.pair.to_string() == "a b->c").unwrap();
    /// assert_eq!(flow.rest.path_prefix(), "/a%20b/c");
    /// # Ok::<(), ferry_mirror::dedicated::Mm2ConfigError>(())
    /// ```
    pub fn path_prefix(&self) -> String {
        format!("/{}/{}", self.namespace[0], self.namespace[1])
    }
}

/// One source→target pair a node serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The pair.
    pub pair: SourceAndTarget,
    /// The Connect distributed worker config, exactly Java's `MirrorMakerConfig.workerConfig`:
    /// the target's client settings, the group and internal topics, ByteArray converters, with
    /// config-provider variables resolved.
    pub worker: ConfigMap,
    /// The flow's three connectors, in Java's order.
    pub connectors: Vec<FlowConnector>,
    /// Where the flow's REST API is served.
    pub rest: FlowRest,
}

impl Flow {
    /// [`Flow::worker`] with the node's REST settings (`listeners`, `rest.advertised.*`), which
    /// Java keeps out of the flow's worker config because one server serves every flow: the
    /// config a Ferry worker runtime needs to compute the URL it advertises to its group.
    pub fn runtime_worker_config(&self) -> ConfigMap {
        let mut config = self.worker.clone();
        config.insert(LISTENERS.to_owned(), self.rest.listeners.join(","));
        let advertised = [
            (
                REST_ADVERTISED_HOST_NAME,
                self.rest.advertised_host_name.clone(),
            ),
            (
                REST_ADVERTISED_PORT,
                self.rest.advertised_port.map(|p| p.to_string()),
            ),
            (
                REST_ADVERTISED_LISTENER,
                self.rest.advertised_listener.clone(),
            ),
        ];
        for (key, value) in advertised {
            match value {
                Some(value) => config.insert(key.to_owned(), value),
                None => config.remove(key),
            };
        }
        config
    }

    /// The config of one of the flow's connectors.
    pub fn connector(&self, kind: MirrorConnector) -> Option<&FlowConnector> {
        self.connectors.iter().find(|c| c.kind == kind)
    }
}

/// Java's `URLEncoder.encode(s, UTF_8)` with `+` then replaced by `%20`, as `MirrorMaker`
/// encodes aliases into REST paths.
pub(super) fn encode_path(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
