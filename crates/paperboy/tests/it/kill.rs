//! `kill -9` in the middle of an import loses nothing already committed, and
//! re-running the import completes it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use paperboy_store::{SqliteStore, Store};

use crate::{data_dir, paperboy, stderr, stdout};

const LINES: usize = 100_000;
const BATCH: usize = 500;

#[test]
fn kill_9_mid_import_loses_nothing_committed_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    let sample = data_dir()
        .join("arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl");
    let out = paperboy(
        dir.path(),
        &[
            "bench",
            "generate-kaggle",
            "--lines",
            &LINES.to_string(),
            "--sample",
            sample.to_str().unwrap(),
            "--out",
            input.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_paperboy"))
        .arg("--data")
        .arg(&data)
        .args(["import", input.to_str().unwrap()])
        .env("PAPERBOY_IMPORT_BATCH_SIZE", BATCH.to_string())
        .env("PAPERBOY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until a few batches are committed, then kill -9 (SIGKILL).
    let db = data.join("paperboy.db");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "import never committed a batch");
        assert!(
            child.try_wait().unwrap().is_none(),
            "import finished before it could be killed"
        );
        if db.exists()
            && let Ok(papers) = SqliteStore::open(&db)
                .and_then(|s| s.stats())
                .map(|s| s.papers)
            && papers >= 3 * BATCH as u64
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    // The database is intact and holds whole batches only.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let committed = SqliteStore::open(&db).unwrap().stats().unwrap().papers;
    assert!(
        committed >= 3 * BATCH as u64 && committed < LINES as u64,
        "committed {committed}"
    );
    assert_eq!(committed % BATCH as u64, 0, "a batch is all or nothing");

    // Re-running completes the import without duplicates.
    let out = paperboy(&data, &["import", input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = format!(
        "{} added, 0 updated, {committed} unchanged, 0 skipped",
        LINES as u64 - committed
    );
    assert!(
        stdout(&out).contains(&expected),
        "want {expected:?} in {}",
        stdout(&out)
    );
    assert_eq!(
        SqliteStore::open(&db).unwrap().stats().unwrap().papers,
        LINES as u64
    );
}
