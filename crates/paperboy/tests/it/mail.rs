//! Mail end to end: the real `paperboy` binary (`serve` and `digest send`)
//! against real SMTP servers started here (`tests/python/smtp_server.py`,
//! aiosmtpd) that accept, answer 4xx, answer 5xx or drop the connection.
//! Mails are parsed as a mail client would (`tests/python/mail_check.py`)
//! and their links are followed against the running server.
//!
//! The catalog is made of real HF daily lists saved under new dates around
//! today, so that every digest period has papers whatever day the tests run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveTime, Utc};
use paperboy_core::mail::{Cadence, Schedule, parse_zone};
use tempfile::TempDir;

use crate::e2e::{Data, SITE_URL, Server, hf_files};
use crate::{stderr, stdout};

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// A real SMTP server (aiosmtpd) in one behaviour; stopped when dropped.
pub(crate) struct Sink {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
    dir: TempDir,
}

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) file: PathBuf,
    pub(crate) message_id: String,
    pub(crate) rcpt: Vec<String>,
    /// Whether it came over TLS.
    pub(crate) tls: bool,
    /// The user the sender logged in as.
    pub(crate) login: Option<String>,
}

impl Sink {
    fn start(mode: &str) -> Sink {
        Sink::start_with(&["--mode", mode])
    }

    /// A server started with these options of smtp_server.py.
    pub(crate) fn start_with(options: &[&str]) -> Sink {
        let dir = tempfile::tempdir().expect("a temp dir for the sink");
        let mut child = Command::new("python3")
            .arg(python_dir().join("smtp_server.py"))
            .arg(dir.path())
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (scripts/test installs aiosmtpd)");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("read the sink's first line");
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!("the SMTP server did not start (is aiosmtpd installed?): {line:?}")
            });
        Sink {
            child,
            _stdin: stdin,
            port,
            dir,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn lines(&self, name: &str) -> Vec<serde_json::Value> {
        match std::fs::read_to_string(self.dir.path().join(name)) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.lines("log.jsonl")
            .iter()
            .map(|r| Received {
                file: self.dir.path().join(r["file"].as_str().expect("file")),
                message_id: r["message_id"].as_str().unwrap_or_default().to_string(),
                rcpt: r["rcpt_tos"]
                    .as_array()
                    .expect("rcpt_tos")
                    .iter()
                    .map(|v| v.as_str().expect("an address").to_string())
                    .collect(),
                tls: r["tls"].as_bool().expect("tls"),
                login: r["login"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// Outcomes of every delivery attempt ("250", "451", "550", "drop").
    fn outcomes(&self) -> Vec<String> {
        self.lines("attempts.jsonl")
            .iter()
            .map(|a| a["outcome"].as_str().expect("outcome").to_string())
            .collect()
    }

    /// Waits until the sink holds `n` messages; returns them.
    fn wait_for(&self, n: usize, server: &Server) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the sink got {} of {n} messages in 30 s; server log:\n{}",
                got.len(),
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mail as a mail client parses it (see mail_check.py).
fn parse_mail(path: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(python_dir().join("mail_check.py"))
        .arg(path)
        .output()
        .expect("run mail_check.py");
    assert!(
        out.status.success(),
        "{} does not parse as a mail: {}",
        path.display(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("mail_check prints JSON")
}

/// Checks what every mail must be: valid MIME, plain text + HTML, no
/// remote images or scripts.
fn assert_well_formed(mail: &serde_json::Value) {
    assert_eq!(mail["defects"], serde_json::json!([]), "{mail:#}");
    assert_eq!(mail["content_type"], "multipart/alternative", "{mail:#}");
    let parts = mail["parts"].to_string();
    assert!(
        parts.contains("text/plain") && parts.contains("text/html"),
        "{parts}"
    );
    assert_eq!(mail["images"], serde_json::json!([]), "no images");
    assert_eq!(mail["scripts"], 0, "no scripts");
}

/// The mail's links that start with `prefix` (under the site URL), pointed
/// at the running server instead.
fn site_links(mail: &serde_json::Value, prefix: &str, server: &Server) -> Vec<String> {
    mail["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l.as_str())
        .filter(|l| l.starts_with(&format!("{SITE_URL}{prefix}")))
        .map(|l| l.replacen(SITE_URL, &server.url, 1))
        .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn body(mut response: ureq::http::Response<ureq::Body>) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

/// A catalog of real HF lists saved under the dates from 8 days ago to 8
/// days ahead, imported; the data directory is not served yet.
fn catalog() -> Data {
    let data = Data::new();
    let files = hf_files();
    let source = &files[files.len() - 17..];
    let dir = data.path().join("fixture");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let first = Utc::now().date_naive() - Days::new(8);
    let mut written = Vec::new();
    for (i, file) in source.iter().enumerate() {
        let day = first + Days::new(i as u64);
        let path = dir.join(format!("{day}.json"));
        std::fs::copy(file, &path).expect("copy an HF file");
        written.push(path);
    }
    data.import(&written, &[]);
    data
}

fn mail_config(data: &Data) -> String {
    let path = data.path().join("mail.toml");
    std::fs::write(
        &path,
        format!(
            "[web]\nbase_url = \"{SITE_URL}\"\n\n\
             [mail]\nfrom = \"Paperboy <papers@paperboy.test>\"\ninterval_secs = 1\n"
        ),
    )
    .expect("write the config");
    path.display().to_string()
}

/// `paperboy digest send --at AT --smtp-url URL`, with the mail config.
fn digest_send(server: &Server, smtp: &str, at: DateTime<Utc>, fault: bool) -> Output {
    let data = server.data();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperboy"));
    cmd.arg("--data")
        .arg(data.path())
        .args(["--config", &mail_config(data)])
        .args([
            "digest",
            "send",
            "--at",
            &at.to_rfc3339(),
            "--smtp-url",
            smtp,
        ])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_LOG", "warn");
    if fault {
        cmd.env("PAPERBOY_FAULT", "exit-after-accept");
    }
    cmd.output().expect("run paperboy digest send")
}

/// Subscribes `email` through the site's form and confirms through the
/// link of the confirmation mail the sink received; returns when the
/// subscription is active.
fn subscribe_and_confirm(server: &Server, sink: &Sink, email: &str, zone: &str) {
    let before = sink.received().len();
    let (status, page) = body(
        agent()
            .post(format!("{}/subscribe", server.url))
            .send_form([
                ("email", email),
                ("cadence", "daily"),
                ("papers", "5"),
                ("send_at", "08:00"),
                ("zone", zone),
            ])
            .expect("POST /subscribe"),
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Check your inbox"), "{page}");
    let got = sink.wait_for(before + 1, server);
    let confirm = &got[before];
    assert_eq!(confirm.rcpt, [email]);
    let mail = parse_mail(&confirm.file);
    assert_well_formed(&mail);
    assert!(
        mail["subject"].as_str().unwrap().contains("Confirm"),
        "{mail:#}"
    );
    // A confirmation mail is not a list mail.
    let links = site_links(&mail, "/subscribe/confirm/", server);
    assert_eq!(links.len(), 1, "{mail:#}");
    // Following the link shows a button; only pressing it confirms.
    let (status, page) = body(agent().get(&links[0]).call().expect("GET confirm"));
    assert_eq!(status, 200, "{page}");
    let (status, page) = body(agent().post(&links[0]).send_empty().expect("POST confirm"));
    assert_eq!(status, 200, "{page}");
    // Used once: the link is spent.
    let (status, _) = body(agent().post(&links[0]).send_empty().expect("POST again"));
    assert_eq!(status, 404);
}

fn daily_at_eight(zone: &str) -> Schedule {
    Schedule {
        cadence: Cadence::Daily,
        send_at: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        zone: parse_zone(zone).unwrap(),
    }
}

/// The digests (distinct Message-IDs) each address received.
fn digests_of(sink: &Sink, email: &str) -> Vec<String> {
    let mut ids: Vec<String> = sink
        .received()
        .into_iter()
        .filter(|r| r.rcpt == [email] && r.message_id.starts_with("<digest-"))
        .map(|r| r.message_id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_subscriber_confirms_gets_a_digest_and_leaves_in_one_click() {
    let sink = Sink::start("accept");
    let data = catalog();
    let config = mail_config(&data);
    let server = data.serve_with(&["--smtp-url", &sink.url(), "--config", &config]);
    let email = "reader@example.org";
    let confirmed_at = Utc::now();
    subscribe_and_confirm(&server, &sink, email, "Asia/Tokyo");

    let (period, due) = daily_at_eight("Asia/Tokyo")
        .next_after(confirmed_at)
        .unwrap();
    let out = digest_send(
        &server,
        &sink.url(),
        due + chrono::Duration::minutes(1),
        false,
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("queued 1 digests"),
        "{}",
        stdout(&out)
    );
    let got = sink.wait_for(2, &server);
    let digest = &got[1];
    assert_eq!(digest.rcpt, [email]);
    assert!(
        digest
            .message_id
            .starts_with(&format!("<digest-{}-s", period.key())),
        "{}",
        digest.message_id
    );
    let mail = parse_mail(&digest.file);
    assert_well_formed(&mail);
    assert_eq!(mail["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let unsubscribe = mail["list_unsubscribe"].as_str().expect("List-Unsubscribe");
    let unsubscribe =
        unsubscribe
            .trim_matches(|c| c == '<' || c == '>')
            .replacen(SITE_URL, &server.url, 1);
    assert!(unsubscribe.contains("/unsubscribe/"), "{unsubscribe}");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("authors") || text.contains("1 author"),
        "{text}"
    );
    // Five papers, each linked to its page here (which exists) and arXiv.
    let papers = site_links(&mail, "/papers/", &server);
    assert_eq!(papers.len(), 5, "{:#}", mail["links"]);
    for link in &papers {
        let (status, _) = body(agent().get(link).call().expect("GET a paper page"));
        assert_eq!(status, 200, "{link}");
        let id = link.rsplit('/').next().unwrap();
        assert!(
            mail["links"]
                .to_string()
                .contains(&format!("arxiv.org/abs/{id}")),
            "{id}"
        );
    }
    // The mail client's one-click unsubscribe: a POST with no cookie.
    let (status, page) = body(
        agent()
            .post(&unsubscribe)
            .content_type("application/x-www-form-urlencoded")
            .send("List-Unsubscribe=One-Click")
            .expect("one-click POST"),
    );
    assert_eq!(status, 200, "{page}");
    // Nothing more is sent to that address.
    let next = due + chrono::Duration::days(3);
    let out = digest_send(&server, &sink.url(), next, false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("queued 0 digests"),
        "{}",
        stdout(&out)
    );
    assert_eq!(sink.received().len(), 2);
}

#[test]
fn each_time_zone_at_its_own_hour_and_a_crashed_sender_never_skips_or_varies() {
    let sink = Sink::start("accept");
    let data = catalog();
    let config = mail_config(&data);
    let server = data.serve_with(&["--smtp-url", &sink.url(), "--config", &config]);
    let start = Utc::now();
    let readers = [
        ("tokyo@example.org", "Asia/Tokyo"),
        ("newyork@example.org", "America/New_York"),
    ];
    for (email, zone) in readers {
        subscribe_and_confirm(&server, &sink, email, zone);
    }
    // The next two digests of each, in time order.
    let mut events = Vec::new();
    for (who, (_, zone)) in readers.iter().enumerate() {
        let mut t = start;
        for _ in 0..2 {
            let (period, due) = daily_at_eight(zone).next_after(t).unwrap();
            events.push((due, who, period));
            t = due;
        }
    }
    events.sort_by_key(|(due, who, _)| (*due, *who));
    let mut expected = [Vec::new(), Vec::new()];
    for (i, (due, who, period)) in events.iter().enumerate() {
        let at = *due + chrono::Duration::minutes(1);
        if i % 2 == 0 {
            // Killed right after the server accepted the first digest, before
            // marking it sent.
            let out = digest_send(&server, &sink.url(), at, true);
            assert!(
                !out.status.success(),
                "the injected crash did not happen: {}{}",
                stdout(&out),
                stderr(&out)
            );
            // Restarted once the crashed sender's lease ran out.
            let out = digest_send(
                &server,
                &sink.url(),
                at + chrono::Duration::minutes(6),
                false,
            );
            assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        } else {
            let out = digest_send(&server, &sink.url(), at, false);
            assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        }
        expected[*who].push(period.key());
        // Each reader has exactly the digests of the periods due so far:
        // the one whose local 08:00 passed got one more, the other none.
        for (w, (email, _)) in readers.iter().enumerate() {
            let got = digests_of(&sink, email);
            assert_eq!(
                got.len(),
                expected[w].len(),
                "{email} after event {i}: {got:?}"
            );
            for key in &expected[w] {
                assert!(
                    got.iter()
                        .any(|id| id.starts_with(&format!("<digest-{key}-s"))),
                    "{email} lacks {key}: {got:?}"
                );
            }
        }
    }
    // Resends are byte for byte the message first accepted.
    let received = sink.received();
    let mut resent = 0;
    for (i, a) in received.iter().enumerate() {
        for b in &received[i + 1..] {
            if a.message_id == b.message_id {
                resent += 1;
                let (x, y) = (
                    std::fs::read(&a.file).unwrap(),
                    std::fs::read(&b.file).unwrap(),
                );
                assert!(x == y, "{} was resent with other bytes", a.message_id);
            }
        }
    }
    assert_eq!(resent, 2, "each crash resends its message once");
}

#[test]
fn temporary_failures_are_retried_dropped_connections_too_and_bounces_pause() {
    let inbox = Sink::start("accept");
    let data = catalog();
    let config = mail_config(&data);
    let server = data.serve_with(&["--smtp-url", &inbox.url(), "--config", &config]);
    let email = "reader@example.org";
    let confirmed_at = Utc::now();
    subscribe_and_confirm(&server, &inbox, email, "UTC");
    let schedule = daily_at_eight("UTC");
    let mut dues = Vec::new();
    let mut t = confirmed_at;
    for _ in 0..6 {
        let (_, due) = schedule.next_after(t).unwrap();
        dues.push(due);
        t = due;
    }
    let minute = chrono::Duration::minutes(1);

    // 451: kept for later, then delivered by a server that accepts.
    let busy = Sink::start("tempfail");
    let out = digest_send(&server, &busy.url(), dues[0] + minute, false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("to retry 1"), "{}", stdout(&out));
    assert_eq!(busy.outcomes(), ["451"]);
    let out = digest_send(&server, &inbox.url(), dues[0] + minute * 3, false);
    assert!(stdout(&out).contains("sent 1"), "{}", stdout(&out));
    assert_eq!(digests_of(&inbox, email).len(), 1);

    // A dropped connection: the same.
    let flaky = Sink::start("drop");
    let out = digest_send(&server, &flaky.url(), dues[1] + minute, false);
    assert!(stdout(&out).contains("to retry 1"), "{}", stdout(&out));
    assert_eq!(flaky.outcomes(), ["drop"]);
    let out = digest_send(&server, &inbox.url(), dues[1] + minute * 3, false);
    assert!(stdout(&out).contains("sent 1"), "{}", stdout(&out));
    assert_eq!(digests_of(&inbox, email).len(), 2);

    // 550 three times in a row: each recorded, then the subscription pauses
    // and nothing more is queued for it.
    let gone = Sink::start("permfail");
    for (i, due) in dues[2..5].iter().enumerate() {
        let out = digest_send(&server, &gone.url(), *due + minute, false);
        assert!(stdout(&out).contains("failed 1"), "{}", stdout(&out));
        let paused = if i == 2 { "paused 1" } else { "paused 0" };
        assert!(stdout(&out).contains(paused), "{}", stdout(&out));
    }
    assert_eq!(gone.outcomes(), ["550", "550", "550"]);
    let out = digest_send(&server, &inbox.url(), dues[5] + minute, false);
    assert!(
        stdout(&out).contains("queued 0 digests"),
        "{}",
        stdout(&out)
    );
    assert_eq!(digests_of(&inbox, email).len(), 2);
}

#[test]
fn digest_send_without_smtp_says_how_to_configure_it() {
    let data = Data::new();
    let out = crate::paperboy(data.path(), &["digest", "send"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("mail.smtp_url"), "{}", stderr(&out));
    let out = crate::paperboy(data.path(), &["digest", "send", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("dry run"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("mail server: none configured"),
        "{}",
        stdout(&out)
    );
    let out = crate::paperboy(data.path(), &["digest", "send", "--at", "tomorrow"]);
    assert!(stderr(&out).contains("--at"), "{}", stderr(&out));
}

/// A test CA and a certificate it signed for `localhost` (ca.pem, cert.pem
/// and key.pem), made with openssl.
fn certificates() -> TempDir {
    let dir = tempfile::tempdir().expect("a temp dir for certificates");
    let openssl = |args: &str| {
        let out = Command::new("openssl")
            .args(args.split(' '))
            .current_dir(dir.path())
            .output()
            .expect("openssl runs (scripts/test installs it)");
        assert!(out.status.success(), "openssl {args}: {}", stderr(&out));
    };
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(&format!(
        "req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=Paperboy-test-CA"
    ));
    openssl(&format!(
        "req {key} -keyout key.pem -out leaf.csr -subj /CN=localhost"
    ));
    std::fs::write(
        dir.path().join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("write leaf.ext");
    openssl(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem \
         -days 2 -extfile leaf.ext",
    );
    dir
}

#[test]
fn starttls_and_implicit_tls_with_a_login_against_real_servers() {
    let certs = certificates();
    let path = |name: &str| certs.path().join(name).display().to_string();
    let (ca, cert, key) = (path("ca.pem"), path("cert.pem"), path("key.pem"));
    for tls in ["starttls", "implicit"] {
        let sink = Sink::start_with(&[
            "--tls",
            tls,
            "--cert",
            &cert,
            "--key",
            &key,
            "--login",
            "ada:s3cret",
        ]);
        let url = |password: &str, ca: Option<&str>| {
            let ca = ca.map(|ca| format!("ca={ca}")).unwrap_or_default();
            match tls {
                "starttls" => format!(
                    "smtp://ada:{password}@localhost:{}?tls=required&{ca}",
                    sink.port
                ),
                _ => format!("smtps://ada:{password}@localhost:{}?{ca}", sink.port),
            }
        };

        // The site sends its confirmation mail over TLS, logged in; the
        // link in it works.
        let data = catalog();
        let config = mail_config(&data);
        let server =
            data.serve_with(&["--smtp-url", &url("s3cret", Some(&ca)), "--config", &config]);
        subscribe_and_confirm(&server, &sink, "ada@example.org", "Europe/Paris");
        let got = sink.received();
        assert_eq!(got.len(), 1, "{tls}");
        assert!(got[0].tls, "{tls}: over TLS");
        assert_eq!(got[0].login.as_deref(), Some("ada"), "{tls}");

        // A certificate nobody vouches for, or a wrong password: refused,
        // and the error says so.
        let check = |url: &str| {
            paperboy_mail::smtp::SmtpSettings::from_url(url)
                .expect("a valid URL")
                .transport()
                .expect("a transport")
                .check()
        };
        match check(&url("s3cret", None)) {
            Err(paperboy_mail::smtp::SendError::Temporary(text)) => {
                assert!(text.contains("certificate"), "{tls}: {text}")
            }
            other => panic!("{tls}: an unknown CA must fail, got {other:?}"),
        }
        match check(&url("wrong", Some(&ca))) {
            Err(paperboy_mail::smtp::SendError::Temporary(text)) => {
                assert!(text.contains("refused our login"), "{tls}: {text}")
            }
            other => panic!("{tls}: a wrong password must fail, got {other:?}"),
        }
        check(&url("s3cret", Some(&ca))).expect("the right settings pass the check");
        assert_eq!(sink.received().len(), 1, "{tls}: nothing more sent");
    }
}

#[test]
fn dry_runs_and_serve_say_whether_the_mail_server_answers() {
    let sink = Sink::start("accept");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!(
            "smtp://127.0.0.1:{}?timeout=2",
            listener.local_addr().expect("addr").port()
        )
    };
    let data = Data::new();
    let dry_run = |url: &str| {
        crate::paperboy(
            data.path(),
            &["digest", "send", "--dry-run", "--smtp-url", url],
        )
    };

    let out = dry_run(&sink.url());
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = format!("mail server smtp://127.0.0.1:{}: answers", sink.port);
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));

    let out = dry_run(&closed);
    assert!(
        !out.status.success(),
        "a server that does not answer fails the check"
    );
    assert!(
        stdout(&out).contains("cannot take mail now"),
        "{}",
        stdout(&out)
    );
    assert!(sink.received().is_empty(), "a dry run sends nothing");

    // `serve` says it once at start, and goes on serving.
    let server = data.serve_with(&["--smtp-url", &closed]);
    let started = Instant::now();
    while !server.log().contains("cannot take mail now") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no word on the mail server: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _) = body(
        agent()
            .get(format!("{}/papers", server.url))
            .call()
            .expect("GET"),
    );
    assert_eq!(status, 200);
}
