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
//! Most of a digest is its edition's (the period's papers, the subject, the
//! small print), shared by every subscriber of that period; only the
//! saved-search matches folded into it, the unsubscribe link and some
//! headers are the message's own. A [`Renderer`] writes each edition's share
//! once, already encoded, and puts every message together around it: that
//! is what lets the sender keep up with the mail server. The bytes are the
//! ones lettre's message builder makes of the same mail (a test holds them
//! to it): headers are lettre's, and each part's body is lettre's encoding
//! of the whole text (see [`part_body`]).
//!
//! It never reads the store and never sends anything. Every piece of text
//! that comes from users or papers is HTML-escaped here; the HTML uses
//! inline styles only (plus one dark-mode media query), no scripts and no
//! remote images.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use chrono::{Datelike, NaiveDate};
use lettre::address::Envelope;
use lettre::message::header::{
    self, ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue, Headers,
};
use lettre::message::{Body, Mailbox, Mailboxes};
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

/// A message as it goes to the mail server.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    envelope: Envelope,
    formatted: Vec<u8>,
}

impl Rendered {
    /// The SMTP envelope: the From address to the To address.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The message itself: headers and MIME body, CRLF line ends.
    pub fn formatted(&self) -> &[u8] {
        &self.formatted
    }
}

impl From<lettre::Message> for Rendered {
    /// A message made with lettre's builder.
    fn from(message: lettre::Message) -> Rendered {
        Rendered {
            formatted: message.formatted(),
            envelope: message.envelope().clone(),
        }
    }
}

/// Renders a queued message; the same message and settings give the same
/// bytes ([`Rendered::formatted`]) every time.
pub fn render(message: &OutboxMessage, settings: &MailSettings) -> Result<Rendered, RenderError> {
    Renderer::new(settings).render(message)
}

/// Renders messages, writing each digest edition's share of them once.
///
/// [`Renderer::prepare`] writes out the editions of a batch of messages;
/// [`Renderer::render`] reuses them and writes only what is each message's
/// own. A message whose edition was not prepared renders all the same, with
/// its edition written for it alone.
pub struct Renderer<'a> {
    settings: &'a MailSettings,
    /// Prepared editions by their stored text (a batch holds a few).
    editions: Vec<(String, Arc<Shared>)>,
    /// The From header, the same in every message.
    from: String,
    /// The List-Id headers of digests and of alert mails.
    digest_list: String,
    alert_list: String,
}

impl<'a> Renderer<'a> {
    /// A renderer with no edition prepared.
    pub fn new(settings: &'a MailSettings) -> Renderer<'a> {
        let list = |label: &str, description: &str| {
            header_line(ListId(format!(
                "{} {description} <{label}.{}>",
                phrase(&settings.site_name),
                settings.message_id_domain
            )))
        };
        Renderer {
            settings,
            editions: Vec::new(),
            from: header_line(header::From::from(Mailboxes::from(settings.from.clone()))),
            digest_list: list("digest", "digests"),
            alert_list: list("alerts", "saved-search alerts"),
        }
    }

    /// Writes out the editions of the digests among `messages` not written
    /// yet. An edition that cannot be read is left for [`Renderer::render`]
    /// to report with its message.
    pub fn prepare<'m>(&mut self, messages: impl IntoIterator<Item = &'m OutboxMessage>) {
        for message in messages {
            let Some(text) = message.edition.as_deref() else {
                continue;
            };
            if message.kind != MessageKind::Digest || self.edition(text).is_some() {
                continue;
            }
            if let Ok(edition) = serde_json::from_str::<DigestEdition>(text) {
                let shared = Arc::new(Shared::write(&edition_doc(self.settings, &edition)));
                self.editions.push((text.to_owned(), shared));
            }
        }
    }

    /// Renders a queued message (see [`render`]).
    pub fn render(&self, message: &OutboxMessage) -> Result<Rendered, RenderError> {
        let mail = self.mail(message)?;
        self.put_together(message, &mail)
    }

    /// What `message` says: its edition's share (prepared or written now)
    /// and its own.
    fn mail(&self, message: &OutboxMessage) -> Result<Mail, RenderError> {
        let settings = self.settings;
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
        let mail = match (&payload, message.kind) {
            (
                Payload::Confirm {
                    token,
                    cadence,
                    papers,
                    send_at,
                    zone,
                },
                MessageKind::Confirm,
            ) => Mail {
                shared: Arc::new(Shared::write(&confirm_doc(
                    settings, token, cadence, *papers, send_at, zone,
                ))),
                own: Own::default(),
                unsubscribe_token: None,
                list: None,
            },
            (
                Payload::Notice {
                    unsubscribe_token,
                    cadence,
                    papers,
                    send_at,
                    zone,
                },
                MessageKind::Notice,
            ) => {
                let what = what_is_sent(cadence, *papers, send_at, zone);
                Mail {
                    shared: Arc::new(Shared::write(&notice_doc(
                        settings,
                        &what,
                        unsubscribe_token,
                    ))),
                    own: Own::default(),
                    unsubscribe_token: Some(unsubscribe_token.clone()),
                    list: None,
                }
            }
            (Payload::Link { token, account }, MessageKind::Link) => Mail {
                shared: Arc::new(Shared::write(&link_doc(settings, token, account))),
                own: Own::default(),
                unsubscribe_token: None,
                list: None,
            },
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
                let shared = match self.edition(text) {
                    Some(shared) => Arc::clone(shared),
                    None => {
                        let edition: DigestEdition =
                            serde_json::from_str(text).map_err(|error| RenderError::Edition {
                                key: key.clone(),
                                error,
                            })?;
                        Arc::new(Shared::write(&edition_doc(settings, &edition)))
                    }
                };
                Mail {
                    shared,
                    own: Own {
                        blocks: folded_alerts(settings, alerts),
                        footer: vec![unsubscribe_line(settings, unsubscribe_token)],
                    },
                    unsubscribe_token: Some(unsubscribe_token.clone()),
                    list: Some(List::Digests),
                }
            }
            (
                Payload::Alert {
                    unsubscribe_token,
                    alerts,
                },
                MessageKind::Alert,
            ) => Mail {
                shared: Arc::new(Shared::write(&alert_doc(settings, alerts))),
                own: Own {
                    blocks: Vec::new(),
                    footer: vec![unsubscribe_line(settings, unsubscribe_token)],
                },
                unsubscribe_token: Some(unsubscribe_token.clone()),
                list: Some(List::Alerts),
            },
            (Payload::Confirm { .. }, _) => return Err(mismatch("confirm")),
            (Payload::Link { .. }, _) => return Err(mismatch("link")),
            (Payload::Notice { .. }, _) => return Err(mismatch("notice")),
            (Payload::Digest { .. }, _) => return Err(mismatch("digest")),
            (Payload::Alert { .. }, _) => return Err(mismatch("alert")),
        };
        Ok(mail)
    }

    fn edition(&self, text: &str) -> Option<&Arc<Shared>> {
        self.editions
            .iter()
            .find(|(prepared, _)| prepared == text)
            .map(|(_, shared)| shared)
    }
}

/// A message's content, before it is put together.
struct Mail {
    /// What it may share with other messages (a digest's edition).
    shared: Arc<Shared>,
    /// What is its own.
    own: Own,
    /// For the List-Unsubscribe headers.
    unsubscribe_token: Option<String>,
    /// For List-Id.
    list: Option<List>,
}

/// The lists (RFC 2919) messages belong to.
#[derive(Debug, Clone, Copy)]
enum List {
    Digests,
    Alerts,
}

impl Renderer<'_> {
    /// Headers, then the text and the HTML part: multipart/alternative as
    /// lettre's builder writes it. Lettre writes each header on lines of
    /// its own, so the lines of the headers that many messages have the
    /// same are written once.
    fn put_together(&self, message: &OutboxMessage, mail: &Mail) -> Result<Rendered, RenderError> {
        let settings = self.settings;
        let key = &message.key;
        let to = message
            .recipient
            .as_str()
            .parse::<lettre::Address>()
            .map_err(|_| RenderError::Recipient { key: key.clone() })?;
        let envelope = Envelope::new(Some(settings.from.email.clone()), vec![to.clone()]).map_err(
            |error| RenderError::Build {
                key: key.clone(),
                error,
            },
        )?;
        let boundary = boundary(key);
        let own = Written::blocks(&mail.own.blocks);
        let end = Written::end(&mail.own.footer);
        let shared = &mail.shared;
        let text = PartBody::new([&shared.top.text, &own.text, &shared.footer.text, &end.text]);
        let html = PartBody::new([&shared.top.html, &own.html, &shared.footer.html, &end.html]);

        // Headers and the MIME lines around the bodies take about a kilobyte.
        let mut out = Vec::with_capacity(text.len() + html.len() + 2048);
        out.extend_from_slice(self.from.as_bytes());
        let to = Mailboxes::from(Mailbox::new(None, to));
        put_header(&mut out, header::To::from(to));
        out.extend_from_slice(shared.subject.as_bytes());
        let date = header::Date::new(SystemTime::from(message.created_at));
        put_header(&mut out, date);
        let id = format!("<{key}@{}>", settings.message_id_domain);
        put_header(&mut out, header::MessageId::from(id));
        out.extend_from_slice(fixed_lines().auto_submitted.as_bytes());
        if let Some(token) = &mail.unsubscribe_token {
            let url = settings.url(&format!("/unsubscribe/{token}"));
            put_header(&mut out, ListUnsubscribe(format!("<{url}>")));
            out.extend_from_slice(fixed_lines().list_unsubscribe_post.as_bytes());
        }
        match mail.list {
            Some(List::Digests) => out.extend_from_slice(self.digest_list.as_bytes()),
            Some(List::Alerts) => out.extend_from_slice(self.alert_list.as_bytes()),
            None => {}
        }
        out.extend_from_slice(fixed_lines().mime_version.as_bytes());
        // What `ContentType` writes for a multipart of this boundary,
        // without parsing the MIME type back first.
        let content_type = HeaderValue::new(
            ContentType::name(),
            format!("multipart/alternative; boundary=\"{boundary}\""),
        );
        put_raw_header(&mut out, content_type);
        out.extend_from_slice(b"\r\n");
        for (content_type, body) in [
            (&fixed_lines().text_plain, text),
            (&fixed_lines().text_html, html),
        ] {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(content_type.as_bytes());
            match body.encoding() {
                ContentTransferEncoding::QuotedPrintable => {
                    out.extend_from_slice(fixed_lines().quoted_printable.as_bytes());
                }
                encoding => put_header(&mut out, encoding),
            }
            out.extend_from_slice(b"\r\n");
            body.write_to(&mut out);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        Ok(Rendered {
            envelope,
            formatted: out,
        })
    }
}

/// Writes a header as lettre writes it in a message: `Name: value`,
/// encoded and folded, and CRLF. A message's headers are these lines in a
/// row.
fn put_header(out: &mut Vec<u8>, header: impl Header) {
    put_raw_header(out, header.display());
}

fn put_raw_header(out: &mut Vec<u8>, value: HeaderValue) {
    let mut headers = Headers::new();
    headers.insert_raw(value);
    let _ = write!(out, "{headers}");
}

/// A header line (see [`put_header`]) to write again and again.
fn header_line(header: impl Header) -> String {
    let mut headers = Headers::new();
    headers.set(header);
    headers.to_string()
}

/// Header lines that are the same in every message.
struct FixedLines {
    auto_submitted: String,
    list_unsubscribe_post: String,
    mime_version: String,
    /// The parts' Content-Type.
    text_plain: String,
    text_html: String,
    /// The parts' usual Content-Transfer-Encoding.
    quoted_printable: String,
}

fn fixed_lines() -> &'static FixedLines {
    static LINES: LazyLock<FixedLines> = LazyLock::new(|| FixedLines {
        auto_submitted: header_line(AutoSubmitted),
        list_unsubscribe_post: header_line(ListUnsubscribePost),
        mime_version: header_line(header::MIME_VERSION_1_0),
        text_plain: header_line(ContentType::TEXT_PLAIN),
        text_html: header_line(ContentType::TEXT_HTML),
        quoted_printable: header_line(ContentTransferEncoding::QuotedPrintable),
    });
    &LINES
}

/// The MIME boundary of a message: from its key, so it never changes, and
/// hex so it never needs quoting or occurs in an encoded body by chance.
fn boundary(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::from("=_paperboy_");
    for byte in &digest[..16] {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
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

/// A mail's content, independent of how it is written out: all of it that
/// may be shared by other messages (a digest's is its edition's, the same
/// for every subscriber of the period). What is a message's own ([`Own`])
/// goes after the blocks and after the small print.
struct Doc {
    subject: String,
    heading: String,
    blocks: Vec<Block>,
    /// Small print: why this mail, how to change it.
    footer: Vec<Vec<Inline>>,
}

/// What is a message's own, around the [`Doc`] it may share.
#[derive(Default)]
struct Own {
    /// After the doc's blocks (the saved-search matches in a digest).
    blocks: Vec<Block>,
    /// After the doc's small print (the unsubscribe link).
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
    let what = what_is_sent(cadence, papers, send_at, zone);
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

/// What a subscription sends, in words: "a daily digest: the 10 most
/// upvoted papers of the day's lists, Monday to Friday at 08:00 (UTC)".
fn what_is_sent(cadence: &str, papers: u32, send_at: &str, zone: &str) -> String {
    let most = if papers == 1 {
        "the most upvoted paper".to_owned()
    } else {
        format!("the {papers} most upvoted papers")
    };
    match Cadence::parse(cadence) {
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
    }
}

/// The answer to subscribing an active address again.
fn notice_doc(settings: &MailSettings, what: &str, unsubscribe_token: &str) -> Doc {
    let site = &settings.site_name;
    Doc {
        subject: format!("You are subscribed to {site} already"),
        heading: "You are subscribed already".to_owned(),
        blocks: vec![
            Block::Para(vec![text(format!(
                "Someone, hopefully you, asked {site} to send this address papers by mail. \
                 It is subscribed already, and gets {what}. Nothing has changed."
            ))]),
            Block::Para(vec![
                text("To change what you get, sign in and open "),
                link("your settings", settings.url("/settings")),
                text("; to get nothing more, unsubscribe:"),
            ]),
            Block::Button {
                label: "Unsubscribe".to_owned(),
                href: settings.url(&format!("/unsubscribe/{unsubscribe_token}")),
            },
        ],
        footer: vec![vec![
            text("This mail was sent because the address was entered at "),
            link(settings.url("/subscribe"), settings.url("/subscribe")),
            text("."),
        ]],
    }
}

/// The mail that links an active subscription to the account `account`
/// once its owner confirms.
fn link_doc(settings: &MailSettings, token: &str, account: &str) -> Doc {
    let site = &settings.site_name;
    Doc {
        subject: format!("Link your {site} subscription to an account"),
        heading: "Link your subscription to an account".to_owned(),
        blocks: vec![
            Block::Para(vec![text(format!(
                "This address already gets mail from {site}. Someone signed in as \u{201c}{account}\u{201d}, \
                 hopefully you, asked to manage that subscription from their account: its \
                 schedule, and alerts for their saved searches."
            ))]),
            Block::Button {
                label: "Link to my account".to_owned(),
                href: settings.url(&format!("/subscribe/link/{token}")),
            },
            Block::Para(vec![text(
                "Your digests go on as they are either way. If you did not ask for this, \
                 ignore this mail: nothing changes.",
            )]),
        ],
        footer: vec![vec![
            text("This mail was sent because the address was entered at "),
            link(settings.url("/settings"), settings.url("/settings")),
            text("."),
        ]],
    }
}

/// What every digest of `edition` says.
fn edition_doc(settings: &MailSettings, edition: &DigestEdition) -> Doc {
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
    let why = format!(
        "You get this mail because you subscribed to the {} digest of {} and confirmed your address.",
        if weekly { "weekly" } else { "daily" },
        settings.site_name
    );
    Doc {
        subject: subject.clone(),
        heading: subject,
        blocks,
        footer: footer(settings, why),
    }
}

/// The saved-search matches folded into a digest, under a section title.
fn folded_alerts(settings: &MailSettings, alerts: &[AlertItem]) -> Vec<Block> {
    if alerts.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![Block::Section("From your saved searches".to_owned())];
    blocks.extend(alert_items(settings, alerts));
    blocks
}

fn alert_doc(settings: &MailSettings, alerts: &[AlertItem]) -> Doc {
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
        footer: footer(settings, why),
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

/// The small print of digests and alerts: why, and where to change it.
fn footer(settings: &MailSettings, why: String) -> Vec<Vec<Inline>> {
    vec![
        vec![text(why)],
        vec![
            text("Change what you get: "),
            link(settings.url(MANAGE_PATH), settings.url(MANAGE_PATH)),
        ],
    ]
}

/// A subscriber's own last line of small print.
fn unsubscribe_line(settings: &MailSettings, unsubscribe_token: &str) -> Vec<Inline> {
    vec![link(
        "Unsubscribe",
        settings.url(&format!("/unsubscribe/{unsubscribe_token}")),
    )]
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

/// The content of a [`Shared`] doc, written out once for all the messages
/// that share it.
struct Shared {
    /// The Subject header.
    subject: String,
    /// The heading and the blocks under it.
    top: Written,
    /// The small print's shared lines.
    footer: Written,
}

impl Shared {
    fn write(doc: &Doc) -> Shared {
        Shared {
            subject: header_line(header::Subject::from(doc.subject.clone())),
            top: Written::top(doc),
            footer: Written::footer(&doc.footer),
        }
    }
}

/// A stretch of whole lines of both parts. A part's body is four of them
/// in a row: the doc's top, the message's own blocks, the doc's small
/// print and the message's own (with the HTML's closing tags).
struct Written {
    text: Encoded,
    html: Encoded,
}

impl Written {
    fn top(doc: &Doc) -> Written {
        let mut text = format!("{}\n\n", doc.heading);
        text_blocks(&mut text, &doc.blocks);
        let mut html = html_head(&doc.subject, &doc.heading);
        html_blocks(&mut html, &doc.blocks);
        Written::new(text, html)
    }

    fn blocks(blocks: &[Block]) -> Written {
        let mut text = String::new();
        text_blocks(&mut text, blocks);
        let mut html = String::new();
        html_blocks(&mut html, blocks);
        Written::new(text, html)
    }

    fn footer(lines: &[Vec<Inline>]) -> Written {
        let mut text = "-- \n".to_owned();
        text_lines(&mut text, lines);
        let mut html = String::from(HTML_FOOTER);
        html_lines(&mut html, lines);
        Written::new(text, html)
    }

    fn end(lines: &[Vec<Inline>]) -> Written {
        let mut text = String::new();
        text_lines(&mut text, lines);
        let mut html = String::new();
        html_lines(&mut html, lines);
        html.push_str(HTML_END);
        Written::new(text, html)
    }

    fn new(text: String, html: String) -> Written {
        Written {
            text: Encoded::new(text),
            html: Encoded::new(html),
        }
    }
}

/// Whole lines of a part, as written and encoded quoted-printable.
/// Quoted-printable encodes each line on its own, so joining the encodings
/// of stretches of whole lines gives the encoding of the joined text: a
/// shared stretch is encoded once.
struct Encoded {
    /// As written, `\n` line ends.
    raw: String,
    /// Quoted-printable, CRLF line ends.
    qp: Vec<u8>,
    ascii: bool,
    /// Bytes other than tab and printable ASCII (line ends too): what
    /// lettre weighs when it picks an encoding.
    unprintable: usize,
}

impl Encoded {
    fn new(raw: String) -> Encoded {
        debug_assert!(raw.is_empty() || raw.ends_with('\n'), "whole lines");
        let qp = quoted_printable(&raw);
        Encoded {
            ascii: raw.is_ascii(),
            unprintable: raw
                .bytes()
                .filter(|b| !matches!(b, b'\t' | b' '..=b'~'))
                .count(),
            raw,
            qp,
        }
    }
}

/// A part's body from its stretches: what lettre makes of their joined
/// text ([`Body::new`]). Lettre takes 7bit for ASCII in short lines, else
/// quoted-printable unless more than a third of the bytes need escaping,
/// else base64. Mails here are not ASCII (every paper's line of numbers
/// has a `·` or a `▲`) and mostly Latin script: for those the stretches'
/// own encodings are joined; anything else is joined and left to lettre.
enum PartBody<'s> {
    Joined([&'s Encoded; 4]),
    Whole(Body),
}

impl<'s> PartBody<'s> {
    fn new(stretches: [&'s Encoded; 4]) -> PartBody<'s> {
        let len: usize = stretches.iter().map(|s| s.raw.len()).sum();
        let unprintable: usize = stretches.iter().map(|s| s.unprintable).sum();
        if stretches.iter().any(|s| !s.ascii) && unprintable <= len / 3 {
            PartBody::Joined(stretches)
        } else {
            PartBody::Whole(Body::new(stretches.map(|s| s.raw.as_str()).concat()))
        }
    }

    fn encoding(&self) -> ContentTransferEncoding {
        match self {
            PartBody::Joined(_) => ContentTransferEncoding::QuotedPrintable,
            PartBody::Whole(body) => body.encoding(),
        }
    }

    fn len(&self) -> usize {
        match self {
            PartBody::Joined(stretches) => stretches.iter().map(|s| s.qp.len()).sum(),
            PartBody::Whole(body) => body.len(),
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            PartBody::Joined(stretches) => {
                for stretch in stretches {
                    out.extend_from_slice(&stretch.qp);
                }
            }
            PartBody::Whole(body) => out.extend_from_slice(body.as_ref()),
        }
    }
}

/// Quoted-printable of text with `\n` line ends, with CRLF line ends:
/// lettre's own encoding of a part ([`Body`] turns the line ends into CRLF,
/// then encodes with the `quoted_printable` crate). It encodes each line on
/// its own, which is what lets shared stretches be encoded once.
fn quoted_printable(text: &str) -> Vec<u8> {
    match Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable) {
        Ok(body) => body.into_vec(),
        // Lettre refuses only 7bit and 8bit for text that is not fit for
        // them; quoted-printable takes anything.
        Err(raw) => raw,
    }
}

fn text_inline(parts: &[Inline]) -> String {
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
}

fn text_blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Para(parts) => {
                let _ = writeln!(out, "{}\n", text_inline(parts));
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
}

fn text_lines(out: &mut String, lines: &[Vec<Inline>]) {
    for line in lines {
        let _ = writeln!(out, "{}", text_inline(line));
    }
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

/// From the doctype to the heading.
fn html_head(subject: &str, heading: &str) -> String {
    let mut out = String::new();
    out.push_str(concat!(
        "<!DOCTYPE html>\n",
        "<html lang=\"en\">\n<head>\n",
        "<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<meta name=\"color-scheme\" content=\"light dark\">\n",
        "<meta name=\"supported-color-schemes\" content=\"light dark\">\n",
    ));
    let _ = writeln!(out, "<title>{}</title>", escape(subject));
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
        escape(heading)
    );
    out
}

fn html_blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
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
            Block::Paper(p) => html_paper(out, p),
        }
    }
}

/// Opens the small print.
const HTML_FOOTER: &str = "<tr><td class=\"pb-muted\" style=\"padding:16px 24px 24px 24px;\
                           font-size:13px;color:#57534e;border-top:1px solid #d6d3d1;\">\n";

/// Closes the small print and the page.
const HTML_END: &str = "</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n";

fn html_lines(out: &mut String, lines: &[Vec<Inline>]) {
    for line in lines {
        let _ = writeln!(
            out,
            "<p style=\"margin:8px 0 0 0;\">{}</p>",
            html_inline(line)
        );
    }
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
        String::from_utf8(render(message, &settings()).unwrap().formatted().to_vec()).unwrap()
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
        let first = render(&message, &settings()).unwrap();
        let second = render(&message, &settings()).unwrap();
        assert_eq!(first.formatted(), second.formatted());
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
        // The Subject header as written, folded lines and all, is what
        // lettre writes for the expected subject.
        let subject = |m: &OutboxMessage| {
            let raw = formatted(m);
            let start = raw.find("\r\nSubject: ").unwrap() + 2;
            let end = start + raw[start..].find("\r\nDate: ").unwrap() + 2;
            raw[start..end].to_owned()
        };
        let header = |subject: &str| {
            let mut headers = Headers::new();
            headers.set(header::Subject::from(subject.to_owned()));
            headers.to_string()
        };
        let p = vec![paper("2411.00001", "A", 2), paper("2411.00003", "B", 2)];
        assert_eq!(
            subject(&digest(
                "daily-2026-11-30",
                "2026-11-27",
                "2026-11-29",
                p.clone()
            )),
            header("Trending papers: Fri 27 \u{2013} Sun 29 Nov 2026")
        );
        assert_eq!(
            subject(&digest(
                "daily-2026-12-01",
                "2026-11-30",
                "2026-11-30",
                p.clone()
            )),
            header("Trending papers: Mon 30 Nov 2026")
        );
        assert_eq!(
            subject(&digest(
                "weekly-2026-11-30",
                "2026-11-23",
                "2026-11-29",
                p.clone()
            )),
            header("Trending papers of the week: 23 \u{2013} 29 Nov 2026")
        );
        assert_eq!(
            subject(&digest(
                "weekly-2026-12-07",
                "2026-11-30",
                "2026-12-06",
                p.clone()
            )),
            header("Trending papers of the week: 30 Nov \u{2013} 6 Dec 2026")
        );
        assert_eq!(
            subject(&digest("weekly-2027-01-04", "2026-12-28", "2027-01-03", p)),
            header("Trending papers of the week: 28 Dec 2026 \u{2013} 3 Jan 2027")
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
    fn notice_mail() {
        let message = outbox(
            "notice-s42-1764486000000",
            MessageKind::Notice,
            None,
            &Payload::Notice {
                unsubscribe_token: "unsub-tok".to_owned(),
                cadence: "daily".to_owned(),
                papers: 1,
                send_at: "07:15".to_owned(),
                zone: "Asia/Tokyo".to_owned(),
            },
        );
        let raw = formatted(&message);
        assert!(raw.contains("Subject: You are subscribed to Paperboy already\r\n"));
        assert!(
            raw.contains("List-Unsubscribe: <https://papers.example.org/unsubscribe/unsub-tok>")
        );
        assert!(!raw.contains("List-Id"), "not a list mail");
        let text = decoded(&message);
        assert!(text.contains(
            "the most upvoted paper of the day's lists, Monday to Friday at 07:15 (Asia/Tokyo)"
        ));
        assert!(text.contains("Nothing has changed."));
        assert!(text.contains("https://papers.example.org/settings"));
    }

    #[test]
    fn link_mail() {
        let message = outbox(
            "link-s42-1764486000000",
            MessageKind::Link,
            None,
            &Payload::Link {
                token: "link-tok".to_owned(),
                account: "ada <&>".to_owned(),
            },
        );
        let raw = formatted(&message);
        assert!(raw.contains("Subject: Link your Paperboy subscription to an account\r\n"));
        assert!(!raw.contains("List-Unsubscribe"));
        let (text, html) = parts(&message);
        assert!(text.contains("https://papers.example.org/subscribe/link/link-tok"));
        assert!(
            text.contains("signed in as \u{201c}ada <&>\u{201d}"),
            "{text}"
        );
        assert!(html.contains("ada &lt;&amp;&gt;"), "{html}");
        assert!(text.contains("nothing changes"));
        // A link payload in a message of another kind is refused.
        let mut wrong = message;
        wrong.kind = MessageKind::Confirm;
        assert!(matches!(
            render(&wrong, &settings()),
            Err(RenderError::KindMismatch { .. })
        ));
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

    /// Settings with a non-ASCII sender name and site name, a port in the
    /// site's address.
    fn odd_settings() -> MailSettings {
        MailSettings::new(
            "\u{c9}dith <edith@example.org>",
            "http://localhost:8080/",
            "P\u{e4}per \"boy\"",
        )
        .unwrap()
    }

    /// Messages of every kind and shape: digests of editions with no, one
    /// and ten papers, daily, weekly and of an unknown period, with up to
    /// three folded alerts and unsubscribe tokens of any length; odd text
    /// (tabs, trailing spaces, `=`, words longer than a line, titles in CJK
    /// that lettre sends as base64); confirmation mails of every cadence;
    /// alert mails.
    fn assorted() -> Vec<OutboxMessage> {
        let mut odd = paper("2411.00077", "Tab\tand trailing space ", 0);
        odd.snippet = format!(
            "{} = {} ",
            "x".repeat(74),
            "averyveryveryveryveryveryveryveryveryveryveryveryveryverylongword=\u{e9}"
        );
        let cjk = MailPaper {
            id: "2411.00088".to_owned(),
            title: "\u{6df1}\u{5ea6}\u{5b66}\u{4e60}".repeat(30),
            authors: 1,
            upvotes: 0,
            snippet: "\u{6df1}\u{5ea6}".repeat(100),
        };
        let ten: Vec<MailPaper> = (1..=10)
            .map(|i| MailPaper {
                snippet: "We study things: ".repeat(i as usize * 3),
                ..paper(
                    &format!("2411.{i:05}"),
                    &format!("Paper {i}, with a title rather long, about {} words", i * 7),
                    i,
                )
            })
            .collect();
        let alerts = |n: usize| -> Vec<AlertItem> {
            (0..n)
                .map(|i| AlertItem {
                    paper: paper(&format!("2411.9{i:04}"), &format!("Alert <{i}> & co"), 2),
                    query: format!("ti:\"q{i}\" = x"),
                })
                .collect()
        };
        let long_token = "a".repeat(120);
        let editions = [
            (
                "daily-2026-12-01",
                "2026-11-30",
                "2026-11-30",
                vec![paper("2411.00001", "A paper", 3)],
            ),
            ("daily-2026-11-30", "2026-11-27", "2026-11-29", ten.clone()),
            ("daily-2026-12-01", "2026-11-30", "2026-11-30", vec![]),
            ("weekly-2026-12-07", "2026-11-30", "2026-12-06", ten.clone()),
            ("weekly-2027-01-04", "2026-12-28", "2027-01-03", ten),
            (
                "daily-2026-12-02",
                "2026-12-01",
                "2026-12-01",
                vec![odd, paper("2411.00002", "", 1)],
            ),
            (
                "daily-2026-12-03",
                "2026-12-02",
                "2026-12-02",
                vec![cjk.clone()],
            ),
            (
                "unknown",
                "2026-11-23",
                "2026-11-29",
                vec![paper("2411.00001", "A", 3)],
            ),
        ];
        let mut messages = Vec::new();
        for (e, (period, first, last, papers)) in editions.into_iter().enumerate() {
            let edition = edition(period, first, last, papers);
            for (n, token) in [
                (0, "unsub-tok"),
                (1, "t"),
                (3, "f"),
                (2, long_token.as_str()),
            ] {
                messages.push(outbox(
                    &format!("digest-{period}-s{e}{n}"),
                    MessageKind::Digest,
                    Some(edition.clone()),
                    &Payload::Digest {
                        unsubscribe_token: token.to_owned(),
                        alerts: alerts(n),
                    },
                ));
            }
        }
        for cadence in ["daily", "weekly", "alerts_only", "hourly"] {
            for papers in [1, 5] {
                messages.push(outbox(
                    &format!("confirm-s42-{cadence}{papers}"),
                    MessageKind::Confirm,
                    None,
                    &Payload::Confirm {
                        token: "conf-tok".to_owned(),
                        cadence: cadence.to_owned(),
                        papers,
                        send_at: "08:30".to_owned(),
                        zone: "Europe/Berlin".to_owned(),
                    },
                ));
            }
        }
        messages.push(outbox(
            "notice-s42-1",
            MessageKind::Notice,
            None,
            &Payload::Notice {
                unsubscribe_token: long_token.clone(),
                cadence: "weekly".to_owned(),
                papers: 7,
                send_at: "23:59".to_owned(),
                zone: "America/St_Johns".to_owned(),
            },
        ));
        for account in ["ada", "\u{c9}dith <x@y>"] {
            messages.push(outbox(
                &format!("link-s42-{}", account.len()),
                MessageKind::Link,
                None,
                &Payload::Link {
                    token: "link-tok".to_owned(),
                    account: account.to_owned(),
                },
            ));
        }
        let mut in_cjk = alerts(1);
        in_cjk[0].paper = cjk;
        for (name, alerts) in [("one", alerts(1)), ("three", alerts(3)), ("cjk", in_cjk)] {
            messages.push(outbox(
                &format!("alert-u7-{name}"),
                MessageKind::Alert,
                None,
                &Payload::Alert {
                    unsubscribe_token: "unsub-tok".to_owned(),
                    alerts,
                },
            ));
        }
        messages
    }

    /// The subject, as the HTML's title says it.
    fn title(html: &str) -> String {
        let start = html.find("<title>").unwrap() + "<title>".len();
        let end = html.find("</title>").unwrap();
        html[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// The mail of `message` as lettre's message builder makes it from the
    /// same content: the headers set one by one, each part's body encoded
    /// whole as lettre chooses.
    fn built_by_lettre(message: &OutboxMessage, settings: &MailSettings) -> Rendered {
        use lettre::message::{MultiPart, SinglePart};

        let mail = Renderer::new(settings).mail(message).unwrap();
        let own = Written::blocks(&mail.own.blocks);
        let end = Written::end(&mail.own.footer);
        let shared = &mail.shared;
        let text = [&shared.top.text, &own.text, &shared.footer.text, &end.text]
            .map(|s| s.raw.as_str())
            .concat();
        let html = [&shared.top.html, &own.html, &shared.footer.html, &end.html]
            .map(|s| s.raw.as_str())
            .concat();
        let mut builder = lettre::Message::builder()
            .from(settings.from.clone())
            .to(Mailbox::new(
                None,
                message.recipient.as_str().parse().unwrap(),
            ))
            .subject(title(&shared.top.html.raw))
            .date(SystemTime::from(message.created_at))
            .message_id(Some(format!(
                "<{}@{}>",
                message.key, settings.message_id_domain
            )))
            .header(AutoSubmitted);
        if let Some(token) = &mail.unsubscribe_token {
            builder = builder
                .header(ListUnsubscribe(format!(
                    "<{}>",
                    settings.url(&format!("/unsubscribe/{token}"))
                )))
                .header(ListUnsubscribePost);
        }
        if let Some(list) = mail.list {
            let (label, description) = match list {
                List::Digests => ("digest", "digests"),
                List::Alerts => ("alerts", "saved-search alerts"),
            };
            builder = builder.header(ListId(format!(
                "{} {description} <{label}.{}>",
                phrase(&settings.site_name),
                settings.message_id_domain
            )));
        }
        let body = MultiPart::alternative()
            .boundary(boundary(&message.key))
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            );
        builder.multipart(body).unwrap().into()
    }

    #[test]
    fn mails_are_what_lettres_builder_makes() {
        let mut base64 = 0;
        for settings in [settings(), odd_settings()] {
            for message in assorted() {
                let rendered = render(&message, &settings).unwrap();
                assert_eq!(
                    rendered,
                    built_by_lettre(&message, &settings),
                    "{}",
                    message.key
                );
                let raw = String::from_utf8(rendered.formatted().to_vec()).unwrap();
                base64 += raw.matches("Content-Transfer-Encoding: base64").count();
            }
        }
        assert!(base64 > 0, "the CJK mails take lettre's way");
    }

    #[test]
    fn prepared_editions_render_the_same() {
        let messages = assorted();
        let settings = settings();
        let mut renderer = Renderer::new(&settings);
        renderer.prepare(&messages);
        renderer.prepare(&messages);
        assert_eq!(renderer.editions.len(), 8, "each edition once");
        for message in &messages {
            assert_eq!(
                renderer.render(message).unwrap(),
                render(message, &settings).unwrap(),
                "{}",
                message.key
            );
        }
        // A broken edition is not prepared; its message says what is wrong.
        let mut broken = messages[0].clone();
        broken.edition = Some("{not json".to_owned());
        renderer.prepare([&broken]);
        assert_eq!(renderer.editions.len(), 8);
        assert!(matches!(
            renderer.render(&broken),
            Err(RenderError::Edition { .. })
        ));
    }
}
