//! A real headless Chromium, driven over WebDriver by fantoccini through its
//! own ChromeDriver, and what the page tests do with it: open a page, fill
//! and post a form the way a person would, wait for the next page, read
//! text, take screenshots.
//!
//! Selectors lean on what the spec fixes (routes, form actions, field
//! names, `rel` links) rather than on class names.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(15);

/// The flags Chromium needs here: headless as root, and no calls home
/// (this machine's network is closed; without them Chromium keeps retrying).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

/// How the browser presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A desktop window, 1280 px wide, light colour scheme.
    Desktop,
    /// The same with `prefers-color-scheme: dark`.
    Dark,
    /// A phone: 390 CSS px wide, 2 device pixels per CSS pixel.
    Phone,
}

impl Look {
    fn width(self) -> u32 {
        match self {
            Look::Desktop | Look::Dark => 1280,
            Look::Phone => 390,
        }
    }

    fn height(self) -> u32 {
        match self {
            Look::Desktop | Look::Dark => 900,
            Look::Phone => 844,
        }
    }
}

/// Fails with what to run when a browser tool is missing.
pub fn require_browser_tools() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: the browser tests need Debian's chromium and chromium-driver; \
             run scripts/test, which installs them"
        );
    }
}

/// A ChromeDriver on a free local port, in its own process group so that
/// dropping it also ends the Chromium it started.
struct ChromeDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ChromeDriver {
    fn start(dir: &Path) -> ChromeDriver {
        require_browser_tools();
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let out = File::create(&log).expect("create the chromedriver log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone().expect("clone a file handle")))
            .stderr(Stdio::from(out))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}; run scripts/test"));
        let driver = ChromeDriver { child, port, log };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {WAIT:?}:\n{}",
                driver.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// One browser session on one Paperboy server.
pub struct Browser {
    pub client: Client,
    base: String,
    look: Look,
    // Dropped after `client`: the driver's process group, then the profile.
    driver: ChromeDriver,
    _dir: TempDir,
}

impl Browser {
    /// A fresh Chromium (new empty profile) looking at `base` (`http://127.0.0.1:PORT`).
    pub async fn start(base: &str, look: Look) -> Browser {
        let dir = tempfile::tempdir().expect("create a browser temp dir");
        let driver = ChromeDriver::start(dir.path());
        let profile = dir.path().join("profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={},{}", look.width(), look.height()));
        match look {
            Look::Desktop => args.push("--blink-settings=preferredColorScheme=1".into()),
            Look::Dark => args.push("--blink-settings=preferredColorScheme=0".into()),
            Look::Phone => args.push("--force-device-scale-factor=2".into()),
        }
        let mut chrome = json!({ "binary": CHROMIUM, "args": args });
        if look == Look::Phone {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": { "width": look.width(), "height": look.height(), "pixelRatio": 2.0, "touch": true },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
            });
        }
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("pageLoadStrategy".into(), json!("normal"));
        caps.insert("goog:chromeOptions".into(), chrome);
        // Two TLS back ends are compiled in (ureq brings ring, fantoccini's
        // hyper-rustls aws-lc-rs), so rustls cannot pick one by itself.
        // ChromeDriver speaks plain HTTP; the choice only has to be made.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let connected = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => panic!(
                "cannot start a Chromium session: {e}\nchromedriver log:\n{}",
                driver.log_text()
            ),
        };
        Browser {
            client,
            base: base.trim_end_matches('/').to_string(),
            look,
            driver,
            _dir: dir,
        }
    }

    /// Ends the session (Chromium quits); the driver goes on drop.
    pub async fn close(self) {
        let Browser {
            client,
            driver,
            _dir,
            ..
        } = self;
        if let Err(e) = client.close().await {
            eprintln!("closing the browser: {e}\n{}", driver.log_text());
        }
    }

    /// Opens `path` on the server and waits for it to load.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Reloads the page, as F5 does.
    pub async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until the script returns something truthy, which it returns;
    /// fails with `what` and the page's path and text otherwise.
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(value) = self.client.execute(script, args.clone()).await {
                let truthy = match &value {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::String(s) => !s.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                };
                if truthy {
                    return value;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what}; the browser shows {}:\n{}",
                    self.path().await,
                    self.text("body").await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the browser shows `path` (ignoring any #fragment).
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_js(
            &format!("the page {path}"),
            "return document.readyState === 'complete' && location.pathname + location.search === arguments[0];",
            vec![json!(path)],
        )
        .await;
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no element matches {css:?} on {} ({e}); the page says:\n{}",
                self.path().await,
                self.text("body").await
            ),
        }
    }

    /// Every element matching `css` now (maybe none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
    }

    /// The rendered text of the first element matching `css`, whitespace
    /// collapsed ("" if there is none).
    pub async fn text(&self, css: &str) -> String {
        let text = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                vec![json!(css)],
            )
            .await
            .unwrap_or_default();
        norm(text.as_str().unwrap_or_default())
    }

    /// Types `value` into the field `name` of the form posting to `action`.
    pub async fn fill(&self, action: &str, name: &str, value: &str) {
        let field = self
            .find(&format!(r#"form[action="{action}"] [name="{name}"]"#))
            .await;
        field.clear().await.expect("clear a field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {name} of {action}: {e}"));
    }

    /// Clicks the submit button of the (first) form posting to `action`.
    pub async fn submit(&self, action: &str) {
        let form = self.find(&format!(r#"form[action="{action}"]"#)).await;
        submit_form(&form).await;
    }

    /// Signs up through `/signup` and checks that the header then names the user.
    pub async fn sign_up(&self, user: &super::TestUser) {
        self.open("/signup").await;
        self.fill("/signup", "username", &user.username).await;
        self.fill("/signup", "email", &user.email).await;
        self.fill(
            "/signup",
            "display_name",
            &format!("{} (e2e)", user.username),
        )
        .await;
        self.fill("/signup", "password", &user.password).await;
        self.submit("/signup").await;
        self.wait_signed_in(user).await;
    }

    /// Logs in through `/login` with the username.
    pub async fn log_in(&self, user: &super::TestUser) {
        self.open("/login").await;
        self.fill("/login", "login", &user.username).await;
        self.fill("/login", "password", &user.password).await;
        self.submit("/login").await;
        self.wait_signed_in(user).await;
    }

    async fn wait_signed_in(&self, user: &super::TestUser) {
        self.wait_js(
            &format!("a page that shows {} signed in (a link to /users/{0} and a log-out form)", user.username),
            "return !location.pathname.startsWith('/signup') && !location.pathname.startsWith('/login') \
             && !!document.querySelector('a[href=\"/users/' + arguments[0] + '\"]') \
             && !!document.querySelector('form[action=\"/logout\"]');",
            vec![json!(user.username)],
        )
        .await;
    }

    /// A PNG of the whole page (the window stretched to the page's height, at
    /// most `max_height` CSS px); the window size is restored afterwards.
    pub async fn full_page_png(&self, max_height: u32) -> Vec<u8> {
        let png = if self.look == Look::Phone {
            // Mobile emulation fixes the viewport; grow the emulated screen instead.
            let height = self.page_height().await.min(max_height);
            self.emulated_height(height).await;
            let png = self.client.screenshot().await.expect("screenshot");
            self.emulated_height(self.look.height()).await;
            png
        } else {
            let chrome = self
                .js("return window.outerHeight - window.innerHeight;", vec![])
                .await;
            let chrome = u32::try_from(chrome.as_u64().unwrap_or(0)).unwrap_or(0);
            let height = self.page_height().await.min(max_height);
            self.client
                .set_window_size(self.look.width(), height + chrome)
                .await
                .expect("resize the window");
            let png = self.client.screenshot().await.expect("screenshot");
            self.client
                .set_window_size(self.look.width(), self.look.height())
                .await
                .expect("restore the window size");
            png
        };
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "a screenshot is a PNG"
        );
        png
    }

    async fn page_height(&self) -> u32 {
        let h = self
            .js(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await;
        u32::try_from(h.as_u64().unwrap_or(900)).unwrap_or(900)
    }

    /// Changes the emulated phone screen's height (Chrome DevTools'
    /// Emulation.setDeviceMetricsOverride, through ChromeDriver).
    async fn emulated_height(&self, height: u32) {
        let cmd = CdpCommand {
            cmd: "Emulation.setDeviceMetricsOverride",
            params: json!({
                "width": self.look.width(), "height": height, "deviceScaleFactor": 2, "mobile": true,
            }),
        };
        self.client
            .issue_cmd(cmd)
            .await
            .expect("Emulation.setDeviceMetricsOverride");
    }
}

/// Clicks the submit button of `form` (a person's way of posting it).
pub async fn submit_form(form: &Element) {
    let button = form
        .find(Locator::Css(
            r#"button[type="submit"], input[type="submit"], button:not([type])"#,
        ))
        .await
        .expect("the form has a submit button");
    button.click().await.expect("click the submit button");
}

/// Whitespace collapsed to single spaces, trimmed.
pub fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Chrome DevTools Protocol command sent through ChromeDriver's
/// `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct CdpCommand {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
