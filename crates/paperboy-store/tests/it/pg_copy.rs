//! `copy_sqlite_to_postgres` (`paperboy migrate`): an SQLite installation
//! with something in every table, copied into a fresh PostgreSQL schema and
//! read back through both stores; refusals and roll-backs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::mail::{parse_send_time, parse_zone};
use paperboy_core::{
    ArxivId, Cadence, CommentId, DailyEntry, EmailAddress, MessageId, NewUser, Paper, Schedule,
    SourceRecord, Submitter, UserId,
};
use paperboy_store::{
    Accounts, AlertDelivery, CopyError, CopyReport, CopyStep, EntryQuery, Jobs, Limits, ListOrder,
    Listings, Mail, MessageKind, NewMessage, NewSavedSearch, NewSubscription, PaperVector,
    Participation, PgStore, SqliteStore, Store, Vectors, copied_tables, copy_sqlite_to_postgres,
};
use rusqlite::Connection;

use crate::pg::{TempSchema, database_url};

const MODEL: &str = "test-model";

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("test day")
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("test address")
}

fn paper(s: &str, title: &str) -> Paper {
    let mut paper = Paper::new(id(s));
    paper.biblio.title = title.into();
    paper.biblio.abstract_text = format!("The abstract of {title}.");
    paper
}

fn entry(paper: &Paper, d: u32, position: u32, submitter: Option<&str>) -> DailyEntry {
    DailyEntry {
        paper_id: paper.id.clone(),
        day: day(d),
        submitter: submitter.map(|name| Submitter {
            name: name.into(),
            fullname: Some(format!("{name} Fullname")),
            avatar_url: None,
        }),
        position,
        submitted_at: Some(utc("2024-03-03T21:00:00.123Z")),
        num_comments: Some(position),
    }
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        display_name: format!("{name} Display"),
        password_hash: format!("hash-{name}"),
        admin: false,
    }
}

/// The papers of the installation: one with every field, one bare, one
/// withdrawn with text that needs escaping in most formats.
fn papers() -> Vec<SourceRecord> {
    let mut full = paper("2403.00001", "Full: Ünïcode ≠ ASCII 🚀");
    full.biblio.version = Some(3);
    full.biblio.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    full.biblio.categories = vec!["cs.LG".into(), "stat.ML".into()];
    full.biblio.primary_category = Some("cs.LG".into());
    full.biblio.published = Some(utc("2024-03-01T10:00:00Z"));
    full.biblio.updated = Some(utc("2024-03-02T10:00:00.5Z"));
    full.biblio.comments = Some("12 pages".into());
    full.biblio.journal_ref = Some("J. Tests 1 (2024)".into());
    full.biblio.doi = Some("10.1000/xyz".into());
    full.biblio.license = Some("http://creativecommons.org/licenses/by/4.0/".into());
    full.community.observed_at = Some(utc("2024-03-04T00:00:00Z"));
    full.community.upvotes = Some(42);
    full.community.github_repo = Some("https://github.com/x/y".into());
    full.community.github_stars = Some(7);
    full.community.project_page = Some("https://x.example".into());
    full.community.ai_summary = Some("Summary.".into());
    full.community.ai_keywords = vec!["copy".into(), "verify".into()];

    let bare = paper("2403.00002", "Bare");

    let mut odd = paper(
        "2403.00003",
        "Tabs\tnew\nlines \\ back\\slashes \"quotes\" 'single'",
    );
    odd.biblio.abstract_text = "\\N is not NULL;\r\n\u{1}control\u{7f} and \\x00 text".into();
    odd.biblio.withdrawn = true;
    odd.community.upvotes = Some(1);

    let listed = paper("2403.00004", "Listed twice");
    vec![
        SourceRecord {
            entry: Some(entry(&full, 4, 1, Some("Submitter"))),
            paper: full,
        },
        SourceRecord {
            paper: bare,
            entry: None,
        },
        SourceRecord {
            entry: Some(entry(&odd, 4, 2, None)),
            paper: odd,
        },
        SourceRecord {
            entry: Some(entry(&listed, 4, 3, Some("submitter"))),
            paper: listed.clone(),
        },
        SourceRecord {
            entry: Some(entry(&listed, 5, 1, None)),
            paper: listed,
        },
    ]
}

/// An SQLite installation with rows in every table, through the public
/// API (as the site and the mail job make them).
fn populate(store: &SqliteStore) {
    let now = utc("2024-03-05T12:00:00.250Z");
    store.upsert(&papers()).expect("import");
    store
        .set_sync_state("oai", "resumption|token")
        .expect("sync state");
    store
        .set_sync_state("hf", "2024-03-05")
        .expect("sync state");
    assert!(
        store
            .try_lease("embed", "node-1", now, utc("2024-03-05T12:10:00Z"))
            .expect("lease")
    );
    for key in ["ip-hash-1", "ip-hash-2"] {
        assert_eq!(
            store
                .hit_limit("login", key, now, chrono::Duration::minutes(5), 10)
                .expect("count an attempt"),
            None
        );
    }

    let alice = store.create_user(&new_user("Alice"), now).expect("alice");
    let bob = store.create_user(&new_user("bob"), now).expect("bob");
    let carol = store.create_user(&new_user("carol"), now).expect("carol");
    assert!(alice.is_admin && !bob.is_admin);

    store
        .create_session(
            alice.id,
            "session-hash-a",
            "csrf-a",
            utc("2099-01-01T00:00:00Z"),
        )
        .expect("session");
    store
        .create_session(
            bob.id,
            "session-hash-b",
            "csrf-b",
            utc("2099-01-02T00:00:00Z"),
        )
        .expect("session");
    store
        .create_api_token(bob.id, "laptop", "token-hash-b", now)
        .expect("api token");

    let (p1, p2, p3) = (id("2403.00001"), id("2403.00002"), id("2403.00003"));
    store.set_upvote(alice.id, &p1, true).expect("upvote");
    store.set_upvote(bob.id, &p1, true).expect("upvote");
    store.set_upvote(bob.id, &p3, true).expect("upvote");

    let top = store
        .add_comment(&p1, alice.id, None, "First!\nWith a line break.", now)
        .expect("comment");
    let reply = store
        .add_comment(&p1, bob.id, Some(top.id), "A reply", now)
        .expect("reply");
    store
        .edit_comment(
            reply.id,
            bob.id,
            "A reply, edited",
            utc("2024-03-05T12:01:00Z"),
        )
        .expect("edit");
    let doomed = store
        .add_comment(&p1, carol.id, None, "Deleted but answered", now)
        .expect("comment");
    store
        .add_comment(&p1, alice.id, Some(doomed.id), "An answer", now)
        .expect("reply");
    store.delete_comment(doomed.id, carol.id).expect("delete");
    let rude = store
        .add_comment(&p3, carol.id, None, "Rude", now)
        .expect("comment");
    store.set_comment_hidden(rude.id, true).expect("hide");
    let gone = store
        .add_comment(&p3, bob.id, None, "Gone without a trace", now)
        .expect("comment");
    store.delete_comment(gone.id, bob.id).expect("delete");

    // Saved in the same millisecond: only SQLite's rowid orders them.
    for paper in [&p2, &p1, &p3] {
        store.set_saved(alice.id, paper, true, now).expect("save");
    }
    store.set_saved(bob.id, &p3, true, now).expect("save");

    store
        .put_vectors(
            MODEL,
            &[
                PaperVector {
                    id: p1.clone(),
                    text_hash: vec![0, 1, 2, 255],
                    vector: vec![0.5, -1.0, f32::MIN_POSITIVE, 3.25],
                },
                PaperVector {
                    id: p2.clone(),
                    text_hash: vec![],
                    vector: vec![1.0, 2.0, 3.0, 4.0],
                },
            ],
        )
        .expect("vectors");

    let schedule = Schedule {
        cadence: Cadence::Weekly,
        send_at: parse_send_time("07:30").expect("time"),
        zone: parse_zone("Europe/Berlin").expect("zone"),
    };
    let subscription = NewSubscription {
        email: email("alice@example.org"),
        user: Some(alice.id),
        schedule,
        papers: 5,
        confirm_token_hash: "confirm-hash-a".into(),
        unsubscribe_token: "unsubscribe-a".into(),
    };
    store.subscribe(&subscription, now).expect("subscribe");
    let active = store
        .confirm_subscription("confirm-hash-a", now)
        .expect("confirm")
        .expect("pending");
    store
        .subscribe(
            &NewSubscription {
                email: email("pending@example.org"),
                user: None,
                confirm_token_hash: "confirm-hash-p".into(),
                unsubscribe_token: "unsubscribe-p".into(),
                ..subscription.clone()
            },
            now,
        )
        .expect("subscribe");

    let edition = store
        .put_edition("weekly-2024-03-04", "[\"2403.00001\"]")
        .expect("edition");
    let digest = store
        .queue_message(
            &NewMessage {
                key: "digest-1".into(),
                kind: MessageKind::Digest,
                subscription: Some(active.id),
                recipient: email("alice@example.org"),
                edition: Some(edition),
                payload: "{\"week\": 10}".into(),
                created_at: now,
            },
            None,
            &[],
        )
        .expect("queue")
        .expect("new message");
    store.mark_sent(&[digest], now).expect("sent");

    let search = store
        .add_saved_search(
            &NewSavedSearch {
                user: alice.id,
                query: "ti:copy \"exact phrase\"".into(),
                min_upvotes: 3,
                exclude: vec!["survey".into()],
                delivery: AlertDelivery::Immediate,
            },
            now,
        )
        .expect("saved search");
    store
        .add_saved_search(
            &NewSavedSearch {
                user: bob.id,
                query: "graphs".into(),
                min_upvotes: 0,
                exclude: vec![],
                delivery: AlertDelivery::Digest,
            },
            now,
        )
        .expect("saved search");
    store
        .record_alert_matches(search.id, &[p1.clone(), p2.clone(), p3.clone()], 5)
        .expect("matches");
    let alert = store
        .queue_message(
            &NewMessage {
                key: "alert-1".into(),
                kind: MessageKind::Alert,
                subscription: Some(active.id),
                recipient: email("alice@example.org"),
                edition: None,
                payload: "{}".into(),
                created_at: now,
            },
            Some(alice.id),
            std::slice::from_ref(&p1),
        )
        .expect("queue")
        .expect("new message");
    store
        .mark_failed(alert, "550 no such user", now, Some(1))
        .expect("failed");
    store
        .queue_message(
            &NewMessage {
                key: "confirm-p".into(),
                kind: MessageKind::Confirm,
                subscription: None,
                recipient: email("pending@example.org"),
                edition: None,
                payload: "{\"token\": \"t\"}".into(),
                created_at: now,
            },
            None,
            &[],
        )
        .expect("queue");
}

/// A populated SQLite installation in a temporary directory.
struct Source {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: SqliteStore,
}

fn source() -> Source {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.db");
    let store = SqliteStore::open(&path).expect("open the SQLite store");
    populate(&store);
    Source {
        _dir: dir,
        path,
        store,
    }
}

fn copy(path: &Path, target: &TempSchema) -> Result<CopyReport, CopyError> {
    copy_sqlite_to_postgres(path, &database_url(), Some(target.schema()), |_| {})
}

fn sqlite_count(path: &Path, table: &str) -> u64 {
    let conn = Connection::open(path).expect("open SQLite");
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
        row.get::<_, i64>(0)
    })
    .expect("count") as u64
}

/// A plain connection into the schema, for what the stores do not show.
fn pg(target: &TempSchema) -> postgres::Client {
    let mut client = postgres::Client::connect(&database_url(), postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!("SET search_path TO \"{}\"", target.schema()))
        .expect("search path");
    client
}

fn pg_count(client: &mut postgres::Client, table: &str) -> u64 {
    client
        .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .expect("count")
        .get::<_, i64>(0) as u64
}

/// Every table's row count and meta's values, to see that nothing changed.
fn pg_state(target: &TempSchema) -> Vec<(String, u64)> {
    let mut client = pg(target);
    let mut state: Vec<(String, u64)> = copied_tables()
        .map(|table| (table.to_string(), pg_count(&mut client, table)))
        .collect();
    for row in client
        .query("SELECT key, value FROM meta ORDER BY key", &[])
        .expect("meta")
    {
        state.push((row.get(0), row.get::<_, i64>(1) as u64));
    }
    state
}

fn sqlite_tables(path: &Path) -> BTreeSet<String> {
    let conn = Connection::open(path).expect("open SQLite");
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables")
}

#[test]
fn the_copy_knows_every_table_of_both_schemas() {
    let known: BTreeSet<String> = copied_tables().map(String::from).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paperboy.db");
    drop(SqliteStore::open(&path).expect("open"));
    assert_eq!(
        sqlite_tables(&path),
        known,
        "a table of the SQLite schema is missing from the copy (copy.rs TABLES), or the other way round"
    );

    let target = TempSchema::new();
    let mut client = pg(&target);
    let pg_tables: BTreeSet<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(pg_tables, known);
}

#[test]
fn a_populated_installation_is_copied_and_verified() {
    let source = source();
    let target = TempSchema::new();
    let mut steps = Vec::new();
    let report = copy_sqlite_to_postgres(
        &source.path,
        &database_url(),
        Some(target.schema()),
        |progress| steps.push(progress),
    )
    .expect("copy");

    // Every table, in order, with SQLite's counts; none is empty here.
    let tables: Vec<&str> = report.tables.iter().map(|t| t.table).collect();
    assert_eq!(tables, copied_tables().collect::<Vec<_>>());
    let mut client = pg(&target);
    for table in &report.tables {
        let expected = sqlite_count(&source.path, table.table);
        assert!(expected > 0, "the test leaves {} empty", table.table);
        assert_eq!(table.rows, expected, "{}", table.table);
        assert_eq!(
            pg_count(&mut client, table.table),
            expected,
            "{}",
            table.table
        );
        assert_eq!(table.checksum.len(), 64);
        assert!(table.checksum.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert_eq!(report.table("papers").expect("papers").rows, 4);
    assert_eq!(report.table("daily_entries").expect("entries").rows, 4);
    assert_eq!(report.table("comments").expect("comments").rows, 5);
    assert_eq!(report.table("saved_papers").expect("saved").rows, 4);
    assert_eq!(
        report.rows(),
        report.tables.iter().map(|t| t.rows).sum::<u64>()
    );
    assert!(report.target.contains(target.schema()), "{}", report.target);

    // Progress: every table copied, then every table verified, counting up
    // to the total.
    let last = |step| {
        steps
            .iter()
            .rev()
            .find(|p| p.step == step)
            .copied()
            .expect("reported")
    };
    for step in [CopyStep::Copying, CopyStep::Verifying] {
        let last = last(step);
        assert_eq!((last.rows, last.total_rows), (report.rows(), report.rows()));
        assert_eq!(last.table, "alert_matches");
    }
    let first_verify = steps
        .iter()
        .position(|p| p.step == CopyStep::Verifying)
        .expect("verified");
    assert!(
        steps[..first_verify]
            .iter()
            .all(|p| p.step == CopyStep::Copying)
    );

    // What the stores do not show: flags, the reading list's order, meta.
    let flags: Vec<(String, bool, bool)> = client
        .query(
            "SELECT body, deleted, hidden FROM comments ORDER BY id",
            &[],
        )
        .expect("comments")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        flags,
        [
            ("First!\nWith a line break.".to_string(), false, false),
            ("A reply, edited".to_string(), false, false),
            (String::new(), true, false),
            ("An answer".to_string(), false, false),
            ("Rude".to_string(), false, true),
        ]
    );
    let withdrawn: Vec<(String, bool)> = client
        .query("SELECT id, withdrawn FROM papers ORDER BY id", &[])
        .expect("papers")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        withdrawn,
        [
            ("2403.00001".to_string(), false),
            ("2403.00002".to_string(), false),
            ("2403.00003".to_string(), true),
            ("2403.00004".to_string(), false),
        ]
    );
    let saved: Vec<String> = client
        .query(
            "SELECT paper_id FROM saved_papers WHERE user_id = 1 ORDER BY n",
            &[],
        )
        .expect("saved")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(saved, ["2403.00002", "2403.00001", "2403.00003"]);
    let meta: Vec<(String, i64)> = client
        .query("SELECT key, value FROM meta ORDER BY key", &[])
        .expect("meta")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        meta,
        [
            (
                "change_seq".to_string(),
                source.store.change_seq().unwrap() as i64
            ),
            (
                "vector_seq".to_string(),
                source.store.vector_seq().unwrap() as i64
            ),
        ]
    );

    // The checksum is plain SHA-256 over the documented canonical form:
    // PostgreSQL itself computes the same.
    let text = |column: &str| {
        format!(
            "'\\x02'::bytea || int8send(octet_length({column})::int8) || convert_to({column}, 'UTF8')"
        )
    };
    for (table, row) in [
        (
            "meta",
            format!("{} || '\\x01'::bytea || int8send(value)", text("key")),
        ),
        (
            "sync_state",
            format!(
                "{} || {} || {}",
                text("key"),
                text("value"),
                text("updated_at")
            ),
        ),
    ] {
        let sql = format!(
            "SELECT encode(sha256(string_agg({row}, ''::bytea ORDER BY key)), 'hex') FROM {table}"
        );
        let expected: String = client.query_one(&sql, &[]).expect(&sql).get(0);
        assert_eq!(report.table(table).unwrap().checksum, expected, "{table}");
    }

    // Deterministic: the same file gives the same checksums elsewhere.
    let again = TempSchema::new();
    let second = copy(&source.path, &again).expect("second copy");
    assert_eq!(second.tables, report.tables);
}

#[test]
fn the_copy_reads_the_same_through_both_stores() {
    let source = source();
    let target = TempSchema::new();
    copy(&source.path, &target).expect("copy");
    let (sqlite, pg) = (&source.store, target.store());
    compare_catalog(sqlite, pg);
    compare_accounts(sqlite, pg);
    compare_vectors(sqlite, pg);
}

fn compare_catalog(sqlite: &SqliteStore, pg: &PgStore) {
    assert_eq!(pg.stats().unwrap(), sqlite.stats().unwrap());
    assert_eq!(pg.change_seq().unwrap(), sqlite.change_seq().unwrap());
    assert_eq!(
        pg.sync_state("oai").unwrap().as_deref(),
        Some("resumption|token")
    );
    for n in 1..=4 {
        let paper = id(&format!("2403.0000{n}"));
        assert_eq!(
            pg.paper(&paper).unwrap(),
            sqlite.paper(&paper).unwrap(),
            "{paper}"
        );
        assert!(sqlite.paper(&paper).unwrap().is_some());
        assert_eq!(
            pg.paper_page(&paper).unwrap(),
            sqlite.paper_page(&paper).unwrap(),
            "{paper}"
        );
    }
    for d in [4, 5] {
        assert_eq!(
            pg.day_entries(day(d)).unwrap(),
            sqlite.day_entries(day(d)).unwrap()
        );
    }
    for order in [ListOrder::Upvotes, ListOrder::Published] {
        for submitter in [None, Some("SUBMITTER".to_string())] {
            let query = EntryQuery {
                from: day(1),
                to: day(9),
                submitter,
                order,
                offset: 0,
                limit: 10,
            };
            let listed = sqlite.entries(&query).unwrap();
            assert!(!listed.is_empty());
            assert_eq!(pg.entries(&query).unwrap(), listed, "{query:?}");
            assert_eq!(
                pg.count_entries(&query).unwrap(),
                sqlite.count_entries(&query).unwrap()
            );
        }
    }
    assert_eq!(
        pg.papers_changed_since(0, 10).unwrap(),
        sqlite.papers_changed_since(0, 10).unwrap()
    );
}

fn compare_accounts(sqlite: &SqliteStore, pg: &PgStore) {
    let now = utc("2024-03-06T00:00:00Z");
    for n in 1..=3 {
        let user = sqlite.user(UserId(n)).unwrap();
        assert!(user.is_some());
        assert_eq!(pg.user(UserId(n)).unwrap(), user);
    }
    assert_eq!(
        pg.user_by_username("alice").unwrap(),
        sqlite.user_by_username("alice").unwrap()
    );
    assert_eq!(
        pg.user_for_login("bob@example.org").unwrap(),
        sqlite.user_for_login("bob@example.org").unwrap()
    );
    let session = sqlite.session("session-hash-a", now).unwrap();
    assert!(session.is_some());
    assert_eq!(pg.session("session-hash-a", now).unwrap(), session);
    let owner = pg.user_for_api_token("token-hash-b").unwrap();
    assert_eq!(owner.map(|u| u.username), Some("bob".to_string()));
}

fn compare_vectors(sqlite: &SqliteStore, pg: &PgStore) {
    assert_eq!(pg.vector_seq().unwrap(), sqlite.vector_seq().unwrap());
    assert_eq!(
        pg.vector_stats(MODEL).unwrap(),
        sqlite.vector_stats(MODEL).unwrap()
    );
    assert_eq!(
        pg.vectors_changed_since(MODEL, 0, 10).unwrap(),
        sqlite.vectors_changed_since(MODEL, 0, 10).unwrap()
    );
    let p1 = id("2403.00001");
    assert_eq!(
        pg.paper_vector(MODEL, &p1).unwrap(),
        sqlite.paper_vector(MODEL, &p1).unwrap()
    );
    assert_eq!(
        pg.texts_changed_since(MODEL, 0, 10).unwrap(),
        sqlite.texts_changed_since(MODEL, 0, 10).unwrap()
    );
}

#[test]
fn new_rows_after_the_copy_continue_the_identity_sequences() {
    let source = source();
    let target = TempSchema::new();
    copy(&source.path, &target).expect("copy");
    let now = utc("2024-03-06T00:00:00Z");
    let dave = target
        .store()
        .create_user(&new_user("dave"), now)
        .expect("a new user gets a fresh id");
    assert_eq!(dave.id, UserId(4));
    assert!(!dave.is_admin, "the copied admin stays the first user");

    // Every other identity column: a row without an id takes the next one.
    let mut client = pg(&target);
    let next = |client: &mut postgres::Client, sql: &str| -> i64 {
        client.query_one(sql, &[]).expect(sql).get(0)
    };
    let comment = next(
        &mut client,
        "INSERT INTO comments (paper_id, author_id, body, created_at) \
         VALUES ('2403.00002', 4, 'new', 'now') RETURNING id",
    );
    assert_eq!(comment, 6, "the copied comments end at id 5");
    let n = next(
        &mut client,
        "INSERT INTO saved_papers (user_id, paper_id, saved_at) \
         VALUES (4, '2403.00001', 'now') RETURNING n",
    );
    assert_eq!(n, 5);
    for (table, sql, expected) in [
        (
            "subscriptions",
            "INSERT INTO subscriptions (email, status, cadence, send_at, zone, papers, \
             unsubscribe_token, created_at, updated_at) \
             VALUES ('x@example.org', 'pending', 'daily', '08:00', 'UTC', 5, 'u-x', 'now', 'now') \
             RETURNING id",
            3,
        ),
        (
            "mail_editions",
            "INSERT INTO mail_editions (key, content) VALUES ('k', 'c') RETURNING id",
            2,
        ),
        (
            "outbox",
            "INSERT INTO outbox (key, kind, recipient, payload, created_at, next_attempt_at) \
             VALUES ('k', 'confirm', 'x@example.org', '{}', 'now', 'now') RETURNING id",
            4,
        ),
        (
            "saved_searches",
            "INSERT INTO saved_searches (user_id, query, delivery, created_at, cursor) \
             VALUES (4, 'q', 'digest', 'now', 0) RETURNING id",
            3,
        ),
        (
            "alert_matches",
            "INSERT INTO alert_matches (user_id, paper_id) VALUES (4, '2403.00001') RETURNING id",
            4,
        ),
    ] {
        assert_eq!(next(&mut client, sql), expected, "{table}");
    }
}

#[test]
fn a_target_with_data_is_refused_and_left_alone() {
    let source = source();
    let target = TempSchema::new();
    copy(&source.path, &target).expect("first copy");
    let before = pg_state(&target);
    let err = copy(&source.path, &target).expect_err("a second copy is refused");
    assert!(
        matches!(err, CopyError::TargetNotEmpty { table: "papers" }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("table papers is not empty"),
        "{err}"
    );
    assert_eq!(pg_state(&target), before);

    // Any one row is enough: a user made on the PostgreSQL side.
    let other = TempSchema::new();
    other
        .store()
        .create_user(&new_user("early"), utc("2024-03-06T00:00:00Z"))
        .expect("user");
    let before = pg_state(&other);
    let err = copy(&source.path, &other).expect_err("refused");
    assert!(
        matches!(err, CopyError::TargetNotEmpty { table: "users" }),
        "{err:?}"
    );
    assert_eq!(pg_state(&other), before);

    // So is an advanced change sequence, even with no rows.
    let seq_only = TempSchema::new();
    pg(&seq_only)
        .batch_execute("UPDATE meta SET value = 3 WHERE key = 'change_seq'")
        .expect("meta");
    let err = copy(&source.path, &seq_only).expect_err("refused");
    assert!(
        matches!(err, CopyError::TargetNotEmpty { table: "meta" }),
        "{err:?}"
    );
}

#[test]
fn a_checksum_mismatch_rolls_everything_back() {
    let source = source();
    let target = TempSchema::new();
    // Something on the PostgreSQL side changes rows as they arrive.
    pg(&target)
        .batch_execute(
            "CREATE FUNCTION meddle() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN NEW.body := NEW.body || '!'; RETURN NEW; END $$; \
             CREATE TRIGGER meddle BEFORE INSERT ON comments \
             FOR EACH ROW WHEN (NEW.id = 4) EXECUTE FUNCTION meddle();",
        )
        .expect("trigger");
    let before = pg_state(&target);
    let err = copy(&source.path, &target).expect_err("the copy differs");
    match &err {
        CopyError::Mismatch {
            table: "comments",
            sqlite_rows: 5,
            pg_rows: 5,
            sqlite_checksum,
            pg_checksum,
        } => assert_ne!(sqlite_checksum, pg_checksum),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("table comments differs"), "{err}");
    assert_eq!(pg_state(&target), before, "nothing stays half-copied");
}

#[test]
fn damaged_or_unknown_source_rows_stop_the_copy() {
    let source = source();
    let target = TempSchema::new();
    let before = pg_state(&target);

    // A flag that is neither 0 nor 1.
    let conn = Connection::open(&source.path).expect("open SQLite");
    conn.execute("UPDATE users SET is_admin = 2 WHERE id = 2", [])
        .expect("damage");
    let err = copy(&source.path, &target).expect_err("damaged");
    assert!(
        matches!(
            &err,
            CopyError::BadValue { table: "users", row: 2, column: "is_admin", found }
                if found.contains("not 0 or 1")
        ),
        "{err:?}"
    );
    assert_eq!(
        pg_state(&target),
        before,
        "tables copied before users rolled back"
    );
    conn.execute("UPDATE users SET is_admin = 0 WHERE id = 2", [])
        .expect("repair");

    // Text where an integer belongs.
    conn.execute(
        "UPDATE papers SET github_stars = 'many' WHERE id = '2403.00002'",
        [],
    )
    .expect("damage");
    let err = copy(&source.path, &target).expect_err("damaged");
    assert!(
        matches!(
            &err,
            CopyError::BadValue {
                table: "papers",
                column: "github_stars",
                ..
            }
        ),
        "{err:?}"
    );
    conn.execute(
        "UPDATE papers SET github_stars = NULL WHERE id = '2403.00002'",
        [],
    )
    .expect("repair");

    // A table the copy does not know (a newer Paperboy's, or someone's own).
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", [])
        .expect("table");
    let err = copy(&source.path, &target).expect_err("unknown table");
    assert!(
        matches!(&err, CopyError::UnknownTable { side: "SQLite", table } if table == "notes"),
        "{err:?}"
    );
    conn.execute("DROP TABLE notes", []).expect("drop");

    // A column the copy does not know.
    conn.execute("ALTER TABLE users ADD COLUMN nickname TEXT", [])
        .expect("column");
    let err = copy(&source.path, &target).expect_err("unknown column");
    assert!(
        matches!(
            &err,
            CopyError::Columns {
                side: "SQLite",
                table: "users",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("nickname"), "{err}");
    conn.execute("ALTER TABLE users DROP COLUMN nickname", [])
        .expect("drop column");
    assert_eq!(pg_state(&target), before);

    // Repaired, it copies.
    copy(&source.path, &target).expect("copy after the repairs");
}

#[test]
fn a_missing_source_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nothing/paperboy.db");
    let target = TempSchema::new();
    let err = copy(&path, &target).expect_err("no source");
    assert!(matches!(err, CopyError::NoSource(_)), "{err:?}");
    assert!(!path.exists() && !path.parent().unwrap().exists());
}

#[test]
fn comments_reading_lists_and_mail_read_the_same_through_both_stores() {
    let source = source();
    let target = TempSchema::new();
    copy(&source.path, &target).expect("copy");
    let (sqlite, pg) = (&source.store, target.store());
    let (p1, p3) = (id("2403.00001"), id("2403.00003"));
    for paper in [&p1, &p3] {
        assert_eq!(pg.comments(paper).unwrap(), sqlite.comments(paper).unwrap());
    }
    for user in [UserId(1), UserId(2)] {
        assert_eq!(
            pg.saved_papers(user).unwrap(),
            sqlite.saved_papers(user).unwrap()
        );
        assert_eq!(
            pg.upvoted_among(user, &[p1.clone(), p3.clone()]).unwrap(),
            sqlite
                .upvoted_among(user, &[p1.clone(), p3.clone()])
                .unwrap()
        );
        assert_eq!(
            pg.saved_searches_of(user).unwrap(),
            sqlite.saved_searches_of(user).unwrap()
        );
        assert_eq!(
            pg.pending_alerts(user).unwrap(),
            sqlite.pending_alerts(user).unwrap()
        );
    }
    let alice = email("alice@example.org");
    assert_eq!(
        pg.subscription_by_email(&alice).unwrap(),
        sqlite.subscription_by_email(&alice).unwrap()
    );
    assert_eq!(
        pg.subscription_of_user(UserId(1)).unwrap(),
        sqlite.subscription_of_user(UserId(1)).unwrap()
    );
    assert_eq!(
        pg.messages_to(&alice).unwrap(),
        sqlite.messages_to(&alice).unwrap()
    );
    for n in 1..=3 {
        assert_eq!(
            pg.message(MessageId(n)).unwrap(),
            sqlite.message(MessageId(n)).unwrap()
        );
    }
    assert_eq!(pg.outbox_stats().unwrap(), sqlite.outbox_stats().unwrap());
    assert_eq!(
        pg.active_saved_searches().unwrap(),
        sqlite.active_saved_searches().unwrap()
    );
    // Writes continue where SQLite stopped: a new comment's id, a reply.
    let now = utc("2024-03-06T00:00:00Z");
    let comment = pg
        .add_comment(&p1, UserId(2), Some(CommentId(1)), "after the move", now)
        .expect("comment");
    assert_eq!(comment.id, CommentId(6));
}
