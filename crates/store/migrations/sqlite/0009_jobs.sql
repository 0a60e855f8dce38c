-- Scheduled work: claimed with a lease, retried with back-off, dead after too many attempts.
-- A job's effects and its completion commit together, so a node that dies mid-job leaves
-- nothing half done and the job runs again elsewhere.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    locked_by TEXT,
    done_at INTEGER,
    dead_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE done_at IS NULL AND dead_at IS NULL;
