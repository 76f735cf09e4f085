//! How a stored paper and a newly delivered record of it combine.
//!
//! The rule makes imports idempotent: merging a record that was already
//! merged changes nothing, whatever was imported in between. Each group of
//! fields has a rank; a record of higher rank replaces the group (keeping
//! stored values for fields it lacks), a record of equal or lower rank only
//! fills fields that are still empty.
//! - bibliographic data ranks by (arXiv version, updated time): an arXiv
//!   record of v2 replaces what an HF list said, an HF list never overwrites
//!   arXiv's v2;
//! - community data (upvotes, links) ranks by observation time: a later
//!   snapshot replaces an earlier one, importing an old file again does not
//!   roll the counts back.

use crate::paper::{Biblio, Community, DailyEntry, Paper};

/// Merges `incoming` into `stored`; `None` when nothing changes.
pub fn merge_paper(stored: &Paper, incoming: &Paper) -> Option<Paper> {
    debug_assert_eq!(stored.id, incoming.id);
    let merged = Paper {
        id: stored.id.clone(),
        biblio: merge_biblio(&stored.biblio, &incoming.biblio),
        community: merge_community(&stored.community, &incoming.community),
    };
    (merged != *stored).then_some(merged)
}

/// Merges a daily entry with the stored one of the same (paper, day); the
/// newer delivery wins for every field it carries.
pub fn merge_entry(stored: &DailyEntry, incoming: &DailyEntry) -> Option<DailyEntry> {
    let mut merged = incoming.clone();
    fill(&mut merged.submitter, &stored.submitter);
    fill(&mut merged.submitted_at, &stored.submitted_at);
    fill(&mut merged.num_comments, &stored.num_comments);
    (merged != *stored).then_some(merged)
}

fn merge_biblio(stored: &Biblio, incoming: &Biblio) -> Biblio {
    let rank = |b: &Biblio| (b.version.unwrap_or(0), b.updated);
    let (mut base, other) = if rank(incoming) > rank(stored) {
        (incoming.clone(), stored)
    } else {
        (stored.clone(), incoming)
    };
    fill(&mut base.version, &other.version);
    fill_text(&mut base.title, &other.title);
    fill_text(&mut base.abstract_text, &other.abstract_text);
    fill_list(&mut base.authors, &other.authors);
    fill_list(&mut base.categories, &other.categories);
    fill(&mut base.primary_category, &other.primary_category);
    fill(&mut base.published, &other.published);
    fill(&mut base.updated, &other.updated);
    fill(&mut base.comments, &other.comments);
    fill(&mut base.journal_ref, &other.journal_ref);
    fill(&mut base.doi, &other.doi);
    fill(&mut base.license, &other.license);
    base
}

fn merge_community(stored: &Community, incoming: &Community) -> Community {
    let (mut base, other) = if incoming.observed_at > stored.observed_at {
        (incoming.clone(), stored)
    } else {
        (stored.clone(), incoming)
    };
    fill(&mut base.observed_at, &other.observed_at);
    fill(&mut base.upvotes, &other.upvotes);
    fill(&mut base.github_repo, &other.github_repo);
    fill(&mut base.github_stars, &other.github_stars);
    fill(&mut base.project_page, &other.project_page);
    fill(&mut base.ai_summary, &other.ai_summary);
    fill_list(&mut base.ai_keywords, &other.ai_keywords);
    base
}

fn fill<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
    if dst.is_none() {
        dst.clone_from(src);
    }
}

fn fill_text(dst: &mut String, src: &str) {
    if dst.is_empty() {
        src.clone_into(dst);
    }
}

fn fill_list<T: Clone>(dst: &mut Vec<T>, src: &[T]) {
    if dst.is_empty() {
        dst.extend_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ArxivId;

    fn paper(
        version: Option<u32>,
        title: &str,
        observed_day: Option<u32>,
        upvotes: Option<u32>,
    ) -> Paper {
        let mut p = Paper::new(ArxivId::parse("2401.00001").unwrap().id);
        p.biblio.version = version;
        p.biblio.title = title.into();
        p.community.observed_at =
            observed_day.map(|d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap());
        p.community.upvotes = upvotes;
        p
    }

    #[test]
    fn higher_version_replaces_biblio_lower_only_fills() {
        let hf = paper(None, "HF title", Some(2), Some(10));
        let mut arxiv = paper(Some(2), "arXiv title", None, None);
        arxiv.biblio.categories = vec!["cs.CL".into()];
        let merged = merge_paper(&hf, &arxiv).expect("changes");
        assert_eq!(merged.biblio.title, "arXiv title");
        assert_eq!(merged.biblio.version, Some(2));
        assert_eq!(merged.community.upvotes, Some(10), "community data kept");
        // The HF list imported again does not overwrite arXiv's title.
        assert_eq!(merge_paper(&merged, &hf), None);
    }

    #[test]
    fn later_observation_replaces_community_earlier_does_not() {
        let day1 = paper(None, "t", Some(1), Some(5));
        let day3 = paper(None, "t", Some(3), Some(40));
        let merged = merge_paper(&day1, &day3).expect("changes");
        assert_eq!(merged.community.upvotes, Some(40));
        assert_eq!(
            merge_paper(&merged, &day1),
            None,
            "old snapshot never rolls back"
        );
    }

    #[test]
    fn entries_take_the_newer_delivery() {
        let id = ArxivId::parse("2401.00001").unwrap().id;
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        let a = DailyEntry {
            paper_id: id,
            day,
            submitter: None,
            position: 3,
            submitted_at: None,
            num_comments: Some(1),
        };
        let b = DailyEntry {
            position: 1,
            num_comments: None,
            ..a.clone()
        };
        let merged = merge_entry(&a, &b).expect("position changed");
        assert_eq!((merged.position, merged.num_comments), (1, Some(1)));
        assert_eq!(merge_entry(&merged, &merged), None);
    }

    proptest::proptest! {
        /// Whatever came before, merging a record a second time is a no-op.
        #[test]
        fn merging_twice_changes_nothing(
            a in (proptest::option::of(1u32..5), "[ab]{0,1}", proptest::option::of(1u32..28), proptest::option::of(0u32..9)),
            b in (proptest::option::of(1u32..5), "[ab]{0,1}", proptest::option::of(1u32..28), proptest::option::of(0u32..9)),
        ) {
            let pa = paper(a.0, &a.1, a.2, a.3);
            let pb = paper(b.0, &b.1, b.2, b.3);
            let once = merge_paper(&pa, &pb).unwrap_or(pa);
            proptest::prop_assert_eq!(merge_paper(&once, &pb), None);
        }
    }
}
