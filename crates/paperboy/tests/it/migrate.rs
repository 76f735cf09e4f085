//! `paperboy migrate --to URL`: real HF files imported into SQLite, copied
//! into a PostgreSQL schema of the test's own on the server named by
//! `PAPERBOY_TEST_DATABASE_URL` (default: the local one, user postgres),
//! and read back; a target that holds data is refused.

use std::sync::atomic::{AtomicU32, Ordering};

use paperboy_store::{PgStore, Store};

use crate::e2e::hf_files;
use crate::{paperboy, stats, stderr, stdout};

fn server_url() -> String {
    std::env::var("PAPERBOY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A schema name of the test's own, dropped when the test ends.
struct Schema(String);

impl Schema {
    fn new() -> Schema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let schema = Schema(format!(
            "test_migrate_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        schema.drop_it();
        schema
    }

    fn drop_it(&self) {
        let mut client =
            postgres::Client::connect(&server_url(), postgres::NoTls).unwrap_or_else(|e| {
                panic!(
                    "cannot reach PostgreSQL at {} (set PAPERBOY_TEST_DATABASE_URL): {e}",
                    server_url()
                )
            });
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0))
            .expect("drop the test schema");
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        self.drop_it();
    }
}

/// `paperboy migrate` of a few real days: every table listed with its rows
/// and checksum, the papers and entries of the import, and PostgreSQL then
/// reads what SQLite reads. Run again, it refuses and changes nothing.
#[test]
fn migrate_copies_an_import_into_postgres_and_refuses_to_do_it_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<String> = hf_files()
        .iter()
        .take(5)
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let out = paperboy(dir.path(), &args);
    assert!(out.status.success(), "import failed: {}", stderr(&out));
    let sqlite_stats = stats(dir.path());
    let papers = sqlite_stats["papers"].as_u64().expect("papers");
    let entries = sqlite_stats["daily_entries"].as_u64().expect("entries");
    assert!(papers > 0);

    let schema = Schema::new();
    let url = server_url();
    let migrate = ["migrate", "--to", &url, "--schema", &schema.0];
    let out = paperboy(dir.path(), &migrate);
    let printed = stdout(&out);
    assert!(
        out.status.success(),
        "migrate failed:\n{printed}{}",
        stderr(&out)
    );

    // One line per table (name, rows, SHA-256), then the summary.
    let rows_of = |table: &str| -> u64 {
        let line = printed
            .lines()
            .find(|line| line.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no line for {table} in:\n{printed}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[2].len(), 64, "a SHA-256 in hex: {line}");
        fields[1].parse().expect("a row count")
    };
    assert_eq!(rows_of("papers"), papers);
    assert_eq!(rows_of("daily_entries"), entries);
    assert_eq!(rows_of("users"), 0);
    assert_eq!(rows_of("meta"), 2);
    let total: u64 = paperboy_store::copied_tables().map(rows_of).sum();
    let last = printed.lines().last().expect("a summary");
    assert!(
        last.starts_with(&format!("migrated {total} rows in ")),
        "{last}"
    );
    assert!(last.contains(&schema.0), "{last}");
    assert!(last.contains("checksum match"), "{last}");

    // PostgreSQL now reads what SQLite read.
    let store = PgStore::connect_in_schema(&url, &schema.0).expect("open the copy");
    let pg_stats = store.stats().expect("stats");
    assert_eq!(pg_stats.papers, papers);
    assert_eq!(pg_stats.daily_entries, entries);
    assert_eq!(
        pg_stats.first_day.map(|d| d.to_string()).as_deref(),
        sqlite_stats["first_day"].as_str()
    );
    let sqlite = paperboy_store::SqliteStore::open(&dir.path().join("paperboy.db")).expect("open");
    let day = pg_stats.last_day.expect("a day");
    assert_eq!(
        store.day_entries(day).expect("entries"),
        sqlite.day_entries(day).expect("entries")
    );
    assert_eq!(store.change_seq().unwrap(), sqlite.change_seq().unwrap());
    drop(store);

    // A second run finds the data and stops, saying why.
    let out = paperboy(dir.path(), &migrate);
    assert!(!out.status.success(), "a second migrate must fail");
    let err = stderr(&out);
    assert!(err.contains("nothing was copied"), "{err}");
    assert!(err.contains("table papers is not empty"), "{err}");
    let store = PgStore::connect_in_schema(&url, &schema.0).expect("open the copy");
    assert_eq!(store.stats().expect("stats"), pg_stats);
}

/// A data directory without a database is an error, not an empty copy.
#[test]
fn migrate_without_a_database_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = Schema::new();
    let out = paperboy(
        dir.path(),
        &["migrate", "--to", &server_url(), "--schema", &schema.0],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("there is no SQLite database at"), "{err}");
    assert!(!dir.path().join("paperboy.db").exists());
}

/// A server that cannot be reached is reported at once, with its reason.
#[test]
fn migrate_to_an_unreachable_server_fails_fast() {
    let dir = tempfile::tempdir().expect("temp dir");
    stats(dir.path());
    let started = std::time::Instant::now();
    let out = paperboy(
        dir.path(),
        &[
            "migrate",
            "--to",
            "postgres://paperboy:secret@127.0.0.1:1/papers",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nothing was copied to PostgreSQL"), "{err}");
    assert!(err.contains("connect to the database"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
