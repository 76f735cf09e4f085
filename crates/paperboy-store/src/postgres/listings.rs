//! [`Listings`] on PostgreSQL: a page of daily entries ranked in one
//! statement, day navigation over the primary key of `daily_entries`, and
//! the paper page. Read-only.
//!
//! Unlike SQLite's, listings are not cached here: a listing is one round
//! trip, and a cache of one node would have to follow the changes of the
//! others.

use chrono::NaiveDate;
use paperboy_core::ArxivId;
use postgres::{GenericClient, Row};

use super::rows::{
    ENTRY_COLUMN_COUNT, PAPER_COLUMN_COUNT, count_at, e_entry_columns, entry_columns,
    entry_from_row, p_paper_columns, paper_columns, paper_from_row,
};
use super::{Db, PgStore};
use crate::codec::{format_day, parse_day};
use crate::{EntryQuery, ListOrder, Listed, Listings, PaperPage, StoreError};

/// A page of listed entries: the entry ([`ENTRY_COLUMN_COUNT`] columns), its
/// paper, then the paper's user upvotes, visible user comments and the
/// source comment count of its latest entry ([`LISTED_COUNTS`] on).
///
/// `$key` ranks (descending, NULLs last as on SQLite; ties by position, then
/// id); `$filter` narrows the days `$1..=$2` (`$5`: a submitter); `$3`/`$4`
/// are limit and offset. The page is picked on narrow rows first (a sort of
/// whole papers costs more than reading the few shown again), then only the
/// papers shown are read, by id. The latest entry is nearly always the
/// listed one, so its comment count is looked up only among later days.
macro_rules! select_listed {
    ($key:expr, $filter:expr) => {
        concat!(
            "WITH page AS MATERIALIZED (SELECT e.day, e.paper_id, e.position, ",
            $key,
            " AS k FROM daily_entries e JOIN papers p ON p.id = e.paper_id \
             WHERE e.day BETWEEN $1 AND $2",
            $filter,
            " ORDER BY k DESC NULLS LAST, e.position, e.paper_id LIMIT $3 OFFSET $4) SELECT ",
            e_entry_columns!(),
            ", ",
            p_paper_columns!(),
            ", p.user_upvotes, p.user_comments, COALESCE((SELECT COALESCE(l.num_comments, 0) \
             FROM daily_entries l WHERE l.paper_id = e.paper_id AND l.day > e.day \
             ORDER BY l.day DESC LIMIT 1), e.num_comments) \
             FROM page JOIN daily_entries e ON e.day = page.day AND e.paper_id = page.paper_id \
             JOIN papers p ON p.id = page.paper_id \
             ORDER BY page.k DESC NULLS LAST, page.position, page.paper_id"
        )
    };
}

/// The ranking key of [`ListOrder::Upvotes`]: source + user upvotes.
macro_rules! total_upvotes {
    () => {
        "COALESCE(p.upvotes, 0) + p.user_upvotes"
    };
}

/// The submitter filter of a listing, case-insensitive like usernames (and
/// served by the `daily_entries_submitter` index on `lower(submitter_name),
/// day`). `$n` is the parameter holding the name, lowered in the column's "C"
/// collation (ASCII letters only, as SQLite's NOCASE): in the database's
/// locale `lower` would also fold letters the column's `lower` keeps.
macro_rules! by_submitter {
    ($n:literal) => {
        concat!(
            " AND lower(e.submitter_name) = lower($",
            $n,
            "::text COLLATE \"C\")"
        )
    };
}

const SELECT_LISTED_BY_UPVOTES: &str = select_listed!(total_upvotes!(), "");
const SELECT_LISTED_BY_UPVOTES_OF: &str = select_listed!(total_upvotes!(), by_submitter!("5"));
const SELECT_LISTED_BY_PUBLISHED: &str = select_listed!("p.published", "");
const SELECT_LISTED_BY_PUBLISHED_OF: &str = select_listed!("p.published", by_submitter!("5"));

/// The column of a listed row where its counts start.
const LISTED_COUNTS: usize = ENTRY_COLUMN_COUNT + PAPER_COLUMN_COUNT;

const COUNT_LISTED: &str = "SELECT COUNT(*) FROM daily_entries e WHERE e.day BETWEEN $1 AND $2";
/// PostgreSQL must know the type of every parameter it is given, so the
/// submitter is `$3` here (SQLite's `?5` with two unused ones).
const COUNT_LISTED_OF: &str = concat!(
    "SELECT COUNT(*) FROM daily_entries e WHERE e.day BETWEEN $1 AND $2",
    by_submitter!("3")
);

/// A paper with its user upvotes and visible user comments (columns
/// [`PAPER_COLUMN_COUNT`] and on).
const SELECT_PAPER_WITH_COUNTS: &str = concat!(
    "SELECT ",
    paper_columns!(),
    ", user_upvotes, user_comments FROM papers WHERE id = $1"
);

/// A paper's entries, newest day first.
const SELECT_ENTRIES_OF_PAPER: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM daily_entries WHERE paper_id = $1 ORDER BY day DESC"
);

impl Listings for PgStore {
    fn entries(&self, query: &EntryQuery) -> Result<Vec<Listed>, StoreError> {
        let operation = "list daily entries";
        let sql = match (query.order, query.submitter.is_some()) {
            (ListOrder::Upvotes, false) => SELECT_LISTED_BY_UPVOTES,
            (ListOrder::Upvotes, true) => SELECT_LISTED_BY_UPVOTES_OF,
            (ListOrder::Published, false) => SELECT_LISTED_BY_PUBLISHED,
            (ListOrder::Published, true) => SELECT_LISTED_BY_PUBLISHED_OF,
        };
        let (from, to) = (format_day(query.from), format_day(query.to));
        // LIMIT and OFFSET are BIGINT; anything beyond is "all".
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let found = self.read(|db| match &query.submitter {
            None => db.query(operation, sql, &[&from, &to, &limit, &offset]),
            Some(submitter) => db.query(operation, sql, &[&from, &to, &limit, &offset, submitter]),
        })?;
        found.iter().map(listed_from_row).collect()
    }

    fn count_entries(&self, query: &EntryQuery) -> Result<u64, StoreError> {
        let operation = "count daily entries";
        let (from, to) = (format_day(query.from), format_day(query.to));
        let found: i64 = self.read(|db| match &query.submitter {
            None => db.value(operation, COUNT_LISTED, &[&from, &to]),
            Some(submitter) => db.value(operation, COUNT_LISTED_OF, &[&from, &to, submitter]),
        })?;
        Ok(u64::try_from(found).unwrap_or(0))
    }

    fn day_with_entries_on_or_before(
        &self,
        day: NaiveDate,
    ) -> Result<Option<NaiveDate>, StoreError> {
        self.find_day(
            "SELECT day FROM daily_entries WHERE day <= $1 ORDER BY day DESC LIMIT 1",
            day,
        )
    }

    fn day_with_entries_after(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        self.find_day(
            "SELECT day FROM daily_entries WHERE day > $1 ORDER BY day ASC LIMIT 1",
            day,
        )
    }

    fn paper_page(&self, id: &ArxivId) -> Result<Option<PaperPage>, StoreError> {
        // One snapshot for the paper and its entries, even while a batch
        // commits between the two statements.
        self.read_snapshot("read a paper page", |db| read_paper_page(db, id.as_str()))
    }
}

impl PgStore {
    /// See [`crate::Store::papers_changed_since`]. The changed ids and their
    /// pages come from one snapshot, so each page shows the change its number
    /// names (or nothing newer than the next one listed).
    pub(super) fn read_papers_changed_since(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperPage)>, StoreError> {
        let operation = "list changed papers";
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_snapshot(operation, |db| {
            let changed = db.query(
                operation,
                "SELECT id, seq FROM papers WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&seq, &limit],
            )?;
            let mut out = Vec::with_capacity(changed.len());
            for row in changed {
                let err = |e| StoreError::database(operation, e);
                let id: &str = row.try_get(0).map_err(err)?;
                let seq: i64 = row.try_get(1).map_err(err)?;
                let seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                    paper_id: id.to_owned(),
                    field: "papers.seq",
                    message: format!("{seq} is negative"),
                })?;
                if let Some(page) = read_paper_page(db, id)? {
                    out.push((seq, page));
                }
            }
            Ok(out)
        })
    }

    fn find_day(&self, sql: &'static str, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        let operation = "find a day with entries";
        let found = self.read(|db| db.query_opt(operation, sql, &[&format_day(day)]))?;
        let Some(row) = found else {
            return Ok(None);
        };
        let text: &str = row
            .try_get(0)
            .map_err(|e| StoreError::database(operation, e))?;
        parse_day(text)
            .map(Some)
            .map_err(|message| StoreError::Corrupt {
                paper_id: String::new(),
                field: "daily_entries.day",
                message,
            })
    }
}

/// A paper with its entries and totals, `None` when unknown. The caller
/// holds a snapshot so both statements read the same state.
fn read_paper_page(
    db: &mut Db<'_, impl GenericClient>,
    id: &str,
) -> Result<Option<PaperPage>, StoreError> {
    let operation = "read a paper page";
    let Some(row) = db.query_opt(operation, SELECT_PAPER_WITH_COUNTS, &[&id])? else {
        return Ok(None);
    };
    let paper = paper_from_row(&row, 0)?;
    let user_upvotes = user_count(&row, PAPER_COLUMN_COUNT, &paper.id, "user_upvotes")?;
    let user_comments = user_count(&row, PAPER_COLUMN_COUNT + 1, &paper.id, "user_comments")?;
    let entries = db
        .query(operation, SELECT_ENTRIES_OF_PAPER, &[&id])?
        .iter()
        .map(|row| entry_from_row(row, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let source_comments = entries.first().and_then(|entry| entry.num_comments);
    Ok(Some(PaperPage {
        upvotes: paper
            .community
            .upvotes
            .unwrap_or(0)
            .saturating_add(user_upvotes),
        comments: source_comments.unwrap_or(0).saturating_add(user_comments),
        paper,
        entries,
    }))
}

/// One row of a `SELECT_LISTED_*` query.
fn listed_from_row(row: &Row) -> Result<Listed, StoreError> {
    let entry = entry_from_row(row, 0)?;
    let paper = paper_from_row(row, ENTRY_COLUMN_COUNT)?;
    let user_upvotes = user_count(row, LISTED_COUNTS, &paper.id, "user_upvotes")?;
    let user_comments = user_count(row, LISTED_COUNTS + 1, &paper.id, "user_comments")?;
    let source_comments = count_at(
        row,
        LISTED_COUNTS + 2,
        &paper.id,
        "daily_entries.num_comments",
    )?;
    Ok(Listed {
        upvotes: paper
            .community
            .upvotes
            .unwrap_or(0)
            .saturating_add(user_upvotes),
        comments: source_comments.unwrap_or(0).saturating_add(user_comments),
        entry,
        paper,
    })
}

/// A count the store keeps on the paper row; never NULL.
fn user_count(
    row: &Row,
    index: usize,
    paper_id: &ArxivId,
    field: &'static str,
) -> Result<u32, StoreError> {
    count_at(row, index, paper_id, field)?.ok_or_else(|| StoreError::Corrupt {
        paper_id: paper_id.to_string(),
        field,
        message: "missing".into(),
    })
}
