//! The test app: a temp-dir SQLite store filled through `Store::upsert`, the
//! real router served by `axum::serve` on 127.0.0.1:0 in a background
//! thread, and a `ureq` client that reports 4xx/5xx as responses.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use paperboy_core::{ArxivId, DailyEntry, NewUser, Paper, SourceRecord, Submitter, User};
use paperboy_store::{Accounts, SqliteStore, Store, Vectors};
use paperboy_web::{AppState, WebConfig};
use tempfile::TempDir;

/// The "now" of the fixture world: Monday 2025-06-16, noon UTC.
pub fn fixture_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 16, 12, 0, 0).unwrap()
}

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test day")
}

pub fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).expect("test id").id
}

/// A paper on the list of `on` with `upvotes`, and plausible everything else.
pub fn record(paper_id: &str, on: &str, upvotes: u32) -> SourceRecord {
    let on = day(on);
    let id = id(paper_id);
    let mut paper = Paper::new(id.clone());
    paper.biblio.title = format!("Paper {paper_id}");
    paper.biblio.abstract_text =
        format!("We study {paper_id}. ") + &"Results are good. ".repeat(30);
    paper.biblio.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    paper.biblio.categories = vec!["cs.CL".into(), "cs.LG".into()];
    paper.biblio.published = Some(
        on.pred_opt()
            .unwrap()
            .and_hms_milli_opt(17, 59, 53, 0)
            .unwrap()
            .and_utc(),
    );
    paper.community.observed_at = Some(on.and_time(NaiveTime::MIN).and_utc());
    paper.community.upvotes = Some(upvotes);
    let entry = DailyEntry {
        paper_id: id,
        day: on,
        submitter: Some(Submitter {
            name: "unilm".into(),
            fullname: Some("Li Dong".into()),
            avatar_url: None,
        }),
        position: 0,
        submitted_at: Some(on.and_hms_milli_opt(0, 43, 1, 816).unwrap().and_utc()),
        num_comments: Some(0),
    };
    SourceRecord {
        paper,
        entry: Some(entry),
    }
}

/// `record` changed by `edit`.
pub fn record_with(
    paper_id: &str,
    on: &str,
    upvotes: u32,
    edit: impl FnOnce(&mut SourceRecord),
) -> SourceRecord {
    let mut r = record(paper_id, on, upvotes);
    edit(&mut r);
    r
}

/// Numbers each day's entries by their order in `records` (the source's
/// list position).
pub fn with_positions(mut records: Vec<SourceRecord>) -> Vec<SourceRecord> {
    let mut next: HashMap<NaiveDate, u32> = HashMap::new();
    for r in &mut records {
        if let Some(e) = &mut r.entry {
            let n = next.entry(e.day).or_default();
            e.position = *n;
            *n += 1;
        }
    }
    records
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The body, failing the test unless the status is `status`.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "body: {}", self.body);
        &self.body
    }
}

/// A running server over its own database.
pub struct TestApp {
    pub base: String,
    /// The database, when it is SQLite (see [`TestApp::serve`]).
    sqlite: Option<Arc<SqliteStore>>,
    agent: ureq::Agent,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: Option<TempDir>,
}

impl TestApp {
    /// A server whose database holds `records` and whose clock says `now`.
    pub fn start(records: &[SourceRecord], now: DateTime<Utc>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Arc::new(SqliteStore::open(&dir.path().join("paperboy.db")).expect("open store"));
        if !records.is_empty() {
            store.upsert(records).expect("fixtures go in");
        }
        let mut app = TestApp::serve(store.clone(), now);
        app.sqlite = Some(store);
        app._dir = Some(dir);
        app
    }

    /// Like [`TestApp::start`], with a keyword index (caught up before the
    /// server starts, then by the refresher every second).
    pub fn start_with_search(records: &[SourceRecord], now: DateTime<Utc>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Arc::new(SqliteStore::open(&dir.path().join("paperboy.db")).expect("open store"));
        if !records.is_empty() {
            store.upsert(records).expect("fixtures go in");
        }
        let index = paperboy_search::KeywordIndex::open(&dir.path().join("index/keyword"))
            .expect("open the index");
        index.catch_up(store.as_ref()).expect("index the fixtures");
        let engine = Arc::new(paperboy_search::SearchEngine::keyword_only(Arc::new(index)));
        let mut app = TestApp::serve_with(store.clone(), now, |state| state.with_search(engine));
        app.sqlite = Some(store);
        app._dir = Some(dir);
        app
    }

    /// Like [`TestApp::start_with_search`], with search by meaning too:
    /// `vectors` are stored for their papers under `model`, and `encode`
    /// plays the embedding model for queries.
    pub fn start_with_semantic(
        records: &[SourceRecord],
        vectors: &[paperboy_store::PaperVector],
        encode: fn(&str) -> Option<Vec<f32>>,
        now: DateTime<Utc>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Arc::new(SqliteStore::open(&dir.path().join("paperboy.db")).expect("open store"));
        store.upsert(records).expect("fixtures go in");
        store
            .put_vectors("test-model", vectors)
            .expect("vectors go in");
        let keyword = paperboy_search::KeywordIndex::open(&dir.path().join("index/keyword"))
            .expect("open the index");
        let dim = vectors.first().map_or(4, |v| v.vector.len());
        let index = paperboy_search::VectorIndex::open(
            &dir.path().join("index/vectors"),
            "test-model",
            dim,
        )
        .expect("open the vector index");
        let engine = paperboy_search::SearchEngine {
            keyword: Arc::new(keyword),
            vectors: Some(Arc::new(index)),
            encoder: Some(Arc::new(encode)),
            params: Default::default(),
        };
        engine.catch_up(store.as_ref()).expect("index the fixtures");
        let engine = Arc::new(engine);
        let mut app = TestApp::serve_with(store.clone(), now, |state| state.with_search(engine));
        app.sqlite = Some(store);
        app._dir = Some(dir);
        app
    }

    /// A server over any store, with the clock at `now`.
    pub fn serve(store: Arc<dyn Store>, now: DateTime<Utc>) -> TestApp {
        TestApp::serve_with(store, now, |state| state)
    }

    /// Like [`TestApp::serve`], with the state changed by `configure` (a
    /// search index) and the search refresher running.
    pub fn serve_with(
        store: Arc<dyn Store>,
        now: DateTime<Utc>,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> TestApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let config = WebConfig {
            base_url: "https://papers.example.org".into(),
            ..WebConfig::default()
        };
        let mut state = configure(AppState::new(store, config));
        state.clock = Arc::new(move || now);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                paperboy_web::search::spawn_refresher(&state);
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, paperboy_web::router(state))
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .new_agent();
        TestApp {
            base,
            sqlite: None,
            agent,
            shutdown: Some(tx),
            thread: Some(thread),
            _dir: None,
        }
    }

    /// The SQLite database of an app made by [`TestApp::start`].
    pub fn store(&self) -> &SqliteStore {
        self.sqlite
            .as_deref()
            .expect("an app made by TestApp::start")
    }

    pub fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("GET {path}: body: {e}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// POSTs an empty body.
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request
            .send_empty()
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("POST {path}: body: {e}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Signs `username` up and in; the cookie header and CSRF token of the session.
    pub fn sign_in(&self, username: &str) -> (User, String, String) {
        let now = fixture_now();
        let user = self
            .store()
            .create_user(
                &NewUser {
                    username: username.into(),
                    email: format!("{username}@example.org"),
                    display_name: username.into(),
                    password_hash: "not-a-real-hash".into(),
                    admin: false,
                },
                now,
            )
            .expect("user");
        let token = format!("session-token-of-{username}");
        let csrf = format!("csrf-of-{username}");
        self.store()
            .create_session(
                user.id,
                &paperboy_web::auth::token_hash(&token),
                &csrf,
                now + chrono::Duration::days(1),
            )
            .expect("session");
        (user, format!("paperboy_session={token}"), csrf)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The small fixture world most tests use:
///
/// - Tue 2025-06-10: 2506.00002 (20 upvotes, 7 authors), 2506.00001 (5),
///   2506.00003 (0, GitHub repo with stars and a project page)
/// - Fri 2025-06-13: 2506.00004 (10), hep-th/9901001 (3)
/// - Sat/Sun 2025-06-14/15: nothing
/// - Mon 2025-06-16: 2506.00006 (1 upvote, 4 comments), 2506.00007 (XSS payloads)
/// - Tue 2025-05-20: 35 papers 2505.10001.. (for paging)
pub fn fixture() -> Vec<SourceRecord> {
    let mut records = vec![
        record("2506.00001", "2025-06-10", 5),
        record_with("2506.00002", "2025-06-10", 20, |r| {
            r.paper.biblio.title = "Seven Authors Agree".into();
            r.paper.biblio.authors = [
                "Qingxiu Dong",
                "Li Dong",
                "Yao Tang",
                "Tianzhu Ye",
                "Yutao Sun",
                "Zhifang Sui",
                "Furu Wei",
            ]
            .map(String::from)
            .to_vec();
            r.paper.biblio.abstract_text =
                "First paragraph of the abstract.\n\nSecond paragraph of it.".into();
            r.paper.community.ai_summary = Some("A short AI summary.".into());
            r.paper.community.ai_keywords = vec!["agreement".into(), "authors".into()];
        }),
        record_with("2506.00003", "2025-06-10", 0, |r| {
            r.paper.community.github_repo = Some("https://github.com/example/repo".into());
            r.paper.community.github_stars = Some(1234);
            r.paper.community.project_page = Some("https://example.org/project".into());
        }),
        record("2506.00004", "2025-06-13", 10),
        record_with("hep-th/9901001", "2025-06-13", 3, |r| {
            r.paper.biblio.title = "An Old-Style Paper".into();
            r.paper.biblio.published = Some(Utc.with_ymd_and_hms(1999, 1, 4, 10, 0, 0).unwrap());
        }),
        record_with("2506.00006", "2025-06-16", 1, |r| {
            if let Some(e) = &mut r.entry {
                e.num_comments = Some(4);
            }
        }),
        record_with("2506.00007", "2025-06-16", 2, |r| {
            r.paper.biblio.title = XSS_TITLE.into();
            r.paper.biblio.authors = vec![
                XSS_AUTHOR.into(),
                "Bobby Tables'); DROP TABLE papers;--".into(),
            ];
            r.paper.biblio.abstract_text = format!("{XSS_TITLE} and {XSS_AUTHOR} & <b>bold</b>");
            r.paper.community.github_repo = Some("javascript:alert(1)".into());
            r.paper.community.project_page =
                Some("data:text/html,<script>alert(1)</script>".into());
            if let Some(e) = &mut r.entry {
                e.submitter = Some(Submitter {
                    name: "evil".into(),
                    fullname: Some("<svg onload=alert(1)>".into()),
                    avatar_url: Some("javascript:alert(1)".into()),
                });
            }
        }),
    ];
    for i in 0..35u32 {
        records.push(record(
            &format!("2505.{:05}", 10001 + i),
            "2025-05-20",
            100 - i,
        ));
    }
    with_positions(records)
}

pub const XSS_TITLE: &str = "<script>alert(1)</script>";
pub const XSS_AUTHOR: &str = "\"><img src=x onerror=alert(1)>";
