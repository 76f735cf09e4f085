//! The scheduler: decides what goes into the outbox. Each run matches the
//! papers that changed since the last one against saved searches, queues
//! every digest that is due (each subscriber at their local send time, see
//! [`paperboy_core::Schedule`]) with the matches of digest-delivered
//! searches folded in, and queues one alert mail per user for the others.
//!
//! It is safe to run at any time, as often as one likes, from more than one
//! process: every write is one of the store's idempotent steps. A digest is
//! queued in the transaction that moves its subscription from the period it
//! was due for to the next ([`Mail::queue_digest`], a compare-and-set), so a
//! period is neither skipped nor sent twice; a scheduler that was down for
//! days catches up one period at a time. Matches are recorded with the
//! search's cursor ([`Mail::record_alert_matches`]), at most once per user
//! and paper; an alert mail marks the matches it carries in the same
//! transaction ([`Mail::queue_message`]).
//!
//! [`Scheduler::plan`] answers "what would a run queue now" without writing.
//!
//! It never sends anything (that is [`crate::deliver`]'s) and never logs an
//! address.
//!
//! [`Mail::queue_digest`]: paperboy_store::Mail::queue_digest
//! [`Mail::record_alert_matches`]: paperboy_store::Mail::record_alert_matches
//! [`Mail::queue_message`]: paperboy_store::Mail::queue_message

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use paperboy_core::{ArxivId, Cadence, Period, UserId};
use paperboy_search::{Matcher, PaperText};
use paperboy_store::{
    AlertDelivery, EntryQuery, ListOrder, MessageKind, PaperPage, PendingAlert, SavedSearch, Store,
    StoreError, Subscription, SubscriptionStatus,
};
use sha2::{Digest, Sha256};

use crate::content::{
    AlertItem, DigestEdition, MailPaper, Payload, alert_key, digest_key, edition_key, message,
    to_json,
};

/// How the scheduler reads and what counts as new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// A paper alerts only while it is new: its arXiv publication date or
    /// one of its daily-list days is at most this many days before the
    /// run's (UTC) date. Without it, an upvote on a paper from years ago
    /// would put it in alerts.
    pub new_days: u32,
    /// Changed papers read per step when matching saved searches.
    pub feed_batch: usize,
    /// Due subscriptions read per step.
    pub due_batch: usize,
}

impl Default for SchedulePolicy {
    /// New for 14 days; 500 papers and 500 subscriptions at a time.
    fn default() -> SchedulePolicy {
        SchedulePolicy {
            new_days: 14,
            feed_batch: 500,
            due_batch: 500,
        }
    }
}

/// What a run queued, or what a [`Scheduler::plan`] would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleReport {
    /// Digests queued (one per subscription and period).
    pub digests_queued: u64,
    /// Periods that had nothing to send (no papers on the days covered, no
    /// alerts) or whose subscription's schedule had changed: moved on
    /// without a mail.
    pub digests_empty: u64,
    /// Papers newly matched by saved searches (once per user and paper).
    /// In a plan, an upper bound: the store, not the plan, knows which
    /// papers a user already got.
    pub alert_matches: u64,
    /// Alert mails queued (one per user and run).
    pub alert_mails_queued: u64,
}

impl ScheduleReport {
    /// Whether the run queued or recorded anything.
    pub fn is_idle(&self) -> bool {
        *self == ScheduleReport::default()
    }
}

/// Why a run stopped. What it queued before stays queued, and the next run
/// goes on from there.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("the mail schedule cannot read or update the database")]
    Store(#[from] StoreError),
}

/// Queues due digests and alerts; see the module docs.
pub struct Scheduler {
    pub store: Arc<dyn Store>,
    pub policy: SchedulePolicy,
}

/// The matches a plan found, by user: what a run would have recorded and
/// then found pending.
type PlannedAlerts = HashMap<UserId, Vec<PendingAlert>>;

/// Whether a run writes or only counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Plan,
}

/// What to do with one due period of one subscription.
enum Step {
    /// The subscription's schedule no longer has a period at its due time
    /// (it changed under it): move on to the next period after now.
    Reschedule { next_due: Option<DateTime<Utc>> },
    /// Nothing to send: move on.
    Empty { next_due: Option<DateTime<Utc>> },
    /// A digest to queue.
    Send {
        period: Period,
        alerts: Vec<AlertItem>,
        folded: Vec<ArxivId>,
        next_due: Option<DateTime<Utc>>,
    },
}

/// The editions of one run, by [`edition_key`]: read once however many
/// subscribers share them; stored on first use.
#[derive(Default)]
struct Editions {
    by_key: HashMap<String, Edition>,
}

struct Edition {
    content: DigestEdition,
    /// Its id once stored.
    id: Option<i64>,
}

/// A saved search during one run's pass over the change feed.
struct Watch {
    search: SavedSearch,
    matcher: Matcher,
    /// The change sequence up to which it has looked (recorded or not).
    cursor: u64,
    /// Matches since the cursor was last recorded.
    found: Vec<ArxivId>,
}

impl Scheduler {
    /// A scheduler with the default policy.
    pub fn new(store: Arc<dyn Store>) -> Scheduler {
        Scheduler {
            store,
            policy: SchedulePolicy::default(),
        }
    }

    /// Matches new papers against saved searches, then queues every digest
    /// due at `now` and the alert mails.
    pub fn run_once(&self, now: DateTime<Utc>) -> Result<ScheduleReport, ScheduleError> {
        self.run(now, Mode::Run)
    }

    /// What [`Scheduler::run_once`] would do at `now`, changing nothing.
    pub fn plan(&self, now: DateTime<Utc>) -> Result<ScheduleReport, ScheduleError> {
        self.run(now, Mode::Plan)
    }

    fn run(&self, now: DateTime<Utc>, mode: Mode) -> Result<ScheduleReport, ScheduleError> {
        let started = std::time::Instant::now();
        let mut report = ScheduleReport::default();
        // Alerts first, so that matches of digest-delivered searches go out
        // in digests queued by this very run.
        let planned_matches = self.match_saved_searches(now, mode, &mut report)?;
        self.queue_digests(now, mode, &planned_matches, &mut report)?;
        self.queue_alert_mails(now, mode, &planned_matches, &mut report)?;
        if mode == Mode::Run && !report.is_idle() {
            tracing::info!(
                digests = report.digests_queued,
                empty_periods = report.digests_empty,
                alert_matches = report.alert_matches,
                alert_mails = report.alert_mails_queued,
                duration_ms = started.elapsed().as_millis() as u64,
                "mail scheduled"
            );
        }
        Ok(report)
    }

    // -- Saved searches ----------------------------------------------------

    /// Reads the change feed once, from the oldest cursor of all active
    /// saved searches, and tests each new paper against every search that
    /// has not seen it. In a run, a search's matches are recorded (with its
    /// cursor) after each page that has some, so a crash loses at most one
    /// page's work, which the next run redoes (recording is idempotent);
    /// searches that matched nothing move their cursor once, at the end. In
    /// a plan, returns the matches that would be recorded, by user (nothing
    /// is recorded).
    fn match_saved_searches(
        &self,
        now: DateTime<Utc>,
        mode: Mode,
        report: &mut ScheduleReport,
    ) -> Result<PlannedAlerts, ScheduleError> {
        let mut planned = PlannedAlerts::new();
        let mut watches: Vec<Watch> = self
            .store
            .active_saved_searches()?
            .into_iter()
            .map(|search| Watch {
                matcher: Matcher::new(&search.query, &search.exclude),
                cursor: search.cursor,
                search,
                found: Vec::new(),
            })
            .collect();
        let Some(mut seq) = watches.iter().map(|w| w.cursor).min() else {
            return Ok(planned);
        };
        let oldest_new = now.date_naive() - Duration::days(i64::from(self.policy.new_days));
        loop {
            let page = self
                .store
                .papers_changed_since(seq, self.policy.feed_batch.max(1))?;
            let Some(&(last, _)) = page.last() else {
                break;
            };
            for (paper_seq, paper) in &page {
                if !is_new(paper, oldest_new) || paper.paper.biblio.withdrawn {
                    continue;
                }
                // Cut into words only when some search still has to look.
                let mut text = None;
                for watch in &mut watches {
                    if *paper_seq <= watch.cursor
                        || paper.upvotes < watch.search.min_upvotes
                        || watch.matcher.is_empty()
                    {
                        continue;
                    }
                    let text = text.get_or_insert_with(|| PaperText::new(&paper.paper));
                    if watch.matcher.matches_text(text) {
                        watch.found.push(paper.paper.id.clone());
                    }
                }
            }
            for watch in watches.iter_mut().filter(|w| !w.found.is_empty()) {
                let found = std::mem::take(&mut watch.found);
                match mode {
                    Mode::Run => {
                        report.alert_matches +=
                            self.store
                                .record_alert_matches(watch.search.id, &found, last)?;
                        watch.cursor = last;
                    }
                    Mode::Plan => {
                        let user = planned.entry(watch.search.user).or_default();
                        for paper in found {
                            if !user.iter().any(|a| a.paper == paper) {
                                report.alert_matches += 1;
                                user.push(PendingAlert {
                                    paper,
                                    search: watch.search.id,
                                    query: watch.search.query.clone(),
                                    delivery: watch.search.delivery,
                                });
                            }
                        }
                    }
                }
            }
            seq = last;
        }
        if mode == Mode::Run {
            // Searches that matched nothing still move on, so the next run
            // does not read the same papers again for them.
            for watch in watches.iter().filter(|w| w.cursor < seq) {
                self.store.record_alert_matches(watch.search.id, &[], seq)?;
            }
        }
        Ok(planned)
    }

    // -- Digests -----------------------------------------------------------

    /// Queues every due period of every due subscription, a batch of
    /// subscriptions at a time.
    fn queue_digests(
        &self,
        now: DateTime<Utc>,
        mode: Mode,
        planned: &PlannedAlerts,
        report: &mut ScheduleReport,
    ) -> Result<(), ScheduleError> {
        let mut editions = Editions::default();
        if mode == Mode::Plan {
            // Nothing moves on in a plan, so a batch would come back the
            // same every time: read them all at once.
            for sub in self.store.due_subscriptions(now, usize::MAX)? {
                self.catch_up(&sub, now, mode, planned, &mut editions, report)?;
            }
            return Ok(());
        }
        loop {
            let due = self
                .store
                .due_subscriptions(now, self.policy.due_batch.max(1))?;
            if due.is_empty() {
                break;
            }
            let mut moved = false;
            for sub in &due {
                moved |= self.catch_up(sub, now, mode, planned, &mut editions, report)?;
            }
            if !moved {
                // Every subscription of the batch was moved on by someone
                // else meanwhile, or cannot be: never spin.
                break;
            }
        }
        Ok(())
    }

    /// Queues the periods of `sub` due at `now`, oldest first (several when
    /// the scheduler was down). Returns whether it moved the subscription.
    fn catch_up(
        &self,
        sub: &Subscription,
        now: DateTime<Utc>,
        mode: Mode,
        planned: &PlannedAlerts,
        editions: &mut Editions,
        report: &mut ScheduleReport,
    ) -> Result<bool, ScheduleError> {
        let mut moved = false;
        let mut due = sub.next_due;
        // Alerts go in the first period queued; later ones find none.
        let mut fold = true;
        while let Some(at) = due.filter(|at| *at <= now) {
            let step = self.compose(sub, at, now, fold, mode, planned, editions)?;
            fold = false;
            let next_due = match &step {
                Step::Reschedule { next_due }
                | Step::Empty { next_due }
                | Step::Send { next_due, .. } => *next_due,
            };
            if mode == Mode::Run && !self.commit(sub, at, now, &step, editions)? {
                // Another scheduler moved it on (or it stopped): leave it.
                break;
            }
            match step {
                Step::Send { .. } => report.digests_queued += 1,
                Step::Empty { .. } | Step::Reschedule { .. } => report.digests_empty += 1,
            }
            moved = true;
            due = next_due;
        }
        Ok(moved)
    }

    /// Decides what the period of `sub` due at `due` sends.
    #[allow(clippy::too_many_arguments)] // the run's state, threaded through
    fn compose(
        &self,
        sub: &Subscription,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        fold: bool,
        mode: Mode,
        planned: &PlannedAlerts,
        editions: &mut Editions,
    ) -> Result<Step, ScheduleError> {
        let schedule = &sub.schedule;
        let period = schedule
            .next_after(due - Duration::seconds(1))
            .filter(|(_, at)| *at == due)
            .map(|(period, _)| period);
        let Some(period) = period else {
            // As the store computes a first due time: to the millisecond.
            let next_due = schedule.next_after(now.trunc_subsecs(3)).map(|(_, at)| at);
            return Ok(Step::Reschedule { next_due });
        };
        let next_due = schedule.next_after(due).map(|(_, at)| at);
        let key = edition_key(&period, sub.papers);
        if !editions.by_key.contains_key(&key) {
            let content = self.edition(&period, sub.papers)?;
            editions
                .by_key
                .insert(key.clone(), Edition { content, id: None });
        }
        let (alerts, folded) = match (fold, sub.user) {
            (true, Some(user)) => {
                self.alerts_of(user, |d| d == AlertDelivery::Digest, mode, planned)?
            }
            _ => (Vec::new(), Vec::new()),
        };
        if editions.by_key[&key].content.papers.is_empty() && folded.is_empty() {
            return Ok(Step::Empty { next_due });
        }
        Ok(Step::Send {
            period,
            alerts,
            folded,
            next_due,
        })
    }

    /// Writes one step: queues the digest (if any) and moves `sub` from
    /// `due` on. Returns whether this call moved it.
    fn commit(
        &self,
        sub: &Subscription,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        step: &Step,
        editions: &mut Editions,
    ) -> Result<bool, ScheduleError> {
        let moved = match step {
            Step::Reschedule { next_due } => {
                tracing::info!(
                    subscription.id = sub.id.0,
                    "subscription's schedule changed under it; moved to its next period"
                );
                self.store.queue_digest(sub.id, None, due, *next_due, &[])?
            }
            Step::Empty { next_due } => {
                self.store.queue_digest(sub.id, None, due, *next_due, &[])?
            }
            Step::Send {
                period,
                alerts,
                folded,
                next_due,
            } => {
                let edition = editions
                    .by_key
                    .get_mut(&edition_key(period, sub.papers))
                    .expect("composed with its edition");
                let edition_id = match edition.id {
                    Some(id) => id,
                    None => {
                        let id = self.store.put_edition(
                            &edition_key(period, sub.papers),
                            &to_json(&edition.content),
                        )?;
                        edition.id = Some(id);
                        id
                    }
                };
                let payload = Payload::Digest {
                    unsubscribe_token: sub.unsubscribe_token.clone(),
                    alerts: alerts.clone(),
                };
                let msg = message(
                    digest_key(period, sub.id),
                    MessageKind::Digest,
                    sub,
                    Some(edition_id),
                    &payload,
                    now,
                );
                self.store
                    .queue_digest(sub.id, Some(&msg), due, *next_due, folded)?
            }
        };
        Ok(moved)
    }

    /// The papers of `period`: the most upvoted of the curation days it
    /// covers, each once (a paper can be on several days' lists), at most
    /// `papers`. Withdrawn papers are left out.
    fn edition(&self, period: &Period, papers: u32) -> Result<DigestEdition, ScheduleError> {
        let want = papers as usize;
        let page_size = (2 * u64::from(papers)).max(20);
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(want);
        let mut offset = 0;
        'pages: loop {
            let listed = self.store.entries(&EntryQuery {
                from: period.first_day,
                to: period.last_day,
                submitter: None,
                order: ListOrder::Upvotes,
                offset,
                limit: page_size,
            })?;
            let full = listed.len() as u64 == page_size;
            for item in listed {
                if out.len() == want {
                    break 'pages;
                }
                if item.paper.biblio.withdrawn || !seen.insert(item.paper.id.clone()) {
                    continue;
                }
                out.push(MailPaper::new(&item.paper, item.upvotes));
            }
            if !full || out.len() == want {
                break;
            }
            offset += page_size;
        }
        Ok(DigestEdition {
            period: period.key(),
            first_day: period.first_day,
            last_day: period.last_day,
            papers: out,
        })
    }

    // -- Alert mails -------------------------------------------------------

    /// One alert mail per user with matches to send on their own: those of
    /// immediate searches, and those of digest searches when the user's
    /// subscription has no digest (alerts only).
    fn queue_alert_mails(
        &self,
        now: DateTime<Utc>,
        mode: Mode,
        planned: &PlannedAlerts,
        report: &mut ScheduleReport,
    ) -> Result<(), ScheduleError> {
        let mut users: Vec<UserId> = self
            .store
            .users_with_pending_alerts(AlertDelivery::Immediate)?;
        users.extend(
            self.store
                .users_with_pending_alerts(AlertDelivery::Digest)?,
        );
        if mode == Mode::Plan {
            users.extend(planned.keys().copied());
        }
        users.sort();
        users.dedup();
        for user in users {
            let Some(sub) = self.store.subscription_of_user(user)? else {
                continue;
            };
            if sub.status != SubscriptionStatus::Active {
                continue;
            }
            let alerts_only = sub.schedule.cadence == Cadence::AlertsOnly;
            let wanted = |d: AlertDelivery| d == AlertDelivery::Immediate || alerts_only;
            let (alerts, ids) = self.alerts_of(user, wanted, mode, planned)?;
            if ids.is_empty() {
                continue;
            }
            if mode == Mode::Plan {
                report.alert_mails_queued += 1;
                continue;
            }
            let payload = Payload::Alert {
                unsubscribe_token: sub.unsubscribe_token.clone(),
                alerts,
            };
            let msg = message(
                alert_key(user, &batch_name(&ids)),
                MessageKind::Alert,
                &sub,
                None,
                &payload,
                now,
            );
            if self.store.queue_message(&msg, Some(user), &ids)?.is_some() {
                report.alert_mails_queued += 1;
            }
        }
        Ok(())
    }

    /// The user's pending matches whose delivery `wanted` accepts, as mail
    /// items, and the papers to mark (every one of them, including a paper
    /// the store no longer has, so that it does not stay pending forever).
    /// In a plan, the matches the plan found count as pending too.
    fn alerts_of(
        &self,
        user: UserId,
        wanted: impl Fn(AlertDelivery) -> bool,
        mode: Mode,
        planned: &PlannedAlerts,
    ) -> Result<(Vec<AlertItem>, Vec<ArxivId>), ScheduleError> {
        let mut pending: Vec<PendingAlert> = self.store.pending_alerts(user)?;
        if mode == Mode::Plan {
            for alert in planned.get(&user).into_iter().flatten() {
                if !pending.iter().any(|p| p.paper == alert.paper) {
                    pending.push(alert.clone());
                }
            }
        }
        let mut items = Vec::new();
        let mut ids = Vec::new();
        for alert in pending.into_iter().filter(|a| wanted(a.delivery)) {
            match self.store.paper_page(&alert.paper)? {
                Some(page) => items.push(AlertItem {
                    paper: MailPaper::new(&page.paper, page.upvotes),
                    query: alert.query,
                }),
                None => tracing::warn!(paper.id = %alert.paper, "a matched paper is gone; dropped"),
            }
            ids.push(alert.paper);
        }
        Ok((items, ids))
    }
}

/// Whether a paper is new enough to alert on: published on arXiv, or on a
/// daily list, on or after `oldest`.
fn is_new(page: &PaperPage, oldest: NaiveDate) -> bool {
    let published = page.paper.biblio.published.map(|at| at.date_naive());
    published.is_some_and(|d| d >= oldest) || page.entries.iter().any(|e| e.day >= oldest)
}

/// A name for a set of matched papers: the same set always gets the same
/// name, and a user is never matched to a paper twice, so a name is never
/// reused for other papers. Queuing the same set again (two schedulers at
/// once) is thus one message.
fn batch_name(papers: &[ArxivId]) -> String {
    let mut ids: Vec<&str> = papers.iter().map(ArxivId::as_str).collect();
    ids.sort_unstable();
    let digest = Sha256::digest(ids.join(",").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use paperboy_core::mail::{parse_send_time, parse_zone};
    use paperboy_core::{
        DailyEntry, EmailAddress, NewUser, Paper, Schedule, SourceRecord, SubscriptionId,
    };
    use paperboy_store::{
        Accounts, Mail, NewSavedSearch, NewSubscription, OutboxMessage, SqliteStore,
        SubscribeOutcome,
    };

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test time")
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test day")
    }

    fn arxiv(s: &str) -> ArxivId {
        ArxivId::parse(s).expect("test id").id
    }

    struct Fixture {
        store: Arc<SqliteStore>,
        scheduler: Scheduler,
        users: u32,
    }

    impl Fixture {
        fn new() -> Fixture {
            let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
            let scheduler = Scheduler::new(Arc::clone(&store) as Arc<dyn Store>);
            Fixture {
                store,
                scheduler,
                users: 0,
            }
        }

        /// A paper on the daily list of `on` (published the day before),
        /// with `upvotes` at the source.
        fn listed(&self, id: &str, title: &str, on: &str, upvotes: u32) {
            let mut paper = Paper::new(arxiv(id));
            paper.biblio.title = title.into();
            paper.biblio.abstract_text = format!("The abstract of {title}.");
            paper.biblio.authors = vec!["Ada Lovelace".into()];
            paper.biblio.categories = vec!["cs.CL".into()];
            paper.biblio.published = Some(utc(&format!("{on}T00:00:00Z")) - Duration::hours(7));
            paper.community.observed_at = Some(utc(&format!("{on}T12:00:00Z")));
            paper.community.upvotes = Some(upvotes);
            let entry = DailyEntry {
                paper_id: arxiv(id),
                day: day(on),
                submitter: None,
                position: 0,
                submitted_at: None,
                num_comments: None,
            };
            self.store
                .upsert(&[SourceRecord {
                    paper,
                    entry: Some(entry),
                }])
                .expect("upsert");
        }

        /// A paper from arXiv only (on no daily list), published at
        /// `published`, with `upvotes` observed then.
        fn published(&self, id: &str, title: &str, published: &str, upvotes: u32) {
            let mut paper = Paper::new(arxiv(id));
            paper.biblio.version = Some(1);
            paper.biblio.title = title.into();
            paper.biblio.abstract_text = "An abstract.".into();
            paper.biblio.authors = vec!["Grace Hopper".into()];
            paper.biblio.published = Some(utc(published));
            paper.community.observed_at = Some(utc(published));
            paper.community.upvotes = Some(upvotes);
            self.store
                .upsert(&[SourceRecord { paper, entry: None }])
                .expect("upsert");
        }

        fn user(&mut self) -> UserId {
            self.users += 1;
            let name = format!("user{}", self.users);
            self.store
                .create_user(
                    &NewUser {
                        username: name.clone(),
                        email: format!("{name}@example.org"),
                        display_name: name,
                        password_hash: "$argon2id$test".into(),
                        admin: false,
                    },
                    utc("2026-11-01T00:00:00Z"),
                )
                .expect("create user")
                .id
        }

        /// A confirmed subscription of `email`, confirmed at `at`.
        fn subscriber(
            &self,
            email: &str,
            cadence: Cadence,
            zone: &str,
            user: Option<UserId>,
            at: &str,
        ) -> Subscription {
            let new = NewSubscription {
                email: EmailAddress::parse(email).expect("email"),
                user,
                schedule: Schedule {
                    cadence,
                    send_at: parse_send_time("08:00").expect("time"),
                    zone: parse_zone(zone).expect("zone"),
                },
                papers: 3,
                confirm_token_hash: format!("confirm-{email}"),
                unsubscribe_token: format!("unsubscribe-{email}"),
            };
            let at = utc(at);
            match self.store.subscribe(&new, at).expect("subscribe") {
                SubscribeOutcome::Pending(_) => {}
                other => panic!("not pending: {other:?}"),
            }
            self.store
                .confirm_subscription(&new.confirm_token_hash, at)
                .expect("confirm")
                .expect("token known")
        }

        fn search(&self, user: UserId, query: &str, min_upvotes: u32, delivery: AlertDelivery) {
            self.store
                .add_saved_search(
                    &NewSavedSearch {
                        user,
                        query: query.into(),
                        min_upvotes,
                        exclude: Vec::new(),
                        delivery,
                    },
                    utc("2026-11-01T00:00:00Z"),
                )
                .expect("save search");
        }

        fn run(&self, now: &str) -> ScheduleReport {
            self.scheduler.run_once(utc(now)).expect("run")
        }

        fn messages(&self, email: &str) -> Vec<OutboxMessage> {
            self.store
                .messages_to(&EmailAddress::parse(email).expect("email"))
                .expect("messages")
        }

        /// The keys of the digests and alerts queued to `email`.
        fn keys(&self, email: &str) -> Vec<String> {
            self.messages(email)
                .into_iter()
                .filter(|m| matches!(m.kind, MessageKind::Digest | MessageKind::Alert))
                .map(|m| m.key)
                .collect()
        }

        fn subscription(&self, id: SubscriptionId) -> Subscription {
            self.store
                .subscription(id)
                .expect("read")
                .expect("subscription")
        }
    }

    fn report(digests: u64, empty: u64, matches: u64, alert_mails: u64) -> ScheduleReport {
        ScheduleReport {
            digests_queued: digests,
            digests_empty: empty,
            alert_matches: matches,
            alert_mails_queued: alert_mails,
        }
    }

    fn edition_of(message: &OutboxMessage) -> DigestEdition {
        serde_json::from_str(message.edition.as_deref().expect("an edition")).expect("edition")
    }

    fn payload_of(message: &OutboxMessage) -> Payload {
        serde_json::from_str(&message.payload).expect("payload")
    }

    fn alert_ids(payload: &Payload) -> Vec<String> {
        match payload {
            Payload::Digest { alerts, .. } | Payload::Alert { alerts, .. } => {
                alerts.iter().map(|a| a.paper.id.clone()).collect()
            }
            Payload::Confirm { .. } | Payload::Link { .. } | Payload::Notice { .. } => Vec::new(),
        }
    }

    /// A paper on every curation day from `from` to `to`.
    fn papers_every_day(f: &Fixture, from: &str, to: &str) {
        let mut d = day(from);
        let mut n = 1;
        while d <= day(to) {
            f.listed(
                &format!("2611.{n:05}"),
                &format!("Paper of {d}"),
                &d.to_string(),
                5,
            );
            d += Duration::days(1);
            n += 1;
        }
    }

    // 2026-11-30 is a Monday.

    #[test]
    fn each_time_zone_gets_its_digest_after_its_local_eight() {
        let f = Fixture::new();
        papers_every_day(&f, "2026-11-25", "2026-12-02");
        // Monday 09:00 in Tokyo, Sunday 19:00 in New York.
        let tokyo = f.subscriber(
            "tokyo@example.org",
            Cadence::Daily,
            "Asia/Tokyo",
            None,
            "2026-11-30T00:00:00Z",
        );
        let ny = f.subscriber(
            "ny@example.org",
            Cadence::Daily,
            "America/New_York",
            None,
            "2026-11-30T00:00:00Z",
        );
        let steps = [
            // (UTC instant, Tokyo's digests so far, New York's)
            ("2026-11-30T12:59:00Z", vec![], vec![]),
            // 08:00 in New York.
            ("2026-11-30T13:00:00Z", vec![], vec!["daily-2026-11-30"]),
            ("2026-11-30T22:59:59Z", vec![], vec!["daily-2026-11-30"]),
            // Tuesday 08:00 in Tokyo.
            (
                "2026-11-30T23:00:00Z",
                vec!["daily-2026-12-01"],
                vec!["daily-2026-11-30"],
            ),
            (
                "2026-12-01T12:00:00Z",
                vec!["daily-2026-12-01"],
                vec!["daily-2026-11-30"],
            ),
            (
                "2026-12-01T13:00:00Z",
                vec!["daily-2026-12-01"],
                vec!["daily-2026-11-30", "daily-2026-12-01"],
            ),
            (
                "2026-12-01T23:00:00Z",
                vec!["daily-2026-12-01", "daily-2026-12-02"],
                vec!["daily-2026-11-30", "daily-2026-12-01"],
            ),
        ];
        for (now, want_tokyo, want_ny) in steps {
            f.run(now);
            let expect = |sub: &Subscription, periods: Vec<&str>| -> Vec<String> {
                periods
                    .into_iter()
                    .map(|p| format!("digest-{p}-s{}", sub.id.0))
                    .collect()
            };
            assert_eq!(
                f.keys("tokyo@example.org"),
                expect(&tokyo, want_tokyo),
                "Tokyo at {now}"
            );
            assert_eq!(
                f.keys("ny@example.org"),
                expect(&ny, want_ny),
                "New York at {now}"
            );
        }
        // New York's Monday digest covers Friday to Sunday; Tokyo's Tuesday
        // digest covers Monday.
        let monday = edition_of(&f.messages("ny@example.org")[0]);
        assert_eq!(
            (monday.first_day, monday.last_day),
            (day("2026-11-27"), day("2026-11-29"))
        );
        assert_eq!(monday.papers.len(), 3);
        let tuesday = edition_of(&f.messages("tokyo@example.org")[0]);
        assert_eq!(
            (tuesday.first_day, tuesday.last_day),
            (day("2026-11-30"), day("2026-11-30"))
        );
        assert_eq!(tuesday.papers.len(), 1);
    }

    #[test]
    fn weekly_digests_go_out_on_mondays_only() {
        let f = Fixture::new();
        papers_every_day(&f, "2026-11-20", "2026-12-08");
        let sub = f.subscriber(
            "weekly@example.org",
            Cadence::Weekly,
            "UTC",
            None,
            "2026-11-25T00:00:00Z",
        );
        let mut now = utc("2026-11-25T00:00:00Z");
        while now < utc("2026-12-10T00:00:00Z") {
            f.scheduler.run_once(now).expect("run");
            now += Duration::hours(5);
        }
        assert_eq!(
            f.keys("weekly@example.org"),
            [
                format!("digest-weekly-2026-11-30-s{}", sub.id.0),
                format!("digest-weekly-2026-12-07-s{}", sub.id.0),
            ]
        );
        let week = edition_of(&f.messages("weekly@example.org")[1]);
        assert_eq!(
            (week.first_day, week.last_day),
            (day("2026-11-30"), day("2026-12-06"))
        );
        assert_eq!(week.papers.len(), 3, "the subscriber's size");
    }

    #[test]
    fn running_twice_at_one_instant_queues_nothing_more() {
        let mut f = Fixture::new();
        let user = f.user();
        f.search(user, "ti:mamba", 0, AlertDelivery::Immediate);
        f.subscriber(
            "ada@example.org",
            Cadence::Daily,
            "UTC",
            Some(user),
            "2026-11-30T00:00:00Z",
        );
        papers_every_day(&f, "2026-11-27", "2026-11-30");
        f.published("2611.09001", "Mamba Returns", "2026-11-29T10:00:00Z", 0);
        let now = "2026-11-30T09:00:00Z";
        assert_eq!(f.run(now), report(1, 0, 1, 1));
        let before = f.store.outbox_stats().expect("stats");
        assert_eq!(f.run(now), ScheduleReport::default());
        assert_eq!(f.store.outbox_stats().expect("stats"), before);
        assert_eq!(before.queued, 2);
    }

    #[test]
    fn missed_periods_go_out_one_by_one() {
        let mut f = Fixture::new();
        // One subscription a batch, so the run also pages through batches.
        f.scheduler.policy.due_batch = 1;
        papers_every_day(&f, "2026-11-25", "2026-12-04");
        let a = f.subscriber(
            "a@example.org",
            Cadence::Daily,
            "UTC",
            None,
            "2026-11-30T00:00:00Z",
        );
        let b = f.subscriber(
            "b@example.org",
            Cadence::Daily,
            "Europe/Berlin",
            None,
            "2026-11-30T00:00:00Z",
        );
        // Down from Monday night to Thursday noon.
        let got = f.run("2026-12-03T12:00:00Z");
        assert_eq!(got, report(8, 0, 0, 0));
        for (email, sub) in [("a@example.org", &a), ("b@example.org", &b)] {
            let periods: Vec<String> = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
                .iter()
                .map(|d| format!("digest-daily-{d}-s{}", sub.id.0))
                .collect();
            assert_eq!(f.keys(email), periods, "{email}");
            // Consecutive: each covers the days after the one before.
            let editions: Vec<DigestEdition> = f.messages(email).iter().map(edition_of).collect();
            assert_eq!(editions[0].first_day, day("2026-11-27"));
            for pair in editions.windows(2) {
                assert_eq!(pair[1].first_day, pair[0].last_day + Duration::days(1));
            }
            assert_eq!(editions[3].last_day, day("2026-12-02"));
        }
        // Next due: Friday 08:00 local.
        assert_eq!(
            f.subscription(a.id).next_due,
            Some(utc("2026-12-04T08:00:00Z"))
        );
        assert_eq!(
            f.subscription(b.id).next_due,
            Some(utc("2026-12-04T07:00:00Z"))
        );
        assert_eq!(f.run("2026-12-03T12:00:00Z"), ScheduleReport::default());
    }

    #[test]
    fn an_empty_period_moves_on_without_a_mail() {
        let f = Fixture::new();
        // Nothing on Friday to Sunday; something on Monday.
        f.listed("2611.00001", "Monday paper", "2026-11-30", 1);
        let sub = f.subscriber(
            "e@example.org",
            Cadence::Daily,
            "UTC",
            None,
            "2026-11-30T00:00:00Z",
        );
        assert_eq!(f.run("2026-11-30T08:00:00Z"), report(0, 1, 0, 0));
        assert!(f.keys("e@example.org").is_empty());
        assert_eq!(
            f.subscription(sub.id).next_due,
            Some(utc("2026-12-01T08:00:00Z"))
        );
        assert_eq!(f.run("2026-12-01T08:00:00Z"), report(1, 0, 0, 0));
        assert_eq!(
            f.keys("e@example.org"),
            [format!("digest-daily-2026-12-01-s{}", sub.id.0)]
        );
    }

    #[test]
    fn a_paper_on_several_lists_is_in_a_digest_once() {
        let f = Fixture::new();
        f.listed("2611.00001", "Twice listed", "2026-11-27", 50);
        f.listed("2611.00001", "Twice listed", "2026-11-28", 50);
        f.listed("2611.00002", "Once", "2026-11-29", 3);
        let _ = f.subscriber(
            "d@example.org",
            Cadence::Daily,
            "UTC",
            None,
            "2026-11-30T00:00:00Z",
        );
        f.run("2026-11-30T08:00:00Z");
        let edition = edition_of(&f.messages("d@example.org")[0]);
        let ids: Vec<&str> = edition.papers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["2611.00001", "2611.00002"]);
    }

    #[test]
    fn a_saved_search_alerts_once_per_user_and_paper() {
        let mut f = Fixture::new();
        let user = f.user();
        f.subscriber(
            "ada@example.org",
            Cadence::AlertsOnly,
            "UTC",
            Some(user),
            "2026-11-30T00:00:00Z",
        );
        f.search(user, "ti:mamba", 0, AlertDelivery::Immediate);
        f.search(user, "au:hopper", 0, AlertDelivery::Immediate);
        f.published("2611.09001", "Mamba Returns", "2026-11-29T10:00:00Z", 1);
        f.published(
            "2611.09002",
            "Transformers Again",
            "2026-11-29T10:00:00Z",
            1,
        );
        // Both searches match the first paper, the second one the second:
        // two papers, one mail.
        assert_eq!(f.run("2026-11-30T09:00:00Z"), report(0, 0, 2, 1));
        let messages = f.messages("ada@example.org");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].kind, MessageKind::Alert);
        assert!(messages[0].key.starts_with(&format!("alert-u{}-", user.0)));
        let mut ids = alert_ids(&payload_of(&messages[0]));
        ids.sort();
        assert_eq!(ids, ["2611.09001", "2611.09002"]);
        // Again, and after the paper changed (more upvotes): nothing new.
        assert_eq!(f.run("2026-11-30T09:00:00Z"), ScheduleReport::default());
        f.published("2611.09001", "Mamba Returns", "2026-11-30T10:00:00Z", 40);
        assert_eq!(f.run("2026-11-30T10:00:00Z"), ScheduleReport::default());
        assert_eq!(f.messages("ada@example.org").len(), 1);
        // A third search saved later does not mail old matches either.
        f.search(user, "mamba", 0, AlertDelivery::Immediate);
        assert_eq!(f.run("2026-11-30T11:00:00Z"), ScheduleReport::default());
    }

    #[test]
    fn digest_alerts_are_folded_into_the_next_digest() {
        let mut f = Fixture::new();
        let user = f.user();
        let sub = f.subscriber(
            "ada@example.org",
            Cadence::Daily,
            "UTC",
            Some(user),
            "2026-11-30T09:00:00Z",
        );
        f.search(user, "ti:mamba", 0, AlertDelivery::Digest);
        // Matched Monday afternoon; on no list, so Tuesday's edition (Monday's
        // list) is empty: the digest goes out for the alert alone.
        f.published("2611.09001", "Mamba Returns", "2026-11-30T10:00:00Z", 0);
        assert_eq!(f.run("2026-11-30T12:00:00Z"), report(0, 0, 1, 0));
        assert!(
            f.keys("ada@example.org").is_empty(),
            "not before the digest"
        );
        assert_eq!(f.run("2026-12-01T08:00:00Z"), report(1, 0, 0, 0));
        let messages = f.messages("ada@example.org");
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].key,
            format!("digest-daily-2026-12-01-s{}", sub.id.0)
        );
        assert!(edition_of(&messages[0]).papers.is_empty());
        assert_eq!(alert_ids(&payload_of(&messages[0])), ["2611.09001"]);
        assert!(f.store.pending_alerts(user).expect("pending").is_empty());
        // Wednesday: nothing on Tuesday's list, no alert: no mail.
        assert_eq!(f.run("2026-12-02T08:00:00Z"), report(0, 1, 0, 0));
    }

    #[test]
    fn alerts_only_subscribers_get_digest_searches_in_alert_mails() {
        let mut f = Fixture::new();
        let user = f.user();
        f.subscriber(
            "ada@example.org",
            Cadence::AlertsOnly,
            "UTC",
            Some(user),
            "2026-11-30T00:00:00Z",
        );
        f.search(user, "mamba", 0, AlertDelivery::Digest);
        f.published("2611.09001", "Mamba Returns", "2026-11-30T10:00:00Z", 0);
        assert_eq!(f.run("2026-11-30T12:00:00Z"), report(0, 0, 1, 1));
        assert_eq!(f.messages("ada@example.org")[0].kind, MessageKind::Alert);
    }

    #[test]
    fn min_upvotes_and_newness_are_respected() {
        let mut f = Fixture::new();
        let user = f.user();
        f.subscriber(
            "ada@example.org",
            Cadence::AlertsOnly,
            "UTC",
            Some(user),
            "2026-11-30T00:00:00Z",
        );
        f.search(user, "mamba", 10, AlertDelivery::Immediate);
        f.published("2611.09001", "Mamba Returns", "2026-11-29T10:00:00Z", 5);
        // Published long ago: an upvote does not make it news.
        f.published("2608.09002", "Mamba Classic", "2026-08-01T10:00:00Z", 100);
        assert_eq!(f.run("2026-11-30T09:00:00Z"), ScheduleReport::default());
        // More upvotes observed: now it passes.
        f.published("2611.09001", "Mamba Returns", "2026-11-30T10:00:00Z", 12);
        assert_eq!(f.run("2026-11-30T11:00:00Z"), report(0, 0, 1, 1));
        assert_eq!(
            alert_ids(&payload_of(&f.messages("ada@example.org")[0])),
            ["2611.09001"]
        );
        // An old paper newly on a daily list is news again.
        f.listed("2608.09002", "Mamba Classic", "2026-11-30", 100);
        assert_eq!(f.run("2026-11-30T12:00:00Z"), report(0, 0, 1, 1));
    }

    #[test]
    fn a_plan_changes_nothing() {
        let mut f = Fixture::new();
        let user = f.user();
        let sub = f.subscriber(
            "ada@example.org",
            Cadence::Daily,
            "UTC",
            Some(user),
            "2026-11-30T00:00:00Z",
        );
        f.search(user, "ti:mamba", 0, AlertDelivery::Digest);
        f.search(user, "ti:returns", 0, AlertDelivery::Immediate);
        papers_every_day(&f, "2026-11-25", "2026-12-02");
        f.published("2611.09001", "Mamba Returns", "2026-11-29T10:00:00Z", 0);
        f.published("2611.09002", "Sequel Returns", "2026-11-29T10:00:00Z", 0);
        let searches = f.store.saved_searches_of(user).expect("searches");
        let now = utc("2026-12-01T09:00:00Z");
        let plan = f.scheduler.plan(now).expect("plan");
        assert_eq!(plan, report(2, 0, 2, 1));
        assert_eq!(
            f.scheduler.plan(now).expect("plan"),
            plan,
            "plans are repeatable"
        );
        assert_eq!(f.store.outbox_stats().expect("stats").queued, 0);
        assert_eq!(f.subscription(sub.id).next_due, sub.next_due);
        assert_eq!(f.store.saved_searches_of(user).expect("searches"), searches);
        assert!(f.store.pending_alerts(user).expect("pending").is_empty());
        // The run does what the plan said. The first search found the
        // first paper: it goes in the digest; the second paper by mail.
        assert_eq!(f.scheduler.run_once(now).expect("run"), plan);
    }
}
