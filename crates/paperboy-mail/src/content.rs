//! What a queued message says, frozen when it is queued: the shapes of
//! editions (shared by every digest of one period and size) and payloads
//! (particular to one message), and the stable keys messages are queued
//! under. Pure: the scheduler and the web site build these; the sender
//! renders them ([`crate::render`]).

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{EmailAddress, Paper, Period, SubscriptionId, UserId};
use paperboy_store::{MessageKind, NewMessage, Subscription};
use serde::{Deserialize, Serialize};

/// Characters of abstract a mail shows per paper.
pub const SNIPPET_CHARS: usize = 240;

/// A paper as a mail shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailPaper {
    /// Canonical arXiv id (`2401.12345`).
    pub id: String,
    pub title: String,
    pub authors: u32,
    pub upvotes: u32,
    /// The start of the abstract, cut at a word.
    pub snippet: String,
}

impl MailPaper {
    /// `paper` as a mail shows it, with `upvotes` (the total the site shows).
    pub fn new(paper: &Paper, upvotes: u32) -> MailPaper {
        MailPaper {
            id: paper.id.as_str().to_owned(),
            title: paper.biblio.title.clone(),
            authors: u32::try_from(paper.biblio.authors.len()).unwrap_or(u32::MAX),
            upvotes,
            snippet: paperboy_core::text::snippet(&paper.biblio.abstract_text, SNIPPET_CHARS)
                .into_owned(),
        }
    }
}

/// The papers of one period's digests of one size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestEdition {
    /// [`Period::key`].
    pub period: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Most upvoted first.
    pub papers: Vec<MailPaper>,
}

/// A paper a saved search found, and the search (why it is in the mail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertItem {
    pub paper: MailPaper,
    pub query: String,
}

/// What is particular to one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// Double opt-in: "confirm your subscription".
    Confirm {
        /// The single-use confirmation token (the store keeps its hash).
        token: String,
        /// What was asked for, repeated in the mail.
        cadence: String,
        papers: u32,
        send_at: String,
        zone: String,
    },
    /// "Link this subscription to your account": an active subscription
    /// asked for from an account it does not belong to.
    Link {
        /// The single-use token (the store keeps its hash).
        token: String,
        /// The name of the account that asked.
        account: String,
    },
    /// "You are subscribed already": what the address gets, and how to
    /// change or end it.
    Notice {
        unsubscribe_token: String,
        cadence: String,
        papers: u32,
        send_at: String,
        zone: String,
    },
    /// A digest (its papers are in the edition) with any alerts folded in.
    Digest {
        unsubscribe_token: String,
        alerts: Vec<AlertItem>,
    },
    /// Saved-search alerts on their own.
    Alert {
        unsubscribe_token: String,
        alerts: Vec<AlertItem>,
    },
}

/// The key of the edition for `period` with `papers` papers.
pub fn edition_key(period: &Period, papers: u32) -> String {
    format!("{}-n{papers}", period.key())
}

/// The key (Message-ID local part) of `subscription`'s digest of `period`:
/// one period, one message.
pub fn digest_key(period: &Period, subscription: SubscriptionId) -> String {
    format!("digest-{}-s{}", period.key(), subscription.0)
}

/// The key of an alert mail to `user`; `batch` names what it carries (the
/// scheduler uses a hash of its papers' ids).
pub fn alert_key(user: UserId, batch: &str) -> String {
    format!("alert-u{}-{batch}", user.0)
}

/// The confirmation mail for a pending subscription, keyed by the moment
/// it was asked for (asking again sends a new one, within the limits).
pub fn confirmation_message(
    subscription: &Subscription,
    token: &str,
    now: DateTime<Utc>,
) -> NewMessage {
    let payload = Payload::Confirm {
        token: token.to_owned(),
        cadence: subscription.schedule.cadence.as_str().to_owned(),
        papers: subscription.papers,
        send_at: subscription.schedule.send_at.format("%H:%M").to_string(),
        zone: subscription.schedule.zone.name().to_owned(),
    };
    let key = format!("confirm-s{}-{}", subscription.id.0, now.timestamp_millis());
    message(key, MessageKind::Confirm, subscription, None, &payload, now)
}

/// The mail asking an active subscription's owner to link it to
/// `account` (a user name), keyed by the moment it was asked for.
pub fn link_message(
    subscription: &Subscription,
    token: &str,
    account: &str,
    now: DateTime<Utc>,
) -> NewMessage {
    let payload = Payload::Link {
        token: token.to_owned(),
        account: account.to_owned(),
    };
    let key = format!("link-s{}-{}", subscription.id.0, now.timestamp_millis());
    message(key, MessageKind::Link, subscription, None, &payload, now)
}

/// The answer to subscribing an active address again: it is subscribed
/// already (what it gets, how to leave), keyed by the moment it was asked.
pub fn notice_message(subscription: &Subscription, now: DateTime<Utc>) -> NewMessage {
    let payload = Payload::Notice {
        unsubscribe_token: subscription.unsubscribe_token.clone(),
        cadence: subscription.schedule.cadence.as_str().to_owned(),
        papers: subscription.papers,
        send_at: subscription.schedule.send_at.format("%H:%M").to_string(),
        zone: subscription.schedule.zone.name().to_owned(),
    };
    let key = format!("notice-s{}-{}", subscription.id.0, now.timestamp_millis());
    message(key, MessageKind::Notice, subscription, None, &payload, now)
}

/// A message of `kind` to `recipient` with `payload`.
pub fn message(
    key: String,
    kind: MessageKind,
    subscription: &Subscription,
    edition: Option<i64>,
    payload: &Payload,
    now: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        key,
        kind,
        subscription: Some(subscription.id),
        recipient: subscription.email.clone(),
        edition,
        payload: to_json(payload),
        created_at: now,
    }
}

/// Serialises a payload or edition (plain data: it cannot fail).
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("mail content is plain data")
}

/// The recipient of a message, for logs: the domain only (addresses are
/// never logged).
pub fn log_recipient(email: &EmailAddress) -> String {
    format!("…@{}", email.domain())
}
