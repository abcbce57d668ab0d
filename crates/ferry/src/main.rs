//! `ferry`: the command-line entry point. The logic lives in the library crates; this binary only
//! parses arguments and reports errors.

use clap::Parser;

/// A Kafka Connect–compatible worker and MirrorMaker 2.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
