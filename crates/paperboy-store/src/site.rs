//! What the web site asks of the store beyond the catalog: listings of daily
//! entries (day, week, month, trending, by submitter), accounts and sessions,
//! and what users do (upvotes, comments, reading list, submissions).
//!
//! Backend-neutral, like [`crate::Store`]: each write is one transaction, and
//! counts (upvotes) stay exact under concurrent writers. Votes, comments and
//! submissions change their paper: they advance [`crate::Store::change_seq`]
//! as an import does; accounts and reading lists do not.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{ArxivId, Comment, CommentId, DailyEntry, NewUser, Paper, User, UserId};

use crate::StoreError;

/// How a listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// Total upvotes (source + users), most first; then position in the
    /// day's list; then id.
    #[default]
    Upvotes,
    /// arXiv publication time, newest first.
    Published,
}

/// Which daily entries to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryQuery {
    /// First curation day, inclusive.
    pub from: NaiveDate,
    /// Last curation day, inclusive.
    pub to: NaiveDate,
    /// Only entries submitted by this username.
    pub submitter: Option<String>,
    pub order: ListOrder,
    pub offset: u64,
    pub limit: u64,
}

/// A daily entry as a list shows it: the entry, its paper, and the counts
/// that include what users did here.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub entry: DailyEntry,
    pub paper: Paper,
    /// Source upvotes + upvotes of users here.
    pub upvotes: u32,
    /// Source comment count + visible comments here.
    pub comments: u32,
}

/// A paper as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperPage {
    pub paper: Paper,
    /// The daily entries of this paper, newest day first (usually one).
    pub entries: Vec<DailyEntry>,
    /// Source upvotes + upvotes of users here.
    pub upvotes: u32,
    /// Source comment count + visible comments here.
    pub comments: u32,
}

/// A paper's upvote state for one user after a toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpvoteState {
    pub upvoted: bool,
    /// Total upvotes (source + users) after the change.
    pub upvotes: u32,
}

/// A signed-in session, looked up by the hash of its cookie token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// The CSRF token forms of this session must carry.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Listings of daily entries.
pub trait Listings {
    /// Entries of curation days in `[from, to]`, ordered and paged. The
    /// submitter filter ignores case, like usernames.
    fn entries(&self, query: &EntryQuery) -> Result<Vec<Listed>, StoreError>;

    /// How many entries `query` matches, ignoring offset and limit.
    fn count_entries(&self, query: &EntryQuery) -> Result<u64, StoreError>;

    /// The latest curation day on or before `day` that has entries.
    fn day_with_entries_on_or_before(
        &self,
        day: NaiveDate,
    ) -> Result<Option<NaiveDate>, StoreError>;

    /// The first curation day after `day` that has entries.
    fn day_with_entries_after(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError>;

    /// A paper with its counts and the entries that put it on lists, newest
    /// day first; `None` when unknown.
    fn paper_page(&self, id: &ArxivId) -> Result<Option<PaperPage>, StoreError>;
}

/// Users, sessions, API tokens.
pub trait Accounts {
    /// Creates a user; the first user of an installation is an admin.
    /// `UsernameTaken` / `EmailTaken` when either is in use.
    fn create_user(&self, new: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError>;

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// The user with this username or (normalised) email, and the password
    /// hash to check.
    fn user_for_login(&self, username_or_email: &str)
    -> Result<Option<(User, String)>, StoreError>;

    /// Stores a session by the hash of its cookie token.
    fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The live session with this token hash: expired ones (`expires_at`
    /// not after `now`) are `None`, and meeting one forgets every session
    /// expired by `now`.
    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError>;

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Stores an API token by its hash, with a name the user chose.
    fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The user an API token belongs to (the token's last use is recorded,
    /// to the hour).
    fn user_for_api_token(&self, token_hash: &str) -> Result<Option<User>, StoreError>;
}

/// What users do.
pub trait Participation {
    /// Sets (or clears) `user`'s upvote of a paper. Idempotent; the returned
    /// count is exact under concurrent toggles. `PaperNotFound` if unknown.
    fn set_upvote(
        &self,
        user: UserId,
        paper: &ArxivId,
        upvoted: bool,
    ) -> Result<UpvoteState, StoreError>;

    /// Which of `papers` `user` has upvoted.
    fn upvoted_among(&self, user: UserId, papers: &[ArxivId]) -> Result<Vec<ArxivId>, StoreError>;

    /// Adds a comment (or a reply to a top-level comment of the same paper).
    /// `PaperNotFound`, `CommentNotFound` (also for a parent on another
    /// paper), `ReplyToReply`, or `NotAllowed` for a deleted parent or an
    /// unknown author. The body is stored as given (validation is the
    /// caller's), timestamps to the millisecond.
    fn add_comment(
        &self,
        paper: &ArxivId,
        author: UserId,
        parent: Option<CommentId>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment, StoreError>;

    /// Edits the author's own comment; `NotAllowed` for anyone else and for
    /// a deleted comment.
    fn edit_comment(
        &self,
        id: CommentId,
        author: UserId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment, StoreError>;

    /// Deletes the author's own comment (`NotAllowed` for anyone else): kept
    /// as "deleted", its body cleared, while it has replies; gone otherwise.
    /// The last reply of a deleted comment takes the comment along.
    fn delete_comment(&self, id: CommentId, author: UserId) -> Result<(), StoreError>;

    /// Hides or shows a comment (admins; the caller checks the role).
    fn set_comment_hidden(&self, id: CommentId, hidden: bool) -> Result<(), StoreError>;

    /// A paper's comments: top-level ones oldest first, each followed by its
    /// replies oldest first. Deleted and hidden ones are included, marked:
    /// what to show is the caller's choice. Empty for an unknown paper.
    fn comments(&self, paper: &ArxivId) -> Result<Vec<Comment>, StoreError>;

    /// Adds or removes a paper from `user`'s reading list; saving again
    /// keeps the first time. `PaperNotFound` when saving an unknown paper.
    fn set_saved(
        &self,
        user: UserId,
        paper: &ArxivId,
        saved: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// `user`'s reading list, most recently saved first.
    fn saved_papers(&self, user: UserId) -> Result<Vec<Paper>, StoreError>;

    /// Puts a known paper at the end of the list of `day`, submitted by
    /// `user` (fullname: the display name) at `now`. `PaperNotFound`, or
    /// `AlreadyListed { day }` (its latest day) when it is on a list already.
    fn submit(
        &self,
        paper: &ArxivId,
        day: NaiveDate,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<DailyEntry, StoreError>;
}
