//! [`Participation`] on PostgreSQL: upvotes, comments, reading lists and
//! submissions. Each change to a paper is one [`PgStore::write_changes`]
//! transaction that also keeps the paper's counts (`user_upvotes`,
//! `user_comments`) and change sequence in step: those transactions run one
//! after another across all nodes (they lock the change sequence first), so
//! counts are exact however many users act at once, and a check made inside
//! one (a parent comment exists, a paper is not listed yet, the next position
//! of a day) still holds when it writes. Reading lists change no paper; they
//! rely on their primary key. It never decides who may act beyond
//! authorship: roles are the caller's business.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use paperboy_core::{ArxivId, Comment, CommentId, DailyEntry, Paper, Submitter, User, UserId};
use postgres::{GenericClient, Transaction};

use super::rows::{
    self, COMMENT_COLUMNS, EntryValues, comment_from_row, p_paper_columns, paper_from_row,
};
use super::{ChangeSeq, Db, PgStore, mark_paper_changed, require_paper};
use crate::codec::{format_day, format_time, parse_day};
use crate::{Participation, StoreError, UpvoteState};

/// One comment with its author's name.
static SELECT_COMMENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id \
         WHERE c.id = $1"
    )
});

/// A paper's comments: top-level ones oldest first, each followed by its
/// replies oldest first (a reply sorts by its parent's time, then after it;
/// `false` sorts before `true`, as SQLite's 0 before 1).
static SELECT_COMMENTS_OF_PAPER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id \
         LEFT JOIN comments parent ON parent.id = c.parent_id \
         WHERE c.paper_id = $1 \
         ORDER BY COALESCE(parent.created_at, c.created_at), COALESCE(c.parent_id, c.id), \
         c.parent_id IS NOT NULL, c.created_at, c.id"
    )
});

/// A reading list, most recently saved first; `n` (the order of saving)
/// breaks ties within a millisecond, as SQLite's rowid does.
const SELECT_SAVED: &str = concat!(
    "SELECT ",
    p_paper_columns!(),
    " FROM saved_papers s JOIN papers p ON p.id = s.paper_id \
     WHERE s.user_id = $1 ORDER BY s.saved_at DESC, s.n DESC"
);

impl Participation for PgStore {
    fn set_upvote(
        &self,
        user: UserId,
        paper: &ArxivId,
        upvoted: bool,
    ) -> Result<UpvoteState, StoreError> {
        const OP: &str = "save an upvote";
        self.write_changes(OP, |db, seq| {
            require_paper(db, paper)?;
            require_user(db, user)?;
            let changed = if upvoted {
                db.execute(
                    OP,
                    "INSERT INTO upvotes (user_id, paper_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&user.0, &paper.as_str(), &format_time(Utc::now())],
                )?
            } else {
                db.execute(
                    OP,
                    "DELETE FROM upvotes WHERE user_id = $1 AND paper_id = $2",
                    &[&user.0, &paper.as_str()],
                )?
            };
            let row = if changed > 0 {
                // In the same transaction as the vote itself, and never read
                // back into Rust first: the count is the table's.
                let delta: i64 = if upvoted { 1 } else { -1 };
                let row = db.query_one(
                    OP,
                    "UPDATE papers SET user_upvotes = user_upvotes + $2 WHERE id = $1 \
                     RETURNING upvotes, user_upvotes",
                    &[&paper.as_str(), &delta],
                )?;
                mark_paper_changed(db, seq, paper)?;
                row
            } else {
                db.query_one(
                    OP,
                    "SELECT upvotes, user_upvotes FROM papers WHERE id = $1",
                    &[&paper.as_str()],
                )?
            };
            let err = |e| StoreError::database(OP, e);
            let source: Option<i64> = row.try_get(0).map_err(err)?;
            let users: i64 = row.try_get(1).map_err(err)?;
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
        // One statement for any number of ids: they travel as one array.
        let ids: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
        let found = self.read(|db| {
            db.query(
                "look up upvotes",
                "SELECT paper_id FROM upvotes WHERE user_id = $1 AND paper_id = ANY($2)",
                &[&user.0, &ids],
            )
        })?;
        let upvoted: HashSet<String> = found
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::database("look up upvotes", e))?;
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
        self.write_changes("add a comment", |db, seq| {
            require_paper(db, paper)?;
            let author_name = require_user(db, author)?;
            if let Some(parent) = parent {
                let found = load_comment(db, parent)?;
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
            let id: i64 = db.value(
                "add a comment",
                "INSERT INTO comments (paper_id, author_id, parent_id, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &paper.as_str(),
                    &author.0,
                    &parent.map(|p| p.0),
                    &body,
                    &format_time(created_at),
                ],
            )?;
            comments_changed(db, seq, paper)?;
            Ok(Comment {
                id: CommentId(id),
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
        self.write_changes("edit a comment", |db, seq| {
            let mut comment = own_comment(db, id, author, "only its author can edit a comment")?;
            if comment.deleted {
                return Err(StoreError::NotAllowed {
                    reason: "a deleted comment cannot be edited",
                });
            }
            db.execute(
                "edit a comment",
                "UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1",
                &[&id.0, &body, &format_time(edited_at)],
            )?;
            mark_paper_changed(db, seq, &comment.paper_id)?;
            comment.body = body.to_string();
            comment.edited_at = Some(edited_at);
            Ok(comment)
        })
    }

    fn delete_comment(&self, id: CommentId, author: UserId) -> Result<(), StoreError> {
        self.write_changes("delete a comment", |db, seq| {
            let comment = own_comment(db, id, author, "only its author can delete a comment")?;
            if has_replies(db, id)? {
                // Its replies hang on it: keep it, as "deleted", without its text.
                db.execute(
                    "delete a comment",
                    "UPDATE comments SET deleted = true, body = '' WHERE id = $1",
                    &[&id.0],
                )?;
            } else {
                hard_delete(db, id)?;
                // The last reply of a deleted comment takes the comment along.
                if let Some(parent) = comment.parent {
                    let parent_deleted = load_comment(db, parent)?.is_some_and(|p| p.deleted);
                    if parent_deleted && !has_replies(db, parent)? {
                        hard_delete(db, parent)?;
                    }
                }
            }
            comments_changed(db, seq, &comment.paper_id)
        })
    }

    fn set_comment_hidden(&self, id: CommentId, hidden: bool) -> Result<(), StoreError> {
        self.write_changes("hide a comment", |db, seq| {
            let comment = load_comment(db, id)?.ok_or(StoreError::CommentNotFound { id: id.0 })?;
            if comment.hidden == hidden {
                return Ok(());
            }
            db.execute(
                "hide a comment",
                "UPDATE comments SET hidden = $2 WHERE id = $1",
                &[&id.0, &hidden],
            )?;
            comments_changed(db, seq, &comment.paper_id)
        })
    }

    fn comments(&self, paper: &ArxivId) -> Result<Vec<Comment>, StoreError> {
        self.read(|db| {
            db.query(
                "read the comments of a paper",
                SELECT_COMMENTS_OF_PAPER.as_str(),
                &[&paper.as_str()],
            )?
            .iter()
            .map(comment_from_row)
            .collect()
        })
    }

    fn set_saved(
        &self,
        user: UserId,
        paper: &ArxivId,
        saved: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OP: &str = "save a paper to a reading list";
        self.write(OP, |db| {
            if saved {
                require_paper(db, paper)?;
                require_user(db, user)?;
                // Saving again keeps the first time it was saved (also when
                // two nodes save it at once: the primary key decides).
                db.execute(
                    OP,
                    "INSERT INTO saved_papers (user_id, paper_id, saved_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&user.0, &paper.as_str(), &format_time(now)],
                )?;
            } else {
                db.execute(
                    OP,
                    "DELETE FROM saved_papers WHERE user_id = $1 AND paper_id = $2",
                    &[&user.0, &paper.as_str()],
                )?;
            }
            Ok(())
        })
    }

    fn saved_papers(&self, user: UserId) -> Result<Vec<Paper>, StoreError> {
        self.read(|db| {
            db.query("read a reading list", SELECT_SAVED, &[&user.0])?
                .iter()
                .map(|row| paper_from_row(row, 0))
                .collect()
        })
    }

    fn submit(
        &self,
        paper: &ArxivId,
        day: NaiveDate,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<DailyEntry, StoreError> {
        const OP: &str = "submit a paper";
        self.write_changes(OP, |db, seq| {
            require_paper(db, paper)?;
            // Entries are written only by change transactions (imports and
            // submissions), which run one at a time: what this reads holds
            // until it commits.
            let listed: Option<String> = db
                .query_opt(
                    OP,
                    "SELECT day FROM daily_entries WHERE paper_id = $1 ORDER BY day DESC LIMIT 1",
                    &[&paper.as_str()],
                )?
                .map(|row| row.try_get(0))
                .transpose()
                .map_err(|e| StoreError::database(OP, e))?;
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
            let next: i64 = db.value(
                OP,
                "SELECT COALESCE(MAX(position) + 1, 0) FROM daily_entries WHERE day = $1",
                &[&format_day(day)],
            )?;
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
            db.execute(OP, rows::INSERT_ENTRY, &values.params())?;
            mark_paper_changed(db, seq, paper)?;
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
fn require_user(db: &mut Db<'_, impl GenericClient>, user: UserId) -> Result<String, StoreError> {
    let row = db
        .query_opt(
            "look up a user",
            "SELECT username FROM users WHERE id = $1",
            &[&user.0],
        )?
        .ok_or(StoreError::NotAllowed {
            reason: "the user does not exist",
        })?;
    row.try_get(0)
        .map_err(|e| StoreError::database("look up a user", e))
}

fn load_comment(
    db: &mut Db<'_, impl GenericClient>,
    id: CommentId,
) -> Result<Option<Comment>, StoreError> {
    db.query_opt("read a comment", SELECT_COMMENT.as_str(), &[&id.0])?
        .map(|row| comment_from_row(&row))
        .transpose()
}

/// The comment `id` if `author` wrote it: `CommentNotFound`, or `NotAllowed`
/// with `reason`.
fn own_comment(
    db: &mut Db<'_, impl GenericClient>,
    id: CommentId,
    author: UserId,
    reason: &'static str,
) -> Result<Comment, StoreError> {
    let comment = load_comment(db, id)?.ok_or(StoreError::CommentNotFound { id: id.0 })?;
    if comment.author == author {
        Ok(comment)
    } else {
        Err(StoreError::NotAllowed { reason })
    }
}

fn has_replies(db: &mut Db<'_, impl GenericClient>, id: CommentId) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "look for replies",
            "SELECT 1 FROM comments WHERE parent_id = $1 LIMIT 1",
            &[&id.0],
        )?
        .is_some())
}

fn hard_delete(db: &mut Db<'_, impl GenericClient>, id: CommentId) -> Result<(), StoreError> {
    db.execute(
        "delete a comment",
        "DELETE FROM comments WHERE id = $1",
        &[&id.0],
    )
    .map(drop)
}

/// Recounts the paper's visible comments (a handful of index entries, and
/// exact whatever changed: comment changes run one at a time) and marks the
/// paper changed.
fn comments_changed(
    db: &mut Db<'_, Transaction<'_>>,
    seq: &mut ChangeSeq,
    paper: &ArxivId,
) -> Result<(), StoreError> {
    db.execute(
        "count a paper's comments",
        "UPDATE papers SET user_comments = (SELECT COUNT(*) FROM comments \
         WHERE paper_id = $1 AND NOT deleted AND NOT hidden) WHERE id = $1",
        &[&paper.as_str()],
    )?;
    mark_paper_changed(db, seq, paper)
}
