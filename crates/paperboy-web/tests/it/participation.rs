//! What signed-in users do, over HTTP: CSRF, upvotes (also 200 concurrent
//! toggles), comments and their rules, Markdown and XSS, submissions, the
//! JSON write API with tokens, the reading list.

use paperboy_core::ArxivId;
use paperboy_core::comment::MAX_COMMENT_CHARS;
use serde_json::json;

use crate::browser::{Client, Reply, SiteApp};

/// The id of the newest comment with `body` on a paper.
fn comment_id(app: &SiteApp, paper: &ArxivId, body: &str) -> i64 {
    app.store
        .comments(paper)
        .unwrap()
        .iter()
        .rev()
        .find(|c| c.body == body)
        .unwrap_or_else(|| panic!("no comment {body:?}"))
        .id
        .0
}

fn comment(client: &Client, paper: &ArxivId, body: &str, parent: Option<i64>) -> Reply {
    let parent = parent.map(|p| p.to_string()).unwrap_or_default();
    let path = format!("/papers/{paper}/comments");
    client.post_form_csrf(
        &path,
        &[
            ("body", body),
            ("parent", &parent),
            ("return_to", &format!("/papers/{paper}")),
        ],
    )
}

#[test]
fn writes_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, Some(3));
    let (ada_user, ada) = app.user_client("ada", false);
    let upvote = format!("/papers/{id}/upvote");

    for fields in [
        vec![("action", "up")],
        vec![("action", "up"), ("csrf", "")],
        vec![("action", "up"), ("csrf", "0123")],
    ] {
        let reply = ada.post_form(&upvote, &fields);
        assert_eq!(reply.status, 403, "{fields:?}: {}", reply.body);
        assert!(reply.body.contains("reload the page"), "{}", reply.body);
    }
    // Another session's token is no good either.
    let (_, bob) = app.user_client("bob", false);
    assert_eq!(
        ada.post_form(&upvote, &[("action", "up"), ("csrf", &bob.csrf)])
            .status,
        403
    );
    let refused = ada.post_form(
        &format!("/papers/{id}/comments"),
        &[("body", "hi"), ("csrf", "nope")],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(
        ada.post_form(&format!("/papers/{id}/save"), &[("saved", "1")])
            .status,
        403
    );
    assert_eq!(
        ada.post_form("/submit", &[("arxiv_id", id.as_str())])
            .status,
        403
    );

    // JSON with the session cookie needs X-CSRF-Token.
    let path = format!("/api/papers/{id}/upvote");
    let reply = ada.post_json(&path, &json!({}), &[]);
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["error"], "csrf_rejected");
    assert_eq!(
        ada.post_json(&path, &json!({}), &[("X-CSRF-Token", "wrong")])
            .status,
        403
    );
    assert_eq!(ada.delete(&path, &[]).status, 403);

    assert_eq!(app.upvotes(&id), 3, "nothing changed");
    assert!(app.store.comments(&id).unwrap().is_empty());
    assert!(app.store.saved_papers(ada_user.id).unwrap().is_empty());
    assert!(
        app.store
            .day_entries(app.now().date_naive())
            .unwrap()
            .is_empty()
    );

    // With the token it works.
    let ok = ada.post_json_csrf(&path, &json!({}));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json(), json!({"upvoted": true, "upvotes": 4}));

    // Visitors are sent to log in (pages) or get a 401 (API).
    let visitor = app.client();
    let reply = visitor.post_form(&upvote, &[("action", "up")]);
    assert_eq!(reply.status, 303);
    assert!(reply.location().starts_with("/login"));
    let reply = visitor.post_json(&path, &json!({}), &[]);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "unauthorized");
}

#[test]
fn an_upvote_toggles_the_count_and_survives_a_reload() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, Some(10));
    let (_, ada) = app.user_client("ada", false);
    let upvote = format!("/papers/{id}/upvote");

    let reply = ada.post_form_csrf(
        &upvote,
        &[("action", "up"), ("return_to", "/papers/date/2025-06-10")],
    );
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/papers/date/2025-06-10");
    assert_eq!(app.upvotes(&id), 11);
    // Idempotent: a second "up" (double click) counts once.
    ada.post_form_csrf(&upvote, &[("action", "up")]);
    assert_eq!(app.upvotes(&id), 11);
    // The list's button sends upvoted=true|false.
    let reply = ada.post_form_csrf(
        &upvote,
        &[("upvoted", "false"), ("return_to", "https://evil.example/")],
    );
    assert_eq!(
        reply.location(),
        format!("/papers/{id}"),
        "return_to must be local"
    );
    assert_eq!(app.upvotes(&id), 10);
    ada.post_form_csrf(&upvote, &[("upvoted", "true")]);

    // A reload (the API, a fresh client) shows the stored count.
    let paper = app.client().get(&format!("/api/papers/{id}"));
    assert_eq!(paper.status, 200, "{}", paper.body);
    assert_eq!(paper.json()["upvotes"], 11);
    let page = ada.get(&format!("/papers/{id}"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"aria-pressed="true""#),
        "shown as upvoted"
    );

    let bad = ada.post_form_csrf(&upvote, &[("action", "sideways")]);
    assert_eq!(bad.status, 400);
    assert_eq!(
        ada.post_form_csrf("/papers/2506.99999/upvote", &[("action", "up")])
            .status,
        404
    );
    assert_eq!(
        ada.post_form_csrf("/papers/not-an-id/upvote", &[("action", "up")])
            .status,
        400
    );
}

#[test]
fn old_style_ids_work_in_write_routes() {
    let app = SiteApp::start();
    let id = app.add_paper("hep-th/9901001", "An old paper", 9000, None);
    let (_, ada) = app.user_client("ada", false);
    assert_eq!(
        ada.post_form_csrf("/papers/hep-th/9901001/upvote", &[("action", "up")])
            .status,
        303
    );
    assert_eq!(app.upvotes(&id), 1);
    let reply = ada.delete(
        "/api/papers/hep-th/9901001/upvote",
        &[("X-CSRF-Token", &ada.csrf)],
    );
    assert_eq!(reply.json(), json!({"upvoted": false, "upvotes": 0}));
    let reply = ada.post_json_csrf("/api/papers/hep-th%2F9901001/upvote", &json!({}));
    assert_eq!(reply.json(), json!({"upvoted": true, "upvotes": 1}));
    let reply = comment(&ada, &id, "old but gold", None);
    assert_eq!(reply.status, 303);
    assert!(
        reply
            .location()
            .starts_with("/papers/hep-th/9901001#comment-"),
        "{}",
        reply.location()
    );
    assert_eq!(
        ada.post_form_csrf("/papers/hep-th/9901001/save", &[("saved", "1")])
            .status,
        303
    );
    let reply = ada.post_json_csrf(
        "/api/papers/hep-th/9901001/comment",
        &json!({"comment": "via API"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["paperId"], "hep-th/9901001");
}

#[test]
fn concurrent_upvote_toggles_end_with_the_exact_count() {
    const USERS: usize = 50;
    const TOGGLES_EACH: usize = 4;
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A popular paper", 1, Some(7));
    // Half the users vote through the form with a session, half through the
    // API with their own token.
    let clients: Vec<Client> = (0..USERS)
        .map(|i| {
            let name = format!("user{i}");
            if i % 2 == 0 {
                app.user_client(&name, false).1
            } else {
                let user = app.add_user(&name, false);
                let (token, hash) = paperboy_web::auth::new_api_token().unwrap();
                app.store
                    .create_api_token(user.id, "bench", &hash, app.now())
                    .unwrap();
                app.client().with_bearer(&token)
            }
        })
        .collect();

    std::thread::scope(|scope| {
        for (i, client) in clients.iter().enumerate() {
            let id = &id;
            scope.spawn(move || {
                // up, down, up, then up for every third user and down for the rest.
                let actions = [true, false, true, i % 3 == 0];
                assert_eq!(actions.len(), TOGGLES_EACH);
                for up in actions {
                    if client.bearer.is_some() {
                        let path = format!("/api/papers/{id}/upvote");
                        let reply = if up {
                            client.post_json(&path, &json!({}), &[])
                        } else {
                            client.delete(&path, &[])
                        };
                        assert_eq!(reply.status, 200, "{}", reply.body);
                        assert_eq!(reply.json()["upvoted"], up);
                    } else {
                        let action = if up { "up" } else { "down" };
                        let reply = client
                            .post_form_csrf(&format!("/papers/{id}/upvote"), &[("action", action)]);
                        assert_eq!(reply.status, 303, "{}", reply.body);
                    }
                }
            });
        }
    });

    let expected = 7 + (0..USERS).filter(|i| i % 3 == 0).count() as u32;
    assert_eq!(app.upvotes(&id), expected);
    assert_eq!(
        app.client().get(&format!("/api/papers/{id}")).json()["upvotes"],
        expected
    );
}

#[test]
fn comments_replies_edits_deletes_and_moderation() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, None);
    let (_, root) = app.user_client("root", false); // first user: admin
    let (_, ada) = app.user_client("ada", false);
    let (_, bob) = app.user_client("bob", false);

    let reply = comment(&ada, &id, "First! **bold** claim", None);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let first = comment_id(&app, &id, "First! **bold** claim");
    assert_eq!(reply.location(), format!("/papers/{id}#comment-{first}"));

    assert_eq!(comment(&bob, &id, "A reply", Some(first)).status, 303);
    let reply_id = comment_id(&app, &id, "A reply");
    let nested = comment(&ada, &id, "reply to a reply", Some(reply_id));
    assert_eq!(nested.status, 400, "{}", nested.body);
    assert!(nested.body.contains("is a reply"), "{}", nested.body);
    assert_eq!(comment(&ada, &id, "to nothing", Some(99_999)).status, 404);

    let page = app.client().get(&format!("/papers/{id}"));
    assert!(
        page.body.contains("<strong>bold</strong>") && page.body.contains("A reply"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("to comment"),
        "visitors get a sign-in link"
    );

    // Edit own; others' refused.
    let edit = format!("/comments/{first}/edit");
    let reply = ada.post_form_csrf(
        &edit,
        &[
            ("body", "First! (edited)"),
            ("return_to", &format!("/papers/{id}")),
        ],
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), format!("/papers/{id}#comment-{first}"));
    let refused = bob.post_form_csrf(&edit, &[("body", "hijacked")]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let stored = app.store.comments(&id).unwrap();
    let c = stored.iter().find(|c| c.id.0 == first).unwrap();
    assert_eq!(c.body, "First! (edited)");
    assert!(c.edited_at.is_some());
    assert!(ada.get(&format!("/papers/{id}")).body.contains(">edited<"));

    // Delete: others' refused, own works (kept as deleted: it has a reply).
    let delete = format!("/comments/{first}/delete");
    assert_eq!(bob.post_form_csrf(&delete, &[]).status, 403);
    let reply = ada.post_form_csrf(&delete, &[("return_to", &format!("/papers/{id}#comments"))]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), format!("/papers/{id}#comments"));
    let page = app.client().get(&format!("/papers/{id}")).body;
    assert!(
        page.contains("[deleted]") && !page.contains("First! (edited)") && page.contains("A reply"),
        "{page}"
    );

    // Hide: admins only; hidden for others, marked for admins; unhide.
    assert_eq!(comment(&ada, &id, "buy cheap pills", None).status, 303);
    let spam = comment_id(&app, &id, "buy cheap pills");
    let hide = format!("/comments/{spam}/hide");
    let refused = ada.post_form_csrf(&hide, &[("hidden", "1")]);
    assert_eq!(refused.status, 403);
    assert_eq!(root.post_form_csrf(&hide, &[("hidden", "1")]).status, 303);
    let visitor_view = app.client().get(&format!("/papers/{id}")).body;
    assert!(
        !visitor_view.contains("cheap pills") && visitor_view.contains("[hidden by a moderator]"),
        "{visitor_view}"
    );
    let admin_view = root.get(&format!("/papers/{id}")).body;
    assert!(
        admin_view.contains("cheap pills") && admin_view.contains("only admins see this"),
        "{admin_view}"
    );
    assert_eq!(root.post_form_csrf(&hide, &[("hidden", "0")]).status, 303);
    assert!(
        app.client()
            .get(&format!("/papers/{id}"))
            .body
            .contains("cheap pills")
    );
}

#[test]
fn markdown_is_rendered_and_xss_is_inert() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, None);
    let (_, ada) = app.user_client("ada", false);
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "see [the code](https://github.com/a/b) and *this*",
    ];
    for body in payloads {
        assert_eq!(comment(&ada, &id, body, None).status, 303, "{body}");
    }
    let reply = ada.post_json_csrf(
        &format!("/api/papers/{id}/comment"),
        &json!({"comment": "<script>alert(2)</script>"}),
    );
    assert_eq!(reply.status, 200);
    assert!(!reply.json()["html"].as_str().unwrap().contains("<script"));

    for viewer in [app.client(), ada.clone()] {
        let page = viewer.get(&format!("/papers/{id}")).body;
        assert!(!page.contains("<script>alert"), "a script survived: {page}");
        assert!(!page.contains("<img src=x"), "an image tag survived");
        assert!(
            !page.contains("href=\"javascript:"),
            "a javascript: link survived"
        );
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "shown as text"
        );
        assert!(
            page.contains(r#"href="https://github.com/a/b""#) && page.contains("nofollow"),
            "{page}"
        );
        assert!(page.contains("<em>this</em>"));
    }
}

#[test]
fn empty_and_oversized_comments_get_a_clear_400() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 1, None);
    let (_, ada) = app.user_client("ada", false);
    let too_long = "x".repeat(MAX_COMMENT_CHARS + 1);
    let longest = "é".repeat(MAX_COMMENT_CHARS);

    let reply = comment(&ada, &id, "  \n ", None);
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("A comment cannot be empty"),
        "{}",
        reply.body
    );
    let reply = comment(&ada, &id, &too_long, None);
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .body
            .contains("at most 10000 characters, this one has 10001"),
        "{}",
        reply.body
    );
    assert_eq!(
        comment(&ada, &id, &longest, None).status,
        303,
        "10,000 characters are fine"
    );

    let api = format!("/api/papers/{id}/comment");
    let reply = ada.post_json_csrf(&api, &json!({"comment": ""}));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "empty_comment");
    let reply = ada.post_json_csrf(&api, &json!({"comment": too_long}));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "comment_too_long");
    assert!(reply.json()["message"].as_str().unwrap().contains("10001"));
    let reply = ada.post_json_csrf(&api, &json!("not an object"));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "bad_json");

    // Editing follows the same rules.
    let first = comment_id(&app, &id, &longest);
    assert_eq!(
        ada.post_form_csrf(&format!("/comments/{first}/edit"), &[("body", &too_long)])
            .status,
        400
    );
    assert_eq!(app.store.comments(&id).unwrap().len(), 1);
}

#[test]
fn submitting_puts_a_known_recent_paper_on_todays_list() {
    let app = SiteApp::start();
    let fresh = app.add_paper("2506.01234", "Fresh", 3, None);
    let old = app.add_paper("2505.00001", "Old", 15, None);
    let edge = app.add_paper("2505.00002", "Exactly 14 days", 14, None);
    let (_, ada) = app.user_client("ada", false);

    let page = ada.get("/submit");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"name="arxiv_id""#));

    let unknown = ada.post_form_csrf("/submit", &[("arxiv_id", "2506.99999")]);
    assert_eq!(unknown.status, 404);
    assert!(
        unknown
            .body
            .contains("We don&#39;t know paper 2506.99999 yet;")
            || unknown.body.contains("We don't know paper 2506.99999 yet;"),
        "{}",
        unknown.body
    );

    let bad = ada.post_form_csrf("/submit", &[("arxiv_id", "hello")]);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not an arXiv id"), "{}", bad.body);

    let too_old = ada.post_form_csrf("/submit", &[("arxiv_id", old.as_str())]);
    assert_eq!(too_old.status, 400);
    assert!(
        too_old.body.contains("more than 14 days ago"),
        "{}",
        too_old.body
    );

    // Any spelling: a versioned abs URL.
    let ok = ada.post_form_csrf(
        "/submit",
        &[("arxiv_id", "https://arxiv.org/abs/2506.01234v2")],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), format!("/papers/{fresh}"));
    let today = app.now().date_naive();
    let listed = app.store.day_entries(today).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0.paper_id, fresh);
    assert_eq!(
        listed[0].0.submitter.as_ref().map(|s| s.name.as_str()),
        Some("ada")
    );
    let day_page = app.client().get(&format!("/papers/date/{today}"));
    assert!(day_page.body.contains("Fresh"), "{}", day_page.body);

    let again = ada.post_form_csrf("/submit", &[("arxiv_id", "arXiv:2506.01234")]);
    assert_eq!(again.status, 409);
    assert!(again.body.contains("already on today"), "{}", again.body);

    assert_eq!(
        ada.post_form_csrf("/submit", &[("arxiv_id", edge.as_str())])
            .status,
        303,
        "14 days is still fine"
    );

    // The curation day is the app's "today": move the clock, submit again.
    app.set_now(app.now() + chrono::Duration::days(1));
    let later = app.add_paper("2506.05555", "Tomorrow's", 0, None);
    assert_eq!(
        ada.post_form_csrf("/submit", &[("arxiv_id", later.as_str())])
            .status,
        303
    );
    assert_eq!(
        app.store
            .day_entries(today.succ_opt().unwrap())
            .unwrap()
            .len(),
        1
    );
    let again = ada.post_form_csrf("/submit", &[("arxiv_id", fresh.as_str())]);
    assert!(
        again
            .body
            .contains(&format!("already on the list of {today}")),
        "{}",
        again.body
    );
}

#[test]
fn the_json_write_api_works_with_a_bearer_token() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "A paper", 2, Some(1));
    let user = app.add_user("ada", false);
    let (token, hash) = paperboy_web::auth::new_api_token().unwrap();
    app.store
        .create_api_token(user.id, "script", &hash, app.now())
        .unwrap();
    let script = app.client().with_bearer(&token);

    let path = format!("/api/papers/{id}/upvote");
    assert_eq!(
        script.post_json(&path, &json!({}), &[]).json(),
        json!({"upvoted": true, "upvotes": 2})
    );
    assert_eq!(
        script.delete(&path, &[]).json(),
        json!({"upvoted": false, "upvotes": 1})
    );
    let missing = script.post_json("/api/papers/2506.99999/upvote", &json!({}), &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "paper_not_found");

    let reply = script.post_json(
        &format!("/api/papers/{id}/comment"),
        &json!({"comment": "Nice *work*"}),
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = reply.json();
    assert_eq!(c["author"], "ada");
    assert_eq!(c["body"], "Nice *work*");
    assert_eq!(c["paperId"], "2506.01234");
    assert!(c["parentId"].is_null());
    assert!(c["html"].as_str().unwrap().contains("<em>work</em>"));
    let parent = c["id"].as_i64().expect("an integer id");
    let path = format!("/api/papers/{id}/comment");
    let reply = script.post_json(
        &path,
        &json!({"comment": "me too", "parentId": parent}),
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["parentId"], parent);
    let nested = reply.json()["id"].as_i64().unwrap();
    // A string id works too.
    let deeper = json!({"comment": "deeper", "parentId": nested.to_string()});
    let reply = script.post_json(&path, &deeper, &[]);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "reply_to_reply");

    let reply = script.post_json(
        "/api/daily_papers",
        &json!({"arxivId": "arXiv:2506.01234v1"}),
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let item = reply.json();
    assert_eq!(item["paper"]["id"], "2506.01234");
    assert_eq!(item["title"], "A paper");
    assert_eq!(item["numComments"], 2);
    let again = script.post_json("/api/daily_papers", &json!({"arxivId": "2506.01234"}), &[]);
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["error"], "already_listed");
    let unknown = script.post_json("/api/daily_papers", &json!({"arxivId": "2506.99999"}), &[]);
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("We don't know paper 2506.99999 yet;")
    );
    assert_eq!(
        script
            .post_json("/api/daily_papers", &json!({}), &[])
            .status,
        400
    );

    // The listed paper shows on the API's day list.
    let day = app.now().date_naive();
    let list = app
        .client()
        .get(&format!("/api/daily_papers?date={day}"))
        .json();
    assert_eq!(list[0]["paper"]["id"], "2506.01234");

    // No token, a wrong token, a malformed header: 401 JSON.
    for client in [
        app.client(),
        app.client().with_bearer("pb_nope"),
        app.client().with_bearer("not-a-token"),
    ] {
        let reply = client.post_json(&path, &json!({}), &[]);
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()["error"], "unauthorized");
    }
    assert_eq!(app.upvotes(&id), 1);
}

#[test]
fn the_reading_list_saves_and_unsaves() {
    let app = SiteApp::start();
    let id = app.add_paper("2506.01234", "Worth Reading Later", 1, None);
    let (user, ada) = app.user_client("ada", false);

    let reply = ada.post_form_csrf(
        &format!("/papers/{id}/save"),
        &[("saved", "1"), ("return_to", "/papers")],
    );
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/papers");
    assert_eq!(app.store.saved_papers(user.id).unwrap().len(), 1);
    let settings = ada.get("/settings").body;
    assert!(settings.contains("Worth Reading Later"), "{settings}");

    let reply = ada.post_form_csrf(
        &format!("/papers/{id}/save"),
        &[("saved", "0"), ("return_to", "/settings#reading-list")],
    );
    assert_eq!(reply.location(), "/settings#reading-list");
    assert!(app.store.saved_papers(user.id).unwrap().is_empty());
    assert!(ada.get("/settings").body.contains("Nothing saved yet"));
    assert_eq!(
        ada.post_form_csrf(&format!("/papers/{id}/save"), &[("saved", "maybe")])
            .status,
        400
    );
}
