-- Leases on background jobs (see jobs.rs): who runs a job until when.
CREATE TABLE job_leases (
    job    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder TEXT COLLATE "C" NOT NULL,
    until  TEXT COLLATE "C" NOT NULL -- RFC 3339 UTC, milliseconds
);
