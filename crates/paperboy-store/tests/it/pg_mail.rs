//! Mail on PostgreSQL with several app nodes at once: each node is a store
//! of its own (its own connection pool) on one schema, and they claim,
//! queue and settle at the same moment. "Three nodes never send a mail
//! twice; a job of a node that died is taken over."

use std::collections::HashSet;
use std::sync::Barrier;

use chrono::{DateTime, Duration, Utc};
use paperboy_core::mail::{parse_send_time, parse_zone};
use paperboy_core::{Cadence, EmailAddress, MessageId, Schedule};
use paperboy_store::{
    Mail, MessageKind, MessageStatus, NewMessage, NewSubscription, OutboxStats, PgStore,
    SubscribeOutcome, Subscription,
};

use crate::pg::{TempSchema, database_url};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

/// Another node on the fixture's schema.
fn node(fixture: &TempSchema) -> PgStore {
    PgStore::connect_in_schema(&database_url(), fixture.schema()).expect("open another node")
}

/// A confirmed daily subscription of `address`.
fn active(store: &PgStore, address: &str, now: DateTime<Utc>) -> Subscription {
    let confirm = format!("confirm-{address}");
    let new = NewSubscription {
        email: EmailAddress::parse(address).expect("test address"),
        user: None,
        schedule: Schedule {
            cadence: Cadence::Daily,
            send_at: parse_send_time("08:00").expect("send time"),
            zone: parse_zone("Europe/Berlin").expect("zone"),
        },
        papers: 10,
        confirm_token_hash: confirm.clone(),
        unsubscribe_token: format!("unsubscribe-{address}"),
    };
    match store.subscribe(&new, now).expect("subscribe") {
        SubscribeOutcome::Pending(_) => {}
        other => panic!("expected pending, got {other:?}"),
    }
    store
        .confirm_subscription(&confirm, now)
        .expect("confirm")
        .expect("pending")
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

/// Three nodes claim from one outbox of 2,000 queued messages at once, in
/// small batches, settling each batch: every message is handed to exactly
/// one of them, once.
#[test]
fn three_nodes_claim_disjoint_sets() {
    const MESSAGES: usize = 2_000;
    let fixture = TempSchema::new();
    let t0 = utc("2024-03-04T00:00:00Z");
    let subs: Vec<Subscription> = (0..10)
        .map(|i| active(fixture.store(), &format!("reader{i}@example.org"), t0))
        .collect();
    let mut queued = HashSet::new();
    for i in 0..MESSAGES {
        let m = message(
            &format!("alert-{i}"),
            MessageKind::Alert,
            &subs[i % subs.len()],
            t0,
        );
        let id = fixture
            .store()
            .queue_message(&m, None, &[])
            .expect("queue")
            .expect("new key");
        queued.insert(id);
    }
    let nodes = [node(&fixture), node(&fixture), node(&fixture)];
    let start = Barrier::new(nodes.len());
    let lease = t0 + Duration::minutes(10);
    let claimed: Vec<Vec<MessageId>> = std::thread::scope(|scope| {
        let workers: Vec<_> = nodes
            .iter()
            .map(|store| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let mut mine = Vec::new();
                    loop {
                        let batch = store.claim_messages(t0, lease, 25).expect("claim");
                        if batch.is_empty() {
                            return mine;
                        }
                        for m in &batch {
                            assert_eq!((m.status, m.attempts), (MessageStatus::Queued, 1));
                        }
                        let ids: Vec<MessageId> = batch.iter().map(|m| m.id).collect();
                        store.mark_sent(&ids, t0).expect("mark sent");
                        mine.extend(ids);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("node"))
            .collect()
    });

    let mut all = HashSet::new();
    for (node, ids) in claimed.iter().enumerate() {
        assert!(!ids.is_empty(), "node {node} claimed nothing");
        for id in ids {
            assert!(all.insert(*id), "message {id:?} was claimed twice");
        }
    }
    assert_eq!(all, queued, "every message was claimed");
    assert_eq!(
        fixture.store().outbox_stats().expect("stats"),
        OutboxStats {
            queued: 0,
            sent: MESSAGES as u64,
            failed: 0
        }
    );
    assert!(
        fixture
            .store()
            .claim_messages(t0 + Duration::hours(1), lease, 100)
            .expect("claim")
            .is_empty()
    );
}

/// A node that claimed messages and died holds them until its lease ends;
/// then another node takes them over (counting an attempt), and what the
/// dead node's late calls say no longer changes the settled message.
#[test]
fn an_expired_claim_is_taken_over() {
    let fixture = TempSchema::new();
    let t0 = utc("2024-03-04T00:00:00Z");
    let min = |m: i64| t0 + Duration::minutes(m);
    let sub = active(fixture.store(), "ada@example.org", t0);
    let ids: Vec<MessageId> = (0..3)
        .map(|i| {
            fixture
                .store()
                .queue_message(
                    &message(&format!("m{i}"), MessageKind::Alert, &sub, t0),
                    None,
                    &[],
                )
                .expect("queue")
                .expect("new")
        })
        .collect();
    let (dead, alive) = (node(&fixture), node(&fixture));

    let held = dead.claim_messages(t0, min(5), 10).expect("claim");
    assert_eq!(held.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(
        alive
            .claim_messages(min(4), min(9), 10)
            .expect("claim")
            .is_empty(),
        "held until the lease ends"
    );
    let taken = alive.claim_messages(min(5), min(10), 10).expect("claim");
    assert_eq!(
        taken.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
        ids.iter().map(|&id| (id, 2)).collect::<Vec<_>>(),
        "taken over"
    );
    assert!(
        dead.claim_messages(min(6), min(11), 10)
            .expect("claim")
            .is_empty(),
        "the new holder's lease counts"
    );
    alive.mark_sent(&ids, min(6)).expect("sent");
    // The dead node comes back and reports a temporary failure: the
    // message was sent meanwhile and stays so.
    dead.mark_retry(ids[0], "timeout", min(30)).expect("retry");
    let m = fixture
        .store()
        .message(ids[0])
        .expect("read")
        .expect("kept");
    assert_eq!((m.status, m.sent_at), (MessageStatus::Sent, Some(min(6))));
    assert!(
        fixture
            .store()
            .claim_messages(min(60), min(70), 10)
            .expect("claim")
            .is_empty()
    );
}

/// Two nodes' schedulers queue the same due digest at the same moment:
/// one of them moves the subscription on and queues it, the other does
/// nothing, even when their messages' keys differ. Both get the same
/// edition.
#[test]
fn two_nodes_queue_a_due_digest_once() {
    const SUBSCRIPTIONS: usize = 40;
    let fixture = TempSchema::new();
    let t0 = utc("2024-03-04T00:00:00Z");
    let subs: Vec<Subscription> = (0..SUBSCRIPTIONS)
        .map(|i| active(fixture.store(), &format!("reader{i}@example.org"), t0))
        .collect();
    let nodes = [node(&fixture), node(&fixture)];
    let start = Barrier::new(nodes.len());
    let outcomes: Vec<Vec<(bool, i64)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(n, store)| {
                let (start, subs) = (&start, &subs);
                scope.spawn(move || {
                    start.wait();
                    subs.iter()
                        .map(|sub| {
                            let due = sub.next_due.expect("due");
                            let edition = store
                                .put_edition(
                                    &format!("daily-{}", due.format("%F")),
                                    &format!("papers of node {n}"),
                                )
                                .expect("edition");
                            let digest = NewMessage {
                                edition: Some(edition),
                                ..message(
                                    &format!("digest-{}-node{n}", sub.id.0),
                                    MessageKind::Digest,
                                    sub,
                                    due,
                                )
                            };
                            let moved = store
                                .queue_digest(
                                    sub.id,
                                    Some(&digest),
                                    due,
                                    Some(due + Duration::days(1)),
                                    &[],
                                )
                                .expect("queue digest");
                            (moved, edition)
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("node"))
            .collect()
    });

    let edition = outcomes[0][0].1;
    for (i, sub) in subs.iter().enumerate() {
        let moved: Vec<bool> = outcomes.iter().map(|o| o[i].0).collect();
        assert_eq!(
            moved.iter().filter(|&&m| m).count(),
            1,
            "subscription {i}: {moved:?}"
        );
        assert!(outcomes.iter().all(|o| o[i].1 == edition), "one edition");
        let messages = fixture.store().messages_to(&sub.email).expect("messages");
        assert_eq!(messages.len(), 1, "subscription {i}");
        let stored = fixture
            .store()
            .subscription(sub.id)
            .expect("read")
            .expect("kept");
        assert_eq!(stored.next_due, sub.next_due.map(|d| d + Duration::days(1)));
    }
    let editions: HashSet<Option<String>> = subs
        .iter()
        .map(|sub| {
            fixture.store().messages_to(&sub.email).expect("messages")[0]
                .edition
                .clone()
        })
        .collect();
    assert_eq!(editions.len(), 1, "every digest shows the one edition");
    assert_eq!(
        fixture.store().outbox_stats().expect("stats").queued,
        SUBSCRIPTIONS as u64
    );
}
