//! Rate limits kept in the database, so that every app node counts the
//! same attempts (logins, sign-ups, subscription requests) and a restart
//! forgets nothing. What an attempt is counted against (a client address,
//! an account, an email address) arrives as an opaque key: the web layer
//! hashes it first, so none is kept in clear.

use chrono::{DateTime, Duration, Utc};

use crate::StoreError;

/// Sliding windows of attempts.
pub trait Limits {
    /// Counts an attempt of `kind` against `key` at `now`, unless `max`
    /// were counted in the `window` before `now` (an attempt counted at
    /// exactly `now - window` has left it): then it is not counted, and the
    /// answer is when the oldest of those leaves the window. Checking and
    /// counting is one step: attempts at the same moment, on any node,
    /// cannot slip past the limit together. Attempts that left their window
    /// are forgotten on the way.
    fn hit_limit(
        &self,
        kind: &str,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
        max: u32,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Takes back one attempt of `kind` against `key` counted at `at` (a
    /// login that succeeded); nothing when there is none.
    fn forget_hit(&self, kind: &str, key: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
}
