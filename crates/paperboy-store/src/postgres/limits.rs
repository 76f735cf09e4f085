//! [`Limits`] on PostgreSQL: table `rate_hits`, one row per counted
//! attempt. Nodes counting against the same key take turns on an advisory
//! lock of that key (class [`RATE_LOCKS`]), so checking and counting stay
//! one step across nodes.

use chrono::{DateTime, Duration, Utc};

use super::PgStore;
use crate::codec::{format_time, parse_time};
use crate::{Limits, StoreError};

/// The first half of the two-number advisory locks taken per (kind, key);
/// the second is a hash of both. Two-number locks never meet the
/// one-number locks of `Lock`.
const RATE_LOCKS: i32 = 0x7062_0003;

impl Limits for PgStore {
    fn hit_limit(
        &self,
        kind: &str,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
        max: u32,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let operation = "count an attempt";
        self.write(operation, |db| {
            db.execute(
                operation,
                "SELECT pg_advisory_xact_lock($1, hashtext($2 || ' ' || $3))",
                &[&RATE_LOCKS, &kind, &key],
            )?;
            // Every attempt of this kind that left its window.
            db.execute(
                operation,
                "DELETE FROM rate_hits WHERE kind = $1 AND at <= $2",
                &[&kind, &format_time(now - window)],
            )?;
            let row = db.query_one(
                operation,
                "SELECT count(*), min(at) FROM rate_hits WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )?;
            let corrupt = |message: String| StoreError::CorruptRow {
                table: "rate_hits",
                key: kind.to_owned(),
                field: "at",
                message,
            };
            let count: i64 = row.try_get(0).map_err(|e| corrupt(e.to_string()))?;
            if count >= i64::from(max) {
                let oldest: Option<String> = row.try_get(1).map_err(|e| corrupt(e.to_string()))?;
                let oldest = oldest
                    .as_deref()
                    .map(parse_time)
                    .transpose()
                    .map_err(corrupt)?;
                return Ok(Some(oldest.unwrap_or(now) + window));
            }
            db.execute(
                operation,
                "INSERT INTO rate_hits (kind, key, at) VALUES ($1, $2, $3)",
                &[&kind, &key, &format_time(now)],
            )?;
            Ok(None)
        })
    }

    fn forget_hit(&self, kind: &str, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let operation = "take back an attempt";
        self.read(|db| {
            db.execute(
                operation,
                "DELETE FROM rate_hits WHERE id = (SELECT id FROM rate_hits \
                 WHERE kind = $1 AND key = $2 AND at = $3 ORDER BY id DESC LIMIT 1)",
                &[&kind, &key, &format_time(at)],
            )
            .map(drop)
        })
    }
}
