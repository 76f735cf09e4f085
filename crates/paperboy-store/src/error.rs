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

    /// A stored row other than a paper (a user, a comment, a session) cannot
    /// be read back (hand-edited or damaged database).
    #[error("stored {table} row {key} is corrupt: field {field}: {message}")]
    CorruptRow {
        /// The table, e.g. `"users"`.
        table: &'static str,
        /// The row's key, e.g. the user id.
        key: String,
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

    /// No paper with this id is stored.
    #[error("paper {id} is not in the catalog")]
    PaperNotFound { id: ArxivId },

    /// No comment with this id (on this paper) exists.
    #[error("comment {id} does not exist")]
    CommentNotFound { id: i64 },

    /// No mail subscription with this id exists.
    #[error("subscription {id} does not exist")]
    SubscriptionNotFound { id: i64 },

    /// No message with this id is in the outbox.
    #[error("message {id} is not in the outbox")]
    MessageNotFound { id: i64 },

    /// Replies have no replies: only a top-level comment can be answered.
    #[error("comment {parent} is a reply; answer the comment it replies to")]
    ReplyToReply { parent: i64 },

    /// The user may not do this (e.g. edit someone else's comment).
    #[error("not allowed: {reason}")]
    NotAllowed { reason: &'static str },

    /// Sign-up with a username that exists.
    #[error("the username {username:?} is taken")]
    UsernameTaken { username: String },

    /// Sign-up with an email address that has an account.
    #[error("an account with this email address exists")]
    EmailTaken,

    /// The paper is on a daily list already.
    #[error("paper {id} is already on the list of {day}")]
    AlreadyListed { id: ArxivId, day: chrono::NaiveDate },

    /// A vector whose length differs from the stored vectors of its model.
    #[error(
        "vector of paper {id} has {found} dimensions; the stored vectors of model {model:?} have {expected}"
    )]
    VectorDimension {
        model: String,
        id: ArxivId,
        expected: usize,
        found: usize,
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
