//! The one place that turns errors into HTTP responses: a status, a stable
//! code, and a message that says how to fix it. Pages get an HTML page
//! ([`PageError`]), the API gets `{"error", "message", "hint"?}`
//! ([`ApiError`]). A 5xx is logged once here and shows a generic message:
//! internal error text never reaches a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paperboy_store::StoreError;

/// Why a request failed, in the web's words.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Something the user asked for does not exist (`paper_not_found`, …).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// Malformed input: a bad id, date, week, form field.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        hint: Option<String>,
    },
    /// Needs a signed-in user (or an API token).
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// A form or write request without a valid CSRF token.
    #[error("the form expired or did not come from this site; reload the page and try again")]
    Csrf,
    /// Too many attempts.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The request conflicts with what is stored (taken username, already listed).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Anything else: logged, shown as a generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> WebError {
        WebError::BadRequest {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> WebError {
        WebError::NotFound {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound { .. } => StatusCode::NOT_FOUND,
            WebError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden { .. } | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Conflict { .. } => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::NotFound { code, .. }
            | WebError::BadRequest { code, .. }
            | WebError::Forbidden { code, .. }
            | WebError::Conflict { code, .. } => code,
            WebError::Unauthorized => "unauthorized",
            WebError::Csrf => "csrf_rejected",
            WebError::RateLimited { .. } => "rate_limited",
            WebError::Internal(_) => "internal_error",
        }
    }

    /// What the client sees: never internal details.
    pub fn public_message(&self) -> String {
        match self {
            WebError::Internal(_) => {
                "Something went wrong on our side. It has been logged; please try again.".into()
            }
            other => other.to_string(),
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            WebError::BadRequest { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// Logs a server-side failure once, where it is turned into a response.
    fn log(&self) {
        if let WebError::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
    }
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> WebError {
        match err {
            StoreError::PaperNotFound { id } => WebError::not_found(
                "paper_not_found",
                format!("Paper {id} is not in the catalog."),
            ),
            StoreError::CommentNotFound { id } => {
                WebError::not_found("comment_not_found", format!("Comment {id} does not exist."))
            }
            StoreError::SubscriptionNotFound { .. } => WebError::not_found(
                "subscription_not_found",
                "This subscription does not exist (any more); subscribe again.",
            ),
            StoreError::MessageNotFound { id } => WebError::not_found(
                "message_not_found",
                format!("Message {id} is not in the outbox."),
            ),
            StoreError::ReplyToReply { .. } => {
                WebError::bad_request("reply_to_reply", err.to_string())
            }
            StoreError::NotAllowed { reason } => WebError::Forbidden {
                code: "not_allowed",
                message: reason.into(),
            },
            StoreError::UsernameTaken { .. } => WebError::Conflict {
                code: "username_taken",
                message: err.to_string(),
            },
            StoreError::EmailTaken => WebError::Conflict {
                code: "email_taken",
                message: err.to_string(),
            },
            StoreError::AlreadyListed { .. } => WebError::Conflict {
                code: "already_listed",
                message: err.to_string(),
            },
            other => {
                WebError::Internal(format!("{other}: {:?}", std::error::Error::source(&other)))
            }
        }
    }
}

impl From<tokio::task::JoinError> for WebError {
    fn from(err: tokio::task::JoinError) -> WebError {
        WebError::Internal(format!("blocking task failed: {err}"))
    }
}

/// An error answered as JSON (`/api/...`).
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(err: E) -> ApiError {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let mut body = serde_json::json!({ "error": err.code(), "message": err.public_message() });
        if let Some(hint) = err.hint() {
            body["hint"] = hint.into();
        }
        let mut response = (err.status(), axum::Json(body)).into_response();
        if let WebError::RateLimited { retry_after_secs } = err {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(err: E) -> PageError {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let mut response = (err.status(), crate::layout::error_page(&err)).into_response();
        if let WebError::RateLimited { retry_after_secs } = err {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}
