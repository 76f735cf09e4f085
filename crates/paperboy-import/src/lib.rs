//! Parsers for every source Paperboy reads: HF `api/daily_papers` JSON,
//! PaperExplorer JSON, the Kaggle arXiv snapshot (JSON lines), arXiv API Atom
//! feeds and OAI-PMH (`arXiv`, `arXivRaw`).
//!
//! Bytes in, [`SourceRecord`]s and [`Problem`]s out. This crate never touches
//! the database or the network: the binary feeds what it yields to the store,
//! `paperboy-sync` feeds it what it fetched.

mod arxiv_fields;
pub mod atom;
#[cfg(test)]
mod fuzzing;
pub mod hf;
mod json_fields;
pub mod kaggle;
pub mod oai;
pub mod paperexplorer;
pub mod pyrepr;
mod sniff;
mod text_ascii;
mod xml_tree;

/// What a JSON value is ("a number", "an array"…), for error messages.
pub use json_fields::kind as json_kind;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
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
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: unknown format (use --format hf|paperexplorer|kaggle|atom|oai)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("unknown format name {0:?} (expected hf, paperexplorer, kaggle, atom or oai)")]
    UnknownFormatName(String),
    #[error("{location}: malformed {format}: {message}")]
    Malformed {
        format: &'static str,
        location: Location,
        message: String,
    },
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
        [
            Format::HfDaily,
            Format::PaperExplorer,
            Format::KaggleJsonl,
            Format::ArxivAtom,
            Format::OaiPmh,
        ]
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
/// curation day is `opts.day`, else the file name (`YYYY-MM-DD.json[.gz]`),
/// else what the document says (see [`hf::parse_day`]).
///
/// Kaggle JSON lines are streamed (never held whole in memory); the other
/// formats are small and parsed at once, so their document-level failures
/// (`Malformed`, `ArxivApi`, `Oai`) come back from `open` itself.
pub fn open(
    path: &Path,
    format: Option<Format>,
    opts: &ParseOptions,
) -> Result<FileRecords, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(READ_BUFFER, file));
    if reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]) {
        // Multi-member: `cat a.gz b.gz` and pigz output are still one stream.
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        reader = Box::new(BufReader::with_capacity(READ_BUFFER, gz));
    }
    let head = read_head(&mut reader).map_err(io)?;

    // The whole document, for the formats that need it; read at most once.
    let mut whole: Option<Vec<u8>> = None;
    let read_whole =
        |head: &[u8], reader: &mut Box<dyn BufRead + Send>| -> Result<Vec<u8>, ImportError> {
            let mut all = head.to_vec();
            reader.read_to_end(&mut all).map_err(io)?;
            Ok(all)
        };
    let format = match format {
        Some(f) => f,
        None => match sniff::guess(&head) {
            sniff::Guess::Known(f) => f,
            sniff::Guess::JsonObject => {
                let all = read_whole(&head, &mut reader)?;
                let f = sniff::json_object(&all).ok_or_else(|| ImportError::UnknownFormat {
                    path: path.to_path_buf(),
                })?;
                whole = Some(all);
                f
            }
            sniff::Guess::Unknown => {
                return Err(ImportError::UnknownFormat {
                    path: path.to_path_buf(),
                });
            }
        },
    };
    if format == Format::KaggleJsonl {
        let stream: Box<dyn BufRead + Send> = match whole {
            Some(all) => Box::new(Cursor::new(all)),
            None => Box::new(Cursor::new(head).chain(reader)),
        };
        return Ok(FileRecords {
            format,
            iter: Box::new(kaggle::KaggleLines::new(stream, path)),
        });
    }
    let all = match whole {
        Some(all) => all,
        None => read_whole(&head, &mut reader)?,
    };
    let items = parse_whole(format, &all, path, opts)?;
    Ok(FileRecords {
        format,
        iter: Box::new(items.into_iter().map(Ok)),
    })
}

/// Parses a document held in memory.
fn parse_whole(
    format: Format,
    all: &[u8],
    path: &Path,
    opts: &ParseOptions,
) -> Result<Vec<Parsed>, ImportError> {
    match format {
        Format::HfDaily => {
            // The file name stands in for a day the caller did not give.
            let day = opts.day.or_else(|| day_from_file_name(path));
            hf::parse_day(all, &ParseOptions { day })
        }
        Format::PaperExplorer => paperexplorer::parse(all),
        Format::ArxivAtom => Ok(atom::parse_feed(all)?.items),
        Format::OaiPmh => Ok(oai::parse_response(all)?.items),
        // `open` streams these; held in memory they read the same way.
        Format::KaggleJsonl => kaggle::KaggleLines::new(all, path).collect(),
    }
}

const READ_BUFFER: usize = 256 << 10;

/// Enough of the start of a file to detect its format: a few lines (to try
/// them as JSON lines), at most 1 MiB.
fn read_head(reader: &mut dyn BufRead) -> std::io::Result<Vec<u8>> {
    const MAX: usize = 1 << 20;
    const LINES: usize = 8;
    let mut head = Vec::new();
    let mut lines = 0;
    while head.len() < MAX && lines < LINES {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(MAX - head.len());
        lines += chunk[..take].iter().filter(|&&b| b == b'\n').count();
        head.extend_from_slice(&chunk[..take]);
        reader.consume(take);
    }
    Ok(head)
}

/// `2024-05-27.json` or `2024-05-27.json.gz` → that day.
fn day_from_file_name(path: &Path) -> Option<NaiveDate> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let stem = name.strip_suffix(".json")?;
    NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()
}

/// A JSON syntax error as `Malformed`, at its line.
pub(crate) fn json_error(format: &'static str, e: &serde_json::Error) -> ImportError {
    let location = if e.line() == 0 {
        Location::Document
    } else {
        Location::Line(e.line() as u64)
    };
    let message = if e.line() == 0 {
        json_message(e)
    } else {
        format!("column {}: {}", e.column(), json_message(e))
    };
    ImportError::Malformed {
        format,
        location,
        message,
    }
}

/// serde_json's message without its " at line L column C" tail.
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&tail) {
        Some(message) => message.to_string(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing::{config, mutated, sample};

    /// Writes `bytes` (gzipped when asked) to a temporary file and reads it
    /// all back through `open`, with detection.
    fn open_bytes(bytes: &[u8], gz: bool, name: &str) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        let content = if gz {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(bytes).expect("in memory");
            enc.finish().expect("in memory")
        } else {
            bytes.to_vec()
        };
        std::fs::write(&path, content).expect("writable");
        if let Ok(file) = open(&path, None, &ParseOptions::default()) {
            for item in file.iter {
                let _ = item;
            }
        }
    }

    #[test]
    fn file_names_give_the_day() {
        let day = |name: &str| day_from_file_name(Path::new(name)).map(|d| d.to_string());
        assert_eq!(day("/x/2024-05-27.json"), Some("2024-05-27".into()));
        assert_eq!(day("2024-05-27.json.gz"), Some("2024-05-27".into()));
        assert_eq!(day("2024-05-27.jsonl"), None);
        assert_eq!(day("papers.json"), None);
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn open_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), gz in any::<bool>()) {
            open_bytes(&bytes, gz, "2024-05-27.json");
        }

        #[test]
        fn open_never_panics_on_mutated_samples(bytes in prop_oneof![
            mutated(sample("arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot-first200-wanng-ide.jsonl")[..8_000].to_vec()),
            mutated(sample("hf-daily-papers/2025-01-10.json")),
            mutated(sample("arxiv/oai-pmh/arXivRaw-mikesaelim/GetRecordResponse.xml")),
            mutated(sample("arxiv/atom-api-arxiv.py-fixtures/xml/id_astro-ph_0601001_s0_m100_3150dca9dc76.xml")),
        ], gz in any::<bool>()) {
            open_bytes(&bytes, gz, "sample.json");
        }
    }
}
