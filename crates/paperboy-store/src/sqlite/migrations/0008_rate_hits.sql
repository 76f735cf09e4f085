-- Attempts counted against rate limits (logins, sign-ups, subscription
-- requests), shared by every process: the kind, a SHA-256 (hex) of what it
-- is counted against (a client address, an account, an email address: never
-- kept in clear), and when. Rows leave as their window passes.
CREATE TABLE rate_hits (
    id   INTEGER NOT NULL PRIMARY KEY,
    kind TEXT    NOT NULL,
    key  TEXT    NOT NULL,
    at   TEXT    NOT NULL -- RFC 3339 UTC, milliseconds
);

CREATE INDEX rate_hits_key ON rate_hits (kind, key, at);
CREATE INDEX rate_hits_at ON rate_hits (kind, at);
