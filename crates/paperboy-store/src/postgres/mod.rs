//! The PostgreSQL backend of [`Store`]: several Paperboy processes (app
//! nodes) share one database, so everything that SQLite gets from its single
//! writer is made explicit here.
//!
//! - Each write is one transaction (READ COMMITTED). A write that changes a
//!   paper (imports, upvotes, comments, submissions) first locks the
//!   `change_seq` row of `meta` ([`PgStore::write_changes`]): such writes run
//!   one after another, so change numbers are handed out in commit order and a
//!   node that catches up from the last number it saw never skips a change
//!   committed late. They announce themselves with `NOTIFY` on
//!   [`CHANGES_CHANNEL`] at commit.
//! - Other writes rely on unique constraints, conditional updates and row
//!   locks (`FOR UPDATE SKIP LOCKED` for outbox claims); a read-then-write
//!   that no constraint can guard takes a transaction-scoped advisory lock
//!   ([`Db::lock`]).
//! - Connections come from an r2d2 pool; each keeps its prepared statements
//!   ([`Db`]).
//!
//! The schema is SQLite's with PostgreSQL's types (see
//! `migrations/0001_schema.sql`); it lives in the schema named by the URL's
//! `search_path` option or `public`, or in the one given to
//! [`PgStore::connect_in_schema`] (tests give each their own).

mod accounts;
mod jobs;
mod limits;
mod listings;
mod mail;
mod migrations;
mod participation;
pub(crate) mod rows;
mod vectors;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use paperboy_core::merge::{merge_entry, merge_paper};
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

use self::rows::{EntryValues, PaperValues, entry_from_row, paper_from_row};
use crate::codec::{entry_to_millis, format_day, format_time, paper_to_millis, parse_day};
use crate::{BatchOutcome, Stats, Store, StoreError};

/// The channel on which every committed change to a paper is announced, with
/// the new change sequence number as payload: this name, a dot and the
/// schema's name (so installations sharing a database do not wake each
/// other). See [`Store::wait_for_changes`].
pub const CHANGES_CHANNEL: &str = "paperboy_changes";

/// Connections per process. Web requests, the mail sender's threads and
/// background jobs share them; three nodes stay well under PostgreSQL's
/// default `max_connections` (100).
const POOL_SIZE: u32 = 16;

/// How long a caller waits for a free connection before an error.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// A [`Store`] kept in PostgreSQL.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    /// A connection of its own (not pooled) that listens on
    /// [`CHANGES_CHANNEL`], opened on the first wait.
    listener: Mutex<Option<Client>>,
    /// How the pool opens connections, for the listener's.
    manager: Manager,
    /// Where it connects, without the password (for messages).
    target: String,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:pass@host:port/db`,
    /// libpq's URL form) and brings its schema up to date.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open(url, None)
    }

    /// Like [`PgStore::connect`], with every table in the schema `schema`,
    /// created when missing (a test's own, or one of several installations
    /// in one database).
    pub fn connect_in_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        PgStore::open(url, Some(schema))
    }

    fn open(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
        let config = postgres::Config::from_str(url)
            .map_err(|e| StoreError::database("read the database URL", e))?;
        let target = describe(&config, schema);
        let manager = Manager {
            config,
            schema: schema.map(quote_ident),
        };
        if let Some(schema) = &manager.schema {
            let mut client = manager
                .config
                .connect(NoTls)
                .map_err(|e| StoreError::database("connect to the database", e))?;
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .map_err(|e| StoreError::database("create the database schema", e))?;
        }
        let manager_copy = manager.clone();
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build(manager)
            .map_err(|e| StoreError::database("connect to the database", e))?;
        let store = PgStore {
            pool,
            listener: Mutex::new(None),
            manager: manager_copy,
            target,
        };
        let mut conn = store.conn()?;
        migrations::migrate(&mut conn.client)?;
        // Statements prepared before the schema existed would be stale.
        conn.statements.clear();
        Ok(store)
    }

    /// The schema version this code writes.
    pub fn schema_version() -> i64 {
        migrations::known_version()
    }

    /// A connection from the pool.
    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::database("get a database connection", e))
    }

    /// Runs `work` on a pooled connection, outside any transaction (each
    /// statement sees what was committed when it started).
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&mut Db<'_, Client>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        work(&mut Db { client, statements })
    }

    /// Runs `work` in one read-only transaction, so that all its statements
    /// read one snapshot.
    pub(crate) fn read_snapshot<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| StoreError::database(operation, e))?;
        let value = work(&mut Db {
            client: &mut tx,
            statements,
        })?;
        tx.commit()
            .map_err(|e| StoreError::database(operation, e))?;
        Ok(value)
    }

    /// Runs `work` in one write transaction and commits it; an error rolls
    /// everything back. For writes that change no paper (see
    /// [`PgStore::write_changes`]).
    pub(crate) fn write<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let mut tx = client
            .transaction()
            .map_err(|e| StoreError::database(operation, e))?;
        let value = work(&mut Db {
            client: &mut tx,
            statements,
        })?;
        tx.commit()
            .map_err(|e| StoreError::database(operation, e))?;
        Ok(value)
    }

    /// Runs `work` in one write transaction that may change papers: it first
    /// locks the change sequence (so these writes run one at a time, in
    /// commit order), hands `work` a [`ChangeSeq`] to number its changes
    /// with, then saves the sequence and announces it on
    /// [`CHANGES_CHANNEL`] when anything changed.
    pub(crate) fn write_changes<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut Db<'_, Transaction<'_>>, &mut ChangeSeq) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(operation, |db| {
            let row = db.query_one(
                "lock the change sequence",
                "SELECT value FROM meta WHERE key = 'change_seq' FOR UPDATE",
                &[],
            )?;
            let at_start: i64 = row
                .try_get(0)
                .map_err(|e| StoreError::database("read the change sequence", e))?;
            let mut seq = ChangeSeq { last: at_start };
            let value = work(db, &mut seq)?;
            if seq.last != at_start {
                db.execute(
                    "advance the change sequence",
                    "UPDATE meta SET value = $1 WHERE key = 'change_seq'",
                    &[&seq.last],
                )?;
                db.execute(
                    "announce a change",
                    "SELECT pg_notify($1 || '.' || current_schema(), $2)",
                    &[&CHANGES_CHANNEL, &seq.last.to_string()],
                )?;
            }
            Ok(value)
        })
    }
}

impl PgStore {
    /// A new connection that listens on this schema's [`CHANGES_CHANNEL`].
    fn open_listener(&self) -> Result<Client, StoreError> {
        let err = |e| StoreError::database("listen for changes", e);
        let mut client = r2d2::ManageConnection::connect(&self.manager)
            .map_err(err)?
            .client;
        let schema: String = client
            .query_one("SELECT current_schema()", &[])
            .and_then(|row| row.try_get(0))
            .map_err(err)?;
        client
            .batch_execute(&format!(
                "LISTEN {}",
                quote_ident(&format!("{CHANGES_CHANNEL}.{schema}"))
            ))
            .map_err(err)?;
        Ok(client)
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `host:port/dbname[ (schema S)]`, never the password.
pub(crate) fn describe(config: &postgres::Config, schema: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    // Without a database name, PostgreSQL takes the user's.
    let db = config.get_dbname().or(config.get_user()).unwrap_or("");
    match schema {
        Some(schema) => format!("{host}:{port}/{db} (schema {schema})"),
        None => format!("{host}:{port}/{db}"),
    }
}

/// An SQL identifier, quoted.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Opens the pool's connections; each is pinned to the store's schema.
#[derive(Clone)]
struct Manager {
    config: postgres::Config,
    /// Quoted, `None` for the URL's own search path.
    schema: Option<String>,
}

/// A pooled connection with the statements it has prepared.
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        if let Some(schema) = &self.schema {
            client.batch_execute(&format!("SET search_path TO {schema}"))?;
        }
        Ok(PgConn {
            client,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// A connection or a transaction on it, with the connection's prepared
/// statements: every statement of the store is a `&'static str`, prepared
/// once per connection. Each call names what the store was doing, for the
/// error.
pub(crate) struct Db<'a, C> {
    client: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Db<'_, C> {
    fn prepare(
        &mut self,
        operation: &'static str,
        sql: &'static str,
    ) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .prepare(sql)
            .map_err(|e| StoreError::database(operation, e))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(
        &mut self,
        operation: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepare(operation, sql)?;
        self.client
            .query(&statement, params)
            .map_err(|e| StoreError::database(operation, e))
    }

    pub(crate) fn query_opt(
        &mut self,
        operation: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let statement = self.prepare(operation, sql)?;
        self.client
            .query_opt(&statement, params)
            .map_err(|e| StoreError::database(operation, e))
    }

    pub(crate) fn query_one(
        &mut self,
        operation: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        let statement = self.prepare(operation, sql)?;
        self.client
            .query_one(&statement, params)
            .map_err(|e| StoreError::database(operation, e))
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(
        &mut self,
        operation: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepare(operation, sql)?;
        self.client
            .execute(&statement, params)
            .map_err(|e| StoreError::database(operation, e))
    }

    /// A single value of the first row, e.g. `SELECT COUNT(*) ...`.
    pub(crate) fn value<T>(
        &mut self,
        operation: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<T, StoreError>
    where
        T: for<'r> postgres::types::FromSql<'r>,
    {
        self.query_one(operation, sql, params)?
            .try_get(0)
            .map_err(|e| StoreError::database(operation, e))
    }
}

impl Db<'_, Transaction<'_>> {
    /// Takes the transaction-scoped advisory lock `lock` (held until commit
    /// or rollback): for a read-then-write that no constraint guards, so
    /// that two nodes doing it at once run one after the other.
    pub(crate) fn lock(&mut self, lock: Lock) -> Result<(), StoreError> {
        self.execute(
            "take a lock",
            "SELECT pg_advisory_xact_lock($1)",
            &[&(lock as i64)],
        )
        .map(drop)
    }
}

/// The advisory locks of [`Db::lock`], one per kind of guarded write. The
/// numbers are arbitrary but fixed: every node must use the same.
#[derive(Debug, Clone, Copy)]
#[repr(i64)]
pub(crate) enum Lock {
    /// Creating users (the first one becomes the admin).
    Users = 0x7062_0001,
    /// Creating or changing mail subscriptions.
    Subscriptions = 0x7062_0002,
}

/// The change sequence inside a [`PgStore::write_changes`] transaction.
pub(crate) struct ChangeSeq {
    last: i64,
}

impl ChangeSeq {
    /// The next number, for one change.
    pub(crate) fn next(&mut self) -> i64 {
        self.last += 1;
        self.last
    }
}

/// Gives `paper_id` the next change sequence number: something about the
/// paper (its entries, votes, comments) changed.
pub(crate) fn mark_paper_changed(
    db: &mut Db<'_, Transaction<'_>>,
    seq: &mut ChangeSeq,
    paper_id: &ArxivId,
) -> Result<(), StoreError> {
    let next = seq.next();
    db.execute(
        "mark a paper changed",
        "UPDATE papers SET seq = $2 WHERE id = $1",
        &[&paper_id.as_str(), &next],
    )
    .map(drop)
}

/// Whether the store has the paper; `PaperNotFound` when it has not.
pub(crate) fn require_paper(
    db: &mut Db<'_, impl GenericClient>,
    paper_id: &ArxivId,
) -> Result<(), StoreError> {
    let found = db.query_opt(
        "look up a paper",
        "SELECT 1 FROM papers WHERE id = $1",
        &[&paper_id.as_str()],
    )?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::PaperNotFound {
            id: paper_id.clone(),
        }),
    }
}

pub(crate) fn load_paper(
    db: &mut Db<'_, impl GenericClient>,
    id: &ArxivId,
) -> Result<Option<Paper>, StoreError> {
    db.query_opt("read a paper", rows::SELECT_PAPER, &[&id.as_str()])?
        .map(|row| paper_from_row(&row, 0))
        .transpose()
}

/// `COUNT(*)` is never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store for PgStore {
    fn upsert(&self, records: &[SourceRecord]) -> Result<BatchOutcome, StoreError> {
        if records.is_empty() {
            return Ok(BatchOutcome::default());
        }
        self.write_changes("save a batch of papers", |db, seq| {
            let mut batch = Batch::read(db, records)?;
            for record in records {
                batch.apply(db, seq, record)?;
            }
            Ok(batch.outcome)
        })
    }

    fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError> {
        self.read(|db| load_paper(db, id))
    }

    fn day_entries(&self, day: NaiveDate) -> Result<Vec<(DailyEntry, Paper)>, StoreError> {
        self.read(|db| {
            db.query(
                "read the entries of a day",
                rows::SELECT_DAY,
                &[&format_day(day)],
            )?
            .iter()
            .map(|row| {
                Ok((
                    entry_from_row(row, 0)?,
                    paper_from_row(row, rows::ENTRY_COLUMN_COUNT)?,
                ))
            })
            .collect()
        })
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        // One statement, so the counts come from one snapshot.
        let row = self.read(|db| {
            db.query_one(
                "count what is stored",
                "SELECT (SELECT COUNT(*) FROM papers), COUNT(*), COUNT(DISTINCT day), \
                 MIN(day), MAX(day) FROM daily_entries",
                &[],
            )
        })?;
        let err = |e| StoreError::database("count what is stored", e);
        let day = |index: usize| -> Result<Option<NaiveDate>, StoreError> {
            let text: Option<&str> = row.try_get(index).map_err(err)?;
            text.map(|t| {
                parse_day(t).map_err(|message| StoreError::Corrupt {
                    paper_id: String::new(),
                    field: "daily_entries.day",
                    message,
                })
            })
            .transpose()
        };
        Ok(Stats {
            papers: count(row.try_get(0).map_err(err)?),
            daily_entries: count(row.try_get(1).map_err(err)?),
            days: count(row.try_get(2).map_err(err)?),
            first_day: day(3)?,
            last_day: day(4)?,
        })
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|db| {
            db.query_opt(
                "read a sync cursor",
                "SELECT value FROM sync_state WHERE key = $1",
                &[&key],
            )?
            .map(|row| {
                row.try_get(0)
                    .map_err(|e| StoreError::database("read a sync cursor", e))
            })
            .transpose()
        })
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.read(|db| {
            db.execute(
                "save a sync cursor",
                "INSERT INTO sync_state (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
                &[&key, &value, &format_time(Utc::now())],
            )
            .map(drop)
        })
    }

    fn change_seq(&self) -> Result<u64, StoreError> {
        let seq: i64 = self.read(|db| {
            db.value(
                "read the change sequence",
                "SELECT value FROM meta WHERE key = 'change_seq'",
                &[],
            )
        })?;
        u64::try_from(seq).map_err(|_| StoreError::Corrupt {
            paper_id: String::new(),
            field: "meta.change_seq",
            message: format!("{seq} is negative"),
        })
    }

    fn papers_changed_since(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, crate::PaperPage)>, StoreError> {
        self.read_papers_changed_since(seq, limit)
    }

    fn wait_for_changes(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner);
        if listener.is_none() {
            *listener = Some(self.open_listener()?);
        }
        let Some(client) = listener.as_mut() else {
            return Ok(());
        };
        let waited = {
            let mut notifications = client.notifications();
            let woken = notifications.timeout_iter(timeout).next().map(drop);
            // Several commits may have come at once: one wake-up for all.
            woken.and_then(|()| notifications.iter().for_each(|_| Ok(())))
        };
        if let Err(error) = waited {
            // Open a new one next time (the server may have restarted).
            *listener = None;
            return Err(StoreError::database("listen for changes", error));
        }
        Ok(())
    }
}

/// One upsert in progress, inside its transaction: what the store held of
/// the batch's papers and entries, read in two statements up front (one
/// round trip per record would make imports several times slower), and
/// kept up to date as records are applied in order.
struct Batch {
    now: String,
    papers: HashMap<String, Paper>,
    /// By (day, paper id) as stored.
    entries: HashMap<(String, String), DailyEntry>,
    outcome: BatchOutcome,
}

impl Batch {
    fn read(
        db: &mut Db<'_, Transaction<'_>>,
        records: &[SourceRecord],
    ) -> Result<Batch, StoreError> {
        let ids: Vec<&str> = records.iter().map(|r| r.paper.id.as_str()).collect();
        let papers = db
            .query("read a batch's papers", rows::SELECT_PAPERS_IN, &[&ids])?
            .iter()
            .map(|row| paper_from_row(row, 0).map(|p| (p.id.as_str().to_owned(), p)))
            .collect::<Result<_, _>>()?;
        let (days, entry_ids): (Vec<String>, Vec<&str>) = records
            .iter()
            .filter_map(|r| r.entry.as_ref())
            .map(|e| (format_day(e.day), e.paper_id.as_str()))
            .unzip();
        let entries = db
            .query(
                "read a batch's daily entries",
                rows::SELECT_ENTRIES_IN,
                &[&days, &entry_ids],
            )?
            .iter()
            .map(|row| {
                entry_from_row(row, 0)
                    .map(|e| ((format_day(e.day), e.paper_id.as_str().to_owned()), e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Batch {
            now: format_time(Utc::now()),
            papers,
            entries,
            outcome: BatchOutcome::default(),
        })
    }

    /// Merges one record into the store (see [`Store::upsert`]).
    fn apply(
        &mut self,
        db: &mut Db<'_, Transaction<'_>>,
        seq: &mut ChangeSeq,
        record: &SourceRecord,
    ) -> Result<(), StoreError> {
        let incoming = paper_to_millis(&record.paper);
        let key = incoming.id.as_str();
        let (added, paper_changed) = match self.papers.get(key) {
            None => {
                let next = seq.next();
                let values = PaperValues::new(&incoming)?;
                db.execute(
                    "add a paper",
                    rows::INSERT_PAPER,
                    &values.insert_params(&next, &self.now),
                )?;
                self.papers
                    .insert(key.to_owned(), incoming.clone().into_owned());
                (true, false)
            }
            Some(stored) => match merge_paper(stored, &incoming) {
                Some(merged) => {
                    let next = seq.next();
                    let values = PaperValues::new(&merged)?;
                    db.execute(
                        "update a paper",
                        rows::UPDATE_PAPER,
                        &values.update_params(&next),
                    )?;
                    self.papers.insert(key.to_owned(), merged);
                    (false, true)
                }
                None => (false, false),
            },
        };
        let entry_changed = match &record.entry {
            Some(entry) => self.apply_entry(db, &incoming.id, entry)?,
            None => false,
        };
        if entry_changed && !added && !paper_changed {
            // The paper row carries the seq of its last change, entries included.
            mark_paper_changed(db, seq, &incoming.id)?;
        }
        if added {
            self.outcome.added += 1;
        } else if paper_changed || entry_changed {
            self.outcome.updated += 1;
        } else {
            self.outcome.unchanged += 1;
        }
        Ok(())
    }

    /// Merges a daily entry of `paper_id`; whether it changed the store.
    fn apply_entry(
        &mut self,
        db: &mut Db<'_, Transaction<'_>>,
        paper_id: &ArxivId,
        entry: &DailyEntry,
    ) -> Result<bool, StoreError> {
        if entry.paper_id != *paper_id {
            return Err(StoreError::EntryOfOtherPaper {
                paper_id: paper_id.clone(),
                entry_paper_id: entry.paper_id.clone(),
            });
        }
        let incoming = entry_to_millis(entry);
        let key = (format_day(incoming.day), paper_id.as_str().to_owned());
        let (sql, operation, stored) = match self.entries.get(&key) {
            None => (
                rows::INSERT_ENTRY,
                "add a daily entry",
                incoming.into_owned(),
            ),
            Some(stored) => match merge_entry(stored, &incoming) {
                Some(merged) => (rows::UPDATE_ENTRY, "update a daily entry", merged),
                None => return Ok(false),
            },
        };
        db.execute(operation, sql, &EntryValues::new(&stored).params())?;
        if sql == rows::INSERT_ENTRY {
            self.outcome.entries_added += 1;
        } else {
            self.outcome.entries_updated += 1;
        }
        self.entries.insert(key, stored);
        Ok(true)
    }
}
