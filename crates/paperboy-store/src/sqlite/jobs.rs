//! [`Jobs`] on SQLite: one row per job in `job_leases`.

use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::rows::format_time;
use crate::{Jobs, StoreError};

impl Jobs for SqliteStore {
    fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write("take a job lease", |tx| {
            tx.prepare_cached(
                "INSERT INTO job_leases (job, holder, until) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                 WHERE job_leases.holder = excluded.holder OR job_leases.until <= ?4",
            )
            .and_then(|mut stmt| stmt.execute((job, holder, format_time(until), format_time(now))))
            .map(|changed| changed == 1)
            .map_err(|e| StoreError::database("take a job lease", e))
        })
    }

    fn release_lease(&self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.write("release a job lease", |tx| {
            tx.prepare_cached("DELETE FROM job_leases WHERE job = ?1 AND holder = ?2")
                .and_then(|mut stmt| stmt.execute((job, holder)))
                .map(drop)
                .map_err(|e| StoreError::database("release a job lease", e))
        })
    }
}
