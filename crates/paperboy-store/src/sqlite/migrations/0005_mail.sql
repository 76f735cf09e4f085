-- What mail delivery keeps: subscriptions (double opt-in), saved searches
-- and the papers they matched, and the outbox of messages to send.
-- Timestamps are RFC 3339 UTC text with milliseconds, as in 0001: fixed
-- width, so comparing them as text compares the instants.

-- One subscription per (normalised, lower-case) address.
CREATE TABLE subscriptions (
    id                 INTEGER NOT NULL PRIMARY KEY,
    email              TEXT    NOT NULL UNIQUE,
    user_id            INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status             TEXT    NOT NULL, -- pending | active | paused | unsubscribed
    cadence            TEXT    NOT NULL, -- daily | weekly | alerts
    send_at            TEXT    NOT NULL, -- local time of day, HH:MM
    zone               TEXT    NOT NULL, -- IANA name, e.g. Europe/Berlin
    papers             INTEGER NOT NULL,
    -- SHA-256 (hex) of the confirmation token mailed; NULL once used.
    confirm_token_hash TEXT,
    unsubscribe_token  TEXT    NOT NULL UNIQUE,
    created_at         TEXT    NOT NULL,
    confirmed_at       TEXT,
    next_due           TEXT, -- NULL: no digest due (not active, alerts only)
    bounces            INTEGER NOT NULL DEFAULT 0,
    updated_at         TEXT    NOT NULL
);

CREATE UNIQUE INDEX subscriptions_confirm_token ON subscriptions (confirm_token_hash)
    WHERE confirm_token_hash IS NOT NULL;
CREATE INDEX subscriptions_due ON subscriptions (status, next_due);
CREATE INDEX subscriptions_user_id ON subscriptions (user_id);

-- What many messages of one period share (a digest's papers), stored once
-- and never changed.
CREATE TABLE mail_editions (
    id      INTEGER NOT NULL PRIMARY KEY,
    key     TEXT    NOT NULL UNIQUE,
    content TEXT    NOT NULL
);

-- Every message, from queued to sent or given up. `key` is the Message-ID's
-- local part: one key, one message.
CREATE TABLE outbox (
    id              INTEGER NOT NULL PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL, -- confirm | digest | alert
    subscription_id INTEGER REFERENCES subscriptions (id),
    recipient       TEXT    NOT NULL,
    edition_id      INTEGER REFERENCES mail_editions (id),
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued', -- queued | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT, -- a sender holds it until then
    last_error      TEXT,
    sent_at         TEXT
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, kind, created_at);
CREATE INDEX outbox_subscription_id ON outbox (subscription_id);

CREATE TABLE saved_searches (
    id          INTEGER NOT NULL PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query       TEXT    NOT NULL,
    min_upvotes INTEGER NOT NULL DEFAULT 0,
    exclude     TEXT    NOT NULL DEFAULT '[]', -- JSON array of words
    delivery    TEXT    NOT NULL, -- immediate | digest
    created_at  TEXT    NOT NULL,
    cursor      INTEGER NOT NULL -- change sequence matched up to
);

CREATE INDEX saved_searches_user_id ON saved_searches (user_id);

-- Papers matched for a user, once per (user, paper) whichever of their
-- searches found it, so nobody gets the same paper twice. `message_id` is
-- the message that carried it; NULL while pending. Rows that were sent
-- outlive their search (search_id NULL) to keep that promise.
CREATE TABLE alert_matches (
    id         INTEGER NOT NULL PRIMARY KEY, -- insertion order
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id   TEXT    NOT NULL REFERENCES papers (id),
    search_id  INTEGER REFERENCES saved_searches (id) ON DELETE SET NULL,
    message_id INTEGER REFERENCES outbox (id),
    UNIQUE (user_id, paper_id)
);

CREATE INDEX alert_matches_pending ON alert_matches (user_id) WHERE message_id IS NULL;
CREATE INDEX alert_matches_search_id ON alert_matches (search_id);
CREATE INDEX alert_matches_paper_id ON alert_matches (paper_id);
