//! What only the SQLite backend has: files and directories, migrations,
//! rows damaged behind the store's back, injected faults, killed processes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};
use paperboy_store::{SqliteStore, Store, StoreError};
use rusqlite::Connection;
use tempfile::TempDir;

/// A file-backed store in its own temporary directory, removed on drop.
pub struct TempStore {
    store: SqliteStore,
    _dir: TempDir,
}

impl TempStore {
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("paperboy.sqlite")).expect("open the store");
        TempStore { store, _dir: dir }
    }
}

impl AsRef<dyn Store> for TempStore {
    fn as_ref(&self) -> &(dyn Store + 'static) {
        &self.store
    }
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("test day")
}

/// `n` papers `2403.NNNNN` from `first`, each with a title and an entry on day 4.
fn records(first: u32, n: u32) -> Vec<SourceRecord> {
    (first..first + n)
        .map(|i| {
            let mut paper = Paper::new(id(&format!("2403.{i:05}")));
            paper.biblio.title = format!("Paper {i}");
            paper.biblio.authors = vec!["A. Author".into(), "B. Author".into()];
            paper.community.upvotes = Some(i % 50);
            let entry = DailyEntry {
                paper_id: paper.id.clone(),
                day: day(4),
                submitter: None,
                position: i,
                submitted_at: None,
                num_comments: None,
            };
            SourceRecord {
                paper,
                entry: Some(entry),
            }
        })
        .collect()
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("paperboy.sqlite")
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("open the database directly")
}

fn user_version(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version")
}

#[test]
fn migrates_an_empty_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    std::fs::write(&path, b"").expect("empty file");
    let store = SqliteStore::open(&path).expect("open");
    assert_eq!(store.stats().expect("stats").papers, 0);

    assert_eq!(store.path(), Some(path.as_path()));
    let conn = raw(&path);
    assert_eq!(user_version(&conn), SqliteStore::schema_version());
    let page_size: i64 = conn
        .pragma_query_value(None, "page_size", |row| row.get(0))
        .expect("page_size");
    assert_eq!(page_size, 16 * 1024);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .expect("tables");
    tables.retain(|t| !t.starts_with("sqlite_"));
    assert_eq!(
        tables,
        [
            "alert_matches",
            "api_tokens",
            "comments",
            "daily_entries",
            "job_leases",
            "mail_editions",
            "meta",
            "outbox",
            "paper_vectors",
            "papers",
            "rate_hits",
            "saved_papers",
            "saved_searches",
            "sessions",
            "subscriptions",
            "sync_state",
            "upvotes",
            "users"
        ]
    );
}

/// Processes that open a new database at once (an import and `paperboy
/// stats`) each see it migrated exactly once.
#[test]
fn concurrent_openers_migrate_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(&path).map(drop))
        })
        .collect();
    for opener in openers {
        opener.join().expect("opener thread").expect("open");
    }
    assert_eq!(user_version(&raw(&path)), SqliteStore::schema_version());
    let seq_rows: i64 = raw(&path)
        .query_row("SELECT COUNT(*) FROM meta", [], |row| row.get(0))
        .expect("meta");
    assert_eq!(seq_rows, 2, "change_seq and vector_seq, once each");
}

#[test]
fn a_negative_schema_version_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    drop(SqliteStore::open(&path).expect("open"));
    raw(&path)
        .pragma_update(None, "user_version", -3)
        .expect("damage user_version");
    match SqliteStore::open(&path) {
        Err(StoreError::Corrupt {
            field: "user_version",
            ..
        }) => {}
        other => panic!("expected Corrupt user_version, got {other:?}"),
    }
}

#[test]
fn open_creates_missing_directories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data/nested/paperboy.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store.upsert(&records(1, 1)).expect("upsert");
    assert!(path.is_file());
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    std::fs::write(
        &path,
        "these are not the pages you are looking for".repeat(100),
    )
    .expect("write");
    match SqliteStore::open(&path) {
        Err(StoreError::Database { .. }) => {}
        other => panic!("expected a database error, got {other:?}"),
    }
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let batch = records(1, 20);
    let (stats, seq) = {
        let store = SqliteStore::open(&path).expect("open");
        store.upsert(&batch).expect("upsert");
        store.set_sync_state("oai:cs", "token").expect("set");
        (
            store.stats().expect("stats"),
            store.change_seq().expect("seq"),
        )
    };
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(store.stats().expect("stats"), stats);
    assert_eq!(stats.papers, 20);
    assert_eq!(store.change_seq().expect("seq"), seq);
    assert_eq!(
        store.sync_state("oai:cs").expect("get").as_deref(),
        Some("token")
    );
    assert_eq!(
        store.paper(&batch[7].paper.id).expect("read"),
        Some(batch[7].paper.clone())
    );
    let outcome = store.upsert(&batch).expect("upsert again");
    assert_eq!(outcome.unchanged, 20, "{outcome:?}");
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    drop(SqliteStore::open(&path).expect("open"));
    let known = SqliteStore::schema_version();
    raw(&path)
        .pragma_update(None, "user_version", known + 1)
        .expect("bump user_version");
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew { found, known: k }) => {
            assert_eq!((found, k), (known + 1, known))
        }
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("expected SchemaTooNew, the store opened"),
    }
    assert_eq!(
        user_version(&raw(&path)),
        known + 1,
        "the database is left as it was"
    );
}

/// Damages one column of a stored paper (or its entry) behind the store's
/// back and checks every read of it reports that field as corrupt.
fn check_corrupt(damage: &str, field: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).expect("open");
    let batch = records(1, 1);
    store.upsert(&batch).expect("upsert");
    raw(&path).execute(damage, []).expect("damage the row");

    let expect_corrupt = |result: Result<(), StoreError>, what: &str| match result {
        Err(StoreError::Corrupt { field: f, .. }) => assert_eq!(f, field, "{damage}: {what}"),
        other => panic!("{damage}: {what}: expected Corrupt in {field}, got {other:?}"),
    };
    let id = &batch[0].paper.id;
    let is_entry = field.starts_with("daily_entries.");
    if !is_entry {
        expect_corrupt(store.paper(id).map(drop), "paper");
    }
    expect_corrupt(store.day_entries(day(4)).map(drop), "day_entries");
    expect_corrupt(store.upsert(&batch).map(drop), "upsert");
}

#[test]
fn damaged_rows_are_errors_not_panics() {
    check_corrupt("UPDATE papers SET authors = '[\"unterminated'", "authors");
    check_corrupt(
        "UPDATE papers SET categories = '{\"not\": \"a list\"}'",
        "categories",
    );
    check_corrupt("UPDATE papers SET ai_keywords = '[1, 2]'", "ai_keywords");
    check_corrupt("UPDATE papers SET published = 'yesterday'", "published");
    check_corrupt("UPDATE papers SET observed_at = 12", "observed_at");
    check_corrupt("UPDATE papers SET upvotes = -1", "upvotes");
    check_corrupt("UPDATE papers SET version = 'two'", "version");
    check_corrupt("UPDATE papers SET title = X'00ff'", "title");
    check_corrupt(
        "UPDATE daily_entries SET position = 5000000000",
        "daily_entries.position",
    );
    check_corrupt(
        "UPDATE daily_entries SET submitted_at = 'soon'",
        "daily_entries.submitted_at",
    );
    check_corrupt(
        "UPDATE daily_entries SET submitter_fullname = 'Nobody', submitter_name = NULL",
        "daily_entries.submitter_name",
    );
}

#[test]
fn a_damaged_id_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).expect("open");
    store.upsert(&records(1, 1)).expect("upsert");
    let conn = raw(&path);
    conn.pragma_update(None, "foreign_keys", false)
        .expect("fk off");
    conn.execute("UPDATE daily_entries SET paper_id = 'not an id'", [])
        .expect("damage");
    conn.execute("UPDATE papers SET id = 'not an id'", [])
        .expect("damage");
    match store.day_entries(day(4)) {
        Err(StoreError::Corrupt {
            paper_id,
            field: "id",
            ..
        }) => assert_eq!(paper_id, "not an id"),
        other => panic!("expected Corrupt id, got {other:?}"),
    }
}

/// A fault injected at the third record (a trigger that aborts its insert)
/// rolls back the two records before it.
#[test]
fn a_fault_mid_batch_rolls_back_the_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).expect("open");
    store.upsert(&records(100, 1)).expect("upsert");
    let seq = store.change_seq().expect("seq");
    raw(&path)
        .execute_batch(
            "CREATE TRIGGER fault BEFORE INSERT ON papers WHEN NEW.id = '2403.00003' \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
        )
        .expect("install the fault");

    let batch = records(1, 5);
    match store.upsert(&batch) {
        Err(StoreError::Database { .. }) => {}
        other => panic!("expected a database error, got {other:?}"),
    }
    let stats = store.stats().expect("stats");
    assert_eq!((stats.papers, stats.daily_entries), (1, 1));
    assert_eq!(store.change_seq().expect("seq"), seq);
    assert_eq!(store.paper(&batch[0].paper.id).expect("read"), None);

    raw(&path)
        .execute_batch("DROP TRIGGER fault")
        .expect("remove the fault");
    assert_eq!(store.upsert(&batch).expect("upsert").added, 5);
}

/// Each paper row carries the sequence number of its last change, and the
/// store's sequence is the largest of them.
#[test]
fn paper_rows_carry_their_change_seq() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).expect("open");
    store.upsert(&records(1, 3)).expect("add");
    let mut later = records(2, 1);
    later[0].paper.community.upvotes = Some(999);
    later[0].paper.community.observed_at = Some(chrono::Utc::now());
    store.upsert(&later).expect("update");

    let seqs: Vec<(String, i64)> = raw(&path)
        .prepare("SELECT id, seq FROM papers ORDER BY id")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .expect("seqs");
    let seqs: Vec<(&str, i64)> = seqs.iter().map(|(id, seq)| (id.as_str(), *seq)).collect();
    assert_eq!(
        seqs,
        [("2403.00001", 1), ("2403.00002", 4), ("2403.00003", 3)]
    );
    assert_eq!(store.change_seq().expect("seq"), 4);
}

/// One store shared by threads: readers see only whole batches while a
/// writer imports.
#[test]
fn readers_see_whole_batches_while_a_writer_imports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db_path(&dir)).expect("open"));
    const BATCH: u32 = 200;
    const BATCHES: u32 = 20;
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for b in 0..BATCHES {
                store
                    .upsert(&records(1 + b * BATCH, BATCH))
                    .expect("upsert");
            }
        })
    };
    let mut seen = 0;
    while seen < u64::from(BATCH * BATCHES) {
        let stats = store.stats().expect("stats");
        assert_eq!(
            stats.papers % u64::from(BATCH),
            0,
            "a partial batch is visible: {stats:?}"
        );
        assert_eq!(stats.papers, stats.daily_entries);
        assert!(stats.papers >= seen);
        seen = stats.papers;
        if writer.is_finished() && seen < u64::from(BATCH * BATCHES) {
            assert_eq!(
                store.stats().expect("stats").papers,
                u64::from(BATCH * BATCHES)
            );
            break;
        }
    }
    writer.join().expect("writer thread");
}

// A real `kill -9` of an import is tested end to end in the binary crate
// (crates/paperboy/tests/it/kill.rs).
