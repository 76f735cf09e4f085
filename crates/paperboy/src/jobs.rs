//! Background jobs shared by every process on one database: embedding,
//! digest scheduling and harvests run in one process at a time, the holder
//! of the job's lease ([`paperboy_store::Jobs`]). A holder renews its lease
//! as it works; when a process dies, its lease runs out and another takes
//! the job over.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use paperboy_store::{Store, StoreError};

/// A lease on one job, asked for by this process.
pub struct Lease<'s> {
    store: &'s dyn Store,
    job: String,
    ttl: Duration,
}

impl<'s> Lease<'s> {
    /// The lease on `job`, valid `ttl` past each [`Lease::hold`].
    pub fn new(store: &'s dyn Store, job: impl Into<String>, ttl: Duration) -> Lease<'s> {
        Lease {
            store,
            job: job.into(),
            ttl,
        }
    }

    /// Takes the lease or renews it; whether this process holds it now.
    pub fn hold(&self) -> Result<bool, StoreError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX);
        self.store
            .try_lease(&self.job, this_process(), now, now + ttl)
    }

    /// Gives the lease up (at the end of a run), so that another process
    /// need not wait for it to run out.
    pub fn release(&self) {
        if let Err(error) = self.store.release_lease(&self.job, this_process()) {
            tracing::warn!(job = %self.job, %error, "cannot release a job lease; it will run out");
        }
    }
}

/// This process's name as a lease holder: host, process id and a random
/// part (two processes never share it, even across restarts).
pub fn this_process() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_string());
        // std's hash keys are random per process.
        let suffix = RandomState::new().build_hasher().finish() as u32;
        format!("{host}:{}:{suffix:08x}", std::process::id())
    })
}
