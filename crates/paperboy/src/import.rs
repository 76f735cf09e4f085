//! `paperboy import`: files → parser thread → batches → one transaction per
//! batch in the store. Parsing and writing overlap on two cores.
//!
//! A bad record is reported and skipped; an unreadable file is reported and
//! the other files still go in; a store failure stops the import, keeping
//! every batch already committed (re-running completes it: imports are
//! idempotent).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::Context;
use paperboy_core::SourceRecord;
use paperboy_import::{Format, ImportError, Location, ParseOptions, Parsed, Problem};
use paperboy_store::{BatchOutcome, Store};

use crate::progress::Progress;

/// What an import did, for the summary line and for tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub files: usize,
    pub records: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Records skipped because of a problem.
    pub skipped: u64,
    pub entries_added: u64,
    pub entries_updated: u64,
    /// Files that could not be read at all, with the reason.
    pub failed_files: Vec<String>,
}

impl ImportSummary {
    pub fn add_outcome(&mut self, o: &BatchOutcome) {
        self.added += o.added;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.entries_added += o.entries_added;
        self.entries_updated += o.entries_updated;
        self.records += o.records();
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files, {} records: {} added, {} updated, {} unchanged, {} skipped with problems; daily entries: {} added, {} updated",
            self.files,
            self.records + self.skipped,
            self.added,
            self.updated,
            self.unchanged,
            self.skipped,
            self.entries_added,
            self.entries_updated
        )?;
        if !self.failed_files.is_empty() {
            write!(f, "; {} files failed", self.failed_files.len())?;
        }
        Ok(())
    }
}

/// What the parser thread sends to the writer.
enum Msg {
    Batch(Vec<SourceRecord>, PathBuf),
    Problem(PathBuf, Problem),
    FileFailed(PathBuf, ImportError),
}

pub struct ImportRequest<'a> {
    pub paths: &'a [PathBuf],
    pub format: Option<Format>,
    pub options: ParseOptions,
    pub batch_size: usize,
}

/// Runs an import. `Err` only when the store fails; file and record problems
/// are in the summary (and printed as they happen).
pub fn import_files(
    store: &dyn Store,
    req: ImportRequest<'_>,
    progress: &mut Progress,
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary {
        files: req.paths.len(),
        ..ImportSummary::default()
    };
    let (tx, rx) = mpsc::sync_channel::<Msg>(4);
    let paths = req.paths.to_vec();
    let (format, options, batch_size) = (req.format, req.options.clone(), req.batch_size);

    std::thread::scope(|scope| -> anyhow::Result<()> {
        scope.spawn(move || parse_files(&paths, format, &options, batch_size, &tx));
        for msg in rx {
            match msg {
                Msg::Batch(records, path) => {
                    let outcome = store
                        .upsert(&records)
                        .with_context(|| format!("storing records from {}", path.display()))?;
                    summary.add_outcome(&outcome);
                    progress.update(
                        summary.records + summary.skipped,
                        &path.display().to_string(),
                    );
                }
                Msg::Problem(path, problem) => {
                    summary.skipped += 1;
                    progress.println(&format_problem(&path, &problem));
                }
                Msg::FileFailed(path, err) => {
                    let message = describe_file_error(&path, &err);
                    progress.println(&format!("error: {message}"));
                    summary.failed_files.push(message);
                }
            }
        }
        // Dropping `rx` (end of loop on error via `?`) makes the parser's
        // next send fail, so it stops; the scope then joins it.
        Ok(())
    })?;
    progress.finish();
    Ok(summary)
}

/// `file:line: message`, or `file: entry N: message` for JSON arrays.
pub fn format_problem(path: &Path, problem: &Problem) -> String {
    match &problem.location {
        Location::Line(n) => format!("{}:{n}: {}", path.display(), problem.message),
        other => format!("{}: {other}: {}", path.display(), problem.message),
    }
}

/// An error that stopped a file, naming the file once.
fn describe_file_error(path: &Path, err: &ImportError) -> String {
    match err {
        // These already say which file.
        ImportError::Io { .. } | ImportError::UnknownFormat { .. } => err.to_string(),
        other => format!("{}: {other}", path.display()),
    }
}

/// The parser thread: streams each file, cutting batches. Returns when done
/// or when the writer hung up.
fn parse_files(
    paths: &[PathBuf],
    format: Option<Format>,
    options: &ParseOptions,
    batch_size: usize,
    tx: &mpsc::SyncSender<Msg>,
) {
    for path in paths {
        let file = match paperboy_import::open(path, format, options) {
            Ok(file) => file,
            Err(err) => {
                if tx.send(Msg::FileFailed(path.clone(), err)).is_err() {
                    return;
                }
                continue;
            }
        };
        tracing::debug!(file = %path.display(), format = file.format.name(), "importing");
        let mut batch = Vec::with_capacity(batch_size);
        for item in file.iter {
            let msg = match item {
                Ok(Parsed::Record(record)) => {
                    batch.push(*record);
                    if batch.len() < batch_size {
                        continue;
                    }
                    Msg::Batch(
                        std::mem::replace(&mut batch, Vec::with_capacity(batch_size)),
                        path.clone(),
                    )
                }
                Ok(Parsed::Problem(problem)) => Msg::Problem(path.clone(), problem),
                // A read failure mid-file: keep what came before it.
                Err(err) => Msg::FileFailed(path.clone(), err),
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
        if !batch.is_empty() && tx.send(Msg::Batch(batch, path.clone())).is_err() {
            return;
        }
    }
}
