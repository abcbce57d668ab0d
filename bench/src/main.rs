//! Benchmark drivers: the programs `scripts/bench` times. Each prints one JSON line
//! (`{"records":N,"bytes":B,"seconds":S}`) measured from its first record to its last; the
//! orchestrator measures CPU time and peak memory of the whole process.
//!
//! The `rdkafka-*` programs are the reference: what a user could write on librdkafka without any
//! framework (librdkafka built from source by the rdkafka crate).

mod delay_proxy;
mod ferry_client;
mod rdkafka_ref;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Ferry's benchmark drivers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Produce N records of SIZE bytes with librdkafka.
    RdkafkaProduce(ProduceArgs),
    /// Consume N records with librdkafka.
    RdkafkaConsume(ConsumeArgs),
    /// Copy N records from one cluster to another with librdkafka (key, value, headers,
    /// timestamp and partition kept).
    RdkafkaPipe(PipeArgs),
    /// Produce N records of SIZE bytes with Ferry's client.
    FerryProduce(ProduceArgs),
    /// Consume N records with Ferry's client.
    FerryConsume(ConsumeArgs),
    /// Relay TCP connections to UPSTREAM, delaying each direction by half the round trip (a
    /// latency link for kernels without netem).
    DelayProxy(DelayProxyArgs),
    /// Wait until a topic holds N records (sum of the Fetch high watermarks); print the time.
    WaitRecords(WaitRecordsArgs),
}

/// What a produce benchmark writes.
#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    #[arg(long)]
    pub bootstrap: String,
    #[arg(long)]
    pub topic: String,
    #[arg(long)]
    pub records: u64,
    #[arg(long)]
    pub size: usize,
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// The producer's `batch.size` in bytes; the client's own default when absent (Java's and
    /// Ferry's 16384, librdkafka's 1000000).
    #[arg(long)]
    pub batch_size: Option<usize>,
}

/// What a consume benchmark reads.
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    #[arg(long)]
    pub bootstrap: String,
    #[arg(long)]
    pub topic: String,
    #[arg(long)]
    pub records: u64,
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// The consumer's fetch wait (librdkafka `fetch.wait.max.ms`, Java `fetch.max.wait.ms`);
    /// the client's default when absent.
    #[arg(long)]
    pub fetch_wait_ms: Option<u32>,
}

/// What a pipe copies.
#[derive(Debug, clap::Args)]
pub struct PipeArgs {
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub target: String,
    #[arg(long)]
    pub topic: String,
    /// Topic on the target (default: the same name).
    #[arg(long)]
    pub target_topic: Option<String>,
    #[arg(long)]
    pub records: u64,
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// The consumer's fetch wait (`fetch.wait.max.ms`); librdkafka's default when absent.
    #[arg(long)]
    pub fetch_wait_ms: Option<u32>,
}

/// Where the latency link listens and what it relays to.
#[derive(Debug, clap::Args)]
pub struct DelayProxyArgs {
    /// Port to listen on (127.0.0.1).
    #[arg(long)]
    pub listen: u16,
    /// HOST:PORT to relay to.
    #[arg(long)]
    pub upstream: String,
    /// Round-trip time added: half on the way there, half on the way back.
    #[arg(long, default_value_t = 50.0)]
    pub rtt_ms: f64,
}

/// The topic and count a replication benchmark waits for.
#[derive(Debug, clap::Args)]
pub struct WaitRecordsArgs {
    #[arg(long)]
    pub bootstrap: String,
    #[arg(long)]
    pub topic: String,
    #[arg(long)]
    pub records: u64,
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
}

/// The line every benchmark prints.
pub fn report(records: u64, bytes: u64, elapsed: std::time::Duration) {
    println!(
        "{}",
        serde_json::json!({"records": records, "bytes": bytes, "seconds": elapsed.as_secs_f64()})
    );
}

/// The payload of record `i`: `size` bytes, distinct per record so compression cannot cheat.
pub fn payload(i: u64, size: usize) -> Vec<u8> {
    let mut value = vec![0u8; size];
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for byte in value.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = b'a' + (x % 26) as u8;
    }
    value
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::RdkafkaProduce(args) => rdkafka_ref::produce(&args),
        Command::RdkafkaConsume(args) => rdkafka_ref::consume(&args),
        Command::RdkafkaPipe(args) => rdkafka_ref::pipe(&args),
        Command::FerryProduce(args) => ferry_client::produce(&args).await,
        Command::FerryConsume(args) => ferry_client::consume(&args).await,
        Command::DelayProxy(args) => delay_proxy::run(&args).await,
        Command::WaitRecords(args) => watch::wait_records(&args).await,
    }
}
