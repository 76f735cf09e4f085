//! [`Accounts`] on PostgreSQL: users, sessions and API tokens. It stores only
//! hashes of tokens and of passwords, never the secrets themselves, and never
//! logs them.
//!
//! Several nodes may sign users up at once: creating a user takes the
//! [`Lock::Users`] advisory lock, so that only the very first user becomes
//! the admin and a taken username or email is refused with its own error
//! (the unique indexes back this up, and their violations map to the same
//! errors). Usernames compare case-insensitively with `lower()` in the "C"
//! collation, as the unique index `users_username` does (ASCII only, like
//! SQLite's NOCASE).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use paperboy_core::{NewUser, User, UserId};
use postgres::error::SqlState;
use postgres::{GenericClient, Row};

use super::rows::{RowColumns, USER_COLUMN_COUNT, u_user_columns, user_from_row};
use super::{Db, Lock, PgStore};
use crate::codec::format_time;
use crate::{Accounts, Session, StoreError};

/// How stale an API token's `last_used_at` may get before a use records it
/// again: often enough for "last used" in the settings, rarely enough that
/// API reads do not all become writes.
const TOKEN_USE_RESOLUTION: Duration = Duration::hours(1);

/// `$1` lower-cased as the `users_username` index lower-cases a username:
/// in the "C" collation (a bare `lower($1)` would use the database's locale
/// and fold more than the index does).
macro_rules! lower_param {
    () => {
        "lower($1::text COLLATE \"C\")"
    };
}

const USERNAME_EXISTS: &str = concat!(
    "SELECT 1 FROM users WHERE lower(username) = ",
    lower_param!()
);

const EMAIL_EXISTS: &str = "SELECT 1 FROM users WHERE email = $1";

const INSERT_USER: &str = "INSERT INTO users \
     (username, email, display_name, password_hash, is_admin, created_at) \
     VALUES ($1, $2, $3, $4, $5 OR NOT EXISTS (SELECT 1 FROM users), $6) \
     RETURNING id, is_admin";

const SELECT_USER_BY_ID: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    " FROM users u WHERE u.id = $1"
);

const SELECT_USER_BY_USERNAME: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    " FROM users u WHERE lower(u.username) = ",
    lower_param!()
);

/// By username (any case, `$1`) or email (`$2`, lower-cased); the username
/// wins.
const SELECT_USER_FOR_LOGIN: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", u.password_hash FROM users u WHERE lower(u.username) = ",
    lower_param!(),
    " OR u.email = $2 ORDER BY lower(u.username) = ",
    lower_param!(),
    " DESC LIMIT 1"
);

const SELECT_SESSION: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = $1"
);

const SELECT_API_TOKEN_USER: &str = concat!(
    "SELECT ",
    u_user_columns!(),
    ", t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.token_hash = $1"
);

/// The unique index on `lower(username)` and the unique constraint on
/// `email` (PostgreSQL's default name for it).
const USERNAME_INDEX: &str = "users_username";
const EMAIL_CONSTRAINT: &str = "users_email_key";

impl Accounts for PgStore {
    fn create_user(&self, new: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        let email = new.email.trim().to_lowercase();
        let created_at = now.trunc_subsecs(3);
        self.write("create a user", |db| {
            // One sign-up at a time across nodes: whether the table is empty
            // (the first user is the admin) and whether a name is taken stay
            // true until this transaction commits.
            db.lock(Lock::Users)?;
            // Checked first so that a clash names the username before the
            // email, whichever index PostgreSQL would report.
            if exists(db, USERNAME_EXISTS, &new.username)? {
                return Err(username_taken(new));
            }
            if exists(db, EMAIL_EXISTS, &email)? {
                return Err(StoreError::EmailTaken);
            }
            let row = db
                .query_one(
                    "create a user",
                    INSERT_USER,
                    &[
                        &new.username,
                        &email,
                        &new.display_name,
                        &new.password_hash,
                        &new.admin,
                        &format_time(created_at),
                    ],
                )
                .map_err(|e| match unique_violation(&e) {
                    Some(Unique::Username) => username_taken(new),
                    Some(Unique::Email) => StoreError::EmailTaken,
                    None => e,
                })?;
            let err = |e| StoreError::database("create a user", e);
            Ok(User {
                id: UserId(row.try_get(0).map_err(err)?),
                username: new.username.clone(),
                email,
                display_name: new.display_name.clone(),
                is_admin: row.try_get(1).map_err(err)?,
                created_at,
            })
        })
    }

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.read(|db| find_user(db, SELECT_USER_BY_ID, &id.0))
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.read(|db| find_user(db, SELECT_USER_BY_USERNAME, &username))
    }

    fn user_for_login(
        &self,
        username_or_email: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let email = username_or_email.trim().to_lowercase();
        let Some(row) = self.read(|db| {
            db.query_opt(
                "look up a user to sign in",
                SELECT_USER_FOR_LOGIN,
                &[&username_or_email, &email],
            )
        })?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row, 0)?;
        let hash: String = user_columns(&row, &user).get(USER_COLUMN_COUNT, "password_hash")?;
        Ok(Some((user, hash)))
    }

    fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("create a session", |db| {
            db.execute(
                "create a session",
                "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &token_hash,
                    &user.0,
                    &csrf_token,
                    &format_time(expires_at),
                    &format_time(Utc::now()),
                ],
            )
            .map(drop)
        })
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let found =
            self.read(|db| db.query_opt("look up a session", SELECT_SESSION, &[&token_hash]))?;
        let Some(row) = found else {
            return Ok(None);
        };
        let user = user_from_row(&row, 0)?;
        let c = user_columns(&row, &user);
        let csrf_token: String = c.get(USER_COLUMN_COUNT, "sessions.csrf_token")?;
        let expires_at = c.time(USER_COLUMN_COUNT + 1, "sessions.expires_at")?;
        if expires_at > now {
            return Ok(Some(Session {
                user,
                csrf_token,
                expires_at,
            }));
        }
        // Someone came back with an expired cookie: a good moment to forget
        // every session that has expired by now (two nodes doing it at once
        // delete the same rows; either way they are gone).
        self.write("forget expired sessions", |db| {
            db.execute(
                "forget expired sessions",
                "DELETE FROM sessions WHERE expires_at <= $1",
                &[&format_time(now)],
            )
            .map(drop)
        })?;
        Ok(None)
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write("delete a session", |db| {
            db.execute(
                "delete a session",
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .map(drop)
        })
    }

    fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("create an API token", |db| {
            db.execute(
                "create an API token",
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at) \
                 VALUES ($1, $2, $3, $4)",
                &[&token_hash, &user.0, &name, &format_time(now)],
            )
            .map(drop)
        })
    }

    fn user_for_api_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let found = self.read(|db| {
            db.query_opt(
                "look up an API token",
                SELECT_API_TOKEN_USER,
                &[&token_hash],
            )
        })?;
        let Some(row) = found else {
            return Ok(None);
        };
        let user = user_from_row(&row, 0)?;
        let last_used =
            user_columns(&row, &user).opt_time(USER_COLUMN_COUNT, "api_tokens.last_used_at")?;
        let now = Utc::now();
        if last_used.is_none_or(|t| now - t >= TOKEN_USE_RESOLUTION) {
            // Conditional, so that of several nodes seeing the same stale
            // time only one writes it.
            let recorded = self.write("record an API token's use", |db| {
                db.execute(
                    "record an API token's use",
                    "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
                     AND (last_used_at IS NULL OR last_used_at <= $3)",
                    &[
                        &token_hash,
                        &format_time(now),
                        &format_time(now - TOKEN_USE_RESOLUTION),
                    ],
                )
                .map(drop)
            });
            // Bookkeeping only: a busy database must not refuse the request.
            if let Err(error) = recorded {
                tracing::warn!(%error, user.id = user.id.0, "cannot record an API token's use");
            }
        }
        Ok(Some(user))
    }
}

fn username_taken(new: &NewUser) -> StoreError {
    StoreError::UsernameTaken {
        username: new.username.clone(),
    }
}

fn exists(
    db: &mut Db<'_, impl GenericClient>,
    sql: &'static str,
    value: &str,
) -> Result<bool, StoreError> {
    Ok(db.query_opt("look up a user", sql, &[&value])?.is_some())
}

enum Unique {
    Username,
    Email,
}

/// Which unique index of `users` an insert broke, if that is what failed.
fn unique_violation(error: &StoreError) -> Option<Unique> {
    let StoreError::Database { source, .. } = error else {
        return None;
    };
    let db_error = source.downcast_ref::<postgres::Error>()?.as_db_error()?;
    if *db_error.code() != SqlState::UNIQUE_VIOLATION {
        return None;
    }
    match db_error.constraint()? {
        USERNAME_INDEX => Some(Unique::Username),
        EMAIL_CONSTRAINT => Some(Unique::Email),
        _ => None,
    }
}

fn user_columns<'r>(row: &'r Row, user: &User) -> RowColumns<'r> {
    RowColumns {
        row,
        table: "users",
        key: user.id.0.to_string(),
    }
}

fn find_user(
    db: &mut Db<'_, impl GenericClient>,
    sql: &'static str,
    key: &(dyn postgres::types::ToSql + Sync),
) -> Result<Option<User>, StoreError> {
    db.query_opt("look up a user", sql, &[key])?
        .map(|row| user_from_row(&row, 0))
        .transpose()
}
