//! Integration tests of paperboy-store, in one binary: the conformance suite
//! on each SQLite flavour and on PostgreSQL, and what only SQLite has
//! (files, migrations, damaged rows, killed processes).

mod pg;
mod pg_changes;
mod pg_concurrency;
mod pg_copy;
mod pg_mail;
mod sqlite;
mod sqlite_site;

use paperboy_store::{SqliteStore, Store};

paperboy_store::conformance_suite!(sqlite_in_memory, || -> Box<dyn Store> {
    Box::new(SqliteStore::open_in_memory().expect("open an in-memory store"))
});

paperboy_store::conformance_suite!(sqlite_file, crate::sqlite::TempStore::new);

paperboy_store::conformance_suite!(postgres, crate::pg::TempSchema::new);
