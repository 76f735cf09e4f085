//! Papers in your inbox, over HTTP: `/subscribe` and its double opt-in,
//! confirmation and unsubscribe links (the one-click POST of mail clients
//! included), abuse limits, the settings page's subscription and saved
//! searches, and the search page's "Save this search as an alert".

use std::sync::Arc;

use chrono::Duration;
use paperboy_core::{Cadence, EmailAddress};
use paperboy_mail::content::Payload;
use paperboy_store::{AlertDelivery, MessageKind, Subscription, SubscriptionStatus};
use paperboy_web::auth::RateRules;
use paperboy_web::subscribe::HEADLINE;

use crate::app::{TestApp, fixture, fixture_now};
use crate::broken::{BrokenStore, SECRET};
use crate::browser::{Client, Reply, SiteApp};

const NOT_VALID: &str = "This link is not valid any more";

fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text).expect("test address")
}

/// Asks for a daily digest of 10 papers at 08:00 Europe/Berlin.
fn subscribe(client: &Client, email: &str) -> Reply {
    client.post_form(
        "/subscribe",
        &[
            ("email", email),
            ("cadence", "daily"),
            ("papers", "10"),
            ("send_at", "08:00"),
            ("zone", "Europe/Berlin"),
        ],
    )
}

/// The tokens of the confirmation mails queued for `email`, oldest first.
fn confirm_tokens(app: &SiteApp, email: &str) -> Vec<String> {
    app.store
        .messages_to(&address(email))
        .expect("outbox")
        .into_iter()
        .filter(|m| m.kind == MessageKind::Confirm)
        .map(|m| match serde_json::from_str::<Payload>(&m.payload) {
            Ok(Payload::Confirm { token, .. }) => token,
            other => panic!("not a confirmation payload: {other:?}"),
        })
        .collect()
}

fn subscription(app: &SiteApp, email: &str) -> Subscription {
    app.store
        .subscription_by_email(&address(email))
        .expect("store")
        .expect("a subscription")
}

/// Subscribes `email` and uses the link of the mail: an active subscription.
fn subscribed(app: &SiteApp, client: &Client, email: &str) -> Subscription {
    assert_eq!(subscribe(client, email).status, 200);
    let token = confirm_tokens(app, email)
        .pop()
        .expect("a confirmation mail");
    let reply = app
        .client()
        .post_form(&format!("/subscribe/confirm/{token}"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sub = subscription(app, email);
    assert_eq!(sub.status, SubscriptionStatus::Active);
    sub
}

fn unknown_token() -> String {
    "0123456789abcdef".repeat(4)
}

#[test]
fn subscribing_queues_one_confirmation_whose_link_activates_it_once() {
    let app = SiteApp::start();
    let browser = app.client();

    let form = browser.get("/subscribe");
    assert_eq!(form.status, 200);
    for want in [
        HEADLINE,
        r#"action="/subscribe""#,
        r#"name="email""#,
        r#"name="zone""#,
        "Intl.DateTimeFormat().resolvedOptions().timeZone",
        r#"value="UTC""#,
    ] {
        assert!(form.body.contains(want), "missing {want}: {}", form.body);
    }
    assert!(
        !form.body.contains(r#"value="alerts""#),
        "alerts only needs an account"
    );

    let reply = subscribe(&browser, " Ada@Example.org ");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Check your inbox"), "{}", reply.body);
    assert!(reply.body.contains("ada@example.org"), "normalised");
    let sub = subscription(&app, "ada@example.org");
    assert_eq!(sub.status, SubscriptionStatus::Pending);
    assert_eq!(sub.user, None);
    assert_eq!(sub.papers, 10);
    assert_eq!(sub.schedule.cadence, Cadence::Daily);
    assert_eq!(sub.schedule.zone.name(), "Europe/Berlin");
    let tokens = confirm_tokens(&app, "ada@example.org");
    assert_eq!(tokens.len(), 1, "exactly one confirmation mail");
    assert_eq!(
        app.store.outbox_stats().unwrap().queued,
        1,
        "and nothing else"
    );
    let token = &tokens[0];

    // Opening the link (or a mail scanner fetching it) changes nothing.
    let page = app.client().get(&format!("/subscribe/confirm/{token}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Confirm subscription"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!(r#"action="/subscribe/confirm/{token}""#)),
        "{}",
        page.body
    );
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(
        subscription(&app, "ada@example.org").status,
        SubscriptionStatus::Pending
    );

    // The button confirms, without any session or CSRF token.
    let done = app
        .client()
        .post_form(&format!("/subscribe/confirm/{token}"), &[]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("You are subscribed"), "{}", done.body);
    let sub = subscription(&app, "ada@example.org");
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert!(sub.next_due.is_some(), "the first digest is scheduled");

    // Single use.
    let again = app
        .client()
        .post_form(&format!("/subscribe/confirm/{token}"), &[]);
    assert_eq!(again.status, 404);
    assert!(again.body.contains(NOT_VALID), "{}", again.body);
    for path in [
        format!("/subscribe/confirm/{}", unknown_token()),
        "/subscribe/confirm/not-a-token".to_string(),
    ] {
        let reply = app.client().post_form(&path, &[]);
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.body.contains(NOT_VALID), "{path}: {}", reply.body);
    }
    assert_eq!(app.client().get("/subscribe/confirm/x").status, 404);
}

#[test]
fn bad_fields_are_explained_next_to_them_and_nothing_is_queued() {
    let app = SiteApp::start();
    let browser = app.client();
    let long = format!("{}@example.org", "a".repeat(250));
    let table: [(&str, &str, &str, &str); 5] = [
        (
            "not-an-email",
            "daily",
            "UTC",
            "This is not an email address",
        ),
        (&long, "daily", "UTC", "at most 254 characters"),
        (
            "ada@example.org",
            "daily",
            "Mars/Olympus",
            "is not a time zone",
        ),
        ("ada@example.org", "alerts", "UTC", "signed-in users"),
        (
            "ada@example.org",
            "hourly",
            "UTC",
            "daily, weekly or alerts",
        ),
    ];
    for (email, cadence, zone, message) in table {
        let reply = browser.post_form(
            "/subscribe",
            &[
                ("email", email),
                ("cadence", cadence),
                ("papers", "10"),
                ("send_at", "08:00"),
                ("zone", zone),
            ],
        );
        assert_eq!(reply.status, 400, "{email} {cadence} {zone}");
        assert!(
            reply.body.contains(message) && reply.body.contains("field-error"),
            "{message}: {}",
            reply.body
        );
        assert!(
            reply.body.contains(&format!(r#"value="{zone}""#)),
            "the form keeps what was typed: {}",
            reply.body
        );
    }
    let reply = browser.post_form(
        "/subscribe",
        &[("email", "ada@example.org"), ("papers", "51")],
    );
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("1 to 50 papers"), "{}", reply.body);
    assert_eq!(app.store.outbox_stats().unwrap().queued, 0);
    assert!(
        app.store
            .subscription_by_email(&address("ada@example.org"))
            .unwrap()
            .is_none()
    );

    // Empty schedule fields take the defaults: daily, 10 papers, 08:00 UTC.
    let reply = browser.post_form("/subscribe", &[("email", "bob@example.org")]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sub = subscription(&app, "bob@example.org");
    assert_eq!(
        (
            sub.schedule.cadence,
            sub.papers,
            sub.schedule.send_at.format("%H:%M").to_string(),
            sub.schedule.zone.name()
        ),
        (Cadence::Daily, 10, "08:00".to_string(), "UTC")
    );
}

#[test]
fn subscribing_an_active_address_mails_a_notice_and_says_the_same() {
    let app = SiteApp::start();
    let browser = app.client();
    let first = subscribe(&browser, "ada@example.org");
    assert_eq!(first.status, 200);
    let token = confirm_tokens(&app, "ada@example.org").pop().unwrap();
    assert_eq!(
        app.client()
            .post_form(&format!("/subscribe/confirm/{token}"), &[])
            .status,
        200
    );
    let before = subscription(&app, "ada@example.org");

    let again = subscribe(&app.client(), "ada@example.org");
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body, first.body,
        "the page does not tell who is subscribed"
    );
    assert_eq!(confirm_tokens(&app, "ada@example.org").len(), 1);
    assert_eq!(subscription(&app, "ada@example.org"), before, "unchanged");
    // The address is told, not the one who asked: what it gets, and how
    // to leave.
    let notices: Vec<String> = app
        .store
        .messages_to(&address("ada@example.org"))
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Notice)
        .map(|m| match serde_json::from_str::<Payload>(&m.payload) {
            Ok(Payload::Notice {
                unsubscribe_token, ..
            }) => unsubscribe_token,
            other => panic!("not a notice payload: {other:?}"),
        })
        .collect();
    assert_eq!(notices, vec![before.unsubscribe_token]);
    // Notices count against the confirmation mails of the day (one
    // request a minute: the address's own limit stays out of the way).
    for minute in 1..=3 {
        app.set_now(app.now() + Duration::minutes(minute));
        subscribe(&app.client(), "ada@example.org");
    }
    let mails = app
        .store
        .messages_to(&address("ada@example.org"))
        .unwrap()
        .len();
    assert_eq!(mails, 3, "one confirmation and two notices, then no more");
}

#[test]
fn subscription_requests_are_rate_limited_per_address() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    let max = RateRules::default().subscribe_per_address.max;
    for i in 0..max {
        let reply = subscribe(&app.client(), "ada@example.org");
        assert_eq!(reply.status, 200, "request {i}: {}", reply.body);
    }
    let limited = subscribe(&app.client(), "ADA@example.org");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").is_some());
    assert!(limited.body.contains("Slow down"), "{}", limited.body);
    // Another address from the same client is still fine.
    assert_eq!(subscribe(&app.client(), "bob@example.org").status, 200);
}

#[test]
fn subscription_requests_are_rate_limited_per_client() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    let max = RateRules::default().subscribe_per_ip.max;
    for i in 0..max {
        let reply = subscribe(&app.client(), &format!("user{i}@example.org"));
        assert_eq!(reply.status, 200, "request {i}: {}", reply.body);
    }
    let limited = subscribe(&app.client(), "onemore@example.org");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        app.store
            .subscription_by_email(&address("onemore@example.org"))
            .unwrap()
            .is_none()
    );
    // An hour later the window has slid.
    app.set_now(app.now() + Duration::minutes(61));
    assert_eq!(subscribe(&app.client(), "onemore@example.org").status, 200);
}

#[test]
fn an_address_gets_at_most_three_confirmation_mails_a_day() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    let start = app.now();
    for i in 0..3 {
        app.set_now(start + Duration::minutes(61 * i));
        assert_eq!(subscribe(&app.client(), "ada@example.org").status, 200);
    }
    assert_eq!(confirm_tokens(&app, "ada@example.org").len(), 3);

    app.set_now(start + Duration::minutes(61 * 3));
    let fourth = subscribe(&app.client(), "ada@example.org");
    assert_eq!(fourth.status, 200, "{}", fourth.body);
    assert!(
        fourth.body.contains("Check your inbox"),
        "the same answer: {}",
        fourth.body
    );
    let tokens = confirm_tokens(&app, "ada@example.org");
    assert_eq!(tokens.len(), 3, "no fourth mail");

    // The refused request changed nothing: the last mail's link still works.
    let last = tokens.last().unwrap();
    let reply = app
        .client()
        .post_form(&format!("/subscribe/confirm/{last}"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);

    // A day after the first, another may be sent (the address is active
    // now, so none is: nothing to confirm).
    app.set_now(start + Duration::hours(25));
    assert_eq!(subscribe(&app.client(), "ada@example.org").status, 200);
    assert_eq!(confirm_tokens(&app, "ada@example.org").len(), 3);
}

#[test]
fn unsubscribe_links_show_a_button_and_the_one_click_post_unsubscribes() {
    let app = SiteApp::start();
    let sub = subscribed(&app, &app.client(), "ada@example.org");
    let path = format!("/unsubscribe/{}", sub.unsubscribe_token);

    // GET (a mail scanner, or the person) shows one button and changes nothing.
    let page = app.client().get(&path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!(r#"action="{path}""#)) && page.body.contains("Unsubscribe"),
        "{}",
        page.body
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(
        subscription(&app, "ada@example.org").status,
        SubscriptionStatus::Active
    );

    // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, with no
    // cookie and no CSRF token.
    let mail_client = app.client();
    let reply = mail_client.post_form(&path, &[("List-Unsubscribe", "One-Click")]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("You are unsubscribed"),
        "{}",
        reply.body
    );
    assert_eq!(
        subscription(&app, "ada@example.org").status,
        SubscriptionStatus::Unsubscribed
    );

    for reply in [app.client().post_form(&path, &[]), app.client().get(&path)] {
        assert_eq!(reply.status, 200);
        assert!(
            reply.body.contains("You were already unsubscribed"),
            "{}",
            reply.body
        );
    }

    let unknown = format!("/unsubscribe/{}", unknown_token());
    for reply in [
        app.client().get(&unknown),
        app.client()
            .post_form(&unknown, &[("List-Unsubscribe", "One-Click")]),
        app.client().get("/unsubscribe/nonsense"),
    ] {
        assert_eq!(reply.status, 404);
        assert!(reply.body.contains(NOT_VALID), "{}", reply.body);
    }
}

#[test]
fn settings_show_the_subscription_and_change_it() {
    let app = SiteApp::start();
    let (ada, mut browser) = app.user_client("ada", false);

    let settings = browser.get("/settings");
    assert_eq!(settings.status, 200);
    for want in [
        "Papers by mail",
        r#"action="/subscribe""#,
        r#"value="ada@example.org""#,
        "you have none yet",
    ] {
        assert!(
            settings.body.contains(want),
            "missing {want}: {}",
            settings.body
        );
    }

    // Signed in, subscribing is the account's: it needs the session's CSRF token.
    let forged = browser.post_form(
        "/subscribe",
        &[("email", "ada@example.org"), ("cadence", "weekly")],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(app.store.outbox_stats().unwrap().queued, 0);

    let reply = browser.post_form_csrf(
        "/subscribe",
        &[
            ("email", "ada@example.org"),
            ("cadence", "weekly"),
            ("papers", "5"),
            ("send_at", "09:30"),
            ("zone", "America/New_York"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sub = app
        .store
        .subscription_of_user(ada.id)
        .unwrap()
        .expect("linked to the account");
    assert_eq!(sub.status, SubscriptionStatus::Pending);
    let settings = browser.get("/settings");
    assert!(
        settings.body.contains("Waiting for confirmation"),
        "{}",
        settings.body
    );

    let token = confirm_tokens(&app, "ada@example.org").pop().unwrap();
    assert_eq!(
        app.client()
            .post_form(&format!("/subscribe/confirm/{token}"), &[])
            .status,
        200
    );
    let settings = browser.get("/settings");
    for want in [
        "A weekly digest of 5 papers",
        "America/New_York",
        r#"action="/settings/subscription""#,
        r#"action="/settings/subscription/unsubscribe""#,
        "Next digest:",
    ] {
        assert!(
            settings.body.contains(want),
            "missing {want}: {}",
            settings.body
        );
    }
    assert!(!settings.body.contains("you have none yet"));

    // A bad zone is explained next to the field; nothing changes.
    let fields = [
        ("cadence", "daily"),
        ("papers", "20"),
        ("send_at", "07:15"),
        ("zone", "Mars/Olympus"),
    ];
    let bad = browser.post_form_csrf("/settings/subscription", &fields);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("is not a time zone"), "{}", bad.body);
    assert!(bad.body.contains(r#"value="Mars/Olympus""#));
    assert_eq!(
        subscription(&app, "ada@example.org").schedule.cadence,
        Cadence::Weekly
    );

    // Without the CSRF token: refused.
    let mut good = fields;
    good[3] = ("zone", "Asia/Tokyo");
    assert_eq!(
        browser.post_form("/settings/subscription", &good).status,
        403
    );
    let changed = browser.post_form_csrf("/settings/subscription", &good);
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(changed.location(), "/settings#subscription");
    let sub = subscription(&app, "ada@example.org");
    assert_eq!(
        (
            sub.schedule.cadence,
            sub.papers,
            sub.schedule.send_at.format("%H:%M").to_string(),
            sub.schedule.zone.name()
        ),
        (Cadence::Daily, 20, "07:15".to_string(), "Asia/Tokyo")
    );

    // Unsubscribing from settings needs the CSRF token too.
    assert_eq!(
        browser
            .post_form("/settings/subscription/unsubscribe", &[])
            .status,
        403
    );
    assert_eq!(
        subscription(&app, "ada@example.org").status,
        SubscriptionStatus::Active
    );
    let left = browser.post_form_csrf("/settings/subscription/unsubscribe", &[]);
    assert_eq!(left.status, 303);
    assert_eq!(
        subscription(&app, "ada@example.org").status,
        SubscriptionStatus::Unsubscribed
    );
    browser.refresh_csrf();
    let settings = browser.get("/settings");
    assert!(
        settings.body.contains(r#"action="/subscribe""#),
        "the subscribe form again: {}",
        settings.body
    );

    // Changing a subscription one does not have is refused.
    let none = browser.post_form_csrf("/settings/subscription", &good);
    assert_eq!(none.status, 409, "{}", none.body);
}

#[test]
fn saved_searches_are_saved_listed_and_deleted_by_their_owner_only() {
    let app = SiteApp::start();
    let (ada, ada_browser) = app.user_client("ada", false);
    let (_, bob_browser) = app.user_client("bob", false);

    // From the search page's link: the form is filled in.
    let settings = ada_browser.get("/settings?alert_q=ti%3Amamba+-vision&alert_min_upvotes=5");
    assert_eq!(settings.status, 200);
    assert!(
        settings.body.contains(r#"value="ti:mamba -vision""#)
            && settings.body.contains(r#"value="5""#),
        "{}",
        settings.body
    );
    assert!(
        settings
            .body
            .contains("Alerts are mailed to a confirmed subscription"),
        "no subscription yet: {}",
        settings.body
    );
    assert!(
        !settings.body.contains(r#"value="alerts""#),
        "alerts only is offered once there are saved searches"
    );

    let fields = [
        ("query", "ti:mamba -vision"),
        ("min_upvotes", "5"),
        ("exclude", "survey, benchmark survey"),
        ("delivery", "digest"),
    ];
    assert_eq!(
        ada_browser
            .post_form("/settings/saved-searches", &fields)
            .status,
        403
    );
    assert!(app.store.saved_searches_of(ada.id).unwrap().is_empty());

    let saved = ada_browser.post_form_csrf("/settings/saved-searches", &fields);
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), "/settings#saved-searches");
    let searches = app.store.saved_searches_of(ada.id).unwrap();
    assert_eq!(searches.len(), 1);
    let search = &searches[0];
    assert_eq!(search.query, "ti:mamba -vision");
    assert_eq!(search.min_upvotes, 5);
    assert_eq!(search.exclude, ["survey", "benchmark"]);
    assert_eq!(search.delivery, AlertDelivery::Digest);

    let settings = ada_browser.get("/settings");
    for want in [
        "ti:mamba -vision",
        &format!(
            r#"action="/settings/saved-searches/{}/delete""#,
            search.id.0
        ),
        r#"value="alerts""#,
    ] {
        assert!(
            settings.body.contains(want),
            "missing {want}: {}",
            settings.body
        );
    }

    for (fields, message) in [
        (
            [
                ("query", "  "),
                ("min_upvotes", ""),
                ("exclude", ""),
                ("delivery", "immediate"),
            ],
            "Type what to look for",
        ),
        (
            [
                ("query", "x"),
                ("min_upvotes", "-1"),
                ("exclude", ""),
                ("delivery", "immediate"),
            ],
            "upvote minimum",
        ),
        (
            [
                ("query", "x"),
                ("min_upvotes", ""),
                ("exclude", ""),
                ("delivery", "weekly"),
            ],
            "immediate or digest",
        ),
    ] {
        let bad = ada_browser.post_form_csrf("/settings/saved-searches", &fields);
        assert_eq!(bad.status, 400, "{message}");
        assert!(bad.body.contains(message), "{message}: {}", bad.body);
    }
    assert_eq!(app.store.saved_searches_of(ada.id).unwrap().len(), 1);

    // Another user cannot delete it, nor can a form without the token.
    let delete = format!("/settings/saved-searches/{}/delete", search.id.0);
    assert_eq!(bob_browser.post_form_csrf(&delete, &[]).status, 403);
    assert_eq!(ada_browser.post_form(&delete, &[]).status, 403);
    assert_eq!(app.store.saved_searches_of(ada.id).unwrap().len(), 1);
    let deleted = ada_browser.post_form_csrf(&delete, &[]);
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(app.store.saved_searches_of(ada.id).unwrap().is_empty());
    assert_eq!(
        ada_browser
            .post_form_csrf("/settings/saved-searches/abc/delete", &[])
            .status,
        400
    );
    // Signed out: to the login page.
    let anonymous = app.client().post_form("/settings/saved-searches", &fields);
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location().starts_with("/login"));
}

#[test]
fn the_search_page_offers_to_save_the_search_only_when_signed_in() {
    let app = TestApp::start_with_search(&fixture(), fixture_now());
    let (_, cookie, _) = app.sign_in("ada");
    let link = "Save this search as an alert";

    let signed_in = app.get_with(
        "/search?q=seven+authors&min_upvotes=3",
        &[("Cookie", &cookie)],
    );
    let body = signed_in.expect(200);
    assert!(body.contains(link), "{body}");
    assert!(
        body.contains(
            r#"href="/settings?alert_q=seven+authors&amp;alert_min_upvotes=3#saved-searches""#
        ),
        "{body}"
    );
    let anonymous = app.get("/search?q=seven+authors");
    assert!(!anonymous.expect(200).contains(link));
    let empty = app.get_with("/search", &[("Cookie", &cookie)]);
    assert!(!empty.expect(200).contains(link), "nothing to save yet");
}

#[test]
fn a_failing_store_never_shows_its_details_on_mail_pages() {
    let app = TestApp::serve(Arc::new(BrokenStore), fixture_now());
    let client = Client::new(&app.base);
    let token = unknown_token();
    for reply in [
        subscribe(&client, "ada@example.org"),
        client.get(&format!("/unsubscribe/{token}")),
        client.post_form(&format!("/unsubscribe/{token}"), &[]),
        client.post_form(&format!("/subscribe/confirm/{token}"), &[]),
    ] {
        assert_eq!(reply.status, 500, "{}", reply.body);
        assert!(
            reply.body.contains("Something went wrong on our side") && !reply.body.contains(SECRET),
            "{}",
            reply.body
        );
    }
    // The form itself needs no database.
    assert_eq!(client.get("/subscribe").status, 200);
}

#[test]
fn a_site_without_a_mail_server_says_so_and_takes_no_address() {
    let store: Arc<dyn paperboy_store::Store> =
        Arc::new(paperboy_store::SqliteStore::open_in_memory().expect("store"));
    let app = TestApp::serve_with(Arc::clone(&store), fixture_now(), |mut state| {
        state.config = Arc::new(paperboy_web::WebConfig {
            mail_enabled: false,
            ..(*state.config).clone()
        });
        state
    });
    let page = app.get("/subscribe");
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("does not send mail"), "{}", page.body);
    let sent = app.post_with(
        "/subscribe",
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(sent.status, 503, "{}", sent.body);
    assert_eq!(store.outbox_stats().expect("outbox").queued, 0);
}

#[test]
fn an_address_subscribed_without_an_account_is_linked_when_its_owner_confirms() {
    let app = SiteApp::start();
    let before = subscribed(&app, &app.client(), "ada@example.org");
    assert_eq!(before.user, None);
    let (ada, browser) = app.user_client("ada", false);

    let reply = browser.post_form_csrf(
        "/subscribe",
        &[
            ("email", "ada@example.org"),
            ("cadence", "weekly"),
            ("papers", "5"),
            ("send_at", "09:30"),
            ("zone", "UTC"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Check your inbox"), "{}", reply.body);
    let links: Vec<(String, String)> = app
        .store
        .messages_to(&address("ada@example.org"))
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Link)
        .map(|m| match serde_json::from_str::<Payload>(&m.payload) {
            Ok(Payload::Link { token, account }) => (token, account),
            other => panic!("not a link payload: {other:?}"),
        })
        .collect();
    assert_eq!(links.len(), 1, "one link mail");
    let (token, account) = &links[0];
    assert_eq!(account, "ada");
    // Not the account's until the mailbox's owner says so.
    assert_eq!(app.store.subscription_of_user(ada.id).unwrap(), None);
    assert_eq!(subscription(&app, "ada@example.org"), before);

    // The link's page shows a button; a confirmation link it is not.
    let confirm = format!("/subscribe/link/{token}");
    let page = app.client().get(&confirm);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Link to my account"), "{}", page.body);
    let wrong = app
        .client()
        .post_form(&format!("/subscribe/confirm/{token}"), &[]);
    assert_eq!(wrong.status, 404);
    assert_eq!(app.store.subscription_of_user(ada.id).unwrap(), None);
    let reply = app.client().post_form(&confirm, &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("Your subscription is linked"),
        "{}",
        reply.body
    );
    let linked = app
        .store
        .subscription_of_user(ada.id)
        .unwrap()
        .expect("linked");
    assert_eq!(
        linked,
        Subscription {
            user: Some(ada.id),
            ..before
        },
        "the schedule stays as it was"
    );
    let settings = browser.get("/settings");
    for want in [
        "A daily digest of 10 papers",
        r#"action="/settings/subscription""#,
    ] {
        assert!(
            settings.body.contains(want),
            "missing {want}: {}",
            settings.body
        );
    }
    let again = app.client().post_form(&confirm, &[]);
    assert_eq!(again.status, 404, "used once");
}
