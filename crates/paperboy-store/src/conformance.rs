//! The behaviour every [`Store`] backend must have, as test functions that
//! take a fresh, empty `&dyn Store`; [`crate::conformance_suite!`] turns them into
//! one `#[test]` each for a backend. They use the public API only and know
//! nothing of any backend.
//!
//! Not part of the stable API: public only so that backends' test binaries
//! can run it.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paperboy_core::mail::{parse_send_time, parse_zone};
use paperboy_core::{
    ArxivId, Biblio, Cadence, Comment, CommentId, Community, DailyEntry, EmailAddress, MessageId,
    NewUser, Paper, SavedSearchId, Schedule, SourceRecord, Submitter, SubscriptionId, User, UserId,
};

use crate::{
    AlertDelivery, BatchOutcome, EntryQuery, ListOrder, MessageKind, MessageStatus, NewMessage,
    NewSavedSearch, NewSubscription, OutboxMessage, OutboxStats, PaperVector, PendingAlert,
    SavedSearch, Stats, Store, StoreError, SubscribeOutcome, Subscription, SubscriptionStatus,
    VectorStats,
};

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
            papers_changed_since_lists_each_change_once,
            failed_batch_leaves_nothing,
            sub_millisecond_times_stay_idempotent,
            listings_rank_by_total_upvotes,
            listings_by_publication_time,
            listings_page_with_offset_and_limit,
            listings_by_submitter,
            day_navigation_skips_empty_days,
            paper_page_has_entries_newest_first_and_totals,
            first_user_is_admin,
            taken_username_or_email_is_refused,
            login_by_username_or_email,
            sessions_expire_and_can_be_deleted,
            api_tokens_find_their_user,
            upvotes_are_idempotent_and_add_to_source,
            upvotes_need_a_known_paper,
            upvoted_among_lists_the_users_votes,
            comments_order_replies_after_their_parent,
            replies_only_to_top_level_comments_of_the_same_paper,
            comments_edited_only_by_their_author,
            comments_deleted_softly_when_answered,
            hidden_comments_leave_the_count,
            saved_papers_newest_first,
            submit_appends_a_known_paper_to_the_day,
            submit_refuses_a_listed_or_unknown_paper,
            participation_bumps_the_change_seq,
            vectors_round_trip_and_follow_their_sequence,
            bad_vectors_store_nothing,
            texts_changed_since_carry_the_vector_hash,
            job_leases_exclude_others_until_they_run_out,
            rate_limits_count_attempts_in_a_sliding_window,
            rate_limits_hold_under_concurrent_attempts,
            job_leases_are_released_only_by_their_holder,
            subscribe_then_confirm_once,
            subscribe_again_replaces_only_what_is_not_active,
            an_active_address_links_to_an_account_only_when_its_owner_confirms,
            unsubscribe_returns_the_subscription_as_it_was,
            update_subscription_reschedules_active_ones,
            due_subscriptions_soonest_first,
            queue_digest_moves_a_period_on_once,
            put_edition_keeps_the_first_content,
            claimed_messages_are_leased_until_settled,
            claim_fails_messages_of_inactive_subscriptions,
            bounces_pause_a_subscription,
            count_messages_to_by_kind_and_time,
            saved_searches_start_at_the_change_seq,
            alert_matches_are_recorded_once_per_user,
            queued_alerts_are_no_longer_pending,
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

/// Catching up from a sequence number finds every paper changed after it,
/// once, with its newest number, in pages of `limit`.
pub fn papers_changed_since_lists_each_change_once(store: &dyn Store) {
    assert!(store.papers_changed_since(0, 10).expect("empty").is_empty());
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "one"),
            hf_record("2403.00002", 4, Some(3), 0),
            arxiv_record("2403.00003", 1, "three"),
        ],
    );
    let all = store.papers_changed_since(0, 10).expect("all");
    let ids: Vec<String> = all.iter().map(|(_, p)| p.paper.id.to_string()).collect();
    assert_eq!(ids, ["2403.00001", "2403.00002", "2403.00003"]);
    let seqs: Vec<u64> = all.iter().map(|(seq, _)| *seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ascending: {seqs:?}");
    assert_eq!(seqs.last().copied(), Some(store.change_seq().expect("seq")));
    assert_eq!(all[1].1.entries.len(), 1, "entries come along");
    assert_eq!(all[1].1.upvotes, 3);

    let first_page = store.papers_changed_since(0, 2).expect("page");
    assert_eq!(first_page.len(), 2);
    let rest = store
        .papers_changed_since(first_page[1].0, 10)
        .expect("rest");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1.paper.id, id("2403.00003"));

    let seen = store.change_seq().expect("seq");
    assert!(
        store
            .papers_changed_since(seen, 10)
            .expect("none")
            .is_empty()
    );
    upsert(store, &[arxiv_record("2403.00001", 2, "one, revised")]);
    upsert(
        store,
        &[arxiv_record("2403.00001", 3, "one, revised again")],
    );
    let changed = store.papers_changed_since(seen, 10).expect("changed");
    assert_eq!(changed.len(), 1, "a paper changed twice shows once");
    assert_eq!(changed[0].1.paper.biblio.title, "one, revised again");
    assert_eq!(changed[0].0, store.change_seq().expect("seq"));
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

// ---------------------------------------------------------------------------
// Site fixtures: listings, accounts, participation

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@Example.org"),
        display_name: format!("{name} Display"),
        password_hash: format!("$argon2id$hash-of-{name}"),
        admin: false,
    }
}

fn user(store: &dyn Store, name: &str) -> User {
    store
        .create_user(&new_user(name), at(1, 0, 0))
        .unwrap_or_else(|e| panic!("create user {name}: {e}"))
}

/// `n` users `u0`, `u1`, ...
fn users(store: &dyn Store, n: usize) -> Vec<User> {
    (0..n).map(|i| user(store, &format!("u{i}"))).collect()
}

/// All entries of days `from..=to`, ranked by upvotes.
fn range(from: u32, to: u32) -> EntryQuery {
    EntryQuery {
        from: day(from),
        to: day(to),
        submitter: None,
        order: ListOrder::Upvotes,
        offset: 0,
        limit: 100,
    }
}

/// What a listing shows, as (paper id, total upvotes, total comments).
fn listed(store: &dyn Store, query: &EntryQuery) -> Vec<(String, u32, u32)> {
    store
        .entries(query)
        .expect("list entries")
        .into_iter()
        .map(|l| {
            assert_eq!(l.entry.paper_id, l.paper.id);
            (l.paper.id.to_string(), l.upvotes, l.comments)
        })
        .collect()
}

fn ids_of(listing: &[(String, u32, u32)]) -> Vec<&str> {
    listing.iter().map(|(id, _, _)| id.as_str()).collect()
}

fn hf_by(s: &str, on: u32, upvotes: Option<u32>, position: u32, submitter: &str) -> SourceRecord {
    let mut record = hf_record(s, on, upvotes, position);
    if let Some(entry) = &mut record.entry {
        entry.submitter = Some(Submitter {
            name: submitter.into(),
            fullname: None,
            avatar_url: None,
        });
    }
    record
}

fn vote(store: &dyn Store, user: &User, s: &str, upvoted: bool) -> u32 {
    let state = store
        .set_upvote(user.id, &id(s), upvoted)
        .expect("set upvote");
    assert_eq!(state.upvoted, upvoted);
    state.upvotes
}

fn comment(
    store: &dyn Store,
    s: &str,
    author: &User,
    parent: Option<&Comment>,
    body: &str,
    hour: u32,
) -> Comment {
    store
        .add_comment(
            &id(s),
            author.id,
            parent.map(|p| p.id),
            body,
            at(2, hour, 0),
        )
        .expect("add comment")
}

fn totals(store: &dyn Store, s: &str) -> (u32, u32) {
    let page = store
        .paper_page(&id(s))
        .expect("paper page")
        .unwrap_or_else(|| panic!("paper {s} has a page"));
    (page.upvotes, page.comments)
}

/// The comments of a paper as (body, parent body, deleted, hidden).
fn thread(store: &dyn Store, s: &str) -> Vec<(String, Option<String>, bool, bool)> {
    let comments = store.comments(&id(s)).expect("comments");
    comments
        .iter()
        .map(|c| {
            let parent = c.parent.map(|p| {
                comments
                    .iter()
                    .find(|other| other.id == p)
                    .map(|other| other.body.clone())
                    .unwrap_or_else(|| panic!("the parent of {c:?} is listed"))
            });
            (c.body.clone(), parent, c.deleted, c.hidden)
        })
        .collect()
}

fn t(body: &str, parent: Option<&str>) -> (String, Option<String>, bool, bool) {
    (body.into(), parent.map(Into::into), false, false)
}

// ---------------------------------------------------------------------------
// Site tests

/// A range of days ranks by source + user upvotes (a user's vote can
/// reorder it), then by position; days outside the range stay out.
pub fn listings_rank_by_total_upvotes(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(5), 0),
            hf_record("2403.00002", 4, None, 1),
            hf_record("2403.00003", 5, Some(3), 0),
            hf_record("2403.00004", 5, Some(5), 1),
            hf_record("2403.00005", 6, Some(100), 0),
        ],
    );
    let listing = listed(store, &range(4, 5));
    assert_eq!(
        listing,
        [
            ("2403.00001", 5),
            ("2403.00004", 5),
            ("2403.00003", 3),
            ("2403.00002", 0)
        ]
        .map(|(s, u)| (s.to_string(), u, 2))
    );
    let voters = users(store, 3);
    for voter in &voters {
        vote(store, voter, "2403.00003", true);
    }
    vote(store, &voters[0], "2403.00002", true);
    assert_eq!(
        ids_of(&listed(store, &range(4, 5))),
        ["2403.00003", "2403.00001", "2403.00004", "2403.00002"]
    );
    assert_eq!(listed(store, &range(4, 5))[0].1, 6);
    assert_eq!(store.count_entries(&range(4, 5)).expect("count"), 4);
    assert_eq!(store.count_entries(&range(1, 31)).expect("count"), 5);
    assert!(listed(store, &range(7, 31)).is_empty());
    assert_eq!(store.count_entries(&range(7, 31)).expect("count"), 0);
}

/// `ListOrder::Published` ranks by arXiv publication time, newest first,
/// papers without one last.
pub fn listings_by_publication_time(store: &dyn Store) {
    let published = [
        ("2403.00001", Some(1)),
        ("2403.00002", Some(3)),
        ("2403.00003", None),
        ("2403.00004", Some(2)),
    ];
    let batch: Vec<SourceRecord> = published
        .iter()
        .enumerate()
        .map(|(i, (s, on))| {
            let mut record = hf_record(s, 4, Some(10 - i as u32), i as u32);
            record.paper.biblio.published = on.map(|d| at(d, 12, 0));
            record
        })
        .collect();
    upsert(store, &batch);
    let query = EntryQuery {
        order: ListOrder::Published,
        ..range(4, 4)
    };
    assert_eq!(
        ids_of(&listed(store, &query)),
        ["2403.00002", "2403.00004", "2403.00001", "2403.00003"]
    );
    let paged = EntryQuery {
        offset: 1,
        limit: 2,
        ..query
    };
    assert_eq!(ids_of(&listed(store, &paged)), ["2403.00004", "2403.00001"]);
}

/// Offset and limit page through the ranking; the count ignores them.
pub fn listings_page_with_offset_and_limit(store: &dyn Store) {
    let batch: Vec<SourceRecord> = (1..=5)
        .map(|i| hf_record(&format!("2403.0000{i}"), 4, Some(i * 10), 0))
        .collect();
    upsert(store, &batch);
    let page = |offset, limit| {
        let query = EntryQuery {
            offset,
            limit,
            ..range(4, 4)
        };
        assert_eq!(store.count_entries(&query).expect("count"), 5);
        listed(store, &query)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(0, 2), ["2403.00005", "2403.00004"]);
    assert_eq!(page(2, 2), ["2403.00003", "2403.00002"]);
    assert_eq!(page(4, 2), ["2403.00001"]);
    assert!(page(5, 2).is_empty());
    assert!(page(0, 0).is_empty());
    assert_eq!(page(1, u64::MAX).len(), 4, "a huge limit means all");
    assert!(page(u64::MAX, 10).is_empty());
}

/// A submitter's entries only (the name in any case), counted alike.
pub fn listings_by_submitter(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_by("2403.00001", 4, Some(1), 0, "akhaliq"),
            hf_by("2403.00002", 4, Some(9), 1, "taesiri"),
            hf_by("2403.00003", 5, Some(2), 0, "taesiri"),
            hf_by("2403.00004", 6, Some(3), 0, "taesiri"),
            arxiv_record("2403.00005", 1, "never listed"),
        ],
    );
    let of = |name: &str| EntryQuery {
        submitter: Some(name.into()),
        ..range(4, 5)
    };
    assert_eq!(
        ids_of(&listed(store, &of("taesiri"))),
        ["2403.00002", "2403.00003"]
    );
    assert_eq!(
        ids_of(&listed(store, &of("TaesiRI"))),
        ["2403.00002", "2403.00003"]
    );
    assert_eq!(store.count_entries(&of("taesiri")).expect("count"), 2);
    assert_eq!(ids_of(&listed(store, &of("akhaliq"))), ["2403.00001"]);
    assert!(listed(store, &of("nobody")).is_empty());
    assert_eq!(store.count_entries(&of("nobody")).expect("count"), 0);
}

/// A weekend day leads back to Friday's list and on to Monday's; there is
/// nothing before the first day or after the last.
pub fn day_navigation_skips_empty_days(store: &dyn Store) {
    assert_eq!(
        store.day_with_entries_on_or_before(day(9)).expect("day"),
        None
    );
    assert_eq!(store.day_with_entries_after(day(1)).expect("day"), None);
    // 2024-03-01 is a Friday, 03-04 a Monday.
    let mut friday = hf_record("2403.00001", 2, Some(1), 0);
    if let Some(entry) = &mut friday.entry {
        entry.day = day(1);
    }
    upsert(
        store,
        &[
            friday,
            hf_record("2403.00002", 4, Some(1), 0),
            hf_record("2403.00003", 5, Some(1), 0),
            hf_record("2403.00004", 5, Some(1), 1),
        ],
    );
    let before = |d| store.day_with_entries_on_or_before(day(d)).expect("day");
    let after = |d| store.day_with_entries_after(day(d)).expect("day");
    assert_eq!(before(2), Some(day(1)), "Saturday shows Friday");
    assert_eq!(before(3), Some(day(1)), "Sunday shows Friday");
    assert_eq!(before(4), Some(day(4)));
    assert_eq!(before(31), Some(day(5)));
    let leap_day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("day");
    assert_eq!(
        store.day_with_entries_on_or_before(leap_day).expect("day"),
        None
    );
    assert_eq!(after(1), Some(day(4)));
    assert_eq!(after(2), Some(day(4)));
    assert_eq!(after(4), Some(day(5)));
    assert_eq!(after(5), None);
}

/// A paper page: the paper, its entries newest first, and totals that add
/// users' votes and comments to the source's counts (comments: of the latest
/// entry). Listings show the same totals.
pub fn paper_page_has_entries_newest_first_and_totals(store: &dyn Store) {
    assert_eq!(store.paper_page(&id("2403.00001")).expect("page"), None);
    let first = hf_record("2403.00001", 4, Some(10), 3);
    let mut second = hf_record("2403.00001", 6, Some(10), 0);
    if let Some(entry) = &mut second.entry {
        entry.num_comments = Some(7);
    }
    upsert(store, &[first.clone(), second.clone()]);
    upsert(store, &[arxiv_record("2403.00002", 1, "no entries")]);
    let ada = user(store, "ada");
    vote(store, &ada, "2403.00001", true);
    comment(store, "2403.00001", &ada, None, "nice", 1);

    let page = store
        .paper_page(&id("2403.00001"))
        .expect("page")
        .expect("known paper");
    assert_eq!(page.paper, stored(store, "2403.00001"));
    let days: Vec<NaiveDate> = page.entries.iter().map(|e| e.day).collect();
    assert_eq!(days, [day(6), day(4)]);
    assert_eq!(page.entries[1], first.entry.clone().expect("entry"));
    assert_eq!((page.upvotes, page.comments), (11, 8));
    assert_eq!(
        listed(store, &range(4, 4)),
        [("2403.00001".to_string(), 11, 8)]
    );

    let bare = store
        .paper_page(&id("2403.00002"))
        .expect("page")
        .expect("known paper");
    assert!(bare.entries.is_empty());
    assert_eq!((bare.upvotes, bare.comments), (0, 0));
}

/// The first user of an installation is an admin; later ones only when asked.
pub fn first_user_is_admin(store: &dyn Store) {
    let first = user(store, "first");
    assert!(first.is_admin);
    assert_eq!(
        (
            first.username.as_str(),
            first.email.as_str(),
            first.display_name.as_str()
        ),
        ("first", "first@example.org", "first Display"),
        "the email is lower-cased"
    );
    let second = user(store, "second");
    assert!(!second.is_admin);
    let third = store
        .create_user(
            &NewUser {
                admin: true,
                ..new_user("third")
            },
            at(2, 0, 0),
        )
        .expect("create");
    assert!(third.is_admin);
    assert_ne!(first.id, second.id);

    assert_eq!(store.user(second.id).expect("user"), Some(second.clone()));
    assert_eq!(
        store.user_by_username("second").expect("user"),
        Some(second.clone())
    );
    assert_eq!(
        store.user_by_username("SECOND").expect("user"),
        Some(second),
        "usernames are case-insensitive"
    );
    assert_eq!(store.user(UserId(9999)).expect("user"), None);
    assert_eq!(store.user_by_username("nobody").expect("user"), None);
}

/// A username (in any case) or an email (in any case) can sign up once.
pub fn taken_username_or_email_is_refused(store: &dyn Store) {
    user(store, "ada");
    let same_name = NewUser {
        email: "other@example.org".into(),
        ..new_user("ADA")
    };
    match store.create_user(&same_name, at(2, 0, 0)) {
        Err(StoreError::UsernameTaken { username }) => assert_eq!(username, "ADA"),
        other => panic!("expected UsernameTaken, got {other:?}"),
    }
    let same_email = NewUser {
        email: "ADA@EXAMPLE.ORG".into(),
        ..new_user("grace")
    };
    match store.create_user(&same_email, at(2, 0, 0)) {
        Err(StoreError::EmailTaken) => {}
        other => panic!("expected EmailTaken, got {other:?}"),
    }
    let both = new_user("ada");
    assert!(
        matches!(
            store.create_user(&both, at(2, 0, 0)),
            Err(StoreError::UsernameTaken { .. })
        ),
        "the username is named first"
    );
    // Nothing of the refused sign-ups was kept.
    assert_eq!(store.user_by_username("grace").expect("user"), None);
    user(store, "grace");
}

/// Sign-in by username or email, either in any case, with the password hash.
pub fn login_by_username_or_email(store: &dyn Store) {
    let ada = user(store, "ada");
    user(store, "grace");
    for name in ["ada", "Ada", "ada@example.org", " ADA@Example.ORG "] {
        let (found, hash) = store
            .user_for_login(name)
            .expect("login lookup")
            .unwrap_or_else(|| panic!("{name:?} finds ada"));
        assert_eq!(found, ada, "{name:?}");
        assert_eq!(hash, "$argon2id$hash-of-ada");
    }
    assert_eq!(store.user_for_login("nobody").expect("lookup"), None);
    assert_eq!(
        store.user_for_login("nobody@example.org").expect("lookup"),
        None
    );
}

/// A session is found by its token hash until it expires or is deleted.
pub fn sessions_expire_and_can_be_deleted(store: &dyn Store) {
    let ada = user(store, "ada");
    store
        .create_session(ada.id, "hash-1", "csrf-1", at(10, 0, 0))
        .expect("session");
    store
        .create_session(ada.id, "hash-2", "csrf-2", at(20, 0, 0))
        .expect("session");
    let session = store
        .session("hash-1", at(9, 23, 0))
        .expect("lookup")
        .expect("live session");
    assert_eq!(session.user, ada);
    assert_eq!(session.csrf_token, "csrf-1");
    assert_eq!(session.expires_at, at(10, 0, 0));
    assert_eq!(
        store.session("hash-1", at(10, 0, 0)).expect("lookup"),
        None,
        "expired at its expiry time"
    );
    assert_eq!(store.session("hash-1", at(11, 0, 0)).expect("lookup"), None);
    assert!(
        store
            .session("hash-2", at(11, 0, 0))
            .expect("lookup")
            .is_some()
    );
    store.delete_session("hash-2").expect("delete");
    assert_eq!(store.session("hash-2", at(11, 0, 0)).expect("lookup"), None);
    store
        .delete_session("hash-2")
        .expect("deleting twice is fine");
    assert_eq!(store.session("unknown", at(1, 0, 0)).expect("lookup"), None);
}

/// An API token leads to its user, and to no one else.
pub fn api_tokens_find_their_user(store: &dyn Store) {
    let ada = user(store, "ada");
    let grace = user(store, "grace");
    store
        .create_api_token(ada.id, "laptop", "token-hash-a", at(2, 0, 0))
        .expect("token");
    store
        .create_api_token(grace.id, "laptop", "token-hash-g", at(2, 0, 0))
        .expect("token");
    for _ in 0..2 {
        assert_eq!(
            store.user_for_api_token("token-hash-a").expect("lookup"),
            Some(ada.clone())
        );
    }
    assert_eq!(
        store.user_for_api_token("token-hash-g").expect("lookup"),
        Some(grace)
    );
    assert_eq!(store.user_for_api_token("unknown").expect("lookup"), None);
}

/// One upvote per user: upvoting twice counts once, withdrawing twice
/// withdraws once; totals add the source's count.
pub fn upvotes_are_idempotent_and_add_to_source(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(10), 0),
            hf_record("2403.00002", 4, None, 1),
        ],
    );
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    assert_eq!(vote(store, &ada, "2403.00001", true), 11);
    assert_eq!(vote(store, &ada, "2403.00001", true), 11);
    assert_eq!(vote(store, &grace, "2403.00001", true), 12);
    assert_eq!(vote(store, &ada, "2403.00001", false), 11);
    assert_eq!(vote(store, &ada, "2403.00001", false), 11);
    assert_eq!(
        vote(store, &grace, "2403.00002", true),
        1,
        "no source count"
    );
    assert_eq!(totals(store, "2403.00001"), (11, 2));
    assert_eq!(
        stored(store, "2403.00001").community.upvotes,
        Some(10),
        "the source's count is kept apart"
    );
    // The source's count moving on keeps users' votes on top of it.
    let mut later = hf_record("2403.00001", 4, Some(20), 0);
    later.paper.community.observed_at = Some(at(9, 0, 0));
    upsert(store, &[later]);
    assert_eq!(totals(store, "2403.00001").0, 21);
}

pub fn upvotes_need_a_known_paper(store: &dyn Store) {
    let ada = user(store, "ada");
    match store.set_upvote(ada.id, &id("2403.09999"), true) {
        Err(StoreError::PaperNotFound { id: missing }) => assert_eq!(missing, id("2403.09999")),
        other => panic!("expected PaperNotFound, got {other:?}"),
    }
}

/// Which papers of a page a user has upvoted, in the page's order.
pub fn upvoted_among_lists_the_users_votes(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            hf_record("2403.00002", 4, Some(1), 1),
            hf_record("2403.00003", 4, Some(1), 2),
        ],
    );
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    vote(store, &ada, "2403.00003", true);
    vote(store, &ada, "2403.00001", true);
    vote(store, &grace, "2403.00002", true);
    vote(store, &ada, "2403.00002", true);
    vote(store, &ada, "2403.00002", false);
    let page = [
        id("2403.00001"),
        id("2403.00002"),
        id("2403.00003"),
        id("2403.09999"),
    ];
    assert_eq!(
        store.upvoted_among(ada.id, &page).expect("upvoted"),
        [id("2403.00001"), id("2403.00003")]
    );
    assert_eq!(
        store.upvoted_among(grace.id, &page).expect("upvoted"),
        [id("2403.00002")]
    );
    assert!(
        store
            .upvoted_among(ada.id, &[])
            .expect("upvoted")
            .is_empty()
    );
}

/// Top-level comments oldest first, each followed by its replies oldest
/// first; a stored comment reads back as `add_comment` returned it.
pub fn comments_order_replies_after_their_parent(store: &dyn Store) {
    upsert(store, &[hf_record("2403.00001", 4, Some(1), 0)]);
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    let first = comment(store, "2403.00001", &ada, None, "first", 1);
    let second = comment(store, "2403.00001", &grace, None, "second", 2);
    comment(
        store,
        "2403.00001",
        &grace,
        Some(&first),
        "reply 1 to first",
        3,
    );
    comment(
        store,
        "2403.00001",
        &ada,
        Some(&second),
        "reply to second",
        4,
    );
    let late = comment(
        store,
        "2403.00001",
        &ada,
        Some(&first),
        "reply 2 to first",
        5,
    );
    assert_eq!(
        thread(store, "2403.00001"),
        [
            t("first", None),
            t("reply 1 to first", Some("first")),
            t("reply 2 to first", Some("first")),
            t("second", None),
            t("reply to second", Some("second")),
        ]
    );
    let comments = store.comments(&id("2403.00001")).expect("comments");
    assert_eq!(comments[0], first);
    assert_eq!(comments[2], late);
    assert_eq!(
        (
            late.author,
            late.author_name.as_str(),
            late.parent,
            late.created_at
        ),
        (ada.id, "ada", Some(first.id), at(2, 5, 0))
    );
    assert_eq!(totals(store, "2403.00001"), (1, 2 + 5));
    assert!(
        store
            .comments(&id("2403.09999"))
            .expect("comments")
            .is_empty()
    );
}

/// A reply answers a top-level comment of the same paper; nothing else.
pub fn replies_only_to_top_level_comments_of_the_same_paper(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            hf_record("2403.00002", 4, Some(1), 1),
        ],
    );
    let ada = user(store, "ada");
    let top = comment(store, "2403.00001", &ada, None, "top", 1);
    let reply = comment(store, "2403.00001", &ada, Some(&top), "reply", 2);
    let add = |paper: &str, parent: Option<CommentId>| {
        store.add_comment(&id(paper), ada.id, parent, "body", at(2, 3, 0))
    };
    match add("2403.00001", Some(reply.id)) {
        Err(StoreError::ReplyToReply { parent }) => assert_eq!(parent, reply.id.0),
        other => panic!("expected ReplyToReply, got {other:?}"),
    }
    match add("2403.00002", Some(top.id)) {
        Err(StoreError::CommentNotFound { id }) => assert_eq!(id, top.id.0),
        other => panic!("a parent on another paper: expected CommentNotFound, got {other:?}"),
    }
    match add("2403.00001", Some(CommentId(9999))) {
        Err(StoreError::CommentNotFound { id: 9999 }) => {}
        other => panic!("expected CommentNotFound, got {other:?}"),
    }
    match add("2403.09999", None) {
        Err(StoreError::PaperNotFound { .. }) => {}
        other => panic!("expected PaperNotFound, got {other:?}"),
    }
    assert_eq!(
        store.comments(&id("2403.00001")).expect("comments").len(),
        2
    );
    assert!(
        store
            .comments(&id("2403.00002"))
            .expect("comments")
            .is_empty()
    );
}

/// Only the author edits a comment; an edit keeps its place and says when.
pub fn comments_edited_only_by_their_author(store: &dyn Store) {
    upsert(store, &[hf_record("2403.00001", 4, Some(1), 0)]);
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    let first = comment(store, "2403.00001", &ada, None, "frist", 1);
    comment(store, "2403.00001", &grace, None, "second", 2);
    match store.edit_comment(first.id, grace.id, "hijacked", at(3, 0, 0)) {
        Err(StoreError::NotAllowed { .. }) => {}
        other => panic!("expected NotAllowed, got {other:?}"),
    }
    let edited = store
        .edit_comment(first.id, ada.id, "first", at(3, 0, 0))
        .expect("edit");
    assert_eq!(
        (edited.body.as_str(), edited.edited_at, edited.created_at),
        ("first", Some(at(3, 0, 0)), first.created_at)
    );
    let comments = store.comments(&id("2403.00001")).expect("comments");
    assert_eq!(comments[0], edited);
    assert_eq!(comments[1].body, "second");
    match store.edit_comment(CommentId(9999), ada.id, "x", at(3, 0, 0)) {
        Err(StoreError::CommentNotFound { id: 9999 }) => {}
        other => panic!("expected CommentNotFound, got {other:?}"),
    }
}

/// Deleting a comment that has replies keeps it as "deleted" (text gone) so
/// the replies keep their place; without replies it is gone. Only visible
/// comments count; the last reply of a deleted comment takes it along.
pub fn comments_deleted_softly_when_answered(store: &dyn Store) {
    upsert(store, &[hf_record("2403.00001", 4, Some(1), 0)]);
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    let answered = comment(store, "2403.00001", &ada, None, "answered", 1);
    let lonely = comment(store, "2403.00001", &ada, None, "lonely", 2);
    let reply = comment(store, "2403.00001", &grace, Some(&answered), "reply", 3);
    assert_eq!(totals(store, "2403.00001").1, 2 + 3);

    match store.delete_comment(answered.id, grace.id) {
        Err(StoreError::NotAllowed { .. }) => {}
        other => panic!("expected NotAllowed, got {other:?}"),
    }
    store.delete_comment(lonely.id, ada.id).expect("delete");
    store.delete_comment(answered.id, ada.id).expect("delete");
    assert_eq!(
        thread(store, "2403.00001"),
        [(String::new(), None, true, false), t("reply", Some("")),]
    );
    assert_eq!(totals(store, "2403.00001").1, 2 + 1);
    match store.edit_comment(answered.id, ada.id, "back", at(3, 0, 0)) {
        Err(StoreError::NotAllowed { .. }) => {}
        other => panic!("editing a deleted comment: expected NotAllowed, got {other:?}"),
    }
    match store.delete_comment(lonely.id, ada.id) {
        Err(StoreError::CommentNotFound { .. }) => {}
        other => panic!("expected CommentNotFound, got {other:?}"),
    }
    store.delete_comment(reply.id, grace.id).expect("delete");
    assert!(thread(store, "2403.00001").is_empty());
    assert_eq!(totals(store, "2403.00001").1, 2);
}

/// A hidden comment stays listed (marked) but leaves the count.
pub fn hidden_comments_leave_the_count(store: &dyn Store) {
    upsert(store, &[hf_record("2403.00001", 4, Some(1), 0)]);
    let ada = user(store, "ada");
    let spam = comment(store, "2403.00001", &ada, None, "spam", 1);
    comment(store, "2403.00001", &ada, None, "ham", 2);
    assert_eq!(totals(store, "2403.00001").1, 2 + 2);
    store.set_comment_hidden(spam.id, true).expect("hide");
    store.set_comment_hidden(spam.id, true).expect("hide twice");
    assert_eq!(totals(store, "2403.00001").1, 2 + 1);
    assert_eq!(listed(store, &range(4, 4))[0].2, 2 + 1);
    assert_eq!(
        thread(store, "2403.00001"),
        [("spam".into(), None, false, true), t("ham", None)]
    );
    store.set_comment_hidden(spam.id, false).expect("show");
    assert_eq!(totals(store, "2403.00001").1, 2 + 2);
    match store.set_comment_hidden(CommentId(9999), true) {
        Err(StoreError::CommentNotFound { id: 9999 }) => {}
        other => panic!("expected CommentNotFound, got {other:?}"),
    }
}

/// A reading list, most recently saved first; saving again keeps the first
/// time, and each user has their own.
pub fn saved_papers_newest_first(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            arxiv_record("2403.00002", 1, "two"),
            arxiv_record("2403.00003", 1, "three"),
        ],
    );
    let [ada, grace] = [user(store, "ada"), user(store, "grace")];
    let list = |user: &User| -> Vec<String> {
        store
            .saved_papers(user.id)
            .expect("reading list")
            .into_iter()
            .map(|p| p.id.to_string())
            .collect()
    };
    assert!(list(&ada).is_empty());
    for (s, d) in [("2403.00001", 2), ("2403.00002", 3), ("2403.00003", 4)] {
        store
            .set_saved(ada.id, &id(s), true, at(d, 0, 0))
            .expect("save");
    }
    store
        .set_saved(ada.id, &id("2403.00001"), true, at(9, 0, 0))
        .expect("save again");
    store
        .set_saved(ada.id, &id("2403.00002"), false, at(9, 0, 0))
        .expect("unsave");
    store
        .set_saved(ada.id, &id("2403.00002"), false, at(9, 0, 0))
        .expect("unsave again");
    assert_eq!(list(&ada), ["2403.00003", "2403.00001"]);
    assert_eq!(
        store.saved_papers(ada.id).expect("list")[1],
        stored(store, "2403.00001")
    );
    assert!(list(&grace).is_empty());
    match store.set_saved(ada.id, &id("2403.09999"), true, at(9, 0, 0)) {
        Err(StoreError::PaperNotFound { .. }) => {}
        other => panic!("expected PaperNotFound, got {other:?}"),
    }
}

/// A submitted paper goes to the end of the day's list, submitted by the
/// user, now; it is listed like any other entry.
pub fn submit_appends_a_known_paper_to_the_day(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            hf_record("2403.00002", 4, Some(1), 4),
            arxiv_record("2403.00003", 1, "fresh"),
            arxiv_record("2403.00004", 1, "fresher"),
        ],
    );
    let ada = user(store, "ada");
    let submitted_at = at(4, 9, 0) + chrono::Duration::nanoseconds(1_234_567);
    let entry = store
        .submit(&id("2403.00003"), day(4), &ada, submitted_at)
        .expect("submit");
    let expect = DailyEntry {
        paper_id: id("2403.00003"),
        day: day(4),
        submitter: Some(Submitter {
            name: "ada".into(),
            fullname: Some("ada Display".into()),
            avatar_url: None,
        }),
        position: 5,
        submitted_at: Some(at(4, 9, 1)),
        num_comments: None,
    };
    assert_eq!(entry, expect);
    let page = store
        .paper_page(&id("2403.00003"))
        .expect("page")
        .expect("known");
    assert_eq!(page.entries, [expect]);
    let ada_only = EntryQuery {
        submitter: Some("ada".into()),
        ..range(4, 4)
    };
    assert_eq!(ids_of(&listed(store, &ada_only)), ["2403.00003"]);
    assert_eq!(store.count_entries(&range(4, 4)).expect("count"), 3);

    let on_empty_day = store
        .submit(&id("2403.00004"), day(9), &ada, at(9, 0, 0))
        .expect("submit");
    assert_eq!(on_empty_day.position, 0);
    assert_eq!(
        store.day_with_entries_after(day(4)).expect("day"),
        Some(day(9))
    );
}

/// One submission per paper, and only of a paper the catalog has.
pub fn submit_refuses_a_listed_or_unknown_paper(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            arxiv_record("2403.00002", 1, "fresh"),
        ],
    );
    let ada = user(store, "ada");
    match store.submit(&id("2403.00001"), day(8), &ada, at(8, 0, 0)) {
        Err(StoreError::AlreadyListed {
            id: listed,
            day: on,
        }) => {
            assert_eq!((listed, on), (id("2403.00001"), day(4)))
        }
        other => panic!("expected AlreadyListed, got {other:?}"),
    }
    store
        .submit(&id("2403.00002"), day(8), &ada, at(8, 0, 0))
        .expect("submit");
    match store.submit(&id("2403.00002"), day(9), &ada, at(9, 0, 0)) {
        Err(StoreError::AlreadyListed { day: on, .. }) => assert_eq!(on, day(8)),
        other => panic!("expected AlreadyListed, got {other:?}"),
    }
    match store.submit(&id("2403.09999"), day(8), &ada, at(8, 0, 0)) {
        Err(StoreError::PaperNotFound { .. }) => {}
        other => panic!("expected PaperNotFound, got {other:?}"),
    }
    assert_eq!(store.stats().expect("stats").daily_entries, 2);
}

/// Votes, comments and submissions change a paper (derived indexes catch
/// up); doing nothing new, accounts and reading lists do not.
pub fn participation_bumps_the_change_seq(store: &dyn Store) {
    upsert(
        store,
        &[
            hf_record("2403.00001", 4, Some(1), 0),
            arxiv_record("2403.00002", 1, "fresh"),
        ],
    );
    let seq = || store.change_seq().expect("seq");
    let grows = |what: &str, before: u64| {
        let after = seq();
        assert!(after > before, "{what}: {before} -> {after}");
        after
    };
    let mut last = seq();
    let ada = user(store, "ada");
    store
        .create_session(ada.id, "h", "c", at(9, 0, 0))
        .expect("session");
    store
        .set_saved(ada.id, &id("2403.00001"), true, at(2, 0, 0))
        .expect("save");
    assert_eq!(
        seq(),
        last,
        "accounts and reading lists are not paper changes"
    );

    vote(store, &ada, "2403.00001", true);
    last = grows("an upvote", last);
    vote(store, &ada, "2403.00001", true);
    assert_eq!(seq(), last, "a repeated upvote changes nothing");
    vote(store, &ada, "2403.00001", false);
    last = grows("a withdrawn upvote", last);
    let c = comment(store, "2403.00001", &ada, None, "c", 1);
    last = grows("a comment", last);
    store
        .edit_comment(c.id, ada.id, "c2", at(2, 2, 0))
        .expect("edit");
    last = grows("an edit", last);
    store.set_comment_hidden(c.id, true).expect("hide");
    last = grows("hiding", last);
    store.delete_comment(c.id, ada.id).expect("delete");
    last = grows("a deletion", last);
    store
        .submit(&id("2403.00002"), day(5), &ada, at(5, 0, 0))
        .expect("submit");
    grows("a submission", last);
}

// ---------------------------------------------------------------------------
// Vectors

fn pv(s: &str, hash: &[u8], vector: &[f32]) -> PaperVector {
    PaperVector {
        id: id(s),
        text_hash: hash.to_vec(),
        vector: vector.to_vec(),
    }
}

/// Vectors read back exactly, per model; replacing one moves it to the end
/// of the vector sequence; the counts follow.
pub fn vectors_round_trip_and_follow_their_sequence(store: &dyn Store) {
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "one"),
            arxiv_record("2403.00002", 1, "two"),
            arxiv_record("2403.00003", 1, "three"),
        ],
    );
    assert_eq!(store.vector_seq().expect("seq"), 0);
    assert_eq!(
        store.vector_stats("m").expect("stats"),
        VectorStats {
            vectors: 0,
            papers: 3
        }
    );
    let a = pv("2403.00001", b"h1", &[0.6, 0.8, 0.0]);
    let b = pv("2403.00002", b"h2", &[0.0, -1.0, 1.0e-30]);
    store
        .put_vectors("m", &[a.clone(), b.clone()])
        .expect("put");
    store
        .put_vectors("other", &[pv("2403.00001", b"x", &[1.0])])
        .expect("another model, another dimension");
    assert_eq!(
        store.paper_vector("m", &id("2403.00001")).expect("read"),
        Some(a.clone())
    );
    assert_eq!(
        store.paper_vector("m", &id("2403.00003")).expect("read"),
        None
    );
    assert_eq!(
        store
            .paper_vector("other", &id("2403.00001"))
            .expect("read")
            .map(|v| v.vector),
        Some(vec![1.0])
    );
    let listed = store.vectors_changed_since("m", 0, 10).expect("list");
    assert_eq!(
        listed.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        vec![a.clone(), b.clone()]
    );
    let seqs: Vec<u64> = listed.iter().map(|(s, _)| *s).collect();
    assert!(seqs[0] < seqs[1], "{seqs:?}");
    let last = store.vector_seq().expect("seq");
    assert!(last >= seqs[1], "{last} vs {seqs:?}");

    let a2 = pv("2403.00001", b"h1b", &[0.0, 0.0, 1.0]);
    store
        .put_vectors("m", std::slice::from_ref(&a2))
        .expect("replace");
    let newer = store.vectors_changed_since("m", seqs[1], 10).expect("list");
    assert_eq!(newer.len(), 1, "only the replaced vector is newer");
    assert_eq!(newer[0].1, a2);
    assert!(store.vector_seq().expect("seq") > last);
    assert_eq!(
        store.vectors_changed_since("m", 0, 1).expect("limit").len(),
        1
    );
    assert_eq!(
        store.vector_stats("m").expect("stats"),
        VectorStats {
            vectors: 2,
            papers: 3
        }
    );
    assert_eq!(
        store.change_seq().expect("seq"),
        store.change_seq().expect("seq"),
        "reading changes nothing"
    );
}

/// A batch with an unknown paper or a vector of another length stores
/// nothing at all.
pub fn bad_vectors_store_nothing(store: &dyn Store) {
    upsert(store, &[arxiv_record("2403.00001", 1, "one")]);
    store
        .put_vectors("m", &[pv("2403.00001", b"h", &[1.0, 0.0])])
        .expect("put");
    let before = store.vector_seq().expect("seq");
    let err = store
        .put_vectors(
            "m",
            &[
                pv("2403.00001", b"h2", &[0.0, 1.0]),
                pv("2403.09999", b"h", &[1.0, 0.0]),
            ],
        )
        .expect_err("unknown paper");
    assert!(matches!(err, StoreError::PaperNotFound { .. }), "{err:?}");
    let err = store
        .put_vectors("m", &[pv("2403.00001", b"h3", &[1.0, 0.0, 0.0])])
        .expect_err("dimension");
    assert!(
        matches!(
            err,
            StoreError::VectorDimension {
                expected: 2,
                found: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.vector_seq().expect("seq"), before);
    assert_eq!(
        store
            .paper_vector("m", &id("2403.00001"))
            .expect("read")
            .map(|v| v.text_hash),
        Some(b"h".to_vec())
    );
}

/// The embedding job's view: papers in change order with the hash of their
/// stored vector, and an edited paper shows up again.
pub fn texts_changed_since_carry_the_vector_hash(store: &dyn Store) {
    let mut with_abstract = arxiv_record("2403.00001", 1, "one");
    with_abstract.paper.biblio.abstract_text = "An abstract.".into();
    upsert(
        store,
        &[with_abstract, arxiv_record("2403.00002", 1, "two")],
    );
    store
        .put_vectors("m", &[pv("2403.00002", b"h2", &[1.0])])
        .expect("put");
    let texts = store.texts_changed_since("m", 0, 10).expect("texts");
    let seen: Vec<(&str, &str, &str, Option<&[u8]>)> = texts
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.title.as_str(),
                t.abstract_text.as_str(),
                t.vector_hash.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("2403.00001", "one", "An abstract.", None),
            ("2403.00002", "two", "", Some(&b"h2"[..])),
        ]
    );
    assert!(texts[0].seq < texts[1].seq);
    assert!(
        store
            .texts_changed_since("m", texts[1].seq, 10)
            .expect("texts")
            .is_empty()
    );
    assert_eq!(
        store.texts_changed_since("m", 0, 1).expect("limit").len(),
        1
    );
    upsert(store, &[arxiv_record("2403.00002", 2, "two, revised")]);
    let again = store
        .texts_changed_since("m", texts[1].seq, 10)
        .expect("texts");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].title, "two, revised");
    assert_eq!(again[0].vector_hash.as_deref(), Some(&b"h2"[..]));
}

// ---------------------------------------------------------------------------
// Mail: subscriptions, outbox, saved searches

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("test address")
}

fn schedule(cadence: Cadence, send_at: &str, zone: &str) -> Schedule {
    Schedule {
        cadence,
        send_at: parse_send_time(send_at).expect("test send time"),
        zone: parse_zone(zone).expect("test zone"),
    }
}

/// Daily at 08:00 in Tokyo: from Monday 2024-03-04 00:00 UTC (09:00 there),
/// the next digest is Tuesday's, at 2024-03-04T23:00Z.
fn tokyo_daily() -> Schedule {
    schedule(Cadence::Daily, "08:00", "Asia/Tokyo")
}

fn new_subscription(address: &str, schedule: Schedule, confirm: &str) -> NewSubscription {
    NewSubscription {
        email: email(address),
        user: None,
        schedule,
        papers: 10,
        confirm_token_hash: confirm.into(),
        unsubscribe_token: format!("unsubscribe-{address}"),
    }
}

fn pending(store: &dyn Store, new: &NewSubscription, now: DateTime<Utc>) -> Subscription {
    match store.subscribe(new, now).expect("subscribe") {
        SubscribeOutcome::Pending(s) => s,
        other => panic!("expected pending, got {other:?}"),
    }
}

/// A confirmed subscription of `address`, confirmed at `now`.
fn active(
    store: &dyn Store,
    address: &str,
    schedule: Schedule,
    user: Option<UserId>,
    now: DateTime<Utc>,
) -> Subscription {
    let confirm = format!("confirm-{address}");
    let new = NewSubscription {
        user,
        ..new_subscription(address, schedule, &confirm)
    };
    pending(store, &new, now);
    store
        .confirm_subscription(&confirm, now)
        .expect("confirm")
        .expect("a pending subscription")
}

fn message(key: &str, kind: MessageKind, to: &Subscription, at: DateTime<Utc>) -> NewMessage {
    NewMessage {
        key: key.into(),
        kind,
        subscription: Some(to.id),
        recipient: to.email.clone(),
        edition: None,
        payload: format!("{{\"key\":\"{key}\"}}"),
        created_at: at,
    }
}

fn subscription_of(store: &dyn Store, id: SubscriptionId) -> Subscription {
    store
        .subscription(id)
        .expect("read subscription")
        .expect("subscription exists")
}

fn claimed_keys(messages: &[OutboxMessage]) -> Vec<(&str, u32)> {
    messages
        .iter()
        .map(|m| (m.key.as_str(), m.attempts))
        .collect()
}

fn new_search(user: UserId, query: &str, delivery: AlertDelivery) -> NewSavedSearch {
    NewSavedSearch {
        user,
        query: query.into(),
        min_upvotes: 0,
        exclude: Vec::new(),
        delivery,
    }
}

fn pending_papers(store: &dyn Store, user: UserId) -> Vec<String> {
    store
        .pending_alerts(user)
        .expect("pending alerts")
        .into_iter()
        .map(|a| a.paper.to_string())
        .collect()
}

fn ids(list: &[&str]) -> Vec<ArxivId> {
    list.iter().map(|s| id(s)).collect()
}

/// A new address is pending, findable every way, and nothing is due until it
/// is confirmed; the confirmation token works once and makes the first
/// digest due at the schedule's next local send time.
pub fn subscribe_then_confirm_once(store: &dyn Store) {
    let ada = user(store, "ada");
    let now = utc("2024-03-04T00:00:00.123Z");
    let new = NewSubscription {
        user: Some(ada.id),
        papers: 7,
        ..new_subscription("Ada@Example.org", tokyo_daily(), "hash-1")
    };
    let sub = pending(store, &new, now);
    assert_eq!(
        (
            sub.email.as_str(),
            sub.user,
            sub.status,
            sub.schedule,
            sub.papers,
            sub.unsubscribe_token.as_str(),
            sub.created_at,
            sub.confirmed_at,
            sub.next_due,
            sub.bounces,
        ),
        (
            "ada@example.org",
            Some(ada.id),
            SubscriptionStatus::Pending,
            tokyo_daily(),
            7,
            "unsubscribe-Ada@Example.org",
            now,
            None,
            None,
            0,
        )
    );
    assert_eq!(subscription_of(store, sub.id), sub);
    let found = [
        store.subscription_by_token(&sub.unsubscribe_token),
        store.subscription_by_email(&email("ada@example.org")),
        store.subscription_of_user(ada.id),
    ];
    for found in found {
        assert_eq!(found.expect("look up"), Some(sub.clone()));
    }
    assert_eq!(
        store.subscription_of_user(UserId(9999)).expect("look up"),
        None
    );
    assert!(
        store
            .due_subscriptions(utc("2030-01-01T00:00:00Z"), 10)
            .expect("due")
            .is_empty(),
        "nothing is due while pending"
    );

    assert_eq!(
        store.confirm_subscription("hash-x", now).expect("confirm"),
        None
    );
    let confirmed_at = utc("2024-03-04T00:00:05Z");
    let confirmed = store
        .confirm_subscription("hash-1", confirmed_at)
        .expect("confirm")
        .expect("the token is known");
    assert_eq!(confirmed.status, SubscriptionStatus::Active);
    assert_eq!(confirmed.confirmed_at, Some(confirmed_at));
    assert_eq!(
        confirmed.next_due,
        Some(utc("2024-03-04T23:00:00Z")),
        "Tuesday 08:00 in Tokyo"
    );
    assert_eq!(subscription_of(store, sub.id), confirmed);
    assert_eq!(
        store
            .confirm_subscription("hash-1", confirmed_at)
            .expect("confirm again"),
        None,
        "a confirmation token works once"
    );

    // Alerts only: confirmed, but no digest is ever due.
    let alerts = active(
        store,
        "bob@example.org",
        schedule(Cadence::AlertsOnly, "08:00", "UTC"),
        None,
        now,
    );
    assert_eq!(
        (alerts.status, alerts.next_due),
        (SubscriptionStatus::Active, None)
    );
}

/// Subscribing an active address changes nothing; a pending, unsubscribed
/// or paused one becomes pending again with the new token and settings,
/// keeping its id, unsubscribe token and (unless given) account.
pub fn subscribe_again_replaces_only_what_is_not_active(store: &dyn Store) {
    let ada = user(store, "ada");
    let now = utc("2024-03-04T00:00:00Z");
    let first = pending(
        store,
        &NewSubscription {
            user: Some(ada.id),
            ..new_subscription("ada@example.org", tokyo_daily(), "hash-1")
        },
        now,
    );
    let weekly = schedule(Cadence::Weekly, "09:30", "Europe/Berlin");
    let again = NewSubscription {
        papers: 20,
        unsubscribe_token: "another-token".into(),
        ..new_subscription("ada@example.org", weekly, "hash-2")
    };
    let second = pending(store, &again, utc("2024-03-04T01:00:00Z"));
    assert_eq!(second.id, first.id, "one subscription per address");
    assert_eq!(
        (
            second.schedule,
            second.papers,
            second.user,
            second.unsubscribe_token.as_str(),
            second.created_at,
        ),
        (
            weekly,
            20,
            Some(ada.id),
            first.unsubscribe_token.as_str(),
            now,
        )
    );
    assert_eq!(
        store.confirm_subscription("hash-1", now).expect("confirm"),
        None,
        "the old confirmation token is replaced"
    );
    let confirmed = store
        .confirm_subscription("hash-2", now)
        .expect("confirm")
        .expect("the new token works");

    let third = NewSubscription {
        papers: 3,
        ..new_subscription("ada@example.org", tokyo_daily(), "hash-3")
    };
    match store.subscribe(&third, now).expect("subscribe") {
        SubscribeOutcome::AlreadyActive(s) => assert_eq!(s, confirmed),
        other => panic!("expected already active, got {other:?}"),
    }
    assert_eq!(
        subscription_of(store, first.id),
        confirmed,
        "nothing changed"
    );
    assert_eq!(
        store.confirm_subscription("hash-3", now).expect("confirm"),
        None
    );

    store
        .unsubscribe(&first.unsubscribe_token, now)
        .expect("unsubscribe");
    let back = pending(store, &third, now);
    assert_eq!(
        (back.id, back.status, back.papers, back.next_due),
        (first.id, SubscriptionStatus::Pending, 3, None)
    );
    assert!(
        store
            .confirm_subscription("hash-3", now)
            .expect("confirm")
            .is_some()
    );
}

/// An active subscription asked for from an account it does not belong
/// to stays as it is and takes a link token; using the token links it to
/// that account and changes nothing else. Asking anonymously, or from the
/// account it belongs to, changes nothing; unsubscribing ends the link
/// request.
pub fn an_active_address_links_to_an_account_only_when_its_owner_confirms(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let later = utc("2024-03-05T00:00:00Z");
    let ada = user(store, "ada");
    let sub = active(store, "ada@example.org", tokyo_daily(), None, now);
    let from_ada = NewSubscription {
        user: Some(ada.id),
        papers: 3,
        ..new_subscription(
            "ada@example.org",
            schedule(Cadence::Weekly, "09:00", "UTC"),
            "link-1",
        )
    };
    match store.subscribe(&from_ada, later).expect("subscribe") {
        SubscribeOutcome::LinkRequested(s) => assert_eq!(s, sub, "nothing changed yet"),
        other => panic!("expected a link request, got {other:?}"),
    }
    assert_eq!(subscription_of(store, sub.id), sub);
    assert_eq!(store.subscription_of_user(ada.id).expect("read"), None);

    assert_eq!(
        store
            .confirm_subscription("link-1", later)
            .expect("confirm"),
        None,
        "a link token confirms nothing"
    );
    let linked = store
        .link_subscription("link-1", later)
        .expect("link")
        .expect("the link token works");
    assert_eq!(
        linked,
        Subscription {
            user: Some(ada.id),
            ..sub.clone()
        },
        "linked; schedule, papers, status and next digest as they were"
    );
    assert_eq!(
        store.subscription_of_user(ada.id).expect("read"),
        Some(linked.clone())
    );
    assert_eq!(
        store.link_subscription("link-1", later).expect("link"),
        None,
        "used once"
    );

    // From its own account, or anonymously: already active, nothing to do.
    let again = NewSubscription {
        confirm_token_hash: "link-2".into(),
        ..from_ada.clone()
    };
    let anonymous = NewSubscription {
        user: None,
        confirm_token_hash: "link-3".into(),
        ..from_ada.clone()
    };
    for new in [&again, &anonymous] {
        match store.subscribe(new, later).expect("subscribe") {
            SubscribeOutcome::AlreadyActive(s) => assert_eq!(s, linked),
            other => panic!("expected already active, got {other:?}"),
        }
    }
    for token in ["link-2", "link-3"] {
        assert_eq!(store.link_subscription(token, later).expect("link"), None);
    }
    // A pending subscription's token links nothing (and still confirms).
    let grace = pending(
        store,
        &NewSubscription {
            user: Some(ada.id),
            ..new_subscription("grace@example.org", tokyo_daily(), "confirm-grace")
        },
        later,
    );
    assert_eq!(
        store
            .link_subscription("confirm-grace", later)
            .expect("link"),
        None
    );
    assert_eq!(subscription_of(store, grace.id), grace);

    // Another account asks; the owner leaves instead: the token is void.
    let bob = user(store, "bob");
    let from_bob = NewSubscription {
        user: Some(bob.id),
        confirm_token_hash: "link-4".into(),
        ..from_ada
    };
    assert!(matches!(
        store.subscribe(&from_bob, later).expect("subscribe"),
        SubscribeOutcome::LinkRequested(_)
    ));
    store
        .unsubscribe(&sub.unsubscribe_token, later)
        .expect("unsubscribe");
    assert_eq!(
        store.link_subscription("link-4", later).expect("link"),
        None
    );
    let left = subscription_of(store, sub.id);
    assert_eq!(
        (left.status, left.user),
        (SubscriptionStatus::Unsubscribed, Some(ada.id))
    );
}

/// Unsubscribing returns the subscription as it was (so a second click can
/// say "already unsubscribed"), stops its digests and ends a pending
/// request's confirmation token.
pub fn unsubscribe_returns_the_subscription_as_it_was(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let sub = active(store, "ada@example.org", tokyo_daily(), None, now);
    let before = store
        .unsubscribe(&sub.unsubscribe_token, now)
        .expect("unsubscribe")
        .expect("known token");
    assert_eq!(before, sub);
    let after = subscription_of(store, sub.id);
    assert_eq!(
        (after.status, after.next_due),
        (SubscriptionStatus::Unsubscribed, None)
    );
    let again = store
        .unsubscribe(&sub.unsubscribe_token, now)
        .expect("unsubscribe again")
        .expect("known token");
    assert_eq!(again.status, SubscriptionStatus::Unsubscribed);
    assert_eq!(
        store.unsubscribe("no-such-token", now).expect("unknown"),
        None
    );
    assert!(
        store
            .due_subscriptions(utc("2030-01-01T00:00:00Z"), 10)
            .expect("due")
            .is_empty()
    );

    let new = new_subscription("bob@example.org", tokyo_daily(), "hash-bob");
    let bob = pending(store, &new, now);
    store
        .unsubscribe(&bob.unsubscribe_token, now)
        .expect("unsubscribe a pending one");
    assert_eq!(
        store
            .confirm_subscription("hash-bob", now)
            .expect("confirm"),
        None,
        "leaving ends the request"
    );
}

/// New settings make an active subscription's next digest due by the new
/// schedule from now; a pending one stays without a due time.
pub fn update_subscription_reschedules_active_ones(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let sub = active(store, "ada@example.org", tokyo_daily(), None, now);
    let later = utc("2024-03-04T12:00:00Z");
    let berlin = schedule(Cadence::Weekly, "09:30", "Europe/Berlin");
    let updated = store
        .update_subscription(sub.id, &berlin, 25, later)
        .expect("update");
    assert_eq!(
        (updated.schedule, updated.papers, updated.next_due),
        (berlin, 25, Some(utc("2024-03-11T08:30:00Z"))),
        "the next Monday 09:30 in Berlin (CET)"
    );
    assert_eq!(subscription_of(store, sub.id), updated);
    let alerts = schedule(Cadence::AlertsOnly, "09:30", "Europe/Berlin");
    let updated = store
        .update_subscription(sub.id, &alerts, 25, later)
        .expect("update");
    assert_eq!(updated.next_due, None);

    let bob = pending(
        store,
        &new_subscription("bob@example.org", alerts, "hash-bob"),
        now,
    );
    let updated = store
        .update_subscription(bob.id, &tokyo_daily(), 5, later)
        .expect("update a pending one");
    assert_eq!(
        (updated.status, updated.schedule, updated.next_due),
        (SubscriptionStatus::Pending, tokyo_daily(), None)
    );
    let err = store
        .update_subscription(SubscriptionId(9999), &tokyo_daily(), 5, later)
        .expect_err("unknown subscription");
    assert!(
        matches!(err, StoreError::SubscriptionNotFound { id: 9999 }),
        "{err:?}"
    );
}

/// Due subscriptions: active ones whose digest is due by now, soonest
/// first, at most `limit`.
pub fn due_subscriptions_soonest_first(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let tokyo = active(store, "tokyo@example.org", tokyo_daily(), None, now);
    let new_york = active(
        store,
        "ny@example.org",
        schedule(Cadence::Daily, "08:00", "America/New_York"),
        None,
        now,
    );
    let berlin = active(
        store,
        "berlin@example.org",
        schedule(Cadence::Daily, "08:00", "Europe/Berlin"),
        None,
        now,
    );
    active(
        store,
        "alerts@example.org",
        schedule(Cadence::AlertsOnly, "08:00", "UTC"),
        None,
        now,
    );
    pending(
        store,
        &new_subscription("pending@example.org", tokyo_daily(), "hash-p"),
        now,
    );
    let gone = active(store, "gone@example.org", tokyo_daily(), None, now);
    store
        .unsubscribe(&gone.unsubscribe_token, now)
        .expect("unsubscribe");

    assert_eq!(
        (berlin.next_due, new_york.next_due, tokyo.next_due),
        (
            Some(utc("2024-03-04T07:00:00Z")),
            Some(utc("2024-03-04T13:00:00Z")),
            Some(utc("2024-03-04T23:00:00Z"))
        )
    );
    let due = |at: &str, limit: usize| -> Vec<String> {
        store
            .due_subscriptions(utc(at), limit)
            .expect("due")
            .into_iter()
            .map(|s| s.email.to_string())
            .collect()
    };
    assert!(due("2024-03-04T06:59:59.999Z", 10).is_empty());
    assert_eq!(due("2024-03-04T07:00:00Z", 10), ["berlin@example.org"]);
    assert_eq!(
        due("2024-03-05T00:00:00Z", 10),
        ["berlin@example.org", "ny@example.org", "tokyo@example.org"]
    );
    assert_eq!(
        due("2024-03-05T00:00:00Z", 2),
        ["berlin@example.org", "ny@example.org"]
    );
}

/// A period is queued once: the call that moves the subscription on from
/// `due` queues its message; a second call with the same `due` (another
/// sender) does nothing, and a message key queued before is not queued again.
pub fn queue_digest_moves_a_period_on_once(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let sub = active(store, "ada@example.org", tokyo_daily(), None, now);
    let due = sub.next_due.expect("due");
    let next = utc("2024-03-05T23:00:00Z");
    let edition = store
        .put_edition("daily-2024-03-05", "[papers]")
        .expect("edition");
    let digest = NewMessage {
        edition: Some(edition),
        ..message("digest-daily-2024-03-05-s1", MessageKind::Digest, &sub, due)
    };
    assert!(
        store
            .queue_digest(sub.id, Some(&digest), due, Some(next), &[])
            .expect("queue")
    );
    assert_eq!(subscription_of(store, sub.id).next_due, Some(next));
    assert!(
        !store
            .queue_digest(sub.id, Some(&digest), due, Some(next), &[])
            .expect("queue again"),
        "the period has moved on"
    );
    let queued = store.messages_to(&sub.email).expect("messages");
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (
            queued[0].key.as_str(),
            queued[0].kind,
            queued[0].subscription,
            queued[0].edition.as_deref(),
            queued[0].payload.as_str(),
            queued[0].status,
            queued[0].attempts,
        ),
        (
            "digest-daily-2024-03-05-s1",
            MessageKind::Digest,
            Some(sub.id),
            Some("[papers]"),
            digest.payload.as_str(),
            MessageStatus::Queued,
            0,
        )
    );
    assert_eq!(
        store.message(queued[0].id).expect("message"),
        Some(queued[0].clone())
    );

    // The next period, with a key that exists: moved on, nothing queued.
    let after = utc("2024-03-06T23:00:00Z");
    assert!(
        store
            .queue_digest(sub.id, Some(&digest), next, Some(after), &[])
            .expect("queue")
    );
    assert_eq!(store.messages_to(&sub.email).expect("messages").len(), 1);
    // A period with nothing to send moves on too.
    assert!(
        store
            .queue_digest(sub.id, None, after, None, &[])
            .expect("queue")
    );
    assert_eq!(subscription_of(store, sub.id).next_due, None);
    assert_eq!(store.messages_to(&sub.email).expect("messages").len(), 1);

    let gone = active(store, "gone@example.org", tokyo_daily(), None, now);
    store
        .unsubscribe(&gone.unsubscribe_token, now)
        .expect("unsubscribe");
    let to_gone = message("digest-gone", MessageKind::Digest, &gone, due);
    assert!(
        !store
            .queue_digest(gone.id, Some(&to_gone), due, Some(next), &[])
            .expect("queue"),
        "not for an unsubscribed address"
    );
    assert!(store.messages_to(&gone.email).expect("messages").is_empty());
}

/// An edition, once stored, keeps its id and content.
pub fn put_edition_keeps_the_first_content(store: &dyn Store) {
    let first = store
        .put_edition("weekly-2024-03-04", "first")
        .expect("put");
    let again = store
        .put_edition("weekly-2024-03-04", "second")
        .expect("put again");
    let other = store.put_edition("daily-2024-03-05", "other").expect("put");
    assert_eq!(first, again);
    assert_ne!(first, other);
    let sub = active(
        store,
        "ada@example.org",
        tokyo_daily(),
        None,
        utc("2024-03-04T00:00:00Z"),
    );
    let id = store
        .queue_message(
            &NewMessage {
                edition: Some(again),
                ..message("m1", MessageKind::Digest, &sub, utc("2024-03-04T00:00:00Z"))
            },
            None,
            &[],
        )
        .expect("queue")
        .expect("new key");
    assert_eq!(
        store
            .message(id)
            .expect("message")
            .expect("queued")
            .edition
            .as_deref(),
        Some("first")
    );
}

/// A claim holds messages until the lease ends, oldest first, counting an
/// attempt each time; a retry waits for its time; a sent message is done.
pub fn claimed_messages_are_leased_until_settled(store: &dyn Store) {
    let t0 = utc("2024-03-04T00:00:00Z");
    let min = |m: i64| t0 + chrono::Duration::minutes(m);
    let sub = active(store, "ada@example.org", tokyo_daily(), None, t0);
    let m1 = store
        .queue_message(&message("m1", MessageKind::Alert, &sub, t0), None, &[])
        .expect("queue")
        .expect("new");
    let m2 = store
        .queue_message(&message("m2", MessageKind::Alert, &sub, t0), None, &[])
        .expect("queue")
        .expect("new");
    store
        .queue_message(
            &message("later", MessageKind::Alert, &sub, min(60)),
            None,
            &[],
        )
        .expect("queue");
    assert_eq!(
        store
            .queue_message(&message("m1", MessageKind::Alert, &sub, t0), None, &[])
            .expect("queue"),
        None,
        "a key is queued once"
    );

    let first = store.claim_messages(t0, min(5), 1).expect("claim");
    assert_eq!(claimed_keys(&first), [("m1", 1)]);
    assert_eq!(first[0].id, m1);
    assert_eq!(first[0].status, MessageStatus::Queued);
    assert_eq!(
        claimed_keys(&store.claim_messages(t0, min(5), 10).expect("claim")),
        [("m2", 1)]
    );
    assert!(
        store
            .claim_messages(min(4), min(9), 10)
            .expect("claim")
            .is_empty(),
        "held until the lease ends"
    );
    assert_eq!(
        claimed_keys(&store.claim_messages(min(5), min(10), 10).expect("claim")),
        [("m1", 2), ("m2", 2)],
        "a sender that died leaves them to others"
    );

    store
        .mark_retry(m1, "451 try again later", min(30))
        .expect("retry");
    store.mark_sent(&[m2], min(6)).expect("sent");
    assert!(
        store
            .claim_messages(min(29), min(40), 10)
            .expect("claim")
            .is_empty()
    );
    let retried = store.message(m1).expect("message").expect("queued");
    assert_eq!(
        (retried.status, retried.last_error.as_deref()),
        (MessageStatus::Queued, Some("451 try again later"))
    );
    let sent = store.message(m2).expect("message").expect("queued");
    assert_eq!(
        (sent.status, sent.sent_at),
        (MessageStatus::Sent, Some(min(6)))
    );
    assert_eq!(
        claimed_keys(&store.claim_messages(min(60), min(70), 10).expect("claim")),
        [("m1", 3), ("later", 1)]
    );
    assert_eq!(
        store.outbox_stats().expect("stats"),
        OutboxStats {
            queued: 2,
            sent: 1,
            failed: 0
        }
    );
    // One unknown id: nothing of the batch is marked.
    let queued = store.outbox_stats().expect("stats").queued;
    let err = store
        .mark_sent(&[m1, MessageId(9999)], t0)
        .expect_err("unknown message");
    assert!(
        matches!(err, StoreError::MessageNotFound { id: 9999 }),
        "{err:?}"
    );
    assert_eq!(store.outbox_stats().expect("stats").queued, queued);
}

/// Messages of a subscription that no longer wants them are failed when a
/// sender would claim them, and do not count against the claim's limit; a
/// pending subscription gets its confirmation mail and nothing else, an
/// active one anything but (a link mail too).
pub fn claim_fails_messages_of_inactive_subscriptions(store: &dyn Store) {
    let t0 = utc("2024-03-04T00:00:00Z");
    let gone = active(store, "gone@example.org", tokyo_daily(), None, t0);
    let waiting = pending(
        store,
        &new_subscription("new@example.org", tokyo_daily(), "hash-new"),
        t0,
    );
    let ada = active(store, "ada@example.org", tokyo_daily(), None, t0);
    let queue = |m: NewMessage| {
        store
            .queue_message(&m, None, &[])
            .expect("queue")
            .expect("new")
    };
    let to_gone = queue(message("to-gone", MessageKind::Digest, &gone, t0));
    let confirm = queue(message("confirm-new", MessageKind::Confirm, &waiting, t0));
    let early = queue(message("digest-new", MessageKind::Digest, &waiting, t0));
    let link_new = queue(message("link-new", MessageKind::Link, &waiting, t0));
    queue(message("to-ada", MessageKind::Digest, &ada, t0));
    queue(message("link-ada", MessageKind::Link, &ada, t0));
    let no_subscription = queue(NewMessage {
        subscription: None,
        ..message("operator", MessageKind::Alert, &ada, t0)
    });
    store
        .unsubscribe(&gone.unsubscribe_token, t0)
        .expect("unsubscribe");

    let claimed = store
        .claim_messages(t0, t0 + chrono::Duration::minutes(5), 2)
        .expect("claim");
    assert_eq!(claimed_keys(&claimed), [("confirm-new", 1), ("to-ada", 1)]);
    assert_eq!(claimed[0].id, confirm);
    let failed = |id: MessageId| {
        let m = store.message(id).expect("message").expect("kept");
        (m.status, m.last_error)
    };
    assert_eq!(
        failed(to_gone),
        (
            MessageStatus::Failed,
            Some("subscription is unsubscribed".to_string())
        )
    );
    for id in [early, link_new] {
        assert_eq!(
            failed(id),
            (
                MessageStatus::Failed,
                Some("subscription is pending".to_string())
            )
        );
    }
    assert_eq!(
        claimed_keys(
            &store
                .claim_messages(t0, t0 + chrono::Duration::minutes(5), 10)
                .expect("claim")
        ),
        [("link-ada", 1), ("operator", 1)]
    );
    assert_eq!(failed(no_subscription).0, MessageStatus::Queued);
    assert_eq!(
        store.outbox_stats().expect("stats"),
        OutboxStats {
            queued: 4,
            sent: 0,
            failed: 3
        }
    );
}

/// Permanent failures in a row pause a subscription at `pause_after`; a
/// sent message resets the count; a failure is counted once.
pub fn bounces_pause_a_subscription(store: &dyn Store) {
    let t0 = utc("2024-03-04T00:00:00Z");
    let sub = active(store, "ada@example.org", tokyo_daily(), None, t0);
    let mut n = 0;
    let mut queue = || {
        n += 1;
        store
            .queue_message(
                &message(&format!("m{n}"), MessageKind::Alert, &sub, t0),
                None,
                &[],
            )
            .expect("queue")
            .expect("new")
    };
    let (m1, m2, m3, m4, m5, m6) = (queue(), queue(), queue(), queue(), queue(), queue());
    let m7 = queue();
    let fail = |id| {
        store
            .mark_failed(id, "550 no such user", t0, Some(3))
            .expect("mark failed")
    };
    // A failure that is not a bounce (our content) counts nothing.
    assert!(
        !store
            .mark_failed(m7, "cannot render", t0, None)
            .expect("mark failed")
    );
    assert_eq!(subscription_of(store, sub.id).bounces, 0);
    assert!(!fail(m1));
    assert!(!fail(m2));
    assert!(!fail(m2), "marking one message twice");
    assert_eq!(subscription_of(store, sub.id).bounces, 2);
    store.mark_sent(&[m3], t0).expect("sent");
    assert_eq!(subscription_of(store, sub.id).bounces, 0);
    assert!(!fail(m4));
    assert!(!fail(m5));
    assert!(fail(m6), "the third bounce in a row pauses it");
    let paused = subscription_of(store, sub.id);
    assert_eq!(
        (paused.status, paused.next_due, paused.bounces),
        (SubscriptionStatus::Paused, None, 3)
    );
    let m = store.message(m6).expect("message").expect("kept");
    assert_eq!(
        (m.status, m.last_error.as_deref()),
        (MessageStatus::Failed, Some("550 no such user"))
    );
    assert!(
        store
            .due_subscriptions(utc("2030-01-01T00:00:00Z"), 10)
            .expect("due")
            .is_empty()
    );
    // Subscribing again asks for a new confirmation.
    let again = pending(
        store,
        &new_subscription("ada@example.org", tokyo_daily(), "hash-again"),
        t0,
    );
    assert_eq!(again.id, sub.id);
    let confirmed = store
        .confirm_subscription("hash-again", t0)
        .expect("confirm")
        .expect("pending");
    assert_eq!(
        (confirmed.status, confirmed.bounces),
        (SubscriptionStatus::Active, 0)
    );
}

/// Messages of a kind to an address since a time (limits on confirmation
/// mails).
pub fn count_messages_to_by_kind_and_time(store: &dyn Store) {
    let t0 = utc("2024-03-04T00:00:00Z");
    let hour = |h: i64| t0 + chrono::Duration::hours(h);
    let ada = pending(
        store,
        &new_subscription("ada@example.org", tokyo_daily(), "hash-ada"),
        t0,
    );
    let bob = pending(
        store,
        &new_subscription("bob@example.org", tokyo_daily(), "hash-bob"),
        t0,
    );
    for (key, kind, to, at) in [
        ("c1", MessageKind::Confirm, &ada, hour(0)),
        ("c2", MessageKind::Confirm, &ada, hour(2)),
        ("c3", MessageKind::Confirm, &ada, hour(3)),
        ("d1", MessageKind::Digest, &ada, hour(3)),
        ("c4", MessageKind::Confirm, &bob, hour(3)),
    ] {
        store
            .queue_message(&message(key, kind, to, at), None, &[])
            .expect("queue");
    }
    let counted = |kind, since| {
        store
            .count_messages_to(&ada.email, kind, since)
            .expect("count")
    };
    assert_eq!(counted(MessageKind::Confirm, hour(0)), 3);
    assert_eq!(counted(MessageKind::Confirm, hour(2)), 2, "at or after");
    assert_eq!(counted(MessageKind::Confirm, hour(4)), 0);
    assert_eq!(counted(MessageKind::Digest, hour(0)), 1);
    assert_eq!(counted(MessageKind::Alert, hour(0)), 0);
    let keys: Vec<String> = store
        .messages_to(&ada.email)
        .expect("messages")
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["c1", "c2", "c3", "d1"], "oldest first");
}

/// A saved search matches from the change sequence at which it was saved;
/// it reads back as saved; only its owner deletes it; searches of users
/// without an active subscription are not run.
pub fn saved_searches_start_at_the_change_seq(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let [ada, bob] = [user(store, "ada"), user(store, "bob")];
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "one"),
            arxiv_record("2403.00002", 1, "two"),
        ],
    );
    let seq = store.change_seq().expect("seq");
    assert!(seq > 0);
    let new = NewSavedSearch {
        min_upvotes: 5,
        exclude: vec!["survey".into(), "“quoted” wörd".into()],
        ..new_search(
            ada.id,
            "ti:\"large language\" -vision",
            AlertDelivery::Digest,
        )
    };
    let saved = store.add_saved_search(&new, now).expect("save");
    assert_eq!(
        saved,
        SavedSearch {
            id: saved.id,
            user: ada.id,
            query: new.query.clone(),
            min_upvotes: 5,
            exclude: new.exclude.clone(),
            delivery: AlertDelivery::Digest,
            created_at: now,
            cursor: seq,
        }
    );
    upsert(store, &[arxiv_record("2403.00003", 1, "three")]);
    let second = store
        .add_saved_search(
            &new_search(ada.id, "au:hinton", AlertDelivery::Immediate),
            now,
        )
        .expect("save");
    assert!(second.cursor > seq);
    let bobs = store
        .add_saved_search(&new_search(bob.id, "cat:cs.CL", AlertDelivery::Digest), now)
        .expect("save");
    assert_eq!(
        store.saved_searches_of(ada.id).expect("list"),
        [saved.clone(), second.clone()]
    );
    let err = store
        .add_saved_search(&new_search(UserId(9999), "x", AlertDelivery::Digest), now)
        .expect_err("unknown user");
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");

    assert!(
        store.active_saved_searches().expect("active").is_empty(),
        "nobody is subscribed yet"
    );
    active(store, "ada@example.org", tokyo_daily(), Some(ada.id), now);
    let bob_sub = pending(
        store,
        &NewSubscription {
            user: Some(bob.id),
            ..new_subscription("bob@example.org", tokyo_daily(), "hash-bob")
        },
        now,
    );
    let active_ids = || -> Vec<SavedSearchId> {
        store
            .active_saved_searches()
            .expect("active")
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(active_ids(), [saved.id, second.id]);
    store
        .confirm_subscription("hash-bob", now)
        .expect("confirm");
    assert_eq!(active_ids(), [saved.id, second.id, bobs.id]);
    store
        .unsubscribe(&bob_sub.unsubscribe_token, now)
        .expect("unsubscribe");
    assert_eq!(active_ids(), [saved.id, second.id]);

    let err = store
        .delete_saved_search(saved.id, bob.id)
        .expect_err("another's search");
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
    store
        .delete_saved_search(SavedSearchId(9999), ada.id)
        .expect("a missing search is no error");
    store.delete_saved_search(saved.id, ada.id).expect("delete");
    assert_eq!(store.saved_searches_of(ada.id).expect("list"), [second]);
}

/// A paper is recorded once per user, whichever of their searches found
/// it; the cursor only moves forward; an unknown paper records nothing.
pub fn alert_matches_are_recorded_once_per_user(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let [ada, bob] = [user(store, "ada"), user(store, "bob")];
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "one"),
            arxiv_record("2403.00002", 1, "two"),
            arxiv_record("2403.00003", 1, "three"),
        ],
    );
    let digest = store
        .add_saved_search(&new_search(ada.id, "llm", AlertDelivery::Digest), now)
        .expect("save");
    let immediate = store
        .add_saved_search(
            &new_search(ada.id, "au:lecun", AlertDelivery::Immediate),
            now,
        )
        .expect("save");
    let bobs = store
        .add_saved_search(&new_search(bob.id, "llm", AlertDelivery::Digest), now)
        .expect("save");

    let recorded = store
        .record_alert_matches(digest.id, &ids(&["2403.00002", "2403.00001"]), 50)
        .expect("record");
    assert_eq!(recorded, 2);
    let recorded = store
        .record_alert_matches(immediate.id, &ids(&["2403.00001", "2403.00003"]), 40)
        .expect("record");
    assert_eq!(recorded, 1, "2403.00001 was found for ada already");
    assert_eq!(
        store
            .record_alert_matches(bobs.id, &ids(&["2403.00001"]), 7)
            .expect("record"),
        1,
        "another user gets it too"
    );
    assert_eq!(
        store.pending_alerts(ada.id).expect("pending"),
        [
            PendingAlert {
                paper: id("2403.00002"),
                search: digest.id,
                query: "llm".into(),
                delivery: AlertDelivery::Digest,
            },
            PendingAlert {
                paper: id("2403.00001"),
                search: digest.id,
                query: "llm".into(),
                delivery: AlertDelivery::Digest,
            },
            PendingAlert {
                paper: id("2403.00003"),
                search: immediate.id,
                query: "au:lecun".into(),
                delivery: AlertDelivery::Immediate,
            },
        ]
    );
    assert_eq!(
        store
            .users_with_pending_alerts(AlertDelivery::Digest)
            .expect("users"),
        [ada.id, bob.id]
    );
    assert_eq!(
        store
            .users_with_pending_alerts(AlertDelivery::Immediate)
            .expect("users"),
        [ada.id]
    );

    let cursor_of = |search: SavedSearchId| {
        store
            .saved_searches_of(ada.id)
            .expect("list")
            .into_iter()
            .find(|s| s.id == search)
            .expect("saved")
            .cursor
    };
    assert_eq!(cursor_of(digest.id), 50);
    store
        .record_alert_matches(digest.id, &[], 30)
        .expect("record nothing");
    assert_eq!(cursor_of(digest.id), 50, "never backwards");

    let err = store
        .record_alert_matches(immediate.id, &ids(&["2403.00002", "2403.09999"]), 90)
        .expect_err("unknown paper");
    assert!(matches!(err, StoreError::PaperNotFound { .. }), "{err:?}");
    assert_eq!(cursor_of(immediate.id), 40, "nothing stored");
    assert_eq!(
        pending_papers(store, ada.id),
        ["2403.00002", "2403.00001", "2403.00003"]
    );
    assert_eq!(
        store
            .record_alert_matches(SavedSearchId(9999), &ids(&["2403.00001"]), 1)
            .expect("a deleted search records nothing"),
        0
    );

    // Deleting a search drops its pending matches.
    store
        .delete_saved_search(immediate.id, ada.id)
        .expect("delete");
    assert_eq!(pending_papers(store, ada.id), ["2403.00002", "2403.00001"]);
    assert_eq!(
        store
            .users_with_pending_alerts(AlertDelivery::Immediate)
            .expect("users"),
        []
    );
}

/// Papers carried by a queued message (an alert mail, or folded into a
/// digest) are no longer pending and are never recorded again; a message
/// whose key existed carries nothing.
pub fn queued_alerts_are_no_longer_pending(store: &dyn Store) {
    let now = utc("2024-03-04T00:00:00Z");
    let ada = user(store, "ada");
    upsert(
        store,
        &[
            arxiv_record("2403.00001", 1, "one"),
            arxiv_record("2403.00002", 1, "two"),
            arxiv_record("2403.00003", 1, "three"),
        ],
    );
    let sub = active(store, "ada@example.org", tokyo_daily(), Some(ada.id), now);
    let search = store
        .add_saved_search(&new_search(ada.id, "llm", AlertDelivery::Immediate), now)
        .expect("save");
    store
        .record_alert_matches(
            search.id,
            &ids(&["2403.00001", "2403.00002", "2403.00003"]),
            3,
        )
        .expect("record");

    let alert = message("alert-1", MessageKind::Alert, &sub, now);
    let first = store
        .queue_message(&alert, Some(ada.id), &ids(&["2403.00001"]))
        .expect("queue")
        .expect("new");
    assert_eq!(pending_papers(store, ada.id), ["2403.00002", "2403.00003"]);
    assert_eq!(
        store
            .queue_message(&alert, Some(ada.id), &ids(&["2403.00002"]))
            .expect("queue"),
        None
    );
    assert_eq!(
        pending_papers(store, ada.id),
        ["2403.00002", "2403.00003"],
        "a message that was not queued carries nothing"
    );

    let due = sub.next_due.expect("due");
    let digest = message("digest-1", MessageKind::Digest, &sub, due);
    assert!(
        store
            .queue_digest(
                sub.id,
                Some(&digest),
                due,
                Some(due + chrono::Duration::days(1)),
                &ids(&["2403.00001", "2403.00002"]),
            )
            .expect("queue digest")
    );
    assert_eq!(pending_papers(store, ada.id), ["2403.00003"]);
    assert!(
        store
            .users_with_pending_alerts(AlertDelivery::Digest)
            .expect("users")
            .is_empty()
    );
    assert_eq!(
        store
            .record_alert_matches(search.id, &ids(&["2403.00001", "2403.00002"]), 4)
            .expect("record again"),
        0,
        "nobody gets the same paper twice"
    );
    assert_eq!(
        store.message(first).expect("message").map(|m| m.key),
        Some("alert-1".to_string())
    );
}

// ---------------------------------------------------------------------------
// Job leases

pub fn job_leases_exclude_others_until_they_run_out(store: &dyn Store) {
    let (now, until) = (at(4, 8, 0), at(4, 8, 30_000));
    assert!(
        store
            .try_lease("embed", "node-a", now, until)
            .expect("take a free lease")
    );
    assert!(
        !store
            .try_lease("embed", "node-b", at(4, 8, 10_000), at(4, 8, 40_000))
            .expect("ask"),
        "a lease that has not run out belongs to its holder"
    );
    assert!(
        store
            .try_lease("sync:hf", "node-b", now, until)
            .expect("another job"),
        "leases are per job"
    );
    assert!(
        store
            .try_lease("embed", "node-a", at(4, 8, 20_000), at(4, 8, 50_000))
            .expect("renew"),
        "the holder renews its lease"
    );
    assert!(
        !store
            .try_lease("embed", "node-b", at(4, 8, 40_000), at(4, 8, 70_000))
            .expect("ask"),
        "the renewed lease runs to its new end"
    );
    assert!(
        store
            .try_lease("embed", "node-b", at(4, 8, 50_000), at(4, 8, 80_000))
            .expect("take over"),
        "a lease that ran out is taken over"
    );
    assert!(
        !store
            .try_lease("embed", "node-a", at(4, 8, 60_000), at(4, 8, 90_000))
            .expect("ask"),
        "the old holder has lost it"
    );
}

pub fn job_leases_are_released_only_by_their_holder(store: &dyn Store) {
    let (now, until) = (at(4, 8, 0), at(4, 9, 0));
    assert!(
        store
            .try_lease("digests", "node-a", now, until)
            .expect("take")
    );
    store
        .release_lease("digests", "node-b")
        .expect("release by another");
    assert!(
        !store
            .try_lease("digests", "node-b", now, until)
            .expect("ask"),
        "another process cannot release the lease"
    );
    store.release_lease("digests", "node-a").expect("release");
    assert!(
        store
            .try_lease("digests", "node-b", now, until)
            .expect("take after release"),
        "a released lease is free at once"
    );
}

// ---------------------------------------------------------------------------
// Rate limits

/// At most `max` attempts per key in any window; a refused attempt is not
/// counted and says when a slot frees; windows slide; kinds and keys are
/// counted apart; a taken-back attempt no longer counts.
pub fn rate_limits_count_attempts_in_a_sliding_window(store: &dyn Store) {
    let window = chrono::Duration::seconds(60);
    let t = |secs: u32| at(4, 8, secs * 1000);
    let hit = |kind: &str, key: &str, now| {
        store
            .hit_limit(kind, key, now, window, 3)
            .expect("count an attempt")
    };
    // (second, refused until): three in the window, then refusals that
    // count nothing, then the window slides past the first.
    for (second, refused_until) in [
        (0, None),
        (10, None),
        (20, None),
        (30, Some(t(60))),
        (59, Some(t(60))),
        (60, None),
        (61, Some(t(70))),
        (70, None),
        (80, None),
        (81, Some(t(120))),
    ] {
        assert_eq!(
            hit("login", "ip-a", t(second)),
            refused_until,
            "at {second} s"
        );
    }
    assert_eq!(hit("login", "ip-b", t(81)), None, "keys apart");
    assert_eq!(hit("signup", "ip-a", t(81)), None, "kinds apart");

    // A login that succeeded is taken back: a slot is free again.
    store.forget_hit("login", "ip-a", t(80)).expect("take back");
    store
        .forget_hit("login", "ip-a", t(999))
        .expect("nothing to take back");
    assert_eq!(hit("login", "ip-a", t(82)), None);
    assert_eq!(hit("login", "ip-a", t(83)), Some(t(120)));

    // Long after, everything has left its window (and is forgotten).
    for key in ["ip-a", "ip-b"] {
        for n in 0..3 {
            assert_eq!(hit("login", key, t(300 + n)), None, "{key} #{n}");
        }
    }
}

/// Attempts at the same moment from many threads (connections, on
/// PostgreSQL) are counted up to the limit and no further.
pub fn rate_limits_hold_under_concurrent_attempts(store: &dyn Store) {
    let now = at(4, 8, 0);
    let allowed = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let refused = store
                        .hit_limit("login", "ada", now, chrono::Duration::seconds(60), 7)
                        .expect("count an attempt");
                    if refused.is_none() {
                        allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(allowed.into_inner(), 7);
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
