//! [`Vectors`] on SQLite: table `paper_vectors`, vectors as little-endian
//! f32 blobs, and a second change sequence (`meta.vector_seq`) that grows
//! with every vector written.

use paperboy_core::ArxivId;
use rusqlite::{Connection, OptionalExtension};

use super::{SqliteStore, count, require_paper};
use crate::{
    PaperText, PaperVector, StoreError, VectorStats, Vectors, decode_vector, encode_vector,
};

/// seq, id, title, abstract, stored text hash.
type TextRow = (i64, String, String, String, Option<Vec<u8>>);

impl Vectors for SqliteStore {
    fn texts_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<PaperText>, StoreError> {
        let err = |e| StoreError::database("list changed paper texts", e);
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.seq, p.id, p.title, p.abstract, v.text_hash FROM papers p \
                 LEFT JOIN paper_vectors v ON v.model = ?1 AND v.paper_id = p.id \
                 WHERE p.seq > ?2 ORDER BY p.seq LIMIT ?3",
            )
            .map_err(err)?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<TextRow> = stmt
            .query_map((model, seq, limit), |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(err)?;
        rows.into_iter()
            .map(|(seq, id, title, abstract_text, vector_hash)| {
                Ok(PaperText {
                    seq: non_negative(&id, "papers.seq", seq)?,
                    id: paper_id(&id)?,
                    title,
                    abstract_text,
                    vector_hash,
                })
            })
            .collect()
    }

    fn put_vectors(&self, model: &str, vectors: &[PaperVector]) -> Result<(), StoreError> {
        if vectors.is_empty() {
            return Ok(());
        }
        self.write("store vectors", |tx| {
            let err = |e| StoreError::database("store vectors", e);
            let mut expected = stored_dimension(tx, model)?;
            let mut seq = read_vector_seq(tx)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO paper_vectors (model, paper_id, text_hash, vector, seq) \
                     VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (model, paper_id) DO UPDATE SET \
                     text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq",
                )
                .map_err(err)?;
            for v in vectors {
                let dim = *expected.get_or_insert(v.vector.len());
                if v.vector.len() != dim {
                    return Err(StoreError::VectorDimension {
                        model: model.to_owned(),
                        id: v.id.clone(),
                        expected: dim,
                        found: v.vector.len(),
                    });
                }
                require_paper(tx, &v.id)?;
                seq += 1;
                insert
                    .execute((
                        model,
                        v.id.as_str(),
                        &v.text_hash,
                        encode_vector(&v.vector),
                        seq,
                    ))
                    .map_err(err)?;
            }
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'vector_seq'")
                .and_then(|mut stmt| stmt.execute([seq]))
                .map_err(err)?;
            Ok(())
        })
    }

    fn vectors_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperVector)>, StoreError> {
        let err = |e| StoreError::database("list changed vectors", e);
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, paper_id, text_hash, vector FROM paper_vectors \
                 WHERE model = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(err)?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String, Vec<u8>, Vec<u8>)> = stmt
            .query_map((model, seq, limit), |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(err)?;
        rows.into_iter()
            .map(|(seq, id, text_hash, vector)| {
                let seq = non_negative(&id, "paper_vectors.seq", seq)?;
                Ok((seq, paper_vector(id, text_hash, &vector)?))
            })
            .collect()
    }

    fn paper_vector(&self, model: &str, id: &ArxivId) -> Result<Option<PaperVector>, StoreError> {
        let err = |e| StoreError::database("read a vector", e);
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .reader()
            .prepare_cached(
                "SELECT text_hash, vector FROM paper_vectors WHERE model = ?1 AND paper_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row((model, id.as_str()), |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(err)?;
        row.map(|(text_hash, vector)| paper_vector(id.as_str().to_owned(), text_hash, &vector))
            .transpose()
    }

    fn vector_seq(&self) -> Result<u64, StoreError> {
        let seq = read_vector_seq(&self.reader())?;
        non_negative("", "meta.vector_seq", seq)
    }

    fn vector_stats(&self, model: &str) -> Result<VectorStats, StoreError> {
        let err = |e| StoreError::database("count vectors", e);
        let conn = self.reader();
        let (vectors, papers): (i64, i64) = conn
            .prepare_cached(
                "SELECT (SELECT COUNT(*) FROM paper_vectors WHERE model = ?1), \
                        (SELECT COUNT(*) FROM papers)",
            )
            .and_then(|mut stmt| stmt.query_row([model], |row| Ok((row.get(0)?, row.get(1)?))))
            .map_err(err)?;
        Ok(VectorStats {
            vectors: count(vectors),
            papers: count(papers),
        })
    }
}

fn read_vector_seq(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = 'vector_seq'")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(|e| StoreError::database("read the vector sequence", e))
}

/// The dimension of the model's stored vectors, `None` when it has none.
fn stored_dimension(conn: &Connection, model: &str) -> Result<Option<usize>, StoreError> {
    let bytes: Option<i64> = conn
        .prepare_cached("SELECT length(vector) FROM paper_vectors WHERE model = ?1 LIMIT 1")
        .and_then(|mut stmt| stmt.query_row([model], |row| row.get(0)).optional())
        .map_err(|e| StoreError::database("read a vector's dimension", e))?;
    Ok(bytes.map(|b| usize::try_from(b / 4).unwrap_or(0)))
}

fn paper_id(text: &str) -> Result<ArxivId, StoreError> {
    ArxivId::parse(text)
        .map(|v| v.id)
        .map_err(|e| StoreError::Corrupt {
            paper_id: text.to_owned(),
            field: "id",
            message: e.to_string(),
        })
}

fn paper_vector(id: String, text_hash: Vec<u8>, vector: &[u8]) -> Result<PaperVector, StoreError> {
    let Some(vector) = decode_vector(vector) else {
        return Err(StoreError::Corrupt {
            paper_id: id,
            field: "paper_vectors.vector",
            message: format!("{} bytes is not a whole number of f32s", vector.len()),
        });
    };
    Ok(PaperVector {
        id: paper_id(&id)?,
        text_hash,
        vector,
    })
}

fn non_negative(id: &str, field: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        paper_id: id.to_owned(),
        field,
        message: format!("{value} is negative"),
    })
}
