//! Reading a retrieval data set in the BEIR layout:
//!
//! ```text
//! DIR/corpus.jsonl      {"_id": "d1", "title": "...", "text": "...", "metadata": {...}}
//! DIR/queries.jsonl     {"_id": "q1", "text": "..."}
//! DIR/qrels/<split>.tsv query-id<TAB>corpus-id<TAB>score   (header line first)
//! ```
//!
//! Papers in a store are keyed by arXiv ids, so the i-th corpus document
//! (0-based, in file order) becomes the synthetic new-style id
//! [`synthetic_id`]`(i)`: `0801.00001`, `0801.00002`, … 99,999 to a month,
//! then the next month (`0802.00001`), up to `9912.99999` — room for
//! 110 million documents. [`IdMap`] keeps both directions.
//!
//! The corpus is streamed ([`BeirDir::corpus`], [`BeirDir::load_corpus`]);
//! queries and judgments are read whole. Every error names the file, the
//! 1-based line and the field at fault; nothing here panics on bad input.
//! Blank lines are skipped everywhere. Ids are strings (an integer `_id` is
//! taken as its decimal spelling, as some hand-made sets write them).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use paperboy_core::text::{collapse_whitespace, normalize_abstract};
use paperboy_core::{ArxivId, Paper, SourceRecord};
use paperboy_import::json_kind;
use serde_json::{Map, Value};

use super::metrics::Qrels;

pub const CORPUS_FILE: &str = "corpus.jsonl";
pub const QUERIES_FILE: &str = "queries.jsonl";
pub const QRELS_DIR: &str = "qrels";
/// The split [`BeirDir::default_split`] prefers.
pub const PREFERRED_SPLIT: &str = "test";

/// Synthetic ids per month: `YYMM.00001` ..= `YYMM.99999`.
const IDS_PER_MONTH: u64 = 99_999;
/// The first synthetic id's year (`08`: `0801.00001`).
const FIRST_YEAR: u64 = 8;
/// How many corpus documents fit under synthetic ids (`0801` ..= `9912`).
pub const MAX_DOCUMENTS: u64 = (99 - FIRST_YEAR + 1) * 12 * IDS_PER_MONTH;

/// A BEIR-layout folder whose files were found; nothing is read yet.
#[derive(Debug, Clone)]
pub struct BeirDir {
    dir: PathBuf,
    /// Names of `qrels/*.tsv` without the extension, sorted.
    splits: Vec<String>,
}

/// One corpus document as the file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeirDoc {
    /// 1-based line in `corpus.jsonl`.
    pub line: u64,
    pub id: String,
    /// Empty when the document has none (many BEIR sets have no titles).
    pub title: String,
    pub text: String,
}

/// One query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeirQuery {
    pub id: String,
    pub text: String,
}

impl BeirDir {
    /// Checks that `dir` holds `corpus.jsonl`, `queries.jsonl` and at least
    /// one `qrels/*.tsv`, and lists the splits.
    pub fn open(dir: &Path) -> anyhow::Result<BeirDir> {
        if !dir.is_dir() {
            bail!("{}: not a folder (expected a BEIR data set)", dir.display());
        }
        for name in [CORPUS_FILE, QUERIES_FILE] {
            let path = dir.join(name);
            if !path.is_file() {
                bail!("{}: missing (a BEIR data set has {name})", path.display());
            }
        }
        let qrels = dir.join(QRELS_DIR);
        let entries = std::fs::read_dir(&qrels).with_context(|| {
            format!(
                "{}: cannot list the judgments folder (a BEIR data set has qrels/<split>.tsv)",
                qrels.display()
            )
        })?;
        let mut splits = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("{}: cannot list", qrels.display()))?;
            let name = entry.file_name();
            let Some(split) = name.to_str().and_then(|n| n.strip_suffix(".tsv")) else {
                continue;
            };
            if !split.is_empty() && entry.path().is_file() {
                splits.push(split.to_string());
            }
        }
        if splits.is_empty() {
            bail!("{}: no <split>.tsv file", qrels.display());
        }
        splits.sort();
        Ok(BeirDir {
            dir: dir.to_path_buf(),
            splits,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The judgment splits present (`dev`, `test`, `train`, …), sorted.
    pub fn splits(&self) -> &[String] {
        &self.splits
    }

    /// `test` when present (what BEIR reports), else the first split in
    /// alphabetical order (`dev` before `train`).
    pub fn default_split(&self) -> &str {
        self.splits
            .iter()
            .find(|s| *s == PREFERRED_SPLIT)
            .unwrap_or(&self.splits[0])
    }

    /// Streams `corpus.jsonl`. The iterator ends after the first error.
    pub fn corpus(&self) -> anyhow::Result<CorpusDocs> {
        let path = self.dir.join(CORPUS_FILE);
        Ok(CorpusDocs {
            lines: JsonLines::open(&path)?,
        })
    }

    /// Reads `queries.jsonl` whole, in file order; a repeated `_id` is an error.
    pub fn queries(&self) -> anyhow::Result<Vec<BeirQuery>> {
        let path = self.dir.join(QUERIES_FILE);
        let mut lines = JsonLines::open(&path)?;
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut queries = Vec::new();
        while let Some((line, object)) = lines.next_object()? {
            let at = || format!("{}:{line}", path.display());
            let id = id_field(&object).with_context(at)?;
            let text = string_field(&object, "text", true).with_context(at)?;
            if let Some(first) = seen.insert(id.clone(), line) {
                bail!("{}: `_id` {id:?} repeats the query on line {first}", at());
            }
            queries.push(BeirQuery { id, text });
        }
        Ok(queries)
    }

    /// Reads the judgments of `split` (`None`: [`Self::default_split`]).
    pub fn qrels(&self, split: Option<&str>) -> anyhow::Result<Qrels> {
        let split = split.unwrap_or_else(|| self.default_split());
        if !self.splits.iter().any(|s| s == split) {
            bail!(
                "{}: no split {split:?} (available: {})",
                self.dir.join(QRELS_DIR).display(),
                self.splits.join(", ")
            );
        }
        let path = self.dir.join(QRELS_DIR).join(format!("{split}.tsv"));
        let file = File::open(&path).with_context(|| format!("{}: cannot open", path.display()))?;
        read_qrels(BufReader::new(file), &path)
    }

    /// Streams the corpus as Paperboy records in batches of `batch_size`,
    /// assigning synthetic ids in file order, and returns the id map. Stops
    /// at the first bad line or the first error of `on_batch`.
    pub fn load_corpus(
        &self,
        batch_size: usize,
        mut on_batch: impl FnMut(&[SourceRecord]) -> anyhow::Result<()>,
    ) -> anyhow::Result<IdMap> {
        let batch_size = batch_size.max(1);
        let path = self.dir.join(CORPUS_FILE);
        let mut ids = IdMap::default();
        let mut batch = Vec::with_capacity(batch_size);
        for doc in self.corpus()? {
            let doc = doc?;
            let id = ids
                .insert(&doc.id)
                .with_context(|| format!("{}:{}", path.display(), doc.line))?;
            batch.push(source_record(id, &doc));
            if batch.len() == batch_size {
                on_batch(&batch)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            on_batch(&batch)?;
        }
        Ok(ids)
    }
}

/// A corpus document as a Paperboy record: title and abstract from the
/// document, nothing else (no authors, no daily entry).
pub fn source_record(id: ArxivId, doc: &BeirDoc) -> SourceRecord {
    let mut paper = Paper::new(id);
    paper.biblio.title = collapse_whitespace(&doc.title);
    paper.biblio.abstract_text = normalize_abstract(&doc.text);
    SourceRecord { paper, entry: None }
}

/// The synthetic arXiv id of the `ordinal`-th (0-based) corpus document;
/// `None` past [`MAX_DOCUMENTS`].
pub fn synthetic_id(ordinal: u64) -> Option<ArxivId> {
    if ordinal >= MAX_DOCUMENTS {
        return None;
    }
    let month = ordinal / IDS_PER_MONTH;
    let number = ordinal % IDS_PER_MONTH + 1;
    let (yy, mm) = (FIRST_YEAR + month / 12, month % 12 + 1);
    ArxivId::parse(&format!("{yy:02}{mm:02}.{number:05}"))
        .ok()
        .map(|v| v.id)
}

/// The inverse of [`synthetic_id`]; `None` for any other id.
pub fn synthetic_ordinal(id: &ArxivId) -> Option<u64> {
    let (yymm, number) = id.as_str().split_once('.')?;
    if yymm.len() != 4 || number.len() != 5 {
        return None;
    }
    let yy: u64 = yymm[..2].parse().ok()?;
    let mm: u64 = yymm[2..].parse().ok()?;
    let number: u64 = number.parse().ok()?;
    if yy < FIRST_YEAR || !(1..=12).contains(&mm) || !(1..=IDS_PER_MONTH).contains(&number) {
        return None;
    }
    Some(((yy - FIRST_YEAR) * 12 + mm - 1) * IDS_PER_MONTH + number - 1)
}

/// Corpus ids both ways: BEIR `_id` ↔ synthetic [`ArxivId`].
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    /// BEIR id of each ordinal.
    beir_ids: Vec<Box<str>>,
    ordinals: HashMap<Box<str>, u64>,
}

impl IdMap {
    /// Gives `beir_id` the next synthetic id. A repeated id, or one past
    /// [`MAX_DOCUMENTS`], is an error.
    pub fn insert(&mut self, beir_id: &str) -> anyhow::Result<ArxivId> {
        let ordinal = self.beir_ids.len() as u64;
        if let Some(first) = self.ordinals.get(beir_id) {
            bail!(
                "`_id` {beir_id:?} repeats document {} (ids must be unique)",
                first + 1
            );
        }
        let id = synthetic_id(ordinal).ok_or_else(|| {
            anyhow!("more than {MAX_DOCUMENTS} documents: no synthetic arXiv id left")
        })?;
        self.beir_ids.push(beir_id.into());
        self.ordinals.insert(beir_id.into(), ordinal);
        Ok(id)
    }

    /// The synthetic id of a corpus document.
    pub fn arxiv_id(&self, beir_id: &str) -> Option<ArxivId> {
        self.ordinals
            .get(beir_id)
            .and_then(|&ordinal| synthetic_id(ordinal))
    }

    /// The BEIR id behind a synthetic id (`None` for ids not handed out).
    pub fn beir_id(&self, id: &ArxivId) -> Option<&str> {
        let ordinal = usize::try_from(synthetic_ordinal(id)?).ok()?;
        self.beir_ids.get(ordinal).map(|s| &**s)
    }

    /// Number of documents mapped.
    pub fn len(&self) -> usize {
        self.beir_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.beir_ids.is_empty()
    }
}

/// The documents of `corpus.jsonl`, streamed. Ends after the first error.
pub struct CorpusDocs {
    lines: JsonLines,
}

impl Iterator for CorpusDocs {
    type Item = anyhow::Result<BeirDoc>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, object) = match self.lines.next_object() {
            Ok(Some(item)) => item,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        let doc =
            doc_of(line, &object).with_context(|| format!("{}:{line}", self.lines.path.display()));
        if doc.is_err() {
            self.lines.done = true;
        }
        Some(doc)
    }
}

fn doc_of(line: u64, object: &Map<String, Value>) -> anyhow::Result<BeirDoc> {
    Ok(BeirDoc {
        line,
        id: id_field(object)?,
        title: string_field(object, "title", false)?,
        text: string_field(object, "text", true)?,
    })
}

/// A JSON-lines file read one object at a time, blank lines skipped.
struct JsonLines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line: u64,
    done: bool,
}

impl JsonLines {
    fn open(path: &Path) -> anyhow::Result<JsonLines> {
        let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        Ok(JsonLines {
            path: path.to_path_buf(),
            reader: Box::new(BufReader::with_capacity(256 << 10, file)),
            buf: Vec::new(),
            line: 0,
            done: false,
        })
    }

    /// The next object and its 1-based line; `None` at the end. After an
    /// error it answers `None`.
    fn next_object(&mut self) -> anyhow::Result<Option<(u64, Map<String, Value>)>> {
        let result = self.read_object();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn read_object(&mut self) -> anyhow::Result<Option<(u64, Map<String, Value>)>> {
        while !self.done {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .with_context(|| {
                    format!("{}:{}: cannot read", self.path.display(), self.line + 1)
                })?;
            if n == 0 {
                self.done = true;
                return Ok(None);
            }
            self.line += 1;
            let mut bytes = &self.buf[..];
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let at = || format!("{}:{}", self.path.display(), self.line);
            let value: Value = serde_json::from_slice(bytes)
                .map_err(|e| anyhow!("malformed JSON: {e}"))
                .with_context(at)?;
            let Value::Object(object) = value else {
                bail!("{}: expected a JSON object", at());
            };
            return Ok(Some((self.line, object)));
        }
        Ok(None)
    }
}

/// `_id`: a non-empty string (or an integer, spelled in decimal).
fn id_field(object: &Map<String, Value>) -> anyhow::Result<String> {
    let id = match object.get("_id") {
        None | Some(Value::Null) => bail!("`_id`: missing"),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(other) => bail!("`_id`: expected a string, found {}", json_kind(other)),
    };
    if id.trim().is_empty() {
        bail!("`_id`: empty");
    }
    Ok(id)
}

/// A string field; a missing or null optional one reads as empty.
fn string_field(object: &Map<String, Value>, name: &str, required: bool) -> anyhow::Result<String> {
    match object.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) if !required => Ok(String::new()),
        None | Some(Value::Null) => bail!("`{name}`: missing"),
        Some(other) => bail!("`{name}`: expected a string, found {}", json_kind(other)),
    }
}

/// Reads `query-id<TAB>corpus-id<TAB>score` lines. The first line is the
/// header when its score is not an integer (BEIR always writes one, and
/// skips the first line unread). A pair judged twice keeps the last score,
/// as BEIR's loader does.
fn read_qrels(reader: impl BufRead, path: &Path) -> anyhow::Result<Qrels> {
    let mut qrels: Qrels = BTreeMap::new();
    let mut first = true;
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let at = || format!("{}:{n}", path.display());
        let line = line.with_context(|| format!("{}: cannot read", at()))?;
        let line = String::from_utf8(line).map_err(|_| anyhow!("{}: not UTF-8", at()))?;
        let line = line.trim_end_matches(['\r', '\n']);
        let line = if n == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if line.trim().is_empty() {
            continue;
        }
        let was_first = std::mem::replace(&mut first, false);
        let mut fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() != 3 {
            fields = line.split_whitespace().collect();
        }
        let [query, doc, score] = fields[..] else {
            bail!(
                "{}: expected 3 tab-separated fields (query-id, corpus-id, score), found {}",
                at(),
                fields.len()
            );
        };
        let score: i32 = match score.parse() {
            Ok(score) => score,
            Err(_) if was_first => continue, // the header
            Err(_) => bail!("{}: `score`: expected an integer, found {score:?}", at()),
        };
        if query.is_empty() {
            bail!("{}: `query-id`: empty", at());
        }
        if doc.is_empty() {
            bail!("{}: `corpus-id`: empty", at());
        }
        qrels
            .entry(query.to_string())
            .or_default()
            .insert(doc.to_string(), score);
    }
    Ok(qrels)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Writes a BEIR folder with the given files (`None`: left out).
    fn beir_dir(
        corpus: Option<&str>,
        queries: Option<&str>,
        qrels: &[(&str, &str)],
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(corpus) = corpus {
            std::fs::write(dir.path().join(CORPUS_FILE), corpus).expect("writable");
        }
        if let Some(queries) = queries {
            std::fs::write(dir.path().join(QUERIES_FILE), queries).expect("writable");
        }
        if !qrels.is_empty() {
            std::fs::create_dir(dir.path().join(QRELS_DIR)).expect("writable");
        }
        for (name, text) in qrels {
            std::fs::write(dir.path().join(QRELS_DIR).join(name), text).expect("writable");
        }
        dir
    }

    const CORPUS: &str = r#"{"_id": "d1", "title": "First", "text": "Alpha text.", "metadata": {"url": "x"}}

{"_id": "d2", "title": null, "text": "Beta\ntext."}
{"_id": 3, "text": "Gamma."}
"#;
    const QUERIES: &str = "{\"_id\": \"q1\", \"text\": \"alpha\"}\n\n{\"_id\": \"q2\", \"text\": \"beta\", \"metadata\": {}}\n";
    const TEST: &str = "query-id\tcorpus-id\tscore\nq1\td1\t1\n\nq2\td2\t2\nq2\t3\t0\r\n";

    /// Opens a folder built from the files and returns the first error of
    /// reading everything (`None`: all read).
    fn first_error(corpus: &str, queries: &str, qrels: &str) -> Option<String> {
        let dir = beir_dir(Some(corpus), Some(queries), &[("test.tsv", qrels)]);
        let set = BeirDir::open(dir.path()).expect("complete folder");
        let result = (|| {
            set.load_corpus(2, |_| Ok(()))?;
            set.queries()?;
            set.qrels(None)?;
            anyhow::Ok(())
        })();
        result.err().map(|e| format!("{e:#}"))
    }

    #[test]
    fn reads_a_complete_folder() {
        let dir = beir_dir(
            Some(CORPUS),
            Some(QUERIES),
            &[("test.tsv", TEST), ("train.tsv", "q9\td9\t1\n")],
        );
        let set = BeirDir::open(dir.path()).unwrap();
        assert_eq!(set.splits(), ["test", "train"]);
        assert_eq!(set.default_split(), "test");

        let docs: Vec<BeirDoc> = set.corpus().unwrap().map(Result::unwrap).collect();
        let ids: Vec<(&str, u64)> = docs.iter().map(|d| (d.id.as_str(), d.line)).collect();
        assert_eq!(ids, [("d1", 1), ("d2", 3), ("3", 4)]);
        assert_eq!(docs[1].title, "");

        let queries = set.queries().unwrap();
        assert_eq!(
            queries,
            [
                BeirQuery {
                    id: "q1".into(),
                    text: "alpha".into()
                },
                BeirQuery {
                    id: "q2".into(),
                    text: "beta".into()
                }
            ]
        );

        let qrels = set.qrels(None).unwrap();
        assert_eq!(qrels.len(), 2);
        assert_eq!(qrels["q1"]["d1"], 1);
        assert_eq!(qrels["q2"]["d2"], 2);
        assert_eq!(qrels["q2"]["3"], 0);
        // No header: the first line is a judgment.
        assert_eq!(set.qrels(Some("train")).unwrap()["q9"]["d9"], 1);
        let err = set.qrels(Some("dev")).unwrap_err().to_string();
        assert!(
            err.contains("no split \"dev\" (available: test, train)"),
            "{err}"
        );
    }

    #[test]
    fn default_split_without_test_is_the_first_alphabetically() {
        let dir = beir_dir(
            Some(CORPUS),
            Some(QUERIES),
            &[("train.tsv", TEST), ("dev.tsv", TEST), ("notes.txt", "")],
        );
        let set = BeirDir::open(dir.path()).unwrap();
        assert_eq!(set.splits(), ["dev", "train"]);
        assert_eq!(set.default_split(), "dev");
    }

    #[test]
    fn corpus_becomes_records_under_synthetic_ids() {
        let dir = beir_dir(Some(CORPUS), Some(QUERIES), &[("test.tsv", TEST)]);
        let set = BeirDir::open(dir.path()).unwrap();
        let mut batches = Vec::new();
        let ids = set
            .load_corpus(2, |batch| {
                batches.push(batch.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
        let first = &batches[0][0];
        assert_eq!(first.paper.id.as_str(), "0801.00001");
        assert_eq!(first.paper.biblio.title, "First");
        assert_eq!(first.paper.biblio.abstract_text, "Alpha text.");
        assert!(first.paper.biblio.authors.is_empty());
        assert!(first.entry.is_none());
        assert_eq!(batches[0][1].paper.biblio.abstract_text, "Beta text.");

        assert_eq!(ids.len(), 3);
        let id = ids.arxiv_id("3").unwrap();
        assert_eq!(id.as_str(), "0801.00003");
        assert_eq!(ids.beir_id(&id), Some("3"));
        assert_eq!(ids.arxiv_id("d4"), None);
        let unknown = ArxivId::parse("0801.00004").unwrap().id;
        assert_eq!(ids.beir_id(&unknown), None);
        let real = ArxivId::parse("2405.15738").unwrap().id;
        assert_eq!(ids.beir_id(&real), None);
    }

    #[test]
    fn synthetic_ids_are_valid_unique_and_invertible() {
        let check = |ordinal: u64, expect: &str| {
            let id = synthetic_id(ordinal).unwrap();
            assert_eq!(id.as_str(), expect, "ordinal {ordinal}");
            // Canonical: parsing the id again gives the same id, unversioned.
            let parsed = ArxivId::parse(id.as_str()).unwrap();
            assert_eq!((parsed.id, parsed.version), (id.clone(), None));
            assert_eq!(synthetic_ordinal(&id), Some(ordinal));
        };
        check(0, "0801.00001");
        check(99_998, "0801.99999");
        check(99_999, "0802.00001");
        check(11 * 99_999, "0812.00001");
        check(12 * 99_999, "0901.00001");
        check(1_000_000, "0811.00011");
        check(MAX_DOCUMENTS - 1, "9912.99999");
        assert_eq!(synthetic_id(MAX_DOCUMENTS), None);

        // Past a million documents: every month boundary and a sample between.
        let ordinals: std::collections::BTreeSet<u64> = (0..2_000_000)
            .step_by(7)
            .chain((1..=21).flat_map(|m| m * IDS_PER_MONTH - 2..m * IDS_PER_MONTH + 2))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for ordinal in ordinals {
            let id = synthetic_id(ordinal).unwrap();
            assert_eq!(synthetic_ordinal(&id), Some(ordinal));
            assert!(seen.insert(id), "{ordinal}");
        }
        for other in ["0801.0001", "0701.00001", "0801.00000", "hep-th/9901001"] {
            let id = ArxivId::parse(other).unwrap().id;
            assert_eq!(synthetic_ordinal(&id), None, "{other}");
        }
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let mut ids = IdMap::default();
        ids.insert("a").unwrap();
        let err = ids.insert("a").unwrap_err().to_string();
        assert!(err.contains("repeats document 1"), "{err}");

        let corpus = "{\"_id\":\"a\",\"text\":\"x\"}\n{\"_id\":\"a\",\"text\":\"y\"}\n";
        let err = first_error(corpus, QUERIES, TEST).unwrap();
        assert!(err.contains("corpus.jsonl:2: `_id` \"a\" repeats"), "{err}");
        let queries = "{\"_id\":\"q\",\"text\":\"x\"}\n{\"_id\":\"q\",\"text\":\"y\"}\n";
        let err = first_error(CORPUS, queries, TEST).unwrap();
        assert!(
            err.contains("queries.jsonl:2: `_id` \"q\" repeats the query on line 1"),
            "{err}"
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_file_line_and_field() {
        let q = QUERIES;
        let c = CORPUS;
        for (corpus, queries, qrels, expect) in [
            (
                "{\"_id\": \"a\", \"text\": \"x\"}\n{oops\n",
                q,
                TEST,
                "corpus.jsonl:2: malformed JSON",
            ),
            (
                "[1, 2]\n",
                q,
                TEST,
                "corpus.jsonl:1: expected a JSON object",
            ),
            (
                "{\"title\": \"t\", \"text\": \"x\"}\n",
                q,
                TEST,
                "corpus.jsonl:1: `_id`: missing",
            ),
            (
                "{\"_id\": \"\", \"text\": \"x\"}\n",
                q,
                TEST,
                "corpus.jsonl:1: `_id`: empty",
            ),
            (
                "{\"_id\": [1], \"text\": \"x\"}\n",
                q,
                TEST,
                "corpus.jsonl:1: `_id`: expected a string, found an array",
            ),
            (
                "{\"_id\": \"a\"}\n",
                q,
                TEST,
                "corpus.jsonl:1: `text`: missing",
            ),
            (
                "{\"_id\": \"a\", \"text\": 5}\n",
                q,
                TEST,
                "corpus.jsonl:1: `text`: expected a string, found a number",
            ),
            (
                "{\"_id\": \"a\", \"title\": 5, \"text\": \"x\"}\n",
                q,
                TEST,
                "corpus.jsonl:1: `title`: expected a string",
            ),
            (
                c,
                "{\"_id\": \"q\"}\n",
                TEST,
                "queries.jsonl:1: `text`: missing",
            ),
            (
                c,
                "\n\n{\"text\": \"x\"}\n",
                TEST,
                "queries.jsonl:3: `_id`: missing",
            ),
            (
                c,
                q,
                "query-id\tcorpus-id\tscore\nq1\td1\tyes\n",
                "test.tsv:2: `score`: expected an integer, found \"yes\"",
            ),
            (
                c,
                q,
                "q1\td1\t1\nq1\td1\t1.5\n",
                "test.tsv:2: `score`: expected an integer",
            ),
            (
                c,
                q,
                "query-id\tcorpus-id\tscore\nq1\td1\n",
                "test.tsv:2: expected 3 tab-separated fields",
            ),
            (
                c,
                q,
                "q1\td1\t1\tx\n",
                "test.tsv:1: expected 3 tab-separated fields (query-id, corpus-id, score), found 4",
            ),
            (c, q, "h\th\th\n\t d1\t1\n", "test.tsv:2: `query-id`: empty"),
        ] {
            let err = first_error(corpus, queries, qrels);
            let err =
                err.unwrap_or_else(|| panic!("no error for {corpus:?} {queries:?} {qrels:?}"));
            assert!(err.contains(expect), "want {expect:?}, got {err:?}");
        }
    }

    #[test]
    fn corpus_iteration_stops_after_an_error() {
        let dir = beir_dir(
            Some(
                "{\"_id\": \"a\", \"text\": \"x\"}\nnot json\n{\"_id\": \"b\", \"text\": \"y\"}\n",
            ),
            Some(QUERIES),
            &[("test.tsv", TEST)],
        );
        let set = BeirDir::open(dir.path()).unwrap();
        let items: Vec<_> = set.corpus().unwrap().collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && items[1].is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let dir = beir_dir(Some(CORPUS), Some(QUERIES), &[("test.tsv", TEST)]);
        let mut f = File::create(dir.path().join(CORPUS_FILE)).unwrap();
        f.write_all(b"{\"_id\": \"a\", \"text\": \"\xff\"}\n")
            .unwrap();
        std::fs::write(dir.path().join(QRELS_DIR).join("test.tsv"), b"q\t\xff\t1\n").unwrap();
        let set = BeirDir::open(dir.path()).unwrap();
        let err = format!("{:#}", set.corpus().unwrap().next().unwrap().unwrap_err());
        assert!(err.contains("corpus.jsonl:1: malformed JSON"), "{err}");
        let err = format!("{:#}", set.qrels(None).unwrap_err());
        assert!(err.contains("test.tsv:1: not UTF-8"), "{err}");
    }

    #[test]
    fn missing_files_are_named() {
        let check = |dir: &tempfile::TempDir, expect: &str| {
            let err = format!("{:#}", BeirDir::open(dir.path()).unwrap_err());
            assert!(err.contains(expect), "want {expect:?}, got {err:?}");
        };
        check(
            &beir_dir(None, Some(QUERIES), &[("test.tsv", TEST)]),
            "corpus.jsonl: missing",
        );
        check(
            &beir_dir(Some(CORPUS), None, &[("test.tsv", TEST)]),
            "queries.jsonl: missing",
        );
        check(
            &beir_dir(Some(CORPUS), Some(QUERIES), &[]),
            "qrels: cannot list",
        );
        check(
            &beir_dir(Some(CORPUS), Some(QUERIES), &[("x.txt", "")]),
            "no <split>.tsv file",
        );
        let err = BeirDir::open(Path::new("/no/such/folder"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a folder"), "{err}");
    }

    #[test]
    fn reads_scifact() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/scifact");
        if !dir.is_dir() {
            eprintln!("skipped: {} not found", dir.display());
            return;
        }
        let set = BeirDir::open(&dir).unwrap();
        assert_eq!(set.splits(), ["train"]);
        assert_eq!(set.default_split(), "train");
        let mut records = 0;
        let ids = set
            .load_corpus(1000, |batch| {
                records += batch.len();
                Ok(())
            })
            .unwrap();
        assert_eq!((records, ids.len()), (5183, 5183));
        assert_eq!(set.queries().unwrap().len(), 809);
        let qrels = set.qrels(None).unwrap();
        assert_eq!(qrels.values().map(|j| j.len()).sum::<usize>(), 919);
        assert!(
            qrels
                .values()
                .flat_map(|j| j.keys())
                .all(|d| ids.arxiv_id(d).is_some())
        );
    }
}
