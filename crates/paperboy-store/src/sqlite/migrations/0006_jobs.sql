-- Leases on background jobs (see jobs.rs): who runs a job until when.
CREATE TABLE job_leases (
    job    TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL -- RFC 3339 UTC, milliseconds
) WITHOUT ROWID;
