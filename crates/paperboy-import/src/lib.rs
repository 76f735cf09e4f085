//! Parsers for every source Paperboy reads: HF `api/daily_papers` JSON,
//! PaperExplorer JSON, the Kaggle arXiv snapshot (JSON lines), arXiv API Atom
//! feeds and OAI-PMH (`arXiv`, `arXivRaw`).
//!
//! Bytes in, [`SourceRecord`]s and [`Problem`]s out. This crate never touches
//! the database or the network: the binary feeds what it yields to the store,
//! `paperboy-sync` feeds it what it fetched.

pub mod hf;
pub mod oai;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use paperboy_core::SourceRecord;

/// A file format `paperboy import` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// HF `GET /api/daily_papers` response (array, or the wrapped object).
    HfDaily,
    /// `{arxiv_id: {url, title, authors, abstract, publication_date, upvotes}}`.
    PaperExplorer,
    /// Kaggle/Cornell `arxiv-metadata-oai-snapshot.json`: one JSON object a line.
    KaggleJsonl,
    /// arXiv API (`/api/query`) Atom feed.
    ArxivAtom,
    /// OAI-PMH `GetRecord`/`ListRecords` response, `arXiv` or `arXivRaw` metadata.
    OaiPmh,
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line number.
    Line(u64),
    /// 0-based index of the entry in a JSON array (or object).
    Entry(usize),
    /// The whole document.
    Document,
}

/// A record that was skipped, and why. The rest of the file still goes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub message: String,
}

/// What a streaming parser yields: a record, or a problem with one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Record(Box<SourceRecord>),
    Problem(Problem),
}

/// Options a caller may give a parser.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The curation day of an HF daily list (the `date` it was asked for).
    pub day: Option<NaiveDate>,
}

/// A failure that stops reading a whole file or response.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: unknown format (use --format hf|paperexplorer|kaggle|atom|oai)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("unknown format name {0:?} (expected hf, paperexplorer, kaggle, atom or oai)")]
    UnknownFormatName(String),
    #[error("{location}: malformed {format}: {message}")]
    Malformed { format: &'static str, location: Location, message: String },
    #[error("the arXiv API answered with an error: {message}")]
    ArxivApi { message: String },
    #[error("the OAI-PMH server answered with error {code}: {message}")]
    Oai { code: String, message: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Entry(i) => write!(f, "entry {i}"),
            Location::Document => f.write_str("document"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl Format {
    /// The name used by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::HfDaily => "hf",
            Format::PaperExplorer => "paperexplorer",
            Format::KaggleJsonl => "kaggle",
            Format::ArxivAtom => "atom",
            Format::OaiPmh => "oai",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Format, ImportError> {
        [Format::HfDaily, Format::PaperExplorer, Format::KaggleJsonl, Format::ArxivAtom, Format::OaiPmh]
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ImportError::UnknownFormatName(s.to_string()))
    }
}

/// A file opened for import: its format and a stream of what it holds.
/// Iteration stops after the first `Err`.
pub struct FileRecords {
    pub format: Format,
    pub iter: Box<dyn Iterator<Item = Result<Parsed, ImportError>> + Send>,
}

/// Opens `path` (gzip detected by its magic bytes), detects the format
/// unless `format` is given, and streams its records. For HF files the
/// curation day is `opts.day`, else the file name (`YYYY-MM-DD.json[.gz]`).
pub fn open(path: &Path, format: Option<Format>, opts: &ParseOptions) -> Result<FileRecords, ImportError> {
    let _ = (path, format, opts);
    unimplemented!("paperboy-import: open")
}
