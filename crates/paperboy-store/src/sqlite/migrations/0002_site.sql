-- What the web site adds: accounts, sessions, API tokens, and what users do
-- (upvotes, comments, reading lists), plus the counts a listing ranks by.
-- Timestamps are RFC 3339 UTC text with milliseconds, as in 0001.

-- Users' upvotes and visible comments (not deleted, not hidden), kept in step
-- with `upvotes` and `comments` in the same transaction as each change, so a
-- listing ranks by them without counting rows.
ALTER TABLE papers ADD COLUMN user_upvotes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE papers ADD COLUMN user_comments INTEGER NOT NULL DEFAULT 0;

CREATE TABLE users (
    id            INTEGER NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    email         TEXT    NOT NULL UNIQUE, -- lower-cased
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL
);

-- Keyed by the hash of the cookie token: the token itself is never stored.
CREATE TABLE sessions (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    created_at TEXT    NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    token_hash   TEXT    NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT
) WITHOUT ROWID;

CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE upvotes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id   TEXT    NOT NULL REFERENCES papers (id),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, paper_id)
) WITHOUT ROWID;

CREATE INDEX upvotes_paper_id ON upvotes (paper_id);

-- One level of replies: parent_id names a top-level comment of the same paper.
CREATE TABLE comments (
    id         INTEGER NOT NULL PRIMARY KEY,
    paper_id   TEXT    NOT NULL REFERENCES papers (id),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    parent_id  INTEGER REFERENCES comments (id),
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    edited_at  TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0,
    hidden     INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX comments_paper_id ON comments (paper_id, created_at);
CREATE INDEX comments_parent_id ON comments (parent_id);
CREATE INDEX comments_author_id ON comments (author_id);

CREATE TABLE saved_papers (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id TEXT    NOT NULL REFERENCES papers (id),
    saved_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);

CREATE INDEX saved_papers_paper_id ON saved_papers (paper_id);

-- Listings: a range of days is a range of the primary key (day, paper_id) of
-- daily_entries, which needs no index of its own; "submitted by" needs this
-- one (case-insensitive, like usernames).
CREATE INDEX daily_entries_submitter ON daily_entries (submitter_name COLLATE NOCASE, day);
