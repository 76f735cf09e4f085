//! Account pages: sign-up, login, logout, settings (papers by mail,
//! saved-search alerts, reading list, API tokens) and the public user page; and [`create_user`], which the command
//! line's `paperboy user add` shares with sign-up.
//!
//! A failed login never says which part was wrong, and a login's `next`
//! only ever leads to a path on this site.

use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use paperboy_core::account::{normalize_email, validate_password, validate_username};
use paperboy_core::{Cadence, NewUser, Paper, SavedSearchId, User, UserId};
use paperboy_store::{
    AlertDelivery, EntryQuery, ListOrder, NewSavedSearch, SavedSearch, Store, StoreError,
    Subscription, SubscriptionStatus,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Attempt, ClientIp, Credential, SignedIn, Viewer, local_path};
use crate::error::{PageError, WebError};
use crate::layout::{self, PaperCard, csrf_field, page};
use crate::subscribe::{self, FormErrors, SubscribeForm};

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
        .route("/settings/subscription", post(update_subscription))
        .route(
            "/settings/subscription/unsubscribe",
            post(unsubscribe_settings),
        )
        .route("/settings/saved-searches", post(save_search))
        .route("/settings/saved-searches/{id}/delete", post(delete_search))
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
pub(crate) fn capitalise(rule: &str) -> String {
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
        .hit_limit(Attempt::SignupFromIp, &ip.to_string(), state.now())
        .await?;

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
    state.hit_limit(Attempt::LoginFromIp, &ip_key, now).await?;

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
        .hit_limit(Attempt::LoginToAccount, &account_key, now)
        .await?;

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
    state.forgive(Attempt::LoginFromIp, &ip_key, now).await?;
    state
        .forgive(Attempt::LoginToAccount, &account_key, now)
        .await?;
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

/// What the settings page shows.
struct SettingsData {
    /// The reading list.
    saved: Vec<Paper>,
    /// The mail subscription made from this account, if any.
    subscription: Option<Subscription>,
    searches: Vec<SavedSearch>,
}

fn load_settings(store: &dyn Store, user: UserId) -> Result<SettingsData, StoreError> {
    Ok(SettingsData {
        saved: store.saved_papers(user)?,
        subscription: store.subscription_of_user(user)?,
        searches: store.saved_searches_of(user)?,
    })
}

impl SettingsData {
    /// The subscription when it is confirmed (alerts go only there).
    fn active(&self) -> Option<&Subscription> {
        self.subscription
            .as_ref()
            .filter(|s| s.status == SubscriptionStatus::Active)
    }
}

/// What the settings page's forms show besides the stored settings: a
/// token just created, forms coming back with their errors, a saved search
/// to fill in (from the search page's "Save this search as an alert").
#[derive(Default)]
struct SettingsForms {
    new_token: Option<NewToken>,
    schedule: Option<(SubscribeForm, FormErrors)>,
    alert: AlertForm,
    alert_errors: AlertErrors,
}

#[derive(Debug, Default, Deserialize)]
struct SettingsQuery {
    /// A saved search to fill in.
    alert_q: Option<String>,
    alert_min_upvotes: Option<String>,
}

async fn settings_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<SettingsQuery>, QueryRejection>,
) -> Result<Markup, PageError> {
    let Query(query) = query.map_err(crate::browse::bad_query)?;
    let user_id = signed_in.user.id;
    let data = state.read(move |s| load_settings(s, user_id)).await?;
    let forms = SettingsForms {
        alert: AlertForm {
            query: query.alert_q.unwrap_or_default(),
            min_upvotes: query.alert_min_upvotes.unwrap_or_default(),
            ..AlertForm::default()
        },
        ..SettingsForms::default()
    };
    Ok(settings_view(&signed_in.viewer(), &data, &forms))
}

/// The settings page again, with a form's errors, as `status`.
async fn settings_again(
    state: &AppState,
    signed_in: &SignedIn,
    forms: SettingsForms,
    status: StatusCode,
) -> Result<Response, PageError> {
    let user_id = signed_in.user.id;
    let data = state.read(move |s| load_settings(s, user_id)).await?;
    Ok((status, settings_view(&signed_in.viewer(), &data, &forms)).into_response())
}

/// A token just created, shown once.
struct NewToken {
    name: String,
    token: String,
}

fn settings_view(viewer: &Viewer, data: &SettingsData, forms: &SettingsForms) -> Markup {
    let Some(user) = &viewer.user else {
        return html! {};
    };
    let saved = &data.saved;
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
            (subscription_section(viewer, user, data, forms))
            (saved_searches_section(viewer, data, forms))
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
                @if let Some(new) = &forms.new_token {
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

/// Papers by mail: the subscription's state, and the form that fits it
/// (subscribe, send the link again, or change the schedule).
fn subscription_section(
    viewer: &Viewer,
    user: &User,
    data: &SettingsData,
    forms: &SettingsForms,
) -> Markup {
    let no_errors = FormErrors::default();
    let (form, errors) = match &forms.schedule {
        Some((form, errors)) => (form.clone(), errors),
        None => match &data.subscription {
            Some(sub) if sub.status != SubscriptionStatus::Unsubscribed => {
                (SubscribeForm::of(sub), &no_errors)
            }
            _ => (SubscribeForm::fresh(&user.email), &no_errors),
        },
    };
    let alerts = !data.searches.is_empty();
    html! {
        section.subscription.account-form #subscription {
            h2 { "Papers by mail" }
            @match &data.subscription {
                Some(sub) if sub.status == SubscriptionStatus::Active => {
                    p { (subscribe::describe(sub)) ", to " strong { (sub.email) } "." }
                    @if let Some(next) = subscribe::next_digest_label(sub) {
                        p.muted { "Next digest: " (next) }
                    }
                    form method="post" action="/settings/subscription" {
                        (csrf_field(viewer))
                        (subscribe::schedule_fields(&form, errors, alerts))
                        button type="submit" { "Save changes" }
                    }
                    form method="post" action="/settings/subscription/unsubscribe" {
                        (csrf_field(viewer))
                        button type="submit" { "Unsubscribe" }
                    }
                }
                Some(sub) if sub.status == SubscriptionStatus::Pending => {
                    p.notice role="status" {
                        "Waiting for confirmation: we sent a link to " strong { (sub.email) } ". "
                        "Nothing is sent until you use it."
                    }
                    p { "Did not get it? Send it again:" }
                    (subscribe::subscribe_form(viewer, &form, errors, alerts, "Send the link again"))
                }
                Some(sub) if sub.status == SubscriptionStatus::Paused => {
                    p.notice role="status" {
                        "Paused: mail to " strong { (sub.email) } " could not be delivered several times in a row. "
                        "Subscribe again to get a new confirmation link."
                    }
                    (subscribe::subscribe_form(viewer, &form, errors, alerts, "Subscribe again"))
                }
                _ => {
                    p { (subscribe::HEADLINE) ": the most upvoted papers, daily or weekly, at the hour you choose." }
                    (subscribe::subscribe_form(viewer, &form, errors, alerts, "Subscribe"))
                }
            }
        }
    }
}

fn saved_searches_section(viewer: &Viewer, data: &SettingsData, forms: &SettingsForms) -> Markup {
    let form = &forms.alert;
    let errors = &forms.alert_errors;
    let delivery = match form.delivery.trim() {
        "" => AlertDelivery::Immediate.as_str(),
        other => other,
    };
    let field_error =
        |e: &Option<String>| html! { @if let Some(e) = e { p.field-error role="alert" { (e) } } };
    html! {
        section.saved-searches #saved-searches {
            h2 { "Saved-search alerts" }
            p { "New papers that match a search, by mail: as soon as they appear, or in your digest." }
            @if data.active().is_none() {
                p.notice role="status" {
                    "Alerts are mailed to a confirmed subscription, and you have none yet: "
                    a href="#subscription" { "subscribe above" } " first."
                }
            }
            @if data.searches.is_empty() {
                p.empty { "No saved searches yet." }
            } @else {
                ul.saved-search-list {
                    @for search in &data.searches {
                        li {
                            a href={ "/search?q=" (auth::query_escape(&search.query)) } { code { (search.query) } }
                            @if search.min_upvotes > 0 { " · at least " (search.min_upvotes) " upvotes" }
                            @if !search.exclude.is_empty() { " · without " (search.exclude.join(", ")) }
                            " · "
                            (match search.delivery {
                                AlertDelivery::Immediate => "mailed as they appear",
                                AlertDelivery::Digest => "in the digest",
                            })
                            " "
                            form.inline method="post" action={ "/settings/saved-searches/" (search.id.0) "/delete" } {
                                (csrf_field(viewer))
                                button type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
            div.account-form {
                @if let Some(general) = &errors.general { p.form-error role="alert" { (general) } }
                form method="post" action="/settings/saved-searches" {
                    (csrf_field(viewer))
                    label for="alert-query" { "Search" }
                    input #alert-query name="query" value=(form.query) required maxlength=(MAX_ALERT_QUERY_CHARS)
                        placeholder="e.g. ti:mamba au:gu \"state space\" -vision";
                    small { "As on the search page: " code { "ti:" } ", " code { "au:" } ", " code { "abs:" } ", " code { "cat:" } ", \"phrases\", " code { "-word" } "." }
                    (field_error(&errors.query))
                    label for="alert-min-upvotes" { "At least this many upvotes " small { "(optional)" } }
                    input #alert-min-upvotes type="number" name="min_upvotes" min="0" value=(form.min_upvotes);
                    (field_error(&errors.min_upvotes))
                    label for="alert-exclude" { "Leave out papers with these words " small { "(optional)" } }
                    input #alert-exclude name="exclude" value=(form.exclude) placeholder="survey, benchmark";
                    (field_error(&errors.exclude))
                    label for="alert-delivery" { "Delivery" }
                    select #alert-delivery name="delivery" {
                        option value="immediate" selected[delivery == "immediate"] { "A mail of their own, as they appear" }
                        option value="digest" selected[delivery == "digest"] { "In my digest" }
                    }
                    (field_error(&errors.delivery))
                    button type="submit" { "Save alert" }
                }
            }
        }
    }
}

/// Changes the schedule of the account's confirmed subscription.
async fn update_subscription(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<SubscribeForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let (schedule, papers) = match subscribe::validate_schedule(&form, true) {
        Ok(valid) => valid,
        Err(errors) => {
            let forms = SettingsForms {
                schedule: Some((form, errors)),
                ..SettingsForms::default()
            };
            return settings_again(&state, &signed_in, forms, StatusCode::BAD_REQUEST).await;
        }
    };
    let (user_id, now) = (signed_in.user.id, state.now());
    let updated = state
        .write(move |s| match s.subscription_of_user(user_id)? {
            Some(sub) if sub.status == SubscriptionStatus::Active => s
                .update_subscription(sub.id, &schedule, papers, now)
                .map(Some),
            _ => Ok(None),
        })
        .await?;
    let Some(updated) = updated else {
        return Err(WebError::Conflict {
            code: "subscription_not_active",
            message: "You have no confirmed subscription to change; subscribe first, then use the link in the mail.".into(),
        }
        .into());
    };
    tracing::info!(
        user.id = user_id.0,
        subscription.id = updated.id.0,
        "subscription changed"
    );
    Ok(Redirect::to("/settings#subscription").into_response())
}

/// Unsubscribes the account's subscription (the settings page's button).
async fn unsubscribe_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let (user_id, now) = (signed_in.user.id, state.now());
    let left = state
        .write(move |s| match s.subscription_of_user(user_id)? {
            Some(sub) if sub.status != SubscriptionStatus::Unsubscribed => Ok(s
                .unsubscribe(&sub.unsubscribe_token, now)?
                .map(|sub| sub.id)),
            _ => Ok(None),
        })
        .await?;
    if let Some(id) = left {
        tracing::info!(user.id = user_id.0, subscription.id = id.0, "unsubscribed");
    }
    Ok(Redirect::to("/settings#subscription").into_response())
}

/// Longest saved-search query, in characters.
pub const MAX_ALERT_QUERY_CHARS: usize = 500;

/// Most words a saved search may leave out, and their longest length.
const MAX_EXCLUDED_WORDS: usize = 20;
const MAX_EXCLUDED_WORD_CHARS: usize = 60;

/// Most saved searches one account keeps.
pub const MAX_SAVED_SEARCHES: usize = 50;

#[derive(Debug, Default, Clone, Deserialize)]
struct AlertForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    min_upvotes: String,
    /// Words separated by commas or spaces.
    #[serde(default)]
    exclude: String,
    /// `immediate` or `digest`.
    #[serde(default)]
    delivery: String,
}

/// Why a saved search was refused, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AlertErrors {
    query: Option<String>,
    min_upvotes: Option<String>,
    exclude: Option<String>,
    delivery: Option<String>,
    /// Not about one field (too many saved searches).
    general: Option<String>,
}

impl AlertErrors {
    fn is_empty(&self) -> bool {
        *self == AlertErrors::default()
    }
}

/// Checks a saved search of `user`, who has `saved` of them and
/// `subscription` (a search folded into the digest needs one that sends
/// digests).
fn validate_alert(
    form: &AlertForm,
    user: UserId,
    saved: usize,
    subscription: Option<&Subscription>,
) -> Result<NewSavedSearch, AlertErrors> {
    let mut errors = AlertErrors::default();
    let query = form.query.trim();
    if query.is_empty() {
        errors.query = Some("Type what to look for, as you would on the search page.".into());
    } else if query.chars().count() > MAX_ALERT_QUERY_CHARS {
        errors.query = Some(format!(
            "A saved search has at most {MAX_ALERT_QUERY_CHARS} characters."
        ));
    } else if query.chars().any(char::is_control) {
        errors.query = Some("A saved search cannot contain control characters.".into());
    }
    let min_upvotes = match form.min_upvotes.trim() {
        "" => 0,
        raw => raw.parse::<u32>().unwrap_or_else(|_| {
            errors.min_upvotes = Some(format!(
                "The upvote minimum is a whole number, 0 or more, not {:?}.",
                raw.chars().take(20).collect::<String>()
            ));
            0
        }),
    };
    let mut exclude: Vec<String> = Vec::new();
    for word in form
        .exclude
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|w| w.trim_start_matches('-'))
        .filter(|w| !w.is_empty())
    {
        if !exclude.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            exclude.push(word.to_string());
        }
    }
    if exclude.len() > MAX_EXCLUDED_WORDS
        || exclude
            .iter()
            .any(|w| w.chars().count() > MAX_EXCLUDED_WORD_CHARS || w.chars().any(char::is_control))
    {
        errors.exclude = Some(format!(
            "Leave out at most {MAX_EXCLUDED_WORDS} words of up to {MAX_EXCLUDED_WORD_CHARS} characters, separated by commas or spaces."
        ));
    }
    let delivery = match form.delivery.trim() {
        "" | "immediate" => AlertDelivery::Immediate,
        "digest" => AlertDelivery::Digest,
        other => {
            errors.delivery = Some(format!(
                "Delivery is immediate or digest, not {:?}.",
                other.chars().take(20).collect::<String>()
            ));
            AlertDelivery::Immediate
        }
    };
    if delivery == AlertDelivery::Digest
        && subscription.is_some_and(|s| {
            s.status == SubscriptionStatus::Active && s.schedule.cadence == Cadence::AlertsOnly
        })
    {
        errors.delivery = Some(
            "You get no digest (alerts only): choose “a mail of their own”, or a daily or weekly digest above."
                .into(),
        );
    }
    if saved >= MAX_SAVED_SEARCHES {
        errors.general = Some(format!(
            "You have {MAX_SAVED_SEARCHES} saved searches, the most an account keeps; delete one first."
        ));
    }
    if errors.is_empty() {
        Ok(NewSavedSearch {
            user,
            query: query.to_string(),
            min_upvotes,
            exclude,
            delivery,
        })
    } else {
        Err(errors)
    }
}

async fn save_search(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<AlertForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let user_id = signed_in.user.id;
    let (saved, subscription) = state
        .read(move |s| {
            Ok((
                s.saved_searches_of(user_id)?.len(),
                s.subscription_of_user(user_id)?,
            ))
        })
        .await?;
    let new = match validate_alert(&form, user_id, saved, subscription.as_ref()) {
        Ok(new) => new,
        Err(alert_errors) => {
            let forms = SettingsForms {
                alert: form,
                alert_errors,
                ..SettingsForms::default()
            };
            return settings_again(&state, &signed_in, forms, StatusCode::BAD_REQUEST).await;
        }
    };
    let now = state.now();
    let search = state.write(move |s| s.add_saved_search(&new, now)).await?;
    tracing::info!(
        user.id = user_id.0,
        saved_search.id = search.id.0,
        "search saved"
    );
    Ok(Redirect::to("/settings#saved-searches").into_response())
}

async fn delete_search(
    State(state): State<AppState>,
    signed_in: SignedIn,
    id: Result<Path<i64>, PathRejection>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Path(id) = id.map_err(|_| {
        WebError::bad_request("bad_saved_search", "A saved search is named by its number.")
    })?;
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let user_id = signed_in.user.id;
    state
        .write(move |s| s.delete_saved_search(SavedSearchId(id), user_id))
        .await?;
    tracing::info!(
        user.id = user_id.0,
        saved_search.id = id,
        "saved search deleted"
    );
    Ok(Redirect::to("/settings#saved-searches").into_response())
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
    let data = state
        .write(move |s| {
            s.create_api_token(user_id, &stored_name, &hash, now)?;
            load_settings(s, user_id)
        })
        .await?;
    tracing::info!(user.id = user_id.0, "API token created");
    let forms = SettingsForms {
        new_token: Some(NewToken { name, token }),
        ..SettingsForms::default()
    };
    let view = settings_view(&signed_in.viewer(), &data, &forms);
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
