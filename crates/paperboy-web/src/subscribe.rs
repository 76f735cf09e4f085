//! Papers in your inbox, the web's part: `/subscribe` (double opt-in: a
//! confirmation mail with a single-use link, nothing else until it is
//! used), `/subscribe/confirm/{token}` and `/unsubscribe/{token}` (also the
//! RFC 8058 one-click endpoint mail clients POST to), and the subscription
//! form the settings page shares.
//!
//! The web never talks SMTP: it queues the confirmation mail in the store's
//! outbox ([`paperboy_store::Mail::queue_message`]) and the sender delivers
//! it. A subscription request always gets the same answer ("check your
//! inbox"), whether the address was new, pending or already subscribed, so
//! the page never tells who is subscribed. A GET never changes anything:
//! mail link scanners fetch links; only the button's POST confirms or
//! unsubscribes. The token in the URL is the secret of those POSTs, so they
//! need no session and no CSRF token (mail clients send neither).
//!
//! These routes write through [`AppState::read`], not [`AppState::write`]:
//! subscriptions show on no cached page, and anyone may call these routes,
//! so they must not be a way to empty the page cache at will.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use paperboy_core::mail::{
    PAPERS_DEFAULT, PAPERS_MAX, PAPERS_MIN, check_papers, parse_send_time, parse_zone,
};
use paperboy_core::{Cadence, EmailAddress, Schedule, UserId};
use paperboy_store::{
    MessageKind, NewSubscription, Store, StoreError, SubscribeOutcome, Subscription,
};
use serde::Deserialize;

use crate::AppState;
use crate::account::{bad_form, capitalise};
use crate::auth::{self, Attempt, ClientIp, Viewer};
use crate::error::{PageError, WebError};
use crate::layout::{csrf_field, page};

/// Confirmation mails one address may be sent in [`CONFIRMATIONS_WINDOW_HOURS`]
/// (counted in the outbox, so a restart does not reset it).
pub const MAX_CONFIRMATIONS: u64 = 3;

/// The window of [`MAX_CONFIRMATIONS`].
pub const CONFIRMATIONS_WINDOW_HOURS: i64 = 24;

/// The headline of `/subscribe`.
pub const HEADLINE: &str = "Get trending papers in your email inbox";

/// The id of the time zone field the browser fills in.
const ZONE_FIELD_ID: &str = "sub-zone";

/// Sets the time zone field from the browser's own zone, when the field
/// asks for it (`data-from-browser`: a fresh form, not one coming back with
/// what the user typed). Without JavaScript the field keeps UTC. It holds
/// none of the characters maud escapes (`& < > "`), so it is rendered as
/// plain text, not `PreEscaped` (a test checks it arrives intact).
const ZONE_SCRIPT: &str = "(function () { var z = document.getElementById('sub-zone'); \
if (!z || !z.hasAttribute('data-from-browser')) return; \
try { var t = Intl.DateTimeFormat().resolvedOptions().timeZone; if (t) z.value = t; } catch (e) {} })();";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/subscribe", get(subscribe_page).post(subscribe))
        .route(
            "/subscribe/confirm/{token}",
            get(confirm_page).post(confirm),
        )
        .route("/subscribe/link/{token}", get(link_page).post(link))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
}

// --- the form ------------------------------------------------------------------

/// What a subscription form sends: `/subscribe`, and the settings page's
/// forms (which send no `email` when they change a subscription).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    /// `daily`, `weekly` or `alerts`.
    #[serde(default)]
    pub cadence: String,
    #[serde(default)]
    pub papers: String,
    /// `HH:MM`.
    #[serde(default)]
    pub send_at: String,
    /// An IANA zone name.
    #[serde(default)]
    pub zone: String,
}

impl SubscribeForm {
    /// A fresh form: defaults, the zone left to the browser.
    pub fn fresh(email: &str) -> SubscribeForm {
        SubscribeForm {
            email: email.to_string(),
            ..SubscribeForm::default()
        }
    }

    /// The form showing what `subscription` has.
    pub fn of(subscription: &Subscription) -> SubscribeForm {
        let schedule = &subscription.schedule;
        SubscribeForm {
            csrf: String::new(),
            email: subscription.email.to_string(),
            cadence: schedule.cadence.as_str().to_string(),
            papers: subscription.papers.to_string(),
            send_at: schedule.send_at.format("%H:%M").to_string(),
            zone: schedule.zone.name().to_string(),
        }
    }

    /// No time zone was sent: the browser may fill it in.
    fn zone_from_browser(&self) -> bool {
        self.zone.trim().is_empty()
    }
}

/// Why a subscription form was refused, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    pub email: Option<String>,
    pub cadence: Option<String>,
    pub papers: Option<String>,
    pub send_at: Option<String>,
    pub zone: Option<String>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        *self == FormErrors::default()
    }
}

/// Checks the schedule part of a form; empty fields take the defaults
/// (daily, [`PAPERS_DEFAULT`] papers, 08:00, UTC). "Alerts only" needs an
/// account (`alerts_allowed`): alerts come from an account's saved searches.
pub fn validate_schedule(
    form: &SubscribeForm,
    alerts_allowed: bool,
) -> Result<(Schedule, u32), FormErrors> {
    let mut errors = FormErrors::default();
    let defaults = Schedule::default();
    let cadence = match form.cadence.trim() {
        "" => Some(defaults.cadence),
        raw => match Cadence::parse(raw) {
            Ok(Cadence::AlertsOnly) if !alerts_allowed => {
                errors.cadence = Some(
                    "“Alerts only” is for signed-in users with saved searches; choose daily or weekly."
                        .into(),
                );
                None
            }
            Ok(cadence) => Some(cadence),
            Err(err) => {
                errors.cadence = Some(capitalise(&err.to_string()));
                None
            }
        },
    };
    let papers = match form.papers.trim() {
        "" => Some(PAPERS_DEFAULT),
        raw => match raw
            .parse::<u32>()
            .map_err(|_| ())
            .and_then(|n| check_papers(n).map_err(|_| ()))
        {
            Ok(n) => Some(n),
            Err(()) => {
                errors.papers = Some(format!(
                    "A digest has {PAPERS_MIN} to {PAPERS_MAX} papers; enter a number in that range."
                ));
                None
            }
        },
    };
    let send_at = match form.send_at.trim() {
        "" => Some(defaults.send_at),
        raw => parse_send_time(raw)
            .map_err(|err| errors.send_at = Some(capitalise(&err.to_string())))
            .ok(),
    };
    let zone = match form.zone.trim() {
        "" => Some(defaults.zone),
        raw => parse_zone(raw)
            .map_err(|err| errors.zone = Some(capitalise(&err.to_string())))
            .ok(),
    };
    match (cadence, papers, send_at, zone) {
        (Some(cadence), Some(papers), Some(send_at), Some(zone)) if errors.is_empty() => Ok((
            Schedule {
                cadence,
                send_at,
                zone,
            },
            papers,
        )),
        _ => Err(errors),
    }
}

fn field_error(error: &Option<String>) -> Markup {
    html! { @if let Some(e) = error { p.field-error role="alert" { (e) } } }
}

/// The schedule fields of a subscription form: how often, how many papers,
/// when, in which time zone. `alerts`: offer "alerts only".
pub fn schedule_fields(form: &SubscribeForm, errors: &FormErrors, alerts: bool) -> Markup {
    let cadence = match form.cadence.trim() {
        "" => Cadence::Daily.as_str(),
        other => other,
    };
    let papers = match form.papers.trim() {
        "" => PAPERS_DEFAULT.to_string(),
        other => other.to_string(),
    };
    let send_at = match form.send_at.trim() {
        "" => "08:00",
        other => other,
    };
    let from_browser = form.zone_from_browser();
    let zone = if from_browser {
        "UTC"
    } else {
        form.zone.trim()
    };
    let option = |value: &str, label: &str| {
        html! { option value=(value) selected[value == cadence] { (label) } }
    };
    html! {
        label for="sub-cadence" { "How often" }
        select #sub-cadence name="cadence" {
            (option("daily", "Daily digest (Monday to Friday)"))
            (option("weekly", "Weekly digest (Mondays)"))
            @if alerts || cadence == "alerts" {
                (option("alerts", "Alerts only (no digest)"))
            }
        }
        (field_error(&errors.cadence))
        label for="sub-papers" { "Papers per digest" }
        input #sub-papers type="number" name="papers" min=(PAPERS_MIN) max=(PAPERS_MAX) value=(papers) required;
        small { "The most upvoted, " (PAPERS_MIN) " to " (PAPERS_MAX) "." }
        (field_error(&errors.papers))
        label for="sub-send-at" { "Send at" }
        input #sub-send-at type="time" name="send_at" value=(send_at) required;
        (field_error(&errors.send_at))
        label for=(ZONE_FIELD_ID) { "Time zone" }
        input #sub-zone name="zone" value=(zone) data-from-browser[from_browser]
            autocomplete="off" spellcheck="false" placeholder="e.g. Europe/Berlin";
        small { "A name like Europe/Berlin, America/New_York or UTC." }
        (field_error(&errors.zone))
        @if from_browser {
            script { (ZONE_SCRIPT) }
        }
    }
}

/// The subscription form: email (double opt-in) and schedule, posted to
/// `/subscribe`. For a signed-in viewer it carries the CSRF token and the
/// subscription is linked to the account.
pub fn subscribe_form(
    viewer: &Viewer,
    form: &SubscribeForm,
    errors: &FormErrors,
    alerts: bool,
    button: &str,
) -> Markup {
    html! {
        form method="post" action="/subscribe" {
            (csrf_field(viewer))
            label for="sub-email" { "Email" }
            input #sub-email type="email" name="email" value=(form.email) required autocomplete="email" maxlength="254";
            small { "We send a confirmation link first; nothing else until you use it." }
            (field_error(&errors.email))
            (schedule_fields(form, errors, alerts))
            button type="submit" { (button) }
        }
    }
}

/// "Daily digest of 10 papers at 08:00 (Europe/Berlin)".
pub fn describe(subscription: &Subscription) -> String {
    let schedule = &subscription.schedule;
    let when = format!(
        "at {} ({})",
        schedule.send_at.format("%H:%M"),
        schedule.zone.name()
    );
    match schedule.cadence {
        Cadence::Daily => format!(
            "A daily digest of {} papers, Monday to Friday {when}",
            subscription.papers
        ),
        Cadence::Weekly => format!(
            "A weekly digest of {} papers, Mondays {when}",
            subscription.papers
        ),
        Cadence::AlertsOnly => "Saved-search alerts only, no digest".to_string(),
    }
}

/// When the next digest goes out, in the subscriber's zone.
pub fn next_digest_label(subscription: &Subscription) -> Option<String> {
    subscription.next_due.map(|due| {
        due.with_timezone(&subscription.schedule.zone)
            .format("%a %b %-d, %Y, %H:%M %Z")
            .to_string()
    })
}

// --- /subscribe ------------------------------------------------------------------

/// The page of a site that sends no mail (no SMTP server configured).
fn no_mail_view(viewer: &Viewer) -> Response {
    let view = page(
        "Subscribe",
        viewer,
        html! {
            section.account-form.subscribe {
                h1 { (HEADLINE) }
                p.notice {
                    "This site does not send mail yet: its operator has not set up a mail server. "
                    "The daily list is also on the "
                    a href="/feeds/daily.atom" { "Atom feed" } "."
                }
            }
        },
    );
    (StatusCode::SERVICE_UNAVAILABLE, view).into_response()
}

async fn subscribe_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    if !state.config.mail_enabled {
        return Ok(no_mail_view(&viewer));
    }
    let (email, alerts, current) = match &viewer.user {
        Some(user) => {
            let id = user.id;
            let (searches, current) = state
                .read(move |s| Ok((s.saved_searches_of(id)?, s.subscription_of_user(id)?)))
                .await?;
            (user.email.clone(), !searches.is_empty(), current)
        }
        None => (String::new(), false, None),
    };
    Ok(subscribe_view(
        &viewer,
        &SubscribeForm::fresh(&email),
        &FormErrors::default(),
        alerts,
        current.as_ref(),
    )
    .into_response())
}

fn subscribe_view(
    viewer: &Viewer,
    form: &SubscribeForm,
    errors: &FormErrors,
    alerts: bool,
    current: Option<&Subscription>,
) -> Markup {
    page(
        "Subscribe",
        viewer,
        html! {
            section.account-form.subscribe {
                h1 { (HEADLINE) }
                p {
                    "The most upvoted papers of the day (or of the week), at the hour you choose. "
                    "No account needed; every mail has a one-click unsubscribe link."
                }
                @if let Some(current) = current.filter(|c| c.status == paperboy_store::SubscriptionStatus::Active) {
                    p.notice {
                        "Your account already gets mail at " (current.email) ". "
                        a href="/settings#subscription" { "Change it in your settings" } "."
                    }
                }
                @if !errors.is_empty() {
                    p.form-error role="alert" { "Please fix the fields marked below." }
                }
                (subscribe_form(viewer, form, errors, alerts, "Subscribe"))
                @if viewer.user.is_none() {
                    p.muted {
                        "With an account you can also get alerts for saved searches. "
                        a href="/signup?next=/settings" { "Sign up" } " or " a href="/login?next=/settings" { "log in" } "."
                    }
                }
            }
        },
    )
}

/// What a subscription request did (for the log only: the page says the
/// same whatever happened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requested {
    /// A confirmation mail was queued.
    Queued,
    /// The address is subscribed already: a mail saying so (what it gets,
    /// how to leave) was queued; nothing changed.
    AlreadyActive,
    /// The address is subscribed already, from no account or another: a
    /// mail asking its owner to link it to the signed-in account was queued.
    LinkQueued,
    /// The address had its confirmation mails for today: nothing changed.
    TooManyMails,
}

impl Requested {
    fn as_str(self) -> &'static str {
        match self {
            Requested::Queued => "confirmation queued",
            Requested::AlreadyActive => "already active, notice queued",
            Requested::LinkQueued => "link to the account queued",
            Requested::TooManyMails => "confirmation limit reached",
        }
    }
}

async fn subscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    viewer: Viewer,
    form: Result<Form<SubscribeForm>, FormRejection>,
) -> Result<Response, PageError> {
    if !state.config.mail_enabled {
        return Ok(no_mail_view(&viewer));
    }
    let Form(form) = form.map_err(bad_form)?;
    // Signed in, the subscription belongs to the account: only the
    // account's own form (with its CSRF token) may ask for that.
    let user: Option<UserId> = match &viewer.user {
        Some(user) => {
            if !auth::secrets_match(viewer.csrf(), &form.csrf) {
                return Err(WebError::Csrf.into());
            }
            Some(user.id)
        }
        None => None,
    };
    let email = EmailAddress::parse(&form.email);
    let schedule = validate_schedule(&form, user.is_some());
    let (email, (schedule, papers)) = match (email, schedule) {
        (Ok(email), Ok(schedule)) => (email, schedule),
        (email, schedule) => {
            let mut errors = schedule.err().unwrap_or_default();
            if let Err(err) = email {
                errors.email = Some(capitalise(&err.to_string()));
            }
            let alerts = user.is_some() && form.cadence.trim() == Cadence::AlertsOnly.as_str();
            let view = subscribe_view(&viewer, &form, &errors, alerts, None);
            return Ok((StatusCode::BAD_REQUEST, view).into_response());
        }
    };
    let now = state.now();
    state
        .hit_limit(Attempt::SubscribeFromIp, &ip.to_string(), now)
        .await?;
    state
        .hit_limit(Attempt::SubscribeToAddress, email.as_str(), now)
        .await?;

    let token = auth::random_token()?;
    let new = NewSubscription {
        email: email.clone(),
        user,
        schedule,
        papers,
        confirm_token_hash: auth::token_hash(&token),
        unsubscribe_token: auth::random_token()?,
    };
    let since = now - Duration::hours(CONFIRMATIONS_WINDOW_HOURS);
    let account = viewer
        .user
        .as_ref()
        .map(|user| user.username.clone())
        .unwrap_or_default();
    let (requested, subscription) = state
        .read(move |s| {
            // Checked before subscribing: a request over the limit changes
            // nothing, so the link of the last mail sent still works.
            // Every mail a request can send counts: confirmations, links
            // and notices together.
            let mut sent = 0;
            for kind in [MessageKind::Confirm, MessageKind::Link, MessageKind::Notice] {
                sent += s.count_messages_to(&new.email, kind, since)?;
            }
            if sent >= MAX_CONFIRMATIONS {
                return Ok((Requested::TooManyMails, None));
            }
            match s.subscribe(&new, now)? {
                SubscribeOutcome::Pending(sub) => {
                    let message = paperboy_mail::content::confirmation_message(&sub, &token, now);
                    s.queue_message(&message, None, &[])?;
                    Ok((Requested::Queued, Some(sub.id)))
                }
                SubscribeOutcome::AlreadyActive(sub) => {
                    let message = paperboy_mail::content::notice_message(&sub, now);
                    s.queue_message(&message, None, &[])?;
                    Ok((Requested::AlreadyActive, Some(sub.id)))
                }
                SubscribeOutcome::LinkRequested(sub) => {
                    // Only a signed-in request links: `new.user` is set.
                    let message = paperboy_mail::content::link_message(&sub, &token, &account, now);
                    s.queue_message(&message, None, &[])?;
                    Ok((Requested::LinkQueued, Some(sub.id)))
                }
            }
        })
        .await?;
    tracing::info!(
        subscription.id = subscription.map(|id| id.0),
        user.id = user.map(|id| id.0),
        outcome = requested.as_str(),
        "subscription requested"
    );
    let view = page(
        "Check your inbox",
        &viewer,
        html! {
            section.subscribe-sent {
                h1 { "Check your inbox" }
                p {
                    "If " strong { (email) } " can receive mail, a message with a confirmation link is on its way. "
                    "Open it and press “Confirm subscription”: nothing else is sent until you do."
                }
                p.muted {
                    "Nothing there after a few minutes? Look in the spam folder, or "
                    a href="/subscribe" { "try again" } "."
                }
            }
        },
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], view).into_response())
}

// --- confirm and unsubscribe -------------------------------------------------------

/// Whether `token` looks like one of ours (64 hex digits, see
/// [`auth::random_token`]): anything else is not looked up, and never ends
/// up in a form's action.
fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Headers of the pages whose address holds a secret: not cached, and the
/// address not passed on as a referrer.
fn secret_page(status: StatusCode, body: Markup) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("referrer-policy"), "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// The friendly 404 of an unknown, used or replaced link.
fn link_not_valid(viewer: &Viewer) -> Response {
    secret_page(
        StatusCode::NOT_FOUND,
        page(
            "Link not valid",
            viewer,
            html! {
                section.subscribe-link {
                    h1 { "This link is not valid any more" }
                    p {
                        "This link is not valid any more: it was used already, a newer mail replaced it, "
                        "or it was copied incompletely."
                    }
                    p { a href="/subscribe" { "Subscribe again" } " to get a new confirmation link." }
                }
            },
        ),
    )
}

/// The page a mailed link opens: what pressing its one button does. The
/// button POSTs to the same path, so a mail scanner fetching the link
/// changes nothing.
struct ButtonPage {
    title: &'static str,
    heading: &'static str,
    says: &'static str,
    button: &'static str,
    otherwise: &'static str,
}

fn button_page(viewer: &Viewer, action: &str, token: &str, text: ButtonPage) -> Response {
    if !plausible_token(token) {
        return link_not_valid(viewer);
    }
    secret_page(
        StatusCode::OK,
        page(
            text.title,
            viewer,
            html! {
                section.subscribe-link {
                    h1 { (text.heading) }
                    p { (text.says) }
                    form method="post" action={ (action) (token) } {
                        button type="submit" { (text.button) }
                    }
                    p.muted { (text.otherwise) }
                }
            },
        ),
    )
}

/// A store call that uses up a token (by its hash) at a moment.
type Spend = fn(&dyn Store, &str, DateTime<Utc>) -> Result<Option<Subscription>, StoreError>;

/// Uses a mailed token with `spend` (a store call): the subscription it
/// stood for, or `None` for a token that is not ours, unknown or used.
async fn spend_token(
    state: &AppState,
    token: &str,
    spend: Spend,
) -> Result<Option<Subscription>, PageError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let (hash, now) = (auth::token_hash(token), state.now());
    Ok(state.read(move |s| spend(s, &hash, now)).await?)
}

async fn confirm_page(viewer: Viewer, Path(token): Path<String>) -> Response {
    let text = ButtonPage {
        title: "Confirm subscription",
        heading: "Confirm your subscription",
        says: "One more step: press the button to start getting papers by mail.",
        button: "Confirm subscription",
        otherwise: "Did not ask for this? Ignore it: nothing will be sent.",
    };
    button_page(&viewer, "/subscribe/confirm/", &token, text)
}

async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let spend = |s: &dyn Store, hash: &str, now| s.confirm_subscription(hash, now);
    let Some(sub) = spend_token(&state, &token, spend).await? else {
        return Ok(link_not_valid(&viewer));
    };
    tracing::info!(subscription.id = sub.id.0, "subscription confirmed");
    let next = next_digest_label(&sub);
    Ok(secret_page(
        StatusCode::OK,
        page(
            "Subscribed",
            &viewer,
            html! {
                section.subscribe-link {
                    h1 { "You are subscribed" }
                    p { (describe(&sub)) ", to " strong { (sub.email) } "." }
                    @if let Some(next) = next { p { "The first one goes out " (next) "." } }
                    p.muted { "Every mail has a link to unsubscribe in one click." }
                    @if sub.user.is_some() {
                        p { a href="/settings#subscription" { "Change it in your settings" } }
                    }
                }
            },
        ),
    ))
}

async fn link_page(viewer: Viewer, Path(token): Path<String>) -> Response {
    let text = ButtonPage {
        title: "Link your subscription",
        heading: "Link your subscription to an account",
        says: "Press the button to manage this address's subscription from the account \
               that asked. Its digests go on as they are.",
        button: "Link to my account",
        otherwise: "Did not ask for this? Ignore it: nothing changes.",
    };
    button_page(&viewer, "/subscribe/link/", &token, text)
}

async fn link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let spend = |s: &dyn Store, hash: &str, now| s.link_subscription(hash, now);
    let Some(sub) = spend_token(&state, &token, spend).await? else {
        return Ok(link_not_valid(&viewer));
    };
    tracing::info!(
        subscription.id = sub.id.0,
        user.id = sub.user.map(|id| id.0),
        "subscription linked to an account"
    );
    Ok(secret_page(
        StatusCode::OK,
        page(
            "Linked",
            &viewer,
            html! {
                section.subscribe-link {
                    h1 { "Your subscription is linked" }
                    p { (describe(&sub)) ", to " strong { (sub.email) } ", now belongs to your account." }
                    p { a href="/settings#subscription" { "Manage it in your settings" } }
                }
            },
        ),
    ))
}

fn already_unsubscribed(viewer: &Viewer) -> Response {
    secret_page(
        StatusCode::OK,
        page(
            "Unsubscribed",
            viewer,
            html! {
                section.subscribe-link {
                    h1 { "You were already unsubscribed" }
                    p { "Nothing more is sent to this address." }
                    p { a href="/subscribe" { "Subscribe again" } }
                }
            },
        ),
    )
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !plausible_token(&token) {
        return Ok(link_not_valid(&viewer));
    }
    let lookup = token.clone();
    let Some(sub) = state
        .read(move |s| s.subscription_by_token(&lookup))
        .await?
    else {
        return Ok(link_not_valid(&viewer));
    };
    if sub.status == paperboy_store::SubscriptionStatus::Unsubscribed {
        return Ok(already_unsubscribed(&viewer));
    }
    Ok(secret_page(
        StatusCode::OK,
        page(
            "Unsubscribe",
            &viewer,
            html! {
                section.subscribe-link {
                    h1 { "Unsubscribe" }
                    p { "Stop all mail from us to " strong { (sub.email) } "?" }
                    form method="post" action={ "/unsubscribe/" (token) } {
                        button type="submit" { "Unsubscribe" }
                    }
                }
            },
        ),
    ))
}

/// Unsubscribes: the page's button, and mail clients' one-click POST
/// (`List-Unsubscribe=One-Click`, RFC 8058), which carries no cookie and no
/// CSRF token; whatever the body says, the token in the address decides.
async fn unsubscribe(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !plausible_token(&token) {
        return Ok(link_not_valid(&viewer));
    }
    let now = state.now();
    let lookup = token.clone();
    let Some(before) = state.read(move |s| s.unsubscribe(&lookup, now)).await? else {
        return Ok(link_not_valid(&viewer));
    };
    if before.status == paperboy_store::SubscriptionStatus::Unsubscribed {
        return Ok(already_unsubscribed(&viewer));
    }
    tracing::info!(subscription.id = before.id.0, "unsubscribed");
    Ok(secret_page(
        StatusCode::OK,
        page(
            "Unsubscribed",
            &viewer,
            html! {
                section.subscribe-link {
                    h1 { "You are unsubscribed" }
                    p { "Nothing more is sent to " strong { (before.email) } "." }
                    p { "Changed your mind? " a href="/subscribe" { "Subscribe again" } "." }
                }
            },
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(cadence: &str, papers: &str, send_at: &str, zone: &str) -> SubscribeForm {
        SubscribeForm {
            cadence: cadence.into(),
            papers: papers.into(),
            send_at: send_at.into(),
            zone: zone.into(),
            ..SubscribeForm::default()
        }
    }

    /// `expect`: Ok((cadence, papers, "HH:MM", zone)) or the fields in error.
    fn check(
        input: (&str, &str, &str, &str),
        alerts: bool,
        expect: Result<(&str, u32, &str, &str), &[&str]>,
    ) {
        let got = validate_schedule(&form(input.0, input.1, input.2, input.3), alerts);
        match (got, expect) {
            (Ok((schedule, papers)), Ok(e)) => assert_eq!(
                (
                    schedule.cadence.as_str(),
                    papers,
                    schedule.send_at.format("%H:%M").to_string().as_str(),
                    schedule.zone.name()
                ),
                e,
                "{input:?}"
            ),
            (Err(errors), Err(fields)) => {
                let present: Vec<&str> = [
                    ("cadence", &errors.cadence),
                    ("papers", &errors.papers),
                    ("send_at", &errors.send_at),
                    ("zone", &errors.zone),
                ]
                .into_iter()
                .filter_map(|(f, e)| e.as_ref().map(|_| f))
                .collect();
                assert_eq!(present, fields, "{input:?}");
            }
            (got, expect) => panic!("{input:?}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn schedule_rules() {
        check(("", "", "", ""), false, Ok(("daily", 10, "08:00", "UTC")));
        check(
            ("weekly", "25", "17:30", " Europe/Berlin "),
            false,
            Ok(("weekly", 25, "17:30", "Europe/Berlin")),
        );
        check(
            ("alerts", "", "", ""),
            true,
            Ok(("alerts", 10, "08:00", "UTC")),
        );
        check(("alerts", "", "", ""), false, Err(&["cadence"]));
        check(
            ("hourly", "0", "8am", "Mars/Olympus"),
            false,
            Err(&["cadence", "papers", "send_at", "zone"]),
        );
        check(("daily", "51", "", ""), false, Err(&["papers"]));
        check(("daily", "ten", "", ""), false, Err(&["papers"]));
        check(("daily", "1", "24:00", ""), false, Err(&["send_at"]));
        check(
            ("daily", "50", "23:59", "America/New_York"),
            false,
            Ok(("daily", 50, "23:59", "America/New_York")),
        );
    }

    #[test]
    fn zone_script_is_rendered_intact() {
        let html =
            schedule_fields(&SubscribeForm::default(), &FormErrors::default(), false).into_string();
        assert!(html.contains(ZONE_SCRIPT), "{html}");
        assert!(html.contains(r#"data-from-browser"#), "{html}");
        assert!(ZONE_SCRIPT.contains(ZONE_FIELD_ID));
        // A form coming back with a zone keeps it and runs no script.
        let typed = form("daily", "10", "08:00", "Asia/Tokyo");
        let html = schedule_fields(&typed, &FormErrors::default(), false).into_string();
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains(r#"value="Asia/Tokyo""#), "{html}");
    }

    #[test]
    fn only_our_tokens_are_plausible() {
        let table = [
            (&"a".repeat(64)[..], true),
            (&"0123456789abcdefABCDEF".repeat(3)[..64], true),
            ("abc", false),
            (&"g".repeat(64)[..], false),
            (&"a".repeat(65)[..], false),
            ("../../settings", false),
        ];
        for (token, ok) in table {
            assert_eq!(plausible_token(token), ok, "{token:?}");
        }
    }
}
