//! How papers and daily entries map to SQLite rows and back: column lists,
//! bind values, decoding. Nothing here decides what to write; a stored value
//! that cannot be decoded is a [`StoreError::Corrupt`], never a panic.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use paperboy_core::{ArxivId, Biblio, Community, DailyEntry, Paper, Submitter};
use rusqlite::types::{FromSql, Null};
use rusqlite::{Row, ToSql};

use crate::StoreError;

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

/// A stored timestamp: RFC 3339, UTC, milliseconds (`2025-06-10T13:04:20.120Z`).
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored curation day: `YYYY-MM-DD`.
pub(crate) fn format_day(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| format!("{text:?}: {e}"))
}

fn encode_list(
    paper_id: &ArxivId,
    field: &'static str,
    list: &[String],
) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(|source| StoreError::Encode {
        paper_id: paper_id.clone(),
        field,
        source,
    })
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

    fn time(&self, index: usize, field: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(text) = self.get::<Option<String>>(index, field)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(&text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| self.corrupt(field, format!("{text:?}: {e}")))
    }

    fn list(&self, index: usize, field: &'static str) -> Result<Vec<String>, StoreError> {
        let text: String = self.get(index, field)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(field, e))
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
