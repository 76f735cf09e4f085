//! Background jobs coordinated through the database: when several
//! processes (app nodes) run the same job — embedding papers, queueing
//! digests, harvesting a source — one of them holds the job's lease and does
//! the work; the others wait. A lease that is not renewed runs out, so the
//! job of a process that died is taken over by another.

use chrono::{DateTime, Utc};

use crate::StoreError;

/// Leases on named jobs.
pub trait Jobs {
    /// Takes the lease on `job` for `holder` until `until`, or renews it, when
    /// the job is free, its lease ran out (at `now`), or `holder` holds it
    /// already; whether `holder` holds it now. One statement: two processes
    /// asking at once never both get it.
    fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Gives up `holder`'s lease on `job` (nothing when another holds it).
    fn release_lease(&self, job: &str, holder: &str) -> Result<(), StoreError>;
}
