//! The domain of Paperboy: arXiv ids, papers, daily entries, the rules that
//! normalise source text and merge records.
//!
//! Pure: no IO, no async, no database, no HTTP. Every other crate depends on
//! this one; it depends on none of them.

pub mod account;
pub mod comment;
pub mod id;
pub mod mail;
pub mod merge;
pub mod paper;
pub mod text;
pub mod trending;

pub use account::{NewUser, User, UserId};
pub use comment::{Comment, CommentId};
pub use id::{ArxivId, IdError, VersionedId};
pub use mail::{Cadence, EmailAddress, MessageId, Period, SavedSearchId, Schedule, SubscriptionId};
pub use paper::{Biblio, Community, DailyEntry, Paper, SourceRecord, Submitter, looks_withdrawn};
