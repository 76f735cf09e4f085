//! Several `paperboy serve` nodes on one PostgreSQL database, as behind a
//! load balancer: each test gets a database of its own on the server named
//! by `PAPERBOY_TEST_DATABASE_URL` (default: the local one, user postgres),
//! three real server processes with data directories of their own (their
//! search indexes), and clients that spread their requests over the nodes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime, Utc};
use paperboy_core::mail::parse_zone;
use paperboy_core::{ArxivId, Cadence, EmailAddress, NewUser, Schedule};
use paperboy_store::{Accounts, Mail, NewSubscription, PgStore, Store};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::e2e::{RecentPaper, SITE_URL, hf_files, serving_url};
use crate::mail::Sink;
use crate::{stderr, stdout};

/// The server the tests create their databases on.
fn server_url() -> String {
    std::env::var("PAPERBOY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database of its own, dropped when the test ends.
struct Database {
    name: String,
    url: String,
}

impl Database {
    fn new(tag: &str) -> Database {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "paperboy_test_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // One at a time: CREATE DATABASE copies template1 and refuses while
        // another session uses it. Two statements, as neither may run in a
        // transaction (a multi-statement batch is one).
        static CREATING: Mutex<()> = Mutex::new(());
        let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
        let mut admin = admin();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e:?}"));
        }
        let mut url = url::Url::parse(&server_url()).expect("PAPERBOY_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Database {
            name,
            url: url.to_string(),
        }
    }

    fn store(&self) -> PgStore {
        PgStore::connect(&self.url).expect("open the test database")
    }

    /// `paperboy --data DIR --database-url URL ARGS...`.
    fn paperboy(&self, data: &Path, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data")
            .arg(data)
            .args(["--database-url", &self.url])
            .args(args)
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_LOG", "warn")
            .output()
            .expect("run paperboy");
        assert!(
            out.status.success(),
            "paperboy {args:?} failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&server_url(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn admin() -> postgres::Client {
    postgres::Client::connect(&server_url(), postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {} (set PAPERBOY_TEST_DATABASE_URL; scripts/test starts the local server): {e}",
            server_url()
        )
    })
}

/// One `paperboy serve` process with a data directory of its own.
struct Node {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Node {
    fn start(db: &Database, config: Option<&Path>, extra: &[&str]) -> Node {
        let dir = tempfile::tempdir().expect("a data dir for the node");
        let log = dir.path().join("serve.stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperboy"));
        cmd.arg("--data")
            .arg(dir.path())
            .args(["--database-url", &db.url]);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        let mut child = cmd
            .args(["serve", "--addr", "127.0.0.1:0", "--base-url", SITE_URL])
            .args(extra)
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(&log).expect("the node's log file"),
            ))
            .spawn()
            .expect("start paperboy serve");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = serving_url(&line)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "a node did not start serving: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Node {
            child,
            url,
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the node stops wherever it is.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get_json(url: &str) -> serde_json::Value {
    let mut response = agent().get(url).call().expect("GET");
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("JSON")
}

/// The total upvotes `/api/papers/{id}` of a node shows.
fn upvotes_on(node: &Node, id: &str) -> u64 {
    get_json(&format!("{}/api/papers/{id}", node.url))["upvotes"]
        .as_u64()
        .expect("upvotes")
}

/// Waits up to `limit` for `done`; whether it came.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if done() {
            return true;
        }
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Users with API tokens, made in the database directly (signing up 200
/// people through the forms would only test the forms again).
fn users_with_tokens(store: &PgStore, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let user = store
                .create_user(
                    &NewUser {
                        username: format!("voter{i}"),
                        email: format!("voter{i}@example.org"),
                        display_name: format!("Voter {i}"),
                        password_hash: "not-a-password".into(),
                        admin: false,
                    },
                    Utc::now(),
                )
                .expect("create a user");
            let token = format!("pb_multinode_test_token_{i:04}");
            let hash = format!("{:x}", Sha256::digest(token.as_bytes()));
            store
                .create_api_token(user.id, "votes", &hash, Utc::now())
                .expect("create a token");
            token
        })
        .collect()
}

#[test]
fn three_nodes_count_every_vote_and_find_new_papers_within_two_seconds() {
    let db = Database::new("votes");
    let import_dir = tempfile::tempdir().expect("node A's data dir");
    let files = hf_files();
    let days: Vec<&str> = files[files.len() - 3..]
        .iter()
        .map(|p| p.to_str().expect("UTF-8 path"))
        .collect();
    let mut args = vec!["import"];
    args.extend(days);
    db.paperboy(import_dir.path(), &args);

    let nodes: Vec<Node> = (0..3).map(|_| Node::start(&db, None, &[])).collect();
    let store = db.store();
    let tokens = users_with_tokens(&store, 200);
    let last_day = store.stats().expect("stats").last_day.expect("a day");
    let papers: Vec<ArxivId> = store
        .day_entries(last_day)
        .expect("the last day's list")
        .into_iter()
        .take(5)
        .map(|(entry, _)| entry.paper_id)
        .collect();
    assert_eq!(papers.len(), 5, "the last day lists at least 5 papers");
    let before: Vec<u64> = papers
        .iter()
        .map(|id| upvotes_on(&nodes[0], id.as_str()))
        .collect();

    // 1,000 upvotes (200 users × 5 papers) from 8 concurrent clients, each
    // vote sent to the next node in turn.
    let votes: Vec<(usize, usize)> = (0..tokens.len())
        .flat_map(|user| (0..papers.len()).map(move |paper| (user, paper)))
        .collect();
    std::thread::scope(|scope| {
        for client in 0..8 {
            let (votes, tokens, papers, nodes) = (&votes, &tokens, &papers, &nodes);
            scope.spawn(move || {
                let agent = agent();
                for (k, &(user, paper)) in votes.iter().enumerate().skip(client).step_by(8) {
                    let node = &nodes[k % nodes.len()];
                    let response = agent
                        .post(format!("{}/papers/{}/upvote", node.url, papers[paper]))
                        .header("Authorization", &format!("Bearer {}", tokens[user]))
                        .send_form([("action", "up")])
                        .expect("POST an upvote");
                    let status = response.status().as_u16();
                    assert!(
                        status == 303 || status == 200,
                        "vote {k} on node {}: status {status}; log:\n{}",
                        k % nodes.len(),
                        node.log()
                    );
                }
            });
        }
    });

    for (id, before) in papers.iter().zip(&before) {
        for (n, node) in nodes.iter().enumerate() {
            let expected = before + tokens.len() as u64;
            // Every node answers from the one database; its page cache
            // follows the change feed.
            eventually(Duration::from_secs(5), || {
                upvotes_on(node, id.as_str()) == expected
            });
            assert_eq!(
                upvotes_on(node, id.as_str()),
                expected,
                "paper {id} on node {n}: every one of the {} votes counts, once",
                tokens.len()
            );
        }
    }

    // A paper imported through node A's configuration is found by search on
    // node C within 2 s.
    let (paper, line) = RecentPaper::write_kaggle_line(import_dir.path(), 1);
    db.paperboy(
        import_dir.path(),
        &["import", line.to_str().expect("UTF-8 path")],
    );
    let imported = Instant::now();
    let query = url::form_urlencoded::byte_serialize(paper.title.as_bytes()).collect::<String>();
    let search = format!("{}/api/papers/search?q={query}", nodes[2].url);
    let found = eventually(Duration::from_secs(10), || {
        get_json(&search)
            .as_array()
            .is_some_and(|hits| hits.iter().any(|hit| hit["paper"]["id"] == paper.id))
    });
    let took = imported.elapsed();
    eprintln!("node C found the paper imported through node A's configuration after {took:?}");
    assert!(
        found,
        "node C never found the paper; log:\n{}",
        nodes[2].log()
    );
    assert!(
        took < Duration::from_secs(2),
        "node C found the paper imported elsewhere only after {took:?}"
    );
}

/// A config for nodes that send mail: the site URL mails link to, a
/// scheduler round every second, and the shortest sender lease (so that a
/// dead node's messages are taken over within the test).
fn mail_config(dir: &Path) -> PathBuf {
    let path = dir.join("mail.toml");
    std::fs::write(
        &path,
        format!(
            "[web]\nbase_url = \"{SITE_URL}\"\n\n\
             [mail]\nfrom = \"Paperboy <papers@paperboy.test>\"\ninterval_secs = 1\nlease_secs = 60\n"
        ),
    )
    .expect("write the config");
    path
}

/// HF lists of the last 17 files saved under the dates from 8 days ago to 8
/// days ahead, so that every digest period of the past week has papers.
fn recent_lists(dir: &Path) -> Vec<PathBuf> {
    let files = hf_files();
    let first = Utc::now().date_naive() - Days::new(8);
    files[files.len() - 17..]
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let path = dir.join(format!("{}.json", first + Days::new(i as u64)));
            std::fs::copy(file, &path).expect("copy an HF file");
            path
        })
        .collect()
}

#[test]
fn a_node_killed_mid_send_leaves_every_digest_sent_once() {
    let db = Database::new("digests");
    let work = tempfile::tempdir().expect("a work dir");
    let lists = recent_lists(work.path());
    let mut args = vec!["import"];
    args.extend(lists.iter().map(|p| p.to_str().expect("UTF-8 path")));
    db.paperboy(work.path(), &args);

    // Readers confirmed a week ago: each has the digests of several missed
    // weekdays due at once.
    let store = db.store();
    let since = Utc::now() - Days::new(7);
    let readers: Vec<String> = (0..60).map(|i| format!("reader{i}@example.org")).collect();
    for (i, email) in readers.iter().enumerate() {
        let new = NewSubscription {
            email: EmailAddress::parse(email).expect("an address"),
            user: None,
            schedule: Schedule {
                cadence: Cadence::Daily,
                send_at: NaiveTime::from_hms_opt(8, 0, 0).expect("a time"),
                zone: parse_zone("UTC").expect("a zone"),
            },
            papers: 5,
            confirm_token_hash: format!("{i:064x}"),
            unsubscribe_token: format!("{:064x}", i + 1000),
        };
        store.subscribe(&new, since).expect("subscribe");
        store
            .confirm_subscription(&new.confirm_token_hash, since)
            .expect("confirm")
            .expect("a pending subscription");
    }

    // A slow server: the run takes several seconds, long enough to kill a
    // node in the middle of it.
    let sink = Sink::start_with(&["--delay-ms", "100"]);
    let config = mail_config(work.path());
    let mut nodes: Vec<Node> = (0..3)
        .map(|_| Node::start(&db, Some(&config), &["--smtp-url", &sink.url()]))
        .collect();
    assert!(
        eventually(Duration::from_secs(60), || sink.received().len() >= 40),
        "no digests arrived; logs:\n{}",
        nodes
            .iter()
            .map(Node::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    nodes[1].kill();

    // Wait for every queued digest to be sent (the dead node's claims run
    // out after their 60 s lease and are taken over).
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let unsent = |client: &mut postgres::Client| -> (i64, i64) {
        let row = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE status <> 'sent'), COUNT(*) FROM outbox WHERE kind = 'digest'",
                &[],
            )
            .expect("count the outbox");
        (row.get(0), row.get(1))
    };
    let (unsent_at_kill, queued_at_kill) = unsent(&mut client);
    assert!(
        unsent_at_kill > 0,
        "all {queued_at_kill} digests were sent before the kill: the test proves nothing"
    );
    let settled = eventually(Duration::from_secs(150), || {
        let (unsent, all) = unsent(&mut client);
        all > 0 && unsent == 0
    });
    let live: Vec<String> = [&nodes[0], &nodes[2]].iter().map(|n| n.log()).collect();
    assert!(
        settled,
        "digests were left unsent; logs:\n{}",
        live.join("\n---\n")
    );

    let queued = client
        .query(
            "SELECT key, recipient FROM outbox WHERE kind = 'digest' ORDER BY key",
            &[],
        )
        .expect("read the outbox");
    let received = sink.received();
    let mut duplicates = 0;
    for email in &readers {
        let mut expected: Vec<String> = queued
            .iter()
            .filter(|row| row.get::<_, String>(1) == *email)
            .map(|row| row.get::<_, String>(0))
            .collect();
        expected.sort();
        assert!(
            expected.len() >= 2,
            "{email} has {} digests queued; a week holds several weekdays",
            expected.len()
        );
        let mut got: Vec<&crate::mail::Received> = received
            .iter()
            .filter(|r| r.rcpt == [email.as_str()])
            .collect();
        got.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        let mut ids: Vec<String> = got
            .iter()
            .map(|r| {
                let id = r.message_id.trim_start_matches('<');
                id.split('@').next().unwrap_or_default().to_string()
            })
            .collect();
        // A message resent after the kill is the identical message.
        for pair in got.windows(2) {
            if pair[0].message_id == pair[1].message_id {
                duplicates += 1;
                assert_eq!(
                    std::fs::read(&pair[0].file).expect("read a mail"),
                    std::fs::read(&pair[1].file).expect("read a mail"),
                    "a resend of {} differs from the first",
                    pair[0].message_id
                );
            }
        }
        ids.dedup();
        assert_eq!(ids, expected, "{email}: each digest of every period, once");
    }
    eprintln!(
        "{} digests queued, {unsent_at_kill} unsent when a node was killed; {} mails received, {duplicates} of them identical resends",
        queued.len(),
        received.len()
    );
    assert!(
        duplicates <= 200,
        "{duplicates} resends: more than the one batch the killed node held"
    );
}

#[test]
fn rate_limits_count_attempts_on_every_node_together() {
    let db = Database::new("limits");
    let nodes: Vec<Node> = (0..2).map(|_| Node::start(&db, None, &[])).collect();
    // Five failed logins at one account are allowed in 15 minutes, wherever
    // they land; the sixth is refused by whichever node gets it.
    let login = |node: &Node| {
        let response = agent()
            .post(format!("{}/login", node.url))
            .send_form([("login", "nobody"), ("password", "wrong")])
            .expect("POST /login");
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().expect("ASCII").to_owned());
        (response.status().as_u16(), retry_after)
    };
    for attempt in 0..5 {
        let (status, _) = login(&nodes[attempt % 2]);
        assert_eq!(
            status,
            401,
            "attempt {attempt}: {}",
            nodes[attempt % 2].log()
        );
    }
    for node in &nodes {
        let (status, retry_after) = login(node);
        assert_eq!(status, 429, "{}", node.log());
        let secs: u64 = retry_after
            .expect("a Retry-After header")
            .parse()
            .expect("seconds");
        assert!((1..=15 * 60).contains(&secs), "{secs}");
    }
    // Kept hashed: neither the account name nor the client's address is
    // stored in clear.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let keys: Vec<String> = client
        .query("SELECT key FROM rate_hits", &[])
        .expect("rate_hits")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| k.len() == 64 && !k.contains("nobody") && !k.contains("127.0.0.1")),
        "{keys:?}"
    );
}
