//! What only the SQLite backend has for the web site: many voters at once on
//! one file (through two stores, as two processes would), readers of the pool
//! meanwhile, a database of schema 0001 migrated with its data, damaged
//! account rows.

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use paperboy_core::{ArxivId, DailyEntry, NewUser, Paper, SourceRecord, User};
use paperboy_store::{
    Accounts, EntryQuery, ListOrder, Listings, Participation, SqliteStore, Store, StoreError,
};
use rusqlite::Connection;

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("test day")
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        display_name: name.into(),
        password_hash: "hash".into(),
        admin: false,
    }
}

fn listed_paper(s: &str, upvotes: Option<u32>, position: u32) -> SourceRecord {
    let mut paper = Paper::new(id(s));
    paper.biblio.title = format!("Paper {s}");
    paper.community.upvotes = upvotes;
    let entry = DailyEntry {
        paper_id: paper.id.clone(),
        day: day(4),
        submitter: None,
        position,
        submitted_at: None,
        num_comments: Some(1),
    };
    SourceRecord {
        paper,
        entry: Some(entry),
    }
}

fn day_query() -> EntryQuery {
    EntryQuery {
        from: day(4),
        to: day(4),
        submitter: None,
        order: ListOrder::Upvotes,
        offset: 0,
        limit: 100,
    }
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("open the database directly")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).expect(sql)
}

/// 50 users toggle their upvotes of one paper 200 times in all, from 10
/// threads over two stores on one file (as two server processes would), while
/// readers list the day. The count ends exact, and every total returned on
/// the way was possible.
#[test]
fn concurrent_toggles_keep_the_count_exact() {
    const USERS: usize = 50;
    const THREADS: usize = 10;
    const ROUNDS: usize = 4;
    const SOURCE: u32 = 7;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.sqlite");
    let stores: [Arc<SqliteStore>; 2] = [
        Arc::new(SqliteStore::open(&path).expect("open")),
        Arc::new(SqliteStore::open(&path).expect("open a second store")),
    ];
    stores[0]
        .upsert(&[
            listed_paper("2403.00001", Some(SOURCE), 0),
            listed_paper("2403.00002", Some(10), 1),
        ])
        .expect("upsert");
    let users: Vec<User> = (0..USERS)
        .map(|i| {
            stores[0]
                .create_user(&new_user(&format!("voter{i}")), Utc::now())
                .expect("user")
        })
        .collect();
    // Each user's toggles run in order on one thread: up, down, up, then up
    // for even users and down for odd ones; threads interleave freely.
    let final_vote = |i: usize| i.is_multiple_of(2);
    let voters: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&stores[t % 2]);
            let mine: Vec<(usize, User)> = users
                .iter()
                .cloned()
                .enumerate()
                .filter(|(i, _)| i % THREADS == t)
                .collect();
            std::thread::spawn(move || {
                for round in 0..ROUNDS {
                    for (i, user) in &mine {
                        let up = if round == ROUNDS - 1 {
                            final_vote(*i)
                        } else {
                            round.is_multiple_of(2)
                        };
                        let state = store
                            .set_upvote(user.id, &id("2403.00001"), up)
                            .expect("toggle");
                        assert_eq!(state.upvoted, up);
                        assert!(
                            (SOURCE + u32::from(up)..=SOURCE + USERS as u32)
                                .contains(&state.upvotes),
                            "impossible total {}",
                            state.upvotes
                        );
                    }
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let store = Arc::clone(&stores[r % 2]);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let listed = store.entries(&day_query()).expect("list");
                    assert_eq!(listed.len(), 2);
                    let ours = listed
                        .iter()
                        .find(|l| l.paper.id == id("2403.00001"))
                        .expect("listed");
                    assert!(ours.upvotes >= SOURCE && ours.upvotes <= SOURCE + USERS as u32);
                }
            })
        })
        .collect();
    for thread in voters.into_iter().chain(readers) {
        thread.join().expect("thread");
    }

    let expect_users = (0..USERS).filter(|&i| final_vote(i)).count() as u32;
    for store in &stores {
        let page = store
            .paper_page(&id("2403.00001"))
            .expect("page")
            .expect("known");
        assert_eq!(page.upvotes, SOURCE + expect_users);
    }
    let conn = raw(&path);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM upvotes"),
        i64::from(expect_users)
    );
    assert_eq!(
        count(
            &conn,
            "SELECT user_upvotes FROM papers WHERE id = '2403.00001'"
        ),
        i64::from(expect_users)
    );
    // The ranking follows: 7 + 25 upvotes now beat the other paper's 10.
    let first = &stores[1].entries(&day_query()).expect("list")[0];
    assert_eq!(first.paper.id, id("2403.00001"));
}

/// Migration 0001 as released, to build a database of that schema.
const SCHEMA_0001: &str = include_str!("../../src/sqlite/migrations/0001_initial.sql");

/// A database that only migration 0001 made (with data in it) opens, is
/// migrated, keeps its data, and takes votes and comments.
#[test]
fn a_0001_database_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.sqlite");
    {
        let conn = raw(&path);
        conn.execute_batch(SCHEMA_0001).expect("schema 0001");
        conn.execute_batch(
            "INSERT INTO papers (id, version, title, abstract, authors, categories, withdrawn, \
               upvotes, ai_keywords, seq, created_at) \
             VALUES ('2403.00001', 2, 'Old paper', 'An abstract.', '[\"A. Author\"]', '[\"cs.CL\"]', \
               0, 7, '[]', 1, '2024-03-04T00:00:00.000Z'); \
             INSERT INTO daily_entries (paper_id, day, submitter_name, position, num_comments) \
             VALUES ('2403.00001', '2024-03-04', 'akhaliq', 0, 3); \
             UPDATE meta SET value = 1 WHERE key = 'change_seq'; \
             INSERT INTO sync_state (key, value, updated_at) VALUES ('oai:cs', 'token', 'x'); \
             PRAGMA user_version = 1;",
        )
        .expect("data of schema 0001");
    }

    let store = SqliteStore::open(&path).expect("open and migrate");
    assert_eq!(
        raw(&path)
            .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            .expect("user_version"),
        SqliteStore::schema_version()
    );
    let paper = store.paper(&id("2403.00001")).expect("read").expect("kept");
    assert_eq!(
        (paper.biblio.title.as_str(), paper.community.upvotes),
        ("Old paper", Some(7))
    );
    assert_eq!(
        store.sync_state("oai:cs").expect("cursor").as_deref(),
        Some("token")
    );
    assert_eq!(store.change_seq().expect("seq"), 1);
    let listed = store.entries(&day_query()).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].upvotes, listed[0].comments), (7, 3));

    let ada = store
        .create_user(&new_user("ada"), Utc::now())
        .expect("user");
    assert!(ada.is_admin, "the first user of a migrated installation");
    assert_eq!(
        store
            .set_upvote(ada.id, &id("2403.00001"), true)
            .expect("vote")
            .upvotes,
        8
    );
    store
        .add_comment(&id("2403.00001"), ada.id, None, "still here", Utc::now())
        .expect("comment");
    let page = store
        .paper_page(&id("2403.00001"))
        .expect("page")
        .expect("known");
    assert_eq!((page.upvotes, page.comments), (8, 4));
    assert!(store.change_seq().expect("seq") > 1);
    drop(store);
    // And it opens again as it is.
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(store.stats().expect("stats").papers, 1);
}

/// Damaged account and comment rows are errors naming the row, not panics.
#[test]
fn damaged_site_rows_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store
        .upsert(&[listed_paper("2403.00001", Some(1), 0)])
        .expect("upsert");
    let ada = store
        .create_user(&new_user("ada"), Utc::now())
        .expect("user");
    store
        .create_session(
            ada.id,
            "h",
            "c",
            Utc.with_ymd_and_hms(2999, 1, 1, 0, 0, 0).unwrap(),
        )
        .expect("session");
    store
        .add_comment(&id("2403.00001"), ada.id, None, "hi", Utc::now())
        .expect("comment");

    let conn = raw(&path);
    conn.execute("UPDATE comments SET created_at = 'today'", [])
        .expect("damage");
    match store.comments(&id("2403.00001")) {
        Err(StoreError::CorruptRow {
            table: "comments",
            field: "created_at",
            ..
        }) => {}
        other => panic!("expected CorruptRow, got {other:?}"),
    }
    conn.execute("UPDATE sessions SET expires_at = 'never'", [])
        .expect("damage");
    match store.session("h", Utc::now()) {
        Err(StoreError::CorruptRow {
            field: "sessions.expires_at",
            ..
        }) => {}
        other => panic!("expected CorruptRow, got {other:?}"),
    }
    conn.execute("UPDATE users SET created_at = NULL", [])
        .expect_err("NOT NULL holds");
    conn.execute("UPDATE users SET is_admin = 'maybe'", [])
        .expect("damage");
    match store.user(ada.id) {
        Err(StoreError::CorruptRow {
            table: "users",
            field: "is_admin",
            ..
        }) => {}
        other => panic!("expected CorruptRow, got {other:?}"),
    }
    conn.execute("UPDATE papers SET user_upvotes = -4", [])
        .expect("damage");
    match store.entries(&day_query()) {
        Err(StoreError::Corrupt {
            field: "user_upvotes",
            ..
        }) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Using an API token records when, at most about once an hour.
#[test]
fn api_token_use_is_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    let ada = store
        .create_user(&new_user("ada"), Utc::now())
        .expect("user");
    store
        .create_api_token(ada.id, "cli", "th", Utc::now())
        .expect("token");
    let last_used = || -> Option<String> {
        raw(&path)
            .query_row("SELECT last_used_at FROM api_tokens", [], |row| row.get(0))
            .expect("last_used_at")
    };
    assert_eq!(last_used(), None);
    store.user_for_api_token("th").expect("lookup");
    let first = last_used().expect("recorded");
    store.user_for_api_token("th").expect("lookup");
    assert_eq!(last_used(), Some(first), "not rewritten on every use");
}

/// A store remembers recent listings, but a change made through another
/// store on the same file (another process) shows at once: the change
/// sequence in the database moved.
#[test]
fn listings_follow_changes_made_by_another_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.sqlite");
    let (web, other) = (
        SqliteStore::open(&path).expect("open"),
        SqliteStore::open(&path).expect("open again"),
    );
    other
        .upsert(&[
            listed_paper("2403.00001", Some(5), 0),
            listed_paper("2403.00002", Some(5), 1),
        ])
        .expect("upsert");
    let ranked = |store: &SqliteStore| -> Vec<(String, u32)> {
        store
            .entries(&day_query())
            .expect("list")
            .into_iter()
            .map(|l| (l.paper.id.to_string(), l.upvotes))
            .collect()
    };
    let expect = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
        list.iter().map(|(s, u)| (s.to_string(), *u)).collect()
    };
    for _ in 0..2 {
        assert_eq!(
            ranked(&web),
            expect(&[("2403.00001", 5), ("2403.00002", 5)])
        );
        assert_eq!(web.count_entries(&day_query()).expect("count"), 2);
    }
    let ada = other
        .create_user(&new_user("ada"), Utc::now())
        .expect("user");
    other
        .set_upvote(ada.id, &id("2403.00002"), true)
        .expect("vote");
    assert_eq!(
        ranked(&web),
        expect(&[("2403.00002", 6), ("2403.00001", 5)])
    );
    other
        .upsert(&[listed_paper("2403.00003", Some(9), 2)])
        .expect("upsert");
    assert_eq!(ranked(&web)[0], ("2403.00003".to_string(), 9));
    assert_eq!(web.count_entries(&day_query()).expect("count"), 3);
    // What does not change a listing leaves it remembered, and right.
    other.set_sync_state("oai:cs", "t").expect("cursor");
    assert_eq!(ranked(&web).len(), 3);
}
