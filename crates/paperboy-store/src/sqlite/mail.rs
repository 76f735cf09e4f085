//! [`Mail`] on SQLite: tables `subscriptions`, `mail_editions`, `outbox`,
//! `saved_searches` and `alert_matches` (migration 0005).
//!
//! Every change that must not half-happen is one write transaction: a digest
//! is queued together with moving its subscription on, an alert mail
//! together with marking the papers it carries. Times are stored as
//! fixed-width text ([`format_time`]), so SQL compares them as instants. It
//! never decides what a message says: editions and payloads are opaque text.

use chrono::{DateTime, Utc};
use paperboy_core::mail::parse_zone;
use paperboy_core::{
    ArxivId, Cadence, EmailAddress, MessageId, SavedSearchId, Schedule, SubscriptionId, UserId,
};
use rusqlite::{Connection, OptionalExtension, Row, ToSql};

use super::rows::{RowColumns, format_time, parse_list};
use super::{SqliteStore, count, read_change_seq, require_paper};
use crate::codec::{ScheduleValues, first_due, parse_send_at};
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
        concat!(message_fields!(), " ", message_tables!())
    };
}

/// The fields of [`message_columns!`].
macro_rules! message_fields {
    () => {
        "o.id, o.key, o.kind, o.subscription_id, o.recipient, e.content, o.payload, \
         o.created_at, o.status, o.attempts, o.last_error, o.sent_at"
    };
}

/// The tables of [`message_columns!`].
macro_rules! message_tables {
    () => {
        "FROM outbox o LEFT JOIN mail_editions e ON e.id = o.edition_id"
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
    " FROM subscriptions WHERE id = ?1"
);

const SELECT_SUBSCRIPTION_BY_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE unsubscribe_token = ?1"
);

const SELECT_SUBSCRIPTION_BY_EMAIL: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE email = ?1"
);

/// An account may have asked for more than one address: the active one
/// counts (it is where its alerts go), else the newest.
const SELECT_SUBSCRIPTION_OF_USER: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE user_id = ?1 ORDER BY status = 'active' DESC, id DESC LIMIT 1"
);

const SELECT_PENDING_BY_CONFIRM_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE confirm_token_hash = ?1 AND status = 'pending'"
);

/// The active subscription a link token stands for, and the account that
/// asked for the link (column [`LINK_USER`]).
const SELECT_BY_LINK_TOKEN: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    ", link_user_id FROM subscriptions WHERE confirm_token_hash = ?1 \
     AND status = 'active' AND link_user_id IS NOT NULL"
);

/// The column of [`SELECT_BY_LINK_TOKEN`] after the subscription's.
const LINK_USER: usize = 13;

const SELECT_DUE_SUBSCRIPTIONS: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions \
     WHERE status = 'active' AND next_due IS NOT NULL AND next_due <= ?1 \
     ORDER BY next_due, id LIMIT ?2"
);

const SELECT_MESSAGE: &str = concat!("SELECT ", message_columns!(), " WHERE o.id = ?1");

const SELECT_MESSAGES_TO: &str = concat!(
    "SELECT ",
    message_columns!(),
    " WHERE o.recipient = ?1 ORDER BY o.id"
);

/// Up to `?2` queued messages due at `?1` that nobody holds, the longest
/// due first (then oldest): the order of the index `outbox_due`, so a claim
/// reads only the rows it hands out, however long the queue. Each comes
/// with the status of its subscription if that no longer wants it (a
/// confirmation mail goes only to a pending subscription, anything else
/// only to an active one), else NULL.
const SELECT_CLAIMABLE: &str = concat!(
    "SELECT ",
    message_fields!(),
    ", CASE WHEN s.status <> CASE o.kind WHEN 'confirm' THEN 'pending' ELSE 'active' END \
     THEN s.status END ",
    message_tables!(),
    " LEFT JOIN subscriptions s ON s.id = o.subscription_id \
     WHERE o.status = 'queued' AND o.next_attempt_at <= ?1 \
     AND (o.lease_until IS NULL OR o.lease_until <= ?1) \
     ORDER BY o.next_attempt_at, o.id LIMIT ?2"
);

/// The column of [`SELECT_CLAIMABLE`] after the [`message_fields!`].
const UNWANTED_BY: usize = 12;

const SELECT_SAVED_SEARCH: &str = concat!(
    "SELECT ",
    saved_search_columns!(),
    " FROM saved_searches WHERE id = ?1"
);

const SELECT_SAVED_SEARCHES_OF: &str = concat!(
    "SELECT ",
    saved_search_columns!(),
    " FROM saved_searches WHERE user_id = ?1 ORDER BY id"
);

const SELECT_ACTIVE_SAVED_SEARCHES: &str = concat!(
    "SELECT ",
    saved_search_columns!(),
    " FROM saved_searches s WHERE EXISTS (SELECT 1 FROM subscriptions sub \
     WHERE sub.user_id = s.user_id AND sub.status = 'active') ORDER BY s.id"
);

impl Mail for SqliteStore {
    fn subscribe(
        &self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<SubscribeOutcome, StoreError> {
        let operation = "record a subscription";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let schedule = ScheduleValues::new(&new.schedule);
            let now = format_time(now);
            let existing = find_subscription(
                tx,
                SELECT_SUBSCRIPTION_BY_EMAIL,
                &new.email.as_str(),
                operation,
            )?;
            let id = match existing {
                Some(existing) if existing.status == SubscriptionStatus::Active => {
                    let Some(user) = new.user.filter(|&user| existing.user != Some(user)) else {
                        return Ok(SubscribeOutcome::AlreadyActive(existing));
                    };
                    tx.prepare_cached(
                        "UPDATE subscriptions SET confirm_token_hash = ?2, link_user_id = ?3, \
                         updated_at = ?4 WHERE id = ?1",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute((existing.id.0, &new.confirm_token_hash, user.0, &now))
                    })
                    .map_err(err)?;
                    return require_subscription(tx, existing.id, operation)
                        .map(SubscribeOutcome::LinkRequested);
                }
                Some(existing) => {
                    tx.prepare_cached(
                        "UPDATE subscriptions SET status = 'pending', confirm_token_hash = ?2, \
                         cadence = ?3, send_at = ?4, zone = ?5, papers = ?6, \
                         user_id = COALESCE(?7, user_id), confirmed_at = NULL, next_due = NULL, \
                         link_user_id = NULL, updated_at = ?8 WHERE id = ?1",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute((
                            existing.id.0,
                            &new.confirm_token_hash,
                            schedule.cadence,
                            &schedule.send_at,
                            schedule.zone,
                            i64::from(new.papers),
                            new.user.map(|u| u.0),
                            &now,
                        ))
                    })
                    .map_err(err)?;
                    existing.id
                }
                None => {
                    tx.prepare_cached(
                        "INSERT INTO subscriptions (email, user_id, status, cadence, send_at, \
                         zone, papers, confirm_token_hash, unsubscribe_token, created_at, \
                         updated_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute((
                            new.email.as_str(),
                            new.user.map(|u| u.0),
                            schedule.cadence,
                            &schedule.send_at,
                            schedule.zone,
                            i64::from(new.papers),
                            &new.confirm_token_hash,
                            &new.unsubscribe_token,
                            &now,
                        ))
                    })
                    .map_err(err)?;
                    SubscriptionId(tx.last_insert_rowid())
                }
            };
            require_subscription(tx, id, operation).map(SubscribeOutcome::Pending)
        })
    }

    fn confirm_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "confirm a subscription";
        self.write(operation, |tx| {
            let Some(pending) =
                find_subscription(tx, SELECT_PENDING_BY_CONFIRM_TOKEN, &token_hash, operation)?
            else {
                return Ok(None);
            };
            let next_due = first_due(&pending.schedule, now);
            tx.prepare_cached(
                "UPDATE subscriptions SET status = 'active', confirmed_at = ?2, \
                 confirm_token_hash = NULL, link_user_id = NULL, bounces = 0, next_due = ?3, \
                 updated_at = ?2 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute((pending.id.0, format_time(now), next_due)))
            .map_err(|e| StoreError::database(operation, e))?;
            require_subscription(tx, pending.id, operation).map(Some)
        })
    }

    fn link_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "link a subscription to an account";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let found = tx
                .prepare_cached(SELECT_BY_LINK_TOKEN)
                .and_then(|mut stmt| {
                    stmt.query_row([token_hash], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(LINK_USER)?))
                    })
                    .optional()
                })
                .map_err(err)?;
            let Some((id, user)) = found else {
                return Ok(None);
            };
            tx.prepare_cached(
                "UPDATE subscriptions SET user_id = ?2, link_user_id = NULL, \
                 confirm_token_hash = NULL, updated_at = ?3 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute((id, user, format_time(now))))
            .map_err(err)?;
            require_subscription(tx, SubscriptionId(id), operation).map(Some)
        })
    }

    fn unsubscribe(
        &self,
        unsubscribe_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        let operation = "unsubscribe";
        self.write(operation, |tx| {
            let Some(before) = find_subscription(
                tx,
                SELECT_SUBSCRIPTION_BY_TOKEN,
                &unsubscribe_token,
                operation,
            )?
            else {
                return Ok(None);
            };
            if before.status != SubscriptionStatus::Unsubscribed {
                // The confirmation token goes too: leaving ends a pending
                // request as well.
                tx.prepare_cached(
                    "UPDATE subscriptions SET status = 'unsubscribed', next_due = NULL, \
                     confirm_token_hash = NULL, link_user_id = NULL, updated_at = ?2 WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute((before.id.0, format_time(now))))
                .map_err(|e| StoreError::database(operation, e))?;
            }
            Ok(Some(before))
        })
    }

    fn subscription(&self, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        find_subscription(
            &self.reader(),
            SELECT_SUBSCRIPTION_BY_ID,
            &id.0,
            "read a subscription",
        )
    }

    fn subscription_by_token(
        &self,
        unsubscribe_token: &str,
    ) -> Result<Option<Subscription>, StoreError> {
        find_subscription(
            &self.reader(),
            SELECT_SUBSCRIPTION_BY_TOKEN,
            &unsubscribe_token,
            "read a subscription",
        )
    }

    fn subscription_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Subscription>, StoreError> {
        find_subscription(
            &self.reader(),
            SELECT_SUBSCRIPTION_BY_EMAIL,
            &email.as_str(),
            "read a subscription",
        )
    }

    fn subscription_of_user(&self, user: UserId) -> Result<Option<Subscription>, StoreError> {
        find_subscription(
            &self.reader(),
            SELECT_SUBSCRIPTION_OF_USER,
            &user.0,
            "read a subscription",
        )
    }

    fn update_subscription(
        &self,
        id: SubscriptionId,
        schedule: &Schedule,
        papers: u32,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        let operation = "change a subscription";
        self.write(operation, |tx| {
            let stored = require_subscription(tx, id, operation)?;
            let next_due = match stored.status {
                SubscriptionStatus::Active => first_due(schedule, now),
                _ => None,
            };
            let values = ScheduleValues::new(schedule);
            tx.prepare_cached(
                "UPDATE subscriptions SET cadence = ?2, send_at = ?3, zone = ?4, papers = ?5, \
                 next_due = ?6, updated_at = ?7 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    id.0,
                    values.cadence,
                    &values.send_at,
                    values.zone,
                    i64::from(papers),
                    next_due,
                    format_time(now),
                ))
            })
            .map_err(|e| StoreError::database(operation, e))?;
            require_subscription(tx, id, operation)
        })
    }

    fn due_subscriptions(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Subscription>, StoreError> {
        let err = |e| StoreError::database("list due subscriptions", e);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(SELECT_DUE_SUBSCRIPTIONS).map_err(err)?;
        let mut rows = stmt
            .query((format_time(now), sql_limit(limit)))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            out.push(subscription_from_row(row)?);
        }
        Ok(out)
    }

    fn put_edition(&self, key: &str, content: &str) -> Result<i64, StoreError> {
        let operation = "store a mail edition";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            tx.prepare_cached(
                "INSERT INTO mail_editions (key, content) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut stmt| stmt.execute((key, content)))
            .map_err(err)?;
            tx.prepare_cached("SELECT id FROM mail_editions WHERE key = ?1")
                .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)))
                .map_err(err)
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
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            // The compare-and-set that makes a period go out once, however
            // many senders run: only the one that moves `next_due` on from
            // `due` queues anything.
            let moved = tx
                .prepare_cached(
                    "UPDATE subscriptions SET next_due = ?3 \
                     WHERE id = ?1 AND status = 'active' AND next_due = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute((subscription.0, format_time(due), next_due.map(format_time)))
                })
                .map_err(err)?;
            if moved == 0 {
                return Ok(false);
            }
            let Some(message) = message else {
                return Ok(true);
            };
            let id = match insert_message(tx, message, operation)? {
                Some(id) => id,
                None => message_id_of_key(tx, &message.key, operation)?,
            };
            if !folded.is_empty() {
                let user: Option<i64> = tx
                    .prepare_cached("SELECT user_id FROM subscriptions WHERE id = ?1")
                    .and_then(|mut stmt| stmt.query_row([subscription.0], |row| row.get(0)))
                    .map_err(err)?;
                if let Some(user) = user {
                    mark_alerts_sent(tx, UserId(user), folded, id, operation)?;
                }
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
        self.write(operation, |tx| {
            let Some(id) = insert_message(tx, message, operation)? else {
                return Ok(None);
            };
            if let Some(user) = alerts_of {
                mark_alerts_sent(tx, user, alerts, id, operation)?;
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
        let n: i64 = self
            .reader()
            .prepare_cached(
                "SELECT COUNT(*) FROM outbox \
                 WHERE recipient = ?1 AND kind = ?2 AND created_at >= ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    (recipient.as_str(), kind.as_str(), format_time(since)),
                    |row| row.get(0),
                )
            })
            .map_err(|e| StoreError::database("count messages to an address", e))?;
        Ok(count(n))
    }

    fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let operation = "claim messages to send";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let now = format_time(now);
            let lease_until = format_time(lease_until);
            let mut claimed = Vec::with_capacity(limit);
            // Messages their subscription no longer wants are failed on the
            // way and do not count against `limit`: look further until
            // `limit` are handed out or none is left.
            loop {
                let wanted = limit - claimed.len();
                let candidates = {
                    let mut stmt = tx.prepare_cached(SELECT_CLAIMABLE).map_err(err)?;
                    let mut rows = stmt.query((&now, sql_limit(wanted))).map_err(err)?;
                    let mut out = Vec::with_capacity(wanted);
                    while let Some(row) = rows.next().map_err(err)? {
                        let unwanted_by: Option<String> = row.get(UNWANTED_BY).map_err(err)?;
                        out.push((message_from_row(row)?, unwanted_by));
                    }
                    out
                };
                let found = candidates.len();
                for (mut message, unwanted_by) in candidates {
                    match unwanted_by {
                        Some(status) => {
                            tx.prepare_cached(
                                "UPDATE outbox SET status = 'failed', lease_until = NULL, \
                                 last_error = ?2 WHERE id = ?1",
                            )
                            .and_then(|mut stmt| {
                                stmt.execute((message.id.0, format!("subscription is {status}")))
                            })
                            .map_err(err)?;
                        }
                        None => {
                            tx.prepare_cached(
                                "UPDATE outbox SET lease_until = ?2, attempts = attempts + 1 \
                                 WHERE id = ?1",
                            )
                            .and_then(|mut stmt| stmt.execute((message.id.0, &lease_until)))
                            .map_err(err)?;
                            message.attempts = message.attempts.saturating_add(1);
                            claimed.push(message);
                        }
                    }
                }
                if found < wanted || claimed.len() == limit {
                    return Ok(claimed);
                }
            }
        })
    }

    fn mark_sent(&self, ids: &[MessageId], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let operation = "mark messages sent";
        let now = format_time(now);
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            for &id in ids {
                let (_, subscription) = message_state(tx, id, operation)?;
                tx.prepare_cached(
                    "UPDATE outbox SET status = 'sent', sent_at = ?2, lease_until = NULL \
                     WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute((id.0, &now)))
                .map_err(err)?;
                // Only a count that is not 0 already: a row left as it is
                // costs the commit nothing.
                if let Some(subscription) = subscription {
                    tx.prepare_cached(
                        "UPDATE subscriptions SET bounces = 0 WHERE id = ?1 AND bounces <> 0",
                    )
                    .and_then(|mut stmt| stmt.execute([subscription]))
                    .map_err(err)?;
                }
            }
            Ok(())
        })
    }

    fn mark_retry(
        &self,
        id: MessageId,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let operation = "put a message back for a retry";
        self.write(operation, |tx| {
            let (status, _) = message_state(tx, id, operation)?;
            // A message settled meanwhile (another sender whose claim
            // followed an ended lease) stays as it is.
            if status == "queued" {
                tx.prepare_cached(
                    "UPDATE outbox SET lease_until = NULL, next_attempt_at = ?2, \
                     last_error = ?3 WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute((id.0, format_time(retry_at), error)))
                .map_err(|e| StoreError::database(operation, e))?;
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
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let (status, subscription) = message_state(tx, id, operation)?;
            if status == "failed" {
                // Counted once: marking it again is no second bounce.
                return Ok(false);
            }
            tx.prepare_cached(
                "UPDATE outbox SET status = 'failed', last_error = ?2, lease_until = NULL \
                 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute((id.0, error)))
            .map_err(err)?;
            let (Some(subscription), Some(pause_after)) = (subscription, bounce) else {
                return Ok(false);
            };
            tx.prepare_cached("UPDATE subscriptions SET bounces = bounces + 1 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute([subscription]))
                .map_err(err)?;
            let paused = tx
                .prepare_cached(
                    "UPDATE subscriptions SET status = 'paused', next_due = NULL, updated_at = ?3 \
                     WHERE id = ?1 AND status = 'active' AND bounces >= ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute((subscription, i64::from(pause_after), format_time(now)))
                })
                .map_err(err)?;
            Ok(paused > 0)
        })
    }

    fn message(&self, id: MessageId) -> Result<Option<OutboxMessage>, StoreError> {
        let err = |e| StoreError::database("read a message", e);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(SELECT_MESSAGE).map_err(err)?;
        let mut rows = stmt.query([id.0]).map_err(err)?;
        match rows.next().map_err(err)? {
            Some(row) => message_from_row(row).map(Some),
            None => Ok(None),
        }
    }

    fn messages_to(&self, recipient: &EmailAddress) -> Result<Vec<OutboxMessage>, StoreError> {
        let err = |e| StoreError::database("read the messages to an address", e);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(SELECT_MESSAGES_TO).map_err(err)?;
        let mut rows = stmt.query([recipient.as_str()]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            out.push(message_from_row(row)?);
        }
        Ok(out)
    }

    fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let (queued, sent, failed): (i64, i64, i64) = self
            .reader()
            .prepare_cached(
                "SELECT COALESCE(SUM(status = 'queued'), 0), COALESCE(SUM(status = 'sent'), 0), \
                 COALESCE(SUM(status = 'failed'), 0) FROM outbox",
            )
            .and_then(|mut stmt| {
                stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            })
            .map_err(|e| StoreError::database("count the outbox", e))?;
        Ok(OutboxStats {
            queued: count(queued),
            sent: count(sent),
            failed: count(failed),
        })
    }

    fn add_saved_search(
        &self,
        new: &NewSavedSearch,
        now: DateTime<Utc>,
    ) -> Result<SavedSearch, StoreError> {
        let operation = "save a search";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let known = tx
                .prepare_cached("SELECT 1 FROM users WHERE id = ?1")
                .and_then(|mut stmt| stmt.exists([new.user.0]))
                .map_err(err)?;
            if !known {
                return Err(StoreError::NotAllowed {
                    reason: "the user does not exist",
                });
            }
            let exclude = serde_json::to_string(&new.exclude)
                .map_err(|e| StoreError::database(operation, e))?;
            // Read in this transaction, so no change between reading and
            // saving slips past the search.
            let cursor = read_change_seq(tx)?;
            tx.prepare_cached(
                "INSERT INTO saved_searches \
                 (user_id, query, min_upvotes, exclude, delivery, created_at, cursor) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    new.user.0,
                    &new.query,
                    i64::from(new.min_upvotes),
                    &exclude,
                    new.delivery.as_str(),
                    format_time(now),
                    cursor,
                ))
            })
            .map_err(err)?;
            let id = tx.last_insert_rowid();
            let mut stmt = tx.prepare_cached(SELECT_SAVED_SEARCH).map_err(err)?;
            let mut rows = stmt.query([id]).map_err(err)?;
            match rows.next().map_err(err)? {
                Some(row) => saved_search_from_row(row),
                None => Err(err(rusqlite::Error::QueryReturnedNoRows)),
            }
        })
    }

    fn saved_searches_of(&self, user: UserId) -> Result<Vec<SavedSearch>, StoreError> {
        saved_searches(&self.reader(), SELECT_SAVED_SEARCHES_OF, &[&user.0])
    }

    fn active_saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        saved_searches(&self.reader(), SELECT_ACTIVE_SAVED_SEARCHES, &[])
    }

    fn delete_saved_search(&self, id: SavedSearchId, user: UserId) -> Result<(), StoreError> {
        let operation = "delete a saved search";
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let Some(owner) = search_owner(tx, id, operation)? else {
                return Ok(());
            };
            if owner != user {
                return Err(StoreError::NotAllowed {
                    reason: "only its owner can delete a saved search",
                });
            }
            // Its pending matches go with it; those already mailed stay
            // (search_id NULL), so the paper is never sent again.
            tx.prepare_cached(
                "DELETE FROM alert_matches WHERE search_id = ?1 AND message_id IS NULL",
            )
            .and_then(|mut stmt| stmt.execute([id.0]))
            .map_err(err)?;
            tx.prepare_cached("DELETE FROM saved_searches WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute([id.0]))
                .map_err(err)?;
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
        self.write(operation, |tx| {
            let err = |e| StoreError::database(operation, e);
            let Some(user) = search_owner(tx, search, operation)? else {
                // Deleted while its matches were being looked for.
                return Ok(0);
            };
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO alert_matches (user_id, paper_id, search_id) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (user_id, paper_id) DO NOTHING",
                )
                .map_err(err)?;
            let mut added = 0;
            for paper in papers {
                require_paper(tx, paper)?;
                added += insert
                    .execute((user.0, paper.as_str(), search.0))
                    .map_err(err)? as u64;
            }
            tx.prepare_cached("UPDATE saved_searches SET cursor = MAX(cursor, ?2) WHERE id = ?1")
                .and_then(|mut stmt| {
                    stmt.execute((search.0, i64::try_from(cursor).unwrap_or(i64::MAX)))
                })
                .map_err(err)?;
            Ok(added)
        })
    }

    fn pending_alerts(&self, user: UserId) -> Result<Vec<PendingAlert>, StoreError> {
        let err = |e| StoreError::database("read pending alerts", e);
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT m.id, m.paper_id, m.search_id, s.query, s.delivery \
                 FROM alert_matches m JOIN saved_searches s ON s.id = m.search_id \
                 WHERE m.user_id = ?1 AND m.message_id IS NULL ORDER BY m.id",
            )
            .map_err(err)?;
        let mut rows = stmt.query([user.0]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let key: i64 = row
                .get(0)
                .map_err(|e| corrupt_key("alert_matches", "id", e))?;
            let c = RowColumns {
                row,
                table: "alert_matches",
                key: key.to_string(),
            };
            let paper: String = c.get(1, "paper_id")?;
            let delivery: String = c.get(4, "saved_searches.delivery")?;
            out.push(PendingAlert {
                paper: ArxivId::parse(&paper)
                    .map(|v| v.id)
                    .map_err(|e| c.corrupt("paper_id", e))?,
                search: SavedSearchId(c.get(2, "search_id")?),
                query: c.get(3, "saved_searches.query")?,
                delivery: parse_delivery(&delivery)
                    .ok_or_else(|| c.corrupt("saved_searches.delivery", unknown(&delivery)))?,
            });
        }
        Ok(out)
    }

    fn users_with_pending_alerts(
        &self,
        delivery: AlertDelivery,
    ) -> Result<Vec<UserId>, StoreError> {
        let users: Vec<i64> = self
            .reader()
            .prepare_cached(
                "SELECT DISTINCT m.user_id \
                 FROM alert_matches m JOIN saved_searches s ON s.id = m.search_id \
                 WHERE m.message_id IS NULL AND s.delivery = ?1 ORDER BY m.user_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([delivery.as_str()], |row| row.get(0))?
                    .collect()
            })
            .map_err(|e| StoreError::database("list users with pending alerts", e))?;
        Ok(users.into_iter().map(UserId).collect())
    }
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn unknown(text: &str) -> String {
    format!("unknown value {text:?}")
}

/// A row whose key itself cannot be read.
fn corrupt_key(table: &'static str, field: &'static str, e: rusqlite::Error) -> StoreError {
    StoreError::CorruptRow {
        table,
        key: String::new(),
        field,
        message: e.to_string(),
    }
}

fn u32_at(c: &RowColumns<'_, '_>, index: usize, field: &'static str) -> Result<u32, StoreError> {
    let n: i64 = c.get(index, field)?;
    u32::try_from(n).map_err(|_| c.corrupt(field, format!("{n} is out of range")))
}

fn email_at(
    c: &RowColumns<'_, '_>,
    index: usize,
    field: &'static str,
) -> Result<EmailAddress, StoreError> {
    let text: String = c.get(index, field)?;
    EmailAddress::parse(&text).map_err(|e| c.corrupt(field, e))
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
fn subscription_from_row(row: &Row<'_>) -> Result<Subscription, StoreError> {
    let id: i64 = row
        .get(0)
        .map_err(|e| corrupt_key("subscriptions", "id", e))?;
    let c = RowColumns {
        row,
        table: "subscriptions",
        key: id.to_string(),
    };
    let status: String = c.get(3, "status")?;
    let cadence: String = c.get(4, "cadence")?;
    let send_at: String = c.get(5, "send_at")?;
    let zone: String = c.get(6, "zone")?;
    Ok(Subscription {
        id: SubscriptionId(id),
        email: email_at(&c, 1, "email")?,
        user: c.get::<Option<i64>>(2, "user_id")?.map(UserId),
        status: parse_status(&status).ok_or_else(|| c.corrupt("status", unknown(&status)))?,
        schedule: Schedule {
            cadence: Cadence::parse(&cadence).map_err(|e| c.corrupt("cadence", e))?,
            send_at: parse_send_at(&send_at)
                .ok_or_else(|| c.corrupt("send_at", unknown(&send_at)))?,
            zone: parse_zone(&zone).map_err(|e| c.corrupt("zone", e))?,
        },
        papers: u32_at(&c, 7, "papers")?,
        unsubscribe_token: c.get(8, "unsubscribe_token")?,
        created_at: c.time(9, "created_at")?,
        confirmed_at: c.opt_time(10, "confirmed_at")?,
        next_due: c.opt_time(11, "next_due")?,
        bounces: u32_at(&c, 12, "bounces")?,
    })
}

/// Decodes the [`message_columns!`].
fn message_from_row(row: &Row<'_>) -> Result<OutboxMessage, StoreError> {
    let id: i64 = row.get(0).map_err(|e| corrupt_key("outbox", "id", e))?;
    let c = RowColumns {
        row,
        table: "outbox",
        key: id.to_string(),
    };
    let kind: String = c.get(2, "kind")?;
    let status: String = c.get(8, "status")?;
    Ok(OutboxMessage {
        id: MessageId(id),
        key: c.get(1, "key")?,
        kind: MessageKind::parse(&kind).ok_or_else(|| c.corrupt("kind", unknown(&kind)))?,
        subscription: c
            .get::<Option<i64>>(3, "subscription_id")?
            .map(SubscriptionId),
        recipient: email_at(&c, 4, "recipient")?,
        edition: c.get(5, "mail_editions.content")?,
        payload: c.get(6, "payload")?,
        created_at: c.time(7, "created_at")?,
        status: parse_message_status(&status)
            .ok_or_else(|| c.corrupt("status", unknown(&status)))?,
        attempts: u32_at(&c, 9, "attempts")?,
        last_error: c.get(10, "last_error")?,
        sent_at: c.opt_time(11, "sent_at")?,
    })
}

/// Decodes the [`saved_search_columns!`].
fn saved_search_from_row(row: &Row<'_>) -> Result<SavedSearch, StoreError> {
    let id: i64 = row
        .get(0)
        .map_err(|e| corrupt_key("saved_searches", "id", e))?;
    let c = RowColumns {
        row,
        table: "saved_searches",
        key: id.to_string(),
    };
    let exclude: String = c.get(4, "exclude")?;
    let delivery: String = c.get(5, "delivery")?;
    let cursor: i64 = c.get(7, "cursor")?;
    Ok(SavedSearch {
        id: SavedSearchId(id),
        user: UserId(c.get(1, "user_id")?),
        query: c.get(2, "query")?,
        min_upvotes: u32_at(&c, 3, "min_upvotes")?,
        exclude: parse_list(&exclude).map_err(|e| c.corrupt("exclude", e))?,
        delivery: parse_delivery(&delivery)
            .ok_or_else(|| c.corrupt("delivery", unknown(&delivery)))?,
        created_at: c.time(6, "created_at")?,
        cursor: u64::try_from(cursor).map_err(|_| c.corrupt("cursor", "negative"))?,
    })
}

fn find_subscription(
    conn: &Connection,
    sql: &str,
    key: &dyn ToSql,
    operation: &'static str,
) -> Result<Option<Subscription>, StoreError> {
    let err = |e| StoreError::database(operation, e);
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let mut rows = stmt.query([key]).map_err(err)?;
    match rows.next().map_err(err)? {
        Some(row) => subscription_from_row(row).map(Some),
        None => Ok(None),
    }
}

fn require_subscription(
    conn: &Connection,
    id: SubscriptionId,
    operation: &'static str,
) -> Result<Subscription, StoreError> {
    find_subscription(conn, SELECT_SUBSCRIPTION_BY_ID, &id.0, operation)?
        .ok_or(StoreError::SubscriptionNotFound { id: id.0 })
}

fn saved_searches(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<SavedSearch>, StoreError> {
    let err = |e| StoreError::database("read saved searches", e);
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let mut rows = stmt.query(params).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        out.push(saved_search_from_row(row)?);
    }
    Ok(out)
}

/// The owner of a saved search, `None` when it does not exist.
fn search_owner(
    conn: &Connection,
    id: SavedSearchId,
    operation: &'static str,
) -> Result<Option<UserId>, StoreError> {
    conn.prepare_cached("SELECT user_id FROM saved_searches WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.0], |row| row.get(0)).optional())
        .map(|user| user.map(UserId))
        .map_err(|e| StoreError::database(operation, e))
}

/// Queues `message` unless its key exists; its id when it is new.
fn insert_message(
    conn: &Connection,
    message: &NewMessage,
    operation: &'static str,
) -> Result<Option<MessageId>, StoreError> {
    let created_at = format_time(message.created_at);
    let inserted = conn
        .prepare_cached(
            "INSERT INTO outbox (key, kind, subscription_id, recipient, edition_id, payload, \
             created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
             ON CONFLICT (key) DO NOTHING",
        )
        .and_then(|mut stmt| {
            stmt.execute((
                &message.key,
                message.kind.as_str(),
                message.subscription.map(|s| s.0),
                message.recipient.as_str(),
                message.edition,
                &message.payload,
                &created_at,
            ))
        })
        .map_err(|e| StoreError::database(operation, e))?;
    Ok((inserted > 0).then(|| MessageId(conn.last_insert_rowid())))
}

fn message_id_of_key(
    conn: &Connection,
    key: &str,
    operation: &'static str,
) -> Result<MessageId, StoreError> {
    conn.prepare_cached("SELECT id FROM outbox WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)))
        .map(MessageId)
        .map_err(|e| StoreError::database(operation, e))
}

/// A message's status and subscription; `MessageNotFound` when unknown.
fn message_state(
    conn: &Connection,
    id: MessageId,
    operation: &'static str,
) -> Result<(String, Option<i64>), StoreError> {
    conn.prepare_cached("SELECT status, subscription_id FROM outbox WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([id.0], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(|e| StoreError::database(operation, e))?
        .ok_or(StoreError::MessageNotFound { id: id.0 })
}

/// Marks `user`'s pending matches of `papers` as carried by `message`
/// (matches already in a message keep theirs).
fn mark_alerts_sent(
    conn: &Connection,
    user: UserId,
    papers: &[ArxivId],
    message: MessageId,
    operation: &'static str,
) -> Result<(), StoreError> {
    if papers.is_empty() {
        return Ok(());
    }
    let err = |e| StoreError::database(operation, e);
    let ids: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
    // One statement for any number of ids: they travel as a JSON array.
    let ids = serde_json::to_string(&ids).map_err(|e| StoreError::database(operation, e))?;
    conn.prepare_cached(
        "UPDATE alert_matches SET message_id = ?3 WHERE user_id = ?1 AND message_id IS NULL \
         AND paper_id IN (SELECT value FROM json_each(?2))",
    )
    .and_then(|mut stmt| stmt.execute((user.0, &ids, message.0)))
    .map_err(err)?;
    Ok(())
}
