//! Why a store operation failed, in domain words and independent of the
//! backend; it never decides how an error is shown to a user.

use std::path::PathBuf;

use paperboy_core::ArxivId;

/// A backend's own error, kept as the source of [`StoreError::Database`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database itself failed (I/O, locking, a constraint).
    #[error("database error while trying to {operation}")]
    Database {
        /// What the store was doing, e.g. `"save a batch of papers"`.
        operation: &'static str,
        #[source]
        source: BackendError,
    },

    /// The directory that should hold the database cannot be created.
    #[error("cannot create the database directory {path:?}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A stored value cannot be read back (hand-edited or damaged database).
    #[error("stored paper {paper_id:?} is corrupt: field {field}: {message}")]
    Corrupt {
        paper_id: String,
        field: &'static str,
        message: String,
    },

    /// The database was written by a newer Paperboy whose schema this one does
    /// not know; opening it could damage it.
    #[error(
        "database schema version {found} is newer than the {known} this Paperboy knows; \
         upgrade Paperboy to open it"
    )]
    SchemaTooNew { found: i64, known: i64 },

    /// A record's daily entry names another paper than the record's paper (a
    /// bug in the source that built the record).
    #[error("a record of paper {paper_id} carries a daily entry of paper {entry_paper_id}")]
    EntryOfOtherPaper {
        paper_id: ArxivId,
        entry_paper_id: ArxivId,
    },

    /// A value cannot be encoded for storage.
    #[error("cannot encode field {field} of paper {paper_id}")]
    Encode {
        paper_id: ArxivId,
        field: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Wraps a backend error with what the store was doing.
    pub(crate) fn database(operation: &'static str, source: impl Into<BackendError>) -> StoreError {
        StoreError::Database {
            operation,
            source: source.into(),
        }
    }
}
