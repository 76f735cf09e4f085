//! Accounts: users, their roles, and the rules for names and addresses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's key in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A signed-up user. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Unique, shown in URLs (`/users/{username}`) and as the submitter.
    pub username: String,
    /// Unique, lower-cased; never shown to other users.
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

/// What sign-up hands the store. The password is already hashed (argon2id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    /// Admin from the start (`paperboy user add --admin`). The first user of
    /// an installation is an admin regardless.
    pub admin: bool,
}

/// Why a username or email address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRuleError {
    #[error("a username has 2 to 32 characters: letters, digits, '-' and '_'")]
    BadUsername,
    #[error(
        "this is not an email address: it needs one '@' with a name before it and a domain after it"
    )]
    BadEmail,
    #[error("an email address has at most 254 characters")]
    EmailTooLong,
    #[error("a password has at least 10 characters")]
    PasswordTooShort,
    #[error("a password has at most 256 characters")]
    PasswordTooLong,
}

/// Checks a username: 2–32 ASCII letters, digits, `-`, `_`.
pub fn validate_username(name: &str) -> Result<(), AccountRuleError> {
    let ok = (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(AccountRuleError::BadUsername)
}

/// Normalises (trims, lower-cases) and checks an email address: one `@`, a
/// local part, a dotted domain, no spaces, at most 254 characters.
pub fn normalize_email(email: &str) -> Result<String, AccountRuleError> {
    let email = email.trim().to_lowercase();
    if email.len() > 254 {
        return Err(AccountRuleError::EmailTooLong);
    }
    let (local, domain) = email.split_once('@').ok_or(AccountRuleError::BadEmail)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    ok.then_some(email).ok_or(AccountRuleError::BadEmail)
}

/// Checks a new password's length (in characters).
pub fn validate_password(password: &str) -> Result<(), AccountRuleError> {
    match password.chars().count() {
        n if n < 10 => Err(AccountRuleError::PasswordTooShort),
        n if n > 256 => Err(AccountRuleError::PasswordTooLong),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ab", "taesiri", "a_b-c9", &"x".repeat(32)] {
            assert_eq!(validate_username(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a", "has space", "ünï", "<script>", &"x".repeat(33)] {
            assert_eq!(
                validate_username(bad),
                Err(AccountRuleError::BadUsername),
                "{bad}"
            );
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Ada@Example.ORG ").as_deref(),
            Ok("ada@example.org")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a@b@c.org",
            "ada@.org",
            "a da@x.org",
            "a@x..org",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_email(&format!("{}@x.org", "a".repeat(250))),
            Err(AccountRuleError::EmailTooLong)
        );
    }

    #[test]
    fn passwords() {
        assert_eq!(
            validate_password("short"),
            Err(AccountRuleError::PasswordTooShort)
        );
        assert_eq!(validate_password("long enough pass"), Ok(()));
        assert_eq!(
            validate_password(&"p".repeat(257)),
            Err(AccountRuleError::PasswordTooLong)
        );
    }
}
