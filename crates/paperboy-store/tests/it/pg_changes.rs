//! What only PostgreSQL has: several processes on one database learn of each
//! other's changes (`Store::wait_for_changes` wakes on the writers' NOTIFY).

use std::time::{Duration, Instant};

use paperboy_core::{ArxivId, Paper, SourceRecord};
use paperboy_store::{PgStore, Store};

use crate::pg::{TempSchema, database_url};

fn record(n: u32) -> SourceRecord {
    let mut paper = Paper::new(ArxivId::parse(&format!("2403.{n:05}")).expect("id").id);
    paper.biblio.title = format!("Paper {n}");
    SourceRecord { paper, entry: None }
}

#[test]
fn a_change_on_one_node_wakes_the_others() {
    let fixture = TempSchema::new();
    let writer = fixture.store();
    let reader =
        PgStore::connect_in_schema(&database_url(), fixture.schema()).expect("second node");
    // The first wait opens the listening connection; nothing is pending.
    reader
        .wait_for_changes(Duration::from_millis(10))
        .expect("wait");
    let before = reader.change_seq().expect("seq");
    let waiting = std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            let started = Instant::now();
            reader
                .wait_for_changes(Duration::from_secs(60))
                .expect("wait for a change");
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(200));
        writer
            .upsert(&[record(1)])
            .expect("write on the other node");
        handle.join().expect("waiter")
    });
    assert!(
        waiting < Duration::from_secs(30),
        "the waiting node woke up only after {waiting:?}: it was not told"
    );
    assert!(reader.change_seq().expect("seq") > before);
}

#[test]
fn writes_that_change_nothing_wake_no_one() {
    let fixture = TempSchema::new();
    let store = fixture.store();
    store.upsert(&[record(1)]).expect("first write");
    store
        .wait_for_changes(Duration::from_millis(10))
        .expect("open the listener");
    // Drain what the first write announced, if it arrived late.
    store
        .wait_for_changes(Duration::from_millis(200))
        .expect("drain");
    store.upsert(&[record(1)]).expect("the same again");
    let started = Instant::now();
    store
        .wait_for_changes(Duration::from_millis(500))
        .expect("wait");
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "an unchanged batch announced a change"
    );
}
