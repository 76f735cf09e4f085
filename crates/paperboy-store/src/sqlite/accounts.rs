//! [`Accounts`] on SQLite: users, sessions and API tokens. It stores only
//! hashes of tokens and of passwords, never the secrets themselves, and never
//! logs them.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use paperboy_core::{NewUser, User, UserId};
use rusqlite::{Connection, ErrorCode};

use super::SqliteStore;
use super::rows::{self, RowColumns, USER_COLUMN_COUNT, format_time, user_from_row};
use crate::{Accounts, Session, StoreError};

/// How stale an API token's `last_used_at` may get before a use records it
/// again: often enough for "last used" in the settings, rarely enough that
/// API reads do not all become writes.
const TOKEN_USE_RESOLUTION: Duration = Duration::hours(1);

impl Accounts for SqliteStore {
    fn create_user(&self, new: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        let email = new.email.trim().to_lowercase();
        let created_at = now.trunc_subsecs(3);
        self.write("create a user", |tx| {
            let err = |e| StoreError::database("create a user", e);
            // Checked first (and race-free: the write lock is held) so that a
            // clash names the username before the email, whatever SQLite
            // would report first.
            if exists(tx, "SELECT 1 FROM users WHERE username = ?1", &new.username)? {
                return Err(username_taken(new));
            }
            if exists(tx, "SELECT 1 FROM users WHERE email = ?1", &email)? {
                return Err(StoreError::EmailTaken);
            }
            let first = !tx
                .prepare_cached("SELECT 1 FROM users LIMIT 1")
                .and_then(|mut stmt| stmt.exists([]))
                .map_err(err)?;
            let is_admin = first || new.admin;
            tx.prepare_cached(
                "INSERT INTO users (username, email, display_name, password_hash, is_admin, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    &new.username,
                    &email,
                    &new.display_name,
                    &new.password_hash,
                    is_admin,
                    format_time(created_at),
                ))
            })
            .map_err(|e| match unique_violation(&e) {
                Some(Unique::Username) => username_taken(new),
                Some(Unique::Email) => StoreError::EmailTaken,
                None => err(e),
            })?;
            Ok(User {
                id: UserId(tx.last_insert_rowid()),
                username: new.username.clone(),
                email,
                display_name: new.display_name.clone(),
                is_admin,
                created_at,
            })
        })
    }

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        find_user(&self.reader(), rows::SELECT_USER_BY_ID, &id.0)
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        find_user(&self.reader(), rows::SELECT_USER_BY_USERNAME, &username)
    }

    fn user_for_login(
        &self,
        username_or_email: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let err = |e| StoreError::database("look up a user to sign in", e);
        let email = username_or_email.trim().to_lowercase();
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(rows::SELECT_USER_FOR_LOGIN)
            .map_err(err)?;
        let mut found = stmt.query((username_or_email, &email)).map_err(err)?;
        let Some(row) = found.next().map_err(err)? else {
            return Ok(None);
        };
        let user = user_from_row(row, 0)?;
        let hash: String = user_columns(row, &user).get(USER_COLUMN_COUNT, "password_hash")?;
        Ok(Some((user, hash)))
    }

    fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("create a session", |tx| {
            tx.prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute((
                    token_hash,
                    user.0,
                    csrf_token,
                    format_time(expires_at),
                    format_time(Utc::now()),
                ))
            })
            .map(drop)
            .map_err(|e| StoreError::database("create a session", e))
        })
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let found = {
            let err = |e| StoreError::database("look up a session", e);
            let conn = self.reader();
            let mut stmt = conn.prepare_cached(rows::SELECT_SESSION).map_err(err)?;
            let mut found = stmt.query([token_hash]).map_err(err)?;
            match found.next().map_err(err)? {
                None => None,
                Some(row) => {
                    let user = user_from_row(row, 0)?;
                    let c = user_columns(row, &user);
                    let csrf_token: String = c.get(USER_COLUMN_COUNT, "sessions.csrf_token")?;
                    let expires_at = c.time(USER_COLUMN_COUNT + 1, "sessions.expires_at")?;
                    Some(Session {
                        user,
                        csrf_token,
                        expires_at,
                    })
                }
            }
        };
        match found {
            Some(session) if session.expires_at > now => Ok(Some(session)),
            Some(_) => {
                // Someone came back with an expired cookie: a good moment to
                // forget every session that has expired by now.
                self.write("forget expired sessions", |tx| {
                    tx.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")
                        .and_then(|mut stmt| stmt.execute([format_time(now)]))
                        .map(drop)
                        .map_err(|e| StoreError::database("forget expired sessions", e))
                })?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write("delete a session", |tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")
                .and_then(|mut stmt| stmt.execute([token_hash]))
                .map(drop)
                .map_err(|e| StoreError::database("delete a session", e))
        })
    }

    fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("create an API token", |tx| {
            tx.prepare_cached(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute((token_hash, user.0, name, format_time(now))))
            .map(drop)
            .map_err(|e| StoreError::database("create an API token", e))
        })
    }

    fn user_for_api_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let found = {
            let err = |e| StoreError::database("look up an API token", e);
            let conn = self.reader();
            let mut stmt = conn
                .prepare_cached(rows::SELECT_API_TOKEN_USER)
                .map_err(err)?;
            let mut found = stmt.query([token_hash]).map_err(err)?;
            match found.next().map_err(err)? {
                None => None,
                Some(row) => {
                    let user = user_from_row(row, 0)?;
                    let last_used = user_columns(row, &user)
                        .opt_time(USER_COLUMN_COUNT, "api_tokens.last_used_at")?;
                    Some((user, last_used))
                }
            }
        };
        let Some((user, last_used)) = found else {
            return Ok(None);
        };
        let now = Utc::now();
        if last_used.is_none_or(|t| now - t >= TOKEN_USE_RESOLUTION) {
            let recorded = self.write("record an API token's use", |tx| {
                tx.prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1")
                    .and_then(|mut stmt| stmt.execute((token_hash, format_time(now))))
                    .map(drop)
                    .map_err(|e| StoreError::database("record an API token's use", e))
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

fn exists(conn: &Connection, sql: &str, value: &str) -> Result<bool, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.exists([value]))
        .map_err(|e| StoreError::database("look up a user", e))
}

enum Unique {
    Username,
    Email,
}

/// Which UNIQUE constraint of `users` an insert broke, if that is what failed.
fn unique_violation(error: &rusqlite::Error) -> Option<Unique> {
    let rusqlite::Error::SqliteFailure(failure, Some(message)) = error else {
        return None;
    };
    if failure.code != ErrorCode::ConstraintViolation {
        return None;
    }
    if message.contains("users.username") {
        Some(Unique::Username)
    } else if message.contains("users.email") {
        Some(Unique::Email)
    } else {
        None
    }
}

fn user_columns<'r, 's>(row: &'r rusqlite::Row<'s>, user: &User) -> RowColumns<'r, 's> {
    RowColumns {
        row,
        table: "users",
        key: user.id.0.to_string(),
    }
}

fn find_user(
    conn: &Connection,
    sql: &str,
    key: &dyn rusqlite::ToSql,
) -> Result<Option<User>, StoreError> {
    let err = |e| StoreError::database("look up a user", e);
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let mut found = stmt.query([key]).map_err(err)?;
    match found.next().map_err(err)? {
        Some(row) => user_from_row(row, 0).map(Some),
        None => Ok(None),
    }
}
