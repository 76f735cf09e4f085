//! The one `Config`: built once at start-up from the config file, then
//! `PAPERBOY_*` variables and flags (clap merges those two, flags winning),
//! validated, and passed explicitly to whatever needs it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Everything a command may need to know about this installation.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Holds `paperboy.db` (unless `database_url` is set) and derived indexes.
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://user[:pass]@host[:port]/db`)
    /// instead of the SQLite file in `data_dir`: several `serve` nodes can
    /// share it.
    pub database_url: Option<String>,
    pub import: ImportConfig,
    pub sync: SyncConfig,
    pub web: WebSettings,
    pub mail: MailSettings,
}

/// Mail delivery: digests, alerts and confirmation mails.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSettings {
    /// The SMTP server (`smtp://[user:pass@]host[:port][?tls=required]`,
    /// `smtps://…`); `None`: no mail is sent (`serve` does not schedule
    /// digests; `digest send` refuses, except `--dry-run`).
    pub smtp_url: Option<String>,
    /// The From of every mail, e.g. `Paperboy <papers@example.org>`.
    pub from: String,
    /// Seconds between two rounds of the scheduler and sender in `serve`.
    pub interval_secs: u64,
    /// Seconds a sender holds the messages it claimed: a node that dies
    /// mid-send leaves them to the others after this.
    pub lease_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    /// Where `serve` listens.
    pub addr: String,
    /// The public URL, for feeds and absolute links.
    pub base_url: String,
    /// Mark session cookies Secure (when served behind TLS).
    pub secure_cookies: bool,
    pub site_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportConfig {
    /// Records per transaction: a crash loses at most the batch in flight.
    pub batch_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    pub arxiv_oai_url: String,
    pub hf_url: String,
    /// Seconds between the starts of two requests to one host.
    pub interval_secs: f64,
    pub max_retries: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from("./paperboy-data"),
            database_url: None,
            import: ImportConfig { batch_size: 5_000 },
            sync: SyncConfig {
                arxiv_oai_url: paperboy_sync::ARXIV_OAI_BASE_URL.into(),
                hf_url: paperboy_sync::HF_BASE_URL.into(),
                interval_secs: 3.0,
                max_retries: 5,
            },
            web: WebSettings {
                addr: "127.0.0.1:8080".into(),
                base_url: "http://127.0.0.1:8080".into(),
                secure_cookies: false,
                site_name: "Paperboy".into(),
            },
            mail: MailSettings {
                smtp_url: None,
                from: "Paperboy <papers@localhost>".into(),
                interval_secs: 30,
                lease_secs: 300,
            },
        }
    }
}

/// The config file as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    #[serde(default)]
    pub import: FileImport,
    #[serde(default)]
    pub sync: FileSync,
    #[serde(default)]
    pub web: FileWeb,
    #[serde(default)]
    pub mail: FileMail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMail {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
    pub interval_secs: Option<u64>,
    pub lease_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWeb {
    pub addr: Option<String>,
    pub base_url: Option<String>,
    pub secure_cookies: Option<bool>,
    pub site_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileImport {
    pub batch_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSync {
    pub arxiv_oai_url: Option<String>,
    pub hf_url: Option<String>,
    pub interval_secs: Option<f64>,
    pub max_retries: Option<u32>,
}

/// Values given on the command line or in the environment; they override
/// the file.
#[derive(Debug, Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub batch_size: Option<usize>,
    pub arxiv_oai_url: Option<String>,
    pub hf_url: Option<String>,
    pub interval_secs: Option<f64>,
    pub addr: Option<String>,
    pub base_url: Option<String>,
    pub smtp_url: Option<String>,
}

impl FileConfig {
    pub fn read(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: invalid configuration", path.display()))
    }
}

impl Config {
    /// Layers file < overrides over the defaults, then validates.
    pub fn build(file: FileConfig, overrides: Overrides) -> anyhow::Result<Config> {
        let d = Config::default();
        let config = Config {
            data_dir: overrides.data.or(file.data).unwrap_or(d.data_dir),
            database_url: overrides
                .database_url
                .or(file.database_url)
                .filter(|url| !url.trim().is_empty()),
            import: ImportConfig {
                batch_size: overrides
                    .batch_size
                    .or(file.import.batch_size)
                    .unwrap_or(d.import.batch_size),
            },
            sync: SyncConfig {
                arxiv_oai_url: overrides
                    .arxiv_oai_url
                    .or(file.sync.arxiv_oai_url)
                    .unwrap_or(d.sync.arxiv_oai_url),
                hf_url: overrides
                    .hf_url
                    .or(file.sync.hf_url)
                    .unwrap_or(d.sync.hf_url),
                interval_secs: overrides
                    .interval_secs
                    .or(file.sync.interval_secs)
                    .unwrap_or(d.sync.interval_secs),
                max_retries: file.sync.max_retries.unwrap_or(d.sync.max_retries),
            },
            web: WebSettings {
                addr: overrides.addr.or(file.web.addr).unwrap_or(d.web.addr),
                base_url: overrides
                    .base_url
                    .or(file.web.base_url)
                    .unwrap_or(d.web.base_url),
                secure_cookies: file.web.secure_cookies.unwrap_or(d.web.secure_cookies),
                site_name: file.web.site_name.unwrap_or(d.web.site_name),
            },
            mail: MailSettings {
                smtp_url: overrides
                    .smtp_url
                    .or(file.mail.smtp_url)
                    .filter(|url| !url.trim().is_empty()),
                from: file.mail.from.unwrap_or(d.mail.from),
                interval_secs: file.mail.interval_secs.unwrap_or(d.mail.interval_secs),
                lease_secs: file.mail.lease_secs.unwrap_or(d.mail.lease_secs),
            },
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(1..=1_000_000).contains(&self.import.batch_size) {
            bail!(
                "import.batch_size must be between 1 and 1000000, got {}",
                self.import.batch_size
            );
        }
        if !(self.sync.interval_secs >= 0.0 && self.sync.interval_secs.is_finite()) {
            bail!(
                "sync.interval_secs must be a number of seconds ≥ 0, got {}",
                self.sync.interval_secs
            );
        }
        if self.web.addr.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "web.addr must be HOST:PORT with a numeric host (e.g. 127.0.0.1:8080), got {:?}",
                self.web.addr
            );
        }
        for (key, url) in [
            ("sync.arxiv_oai_url", &self.sync.arxiv_oai_url),
            ("sync.hf_url", &self.sync.hf_url),
            ("web.base_url", &self.web.base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("{key} must be an http:// or https:// URL, got {url:?}");
            }
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            bail!(
                "database_url must be a postgres:// URL, got one starting {:?}",
                url.split("://").next().unwrap_or_default()
            );
        }
        if let Some(url) = &self.mail.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!(
                "mail.smtp_url must be an smtp:// or smtps:// URL, got one starting {:?}",
                url.split("://").next().unwrap_or_default()
            );
        }
        if !(1..=86_400).contains(&self.mail.interval_secs) {
            bail!(
                "mail.interval_secs must be between 1 and 86400, got {}",
                self.mail.interval_secs
            );
        }
        if !(60..=86_400).contains(&self.mail.lease_secs) {
            bail!(
                "mail.lease_secs must be between 60 and 86400, got {}",
                self.mail.lease_secs
            );
        }
        Ok(())
    }

    /// The SQLite database inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("paperboy.db")
    }

    /// The embedding model's files (`scripts/fetch-model DIR` fills it).
    pub fn model_dir(&self) -> PathBuf {
        self.data_dir.join("model")
    }

    /// The vector index: derived from the stored vectors, rebuilt when
    /// missing or of another format.
    pub fn vector_index_path(&self) -> PathBuf {
        self.data_dir.join("index").join("vectors")
    }

    /// The keyword search index: derived data, rebuilt from the database
    /// when missing or of another format.
    pub fn keyword_index_path(&self) -> PathBuf {
        self.data_dir.join("index").join("keyword")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../paperboy.example.toml");

    /// The example file shipped in the repo parses, and names every key the
    /// code knows, so the two cannot drift apart.
    #[test]
    fn example_config_is_complete_and_valid() {
        let file: FileConfig = toml::from_str(EXAMPLE).expect("example parses");
        assert!(file.data.is_some());
        // database_url is left out of the example on purpose (SQLite by default).
        assert!(file.database_url.is_none());
        assert!(file.import.batch_size.is_some());
        let FileSync {
            arxiv_oai_url,
            hf_url,
            interval_secs,
            max_retries,
        } = &file.sync;
        assert!(
            arxiv_oai_url.is_some()
                && hf_url.is_some()
                && interval_secs.is_some()
                && max_retries.is_some()
        );
        let FileWeb {
            addr,
            base_url,
            secure_cookies,
            site_name,
        } = &file.web;
        assert!(
            addr.is_some() && base_url.is_some() && secure_cookies.is_some() && site_name.is_some()
        );
        // smtp_url is left out of the example on purpose (no mail by default).
        let FileMail {
            smtp_url,
            from,
            interval_secs,
            lease_secs,
        } = &file.mail;
        assert!(
            smtp_url.is_none() && from.is_some() && interval_secs.is_some() && lease_secs.is_some()
        );
        assert_eq!(
            Config::build(file, Overrides::default()).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let file: FileConfig =
            toml::from_str("data = \"/from-file\"\n[import]\nbatch_size = 7\n").unwrap();
        let c = Config::build(
            file,
            Overrides {
                batch_size: Some(9),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from-file"));
        assert_eq!(c.import.batch_size, 9);
    }

    #[test]
    fn a_database_url_must_name_postgres() {
        let with = |url: &str| {
            Config::build(
                FileConfig::default(),
                Overrides {
                    database_url: Some(url.into()),
                    ..Overrides::default()
                },
            )
        };
        let c = with("postgres://paperboy@db/papers").unwrap();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://paperboy@db/papers")
        );
        assert!(with("postgresql://db/papers").is_ok());
        assert_eq!(with("  ").unwrap().database_url, None, "blank means SQLite");
        let err = with("mysql://root:secret@db/papers")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database_url") && !err.contains("secret"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err = toml::from_str::<FileConfig>("dat = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `dat`"), "{err}");
        let file = FileConfig {
            import: FileImport {
                batch_size: Some(0),
            },
            ..FileConfig::default()
        };
        let err = Config::build(file, Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("import.batch_size"), "{err}");
        let over = Overrides {
            hf_url: Some("ftp://x".into()),
            ..Overrides::default()
        };
        let err = Config::build(FileConfig::default(), over)
            .unwrap_err()
            .to_string();
        assert!(err.contains("sync.hf_url"), "{err}");
    }
}
