//! The site in a real browser, as people use it: browse a day and open a
//! paper, sign up and upvote, submit a paper, comment and reply; and
//! screenshots of the main pages (light, dark, phone), written to
//! docs/screenshots/ when `PAPERBOY_SCREENSHOTS=1`.

use std::path::PathBuf;

use chrono::Utc;
use serde_json::{Value, json};

use super::browser::{Browser, Look, norm, submit_form};
use super::{Data, HfPaper, RecentPaper, TestUser, hf_day};

/// The days the browser tests load: three recent weekdays.
const DAYS: &[&str] = &["2026-08-19", "2026-08-20", "2026-08-21"];

/// The ids of the papers a page links to (`/papers/{id}`), in page order,
/// each once; list pages (`/papers/date/…`, week, month, trending) left out.
async fn linked_papers(browser: &Browser) -> Vec<String> {
    let ids = browser
        .js(
            r#"const ids = [];
               for (const a of document.querySelectorAll('main a[href^="/papers/"]')) {
                 const m = a.getAttribute('href').match(/^\/papers\/([^#?]+)$/);
                 if (!m || /^(date|week|month|trending)(\/|$)/.test(m[1])) continue;
                 if (!ids.includes(m[1])) ids.push(m[1]);
               }
               return ids;"#,
            vec![],
        )
        .await;
    serde_json::from_value(ids).expect("a list of ids")
}

/// The count on the upvote button of the form posting to `action`.
async fn upvote_count(browser: &Browser, action: &str) -> Option<u64> {
    browser
        .js(
            r#"const b = document.querySelector('form[action="' + arguments[0] + '"] button');
               const m = b && b.innerText.match(/\d+/);
               return m ? Number(m[0]) : null;"#,
            vec![json!(action)],
        )
        .await
        .as_u64()
}

/// Waits until the upvote button of `action` shows `count`, pressed or not.
async fn wait_upvotes(browser: &Browser, action: &str, count: u64, pressed: bool) {
    browser
        .wait_js(
            &format!("the upvote button of {action} to show {count} (pressed: {pressed})"),
            r#"const b = document.querySelector('form[action="' + arguments[0] + '"] button');
               const m = b && b.innerText.match(/\d+/);
               return !!m && Number(m[0]) === arguments[1]
                 && (b.getAttribute('aria-pressed') || 'false') === String(arguments[2]);"#,
            vec![json!(action), json!(count), json!(pressed)],
        )
        .await;
}

fn by_id<'a>(papers: &'a [HfPaper], id: &str) -> &'a HfPaper {
    papers
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the HF list"))
}

#[tokio::test]
async fn a_reader_browses_a_day_and_opens_a_paper() {
    let server = Data::with_days(DAYS).serve();
    let browser = Browser::start(&server.url, Look::Desktop).await;
    let day = "2026-08-20";
    let want = hf_day(day);

    browser.open(&format!("/papers/date/{day}")).await;
    let listed = linked_papers(&browser).await;
    let mut got_ids = listed.clone();
    got_ids.sort();
    let mut want_ids: Vec<String> = want.iter().map(|p| p.id.clone()).collect();
    want_ids.sort();
    assert_eq!(
        got_ids, want_ids,
        "the page of {day} links every paper HF listed that day, and no other"
    );
    let most = want
        .iter()
        .map(|p| p.upvotes)
        .max()
        .expect("a non-empty day");
    assert_eq!(
        by_id(&want, &listed[0]).upvotes,
        most,
        "the list is ranked by upvotes: {listed:?}"
    );
    let rel = |r: &str| {
        format!(
            r#"return (document.querySelector('a[rel="{r}"]') || {{}}).getAttribute?.('href') ?? null;"#
        )
    };
    assert_eq!(
        browser.js(&rel("prev"), vec![]).await,
        json!("/papers/date/2026-08-19")
    );
    assert_eq!(
        browser.js(&rel("next"), vec![]).await,
        json!("/papers/date/2026-08-21")
    );

    // Open the top paper by clicking its title in the list.
    let paper = by_id(&want, &listed[0]);
    let href = format!("/papers/{}", paper.id);
    let mut clicked = false;
    for link in browser.find_all(&format!(r#"main a[href="{href}"]"#)).await {
        if norm(&link.text().await.expect("link text")) == paper.title {
            link.click().await.expect("click the title");
            clicked = true;
            break;
        }
    }
    assert!(
        clicked,
        "no link titled {:?} to {href} on the page of {day}",
        paper.title
    );
    browser.wait_for_path(&href).await;
    assert_eq!(
        browser.text("h1").await,
        paper.title,
        "the paper page's heading is its title"
    );
    let main = browser.text("main").await;
    assert!(
        main.contains(&paper.summary),
        "the paper page shows the abstract {:?}; it shows:\n{main}",
        paper.summary
    );
    let title = browser.client.title().await.expect("document title");
    assert!(
        title.contains(&paper.title),
        "the document title {title:?} names the paper"
    );

    // Back and next day, through the pager.
    browser.open(&format!("/papers/date/{day}")).await;
    browser
        .find(r#"a[rel="next"]"#)
        .await
        .click()
        .await
        .expect("click next");
    browser.wait_for_path("/papers/date/2026-08-21").await;
    let mut next: Vec<String> = linked_papers(&browser).await;
    next.sort();
    let mut want_next: Vec<String> = hf_day("2026-08-21").into_iter().map(|p| p.id).collect();
    want_next.sort();
    assert_eq!(
        next, want_next,
        "the next day's page lists that day's papers"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_new_reader_signs_up_and_upvotes_a_paper() {
    let server = Data::with_days(DAYS).serve();
    let browser = Browser::start(&server.url, Look::Desktop).await;
    let user = TestUser::new("reader-b");
    browser.sign_up(&user).await;

    let day = "2026-08-21";
    let day_path = format!("/papers/date/{day}");
    let want = hf_day(day);
    browser.open(&day_path).await;
    let listed = linked_papers(&browser).await;
    let id = listed.last().expect("papers on the day").clone();
    let paper = by_id(&want, &id);
    let action = format!("/papers/{id}/upvote");
    let before = upvote_count(&browser, &action).await;
    assert_eq!(
        before,
        Some(paper.upvotes),
        "the upvote button of {id} shows HF's count"
    );
    let before = paper.upvotes;

    browser.submit(&action).await;
    browser.wait_for_path(&day_path).await;
    wait_upvotes(&browser, &action, before + 1, true).await;
    browser.reload().await;
    wait_upvotes(&browser, &action, before + 1, true).await;

    // The paper page and the API agree.
    browser.open(&format!("/papers/{id}")).await;
    wait_upvotes(&browser, &action, before + 1, true).await;
    browser.open(&format!("/api/papers/{id}")).await;
    let api: Value =
        serde_json::from_str(&browser.text("body").await).expect("the API answers JSON");
    assert_eq!(api["upvotes"], json!(before + 1), "/api/papers/{id}: {api}");

    // Taking the upvote back restores the count, also after a reload.
    browser.open(&format!("/papers/{id}")).await;
    browser.submit(&action).await;
    wait_upvotes(&browser, &action, before, false).await;
    browser.reload().await;
    wait_upvotes(&browser, &action, before, false).await;
    browser.close().await;
}

#[tokio::test]
async fn a_reader_submits_a_recent_paper_to_todays_list() {
    let data = Data::with_days(DAYS);
    let (paper, fixture) = RecentPaper::write_kaggle_line(data.path(), 1);
    data.import(&[fixture], &["--format", "kaggle"]);
    let user = TestUser::new("submitter-c");
    data.add_user(&user, false);
    let server = data.serve();
    let today = Utc::now().date_naive().to_string();
    let paper_path = format!("/papers/{}", paper.id);

    let browser = Browser::start(&server.url, Look::Desktop).await;
    browser.log_in(&user).await;
    browser.open("/").await;
    assert!(
        !linked_papers(&browser).await.contains(&paper.id),
        "{} is not listed before it is submitted",
        paper.id
    );

    browser.open("/submit").await;
    browser.fill("/submit", "arxiv_id", &paper.id).await;
    browser.submit("/submit").await;
    browser.wait_for_path(&paper_path).await;
    assert_eq!(browser.text("h1").await, paper.title);

    // Today's list now holds it: the front page and the day's page.
    browser.open("/").await;
    assert_eq!(
        linked_papers(&browser).await,
        vec![paper.id.clone()],
        "the front page shows today's list"
    );
    assert!(
        !browser
            .find_all(&format!(r#"main time[datetime="{today}"]"#))
            .await
            .is_empty(),
        "the front page is dated today ({today}): {}",
        browser.text("main").await
    );
    assert!(browser.text("main").await.contains(&paper.title));
    browser.open(&format!("/papers/date/{today}")).await;
    assert_eq!(linked_papers(&browser).await, vec![paper.id.clone()]);

    // Submitting it again is refused, and the form says why.
    browser.open("/submit").await;
    browser.fill("/submit", "arxiv_id", &paper.id).await;
    browser.submit("/submit").await;
    let alert = browser
        .wait_js(
            "a refusal to list the paper twice",
            r#"const a = document.querySelector('[role="alert"]'); return a ? a.innerText : null;"#,
            vec![],
        )
        .await;
    assert!(
        alert
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("already"),
        "the second submission is refused as already listed: {alert}"
    );

    // An old paper (on the list of 2026-08-19, months ago) cannot go on today's list.
    let old = &hf_day("2026-08-19")[0];
    browser.open("/submit").await;
    browser.fill("/submit", "arxiv_id", &old.id).await;
    browser.submit("/submit").await;
    browser
        .wait_js(
            "a refusal of an old paper",
            r#"return !!document.querySelector('[role="alert"]');"#,
            vec![],
        )
        .await;
    browser.open(&format!("/papers/date/{today}")).await;
    assert_eq!(
        linked_papers(&browser).await,
        vec![paper.id.clone()],
        "today's list is unchanged"
    );
    browser.close().await;
}

#[tokio::test]
async fn readers_comment_and_reply_on_a_paper() {
    let data = Data::with_days(DAYS);
    let alice = TestUser::new("alice-d");
    data.add_user(&alice, false);
    let server = data.serve();
    let paper = &hf_day("2026-08-21")[0];
    let paper_path = format!("/papers/{}", paper.id);
    let action = format!("{paper_path}/comments");
    let top = "Great **results** on the e2e benchmark";
    let reply = "Thanks, alice: the reply from bob";

    let browser = Browser::start(&server.url, Look::Desktop).await;
    browser.log_in(&alice).await;
    browser.open(&paper_path).await;
    let new_comment = browser
        .find(&format!(
            r#"form[action="{action}"]:not(:has([name="parent"]))"#
        ))
        .await;
    let body = new_comment
        .find(fantoccini::Locator::Css(r#"[name="body"]"#))
        .await
        .expect("the comment form has a body field");
    body.send_keys(top).await.expect("type the comment");
    submit_form(&new_comment).await;
    browser.wait_for_path(&paper_path).await;
    let rendered_top = "Great results on the e2e benchmark";
    wait_text(&browser, rendered_top).await;

    // Bob signs up in the same browser and replies.
    browser.submit("/logout").await;
    browser
        .wait_js(
            "signed out",
            r#"return !!document.querySelector('a[href="/login"]');"#,
            vec![],
        )
        .await;
    let bob = TestUser::new("bob-d");
    browser.sign_up(&bob).await;
    browser.open(&paper_path).await;
    let reply_form = browser
        .find(&format!(r#"form[action="{action}"]:has([name="parent"])"#))
        .await;
    let reply_body = reply_form
        .find(fantoccini::Locator::Css(r#"[name="body"]"#))
        .await
        .expect("the reply form has a body field");
    if !reply_body.is_displayed().await.expect("is_displayed") {
        // Folded away behind a "Reply" disclosure: open it as a person would.
        reply_form
            .find(fantoccini::Locator::XPath("./ancestor::details[1]/summary"))
            .await
            .expect("a hidden reply form sits in a <details> with a <summary> to open it")
            .click()
            .await
            .expect("open the reply form");
    }
    reply_body.send_keys(reply).await.expect("type the reply");
    submit_form(&reply_form).await;
    browser.wait_for_path(&paper_path).await;
    wait_text(&browser, reply).await;

    // After a reload both are there, the Markdown rendered, the reply in the comment's thread.
    browser.reload().await;
    wait_text(&browser, rendered_top).await;
    wait_text(&browser, reply).await;
    let strong = browser
        .js(
            r#"return [...document.querySelectorAll('main strong')].some(s => s.innerText === 'results');"#,
            vec![],
        )
        .await;
    assert_eq!(strong, json!(true), "**results** is rendered bold");
    let thread = browser
        .js(
            r#"const leaf = t => [...document.querySelectorAll('main *')]
                   .filter(e => e.innerText && e.innerText.trim() === t).pop();
               const top = leaf(arguments[0]), reply = leaf(arguments[1]);
               if (!top || !reply) return 'missing';
               let a = top; while (a && !a.contains(reply)) a = a.parentElement;
               return {tag: a.tagName, topFirst: !!(top.compareDocumentPosition(reply) & Node.DOCUMENT_POSITION_FOLLOWING),
                       bothNamed: a.innerText.includes('alice-d') && a.innerText.includes('bob-d')};"#,
            vec![json!(rendered_top), json!(reply)],
        )
        .await;
    assert_eq!(
        thread,
        json!({"tag": "LI", "topFirst": true, "bothNamed": true}),
        "the reply sits under the comment, in one thread item naming both authors"
    );
    browser.close().await;
}

/// Waits until the page's main text contains `text`.
async fn wait_text(browser: &Browser, text: &str) {
    browser
        .wait_js(
            &format!("{text:?} on the page"),
            "return document.querySelector('main').innerText.replace(/\\s+/g, ' ').includes(arguments[0]);",
            vec![json!(text)],
        )
        .await;
}

/// The page's background colour as relative luminance, 0 (black) to 1 (white).
async fn background_luminance(browser: &Browser) -> f64 {
    let rgb = browser
        .js(
            r#"for (const e of [document.body, document.documentElement]) {
                 const m = getComputedStyle(e).backgroundColor.match(/[\d.]+/g);
                 if (m && (m.length < 4 || Number(m[3]) > 0)) return m.slice(0, 3).map(Number);
               }
               return [255, 255, 255];"#,
            vec![],
        )
        .await;
    let rgb: Vec<f64> = serde_json::from_value(rgb).expect("three numbers");
    (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255.0
}

/// Asserts that the page fits the window's width (no sideways scrolling).
async fn assert_fits_width(browser: &Browser, what: &str) {
    let fit = browser
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await;
    let [scroll, inner]: [u64; 2] = serde_json::from_value(fit).expect("two numbers");
    assert!(
        scroll <= inner,
        "{what} is {scroll} px wide in a {inner} px window: it scrolls sideways"
    );
}

/// Writes `png` to docs/screenshots/NAME.png when PAPERBOY_SCREENSHOTS=1.
fn keep(name: &str, png: &[u8]) {
    if std::env::var("PAPERBOY_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    eprintln!("wrote {}", path.display());
}

#[tokio::test]
async fn the_main_pages_render_in_light_dark_and_on_a_phone() {
    let server = Data::with_days(DAYS).serve();
    let top = &hf_day("2026-08-21")[0];
    let paper_path = format!("/papers/{}", top.id);
    let pages = [
        ("day", "/papers/date/2026-08-21"),
        ("paper", paper_path.as_str()),
        ("trending", "/papers/trending"),
        ("signup", "/signup"),
    ];

    let desktop = Browser::start(&server.url, Look::Desktop).await;
    for (name, path) in pages {
        desktop.open(path).await;
        assert!(!desktop.text("h1").await.is_empty(), "{path} has a heading");
        assert_fits_width(&desktop, path).await;
        keep(name, &desktop.full_page_png(4200).await);
    }
    desktop.open("/papers/trending").await;
    assert!(
        !linked_papers(&desktop).await.is_empty(),
        "trending lists papers"
    );
    let light = background_luminance(&desktop).await;
    assert!(
        light > 0.6,
        "the light page has a light background (luminance {light:.2})"
    );
    desktop.close().await;

    let dark = Browser::start(&server.url, Look::Dark).await;
    for (name, path) in [
        ("day-dark", "/papers/date/2026-08-21"),
        ("paper-dark", paper_path.as_str()),
    ] {
        dark.open(path).await;
        let media = dark
            .js(
                "return matchMedia('(prefers-color-scheme: dark)').matches;",
                vec![],
            )
            .await;
        assert_eq!(media, json!(true), "the browser asks for dark pages");
        let lum = background_luminance(&dark).await;
        assert!(
            lum < 0.3,
            "{path} has a dark background in dark mode (luminance {lum:.2})"
        );
        keep(name, &dark.full_page_png(4200).await);
    }
    dark.close().await;

    let phone = Browser::start(&server.url, Look::Phone).await;
    for (name, path) in [
        ("day-phone", "/papers/date/2026-08-21"),
        ("paper-phone", paper_path.as_str()),
    ] {
        phone.open(path).await;
        let width = phone.js("return window.innerWidth;", vec![]).await;
        assert_eq!(width, json!(390), "the phone window is 390 CSS px wide");
        assert_fits_width(&phone, path).await;
        keep(name, &phone.full_page_png(2600).await);
    }
    phone.close().await;
}
