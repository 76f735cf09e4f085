//! Real third-party clients against a server loaded with every saved HF
//! list: Hugging Face's own `huggingface_hub` (the API must parse as HF's)
//! and `feedparser` (the Atom feeds). The scripts live in tests/python/ and
//! compare what they get with the HF files themselves.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Data, SITE_URL, hf_dir};

/// How long a script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// Fails with what to run unless python3 can import `modules`.
fn require_python(modules: &str) {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 cannot import {modules}: run scripts/test, which installs them (pip install huggingface_hub feedparser)"
    );
}

/// `python3 SCRIPT ARGS...`, talking only to our server; panics with the
/// script's output unless it exits 0, and prints that output either way.
fn run_python(name: &str, base_url: &str, args: &[&str]) {
    let home = tempfile::tempdir().expect("temp HF_HOME");
    let path = script(name);
    // Output to a file, not a pipe, so a chatty script never blocks on it.
    let out_path = home.path().join("output.txt");
    let out_file = std::fs::File::create(&out_path).expect("create the script's output file");
    let mut child = Command::new("python3")
        .arg(&path)
        .arg(base_url)
        .args(args)
        // The client must reach us, so not offline; but never the Hub: no
        // token, no telemetry, the endpoint is ours, and the script fails
        // any request to another host.
        .env("HF_HUB_OFFLINE", "0")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_ENDPOINT", base_url)
        .env("HF_HOME", home.path())
        .env_remove("HF_TOKEN")
        .env_remove("HUGGING_FACE_HUB_TOKEN")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::from(
            out_file.try_clone().expect("clone a file handle"),
        ))
        .stderr(Stdio::from(out_file))
        .spawn()
        .expect("start python3");
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.wait();
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    match status {
        Some(status) if status.success() => println!("{name}: {output}"),
        Some(status) => panic!("{} failed ({status}):\n{output}", path.display()),
        None => panic!("{} ran past {SCRIPT_TIMEOUT:?}:\n{output}", path.display()),
    }
}

#[test]
fn the_hugging_face_client_reads_every_day_as_hf_served_it() {
    require_python("huggingface_hub");
    let server = Data::with_all_days().serve();
    let hf = hf_dir();
    run_python(
        "hf_client.py",
        &server.url,
        &[hf.to_str().expect("UTF-8 path")],
    );
}

#[test]
fn feedparser_reads_the_daily_and_trending_feeds() {
    require_python("feedparser");
    let server = Data::with_all_days().serve();
    let hf = hf_dir();
    run_python(
        "feeds.py",
        &server.url,
        &[hf.to_str().expect("UTF-8 path"), SITE_URL],
    );
}
