//! `ferry mm2 format` and `ferry mm2 translate-offsets`: MirrorMaker 2's tools, as Java runs them
//! through `kafka-console-consumer --formatter …` and `RemoteClusterUtils.translateOffsets`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use ferry_connect::properties::Properties;
use ferry_mirror::tools::{
    FormatOptions, RecordKind, ToolError, TranslateOptions, print_offsets, translate_offsets,
};

use crate::UsageError;

/// The `ferry mm2` subcommands.
#[derive(Debug, Subcommand)]
pub enum Mm2Command {
    /// Prints MirrorMaker 2's heartbeats, checkpoints or offset syncs as Java's formatters do.
    #[command(
        long_about = "Prints MirrorMaker 2's internal records, one line each, exactly as Java's \
        kafka-console-consumer.sh does with --formatter \
        org.apache.kafka.connect.mirror.formatters.{HeartbeatFormatter,CheckpointFormatter,OffsetSyncFormatter} \
        (KIP-597), and \"Processed a total of N messages\" on standard error at the end.\n\n\
        Without --topic: heartbeats reads `heartbeats`; checkpoints and offset-syncs read the \
        topic named by --cluster-alias (ALIAS.checkpoints.internal on the target cluster, \
        mm2-offset-syncs.ALIAS.internal on the source cluster), else the only such topic on the \
        cluster.\n\n\
        Examples:\n  \
        ferry mm2 format heartbeats --bootstrap-server localhost:9093 --from-beginning --timeout-ms 5000\n  \
        ferry mm2 format checkpoints --bootstrap-server localhost:9093 --topic A.checkpoints.internal --from-beginning\n  \
        ferry mm2 format offset-syncs --bootstrap-server localhost:9092 --cluster-alias B --from-beginning --max-messages 10"
    )]
    Format(FormatArgs),
    /// Prints a consumer group's offsets translated to the target cluster from its checkpoints.
    #[command(
        long_about = "Prints a consumer group's offsets on the target cluster, translated from the \
        source cluster by MirrorMaker 2's checkpoints, as Java's \
        RemoteClusterUtils.translateOffsets(properties, sourceClusterAlias, group, timeout) \
        returns them: one `TOPIC PARTITION OFFSET` line per partition, sorted, topics named as on \
        the target (A.orders for orders from cluster A).\n\n\
        Properties are MirrorClientConfig's: client keys (consumer.KEY overrides KEY) and \
        replication.policy.class / replication.policy.separator, which name the checkpoints topic.\n\n\
        Example:\n  \
        ferry mm2 translate-offsets --bootstrap-server localhost:9093 --source-alias A --group orders-app"
    )]
    TranslateOffsets(TranslateArgs),
}

/// The arguments of `ferry mm2 format`.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// The kind of records: heartbeats, checkpoints or offset-syncs (or the Java formatter's
    /// class name).
    #[arg(value_name = "KIND")]
    kind: String,
    /// The cluster to read from (`bootstrap.servers`).
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_server: String,
    /// The topic to read (default: see above).
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Names the default topic: the source alias for checkpoints, the target alias for offset
    /// syncs.
    #[arg(long, value_name = "ALIAS")]
    cluster_alias: Option<String>,
    /// Start with the earliest record instead of the next one to arrive.
    #[arg(long)]
    from_beginning: bool,
    /// Exit after this many records.
    #[arg(long, value_name = "N")]
    max_messages: Option<u64>,
    /// Exit when no record has arrived for this long.
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// A consumer property, as `key=value` (may be repeated).
    #[arg(long = "consumer-property", value_name = "KEY=VALUE")]
    consumer_properties: Vec<String>,
    /// A file of consumer properties (`.properties`); --consumer-property wins over it.
    #[arg(long = "consumer.config", value_name = "FILE")]
    consumer_config: Option<PathBuf>,
}

/// The arguments of `ferry mm2 translate-offsets`.
#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// The *target* cluster, where the checkpoints topic is (`bootstrap.servers`).
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap_server: String,
    /// The alias of the source cluster the group consumed from.
    #[arg(long, value_name = "ALIAS")]
    source_alias: String,
    /// The consumer group whose offsets to translate.
    #[arg(long, value_name = "GROUP")]
    group: String,
    /// A file of MirrorClientConfig properties (`.properties`).
    #[arg(long, value_name = "FILE")]
    command_config: Option<PathBuf>,
    /// A MirrorClientConfig property, as `key=value` (may be repeated; wins over the file).
    #[arg(long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// How long reading the checkpoints topic may take.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    timeout_ms: u64,
}

/// Runs a `ferry mm2` subcommand to its end.
pub fn run(command: Mm2Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        Mm2Command::Format(args) => {
            let options = format_options(args)?;
            runtime.block_on(format(options))
        }
        Mm2Command::TranslateOffsets(args) => {
            let options = translate_options(args)?;
            runtime.block_on(translate(options))
        }
    }
}

fn format_options(args: FormatArgs) -> Result<FormatOptions, UsageError> {
    let kind = args
        .kind
        .parse::<RecordKind>()
        .map_err(|e| UsageError(e.to_string()))?;
    if args.max_messages == Some(0) {
        return Err(UsageError("--max-messages must be at least 1".into()));
    }
    let mut options = FormatOptions::new(kind, args.bootstrap_server);
    options.topic = args.topic;
    options.cluster_alias = args.cluster_alias;
    options.from_beginning = args.from_beginning;
    options.max_messages = args.max_messages;
    options.idle_timeout = args.timeout_ms.map(Duration::from_millis);
    options.properties = properties(
        args.consumer_config.as_deref(),
        &args.consumer_properties,
        "--consumer-property",
    )?;
    Ok(options)
}

fn translate_options(args: TranslateArgs) -> Result<TranslateOptions, UsageError> {
    if args.timeout_ms == 0 {
        return Err(UsageError("--timeout-ms must be at least 1".into()));
    }
    let mut options = TranslateOptions::new(args.bootstrap_server, args.source_alias, args.group);
    options.timeout = Duration::from_millis(args.timeout_ms);
    options.properties = properties(
        args.command_config.as_deref(),
        &args.properties,
        "--property",
    )?;
    Ok(options)
}

/// The properties of `file` followed by the `key=value` pairs given on the command line, which
/// win because later pairs override earlier ones.
fn properties(
    file: Option<&Path>,
    pairs: &[String],
    flag: &str,
) -> Result<Vec<(String, String)>, UsageError> {
    let mut all = Vec::new();
    if let Some(path) = file {
        let loaded = Properties::load_latin1(path).map_err(|e| {
            UsageError(format!(
                "cannot read properties file {}: {e}",
                path.display()
            ))
        })?;
        all.extend(loaded.into_map());
    }
    for pair in pairs {
        match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                all.push((key.trim().to_owned(), value.to_owned()));
            }
            _ => {
                return Err(UsageError(format!(
                    "invalid {flag} '{pair}': expected KEY=VALUE"
                )));
            }
        }
    }
    Ok(all)
}

/// Bad client properties and unknown policies are the user's to fix (exit 2); anything else
/// came from Kafka or the output (exit 1).
fn classify(error: ToolError) -> anyhow::Error {
    match error {
        ToolError::Policy(e) => UsageError(e.to_string()).into(),
        ToolError::Kafka(e @ ferry_kafka::Error::Config { .. }) => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}

async fn format(options: FormatOptions) -> anyhow::Result<()> {
    let mut out = LineCounter::new(io::stdout());
    let mut diagnostics = LineCounter::new(io::stderr());
    let result = tokio::select! {
        result = ferry_mirror::tools::format(&options, &mut out, &mut diagnostics) => result.map(|_| ()),
        () = crate::distributed::shutdown_signal() => Ok(()),
    };
    let result = result.map_err(classify);
    // As the console consumer, which reports the count however consuming ends, but never
    // started consuming when its configuration was invalid.
    if !result.as_ref().is_err_and(|e| e.is::<UsageError>()) {
        eprintln!(
            "Processed a total of {} messages",
            out.lines + diagnostics.lines
        );
    }
    result
}

async fn translate(options: TranslateOptions) -> anyhow::Result<()> {
    let offsets = translate_offsets(&options).await.map_err(classify)?;
    print_offsets(&offsets, &mut io::stdout().lock()).context("cannot write the output")?;
    Ok(())
}

/// Counts the lines written through it: one per record consumed (printed, or skipped with a
/// diagnostic), which is what the console consumer's final count reports even when interrupted.
struct LineCounter<W> {
    inner: W,
    lines: u64,
}

impl<W> LineCounter<W> {
    fn new(inner: W) -> Self {
        Self { inner, lines: 0 }
    }
}

impl<W: Write> Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.lines += buf[..written].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_pairs_follow_and_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("client.properties");
        std::fs::write(&file, "client.id=from-file\nfetch.max.wait.ms=100\n").unwrap();
        let all = properties(
            Some(&file),
            &["client.id=cli".into(), "x=a=b".into()],
            "--property",
        )
        .unwrap();
        let last = |key: &str| {
            all.iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(last("client.id"), Some("cli"));
        assert_eq!(last("fetch.max.wait.ms"), Some("100"));
        assert_eq!(last("x"), Some("a=b"));
    }

    #[test]
    fn a_pair_without_a_key_or_equals_is_a_usage_error() {
        for bad in ["novalue", "=v"] {
            let error = properties(None, &[bad.into()], "--consumer-property").unwrap_err();
            assert_eq!(
                error.0,
                format!("invalid --consumer-property '{bad}': expected KEY=VALUE")
            );
        }
    }

    #[test]
    fn lines_are_counted_as_written() {
        let mut counter = LineCounter::new(Vec::new());
        write!(counter, "a\nb").unwrap();
        writeln!(counter).unwrap();
        assert_eq!(counter.lines, 2);
        assert_eq!(counter.inner, b"a\nb\n");
    }
}
