//! What signed-in users do: upvote, save to the reading list, comment (one
//! level of replies), submit a paper to today's list; admins hide comments.
//!
//! Every form posts normally and answers with a 303 back to a local
//! `return_to`, so nothing needs JavaScript. The JSON write endpoints take a
//! session with its CSRF token in `X-CSRF-Token`, or an API token. Paper ids
//! in paths may be old-style (`hep-th/9901001`): each route also exists with
//! the id spread over two segments.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Form, Json, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};
use paperboy_core::comment::{CommentRuleError, MAX_COMMENT_CHARS, validate_comment};
use paperboy_core::{ArxivId, Comment, CommentId, DailyEntry, User};
use paperboy_store::{Listed, StoreError, UpvoteState};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::account::bad_form;
use crate::auth::{self, ApiWriter, SignedIn, Viewer, local_path};
use crate::error::{ApiError, PageError, WebError};
use crate::layout::{self, csrf_field, page, paper_path, time_label};
use crate::markdown;

pub fn routes() -> Router<AppState> {
    Router::new()
        // Forms; ids with a slash (`hep-th/9901001`) take two segments.
        .route("/papers/{id}/upvote", post(upvote_form))
        .route("/papers/{archive}/{number}/upvote", post(upvote_form))
        .route("/papers/{id}/save", post(save_form))
        .route("/papers/{archive}/{number}/save", post(save_form))
        .route("/papers/{id}/comments", post(comment_form))
        .route("/papers/{archive}/{number}/comments", post(comment_form))
        .route("/comments/{id}/edit", post(edit_form))
        .route("/comments/{id}/delete", post(delete_form))
        .route("/comments/{id}/hide", post(hide_form))
        .route("/submit", get(submit_page).post(submit_form))
        // JSON.
        .route(
            "/api/papers/{id}/upvote",
            post(api_upvote).delete(api_unvote),
        )
        .route(
            "/api/papers/{archive}/{number}/upvote",
            post(api_upvote).delete(api_unvote),
        )
        .route("/api/papers/{id}/comment", post(api_comment))
        .route("/api/papers/{archive}/{number}/comment", post(api_comment))
        .route("/api/daily_papers", post(api_submit))
}

// --- shared pieces -----------------------------------------------------------

/// The paper named by a route's path: `{id}`, or `{archive}/{number}` for
/// an old-style id. Any spelling `ArxivId::parse` accepts; a version is
/// ignored.
fn paper_from_path(params: &[(String, String)]) -> Result<ArxivId, WebError> {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let raw = match (get("id"), get("archive"), get("number")) {
        (Some(id), _, _) => id.to_string(),
        (None, Some(archive), Some(number)) => format!("{archive}/{number}"),
        _ => String::new(),
    };
    parse_paper_id(&raw)
}

fn parse_paper_id(raw: &str) -> Result<ArxivId, WebError> {
    ArxivId::parse(raw).map(|v| v.id).map_err(|_| WebError::BadRequest {
        code: "bad_arxiv_id",
        message: format!("{:?} is not an arXiv id.", raw.chars().take(80).collect::<String>()),
        hint: Some("Write it as 2305.03048, arXiv:2305.03048v2, hep-th/9901001 or an arxiv.org/abs/ link.".into()),
    })
}

/// Where a form goes back to: its `return_to` when that is a path on this
/// site, else `fallback`.
fn back(return_to: Option<&str>, fallback: &str) -> Redirect {
    Redirect::to(
        return_to
            .filter(|r| !r.is_empty())
            .and_then(local_path)
            .unwrap_or(fallback),
    )
}

/// A comment id from a path or form field.
fn parse_comment_id(raw: &str) -> Result<CommentId, WebError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .map(CommentId)
        .ok_or_else(|| {
            WebError::bad_request(
                "bad_comment_id",
                format!(
                    "{:?} is not a comment id.",
                    raw.chars().take(40).collect::<String>()
                ),
            )
        })
}

/// Checks a comment body: not empty, at most [`MAX_COMMENT_CHARS`].
fn comment_body(body: &str) -> Result<String, WebError> {
    validate_comment(body).map(str::to_string).map_err(|err| {
        let code = match err {
            CommentRuleError::Empty => "empty_comment",
            CommentRuleError::TooLong(_) => "comment_too_long",
        };
        let mut message = err.to_string();
        if let Some(first) = message.get(..1) {
            message = first.to_uppercase() + &message[1..] + ".";
        }
        WebError::bad_request(code, message)
    })
}

/// `up`/`down` (`action`) or `true`/`false` (`upvoted`, as the list's
/// button sends it).
fn wants_upvote(action: Option<&str>, upvoted: Option<&str>) -> Result<bool, WebError> {
    match (action.map(str::trim), upvoted.map(str::trim)) {
        (Some("up"), _) | (None, Some("true" | "1")) => Ok(true),
        (Some("down"), _) | (None, Some("false" | "0")) => Ok(false),
        _ => Err(WebError::bad_request(
            "bad_upvote_action",
            "Say action=up or action=down.",
        )),
    }
}

fn flag(raw: &str, field: &'static str) -> Result<bool, WebError> {
    match raw.trim() {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(WebError::bad_request(
            "bad_form",
            format!("Say {field}=1 or {field}=0."),
        )),
    }
}

/// `2025-06-10T13:04:20.120Z`, as HF writes times.
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// --- upvote, save --------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct UpvoteForm {
    #[serde(default)]
    csrf: String,
    action: Option<String>,
    upvoted: Option<String>,
    return_to: Option<String>,
}

async fn upvote_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(params): Path<Vec<(String, String)>>,
    form: Result<Form<UpvoteForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let id = paper_from_path(&params)?;
    let up = wants_upvote(form.action.as_deref(), form.upvoted.as_deref())?;
    let fallback = paper_path(&id);
    let user = signed_in.user.id;
    state.write(move |s| s.set_upvote(user, &id, up)).await?;
    Ok(back(form.return_to.as_deref(), &fallback))
}

#[derive(Debug, Default, Deserialize)]
struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    saved: String,
    return_to: Option<String>,
}

async fn save_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(params): Path<Vec<(String, String)>>,
    form: Result<Form<SaveForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let id = paper_from_path(&params)?;
    let saved = flag(&form.saved, "saved")?;
    let fallback = paper_path(&id);
    let (user, now) = (signed_in.user.id, state.now());
    state
        .write(move |s| s.set_saved(user, &id, saved, now))
        .await?;
    Ok(back(form.return_to.as_deref(), &fallback))
}

/// The reading-list button of a paper page: save or remove.
pub fn save_control(viewer: &Viewer, id: &ArxivId, saved: bool, return_to: &str) -> Markup {
    html! {
        @if viewer.is_signed_in() {
            form.save method="post" action={ (paper_path(id)) "/save" } {
                (csrf_field(viewer))
                input type="hidden" name="return_to" value=(return_to);
                input type="hidden" name="saved" value=(if saved { "0" } else { "1" });
                button type="submit" aria-pressed=(if saved { "true" } else { "false" }) {
                    (if saved { "Saved ✓ (remove)" } else { "Save to reading list" })
                }
            }
        }
    }
}

// --- comments ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    parent: Option<String>,
    return_to: Option<String>,
}

/// `/papers/2305.03048#comment-7` (or `return_to` with the anchor).
fn comment_anchor(return_to: Option<&str>, paper: &ArxivId, comment: CommentId) -> String {
    let base = return_to
        .filter(|r| !r.is_empty())
        .and_then(local_path)
        .map(|r| r.split('#').next().unwrap_or(r).to_string())
        .unwrap_or_else(|| paper_path(paper));
    format!("{base}#comment-{}", comment.0)
}

async fn comment_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(params): Path<Vec<(String, String)>>,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let id = paper_from_path(&params)?;
    let parent = form
        .parent
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(parse_comment_id)
        .transpose()?;
    let body = comment_body(&form.body)?;
    let (author, now, paper) = (signed_in.user.id, state.now(), id.clone());
    let comment = state
        .write(move |s| s.add_comment(&paper, author, parent, &body, now))
        .await?;
    Ok(Redirect::to(&comment_anchor(
        form.return_to.as_deref(),
        &id,
        comment.id,
    )))
}

async fn edit_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(raw_id): Path<String>,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let id = parse_comment_id(&raw_id)?;
    let body = comment_body(&form.body)?;
    let (author, now) = (signed_in.user.id, state.now());
    let comment = state
        .write(move |s| s.edit_comment(id, author, &body, now))
        .await?;
    Ok(Redirect::to(&comment_anchor(
        form.return_to.as_deref(),
        &comment.paper_id,
        comment.id,
    )))
}

async fn delete_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(raw_id): Path<String>,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let id = parse_comment_id(&raw_id)?;
    let author = signed_in.user.id;
    state.write(move |s| s.delete_comment(id, author)).await?;
    Ok(back(form.return_to.as_deref(), "/"))
}

#[derive(Debug, Default, Deserialize)]
struct HideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    hidden: String,
    return_to: Option<String>,
}

async fn hide_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(raw_id): Path<String>,
    form: Result<Form<HideForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    if !signed_in.user.is_admin {
        return Err(WebError::Forbidden {
            code: "admins_only",
            message: "Only admins can hide comments.".into(),
        }
        .into());
    }
    let id = parse_comment_id(&raw_id)?;
    let hidden = flag(&form.hidden, "hidden")?;
    state
        .write(move |s| s.set_comment_hidden(id, hidden))
        .await?;
    tracing::info!(
        comment.id = id.0,
        hidden,
        admin.id = signed_in.user.id.0,
        "comment visibility changed"
    );
    Ok(back(form.return_to.as_deref(), "/"))
}

/// The comments of a paper page: top-level comments oldest first, each with
/// its replies and a reply form; edit and delete for their author, hide for
/// admins; a new-comment form, or a sign-in link for visitors.
pub fn comment_section(viewer: &Viewer, paper_id: &ArxivId, comments: &[Comment]) -> Markup {
    let return_to = paper_path(paper_id);
    let ids: std::collections::HashSet<CommentId> = comments.iter().map(|c| c.id).collect();
    let mut replies: HashMap<CommentId, Vec<&Comment>> = HashMap::new();
    let mut top: Vec<&Comment> = Vec::new();
    for c in comments {
        match c.parent {
            Some(parent) if ids.contains(&parent) => replies.entry(parent).or_default().push(c),
            // A reply whose parent is gone is shown on its own, not lost.
            _ => top.push(c),
        }
    }
    let visible = comments.iter().filter(|c| !c.deleted && !c.hidden).count();
    let form_ctx = FormContext {
        viewer,
        paper_id,
        return_to: &return_to,
    };
    html! {
        section.comments #comments {
            h2 { (layout::count_label(u32::try_from(visible).unwrap_or(u32::MAX), "comment", "comments")) }
            @if !top.is_empty() {
                ol.comment-list {
                    @for c in &top {
                        li.comment-thread {
                            (comment_item(&form_ctx, c))
                            @if let Some(rs) = replies.get(&c.id) {
                                ol.replies {
                                    @for r in rs { li { (comment_item(&form_ctx, r)) } }
                                }
                            }
                            @if c.parent.is_none() && !c.deleted && !c.hidden && viewer.is_signed_in() {
                                details.reply {
                                    summary { "Reply" }
                                    (comment_form_markup(&form_ctx, Some(c.id), &format!("reply-{}", c.id.0), "Reply"))
                                }
                            }
                        }
                    }
                }
            }
            @if viewer.is_signed_in() {
                h3 { "Add a comment" }
                (comment_form_markup(&form_ctx, None, "new-comment", "Comment"))
            } @else {
                p.sign-in-to-comment {
                    a href=(auth::login_url(Some(&format!("{return_to}#comments")))) { "Log in" }
                    " or "
                    a href="/signup" { "sign up" }
                    " to comment."
                }
            }
        }
    }
}

struct FormContext<'a> {
    viewer: &'a Viewer,
    paper_id: &'a ArxivId,
    return_to: &'a str,
}

fn comment_form_markup(
    ctx: &FormContext<'_>,
    parent: Option<CommentId>,
    field_id: &str,
    label: &str,
) -> Markup {
    html! {
        form.comment-form method="post" action={ (paper_path(ctx.paper_id)) "/comments" } {
            (csrf_field(ctx.viewer))
            input type="hidden" name="return_to" value=(ctx.return_to);
            @if let Some(parent) = parent { input type="hidden" name="parent" value=(parent.0); }
            label.visually-hidden for=(field_id) { (label) }
            textarea id=(field_id) name="body" rows="4" required maxlength=(MAX_COMMENT_CHARS)
                placeholder="Markdown works: **bold**, *italic*, `code`, [links](https://…)" {}
            button type="submit" { (label) }
        }
    }
}

fn comment_item(ctx: &FormContext<'_>, c: &Comment) -> Markup {
    let viewer = ctx.viewer;
    let is_admin = viewer.is_admin();
    let is_author = viewer.user.as_ref().is_some_and(|u| u.id == c.author);
    let anchor = format!("comment-{}", c.id.0);
    html! {
        article.comment.hidden[c.hidden].deleted[c.deleted] id=(anchor) {
            @if c.deleted {
                p.comment-gone { "[deleted]" }
            } @else if c.hidden && !is_admin {
                p.comment-gone { "[hidden by a moderator]" }
            } @else {
                header.comment-meta {
                    a.author href={ "/users/" (c.author_name) } { (c.author_name) }
                    " · "
                    a.permalink href={ "#" (anchor) } { time datetime=(iso(c.created_at)) { (time_label(c.created_at)) } }
                    @if let Some(edited) = c.edited_at {
                        " · " span.edited title={ "edited " (time_label(edited)) } { "edited" }
                    }
                    @if c.hidden { " · " strong.hidden-mark { "hidden (only admins see this)" } }
                }
                div.comment-body { (markdown::render(&c.body)) }
                @if viewer.is_signed_in() && (is_author || is_admin) {
                    div.comment-actions {
                        @if is_author {
                            details.edit {
                                summary { "Edit" }
                                form method="post" action={ "/comments/" (c.id.0) "/edit" } {
                                    (csrf_field(viewer))
                                    input type="hidden" name="return_to" value=(ctx.return_to);
                                    label.visually-hidden for={ "edit-" (c.id.0) } { "Edit comment" }
                                    textarea id={ "edit-" (c.id.0) } name="body" rows="4" required maxlength=(MAX_COMMENT_CHARS) { (c.body) }
                                    button type="submit" { "Save" }
                                }
                            }
                            form.inline method="post" action={ "/comments/" (c.id.0) "/delete" } {
                                (csrf_field(viewer))
                                input type="hidden" name="return_to" value={ (ctx.return_to) "#comments" };
                                button type="submit" { "Delete" }
                            }
                        }
                        @if is_admin {
                            form.inline method="post" action={ "/comments/" (c.id.0) "/hide" } {
                                (csrf_field(viewer))
                                input type="hidden" name="return_to" value={ (ctx.return_to) "#" (anchor) };
                                input type="hidden" name="hidden" value=(if c.hidden { "0" } else { "1" });
                                button type="submit" { (if c.hidden { "Unhide" } else { "Hide" }) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// --- submit --------------------------------------------------------------------

/// Puts a known, recent paper on today's list. Shared by the form and the API.
async fn submit_paper(
    state: &AppState,
    user: User,
    input: &str,
) -> Result<(DailyEntry, Listed), WebError> {
    let id = parse_paper_id(input.trim())?;
    let lookup = id.clone();
    let paper = state.read(move |s| s.paper(&lookup)).await?.ok_or_else(|| WebError::NotFound {
        code: "paper_unknown",
        message: format!(
            "We don't know paper {id} yet; papers appear here once the arXiv sync has fetched them \
             (usually within a day of their announcement). Try again later."
        ),
    })?;
    let today = state.today();
    let max_age = state.config.submit_max_age_days;
    if paper.biblio.withdrawn {
        return Err(WebError::bad_request(
            "paper_withdrawn",
            format!("Paper {id} has been withdrawn from arXiv."),
        ));
    }
    let Some(published) = paper.biblio.published else {
        return Err(WebError::bad_request(
            "publication_date_unknown",
            format!(
                "We don't know when paper {id} was published on arXiv, so it cannot go on today's list."
            ),
        ));
    };
    let published_day = published.date_naive();
    if (today - published_day).num_days() > max_age {
        return Err(WebError::BadRequest {
            code: "paper_too_old",
            message: format!(
                "Paper {id} was published on arXiv on {published_day}, more than {max_age} days ago; \
                 only papers from the last {max_age} days can go on today's list."
            ),
            hint: None,
        });
    }
    let now = state.now();
    let submitted = id.clone();
    let result = state
        .write(move |s| {
            let entry = match s.submit(&submitted, today, &user, now) {
                Ok(entry) => entry,
                Err(StoreError::AlreadyListed { day, .. }) => return Ok(Err(day)),
                Err(err) => return Err(err),
            };
            let page = s.paper_page(&submitted)?.ok_or(StoreError::PaperNotFound {
                id: submitted.clone(),
            })?;
            let listed = Listed {
                entry: entry.clone(),
                paper: page.paper,
                upvotes: page.upvotes,
                comments: page.comments,
            };
            Ok(Ok((entry, listed)))
        })
        .await?;
    result.map_err(|day| WebError::Conflict {
        code: "already_listed",
        message: if day == today {
            format!("Paper {id} is already on today's list ({day}).")
        } else {
            format!("Paper {id} is already on the list of {day}.")
        },
    })
}

async fn submit_page(signed_in: SignedIn) -> Markup {
    submit_view(&signed_in.viewer(), "", None)
}

fn submit_view(viewer: &Viewer, value: &str, error: Option<&WebError>) -> Markup {
    page(
        "Submit a paper",
        viewer,
        html! {
            section.submit {
                h1 { "Submit a paper to today's list" }
                p {
                    "Any arXiv paper published in the last few days that we already know can go on "
                    a href="/papers" { "today's list" } ". Paste its id or link."
                }
                @if let Some(err) = error {
                    p.form-error role="alert" { (err.public_message()) }
                    @if let Some(hint) = err.hint() { p.muted { (hint) } }
                }
                form method="post" action="/submit" {
                    (csrf_field(viewer))
                    label for="arxiv_id" { "arXiv id or link" }
                    input #arxiv_id name="arxiv_id" value=(value) required placeholder="2305.03048 or https://arxiv.org/abs/2305.03048";
                    button type="submit" { "Submit" }
                }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    arxiv_id: String,
}

async fn submit_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: Result<Form<SubmitForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(bad_form)?;
    signed_in.check_csrf(&form.csrf)?;
    let viewer = signed_in.viewer();
    match submit_paper(&state, signed_in.user, &form.arxiv_id).await {
        Ok((entry, _)) => {
            tracing::info!(paper.id = %entry.paper_id, day = %entry.day, "paper submitted");
            Ok(Redirect::to(&paper_path(&entry.paper_id)).into_response())
        }
        Err(err @ WebError::Internal(_)) => Err(err.into()),
        Err(err) => Ok((
            err.status(),
            submit_view(&viewer, &form.arxiv_id, Some(&err)),
        )
            .into_response()),
    }
}

// --- JSON ----------------------------------------------------------------------

/// A JSON body could not be read: a 400 that says why.
fn bad_json(rejection: JsonRejection) -> ApiError {
    ApiError(WebError::BadRequest {
        code: "bad_json",
        message: format!(
            "The request body could not be read: {}",
            rejection.body_text()
        ),
        hint: Some("Send JSON with Content-Type: application/json.".into()),
    })
}

async fn api_set_upvote(
    state: AppState,
    writer: ApiWriter,
    params: &[(String, String)],
    up: bool,
) -> Result<Json<Value>, ApiError> {
    let id = paper_from_path(params)?;
    let user = writer.0.user.id;
    let UpvoteState { upvoted, upvotes } =
        state.write(move |s| s.set_upvote(user, &id, up)).await?;
    Ok(Json(json!({ "upvoted": upvoted, "upvotes": upvotes })))
}

async fn api_upvote(
    State(state): State<AppState>,
    writer: ApiWriter,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    api_set_upvote(state, writer, &params, true).await
}

async fn api_unvote(
    State(state): State<AppState>,
    writer: ApiWriter,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    api_set_upvote(state, writer, &params, false).await
}

#[derive(Debug, Deserialize)]
struct ApiComment {
    #[serde(default)]
    comment: String,
    /// A number, or a string of one.
    #[serde(default, rename = "parentId")]
    parent_id: Option<Value>,
}

/// A comment as the API shows it.
pub fn comment_json(c: &Comment) -> Value {
    // Shaped as the `Comment` schema of openapi.json, plus `html`. What a
    // moderator hid or the author deleted is not repeated.
    let gone = c.deleted || c.hidden;
    json!({
        "id": c.id.0,
        "paperId": c.paper_id.as_str(),
        "parentId": c.parent.map(|p| p.0),
        "author": c.author_name,
        "body": if gone { "" } else { c.body.as_str() },
        "html": if gone { String::new() } else { markdown::render(&c.body).0 },
        "createdAt": iso(c.created_at),
        "editedAt": c.edited_at.map(iso),
        "deleted": c.deleted,
        "hidden": c.hidden,
    })
}

async fn api_comment(
    State(state): State<AppState>,
    writer: ApiWriter,
    Path(params): Path<Vec<(String, String)>>,
    body: Result<Json<ApiComment>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(bad_json)?;
    let id = paper_from_path(&params)?;
    let parent = match &body.parent_id {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(parse_comment_id(&n.to_string())?),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_comment_id(s)?),
        Some(_) => {
            return Err(WebError::bad_request(
                "bad_comment_id",
                "parentId is a comment id (a number or a string of one).",
            )
            .into());
        }
    };
    let text = comment_body(&body.comment)?;
    let (author, now) = (writer.0.user.id, state.now());
    let comment = state
        .write(move |s| s.add_comment(&id, author, parent, &text, now))
        .await?;
    Ok(Json(comment_json(&comment)))
}

#[derive(Debug, Deserialize)]
struct ApiSubmit {
    #[serde(default, rename = "arxivId")]
    arxiv_id: String,
}

async fn api_submit(
    State(state): State<AppState>,
    writer: ApiWriter,
    body: Result<Json<ApiSubmit>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(bad_json)?;
    if body.arxiv_id.trim().is_empty() {
        return Err(WebError::bad_request(
            "missing_arxiv_id",
            "Send {\"arxivId\": \"2305.03048\"}.",
        )
        .into());
    }
    let (entry, listed) = submit_paper(&state, writer.0.user, &body.arxiv_id).await?;
    tracing::info!(paper.id = %entry.paper_id, day = %entry.day, "paper submitted through the API");
    Ok((StatusCode::OK, Json(crate::api::DailyItem::new(&listed))).into_response())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use paperboy_core::UserId;

    use super::*;

    fn path(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn paper_ids_in_paths() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let table: &[Case<'_>] = &[
            (&[("id", "2305.03048")], Some("2305.03048")),
            (&[("id", "2305.03048v2")], Some("2305.03048")),
            (&[("id", "hep-th/9901001")], Some("hep-th/9901001")),
            (
                &[("archive", "hep-th"), ("number", "9901001")],
                Some("hep-th/9901001"),
            ),
            (
                &[("archive", "math.GT"), ("number", "0309136v2")],
                Some("math/0309136"),
            ),
            (&[("id", "nonsense")], None),
            (&[], None),
        ];
        for (params, want) in table {
            let got = paper_from_path(&path(params)).ok();
            assert_eq!(got.as_ref().map(ArxivId::as_str), *want, "{params:?}");
        }
    }

    #[test]
    fn upvote_actions() {
        let table = [
            (Some("up"), None, Some(true)),
            (Some("down"), None, Some(false)),
            (None, Some("true"), Some(true)),
            (None, Some("false"), Some(false)),
            (None, None, None),
            (Some("sideways"), None, None),
        ];
        for (action, upvoted, want) in table {
            assert_eq!(
                wants_upvote(action, upvoted).ok(),
                want,
                "{action:?} {upvoted:?}"
            );
        }
    }

    #[test]
    fn comment_bodies_are_checked() {
        assert_eq!(comment_body("  hi ").unwrap(), "hi");
        assert_eq!(comment_body("   ").unwrap_err().code(), "empty_comment");
        let err = comment_body(&"x".repeat(MAX_COMMENT_CHARS + 1)).unwrap_err();
        assert_eq!(err.code(), "comment_too_long");
        assert!(
            err.public_message()
                .starts_with("A comment has at most 10000 characters"),
            "{}",
            err.public_message()
        );
    }

    #[test]
    fn redirects_stay_local() {
        let loc = |r: Redirect| {
            r.into_response().headers()["location"]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            loc(back(Some("/papers/date/2025-06-10"), "/x")),
            "/papers/date/2025-06-10"
        );
        assert_eq!(loc(back(Some("https://evil.example"), "/x")), "/x");
        assert_eq!(loc(back(Some("//evil.example"), "/x")), "/x");
        assert_eq!(loc(back(None, "/x")), "/x");
        let id = ArxivId::parse("2305.03048").unwrap().id;
        assert_eq!(
            comment_anchor(Some("/papers/2305.03048#comments"), &id, CommentId(7)),
            "/papers/2305.03048#comment-7"
        );
        assert_eq!(
            comment_anchor(None, &id, CommentId(7)),
            "/papers/2305.03048#comment-7"
        );
    }

    fn user(id: i64, name: &str, admin: bool) -> User {
        User {
            id: UserId(id),
            username: name.into(),
            email: format!("{name}@example.org"),
            display_name: name.into(),
            is_admin: admin,
            created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn comment(id: i64, author: &User, parent: Option<i64>, body: &str) -> Comment {
        Comment {
            id: CommentId(id),
            paper_id: ArxivId::parse("hep-th/9901001").unwrap().id,
            author: author.id,
            author_name: author.username.clone(),
            parent: parent.map(CommentId),
            body: body.into(),
            created_at: Utc.with_ymd_and_hms(2025, 6, 10, 13, 4, 0).unwrap(),
            edited_at: None,
            deleted: false,
            hidden: false,
        }
    }

    #[test]
    fn the_comment_section_shows_what_each_viewer_may_do() {
        let ada = user(1, "ada", false);
        let bob = user(2, "bob", false);
        let root = user(3, "root", true);
        let id = ArxivId::parse("hep-th/9901001").unwrap().id;
        let mut hidden = comment(3, &bob, None, "secret *spam*");
        hidden.hidden = true;
        let mut gone = comment(4, &ada, None, "was here");
        gone.deleted = true;
        let comments = vec![
            comment(1, &ada, None, "**first**"),
            comment(2, &bob, Some(1), "a reply"),
            hidden,
            gone,
            comment(5, &bob, Some(4), "reply to deleted"),
        ];
        let as_viewer = |u: Option<&User>| {
            let viewer = Viewer {
                user: u.cloned(),
                csrf_token: u.map(|_| "tok".to_string()),
            };
            comment_section(&viewer, &id, &comments).into_string()
        };

        let anon = as_viewer(None);
        assert!(anon.contains("<strong>first</strong>"), "{anon}");
        assert!(
            anon.contains("[hidden by a moderator]") && !anon.contains("spam"),
            "{anon}"
        );
        assert!(
            anon.contains("[deleted]") && !anon.contains("was here"),
            "{anon}"
        );
        assert!(anon.contains("reply to deleted"), "{anon}");
        assert!(anon.contains("3 comments"), "{anon}");
        assert!(!anon.contains("<form"), "{anon}");
        assert!(
            anon.contains("/login?next=/papers/hep-th/9901001%23comments"),
            "{anon}"
        );

        let as_ada = as_viewer(Some(&ada));
        assert!(
            as_ada.contains(r#"action="/comments/1/edit""#)
                && as_ada.contains(r#"action="/comments/1/delete""#)
        );
        assert!(
            !as_ada.contains(r#"action="/comments/2/edit""#),
            "ada cannot edit bob's reply"
        );
        assert!(!as_ada.contains("/hide"), "ada is no admin");
        assert!(as_ada.contains(r#"action="/papers/hep-th/9901001/comments""#));
        assert!(
            as_ada.contains(r#"name="parent" value="1""#),
            "reply form under the top-level comment"
        );
        assert!(
            !as_ada.contains(r#"name="parent" value="2""#),
            "no replies to replies"
        );
        assert!(as_ada.contains(r#"name="csrf" value="tok""#));

        let as_root = as_viewer(Some(&root));
        assert!(
            as_root.contains("secret <em>spam</em>")
                && as_root.contains("hidden (only admins see this)"),
            "{as_root}"
        );
        assert!(as_root.contains(r#"action="/comments/3/hide""#) && as_root.contains("Unhide"));
        assert!(as_root.contains(r#"action="/comments/1/hide""#));
    }

    #[test]
    fn comment_json_hides_what_is_gone() {
        let ada = user(1, "ada", false);
        let mut c = comment(9, &ada, Some(3), "<script>x</script>\n\n*hi*");
        let v = comment_json(&c);
        assert_eq!(v["id"], 9);
        assert_eq!(v["parentId"], 3);
        assert_eq!(v["author"], "ada");
        assert_eq!(v["body"], "<script>x</script>\n\n*hi*");
        assert_eq!(v["createdAt"], "2025-06-10T13:04:00.000Z");
        assert!(v["editedAt"].is_null());
        assert!(v["html"].as_str().unwrap().contains("<em>hi</em>"));
        assert!(!v["html"].as_str().unwrap().contains("<script"));
        c.hidden = true;
        assert_eq!(comment_json(&c)["body"], "");
    }
}
