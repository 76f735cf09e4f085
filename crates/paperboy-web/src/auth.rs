//! Who is asking, and may they: passwords, sessions, CSRF, API tokens, rate
//! limits, and the extractors handlers use ([`Viewer`], [`SignedIn`],
//! [`ApiWriter`], [`ClientIp`]).
//!
//! Secrets never rest in the database in the clear: session cookies and API
//! tokens are stored as their SHA-256 hash, passwords as argon2id hashes.
//! Every write authenticated by the session cookie carries the session's CSRF
//! token (form field `csrf` or header `X-CSRF-Token`); API tokens sent as
//! `Authorization: Bearer pb_…` cannot be sent by a browser on its own, so
//! their requests need none. Nothing here logs a password, token or address.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use paperboy_core::User;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, PageError, WebError};

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "paperboy_session";
/// How long a session lives.
pub const SESSION_DAYS: i64 = 30;
/// The form field every cookie-authenticated form carries.
pub const CSRF_FIELD: &str = "csrf";
/// The header JSON writes authenticated by the session cookie carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// What every API token starts with, so that leaked tokens are recognisable.
pub const API_TOKEN_PREFIX: &str = "pb_";

// --- secrets -----------------------------------------------------------------

/// 32 random bytes as 64 lower-case hex digits.
pub fn random_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| WebError::Internal(format!("no randomness: {err}")))?;
    Ok(hex(&bytes))
}

/// A new API token and the hash to store. The token is shown to its owner
/// once and never again.
pub fn new_api_token() -> Result<(String, String), WebError> {
    let token = format!("{API_TOKEN_PREFIX}{}", random_token()?);
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// What the store keeps of a session or API token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Compares two secrets in time that depends only on their lengths.
pub fn secrets_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Hashes a password with argon2id (slow on purpose: call it off the async
/// threads, e.g. through [`hash_password_blocking`]).
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|err| WebError::Internal(format!("no randomness: {err}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|err| WebError::Internal(format!("salt: {err}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| WebError::Internal(format!("cannot hash a password: {err}")))
}

/// Whether `password` matches the stored argon2 `hash`. A malformed hash
/// matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(err) => {
            tracing::error!(error = %err, "a stored password hash cannot be parsed");
            false
        }
    }
}

/// [`hash_password`] on the blocking pool.
pub async fn hash_password_blocking(password: String) -> Result<String, WebError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// Checks a login password on the blocking pool. Without a stored hash
/// (unknown user) it still spends the time of a real check, so that timing
/// does not tell whether an account exists.
pub async fn verify_password_blocking(
    password: String,
    hash: Option<String>,
) -> Result<bool, WebError> {
    Ok(tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, &UNKNOWN_USER_HASH);
            false
        }
    })
    .await?)
}

/// A hash no password is known for, checked when the account does not exist.
static UNKNOWN_USER_HASH: LazyLock<String> = LazyLock::new(|| {
    let secret = random_token().unwrap_or_else(|_| "no randomness available here".into());
    hash_password(&secret).unwrap_or_default()
});

// --- sessions ----------------------------------------------------------------

/// A new session: the cookie token (sent once, to the browser) and the CSRF
/// token; the store keeps the token's hash.
pub async fn start_session(state: &AppState, user: &User) -> Result<HeaderValue, WebError> {
    let token = random_token()?;
    let csrf = random_token()?;
    let hash = token_hash(&token);
    let expires_at = state.now() + Duration::days(SESSION_DAYS);
    let user_id = user.id;
    state
        .write(move |s| s.create_session(user_id, &hash, &csrf, expires_at))
        .await?;
    session_cookie(&token, state.config.secure_cookies)
}

/// The `Set-Cookie` value that hands a session token to the browser.
pub fn session_cookie(token: &str, secure: bool) -> Result<HeaderValue, WebError> {
    let max_age = SESSION_DAYS * 24 * 60 * 60;
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .map_err(|err| WebError::Internal(format!("bad cookie: {err}")))
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("paperboy_session=; Path=/; Max-Age=0"))
}

/// The session token in the request's cookies, if any.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"'))
}

/// The token of an `Authorization: Bearer …` header: `Some(Err)` when the
/// header is there but is not a bearer token.
fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let value = value.to_str().map_err(|_| ());
    Some(value.and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ').ok_or(())?;
        (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
            .then(|| token.trim())
            .ok_or(())
    }))
}

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The session cookie; cookie-authenticated writes must carry `csrf_token`.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// An API token (`Authorization: Bearer pb_…`): no CSRF needed.
    ApiToken,
}

/// What a request's credentials resolved to, cached in the request's
/// extensions so that several extractors look it up once.
#[derive(Debug, Clone)]
enum Resolved {
    Anonymous,
    /// A bearer header that names no token: an error for writes, anonymous
    /// for pages.
    BadBearer,
    User(Box<User>, Credential),
}

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Resolved, WebError> {
    if let Some(resolved) = parts.extensions.get::<Resolved>() {
        return Ok(resolved.clone());
    }
    let resolved = match bearer_token(&parts.headers) {
        Some(Ok(token)) if token.starts_with(API_TOKEN_PREFIX) => {
            let hash = token_hash(token);
            match state.read(move |s| s.user_for_api_token(&hash)).await? {
                Some(user) => Resolved::User(Box::new(user), Credential::ApiToken),
                None => Resolved::BadBearer,
            }
        }
        Some(_) => Resolved::BadBearer,
        None => match session_token(&parts.headers) {
            Some(token) => {
                let token_hash = token_hash(token);
                let now = state.now();
                let lookup = token_hash.clone();
                match state.read(move |s| s.session(&lookup, now)).await? {
                    Some(session) => Resolved::User(
                        Box::new(session.user),
                        Credential::Session {
                            token_hash,
                            csrf_token: session.csrf_token,
                        },
                    ),
                    None => Resolved::Anonymous,
                }
            }
            None => Resolved::Anonymous,
        },
    };
    parts.extensions.insert(resolved.clone());
    Ok(resolved)
}

// --- extractors --------------------------------------------------------------

/// Who is looking at a page: a signed-in user (with the CSRF token their
/// forms must carry) or nobody. An axum extractor; never fails: a missing,
/// expired or unknown session is simply nobody.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user: Option<User>,
    pub csrf_token: Option<String>,
}

impl Viewer {
    pub fn is_signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }

    /// The CSRF token for a form's hidden `csrf` field ("" when signed out).
    pub fn csrf(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, Infallible> {
        match resolve(parts, state).await {
            Ok(Resolved::User(user, credential)) => {
                let csrf_token = match credential {
                    Credential::Session { csrf_token, .. } => Some(csrf_token),
                    Credential::ApiToken => None,
                };
                Ok(Viewer {
                    user: Some(*user),
                    csrf_token,
                })
            }
            Ok(Resolved::Anonymous | Resolved::BadBearer) => Ok(Viewer::default()),
            Err(err) => {
                // A page still renders for nobody; the failure is logged here, once.
                tracing::error!(error = %err, "cannot look up the session; treating the request as signed out");
                Ok(Viewer::default())
            }
        }
    }
}

/// A signed-in user, by session cookie or API token. Rejects with
/// [`WebError::Unauthorized`]: a 401 JSON error under `/api/`, a redirect to
/// `/login?next=…` for pages.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub credential: Credential,
}

impl SignedIn {
    /// Checks a form's CSRF token; requests authenticated by an API token
    /// need none.
    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        match &self.credential {
            Credential::Session { csrf_token, .. } if !secrets_match(csrf_token, given) => {
                Err(WebError::Csrf)
            }
            _ => Ok(()),
        }
    }

    /// The viewer this user is, for rendering.
    pub fn viewer(&self) -> Viewer {
        let csrf_token = match &self.credential {
            Credential::Session { csrf_token, .. } => Some(csrf_token.clone()),
            Credential::ApiToken => None,
        };
        Viewer {
            user: Some(self.user.clone()),
            csrf_token,
        }
    }
}

/// Why [`SignedIn`] or [`ApiWriter`] refused a request.
#[derive(Debug)]
pub struct AuthRejection {
    error: WebError,
    api: bool,
    /// Where to come back to after signing in (pages, GET only).
    next: Option<String>,
}

impl AuthRejection {
    fn new(parts: &Parts, error: WebError) -> AuthRejection {
        let path = parts.uri.path();
        let api = path == "/api" || path.starts_with("/api/");
        let next = (parts.method == Method::GET)
            .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_string()))
            .flatten();
        AuthRejection { error, api, next }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match (self.api, &self.error) {
            (true, _) => ApiError(self.error).into_response(),
            (false, WebError::Unauthorized) => {
                Redirect::to(&login_url(self.next.as_deref())).into_response()
            }
            (false, _) => PageError(self.error).into_response(),
        }
    }
}

/// `/login`, with `next` when it is a local path.
pub fn login_url(next: Option<&str>) -> String {
    match next.and_then(local_path) {
        Some(next) if next != "/" => format!("/login?next={}", query_escape(next)),
        _ => "/login".to_string(),
    }
}

/// Percent-encodes a query parameter value.
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `target` when it is a path on this site (`/…`, not `//host` or `/\host`),
/// for redirects that must not leave it.
pub fn local_path(target: &str) -> Option<&str> {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && !target.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(target)
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<SignedIn, AuthRejection> {
        match resolve(parts, state).await {
            Ok(Resolved::User(user, credential)) => Ok(SignedIn {
                user: *user,
                credential,
            }),
            Ok(Resolved::Anonymous | Resolved::BadBearer) => {
                Err(AuthRejection::new(parts, WebError::Unauthorized))
            }
            Err(err) => Err(AuthRejection::new(parts, err)),
        }
    }
}

/// A signed-in user allowed to write through the JSON API: by API token, or
/// by session cookie with the session's CSRF token in `X-CSRF-Token`.
/// Rejections are JSON errors.
#[derive(Debug, Clone)]
pub struct ApiWriter(pub SignedIn);

impl FromRequestParts<AppState> for ApiWriter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ApiWriter, ApiError> {
        let signed_in = match resolve(parts, state).await? {
            Resolved::User(user, credential) => SignedIn {
                user: *user,
                credential,
            },
            Resolved::Anonymous | Resolved::BadBearer => {
                return Err(ApiError(WebError::Unauthorized));
            }
        };
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        signed_in.check_csrf(given)?;
        Ok(ApiWriter(signed_in))
    }
}

/// The client's address: the socket's peer, or, when `trust_proxy` is set,
/// the address the proxy put last in `X-Forwarded-For`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientIp, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(client_ip(
            &parts.headers,
            peer,
            state.config.trust_proxy,
        )))
    }
}

/// The client's address: the last `X-Forwarded-For` entry when the proxy
/// is trusted (the one it appended; earlier ones are whatever the client
/// sent), else the socket's peer; `0.0.0.0` when neither is known.
fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trust_proxy: bool) -> IpAddr {
    let forwarded = || {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()?;
        last.trim().parse::<IpAddr>().ok()
    };
    trust_proxy
        .then(forwarded)
        .flatten()
        .or(peer)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

// --- rate limits -------------------------------------------------------------

/// At most `max` attempts in any `window_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

/// The limits [`RateLimits`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRules {
    /// Failed logins from one client address.
    pub login_per_ip: Limit,
    /// Failed logins to one account (or one unknown name).
    pub login_per_account: Limit,
    /// Sign-ups from one client address.
    pub signup_per_ip: Limit,
    /// Subscription requests (`/subscribe`) from one client address.
    pub subscribe_per_ip: Limit,
    /// Subscription requests for one email address, from anywhere (each
    /// may mail a confirmation: this keeps the site from being used to
    /// flood an inbox; the store's durable count of confirmation mails is
    /// the second line).
    pub subscribe_per_address: Limit,
}

impl Default for RateRules {
    fn default() -> RateRules {
        RateRules {
            login_per_ip: Limit {
                max: 10,
                window_secs: 5 * 60,
            },
            login_per_account: Limit {
                max: 5,
                window_secs: 15 * 60,
            },
            signup_per_ip: Limit {
                max: 10,
                window_secs: 60 * 60,
            },
            subscribe_per_ip: Limit {
                max: 10,
                window_secs: 60 * 60,
            },
            subscribe_per_address: Limit {
                max: 3,
                window_secs: 60 * 60,
            },
        }
    }
}

/// What an attempt is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    LoginFromIp,
    LoginToAccount,
    SignupFromIp,
    SubscribeFromIp,
    SubscribeToAddress,
}

impl Attempt {
    /// The kind the store counts it under.
    pub fn as_str(self) -> &'static str {
        match self {
            Attempt::LoginFromIp => "login-ip",
            Attempt::LoginToAccount => "login-account",
            Attempt::SignupFromIp => "signup-ip",
            Attempt::SubscribeFromIp => "subscribe-ip",
            Attempt::SubscribeToAddress => "subscribe-address",
        }
    }
}

/// Login, sign-up and subscription attempt limits per client address, per
/// account and per email address: sliding windows of attempts kept in the
/// store ([`paperboy_store::Limits`]), so that every node behind a load
/// balancer counts the same attempts and a restart forgets none. What an
/// attempt is counted against is stored only as its SHA-256.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimits {
    rules: RateRules,
}

impl RateLimits {
    pub fn new(rules: RateRules) -> RateLimits {
        RateLimits { rules }
    }

    pub fn rules(&self) -> RateRules {
        self.rules
    }

    fn limit(&self, attempt: Attempt) -> Limit {
        match attempt {
            Attempt::LoginFromIp => self.rules.login_per_ip,
            Attempt::LoginToAccount => self.rules.login_per_account,
            Attempt::SignupFromIp => self.rules.signup_per_ip,
            Attempt::SubscribeFromIp => self.rules.subscribe_per_ip,
            Attempt::SubscribeToAddress => self.rules.subscribe_per_address,
        }
    }
}

impl AppState {
    /// Counts an attempt against `key` at `now`, or refuses it with
    /// [`WebError::RateLimited`] (not counted) when its window is full.
    /// Checking and counting is one step in the store, so concurrent
    /// attempts, on any node, cannot slip past the limit together.
    pub async fn hit_limit(
        &self,
        attempt: Attempt,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebError> {
        let limit = self.limits.limit(attempt);
        let window = Duration::seconds(limit.window_secs);
        let key = token_hash(key);
        let refused = self
            .read(move |s| s.hit_limit(attempt.as_str(), &key, now, window, limit.max))
            .await?;
        match refused {
            None => Ok(()),
            Some(free_at) => Err(WebError::RateLimited {
                retry_after_secs: retry_after_secs(free_at, now),
            }),
        }
    }

    /// Takes back an attempt counted at `at` (a login that succeeded).
    pub async fn forgive(
        &self,
        attempt: Attempt,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<(), WebError> {
        let key = token_hash(key);
        self.read(move |s| s.forget_hit(attempt.as_str(), &key, at))
            .await
    }
}

/// Whole seconds from `now` until `free_at`, rounded up, at least 1: what
/// a refused client is told to wait (`Retry-After`).
fn retry_after_secs(free_at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let wait = (free_at - now).num_milliseconds().max(0);
    u64::try_from((wait + 999) / 1000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        for (free_in_millis, expected) in
            [(30_000, 30), (1, 1), (999, 1), (1_001, 2), (0, 1), (-5, 1)]
        {
            assert_eq!(
                retry_after_secs(t(0) + Duration::milliseconds(free_in_millis), t(0)),
                expected,
                "{free_in_millis} ms"
            );
        }
    }

    #[test]
    fn attempts_are_counted_under_distinct_kinds() {
        let kinds: std::collections::HashSet<&str> = [
            Attempt::LoginFromIp,
            Attempt::LoginToAccount,
            Attempt::SignupFromIp,
            Attempt::SubscribeFromIp,
            Attempt::SubscribeToAddress,
        ]
        .map(Attempt::as_str)
        .into();
        assert_eq!(kinds.len(), 5);
    }

    #[test]
    fn secrets_compare() {
        let table = [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("abc", "ab", false),
            ("abc", "abcd", false),
            ("", "", false),
            ("abc", "", false),
            ("0123456789abcdef", "0123456789abcdef", true),
        ];
        for (expected, given, ok) in table {
            assert_eq!(
                secrets_match(expected, given),
                ok,
                "{expected:?} vs {given:?}"
            );
        }
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (token, hash) = new_api_token().unwrap();
        assert!(token.starts_with("pb_"));
        assert_eq!(token_hash(&token), hash);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn local_paths_only() {
        let table = [
            ("/papers/2305.03048", true),
            ("/", true),
            ("/settings?x=1", true),
            ("//evil.example", false),
            ("/\\evil.example", false),
            ("https://evil.example", false),
            ("evil", false),
            ("", false),
            ("/a\nb", false),
        ];
        for (path, ok) in table {
            assert_eq!(local_path(path).is_some(), ok, "{path:?}");
        }
        assert_eq!(
            login_url(Some("/papers/hep-th/9901001")),
            "/login?next=/papers/hep-th/9901001"
        );
        assert_eq!(
            login_url(Some("/search?q=a b")),
            "/login?next=/search%3Fq%3Da%20b"
        );
        assert_eq!(login_url(Some("//evil.example")), "/login");
    }

    #[test]
    fn client_addresses() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(client_ip(&headers, Some(peer), true), peer);
        assert_eq!(
            client_ip(&headers, None, false),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4"),
        );
        assert_eq!(
            client_ip(&headers, Some(peer), false),
            peer,
            "untrusted: ignored"
        );
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("2001:db8::1"));
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            peer,
            "no spoofed earlier entry"
        );
    }

    #[test]
    fn cookies_and_bearer_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; paperboy_session=abc123"),
        );
        assert_eq!(session_token(&headers), Some("abc123"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer pb_xyz"),
        );
        assert_eq!(bearer_token(&headers), Some(Ok("pb_xyz")));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), Some(Err(())));
        let cookie = session_cookie("tok", true).unwrap();
        let cookie = cookie.to_str().unwrap();
        for part in [
            "paperboy_session=tok",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=2592000",
        ] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
        assert!(
            !session_cookie("tok", false)
                .unwrap()
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
