//! A store whose every call fails, as a database that went away would: for
//! the 503 of `/healthz` and for checking that internal errors never reach
//! a client.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{
    ArxivId, Comment, CommentId, DailyEntry, EmailAddress, MessageId, NewUser, Paper,
    SavedSearchId, Schedule, SourceRecord, SubscriptionId, User, UserId,
};
use paperboy_store::{
    Accounts, AlertDelivery, BatchOutcome, EntryQuery, Jobs, Limits, Listed, Listings, Mail,
    MessageKind, NewMessage, NewSavedSearch, NewSubscription, OutboxMessage, OutboxStats,
    PaperPage, PaperText, PaperVector, Participation, PendingAlert, SavedSearch, Session, Stats,
    Store, StoreError, SubscribeOutcome, Subscription, UpvoteState, VectorStats, Vectors,
};

/// What the failure says internally; it must never appear in a response.
pub const SECRET: &str = "disk /dev/sdz1 on fire at inode 4242";

pub struct BrokenStore;

fn fail<T>() -> Result<T, StoreError> {
    Err(StoreError::Database {
        operation: "read for a test",
        source: SECRET.into(),
    })
}

impl Store for BrokenStore {
    fn upsert(&self, _: &[SourceRecord]) -> Result<BatchOutcome, StoreError> {
        fail()
    }
    fn paper(&self, _: &ArxivId) -> Result<Option<Paper>, StoreError> {
        fail()
    }
    fn day_entries(&self, _: NaiveDate) -> Result<Vec<(DailyEntry, Paper)>, StoreError> {
        fail()
    }
    fn stats(&self) -> Result<Stats, StoreError> {
        fail()
    }
    fn sync_state(&self, _: &str) -> Result<Option<String>, StoreError> {
        fail()
    }
    fn set_sync_state(&self, _: &str, _: &str) -> Result<(), StoreError> {
        fail()
    }
    fn change_seq(&self) -> Result<u64, StoreError> {
        fail()
    }

    fn papers_changed_since(
        &self,
        _seq: u64,
        _limit: usize,
    ) -> Result<Vec<(u64, paperboy_store::PaperPage)>, StoreError> {
        fail()
    }
}

impl Limits for BrokenStore {
    fn hit_limit(
        &self,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
        _: chrono::Duration,
        _: u32,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        fail()
    }
    fn forget_hit(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<(), StoreError> {
        fail()
    }
}

impl Jobs for BrokenStore {
    fn try_lease(
        &self,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        fail()
    }
    fn release_lease(&self, _: &str, _: &str) -> Result<(), StoreError> {
        fail()
    }
}

impl Vectors for BrokenStore {
    fn texts_changed_since(&self, _: &str, _: u64, _: usize) -> Result<Vec<PaperText>, StoreError> {
        fail()
    }
    fn put_vectors(&self, _: &str, _: &[PaperVector]) -> Result<(), StoreError> {
        fail()
    }
    fn vectors_changed_since(
        &self,
        _: &str,
        _: u64,
        _: usize,
    ) -> Result<Vec<(u64, PaperVector)>, StoreError> {
        fail()
    }
    fn paper_vector(&self, _: &str, _: &ArxivId) -> Result<Option<PaperVector>, StoreError> {
        fail()
    }
    fn vector_seq(&self) -> Result<u64, StoreError> {
        fail()
    }
    fn vector_stats(&self, _: &str) -> Result<VectorStats, StoreError> {
        fail()
    }
}

impl Listings for BrokenStore {
    fn entries(&self, _: &EntryQuery) -> Result<Vec<Listed>, StoreError> {
        fail()
    }
    fn count_entries(&self, _: &EntryQuery) -> Result<u64, StoreError> {
        fail()
    }
    fn day_with_entries_on_or_before(&self, _: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        fail()
    }
    fn day_with_entries_after(&self, _: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        fail()
    }
    fn paper_page(&self, _: &ArxivId) -> Result<Option<PaperPage>, StoreError> {
        fail()
    }
}

impl Accounts for BrokenStore {
    fn create_user(&self, _: &NewUser, _: DateTime<Utc>) -> Result<User, StoreError> {
        fail()
    }
    fn user(&self, _: UserId) -> Result<Option<User>, StoreError> {
        fail()
    }
    fn user_by_username(&self, _: &str) -> Result<Option<User>, StoreError> {
        fail()
    }
    fn user_for_login(&self, _: &str) -> Result<Option<(User, String)>, StoreError> {
        fail()
    }
    fn create_session(
        &self,
        _: UserId,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        fail()
    }
    fn session(&self, _: &str, _: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        fail()
    }
    fn delete_session(&self, _: &str) -> Result<(), StoreError> {
        fail()
    }
    fn create_api_token(
        &self,
        _: UserId,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        fail()
    }
    fn user_for_api_token(&self, _: &str) -> Result<Option<User>, StoreError> {
        fail()
    }
}

impl Participation for BrokenStore {
    fn set_upvote(&self, _: UserId, _: &ArxivId, _: bool) -> Result<UpvoteState, StoreError> {
        fail()
    }
    fn upvoted_among(&self, _: UserId, _: &[ArxivId]) -> Result<Vec<ArxivId>, StoreError> {
        fail()
    }
    fn add_comment(
        &self,
        _: &ArxivId,
        _: UserId,
        _: Option<CommentId>,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Comment, StoreError> {
        fail()
    }
    fn edit_comment(
        &self,
        _: CommentId,
        _: UserId,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Comment, StoreError> {
        fail()
    }
    fn delete_comment(&self, _: CommentId, _: UserId) -> Result<(), StoreError> {
        fail()
    }
    fn set_comment_hidden(&self, _: CommentId, _: bool) -> Result<(), StoreError> {
        fail()
    }
    fn comments(&self, _: &ArxivId) -> Result<Vec<Comment>, StoreError> {
        fail()
    }
    fn set_saved(
        &self,
        _: UserId,
        _: &ArxivId,
        _: bool,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        fail()
    }
    fn saved_papers(&self, _: UserId) -> Result<Vec<Paper>, StoreError> {
        fail()
    }
    fn submit(
        &self,
        _: &ArxivId,
        _: NaiveDate,
        _: &User,
        _: DateTime<Utc>,
    ) -> Result<DailyEntry, StoreError> {
        fail()
    }
}

impl Mail for BrokenStore {
    fn subscribe(
        &self,
        _: &NewSubscription,
        _: DateTime<Utc>,
    ) -> Result<SubscribeOutcome, StoreError> {
        fail()
    }
    fn confirm_subscription(
        &self,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn link_subscription(
        &self,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn unsubscribe(&self, _: &str, _: DateTime<Utc>) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn subscription(&self, _: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn subscription_by_token(&self, _: &str) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn subscription_by_email(&self, _: &EmailAddress) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn subscription_of_user(&self, _: UserId) -> Result<Option<Subscription>, StoreError> {
        fail()
    }
    fn update_subscription(
        &self,
        _: SubscriptionId,
        _: &Schedule,
        _: u32,
        _: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        fail()
    }
    fn due_subscriptions(
        &self,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<Subscription>, StoreError> {
        fail()
    }
    fn put_edition(&self, _: &str, _: &str) -> Result<i64, StoreError> {
        fail()
    }
    fn queue_digest(
        &self,
        _: SubscriptionId,
        _: Option<&NewMessage>,
        _: DateTime<Utc>,
        _: Option<DateTime<Utc>>,
        _: &[ArxivId],
    ) -> Result<bool, StoreError> {
        fail()
    }
    fn queue_message(
        &self,
        _: &NewMessage,
        _: Option<UserId>,
        _: &[ArxivId],
    ) -> Result<Option<MessageId>, StoreError> {
        fail()
    }
    fn count_messages_to(
        &self,
        _: &EmailAddress,
        _: MessageKind,
        _: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        fail()
    }
    fn claim_messages(
        &self,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        fail()
    }
    fn mark_sent(&self, _: &[MessageId], _: DateTime<Utc>) -> Result<(), StoreError> {
        fail()
    }
    fn mark_retry(&self, _: MessageId, _: &str, _: DateTime<Utc>) -> Result<(), StoreError> {
        fail()
    }
    fn mark_failed(
        &self,
        _: MessageId,
        _: &str,
        _: DateTime<Utc>,
        _: Option<u32>,
    ) -> Result<bool, StoreError> {
        fail()
    }
    fn message(&self, _: MessageId) -> Result<Option<OutboxMessage>, StoreError> {
        fail()
    }
    fn messages_to(&self, _: &EmailAddress) -> Result<Vec<OutboxMessage>, StoreError> {
        fail()
    }
    fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        fail()
    }
    fn add_saved_search(
        &self,
        _: &NewSavedSearch,
        _: DateTime<Utc>,
    ) -> Result<SavedSearch, StoreError> {
        fail()
    }
    fn saved_searches_of(&self, _: UserId) -> Result<Vec<SavedSearch>, StoreError> {
        fail()
    }
    fn active_saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        fail()
    }
    fn delete_saved_search(&self, _: SavedSearchId, _: UserId) -> Result<(), StoreError> {
        fail()
    }
    fn record_alert_matches(
        &self,
        _: SavedSearchId,
        _: &[ArxivId],
        _: u64,
    ) -> Result<u64, StoreError> {
        fail()
    }
    fn pending_alerts(&self, _: UserId) -> Result<Vec<PendingAlert>, StoreError> {
        fail()
    }
    fn users_with_pending_alerts(&self, _: AlertDelivery) -> Result<Vec<UserId>, StoreError> {
        fail()
    }
}
