//! Logging: `tracing` to standard error (coloured only on a terminal), filtered as `RUST_LOG` says (default `info`), with the
//! levels adjustable at run time through the REST API's `/admin/loggers`.

use std::io::IsTerminal;
use std::str::FromStr;
use std::sync::Arc;

use ferry_runtime::rest::{LogLevel, LogLevels, TracingLogLevels};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;
use tracing_subscriber::reload;

/// Parses a `RUST_LOG`-style filter: `level` for the root, `target=level` for targets.
fn parse(spec: &str) -> Result<(LogLevel, Vec<(String, LogLevel)>), String> {
    let mut root = LogLevel::Info;
    let mut targets = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let level = |text: &str| {
            LogLevel::from_str(text).map_err(|_| format!("invalid log level {text:?} in RUST_LOG"))
        };
        match item.split_once('=') {
            Some((target, text)) => targets.push((target.trim().to_owned(), level(text.trim())?)),
            None => root = level(item)?,
        }
    }
    Ok((root, targets))
}

/// Installs the subscriber and returns the run-time level control.
pub fn init() -> Result<Arc<dyn LogLevels>, String> {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    let (root, targets) = parse(&spec)?;
    let (filter, handle) = reload::Layer::new(Targets::new());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colours only on a terminal: a log file or pipe gets plain text.
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .init();
    Ok(Arc::new(TracingLogLevels::new(handle, root, targets)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_syntax() {
        let (root, targets) = parse("warn, ferry_runtime=debug").unwrap();
        assert_eq!(root, LogLevel::Warn);
        assert_eq!(targets, vec![("ferry_runtime".to_owned(), LogLevel::Debug)]);
        assert_eq!(parse("").unwrap().0, LogLevel::Info);
        assert!(parse("loud").is_err());
    }
}
