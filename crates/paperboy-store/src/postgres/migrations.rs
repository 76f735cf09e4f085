//! The PostgreSQL schema as an ordered list of migrations, applied in order
//! and recorded in the table `schema_migrations`. A migration, once
//! released, is never edited: changes are new scripts appended to
//! [`MIGRATIONS`]. The numbering is PostgreSQL's own, independent of
//! SQLite's.

use postgres::Client;

use crate::StoreError;

/// Migration `i` brings the schema from version `i` to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_schema.sql"),
    include_str!("migrations/0002_jobs.sql"),
    include_str!("migrations/0003_subscription_link.sql"),
    include_str!("migrations/0004_rate_hits.sql"),
];

/// The schema version this code knows.
pub(crate) fn known_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema (the connection's `search_path`) to the newest version
/// in one transaction; refuses a schema newer than this code.
///
/// Safe while other nodes start at the same moment: the transaction first
/// takes an advisory lock named after the schema, so one node migrates and
/// the others then find the schema up to date.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let err = |operation| move |e| StoreError::database(operation, e);
    let mut tx = client.transaction().map_err(err("begin a migration"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('paperboy.migrate.' || current_schema(), 0))",
        &[],
    )
    .map_err(err("lock the schema for a migration"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version BIGINT NOT NULL PRIMARY KEY, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .map_err(err("create the migrations table"))?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(err("read the schema version"))?;
    let known = known_version();
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (version, script) in (found + 1..).zip(&MIGRATIONS[usize::try_from(found).unwrap_or(0)..]) {
        tx.batch_execute(script).map_err(err("apply a migration"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(err("record the schema version"))?;
        tracing::info!(schema.version = version, "migrated the PostgreSQL database");
    }
    tx.commit().map_err(err("commit a migration"))
}
