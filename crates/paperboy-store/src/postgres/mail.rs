//! [`Mail`] on PostgreSQL: tables `subscriptions`, `mail_editions`,
//! `outbox`, `saved_searches` and `alert_matches`, as on SQLite (see
//! `sqlite/mail.rs`, whose behaviour this mirrors).
//!
//! Several nodes run the scheduler and the sender at the same moment, so
//! what SQLite gets from its single writer is spelled out here:
//!
//! - A claim hands each due message to exactly one sender: it picks the
//!   messages with `FOR UPDATE SKIP LOCKED` and leases them in the same
//!   statement; a lease that ended (its sender died) makes a message
//!   claimable again.
//! - A digest period goes out once: queuing it is a compare-and-set on the
//!   subscription's `next_due` (the second node's update finds it moved on)
//!   and the outbox key is unique (`ON CONFLICT DO NOTHING`).
//! - Editions are shared by key, alert matches are unique per (user, paper):
//!   both insert `ON CONFLICT DO NOTHING`.
//! - A read-then-write of a subscription locks its row (`FOR UPDATE`);
//!   creating one takes [`Lock::Subscriptions`] (no row to lock yet).
//!
//! Times are stored as fixed-width text ([`format_time`]) in the "C"
//! collation, so SQL compares them as instants. Editions and payloads are
//! opaque text.

use chrono::{DateTime, Utc};
use paperboy_core::mail::parse_zone;
use paperboy_core::{
    ArxivId, Cadence, EmailAddress, MessageId, SavedSearchId, Schedule, SubscriptionId, UserId,
};
use postgres::types::ToSql;
use postgres::{GenericClient, Row, Transaction};

use super::rows::RowColumns;
use super::{Db, Lock, PgStore, count};
use crate::codec::{ScheduleValues, first_due, format_time, parse_send_at};
use crate::{
    AlertDelivery, Mail, MessageKind, MessageStatus, NewMessage, NewSavedSearch, NewSubscription,
    OutboxMessage, OutboxStats, PendingAlert, SavedSearch, StoreError, SubscribeOutcome,
    Subscription, SubscriptionStatus,
};

/// The columns [`subscription_from_row`] reads, in its order.
macro_rules! subscription_columns {
    () => {
        "id, email, user_id, status, cadence, send_at, zone, papers, unsubscribe_token, \
         created_at, confirmed_at, next_due, bounces"
    };
}

/// The columns [`message_from_row`] reads, in its order (outbox `o`, its
/// edition `e`).
macro_rules! message_columns {
    () => {
        "o.id, o.key, o.kind, o.subscription_id, o.recipient, e.content, o.payload, \
         o.created_at, o.status, o.attempts, o.last_error, o.sent_at"
    };
}

/// The columns [`saved_search_from_row`] reads, in its order.
macro_rules! saved_search_columns {
    () => {
        "id, user_id, query, min_upvotes, exclude, delivery, created_at, cursor"
    };
}

const SELECT_SUBSCRIPTION_BY_ID: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE id = $1"
);

/// [`SELECT_SUBSCRIPTION_BY_ID`], locking the row for a change that depends
/// on what it says.
const LOCK_SUBSCRIPTION_BY_ID: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE id = $1 FOR UPDATE"
);

const SELECT_SUBSCRIPTION_BY_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE unsubscribe_token = $1"
);

const LOCK_SUBSCRIPTION_BY_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE unsubscribe_token = $1 FOR UPDATE"
);

const SELECT_SUBSCRIPTION_BY_EMAIL: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE email = $1"
);

const LOCK_SUBSCRIPTION_BY_EMAIL: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE email = $1 FOR UPDATE"
);

/// An account may have asked for more than one address: the active one
/// counts (it is where its alerts go), else the newest.
const SELECT_SUBSCRIPTION_OF_USER: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE user_id = $1 \
     ORDER BY status = 'active' DESC, id DESC LIMIT 1"
);

/// Locked: a second confirmation of the same token waits for the first and
/// then finds the token used (the row no longer matches).
const LOCK_PENDING_BY_CONFIRM_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE confirm_token_hash = $1 AND status = 'pending' FOR UPDATE"
);

/// Links the active subscription a link token stands for to the account
/// that asked, using the token up, in one statement (a second use finds
/// the token gone).
const LINK_BY_TOKEN: &str = concat!(
    "UPDATE subscriptions SET user_id = link_user_id, link_user_id = NULL, \
     confirm_token_hash = NULL, updated_at = $2 \
     WHERE confirm_token_hash = $1 AND status = 'active' AND link_user_id IS NOT NULL \
     RETURNING ",
    subscription_columns!()
);

const SELECT_DUE_SUBSCRIPTIONS: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions \
     WHERE status = 'active' AND next_due IS NOT NULL AND next_due <= $1 \
     ORDER BY next_due, id LIMIT $2"
);

const SELECT_MESSAGE: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM outbox o LEFT JOIN mail_editions e ON e.id = o.edition_id WHERE o.id = $1"
);

const SELECT_MESSAGES_TO: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM outbox o LEFT JOIN mail_editions e ON e.id = o.edition_id \
     WHERE o.recipient = $1 ORDER BY o.id"
);

/// Fails the claimable messages (queued, due at `$1`, not held) whose
/// subscription no longer wants them: a confirmation mail goes only to a
/// pending subscription, anything else only to an active one. Rows another
/// sender is claiming right now are skipped (it skips them too, see
/// [`CLAIM`]), so two claims never wait on each other.
const FAIL_UNWANTED: &str = "UPDATE outbox o SET status = 'failed', lease_until = NULL, \
     last_error = 'subscription is ' || s.status \
     FROM subscriptions s \
     WHERE s.id = o.subscription_id AND o.id IN (\
       SELECT u.id FROM outbox u JOIN subscriptions us ON us.id = u.subscription_id \
       WHERE u.status = 'queued' AND u.next_attempt_at <= $1 \
       AND (u.lease_until IS NULL OR u.lease_until <= $1) \
       AND us.status <> CASE u.kind WHEN 'confirm' THEN 'pending' ELSE 'active' END \
       FOR UPDATE OF u SKIP LOCKED)";

/// Claims up to `$3` queued messages due at `$1` that nobody holds, the
/// longest due first (then the oldest), holding them until `$2`, in one statement: the rows are picked
/// and locked with `SKIP LOCKED` (what another sender is claiming at this
/// moment is left to it, and the limit counts only rows this claim got),
/// and a row that another sender leased since this statement began fails
/// the re-check under its lock and is passed over. A message whose
/// subscription stopped wanting it after [`FAIL_UNWANTED`] ran is not handed
/// out either (the next claim fails it).
const CLAIM: &str = concat!(
    "WITH o AS (UPDATE outbox SET lease_until = $2, attempts = attempts + 1 \
     WHERE id IN (\
       SELECT c.id FROM outbox c \
       WHERE c.status = 'queued' AND c.next_attempt_at <= $1 \
       AND (c.lease_until IS NULL OR c.lease_until <= $1) \
       AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = c.subscription_id \
         AND s.status <> CASE c.kind WHEN 'confirm' THEN 'pending' ELSE 'active' END) \
       ORDER BY c.next_attempt_at, c.id LIMIT $3 FOR UPDATE OF c SKIP LOCKED) \
     RETURNING *) SELECT ",
    message_columns!(),
    " FROM o LEFT JOIN mail_editions e ON e.id = o.edition_id ORDER BY o.next_attempt_at, o.id"
);

/// Marks the messages `$1` sent at `$2` and resets their subscriptions'
/// bounce counts, in one statement; returns the ids it found. Rows are
/// locked in id order (and subscriptions whose count is 0 not at all), so
/// two senders marking overlapping batches cannot deadlock.
const MARK_SENT: &str = "WITH sent AS (UPDATE outbox SET status = 'sent', sent_at = $2, \
     lease_until = NULL WHERE id IN (\
       SELECT id FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE) \
     RETURNING id, subscription_id), \
     reset AS (UPDATE subscriptions SET bounces = 0 WHERE id IN (\
       SELECT id FROM subscriptions \
       WHERE id IN (SELECT subscription_id FROM sent) AND bounces <> 0 \
       ORDER BY id FOR UPDATE)) \
     SELECT id FROM sent";

const SELECT_SAVED_SEARCHES_OF: &str = concat!(
    "SELECT ",
    saved_search_columns!(),
    " FROM saved_searches WHERE user_id = $1 ORDER BY id"
);

const SELECT_ACTIVE_SAVED_SEARCHES: &str = concat!(
    "SELECT ",
    saved_search_columns!(),
    " FROM saved_searches s WHERE EXISTS (SELECT 1 FROM subscriptions sub \
     WHERE sub.user_id = s.user_id AND sub.status = 'active') ORDER BY s.id"
);

/// Saves a search of an existing user, matching from the change sequence
/// as this statement reads it: a change committed later has a higher
/// number (changes are numbered in commit order, see
/// [`PgStore::write_changes`]), so none slips past the search. No row when
/// the user does not exist.
const INSERT_SAVED_SEARCH: &str = concat!(
    "INSERT INTO saved_searches \
     (user_id, query, min_upvotes, exclude, delivery, created_at, cursor) \
     SELECT $1, $2, $3, $4, $5, $6, (SELECT value FROM meta WHERE key = 'change_seq') \
     WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) RETURNING ",
    saved_search_columns!()
);

impl Mail for PgStore {
    fn subscribe(
        &self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<SubscribeOutcome, StoreError> {
        let operation = "record a subscription";
        self.write(operation, |db| {
            // A new address has no row to lock: two nodes subscribing it at
            // once take turns, the second finds the first's row.
            db.lock(Lock::Subscriptions)?;
            let schedule = ScheduleValues::new(&new.schedule);
            let now = format_time(now);
            let papers = i64::from(new.papers);
            let user = new.user.map(|u| u.0);
            let existing = find_subscription(
                db,
                LOCK_SUBSCRIPTION_BY_EMAIL,
                &new.email.as_str(),
                operation,
            )?;
            let row = match existing {
                Some(existing) if existing.status == SubscriptionStatus::Active => {
                    let Some(user) = new.user.filter(|&user| existing.user != Some(user)) else {
                        return Ok(SubscribeOutcome::AlreadyActive(existing));
                    };
                    let row = db.query_one(
                        operation,
                        concat!(
                            "UPDATE subscriptions SET confirm_token_hash = $2, link_user_id = $3, \
                             updated_at = $4 WHERE id = $1 RETURNING ",
                            subscription_columns!()
                        ),
                        &[&existing.id.0, &new.confirm_token_hash, &user.0, &now],
                    )?;
                    return subscription_from_row(&row).map(SubscribeOutcome::LinkRequested);
                }
                Some(existing) => db.query_one(
                    operation,
                    concat!(
                        "UPDATE subscriptions SET status = 'pending', confirm_token_hash = $2, \
                         cadence = $3, send_at = $4, zone = $5, papers = $6, \
                         user_id = COALESCE($7, user_id), confirmed_at = NULL, \
                         next_due = NULL, link_user_id = NULL, updated_at = $8 \
                         WHERE id = $1 RETURNING ",
                        subscription_columns!()
                    ),
                    &[
                        &existing.id.0,
                        &new.confirm_token_hash,
                        &schedule.cadence,
                        &schedule.send_at,
                        &schedule.zone,
                        &papers,
                        &user,
                        &now,
                    ],
                )?,
                None => db.query_one(
                    operation,
                    concat!(
                        "INSERT INTO subscriptions (email, user_id, status, cadence, send_at, \
                         zone, papers, confirm_token_hash, unsubscribe_token, created_at, \
                         updated_at) VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $9) \
                         RETURNING ",
                        subscription_columns!()
                    ),
                    &[
                        &new.email.as_str(),
                        &user,
                        &schedule.cadence,
                        &schedule.send_at,
                        &schedule.zone,
                        &papers,
                        &new.confirm_token_hash,
                        &new.unsubscribe_token,
                        &now,
                    ],
                )?,
            };
            subscription_from_row(&row).map(SubscribeOutcome::Pending)
        })
    }

    fn confirm_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "confirm a subscription";
        self.write(operation, |db| {
            let Some(pending) =
                find_subscription(db, LOCK_PENDING_BY_CONFIRM_TOKEN, &token_hash, operation)?
            else {
                return Ok(None);
            };
            let next_due = first_due(&pending.schedule, now);
            let row = db.query_one(
                operation,
                concat!(
                    "UPDATE subscriptions SET status = 'active', confirmed_at = $2, \
                     confirm_token_hash = NULL, link_user_id = NULL, bounces = 0, \
                     next_due = $3, updated_at = $2 WHERE id = $1 RETURNING ",
                    subscription_columns!()
                ),
                &[&pending.id.0, &format_time(now), &next_due],
            )?;
            subscription_from_row(&row).map(Some)
        })
    }

    fn link_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "link a subscription to an account";
        self.write(operation, |db| {
            find_subscription_with(
                db,
                LINK_BY_TOKEN,
                &[&token_hash, &format_time(now)],
                operation,
            )
        })
    }

    fn unsubscribe(
        &self,
        unsubscribe_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "unsubscribe";
        self.write(operation, |db| {
            let Some(before) = find_subscription(
                db,
                LOCK_SUBSCRIPTION_BY_TOKEN,
                &unsubscribe_token,
                operation,
            )?
            else {
                return Ok(None);
            };
            if before.status != SubscriptionStatus::Unsubscribed {
                // The confirmation token goes too: leaving ends a pending
                // request as well.
                db.execute(
                    operation,
                    "UPDATE subscriptions SET status = 'unsubscribed', next_due = NULL, \
                     confirm_token_hash = NULL, link_user_id = NULL, updated_at = $2 \
                     WHERE id = $1",
                    &[&before.id.0, &format_time(now)],
                )?;
            }
            Ok(Some(before))
        })
    }

    fn subscription(&self, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.read(|db| {
            find_subscription(db, SELECT_SUBSCRIPTION_BY_ID, &id.0, "read a subscription")
        })
    }

    fn subscription_by_token(
        &self,
        unsubscribe_token: &str,
    ) -> Result<Option<Subscription>, StoreError> {
        self.read(|db| {
            find_subscription(
                db,
                SELECT_SUBSCRIPTION_BY_TOKEN,
                &unsubscribe_token,
                "read a subscription",
            )
        })
    }

    fn subscription_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Subscription>, StoreError> {
        self.read(|db| {
            find_subscription(
                db,
                SELECT_SUBSCRIPTION_BY_EMAIL,
                &email.as_str(),
                "read a subscription",
            )
        })
    }

    fn subscription_of_user(&self, user: UserId) -> Result<Option<Subscription>, StoreError> {
        self.read(|db| {
            find_subscription(
                db,
                SELECT_SUBSCRIPTION_OF_USER,
                &user.0,
                "read a subscription",
            )
        })
    }

    fn update_subscription(
        &self,
        id: SubscriptionId,
        schedule: &Schedule,
        papers: u32,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        let operation = "change a subscription";
        self.write(operation, |db| {
            // Locked: the due time follows from the status, which a
            // confirmation or an unsubscription may be changing.
            let stored = find_subscription(db, LOCK_SUBSCRIPTION_BY_ID, &id.0, operation)?
                .ok_or(StoreError::SubscriptionNotFound { id: id.0 })?;
            let next_due = match stored.status {
                SubscriptionStatus::Active => first_due(schedule, now),
                _ => None,
            };
            let values = ScheduleValues::new(schedule);
            let row = db.query_one(
                operation,
                concat!(
                    "UPDATE subscriptions SET cadence = $2, send_at = $3, zone = $4, \
                     papers = $5, next_due = $6, updated_at = $7 WHERE id = $1 RETURNING ",
                    subscription_columns!()
                ),
                &[
                    &id.0,
                    &values.cadence,
                    &values.send_at,
                    &values.zone,
                    &i64::from(papers),
                    &next_due,
                    &format_time(now),
                ],
            )?;
            subscription_from_row(&row)
        })
    }

    fn due_subscriptions(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.read(|db| {
            db.query(
                "list due subscriptions",
                SELECT_DUE_SUBSCRIPTIONS,
                &[&format_time(now), &sql_limit(limit)],
            )?
            .iter()
            .map(subscription_from_row)
            .collect()
        })
    }

    fn put_edition(&self, key: &str, content: &str) -> Result<i64, StoreError> {
        let operation = "store a mail edition";
        self.write(operation, |db| {
            // Two statements: when another node stores the same key at this
            // moment, the insert waits for it and does nothing, and only a
            // statement begun after that sees its row.
            db.execute(
                operation,
                "INSERT INTO mail_editions (key, content) VALUES ($1, $2) \
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &content],
            )?;
            db.value(
                operation,
                "SELECT id FROM mail_editions WHERE key = $1",
                &[&key],
            )
        })
    }

    fn queue_digest(
        &self,
        subscription: SubscriptionId,
        message: Option<&NewMessage>,
        due: DateTime<Utc>,
        next_due: Option<DateTime<Utc>>,
        folded: &[ArxivId],
    ) -> Result<bool, StoreError> {
        let operation = "queue a digest";
        self.write(operation, |db| {
            // The compare-and-set that makes a period go out once, however
            // many nodes run: a second node's update waits for the first's
            // row lock, re-reads the row, finds `next_due` moved on and
            // changes nothing. Only the one that moves it queues anything.
            let moved = db.query_opt(
                operation,
                "UPDATE subscriptions SET next_due = $3 \
                 WHERE id = $1 AND status = 'active' AND next_due = $2 RETURNING user_id",
                &[
                    &subscription.0,
                    &format_time(due),
                    &next_due.map(format_time),
                ],
            )?;
            let Some(moved) = moved else {
                return Ok(false);
            };
            let Some(message) = message else {
                return Ok(true);
            };
            let id = match insert_message(db, message, operation)? {
                Some(id) => id,
                None => message_id_of_key(db, &message.key, operation)?,
            };
            let user: Option<i64> = moved
                .try_get(0)
                .map_err(|e| StoreError::database(operation, e))?;
            if let Some(user) = user {
                mark_alerts_sent(db, UserId(user), folded, id, operation)?;
            }
            Ok(true)
        })
    }

    fn queue_message(
        &self,
        message: &NewMessage,
        alerts_of: Option<UserId>,
        alerts: &[ArxivId],
    ) -> Result<Option<MessageId>, StoreError> {
        let operation = "queue a message";
        self.write(operation, |db| {
            let Some(id) = insert_message(db, message, operation)? else {
                return Ok(None);
            };
            if let Some(user) = alerts_of {
                mark_alerts_sent(db, user, alerts, id, operation)?;
            }
            Ok(Some(id))
        })
    }

    fn count_messages_to(
        &self,
        recipient: &EmailAddress,
        kind: MessageKind,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let n: i64 = self.read(|db| {
            db.value(
                "count messages to an address",
                "SELECT COUNT(*) FROM outbox \
                 WHERE recipient = $1 AND kind = $2 AND created_at >= $3",
                &[&recipient.as_str(), &kind.as_str(), &format_time(since)],
            )
        })?;
        Ok(count(n))
    }

    fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let operation = "claim messages to send";
        self.write(operation, |db| {
            let now = format_time(now);
            // First, so that `limit` counts only messages handed out.
            db.execute(operation, FAIL_UNWANTED, &[&now])?;
            db.query(
                operation,
                CLAIM,
                &[&now, &format_time(lease_until), &sql_limit(limit)],
            )?
            .iter()
            .map(message_from_row)
            .collect()
        })
    }

    fn mark_sent(&self, ids: &[MessageId], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let operation = "mark messages sent";
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.write(operation, |db| {
            let found: Vec<i64> = db
                .query(operation, MARK_SENT, &[&wanted, &format_time(now)])?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError::database(operation, e))?;
            // An unknown id: the error rolls the whole batch back.
            match wanted.iter().find(|id| !found.contains(id)) {
                Some(&id) => Err(StoreError::MessageNotFound { id }),
                None => Ok(()),
            }
        })
    }

    fn mark_retry(
        &self,
        id: MessageId,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let operation = "put a message back for a retry";
        self.write(operation, |db| {
            // A message settled meanwhile (another sender whose claim
            // followed an ended lease) stays as it is.
            let released = db.execute(
                operation,
                "UPDATE outbox SET lease_until = NULL, next_attempt_at = $2, last_error = $3 \
                 WHERE id = $1 AND status = 'queued'",
                &[&id.0, &format_time(retry_at), &error],
            )?;
            if released == 0 {
                require_message(db, id, operation)?;
            }
            Ok(())
        })
    }

    fn mark_failed(
        &self,
        id: MessageId,
        error: &str,
        now: DateTime<Utc>,
        bounce: Option<u32>,
    ) -> Result<bool, StoreError> {
        let operation = "mark a message failed";
        self.write(operation, |db| {
            // Counted once: a message failed already (here, or by another
            // node at this moment: the update waits and then finds it
            // failed) changes nothing, so it is no second bounce.
            let failed = db.query_opt(
                operation,
                "UPDATE outbox SET status = 'failed', last_error = $2, lease_until = NULL \
                 WHERE id = $1 AND status <> 'failed' RETURNING subscription_id",
                &[&id.0, &error],
            )?;
            let Some(failed) = failed else {
                require_message(db, id, operation)?;
                return Ok(false);
            };
            let subscription: Option<i64> = failed
                .try_get(0)
                .map_err(|e| StoreError::database(operation, e))?;
            let (Some(subscription), Some(pause_after)) = (subscription, bounce) else {
                return Ok(false);
            };
            db.execute(
                operation,
                "UPDATE subscriptions SET bounces = bounces + 1 WHERE id = $1",
                &[&subscription],
            )?;
            // The row stays locked by the update above until commit, so the
            // count read here is this transaction's.
            let paused = db.execute(
                operation,
                "UPDATE subscriptions SET status = 'paused', next_due = NULL, updated_at = $3 \
                 WHERE id = $1 AND status = 'active' AND bounces >= $2",
                &[&subscription, &i64::from(pause_after), &format_time(now)],
            )?;
            Ok(paused > 0)
        })
    }

    fn message(&self, id: MessageId) -> Result<Option<OutboxMessage>, StoreError> {
        self.read(|db| {
            db.query_opt("read a message", SELECT_MESSAGE, &[&id.0])?
                .as_ref()
                .map(message_from_row)
                .transpose()
        })
    }

    fn messages_to(&self, recipient: &EmailAddress) -> Result<Vec<OutboxMessage>, StoreError> {
        self.read(|db| {
            db.query(
                "read the messages to an address",
                SELECT_MESSAGES_TO,
                &[&recipient.as_str()],
            )?
            .iter()
            .map(message_from_row)
            .collect()
        })
    }

    fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let operation = "count the outbox";
        let row = self.read(|db| {
            db.query_one(
                operation,
                "SELECT COUNT(*) FILTER (WHERE status = 'queued'), \
                 COUNT(*) FILTER (WHERE status = 'sent'), \
                 COUNT(*) FILTER (WHERE status = 'failed') FROM outbox",
                &[],
            )
        })?;
        let at = |index: usize| -> Result<u64, StoreError> {
            row.try_get(index)
                .map(count)
                .map_err(|e| StoreError::database(operation, e))
        };
        Ok(OutboxStats {
            queued: at(0)?,
            sent: at(1)?,
            failed: at(2)?,
        })
    }

    fn add_saved_search(
        &self,
        new: &NewSavedSearch,
        now: DateTime<Utc>,
    ) -> Result<SavedSearch, StoreError> {
        let operation = "save a search";
        let exclude =
            serde_json::to_string(&new.exclude).map_err(|e| StoreError::database(operation, e))?;
        self.write(operation, |db| {
            let row = db.query_opt(
                operation,
                INSERT_SAVED_SEARCH,
                &[
                    &new.user.0,
                    &new.query,
                    &i64::from(new.min_upvotes),
                    &exclude,
                    &new.delivery.as_str(),
                    &format_time(now),
                ],
            )?;
            match row {
                Some(row) => saved_search_from_row(&row),
                None => Err(StoreError::NotAllowed {
                    reason: "the user does not exist",
                }),
            }
        })
    }

    fn saved_searches_of(&self, user: UserId) -> Result<Vec<SavedSearch>, StoreError> {
        self.read(|db| saved_searches(db, SELECT_SAVED_SEARCHES_OF, &[&user.0]))
    }

    fn active_saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        self.read(|db| saved_searches(db, SELECT_ACTIVE_SAVED_SEARCHES, &[]))
    }

    fn delete_saved_search(&self, id: SavedSearchId, user: UserId) -> Result<(), StoreError> {
        let operation = "delete a saved search";
        self.write(operation, |db| {
            // Locked first: matches being recorded for it at this moment
            // (which hold a share lock on it) are committed before its
            // pending matches are deleted, so none is left behind.
            let owner = db.query_opt(
                operation,
                "SELECT user_id FROM saved_searches WHERE id = $1 FOR UPDATE",
                &[&id.0],
            )?;
            let Some(owner) = owner else {
                return Ok(());
            };
            let owner: i64 = owner
                .try_get(0)
                .map_err(|e| StoreError::database(operation, e))?;
            if owner != user.0 {
                return Err(StoreError::NotAllowed {
                    reason: "only its owner can delete a saved search",
                });
            }
            // Its pending matches go with it; those already mailed stay
            // (search_id NULL), so the paper is never sent again.
            db.execute(
                operation,
                "DELETE FROM alert_matches WHERE search_id = $1 AND message_id IS NULL",
                &[&id.0],
            )?;
            db.execute(
                operation,
                "DELETE FROM saved_searches WHERE id = $1",
                &[&id.0],
            )?;
            Ok(())
        })
    }

    fn record_alert_matches(
        &self,
        search: SavedSearchId,
        papers: &[ArxivId],
        cursor: u64,
    ) -> Result<u64, StoreError> {
        let operation = "record a saved search's matches";
        let papers: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
        self.write(operation, |db| {
            // Share-locked: a deletion of the search waits until these
            // matches are in (and then deletes them with it); one that came
            // first leaves no row to lock.
            let owner = db.query_opt(
                operation,
                "SELECT user_id FROM saved_searches WHERE id = $1 FOR SHARE",
                &[&search.0],
            )?;
            let Some(owner) = owner else {
                // Deleted while its matches were being looked for.
                return Ok(0);
            };
            let user: i64 = owner
                .try_get(0)
                .map_err(|e| StoreError::database(operation, e))?;
            let missing: Option<String> = db
                .query_opt(
                    operation,
                    "SELECT t.id FROM unnest($1::text[]) WITH ORDINALITY AS t (id, n) \
                     WHERE NOT EXISTS (SELECT 1 FROM papers p WHERE p.id = t.id) \
                     ORDER BY t.n LIMIT 1",
                    &[&papers],
                )?
                .map(|row| row.try_get(0))
                .transpose()
                .map_err(|e| StoreError::database(operation, e))?;
            if let Some(missing) = missing {
                return Err(StoreError::PaperNotFound {
                    id: ArxivId::parse(&missing)
                        .map(|v| v.id)
                        .map_err(|e| StoreError::database(operation, e))?,
                });
            }
            // In the order given (the match ids order pending alerts); a
            // paper the user has, from any search or another node at this
            // moment, is not recorded again.
            let added = db.execute(
                operation,
                "INSERT INTO alert_matches (user_id, paper_id, search_id) \
                 SELECT $1, t.id, $3 FROM unnest($2::text[]) WITH ORDINALITY AS t (id, n) \
                 ORDER BY t.n ON CONFLICT (user_id, paper_id) DO NOTHING",
                &[&user, &papers, &search.0],
            )?;
            db.execute(
                operation,
                "UPDATE saved_searches SET cursor = GREATEST(cursor, $2) WHERE id = $1",
                &[&search.0, &i64::try_from(cursor).unwrap_or(i64::MAX)],
            )?;
            Ok(added)
        })
    }

    fn pending_alerts(&self, user: UserId) -> Result<Vec<PendingAlert>, StoreError> {
        let rows = self.read(|db| {
            db.query(
                "read pending alerts",
                "SELECT m.id, m.paper_id, m.search_id, s.query, s.delivery \
                 FROM alert_matches m JOIN saved_searches s ON s.id = m.search_id \
                 WHERE m.user_id = $1 AND m.message_id IS NULL ORDER BY m.id",
                &[&user.0],
            )
        })?;
        rows.iter()
            .map(|row| {
                let key: i64 = row
                    .try_get(0)
                    .map_err(|e| corrupt_key("alert_matches", "id", e))?;
                let c = RowColumns {
                    row,
                    table: "alert_matches",
                    key: key.to_string(),
                };
                let paper: &str = c.get(1, "paper_id")?;
                let delivery: &str = c.get(4, "saved_searches.delivery")?;
                Ok(PendingAlert {
                    paper: ArxivId::parse(paper)
                        .map(|v| v.id)
                        .map_err(|e| c.corrupt("paper_id", e))?,
                    search: SavedSearchId(c.get(2, "search_id")?),
                    query: c.get(3, "saved_searches.query")?,
                    delivery: parse_delivery(delivery)
                        .ok_or_else(|| c.corrupt("saved_searches.delivery", unknown(delivery)))?,
                })
            })
            .collect()
    }

    fn users_with_pending_alerts(
        &self,
        delivery: AlertDelivery,
    ) -> Result<Vec<UserId>, StoreError> {
        let operation = "list users with pending alerts";
        self.read(|db| {
            db.query(
                operation,
                "SELECT DISTINCT m.user_id \
                 FROM alert_matches m JOIN saved_searches s ON s.id = m.search_id \
                 WHERE m.message_id IS NULL AND s.delivery = $1 ORDER BY m.user_id",
                &[&delivery.as_str()],
            )?
            .iter()
            .map(|row| {
                row.try_get(0)
                    .map(UserId)
                    .map_err(|e| StoreError::database(operation, e))
            })
            .collect()
        })
    }
}

/// A `LIMIT` as bound: PostgreSQL has no unsigned integers.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn unknown(text: &str) -> String {
    format!("unknown value {text:?}")
}

/// A row whose key itself cannot be read.
fn corrupt_key(table: &'static str, field: &'static str, e: postgres::Error) -> StoreError {
    StoreError::CorruptRow {
        table,
        key: String::new(),
        field,
        message: e.to_string(),
    }
}

fn email_at(
    c: &RowColumns<'_>,
    index: usize,
    field: &'static str,
) -> Result<EmailAddress, StoreError> {
    let text: &str = c.get(index, field)?;
    EmailAddress::parse(text).map_err(|e| c.corrupt(field, e))
}

fn parse_status(text: &str) -> Option<SubscriptionStatus> {
    match text {
        "pending" => Some(SubscriptionStatus::Pending),
        "active" => Some(SubscriptionStatus::Active),
        "paused" => Some(SubscriptionStatus::Paused),
        "unsubscribed" => Some(SubscriptionStatus::Unsubscribed),
        _ => None,
    }
}

fn parse_message_status(text: &str) -> Option<MessageStatus> {
    match text {
        "queued" => Some(MessageStatus::Queued),
        "sent" => Some(MessageStatus::Sent),
        "failed" => Some(MessageStatus::Failed),
        _ => None,
    }
}

fn parse_delivery(text: &str) -> Option<AlertDelivery> {
    match text {
        "immediate" => Some(AlertDelivery::Immediate),
        "digest" => Some(AlertDelivery::Digest),
        _ => None,
    }
}

/// Decodes the [`subscription_columns!`].
fn subscription_from_row(row: &Row) -> Result<Subscription, StoreError> {
    let id: i64 = row
        .try_get(0)
        .map_err(|e| corrupt_key("subscriptions", "id", e))?;
    let c = RowColumns {
        row,
        table: "subscriptions",
        key: id.to_string(),
    };
    let status: &str = c.get(3, "status")?;
    let cadence: &str = c.get(4, "cadence")?;
    let send_at: &str = c.get(5, "send_at")?;
    let zone: &str = c.get(6, "zone")?;
    Ok(Subscription {
        id: SubscriptionId(id),
        email: email_at(&c, 1, "email")?,
        user: c.get::<Option<i64>>(2, "user_id")?.map(UserId),
        status: parse_status(status).ok_or_else(|| c.corrupt("status", unknown(status)))?,
        schedule: Schedule {
            cadence: Cadence::parse(cadence).map_err(|e| c.corrupt("cadence", e))?,
            send_at: parse_send_at(send_at)
                .ok_or_else(|| c.corrupt("send_at", unknown(send_at)))?,
            zone: parse_zone(zone).map_err(|e| c.corrupt("zone", e))?,
        },
        papers: c.u32(7, "papers")?,
        unsubscribe_token: c.get(8, "unsubscribe_token")?,
        created_at: c.time(9, "created_at")?,
        confirmed_at: c.opt_time(10, "confirmed_at")?,
        next_due: c.opt_time(11, "next_due")?,
        bounces: c.u32(12, "bounces")?,
    })
}

/// Decodes the [`message_columns!`].
fn message_from_row(row: &Row) -> Result<OutboxMessage, StoreError> {
    let id: i64 = row.try_get(0).map_err(|e| corrupt_key("outbox", "id", e))?;
    let c = RowColumns {
        row,
        table: "outbox",
        key: id.to_string(),
    };
    let kind: &str = c.get(2, "kind")?;
    let status: &str = c.get(8, "status")?;
    Ok(OutboxMessage {
        id: MessageId(id),
        key: c.get(1, "key")?,
        kind: MessageKind::parse(kind).ok_or_else(|| c.corrupt("kind", unknown(kind)))?,
        subscription: c
            .get::<Option<i64>>(3, "subscription_id")?
            .map(SubscriptionId),
        recipient: email_at(&c, 4, "recipient")?,
        edition: c.get(5, "mail_editions.content")?,
        payload: c.get(6, "payload")?,
        created_at: c.time(7, "created_at")?,
        status: parse_message_status(status).ok_or_else(|| c.corrupt("status", unknown(status)))?,
        attempts: c.u32(9, "attempts")?,
        last_error: c.get(10, "last_error")?,
        sent_at: c.opt_time(11, "sent_at")?,
    })
}

/// Decodes the [`saved_search_columns!`].
fn saved_search_from_row(row: &Row) -> Result<SavedSearch, StoreError> {
    let id: i64 = row
        .try_get(0)
        .map_err(|e| corrupt_key("saved_searches", "id", e))?;
    let c = RowColumns {
        row,
        table: "saved_searches",
        key: id.to_string(),
    };
    let delivery: &str = c.get(5, "delivery")?;
    let cursor: i64 = c.get(7, "cursor")?;
    Ok(SavedSearch {
        id: SavedSearchId(id),
        user: UserId(c.get(1, "user_id")?),
        query: c.get(2, "query")?,
        min_upvotes: c.u32(3, "min_upvotes")?,
        exclude: c.list(4, "exclude")?,
        delivery: parse_delivery(delivery)
            .ok_or_else(|| c.corrupt("delivery", unknown(delivery)))?,
        created_at: c.time(6, "created_at")?,
        cursor: u64::try_from(cursor).map_err(|_| c.corrupt("cursor", "negative"))?,
    })
}

fn find_subscription(
    db: &mut Db<'_, impl GenericClient>,
    sql: &'static str,
    key: &(dyn ToSql + Sync),
    operation: &'static str,
) -> Result<Option<Subscription>, StoreError> {
    find_subscription_with(db, sql, &[key], operation)
}

fn find_subscription_with(
    db: &mut Db<'_, impl GenericClient>,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
    operation: &'static str,
) -> Result<Option<Subscription>, StoreError> {
    db.query_opt(operation, sql, params)?
        .as_ref()
        .map(subscription_from_row)
        .transpose()
}

fn saved_searches(
    db: &mut Db<'_, impl GenericClient>,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<SavedSearch>, StoreError> {
    db.query("read saved searches", sql, params)?
        .iter()
        .map(saved_search_from_row)
        .collect()
}

/// `MessageNotFound` unless the outbox has the message.
fn require_message(
    db: &mut Db<'_, Transaction<'_>>,
    id: MessageId,
    operation: &'static str,
) -> Result<(), StoreError> {
    match db.query_opt(operation, "SELECT 1 FROM outbox WHERE id = $1", &[&id.0])? {
        Some(_) => Ok(()),
        None => Err(StoreError::MessageNotFound { id: id.0 }),
    }
}

/// Queues `message` unless its key exists; its id when it is new. When
/// another node queues the same key at this moment, the insert waits for
/// it and does nothing.
fn insert_message(
    db: &mut Db<'_, Transaction<'_>>,
    message: &NewMessage,
    operation: &'static str,
) -> Result<Option<MessageId>, StoreError> {
    let row = db.query_opt(
        operation,
        "INSERT INTO outbox (key, kind, subscription_id, recipient, edition_id, payload, \
         created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (key) DO NOTHING RETURNING id",
        &[
            &message.key,
            &message.kind.as_str(),
            &message.subscription.map(|s| s.0),
            &message.recipient.as_str(),
            &message.edition,
            &message.payload,
            &format_time(message.created_at),
        ],
    )?;
    row.map(|row| row.try_get(0).map(MessageId))
        .transpose()
        .map_err(|e| StoreError::database(operation, e))
}

fn message_id_of_key(
    db: &mut Db<'_, Transaction<'_>>,
    key: &str,
    operation: &'static str,
) -> Result<MessageId, StoreError> {
    db.value(operation, "SELECT id FROM outbox WHERE key = $1", &[&key])
        .map(MessageId)
}

/// Marks `user`'s pending matches of `papers` as carried by `message`
/// (matches already in a message keep theirs).
fn mark_alerts_sent(
    db: &mut Db<'_, Transaction<'_>>,
    user: UserId,
    papers: &[ArxivId],
    message: MessageId,
    operation: &'static str,
) -> Result<(), StoreError> {
    if papers.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
    db.execute(
        operation,
        "UPDATE alert_matches SET message_id = $3 WHERE user_id = $1 AND message_id IS NULL \
         AND paper_id = ANY($2::text[])",
        &[&user.0, &ids, &message.0],
    )
    .map(drop)
}
