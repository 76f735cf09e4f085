//! The sender: claims queued messages from the outbox, renders and sends
//! each, and records what happened — sent, to be retried later with
//! backoff, or given up (and the subscription paused after repeated
//! bounces).
//!
//! Delivery is at least once: a message is marked sent only after the mail
//! server accepted it, so a crash in between sends it again once its lease
//! ends — rendered to the identical bytes with the identical Message-ID
//! ([`crate::render`]), so that the duplicate is recognisable as one (many
//! mail stores and clients drop it).
//! [`Deliverer::after_accept`] lets a test crash exactly there.
//!
//! A server that is down must not burn through the outbox's attempt counts:
//! after [`RetryPolicy::trip_after`] temporary failures in a row the run
//! stops and hands the messages it still holds back untried.
//!
//! It never logs an address (only [`log_recipient`]'s domain) and never
//! decides what is queued: that is [`crate::schedule`]'s.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_core::MessageId;
use paperboy_store::{OutboxMessage, Store, StoreError};

use crate::content::log_recipient;
use crate::render::{MailSettings, RenderError, Renderer};
use crate::smtp::{MailTransport, SendError};

/// When to try again and when to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the n-th failed attempt (the last one repeats).
    pub backoff: Vec<Duration>,
    /// Attempts after which a temporary failure is final.
    pub max_attempts: u32,
    /// Permanent failures (bounces) in a row that pause a subscription.
    pub pause_after: u32,
    /// How long a claimed message is held before another sender may take it
    /// (at least a minute). A run stops sending from a batch when a fifth
    /// of its lease is left, so this must be well above the time one send
    /// can take (the SMTP timeout times a few commands).
    pub lease: Duration,
    /// Messages claimed at a time, and the most that may be accepted by the
    /// server and not yet marked sent: accepted messages are marked sent
    /// together (one transaction) whenever half a batch has piled up,
    /// while sending goes on, and sending waits rather than exceed it. A
    /// crash resends at most a batch, each the same bytes as before.
    pub batch: usize,
    /// Temporary failures in a row after which the server is taken to be
    /// down (or refusing us) and the run stops.
    pub trip_after: u32,
    /// Messages sent at once, each over its own connection (the SMTP
    /// transport's pool must allow as many).
    pub connections: usize,
}

impl Default for RetryPolicy {
    /// 1 min, 5 min, 30 min, 2 h, then every 8 h; 8 attempts (about a day
    /// and a half); paused after 3 bounces; 5-minute leases, 200 at a time;
    /// stop after 5 temporary failures in a row; 8 connections.
    fn default() -> RetryPolicy {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        RetryPolicy {
            backoff: vec![
                minutes(1),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(480),
            ],
            max_attempts: 8,
            pause_after: 3,
            lease: minutes(5),
            batch: 200,
            trip_after: 5,
            connections: 8,
        }
    }
}

impl RetryPolicy {
    /// The wait after a message's `attempts`-th attempt failed.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let index = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
        self.backoff
            .get(index)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(Duration::from_secs(60))
            .max(Duration::from_secs(1))
    }
}

/// The shortest lease a run takes, whatever the policy says.
const MIN_LEASE: Duration = Duration::from_secs(60);

/// What a [`Deliverer::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Accepted by the mail server and marked sent.
    pub sent: u64,
    /// Failed temporarily; to be tried again later.
    pub retried: u64,
    /// Given up: a permanent failure, a message that cannot be rendered, or
    /// too many temporary failures.
    pub failed: u64,
    /// Subscriptions paused by this run's bounces.
    pub paused: u64,
    /// Claimed but handed back untried (the run stopped early).
    pub released: u64,
    /// Why the run stopped before the outbox was empty, if it did.
    pub stopped: Option<String>,
}

impl DeliveryReport {
    fn add(&mut self, other: &DeliveryReport) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.paused += other.paused;
        self.released += other.released;
    }
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("the outbox cannot be read or updated")]
    Store(#[from] StoreError),
}

/// The clock the deliverer reads (tests freeze it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A hook called after the server accepted a message, before it is marked
/// sent.
pub type AfterAccept = Arc<dyn Fn(&OutboxMessage) + Send + Sync>;

/// Sends what the outbox holds.
pub struct Deliverer {
    pub store: Arc<dyn Store>,
    pub transport: Arc<dyn MailTransport>,
    pub settings: MailSettings,
    pub policy: RetryPolicy,
    pub clock: Clock,
    /// Fault injection: called after the server accepted a message and
    /// before it is marked sent (a crash test exits the process here).
    pub after_accept: Option<AfterAccept>,
}

/// One run: the sending threads take claimed messages from its queue; the
/// run's own thread keeps the queue filled (it claims the next batch while
/// half of one is left) and marks what the server accepted sent. Sending
/// never waits for the database, except to stay within a batch of
/// accepted messages not marked sent.
struct Run<'r> {
    state: Mutex<RunState<'r>>,
    /// Wakes sending threads: there are messages to take, or room, or the
    /// run stops.
    to_senders: Condvar,
    /// Wakes the run's own thread when [`RunState::feeder_step`] has work.
    to_feeder: Condvar,
    /// Messages claimed at a time; see [`RetryPolicy::batch`].
    batch: usize,
}

/// A claimed message waiting to be sent.
struct Queued<'r> {
    message: OutboxMessage,
    /// Until when its claim holds it.
    lease_until: DateTime<Utc>,
    /// Its claim's editions, written out once.
    renderer: Arc<Renderer<'r>>,
}

struct RunState<'r> {
    /// Claimed, in order, not taken yet.
    queue: VecDeque<Queued<'r>>,
    /// The last claim came back empty: nothing more to claim.
    drained: bool,
    /// Sending threads not finished.
    senders: usize,
    /// Messages taken by a sending thread and not done with.
    sending: usize,
    /// Accepted by the server, to be marked sent.
    accepted: Vec<MessageId>,
    /// Being marked sent right now.
    marking: usize,
    /// Taken but not tried (the lease was running out), to hand back.
    unsent: Vec<OutboxMessage>,
    /// The run's own thread waits on [`Run::to_feeder`].
    feeder_waits: bool,
    report: DeliveryReport,
    failures_in_a_row: u32,
    /// Why the run stops (the server seems down).
    stopped: Option<String>,
    /// A database error: the run stops and returns it.
    error: Option<DeliverError>,
}

/// What the run's own thread does next.
enum FeederStep {
    /// Mark the accepted messages sent.
    Mark,
    /// Claim another batch.
    Claim,
    /// Hand back messages whose lease ran out before they were sent.
    Release,
    Wait,
    /// The sending threads are done.
    Done,
}

impl RunState<'_> {
    fn stopping(&self) -> bool {
        self.stopped.is_some() || self.error.is_some()
    }

    /// Whether a sending thread may take one more message: at most a batch
    /// may be accepted and not marked sent, in flight included.
    fn has_room(&self, batch: usize) -> bool {
        self.sending + self.accepted.len() + self.marking < batch
    }

    fn feeder_step(&self, batch: usize) -> FeederStep {
        if self.senders == 0 {
            FeederStep::Done
        } else if self.stopping() {
            // What is left is settled once the senders are done.
            FeederStep::Wait
        } else if self.accepted.len() >= (batch / 2).max(1) {
            FeederStep::Mark
        } else if !self.drained && self.queue.len() <= batch / 2 {
            FeederStep::Claim
        } else if !self.unsent.is_empty() {
            FeederStep::Release
        } else {
            FeederStep::Wait
        }
    }
}

impl<'r> Run<'r> {
    fn new(senders: usize, batch: usize) -> Run<'r> {
        Run {
            state: Mutex::new(RunState {
                queue: VecDeque::new(),
                drained: false,
                senders,
                sending: 0,
                accepted: Vec::new(),
                marking: 0,
                unsent: Vec::new(),
                feeder_waits: false,
                report: DeliveryReport::default(),
                failures_in_a_row: 0,
                stopped: None,
                error: None,
            }),
            to_senders: Condvar::new(),
            to_feeder: Condvar::new(),
            batch,
        }
    }

    fn lock(&self) -> MutexGuard<'_, RunState<'r>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a sending thread changed the state: wakes the run's own
    /// thread if that gave it something to do.
    fn changed_by_sender(&self, state: &RunState<'_>) {
        if state.feeder_waits && !matches!(state.feeder_step(self.batch), FeederStep::Wait) {
            self.to_feeder.notify_one();
        }
    }
}

/// Leaves the run when a sending thread ends, panics included (then the
/// run stops: the panic is a bug, and it reaches the caller).
struct Leaving<'a, 'r>(&'a Run<'r>);

impl Drop for Leaving<'_, '_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.senders -= 1;
        if std::thread::panicking() {
            state
                .stopped
                .get_or_insert_with(|| "a sending thread panicked".to_owned());
            self.0.to_senders.notify_all();
        }
        self.0.changed_by_sender(&state);
    }
}

/// What happened to one message, for the run's bookkeeping.
enum Outcome {
    /// The server took it; to be marked sent.
    Accepted(MessageId),
    Done,
    Temporary(String),
}

impl Deliverer {
    /// A deliverer with the default policy, the system clock and no hook.
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<dyn MailTransport>,
        settings: MailSettings,
    ) -> Deliverer {
        Deliverer {
            store,
            transport,
            settings,
            policy: RetryPolicy::default(),
            clock: Arc::new(Utc::now),
            after_accept: None,
        }
    }

    /// Sends every message that is due until none is left, the server
    /// seems down, or a store error stops it. Messages go out over up to
    /// `policy.connections` connections at once (each SMTP exchange mostly
    /// waits on the server) while this thread claims and marks (see
    /// [`Run`]).
    pub fn run_once(&self) -> Result<DeliveryReport, DeliverError> {
        // A lease shorter than a minute could run out during one slow
        // send, and each claim counts an attempt.
        let lease = chrono_duration(self.policy.lease.max(MIN_LEASE));
        // Do not start a send when less than this is left of its lease, so
        // that nobody else claims a message while we send it.
        let margin = lease / 5;
        let batch = self.policy.batch.max(1);
        let senders = self.policy.connections.clamp(1, batch);
        let run = Run::new(senders, batch);
        std::thread::scope(|scope| {
            for _ in 0..senders {
                scope.spawn(|| self.send_from(&run, margin));
            }
            self.feed(&run, lease);
        });
        self.settle(run.state.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// The run's own thread: claims, marks sent and hands back until the
    /// sending threads are done.
    fn feed<'r>(&'r self, run: &Run<'r>, lease: chrono::Duration) {
        let mut state = run.lock();
        loop {
            match state.feeder_step(run.batch) {
                FeederStep::Done => return,
                FeederStep::Wait => {
                    state.feeder_waits = true;
                    state = run.to_feeder.wait(state).unwrap_or_else(|e| e.into_inner());
                    state.feeder_waits = false;
                }
                FeederStep::Mark => {
                    let ids = std::mem::take(&mut state.accepted);
                    state.marking = ids.len();
                    drop(state);
                    // One transaction. A crash before it resends these
                    // after their lease: the same bytes.
                    let marked = self.store.mark_sent(&ids, (self.clock)());
                    state = run.lock();
                    state.marking = 0;
                    match marked {
                        Ok(()) => state.report.sent += ids.len() as u64,
                        Err(error) => {
                            state.error.get_or_insert(error.into());
                        }
                    }
                    run.to_senders.notify_all();
                }
                FeederStep::Claim => {
                    drop(state);
                    let claimed = self.claim(lease);
                    state = run.lock();
                    match claimed {
                        Ok(claimed) if claimed.is_empty() => state.drained = true,
                        Ok(claimed) => state.queue.extend(claimed),
                        Err(error) => {
                            state.error.get_or_insert(error);
                        }
                    }
                    run.to_senders.notify_all();
                }
                FeederStep::Release => {
                    let unsent = std::mem::take(&mut state.unsent);
                    drop(state);
                    let mut report = DeliveryReport::default();
                    let why = "the lease ran out before it was sent";
                    let released = self.release(&unsent, why, false, &mut report);
                    state = run.lock();
                    state.report.add(&report);
                    if let Err(error) = released {
                        state.error.get_or_insert(error);
                        run.to_senders.notify_all();
                    }
                }
            }
        }
    }

    /// Claims a batch, its editions written out once for all its messages.
    fn claim(&self, lease: chrono::Duration) -> Result<Vec<Queued<'_>>, DeliverError> {
        let now = (self.clock)();
        let lease_until = now + lease;
        let claimed = self
            .store
            .claim_messages(now, lease_until, self.policy.batch.max(1))?;
        let mut renderer = Renderer::new(&self.settings);
        renderer.prepare(&claimed);
        let renderer = Arc::new(renderer);
        Ok(claimed
            .into_iter()
            .map(|message| Queued {
                message,
                lease_until,
                renderer: Arc::clone(&renderer),
            })
            .collect())
    }

    /// Once the sending threads are done: marks the last accepted messages
    /// sent and hands back what was claimed and not tried.
    fn settle(&self, state: RunState<'_>) -> Result<DeliveryReport, DeliverError> {
        let RunState {
            queue,
            accepted,
            unsent,
            mut report,
            failures_in_a_row,
            stopped,
            mut error,
            ..
        } = state;
        if !accepted.is_empty() {
            match self.store.mark_sent(&accepted, (self.clock)()) {
                Ok(()) => report.sent += accepted.len() as u64,
                Err(e) => {
                    error.get_or_insert(e.into());
                }
            }
        }
        let mut rest = unsent;
        rest.extend(queue.into_iter().map(|queued| queued.message));
        if let Some(error) = error {
            self.release(
                &rest,
                "the run stopped on a database error",
                false,
                &mut report,
            )?;
            return Err(error);
        }
        if let Some(why) = stopped {
            self.release(&rest, &why, true, &mut report)?;
            tracing::warn!(
                failures = failures_in_a_row,
                released = rest.len(),
                why = %why,
                "mail server seems unavailable; stopping this run"
            );
            report.stopped = Some(why);
            return Ok(report);
        }
        if !rest.is_empty() {
            let why = "the lease ran out before it was sent";
            self.release(&rest, why, false, &mut report)?;
        }
        Ok(report)
    }

    /// One sending thread: takes queued messages one at a time until none
    /// is left or the run stops.
    fn send_from<'r>(&'r self, run: &Run<'r>, margin: chrono::Duration) {
        let _leaving = Leaving(run);
        loop {
            let queued = {
                let mut state = run.lock();
                loop {
                    if state.stopping() {
                        return;
                    }
                    if state.has_room(run.batch)
                        && let Some(queued) = state.queue.pop_front()
                    {
                        state.sending += 1;
                        run.changed_by_sender(&state);
                        break queued;
                    }
                    if state.drained && state.queue.is_empty() {
                        return;
                    }
                    state = run
                        .to_senders
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            if (self.clock)() + margin >= queued.lease_until {
                let mut state = run.lock();
                state.sending -= 1;
                state.unsent.push(queued.message);
                run.to_senders.notify_one();
                run.changed_by_sender(&state);
                continue;
            }
            let mut report = DeliveryReport::default();
            let outcome = self.deliver(&queued.message, &queued.renderer, &mut report);
            let mut state = run.lock();
            state.sending -= 1;
            state.report.add(&report);
            match outcome {
                Ok(Outcome::Accepted(id)) => {
                    state.failures_in_a_row = 0;
                    state.accepted.push(id);
                }
                Ok(Outcome::Done) => {
                    state.failures_in_a_row = 0;
                    // Not accepted: room for one more.
                    run.to_senders.notify_one();
                }
                Ok(Outcome::Temporary(error)) => {
                    state.failures_in_a_row += 1;
                    run.to_senders.notify_one();
                    if state.failures_in_a_row >= self.policy.trip_after.max(1)
                        && state.stopped.is_none()
                    {
                        state.stopped = Some(format!(
                            "{} temporary failures in a row, the last: {error}",
                            state.failures_in_a_row
                        ));
                        run.to_senders.notify_all();
                    }
                }
                Err(error) => {
                    state.error.get_or_insert(error);
                    run.to_senders.notify_all();
                }
            }
            run.changed_by_sender(&state);
        }
    }

    /// Renders and sends one claimed message and records the outcome.
    fn deliver(
        &self,
        message: &OutboxMessage,
        renderer: &Renderer,
        report: &mut DeliveryReport,
    ) -> Result<Outcome, DeliverError> {
        let recipient = log_recipient(&message.recipient);
        let rendered = match renderer.render(message) {
            Ok(rendered) => rendered,
            Err(error) => {
                // Our own content is broken: permanent, but not the
                // subscriber's fault, so it never pauses a subscription —
                // unless the address itself cannot be written.
                let bounce = match error {
                    RenderError::Recipient { .. } => Some(self.policy.pause_after),
                    _ => None,
                };
                let text = format!("cannot render: {error}");
                tracing::error!(
                    message.key = %message.key,
                    recipient = %recipient,
                    error = %text,
                    "mail given up"
                );
                self.fail(message, &text, bounce, report)?;
                return Ok(Outcome::Done);
            }
        };
        match self.transport.send(&rendered) {
            Ok(()) => {
                if let Some(hook) = &self.after_accept {
                    hook(message);
                }
                // Debug: a day's digests are many thousand lines, and a run
                // is summed up where it ends (`serve`'s "mail: …" line,
                // `digest send`'s summary). Failures stay a line each.
                tracing::debug!(
                    message.key = %message.key,
                    message.kind = message.kind.as_str(),
                    recipient = %recipient,
                    attempts = message.attempts,
                    "mail sent"
                );
                Ok(Outcome::Accepted(message.id))
            }
            Err(SendError::Temporary(error)) => {
                let error = redact(&error, message);
                if message.attempts >= self.policy.max_attempts {
                    let text = format!(
                        "gave up after {} attempts; the last failed: {error}",
                        message.attempts
                    );
                    tracing::error!(
                        message.key = %message.key,
                        recipient = %recipient,
                        error = %text,
                        "mail given up"
                    );
                    // Not a bounce: the server or the way to it failed.
                    self.fail(message, &text, None, report)?;
                } else {
                    let wait = self.policy.backoff_after(message.attempts);
                    let retry_at = (self.clock)() + chrono_duration(wait);
                    self.store.mark_retry(message.id, &error, retry_at)?;
                    report.retried += 1;
                    tracing::warn!(
                        message.key = %message.key,
                        recipient = %recipient,
                        attempts = message.attempts,
                        retry_in_s = wait.as_secs(),
                        error = %error,
                        "mail not sent; will retry"
                    );
                }
                Ok(Outcome::Temporary(error))
            }
            Err(SendError::Permanent(error)) => {
                let error = redact(&error, message);
                tracing::warn!(
                    message.key = %message.key,
                    recipient = %recipient,
                    error = %error,
                    "mail refused by the server"
                );
                self.fail(message, &error, Some(self.policy.pause_after), report)?;
                Ok(Outcome::Done)
            }
        }
    }

    fn fail(
        &self,
        message: &OutboxMessage,
        error: &str,
        bounce: Option<u32>,
        report: &mut DeliveryReport,
    ) -> Result<(), DeliverError> {
        let paused = self
            .store
            .mark_failed(message.id, error, (self.clock)(), bounce)?;
        report.failed += 1;
        if paused {
            report.paused += 1;
            tracing::warn!(
                message.key = %message.key,
                subscription = message.subscription.map(|s| s.0),
                bounces = bounce,
                "subscription paused after repeated bounces"
            );
        }
        Ok(())
    }

    /// Hands claimed messages back untried. With `back_off` they wait as
    /// after a failed attempt (the server is down: no point in hurrying);
    /// otherwise they are due again at once.
    fn release(
        &self,
        messages: &[OutboxMessage],
        why: &str,
        back_off: bool,
        report: &mut DeliveryReport,
    ) -> Result<(), DeliverError> {
        let now = (self.clock)();
        let text = format!("not tried: {why}");
        for message in messages {
            let retry_at = if back_off {
                now + chrono_duration(self.policy.backoff_after(message.attempts))
            } else {
                now
            };
            self.store
                .mark_retry(message.id, &redact(&text, message), retry_at)?;
            report.released += 1;
        }
        Ok(())
    }
}

/// A server's error text without the recipient's address (servers quote
/// it; logs must not).
fn redact(text: &str, message: &OutboxMessage) -> String {
    let address = message.recipient.as_str();
    if address.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_lowercase();
    if lower.len() != text.len() || !lower.contains(address) {
        return text.replace(address, &log_recipient(&message.recipient));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(address) {
        out.push_str(&text[rest..at]);
        out.push_str(&log_recipient(&message.recipient));
        rest = at + address.len();
    }
    out.push_str(&text[rest..]);
    out
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use paperboy_core::{EmailAddress, Schedule};
    use paperboy_store::{
        Mail, MessageKind, MessageStatus, NewSubscription, SqliteStore, SubscriptionStatus,
    };

    use super::*;
    use crate::content::{AlertItem, MailPaper, Payload, message as new_message};
    use crate::render::{Rendered, render};

    /// Records what it is asked to send; fails for the recipients it is told
    /// to, or for everyone while `down`.
    #[derive(Default)]
    struct FakeTransport {
        sent: Mutex<Vec<(String, Vec<u8>)>>,
        failing: Mutex<HashMap<String, SendError>>,
        down: Mutex<bool>,
    }

    impl FakeTransport {
        fn fail(&self, to: &str, error: SendError) {
            self.failing.lock().unwrap().insert(to.to_owned(), error);
        }

        fn sent_to(&self) -> Vec<String> {
            self.sent
                .lock()
                .unwrap()
                .iter()
                .map(|(to, _)| to.clone())
                .collect()
        }
    }

    impl MailTransport for FakeTransport {
        fn send(&self, message: &Rendered) -> Result<(), SendError> {
            let to = message.envelope().to()[0].to_string();
            if *self.down.lock().unwrap() {
                return Err(SendError::Temporary("Connection refused".to_owned()));
            }
            if let Some(error) = self.failing.lock().unwrap().get(&to) {
                return Err(error.clone());
            }
            self.sent
                .lock()
                .unwrap()
                .push((to, message.formatted().to_vec()));
            Ok(())
        }
    }

    struct Setup {
        store: Arc<SqliteStore>,
        transport: Arc<FakeTransport>,
        now: Arc<Mutex<DateTime<Utc>>>,
        deliverer: Deliverer,
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn setup(policy: RetryPolicy) -> Setup {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let transport = Arc::new(FakeTransport::default());
        let now = Arc::new(Mutex::new(t0()));
        let clock_now = Arc::clone(&now);
        let settings = MailSettings::new(
            "Paperboy <papers@example.org>",
            "https://p.example.org",
            "Paperboy",
        )
        .unwrap();
        let mut deliverer = Deliverer::new(
            Arc::clone(&store) as Arc<dyn Store>,
            Arc::clone(&transport) as Arc<dyn MailTransport>,
            settings,
        );
        deliverer.policy = policy;
        deliverer.clock = Arc::new(move || *clock_now.lock().unwrap());
        Setup {
            store,
            transport,
            now,
            deliverer,
        }
    }

    impl Setup {
        fn advance(&self, d: Duration) {
            *self.now.lock().unwrap() += chrono_duration(d);
        }

        /// An active subscription for `email` with `n` alert mails queued.
        fn queue(&self, email: &str, n: usize) -> Vec<MessageId> {
            let email = EmailAddress::parse(email).unwrap();
            let new = NewSubscription {
                email: email.clone(),
                user: None,
                schedule: Schedule::default(),
                papers: 10,
                confirm_token_hash: format!("hash-{email}"),
                unsubscribe_token: format!("unsub-{}", email.as_str().replace('@', "-")),
            };
            self.store.subscribe(&new, t0()).unwrap();
            let subscription = self
                .store
                .confirm_subscription(&new.confirm_token_hash, t0())
                .unwrap()
                .expect("confirmed");
            (0..n)
                .map(|i| {
                    let payload = Payload::Alert {
                        unsubscribe_token: subscription.unsubscribe_token.clone(),
                        alerts: vec![AlertItem {
                            paper: MailPaper {
                                id: format!("2411.{:05}", i + 1),
                                title: format!("Paper {i}"),
                                authors: 2,
                                upvotes: 3,
                                snippet: "Text.".to_owned(),
                            },
                            query: "transformers".to_owned(),
                        }],
                    };
                    let message = new_message(
                        format!("alert-s{}-{i}", subscription.id.0),
                        MessageKind::Alert,
                        &subscription,
                        None,
                        &payload,
                        t0(),
                    );
                    self.store
                        .queue_message(&message, None, &[])
                        .unwrap()
                        .expect("new message")
                })
                .collect()
        }

        fn message(&self, id: MessageId) -> OutboxMessage {
            self.store.message(id).unwrap().unwrap()
        }
    }

    fn minutes(m: u64) -> Duration {
        Duration::from_secs(60 * m)
    }

    #[test]
    fn sent_messages_are_marked_sent() {
        let s = setup(RetryPolicy::default());
        let ids = s.queue("ada@example.org", 2);
        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.sent, report.retried, report.failed), (2, 0, 0));
        assert_eq!(
            s.transport.sent_to(),
            ["ada@example.org", "ada@example.org"]
        );
        for id in &ids {
            let m = s.message(*id);
            assert_eq!(m.status, MessageStatus::Sent);
            assert_eq!(m.sent_at, Some(t0()));
        }
        // What went out is exactly what rendering the stored message gives.
        // (Sent over several connections at once: in any order.)
        let rendered = render(&s.message(ids[0]), &s.deliverer.settings).unwrap();
        let formatted = rendered.formatted();
        assert!(
            s.transport
                .sent
                .lock()
                .unwrap()
                .iter()
                .any(|(_, bytes)| bytes == formatted)
        );
        // Nothing is sent twice.
        s.advance(minutes(60));
        assert_eq!(s.deliverer.run_once().unwrap(), DeliveryReport::default());
    }

    #[test]
    fn temporary_failures_back_off_then_give_up() {
        let policy = RetryPolicy {
            backoff: vec![minutes(1), minutes(5)],
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let s = setup(policy);
        let ids = s.queue("ada@example.org", 1);
        s.transport.fail(
            "ada@example.org",
            SendError::Temporary("451 4.3.0 ada@example.org: try later".to_owned()),
        );

        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.sent, report.retried, report.failed), (0, 1, 0));
        let m = s.message(ids[0]);
        assert_eq!((m.status, m.attempts), (MessageStatus::Queued, 1));
        let error = m.last_error.unwrap();
        assert!(
            error.contains("try later") && !error.contains("ada@"),
            "{error}"
        );

        // Not due again before its backoff ends.
        s.advance(Duration::from_secs(59));
        assert_eq!(s.deliverer.run_once().unwrap().retried, 0);
        s.advance(Duration::from_secs(1));
        assert_eq!(s.deliverer.run_once().unwrap().retried, 1);
        assert_eq!(s.message(ids[0]).attempts, 2);

        s.advance(minutes(4));
        assert_eq!(s.deliverer.run_once().unwrap().retried, 0);
        s.advance(minutes(1));
        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.retried, report.failed, report.paused), (0, 1, 0));
        let m = s.message(ids[0]);
        assert_eq!((m.status, m.attempts), (MessageStatus::Failed, 3));
        assert!(m.last_error.unwrap().contains("gave up after 3 attempts"));
        assert!(s.transport.sent_to().is_empty());
    }

    #[test]
    fn bounces_fail_and_pause_after_three() {
        let s = setup(RetryPolicy::default());
        let ids = s.queue("gone@example.org", 3);
        let kept = s.queue("ada@example.org", 1);
        s.transport.fail(
            "gone@example.org",
            SendError::Permanent("550 5.1.1 user unknown".to_owned()),
        );
        let report = s.deliverer.run_once().unwrap();
        assert_eq!(
            (report.sent, report.failed, report.paused),
            (1, 3, 1),
            "{report:?}"
        );
        for id in ids {
            assert_eq!(s.message(id).status, MessageStatus::Failed);
        }
        assert_eq!(s.message(kept[0]).status, MessageStatus::Sent);
        let gone = s
            .store
            .subscription_by_email(&EmailAddress::parse("gone@example.org").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(gone.status, SubscriptionStatus::Paused);
    }

    #[test]
    fn a_server_that_is_down_stops_the_run() {
        // One connection: exactly `trip_after` tries, the rest untried.
        let policy = RetryPolicy {
            trip_after: 3,
            connections: 1,
            ..RetryPolicy::default()
        };
        let s = setup(policy);
        let ids = s.queue("ada@example.org", 10);
        *s.transport.down.lock().unwrap() = true;
        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.retried, report.released), (3, 7), "{report:?}");
        assert!(report.stopped.unwrap().contains("Connection refused"));
        for id in &ids {
            let m = s.message(*id);
            assert_eq!((m.status, m.attempts), (MessageStatus::Queued, 1));
        }
        // Back up: everything goes once it is due again.
        *s.transport.down.lock().unwrap() = false;
        s.advance(minutes(1));
        assert_eq!(s.deliverer.run_once().unwrap().sent, 10);
    }

    #[test]
    fn a_server_that_is_down_stops_every_connection() {
        // Eight connections: those already sending finish their try, then
        // the run stops; nothing is lost or tried twice.
        let policy = RetryPolicy {
            trip_after: 3,
            connections: 8,
            ..RetryPolicy::default()
        };
        let s = setup(policy);
        let ids = s.queue("ada@example.org", 40);
        *s.transport.down.lock().unwrap() = true;
        let report = s.deliverer.run_once().unwrap();
        assert!(report.stopped.is_some(), "{report:?}");
        assert!(report.retried >= 3, "{report:?}");
        assert_eq!(report.retried + report.released, 40, "{report:?}");
        assert!(report.released > 0, "{report:?}");
        for id in &ids {
            assert_eq!(s.message(*id).status, MessageStatus::Queued);
        }
    }

    #[test]
    fn broken_content_fails_without_pausing() {
        let s = setup(RetryPolicy::default());
        let ids = s.queue("ada@example.org", 1);
        let sub = s.message(ids[0]).subscription;
        // A digest whose edition is missing cannot be rendered.
        let subscription = s.store.subscription(sub.unwrap()).unwrap().unwrap();
        for i in 0..4 {
            let bad = new_message(
                format!("digest-daily-2026-11-3{i}-broken"),
                MessageKind::Digest,
                &subscription,
                None,
                &Payload::Digest {
                    unsubscribe_token: subscription.unsubscribe_token.clone(),
                    alerts: vec![],
                },
                t0(),
            );
            s.store.queue_message(&bad, None, &[]).unwrap();
        }
        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.sent, report.failed, report.paused), (1, 4, 0));
        let subscription = s.store.subscription(sub.unwrap()).unwrap().unwrap();
        assert_eq!(subscription.status, SubscriptionStatus::Active);
    }

    #[test]
    fn at_most_a_batch_is_accepted_and_not_marked_sent() {
        // Marking goes on while sending does; a crash at any moment would
        // resend at most a batch.
        let policy = RetryPolicy {
            batch: 10,
            connections: 4,
            ..RetryPolicy::default()
        };
        let mut s = setup(policy);
        let ids = s.queue("ada@example.org", 100);
        let store = Arc::clone(&s.store);
        // One hook at a time: every message marked sent when one counts has
        // been counted before.
        let accepted = Arc::new(Mutex::new(0u64));
        let seen = Arc::clone(&accepted);
        s.deliverer.after_accept = Some(Arc::new(move |_: &OutboxMessage| {
            let mut accepted = seen.lock().unwrap();
            *accepted += 1;
            let sent = store.outbox_stats().unwrap().sent;
            assert!(*accepted - sent <= 10, "{accepted} accepted, {sent} marked");
        }));
        let report = s.deliverer.run_once().unwrap();
        assert_eq!((report.sent, report.retried, report.released), (100, 0, 0));
        assert_eq!(*accepted.lock().unwrap(), 100);
        assert_eq!(s.transport.sent_to().len(), 100, "each once");
        for id in ids {
            assert_eq!(s.message(id).status, MessageStatus::Sent);
        }
    }

    #[test]
    fn a_crash_after_acceptance_resends_the_identical_message() {
        let mut s = setup(RetryPolicy::default());
        let ids = s.queue("ada@example.org", 1);
        let store = Arc::clone(&s.store);
        s.deliverer.after_accept = Some(Arc::new(move |message: &OutboxMessage| {
            // Accepted, not yet marked sent.
            let stored = store.message(message.id).unwrap().unwrap();
            assert_eq!(stored.status, MessageStatus::Queued);
            panic!("crash between accepted and marked sent");
        }));
        let crashed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.deliverer.run_once()));
        assert!(crashed.is_err());
        assert_eq!(s.message(ids[0]).status, MessageStatus::Queued);

        // Restarted without the fault: nothing until the lease ends, then
        // the same bytes again.
        s.deliverer.after_accept = None;
        assert_eq!(s.deliverer.run_once().unwrap().sent, 0);
        s.advance(minutes(5));
        assert_eq!(s.deliverer.run_once().unwrap().sent, 1);
        let sent = s.transport.sent.lock().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].1, sent[1].1);
        assert_eq!(s.message(ids[0]).status, MessageStatus::Sent);
    }

    #[test]
    fn backoff_is_clamped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_after(0), minutes(1));
        assert_eq!(p.backoff_after(1), minutes(1));
        assert_eq!(p.backoff_after(2), minutes(5));
        assert_eq!(p.backoff_after(5), minutes(480));
        assert_eq!(p.backoff_after(50), minutes(480));
        let empty = RetryPolicy {
            backoff: vec![],
            ..RetryPolicy::default()
        };
        assert_eq!(empty.backoff_after(3), minutes(1));
    }

    #[test]
    fn addresses_are_redacted() {
        let message = OutboxMessage {
            id: MessageId(1),
            key: "k".to_owned(),
            kind: MessageKind::Alert,
            subscription: None,
            recipient: EmailAddress::parse("ada@example.org").unwrap(),
            edition: None,
            payload: String::new(),
            created_at: t0(),
            status: MessageStatus::Queued,
            attempts: 1,
            last_error: None,
            sent_at: None,
        };
        assert_eq!(
            redact("550 <Ada@Example.org> unknown; ada@example.org", &message),
            "550 <…@example.org> unknown; …@example.org"
        );
    }
}
