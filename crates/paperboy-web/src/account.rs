//! Account pages: sign-up, login, logout, settings (reading list, API
//! tokens) and the public user page; and [`create_user`], which the command
//! line's `paperboy user add` shares with sign-up.
//!
//! A failed login never says which part was wrong, and a login's `next`
//! only ever leads to a path on this site.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use paperboy_core::account::{normalize_email, validate_password, validate_username};
use paperboy_core::{NewUser, Paper, User};
use paperboy_store::{EntryQuery, ListOrder, Store};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Attempt, ClientIp, Credential, SignedIn, Viewer, local_path};
use crate::error::{PageError, WebError};
use crate::layout::{self, PaperCard, csrf_field, page};

/// The one answer to a failed login, whichever part was wrong.
pub const WRONG_LOGIN: &str = "Wrong username/email or password";

/// Longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 64;

/// Longest API token name, in characters.
const MAX_TOKEN_NAME_CHARS: usize = 64;

/// Submissions shown per page on a user page.
const SUBMISSIONS_PER_PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout_page).post(logout))
        .route("/settings", get(settings_page))
        .route("/settings/tokens", post(create_token))
        .route("/users/{username}", get(user_page))
}

/// A form's body could not be read: say so as a 400.
pub(crate) fn bad_form(rejection: FormRejection) -> WebError {
    WebError::bad_request(
        "bad_form",
        format!("The form could not be read: {}", rejection.body_text()),
    )
}

// --- creating users ----------------------------------------------------------

/// A sign-up that passed the rules, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ValidSignup {
    username: String,
    email: String,
    display_name: String,
}

/// Why a sign-up form was refused, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FieldErrors {
    username: Option<String>,
    email: Option<String>,
    display_name: Option<String>,
    password: Option<String>,
}

impl FieldErrors {
    fn is_empty(&self) -> bool {
        *self == FieldErrors::default()
    }

    /// The first problem, as one error (for callers without a form).
    fn into_web_error(self) -> WebError {
        let (code, message) = [
            ("bad_username", self.username),
            ("bad_email", self.email),
            ("bad_display_name", self.display_name),
            ("bad_password", self.password),
        ]
        .into_iter()
        .find_map(|(code, message)| message.map(|m| (code, m)))
        .unwrap_or(("bad_form", "The form could not be read.".into()));
        WebError::bad_request(code, message)
    }
}

fn validate_signup(
    username: &str,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<ValidSignup, FieldErrors> {
    let mut errors = FieldErrors::default();
    let username = username.trim();
    if let Err(err) = validate_username(username) {
        errors.username = Some(capitalise(&err.to_string()));
    }
    let email = normalize_email(email)
        .map_err(|err| errors.email = Some(capitalise(&err.to_string())))
        .ok();
    let display_name = match display_name.trim() {
        "" => username,
        name => name,
    };
    if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        errors.display_name = Some(format!(
            "A display name has at most {MAX_DISPLAY_NAME_CHARS} characters."
        ));
    } else if display_name.chars().any(char::is_control) {
        errors.display_name = Some("A display name cannot contain control characters.".into());
    }
    if let Err(err) = validate_password(password) {
        errors.password = Some(capitalise(&err.to_string()));
    }
    match email {
        Some(email) if errors.is_empty() => Ok(ValidSignup {
            username: username.to_string(),
            email,
            display_name: display_name.to_string(),
        }),
        _ => Err(errors),
    }
}

/// "a username has …" → "A username has ….", for messages shown alone.
fn capitalise(rule: &str) -> String {
    let mut chars = rule.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Creates an account: checks the rules, hashes the password (argon2id,
/// slow: call off the async threads) and stores the user. The first user of
/// an installation becomes an admin whatever `admin` says. Used by sign-up
/// and by `paperboy user add`.
pub fn create_user(
    store: &dyn Store,
    username: &str,
    email: &str,
    display_name: &str,
    password: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> Result<User, WebError> {
    let valid = validate_signup(username, email, display_name, password)
        .map_err(FieldErrors::into_web_error)?;
    let password_hash = auth::hash_password(password)?;
    let new = NewUser {
        username: valid.username,
        email: valid.email,
        display_name: valid.display_name,
        password_hash,
        admin,
    };
    Ok(store.create_user(&new, now)?)
}

// --- sign-up -----------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn signup_page(viewer: Viewer, Query(q): Query<NextQuery>) -> Markup {
    let form = SignupForm {
        next: q.next,
        ..SignupForm::default()
    };
    signup_view(&viewer, &form, &FieldErrors::default(), None)
}

fn signup_view(
    viewer: &Viewer,
    form: &SignupForm,
    errors: &FieldErrors,
    general: Option<&str>,
) -> Markup {
    let field_error =
        |e: &Option<String>| html! { @if let Some(e) = e { p.field-error role="alert" { (e) } } };
    let next = form.next.as_deref().and_then(local_path).unwrap_or("");
    page(
        "Sign up",
        viewer,
        html! {
            section.account-form {
                h1 { "Create an account" }
                @if let Some(user) = &viewer.user {
                    p.notice { "You are signed in as " a href={"/users/" (user.username)} { (user.username) } "." }
                }
                @if let Some(general) = general { p.form-error role="alert" { (general) } }
                form method="post" action="/signup" {
                    input type="hidden" name="next" value=(next);
                    label for="username" { "Username" }
                    input #username name="username" value=(form.username) required autocomplete="username"
                        minlength="2" maxlength="32" pattern="[A-Za-z0-9_\\-]+";
                    small { "2–32 letters, digits, '-' or '_'. Shown on your submissions and comments." }
                    (field_error(&errors.username))
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(form.email) required autocomplete="email";
                    small { "Never shown to others." }
                    (field_error(&errors.email))
                    label for="display_name" { "Display name " small { "(optional)" } }
                    input #display_name name="display_name" value=(form.display_name) maxlength="64" autocomplete="name";
                    (field_error(&errors.display_name))
                    label for="password" { "Password" }
                    input #password type="password" name="password" required minlength="10" autocomplete="new-password";
                    small { "At least 10 characters." }
                    (field_error(&errors.password))
                    button type="submit" { "Sign up" }
                }
                p { "Have an account? " a href=(auth::login_url(Some(next))) { "Log in" } }
            }
        },
    )
}

async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    viewer: Viewer,
    form: Result<Form<SignupForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    if let Err(errors) = validate_signup(
        &form.username,
        &form.email,
        &form.display_name,
        &form.password,
    ) {
        let view = signup_view(
            &viewer,
            &form,
            &errors,
            Some("Please fix the fields marked below."),
        );
        return Ok((StatusCode::BAD_REQUEST, view).into_response());
    }
    state
        .limits
        .hit(Attempt::SignupFromIp, &ip.to_string(), state.now())?;

    let now = state.now();
    let store = state.store.clone();
    let (username, email, display_name, password) = (
        form.username.clone(),
        form.email.clone(),
        form.display_name.clone(),
        form.password.clone(),
    );
    let created = tokio::task::spawn_blocking(move || {
        create_user(
            store.as_ref(),
            &username,
            &email,
            &display_name,
            &password,
            false,
            now,
        )
    })
    .await
    .map_err(WebError::from)?;
    let user = match created {
        Ok(user) => user,
        Err(err @ WebError::Conflict { code, .. }) => {
            let mut errors = FieldErrors::default();
            let message = match code {
                "username_taken" => "This username is taken; choose another.",
                "email_taken" => "An account with this email address exists; log in instead.",
                _ => return Err(err.into()),
            };
            *(if code == "username_taken" {
                &mut errors.username
            } else {
                &mut errors.email
            }) = Some(message.into());
            let view = signup_view(&viewer, &form, &errors, None);
            return Ok((StatusCode::CONFLICT, view).into_response());
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(user.id = user.id.0, "user signed up");
    let cookie = auth::start_session(&state, &user).await?;
    let next = form.next.as_deref().and_then(local_path).unwrap_or("/");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response())
}

// --- login and logout --------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    /// Username or email address.
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login_page(viewer: Viewer, Query(q): Query<NextQuery>) -> Markup {
    login_view(&viewer, "", q.next.as_deref(), None)
}

fn login_view(viewer: &Viewer, login: &str, next: Option<&str>, error: Option<&str>) -> Markup {
    let next = next.and_then(local_path).unwrap_or("");
    let signup_href = if next.is_empty() {
        "/signup".to_string()
    } else {
        format!("/signup?next={}", auth::query_escape(next))
    };
    page(
        "Log in",
        viewer,
        html! {
            section.account-form {
                h1 { "Log in" }
                @if let Some(user) = &viewer.user {
                    p.notice { "You are signed in as " a href={"/users/" (user.username)} { (user.username) } "." }
                }
                @if let Some(error) = error { p.form-error role="alert" { (error) } }
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    label for="login" { "Username or email" }
                    input #login name="login" value=(login) required autocomplete="username";
                    label for="password" { "Password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    button type="submit" { "Log in" }
                }
                p { "New here? " a href=(signup_href) { "Create an account" } }
            }
        },
    )
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    viewer: Viewer,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    let identifier = form.login.trim().to_string();
    if identifier.is_empty() || form.password.is_empty() {
        let view = login_view(
            &viewer,
            &identifier,
            form.next.as_deref(),
            Some("Enter your username or email and your password."),
        );
        return Ok((StatusCode::BAD_REQUEST, view).into_response());
    }
    let now = state.now();
    let ip_key = ip.to_string();
    state.limits.hit(Attempt::LoginFromIp, &ip_key, now)?;

    // Email addresses are stored normalised; usernames compare without case.
    let lookup = if identifier.contains('@') {
        normalize_email(&identifier).unwrap_or_else(|_| identifier.clone())
    } else {
        identifier.clone()
    };
    let found = state.read(move |s| s.user_for_login(&lookup)).await?;
    // Attempts at one account count together whether by username or email;
    // attempts at a name nobody has count the same way, so a limit does not
    // tell whether an account exists.
    let account_key = match &found {
        Some((user, _)) => format!("user:{}", user.id.0),
        None => format!("name:{}", lookup_key(&identifier)),
    };
    state
        .limits
        .hit(Attempt::LoginToAccount, &account_key, now)?;

    let (user, hash) = found.map_or((None, None), |(user, hash)| (Some(user), Some(hash)));
    let password_ok = auth::verify_password_blocking(form.password, hash).await?;
    let Some(user) = user.filter(|_| password_ok) else {
        let view = login_view(
            &viewer,
            &identifier,
            form.next.as_deref(),
            Some(WRONG_LOGIN),
        );
        return Ok((StatusCode::UNAUTHORIZED, view).into_response());
    };
    state.limits.forgive(Attempt::LoginFromIp, &ip_key, now);
    state
        .limits
        .forgive(Attempt::LoginToAccount, &account_key, now);
    tracing::info!(user.id = user.id.0, "user logged in");
    let cookie = auth::start_session(&state, &user).await?;
    let next = form.next.as_deref().and_then(local_path).unwrap_or("/");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response())
}

/// What failed attempts at a name nobody has count against.
fn lookup_key(identifier: &str) -> String {
    normalize_email(identifier).unwrap_or_else(|_| identifier.to_lowercase())
}

async fn logout_page(viewer: Viewer) -> Response {
    if !viewer.is_signed_in() {
        return Redirect::to("/").into_response();
    }
    page(
        "Log out",
        &viewer,
        html! {
            section.account-form {
                h1 { "Log out" }
                form method="post" action="/logout" {
                    (csrf_field(&viewer))
                    button type="submit" { "Log out" }
                }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    if let Credential::Session { token_hash, .. } = signed_in.credential {
        state.write(move |s| s.delete_session(&token_hash)).await?;
    }
    let cookie = auth::clear_session_cookie(state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

// --- settings ----------------------------------------------------------------

async fn settings_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Markup, PageError> {
    let user_id = signed_in.user.id;
    let saved = state.read(move |s| s.saved_papers(user_id)).await?;
    Ok(settings_view(&signed_in.viewer(), &saved, None))
}

/// A token just created, shown once.
struct NewToken {
    name: String,
    token: String,
}

fn settings_view(viewer: &Viewer, saved: &[Paper], new_token: Option<&NewToken>) -> Markup {
    let Some(user) = &viewer.user else {
        return html! {};
    };
    page(
        "Settings",
        viewer,
        html! {
            h1 { "Settings" }
            section.settings-account {
                h2 { "Account" }
                p {
                    "Signed in as " strong { (user.display_name) } " ("
                    a href={"/users/" (user.username)} { "@" (user.username) } ")"
                    @if user.is_admin { " · admin" }
                }
                p { "Email: " (user.email) }
                form method="post" action="/logout" {
                    (csrf_field(viewer))
                    button type="submit" { "Log out" }
                }
            }
            section.reading-list #reading-list {
                h2 { "Reading list" }
                @if saved.is_empty() {
                    p.empty { "Nothing saved yet. Use “Save” on a paper to keep it here." }
                } @else {
                    ol.papers {
                        @for paper in saved {
                            li {
                                a href={"/papers/" (paper.id)} { (paper.biblio.title) }
                                " "
                                small { (paper.id) }
                                form.inline method="post" action={"/papers/" (paper.id) "/save"} {
                                    (csrf_field(viewer))
                                    input type="hidden" name="saved" value="0";
                                    input type="hidden" name="return_to" value="/settings#reading-list";
                                    button type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
            section.api-tokens #api-tokens {
                h2 { "API tokens" }
                p {
                    "Scripts can upvote, comment and submit with a token, sent as "
                    code { "Authorization: Bearer pb_…" } "."
                }
                @if let Some(new) = new_token {
                    div.notice role="status" {
                        p { "Your new token “" (new.name) "” — copy it now, it will not be shown again:" }
                        pre { code.token { (new.token) } }
                    }
                }
                form method="post" action="/settings/tokens" {
                    (csrf_field(viewer))
                    label for="token-name" { "Name" }
                    input #token-name name="name" placeholder="my script" maxlength="64";
                    button type="submit" { "Create token" }
                }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let name = match form.name.trim() {
        "" => "token".to_string(),
        name if name.chars().count() > MAX_TOKEN_NAME_CHARS
            || name.chars().any(char::is_control) =>
        {
            return Err(WebError::bad_request(
                "bad_token_name",
                format!("A token name has at most {MAX_TOKEN_NAME_CHARS} characters and no control characters."),
            )
            .into());
        }
        name => name.to_string(),
    };
    let (token, hash) = auth::new_api_token()?;
    let (user_id, now, stored_name) = (signed_in.user.id, state.now(), name.clone());
    let saved = state
        .write(move |s| {
            s.create_api_token(user_id, &stored_name, &hash, now)?;
            s.saved_papers(user_id)
        })
        .await?;
    tracing::info!(user.id = user_id.0, "API token created");
    let view = settings_view(&signed_in.viewer(), &saved, Some(&NewToken { name, token }));
    // The token is in this page only: keep it out of caches.
    Ok(([(header::CACHE_CONTROL, "no-store")], view).into_response())
}

// --- user page ---------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    p: Option<String>,
}

async fn user_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Markup, PageError> {
    let page_no = match q.p.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|&p| p <= 100_000)
            .ok_or_else(|| WebError::bad_request("bad_page", "p is a page number: 0, 1, 2, …"))?,
    };
    let query = EntryQuery {
        from: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default(),
        to: NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
        submitter: Some(username.clone()),
        order: ListOrder::Published,
        offset: page_no.saturating_mul(SUBMISSIONS_PER_PAGE),
        limit: SUBMISSIONS_PER_PAGE,
    };
    let name = username.clone();
    let viewer_id = viewer.user.as_ref().map(|u| u.id);
    let (user, listed, upvoted, total, upvotes) = state
        .read(move |s| {
            let user = s.user_by_username(&name)?;
            let listed = s.entries(&query)?;
            let upvoted = match viewer_id {
                Some(viewer_id) => {
                    let ids: Vec<_> = listed.iter().map(|l| l.paper.id.clone()).collect();
                    s.upvoted_among(viewer_id, &ids)?
                }
                None => Vec::new(),
            };
            let total = s.count_entries(&query)?;
            // Upvotes received over all submissions, a chunk at a time.
            let mut upvotes = 0u64;
            let mut all = EntryQuery {
                offset: 0,
                limit: 1000,
                ..query
            };
            loop {
                let chunk = s.entries(&all)?;
                upvotes += chunk.iter().map(|l| u64::from(l.upvotes)).sum::<u64>();
                if (chunk.len() as u64) < all.limit {
                    break;
                }
                all.offset += all.limit;
            }
            Ok((user, listed, upvoted, total, upvotes))
        })
        .await?;
    if user.is_none() && total == 0 {
        return Err(WebError::not_found(
            "user_not_found",
            format!("There is no user called {username:?}."),
        )
        .into());
    }
    let shown_name = user
        .as_ref()
        .map_or(username.as_str(), |u| u.display_name.as_str());
    let pages = total.div_ceil(SUBMISSIONS_PER_PAGE);
    let cards: Vec<PaperCard<'_>> = listed
        .iter()
        .map(|l| PaperCard {
            upvoted: upvoted.contains(&l.paper.id),
            ..PaperCard::from_listed(l)
        })
        .collect();
    let return_to = if page_no == 0 {
        format!("/users/{username}")
    } else {
        format!("/users/{username}?p={page_no}")
    };
    Ok(page(
        &format!("{shown_name} (@{username})"),
        &viewer,
        html! {
            section.user-profile {
                h1 { (shown_name) " " small { "@" (user.as_ref().map_or(username.as_str(), |u| u.username.as_str())) } }
                @if let Some(user) = &user {
                    p { "Member since " (user.created_at.format("%Y-%m-%d")) @if user.is_admin { " · admin" } }
                }
                p.user-stats {
                    strong { (total) } @if total == 1 { " paper submitted" } @else { " papers submitted" }
                    " · " strong { (upvotes) } @if upvotes == 1 { " upvote" } @else { " upvotes" } " received"
                }
            }
            section.submissions {
                h2 { "Submissions" }
                @if total == 0 {
                    p.empty { "No submissions yet." }
                } @else if listed.is_empty() {
                    p.empty { "No submissions on this page. " a href={ "/users/" (username) } { "Back to the first page" } }
                } @else {
                    (layout::paper_list(&viewer, &cards, &return_to))
                }
                @if pages > 1 {
                    nav.pager {
                        @if page_no > 0 { a rel="prev" href={"/users/" (username) "?p=" (page_no - 1)} { "← Newer" } }
                        " page " (page_no + 1) " of " (pages) " "
                        @if page_no + 1 < pages { a rel="next" href={"/users/" (username) "?p=" (page_no + 1)} { "Older →" } }
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: (&str, &str, &str, &str), expect: Result<(&str, &str, &str), &[&str]>) {
        let got = validate_signup(input.0, input.1, input.2, input.3);
        match (got, expect) {
            (Ok(valid), Ok((u, e, d))) => {
                assert_eq!(
                    (
                        valid.username.as_str(),
                        valid.email.as_str(),
                        valid.display_name.as_str()
                    ),
                    (u, e, d)
                )
            }
            (Err(errors), Err(fields)) => {
                let present: Vec<&str> = [
                    ("username", &errors.username),
                    ("email", &errors.email),
                    ("display_name", &errors.display_name),
                    ("password", &errors.password),
                ]
                .into_iter()
                .filter_map(|(f, e)| e.as_ref().map(|_| f))
                .collect();
                assert_eq!(present, fields, "{input:?}");
            }
            (got, expect) => panic!("{input:?}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn signup_rules() {
        check(
            ("ada", " Ada@Example.org ", "", "long enough pass"),
            Ok(("ada", "ada@example.org", "ada")),
        );
        check(
            ("ada", "ada@example.org", " Ada L. ", "long enough pass"),
            Ok(("ada", "ada@example.org", "Ada L.")),
        );
        check(
            ("a", "ada@example.org", "", "long enough pass"),
            Err(&["username"]),
        );
        check(("ada", "nope", "", "short"), Err(&["email", "password"]));
        check(
            ("<b>", "x@y", &"n".repeat(65), "short"),
            Err(&["username", "email", "display_name", "password"]),
        );
        check(
            ("ada", "ada@example.org", "tab\there", "long enough pass"),
            Err(&["display_name"]),
        );
    }

    #[test]
    fn first_error_becomes_the_web_error() {
        let err = validate_signup("a", "nope", "", "long enough pass")
            .unwrap_err()
            .into_web_error();
        assert_eq!(err.code(), "bad_username");
        assert!(
            err.public_message().starts_with("A username has"),
            "{}",
            err.public_message()
        );
    }
}
