//! Markdown → sanitised HTML for comments.
//!
//! Two layers, so that a mistake in one is caught by the other: raw HTML in
//! the source is turned into text before rendering (it shows as typed), and
//! the rendered HTML then goes through ammonia's allow-list. Images become
//! links (no third-party requests from our pages), links get
//! `rel="nofollow noopener noreferrer"`, and only `http`, `https` and
//! `mailto` URLs survive. Nothing here returns `PreEscaped` before sanitising.

use std::collections::HashSet;

use maud::PreEscaped;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

/// Tags a rendered comment may contain.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Renders a comment's Markdown source as sanitised HTML.
pub fn render(source: &str) -> PreEscaped<String> {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(source, options).map(|event| match event {
        // Raw HTML is shown as the text it is, never interpreted.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        // An image is a link to it: no request leaves for another site
        // when someone opens the page.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::from(dest_url.trim().to_string()),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    PreEscaped(sanitizer().clean(&html).to_string())
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(
            [
                ("a", ["href", "title"].into_iter().collect()),
                ("th", HashSet::from(["align"])),
                ("td", HashSet::from(["align"])),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow noopener noreferrer"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders `input` and checks that the output contains every `wanted`
    /// fragment and none of the `unwanted` ones.
    fn check(input: &str, wanted: &[&str], unwanted: &[&str]) {
        let html = render(input).0;
        for w in wanted {
            assert!(
                html.contains(w),
                "{input:?} rendered as {html:?}, missing {w:?}"
            );
        }
        for u in unwanted {
            assert!(
                !html.contains(u),
                "{input:?} rendered as {html:?}, contains {u:?}"
            );
        }
    }

    #[test]
    fn markdown_is_rendered() {
        check(
            "**bold** and *em*",
            &["<strong>bold</strong>", "<em>em</em>"],
            &[],
        );
        check("`x < y`", &["<code>x &lt; y</code>"], &[]);
        check("- a\n- b", &["<ul>", "<li>a</li>"], &[]);
        check("> quoted", &["<blockquote>"], &[]);
        check("~~gone~~", &["<del>gone</del>"], &[]);
        check("```\nfn main() {}\n```", &["<pre><code>fn main() {}"], &[]);
    }

    #[test]
    fn links_are_nofollow() {
        check(
            "[paper](https://arxiv.org/abs/2305.03048)",
            &[
                r#"href="https://arxiv.org/abs/2305.03048""#,
                "nofollow",
                "noopener",
            ],
            &[],
        );
        check(
            "<https://example.org>",
            &[r#"href="https://example.org""#, "nofollow"],
            &[],
        );
    }

    #[test]
    fn scripts_and_handlers_are_inert() {
        check(
            "<script>alert(1)</script>",
            &["&lt;script&gt;alert(1)&lt;/script&gt;"],
            &["<script"],
        );
        check(
            "<img src=x onerror=alert(1)>",
            &["&lt;img src=x onerror=alert(1)&gt;"],
            &["<img"],
        );
        check(
            "hi <b onclick=\"x()\">there</b>",
            &["&lt;b onclick"],
            &["<b "],
        );
        check(
            "[x](javascript:alert(1))",
            &[">x</a>"],
            &["href=\"javascript", "javascript:alert"],
        );
        check(
            "[x]( javascript:alert(1))",
            &[],
            &["href=\"javascript", "href=\" javascript"],
        );
        check("[x](JaVaScRiPt:alert(1))", &[], &["href"]);
        check("[x](data:text/html;base64,PHNjcmlwdD4=)", &[], &["href"]);
        check(
            "<a href=\"javascript:alert(1)\">x</a>",
            &["&lt;a href"],
            &["<a href"],
        );
        check(
            "<div>\n<script>alert(1)</script>\n</div>",
            &[],
            &["<script", "<div"],
        );
    }

    #[test]
    fn images_become_links() {
        check(
            "![a cat](https://evil.example/cat.png)",
            &[r#"href="https://evil.example/cat.png""#, ">a cat</a>"],
            &["<img"],
        );
    }
}
