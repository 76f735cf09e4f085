//! End-to-end tests of the whole product: the real `paperboy` binary serving
//! a temp data directory loaded with `paperboy import` of the real HF files,
//! driven by a real headless Chromium over WebDriver (`browser`, `pages`) and
//! by real third-party clients in Python (`python_peers`).
//!
//! The tools come from `scripts/test`, which installs them when missing; a
//! test that cannot find one fails and says so, it never skips.

mod browser;
mod pages;
mod python_peers;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use tempfile::TempDir;

use crate::{paperboy, stderr, stdout};

/// The site URL the server is told it lives at (`--base-url`): feeds make
/// their absolute links with it.
pub const SITE_URL: &str = "http://paperboy.test";

/// How long the server may take to say it is serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The saved HF daily lists.
pub fn hf_dir() -> PathBuf {
    crate::data_dir().join("hf-daily-papers")
}

/// The saved HF day files, oldest first.
pub fn hf_files() -> Vec<PathBuf> {
    let dir = hf_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("read a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// The HF file of one curation day.
pub fn hf_file(day: &str) -> PathBuf {
    let path = hf_dir().join(format!("{day}.json"));
    assert!(
        path.is_file(),
        "{} is missing from the shared data",
        path.display()
    );
    path
}

/// What a saved HF list says of one paper.
#[derive(Debug, Clone)]
pub struct HfPaper {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub upvotes: u64,
}

/// The papers of one saved HF day, in file order. Only for days saved as a
/// plain JSON array of objects (the recent ones).
pub fn hf_day(day: &str) -> Vec<HfPaper> {
    let path = hf_file(day);
    let text = std::fs::read_to_string(&path).expect("read an HF file");
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&text).expect("an HF file is a JSON array");
    items
        .iter()
        .map(|item| {
            let paper = &item["paper"];
            let field = |name: &str| {
                paper[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: paper.{name} is not a string", path.display()))
                    .to_string()
            };
            HfPaper {
                id: field("id"),
                title: browser::norm(&field("title")),
                summary: browser::norm(&field("summary")),
                upvotes: paper["upvotes"]
                    .as_u64()
                    .expect("paper.upvotes is a number"),
            }
        })
        .collect()
}

/// A data directory loaded with `paperboy import`, not served yet.
pub struct Data {
    dir: TempDir,
}

impl Data {
    pub fn new() -> Data {
        Data {
            dir: tempfile::tempdir().expect("create a temp data dir"),
        }
    }

    /// The data directory of the HF lists of `days` (`YYYY-MM-DD`).
    pub fn with_days(days: &[&str]) -> Data {
        let data = Data::new();
        let files: Vec<PathBuf> = days.iter().map(|d| hf_file(d)).collect();
        data.import(&files, &[]);
        data
    }

    /// The data directory of every saved HF list.
    pub fn with_all_days() -> Data {
        let data = Data::new();
        let files = hf_files();
        assert!(
            files.len() >= 500,
            "expected the 580 HF files, found {}",
            files.len()
        );
        data.import(&files, &[]);
        data
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `paperboy import [FLAGS] FILES`; panics with its output if it fails.
    pub fn import(&self, files: &[PathBuf], flags: &[&str]) {
        let mut args: Vec<&str> = vec!["import"];
        args.extend_from_slice(flags);
        args.extend(files.iter().map(|p| p.to_str().expect("a UTF-8 path")));
        let out = paperboy(self.path(), &args);
        assert!(
            out.status.success(),
            "paperboy import failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// `paperboy user add EMAIL --username NAME [--admin]`, the password in
    /// `PAPERBOY_PASSWORD`.
    pub fn add_user(&self, user: &TestUser, admin: bool) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperboy"));
        cmd.arg("--data")
            .arg(self.path())
            .args(["user", "add", &user.email, "--username", &user.username])
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_LOG", "warn")
            .env("PAPERBOY_PASSWORD", &user.password);
        if admin {
            cmd.arg("--admin");
        }
        let out = cmd.output().expect("run paperboy user add");
        assert!(
            out.status.success(),
            "paperboy user add failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// Starts `paperboy serve` over this data directory.
    pub fn serve(self) -> Server {
        Server::start(self, &[])
    }

    /// Starts `paperboy serve EXTRA...` (flags of `serve`, or global ones
    /// such as `--config FILE`).
    pub fn serve_with(self, extra: &[&str]) -> Server {
        Server::start(self, extra)
    }

    /// Starts `paperboy serve --model DIR`: with search by meaning, similar
    /// papers and the background embedding job.
    pub fn serve_with_model(self, model_dir: &Path) -> Server {
        let model = model_dir.to_str().expect("a UTF-8 path").to_string();
        Server::start(self, &["--model", &model])
    }
}

/// An account for a test.
pub struct TestUser {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl TestUser {
    pub fn new(username: &str) -> TestUser {
        TestUser {
            username: username.to_string(),
            email: format!("{username}@example.org"),
            password: format!("{username}-correct-horse-battery"),
        }
    }
}

/// A running `paperboy serve --addr 127.0.0.1:0`; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    stderr_log: PathBuf,
    /// Kept until the server is gone: the temp data directory.
    _data: Data,
}

impl Server {
    fn start(data: Data, extra: &[&str]) -> Server {
        let stderr_log = data.path().join("serve.stderr.log");
        let log = File::create(&stderr_log).expect("create the server's log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_paperboy"))
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--base-url", SITE_URL])
            .args(extra)
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start paperboy serve");
        // Read stdout on a thread until the "serving on" line, then keep
        // draining it so that the server never blocks on a full pipe.
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
        let url = rx.recv_timeout(START_TIMEOUT);
        let mut server = Server {
            child,
            url: String::new(),
            stderr_log,
            _data: data,
        };
        match url {
            Ok(url) => server.url = url,
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                panic!(
                    "paperboy serve did not say it was serving within {START_TIMEOUT:?} (exit: {status:?}); stderr:\n{}",
                    server.log()
                );
            }
        }
        server
    }

    /// The data directory being served.
    pub fn data(&self) -> &Data {
        &self._data
    }

    /// What the server wrote on stderr so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://127.0.0.1:PORT` from "Paperboy is serving on http://127.0.0.1:PORT/ (ctrl-c stops it)".
pub fn serving_url(line: &str) -> Option<String> {
    let rest = line.split("serving on ").nth(1)?;
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://")
        .then(|| url.trim_end_matches('/').to_string())
}

/// A paper that arXiv published two days ago (by the real clock, which is
/// the server's "today"), so that it may be submitted to today's list.
pub struct RecentPaper {
    pub id: String,
    pub title: String,
    pub abstract_text: String,
}

impl RecentPaper {
    /// Writes the paper as one Kaggle arXiv snapshot line into `dir` and
    /// returns it with the file's path. `n` keeps ids apart within a run.
    pub fn write_kaggle_line(dir: &Path, n: u32) -> (RecentPaper, PathBuf) {
        let published = Utc::now() - Days::new(2);
        let day: NaiveDate = published.date_naive();
        let id = format!("{}.{:05}", day.format("%y%m"), 99_900 + n);
        let paper = RecentPaper {
            title: format!("Paperboy end-to-end fixture {n}: submitting a fresh preprint"),
            abstract_text: format!(
                "A tiny paper written by the end-to-end tests on {day}, so that it is recent enough to be submitted."
            ),
            id,
        };
        let line = serde_json::json!({
            "id": paper.id,
            "submitter": "Paperboy Tests",
            "authors": "Ada Lovelace, Alan Turing",
            "title": paper.title,
            "comments": null,
            "journal-ref": null,
            "doi": null,
            "report-no": null,
            "categories": "cs.DL",
            "license": null,
            "abstract": paper.abstract_text,
            "versions": [{ "version": "v1", "created": published.to_rfc2822() }],
            "update_date": day.to_string(),
            "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]],
        });
        let path = dir.join(format!("recent-{n}.jsonl"));
        std::fs::write(&path, format!("{line}\n")).expect("write the Kaggle fixture");
        (paper, path)
    }
}

#[test]
fn the_serving_line_gives_the_url() {
    assert_eq!(
        serving_url("Paperboy is serving on http://127.0.0.1:41234/ (ctrl-c stops it)").as_deref(),
        Some("http://127.0.0.1:41234")
    );
    assert_eq!(serving_url("something else"), None);
}
