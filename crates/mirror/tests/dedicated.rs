//! `mm2.properties` → flows: the worker and connector configs Java's `MirrorMakerConfig` and
//! `MirrorMaker` produce for sample files, worked out key by key from the Java source.

use std::collections::HashMap;
use std::path::PathBuf;

use ferry_mirror::dedicated::{Flow, MirrorConnector, Mm2Config, Mm2ConfigError, SourceAndTarget};

const BYTE_ARRAY: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

fn map(entries: &[(&str, &str)]) -> HashMap<String, String> {
    let map: HashMap<String, String> = entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(map.len(), entries.len(), "duplicate key in expectation");
    map
}

fn pairs(config: &Mm2Config) -> Vec<String> {
    config
        .cluster_pairs()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn flow<'a>(flows: &'a [Flow], pair: &str) -> &'a Flow {
    flows
        .iter()
        .find(|f| f.pair.to_string() == pair)
        .unwrap_or_else(|| panic!("no flow {pair}"))
}

fn targets(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The settings of Kafka's `config/connect-mirror-maker.properties`.
const KAFKA_SAMPLE: &str = "\
clusters = A, B
A.bootstrap.servers = A_host1:9092, A_host2:9092, A_host3:9092
B.bootstrap.servers = B_host1:9092, B_host2:9092, B_host3:9092
A->B.enabled = true
A->B.topics = .*
B->A.enabled = true
B->A.topics = .*
replication.factor=1
checkpoints.topic.replication.factor=1
heartbeats.topic.replication.factor=1
offset-syncs.topic.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
config.storage.replication.factor=1
";

#[test]
fn kafka_sample_file_worker_config() {
    let config = Mm2Config::parse_str(KAFKA_SAMPLE).unwrap();
    assert_eq!(config.clusters(), ["A", "B"]);
    assert_eq!(pairs(&config), ["A->B", "B->A"]);
    let flows = config.flows(None).unwrap();
    assert_eq!(flows.len(), 2);
    let b_servers = "B_host1:9092, B_host2:9092, B_host3:9092";
    assert_eq!(
        flow(&flows, "A->B").worker,
        map(&[
            ("bootstrap.servers", b_servers),
            ("producer.bootstrap.servers", b_servers),
            ("consumer.bootstrap.servers", b_servers),
            ("admin.bootstrap.servers", b_servers),
            ("offset.storage.replication.factor", "1"),
            ("status.storage.replication.factor", "1"),
            ("config.storage.replication.factor", "1"),
            ("client.id", "A->B"),
            ("group.id", "A-mm2"),
            ("offset.storage.topic", "mm2-offsets.A.internal"),
            ("status.storage.topic", "mm2-status.A.internal"),
            ("config.storage.topic", "mm2-configs.A.internal"),
            ("key.converter", BYTE_ARRAY),
            ("value.converter", BYTE_ARRAY),
            ("header.converter", BYTE_ARRAY),
        ])
    );
    let reverse = &flow(&flows, "B->A").worker;
    assert_eq!(
        reverse["bootstrap.servers"],
        "A_host1:9092, A_host2:9092, A_host3:9092"
    );
    assert_eq!(reverse["group.id"], "B-mm2");
    assert_eq!(reverse["config.storage.topic"], "mm2-configs.B.internal");
    assert_eq!(reverse["client.id"], "B->A");
}

#[test]
fn kafka_sample_file_connector_configs() {
    let config = Mm2Config::parse_str(KAFKA_SAMPLE).unwrap();
    let flows = config.flows(Some(&targets(&["B"]))).unwrap();
    assert_eq!(flows.len(), 1);
    let flow = &flows[0];
    assert_eq!(flow.pair, SourceAndTarget::new("A", "B"));
    let a_servers = "A_host1:9092, A_host2:9092, A_host3:9092";
    let b_servers = "B_host1:9092, B_host2:9092, B_host3:9092";
    let names: Vec<&str> = flow.connectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "MirrorSourceConnector",
            "MirrorHeartbeatConnector",
            "MirrorCheckpointConnector"
        ]
    );
    for connector in &flow.connectors {
        let name = connector.kind.simple_name();
        let class = format!("org.apache.kafka.connect.mirror.{name}");
        assert_eq!(
            connector.config,
            map(&[
                ("replication.factor", "1"),
                ("checkpoints.topic.replication.factor", "1"),
                ("heartbeats.topic.replication.factor", "1"),
                ("offset-syncs.topic.replication.factor", "1"),
                ("source.cluster.bootstrap.servers", a_servers),
                ("source.producer.bootstrap.servers", a_servers),
                ("source.consumer.bootstrap.servers", a_servers),
                ("source.admin.bootstrap.servers", a_servers),
                ("target.cluster.bootstrap.servers", b_servers),
                ("target.producer.bootstrap.servers", b_servers),
                ("target.consumer.bootstrap.servers", b_servers),
                ("target.admin.bootstrap.servers", b_servers),
                ("name", name),
                ("connector.class", &class),
                ("source.cluster.alias", "A"),
                ("target.cluster.alias", "B"),
                ("enabled", "true"),
                ("topics", ".*"),
            ]),
            "{name}"
        );
        assert!(connector.active, "{name}");
    }
}

/// Three clusters; A replicates to B and C; per-flow, per-cluster and global settings compete.
const THREE_CLUSTERS: &str = "\
clusters = A, B, C
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
C.bootstrap.servers = c:9092
A->B.enabled = true
A->C.enabled = TRUE
A->C.emit.heartbeats.enabled = false
C->B.emit.heartbeats.enabled = false
tasks.max = 4
A->B.tasks.max = 8
sync.topic.acls.enabled = false
security.protocol = SSL
B.security.protocol = SASL_SSL
B.consumer.security.protocol = PLAINTEXT
B.group.id = custom-group
A.producer.linger.ms = 5
replication.policy.separator = _
";

#[test]
fn pairs_include_heartbeat_only_reverse_flows() {
    let config = Mm2Config::parse_str(THREE_CLUSTERS).unwrap();
    // C->B is neither enabled nor emitting heartbeats; every other ordered pair emits them.
    assert_eq!(pairs(&config), ["A->B", "A->C", "B->A", "B->C", "C->A"]);

    let quiet = format!("{THREE_CLUSTERS}emit.heartbeats.enabled = false\n");
    let config = Mm2Config::parse_str(&quiet).unwrap();
    assert_eq!(pairs(&config), ["A->B", "A->C"]);

    let flows = config.flows(Some(&targets(&["C"]))).unwrap();
    assert_eq!(flows.len(), 1);
    let heartbeat = flows[0].connector(MirrorConnector::Heartbeat).unwrap();
    assert_eq!(heartbeat.config["emit.heartbeats.enabled"], "false");
    assert!(!heartbeat.active);
    assert!(flows[0].connector(MirrorConnector::Source).unwrap().active);
}

#[test]
fn clusters_argument_selects_flows_by_target() {
    let config = Mm2Config::parse_str(THREE_CLUSTERS).unwrap();
    let pairs_for = |list: &[&str]| -> Vec<String> {
        config
            .flows(Some(&targets(list)))
            .unwrap()
            .iter()
            .map(|f| f.pair.to_string())
            .collect()
    };
    assert_eq!(pairs_for(&["A"]), ["B->A", "C->A"]);
    assert_eq!(pairs_for(&["B"]), ["A->B"]);
    assert_eq!(pairs_for(&["B", "C"]), ["A->B", "A->C", "B->C"]);
    assert_eq!(pairs_for(&[]).len(), 5);
    assert_eq!(config.flows(None).unwrap().len(), 5);
    assert!(matches!(
        config.flows(Some(&targets(&["X"]))),
        Err(Mm2ConfigError::NoFlows)
    ));
}

#[test]
fn worker_config_takes_target_cluster_settings_and_global_worker_keys() {
    let config = Mm2Config::parse_str(THREE_CLUSTERS).unwrap();
    let flows = config.flows(Some(&targets(&["B"]))).unwrap();
    assert_eq!(
        flows[0].worker,
        map(&[
            ("bootstrap.servers", "b:9092"),
            ("security.protocol", "SASL_SSL"),
            ("consumer.security.protocol", "PLAINTEXT"),
            ("group.id", "custom-group"),
            ("producer.bootstrap.servers", "b:9092"),
            ("consumer.bootstrap.servers", "b:9092"),
            ("admin.bootstrap.servers", "b:9092"),
            ("producer.security.protocol", "SASL_SSL"),
            ("admin.security.protocol", "SASL_SSL"),
            ("tasks.max", "4"),
            ("replication.policy.separator", "_"),
            ("client.id", "A->B"),
            ("offset.storage.topic", "mm2-offsets.A.internal"),
            ("status.storage.topic", "mm2-status.A.internal"),
            ("config.storage.topic", "mm2-configs.A.internal"),
            ("key.converter", BYTE_ARRAY),
            ("value.converter", BYTE_ARRAY),
            ("header.converter", BYTE_ARRAY),
        ])
    );
    // A cluster without its own security settings takes the global ones, for every client.
    let to_a = config.flows(Some(&targets(&["A"]))).unwrap();
    let worker = &flow(&to_a, "C->A").worker;
    assert_eq!(worker["security.protocol"], "SSL");
    assert_eq!(worker["admin.security.protocol"], "SSL");
    assert_eq!(worker["group.id"], "C-mm2");
    // A's client settings are the worker's when A is the target.
    assert_eq!(worker["producer.linger.ms"], "5");
}

#[test]
fn connector_config_layers_global_cluster_and_flow_settings() {
    let config = Mm2Config::parse_str(THREE_CLUSTERS).unwrap();
    let flows = config.flows(Some(&targets(&["B"]))).unwrap();
    let source = flows[0].connector(MirrorConnector::Source).unwrap();
    assert_eq!(
        source.config,
        map(&[
            ("tasks.max", "8"),
            ("sync.topic.acls.enabled", "false"),
            ("security.protocol", "SSL"),
            ("replication.policy.separator", "_"),
            ("source.cluster.bootstrap.servers", "a:9092"),
            ("source.cluster.security.protocol", "SSL"),
            ("source.producer.linger.ms", "5"),
            ("source.producer.bootstrap.servers", "a:9092"),
            ("source.consumer.bootstrap.servers", "a:9092"),
            ("source.admin.bootstrap.servers", "a:9092"),
            ("source.producer.security.protocol", "SSL"),
            ("source.consumer.security.protocol", "SSL"),
            ("source.admin.security.protocol", "SSL"),
            ("target.cluster.bootstrap.servers", "b:9092"),
            ("target.cluster.security.protocol", "SASL_SSL"),
            ("target.cluster.group.id", "custom-group"),
            ("target.consumer.security.protocol", "PLAINTEXT"),
            ("target.producer.bootstrap.servers", "b:9092"),
            ("target.consumer.bootstrap.servers", "b:9092"),
            ("target.admin.bootstrap.servers", "b:9092"),
            ("target.producer.security.protocol", "SASL_SSL"),
            ("target.admin.security.protocol", "SASL_SSL"),
            ("name", "MirrorSourceConnector"),
            (
                "connector.class",
                "org.apache.kafka.connect.mirror.MirrorSourceConnector"
            ),
            ("source.cluster.alias", "A"),
            ("target.cluster.alias", "B"),
            ("enabled", "true"),
        ])
    );
}

#[test]
fn reverse_flow_connectors_are_disabled_but_heartbeats_run() {
    let config = Mm2Config::parse_str(THREE_CLUSTERS).unwrap();
    let flows = config.flows(Some(&targets(&["A"]))).unwrap();
    let reverse = flow(&flows, "B->A");
    let active: Vec<(&str, bool)> = reverse
        .connectors
        .iter()
        .map(|c| (c.name.as_str(), c.active))
        .collect();
    assert_eq!(
        active,
        [
            ("MirrorSourceConnector", false),
            ("MirrorHeartbeatConnector", true),
            ("MirrorCheckpointConnector", false),
        ]
    );
    let source = reverse.connector(MirrorConnector::Source).unwrap();
    assert_eq!(source.config["enabled"], "false");
    assert_eq!(source.config["tasks.max"], "4");
}

#[test]
fn global_connector_keys_and_flow_overrides_can_replace_defaults() {
    let text = "clusters = A, B\nA->B.enabled = true\nname = everywhere\n\
                A->B.source.cluster.alias = renamed\nenabled = true\n";
    let config = Mm2Config::parse_str(text).unwrap();
    let flows = config.flows(None).unwrap();
    let source = flow(&flows, "A->B")
        .connector(MirrorConnector::Source)
        .unwrap();
    // `name` is a connector key, so the global value is kept over the class name, as in Java.
    assert_eq!(source.name, "everywhere");
    assert_eq!(source.config["source.cluster.alias"], "renamed");
    // A global `enabled` reaches every flow, the reverse one included.
    let reverse = flow(&flows, "B->A")
        .connector(MirrorConnector::Source)
        .unwrap();
    assert_eq!(reverse.config["enabled"], "true");
    assert!(reverse.active);
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("ferry-mm2-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn config_providers_resolve_worker_configs_and_flow_selection_only() {
    let secrets = TempFile::new(
        "secrets.properties",
        "jaas = org.example.Login required;\nenabled = true\nrf = 3\n",
    );
    let path = secrets.0.display();
    let text = format!(
        "clusters = A, B\n\
         config.providers = file\n\
         config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider\n\
         emit.heartbeats.enabled = false\n\
         A->B.enabled = ${{file:{path}:enabled}}\n\
         B.sasl.jaas.config = ${{file:{path}:jaas}}\n\
         offset.storage.replication.factor = ${{file:{path}:rf}}\n\
         A->B.topics = ${{file:{path}:missing}}\n"
    );
    let config = Mm2Config::parse_str(&text).unwrap();
    // The enabled flag is read resolved, so A->B is a flow and B->A (heartbeats off) is not.
    assert_eq!(pairs(&config), ["A->B"]);
    let flows = config.flows(None).unwrap();
    let worker = &flows[0].worker;
    assert_eq!(worker["sasl.jaas.config"], "org.example.Login required;");
    assert_eq!(
        worker["producer.sasl.jaas.config"],
        "org.example.Login required;"
    );
    assert_eq!(worker["offset.storage.replication.factor"], "3");
    assert_eq!(worker["config.providers"], "file");
    assert_eq!(
        worker["config.providers.file.class"],
        "org.apache.kafka.common.config.provider.FileConfigProvider"
    );
    // Connector configs keep the variables for the worker to resolve.
    let source = flows[0].connector(MirrorConnector::Source).unwrap();
    assert_eq!(
        source.config["enabled"],
        format!("${{file:{path}:enabled}}")
    );
    assert_eq!(
        source.config["target.cluster.sasl.jaas.config"],
        format!("${{file:{path}:jaas}}")
    );
    assert_eq!(source.config["topics"], format!("${{file:{path}:missing}}"));
    assert_eq!(source.config["config.providers"], "file");
    assert!(source.active);
}

#[test]
fn rest_settings_are_the_nodes_with_a_path_per_flow() {
    let text = "clusters = east, west coast\n\
                east->west\\ coast.enabled = true\n\
                dedicated.mode.enable.internal.rest = true\n\
                listeners = http://0.0.0.0:8085\n\
                rest.advertised.host.name = node1\n\
                rest.advertised.port = 9095\n";
    let config = Mm2Config::parse_str(text).unwrap();
    assert!(config.enable_internal_rest());
    let flows = config.flows(Some(&targets(&["west coast"]))).unwrap();
    let rest = &flows[0].rest;
    assert_eq!(rest.listeners, ["http://0.0.0.0:8085"]);
    assert_eq!(rest.path_prefix(), "/east/west%20coast");
    let runtime = flows[0].runtime_worker_config();
    assert_eq!(runtime["listeners"], "http://0.0.0.0:8085");
    assert_eq!(runtime["rest.advertised.host.name"], "node1");
    assert_eq!(runtime["rest.advertised.port"], "9095");
    assert!(!runtime.contains_key("rest.advertised.listener"));
    assert!(!flows[0].worker.contains_key("listeners"));
    // A node-level switch, as in Java: no worker or connector sees it (nor warns about it).
    let internal = "dedicated.mode.enable.internal.rest";
    assert!(!runtime.contains_key(internal));
    for connector in &flows[0].connectors {
        assert!(
            !connector.config.contains_key(internal),
            "{}",
            connector.name
        );
    }
    assert!(
        Mm2Config::parse_str(
            "clusters = A
dedicated.mode.enable.internal.rest = FALSE
"
        )
        .is_ok_and(|c| !c.enable_internal_rest())
    );

    let defaults = Mm2Config::parse_str("clusters = A, B\n").unwrap();
    assert!(!defaults.enable_internal_rest());
    let flows = defaults.flows(None).unwrap();
    assert_eq!(flows[0].rest.listeners, ["http://:8083"]);
}

#[test]
fn invalid_files_name_the_key_or_line() {
    let err = |text: &str| Mm2Config::parse_str(text).unwrap_err();
    match err("A.bootstrap.servers = a:9092\n") {
        Mm2ConfigError::Invalid(e) => {
            assert_eq!(e.key(), Some("clusters"));
            assert_eq!(
                e.to_string(),
                "Missing required configuration \"clusters\" which has no default value."
            );
        }
        other => panic!("{other:?}"),
    }
    for (text, key) in [
        (
            "clusters = A\nsecurity.protocol = TLS\n",
            "security.protocol",
        ),
        (
            "clusters = A\nrest.advertised.port = high\n",
            "rest.advertised.port",
        ),
        (
            "clusters = A\ndedicated.mode.enable.internal.rest = yes\n",
            "dedicated.mode.enable.internal.rest",
        ),
        (
            "clusters = A\nsasl.login.refresh.window.factor = 2\n",
            "sasl.login.refresh.window.factor",
        ),
    ] {
        match err(text) {
            Mm2ConfigError::Invalid(e) => assert!(e.to_string().contains(key), "{e}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(
        err("clusters = A\nlisteners =\n"),
        Mm2ConfigError::Invalid(_)
    ));
    assert!(Mm2Config::parse_str("clusters = A\nsecurity.protocol = ssl\n").is_ok());
    assert!(matches!(
        err("clusters = A\n# \\uXYZ is fine in a comment\nA.x = \\u00zz\n"),
        Mm2ConfigError::MalformedEscape { line: 3 }
    ));
    assert!(matches!(
        Mm2Config::parse_str("clusters = \n").unwrap().flows(None),
        Err(Mm2ConfigError::NoFlows)
    ));
}

#[test]
fn load_reads_latin1_files() {
    let file = TempFile::new("latin1.properties", "");
    std::fs::write(&file.0, b"clusters = caf\xe9, B\n").unwrap();
    let config = Mm2Config::load(&file.0).unwrap();
    assert_eq!(config.clusters(), ["caf\u{e9}", "B"]);
    let missing = std::env::temp_dir().join("ferry-mm2-does-not-exist.properties");
    assert!(matches!(
        Mm2Config::load(missing),
        Err(Mm2ConfigError::Read { .. })
    ));
}

mod properties {
    use proptest::prelude::*;

    use super::{Mm2Config, Mm2ConfigError};

    const ALIASES: [&str; 4] = ["A", "B", "C", "D"];

    /// A file with `n` clusters, a random `enabled` and `emit.heartbeats.enabled` per ordered
    /// pair, and maybe a global `emit.heartbeats.enabled`.
    fn file() -> impl Strategy<Value = (usize, String, Vec<(String, bool)>)> {
        (2..=4usize).prop_flat_map(|n| {
            let pairs = n * (n - 1);
            (
                Just(n),
                proptest::collection::vec(
                    (any::<bool>(), proptest::option::of(any::<bool>())),
                    pairs,
                ),
                proptest::option::of(any::<bool>()),
            )
                .prop_map(|(n, flags, global)| {
                    let mut text = format!("clusters = {}\n", ALIASES[..n].join(", "));
                    if let Some(global) = global {
                        text.push_str(&format!("emit.heartbeats.enabled = {global}\n"));
                    }
                    let ordered = ALIASES[..n]
                        .iter()
                        .flat_map(|s| ALIASES[..n].iter().map(move |t| (*s, *t)))
                        .filter(|(s, t)| s != t);
                    let mut expected = Vec::new();
                    for ((source, target), (enabled, heartbeats)) in ordered.zip(flags) {
                        text.push_str(&format!("{source}->{target}.enabled = {enabled}\n"));
                        if let Some(h) = heartbeats {
                            text.push_str(&format!(
                                "{source}->{target}.emit.heartbeats.enabled = {h}\n"
                            ));
                        }
                        let runs = enabled || heartbeats.or(global).unwrap_or(true);
                        expected.push((format!("{source}->{target}"), runs));
                    }
                    (n, text, expected)
                })
        })
    }

    proptest! {
        /// A pair gets a worker group iff it replicates or emits heartbeats, and nodes started
        /// with different `--clusters` serve disjoint flows that together are all of them.
        #[test]
        fn nodes_per_target_partition_the_flows((n, text, expected) in file()) {
            let config = Mm2Config::parse_str(&text).unwrap();
            let all: Vec<String> = config.cluster_pairs().iter().map(ToString::to_string).collect();
            let wanted: Vec<String> =
                expected.into_iter().filter(|(_, runs)| *runs).map(|(p, _)| p).collect();
            prop_assert_eq!(&all, &wanted);
            let mut served = Vec::new();
            for target in &ALIASES[..n] {
                match config.flows(Some(&[(*target).to_owned()])) {
                    Ok(flows) => {
                        for flow in flows {
                            prop_assert_eq!(flow.pair.target.as_str(), *target);
                            served.push(flow.pair.to_string());
                        }
                    }
                    Err(Mm2ConfigError::NoFlows) => {}
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
            }
            served.sort();
            let mut all = all;
            all.sort();
            prop_assert_eq!(served, all);
        }
    }
}
