-- Deadline clocks on cases. Open clocks are found through the index on their due instant.
CREATE TABLE clocks (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    paused_at INTEGER,
    stopped_at INTEGER,
    outcome TEXT
);
CREATE INDEX clocks_case ON clocks(case_id, id);
CREATE INDEX clocks_due ON clocks(due_at) WHERE stopped_at IS NULL;
