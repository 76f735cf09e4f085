//! How papers, entries, users and comments map to PostgreSQL rows and back:
//! the same columns as on SQLite (see `sqlite/rows.rs`), bound and read with
//! PostgreSQL's types (`BIGINT` for every count, `BOOLEAN` flags). A stored
//! value that cannot be decoded is a [`StoreError::Corrupt`], never a panic.

use chrono::{DateTime, Utc};
use paperboy_core::{
    ArxivId, Biblio, Comment, CommentId, Community, DailyEntry, Paper, Submitter, User, UserId,
};
use postgres::Row;
use postgres::types::{FromSql, ToSql};

use crate::StoreError;
use crate::codec::{encode_list, format_day, format_time, parse_day, parse_list, parse_time};

/// The paper columns in the order [`PaperValues`] binds them (`$1`..`$21`)
/// and [`paper_from_row`] reads them.
macro_rules! paper_columns {
    () => {
        "id, version, title, abstract, authors, categories, primary_category, published, \
         updated, comments, journal_ref, doi, license, withdrawn, observed_at, upvotes, \
         github_repo, github_stars, project_page, ai_summary, ai_keywords"
    };
}
pub(crate) use paper_columns;

/// [`paper_columns!`] of the table aliased `p`.
macro_rules! p_paper_columns {
    () => {
        "p.id, p.version, p.title, p.abstract, p.authors, p.categories, p.primary_category, \
         p.published, p.updated, p.comments, p.journal_ref, p.doi, p.license, p.withdrawn, \
         p.observed_at, p.upvotes, p.github_repo, p.github_stars, p.project_page, p.ai_summary, \
         p.ai_keywords"
    };
}
pub(crate) use p_paper_columns;

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
pub(crate) use entry_columns;

/// [`entry_columns!`] of the table aliased `e`.
macro_rules! e_entry_columns {
    () => {
        "e.paper_id, e.day, e.submitter_name, e.submitter_fullname, e.submitter_avatar, \
         e.position, e.submitted_at, e.num_comments"
    };
}
pub(crate) use e_entry_columns;

pub(crate) const ENTRY_COLUMN_COUNT: usize = 8;

/// The user columns that [`user_from_row`] reads (of the table aliased `u`).
macro_rules! u_user_columns {
    () => {
        "u.id, u.username, u.email, u.display_name, u.is_admin, u.created_at"
    };
}
pub(crate) use u_user_columns;

/// The number of columns of [`u_user_columns!`].
pub(crate) const USER_COLUMN_COUNT: usize = 6;

pub(crate) const SELECT_PAPER: &str =
    concat!("SELECT ", paper_columns!(), " FROM papers WHERE id = $1");

pub(crate) const INSERT_PAPER: &str = concat!(
    "INSERT INTO papers (",
    paper_columns!(),
    ", seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
     $15, $16, $17, $18, $19, $20, $21, $22, $23)"
);

pub(crate) const UPDATE_PAPER: &str = "UPDATE papers SET version = $2, title = $3, abstract = $4, \
     authors = $5, categories = $6, primary_category = $7, published = $8, updated = $9, \
     comments = $10, journal_ref = $11, doi = $12, license = $13, withdrawn = $14, \
     observed_at = $15, upvotes = $16, github_repo = $17, github_stars = $18, \
     project_page = $19, ai_summary = $20, ai_keywords = $21, seq = $22 WHERE id = $1";

/// The stored papers among the ids `$1` (a text array): one primary-key
/// lookup per id.
pub(crate) const SELECT_PAPERS_IN: &str = concat!(
    "SELECT ",
    p_paper_columns!(),
    " FROM unnest($1::text[]) AS k (id) JOIN papers p ON p.id = k.id"
);

/// The stored entries among the (day, paper id) pairs of the arrays `$1`
/// and `$2`: one primary-key lookup per pair.
pub(crate) const SELECT_ENTRIES_IN: &str = concat!(
    "SELECT ",
    e_entry_columns!(),
    " FROM unnest($1::text[], $2::text[]) AS k (day, paper_id) \
     JOIN daily_entries e ON e.day = k.day AND e.paper_id = k.paper_id"
);

pub(crate) const INSERT_ENTRY: &str = concat!(
    "INSERT INTO daily_entries (",
    entry_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);

pub(crate) const UPDATE_ENTRY: &str = "UPDATE daily_entries SET submitter_name = $3, \
     submitter_fullname = $4, submitter_avatar = $5, position = $6, submitted_at = $7, \
     num_comments = $8 WHERE paper_id = $1 AND day = $2";

/// Entries of a day joined with their papers; the paper starts at column
/// [`ENTRY_COLUMN_COUNT`]. NULL upvotes sort last in a descending order.
pub(crate) const SELECT_DAY: &str = concat!(
    "SELECT ",
    e_entry_columns!(),
    ", ",
    p_paper_columns!(),
    " FROM daily_entries e JOIN papers p ON p.id = e.paper_id \
     WHERE e.day = $1 ORDER BY p.upvotes DESC NULLS LAST, e.position ASC, e.paper_id ASC"
);

/// A count as stored: PostgreSQL has no unsigned integers.
pub(crate) fn stored_count(n: Option<u32>) -> Option<i64> {
    n.map(i64::from)
}

/// A paper's bind values, in [`paper_columns!`] order.
pub(crate) struct PaperValues<'a> {
    paper: &'a Paper,
    id: &'a str,
    version: Option<i64>,
    authors: String,
    categories: String,
    ai_keywords: String,
    published: Option<String>,
    updated: Option<String>,
    observed_at: Option<String>,
    upvotes: Option<i64>,
    github_stars: Option<i64>,
}

impl<'a> PaperValues<'a> {
    pub(crate) fn new(paper: &'a Paper) -> Result<PaperValues<'a>, StoreError> {
        let id = &paper.id;
        let (b, c) = (&paper.biblio, &paper.community);
        Ok(PaperValues {
            paper,
            id: id.as_str(),
            version: stored_count(b.version),
            authors: encode_list(id, "authors", &b.authors)?,
            categories: encode_list(id, "categories", &b.categories)?,
            ai_keywords: encode_list(id, "ai_keywords", &c.ai_keywords)?,
            published: b.published.map(format_time),
            updated: b.updated.map(format_time),
            observed_at: c.observed_at.map(format_time),
            upvotes: stored_count(c.upvotes),
            github_stars: stored_count(c.github_stars),
        })
    }

    fn columns(&self) -> [&(dyn ToSql + Sync); PAPER_COLUMN_COUNT] {
        let (b, c) = (&self.paper.biblio, &self.paper.community);
        [
            &self.id,
            &self.version,
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
            &self.upvotes,
            &c.github_repo,
            &self.github_stars,
            &c.project_page,
            &c.ai_summary,
            &self.ai_keywords,
        ]
    }

    /// Parameters of [`INSERT_PAPER`].
    pub(crate) fn insert_params<'s>(
        &'s self,
        seq: &'s i64,
        created_at: &'s String,
    ) -> Vec<&'s (dyn ToSql + Sync)> {
        let mut params = self.columns().to_vec();
        params.push(seq);
        params.push(created_at);
        params
    }

    /// Parameters of [`UPDATE_PAPER`].
    pub(crate) fn update_params<'s>(&'s self, seq: &'s i64) -> Vec<&'s (dyn ToSql + Sync)> {
        let mut params = self.columns().to_vec();
        params.push(seq);
        params
    }
}

/// A daily entry's bind values, in [`entry_columns!`] order.
pub(crate) struct EntryValues<'a> {
    paper_id: &'a str,
    day: String,
    submitter_name: Option<&'a str>,
    submitter_fullname: Option<&'a str>,
    submitter_avatar: Option<&'a str>,
    position: i64,
    submitted_at: Option<String>,
    num_comments: Option<i64>,
}

impl<'a> EntryValues<'a> {
    pub(crate) fn new(entry: &'a DailyEntry) -> EntryValues<'a> {
        let submitter = entry.submitter.as_ref();
        EntryValues {
            paper_id: entry.paper_id.as_str(),
            day: format_day(entry.day),
            submitter_name: submitter.map(|s| s.name.as_str()),
            submitter_fullname: submitter.and_then(|s| s.fullname.as_deref()),
            submitter_avatar: submitter.and_then(|s| s.avatar_url.as_deref()),
            position: i64::from(entry.position),
            submitted_at: entry.submitted_at.map(format_time),
            num_comments: stored_count(entry.num_comments),
        }
    }

    /// Parameters of [`INSERT_ENTRY`] and [`UPDATE_ENTRY`].
    pub(crate) fn params(&self) -> [&(dyn ToSql + Sync); ENTRY_COLUMN_COUNT] {
        [
            &self.paper_id,
            &self.day,
            &self.submitter_name,
            &self.submitter_fullname,
            &self.submitter_avatar,
            &self.position,
            &self.submitted_at,
            &self.num_comments,
        ]
    }
}

/// Reads the columns of one stored paper row, naming the paper in every error.
struct Columns<'r> {
    row: &'r Row,
    offset: usize,
    paper_id: &'r str,
}

impl Columns<'_> {
    fn corrupt(&self, field: &'static str, message: impl ToString) -> StoreError {
        StoreError::Corrupt {
            paper_id: self.paper_id.to_string(),
            field,
            message: message.to_string(),
        }
    }

    fn get<'a, T: FromSql<'a>>(
        &'a self,
        index: usize,
        field: &'static str,
    ) -> Result<T, StoreError> {
        self.row
            .try_get(self.offset + index)
            .map_err(|e| self.corrupt(field, e))
    }

    fn opt_u32(&self, index: usize, field: &'static str) -> Result<Option<u32>, StoreError> {
        self.get::<Option<i64>>(index, field)?
            .map(|n| {
                u32::try_from(n).map_err(|_| self.corrupt(field, format!("{n} is out of range")))
            })
            .transpose()
    }

    fn time(&self, index: usize, field: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get::<Option<&str>>(index, field)?
            .map(|text| parse_time(text).map_err(|e| self.corrupt(field, e)))
            .transpose()
    }

    fn list(&self, index: usize, field: &'static str) -> Result<Vec<String>, StoreError> {
        let text: &str = self.get(index, field)?;
        parse_list(text).map_err(|e| self.corrupt(field, e))
    }
}

fn read_id(row: &Row, index: usize) -> Result<ArxivId, StoreError> {
    let raw: String = row.try_get(index).map_err(|e| StoreError::Corrupt {
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
pub(crate) fn paper_from_row(row: &Row, offset: usize) -> Result<Paper, StoreError> {
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

/// A count kept on a paper row (`user_upvotes`, `user_comments`) or a source
/// count read at column `index`.
pub(crate) fn count_at(
    row: &Row,
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

/// Decodes the [`entry_columns!`] starting at column `offset`.
pub(crate) fn entry_from_row(row: &Row, offset: usize) -> Result<DailyEntry, StoreError> {
    let paper_id = read_id(row, offset)?;
    let c = Columns {
        row,
        offset,
        paper_id: paper_id.as_str(),
    };
    let day_text: &str = c.get(1, "daily_entries.day")?;
    let day = parse_day(day_text).map_err(|e| c.corrupt("daily_entries.day", e))?;
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
    Ok(DailyEntry {
        submitter,
        position,
        submitted_at: c.time(6, "daily_entries.submitted_at")?,
        num_comments: c.opt_u32(7, "daily_entries.num_comments")?,
        day,
        paper_id,
    })
}

/// Reads the columns of a stored row that is not a paper, naming its table
/// and key in every error.
pub(crate) struct RowColumns<'r> {
    pub(crate) row: &'r Row,
    pub(crate) table: &'static str,
    pub(crate) key: String,
}

impl RowColumns<'_> {
    pub(crate) fn corrupt(&self, field: &'static str, message: impl ToString) -> StoreError {
        StoreError::CorruptRow {
            table: self.table,
            key: self.key.clone(),
            field,
            message: message.to_string(),
        }
    }

    pub(crate) fn get<'a, T: FromSql<'a>>(
        &'a self,
        index: usize,
        field: &'static str,
    ) -> Result<T, StoreError> {
        self.row.try_get(index).map_err(|e| self.corrupt(field, e))
    }

    /// A stored count that must fit a `u32`.
    pub(crate) fn u32(&self, index: usize, field: &'static str) -> Result<u32, StoreError> {
        let n: i64 = self.get(index, field)?;
        u32::try_from(n).map_err(|_| self.corrupt(field, format!("{n} is out of range")))
    }

    pub(crate) fn opt_time(
        &self,
        index: usize,
        field: &'static str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get::<Option<&str>>(index, field)?
            .map(|text| parse_time(text).map_err(|e| self.corrupt(field, e)))
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

    pub(crate) fn list(
        &self,
        index: usize,
        field: &'static str,
    ) -> Result<Vec<String>, StoreError> {
        let text: &str = self.get(index, field)?;
        parse_list(text).map_err(|e| self.corrupt(field, e))
    }
}

/// Decodes the [`u_user_columns!`] starting at column `offset`.
pub(crate) fn user_from_row(row: &Row, offset: usize) -> Result<User, StoreError> {
    let id: i64 = row.try_get(offset).map_err(|e| StoreError::CorruptRow {
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

/// The comment columns [`comment_from_row`] reads (comments `c`, users `u`).
pub(crate) const COMMENT_COLUMNS: &str = "c.id, c.paper_id, c.author_id, u.username, \
     c.parent_id, c.body, c.created_at, c.edited_at, c.deleted, c.hidden";

/// Decodes the [`COMMENT_COLUMNS`] starting at column 0.
pub(crate) fn comment_from_row(row: &Row) -> Result<Comment, StoreError> {
    let id: i64 = row.try_get(0).map_err(|e| StoreError::CorruptRow {
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
