//! End-to-end tests of the `paperboy` binary and its import pipeline, on the
//! real data in ../shared/data and on small fixtures made here.

mod cli;
mod docs;
mod e2e;
mod hf_import;
mod kill;
mod mail;
mod migrate;
mod multinode;
mod semantic;
mod sync;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared real data, beside the repository.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// `paperboy --data DIR ARGS...`, with logs quiet and no config file.
pub fn paperboy(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_LOG", "warn")
        .output()
        .expect("run paperboy")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `paperboy stats --json` as a JSON value.
pub fn stats(data: &Path) -> serde_json::Value {
    let out = paperboy(data, &["stats", "--json"]);
    assert!(out.status.success(), "stats failed: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("stats prints JSON")
}
