//! How papers and daily entries map to SQLite rows and back: column lists,
//! bind values, decoding. Nothing here decides what to write; a stored value
//! that cannot be decoded is a [`StoreError::Corrupt`], never a panic.

use chrono::{DateTime, Utc};
use paperboy_core::{
    ArxivId, Biblio, Comment, CommentId, Community, DailyEntry, Paper, Submitter, User, UserId,
};
use rusqlite::types::{FromSql, Null};
use rusqlite::{Row, ToSql};

use crate::StoreError;
use crate::codec::encode_list;
pub(crate) use crate::codec::{format_day, format_time, parse_day, parse_list, parse_time};

/// The paper columns in the order [`PaperValues`] binds them (`?1`..`?21`)
/// and [`paper_from_row`] reads them.
macro_rules! paper_columns {
    () => {
        "id, version, title, abstract, authors, categories, primary_category, published, \
         updated, comments, journal_ref, doi, license, withdrawn, observed_at, upvotes, \
         github_repo, github_stars, project_page, ai_summary, ai_keywords"
    };
}

/// The number of columns in [`paper_columns!`].
pub(crate) const PAPER_COLUMN_COUNT: usize = 21;

/// The entry columns in the order [`EntryValues`] binds them and
/// [`entry_from_row`] reads them.
macro_rules! entry_columns {
    () => {
        "paper_id, day, submitter_name, submitter_fullname, submitter_avatar, position, \
         submitted_at, num_comments"
    };
}

pub(crate) const ENTRY_COLUMN_COUNT: usize = 8;

pub(crate) const SELECT_PAPER: &str =
    concat!("SELECT ", paper_columns!(), " FROM papers WHERE id = ?1");

pub(crate) const INSERT_PAPER: &str = concat!(
    "INSERT INTO papers (",
    paper_columns!(),
    ", seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
     ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
);

pub(crate) const UPDATE_PAPER: &str = "UPDATE papers SET version = ?2, title = ?3, abstract = ?4, \
     authors = ?5, categories = ?6, primary_category = ?7, published = ?8, updated = ?9, \
     comments = ?10, journal_ref = ?11, doi = ?12, license = ?13, withdrawn = ?14, \
     observed_at = ?15, upvotes = ?16, github_repo = ?17, github_stars = ?18, \
     project_page = ?19, ai_summary = ?20, ai_keywords = ?21, seq = ?22 WHERE id = ?1";

pub(crate) const SELECT_ENTRY: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM daily_entries WHERE day = ?1 AND paper_id = ?2"
);

pub(crate) const INSERT_ENTRY: &str = concat!(
    "INSERT INTO daily_entries (",
    entry_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
);

pub(crate) const UPDATE_ENTRY: &str = "UPDATE daily_entries SET submitter_name = ?3, \
     submitter_fullname = ?4, submitter_avatar = ?5, position = ?6, submitted_at = ?7, \
     num_comments = ?8 WHERE paper_id = ?1 AND day = ?2";

/// Entries of a day joined with their papers; the paper starts at column
/// [`ENTRY_COLUMN_COUNT`]. NULL upvotes sort last in a descending order.
pub(crate) const SELECT_DAY: &str = "SELECT e.paper_id, e.day, e.submitter_name, \
     e.submitter_fullname, e.submitter_avatar, e.position, e.submitted_at, e.num_comments, \
     p.id, p.version, p.title, p.abstract, p.authors, p.categories, p.primary_category, \
     p.published, p.updated, p.comments, p.journal_ref, p.doi, p.license, p.withdrawn, \
     p.observed_at, p.upvotes, p.github_repo, p.github_stars, p.project_page, p.ai_summary, \
     p.ai_keywords \
     FROM daily_entries e JOIN papers p ON p.id = e.paper_id \
     WHERE e.day = ?1 ORDER BY p.upvotes DESC, e.position ASC, e.paper_id ASC";

/// [`paper_columns!`] of the table aliased `p`.
macro_rules! p_paper_columns {
    () => {
        "p.id, p.version, p.title, p.abstract, p.authors, p.categories, p.primary_category, \
         p.published, p.updated, p.comments, p.journal_ref, p.doi, p.license, p.withdrawn, \
         p.observed_at, p.upvotes, p.github_repo, p.github_stars, p.project_page, p.ai_summary, \
         p.ai_keywords"
    };
}

/// [`entry_columns!`] of the table aliased `e`.
macro_rules! e_entry_columns {
    () => {
        "e.paper_id, e.day, e.submitter_name, e.submitter_fullname, e.submitter_avatar, \
         e.position, e.submitted_at, e.num_comments"
    };
}

/// A page of listed entries: the entry ([`ENTRY_COLUMN_COUNT`] columns), its
/// paper, then the paper's user upvotes, visible user comments and the
/// source comment count of its latest entry ([`LISTED_COUNTS`] on).
///
/// `$key` ranks (descending; ties by position, then id); `$filter` narrows
/// the days `?1..=?2` (`?5`: a submitter); `?3`/`?4` are limit and offset.
/// The page is picked on narrow rows first (a sort of whole papers costs more
/// than reading the few shown again), then only the papers shown are read,
/// by rowid. The latest entry is nearly always the listed one, so its
/// comment count is looked up only among later days.
macro_rules! select_listed {
    ($key:expr, $filter:expr) => {
        concat!(
            "WITH page AS MATERIALIZED (SELECT e.day, e.paper_id, e.position, p.rowid AS prow, ",
            $key,
            " AS k FROM daily_entries e JOIN papers p ON p.id = e.paper_id \
             WHERE e.day BETWEEN ?1 AND ?2",
            $filter,
            " ORDER BY k DESC, e.position, e.paper_id LIMIT ?3 OFFSET ?4) SELECT ",
            e_entry_columns!(),
            ", ",
            p_paper_columns!(),
            ", p.user_upvotes, p.user_comments, IFNULL((SELECT IFNULL(l.num_comments, 0) \
             FROM daily_entries l WHERE l.paper_id = e.paper_id AND l.day > e.day \
             ORDER BY l.day DESC LIMIT 1), e.num_comments) \
             FROM page JOIN daily_entries e ON e.day = page.day AND e.paper_id = page.paper_id \
             JOIN papers p ON p.rowid = page.prow \
             ORDER BY page.k DESC, page.position, page.paper_id"
        )
    };
}

/// The ranking key of [`crate::ListOrder::Upvotes`]: source + user upvotes.
macro_rules! total_upvotes {
    () => {
        "COALESCE(p.upvotes, 0) + p.user_upvotes"
    };
}

/// The submitter filter of a listing, case-insensitive like usernames (and
/// served by the `daily_entries_submitter` index).
macro_rules! by_submitter {
    () => {
        " AND e.submitter_name = ?5 COLLATE NOCASE"
    };
}

pub(crate) const SELECT_LISTED_BY_UPVOTES: &str = select_listed!(total_upvotes!(), "");
pub(crate) const SELECT_LISTED_BY_UPVOTES_OF: &str =
    select_listed!(total_upvotes!(), by_submitter!());
pub(crate) const SELECT_LISTED_BY_PUBLISHED: &str = select_listed!("p.published", "");
pub(crate) const SELECT_LISTED_BY_PUBLISHED_OF: &str =
    select_listed!("p.published", by_submitter!());

/// The column of a listed row where its counts start.
pub(crate) const LISTED_COUNTS: usize = ENTRY_COLUMN_COUNT + PAPER_COLUMN_COUNT;

pub(crate) const COUNT_LISTED: &str =
    "SELECT COUNT(*) FROM daily_entries e WHERE e.day BETWEEN ?1 AND ?2";
pub(crate) const COUNT_LISTED_OF: &str = concat!(
    "SELECT COUNT(*) FROM daily_entries e WHERE e.day BETWEEN ?1 AND ?2",
    by_submitter!()
);

/// A paper with its user upvotes and visible user comments (columns
/// [`PAPER_COLUMN_COUNT`] and on).
pub(crate) const SELECT_PAPER_WITH_COUNTS: &str = concat!(
    "SELECT ",
    paper_columns!(),
    ", user_upvotes, user_comments FROM papers WHERE id = ?1"
);

/// A paper's entries, newest day first.
pub(crate) const SELECT_ENTRIES_OF_PAPER: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM daily_entries WHERE paper_id = ?1 ORDER BY day DESC"
);

/// The papers of a reading list, most recently saved first.
pub(crate) const SELECT_SAVED: &str = concat!(
    "SELECT ",
    p_paper_columns!(),
    " FROM saved_papers s JOIN papers p ON p.id = s.paper_id \
     WHERE s.user_id = ?1 ORDER BY s.saved_at DESC, s.rowid DESC"
);

/// The user columns that [`user_from_row`] reads (of the table aliased `u`).
macro_rules! u_user_columns {
    () => {
        "u.id, u.username, u.email, u.display_name, u.is_admin, u.created_at"
    };
}

/// The number of columns of [`u_user_columns!`].
pub(crate) const USER_COLUMN_COUNT: usize = 6;

pub(crate) const SELECT_USER_BY_ID: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    " FROM users u WHERE u.id = ?1"
);
pub(crate) const SELECT_USER_BY_USERNAME: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    " FROM users u WHERE u.username = ?1"
);
/// By username (any case) or email (`?2`, lower-cased); the username wins.
pub(crate) const SELECT_USER_FOR_LOGIN: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", u.password_hash FROM users u WHERE u.username = ?1 OR u.email = ?2 \
     ORDER BY u.username = ?1 DESC LIMIT 1"
);
pub(crate) const SELECT_SESSION: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = ?1"
);
pub(crate) const SELECT_API_TOKEN_USER: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.token_hash = ?1"
);

/// The comment columns that [`comment_from_row`] reads (table aliased `c`,
/// its author `u`).
macro_rules! comment_columns {
    () => {
        "c.id, c.paper_id, c.author_id, u.username, c.parent_id, c.body, c.created_at, \
         c.edited_at, c.deleted, c.hidden"
    };
}

pub(crate) const SELECT_COMMENT: &str = concat!(
    "SELECT ",
    comment_columns!(),
    " FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = ?1"
);

/// A paper's comments: top-level ones oldest first, each followed by its
/// replies oldest first (a reply sorts by its parent's time, then after it).
pub(crate) const SELECT_COMMENTS_OF_PAPER: &str = concat!(
    "SELECT ",
    comment_columns!(),
    " FROM comments c JOIN users u ON u.id = c.author_id \
     LEFT JOIN comments parent ON parent.id = c.parent_id \
     WHERE c.paper_id = ?1 \
     ORDER BY COALESCE(parent.created_at, c.created_at), COALESCE(c.parent_id, c.id), \
     c.parent_id IS NOT NULL, c.created_at, c.id"
);

/// A count kept on a paper row (`user_upvotes`, `user_comments`) or a source
/// count read at column `index`.
pub(crate) fn count_at(
    row: &Row<'_>,
    index: usize,
    paper_id: &ArxivId,
    field: &'static str,
) -> Result<Option<u32>, StoreError> {
    Columns {
        row,
        offset: 0,
        paper_id: paper_id.as_str(),
    }
    .opt_u32(index, field)
}

/// A paper's bind values, in [`paper_columns!`] order.
pub(crate) struct PaperValues<'a> {
    paper: &'a Paper,
    id: &'a str,
    authors: String,
    categories: String,
    ai_keywords: String,
    published: Option<String>,
    updated: Option<String>,
    observed_at: Option<String>,
}

impl<'a> PaperValues<'a> {
    pub(crate) fn new(paper: &'a Paper) -> Result<PaperValues<'a>, StoreError> {
        let id = &paper.id;
        Ok(PaperValues {
            paper,
            id: id.as_str(),
            authors: encode_list(id, "authors", &paper.biblio.authors)?,
            categories: encode_list(id, "categories", &paper.biblio.categories)?,
            ai_keywords: encode_list(id, "ai_keywords", &paper.community.ai_keywords)?,
            published: paper.biblio.published.map(format_time),
            updated: paper.biblio.updated.map(format_time),
            observed_at: paper.community.observed_at.map(format_time),
        })
    }

    fn columns(&self) -> [&dyn ToSql; PAPER_COLUMN_COUNT] {
        let (b, c) = (&self.paper.biblio, &self.paper.community);
        [
            &self.id,
            &b.version,
            &b.title,
            &b.abstract_text,
            &self.authors,
            &self.categories,
            &b.primary_category,
            &self.published,
            &self.updated,
            &b.comments,
            &b.journal_ref,
            &b.doi,
            &b.license,
            &b.withdrawn,
            &self.observed_at,
            &c.upvotes,
            &c.github_repo,
            &c.github_stars,
            &c.project_page,
            &c.ai_summary,
            &self.ai_keywords,
        ]
    }

    /// Parameters of [`INSERT_PAPER`].
    pub(crate) fn insert_params<'s>(
        &'s self,
        seq: &'s i64,
        created_at: &'s &'s str,
    ) -> [&'s dyn ToSql; 23] {
        let mut params: [&dyn ToSql; 23] = [&Null; 23];
        params[..PAPER_COLUMN_COUNT].copy_from_slice(&self.columns());
        params[21] = seq;
        params[22] = created_at;
        params
    }

    /// Parameters of [`UPDATE_PAPER`].
    pub(crate) fn update_params<'s>(&'s self, seq: &'s i64) -> [&'s dyn ToSql; 22] {
        let mut params: [&dyn ToSql; 22] = [&Null; 22];
        params[..PAPER_COLUMN_COUNT].copy_from_slice(&self.columns());
        params[21] = seq;
        params
    }
}

/// A daily entry's bind values, in [`entry_columns!`] order.
pub(crate) struct EntryValues<'a> {
    entry: &'a DailyEntry,
    paper_id: &'a str,
    day: String,
    submitter_name: Option<&'a str>,
    submitter_fullname: Option<&'a str>,
    submitter_avatar: Option<&'a str>,
    submitted_at: Option<String>,
}

impl<'a> EntryValues<'a> {
    pub(crate) fn new(entry: &'a DailyEntry) -> EntryValues<'a> {
        let submitter = entry.submitter.as_ref();
        EntryValues {
            entry,
            paper_id: entry.paper_id.as_str(),
            day: format_day(entry.day),
            submitter_name: submitter.map(|s| s.name.as_str()),
            submitter_fullname: submitter.and_then(|s| s.fullname.as_deref()),
            submitter_avatar: submitter.and_then(|s| s.avatar_url.as_deref()),
            submitted_at: entry.submitted_at.map(format_time),
        }
    }

    /// Parameters of [`INSERT_ENTRY`] and [`UPDATE_ENTRY`].
    pub(crate) fn params(&self) -> [&dyn ToSql; ENTRY_COLUMN_COUNT] {
        [
            &self.paper_id,
            &self.day,
            &self.submitter_name,
            &self.submitter_fullname,
            &self.submitter_avatar,
            &self.entry.position,
            &self.submitted_at,
            &self.entry.num_comments,
        ]
    }

    /// Parameters of [`SELECT_ENTRY`].
    pub(crate) fn key(&self) -> [&dyn ToSql; 2] {
        [&self.day, &self.paper_id]
    }
}

/// Reads the columns of one stored row, naming the paper in every error.
struct Columns<'r, 's> {
    row: &'r Row<'s>,
    offset: usize,
    paper_id: &'r str,
}

impl Columns<'_, '_> {
    fn corrupt(&self, field: &'static str, message: impl ToString) -> StoreError {
        StoreError::Corrupt {
            paper_id: self.paper_id.to_string(),
            field,
            message: message.to_string(),
        }
    }

    fn get<T: FromSql>(&self, index: usize, field: &'static str) -> Result<T, StoreError> {
        self.row
            .get(self.offset + index)
            .map_err(|e| self.corrupt(field, e))
    }

    fn opt_u32(&self, index: usize, field: &'static str) -> Result<Option<u32>, StoreError> {
        self.get::<Option<i64>>(index, field)?
            .map(|n| {
                u32::try_from(n).map_err(|_| self.corrupt(field, format!("{n} is out of range")))
            })
            .transpose()
    }

    /// Text borrowed from the row (no copy), `None` for NULL.
    fn text(&self, index: usize, field: &'static str) -> Result<Option<&str>, StoreError> {
        let value = self
            .row
            .get_ref(self.offset + index)
            .map_err(|e| self.corrupt(field, e))?;
        value.as_str_or_null().map_err(|e| self.corrupt(field, e))
    }

    fn time(&self, index: usize, field: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.text(index, field)?
            .map(|text| parse_time(text).map_err(|e| self.corrupt(field, e)))
            .transpose()
    }

    fn list(&self, index: usize, field: &'static str) -> Result<Vec<String>, StoreError> {
        let text = self
            .text(index, field)?
            .ok_or_else(|| self.corrupt(field, "missing"))?;
        parse_list(text).map_err(|e| self.corrupt(field, e))
    }
}

fn read_id(row: &Row<'_>, index: usize) -> Result<ArxivId, StoreError> {
    let raw: String = row.get(index).map_err(|e| StoreError::Corrupt {
        paper_id: String::new(),
        field: "id",
        message: e.to_string(),
    })?;
    ArxivId::try_from(raw.clone()).map_err(|e| StoreError::Corrupt {
        paper_id: raw,
        field: "id",
        message: e.to_string(),
    })
}

/// Decodes the [`paper_columns!`] starting at column `offset`.
pub(crate) fn paper_from_row(row: &Row<'_>, offset: usize) -> Result<Paper, StoreError> {
    let id = read_id(row, offset)?;
    let c = Columns {
        row,
        offset,
        paper_id: id.as_str(),
    };
    let biblio = Biblio {
        version: c.opt_u32(1, "version")?,
        title: c.get(2, "title")?,
        abstract_text: c.get(3, "abstract")?,
        authors: c.list(4, "authors")?,
        categories: c.list(5, "categories")?,
        primary_category: c.get(6, "primary_category")?,
        published: c.time(7, "published")?,
        updated: c.time(8, "updated")?,
        comments: c.get(9, "comments")?,
        journal_ref: c.get(10, "journal_ref")?,
        doi: c.get(11, "doi")?,
        license: c.get(12, "license")?,
        withdrawn: c.get(13, "withdrawn")?,
    };
    let community = Community {
        observed_at: c.time(14, "observed_at")?,
        upvotes: c.opt_u32(15, "upvotes")?,
        github_repo: c.get(16, "github_repo")?,
        github_stars: c.opt_u32(17, "github_stars")?,
        project_page: c.get(18, "project_page")?,
        ai_summary: c.get(19, "ai_summary")?,
        ai_keywords: c.list(20, "ai_keywords")?,
    };
    Ok(Paper {
        id,
        biblio,
        community,
    })
}

/// Reads the columns of a stored row that is not a paper, naming its table
/// and key in every error.
pub(crate) struct RowColumns<'r, 's> {
    pub(crate) row: &'r Row<'s>,
    pub(crate) table: &'static str,
    pub(crate) key: String,
}

impl RowColumns<'_, '_> {
    pub(crate) fn corrupt(&self, field: &'static str, message: impl ToString) -> StoreError {
        StoreError::CorruptRow {
            table: self.table,
            key: self.key.clone(),
            field,
            message: message.to_string(),
        }
    }

    pub(crate) fn get<T: FromSql>(
        &self,
        index: usize,
        field: &'static str,
    ) -> Result<T, StoreError> {
        self.row.get(index).map_err(|e| self.corrupt(field, e))
    }

    pub(crate) fn opt_time(
        &self,
        index: usize,
        field: &'static str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get::<Option<String>>(index, field)?
            .map(|text| parse_time(&text).map_err(|e| self.corrupt(field, e)))
            .transpose()
    }

    pub(crate) fn time(
        &self,
        index: usize,
        field: &'static str,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(index, field)?
            .ok_or_else(|| self.corrupt(field, "missing"))
    }
}

/// Decodes the [`u_user_columns!`] starting at column `offset`.
pub(crate) fn user_from_row(row: &Row<'_>, offset: usize) -> Result<User, StoreError> {
    let id: i64 = row.get(offset).map_err(|e| StoreError::CorruptRow {
        table: "users",
        key: String::new(),
        field: "id",
        message: e.to_string(),
    })?;
    let c = RowColumns {
        row,
        table: "users",
        key: id.to_string(),
    };
    Ok(User {
        id: UserId(id),
        username: c.get(offset + 1, "username")?,
        email: c.get(offset + 2, "email")?,
        display_name: c.get(offset + 3, "display_name")?,
        is_admin: c.get(offset + 4, "is_admin")?,
        created_at: c.time(offset + 5, "created_at")?,
    })
}

/// Decodes the [`comment_columns!`] starting at column 0.
pub(crate) fn comment_from_row(row: &Row<'_>) -> Result<Comment, StoreError> {
    let id: i64 = row.get(0).map_err(|e| StoreError::CorruptRow {
        table: "comments",
        key: String::new(),
        field: "id",
        message: e.to_string(),
    })?;
    let c = RowColumns {
        row,
        table: "comments",
        key: id.to_string(),
    };
    let paper_id: String = c.get(1, "paper_id")?;
    let paper_id = ArxivId::try_from(paper_id).map_err(|e| c.corrupt("paper_id", e))?;
    Ok(Comment {
        id: CommentId(id),
        paper_id,
        author: UserId(c.get(2, "author_id")?),
        author_name: c.get(3, "username")?,
        parent: c.get::<Option<i64>>(4, "parent_id")?.map(CommentId),
        body: c.get(5, "body")?,
        created_at: c.time(6, "created_at")?,
        edited_at: c.opt_time(7, "edited_at")?,
        deleted: c.get(8, "deleted")?,
        hidden: c.get(9, "hidden")?,
    })
}

/// Decodes the [`entry_columns!`] starting at column 0.
pub(crate) fn entry_from_row(row: &Row<'_>) -> Result<DailyEntry, StoreError> {
    let paper_id = read_id(row, 0)?;
    let c = Columns {
        row,
        offset: 0,
        paper_id: paper_id.as_str(),
    };
    let day_text: String = c.get(1, "daily_entries.day")?;
    let day = parse_day(&day_text).map_err(|e| c.corrupt("daily_entries.day", e))?;
    let name: Option<String> = c.get(2, "daily_entries.submitter_name")?;
    let fullname: Option<String> = c.get(3, "daily_entries.submitter_fullname")?;
    let avatar_url: Option<String> = c.get(4, "daily_entries.submitter_avatar")?;
    let submitter = match name {
        Some(name) => Some(Submitter {
            name,
            fullname,
            avatar_url,
        }),
        None if fullname.is_none() && avatar_url.is_none() => None,
        None => {
            return Err(c.corrupt(
                "daily_entries.submitter_name",
                "missing while the submitter's other fields are set",
            ));
        }
    };
    let position = c
        .opt_u32(5, "daily_entries.position")?
        .ok_or_else(|| c.corrupt("daily_entries.position", "missing"))?;
    let entry = DailyEntry {
        submitter,
        position,
        submitted_at: c.time(6, "daily_entries.submitted_at")?,
        num_comments: c.opt_u32(7, "daily_entries.num_comments")?,
        day,
        paper_id,
    };
    Ok(entry)
}
