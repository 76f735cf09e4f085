//! What only the PostgreSQL backend must survive: several app nodes (each a
//! `PgStore` with its own connection pool) writing one schema at the same
//! moment. Votes stay exact and each advances the change sequence once;
//! concurrent sign-ups make one admin and refuse a taken name or email.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Utc;
use paperboy_core::{ArxivId, NewUser, Paper, SourceRecord, User};
use paperboy_store::{Accounts, Participation, PgStore, Store, StoreError};

use crate::pg::{TempSchema, database_url};

/// Nodes writing at once, each with its own store (and pool).
const NODES: usize = 8;

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
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

/// `n` more stores on the schema of `temp`, as other nodes would open it.
fn nodes(temp: &TempSchema, n: usize) -> Vec<Arc<PgStore>> {
    (0..n)
        .map(|_| {
            Arc::new(
                PgStore::connect_in_schema(&database_url(), temp.schema())
                    .expect("open another store on the schema"),
            )
        })
        .collect()
}

/// One value read straight from the schema.
fn value(temp: &TempSchema, sql: &str) -> i64 {
    let mut client =
        postgres::Client::connect(&database_url(), postgres::NoTls).expect("connect directly");
    client
        .batch_execute(&format!("SET search_path TO \"{}\"", temp.schema()))
        .expect("use the test schema");
    client.query_one(sql, &[]).expect(sql).get(0)
}

/// 1,000 users, each upvoting one paper once, from 8 nodes at once: every
/// vote sees an exact count (the totals returned are each of 1..=1000 once),
/// the paper ends with 1,000 user upvotes, and the change sequence moved on
/// exactly once per vote.
#[test]
fn concurrent_votes_from_many_nodes_stay_exact() {
    const VOTES: usize = 1000;
    const SOURCE: u32 = 7;
    let temp = TempSchema::new();
    let mut paper = Paper::new(id("2403.00001"));
    paper.biblio.title = "Voted on".into();
    paper.community.upvotes = Some(SOURCE);
    temp.store()
        .upsert(&[SourceRecord { paper, entry: None }])
        .expect("upsert");
    let users: Vec<User> = (0..VOTES)
        .map(|i| {
            temp.store()
                .create_user(&new_user(&format!("voter{i}")), Utc::now())
                .expect("user")
        })
        .collect();
    let seq_before = temp.store().change_seq().expect("seq");

    let start = Arc::new(Barrier::new(NODES));
    let voters: Vec<_> = nodes(&temp, NODES)
        .into_iter()
        .enumerate()
        .map(|(n, store)| {
            let mine: Vec<User> = users.iter().skip(n).step_by(NODES).cloned().collect();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                mine.iter()
                    .map(|user| {
                        let state = store
                            .set_upvote(user.id, &id("2403.00001"), true)
                            .expect("upvote");
                        assert!(state.upvoted);
                        state.upvotes
                    })
                    .collect::<Vec<u32>>()
            })
        })
        .collect();
    let mut totals = Vec::new();
    for voter in voters {
        totals.extend(voter.join().expect("voter thread"));
    }

    let seen: BTreeSet<u32> = totals.iter().copied().collect();
    assert_eq!(totals.len(), VOTES);
    assert_eq!(
        seen,
        (SOURCE + 1..=SOURCE + VOTES as u32).collect(),
        "each vote saw the count its own commit made"
    );
    // Voting again changes nothing, and reads the final count.
    let again = temp
        .store()
        .set_upvote(users[0].id, &id("2403.00001"), true)
        .expect("upvote again");
    assert_eq!(again.upvotes, SOURCE + VOTES as u32);
    assert_eq!(value(&temp, "SELECT COUNT(*) FROM upvotes"), VOTES as i64);
    assert_eq!(
        value(
            &temp,
            "SELECT user_upvotes FROM papers WHERE id = '2403.00001'"
        ),
        VOTES as i64
    );
    let seq_after = temp.store().change_seq().expect("seq");
    assert_eq!(
        seq_after - seq_before,
        VOTES as u64,
        "one change per vote, none lost"
    );
    assert_eq!(
        value(&temp, "SELECT seq FROM papers WHERE id = '2403.00001'"),
        seq_after as i64,
        "the paper carries the last change"
    );
}

/// Nodes signing up users at the same moment on an empty installation:
/// exactly one becomes the admin (several rounds, each a fresh schema).
#[test]
fn concurrent_first_sign_ups_make_one_admin() {
    for round in 0..5 {
        let temp = TempSchema::new();
        let start = Arc::new(Barrier::new(NODES));
        let signups: Vec<_> = nodes(&temp, NODES)
            .into_iter()
            .enumerate()
            .map(|(n, store)| {
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    start.wait();
                    store
                        .create_user(&new_user(&format!("user{n}")), Utc::now())
                        .expect("sign up")
                })
            })
            .collect();
        let created: Vec<User> = signups
            .into_iter()
            .map(|t| t.join().expect("sign-up thread"))
            .collect();
        let admins = created.iter().filter(|u| u.is_admin).count();
        assert_eq!(admins, 1, "round {round}: {created:?}");
        assert_eq!(
            value(&temp, "SELECT COUNT(*) FROM users WHERE is_admin"),
            1,
            "round {round}"
        );
        // The admin is the one that was created first.
        let first = created.iter().min_by_key(|u| u.id).expect("users");
        assert!(first.is_admin, "round {round}: {created:?}");
    }
}

/// Nodes signing up the same username (in other cases) or the same email at
/// once: one sign-up wins, the others get the error that names the clash.
#[test]
fn concurrent_sign_ups_with_one_name_or_email_keep_one() {
    let temp = TempSchema::new();
    let start = Arc::new(Barrier::new(NODES));
    let signups: Vec<_> = nodes(&temp, NODES)
        .into_iter()
        .enumerate()
        .map(|(n, store)| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                // Half clash on the name, half on the email.
                let new = if n % 2 == 0 {
                    NewUser {
                        email: format!("ada{n}@example.org"),
                        ..new_user(["ada", "Ada", "ADA", "aDa"][n / 2 % 4])
                    }
                } else {
                    NewUser {
                        email: "GRACE@example.org".into(),
                        ..new_user(&format!("grace{n}"))
                    }
                };
                start.wait();
                (n, store.create_user(&new, Utc::now()))
            })
        })
        .collect();
    let mut names = 0;
    let mut emails = 0;
    for signup in signups {
        let (n, result) = signup.join().expect("sign-up thread");
        match result {
            Ok(_) if n % 2 == 0 => names += 1,
            Ok(_) => emails += 1,
            Err(StoreError::UsernameTaken { .. }) if n % 2 == 0 => {}
            Err(StoreError::EmailTaken) if n % 2 == 1 => {}
            Err(e) => panic!("sign-up {n}: unexpected {e:?}"),
        }
    }
    assert_eq!((names, emails), (1, 1));
    assert_eq!(value(&temp, "SELECT COUNT(*) FROM users"), 2);
}
