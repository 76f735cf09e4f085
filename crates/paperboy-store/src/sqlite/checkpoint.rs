//! Copies committed WAL frames into the database file on a thread of its
//! own, so that an import's writer does not stop after each batch to do it
//! (the copy is a third of an import's work). It never writes data of its own
//! and never blocks the writer or readers (`PASSIVE` checkpoints); SQLite's
//! automatic checkpoint stays on as a safety net if this thread falls behind.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;

#[derive(Default)]
struct Signal {
    /// A batch committed since the last checkpoint started.
    pending: bool,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    signal: Mutex<Signal>,
    wake: Condvar,
}

/// The checkpoint thread of one database; stops when dropped.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, its own connection to the database.
    pub(crate) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("paperboy-checkpoint".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&conn, &shared)
            })?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint soon: a batch was committed.
    pub(crate) fn request(&self) {
        self.shared
            .signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending = true;
        self.shared.wake.notify_one();
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut signal = shared.signal.lock().unwrap_or_else(PoisonError::into_inner);
            while !signal.pending && !signal.stop {
                signal = shared
                    .wake
                    .wait(signal)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if signal.stop {
                return;
            }
            signal.pending = false;
        }
        // Returns (busy, frames in the WAL, frames checkpointed); a busy or
        // partial checkpoint is normal while the writer is at work.
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        });
        if let Err(error) = result {
            tracing::warn!(%error, "background WAL checkpoint failed; SQLite's automatic checkpoint takes over");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared
            .signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // The thread only panics if SQLite does; nothing to add then.
            let _ = thread.join();
        }
    }
}
