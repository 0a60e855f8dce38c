-- Correspondence. Outgoing mail keeps its Message-ID and threading headers, whether it was an
-- automatic message (never to be answered by another machine), and when it bounced.
ALTER TABLE outbox ADD COLUMN message_id TEXT;
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT;
ALTER TABLE outbox ADD COLUMN refs TEXT;
ALTER TABLE outbox ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN bounced_at INTEGER;
CREATE UNIQUE INDEX outbox_message_id ON outbox(message_id) WHERE message_id IS NOT NULL;

-- Every message that came in, once per Message-ID: claimed while it is being taken in (so that a
-- second copy, another node or a retry after a crash never takes it twice), then what became of
-- it: threaded onto a case, opened one, recorded a bounce, kept as automatic mail, left
-- unmatched for a person, quarantined, or dismissed.
CREATE TABLE inbound_mail (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    class TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    locked_until INTEGER,
    state TEXT NOT NULL,
    reason TEXT,
    case_id INTEGER REFERENCES cases(id),
    raw_sha256 TEXT,
    settled_at INTEGER,
    settled_by TEXT
);
CREATE INDEX inbound_mail_state ON inbound_mail(state, received_at);
