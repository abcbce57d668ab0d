//! Snippets run with the independent client: librdkafka through Python's `confluent-kafka`.

use std::process::Command;

use anyhow::{Context, bail};

use crate::paths::venv_python;

/// Runs `script` with the project virtualenv's Python (`python -c script args...`) and returns its
/// standard output. A non-zero exit is an error carrying the script's standard error.
///
/// Blocking: call it from `tokio::task::spawn_blocking` when a runtime must keep running meanwhile.
pub fn python(script: &str, args: &[String]) -> anyhow::Result<String> {
    let interpreter = venv_python();
    let output = Command::new(&interpreter)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .with_context(|| {
            format!(
                "cannot run {} (run scripts/install-deps)",
                interpreter.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "python snippet failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}
