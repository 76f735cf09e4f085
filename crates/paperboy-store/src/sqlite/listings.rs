//! [`Listings`] on SQLite: pages of daily entries ranked in one query each
//! (and remembered until the change sequence moves, see
//! [`super::listing_cache`]), day navigation over the primary key of
//! `daily_entries`, and the paper page. Read-only: it never writes, and reads
//! on the reader pool.

use std::sync::Arc;

use chrono::NaiveDate;
use paperboy_core::{ArxivId, DailyEntry};
use rusqlite::types::Null;
use rusqlite::{Connection, OptionalExtension, Row, ToSql};

use super::rows::{
    self, LISTED_COUNTS, PAPER_COLUMN_COUNT, count_at, entry_from_row, format_day, paper_from_row,
    parse_day,
};
use super::{SqliteStore, read_change_seq};
use crate::{EntryQuery, ListOrder, Listed, Listings, PaperPage, StoreError};

impl Listings for SqliteStore {
    fn entries(&self, query: &EntryQuery) -> Result<Vec<Listed>, StoreError> {
        let conn = self.reader();
        let seq = read_change_seq(&conn)?;
        if let Some(listed) = self.listings.entries(seq, query) {
            return Ok(listed.as_ref().clone());
        }
        let listed = read_entries(&conn, query)?;
        drop(conn);
        self.listings
            .keep_entries(seq, query, Arc::new(listed.clone()));
        Ok(listed)
    }

    fn count_entries(&self, query: &EntryQuery) -> Result<u64, StoreError> {
        let conn = self.reader();
        let seq = read_change_seq(&conn)?;
        if let Some(count) = self.listings.count(seq, query) {
            return Ok(count);
        }
        let count = count_entries(&conn, query)?;
        drop(conn);
        self.listings.keep_count(seq, query, count);
        Ok(count)
    }

    fn day_with_entries_on_or_before(
        &self,
        day: NaiveDate,
    ) -> Result<Option<NaiveDate>, StoreError> {
        find_day(
            &self.reader(),
            "SELECT day FROM daily_entries WHERE day <= ?1 ORDER BY day DESC LIMIT 1",
            day,
        )
    }

    fn day_with_entries_after(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        find_day(
            &self.reader(),
            "SELECT day FROM daily_entries WHERE day > ?1 ORDER BY day ASC LIMIT 1",
            day,
        )
    }

    fn paper_page(&self, id: &ArxivId) -> Result<Option<PaperPage>, StoreError> {
        let err = |e| StoreError::database("read a paper page", e);
        let conn = self.reader();
        // One snapshot for the paper and its entries, even while a batch
        // commits between the two statements.
        let tx = conn.unchecked_transaction().map_err(err)?;
        let page = read_paper_page(&tx, id.as_str())?;
        tx.finish().map_err(err)?;
        Ok(page)
    }
}

impl SqliteStore {
    /// See [`crate::Store::papers_changed_since`].
    pub(super) fn read_papers_changed_since(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperPage)>, StoreError> {
        let err = |e| StoreError::database("list changed papers", e);
        let conn = self.reader();
        let tx = conn.unchecked_transaction().map_err(err)?;
        let changed: Vec<(String, i64)> = {
            let mut stmt = tx
                .prepare_cached("SELECT id, seq FROM papers WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                .map_err(err)?;
            let seq = i64::try_from(seq).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            stmt.query_map((seq, limit), |row| Ok((row.get(0)?, row.get(1)?)))
                .and_then(|rows| rows.collect::<Result<_, _>>())
                .map_err(err)?
        };
        let mut out = Vec::with_capacity(changed.len());
        for (id, seq) in changed {
            let seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                paper_id: id.clone(),
                field: "papers.seq",
                message: format!("{seq} is negative"),
            })?;
            if let Some(page) = read_paper_page(&tx, &id)? {
                out.push((seq, page));
            }
        }
        tx.finish().map_err(err)?;
        Ok(out)
    }
}

/// A paper with its entries and totals, `None` when unknown. The caller
/// holds a transaction so both statements read one snapshot.
fn read_paper_page(conn: &Connection, id: &str) -> Result<Option<PaperPage>, StoreError> {
    let err = |e| StoreError::database("read a paper page", e);
    let found = {
        let mut stmt = conn
            .prepare_cached(rows::SELECT_PAPER_WITH_COUNTS)
            .map_err(err)?;
        let mut found = stmt.query([id]).map_err(err)?;
        match found.next().map_err(err)? {
            Some(row) => {
                let paper = paper_from_row(row, 0)?;
                let user_upvotes = user_count(row, PAPER_COLUMN_COUNT, &paper.id, "user_upvotes")?;
                let user_comments =
                    user_count(row, PAPER_COLUMN_COUNT + 1, &paper.id, "user_comments")?;
                Some((paper, user_upvotes, user_comments))
            }
            None => None,
        }
    };
    let Some((paper, user_upvotes, user_comments)) = found else {
        return Ok(None);
    };
    let entries = {
        let mut stmt = conn
            .prepare_cached(rows::SELECT_ENTRIES_OF_PAPER)
            .map_err(err)?;
        let mut found = stmt.query([id]).map_err(err)?;
        let mut entries = Vec::new();
        while let Some(row) = found.next().map_err(err)? {
            entries.push(entry_from_row(row)?);
        }
        entries
    };
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

/// Reads a page of a listing (one statement).
fn read_entries(conn: &Connection, query: &EntryQuery) -> Result<Vec<Listed>, StoreError> {
    let err = |e| StoreError::database("list daily entries", e);
    let sql = match (query.order, query.submitter.is_some()) {
        (ListOrder::Upvotes, false) => rows::SELECT_LISTED_BY_UPVOTES,
        (ListOrder::Upvotes, true) => rows::SELECT_LISTED_BY_UPVOTES_OF,
        (ListOrder::Published, false) => rows::SELECT_LISTED_BY_PUBLISHED,
        (ListOrder::Published, true) => rows::SELECT_LISTED_BY_PUBLISHED_OF,
    };
    let (from, to) = (format_day(query.from), format_day(query.to));
    // SQLite's LIMIT and OFFSET are signed; anything beyond is "all".
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let params: [&dyn ToSql; 5] = [&from, &to, &limit, &offset, &query.submitter];
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let n = stmt.parameter_count();
    let mut found = stmt.query(&params[..n]).map_err(err)?;
    let mut out = Vec::with_capacity(usize::try_from(query.limit.min(200)).unwrap_or(0));
    while let Some(row) = found.next().map_err(err)? {
        out.push(listed_from_row(row)?);
    }
    Ok(out)
}

/// Counts what a listing holds.
fn count_entries(conn: &Connection, query: &EntryQuery) -> Result<u64, StoreError> {
    let (from, to) = (format_day(query.from), format_day(query.to));
    let found: i64 = match &query.submitter {
        None => conn
            .prepare_cached(rows::COUNT_LISTED)
            .and_then(|mut stmt| stmt.query_row((&from, &to), |row| row.get(0))),
        // `?5` as in the listing's filter; `?3` and `?4` are unused.
        Some(submitter) => conn
            .prepare_cached(rows::COUNT_LISTED_OF)
            .and_then(|mut stmt| {
                let params: [&dyn ToSql; 5] = [&from, &to, &Null, &Null, submitter];
                stmt.query_row(&params[..], |row| row.get(0))
            }),
    }
    .map_err(|e| StoreError::database("count daily entries", e))?;
    Ok(u64::try_from(found).unwrap_or(0))
}

/// One row of a `SELECT_LISTED_*` query.
fn listed_from_row(row: &Row<'_>) -> Result<Listed, StoreError> {
    let entry: DailyEntry = entry_from_row(row)?;
    let paper = paper_from_row(row, rows::ENTRY_COLUMN_COUNT)?;
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
    row: &Row<'_>,
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

fn find_day(conn: &Connection, sql: &str, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
    let found: Option<String> = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_row([format_day(day)], |row| row.get(0))
                .optional()
        })
        .map_err(|e| StoreError::database("find a day with entries", e))?;
    found
        .map(|text| {
            parse_day(&text).map_err(|message| StoreError::Corrupt {
                paper_id: String::new(),
                field: "daily_entries.day",
                message,
            })
        })
        .transpose()
}
