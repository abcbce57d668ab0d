//! `ferry`: the command-line entry point. The logic lives in the library crates; this binary
//! parses arguments, sets up logging, builds the plugin registry and reports errors.
//!
//! Exit codes: 0 after a clean shutdown, 2 for invalid arguments or configuration (one line on
//! standard error naming the file and key), 1 for any other failure.

mod connector_file;
mod distributed;
mod logging;
mod mirror;
mod mm2;
mod plugins;
mod standalone;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: the data path allocates and frees small objects
/// per record on several threads, where glibc's malloc spent about a quarter of the worker's CPU
/// time in a replication profile and fragmented into a much larger resident set.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Kafka Connect–compatible worker and MirrorMaker 2.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one worker of a distributed Connect cluster (Java's `connect-distributed.sh`).
    #[command(
        long_about = "Runs one worker of a distributed Kafka Connect cluster, as Java's connect-distributed.sh does.\n\n\
        WORKER is a connect-distributed.properties file: bootstrap.servers, group.id, \
        config.storage.topic, offset.storage.topic, status.storage.topic (and their \
        .replication.factor / .partitions), key.converter, value.converter, listeners, \
        rest.advertised.host.name/port, session.timeout.ms, heartbeat.interval.ms, \
        connect.protocol, producer.*/consumer.*/admin.* overrides, config.providers, ... with \
        Java's defaults. Workers with the same group.id form one cluster: the group leader \
        assigns connectors and tasks, and any worker serves the REST API (default \
        http://:8083), forwarding writes to the leader. Connectors are created with \
        POST /connectors (Java class names and configs; MirrorMaker 2's MirrorSourceConnector, \
        MirrorCheckpointConnector and MirrorHeartbeatConnector are built in).\n\n\
        SIGINT or SIGTERM stops the worker gracefully: its tasks commit their offsets and it \
        leaves the group, so the others take over its work. Logging follows RUST_LOG \
        (e.g. `info,ferry_runtime=debug`).\n\n\
        Example:\n  ferry distributed config/connect-distributed.properties"
    )]
    Distributed {
        /// The worker configuration (`.properties`).
        #[arg(value_name = "WORKER")]
        worker: PathBuf,
    },
    /// Runs a standalone Connect worker (Java's `connect-standalone.sh`): one process, connector
    /// configs from files, source offsets in `offset.storage.file.filename`.
    #[command(
        long_about = "Runs a standalone Kafka Connect worker, as Java's connect-standalone.sh does.\n\n\
        WORKER is a connect-standalone.properties file (bootstrap.servers, key.converter, value.converter, \
        offset.storage.file.filename, listeners, producer.*/consumer.* overrides, config.providers, ...).\n\
        Each CONNECTOR file is a connector configuration: a .properties file, a JSON object of strings, \
        or a JSON {\"name\", \"config\", \"initial_state\"} request as POST /connectors takes.\n\n\
        The REST API is served on `listeners` (default http://:8083). SIGINT or SIGTERM stops the \
        worker after committing offsets. Logging follows RUST_LOG (e.g. `info,ferry_runtime=debug`).\n\n\
        Note: the offsets file is JSON, not the Java-serialized file Java's standalone worker writes."
    )]
    Standalone {
        /// The worker configuration (`.properties`).
        #[arg(value_name = "WORKER")]
        worker: PathBuf,
        /// Connector configurations (`.properties` or `.json`).
        #[arg(value_name = "CONNECTOR")]
        connectors: Vec<PathBuf>,
    },
    /// Runs dedicated MirrorMaker 2 (Java's `connect-mirror-maker.sh`) from an `mm2.properties`.
    #[command(
        long_about = "Runs dedicated MirrorMaker 2, as Java's connect-mirror-maker.sh does.\n\n\
        MM2 is an mm2.properties file: clusters, ALIAS.bootstrap.servers, SOURCE->TARGET.enabled, \
        SOURCE->TARGET.topics, ... with Java's MirrorMakerConfig semantics. Each flow this node \
        serves runs as its own distributed Connect worker group on the target cluster (group.id \
        SOURCE-mm2, topics mm2-configs/offsets/status.SOURCE.internal): processes started from \
        the same file share the work of every flow and take over a dead one's.\n\n\
        Each flow's REST API is served under /SOURCE/TARGET/ on `listeners` (default \
        http://:8083), e.g. GET /A/B/connectors/MirrorSourceConnector/status; GET / lists \
        the flows. The REST API is always served: dedicated.mode.enable.internal.rest is \
        accepted for compatibility and changes nothing. SIGINT or SIGTERM stops the node \
        gracefully.\n\n\
        Example:\n  ferry mirror config/mm2.properties --clusters B"
    )]
    Mirror {
        /// The MirrorMaker 2 configuration (`mm2.properties`).
        #[arg(value_name = "MM2")]
        config: PathBuf,
        /// Serve only the flows that target these clusters (comma-separated aliases).
        #[arg(long, value_name = "ALIAS", value_delimiter = ',', num_args = 1..)]
        clusters: Vec<String>,
    },
    /// MirrorMaker 2's tools: print its internal topics, translate a group's offsets.
    #[command(subcommand)]
    Mm2(mm2::Mm2Command),
}

/// A failure the user must fix in their arguments or files: reported on one line, exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let levels = match logging::init() {
        Ok(levels) => levels,
        Err(error) => {
            eprintln!("ferry: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Distributed { worker } => distributed::run(&worker, levels),
        Command::Standalone { worker, connectors } => standalone::run(&worker, &connectors, levels),
        Command::Mirror { config, clusters } => mirror::run(&config, &clusters, levels),
        Command::Mm2(command) => mm2::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => match error.downcast_ref::<UsageError>() {
            Some(usage) => {
                eprintln!("ferry: {}", usage.0.replace('\n', " "));
                ExitCode::from(2)
            }
            None => {
                eprintln!("ferry: {error:#}");
                ExitCode::from(1)
            }
        },
    }
}
