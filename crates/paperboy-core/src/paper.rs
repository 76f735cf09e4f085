//! Papers, daily entries and the records sources deliver.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ArxivId;

/// A paper as Paperboy knows it: bibliographic data from arXiv (or from the
/// source that brought it) plus community data (upvotes, links) from Hugging
/// Face-like sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    pub id: ArxivId,
    pub biblio: Biblio,
    pub community: Community,
}

/// What arXiv says about a paper. Replaced as a whole by a record of a newer
/// version (see [`crate::merge`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Biblio {
    /// Latest version number known, `None` when the source did not say.
    pub version: Option<u32>,
    pub title: String,
    /// Paragraphs separated by a blank line (see [`crate::text::normalize_abstract`]).
    pub abstract_text: String,
    /// Display names, in the paper's order.
    pub authors: Vec<String>,
    /// arXiv categories, primary first when known (`cs.CL`, `hep-th`).
    pub categories: Vec<String>,
    pub primary_category: Option<String>,
    /// First version's submission time.
    pub published: Option<DateTime<Utc>>,
    /// Latest version's submission time.
    pub updated: Option<DateTime<Utc>>,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub license: Option<String>,
    pub withdrawn: bool,
}

/// What the community layer (Hugging Face daily papers) says about a paper at
/// a moment: `observed_at`. A later observation replaces an earlier one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// When the source saw these values (for HF files: the curation day).
    pub observed_at: Option<DateTime<Utc>>,
    /// Upvotes counted by the source.
    pub upvotes: Option<u32>,
    pub github_repo: Option<String>,
    pub github_stars: Option<u32>,
    pub project_page: Option<String>,
    pub ai_summary: Option<String>,
    pub ai_keywords: Vec<String>,
}

/// Someone who put a paper on a daily list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitter {
    /// The account name (`taesiri`).
    pub name: String,
    pub fullname: Option<String>,
    pub avatar_url: Option<String>,
}

/// A paper on the Daily Papers list of a curation day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyEntry {
    pub paper_id: ArxivId,
    /// The curation day (UTC): the day whose list this entry is on.
    pub day: NaiveDate,
    pub submitter: Option<Submitter>,
    /// 0-based position in the source's list of that day.
    pub position: u32,
    /// When the source says it was submitted (HF `submittedOnDailyAt`); often
    /// the evening before `day`.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Comment count at the source when observed.
    pub num_comments: Option<u32>,
}

/// One record delivered by a source: a paper, and its daily entry when the
/// source is a daily list.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub paper: Paper,
    pub entry: Option<DailyEntry>,
}

impl Paper {
    /// A paper with only an id; sources fill in what they know.
    pub fn new(id: ArxivId) -> Paper {
        Paper {
            id,
            biblio: Biblio::default(),
            community: Community::default(),
        }
    }
}

/// arXiv marks a withdrawn paper by a comment such as "This paper has been
/// withdrawn by the author" and an empty (0kb) latest version.
pub fn looks_withdrawn(comments: Option<&str>, latest_version_size: Option<&str>) -> bool {
    let by_comment = comments.is_some_and(|c| {
        let c = c.trim_start().to_ascii_lowercase();
        c.starts_with("this paper has been withdrawn")
            || c.starts_with("withdrawn")
            || c.starts_with("paper withdrawn")
    });
    let by_size = latest_version_size.is_some_and(|s| s.trim().eq_ignore_ascii_case("0kb"));
    by_comment || by_size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdrawn_detection() {
        assert!(looks_withdrawn(
            Some("This paper has been withdrawn by the author"),
            None
        ));
        assert!(looks_withdrawn(Some("  Withdrawn: duplicate"), None));
        assert!(looks_withdrawn(None, Some("0kb")));
        assert!(!looks_withdrawn(
            Some("10 pages; withdrawn claims in v2 are fixed"),
            Some("12kb")
        ));
        assert!(!looks_withdrawn(None, None));
    }
}
