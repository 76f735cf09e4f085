//! Papers in your inbox: digests of trending papers, saved-search alerts and
//! confirmation mails, delivered from a durable outbox in the database.
//!
//! - [`content`]: what a message says, frozen when it is queued (editions,
//!   payloads, stable keys).
//! - [`schedule`]: the scheduler — queues due digests (each subscriber at
//!   their local send time) and matches new papers against saved searches.
//! - [`render`]: a queued message → the exact MIME message (plain text +
//!   HTML, unsubscribe headers, stable Message-ID); the same message renders
//!   to the same bytes every time.
//! - [`smtp`] and [`deliver`]: the sender — claims messages, sends them over
//!   SMTP (lettre, pooled), retries temporary failures with backoff, records
//!   permanent ones and pauses subscriptions that keep bouncing.

pub mod content;
pub mod deliver;
pub mod render;
pub mod schedule;
pub mod smtp;
