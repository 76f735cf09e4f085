//! [`Jobs`] on PostgreSQL: one row per job in `job_leases`; the upsert's
//! row lock decides between nodes asking at the same moment.

use chrono::{DateTime, Utc};

use super::PgStore;
use crate::codec::format_time;
use crate::{Jobs, StoreError};

impl Jobs for PgStore {
    fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.read(|db| {
            db.execute(
                "take a job lease",
                "INSERT INTO job_leases (job, holder, until) VALUES ($1, $2, $3) \
                 ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                 WHERE job_leases.holder = excluded.holder OR job_leases.until <= $4",
                &[&job, &holder, &format_time(until), &format_time(now)],
            )
            .map(|changed| changed == 1)
        })
    }

    fn release_lease(&self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.read(|db| {
            db.execute(
                "release a job lease",
                "DELETE FROM job_leases WHERE job = $1 AND holder = $2",
                &[&job, &holder],
            )
            .map(drop)
        })
    }
}
