-- Files sent with an email (a scheduled report's CSV or XLSX), hex-encoded, in order.
CREATE TABLE outbox_attachments (
    mail_id INTEGER NOT NULL REFERENCES outbox(id),
    position INTEGER NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_hex TEXT NOT NULL,
    PRIMARY KEY (mail_id, position)
);

-- Reports emailed to a list every week (Monday to Sunday) or every month, once the period is
-- over. `last_period_to` is the last day of the last period sent (YYYY-MM-DD): a node sends a
-- period only by moving it forward, so several nodes never send one twice.
CREATE TABLE report_schedules (
    id INTEGER PRIMARY KEY,
    report TEXT NOT NULL,
    every TEXT NOT NULL,
    format TEXT NOT NULL,
    language TEXT NOT NULL,
    recipients TEXT NOT NULL,
    last_period_to TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
