//! `paperboy migrate`: the upgrade from one SQLite file to PostgreSQL. Every
//! table is copied as it is (the PostgreSQL schema mirrors SQLite's, see
//! `postgres/migrations/0001_schema.sql`) inside one PostgreSQL transaction,
//! then read back and compared with the source, table by table, by row
//! count and checksum before that transaction commits: the target ends up
//! with the whole installation, verified, or with nothing.
//!
//! The tables and their columns are listed here explicitly (`TABLES`) and
//! compared with both databases before anything is copied, so a table or
//! column added by a later migration and forgotten here stops the copy
//! instead of being left behind.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{NoTls, Transaction};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::error::BackendError;
use crate::postgres::{describe, quote_ident as quote};
use crate::{PgStore, SqliteStore, StoreError};

/// Rows between two progress reports.
const PROGRESS_EVERY: u64 = 1000;

/// Rows read back from PostgreSQL at a time, to verify.
const FETCH_ROWS: i32 = 1000;

/// How long reading the SQLite file waits for a writer's lock (a running
/// `serve` may still write to it; the copy reads one snapshot).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the copy waits for the PostgreSQL tables' locks.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// What a column holds, on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// INTEGER / BIGINT.
    Int,
    /// TEXT / TEXT COLLATE "C".
    Text,
    /// BLOB / BYTEA.
    Bytes,
    /// INTEGER 0 or 1 / BOOLEAN.
    Flag,
    /// SQLite's `rowid` / a BIGINT identity column standing in for it
    /// (`saved_papers.n`): the order of rows inserted in the same
    /// millisecond.
    RowId,
}

impl Kind {
    fn pg_type(self) -> Type {
        match self {
            Kind::Int | Kind::RowId => Type::INT8,
            Kind::Text => Type::TEXT,
            Kind::Bytes => Type::BYTEA,
            Kind::Flag => Type::BOOL,
        }
    }
}

/// A table to copy: its columns, the primary key both sides are read in
/// order of (for the checksum), and its identity columns.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    key: &'static [&'static str],
    identity: &'static [&'static str],
}

use Kind::{Bytes, Flag, Int, RowId, Text};

/// Every table of the schema, parents before the tables that refer to them.
const TABLES: &[Table] = &[
    Table {
        name: "papers",
        columns: &[
            ("id", Text),
            ("version", Int),
            ("title", Text),
            ("abstract", Text),
            ("authors", Text),
            ("categories", Text),
            ("primary_category", Text),
            ("published", Text),
            ("updated", Text),
            ("comments", Text),
            ("journal_ref", Text),
            ("doi", Text),
            ("license", Text),
            ("withdrawn", Flag),
            ("observed_at", Text),
            ("upvotes", Int),
            ("github_repo", Text),
            ("github_stars", Int),
            ("project_page", Text),
            ("ai_summary", Text),
            ("ai_keywords", Text),
            ("seq", Int),
            ("created_at", Text),
            ("user_upvotes", Int),
            ("user_comments", Int),
        ],
        key: &["id"],
        identity: &[],
    },
    Table {
        name: "daily_entries",
        columns: &[
            ("paper_id", Text),
            ("day", Text),
            ("submitter_name", Text),
            ("submitter_fullname", Text),
            ("submitter_avatar", Text),
            ("position", Int),
            ("submitted_at", Text),
            ("num_comments", Int),
        ],
        key: &["day", "paper_id"],
        identity: &[],
    },
    Table {
        name: "sync_state",
        columns: &[("key", Text), ("value", Text), ("updated_at", Text)],
        key: &["key"],
        identity: &[],
    },
    Table {
        name: "meta",
        columns: &[("key", Text), ("value", Int)],
        key: &["key"],
        identity: &[],
    },
    Table {
        // Leases of background jobs: copied like the rest; one still held
        // by a node of the old installation simply runs out.
        name: "job_leases",
        columns: &[("job", Text), ("holder", Text), ("until", Text)],
        key: &["job"],
        identity: &[],
    },
    Table {
        // Attempts counted against rate limits: copied, so that a limit
        // reached before the move still holds after it.
        name: "rate_hits",
        columns: &[("id", Int), ("kind", Text), ("key", Text), ("at", Text)],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("username", Text),
            ("email", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("is_admin", Flag),
            ("created_at", Text),
        ],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "sessions",
        columns: &[
            ("token_hash", Text),
            ("user_id", Int),
            ("csrf_token", Text),
            ("expires_at", Text),
            ("created_at", Text),
        ],
        key: &["token_hash"],
        identity: &[],
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("token_hash", Text),
            ("user_id", Int),
            ("name", Text),
            ("created_at", Text),
            ("last_used_at", Text),
        ],
        key: &["token_hash"],
        identity: &[],
    },
    Table {
        name: "upvotes",
        columns: &[("user_id", Int), ("paper_id", Text), ("created_at", Text)],
        key: &["user_id", "paper_id"],
        identity: &[],
    },
    Table {
        // Replies refer to their parent: in id order, parents come first.
        name: "comments",
        columns: &[
            ("id", Int),
            ("paper_id", Text),
            ("author_id", Int),
            ("parent_id", Int),
            ("body", Text),
            ("created_at", Text),
            ("edited_at", Text),
            ("deleted", Flag),
            ("hidden", Flag),
        ],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "saved_papers",
        columns: &[
            ("user_id", Int),
            ("paper_id", Text),
            ("saved_at", Text),
            ("n", RowId),
        ],
        key: &["user_id", "paper_id"],
        identity: &["n"],
    },
    Table {
        name: "paper_vectors",
        columns: &[
            ("model", Text),
            ("paper_id", Text),
            ("text_hash", Bytes),
            ("vector", Bytes),
            ("seq", Int),
        ],
        key: &["model", "paper_id"],
        identity: &[],
    },
    Table {
        name: "subscriptions",
        columns: &[
            ("id", Int),
            ("email", Text),
            ("user_id", Int),
            ("status", Text),
            ("cadence", Text),
            ("send_at", Text),
            ("zone", Text),
            ("papers", Int),
            ("confirm_token_hash", Text),
            ("unsubscribe_token", Text),
            ("created_at", Text),
            ("confirmed_at", Text),
            ("next_due", Text),
            ("bounces", Int),
            ("updated_at", Text),
            ("link_user_id", Int),
        ],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "mail_editions",
        columns: &[("id", Int), ("key", Text), ("content", Text)],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "outbox",
        columns: &[
            ("id", Int),
            ("key", Text),
            ("kind", Text),
            ("subscription_id", Int),
            ("recipient", Text),
            ("edition_id", Int),
            ("payload", Text),
            ("created_at", Text),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Text),
            ("lease_until", Text),
            ("last_error", Text),
            ("sent_at", Text),
        ],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "saved_searches",
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("query", Text),
            ("min_upvotes", Int),
            ("exclude", Text),
            ("delivery", Text),
            ("created_at", Text),
            ("cursor", Int),
        ],
        key: &["id"],
        identity: &["id"],
    },
    Table {
        name: "alert_matches",
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("paper_id", Text),
            ("search_id", Int),
            ("message_id", Int),
        ],
        key: &["id"],
        identity: &["id"],
    },
];

/// The PostgreSQL table that records its schema version: PostgreSQL's own,
/// never copied.
const PG_MIGRATIONS_TABLE: &str = "schema_migrations";

/// The tables [`copy_sqlite_to_postgres`] copies, in the order it copies
/// them.
pub fn copied_tables() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|table| table.name)
}

/// What [`copy_sqlite_to_postgres`] is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyStep {
    /// Writing a table's rows to PostgreSQL.
    Copying,
    /// Reading a table back from PostgreSQL to compare it with SQLite.
    Verifying,
}

impl fmt::Display for CopyStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CopyStep::Copying => "copying",
            CopyStep::Verifying => "verifying",
        })
    }
}

/// Progress of [`copy_sqlite_to_postgres`], reported every few hundred rows
/// and at the end of each table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    pub step: CopyStep,
    pub table: &'static str,
    /// Rows of this table done so far in this step.
    pub table_rows: u64,
    /// Rows of all tables done so far in this step.
    pub rows: u64,
    /// Rows of all tables (the SQLite file's).
    pub total_rows: u64,
}

/// One copied table: its rows and their checksum, equal on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 (hex) of the rows in primary key order, each value in a
    /// canonical form: the same on both sides (see `Checksum` in the
    /// source).
    pub checksum: String,
}

/// What [`copy_sqlite_to_postgres`] copied and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Where it copied to: `host:port/db`, with the schema when one was
    /// given; never the password.
    pub target: String,
    /// Every table, in the order copied.
    pub tables: Vec<TableCopy>,
}

impl CopyReport {
    /// Rows copied, all tables together.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }

    /// The entry of `table`.
    pub fn table(&self, table: &str) -> Option<&TableCopy> {
        self.tables.iter().find(|t| t.table == table)
    }
}

/// Why [`copy_sqlite_to_postgres`] failed. Whatever the reason, the target
/// is left as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// Opening either database (or bringing its schema up to date) failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The SQLite file does not exist.
    #[error("there is no SQLite database at {0}")]
    NoSource(PathBuf),

    /// A table this code does not know how to copy; copying the rest would
    /// lose it.
    #[error(
        "the {side} database has a table {table:?} that this Paperboy does not know how to copy"
    )]
    UnknownTable { side: &'static str, table: String },

    /// A table's columns differ from those this code copies.
    #[error(
        "table {table} in the {side} database has the columns ({found}) where this Paperboy expects ({expected})"
    )]
    Columns {
        side: &'static str,
        table: &'static str,
        found: String,
        expected: String,
    },

    /// The target already holds an installation (or part of one).
    #[error(
        "the PostgreSQL database already holds data (table {table} is not empty); \
         migrate copies only into an empty database or schema, never into another installation"
    )]
    TargetNotEmpty { table: &'static str },

    /// A stored value that the PostgreSQL column cannot take (a hand-edited
    /// or damaged SQLite file).
    #[error("table {table}, row {row} in primary key order: column {column} holds {found}")]
    BadValue {
        table: &'static str,
        row: u64,
        column: &'static str,
        found: String,
    },

    /// A database operation on one table failed.
    #[error("cannot {operation} (table {table})")]
    Table {
        table: &'static str,
        operation: &'static str,
        #[source]
        source: BackendError,
    },

    /// What PostgreSQL holds after the copy differs from the SQLite file.
    #[error(
        "table {table} differs after the copy: SQLite has {sqlite_rows} rows (checksum {sqlite_checksum}), \
         PostgreSQL {pg_rows} (checksum {pg_checksum})"
    )]
    Mismatch {
        table: &'static str,
        sqlite_rows: u64,
        sqlite_checksum: String,
        pg_rows: u64,
        pg_checksum: String,
    },
}

fn table_error(
    table: &'static str,
    operation: &'static str,
) -> impl FnOnce(postgres::Error) -> CopyError {
    move |e| CopyError::Table {
        table,
        operation,
        source: e.into(),
    }
}

fn sqlite_error(
    table: &'static str,
    operation: &'static str,
) -> impl FnOnce(rusqlite::Error) -> CopyError {
    move |e| CopyError::Table {
        table,
        operation,
        source: e.into(),
    }
}

/// Copies the SQLite database at `sqlite` into the PostgreSQL database at
/// `url` (in `schema`, created when missing, else the URL's search path),
/// which must be empty, and verifies the copy; `progress` hears how far it
/// got.
///
/// Both schemas are first brought up to date (the SQLite file is migrated
/// in place, as opening it with [`SqliteStore::open`] would). The SQLite
/// file is then read in one read transaction, so a `serve` still writing to
/// it does not tear the copy. All writes to PostgreSQL happen in one
/// transaction, which takes every table's write lock first and commits only
/// when every table's row count and checksum match the source's.
pub fn copy_sqlite_to_postgres(
    sqlite: &Path,
    url: &str,
    schema: Option<&str>,
    mut progress: impl FnMut(CopyProgress),
) -> Result<CopyReport, CopyError> {
    if !sqlite.is_file() {
        return Err(CopyError::NoSource(sqlite.to_path_buf()));
    }
    // Connecting first fails fast, with the server's reason, where the
    // store's pool would retry for half a minute.
    let config = postgres::Config::from_str(url)
        .map_err(|e| StoreError::database("read the database URL", e))?;
    let target = describe(&config, schema);
    let mut client = config
        .connect(NoTls)
        .map_err(|e| StoreError::database("connect to the database", e))?;
    drop(SqliteStore::open(sqlite)?);
    drop(match schema {
        Some(schema) => PgStore::connect_in_schema(url, schema)?,
        None => PgStore::connect(url)?,
    });

    let mut file = Connection::open_with_flags(
        sqlite,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::database("open the SQLite database", e))?;
    file.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| StoreError::database("open the SQLite database", e))?;
    let source = file
        .transaction()
        .map_err(|e| StoreError::database("begin reading the SQLite database", e))?;

    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path TO {}", quote(schema)))
            .map_err(|e| StoreError::database("choose the database schema", e))?;
    }
    let mut tx = client
        .transaction()
        .map_err(|e| StoreError::database("begin the copy", e))?;

    check_sqlite_tables(&source)?;
    check_pg_tables(&mut tx)?;
    lock_and_check_empty(&mut tx)?;

    let mut total_rows = 0;
    for table in TABLES {
        let n: i64 = source
            .query_row(
                &format!("SELECT COUNT(*) FROM {}", quote(table.name)),
                [],
                |row| row.get(0),
            )
            .map_err(sqlite_error(table.name, "count the rows"))?;
        total_rows += u64::try_from(n).unwrap_or(0);
    }

    // The schema's own rows (meta's zeros) make way for the source's.
    tx.batch_execute("DELETE FROM meta")
        .map_err(table_error("meta", "clear the defaults"))?;
    let mut copied = Vec::with_capacity(TABLES.len());
    let mut done = 0;
    for table in TABLES {
        let (rows, checksum) = copy_table(&source, &mut tx, table, &mut |table_rows| {
            progress(CopyProgress {
                step: CopyStep::Copying,
                table: table.name,
                table_rows,
                rows: done + table_rows,
                total_rows,
            })
        })?;
        done += rows;
        copied.push((rows, checksum));
    }
    for table in TABLES {
        for column in table.identity {
            continue_identity(&mut tx, table.name, column)?;
        }
    }

    let mut report = CopyReport {
        target,
        tables: Vec::with_capacity(TABLES.len()),
    };
    let mut done = 0;
    for (table, (sqlite_rows, sqlite_checksum)) in TABLES.iter().zip(copied) {
        let (pg_rows, pg_checksum) = checksum_pg(&mut tx, table, &mut |table_rows| {
            progress(CopyProgress {
                step: CopyStep::Verifying,
                table: table.name,
                table_rows,
                rows: done + table_rows,
                total_rows,
            })
        })?;
        done += pg_rows;
        if (sqlite_rows, &sqlite_checksum) != (pg_rows, &pg_checksum) {
            // Dropping `tx` rolls everything back.
            return Err(CopyError::Mismatch {
                table: table.name,
                sqlite_rows,
                sqlite_checksum,
                pg_rows,
                pg_checksum,
            });
        }
        report.tables.push(TableCopy {
            table: table.name,
            rows: sqlite_rows,
            checksum: sqlite_checksum,
        });
    }
    tx.commit()
        .map_err(|e| StoreError::database("commit the copy", e))?;
    drop(source);

    // Fresh statistics for the planner, rather than waiting for autovacuum
    // to notice the new rows; the copy stands whether this works or not.
    let names: Vec<String> = TABLES.iter().map(|t| quote(t.name)).collect();
    if let Err(error) = client.batch_execute(&format!("ANALYZE {}", names.join(", "))) {
        tracing::warn!(%error, "cannot analyze the copied tables");
    }
    Ok(report)
}

/// Every table of the SQLite file is one this code copies, with the
/// columns it copies.
fn check_sqlite_tables(source: &Connection) -> Result<(), CopyError> {
    let err = |e| StoreError::database("list the SQLite tables", e);
    let mut statement = source
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .map_err(err)?;
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    check_table_names("SQLite", &names)?;
    let mut statement = source
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .map_err(err)?;
    for table in TABLES {
        let found = statement
            .query_map([table.name], |row| row.get::<_, String>(0))
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        // SQLite's rowid is no declared column.
        let expected = table
            .columns
            .iter()
            .filter(|(_, kind)| *kind != RowId)
            .map(|(name, _)| *name);
        check_columns("SQLite", table.name, found, expected)?;
    }
    Ok(())
}

/// Every table of the PostgreSQL schema (but its migrations table) is one
/// this code copies, with the columns it copies.
fn check_pg_tables(tx: &mut Transaction<'_>) -> Result<(), CopyError> {
    let err = |e| StoreError::database("list the PostgreSQL tables", e);
    let names = tx
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> $1 ORDER BY table_name",
            &[&PG_MIGRATIONS_TABLE],
        )
        .map_err(err)?
        .iter()
        .map(|row| row.try_get::<_, String>(0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    check_table_names("PostgreSQL", &names)?;
    let statement = tx
        .prepare(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .map_err(err)?;
    for table in TABLES {
        let found = tx
            .query(&statement, &[&table.name])
            .map_err(err)?
            .iter()
            .map(|row| row.try_get::<_, String>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        check_columns(
            "PostgreSQL",
            table.name,
            found,
            table.columns.iter().map(|(name, _)| *name),
        )?;
    }
    Ok(())
}

fn check_table_names(side: &'static str, found: &[String]) -> Result<(), CopyError> {
    if let Some(unknown) = found
        .iter()
        .find(|name| !TABLES.iter().any(|t| t.name == *name))
    {
        return Err(CopyError::UnknownTable {
            side,
            table: unknown.clone(),
        });
    }
    Ok(())
}

/// The same columns, in any order (the copy names them).
fn check_columns<'a>(
    side: &'static str,
    table: &'static str,
    found: Vec<String>,
    expected: impl Iterator<Item = &'a str>,
) -> Result<(), CopyError> {
    let mut found = found;
    let mut expected: Vec<&str> = expected.collect();
    found.sort();
    expected.sort_unstable();
    if found != expected {
        return Err(CopyError::Columns {
            side,
            table,
            found: found.join(", "),
            expected: expected.join(", "),
        });
    }
    Ok(())
}

/// Takes every table's write lock for the rest of the transaction (nobody
/// writes while the copy runs; reads go on), then makes sure the target
/// holds nothing: never mix two installations.
fn lock_and_check_empty(tx: &mut Transaction<'_>) -> Result<(), CopyError> {
    let names: Vec<String> = TABLES.iter().map(|t| quote(t.name)).collect();
    // A node still serving from the target would hold the copy up: give up
    // with an error rather than wait for ever.
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{}s'; LOCK TABLE {} IN EXCLUSIVE MODE; SET LOCAL lock_timeout = 0",
        LOCK_WAIT.as_secs(),
        names.join(", ")
    ))
    .map_err(|e| StoreError::database("lock the PostgreSQL tables (is a node using them?)", e))?;
    // Meta last: a row elsewhere says more about what is there.
    let tables = TABLES.iter().filter(|t| t.name != "meta");
    for table in tables.chain(TABLES.iter().filter(|t| t.name == "meta")) {
        // The schema's migration seeds meta with zeros; anything else there
        // is an installation's.
        let filter = if table.name == "meta" {
            " WHERE value <> 0"
        } else {
            ""
        };
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{filter})",
            quote(table.name)
        );
        let found: bool = tx
            .query_one(&sql, &[])
            .and_then(|row| row.try_get(0))
            .map_err(table_error(table.name, "look for rows"))?;
        if found {
            return Err(CopyError::TargetNotEmpty { table: table.name });
        }
    }
    Ok(())
}

/// The columns of `table`, quoted, as SQLite or PostgreSQL reads them.
fn column_list(table: &Table, sqlite: bool) -> String {
    let mut list = String::new();
    for (i, (name, kind)) in table.columns.iter().enumerate() {
        if i > 0 {
            list.push_str(", ");
        }
        if sqlite && *kind == RowId {
            list.push_str("rowid");
        } else {
            list.push_str(&quote(name));
        }
    }
    list
}

fn select_ordered(table: &Table, sqlite: bool) -> String {
    let key: Vec<String> = table.key.iter().map(|k| quote(k)).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        column_list(table, sqlite),
        quote(table.name),
        key.join(", ")
    )
}

/// Copies one table, in primary key order; its row count and checksum.
fn copy_table(
    source: &Connection,
    tx: &mut Transaction<'_>,
    table: &'static Table,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, String), CopyError> {
    let mut statement = source
        .prepare(&select_ordered(table, true))
        .map_err(sqlite_error(table.name, "read the rows"))?;
    let mut rows = statement
        .query([])
        .map_err(sqlite_error(table.name, "read the rows"))?;
    // Binary COPY: as fast as text COPY on the real data and about twice
    // as fast as multi-row INSERTs, and no escaping to get wrong.
    let sink = tx
        .copy_in(&format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            quote(table.name),
            column_list(table, false)
        ))
        .map_err(table_error(table.name, "start copying"))?;
    let types: Vec<Type> = table
        .columns
        .iter()
        .map(|(_, kind)| kind.pg_type())
        .collect();
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut checksum = Checksum::new();
    let mut n = 0u64;
    while let Some(row) = rows
        .next()
        .map_err(sqlite_error(table.name, "read the rows"))?
    {
        n += 1;
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, (column, kind)) in table.columns.iter().enumerate() {
            let raw = row
                .get_ref(i)
                .map_err(sqlite_error(table.name, "read the rows"))?;
            let value = Value::from_sqlite(raw, *kind).map_err(|found| CopyError::BadValue {
                table: table.name,
                row: n,
                column,
                found,
            })?;
            checksum.add(value);
            values.push(value);
        }
        let params: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        writer
            .write(&params)
            .map_err(table_error(table.name, "copy the rows"))?;
        if n.is_multiple_of(PROGRESS_EVERY) {
            progress(n);
        }
    }
    writer
        .finish()
        .map_err(table_error(table.name, "copy the rows"))?;
    progress(n);
    Ok((n, checksum.finish()))
}

/// Makes the identity column `column` of `table` hand out numbers above
/// the copied ones (copied rows brought their own).
fn continue_identity(
    tx: &mut Transaction<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), CopyError> {
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({c}), 1), MAX({c}) IS NOT NULL) \
         FROM {t}",
        c = quote(column),
        t = quote(table),
    );
    tx.query_one(&sql, &[&quote(table), &column])
        .map_err(table_error(table, "continue the identity sequence"))?;
    Ok(())
}

/// Reads `table` back from PostgreSQL in primary key order: its row count
/// and checksum.
fn checksum_pg(
    tx: &mut Transaction<'_>,
    table: &'static Table,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, String), CopyError> {
    let err = || table_error(table.name, "read the copied rows");
    // Fetched a batch at a time through a portal: memory stays flat however
    // large the table.
    let portal = tx
        .bind(select_ordered(table, false).as_str(), &[])
        .map_err(err())?;
    let mut checksum = Checksum::new();
    let mut n = 0u64;
    loop {
        let rows = tx.query_portal(&portal, FETCH_ROWS).map_err(err())?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                let value = match kind {
                    Int | RowId => row.try_get::<_, Option<i64>>(i).map(Value::from),
                    Flag => row
                        .try_get::<_, Option<bool>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Flag)),
                    Text => row
                        .try_get::<_, Option<&str>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Text)),
                    Bytes => row
                        .try_get::<_, Option<&[u8]>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Bytes)),
                }
                .map_err(err())?;
                checksum.add(value);
            }
        }
        n += rows.len() as u64;
        progress(n);
    }
    Ok((n, checksum.finish()))
}

/// One stored value, borrowed from the row it was read from.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
    Flag(bool),
}

impl From<Option<i64>> for Value<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Value::Null, Value::Int)
    }
}

impl<'a> Value<'a> {
    /// The value of a `kind` column as SQLite stores it; what is wrong with
    /// it when the PostgreSQL column cannot take it.
    fn from_sqlite(raw: ValueRef<'a>, kind: Kind) -> Result<Value<'a>, String> {
        match (kind, raw) {
            (_, ValueRef::Null) => Ok(Value::Null),
            (Int | RowId, ValueRef::Integer(v)) => Ok(Value::Int(v)),
            (Flag, ValueRef::Integer(0)) => Ok(Value::Flag(false)),
            (Flag, ValueRef::Integer(1)) => Ok(Value::Flag(true)),
            (Flag, ValueRef::Integer(v)) => Err(format!("{v}, not 0 or 1")),
            (Text, ValueRef::Text(bytes)) => std::str::from_utf8(bytes)
                .map(Value::Text)
                .map_err(|e| format!("text that is not UTF-8 ({e})")),
            (Bytes, ValueRef::Blob(bytes)) => Ok(Value::Bytes(bytes)),
            (_, other) => Err(format!(
                "a value of type {} where {} belongs",
                other.data_type(),
                match kind {
                    Int | RowId => "an integer",
                    Flag => "0 or 1",
                    Text => "text",
                    Bytes => "a blob",
                }
            )),
        }
    }
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Bytes(v) => v.to_sql(ty, out),
            Value::Flag(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::TEXT, Type::BYTEA, Type::BOOL].contains(ty)
    }

    to_sql_checked!();
}

/// The checksum of a table: SHA-256 over its rows in primary key order,
/// each row's values in column order, each value as one tag byte and its
/// content: NULL `0`; an integer `1` and its 8 bytes big-endian (a flag is
/// the integer 0 or 1); text `2`, its length in bytes (8 bytes big-endian)
/// and its UTF-8; bytes `3`, their length and themselves. The same on both
/// sides whatever their types, and unambiguous (no two different tables of
/// values give the same input).
struct Checksum(Sha256);

impl Checksum {
    fn new() -> Checksum {
        Checksum(Sha256::new())
    }

    fn add(&mut self, value: Value<'_>) {
        let hash = &mut self.0;
        match value {
            Value::Null => hash.update([0]),
            Value::Int(v) => {
                hash.update([1]);
                hash.update(v.to_be_bytes());
            }
            Value::Flag(v) => {
                hash.update([1]);
                hash.update(i64::from(v).to_be_bytes());
            }
            Value::Text(v) => {
                hash.update([2]);
                hash.update((v.len() as u64).to_be_bytes());
                hash.update(v.as_bytes());
            }
            Value::Bytes(v) => {
                hash.update([3]);
                hash.update((v.len() as u64).to_be_bytes());
                hash.update(v);
            }
        }
    }

    fn finish(self) -> String {
        let mut hex = String::with_capacity(64);
        for byte in self.0.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}
