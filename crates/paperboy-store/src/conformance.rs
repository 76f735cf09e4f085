//! The behaviour every [`Store`] backend must have, as test functions that
//! take a fresh, empty `&dyn Store`; [`crate::conformance_suite!`] turns them into
//! one `#[test]` each for a backend. They use the public API only and know
//! nothing of any backend.
//!
//! Not part of the stable API: public only so that backends' test binaries
//! can run it.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paperboy_core::{ArxivId, Biblio, Community, DailyEntry, Paper, SourceRecord, Submitter};

use crate::{BatchOutcome, Stats, Store, StoreError};

/// Expands to one `#[test]` per conformance test, each on a fresh store made
/// by `$make`: a closure returning a `Box<dyn Store>`, or any fixture that is
/// `AsRef<dyn Store>` (e.g. a store with the temporary directory it lives in,
/// removed on drop).
///
/// ```
/// paperboy_store::conformance_suite!(sqlite_in_memory, || -> Box<dyn paperboy_store::Store> {
///     Box::new(paperboy_store::SqliteStore::open_in_memory().expect("open"))
/// });
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ident, $make:expr) => {
        $crate::conformance_suite!(@module $backend, $make;
            round_trip_full_paper,
            round_trip_minimal_paper,
            unknown_paper_is_none,
            upsert_twice_changes_nothing,
            empty_batch_changes_nothing,
            newer_version_replaces_biblio,
            later_observation_replaces_community,
            same_paper_twice_in_one_batch,
            second_day_entry_updates_known_paper,
            redelivered_entry_updates_it,
            day_entries_ranked_by_upvotes_then_position,
            stats_of_empty_store,
            stats_count_papers_entries_and_days,
            sync_state_set_overwrite_get,
            change_seq_grows_only_on_change,
            failed_batch_leaves_nothing,
            sub_millisecond_times_stay_idempotent,
        );
    };
    (@module $backend:ident, $make:expr; $($test:ident),* $(,)?) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $test() {
                    let fixture = ($make)();
                    $crate::conformance::$test(::core::convert::AsRef::<dyn $crate::Store>::as_ref(&fixture));
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------
// Fixtures

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("test day")
}

fn at(d: u32, h: u32, millis: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, d, h, 0, 0)
        .single()
        .expect("test time")
        + chrono::Duration::milliseconds(i64::from(millis))
}

/// A paper with every field set, unicode included.
fn full_paper(s: &str) -> Paper {
    Paper {
        id: id(s),
        biblio: Biblio {
            version: Some(3),
            title: "Ünïcode títle: ∀x ∈ 𝔽, “quotes” and \"JSON\" \\ escapes".into(),
            abstract_text: "First paragraph with 日本語.\n\nSecond paragraph; emoji 🚀.".into(),
            authors: vec!["Zoë Ångström".into(), "李雷".into(), "O'Brien, Jr.".into()],
            categories: vec!["cs.CL".into(), "cs.LG".into()],
            primary_category: Some("cs.CL".into()),
            published: Some(at(1, 17, 0)),
            updated: Some(at(5, 9, 123)),
            comments: Some("12 pages, 3 figures".into()),
            journal_ref: Some("Proc. ACL 2024".into()),
            doi: Some("10.1000/xyz123".into()),
            license: Some("http://creativecommons.org/licenses/by/4.0/".into()),
            withdrawn: true,
        },
        community: Community {
            observed_at: Some(at(6, 13, 999)),
            upvotes: Some(u32::MAX),
            github_repo: Some("https://github.com/example/repo".into()),
            github_stars: Some(1234),
            project_page: Some("https://example.org/ünï".into()),
            ai_summary: Some("A summary — with a dash.".into()),
            ai_keywords: vec!["llm".into(), "ρ-value".into()],
        },
    }
}

/// A record as an arXiv source delivers it: biblio of a version, no entry.
fn arxiv_record(s: &str, version: u32, title: &str) -> SourceRecord {
    let mut paper = Paper::new(id(s));
    paper.biblio.version = Some(version);
    paper.biblio.title = title.into();
    paper.biblio.authors = vec!["A. Author".into()];
    SourceRecord { paper, entry: None }
}

/// A record as a daily list delivers it: a title, upvotes observed on the
/// curation day, and the entry of that day.
fn hf_record(s: &str, on: u32, upvotes: Option<u32>, position: u32) -> SourceRecord {
    let mut paper = Paper::new(id(s));
    paper.biblio.title = format!("HF title of {s}");
    paper.community.observed_at = Some(at(on, 0, 0));
    paper.community.upvotes = upvotes;
    let entry = DailyEntry {
        paper_id: id(s),
        day: day(on),
        submitter: Some(Submitter {
            name: "akhaliq".into(),
            fullname: None,
            avatar_url: None,
        }),
        position,
        submitted_at: Some(at(on - 1, 20, 500)),
        num_comments: Some(2),
    };
    SourceRecord {
        paper,
        entry: Some(entry),
    }
}

fn upsert(store: &dyn Store, records: &[SourceRecord]) -> BatchOutcome {
    store.upsert(records).expect("upsert")
}

fn stored(store: &dyn Store, s: &str) -> Paper {
    store
        .paper(&id(s))
        .expect("read paper")
        .unwrap_or_else(|| panic!("paper {s} is stored"))
}

fn outcome(
    added: u64,
    updated: u64,
    unchanged: u64,
    entries_added: u64,
    entries_updated: u64,
) -> BatchOutcome {
    BatchOutcome {
        added,
        updated,
        unchanged,
        entries_added,
        entries_updated,
    }
}

/// Applies `batch` and checks what the store says it did.
fn check_upsert(store: &dyn Store, batch: &[SourceRecord], expect: BatchOutcome) {
    assert_eq!(
        upsert(store, batch),
        expect,
        "outcome of {} records",
        batch.len()
    );
}

// ---------------------------------------------------------------------------
// Tests

/// Every field of a paper and its entry reads back exactly as written.
pub fn round_trip_full_paper(store: &dyn Store) {
    let paper = full_paper("2403.01234");
    let entry = DailyEntry {
        paper_id: paper.id.clone(),
        day: day(6),
        submitter: Some(Submitter {
            name: "taesiri".into(),
            fullname: Some("Mohammad Reza Taesiri ✓".into()),
            avatar_url: Some("https://example.org/a.png".into()),
        }),
        position: 7,
        submitted_at: Some(at(5, 23, 1)),
        num_comments: Some(0),
    };
    let record = SourceRecord {
        paper: paper.clone(),
        entry: Some(entry.clone()),
    };
    check_upsert(store, &[record], outcome(1, 0, 0, 1, 0));
    assert_eq!(stored(store, "2403.01234"), paper);
    assert_eq!(
        store.day_entries(day(6)).expect("day"),
        vec![(entry, paper)]
    );
}

/// A paper with only an id (empty strings and lists, `None` everywhere)
/// reads back as itself; so does an old-style id and an entry without extras.
pub fn round_trip_minimal_paper(store: &dyn Store) {
    let paper = Paper::new(id("hep-th/9901001"));
    let entry = DailyEntry {
        paper_id: paper.id.clone(),
        day: day(2),
        submitter: None,
        position: 0,
        submitted_at: None,
        num_comments: None,
    };
    check_upsert(
        store,
        &[SourceRecord {
            paper: paper.clone(),
            entry: Some(entry.clone()),
        }],
        outcome(1, 0, 0, 1, 0),
    );
    assert_eq!(stored(store, "hep-th/9901001"), paper);
    assert_eq!(
        store.day_entries(day(2)).expect("day"),
        vec![(entry, paper)]
    );
}

pub fn unknown_paper_is_none(store: &dyn Store) {
    assert_eq!(store.paper(&id("2403.00001")).expect("read"), None);
    upsert(store, &[arxiv_record("2403.00001", 1, "t")]);
    assert_eq!(store.paper(&id("2403.00002")).expect("read"), None);
    assert!(store.day_entries(day(9)).expect("day").is_empty());
}

/// Importing the same batch again changes nothing and says so.
pub fn upsert_twice_changes_nothing(store: &dyn Store) {
    let batch = [
        hf_record("2403.00001", 4, Some(10), 0),
        arxiv_record("2403.00002", 2, "arXiv"),
        SourceRecord {
            paper: full_paper("2403.00003"),
            entry: None,
        },
    ];
    check_upsert(store, &batch, outcome(3, 0, 0, 1, 0));
    let before: Vec<Paper> = ["2403.00001", "2403.00002", "2403.00003"]
        .map(|s| stored(store, s))
        .to_vec();
    check_upsert(store, &batch, outcome(0, 0, 3, 0, 0));
    let after: Vec<Paper> = ["2403.00001", "2403.00002", "2403.00003"]
        .map(|s| stored(store, s))
        .to_vec();
    assert_eq!(before, after);
}

pub fn empty_batch_changes_nothing(store: &dyn Store) {
    check_upsert(store, &[], BatchOutcome::default());
    assert_eq!(store.stats().expect("stats"), Stats::default());
}

/// arXiv's v2 replaces what a daily list said; the list imported again does
/// not overwrite it, and community data survives both.
pub fn newer_version_replaces_biblio(store: &dyn Store) {
    let hf = hf_record("2403.00001", 4, Some(10), 0);
    check_upsert(store, std::slice::from_ref(&hf), outcome(1, 0, 0, 1, 0));
    check_upsert(
        store,
        &[arxiv_record("2403.00001", 2, "arXiv v2 title")],
        outcome(0, 1, 0, 0, 0),
    );
    check_upsert(store, &[hf], outcome(0, 0, 1, 0, 0));
    let paper = stored(store, "2403.00001");
    assert_eq!(
        (paper.biblio.title.as_str(), paper.biblio.version),
        ("arXiv v2 title", Some(2))
    );
    assert_eq!(paper.community.upvotes, Some(10));
    // An older version fills nothing that is set and replaces nothing.
    check_upsert(
        store,
        &[arxiv_record("2403.00001", 1, "v1 title")],
        outcome(0, 0, 1, 0, 0),
    );
    assert_eq!(stored(store, "2403.00001").biblio.title, "arXiv v2 title");
}

/// A later snapshot of upvotes replaces an earlier one; an older snapshot
/// imported afterwards does not roll it back.
pub fn later_observation_replaces_community(store: &dyn Store) {
    check_upsert(
        store,
        &[hf_record("2403.00001", 4, Some(5), 0)],
        outcome(1, 0, 0, 1, 0),
    );
    let mut later = hf_record("2403.00001", 4, Some(40), 0);
    later.paper.community.observed_at = Some(at(8, 0, 0));
    check_upsert(store, &[later], outcome(0, 1, 0, 0, 0));
    check_upsert(
        store,
        &[hf_record("2403.00001", 4, Some(5), 0)],
        outcome(0, 0, 1, 0, 0),
    );
    assert_eq!(stored(store, "2403.00001").community.upvotes, Some(40));
}

/// Records of one paper in one batch apply in order, each merging with the
/// result of the one before.
pub fn same_paper_twice_in_one_batch(store: &dyn Store) {
    let v1 = arxiv_record("2403.00001", 1, "v1");
    let v2 = arxiv_record("2403.00001", 2, "v2");
    check_upsert(
        store,
        &[v1.clone(), v2.clone(), v1.clone()],
        outcome(1, 1, 1, 0, 0),
    );
    assert_eq!(stored(store, "2403.00001").biblio.title, "v2");

    let hf = hf_record("2403.00002", 4, Some(3), 5);
    let mut moved = hf.clone();
    if let Some(entry) = &mut moved.entry {
        entry.position = 1;
    }
    check_upsert(store, &[v2, hf.clone(), moved, hf], outcome(1, 2, 1, 1, 2));
    assert_eq!(store.stats().expect("stats").daily_entries, 1);
    assert_eq!(
        store.day_entries(day(4)).expect("day")[0].0.position,
        5,
        "the last delivery wins"
    );
}

/// A known paper put on a second day's list: the record counts as updated.
pub fn second_day_entry_updates_known_paper(store: &dyn Store) {
    check_upsert(
        store,
        &[hf_record("2403.00001", 4, Some(5), 0)],
        outcome(1, 0, 0, 1, 0),
    );
    let mut again = hf_record("2403.00001", 4, Some(5), 0);
    if let Some(entry) = &mut again.entry {
        entry.day = day(5);
    }
    check_upsert(store, &[again], outcome(0, 1, 0, 1, 0));
    assert_eq!(store.day_entries(day(4)).expect("day").len(), 1);
    assert_eq!(store.day_entries(day(5)).expect("day").len(), 1);
    let stats = store.stats().expect("stats");
    assert_eq!((stats.papers, stats.daily_entries, stats.days), (1, 2, 2));
}

/// A daily entry delivered again with a new position and comment count
/// replaces those, and keeps what the new delivery lacks.
pub fn redelivered_entry_updates_it(store: &dyn Store) {
    check_upsert(
        store,
        &[hf_record("2403.00001", 4, Some(5), 3)],
        outcome(1, 0, 0, 1, 0),
    );
    let mut again = hf_record("2403.00001", 4, Some(5), 1);
    if let Some(entry) = &mut again.entry {
        entry.num_comments = Some(9);
        entry.submitter = None;
    }
    check_upsert(store, &[again], outcome(0, 1, 0, 0, 1));
    let (entry, _) = store.day_entries(day(4)).expect("day").remove(0);
    assert_eq!((entry.position, entry.num_comments), (1, Some(9)));
    assert_eq!(
        entry.submitter.map(|s| s.name).as_deref(),
        Some("akhaliq"),
        "kept from the first delivery"
    );
}

/// A day's list ranks by upvotes (most first, none last), then by position;
/// other days stay out.
pub fn day_entries_ranked_by_upvotes_then_position(store: &dyn Store) {
    let batch = [
        hf_record("2403.00001", 4, Some(5), 0),
        hf_record("2403.00002", 4, None, 1),
        hf_record("2403.00003", 4, Some(10), 4),
        hf_record("2403.00004", 4, Some(10), 2),
        hf_record("2403.00005", 4, Some(0), 3),
        hf_record("2403.00006", 5, Some(99), 0),
    ];
    upsert(store, &batch);
    let ranked: Vec<(String, Option<u32>, u32)> = store
        .day_entries(day(4))
        .expect("day")
        .into_iter()
        .map(|(entry, paper)| {
            assert_eq!(entry.paper_id, paper.id);
            (
                paper.id.to_string(),
                paper.community.upvotes,
                entry.position,
            )
        })
        .collect();
    let expect = [
        ("2403.00004", Some(10), 2),
        ("2403.00003", Some(10), 4),
        ("2403.00001", Some(5), 0),
        ("2403.00005", Some(0), 3),
        ("2403.00002", None, 1),
    ]
    .map(|(s, u, p)| (s.to_string(), u, p))
    .to_vec();
    assert_eq!(ranked, expect);
}

pub fn stats_of_empty_store(store: &dyn Store) {
    let expect = Stats {
        papers: 0,
        daily_entries: 0,
        days: 0,
        first_day: None,
        last_day: None,
    };
    assert_eq!(store.stats().expect("stats"), expect);
    assert_eq!(store.change_seq().expect("seq"), 0);
}

pub fn stats_count_papers_entries_and_days(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 7, Some(1), 0),
            hf_record("2403.00002", 3, Some(1), 0),
            hf_record("2403.00003", 7, Some(1), 1),
            hf_record("2403.00004", 12, Some(1), 0),
            arxiv_record("2403.00005", 1, "no entry"),
        ],
    );
    let expect = Stats {
        papers: 5,
        daily_entries: 4,
        days: 3,
        first_day: Some(day(3)),
        last_day: Some(day(12)),
    };
    assert_eq!(store.stats().expect("stats"), expect);
}

pub fn sync_state_set_overwrite_get(store: &dyn Store) {
    let get = |key| store.sync_state(key).expect("read sync state");
    assert_eq!(get("oai:cs"), None);
    store.set_sync_state("oai:cs", "token-1|ünï").expect("set");
    store.set_sync_state("oai:math", "").expect("set");
    assert_eq!(get("oai:cs").as_deref(), Some("token-1|ünï"));
    store
        .set_sync_state("oai:cs", "token-2")
        .expect("overwrite");
    assert_eq!(get("oai:cs").as_deref(), Some("token-2"));
    assert_eq!(
        get("oai:math").as_deref(),
        Some(""),
        "an empty value is a value"
    );
    assert_eq!(get("hf"), None);
    assert_eq!(
        store.change_seq().expect("seq"),
        0,
        "cursors are not paper changes"
    );
}

/// The change sequence grows with every change (papers and entries) and
/// stays put when a batch changes nothing.
pub fn change_seq_grows_only_on_change(store: &dyn Store) {
    let seq = || store.change_seq().expect("seq");
    let start = seq();
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "t"),
            arxiv_record("2403.00002", 1, "t"),
        ],
    );
    let after_add = seq();
    assert!(
        after_add >= start + 2,
        "one number per change: {start} -> {after_add}"
    );

    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "t"),
            arxiv_record("2403.00002", 1, "t"),
        ],
    );
    assert_eq!(
        seq(),
        after_add,
        "unchanged upserts leave the sequence alone"
    );

    upsert(store, &[arxiv_record("2403.00001", 2, "t2")]);
    let after_update = seq();
    assert!(after_update > after_add);

    upsert(store, &[hf_record("2403.00003", 4, Some(1), 0)]);
    let after_entry = seq();
    assert!(after_entry > after_update);
    let mut second_day = hf_record("2403.00003", 4, Some(1), 0);
    if let Some(entry) = &mut second_day.entry {
        entry.day = day(5);
    }
    upsert(store, &[second_day.clone()]);
    assert!(
        seq() > after_entry,
        "a new entry of a known paper is a change"
    );
    let settled = seq();
    upsert(store, &[second_day]);
    assert_eq!(seq(), settled);
}

/// A batch that fails part way leaves no trace: not its earlier records, not
/// the change sequence.
pub fn failed_batch_leaves_nothing(store: &dyn Store) {
    upsert(store, &[arxiv_record("2403.00001", 1, "kept")]);
    let seq = store.change_seq().expect("seq");
    let stats = store.stats().expect("stats");

    let mut bad = hf_record("2403.00003", 4, Some(1), 0);
    if let Some(entry) = &mut bad.entry {
        entry.paper_id = id("2403.00009");
    }
    let batch = [
        arxiv_record("2403.00001", 2, "rolled back"),
        hf_record("2403.00002", 4, Some(1), 0),
        bad,
    ];
    let err = store
        .upsert(&batch)
        .expect_err("an entry of another paper fails the batch");
    assert!(
        matches!(err, StoreError::EntryOfOtherPaper { .. }),
        "{err:?}"
    );

    assert_eq!(stored(store, "2403.00001").biblio.title, "kept");
    assert_eq!(store.paper(&id("2403.00002")).expect("read"), None);
    assert_eq!(store.stats().expect("stats"), stats);
    assert_eq!(store.change_seq().expect("seq"), seq);
    // The store still works after the failure.
    check_upsert(store, &batch[..2], outcome(1, 1, 0, 1, 0));
}

/// Timestamps finer than the stored milliseconds are cut before merging, so
/// importing such a record again changes nothing.
pub fn sub_millisecond_times_stay_idempotent(store: &dyn Store) {
    let mut record = hf_record("2403.00001", 4, Some(1), 0);
    let fine = at(4, 1, 250) + chrono::Duration::nanoseconds(123_456);
    record.paper.biblio.published = Some(fine);
    record.paper.community.observed_at = Some(fine);
    if let Some(entry) = &mut record.entry {
        entry.submitted_at = Some(fine);
    }
    check_upsert(store, std::slice::from_ref(&record), outcome(1, 0, 0, 1, 0));
    check_upsert(store, &[record], outcome(0, 0, 1, 0, 0));
    let paper = stored(store, "2403.00001");
    assert_eq!(paper.biblio.published, Some(at(4, 1, 250)));
    assert_eq!(
        store.day_entries(day(4)).expect("day")[0].0.submitted_at,
        Some(at(4, 1, 250))
    );
}

#[cfg(test)]
mod tests {
    /// Every public test function is listed in [`conformance_suite!`], so no
    /// backend silently skips one.
    #[test]
    fn the_suite_lists_every_test() {
        let source = include_str!("conformance.rs");
        let (tests, _) = source.split_once("#[cfg(test)]").expect("tests module");
        let (_, macro_body) = source
            .split_once("macro_rules! conformance_suite")
            .expect("macro");
        let (listed, _) = macro_body
            .split_once("(@module $backend:ident")
            .expect("macro arms");
        let missing: Vec<&str> = tests
            .lines()
            .filter_map(|line| line.strip_prefix("pub fn "))
            .filter_map(|rest| rest.split_once('(').map(|(name, _)| name))
            .filter(|name| !listed.contains(&format!("{name},")))
            .collect();
        assert!(missing.is_empty(), "add to conformance_suite!: {missing:?}");
    }
}
