//! [`Limits`] on SQLite: table `rate_hits`, one row per counted attempt;
//! the single writer makes checking and counting one step.

use chrono::{DateTime, Duration, Utc};
use rusqlite::OptionalExtension;

use super::SqliteStore;
use crate::codec::{format_time, parse_time};
use crate::{Limits, StoreError};

impl Limits for SqliteStore {
    fn hit_limit(
        &self,
        kind: &str,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
        max: u32,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let operation = "count an attempt";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            // Every attempt of this kind that left its window: each row is
            // deleted once, so this stays small.
            tx.prepare_cached("DELETE FROM rate_hits WHERE kind = ?1 AND at <= ?2")
                .and_then(|mut stmt| stmt.execute((kind, format_time(now - window))))
                .map_err(err)?;
            let (count, oldest): (i64, Option<String>) = tx
                .prepare_cached(
                    "SELECT count(*), min(at) FROM rate_hits WHERE kind = ?1 AND key = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.query_row((kind, key), |row| Ok((row.get(0)?, row.get(1)?)))
                })
                .map_err(err)?;
            if count >= i64::from(max) {
                let oldest = oldest
                    .as_deref()
                    .map(parse_time)
                    .transpose()
                    .map_err(|message| StoreError::CorruptRow {
                        table: "rate_hits",
                        key: kind.to_owned(),
                        field: "at",
                        message,
                    })?;
                return Ok(Some(oldest.unwrap_or(now) + window));
            }
            tx.prepare_cached("INSERT INTO rate_hits (kind, key, at) VALUES (?1, ?2, ?3)")
                .and_then(|mut stmt| stmt.execute((kind, key, format_time(now))))
                .map_err(err)?;
            Ok(None)
        })
    }

    fn forget_hit(&self, kind: &str, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let operation = "take back an attempt";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let id: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM rate_hits WHERE kind = ?1 AND key = ?2 AND at = ?3 \
                     ORDER BY id DESC LIMIT 1",
                )
                .and_then(|mut stmt| {
                    stmt.query_row((kind, key, format_time(at)), |row| row.get(0))
                        .optional()
                })
                .map_err(err)?;
            if let Some(id) = id {
                tx.prepare_cached("DELETE FROM rate_hits WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute([id]))
                    .map_err(err)?;
            }
            Ok(())
        })
    }
}
