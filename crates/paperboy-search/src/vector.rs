//! The vector index: every stored embedding vector of one model, for
//! nearest-neighbour search (semantic search, similar papers).
//!
//! Derived data, like the keyword index: it catches up from the store's
//! vector sequence ([`Vectors::vectors_changed_since`]) and is saved under
//! `<data dir>/index/vectors/` (the [`crate::ann`] structure, the paper ids in doc
//! order, and a state file with the format version, model, dimension and
//! the last vector sequence number saved). Anything missing, of another
//! version or model, inconsistent, or ahead of the store is thrown away and
//! rebuilt from the stored vectors.
//!
//! Several processes may each hold one: each catches up on its own; saving
//! replaces files atomically, so readers of the folder never see half a file.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use paperboy_core::ArxivId;
use paperboy_store::Store;
use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::ann::{AnnIndex, AnnParams};

/// Bump when what the folder holds changes meaning: an index of another
/// version is rebuilt.
pub const FORMAT_VERSION: u32 = 1;

const STATE_FILE: &str = "state.json";
const IDS_FILE: &str = "ids.txt";
const ANN_FILE: &str = "ann.bin";

/// Vectors read from the store per catch-up step.
const CATCH_UP_BATCH: usize = 5_000;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct State {
    format: u32,
    model: String,
    dim: usize,
    /// The last vector sequence number in the saved index.
    seq: u64,
    /// Papers in the saved index.
    count: usize,
}

struct Inner {
    ann: AnnIndex,
    /// Paper id of each doc number.
    ids: Vec<ArxivId>,
    docs: HashMap<ArxivId, u32>,
    /// The last vector sequence number applied.
    seq: u64,
    /// The sequence number last saved.
    saved_seq: u64,
}

impl Inner {
    fn empty(dim: usize) -> Result<Inner, SearchError> {
        let ann = AnnIndex::new(dim, ann_params()).map_err(|e| SearchError::Corrupt {
            message: e.to_string(),
        })?;
        Ok(Inner {
            ann,
            ids: Vec::new(),
            docs: HashMap::new(),
            seq: 0,
            saved_seq: 0,
        })
    }

    /// The doc number of `id`, given a new one when it has none.
    fn doc(&mut self, id: &ArxivId) -> u32 {
        if let Some(&doc) = self.docs.get(id) {
            return doc;
        }
        let doc = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(id.clone());
        self.docs.insert(id.clone(), doc);
        doc
    }
}

/// The vector index of one model in one data directory.
pub struct VectorIndex {
    dir: PathBuf,
    model: String,
    dim: usize,
    inner: RwLock<Inner>,
}

impl VectorIndex {
    /// Opens the saved index at `dir` for vectors of `model` with `dim`
    /// numbers, or starts an empty one when it is missing, of another
    /// version or model, or damaged. Call [`VectorIndex::catch_up`] next.
    pub fn open(dir: &Path, model: &str, dim: usize) -> Result<VectorIndex, SearchError> {
        let inner = match load(dir, model, dim) {
            Ok(Some(inner)) => inner,
            Ok(None) => Inner::empty(dim)?,
            Err(error) => {
                tracing::warn!(%error, path = %dir.display(), "the vector index does not load; rebuilding it from the stored vectors");
                Inner::empty(dim)?
            }
        };
        Ok(VectorIndex {
            dir: dir.to_path_buf(),
            model: model.to_owned(),
            dim,
            inner: RwLock::new(inner),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model whose vectors this index holds.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Dimensions of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Papers in the index.
    pub fn len(&self) -> usize {
        self.read().ann.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies every vector stored since the last catch-up; returns how many.
    /// When the store is behind the index (another database), the index is
    /// emptied and rebuilt.
    pub fn catch_up(&self, store: &dyn Store) -> Result<u64, SearchError> {
        let mut seq = self.read().seq;
        if store.vector_seq()? < seq {
            tracing::warn!(
                index.seq = seq,
                "the vector index is ahead of the database; rebuilding it"
            );
            *self.write() = Inner::empty(self.dim)?;
            seq = 0;
        }
        let mut applied = 0;
        loop {
            let batch = store.vectors_changed_since(&self.model, seq, CATCH_UP_BATCH)?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            let mut inner = self.write();
            for (_, v) in &batch {
                let doc = inner.doc(&v.id);
                // A vector the index refuses (another dimension, no
                // direction) is left out of search, not fatal.
                if let Err(error) = inner.ann.upsert(doc, &v.vector) {
                    tracing::warn!(paper = %v.id, %error, "vector left out of the index");
                }
            }
            inner.seq = last;
            applied += batch.len() as u64;
            seq = last;
        }
        if applied > 0 {
            tracing::debug!(vectors = applied, index.seq = seq, "vector index caught up");
        }
        // Training (k-means, up to a minute at a million papers) runs under
        // the read lock, so searches go on meanwhile; only moving vectors to
        // their new lists takes the write lock.
        if self.read().ann.needs_training() {
            let started = std::time::Instant::now();
            let training = self.read().ann.prepare_training();
            let lists = training.lists();
            self.write()
                .ann
                .apply_training(training)
                .map_err(|e| SearchError::Corrupt {
                    message: e.to_string(),
                })?;
            tracing::info!(
                vectors = self.len(),
                lists,
                secs = started.elapsed().as_secs_f64(),
                "vector index trained"
            );
        }
        Ok(applied)
    }

    /// The papers nearest to `query` (best first, with cosine similarity),
    /// leaving out those `keep` refuses.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        keep: &dyn Fn(&ArxivId) -> bool,
    ) -> Vec<(ArxivId, f32)> {
        if query.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let inner = self.read();
        let filter = |doc: u32| inner.ids.get(doc as usize).is_some_and(keep);
        // An unusable query (all zeros) finds nothing.
        let found = inner
            .ann
            .search(query, k, Some(&filter))
            .unwrap_or_default();
        found
            .into_iter()
            .filter_map(|(doc, score)| Some((inner.ids.get(doc as usize)?.clone(), score)))
            .collect()
    }

    /// The papers nearest to paper `id` (itself left out), best first;
    /// empty when it has no vector yet.
    pub fn similar(&self, id: &ArxivId, k: usize) -> Vec<(ArxivId, f32)> {
        let Some(vector) = self.vector(id) else {
            return Vec::new();
        };
        self.search(&vector, k, &|other| other != id)
    }

    /// The paper's vector as the index holds it (approximately the stored one).
    pub fn vector(&self, id: &ArxivId) -> Option<Vec<f32>> {
        let inner = self.read();
        let doc = *inner.docs.get(id)?;
        inner.ann.get(doc)
    }

    /// Whether the index changed since it was last saved.
    pub fn is_dirty(&self) -> bool {
        let inner = self.read();
        inner.seq != inner.saved_seq
    }

    /// Saves the index to its folder: the structure, then the ids, then the
    /// state, each replaced atomically. A stop in between leaves parts that
    /// disagree, which the next open notices and rebuilds.
    pub fn save(&self) -> Result<(), SearchError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SearchError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let inner = self.read();
        let ann_path = self.dir.join(ANN_FILE);
        inner
            .ann
            .save(&ann_path)
            .map_err(|e| SearchError::Corrupt {
                message: format!("cannot save {}: {e}", ann_path.display()),
            })?;
        let mut ids = String::with_capacity(inner.ids.len() * 12);
        for id in &inner.ids {
            ids.push_str(id.as_str());
            ids.push('\n');
        }
        let ids_path = self.dir.join(IDS_FILE);
        write_atomically(&ids_path, ids.as_bytes()).map_err(io(&ids_path))?;
        let state = State {
            format: FORMAT_VERSION,
            model: self.model.clone(),
            dim: self.dim,
            seq: inner.seq,
            count: inner.ids.len(),
        };
        let state_path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec(&state).map_err(|e| SearchError::Corrupt {
            message: e.to_string(),
        })?;
        write_atomically(&state_path, &json).map_err(io(&state_path))?;
        let seq = inner.seq;
        drop(inner);
        self.write().saved_seq = seq;
        Ok(())
    }
}

/// How the index trains and searches: the defaults, but trained by
/// [`VectorIndex::catch_up`] outside the write lock rather than inline.
fn ann_params() -> AnnParams {
    AnnParams {
        auto_train: false,
        ..AnnParams::default()
    }
}

/// Reads a saved index; `Ok(None)` when there is none or it is of another
/// version, model or dimension; an error when it is damaged.
fn load(dir: &Path, model: &str, dim: usize) -> Result<Option<Inner>, String> {
    let state: State = match std::fs::read(dir.join(STATE_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{STATE_FILE}: {e}"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{STATE_FILE}: {e}")),
    };
    if state.format != FORMAT_VERSION || state.model != model || state.dim != dim {
        tracing::info!(
            found.format = state.format,
            found.model = %state.model,
            "the vector index is of another format or model; rebuilding it"
        );
        return Ok(None);
    }
    let ids_text =
        std::fs::read_to_string(dir.join(IDS_FILE)).map_err(|e| format!("{IDS_FILE}: {e}"))?;
    let mut ids = Vec::with_capacity(state.count);
    let mut docs = HashMap::with_capacity(state.count);
    for (line, text) in ids_text.lines().enumerate() {
        let id = ArxivId::parse(text)
            .map(|v| v.id)
            .map_err(|e| format!("{IDS_FILE} line {}: {e}", line + 1))?;
        docs.insert(id.clone(), u32::try_from(ids.len()).unwrap_or(u32::MAX));
        ids.push(id);
    }
    let mut ann =
        AnnIndex::load(&dir.join(ANN_FILE), dim).map_err(|e| format!("{ANN_FILE}: {e}"))?;
    ann.set_params(ann_params());
    if ids.len() != state.count || ann.len() != state.count || docs.len() != ids.len() {
        return Err(format!(
            "the parts disagree: {} ids, {} vectors, state says {}",
            ids.len(),
            ann.len(),
            state.count
        ));
    }
    Ok(Some(Inner {
        ann,
        ids,
        docs,
        seq: state.seq,
        saved_seq: state.seq,
    }))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames
/// it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
