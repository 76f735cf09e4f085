//! The test app of the account and participation tests: the real router
//! served on 127.0.0.1:0 (with the peer address, as `serve` does) over a
//! temporary SQLite store, with a clock and rate limits the test sets, and
//! an HTTP client that keeps cookies like a browser and does not follow
//! redirects (so tests see the 303s).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use paperboy_core::{ArxivId, Paper, SourceRecord, User};
use paperboy_store::{SqliteStore, Store};
use paperboy_web::auth::{Limit, RateLimits, RateRules};
use paperboy_web::{AppState, WebConfig};

/// A running server and what it runs on.
pub struct SiteApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    clock: Arc<Mutex<DateTime<Utc>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// How to start a [`SiteApp`].
pub struct SiteBuilder {
    config: WebConfig,
    rules: RateRules,
    now: DateTime<Utc>,
}

/// Rate limits no ordinary test reaches.
pub fn generous_rules() -> RateRules {
    let limit = Limit {
        max: 1_000_000,
        window_secs: 60,
    };
    RateRules {
        login_per_ip: limit,
        login_per_account: limit,
        signup_per_ip: limit,
        subscribe_per_ip: limit,
        subscribe_per_address: limit,
    }
}

/// The default "now" of test apps: Tuesday 2025-06-10, 12:00 UTC.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 10, 12, 0, 0).unwrap()
}

impl SiteBuilder {
    pub fn config(mut self, change: impl FnOnce(&mut WebConfig)) -> SiteBuilder {
        change(&mut self.config);
        self
    }

    pub fn rules(mut self, rules: RateRules) -> SiteBuilder {
        self.rules = rules;
        self
    }

    pub fn start(self) -> SiteApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("paperboy.db")).expect("open store"));
        let clock = Arc::new(Mutex::new(self.now));
        let mut state = AppState::new(store.clone(), self.config);
        let read_clock = clock.clone();
        state.clock = Arc::new(move || *read_clock.lock().unwrap());
        state.limits = Arc::new(RateLimits::new(self.rules));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app =
                    paperboy_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        SiteApp {
            base: format!("http://{addr}"),
            store,
            clock,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
        }
    }
}

impl Drop for SiteApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

impl SiteApp {
    /// Default config, generous rate limits, the clock at [`default_now`].
    pub fn start() -> SiteApp {
        SiteApp::builder().start()
    }

    pub fn builder() -> SiteBuilder {
        SiteBuilder {
            config: WebConfig::default(),
            rules: generous_rules(),
            now: default_now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        *self.clock.lock().unwrap() = now;
    }

    /// A client without cookies.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Stores a paper published `days_old` days before the app's "now",
    /// carrying `source_upvotes` from its source.
    pub fn add_paper(
        &self,
        id: &str,
        title: &str,
        days_old: i64,
        source_upvotes: Option<u32>,
    ) -> ArxivId {
        let id = ArxivId::parse(id).expect("test id").id;
        let mut paper = Paper::new(id.clone());
        paper.biblio.title = title.into();
        paper.biblio.abstract_text = format!("The abstract of {title}.");
        paper.biblio.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
        paper.biblio.published = Some(self.now() - chrono::Duration::days(days_old));
        paper.community.upvotes = source_upvotes;
        self.store
            .upsert(&[SourceRecord { paper, entry: None }])
            .expect("upsert paper");
        id
    }

    /// Creates an account directly (as `paperboy user add` does).
    pub fn add_user(&self, username: &str, admin: bool) -> User {
        paperboy_web::account::create_user(
            self.store.as_ref(),
            username,
            &format!("{username}@example.org"),
            "",
            &password_of(username),
            admin,
            self.now(),
        )
        .expect("create user")
    }

    /// A client logged in as an existing user, with its CSRF token.
    pub fn login(&self, username: &str) -> Client {
        let mut client = self.client();
        let reply = client.post_form(
            "/login",
            &[("login", username), ("password", &password_of(username))],
        );
        assert_eq!(reply.status, 303, "login of {username}: {}", reply.body);
        client.refresh_csrf();
        client
    }

    /// A new user (admin or not) and a logged-in client of theirs.
    pub fn user_client(&self, username: &str, admin: bool) -> (User, Client) {
        let user = self.add_user(username, admin);
        (user, self.login(username))
    }

    /// Upvotes of a paper as the store counts them (source + users).
    pub fn upvotes(&self, id: &ArxivId) -> u32 {
        self.store
            .paper_page(id)
            .expect("paper page")
            .expect("known paper")
            .upvotes
    }
}

/// The password test users get.
pub fn password_of(username: &str) -> String {
    format!("pw-{username}-long-enough")
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location; status {}: {}", self.status, self.body))
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP client that keeps cookies (like a browser), optionally sends a
/// bearer token, and never follows redirects.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    cookies: Arc<Mutex<HashMap<String, String>>>,
    pub bearer: Option<String>,
    /// The CSRF token of the current session (from a page's form).
    pub csrf: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            base: base.to_string(),
            cookies: Arc::default(),
            bearer: None,
            csrf: String::new(),
        }
    }

    /// A client that sends `token` as `Authorization: Bearer` and no cookies.
    pub fn with_bearer(&self, token: &str) -> Client {
        Client {
            bearer: Some(token.to_string()),
            cookies: Arc::default(),
            csrf: String::new(),
            ..self.clone()
        }
    }

    /// The same cookies in a separate jar (a copied session).
    pub fn copy(&self) -> Client {
        let cookies = self.cookies.lock().unwrap().clone();
        Client {
            cookies: Arc::new(Mutex::new(cookies)),
            ..self.clone()
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    fn cookie_header(&self) -> Option<String> {
        let jar = self.cookies.lock().unwrap();
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn keep_cookies(&self, headers: &ureq::http::HeaderMap) {
        let mut jar = self.cookies.lock().unwrap();
        for value in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = value.split(';');
            let Some((name, val)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let expired = parts.any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
            if expired || val.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), val.to_string());
            }
        }
    }

    fn finish(&self, result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = result.expect("HTTP request");
        self.keep_cookies(response.headers());
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn decorate<B>(
        &self,
        mut req: ureq::RequestBuilder<B>,
        extra: &[(&str, &str)],
    ) -> ureq::RequestBuilder<B> {
        if let Some(cookies) = self.cookie_header() {
            req = req.header("Cookie", cookies);
        }
        if let Some(token) = &self.bearer {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req
    }

    pub fn get(&self, path: &str) -> Reply {
        self.finish(self.decorate(self.agent.get(self.url(path)), &[]).call())
    }

    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.finish(
            self.decorate(self.agent.post(self.url(path)), &[])
                .send_form(fields.iter().copied()),
        )
    }

    /// A form post carrying the session's CSRF token.
    pub fn post_form_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all)
    }

    pub fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let req = self
            .decorate(self.agent.post(self.url(path)), headers)
            .header("Content-Type", "application/json");
        self.finish(req.send(body.to_string()))
    }

    /// A JSON post with the session's CSRF token in `X-CSRF-Token`.
    pub fn post_json_csrf(&self, path: &str, body: &serde_json::Value) -> Reply {
        let csrf = self.csrf.clone();
        self.post_json(path, body, &[("X-CSRF-Token", &csrf)])
    }

    pub fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.finish(
            self.decorate(self.agent.delete(self.url(path)), headers)
                .call(),
        )
    }

    /// Reads the CSRF token of the session from the settings page.
    pub fn refresh_csrf(&mut self) {
        let page = self.get("/settings");
        assert_eq!(page.status, 200, "settings: {}", page.body);
        self.csrf = csrf_in(&page.body).expect("a csrf field on /settings");
    }
}

/// The value of the first `csrf` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}
