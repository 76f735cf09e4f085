//! Accounts over HTTP: sign-up, login, logout, sessions and their cookie,
//! identical answers for wrong passwords and unknown users, rate limits,
//! settings and API tokens, user pages, `create_user`.

use paperboy_web::account::{WRONG_LOGIN, create_user};
use paperboy_web::auth::RateRules;

use crate::browser::{Client, Reply, SiteApp, csrf_in, password_of};

fn sign_up(client: &Client, username: &str, email: &str, password: &str) -> Reply {
    client.post_form(
        "/signup",
        &[
            ("username", username),
            ("email", email),
            ("display_name", ""),
            ("password", password),
        ],
    )
}

#[test]
fn sign_up_logs_in_with_a_safe_cookie_and_logout_ends_the_session() {
    let app = SiteApp::start();
    let mut browser = app.client();
    assert_eq!(browser.get("/signup").status, 200);

    let reply = sign_up(&browser, "ada", "Ada@Example.org", "correct horse battery");
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), "/");
    let cookies = reply.set_cookies();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("paperboy_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(session.contains(flag), "{session} lacks {flag}");
    }
    assert!(
        !session.contains("Secure"),
        "not Secure without secure_cookies: {session}"
    );
    let token = browser.cookie("paperboy_session").expect("kept");
    assert_eq!(token.len(), 64, "32 random bytes in hex");

    // Signed in; the first user is an admin; the token is not stored in the clear.
    let settings = browser.get("/settings");
    assert_eq!(settings.status, 200);
    assert!(
        settings.body.contains("@ada") && settings.body.contains("admin"),
        "{}",
        settings.body
    );
    assert!(
        settings.body.contains("ada@example.org"),
        "email normalised"
    );
    assert!(
        app.store.session(&token, app.now()).unwrap().is_none(),
        "the raw token is no key"
    );
    let user = app.store.user_by_username("ada").unwrap().expect("stored");
    assert!(user.is_admin);

    // Logout without the CSRF token is refused and changes nothing.
    browser.refresh_csrf();
    let refused = browser.post_form("/logout", &[]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(browser.get("/settings").status, 200, "still signed in");

    let stolen = browser.copy();
    let reply = browser.post_form_csrf("/logout", &[]);
    assert_eq!(reply.status, 303);
    assert!(
        reply
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("paperboy_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(browser.cookie("paperboy_session"), None);
    let after = browser.get("/settings");
    assert_eq!(after.status, 303);
    assert_eq!(after.location(), "/login?next=/settings");
    // The session is gone server-side too: a copy of the old cookie is nobody.
    assert_eq!(stolen.get("/settings").status, 303);

    // Logging back in works, and a second user is no admin.
    let reply = browser.post_form(
        "/login",
        &[
            ("login", "ADA@example.org"),
            ("password", "correct horse battery"),
        ],
    );
    assert_eq!(
        reply.status, 303,
        "login by email, any case: {}",
        reply.body
    );
    assert_eq!(browser.get("/settings").status, 200);
    let bob = app.client();
    assert_eq!(
        sign_up(&bob, "bob", "bob@example.org", "another long password").status,
        303
    );
    assert!(!app.store.user_by_username("bob").unwrap().unwrap().is_admin);
}

#[test]
fn secure_cookies_when_configured() {
    let app = SiteApp::builder()
        .config(|c| c.secure_cookies = true)
        .start();
    let reply = sign_up(
        &app.client(),
        "ada",
        "ada@example.org",
        "correct horse battery",
    );
    assert!(
        reply
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("paperboy_session=") && c.contains("; Secure"))
    );
}

#[test]
fn sign_up_explains_each_field() {
    let app = SiteApp::start();
    let client = app.client();
    let reply = sign_up(&client, "a", "not-an-email", "short");
    assert_eq!(reply.status, 400);
    for message in [
        "A username has 2 to 32 characters",
        "This is not an email address",
        "A password has at least 10 characters",
    ] {
        assert!(reply.body.contains(message), "missing {message:?}");
    }
    assert!(reply.set_cookies().is_empty());
    assert!(
        reply.body.contains(r#"value="not-an-email""#),
        "the form keeps what was typed"
    );

    assert_eq!(
        sign_up(&client, "ada", "ada@example.org", "correct horse battery").status,
        303
    );
    let other = app.client();
    let taken = sign_up(&other, "ADA", "other@example.org", "correct horse battery");
    assert_eq!(taken.status, 409);
    assert!(
        taken.body.contains("This username is taken"),
        "{}",
        taken.body
    );
    let taken = sign_up(&other, "ada2", "ada@example.org", "correct horse battery");
    assert_eq!(taken.status, 409);
    assert!(
        taken
            .body
            .contains("An account with this email address exists"),
        "{}",
        taken.body
    );
    assert!(other.cookie("paperboy_session").is_none());
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = SiteApp::start();
    app.add_user("ada", false);
    let attempt = |login: &str| {
        let reply = app.client().post_form(
            "/login",
            &[("login", login), ("password", "not the password")],
        );
        // The form echoes what was typed; everything else must be identical.
        (
            reply.status,
            reply.set_cookies(),
            reply.body.replace(login, "LOGIN"),
        )
    };
    let wrong_password = attempt("ada");
    let unknown_user = attempt("nobody");
    let unknown_email = attempt("nobody@example.org");
    assert_eq!(wrong_password.0, 401);
    assert!(wrong_password.1.is_empty());
    assert!(wrong_password.2.contains(WRONG_LOGIN));
    assert_eq!(wrong_password, unknown_user);
    assert_eq!(wrong_password, unknown_email);
}

#[test]
fn failed_logins_are_rate_limited_per_account_and_per_address() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    app.add_user("ada", false);
    let login = |name: &str, password: &str| {
        app.client()
            .post_form("/login", &[("login", name), ("password", password)])
    };

    // 5 failures per account in 15 minutes.
    for i in 0..5 {
        assert_eq!(login("ada", "wrong password").status, 401, "attempt {i}");
    }
    let limited = login("ada", &password_of("ada"));
    assert_eq!(
        limited.status, 429,
        "even the right password waits: {}",
        limited.body
    );
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert!(
        limited.body.contains("too many attempts"),
        "{}",
        limited.body
    );
    assert_eq!(
        login("ADA@example.org", &password_of("ada")).status,
        429,
        "by email it is the same account"
    );

    // The address has used 7 of its 10: three more failures, then it is limited.
    for i in 0..3 {
        assert_eq!(login(&format!("someone{i}"), "wrong password").status, 401);
    }
    let by_ip = login("someone-else", "wrong password");
    assert_eq!(by_ip.status, 429);
    assert!(by_ip.header("retry-after").is_some());

    // Time passes: both windows have slid by.
    app.set_now(app.now() + chrono::Duration::minutes(16));
    let reply = login("ada", &password_of("ada"));
    assert_eq!(reply.status, 303, "{}", reply.body);
}

#[test]
fn successful_logins_do_not_use_up_the_limit() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    app.add_user("ada", false);
    for _ in 0..12 {
        app.login("ada");
    }
}

#[test]
fn sign_ups_are_rate_limited_per_address() {
    let app = SiteApp::builder().rules(RateRules::default()).start();
    let max = RateRules::default().signup_per_ip.max;
    for i in 0..max {
        let reply = sign_up(
            &app.client(),
            &format!("user{i}"),
            &format!("user{i}@example.org"),
            "long enough password",
        );
        assert_eq!(reply.status, 303, "{}", reply.body);
    }
    let limited = sign_up(
        &app.client(),
        "onemore",
        "onemore@example.org",
        "long enough password",
    );
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert!(app.store.user_by_username("onemore").unwrap().is_none());
}

#[test]
fn next_leads_only_to_local_paths() {
    let app = SiteApp::start();
    app.add_user("ada", false);
    let login_to = |next: &str| {
        app.client()
            .post_form(
                "/login",
                &[
                    ("login", "ada"),
                    ("password", &password_of("ada")),
                    ("next", next),
                ],
            )
            .location()
            .to_string()
    };
    assert_eq!(
        login_to("/papers/date/2025-06-10"),
        "/papers/date/2025-06-10"
    );
    assert_eq!(login_to("https://evil.example/"), "/");
    assert_eq!(login_to("//evil.example/"), "/");
    assert_eq!(login_to("/\\evil.example/"), "/");

    // A page that needs a session sends visitors to log in and back.
    let reply = app.client().get("/submit");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login?next=/submit");
    let form = app.client().get("/login?next=/submit");
    assert!(
        form.body.contains(r#"name="next" value="/submit""#),
        "{}",
        form.body
    );
    let form = app.client().get("/login?next=https://evil.example");
    assert!(
        form.body.contains(r#"name="next" value="""#),
        "{}",
        form.body
    );
}

#[test]
fn an_api_token_is_shown_once_and_works_as_bearer() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, None);
    let (_, browser) = app.user_client("ada", false);

    let created = browser.post_form_csrf("/settings/tokens", &[("name", "my script")]);
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let start = created
        .body
        .find(r#"class="token">"#)
        .expect("token on the page")
        + r#"class="token">"#.len();
    let token: String = created.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert!(token.starts_with("pb_") && token.len() == 3 + 64, "{token}");
    assert!(
        !browser.get("/settings").body.contains(&token),
        "shown once"
    );

    let script = app.client().with_bearer(&token);
    let reply = script.post_json(
        &format!("/api/papers/{id}/upvote"),
        &serde_json::json!({}),
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["upvoted"], true);

    // Without the CSRF token, a token cannot be created.
    let refused = browser.post_form("/settings/tokens", &[("name", "x"), ("csrf", "wrong")]);
    assert_eq!(refused.status, 403);
    assert!(!refused.body.contains(r#"class="token""#));

    let bad = app.client().with_bearer("pb_0000");
    let reply = bad.post_json(
        &format!("/api/papers/{id}/upvote"),
        &serde_json::json!({}),
        &[],
    );
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "unauthorized");
}

#[test]
fn user_pages_list_submissions_and_upvotes() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "Attention Is Still All You Need", 1, None);
    let (_, ada) = app.user_client("ada", false);
    assert_eq!(
        ada.post_form_csrf("/submit", &[("arxiv_id", id.as_str())])
            .status,
        303
    );
    let (_, bob) = app.user_client("bob", false);
    assert_eq!(
        bob.post_form_csrf(&format!("/papers/{id}/upvote"), &[("action", "up")])
            .status,
        303
    );

    let page = app.client().get("/users/ada");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Attention Is Still All You Need"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("1</strong> paper submitted"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("1</strong> upvote received"),
        "{}",
        page.body
    );
    let empty = app.client().get("/users/bob");
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No submissions yet"));
    assert_eq!(app.client().get("/users/nobody").status, 404);
    assert_eq!(app.client().get("/users/ada?p=x").status, 400);
    assert!(
        app.client()
            .get("/users/ada?p=1")
            .body
            .contains("No submissions on this page")
    );
}

#[test]
fn create_user_validates_and_hashes() {
    let app = SiteApp::start();
    let store = app.store.as_ref();
    let now = app.now();
    let err = create_user(
        store,
        "x",
        "ada@example.org",
        "",
        "long enough password",
        false,
        now,
    )
    .unwrap_err();
    assert_eq!(err.code(), "bad_username");
    let err =
        create_user(store, "ada", "nope", "", "long enough password", false, now).unwrap_err();
    assert_eq!(err.code(), "bad_email");
    let err = create_user(store, "ada", "ada@example.org", "", "short", false, now).unwrap_err();
    assert_eq!(err.code(), "bad_password");

    let first = create_user(
        store,
        "root",
        "root@example.org",
        "Root",
        "long enough password",
        false,
        now,
    )
    .unwrap();
    assert!(first.is_admin, "the first user is an admin");
    let second = create_user(
        store,
        "ada",
        "ada@example.org",
        "",
        "long enough password",
        false,
        now,
    )
    .unwrap();
    assert!(!second.is_admin);
    assert_eq!(second.display_name, "ada");
    let third = create_user(
        store,
        "eve",
        "eve@example.org",
        "",
        "long enough password",
        true,
        now,
    )
    .unwrap();
    assert!(third.is_admin, "--admin");
    let err = create_user(
        store,
        "ada",
        "other@example.org",
        "",
        "long enough password",
        false,
        now,
    )
    .unwrap_err();
    assert_eq!(err.code(), "username_taken");

    let (_, hash) = store.user_for_login("ada").unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("long enough password"));
}

#[test]
fn pages_carry_the_csrf_token_of_their_session() {
    let app = SiteApp::start();
    let (_, ada) = app.user_client("ada", false);
    let (_, bob) = app.user_client("bob", false);
    assert_ne!(ada.csrf, bob.csrf);
    assert_eq!(
        csrf_in(&ada.get("/settings").body).as_deref(),
        Some(ada.csrf.as_str())
    );
    assert_eq!(
        csrf_in(&app.client().get("/login").body),
        None,
        "visitors get no token"
    );
}
