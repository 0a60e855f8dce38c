-- Lifecycles: the state a case is in within its kind's lifecycle, the facts its transitions
-- recorded (decision mailing dates, hearing dates, amounts), each clock's alert policy and
-- due-soon instant, and staff email addresses for deadline notices.
ALTER TABLE cases ADD COLUMN stage TEXT;
CREATE TABLE case_facts (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (case_id, name)
);
ALTER TABLE clocks ADD COLUMN warn_at INTEGER;
ALTER TABLE clocks ADD COLUMN policy TEXT;
CREATE INDEX clocks_warn ON clocks(warn_at) WHERE stopped_at IS NULL AND warned_at IS NULL;
DROP INDEX clocks_due;
CREATE INDEX clocks_due ON clocks(due_at) WHERE stopped_at IS NULL AND escalated_at IS NULL;
ALTER TABLE users ADD COLUMN email TEXT;
