//! The Store: the database that is Paperboy's single source of truth, behind
//! one backend-neutral trait ([`Store`]); SQLite ([`SqliteStore`]) now,
//! PostgreSQL later beside it, both held to one [`conformance`] suite.
//!
//! Everything else (search indexes) is derived from what is stored here and
//! catches up through [`Store::change_seq`]; embedding vectors, costly to
//! compute, are stored here too ([`Vectors`]). The store applies the
//! merge rules of [`paperboy_core::merge`], so importing a record twice
//! changes nothing.
//!
//! It knows nothing of HTTP, the command line or source file formats: callers
//! hand it [`SourceRecord`]s and get domain types back.

mod codec;
#[doc(hidden)]
pub mod conformance;
mod copy;
mod error;
mod jobs;
mod limits;
mod mail;
mod postgres;
mod site;
mod sqlite;
mod vectors;

use std::ops::AddAssign;
use std::time::Duration;

use chrono::NaiveDate;
use paperboy_core::{ArxivId, DailyEntry, Paper, SourceRecord};

pub use copy::{
    CopyError, CopyProgress, CopyReport, CopyStep, TableCopy, copied_tables,
    copy_sqlite_to_postgres,
};
pub use error::StoreError;
pub use jobs::Jobs;
pub use limits::Limits;
pub use mail::{
    AlertDelivery, Mail, MessageKind, MessageStatus, NewMessage, NewSavedSearch, NewSubscription,
    OutboxMessage, OutboxStats, PendingAlert, SavedSearch, SubscribeOutcome, Subscription,
    SubscriptionStatus,
};
pub use postgres::{CHANGES_CHANNEL, PgStore};
pub use site::{
    Accounts, EntryQuery, ListOrder, Listed, Listings, PaperPage, Participation, Session,
    UpvoteState,
};
pub use sqlite::SqliteStore;
pub use vectors::{PaperText, PaperVector, VectorStats, Vectors, decode_vector, encode_vector};

/// What Paperboy keeps: papers, their daily entries, harvest cursors.
///
/// Object safe and shareable across threads (`Arc<dyn Store>`); every method
/// takes `&self` and each write is one transaction, all or nothing.
pub trait Store:
    Listings + Accounts + Participation + Vectors + Mail + Jobs + Limits + Send + Sync
{
    /// Merges a batch of records into the store in one transaction: either
    /// every record is applied or (on error) none is.
    ///
    /// Each record's paper is merged with the stored one by
    /// [`paperboy_core::merge::merge_paper`], its entry with the stored entry
    /// of the same (paper, day) by [`paperboy_core::merge::merge_entry`].
    /// Records of the same paper within one batch are applied in order.
    /// Timestamps are kept to the millisecond; finer precision is dropped
    /// before merging so that importing the same record again changes nothing.
    fn upsert(&self, records: &[SourceRecord]) -> Result<BatchOutcome, StoreError>;

    /// The stored paper, `None` when the store has never seen it.
    fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError>;

    /// The daily entries of a curation day with their papers, ranked by
    /// upvotes (most first, papers without a count last), then by position
    /// in the source's list.
    fn day_entries(&self, day: NaiveDate) -> Result<Vec<(DailyEntry, Paper)>, StoreError>;

    /// Counts of what is stored.
    fn stats(&self) -> Result<Stats, StoreError>;

    /// A harvest cursor (e.g. an OAI-PMH resumption token) saved under `key`.
    fn sync_state(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Saves (or replaces) the harvest cursor under `key`.
    fn set_sync_state(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// The change sequence: grows with every change to a paper or its daily
    /// entries, and never otherwise. Each paper remembers the sequence number
    /// of its last change, so derived indexes can catch up from the number
    /// they last saw.
    fn change_seq(&self) -> Result<u64, StoreError>;

    /// Up to `limit` papers whose last change has a sequence number above
    /// `seq`, in ascending sequence order, each with that number and the page
    /// data an index needs (entries for the curation days, total upvotes).
    ///
    /// Derived indexes catch up by calling this with the last number they
    /// saw until it returns nothing; a paper changed twice shows once, with
    /// its newest number.
    fn papers_changed_since(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperPage)>, StoreError>;

    /// Waits until papers may have changed (a hint: read
    /// [`Store::change_seq`] after it) or `timeout` passed, whichever comes
    /// first. Derived indexes and caches of every process sharing the
    /// database call it between catching up. SQLite cannot be told, so it
    /// waits out the timeout; PostgreSQL wakes up as soon as a writer on any
    /// node commits a change.
    fn wait_for_changes(&self, timeout: Duration) -> Result<(), StoreError> {
        std::thread::sleep(timeout);
        Ok(())
    }
}

/// What one [`Store::upsert`] did. `added + updated + unchanged` is the number
/// of records in the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Records whose paper was new to the store.
    pub added: u64,
    /// Records of a known paper that changed it or its daily entries
    /// (including a new entry on another day).
    pub updated: u64,
    /// Records that changed nothing.
    pub unchanged: u64,
    /// Daily entries that were new to the store.
    pub entries_added: u64,
    /// Stored daily entries that a record changed.
    pub entries_updated: u64,
}

impl BatchOutcome {
    /// The number of records this outcome counts.
    pub fn records(&self) -> u64 {
        self.added + self.updated + self.unchanged
    }
}

impl AddAssign for BatchOutcome {
    fn add_assign(&mut self, other: BatchOutcome) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.entries_added += other.entries_added;
        self.entries_updated += other.entries_updated;
    }
}

/// Counts of what a store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub papers: u64,
    pub daily_entries: u64,
    /// Distinct curation days that have at least one entry.
    pub days: u64,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}
