//! The SQLite backend of [`Store`]: one file (WAL journal) or an in-memory
//! database. It must not hold any change outside a transaction, so a batch
//! that committed survives a killed process and one that did not leaves
//! nothing.

mod accounts;
mod checkpoint;
mod jobs;
mod limits;
mod listing_cache;
mod listings;
mod mail;
mod migrations;
mod participation;
mod readers;
mod rows;
mod vectors;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use paperboy_core::merge::{merge_entry, merge_paper};
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior};

use self::checkpoint::Checkpointer;
use self::listing_cache::ListingCache;
use self::readers::Readers;
use self::rows::{
    EntryValues, PaperValues, entry_from_row, format_day, format_time, paper_from_row,
};
use crate::codec::{entry_to_millis, paper_to_millis};
use crate::{BatchOutcome, Stats, Store, StoreError};

/// How long a connection waits for another one's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection; more than the store uses, so none
/// is ever evicted and re-prepared.
const STATEMENT_CACHE: usize = 96;

/// The page cache of each connection, in KiB (SQLite's negative
/// `cache_size`): large imports touch the id index all the time.
const CACHE_KIB: i64 = 64 * 1024;

/// The page size of a new database. A paper row is ~1.5 KB (the abstract):
/// 4 KiB pages would hold two and waste a quarter of the file; 16 KiB pages
/// hold ten and make imports much faster.
const PAGE_SIZE: i64 = 16 * 1024;

/// WAL pages after which the writer checkpoints by itself: a safety net
/// should the [`Checkpointer`] thread fall behind (256 MiB at 16 KiB pages).
const AUTO_CHECKPOINT_PAGES: i64 = 16 * 1024;

/// The WAL file is cut back to this size (bytes) after a checkpoint, so that
/// one large import does not leave a huge file behind.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// A [`Store`] kept in SQLite.
///
/// Writes go through one connection behind a mutex, one transaction each.
/// A file database has a small pool of further connections for reads, so
/// readers (the web server) never wait for an import's batch nor for each
/// other: WAL lets them read the last committed state meanwhile.
pub struct SqliteStore {
    /// The database file, `None` in memory.
    path: Option<PathBuf>,
    writer: Mutex<Connection>,
    /// `None` for an in-memory database, whose connections cannot share it.
    readers: Option<Readers>,
    /// `None` for an in-memory database, which has no WAL.
    checkpointer: Option<Checkpointer>,
    /// Recent listings with the change sequence they were read at.
    listings: ListingCache,
}

impl SqliteStore {
    /// Opens (creating it and its directory when missing) the database file at
    /// `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDirectory {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut writer =
            Connection::open(path).map_err(|e| StoreError::database("open the database", e))?;
        configure(&writer)?;
        // Takes effect only while the file is still empty, so it must come
        // before the WAL switch and the first table.
        writer
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(|e| StoreError::database("configure the database", e))?;
        let mode = switch_to_wal(&writer)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(journal_mode = %mode, path = %path.display(), "the database is not in WAL mode; readers will wait for writers");
        }
        migrations::migrate(&mut writer)?;
        let readers = Readers::open(path, readers::READERS, open_helper)?;
        let checkpointer = Checkpointer::start(open_helper(path)?)
            .map_err(|e| StoreError::database("start the checkpoint thread", e))?;
        Ok(SqliteStore {
            path: Some(path.to_path_buf()),
            writer: Mutex::new(writer),
            readers: Some(readers),
            checkpointer: Some(checkpointer),
            listings: ListingCache::default(),
        })
    }

    /// A fresh database in memory, gone when the store is dropped (tests).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| StoreError::database("open the database", e))?;
        configure(&conn)?;
        migrations::migrate(&mut conn)?;
        Ok(SqliteStore {
            path: None,
            writer: Mutex::new(conn),
            readers: None,
            checkpointer: None,
            listings: ListingCache::default(),
        })
    }

    /// The database file; `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version this code writes (`PRAGMA user_version`).
    pub fn schema_version() -> i64 {
        migrations::known_version()
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped its transaction, which rolled
        // back: the connection is still consistent.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        match &self.readers {
            Some(readers) => readers.get(),
            None => self.writer(),
        }
    }

    /// Runs `work` in one write transaction (taking the write lock at once,
    /// so that read-then-write inside it never races another writer, in this
    /// process or another) and commits it; an error rolls everything back.
    fn write<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::database(operation, e))?;
        let value = work(&tx)?;
        tx.commit()
            .map_err(|e| StoreError::database(operation, e))?;
        drop(conn);
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.request();
        }
        Ok(value)
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Switches the database to the WAL journal (a no-op when it is already) and
/// returns the journal mode now in force.
fn switch_to_wal(conn: &Connection) -> Result<String, StoreError> {
    // Another process switching a new database at the same moment makes
    // SQLite answer "busy" at once rather than wait (its busy handler is not
    // used for this lock), so wait here.
    let started = Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Ok(mode) => return Ok(mode),
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(StoreError::database("switch to the WAL journal", e)),
        }
    }
}

/// A further connection to the (already migrated) database at `path`.
fn open_helper(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError::database("open the database", e))?;
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    let err = |e| StoreError::database("configure the database", e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    // NORMAL in WAL mode: a committed transaction survives a crash of the
    // process (only a power loss may take back the last ones).
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(err)?;
    conn.pragma_update(None, "wal_autocheckpoint", AUTO_CHECKPOINT_PAGES)
        .map_err(err)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
        .map_err(err)?;
    // Plans never depend on bound values (we keep no STAT4 statistics): without
    // this, a statement with `LIMIT ?` is compiled again each time it comes
    // back from the statement cache, a third of a listing's time.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

impl Store for SqliteStore {
    fn upsert(&self, records: &[SourceRecord]) -> Result<BatchOutcome, StoreError> {
        if records.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::database("begin a batch", e))?;
        let mut batch = Batch::new(&tx)?;
        for record in records {
            batch.apply(record)?;
        }
        let outcome = batch.finish()?;
        // Dropping `tx` on any error above rolls the whole batch back.
        tx.commit()
            .map_err(|e| StoreError::database("commit a batch", e))?;
        drop(conn);
        match &self.checkpointer {
            Some(checkpointer) if outcome.unchanged < outcome.records() => checkpointer.request(),
            _ => {}
        }
        Ok(outcome)
    }

    fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError> {
        load_paper(&self.reader(), id)
    }

    fn day_entries(&self, day: NaiveDate) -> Result<Vec<(DailyEntry, Paper)>, StoreError> {
        let conn = self.reader();
        let err = |e| StoreError::database("read the entries of a day", e);
        let mut stmt = conn.prepare_cached(rows::SELECT_DAY).map_err(err)?;
        let mut rows = stmt.query([format_day(day)]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            out.push((
                entry_from_row(row)?,
                paper_from_row(row, rows::ENTRY_COLUMN_COUNT)?,
            ));
        }
        Ok(out)
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let conn = self.reader();
        let err = |e| StoreError::database("count what is stored", e);
        // One statement, so the counts come from one snapshot even while a
        // batch commits.
        let (papers, daily_entries, days, first, last): (i64, i64, i64, Option<String>, Option<String>) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM papers), COUNT(*), COUNT(DISTINCT day), MIN(day), MAX(day) \
                 FROM daily_entries",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
            )
            .map_err(err)?;
        let day = |text: Option<String>| -> Result<Option<NaiveDate>, StoreError> {
            text.map(|t| {
                NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
                    paper_id: String::new(),
                    field: "daily_entries.day",
                    message: format!("{t:?}: {e}"),
                })
            })
            .transpose()
        };
        Ok(Stats {
            papers: count(papers),
            daily_entries: count(daily_entries),
            days: count(days),
            first_day: day(first)?,
            last_day: day(last)?,
        })
    }

    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.reader()
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
            .map_err(|e| StoreError::database("read a sync cursor", e))
    }

    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.writer()
            .prepare_cached(
                "INSERT INTO sync_state (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .and_then(|mut stmt| stmt.execute((key, value, format_time(Utc::now()))))
            .map(drop)
            .map_err(|e| StoreError::database("save a sync cursor", e))
    }

    fn change_seq(&self) -> Result<u64, StoreError> {
        let seq = read_change_seq(&self.reader())?;
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
}

/// `COUNT(*)` is never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn read_change_seq(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = 'change_seq'")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(|e| StoreError::database("read the change sequence", e))
}

/// Gives `paper_id` the next change sequence number: something about the
/// paper (its entries, votes, comments) changed. Part of the caller's
/// transaction.
fn mark_paper_changed(conn: &Connection, paper_id: &ArxivId) -> Result<(), StoreError> {
    let seq = read_change_seq(conn)? + 1;
    let err = |e| StoreError::database("mark a paper changed", e);
    conn.prepare_cached("UPDATE papers SET seq = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute((paper_id.as_str(), seq)))
        .map_err(err)?;
    conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'change_seq'")
        .and_then(|mut stmt| stmt.execute([seq]))
        .map_err(err)?;
    Ok(())
}

/// Whether the store has the paper; `PaperNotFound` when it has not.
fn require_paper(conn: &Connection, paper_id: &ArxivId) -> Result<(), StoreError> {
    let found = conn
        .prepare_cached("SELECT 1 FROM papers WHERE id = ?1")
        .and_then(|mut stmt| stmt.exists([paper_id.as_str()]))
        .map_err(|e| StoreError::database("look up a paper", e))?;
    if found {
        Ok(())
    } else {
        Err(StoreError::PaperNotFound {
            id: paper_id.clone(),
        })
    }
}

fn load_paper(conn: &Connection, id: &ArxivId) -> Result<Option<Paper>, StoreError> {
    let err = |e| StoreError::database("read a paper", e);
    let mut stmt = conn.prepare_cached(rows::SELECT_PAPER).map_err(err)?;
    let mut rows = stmt.query([id.as_str()]).map_err(err)?;
    match rows.next().map_err(err)? {
        Some(row) => paper_from_row(row, 0).map(Some),
        None => Ok(None),
    }
}

/// One upsert in progress, inside its transaction.
struct Batch<'c> {
    conn: &'c Connection,
    /// The change sequence: the last number handed out.
    seq: i64,
    seq_at_start: i64,
    /// When this batch runs, as stored in `created_at` of new papers.
    now: String,
    outcome: BatchOutcome,
}

impl<'c> Batch<'c> {
    fn new(conn: &'c Connection) -> Result<Batch<'c>, StoreError> {
        let seq = read_change_seq(conn)?;
        Ok(Batch {
            conn,
            seq,
            seq_at_start: seq,
            now: format_time(Utc::now()),
            outcome: BatchOutcome::default(),
        })
    }

    fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    fn apply(&mut self, record: &SourceRecord) -> Result<(), StoreError> {
        let incoming = paper_to_millis(&record.paper);
        let err = |operation| move |e| StoreError::database(operation, e);
        let (added, paper_changed) = match load_paper(self.conn, &incoming.id)? {
            None => {
                let seq = self.next_seq();
                let values = PaperValues::new(&incoming)?;
                let mut stmt = self
                    .conn
                    .prepare_cached(rows::INSERT_PAPER)
                    .map_err(err("add a paper"))?;
                stmt.execute(values.insert_params(&seq, &self.now.as_str()))
                    .map_err(err("add a paper"))?;
                (true, false)
            }
            Some(stored) => match merge_paper(&stored, &incoming) {
                Some(merged) => {
                    let seq = self.next_seq();
                    let values = PaperValues::new(&merged)?;
                    let mut stmt = self
                        .conn
                        .prepare_cached(rows::UPDATE_PAPER)
                        .map_err(err("update a paper"))?;
                    stmt.execute(values.update_params(&seq))
                        .map_err(err("update a paper"))?;
                    (false, true)
                }
                None => (false, false),
            },
        };

        let entry_changed = match &record.entry {
            Some(entry) => self.apply_entry(&incoming.id, entry)?,
            None => false,
        };
        if entry_changed && !added && !paper_changed {
            // The paper row carries the seq of its last change, entries included.
            let seq = self.next_seq();
            let mut stmt = self
                .conn
                .prepare_cached("UPDATE papers SET seq = ?2 WHERE id = ?1")
                .map_err(err("mark a paper changed"))?;
            stmt.execute((incoming.id.as_str(), seq))
                .map_err(err("mark a paper changed"))?;
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
    fn apply_entry(&mut self, paper_id: &ArxivId, entry: &DailyEntry) -> Result<bool, StoreError> {
        if entry.paper_id != *paper_id {
            return Err(StoreError::EntryOfOtherPaper {
                paper_id: paper_id.clone(),
                entry_paper_id: entry.paper_id.clone(),
            });
        }
        let err = |operation| move |e| StoreError::database(operation, e);
        let incoming = entry_to_millis(entry);
        let values = EntryValues::new(&incoming);
        let stored = {
            let mut stmt = self
                .conn
                .prepare_cached(rows::SELECT_ENTRY)
                .map_err(err("read a daily entry"))?;
            let mut rows = stmt
                .query(values.key())
                .map_err(err("read a daily entry"))?;
            match rows.next().map_err(err("read a daily entry"))? {
                Some(row) => Some(entry_from_row(row)?),
                None => None,
            }
        };
        match stored {
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached(rows::INSERT_ENTRY)
                    .map_err(err("add a daily entry"))?;
                stmt.execute(values.params())
                    .map_err(err("add a daily entry"))?;
                self.outcome.entries_added += 1;
                Ok(true)
            }
            Some(stored) => match merge_entry(&stored, &incoming) {
                Some(merged) => {
                    let values = EntryValues::new(&merged);
                    let mut stmt = self
                        .conn
                        .prepare_cached(rows::UPDATE_ENTRY)
                        .map_err(err("update a daily entry"))?;
                    stmt.execute(values.params())
                        .map_err(err("update a daily entry"))?;
                    self.outcome.entries_updated += 1;
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    fn finish(self) -> Result<BatchOutcome, StoreError> {
        if self.seq != self.seq_at_start {
            self.conn
                .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'change_seq'")
                .and_then(|mut stmt| stmt.execute([self.seq]))
                .map_err(|e| StoreError::database("advance the change sequence", e))?;
        }
        Ok(self.outcome)
    }
}
