//! Sending over SMTP: the server named by one URL, and the [`MailTransport`]
//! the deliverer sends through, which says of every failure whether trying
//! again later can help.
//!
//! `smtp://[user:pass@]host[:port]` talks plain SMTP (port 25), or STARTTLS
//! with `?tls=required` / `?tls=opportunistic` (port 587); `smtps://…` is
//! implicit TLS (port 465). `?timeout=SECONDS` bounds connecting and every
//! command (10 s by default). Connections are pooled and reused (lettre's
//! pool). A password never appears in an error, a log line or `Debug`.
//!
//! It knows nothing of the outbox: deciding what a failure means for a
//! message (retry, give up, pause a subscription) is [`crate::deliver`]'s.

use std::fmt;
use std::time::Duration;

use lettre::Transport as _;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{PoolConfig, SmtpTransport};

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS (a relay on the same host or network, a test server).
    Plain,
    /// STARTTLS when the server offers it, plain otherwise.
    StartTlsOpportunistic,
    /// STARTTLS or no connection.
    StartTlsRequired,
    /// TLS from the first byte (`smtps://`).
    ImplicitTls,
}

/// Where and how mail is handed to the mail server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User name and password (`Debug` shows neither the password).
    pub credentials: Option<(String, String)>,
    /// The name in EHLO (the URL's path); the local host name when `None`.
    pub hello_name: Option<String>,
    /// Limit on connecting and on each SMTP command.
    pub timeout: Duration,
    /// Most connections kept open at once.
    pub pool_max: u32,
    /// How long an unused connection is kept open.
    pub pool_idle: Duration,
}

/// Connect and command timeout unless the URL says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an SMTP URL is refused. Messages show the URL without its password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpUrlError {
    #[error("the SMTP URL {url} cannot be read: {reason}")]
    Syntax { url: String, reason: String },
    #[error("the SMTP URL {url} has scheme {scheme:?}; use smtp:// or smtps://")]
    Scheme { url: String, scheme: String },
    #[error("the SMTP URL {url} names no host; use e.g. smtp://mail.example.org")]
    NoHost { url: String },
    #[error(
        "the SMTP URL {url} has tls={value:?}; use tls=required (STARTTLS), tls=opportunistic \
         or tls=none with smtp://, or smtps:// for implicit TLS (without ?tls=)"
    )]
    Tls { url: String, value: String },
    #[error("the SMTP URL {url} has timeout={value:?}; give whole seconds from 1 to 600")]
    Timeout { url: String, value: String },
    #[error("the SMTP URL {url} has an unknown parameter {name:?}; known are tls and timeout")]
    Parameter { url: String, name: String },
    #[error(
        "the SMTP URL {url} would send its password unencrypted to {host}; use smtps:// or \
         ?tls=required (or say ?tls=none if the network is trusted)"
    )]
    PlainPassword { url: String, host: String },
    #[error("the SMTP URL {url}: cannot set up TLS: {reason}")]
    TlsSetup { url: String, reason: String },
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| (user, "***")),
            )
            .field("hello_name", &self.hello_name)
            .field("timeout", &self.timeout)
            .field("pool_max", &self.pool_max)
            .field("pool_idle", &self.pool_idle)
            .finish()
    }
}

impl SmtpSettings {
    /// Reads an SMTP URL (see the module docs).
    pub fn from_url(text: &str) -> Result<SmtpSettings, SmtpUrlError> {
        let shown = redact_url(text);
        let url = url::Url::parse(text.trim()).map_err(|e| SmtpUrlError::Syntax {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(SmtpUrlError::Scheme {
                    url: shown,
                    scheme: other.to_owned(),
                });
            }
        };
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']'),
            _ => return Err(SmtpUrlError::NoHost { url: shown }),
        }
        .to_owned();

        let mut tls = None;
        let mut timeout = DEFAULT_TIMEOUT;
        for (name, value) in url.query_pairs() {
            match &*name {
                "tls" => tls = Some(value.into_owned()),
                "timeout" => {
                    timeout = value
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (1..=600).contains(s))
                        .map(Duration::from_secs)
                        .ok_or_else(|| SmtpUrlError::Timeout {
                            url: shown.clone(),
                            value: value.clone().into_owned(),
                        })?;
                }
                _ => {
                    return Err(SmtpUrlError::Parameter {
                        url: shown,
                        name: name.into_owned(),
                    });
                }
            }
        }
        let explicit_plain = tls.as_deref() == Some("none");
        let security = match (implicit, tls.as_deref()) {
            (true, None) => SmtpSecurity::ImplicitTls,
            (false, None | Some("none")) => SmtpSecurity::Plain,
            (false, Some("required")) => SmtpSecurity::StartTlsRequired,
            (false, Some("opportunistic")) => SmtpSecurity::StartTlsOpportunistic,
            (_, Some(value)) => {
                return Err(SmtpUrlError::Tls {
                    url: shown,
                    value: value.to_owned(),
                });
            }
        };
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Plain => 25,
            SmtpSecurity::StartTlsOpportunistic | SmtpSecurity::StartTlsRequired => 587,
            SmtpSecurity::ImplicitTls => 465,
        });

        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let user = percent_decode(url.username());
            let password = percent_decode(url.password().unwrap_or(""));
            match (user, password) {
                (Some(user), Some(password)) => Some((user, password)),
                _ => {
                    return Err(SmtpUrlError::Syntax {
                        url: shown,
                        reason: "the user or password is not UTF-8 once %-decoded".to_owned(),
                    });
                }
            }
        };
        let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");
        if credentials.is_some() && security == SmtpSecurity::Plain && !local && !explicit_plain {
            return Err(SmtpUrlError::PlainPassword { url: shown, host });
        }

        let path = url.path().trim_matches('/');
        Ok(SmtpSettings {
            host,
            port,
            security,
            credentials,
            hello_name: (!path.is_empty()).then(|| path.to_owned()),
            timeout,
            pool_max: 8,
            pool_idle: Duration::from_secs(60),
        })
    }

    /// The server as logs and errors may name it: no password.
    pub fn describe(&self) -> String {
        let scheme = if self.security == SmtpSecurity::ImplicitTls {
            "smtps"
        } else {
            "smtp"
        };
        let user = match &self.credentials {
            Some((user, _)) => format!("{user}:***@"),
            None => String::new(),
        };
        let tls = match self.security {
            SmtpSecurity::StartTlsRequired => "?tls=required",
            SmtpSecurity::StartTlsOpportunistic => "?tls=opportunistic",
            SmtpSecurity::Plain | SmtpSecurity::ImplicitTls => "",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{user}{host}:{}{tls}", self.port)
    }

    /// The transport: pooled connections to this server. Connects only when
    /// the first message is sent.
    pub fn transport(&self) -> Result<SmtpMailer, SmtpUrlError> {
        let tls_parameters = || {
            TlsParameters::new(self.host.clone()).map_err(|e| SmtpUrlError::TlsSetup {
                url: self.describe(),
                reason: e.to_string(),
            })
        };
        let tls = match self.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTlsOpportunistic => Tls::Opportunistic(tls_parameters()?),
            SmtpSecurity::StartTlsRequired => Tls::Required(tls_parameters()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = SmtpTransport::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(tls)
            .timeout(Some(self.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(self.pool_max.max(1))
                    .idle_timeout(self.pool_idle),
            );
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        if let Some(name) = &self.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            server: self.describe(),
        })
    }
}

/// A URL as an error may show it: the password, if any, replaced by `***`.
/// Works on text that does not parse as a URL too.
pub fn redact_url(text: &str) -> String {
    let text = text.trim();
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = &text[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return text.to_owned();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    format!("{}{masked}{}", &text[..rest_start], &rest[at..])
}

/// `%XX` decoding of a URL's user or password.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Trying again later may work: the server is down or busy, a 4xx
    /// reply, a timeout, a dropped connection, a TLS or login problem.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// The server refused this message for good (a 5xx reply: unknown
    /// recipient, mailbox gone, rejected as spam).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Something that hands a message to a mail server. Object safe; the
/// deliverer holds an `Arc<dyn MailTransport>` (tests a fake).
pub trait MailTransport: Send + Sync {
    /// `Ok` once the server has accepted the message for delivery.
    fn send(&self, message: &lettre::Message) -> Result<(), SendError>;
}

/// [`MailTransport`] over SMTP with pooled connections.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: SmtpTransport,
    /// [`SmtpSettings::describe`], for errors.
    server: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .finish()
    }
}

impl SmtpMailer {
    /// The lettre transport itself (benchmarks compare against it).
    pub fn lettre(&self) -> &SmtpTransport {
        &self.transport
    }

    /// Checks that the server answers (connects, says hello, logs in);
    /// for start-up checks and `mail test` commands.
    pub fn check(&self) -> Result<(), SendError> {
        match self.transport.test_connection() {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Temporary(format!(
                "{} does not answer NOOP",
                self.server
            ))),
            Err(e) => Err(classify(&e)),
        }
    }
}

impl MailTransport for SmtpMailer {
    fn send(&self, message: &lettre::Message) -> Result<(), SendError> {
        self.transport
            .send(message)
            .map(|_| ())
            .map_err(|e| classify(&e))
    }
}

/// Reply codes that are permanent (5xx) but say nothing about the message
/// or its recipient: our login was refused or is required. Retrying later
/// (after the operator fixes the configuration) is the only thing that can
/// help, and counting them as bounces would pause every subscription.
const LOGIN_CODES: [u16; 4] = [530, 534, 535, 538];

/// Whether an SMTP failure is worth retrying.
pub fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let text = error_text(error);
    match error.status().map(u16::from) {
        Some(code) if LOGIN_CODES.contains(&code) => {
            SendError::Temporary(format!("the mail server refused our login: {text}"))
        }
        _ if error.is_permanent() => SendError::Permanent(text),
        // 4xx replies, timeouts, refused/reset/dropped connections, TLS
        // handshakes, unreadable replies: the server or the way to it.
        _ => SendError::Temporary(text),
    }
}

/// An error and its sources, on one line.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a URL should read as: how it is described, its security and
    /// credentials; or part of the error message.
    type Expected<'a> = Result<(&'a str, SmtpSecurity, Option<(&'a str, &'a str)>), &'a str>;

    fn check(url: &str, expected: Expected<'_>) {
        let got = SmtpSettings::from_url(url);
        match (got, expected) {
            (Ok(settings), Ok((describe, security, credentials))) => {
                assert_eq!(settings.describe(), describe, "{url}");
                assert_eq!(settings.security, security, "{url}");
                assert_eq!(
                    settings.credentials,
                    credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
                    "{url}"
                );
            }
            (Err(e), Err(message)) => {
                let shown = e.to_string();
                assert!(shown.contains(message), "{url}: {shown}");
                assert!(!shown.contains("s3cret"), "{url}: password shown: {shown}");
            }
            (got, expected) => panic!("{url}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn urls() {
        use SmtpSecurity::*;
        check("smtp://localhost", Ok(("smtp://localhost:25", Plain, None)));
        check(
            "smtp://127.0.0.1:1025",
            Ok(("smtp://127.0.0.1:1025", Plain, None)),
        );
        check(
            "smtp://mail.example.org?tls=required",
            Ok((
                "smtp://mail.example.org:587?tls=required",
                StartTlsRequired,
                None,
            )),
        );
        check(
            "smtp://mail.example.org:2525?tls=opportunistic",
            Ok((
                "smtp://mail.example.org:2525?tls=opportunistic",
                StartTlsOpportunistic,
                None,
            )),
        );
        check(
            "smtps://ada%40example.org:s3cret%2Fx@mail.example.org",
            Ok((
                "smtps://ada@example.org:***@mail.example.org:465",
                ImplicitTls,
                Some(("ada@example.org", "s3cret/x")),
            )),
        );
        check(
            "smtp://u:s3cret@localhost:1025",
            Ok(("smtp://u:***@localhost:1025", Plain, Some(("u", "s3cret")))),
        );
        check(
            "smtp://u:s3cret@relay.internal?tls=none",
            Ok((
                "smtp://u:***@relay.internal:25",
                Plain,
                Some(("u", "s3cret")),
            )),
        );
        check(
            "smtp://u:s3cret@mail.example.org",
            Err("would send its password unencrypted to mail.example.org"),
        );
        check(
            "http://u:s3cret@mail.example.org",
            Err("use smtp:// or smtps://"),
        );
        check(
            "smtp://u:s3cret@mail.example.org?tls=yes",
            Err("tls=\"yes\""),
        );
        check(
            "smtps://u:s3cret@mail.example.org?tls=required",
            Err("tls=\"required\""),
        );
        check("smtp://mail.example.org?timeout=0", Err("timeout=\"0\""));
        check(
            "smtp://mail.example.org?tsl=required",
            Err("unknown parameter \"tsl\""),
        );
        check("smtp://u:s3cret@:25", Err("smtp://u:***@:25"));
        check("not a url", Err("cannot be read"));
    }

    #[test]
    fn timeouts_and_hello_name() {
        let s = SmtpSettings::from_url("smtp://localhost/mx.example.org?timeout=30").unwrap();
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert_eq!(s.hello_name.as_deref(), Some("mx.example.org"));
        let s = SmtpSettings::from_url("smtp://localhost").unwrap();
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert!(
            !format!(
                "{:?}",
                SmtpSettings::from_url("smtp://u:s3cret@localhost").unwrap()
            )
            .contains("s3cret")
        );
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("smtp://u:p@h:25/x?y"), "smtp://u:***@h:25/x?y");
        assert_eq!(redact_url("smtp://u@h"), "smtp://u@h");
        assert_eq!(redact_url("smtp://h"), "smtp://h");
        assert_eq!(redact_url("smtp://u:p:q@r@h"), "smtp://u:***@h");
    }

    fn message() -> lettre::Message {
        lettre::Message::builder()
            .from("a@example.org".parse().unwrap())
            .to("b@example.org".parse().unwrap())
            .subject("hi")
            .body("hello".to_owned())
            .unwrap()
    }

    #[test]
    fn closed_port_is_temporary() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let settings =
            SmtpSettings::from_url(&format!("smtp://127.0.0.1:{port}?timeout=2")).unwrap();
        let mailer = settings.transport().unwrap();
        match mailer.send(&message()) {
            Err(SendError::Temporary(text)) => assert!(!text.is_empty()),
            other => panic!("expected a temporary failure, got {other:?}"),
        }
        assert!(matches!(mailer.check(), Err(SendError::Temporary(_))));
    }

    /// A one-connection SMTP server that answers `RCPT TO` with `reply`.
    fn refusing_server(reply: &'static str) -> u16 {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            writer.write_all(b"220 test ESMTP\r\n").unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let command = line.to_ascii_uppercase();
                let answer = if command.starts_with("EHLO") {
                    "250 test\r\n".to_owned()
                } else if command.starts_with("RCPT") {
                    format!("{reply}\r\n")
                } else if command.starts_with("QUIT") {
                    let _ = writer.write_all(b"221 bye\r\n");
                    return;
                } else {
                    "250 ok\r\n".to_owned()
                };
                if writer.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                line.clear();
            }
        });
        port
    }

    #[test]
    fn replies_are_classified() {
        for (reply, permanent) in [
            ("550 5.1.1 <b@example.org>: user unknown", true),
            ("450 4.2.0 greylisted, try again", false),
            ("535 5.7.8 authentication failed", false),
        ] {
            let port = refusing_server(reply);
            let mailer = SmtpSettings::from_url(&format!("smtp://127.0.0.1:{port}?timeout=5"))
                .unwrap()
                .transport()
                .unwrap();
            match (mailer.send(&message()), permanent) {
                (Err(SendError::Permanent(text)), true) => assert!(text.contains("user unknown")),
                (Err(SendError::Temporary(text)), false) => {
                    assert!(text.contains(&reply[4..]), "{text}")
                }
                (other, _) => panic!("{reply}: got {other:?}"),
            }
        }
    }
}
