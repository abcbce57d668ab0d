//! Where the installed test tools live.

use std::path::{Path, PathBuf};

/// The repository's root folder (the workspace root).
pub fn repo_root() -> PathBuf {
    // This crate sits at crates/testkit: the root is two levels up.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit has a grandparent")
        .to_path_buf()
}

/// The tansu binary: `$FERRY_TANSU` if set, else `.tools/bin/tansu` as installed by
/// `scripts/install-deps`.
pub fn tansu_bin() -> PathBuf {
    std::env::var_os("FERRY_TANSU")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/bin/tansu"))
}

/// The Python interpreter of the project's virtualenv, which has `confluent-kafka`.
pub fn venv_python() -> PathBuf {
    repo_root().join(".venv/bin/python")
}
