//! The snapshot file: one file, little-endian, written atomically.
//!
//! ```text
//! magic          8 bytes  "PBANNIDX"
//! version        u32      FORMAT_VERSION
//! dim            u32
//! count          u64      vectors
//! centroids      u32      0 when the index is exact
//! trained_len    u64
//! centroids × dim f32
//! per list (max(centroids, 1) lists):
//!   len u64, len × doc u32, len × scale f32, len × dim code i8
//! checksum       u64      FNV-1a of every byte before it
//! ```
//!
//! The header fixes the file's exact length, so a truncated file is caught
//! before anything large is allocated; the checksum catches the rest. Any
//! file this module would not have written is an error, never a panic and
//! never a half-loaded index.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{AnnError, AnnIndex, AnnParams, BLOCK, List, Loc, MAX_DIM, kernels};

/// Bump when the file layout or the meaning of its contents changes (the
/// quantization, the normalisation): an older or newer snapshot is refused
/// and the caller rebuilds it.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"PBANNIDX";
const HEADER_LEN: u64 = 8 + 4 + 4 + 8 + 4 + 8;
const CHECKSUM_LEN: u64 = 8;

/// FNV-1a, 64 bits: no dependency, and enough to tell a damaged file from a
/// good one (nobody forges these files).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

struct Out {
    inner: BufWriter<File>,
    hash: Fnv,
    buf: Vec<u8>,
}

impl Out {
    fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.inner.write_all(bytes)
    }

    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn u32s(&mut self, vs: &[u32]) -> io::Result<()> {
        self.encoded(vs.iter().map(|v| v.to_le_bytes()))
    }

    fn f32s(&mut self, vs: &[f32]) -> io::Result<()> {
        self.encoded(vs.iter().map(|v| v.to_le_bytes()))
    }

    fn i8s(&mut self, vs: &[i8]) -> io::Result<()> {
        self.encoded(vs.iter().map(|v| v.to_le_bytes()))
    }

    /// Writes each item's bytes, through the reused buffer.
    fn encoded<const N: usize>(&mut self, items: impl Iterator<Item = [u8; N]>) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend(items.flatten());
        let result = self.bytes(&buf);
        self.buf = buf;
        result
    }
}

/// Why a read failed: the file's fault (checked by us) or the system's.
enum ReadError {
    Io(io::Error),
    Corrupt(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ReadError::Corrupt("the file ends early".into())
        } else {
            ReadError::Io(e)
        }
    }
}

struct In {
    inner: BufReader<File>,
    hash: Fnv,
}

impl In {
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        let mut buf = vec![0; n];
        self.inner.read_exact(&mut buf)?;
        self.hash.update(&buf);
        Ok(buf)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut buf = [0; N];
        self.inner.read_exact(&mut buf)?;
        self.hash.update(&buf);
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, ReadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, ReadError> {
        Ok(self
            .bytes(n * 4)?
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, ReadError> {
        Ok(self
            .bytes(n * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn i8s(&mut self, n: usize) -> Result<Vec<i8>, ReadError> {
        Ok(self.bytes(n)?.into_iter().map(|b| b as i8).collect())
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> AnnError + '_ {
    move |source| AnnError::Io {
        path: path.to_owned(),
        source,
    }
}

impl AnnIndex {
    /// Writes a snapshot to `path`: to a temporary file beside it, synced,
    /// then renamed over `path`, so a crash leaves the old snapshot or the
    /// new one, never a mix.
    pub fn save(&self, path: &Path) -> Result<(), AnnError> {
        let tmp = temp_path(path);
        let result = self.write_to(&tmp).and_then(|()| {
            std::fs::rename(&tmp, path)?;
            sync_parent(path)
        });
        result.map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            AnnError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    fn write_to(&self, tmp: &Path) -> io::Result<()> {
        let file = File::create(tmp)?;
        let mut out = Out {
            inner: BufWriter::with_capacity(1 << 20, file),
            hash: Fnv::new(),
            buf: Vec::new(),
        };
        out.bytes(MAGIC)?;
        out.u32(FORMAT_VERSION)?;
        out.u32(self.dim as u32)?;
        out.u64(self.len() as u64)?;
        out.u32((self.centroids.len() / self.dim) as u32)?;
        out.u64(self.trained_len as u64)?;
        out.f32s(&self.centroids)?;
        for list in &self.lists {
            out.u64(list.len() as u64)?;
            out.u32s(&list.docs)?;
            out.f32s(&list.scales)?;
            for block in &list.blocks {
                out.i8s(block)?;
            }
        }
        let checksum = out.hash.0;
        out.inner.write_all(&checksum.to_le_bytes())?;
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }

    /// Reads a snapshot written by [`Self::save`] for `dim`-dimensional
    /// vectors, with default [`AnnParams`] (see [`Self::set_params`]). A
    /// file of another format version or dimension, or a damaged or
    /// truncated one, is an error: rebuild the index from the database.
    pub fn load(path: &Path, dim: usize) -> Result<Self, AnnError> {
        if dim == 0 || dim > MAX_DIM {
            return Err(AnnError::UnsupportedDimension { dim });
        }
        let file = File::open(path).map_err(io_error(path))?;
        let file_len = file.metadata().map_err(io_error(path))?.len();
        let mut input = In {
            inner: BufReader::with_capacity(1 << 20, file),
            hash: Fnv::new(),
        };
        read_index(&mut input, path, dim, file_len).map_err(|e| match e {
            Load::Ann(e) => e,
            Load::Read(ReadError::Io(source)) => AnnError::Io {
                path: path.to_owned(),
                source,
            },
            Load::Read(ReadError::Corrupt(message)) => AnnError::Corrupt {
                path: path.to_owned(),
                message,
            },
        })
    }
}

enum Load {
    Ann(AnnError),
    Read(ReadError),
}

impl From<ReadError> for Load {
    fn from(e: ReadError) -> Self {
        Load::Read(e)
    }
}

fn corrupt(message: impl Into<String>) -> Load {
    Load::Read(ReadError::Corrupt(message.into()))
}

fn read_index(input: &mut In, path: &Path, dim: usize, file_len: u64) -> Result<AnnIndex, Load> {
    if file_len < HEADER_LEN + CHECKSUM_LEN {
        return Err(corrupt(format!(
            "{file_len} bytes is too short for a vector index"
        )));
    }
    if &input.array::<8>()? != MAGIC {
        return Err(corrupt("it is not a vector index (wrong magic bytes)"));
    }
    let version = input.u32()?;
    if version != FORMAT_VERSION {
        return Err(Load::Ann(AnnError::FormatVersion {
            path: path.to_owned(),
            found: version,
            expected: FORMAT_VERSION,
        }));
    }
    let file_dim = input.u32()? as usize;
    if file_dim != dim {
        return Err(Load::Ann(AnnError::FileDimension {
            path: path.to_owned(),
            found: file_dim,
            expected: dim,
        }));
    }
    let count = input.u64()?;
    let centroids = u64::from(input.u32()?);
    let trained_len = input.u64()?;
    let lists = centroids.max(1);
    // The header fixes the length of everything after it.
    let expected_len = (|| {
        let dim = dim as u64;
        HEADER_LEN
            .checked_add(centroids.checked_mul(dim)?.checked_mul(4)?)?
            .checked_add(lists.checked_mul(8)?)?
            .checked_add(count.checked_mul(8 + dim)?)?
            .checked_add(CHECKSUM_LEN)
    })();
    if expected_len != Some(file_len) {
        return Err(corrupt(format!(
            "the file is {file_len} bytes but its header describes {} (truncated?)",
            expected_len.map_or_else(|| "an impossible size".to_owned(), |l| format!("{l} bytes"))
        )));
    }
    if count > u64::from(u32::MAX) + 1 || (centroids > 0 && centroids > count) {
        return Err(corrupt(format!(
            "the header says {count} vectors in {centroids} lists"
        )));
    }
    let centroid_values = input.f32s(centroids as usize * dim)?;
    for c in centroid_values.chunks_exact(dim) {
        let norm = kernels::dot_f32(c, c);
        if !(0.99..=1.01).contains(&norm) {
            return Err(corrupt("a centroid is not a unit vector"));
        }
    }
    let mut locs = HashMap::with_capacity(count as usize);
    let mut all_lists = Vec::with_capacity(lists as usize);
    let mut seen = 0u64;
    for l in 0..lists as u32 {
        let len = input.u64()?;
        seen = seen.saturating_add(len);
        if seen > count {
            return Err(corrupt("the lists hold more vectors than the header says"));
        }
        let len = len as usize;
        let docs = input.u32s(len)?;
        let scales = input.f32s(len)?;
        if let Some(bad) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(corrupt(format!("a vector has scale {bad}")));
        }
        let mut blocks = Vec::with_capacity(len.div_ceil(BLOCK));
        for b in 0..len.div_ceil(BLOCK) {
            let vectors = (len - b * BLOCK).min(BLOCK);
            blocks.push(input.i8s(vectors * dim)?);
        }
        for (pos, &doc) in docs.iter().enumerate() {
            let loc = Loc {
                list: l,
                pos: pos as u32,
            };
            if locs.insert(doc, loc).is_some() {
                return Err(corrupt(format!("document {doc} is stored twice")));
            }
        }
        all_lists.push(List {
            docs,
            scales,
            blocks,
        });
    }
    if seen != count {
        return Err(corrupt("the lists hold fewer vectors than the header says"));
    }
    let computed = input.hash.0;
    let mut stored = [0u8; 8];
    input
        .inner
        .read_exact(&mut stored)
        .map_err(ReadError::from)?;
    if u64::from_le_bytes(stored) != computed {
        return Err(corrupt("the checksum does not match the contents"));
    }
    Ok(AnnIndex {
        dim,
        params: AnnParams::default(),
        centroids: centroid_values,
        lists: all_lists,
        locs,
        trained_len: trained_len as usize,
        query_max: kernels::query_max(dim),
        mutations: 0,
    })
}

/// `.<name>.tmp-<pid>` beside `path`: same directory, so the rename is
/// atomic; the pid keeps two processes from writing the same temporary.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "vectors".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Makes the rename itself durable.
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
