//! The PostgreSQL backend's test fixture: each test gets its own schema in
//! the server named by `PAPERBOY_TEST_DATABASE_URL` (default: the local
//! server's `postgres` database, user postgres), dropped when it ends.

use std::sync::atomic::{AtomicU32, Ordering};

use paperboy_store::{PgStore, Store};

/// The server the tests use. CI starts it (see `.ci/run`); a test fails,
/// saying so, when it cannot be reached.
pub fn database_url() -> String {
    std::env::var("PAPERBOY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A store in a fresh schema of its own, dropped (with everything in it) on
/// drop.
pub struct TempSchema {
    store: Option<PgStore>,
    schema: String,
}

impl TempSchema {
    pub fn new() -> TempSchema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let schema = format!(
            "test_store_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        drop_schema(&schema);
        let store = PgStore::connect_in_schema(&database_url(), &schema).unwrap_or_else(|e| {
            panic!(
                "cannot open a PostgreSQL store at {} (set PAPERBOY_TEST_DATABASE_URL): {}",
                database_url(),
                error_chain(&e)
            )
        });
        TempSchema {
            store: Some(store),
            schema,
        }
    }

    pub fn store(&self) -> &PgStore {
        self.store.as_ref().expect("store")
    }

    /// The schema's name, for more stores on it (as other nodes would be).
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl AsRef<dyn Store> for TempSchema {
    fn as_ref(&self) -> &(dyn Store + 'static) {
        self.store()
    }
}

impl Drop for TempSchema {
    fn drop(&mut self) {
        // Close the pool's connections first.
        self.store.take();
        drop_schema(&self.schema);
    }
}

fn drop_schema(schema: &str) {
    let mut client = postgres::Client::connect(&database_url(), postgres::NoTls)
        .expect("connect to PostgreSQL to drop a test schema");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .expect("drop a test schema");
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
