//! [`Participation`] on SQLite: upvotes, comments, reading lists and
//! submissions. Each change is one write transaction that also keeps the
//! paper's counts (`user_upvotes`, `user_comments`) and change sequence in
//! step, so counts are exact however many users act at once. It never
//! decides who may act beyond authorship: roles are the caller's business.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use paperboy_core::{ArxivId, Comment, CommentId, DailyEntry, Paper, Submitter, User, UserId};
use rusqlite::{Connection, OptionalExtension};

use super::rows::{
    self, EntryValues, comment_from_row, format_day, format_time, paper_from_row, parse_day,
};
use super::{SqliteStore, mark_paper_changed, require_paper};
use crate::{Participation, StoreError, UpvoteState};

impl Participation for SqliteStore {
    fn set_upvote(
        &self,
        user: UserId,
        paper: &ArxivId,
        upvoted: bool,
    ) -> Result<UpvoteState, StoreError> {
        self.write("save an upvote", |tx| {
            let err = |e| StoreError::database("save an upvote", e);
            require_paper(tx, paper)?;
            require_user(tx, user)?;
            let changed = if upvoted {
                tx.prepare_cached(
                    "INSERT INTO upvotes (user_id, paper_id, created_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO NOTHING",
                )
                .and_then(|mut stmt| {
                    stmt.execute((user.0, paper.as_str(), format_time(Utc::now())))
                })
            } else {
                tx.prepare_cached("DELETE FROM upvotes WHERE user_id = ?1 AND paper_id = ?2")
                    .and_then(|mut stmt| stmt.execute((user.0, paper.as_str())))
            }
            .map_err(err)?;
            if changed > 0 {
                let delta: i64 = if upvoted { 1 } else { -1 };
                tx.prepare_cached(
                    "UPDATE papers SET user_upvotes = user_upvotes + ?2 WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute((paper.as_str(), delta)))
                .map_err(err)?;
                mark_paper_changed(tx, paper)?;
            }
            let (source, users): (Option<i64>, i64) = tx
                .prepare_cached("SELECT upvotes, user_upvotes FROM papers WHERE id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_row([paper.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
                })
                .map_err(err)?;
            Ok(UpvoteState {
                upvoted,
                upvotes: total(paper, source, users)?,
            })
        })
    }

    fn upvoted_among(&self, user: UserId, papers: &[ArxivId]) -> Result<Vec<ArxivId>, StoreError> {
        if papers.is_empty() {
            return Ok(Vec::new());
        }
        let err = |e| StoreError::database("look up upvotes", e);
        let ids: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
        // One statement for any number of ids: they travel as a JSON array.
        let ids =
            serde_json::to_string(&ids).map_err(|e| StoreError::database("look up upvotes", e))?;
        let upvoted: HashSet<String> = self
            .reader()
            .prepare_cached(
                "SELECT paper_id FROM upvotes \
                 WHERE user_id = ?1 AND paper_id IN (SELECT value FROM json_each(?2))",
            )
            .and_then(|mut stmt| stmt.query_map((user.0, &ids), |row| row.get(0))?.collect())
            .map_err(err)?;
        let mut seen = HashSet::new();
        Ok(papers
            .iter()
            .filter(|id| upvoted.contains(id.as_str()) && seen.insert(id.as_str()))
            .cloned()
            .collect())
    }

    fn add_comment(
        &self,
        paper: &ArxivId,
        author: UserId,
        parent: Option<CommentId>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment, StoreError> {
        let created_at = now.trunc_subsecs(3);
        self.write("add a comment", |tx| {
            let err = |e| StoreError::database("add a comment", e);
            require_paper(tx, paper)?;
            let author_name = require_user(tx, author)?;
            if let Some(parent) = parent {
                let found = load_comment(tx, parent)?;
                let Some(found) = found.filter(|c| c.paper_id == *paper) else {
                    return Err(StoreError::CommentNotFound { id: parent.0 });
                };
                if found.parent.is_some() {
                    return Err(StoreError::ReplyToReply { parent: parent.0 });
                }
                if found.deleted {
                    return Err(StoreError::NotAllowed {
                        reason: "a deleted comment cannot be answered",
                    });
                }
            }
            tx.prepare_cached(
                "INSERT INTO comments (paper_id, author_id, parent_id, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    paper.as_str(),
                    author.0,
                    parent.map(|p| p.0),
                    body,
                    format_time(created_at),
                ))
            })
            .map_err(err)?;
            let id = CommentId(tx.last_insert_rowid());
            comments_changed(tx, paper)?;
            Ok(Comment {
                id,
                paper_id: paper.clone(),
                author,
                author_name,
                parent,
                body: body.to_string(),
                created_at,
                edited_at: None,
                deleted: false,
                hidden: false,
            })
        })
    }

    fn edit_comment(
        &self,
        id: CommentId,
        author: UserId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment, StoreError> {
        let edited_at = now.trunc_subsecs(3);
        self.write("edit a comment", |tx| {
            let mut comment = own_comment(tx, id, author, "only its author can edit a comment")?;
            if comment.deleted {
                return Err(StoreError::NotAllowed {
                    reason: "a deleted comment cannot be edited",
                });
            }
            tx.prepare_cached("UPDATE comments SET body = ?2, edited_at = ?3 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute((id.0, body, format_time(edited_at))))
                .map_err(|e| StoreError::database("edit a comment", e))?;
            mark_paper_changed(tx, &comment.paper_id)?;
            comment.body = body.to_string();
            comment.edited_at = Some(edited_at);
            Ok(comment)
        })
    }

    fn delete_comment(&self, id: CommentId, author: UserId) -> Result<(), StoreError> {
        self.write("delete a comment", |tx| {
            let err = |e| StoreError::database("delete a comment", e);
            let comment = own_comment(tx, id, author, "only its author can delete a comment")?;
            if has_replies(tx, id)? {
                // Its replies hang on it: keep it, as "deleted", without its text.
                tx.prepare_cached("UPDATE comments SET deleted = 1, body = '' WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute([id.0]))
                    .map_err(err)?;
            } else {
                hard_delete(tx, id)?;
                // The last reply of a deleted comment takes the comment along.
                if let Some(parent) = comment.parent {
                    let parent_deleted = load_comment(tx, parent)?.is_some_and(|p| p.deleted);
                    if parent_deleted && !has_replies(tx, parent)? {
                        hard_delete(tx, parent)?;
                    }
                }
            }
            comments_changed(tx, &comment.paper_id)
        })
    }

    fn set_comment_hidden(&self, id: CommentId, hidden: bool) -> Result<(), StoreError> {
        self.write("hide a comment", |tx| {
            let comment = load_comment(tx, id)?.ok_or(StoreError::CommentNotFound { id: id.0 })?;
            if comment.hidden == hidden {
                return Ok(());
            }
            tx.prepare_cached("UPDATE comments SET hidden = ?2 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute((id.0, hidden)))
                .map_err(|e| StoreError::database("hide a comment", e))?;
            comments_changed(tx, &comment.paper_id)
        })
    }

    fn comments(&self, paper: &ArxivId) -> Result<Vec<Comment>, StoreError> {
        let err = |e| StoreError::database("read the comments of a paper", e);
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(rows::SELECT_COMMENTS_OF_PAPER)
            .map_err(err)?;
        let mut found = stmt.query([paper.as_str()]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = found.next().map_err(err)? {
            out.push(comment_from_row(row)?);
        }
        Ok(out)
    }

    fn set_saved(
        &self,
        user: UserId,
        paper: &ArxivId,
        saved: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("save a paper to a reading list", |tx| {
            let err = |e| StoreError::database("save a paper to a reading list", e);
            if saved {
                require_paper(tx, paper)?;
                require_user(tx, user)?;
                // Saving again keeps the first time it was saved.
                tx.prepare_cached(
                    "INSERT INTO saved_papers (user_id, paper_id, saved_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO NOTHING",
                )
                .and_then(|mut stmt| stmt.execute((user.0, paper.as_str(), format_time(now))))
                .map_err(err)?;
            } else {
                tx.prepare_cached("DELETE FROM saved_papers WHERE user_id = ?1 AND paper_id = ?2")
                    .and_then(|mut stmt| stmt.execute((user.0, paper.as_str())))
                    .map_err(err)?;
            }
            Ok(())
        })
    }

    fn saved_papers(&self, user: UserId) -> Result<Vec<Paper>, StoreError> {
        let err = |e| StoreError::database("read a reading list", e);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(rows::SELECT_SAVED).map_err(err)?;
        let mut found = stmt.query([user.0]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = found.next().map_err(err)? {
            out.push(paper_from_row(row, 0)?);
        }
        Ok(out)
    }

    fn submit(
        &self,
        paper: &ArxivId,
        day: NaiveDate,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<DailyEntry, StoreError> {
        self.write("submit a paper", |tx| {
            let err = |e| StoreError::database("submit a paper", e);
            require_paper(tx, paper)?;
            let listed: Option<String> = tx
                .prepare_cached(
                    "SELECT day FROM daily_entries WHERE paper_id = ?1 ORDER BY day DESC LIMIT 1",
                )
                .and_then(|mut stmt| {
                    stmt.query_row([paper.as_str()], |row| row.get(0))
                        .optional()
                })
                .map_err(err)?;
            if let Some(listed) = listed {
                let listed = parse_day(&listed).map_err(|message| StoreError::Corrupt {
                    paper_id: paper.to_string(),
                    field: "daily_entries.day",
                    message,
                })?;
                return Err(StoreError::AlreadyListed {
                    id: paper.clone(),
                    day: listed,
                });
            }
            let next: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM daily_entries WHERE day = ?1",
                )
                .and_then(|mut stmt| stmt.query_row([format_day(day)], |row| row.get(0)))
                .map_err(err)?;
            let position = u32::try_from(next).map_err(|_| StoreError::Corrupt {
                paper_id: paper.to_string(),
                field: "daily_entries.position",
                message: format!("the list of {day} ends at position {next}"),
            })?;
            let entry = DailyEntry {
                paper_id: paper.clone(),
                day,
                submitter: Some(Submitter {
                    name: user.username.clone(),
                    fullname: Some(user.display_name.clone()).filter(|name| !name.is_empty()),
                    avatar_url: None,
                }),
                position,
                submitted_at: Some(now.trunc_subsecs(3)),
                num_comments: None,
            };
            let values = EntryValues::new(&entry);
            tx.prepare_cached(rows::INSERT_ENTRY)
                .and_then(|mut stmt| stmt.execute(values.params()))
                .map_err(err)?;
            mark_paper_changed(tx, paper)?;
            Ok(entry)
        })
    }
}

/// Source + user upvotes, as shown.
fn total(paper: &ArxivId, source: Option<i64>, users: i64) -> Result<u32, StoreError> {
    let corrupt = |field: &'static str, n: i64| StoreError::Corrupt {
        paper_id: paper.to_string(),
        field,
        message: format!("{n} is out of range"),
    };
    let source = source.unwrap_or(0);
    let source = u32::try_from(source).map_err(|_| corrupt("upvotes", source))?;
    let users = u32::try_from(users).map_err(|_| corrupt("user_upvotes", users))?;
    Ok(source.saturating_add(users))
}

/// The username of `user`; acting as a user the store does not know is not
/// allowed.
fn require_user(conn: &Connection, user: UserId) -> Result<String, StoreError> {
    conn.prepare_cached("SELECT username FROM users WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([user.0], |row| row.get(0)).optional())
        .map_err(|e| StoreError::database("look up a user", e))?
        .ok_or(StoreError::NotAllowed {
            reason: "the user does not exist",
        })
}

fn load_comment(conn: &Connection, id: CommentId) -> Result<Option<Comment>, StoreError> {
    let err = |e| StoreError::database("read a comment", e);
    let mut stmt = conn.prepare_cached(rows::SELECT_COMMENT).map_err(err)?;
    let mut found = stmt.query([id.0]).map_err(err)?;
    match found.next().map_err(err)? {
        Some(row) => comment_from_row(row).map(Some),
        None => Ok(None),
    }
}

/// The comment `id` if `author` wrote it: `CommentNotFound`, or `NotAllowed`
/// with `reason`.
fn own_comment(
    conn: &Connection,
    id: CommentId,
    author: UserId,
    reason: &'static str,
) -> Result<Comment, StoreError> {
    let comment = load_comment(conn, id)?.ok_or(StoreError::CommentNotFound { id: id.0 })?;
    if comment.author == author {
        Ok(comment)
    } else {
        Err(StoreError::NotAllowed { reason })
    }
}

fn has_replies(conn: &Connection, id: CommentId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM comments WHERE parent_id = ?1 LIMIT 1")
        .and_then(|mut stmt| stmt.exists([id.0]))
        .map_err(|e| StoreError::database("look for replies", e))
}

fn hard_delete(conn: &Connection, id: CommentId) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM comments WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([id.0]))
        .map(drop)
        .map_err(|e| StoreError::database("delete a comment", e))
}

/// Recounts the paper's visible comments (a handful of index entries, and
/// exact whatever changed) and marks the paper changed.
fn comments_changed(conn: &Connection, paper: &ArxivId) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE papers SET user_comments = (SELECT COUNT(*) FROM comments \
         WHERE paper_id = ?1 AND deleted = 0 AND hidden = 0) WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute([paper.as_str()]))
    .map_err(|e| StoreError::database("count a paper's comments", e))?;
    mark_paper_changed(conn, paper)
}
