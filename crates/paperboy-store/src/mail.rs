//! What mail delivery keeps: subscriptions (double opt-in), saved searches
//! and the papers they matched, and the outbox — every message to send, kept
//! until it is sent or given up, so that nothing is lost and nothing is sent
//! twice.
//!
//! A message is queued once per stable key: its `message_key` (the
//! Message-ID's local part, e.g. `digest-daily-2026-11-30-s42`) is unique, so
//! queuing the same period twice changes nothing. A digest is queued in the
//! same transaction that moves its subscription to the next period
//! ([`Mail::queue_digest`]), so a period is never skipped either. What the
//! message says is frozen when it is queued: papers shared by many digests
//! of one period live once in an *edition* ([`Mail::put_edition`]); what is
//! particular to one message (alerts folded in, the recipient) in its
//! payload. The sender renders the same bytes from the same frozen content
//! every time, so a resend after a crash is the identical message.
//!
//! Senders claim messages with a lease ([`Mail::claim_messages`]): a sender
//! that dies holding some leaves them to be claimed again when the lease
//! ends. The store treats editions and payloads as opaque text.

use chrono::{DateTime, Utc};
use paperboy_core::{
    ArxivId, EmailAddress, MessageId, SavedSearchId, Schedule, SubscriptionId, UserId,
};

use crate::StoreError;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Asked for, not confirmed: nothing but the confirmation mail is sent.
    Pending,
    /// Confirmed: digests and alerts go out.
    Active,
    /// Stopped after repeated permanent delivery failures (bounces).
    Paused,
    /// The subscriber left.
    Unsubscribed,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Unsubscribed => "unsubscribed",
        }
    }
}

/// A mail subscription: one per address.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub email: EmailAddress,
    /// The account it was made from (settings), if any; alerts of that
    /// account's saved searches go to this address once it is confirmed.
    pub user: Option<UserId>,
    pub status: SubscriptionStatus,
    pub schedule: Schedule,
    /// Papers per digest.
    pub papers: u32,
    /// The secret in every mail's unsubscribe link (random, URL-safe).
    pub unsubscribe_token: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When the next digest is due (`None`: nothing due, e.g. not active or
    /// alerts only).
    pub next_due: Option<DateTime<Utc>>,
    /// Permanent delivery failures in a row.
    pub bounces: u32,
}

/// What `/subscribe` (or settings) hands the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub email: EmailAddress,
    pub user: Option<UserId>,
    pub schedule: Schedule,
    pub papers: u32,
    /// SHA-256 (hex) of the single-use confirmation token mailed.
    pub confirm_token_hash: String,
    /// Used only when the subscription is new (an address keeps its token).
    pub unsubscribe_token: String,
}

/// What [`Mail::subscribe`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscribeOutcome {
    /// New, or not yet confirmed / left / paused before: now pending with
    /// the new confirmation token and settings; a confirmation mail is due.
    Pending(Subscription),
    /// Already confirmed: nothing changed (settings change through
    /// [`Mail::update_subscription`], not by subscribing again).
    AlreadyActive(Subscription),
    /// Already confirmed, and asked for from an account it does not belong
    /// to: the new confirmation token now stands for linking it to that
    /// account (a link mail is due); nothing else changed, and the
    /// subscription is not the account's until the token is used.
    LinkRequested(Subscription),
}

/// How a saved search's matches are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertDelivery {
    /// In an alert mail of their own, batched each time the scheduler runs.
    Immediate,
    /// Folded into the subscriber's next digest.
    Digest,
}

impl AlertDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertDelivery::Immediate => "immediate",
            AlertDelivery::Digest => "digest",
        }
    }
}

/// A search a signed-in user saved for alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub id: SavedSearchId,
    pub user: UserId,
    /// In the search syntax (`ti:`, `au:`, `"phrases"`, `-excluded`).
    pub query: String,
    pub min_upvotes: u32,
    /// Words that exclude a paper (besides `-word` in the query).
    pub exclude: Vec<String>,
    pub delivery: AlertDelivery,
    pub created_at: DateTime<Utc>,
    /// The change sequence up to which papers were matched: only papers
    /// changed after it are looked at (so saving a search never mails the
    /// whole catalog).
    pub cursor: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSavedSearch {
    pub user: UserId,
    pub query: String,
    pub min_upvotes: u32,
    pub exclude: Vec<String>,
    pub delivery: AlertDelivery,
}

/// A paper a saved search matched, not yet in any mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlert {
    pub paper: ArxivId,
    pub search: SavedSearchId,
    /// The saved search's query, for "why is this here".
    pub query: String,
    pub delivery: AlertDelivery,
}

/// What kind of mail a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Confirm,
    /// "Link this subscription to your account" (goes only to an active
    /// subscription, as digests and alerts do).
    Link,
    /// "You are subscribed already": the answer to subscribing an active
    /// address again (goes only to an active subscription).
    Notice,
    Digest,
    Alert,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Confirm => "confirm",
            MessageKind::Link => "link",
            MessageKind::Notice => "notice",
            MessageKind::Digest => "digest",
            MessageKind::Alert => "alert",
        }
    }

    /// The kind [`MessageKind::as_str`] names.
    pub fn parse(text: &str) -> Option<MessageKind> {
        [
            MessageKind::Confirm,
            MessageKind::Link,
            MessageKind::Notice,
            MessageKind::Digest,
            MessageKind::Alert,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    Queued,
    Sent,
    /// Given up: a permanent failure, or too many temporary ones.
    Failed,
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Unique; the Message-ID's local part. Queuing a key that exists
    /// changes nothing.
    pub key: String,
    pub kind: MessageKind,
    pub subscription: Option<SubscriptionId>,
    pub recipient: EmailAddress,
    /// The edition whose content the message shows (digests).
    pub edition: Option<i64>,
    /// What is particular to this message (JSON, opaque to the store).
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// A queued message as a sender sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub key: String,
    pub kind: MessageKind,
    pub subscription: Option<SubscriptionId>,
    pub recipient: EmailAddress,
    /// The edition's content, when the message has one.
    pub edition: Option<String>,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub status: MessageStatus,
    /// Delivery attempts so far (a claim counts as one).
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Counts of the outbox by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
}

/// Subscriptions, saved searches and the outbox.
pub trait Mail {
    /// Records a subscription request (see [`SubscribeOutcome`]). A pending,
    /// paused or unsubscribed address becomes pending again with the new
    /// confirmation token, schedule, papers and user (when given). An active
    /// one asked for from another account keeps everything but takes the
    /// token, to link it to that account when used.
    fn subscribe(
        &self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<SubscribeOutcome, StoreError>;

    /// Confirms the pending subscription whose confirmation token hashes to
    /// `token_hash`: active, the token used up, bounces reset, the first
    /// digest due at the schedule's next period after `now`. `None` for an
    /// unknown or used token.
    fn confirm_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Uses an active subscription's link token
    /// ([`SubscribeOutcome::LinkRequested`]): the subscription now belongs
    /// to the account that asked, the token is used up, nothing else
    /// changes. `None` for an unknown or used token (a pending
    /// subscription's token included).
    fn link_subscription(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Unsubscribes the subscription with this unsubscribe token (nothing
    /// more is sent to it; messages still queued for it are dropped when a
    /// sender claims them). Returns it as it was before, `None` for an
    /// unknown token.
    fn unsubscribe(
        &self,
        unsubscribe_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError>;

    fn subscription(&self, id: SubscriptionId) -> Result<Option<Subscription>, StoreError>;

    fn subscription_by_token(
        &self,
        unsubscribe_token: &str,
    ) -> Result<Option<Subscription>, StoreError>;

    fn subscription_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Subscription>, StoreError>;

    /// The subscription made from this account, if any (when the account
    /// asked for more than one address: the active one, else the newest).
    fn subscription_of_user(&self, user: UserId) -> Result<Option<Subscription>, StoreError>;

    /// Changes schedule and papers; an active subscription's next digest
    /// becomes due at the new schedule's next period after `now`.
    /// `SubscriptionNotFound` for an unknown id.
    fn update_subscription(
        &self,
        id: SubscriptionId,
        schedule: &Schedule,
        papers: u32,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError>;

    /// Active subscriptions whose next digest is due at or before `now`,
    /// soonest first, at most `limit`.
    fn due_subscriptions(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Subscription>, StoreError>;

    /// Stores an edition under `key` unless one exists; returns its id
    /// (the existing one's when it exists: an edition, once stored, never
    /// changes).
    fn put_edition(&self, key: &str, content: &str) -> Result<i64, StoreError>;

    /// Queues a digest and moves its subscription on, in one transaction:
    /// only when `subscription` is still active and its next digest is
    /// still due at `due` (another sender may have done it), `message` is
    /// queued (unless its key exists; `None` when the period had nothing to
    /// send), the user's alerts for the papers in `folded` are marked as
    /// sent in it, and the next digest becomes due at `next_due`. Returns
    /// whether this call moved the subscription on.
    fn queue_digest(
        &self,
        subscription: SubscriptionId,
        message: Option<&NewMessage>,
        due: DateTime<Utc>,
        next_due: Option<DateTime<Utc>>,
        folded: &[ArxivId],
    ) -> Result<bool, StoreError>;

    /// Queues a message unless its key exists; alerts of `alerts_of` for the
    /// papers in `alerts` are marked as sent in it (same transaction).
    /// Returns the new message's id, `None` when the key existed.
    fn queue_message(
        &self,
        message: &NewMessage,
        alerts_of: Option<UserId>,
        alerts: &[ArxivId],
    ) -> Result<Option<MessageId>, StoreError>;

    /// Messages of `kind` to `recipient` queued at or after `since` (limits
    /// on confirmation mails).
    fn count_messages_to(
        &self,
        recipient: &EmailAddress,
        kind: MessageKind,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Claims up to `limit` queued messages whose next attempt is due at
    /// `now` and which nobody holds (or whose holder's lease ended), the
    /// longest due first (then the oldest), holding them until
    /// `lease_until`; each claim counts an attempt.
    /// Messages of subscriptions that are no longer active (except
    /// confirmation mails of pending ones) are marked failed instead of
    /// being handed out, and do not count against `limit`: a confirmation
    /// mail goes only to a pending subscription, any other message only to
    /// an active one (a message without a subscription always goes).
    fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// The messages were accepted by the mail server (one transaction for
    /// all: a sender marks a batch at once); resets their subscriptions'
    /// bounce counts. `MessageNotFound` (and nothing marked) for an unknown
    /// id (as for the other `mark_*`).
    fn mark_sent(&self, ids: &[MessageId], now: DateTime<Utc>) -> Result<(), StoreError>;

    /// A temporary failure: released, to be tried again at `retry_at`. A
    /// message already sent or failed stays as it is.
    fn mark_retry(
        &self,
        id: MessageId,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// A permanent failure, recorded. When it is a bounce (`bounce` is
    /// `Some(pause_after)`: the server refused the recipient) the
    /// subscription's bounce count grows, and at `pause_after` bounces in a
    /// row it is paused; other failures (our content, a server unreachable
    /// for days) count nothing. Returns whether this paused it. Marking a
    /// failed message again counts no second bounce.
    fn mark_failed(
        &self,
        id: MessageId,
        error: &str,
        now: DateTime<Utc>,
        bounce: Option<u32>,
    ) -> Result<bool, StoreError>;

    /// A message by id (tests, operators).
    fn message(&self, id: MessageId) -> Result<Option<OutboxMessage>, StoreError>;

    /// Messages to `recipient`, oldest first (tests, operators).
    fn messages_to(&self, recipient: &EmailAddress) -> Result<Vec<OutboxMessage>, StoreError>;

    fn outbox_stats(&self) -> Result<OutboxStats, StoreError>;

    /// Saves a search; it matches papers changed after the store's current
    /// change sequence (new papers from now on). `NotAllowed` for an unknown
    /// user.
    fn add_saved_search(
        &self,
        new: &NewSavedSearch,
        now: DateTime<Utc>,
    ) -> Result<SavedSearch, StoreError>;

    /// The user's saved searches, oldest first.
    fn saved_searches_of(&self, user: UserId) -> Result<Vec<SavedSearch>, StoreError>;

    /// All saved searches of users whose subscription is active, by id.
    fn active_saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError>;

    /// Deletes a saved search of `user` with its matches not yet in any
    /// mail; `NotAllowed` when it is another's, nothing when it does not
    /// exist.
    fn delete_saved_search(&self, id: SavedSearchId, user: UserId) -> Result<(), StoreError>;

    /// Records that `search` matched `papers` (a paper already recorded for
    /// the search's user — by any of their searches — is not recorded
    /// again: nobody gets the same paper twice) and moves its cursor to
    /// `cursor` (never backwards), in one transaction. Returns how many were
    /// new. An unknown paper is `PaperNotFound` and records nothing; a search
    /// deleted meanwhile records nothing (0).
    fn record_alert_matches(
        &self,
        search: SavedSearchId,
        papers: &[ArxivId],
        cursor: u64,
    ) -> Result<u64, StoreError>;

    /// The user's matched papers not yet in any mail, oldest first.
    fn pending_alerts(&self, user: UserId) -> Result<Vec<PendingAlert>, StoreError>;

    /// Users with matched papers of `delivery` not yet in any mail.
    fn users_with_pending_alerts(&self, delivery: AlertDelivery)
    -> Result<Vec<UserId>, StoreError>;
}
