//! A small pool of read-only connections to a file database, so that
//! concurrent web requests read side by side (WAL lets each see the last
//! committed state) instead of queueing on one connection. It never writes
//! and holds no state beyond the connections.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use rusqlite::Connection;

use crate::StoreError;

/// Read connections of a file store: more than the web's usual concurrency
/// on a small machine, few enough that their page caches stay cheap.
pub(crate) const READERS: usize = 4;

pub(crate) struct Readers {
    connections: Vec<Mutex<Connection>>,
    /// Where the next caller starts looking for a free connection, so that
    /// callers spread over the pool rather than all trying the first one.
    next: AtomicUsize,
}

impl Readers {
    /// Opens `count` (at least one) read-only connections with `open`.
    pub(crate) fn open(
        path: &Path,
        count: usize,
        open: impl Fn(&Path) -> Result<Connection, StoreError>,
    ) -> Result<Readers, StoreError> {
        let connections = (0..count.max(1))
            .map(|_| {
                let conn = open(path)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(|e| StoreError::database("configure the database", e))?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Readers {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// A connection to read with: the first free one from a rotating start,
    /// or (all busy) the start one as soon as it is free.
    pub(crate) fn get(&self) -> MutexGuard<'_, Connection> {
        let n = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.connections[(start + i) % n].try_lock() {
                Ok(conn) => return conn,
                // A panic while reading left nothing half done: reads hold no
                // transaction open across calls.
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        self.connections[start]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
