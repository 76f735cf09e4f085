//! Embedding the catalog: computes a vector for every paper whose text has
//! no vector yet (or changed since), stores it, and remembers how far it got,
//! so that a restart continues where it stopped. `paperboy serve` runs it in
//! the background ([`spawn_background`]); `paperboy embed` in the foreground
//! with progress; `--export`/`--import` move vectors between machines.
//!
//! Vectors are stored under the model's name ([`MODEL`]) with a hash of the
//! exact text embedded ([`text_hash`]), so an edited abstract is embedded
//! again and an imported vector is only taken for the text it was made from.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use paperboy_core::ArxivId;
use paperboy_embed::{Embedder, MINILM_DIM, MiniLm, document_text};
use paperboy_store::{PaperVector, Store};
use sha2::{Digest, Sha256};

use crate::jobs::Lease;
use crate::progress::Progress;

/// The name vectors of all-MiniLM-L6-v2 are stored under.
pub const MODEL: &str = "all-MiniLM-L6-v2";

/// Papers read and embedded per step: small enough that a stop loses little
/// and the web server's searches interleave.
pub const STEP: usize = 32;

/// Bytes of SHA-256 kept as a text hash.
const HASH_BYTES: usize = 16;

/// The first line of an export file.
const EXPORT_MAGIC: &[u8] = b"PAPERBOY-VECTORS 1\n";

/// How long the background job sleeps when everything is embedded.
const IDLE: Duration = Duration::from_secs(5);

/// How long the `embed` job lease lasts past each step: many steps' worth,
/// so that a slow step never loses it, yet a dead node's job is taken over
/// within a couple of minutes.
const LEASE: Duration = Duration::from_secs(120);

/// The store key of the job's cursor (the last paper change it handled).
fn cursor_key(model: &str) -> String {
    format!("embed:{model}")
}

/// What a paper's vector was computed from: the model and the exact text.
pub fn text_hash(model: &str, text: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    hasher.finalize()[..HASH_BYTES].to_vec()
}

/// What one [`EmbedJob::step`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Papers embedded and stored.
    pub embedded: u64,
    /// Papers looked at whose vector was up to date.
    pub skipped: u64,
    /// Nothing was left to look at.
    pub done: bool,
}

/// Embeds the papers of a store with one model.
pub struct EmbedJob<'a> {
    pub store: &'a dyn Store,
    pub embedder: &'a dyn Embedder,
    pub model: &'a str,
}

impl EmbedJob<'_> {
    /// Embeds the next `limit` changed papers (fewer when fewer changed) and
    /// stores their vectors, then moves the cursor past them.
    pub fn step(&self, limit: usize) -> anyhow::Result<Step> {
        let key = cursor_key(self.model);
        let cursor = match self.store.sync_state(&key)? {
            Some(value) => value.parse::<u64>().with_context(|| {
                format!("the stored embedding cursor {key} is not a number: {value:?}")
            })?,
            None => 0,
        };
        // The database was replaced by an older one: start over (vectors
        // whose text hash matches are skipped, so this is cheap).
        let cursor = if cursor > self.store.change_seq()? {
            0
        } else {
            cursor
        };
        let texts = self
            .store
            .texts_changed_since(self.model, cursor, limit.max(1))?;
        let Some(last) = texts.last().map(|t| t.seq) else {
            return Ok(Step {
                done: true,
                ..Step::default()
            });
        };
        let mut todo: Vec<(ArxivId, String, Vec<u8>)> = Vec::new();
        for text in &texts {
            let doc = document_text(&text.title, &text.abstract_text);
            let hash = text_hash(self.model, &doc);
            if text.vector_hash.as_deref() != Some(hash.as_slice()) {
                todo.push((text.id.clone(), doc, hash));
            }
        }
        let skipped = (texts.len() - todo.len()) as u64;
        if !todo.is_empty() {
            let docs: Vec<&str> = todo.iter().map(|(_, doc, _)| doc.as_str()).collect();
            let vectors = self
                .embedder
                .embed(&docs)
                .context("the embedding model failed")?;
            let vectors: Vec<PaperVector> = todo
                .into_iter()
                .zip(vectors)
                .map(|((id, _, text_hash), vector)| PaperVector {
                    id,
                    text_hash,
                    vector,
                })
                .collect();
            self.store.put_vectors(self.model, &vectors)?;
        }
        // Saved after the vectors: a stop in between redoes this step, whose
        // papers then skip as up to date.
        self.store.set_sync_state(&key, &last.to_string())?;
        Ok(Step {
            embedded: (texts.len() as u64) - skipped,
            skipped,
            done: false,
        })
    }

    /// Steps until nothing is left (or `stop` is set), reporting progress.
    pub fn run(&self, stop: &AtomicBool, progress: &mut Progress) -> anyhow::Result<Step> {
        let mut total = Step::default();
        while !stop.load(Ordering::Relaxed) {
            let step = self.step(STEP)?;
            if step.done {
                total.done = true;
                break;
            }
            total.embedded += step.embedded;
            total.skipped += step.skipped;
            progress.update(total.embedded + total.skipped, "papers");
        }
        Ok(total)
    }
}

/// Loads the model of `dir`.
pub fn load_model(dir: &Path) -> anyhow::Result<MiniLm> {
    MiniLm::load(dir).with_context(|| {
        format!(
            "cannot load the embedding model from {} (fill it with `scripts/fetch-model {}`)",
            dir.display(),
            dir.display()
        )
    })
}

/// Runs the embedding job on a thread of its own for as long as the process
/// lives: catches up, then looks for new papers every few seconds. Errors
/// are logged and retried later; they never stop the server. Of several
/// processes on one database, only the holder of the `embed` job lease
/// works (see [`crate::jobs`]).
pub fn spawn_background(store: Arc<dyn Store>, embedder: Arc<dyn Embedder>) {
    let spawned = std::thread::Builder::new()
        .name("embed".into())
        .spawn(move || {
            let job = EmbedJob {
                store: store.as_ref(),
                embedder: embedder.as_ref(),
                model: MODEL,
            };
            // One node embeds; the others find the vectors in the database.
            let lease = Lease::new(store.as_ref(), "embed", LEASE);
            let mut embedded = 0u64;
            let mut started = Instant::now();
            loop {
                match lease.hold() {
                    Ok(true) => {}
                    Ok(false) => {
                        std::thread::sleep(IDLE);
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot take the embedding lease; retrying later");
                        std::thread::sleep(IDLE * 6);
                        continue;
                    }
                }
                match job.step(STEP) {
                    Ok(step) if step.done => {
                        if embedded > 0 {
                            tracing::info!(
                                papers = embedded,
                                secs = started.elapsed().as_secs(),
                                "embedded new papers"
                            );
                            embedded = 0;
                        }
                        std::thread::sleep(IDLE);
                        started = Instant::now();
                    }
                    Ok(step) => embedded += step.embedded,
                    Err(error) => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "embedding failed; retrying later"
                        );
                        std::thread::sleep(IDLE * 6);
                    }
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the embedding thread; semantic search will not grow");
    }
}

/// `paperboy embed`: embeds every paper that needs it, with progress.
pub fn embed_catalog(store: &dyn Store, model_dir: &Path) -> anyhow::Result<()> {
    let model = load_model(model_dir)?;
    let before = store.vector_stats(MODEL)?;
    eprintln!(
        "{} of {} papers have vectors; embedding the rest with {MODEL}",
        before.vectors, before.papers
    );
    let stop = AtomicBool::new(false);
    let mut progress = Progress::for_stderr("embedding");
    let started = Instant::now();
    let job = EmbedJob {
        store,
        embedder: &model,
        model: MODEL,
    };
    let step = job.run(&stop, &mut progress)?;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    let after = store.vector_stats(MODEL)?;
    println!(
        "embedded {} papers in {secs:.1} s ({:.1}/s); {} up to date; {} of {} papers have vectors",
        step.embedded,
        step.embedded as f64 / secs.max(1e-9),
        step.skipped,
        after.vectors,
        after.papers
    );
    Ok(())
}

/// `paperboy embed --text`: prints the first dimensions of one text's vector.
pub fn print_embedding(model_dir: &Path, text: &str) -> anyhow::Result<()> {
    const SHOWN: usize = 8;
    let model = load_model(model_dir)?;
    let vector = model.embed(&[text])?.remove(0);
    let tokens = model.token_ids(text)?.len();
    let shown: Vec<String> = vector[..SHOWN].iter().map(|x| format!("{x:.6}")).collect();
    println!(
        "{} dims, {tokens} tokens: [{}, ...]",
        vector.len(),
        shown.join(", ")
    );
    Ok(())
}

/// `paperboy embed --export FILE`: every stored vector of [`MODEL`], with
/// the text hash it was made for. Format: the line `PAPERBOY-VECTORS 1`,
/// a JSON header line (`model`, `dim`), then per vector: id length (u8),
/// id (UTF-8), hash length (u8), hash, `dim` little-endian f32s.
pub fn export_vectors(store: &dyn Store, path: &Path) -> anyhow::Result<u64> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let header = serde_json::json!({ "model": MODEL, "dim": MINILM_DIM });
    out.write_all(EXPORT_MAGIC)?;
    writeln!(out, "{header}")?;
    let mut seq = 0;
    let mut written = 0u64;
    loop {
        let batch = store.vectors_changed_since(MODEL, seq, 1000)?;
        let Some(&(last, _)) = batch.last() else {
            break;
        };
        for (_, v) in &batch {
            if v.vector.len() != MINILM_DIM {
                bail!(
                    "stored vector of {} has {} dimensions, not {MINILM_DIM}",
                    v.id,
                    v.vector.len()
                );
            }
            let id = v.id.as_str().as_bytes();
            out.write_all(&[id.len() as u8])?;
            out.write_all(id)?;
            out.write_all(&[v.text_hash.len() as u8])?;
            out.write_all(&v.text_hash)?;
            for x in &v.vector {
                out.write_all(&x.to_le_bytes())?;
            }
            written += 1;
        }
        seq = last;
    }
    out.flush()
        .and_then(|()| out.get_ref().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(written)
}

/// What [`import_vectors`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VectorImport {
    /// Vectors stored.
    pub stored: u64,
    /// Vectors of papers this catalog does not have.
    pub unknown: u64,
    /// Vectors made for another text than the paper has here (it changed);
    /// the embedding job computes those anew.
    pub stale: u64,
}

/// `paperboy embed --import FILE`: stores the vectors of an export whose
/// paper is here with the very text the vector was made for.
pub fn import_vectors(store: &dyn Store, path: &Path) -> anyhow::Result<VectorImport> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut input = BufReader::new(file);
    let what = |record: u64| format!("{}: vector record {record}", path.display());
    let mut magic = vec![0; EXPORT_MAGIC.len()];
    input
        .read_exact(&mut magic)
        .ok()
        .filter(|()| magic == EXPORT_MAGIC)
        .with_context(|| {
            format!(
                "{}: not a Paperboy vector export (it must start with {:?})",
                path.display(),
                String::from_utf8_lossy(EXPORT_MAGIC).trim_end()
            )
        })?;
    let mut header = Vec::new();
    for byte in (&mut input).bytes() {
        let byte = byte.with_context(|| format!("{}: cannot read the header", path.display()))?;
        if byte == b'\n' {
            break;
        }
        header.push(byte);
    }
    let header: serde_json::Value = serde_json::from_slice(&header)
        .with_context(|| format!("{}: line 2: the header is not JSON", path.display()))?;
    let model = header["model"].as_str().unwrap_or_default();
    if model != MODEL {
        bail!(
            "{}: line 2: vectors of model {model:?}; this Paperboy uses {MODEL:?}",
            path.display()
        );
    }
    let dim = header["dim"].as_u64().unwrap_or(0);
    if dim != MINILM_DIM as u64 {
        bail!(
            "{}: line 2: field dim is {dim}, {MODEL} has {MINILM_DIM}",
            path.display()
        );
    }

    let mut outcome = VectorImport::default();
    let mut batch: Vec<PaperVector> = Vec::new();
    let mut record = 0u64;
    let mut vector_bytes = vec![0u8; MINILM_DIM * 4];
    loop {
        let mut len = [0u8; 1];
        match input.read(&mut len) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(e).with_context(|| what(record + 1)),
        }
        record += 1;
        let mut id = vec![0; usize::from(len[0])];
        input
            .read_exact(&mut id)
            .with_context(|| format!("{}: truncated id", what(record)))?;
        let id = String::from_utf8(id)
            .ok()
            .and_then(|id| ArxivId::parse(&id).ok().map(|v| v.id))
            .with_context(|| format!("{}: field id is not an arXiv id", what(record)))?;
        input
            .read_exact(&mut len)
            .with_context(|| format!("{}: truncated text hash", what(record)))?;
        let mut text_hash = vec![0; usize::from(len[0])];
        input
            .read_exact(&mut text_hash)
            .and_then(|()| input.read_exact(&mut vector_bytes))
            .with_context(|| format!("{}: truncated vector", what(record)))?;
        let vector: Vec<f32> = vector_bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if vector.iter().any(|x| !x.is_finite()) {
            bail!("{}: field vector holds a NaN or infinity", what(record));
        }
        let Some(paper) = store.paper(&id)? else {
            outcome.unknown += 1;
            continue;
        };
        let doc = document_text(&paper.biblio.title, &paper.biblio.abstract_text);
        if text_hash != crate::embed::text_hash(MODEL, &doc) {
            outcome.stale += 1;
            continue;
        }
        batch.push(PaperVector {
            id,
            text_hash,
            vector,
        });
        if batch.len() >= 1000 {
            store.put_vectors(MODEL, &batch)?;
            outcome.stored += batch.len() as u64;
            batch.clear();
        }
    }
    store.put_vectors(MODEL, &batch)?;
    outcome.stored += batch.len() as u64;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use paperboy_core::{Paper, SourceRecord};
    use paperboy_embed::FakeEmbedder;
    use paperboy_store::{SqliteStore, Vectors};

    use super::*;

    fn paper(id: &str, title: &str, abstract_text: &str) -> SourceRecord {
        let mut paper = Paper::new(ArxivId::parse(id).unwrap().id);
        paper.biblio.title = title.into();
        paper.biblio.abstract_text = abstract_text.into();
        SourceRecord { paper, entry: None }
    }

    fn catalog(n: usize) -> SqliteStore {
        let store = SqliteStore::open_in_memory().unwrap();
        let records: Vec<SourceRecord> = (1..=n)
            .map(|i| paper(&format!("2401.{i:05}"), &format!("Paper {i}"), "Abstract."))
            .collect();
        store.upsert(&records).unwrap();
        store
    }

    #[test]
    fn embeds_every_paper_once_and_resumes() {
        let store = catalog(70);
        let fake = FakeEmbedder::new(MINILM_DIM);
        let job = EmbedJob {
            store: &store,
            embedder: &fake,
            model: MODEL,
        };
        let first = job.step(32).unwrap();
        assert_eq!((first.embedded, first.skipped, first.done), (32, 0, false));
        // A "restart": a new job on the same store continues after the first 32.
        let job = EmbedJob {
            store: &store,
            embedder: &fake,
            model: MODEL,
        };
        let rest = job
            .run(&AtomicBool::new(false), &mut Progress::Silent)
            .unwrap();
        assert_eq!((rest.embedded, rest.skipped, rest.done), (38, 0, true));
        assert_eq!(store.vector_stats(MODEL).unwrap().vectors, 70);
        assert!(job.step(32).unwrap().done);

        // An upvote-like change re-reads the paper but keeps its vector; an
        // edited abstract is embedded again.
        let mut revised = paper("2401.00003", "Paper 3", "A new abstract.");
        revised.paper.biblio.version = Some(2);
        store.upsert(&[revised]).unwrap();
        let step = job.step(32).unwrap();
        assert_eq!((step.embedded, step.skipped), (1, 0));
        let v = store
            .paper_vector(MODEL, &ArxivId::parse("2401.00003").unwrap().id)
            .unwrap()
            .unwrap();
        assert_eq!(
            v.vector,
            fake.embed(&["Paper 3. A new abstract."]).unwrap()[0]
        );
        assert_eq!(v.text_hash, text_hash(MODEL, "Paper 3. A new abstract."));
    }

    #[test]
    fn a_reset_cursor_skips_what_is_up_to_date() {
        let store = catalog(10);
        let fake = FakeEmbedder::new(MINILM_DIM);
        let job = EmbedJob {
            store: &store,
            embedder: &fake,
            model: MODEL,
        };
        job.run(&AtomicBool::new(false), &mut Progress::Silent)
            .unwrap();
        store.set_sync_state(&cursor_key(MODEL), "0").unwrap();
        let again = job
            .run(&AtomicBool::new(false), &mut Progress::Silent)
            .unwrap();
        assert_eq!((again.embedded, again.skipped), (0, 10));
    }

    #[test]
    fn export_then_import_moves_vectors_for_the_same_texts_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vectors.bin");
        let big = catalog(5);
        let fake = FakeEmbedder::new(MINILM_DIM);
        EmbedJob {
            store: &big,
            embedder: &fake,
            model: MODEL,
        }
        .run(&AtomicBool::new(false), &mut Progress::Silent)
        .unwrap();
        assert_eq!(export_vectors(&big, &file).unwrap(), 5);

        // The small machine has papers 1-3 (paper 2 with another abstract)
        // and a paper 9 the big one never saw.
        let small = SqliteStore::open_in_memory().unwrap();
        small
            .upsert(&[
                paper("2401.00001", "Paper 1", "Abstract."),
                paper("2401.00002", "Paper 2", "Changed."),
                paper("2401.00003", "Paper 3", "Abstract."),
                paper("2401.00009", "Paper 9", "Abstract."),
            ])
            .unwrap();
        let outcome = import_vectors(&small, &file).unwrap();
        assert_eq!(
            outcome,
            VectorImport {
                stored: 2,
                unknown: 2,
                stale: 1
            }
        );
        let id1 = ArxivId::parse("2401.00001").unwrap().id;
        assert_eq!(
            small.paper_vector(MODEL, &id1).unwrap(),
            big.paper_vector(MODEL, &id1).unwrap()
        );
        // The embedding job then only embeds papers 2 and 9.
        let step = EmbedJob {
            store: &small,
            embedder: &fake,
            model: MODEL,
        }
        .run(&AtomicBool::new(false), &mut Progress::Silent)
        .unwrap();
        assert_eq!((step.embedded, step.skipped), (2, 2));
    }

    #[test]
    fn damaged_exports_are_clear_errors_that_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = catalog(3);
        let fake = FakeEmbedder::new(MINILM_DIM);
        EmbedJob {
            store: &store,
            embedder: &fake,
            model: MODEL,
        }
        .run(&AtomicBool::new(false), &mut Progress::Silent)
        .unwrap();
        let good = dir.path().join("good.bin");
        export_vectors(&store, &good).unwrap();
        let bytes = std::fs::read(&good).unwrap();

        let check = |name: &str, content: &[u8], expect: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let target = SqliteStore::open_in_memory().unwrap();
            target
                .upsert(&[paper("2401.00001", "Paper 1", "Abstract.")])
                .unwrap();
            let err = format!("{:#}", import_vectors(&target, &path).unwrap_err());
            assert!(err.contains(expect), "{name}: {err}");
            assert!(err.contains(name), "{name}: names the file: {err}");
            assert_eq!(target.vector_stats(MODEL).unwrap().vectors, 0, "{name}");
        };
        check("text.bin", b"hello\n", "not a Paperboy vector export");
        let other_model = String::from_utf8_lossy(&bytes).replacen(MODEL, "other-model", 1);
        check("model.bin", other_model.as_bytes(), "model \"other-model\"");
        check(
            "cut.bin",
            &bytes[..bytes.len() - 10],
            "vector record 3: truncated vector",
        );
    }
}
