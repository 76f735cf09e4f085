//! Recent listing results, remembered together with the change sequence
//! they were read at, so that the page every visitor asks for (today's list)
//! is not read and decoded again until something changes.
//!
//! It never decides what is current: each lookup first reads the change
//! sequence from the database, and every change that can alter a listing
//! (an import, a vote, a comment, a submission, by any process) advances
//! it, which empties the cache. A value written behind the store's back
//! (by hand, without advancing the sequence) shows once anything changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;

use crate::{EntryQuery, ListOrder, Listed};

/// Results kept at most; then the cache starts over. Pages of recent days
/// make most requests, so a small cache serves nearly all of them.
const CAPACITY: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    from: NaiveDate,
    to: NaiveDate,
    submitter: Option<String>,
    by_published: bool,
    offset: u64,
    limit: u64,
}

impl Key {
    fn of(query: &EntryQuery) -> Key {
        Key {
            from: query.from,
            to: query.to,
            submitter: query.submitter.clone(),
            by_published: query.order == ListOrder::Published,
            offset: query.offset,
            limit: query.limit,
        }
    }

    /// Counts ignore order and paging.
    fn of_count(query: &EntryQuery) -> Key {
        Key {
            by_published: false,
            offset: 0,
            limit: 0,
            ..Key::of(query)
        }
    }
}

#[derive(Default)]
struct Cached {
    /// The change sequence every result here was read at (or after).
    seq: i64,
    entries: HashMap<Key, Arc<Vec<Listed>>>,
    counts: HashMap<Key, u64>,
}

impl Cached {
    /// Makes the cache hold results of `seq`: a newer sequence empties it.
    /// Whether results of `seq` may be stored (an older one must not).
    fn advance(&mut self, seq: i64) -> bool {
        if seq > self.seq {
            self.seq = seq;
            self.entries.clear();
            self.counts.clear();
        }
        seq == self.seq
    }

    fn full(&self) -> bool {
        self.entries.len() + self.counts.len() >= CAPACITY
    }
}

#[derive(Default)]
pub(crate) struct ListingCache {
    cached: Mutex<Cached>,
}

impl ListingCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // Nothing here is left half done by a panic: every update is one
        // map operation.
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries of `query` read at change sequence `seq`, if remembered.
    pub(crate) fn entries(&self, seq: i64, query: &EntryQuery) -> Option<Arc<Vec<Listed>>> {
        let mut cached = self.lock();
        cached.advance(seq);
        (cached.seq == seq)
            .then(|| cached.entries.get(&Key::of(query)).cloned())
            .flatten()
    }

    /// Remembers the entries of `query`, read after change sequence `seq`
    /// was current.
    pub(crate) fn keep_entries(&self, seq: i64, query: &EntryQuery, listed: Arc<Vec<Listed>>) {
        let mut cached = self.lock();
        if cached.advance(seq) {
            if cached.full() {
                cached.entries.clear();
                cached.counts.clear();
            }
            cached.entries.insert(Key::of(query), listed);
        }
    }

    pub(crate) fn count(&self, seq: i64, query: &EntryQuery) -> Option<u64> {
        let mut cached = self.lock();
        cached.advance(seq);
        (cached.seq == seq)
            .then(|| cached.counts.get(&Key::of_count(query)).copied())
            .flatten()
    }

    pub(crate) fn keep_count(&self, seq: i64, query: &EntryQuery, count: u64) {
        let mut cached = self.lock();
        if cached.advance(seq) {
            if cached.full() {
                cached.entries.clear();
                cached.counts.clear();
            }
            cached.counts.insert(Key::of_count(query), count);
        }
    }
}
