//! Comments on papers: one level of replies, Markdown source kept as written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ArxivId;
use crate::account::UserId;

/// A comment's key in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommentId(pub i64);

/// Longest comment body accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub paper_id: ArxivId,
    pub author: UserId,
    /// The author's username, for display.
    pub author_name: String,
    /// `None` for a top-level comment; replies have no replies.
    pub parent: Option<CommentId>,
    /// Markdown as written. Rendering (and sanitising) is the web's job.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted by its author: kept (replies hang on it) but shown as deleted.
    pub deleted: bool,
    /// Hidden by an admin.
    pub hidden: bool,
}

/// Why a comment body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentRuleError {
    #[error("a comment cannot be empty")]
    Empty,
    #[error("a comment has at most {MAX_COMMENT_CHARS} characters, this one has {0}")]
    TooLong(usize),
}

/// Trims and checks a comment body.
pub fn validate_comment(body: &str) -> Result<&str, CommentRuleError> {
    let body = body.trim();
    let chars = body.chars().count();
    if chars == 0 {
        Err(CommentRuleError::Empty)
    } else if chars > MAX_COMMENT_CHARS {
        Err(CommentRuleError::TooLong(chars))
    } else {
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_bodies() {
        assert_eq!(validate_comment("  hi  "), Ok("hi"));
        assert_eq!(validate_comment(" \n\t "), Err(CommentRuleError::Empty));
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            validate_comment(&long),
            Err(CommentRuleError::TooLong(MAX_COMMENT_CHARS + 1))
        );
        assert!(validate_comment(&"é".repeat(MAX_COMMENT_CHARS)).is_ok());
    }
}
