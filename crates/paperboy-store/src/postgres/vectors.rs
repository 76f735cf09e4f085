//! [`Vectors`] on PostgreSQL: table `paper_vectors`, vectors as little-endian
//! f32 `BYTEA`, and a second change sequence (`meta.vector_seq`) that grows
//! with every vector written.
//!
//! Several nodes may store vectors at once. Each [`Vectors::put_vectors`]
//! first locks the `vector_seq` row of `meta` ([`lock_vector_seq`]), as
//! [`PgStore::write_changes`] does for `change_seq`: such writes run one
//! after another, so vector numbers are handed out in commit order (an index
//! catching up from the last number it saw never skips a vector committed
//! late), and the dimension check sees every vector of the model.

use paperboy_core::ArxivId;
use postgres::Transaction;

use super::{Db, PgStore, count, require_paper};
use crate::{
    PaperText, PaperVector, StoreError, VectorStats, Vectors, decode_vector, encode_vector,
};

impl Vectors for PgStore {
    fn texts_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<PaperText>, StoreError> {
        let operation = "list changed paper texts";
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.read(|db| {
            db.query(
                operation,
                "SELECT p.seq, p.id, p.title, p.abstract, v.text_hash FROM papers p \
                 LEFT JOIN paper_vectors v ON v.model = $1 AND v.paper_id = p.id \
                 WHERE p.seq > $2 ORDER BY p.seq LIMIT $3",
                &[&model, &seq, &limit],
            )
        })?;
        rows.iter()
            .map(|row| {
                let err = |e| StoreError::database(operation, e);
                let seq: i64 = row.try_get(0).map_err(err)?;
                let id: &str = row.try_get(1).map_err(err)?;
                Ok(PaperText {
                    seq: non_negative(id, "papers.seq", seq)?,
                    id: paper_id(id)?,
                    title: row.try_get(2).map_err(err)?,
                    abstract_text: row.try_get(3).map_err(err)?,
                    vector_hash: row.try_get(4).map_err(err)?,
                })
            })
            .collect()
    }

    fn put_vectors(&self, model: &str, vectors: &[PaperVector]) -> Result<(), StoreError> {
        if vectors.is_empty() {
            return Ok(());
        }
        self.write("store vectors", |db| {
            // Before anything is read: the dimension below is then the one
            // every other writer of the model agrees on.
            let mut seq = lock_vector_seq(db)?;
            let mut expected = stored_dimension(db, model)?;
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
                require_paper(db, &v.id)?;
                seq += 1;
                db.execute(
                    "store vectors",
                    "INSERT INTO paper_vectors (model, paper_id, text_hash, vector, seq) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (model, paper_id) DO UPDATE SET \
                     text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq",
                    &[
                        &model,
                        &v.id.as_str(),
                        &v.text_hash,
                        &encode_vector(&v.vector),
                        &seq,
                    ],
                )?;
            }
            db.execute(
                "advance the vector sequence",
                "UPDATE meta SET value = $1 WHERE key = 'vector_seq'",
                &[&seq],
            )?;
            Ok(())
        })
    }

    fn vectors_changed_since(
        &self,
        model: &str,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, PaperVector)>, StoreError> {
        let operation = "list changed vectors";
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.read(|db| {
            db.query(
                operation,
                "SELECT seq, paper_id, text_hash, vector FROM paper_vectors \
                 WHERE model = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&model, &seq, &limit],
            )
        })?;
        rows.iter()
            .map(|row| {
                let err = |e| StoreError::database(operation, e);
                let seq: i64 = row.try_get(0).map_err(err)?;
                let id: &str = row.try_get(1).map_err(err)?;
                let seq = non_negative(id, "paper_vectors.seq", seq)?;
                let text_hash: Vec<u8> = row.try_get(2).map_err(err)?;
                let vector: &[u8] = row.try_get(3).map_err(err)?;
                Ok((seq, paper_vector(id, text_hash, vector)?))
            })
            .collect()
    }

    fn paper_vector(&self, model: &str, id: &ArxivId) -> Result<Option<PaperVector>, StoreError> {
        let operation = "read a vector";
        let row = self.read(|db| {
            db.query_opt(
                operation,
                "SELECT text_hash, vector FROM paper_vectors WHERE model = $1 AND paper_id = $2",
                &[&model, &id.as_str()],
            )
        })?;
        row.map(|row| {
            let err = |e| StoreError::database(operation, e);
            let text_hash: Vec<u8> = row.try_get(0).map_err(err)?;
            let vector: &[u8] = row.try_get(1).map_err(err)?;
            paper_vector(id.as_str(), text_hash, vector)
        })
        .transpose()
    }

    fn vector_seq(&self) -> Result<u64, StoreError> {
        let seq: i64 = self.read(|db| {
            db.value(
                "read the vector sequence",
                "SELECT value FROM meta WHERE key = 'vector_seq'",
                &[],
            )
        })?;
        non_negative("", "meta.vector_seq", seq)
    }

    fn vector_stats(&self, model: &str) -> Result<VectorStats, StoreError> {
        let operation = "count vectors";
        // One statement, so both counts come from one snapshot.
        let row = self.read(|db| {
            db.query_one(
                operation,
                "SELECT (SELECT COUNT(*) FROM paper_vectors WHERE model = $1), \
                        (SELECT COUNT(*) FROM papers)",
                &[&model],
            )
        })?;
        let err = |e| StoreError::database(operation, e);
        Ok(VectorStats {
            vectors: count(row.try_get(0).map_err(err)?),
            papers: count(row.try_get(1).map_err(err)?),
        })
    }
}

/// Locks the `vector_seq` row of `meta` until the transaction ends and
/// reads it: the last vector number handed out. A second writer waits here
/// and then reads the number the first one committed (READ COMMITTED
/// re-reads a row it waited for).
fn lock_vector_seq(db: &mut Db<'_, Transaction<'_>>) -> Result<i64, StoreError> {
    db.value(
        "lock the vector sequence",
        "SELECT value FROM meta WHERE key = 'vector_seq' FOR UPDATE",
        &[],
    )
}

/// The dimension of the model's stored vectors, `None` when it has none.
fn stored_dimension(
    db: &mut Db<'_, Transaction<'_>>,
    model: &str,
) -> Result<Option<usize>, StoreError> {
    let operation = "read a vector's dimension";
    let row = db.query_opt(
        operation,
        "SELECT octet_length(vector)::BIGINT FROM paper_vectors WHERE model = $1 LIMIT 1",
        &[&model],
    )?;
    row.map(|row| {
        let bytes: i64 = row
            .try_get(0)
            .map_err(|e| StoreError::database(operation, e))?;
        Ok(usize::try_from(bytes / 4).unwrap_or(0))
    })
    .transpose()
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

fn paper_vector(id: &str, text_hash: Vec<u8>, vector: &[u8]) -> Result<PaperVector, StoreError> {
    let Some(vector) = decode_vector(vector) else {
        return Err(StoreError::Corrupt {
            paper_id: id.to_owned(),
            field: "paper_vectors.vector",
            message: format!("{} bytes is not a whole number of f32s", vector.len()),
        });
    };
    Ok(PaperVector {
        id: paper_id(id)?,
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
