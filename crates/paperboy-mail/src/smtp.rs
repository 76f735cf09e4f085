//! Sending over SMTP: the server named by one URL, and the [`MailTransport`]
//! the deliverer sends through, which says of every failure whether trying
//! again later can help.
//!
//! `smtp://[user:pass@]host[:port]` talks plain SMTP (port 25), or STARTTLS
//! with `?tls=required` / `?tls=opportunistic` (port 587); `smtps://…` is
//! implicit TLS (port 465); `?ca=/path/to/ca.pem` trusts the certificates
//! in that PEM file besides the public roots (a relay with a certificate of
//! a private CA, or self-signed). `?timeout=SECONDS` bounds connecting (TCP, TLS,
//! greeting, EHLO, STARTTLS, login) and then each message's exchange (10 s by
//! default). Connections are pooled and reused: one idle for a moment
//! ([`TRUSTED_IDLE`]) goes straight on to the next message, one idle longer
//! must answer NOOP first (as lettre's pool asks every time), and a message
//! whose exchange breaks on a connection that was not asked is tried once
//! more on a new one. A password never appears in an error, a log line or
//! `Debug`.
//!
//! The SMTP itself is lettre's (its async [`AsyncSmtpConnection`]: commands,
//! replies, dot-stuffing, STARTTLS, AUTH), but the socket is our own, opened
//! here with `TCP_NODELAY`. lettre never sets it, and it writes a message's
//! body and the closing `\r\n.\r\n` as two writes, so with Nagle's algorithm
//! the second waits for the server's delayed ACK: about 40 ms per message per
//! connection, some 22 messages a second, whatever the server could take
//! (fixed upstream in lettre PR #1159, not released as of 0.11.23). Hence
//! also the small pool here instead of lettre's, and the mailer's own tokio
//! runtime (two threads) that the blocking [`MailTransport::send`] runs it
//! on; several threads may send at once, each on its own connection.
//!
//! It knows nothing of the outbox: deciding what a failure means for a
//! message (retry, give up, pause a subscription) is [`crate::deliver`]'s.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[allow(deprecated)] // the only way to TLS before the greeting (smtps://)
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;

use crate::render::Rendered;

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
    /// A PEM file of certificates to trust besides the public roots.
    pub ca: Option<std::path::PathBuf>,
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
    #[error("the SMTP URL {url} has an unknown parameter {name:?}; known are tls, timeout and ca")]
    Parameter { url: String, name: String },
    #[error(
        "the SMTP URL {url} would send its password unencrypted to {host}; use smtps:// or \
         ?tls=required (or say ?tls=none if the network is trusted)"
    )]
    PlainPassword { url: String, host: String },
    #[error(
        "the SMTP URL {url} has ca= without TLS; the certificates are for smtps:// or \
         ?tls=required"
    )]
    CaWithoutTls { url: String },
    #[error("the SMTP URL {url}: cannot set up TLS: {reason}")]
    TlsSetup { url: String, reason: String },
    #[error("the SMTP client for {url} cannot start its threads: {reason}")]
    Threads { url: String, reason: String },
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
            .field("ca", &self.ca)
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
        let mut ca = None;
        let mut timeout = DEFAULT_TIMEOUT;
        for (name, value) in url.query_pairs() {
            match &*name {
                "tls" => tls = Some(value.into_owned()),
                "ca" => ca = Some(std::path::PathBuf::from(value.into_owned())),
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
        if ca.is_some() && security == SmtpSecurity::Plain {
            return Err(SmtpUrlError::CaWithoutTls { url: shown });
        }
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
            ca,
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

    /// TLS to this server: the public roots, and the certificates of
    /// [`SmtpSettings::ca`].
    fn tls_parameters(&self) -> Result<TlsParameters, SmtpUrlError> {
        let failed = |reason: String| SmtpUrlError::TlsSetup {
            url: self.describe(),
            reason,
        };
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca {
            let pem = std::fs::read(path)
                .map_err(|e| failed(format!("cannot read ca={}: {e}", path.display())))?;
            if !pem
                .windows(b"-----BEGIN CERTIFICATE-----".len())
                .any(|w| w == b"-----BEGIN CERTIFICATE-----")
            {
                return Err(failed(format!(
                    "ca={} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                )));
            }
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| failed(format!("ca={}: {e}", path.display())))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder.build().map_err(|e| failed(e.to_string()))
    }

    /// The transport: pooled connections to this server. Connects only when
    /// the first message is sent.
    pub fn transport(&self) -> Result<SmtpMailer, SmtpUrlError> {
        let tls = match self.security {
            SmtpSecurity::Plain => None,
            SmtpSecurity::StartTlsOpportunistic
            | SmtpSecurity::StartTlsRequired
            | SmtpSecurity::ImplicitTls => Some(self.tls_parameters()?),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("smtp")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| SmtpUrlError::Threads {
                url: self.describe(),
                reason: e.to_string(),
            })?;
        let idle = Arc::new(Mutex::new(Vec::new()));
        runtime.spawn(close_idle(
            Arc::downgrade(&idle),
            self.pool_idle,
            self.timeout,
        ));
        Ok(SmtpMailer {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                host: self.host.clone(),
                port: self.port,
                security: self.security,
                tls,
                credentials: self
                    .credentials
                    .as_ref()
                    .map(|(user, password)| Credentials::new(user.clone(), password.clone())),
                hello_name: match &self.hello_name {
                    Some(name) => ClientId::Domain(name.clone()),
                    None => ClientId::default(),
                },
                timeout: self.timeout,
                pool_max: usize::try_from(self.pool_max.max(1)).unwrap_or(usize::MAX),
                pool_idle: self.pool_idle,
                idle,
                server: self.describe(),
            }),
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
    fn send(&self, message: &Rendered) -> Result<(), SendError>;
}

/// [`MailTransport`] over SMTP with pooled connections (see the module
/// docs). Clones share the connections.
#[derive(Clone)]
pub struct SmtpMailer {
    inner: Arc<Inner>,
}

/// What the clones of an [`SmtpMailer`] share.
struct Inner {
    /// Runs the connections; `None` only while being dropped.
    runtime: Option<tokio::runtime::Runtime>,
    host: String,
    port: u16,
    security: SmtpSecurity,
    /// For STARTTLS or implicit TLS, per `security`.
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello_name: ClientId,
    timeout: Duration,
    pool_max: usize,
    pool_idle: Duration,
    /// Connections not in use, the most recently used last (shared with
    /// [`close_idle`]).
    idle: Arc<Mutex<Vec<Idle>>>,
    /// [`SmtpSettings::describe`], for errors.
    server: String,
}

/// How long a pooled connection may have been idle and still be reused
/// without a NOOP first. Servers close idle connections after minutes, not
/// a second; a NOOP before each message would be one more round trip per
/// message, a third of a digest's exchange with a local server and more
/// than that with a distant one.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// A pooled connection and since when it has been unused.
struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// What the server is offered for login, as lettre's own transports do.
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.inner.server)
            .finish()
    }
}

impl SmtpMailer {
    /// Sends bytes already formatted as a message (benchmarks feed the same
    /// rendered digest over and over).
    pub fn send_raw(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        self.inner.block_on(self.inner.send(envelope, raw))
    }

    /// Checks that the server answers (connects, says hello, logs in);
    /// for start-up checks and `mail test` commands.
    pub fn check(&self) -> Result<(), SendError> {
        let inner = &self.inner;
        inner.block_on(async {
            let (mut conn, _) = inner.connection().await?;
            match tokio::time::timeout(inner.timeout, conn.test_connected()).await {
                Ok(true) => {
                    inner.park(conn);
                    Ok(())
                }
                _ => {
                    inner.discard(conn);
                    Err(SendError::Temporary(format!(
                        "{} does not answer NOOP",
                        inner.server
                    )))
                }
            }
        })
    }
}

impl MailTransport for SmtpMailer {
    fn send(&self, message: &Rendered) -> Result<(), SendError> {
        self.send_raw(message.envelope(), message.formatted())
    }
}

impl Inner {
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the mailer")
    }

    /// Runs `future` on the mailer's runtime, from any number of threads at
    /// once. From inside some other tokio runtime (where blocking on one
    /// would panic) it blocks on a thread of its own.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime().block_on(future);
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime().block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// One message over a pooled or new connection; the connection goes
    /// back to the pool only if all went well.
    ///
    /// A connection reused without a NOOP may have been closed by the
    /// server meanwhile: if the exchange on it breaks without a reply from
    /// the server, or with 421 (the server is closing it), the message is
    /// tried once more on a new connection. Had the server taken the
    /// message before the break, it gets the same bytes again, as after
    /// any failure that is retried.
    async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let (conn, unchecked) = self.connection().await?;
        match self.exchange(conn, envelope, raw).await {
            Err((e, Some(status))) if unchecked && (status.is_none() || status == Some(421)) => {
                tracing::debug!(error = %e, "a reused connection broke; trying a new one");
                let conn = self.open().await?;
                self.exchange(conn, envelope, raw).await.map_err(|(e, _)| e)
            }
            outcome => outcome.map_err(|(e, _)| e),
        }
    }

    /// One message over `conn`, which goes back to the pool only if all
    /// went well. A failure comes with the server's reply code when the
    /// exchange ended with an error (`None` when no reply came: the
    /// connection broke), and without one when it timed out.
    async fn exchange(
        &self,
        mut conn: AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<(), (SendError, Option<Option<u16>>)> {
        match tokio::time::timeout(self.timeout, conn.send(envelope, raw)).await {
            Ok(Ok(_accepted)) => {
                self.park(conn);
                Ok(())
            }
            Ok(Err(e)) => {
                self.discard(conn);
                Err((classify(&e), Some(e.status().map(u16::from))))
            }
            Err(_) => {
                // Mid-exchange: nothing more can be said on it.
                drop(conn);
                Err((self.timed_out("sending a message"), None))
            }
        }
    }

    /// An idle connection, or else a new one; and whether it is reused
    /// without a check. One idle for [`TRUSTED_IDLE`] or longer must still
    /// answer NOOP (as lettre's pool checks before every reuse).
    async fn connection(&self) -> Result<(AsyncSmtpConnection, bool), SendError> {
        loop {
            let (reuse, expired) = {
                let mut idle = lock(&self.idle);
                let expired = take_expired(&mut idle, self.pool_idle);
                (idle.pop(), expired)
            };
            for parked in expired {
                self.discard(parked.conn);
            }
            let Some(Idle { mut conn, since }) = reuse else {
                return Ok((self.open().await?, false));
            };
            if since.elapsed() < TRUSTED_IDLE {
                return Ok((conn, true));
            }
            match tokio::time::timeout(self.timeout, conn.test_connected()).await {
                Ok(true) if !conn.has_broken() => return Ok((conn, false)),
                Ok(_) => self.discard(conn),
                Err(_) => drop(conn),
            }
        }
    }

    /// A new connection: TCP with `TCP_NODELAY`, TLS first for smtps://,
    /// greeting and EHLO, STARTTLS as asked, login when configured.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let tcp = self.connect_tcp().await?;
        tcp.set_nodelay(true).map_err(|e| {
            SendError::Temporary(format!("{}: cannot set TCP_NODELAY: {e}", self.server))
        })?;
        let handshake = async {
            let stream: Box<dyn AsyncTokioStream> = match (&self.tls, self.security) {
                (Some(tls), SmtpSecurity::ImplicitTls) => {
                    #[allow(deprecated)]
                    let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                    stream.upgrade_tls(tls.clone()).await?;
                    Box::new(TlsStream(stream))
                }
                _ => Box::new(tcp),
            };
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(stream, &self.hello_name).await?;
            match (&self.tls, self.security) {
                (Some(tls), SmtpSecurity::StartTlsRequired) => {
                    conn.starttls(tls.clone(), &self.hello_name).await?;
                }
                (Some(tls), SmtpSecurity::StartTlsOpportunistic) if conn.can_starttls() => {
                    conn.starttls(tls.clone(), &self.hello_name).await?;
                }
                _ => {}
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&MECHANISMS, credentials).await?;
            }
            Ok::<_, lettre::transport::smtp::Error>(conn)
        };
        match tokio::time::timeout(self.timeout, handshake).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_) => Err(self.timed_out("connecting")),
        }
    }

    /// The first address of the host that accepts a TCP connection, each
    /// tried for the timeout (as lettre does).
    async fn connect_tcp(&self) -> Result<tokio::net::TcpStream, SendError> {
        let failed = |what: &str, e: &dyn fmt::Display| {
            SendError::Temporary(format!("{}: {what}: {e}", self.server))
        };
        let addrs = tokio::time::timeout(
            self.timeout,
            tokio::net::lookup_host((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| self.timed_out("looking up the host"))?
        .map_err(|e| failed("cannot look up the host", &e))?;
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => last = Some(failed("cannot connect", &e)),
                Err(_) => last = Some(self.timed_out("connecting")),
            }
        }
        Err(last.unwrap_or_else(|| failed("cannot connect", &"the host has no address")))
    }

    fn timed_out(&self, doing: &str) -> SendError {
        SendError::Temporary(format!(
            "{}: no answer within {} s while {doing}",
            self.server,
            self.timeout.as_secs_f64()
        ))
    }

    /// Back to the pool after a message went through, or closed when the
    /// pool is full.
    fn park(&self, conn: AsyncSmtpConnection) {
        let mut idle = lock(&self.idle);
        if idle.len() < self.pool_max {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        } else {
            drop(idle);
            self.discard(conn);
        }
    }

    /// Says QUIT (unless the exchange broke) and closes, in the background.
    fn discard(&self, mut conn: AsyncSmtpConnection) {
        let timeout = self.timeout;
        self.runtime().spawn(async move {
            let _ = tokio::time::timeout(timeout, conn.abort()).await;
        });
    }
}

impl Drop for Inner {
    /// Says QUIT on the idle connections (briefly), as lettre's pool does
    /// when dropped, and stops the runtime without waiting for it.
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let idle = std::mem::take(&mut *lock(&self.idle));
        if !idle.is_empty() && tokio::runtime::Handle::try_current().is_err() {
            let quits: Vec<_> = idle
                .into_iter()
                .map(|mut parked| runtime.spawn(async move { parked.conn.abort().await }))
                .collect();
            let limit = self.timeout.min(Duration::from_secs(2));
            runtime.block_on(async {
                let _ = tokio::time::timeout(limit, async {
                    for quit in quits {
                        let _ = quit.await;
                    }
                })
                .await;
            });
        }
        runtime.shutdown_background();
    }
}

/// The pool's connections (poisoning aside: a panic elsewhere leaves the
/// list itself sound).
fn lock(idle: &Mutex<Vec<Idle>>) -> std::sync::MutexGuard<'_, Vec<Idle>> {
    idle.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes and returns the connections unused for `max_idle` or longer.
fn take_expired(idle: &mut Vec<Idle>, max_idle: Duration) -> Vec<Idle> {
    let (expired, kept) = std::mem::take(idle)
        .into_iter()
        .partition(|parked| parked.since.elapsed() >= max_idle);
    *idle = kept;
    expired
}

/// Closes (QUIT) connections unused for `max_idle`, looking every
/// `max_idle` (as lettre's pool does), until the mailer is gone.
async fn close_idle(
    idle: std::sync::Weak<Mutex<Vec<Idle>>>,
    max_idle: Duration,
    timeout: Duration,
) {
    loop {
        tokio::time::sleep(max_idle.max(Duration::from_secs(1))).await;
        let Some(idle) = idle.upgrade() else {
            return;
        };
        let expired = take_expired(&mut lock(&idle), max_idle);
        drop(idle);
        for mut parked in expired {
            let _ = tokio::time::timeout(timeout, parked.conn.quit()).await;
        }
    }
}

/// lettre's implicit-TLS stream (over our socket) as the tokio stream
/// [`AsyncSmtpConnection::connect_with_transport`] takes: lettre's streams
/// speak futures-io.
#[allow(deprecated)]
#[derive(Debug)]
struct TlsStream(AsyncNetworkStream);

impl tokio::io::AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let read =
            futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf.initialize_unfilled());
        read.map_ok(|n| buf.advance(n))
    }
}

impl tokio::io::AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
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
    fn extra_certificates() {
        let settings = SmtpSettings::from_url("smtps://mail.example.org?ca=/etc/relay/ca.pem");
        assert_eq!(
            settings.unwrap().ca,
            Some(std::path::PathBuf::from("/etc/relay/ca.pem"))
        );
        assert!(matches!(
            SmtpSettings::from_url("smtp://mail.example.org?ca=/etc/relay/ca.pem"),
            Err(SmtpUrlError::CaWithoutTls { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let not_pem = dir.path().join("key.txt");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        for (path, says) in [(&missing, "cannot read ca="), (&not_pem, "holds no PEM")] {
            let url = format!("smtp://h?tls=required&ca={}", path.display());
            let error = SmtpSettings::from_url(&url)
                .unwrap()
                .transport()
                .map(|_| ())
                .unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, SmtpUrlError::TlsSetup { .. }), "{text}");
            assert!(
                text.contains(says) && text.contains(&path.display().to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("smtp://u:p@h:25/x?y"), "smtp://u:***@h:25/x?y");
        assert_eq!(redact_url("smtp://u@h"), "smtp://u@h");
        assert_eq!(redact_url("smtp://h"), "smtp://h");
        assert_eq!(redact_url("smtp://u:p:q@r@h"), "smtp://u:***@h");
    }

    fn message() -> Rendered {
        lettre::Message::builder()
            .from("a@example.org".parse().unwrap())
            .to("b@example.org".parse().unwrap())
            .subject("hi")
            .body("hello".to_owned())
            .unwrap()
            .into()
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

    #[test]
    fn a_silent_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts and never says a word.
        std::thread::spawn(move || {
            let _held: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(5));
        });
        let mailer = SmtpSettings::from_url(&format!("smtp://127.0.0.1:{port}?timeout=1"))
            .unwrap()
            .transport()
            .unwrap();
        let started = Instant::now();
        match mailer.send(&message()) {
            Err(SendError::Temporary(text)) => {
                assert!(text.contains("no answer within 1 s"), "{text}")
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    /// An SMTP server that answers `RCPT TO` with `reply` and takes the
    /// message after `DATA`; counts the connections it accepts.
    fn test_server(reply: &'static str) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let (port, connections, _) = test_server_with(reply, false);
        (port, connections)
    }

    /// [`test_server`] that also logs the commands it gets (their verbs),
    /// and with `hang_up` closes the connection silently once it has
    /// taken a message, as a server that timed a connection out would.
    fn test_server_with(
        reply: &'static str,
        hang_up: bool,
    ) -> (
        u16,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<Mutex<Vec<String>>>,
    ) {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let commands = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&commands);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    writer.write_all(b"220 test ESMTP\r\n").unwrap();
                    let mut line = String::new();
                    let mut in_data = false;
                    while reader.read_line(&mut line).unwrap_or(0) > 0 {
                        let command = line.to_ascii_uppercase();
                        if !in_data {
                            let verb = command.split([' ', '\r']).next().unwrap_or_default();
                            log.lock().unwrap().push(verb.to_owned());
                        }
                        let answer = if in_data {
                            in_data = line != ".\r\n";
                            if !in_data && hang_up {
                                let _ = writer.write_all(b"250 queued\r\n");
                                return;
                            }
                            (!in_data).then(|| "250 queued\r\n".to_owned())
                        } else if command.starts_with("EHLO") {
                            Some("250 test\r\n".to_owned())
                        } else if command.starts_with("RCPT") {
                            Some(format!("{reply}\r\n"))
                        } else if command.starts_with("DATA") {
                            in_data = true;
                            Some("354 go ahead\r\n".to_owned())
                        } else if command.starts_with("QUIT") {
                            let _ = writer.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            Some("250 ok\r\n".to_owned())
                        };
                        if let Some(answer) = answer
                            && writer.write_all(answer.as_bytes()).is_err()
                        {
                            return;
                        }
                        line.clear();
                    }
                });
            }
        });
        (port, connections, commands)
    }

    #[test]
    fn messages_share_a_connection() {
        use std::sync::atomic::Ordering;
        let (port, connections) = test_server("250 ok");
        let mailer = local_mailer(port);
        mailer.send(&message()).unwrap();
        mailer.send(&message()).unwrap();
        mailer.check().unwrap();
        let raw = message();
        mailer.send_raw(raw.envelope(), raw.formatted()).unwrap();
        assert_eq!(connections.load(Ordering::SeqCst), 1);

        // Connections idle for `pool_idle` are not reused.
        let (port, connections) = test_server("250 ok");
        let mut settings =
            SmtpSettings::from_url(&format!("smtp://127.0.0.1:{port}?timeout=5")).unwrap();
        settings.pool_idle = Duration::ZERO;
        let mailer = settings.transport().unwrap();
        mailer.send(&message()).unwrap();
        mailer.send(&message()).unwrap();
        assert_eq!(connections.load(Ordering::SeqCst), 2);
    }

    /// A mailer for the test server on `port`.
    fn local_mailer(port: u16) -> SmtpMailer {
        SmtpSettings::from_url(&format!("smtp://127.0.0.1:{port}?timeout=5"))
            .unwrap()
            .transport()
            .unwrap()
    }

    /// The verbs of `commands` other than those of saying hello and
    /// goodbye.
    fn exchanges(commands: &Mutex<Vec<String>>) -> Vec<String> {
        let commands = commands.lock().unwrap();
        commands
            .iter()
            .filter(|verb| !matches!(verb.as_str(), "EHLO" | "QUIT"))
            .cloned()
            .collect()
    }

    #[test]
    fn a_connection_just_used_is_reused_without_noop() {
        use std::sync::atomic::Ordering;
        let (port, connections, commands) = test_server_with("250 ok", false);
        let mailer = local_mailer(port);
        mailer.send(&message()).unwrap();
        mailer.send(&message()).unwrap();
        let one = ["MAIL", "RCPT", "DATA"];
        assert_eq!(exchanges(&commands), one.repeat(2));
        // Idle for longer than a moment: asked first.
        std::thread::sleep(TRUSTED_IDLE + Duration::from_millis(100));
        mailer.send(&message()).unwrap();
        let mut expected = one.repeat(2);
        expected.push("NOOP");
        expected.extend(one);
        assert_eq!(exchanges(&commands), expected);
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_reused_connection_the_server_closed_is_replaced() {
        use std::sync::atomic::Ordering;
        // The server hangs up after every message: each reuse breaks, and
        // the message goes over a new connection instead.
        let (port, connections, commands) = test_server_with("250 ok", true);
        let mailer = local_mailer(port);
        for _ in 0..3 {
            mailer.send(&message()).unwrap();
        }
        assert_eq!(connections.load(Ordering::SeqCst), 3);
        let taken = exchanges(&commands)
            .iter()
            .filter(|verb| *verb == "DATA")
            .count();
        assert_eq!(taken, 3, "each message once");
        // After a pause the NOOP finds the connection gone: no retry needed.
        std::thread::sleep(TRUSTED_IDLE + Duration::from_millis(100));
        mailer.send(&message()).unwrap();
        assert_eq!(connections.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn replies_are_classified() {
        for (reply, permanent) in [
            ("550 5.1.1 <b@example.org>: user unknown", true),
            ("450 4.2.0 greylisted, try again", false),
            ("535 5.7.8 authentication failed", false),
        ] {
            let (port, _) = test_server(reply);
            let mailer = local_mailer(port);
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
