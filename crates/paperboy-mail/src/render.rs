//! A queued message → the exact MIME message that goes out: a plain-text and
//! an HTML part (multipart/alternative), the unsubscribe headers of RFC 2369
//! and RFC 8058, and a Message-ID derived from the message's key.
//!
//! Rendering is a pure function of the [`OutboxMessage`] and the
//! [`MailSettings`]: the Date is the moment the message was queued, the
//! Message-ID and the MIME boundary follow from its key, and nothing is
//! random. A message sent again after a crash is therefore byte for byte the
//! message sent before, and receivers that deduplicate on Message-ID see one
//! message.
//!
//! It never reads the store and never sends anything. Every piece of text
//! that comes from users or papers is HTML-escaped here; the HTML uses
//! inline styles only (plus one dark-mode media query), no scripts and no
//! remote images.

use std::fmt::Write as _;
use std::time::SystemTime;

use chrono::{Datelike, NaiveDate};
use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use paperboy_core::{Cadence, Period};
use paperboy_store::{MessageKind, OutboxMessage};
use sha2::{Digest, Sha256};

use crate::content::{AlertItem, DigestEdition, MailPaper, Payload};

/// Where settings are changed (signed in).
pub const MANAGE_PATH: &str = "/settings";

/// What every message needs to know about the site that sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSettings {
    /// The From header, e.g. `Paperboy <papers@example.org>`.
    pub from: Mailbox,
    /// The site's public address without a trailing slash
    /// (`https://papers.example.org`); every link in a mail starts with it.
    pub base_url: String,
    /// The site's name as mails call it (`Paperboy`).
    pub site_name: String,
    /// The right-hand side of Message-IDs (`papers.example.org`).
    pub message_id_domain: String,
}

/// Why mail settings are refused (checked at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailSettingsError {
    #[error(
        "the sender address {0:?} is not an address; use e.g. \"Paperboy <papers@example.org>\""
    )]
    From(String),
    #[error(
        "the site address {0:?} is not an http(s) URL with a host; use e.g. https://papers.example.org"
    )]
    BaseUrl(String),
}

impl MailSettings {
    /// Settings whose Message-ID domain is the host of `base_url`.
    pub fn new(
        from: &str,
        base_url: &str,
        site_name: &str,
    ) -> Result<MailSettings, MailSettingsError> {
        let from_box: Mailbox = from
            .trim()
            .parse()
            .map_err(|_| MailSettingsError::From(from.to_owned()))?;
        let base = base_url.trim().trim_end_matches('/');
        let parsed =
            url::Url::parse(base).map_err(|_| MailSettingsError::BaseUrl(base_url.to_owned()))?;
        let host = match (parsed.scheme(), parsed.host_str()) {
            ("http" | "https", Some(host)) if !host.is_empty() => host.to_owned(),
            _ => return Err(MailSettingsError::BaseUrl(base_url.to_owned())),
        };
        Ok(MailSettings {
            from: from_box,
            base_url: base.to_owned(),
            site_name: site_name.trim().to_owned(),
            message_id_domain: host,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Why a queued message cannot be turned into a mail. Permanent: the same
/// message fails the same way every time.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("message {key}: the payload is not a mail payload: {error}")]
    Payload {
        key: String,
        error: serde_json::Error,
    },
    #[error("message {key}: the edition is not a digest edition: {error}")]
    Edition {
        key: String,
        error: serde_json::Error,
    },
    #[error("message {key}: a digest needs an edition and this one has none")]
    MissingEdition { key: String },
    #[error("message {key}: the message is of kind {kind} but its payload is of kind {payload}")]
    KindMismatch {
        key: String,
        kind: &'static str,
        payload: &'static str,
    },
    #[error("message {key}: the key cannot be a Message-ID (letters, digits and -._ only)")]
    Key { key: String },
    #[error("message {key}: the recipient's address cannot be written in a To header")]
    Recipient { key: String },
    #[error("message {key}: cannot build the MIME message: {error}")]
    Build {
        key: String,
        error: lettre::error::Error,
    },
}

impl RenderError {
    /// The key of the message that failed.
    pub fn key(&self) -> &str {
        match self {
            RenderError::Payload { key, .. }
            | RenderError::Edition { key, .. }
            | RenderError::MissingEdition { key }
            | RenderError::KindMismatch { key, .. }
            | RenderError::Key { key }
            | RenderError::Recipient { key }
            | RenderError::Build { key, .. } => key,
        }
    }
}

/// Renders a queued message; the same message and settings give the same
/// bytes (`Message::formatted`) every time.
pub fn render(message: &OutboxMessage, settings: &MailSettings) -> Result<Message, RenderError> {
    let key = &message.key;
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(RenderError::Key { key: key.clone() });
    }
    let payload: Payload =
        serde_json::from_str(&message.payload).map_err(|error| RenderError::Payload {
            key: key.clone(),
            error,
        })?;
    let mismatch = |payload: &'static str| RenderError::KindMismatch {
        key: key.clone(),
        kind: message.kind.as_str(),
        payload,
    };
    let (doc, unsubscribe_token, list) = match (&payload, message.kind) {
        (
            Payload::Confirm {
                token,
                cadence,
                papers,
                send_at,
                zone,
            },
            MessageKind::Confirm,
        ) => (
            confirm_doc(settings, token, cadence, *papers, send_at, zone),
            None,
            None,
        ),
        (
            Payload::Digest {
                unsubscribe_token,
                alerts,
            },
            MessageKind::Digest,
        ) => {
            let text = message
                .edition
                .as_deref()
                .ok_or_else(|| RenderError::MissingEdition { key: key.clone() })?;
            let edition: DigestEdition =
                serde_json::from_str(text).map_err(|error| RenderError::Edition {
                    key: key.clone(),
                    error,
                })?;
            (
                digest_doc(settings, &edition, alerts, unsubscribe_token),
                Some(unsubscribe_token.as_str()),
                Some(("digest", "digests")),
            )
        }
        (
            Payload::Alert {
                unsubscribe_token,
                alerts,
            },
            MessageKind::Alert,
        ) => (
            alert_doc(settings, alerts, unsubscribe_token),
            Some(unsubscribe_token.as_str()),
            Some(("alerts", "saved-search alerts")),
        ),
        (Payload::Confirm { .. }, _) => return Err(mismatch("confirm")),
        (Payload::Digest { .. }, _) => return Err(mismatch("digest")),
        (Payload::Alert { .. }, _) => return Err(mismatch("alert")),
    };

    let to = message
        .recipient
        .as_str()
        .parse::<lettre::Address>()
        .map(|address| Mailbox::new(None, address))
        .map_err(|_| RenderError::Recipient { key: key.clone() })?;
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(doc.subject.clone())
        .date(SystemTime::from(message.created_at))
        .message_id(Some(format!("<{key}@{}>", settings.message_id_domain)))
        .header(AutoSubmitted);
    if let Some(token) = unsubscribe_token {
        builder = builder
            .header(ListUnsubscribe(format!(
                "<{}>",
                settings.url(&format!("/unsubscribe/{token}"))
            )))
            .header(ListUnsubscribePost);
    }
    if let Some((label, description)) = list {
        builder = builder.header(ListId(format!(
            "{} {description} <{label}.{}>",
            phrase(&settings.site_name),
            settings.message_id_domain
        )));
    }
    let body = MultiPart::alternative()
        .boundary(boundary(key))
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text_part(&doc)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html_part(&doc)),
        );
    builder.multipart(body).map_err(|error| RenderError::Build {
        key: key.clone(),
        error,
    })
}

/// The MIME boundary of a message: from its key, so it never changes, and
/// hex so it never needs quoting or occurs in an encoded body by chance.
fn boundary(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::from("=_paperboy_");
    for byte in &digest[..16] {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A display name reduced to characters that need no quoting in a header
/// phrase (`List-Id`).
fn phrase(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .collect();
    let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if kept.is_empty() {
        "Paperboy".to_owned()
    } else {
        kept
    }
}

// ---------------------------------------------------------------------------
// Headers lettre does not know.

macro_rules! text_header {
    ($(#[$doc:meta])* $name:ident, $header:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        struct $name(String);

        impl Header for $name {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($header)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($name(s.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(
    /// RFC 2369: where to unsubscribe (`<https://…/unsubscribe/TOKEN>`).
    ListUnsubscribe,
    "List-Unsubscribe"
);
text_header!(
    /// RFC 2919: which list a message belongs to, for filters.
    ListId,
    "List-Id"
);

/// RFC 8058: the unsubscribe link works with one POST, no page in between.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// RFC 3834: sent by a program, so auto-responders stay quiet.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

// ---------------------------------------------------------------------------
// What a mail says, once, written out as text and as HTML.

/// A mail's content, independent of how it is written out.
struct Doc {
    subject: String,
    heading: String,
    blocks: Vec<Block>,
    /// Small print: why this mail, how to stop it.
    footer: Vec<Vec<Inline>>,
}

enum Block {
    Para(Vec<Inline>),
    /// A prominent link (the confirmation).
    Button {
        label: String,
        href: String,
    },
    /// A section title.
    Section(String),
    Paper(PaperItem),
}

enum Inline {
    Text(String),
    Link { text: String, href: String },
}

struct PaperItem {
    rank: Option<usize>,
    title: String,
    href: String,
    arxiv: String,
    /// "3 authors · ▲ 42"
    meta: String,
    /// "matches “query”"
    why: Option<String>,
    snippet: String,
}

fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

fn link(text: impl Into<String>, href: impl Into<String>) -> Inline {
    Inline::Link {
        text: text.into(),
        href: href.into(),
    }
}

fn confirm_doc(
    settings: &MailSettings,
    token: &str,
    cadence: &str,
    papers: u32,
    send_at: &str,
    zone: &str,
) -> Doc {
    let site = &settings.site_name;
    let most = if papers == 1 {
        "the most upvoted paper".to_owned()
    } else {
        format!("the {papers} most upvoted papers")
    };
    let what = match Cadence::parse(cadence) {
        Ok(Cadence::Daily) => format!(
            "a daily digest: {most} of the day's lists, Monday to Friday at {send_at} ({zone})"
        ),
        Ok(Cadence::Weekly) => {
            format!("a weekly digest: {most} of the week, on Mondays at {send_at} ({zone})")
        }
        Ok(Cadence::AlertsOnly) => {
            "alerts for the saved searches of their account (no digest)".to_owned()
        }
        Err(_) => format!("mail ({cadence})"),
    };
    Doc {
        subject: format!("Confirm your {site} subscription"),
        heading: "Confirm your subscription".to_owned(),
        blocks: vec![
            Block::Para(vec![text(format!(
                "Someone, hopefully you, asked {site} to send this address {what}."
            ))]),
            Block::Button {
                label: "Confirm subscription".to_owned(),
                href: settings.url(&format!("/subscribe/confirm/{token}")),
            },
            Block::Para(vec![text(
                "Nothing will be sent to this address unless you confirm. \
                 If you did not ask for this, ignore this mail.",
            )]),
        ],
        footer: vec![vec![
            text("This mail was sent because the address was entered at "),
            link(settings.url("/subscribe"), settings.url("/subscribe")),
            text("."),
        ]],
    }
}

fn digest_doc(
    settings: &MailSettings,
    edition: &DigestEdition,
    alerts: &[AlertItem],
    unsubscribe_token: &str,
) -> Doc {
    let cadence = Period::from_key(&edition.period)
        .map(|p| p.cadence)
        .unwrap_or_else(|| {
            if (edition.last_day - edition.first_day).num_days() >= 6 {
                Cadence::Weekly
            } else {
                Cadence::Daily
            }
        });
    let weekly = cadence == Cadence::Weekly;
    let days = day_range(edition.first_day, edition.last_day, !weekly);
    let subject = if weekly {
        format!("Trending papers of the week: {days}")
    } else {
        format!("Trending papers: {days}")
    };
    let lists = if edition.first_day == edition.last_day {
        "the daily list"
    } else {
        "the daily lists"
    };
    let intro = match edition.papers.len() {
        0 => format!("No papers were on {lists} of {days}, so there is nothing new to show."),
        1 => format!("The most upvoted paper on {lists} of {days}."),
        n => format!("The {n} most upvoted papers on {lists} of {days}."),
    };
    let mut blocks = vec![Block::Para(vec![text(intro)])];
    blocks.extend(
        edition
            .papers
            .iter()
            .enumerate()
            .map(|(i, paper)| Block::Paper(paper_item(settings, paper, Some(i + 1), None))),
    );
    if !alerts.is_empty() {
        blocks.push(Block::Section("From your saved searches".to_owned()));
        blocks.extend(alert_items(settings, alerts));
    }
    let why = format!(
        "You get this mail because you subscribed to the {} digest of {} and confirmed your address.",
        if weekly { "weekly" } else { "daily" },
        settings.site_name
    );
    Doc {
        subject: subject.clone(),
        heading: subject,
        blocks,
        footer: footer(settings, why, unsubscribe_token),
    }
}

fn alert_doc(settings: &MailSettings, alerts: &[AlertItem], unsubscribe_token: &str) -> Doc {
    let intro = match alerts.len() {
        1 => "A new paper matches one of your saved searches.".to_owned(),
        n => format!("{n} new papers match your saved searches."),
    };
    let mut blocks = vec![Block::Para(vec![text(intro)])];
    blocks.extend(alert_items(settings, alerts));
    let why = format!(
        "You get this mail because you saved searches on {} and asked for alerts.",
        settings.site_name
    );
    Doc {
        subject: "New papers for your saved searches".to_owned(),
        heading: "New papers for your saved searches".to_owned(),
        blocks,
        footer: footer(settings, why, unsubscribe_token),
    }
}

fn alert_items<'a>(
    settings: &'a MailSettings,
    alerts: &'a [AlertItem],
) -> impl Iterator<Item = Block> + 'a {
    alerts.iter().map(|alert| {
        Block::Paper(paper_item(
            settings,
            &alert.paper,
            None,
            Some(format!("matches \u{201c}{}\u{201d}", alert.query)),
        ))
    })
}

fn footer(settings: &MailSettings, why: String, unsubscribe_token: &str) -> Vec<Vec<Inline>> {
    vec![
        vec![text(why)],
        vec![
            text("Change what you get: "),
            link(settings.url(MANAGE_PATH), settings.url(MANAGE_PATH)),
        ],
        vec![link(
            "Unsubscribe",
            settings.url(&format!("/unsubscribe/{unsubscribe_token}")),
        )],
    ]
}

fn paper_item(
    settings: &MailSettings,
    paper: &MailPaper,
    rank: Option<usize>,
    why: Option<String>,
) -> PaperItem {
    let mut meta = Vec::new();
    match paper.authors {
        0 => {}
        1 => meta.push("1 author".to_owned()),
        n => meta.push(format!("{n} authors")),
    }
    meta.push(format!("\u{25b2} {}", paper.upvotes));
    let title = if paper.title.trim().is_empty() {
        paper.id.clone()
    } else {
        paper.title.clone()
    };
    PaperItem {
        rank,
        title,
        href: settings.url(&format!("/papers/{}", paper.id)),
        arxiv: format!("https://arxiv.org/abs/{}", paper.id),
        meta: meta.join(" \u{b7} "),
        why,
        snippet: paper.snippet.clone(),
    }
}

/// `Mon 30 Nov 2026`; `Fri 27 – Sun 29 Nov 2026`; `23 – 29 Nov 2026`;
/// `Fri 30 Oct – Mon 2 Nov 2026`; across a year, both years.
fn day_range(first: NaiveDate, last: NaiveDate, weekdays: bool) -> String {
    let day = |d: NaiveDate, month: bool, year: bool| {
        let mut out = String::new();
        if weekdays {
            let _ = write!(out, "{} ", d.format("%a"));
        }
        let _ = write!(out, "{}", d.day());
        if month {
            let _ = write!(out, " {}", d.format("%b"));
        }
        if year {
            let _ = write!(out, " {}", d.year());
        }
        out
    };
    if first == last {
        day(first, true, true)
    } else if first.year() != last.year() {
        format!(
            "{} \u{2013} {}",
            day(first, true, true),
            day(last, true, true)
        )
    } else if first.month() != last.month() {
        format!(
            "{} \u{2013} {}",
            day(first, true, false),
            day(last, true, true)
        )
    } else {
        format!(
            "{} \u{2013} {}",
            day(first, false, false),
            day(last, true, true)
        )
    }
}

// ---------------------------------------------------------------------------
// Writing out.

fn text_part(doc: &Doc) -> String {
    let mut out = String::new();
    let inline = |parts: &[Inline]| {
        let mut s = String::new();
        for part in parts {
            match part {
                Inline::Text(t) => s.push_str(t),
                Inline::Link { text, href } if text == href => s.push_str(href),
                Inline::Link { text, href } => {
                    let _ = write!(s, "{text}: {href}");
                }
            }
        }
        s
    };
    let _ = writeln!(out, "{}\n", doc.heading);
    for block in &doc.blocks {
        match block {
            Block::Para(parts) => {
                let _ = writeln!(out, "{}\n", inline(parts));
            }
            Block::Button { label, href } => {
                let _ = writeln!(out, "{label}:\n{href}\n");
            }
            Block::Section(title) => {
                let _ = writeln!(out, "\n{title}\n{}\n", "=".repeat(title.chars().count()));
            }
            Block::Paper(p) => {
                match p.rank {
                    Some(rank) => {
                        let _ = writeln!(out, "{rank}. {}", p.title);
                    }
                    None => {
                        let _ = writeln!(out, "* {}", p.title);
                    }
                }
                let _ = writeln!(out, "   {}", p.meta);
                if let Some(why) = &p.why {
                    let _ = writeln!(out, "   {why}");
                }
                if !p.snippet.is_empty() {
                    let _ = writeln!(out, "   {}", p.snippet);
                }
                let _ = writeln!(out, "   Paper page: {}", p.href);
                let _ = writeln!(out, "   arXiv: {}\n", p.arxiv);
            }
        }
    }
    out.push_str("-- \n");
    for line in &doc.footer {
        let _ = writeln!(out, "{}", inline(line));
    }
    out
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LINK_STYLE: &str = "color:#1d4ed8;text-decoration:underline;";
const MUTED: &str = "color:#57534e;";

fn html_inline(parts: &[Inline]) -> String {
    let mut s = String::new();
    for part in parts {
        match part {
            Inline::Text(t) => s.push_str(&escape(t)),
            Inline::Link { text, href } => {
                let _ = write!(
                    s,
                    "<a href=\"{}\" style=\"{LINK_STYLE}\">{}</a>",
                    escape(href),
                    escape(text)
                );
            }
        }
    }
    s
}

fn html_part(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str(concat!(
        "<!DOCTYPE html>\n",
        "<html lang=\"en\">\n<head>\n",
        "<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<meta name=\"color-scheme\" content=\"light dark\">\n",
        "<meta name=\"supported-color-schemes\" content=\"light dark\">\n",
    ));
    let _ = writeln!(out, "<title>{}</title>", escape(&doc.subject));
    out.push_str(concat!(
        "<style>\n",
        "@media (prefers-color-scheme: dark) {\n",
        "  .pb-page { background:#0c0a09 !important; }\n",
        "  .pb-card { background:#1c1917 !important; color:#e7e5e4 !important; }\n",
        "  .pb-muted { color:#a8a29e !important; }\n",
        "  .pb-card a { color:#93c5fd !important; }\n",
        "  .pb-button { background:#2563eb !important; }\n",
        "  .pb-button a { color:#ffffff !important; }\n",
        "}\n",
        "</style>\n</head>\n",
    ));
    out.push_str(concat!(
        "<body class=\"pb-page\" style=\"margin:0;padding:0;background:#f5f5f4;\">\n",
        "<table role=\"presentation\" class=\"pb-page\" width=\"100%\" cellpadding=\"0\" ",
        "cellspacing=\"0\" border=\"0\" style=\"background:#f5f5f4;\">\n",
        "<tr><td align=\"center\" style=\"padding:24px 12px;\">\n",
        "<table role=\"presentation\" class=\"pb-card\" width=\"600\" cellpadding=\"0\" ",
        "cellspacing=\"0\" border=\"0\" style=\"width:100%;max-width:600px;background:#ffffff;",
        "color:#1c1917;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;",
        "font-size:15px;line-height:1.5;\">\n",
    ));
    let _ = writeln!(
        out,
        "<tr><td style=\"padding:24px 24px 8px 24px;\"><h1 style=\"margin:0;font-size:22px;\
         line-height:1.3;\">{}</h1></td></tr>",
        escape(&doc.heading)
    );
    for block in &doc.blocks {
        match block {
            Block::Para(parts) => {
                let _ = writeln!(
                    out,
                    "<tr><td style=\"padding:8px 24px;\"><p style=\"margin:0;\">{}</p></td></tr>",
                    html_inline(parts)
                );
            }
            Block::Button { label, href } => {
                let _ = writeln!(
                    out,
                    "<tr><td style=\"padding:16px 24px;\">\n\
                     <table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>\
                     <td class=\"pb-button\" style=\"background:#1d4ed8;border-radius:6px;padding:12px 20px;\">\
                     <a href=\"{}\" style=\"color:#ffffff;text-decoration:none;font-weight:bold;\">{}</a>\
                     </td></tr></table>\n\
                     <p class=\"pb-muted\" style=\"margin:12px 0 0 0;font-size:13px;{MUTED}\">\
                     Or open this address: {}</p>\n</td></tr>",
                    escape(href),
                    escape(label),
                    escape(href)
                );
            }
            Block::Section(title) => {
                let _ = writeln!(
                    out,
                    "<tr><td style=\"padding:24px 24px 4px 24px;\"><h2 style=\"margin:0;\
                     font-size:18px;border-top:1px solid #d6d3d1;padding-top:16px;\">{}</h2></td></tr>",
                    escape(title)
                );
            }
            Block::Paper(p) => html_paper(&mut out, p),
        }
    }
    out.push_str(
        "<tr><td class=\"pb-muted\" style=\"padding:16px 24px 24px 24px;font-size:13px;\
         color:#57534e;border-top:1px solid #d6d3d1;\">\n",
    );
    for line in &doc.footer {
        let _ = writeln!(
            out,
            "<p style=\"margin:8px 0 0 0;\">{}</p>",
            html_inline(line)
        );
    }
    out.push_str("</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n");
    out
}

fn html_paper(out: &mut String, p: &PaperItem) {
    let rank = p.rank.map(|r| format!("{r}. ")).unwrap_or_default();
    let _ = writeln!(
        out,
        "<tr><td style=\"padding:12px 24px;\">\n\
         <p style=\"margin:0;font-size:17px;line-height:1.35;font-weight:bold;\">{}\
         <a href=\"{}\" style=\"color:#1c1917;text-decoration:none;\">{}</a></p>",
        escape(&rank),
        escape(&p.href),
        escape(&p.title)
    );
    let mut meta = escape(&p.meta);
    if let Some(why) = &p.why {
        let _ = write!(meta, " \u{b7} {}", escape(why));
    }
    let _ = writeln!(
        out,
        "<p class=\"pb-muted\" style=\"margin:4px 0 0 0;font-size:13px;{MUTED}\">{meta}</p>"
    );
    if !p.snippet.is_empty() {
        let _ = writeln!(
            out,
            "<p style=\"margin:6px 0 0 0;font-size:14px;\">{}</p>",
            escape(&p.snippet)
        );
    }
    let _ = writeln!(
        out,
        "<p style=\"margin:6px 0 0 0;font-size:13px;\">\
         <a href=\"{}\" style=\"{LINK_STYLE}\">Paper page</a> \u{b7} \
         <a href=\"{}\" style=\"{LINK_STYLE}\">arXiv</a></p>\n</td></tr>",
        escape(&p.href),
        escape(&p.arxiv)
    );
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use paperboy_core::{EmailAddress, MessageId, SubscriptionId};
    use paperboy_store::MessageStatus;

    use super::*;
    use crate::content::to_json;

    fn settings() -> MailSettings {
        MailSettings::new(
            "Paperboy <papers@example.org>",
            "https://papers.example.org/",
            "Paperboy",
        )
        .unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn paper(id: &str, title: &str, authors: u32) -> MailPaper {
        MailPaper {
            id: id.to_owned(),
            title: title.to_owned(),
            authors,
            upvotes: 42,
            snippet: "We study & improve things.".to_owned(),
        }
    }

    fn outbox(
        key: &str,
        kind: MessageKind,
        edition: Option<String>,
        payload: &Payload,
    ) -> OutboxMessage {
        OutboxMessage {
            id: MessageId(1),
            key: key.to_owned(),
            kind,
            subscription: Some(SubscriptionId(42)),
            recipient: EmailAddress::parse("ada@example.com").unwrap(),
            edition,
            payload: to_json(payload),
            created_at: DateTime::parse_from_rfc3339("2026-11-30T07:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            status: MessageStatus::Queued,
            attempts: 1,
            last_error: None,
            sent_at: None,
        }
    }

    fn edition(period: &str, first: &str, last: &str, papers: Vec<MailPaper>) -> String {
        to_json(&DigestEdition {
            period: period.to_owned(),
            first_day: day(first),
            last_day: day(last),
            papers,
        })
    }

    fn digest(period: &str, first: &str, last: &str, papers: Vec<MailPaper>) -> OutboxMessage {
        outbox(
            &format!("digest-{period}-s42"),
            MessageKind::Digest,
            Some(edition(period, first, last, papers)),
            &Payload::Digest {
                unsubscribe_token: "unsub-tok".to_owned(),
                alerts: vec![AlertItem {
                    paper: paper("2411.00002", "Found by search", 1),
                    query: "ti:diffusion".to_owned(),
                }],
            },
        )
    }

    fn formatted(message: &OutboxMessage) -> String {
        String::from_utf8(render(message, &settings()).unwrap().formatted()).unwrap()
    }

    /// The decoded plain-text and HTML parts.
    fn parts(message: &OutboxMessage) -> (String, String) {
        let raw = formatted(message);
        let delimiter = format!("--{}", boundary(&message.key));
        let mut found: Vec<String> = raw
            .split(&delimiter)
            .skip(1)
            .filter(|part| !part.starts_with("--"))
            .map(|part| {
                let (head, body) = part.split_once("\r\n\r\n").unwrap();
                if head.contains("Content-Transfer-Encoding: quoted-printable") {
                    unquote(body)
                } else {
                    assert!(head.contains("Content-Transfer-Encoding: 7bit"), "{head}");
                    body.replace("\r\n", "\n")
                }
            })
            .collect();
        assert_eq!(found.len(), 2);
        let html = found.pop().unwrap();
        (found.pop().unwrap(), html)
    }

    fn unquote(body: &str) -> String {
        let mut bytes = Vec::new();
        for line in body.split("\r\n") {
            if let Some(soft) = line.strip_suffix('=') {
                bytes.extend_from_slice(&qp(soft));
            } else {
                bytes.extend_from_slice(&qp(line));
                bytes.push(b'\n');
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    /// Both parts, one after the other.
    fn decoded(message: &OutboxMessage) -> String {
        let (plain, html) = parts(message);
        format!("{plain}\n{html}")
    }

    fn qp(line: &str) -> Vec<u8> {
        let b = line.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit()
            {
                out.push(u8::from_str_radix(&line[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn same_message_same_bytes() {
        let message = digest(
            "daily-2026-11-30",
            "2026-11-27",
            "2026-11-29",
            vec![paper("2411.00001", "A paper", 3)],
        );
        let first = render(&message, &settings()).unwrap().formatted();
        let second = render(&message, &settings()).unwrap().formatted();
        assert_eq!(first, second);
    }

    #[test]
    fn headers_and_parts() {
        let message = digest(
            "daily-2026-11-30",
            "2026-11-27",
            "2026-11-29",
            vec![paper("2411.00001", "A paper", 3)],
        );
        let raw = formatted(&message);
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        for expected in [
            "From: Paperboy <papers@example.org>\r\n",
            "To: ada@example.com\r\n",
            "Subject: Trending papers: Fri 27 =?utf-8?",
            "Date: Mon, 30 Nov 2026 07:00:00 +0000\r\n",
            "Message-ID: <digest-daily-2026-11-30-s42@papers.example.org>\r\n",
            "List-Unsubscribe: <https://papers.example.org/unsubscribe/unsub-tok>\r\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            "List-Id: Paperboy digests <digest.papers.example.org>\r\n",
            "Auto-Submitted: auto-generated\r\n",
            "MIME-Version: 1.0\r\n",
        ] {
            assert!(
                format!("{head}\r\n").contains(expected),
                "missing {expected:?} in\n{head}"
            );
        }
        let boundary = boundary(&message.key);
        assert!(head.contains("Content-Type: multipart/alternative;"));
        assert!(head.contains(&boundary));
        assert_eq!(body.matches(&format!("--{boundary}\r\n")).count(), 2);
        assert!(body.contains(&format!("--{boundary}--")));
        assert!(body.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(body.contains("Content-Type: text/html; charset=utf-8"));
    }

    #[test]
    fn titles_are_escaped_in_html() {
        let message = digest(
            "daily-2026-12-01",
            "2026-11-30",
            "2026-11-30",
            vec![paper("2411.00001", "<script>alert(1)</script> & more", 1)],
        );
        let (plain, html) = parts(&message);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        // The plain-text part keeps the title as it is.
        assert!(plain.contains("1. <script>alert(1)</script> & more"));
        let text = format!("{plain}\n{html}");
        assert!(text.contains("1 author \u{b7} \u{25b2} 42"));
        assert!(!text.contains("1 authors"));
        assert!(text.contains("Paper page: https://papers.example.org/papers/2411.00001"));
        assert!(text.contains("arXiv: https://arxiv.org/abs/2411.00001"));
        assert!(text.contains("From your saved searches"));
        assert!(text.contains("matches \u{201c}ti:diffusion\u{201d}"));
        assert!(text.contains("https://papers.example.org/settings"));
        assert!(plain.contains("Unsubscribe: https://papers.example.org/unsubscribe/unsub-tok"));
        assert!(text.contains("<meta name=\"color-scheme\" content=\"light dark\">"));
        assert!(text.contains("The most upvoted paper on the daily list of Mon 30 Nov 2026."));
    }

    #[test]
    fn digest_subjects() {
        let subject = |m: &OutboxMessage| {
            render(m, &settings())
                .unwrap()
                .headers()
                .get::<lettre::message::header::Subject>()
                .map(|s| s.as_ref().to_owned())
                .unwrap()
        };
        let p = vec![paper("2411.00001", "A", 2), paper("2411.00003", "B", 2)];
        assert_eq!(
            subject(&digest(
                "daily-2026-11-30",
                "2026-11-27",
                "2026-11-29",
                p.clone()
            )),
            "Trending papers: Fri 27 \u{2013} Sun 29 Nov 2026"
        );
        assert_eq!(
            subject(&digest(
                "daily-2026-12-01",
                "2026-11-30",
                "2026-11-30",
                p.clone()
            )),
            "Trending papers: Mon 30 Nov 2026"
        );
        assert_eq!(
            subject(&digest(
                "weekly-2026-11-30",
                "2026-11-23",
                "2026-11-29",
                p.clone()
            )),
            "Trending papers of the week: 23 \u{2013} 29 Nov 2026"
        );
        assert_eq!(
            subject(&digest(
                "weekly-2026-12-07",
                "2026-11-30",
                "2026-12-06",
                p.clone()
            )),
            "Trending papers of the week: 30 Nov \u{2013} 6 Dec 2026"
        );
        assert_eq!(
            subject(&digest("weekly-2027-01-04", "2026-12-28", "2027-01-03", p)),
            "Trending papers of the week: 28 Dec 2026 \u{2013} 3 Jan 2027"
        );
    }

    #[test]
    fn empty_digest_renders() {
        let text = decoded(&digest(
            "daily-2026-12-01",
            "2026-11-30",
            "2026-11-30",
            vec![],
        ));
        assert!(text.contains("No papers were on the daily list of Mon 30 Nov 2026"));
    }

    #[test]
    fn confirmation_mail() {
        let message = outbox(
            "confirm-s42-1764486000000",
            MessageKind::Confirm,
            None,
            &Payload::Confirm {
                token: "conf-tok".to_owned(),
                cadence: "weekly".to_owned(),
                papers: 5,
                send_at: "08:30".to_owned(),
                zone: "Europe/Berlin".to_owned(),
            },
        );
        let raw = formatted(&message);
        assert!(raw.contains("Subject: Confirm your Paperboy subscription\r\n"));
        assert!(!raw.contains("List-Unsubscribe"));
        let text = decoded(&message);
        assert!(text.contains("https://papers.example.org/subscribe/confirm/conf-tok"));
        assert!(text.contains(
            "the 5 most upvoted papers of the week, on Mondays at 08:30 (Europe/Berlin)"
        ));
        assert!(text.contains("Nothing will be sent to this address unless you confirm."));
    }

    #[test]
    fn alert_mail() {
        let message = outbox(
            "alert-u7-1234",
            MessageKind::Alert,
            None,
            &Payload::Alert {
                unsubscribe_token: "unsub-tok".to_owned(),
                alerts: vec![AlertItem {
                    paper: paper("2411.00009", "Sparse <b>things</b>", 4),
                    query: "au:\"Ada Lovelace\"".to_owned(),
                }],
            },
        );
        let raw = formatted(&message);
        assert!(raw.contains("Subject: New papers for your saved searches\r\n"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        let text = decoded(&message);
        assert!(text.contains("matches \u{201c}au:&quot;Ada Lovelace&quot;\u{201d}"));
        assert!(text.contains("Sparse &lt;b&gt;things&lt;/b&gt;"));
        assert!(text.contains("4 authors"));
    }

    #[test]
    fn broken_messages_say_what_is_wrong() {
        let mut message = digest("daily-2026-12-01", "2026-11-30", "2026-11-30", vec![]);
        message.edition = None;
        let err = render(&message, &settings()).unwrap_err();
        assert!(matches!(err, RenderError::MissingEdition { .. }));
        assert!(err.to_string().contains("digest-daily-2026-12-01-s42"));

        let mut message = digest("daily-2026-12-01", "2026-11-30", "2026-11-30", vec![]);
        message.kind = MessageKind::Alert;
        let err = render(&message, &settings()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "message digest-daily-2026-12-01-s42: the message is of kind alert but its payload is of kind digest"
        );

        let mut message = digest("daily-2026-12-01", "2026-11-30", "2026-11-30", vec![]);
        message.payload = "{not json".to_owned();
        assert!(matches!(
            render(&message, &settings()),
            Err(RenderError::Payload { .. })
        ));

        let mut message = digest("daily-2026-12-01", "2026-11-30", "2026-11-30", vec![]);
        message.key = "bad key\r\nBcc: x@example.org".to_owned();
        assert!(matches!(
            render(&message, &settings()),
            Err(RenderError::Key { .. })
        ));
    }

    #[test]
    fn settings_are_checked() {
        let s = settings();
        assert_eq!(s.base_url, "https://papers.example.org");
        assert_eq!(s.message_id_domain, "papers.example.org");
        assert!(MailSettings::new("not an address", "https://x.org", "P").is_err());
        assert!(MailSettings::new("a@b.org", "papers.example.org", "P").is_err());
        let local = MailSettings::new("a@b.org", "http://localhost:8080", "P").unwrap();
        assert_eq!(local.message_id_domain, "localhost");
    }
}
