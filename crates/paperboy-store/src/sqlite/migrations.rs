//! The SQLite schema as an ordered list of migrations, applied in order and
//! recorded in `PRAGMA user_version`. A migration, once released, is never
//! edited: changes are new scripts appended to [`MIGRATIONS`].

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migration `i` brings the schema from version `i` to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_site.sql"),
    include_str!("migrations/0003_papers_seq.sql"),
    include_str!("migrations/0004_vectors.sql"),
    include_str!("migrations/0005_mail.sql"),
    include_str!("migrations/0006_jobs.sql"),
    include_str!("migrations/0007_subscription_link.sql"),
    include_str!("migrations/0008_rate_hits.sql"),
];

/// The schema version this code knows.
pub(crate) fn known_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to the newest schema, each migration in its own
/// transaction; refuses a database whose schema is newer than this code.
///
/// Safe while other processes open the same file: the version is read again
/// under the write lock before each migration, so two openers never apply
/// one twice.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = known_version();
    loop {
        // Fast path without the write lock: an up-to-date database (the usual
        // case) does not wait for a running import.
        let found = user_version(conn)?;
        if found > known {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        if found < 0 {
            return Err(StoreError::Corrupt {
                paper_id: String::new(),
                field: "user_version",
                message: format!("schema version {found} is negative"),
            });
        }
        if found == known {
            return Ok(());
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::database("begin a migration", e))?;
        let found = user_version(&tx)?;
        let Some(script) = usize::try_from(found).ok().and_then(|i| MIGRATIONS.get(i)) else {
            // Another process migrated meanwhile (or the version is beyond
            // what we know): look again from the top.
            continue;
        };
        let to = found + 1;
        tx.execute_batch(script)
            .map_err(|e| StoreError::database("apply a migration", e))?;
        // user_version lives in the database header, so it commits (or rolls
        // back) with the migration itself.
        tx.pragma_update(None, "user_version", to)
            .map_err(|e| StoreError::database("record the schema version", e))?;
        tx.commit()
            .map_err(|e| StoreError::database("commit a migration", e))?;
        tracing::info!(schema.version = to, "migrated the database");
    }
}

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| StoreError::database("read the schema version", e))
}
