-- Papers, their daily entries, harvest cursors and the change sequence.
-- Timestamps are RFC 3339 UTC text with milliseconds; lists are JSON arrays.

CREATE TABLE papers (
    id               TEXT    NOT NULL PRIMARY KEY,
    version          INTEGER,
    title            TEXT    NOT NULL,
    abstract         TEXT    NOT NULL,
    authors          TEXT    NOT NULL, -- JSON array of display names, in order
    categories       TEXT    NOT NULL, -- JSON array, primary first when known
    primary_category TEXT,
    published        TEXT,
    updated          TEXT,
    comments         TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    license          TEXT,
    withdrawn        INTEGER NOT NULL,
    observed_at      TEXT,
    upvotes          INTEGER,
    github_repo      TEXT,
    github_stars     INTEGER,
    project_page     TEXT,
    ai_summary       TEXT,
    ai_keywords      TEXT    NOT NULL, -- JSON array
    seq              INTEGER NOT NULL, -- change sequence number of the last change
    created_at       TEXT    NOT NULL
);

CREATE TABLE daily_entries (
    paper_id           TEXT    NOT NULL REFERENCES papers (id),
    day                TEXT    NOT NULL, -- curation day, YYYY-MM-DD
    submitter_name     TEXT,
    submitter_fullname TEXT,
    submitter_avatar   TEXT,
    position           INTEGER NOT NULL,
    submitted_at       TEXT,
    num_comments       INTEGER,
    PRIMARY KEY (day, paper_id)
) WITHOUT ROWID;

CREATE INDEX daily_entries_paper_id ON daily_entries (paper_id);

CREATE TABLE sync_state (
    key        TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE meta (
    key   TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO meta (key, value) VALUES ('change_seq', 0);
