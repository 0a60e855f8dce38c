-- Cases that came from another system's file: the source (the mapping's name) and the row's
-- identifier there. A re-run of the same file finds its rows here and adds nothing twice.
CREATE TABLE case_sources (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX case_sources_case ON case_sources (case_id);

-- Whether the consumer agreed that the description may be published (scrubbed of personal
-- data) in the office's open data file: 1 yes, 0 no, NULL never asked.
ALTER TABLE cases ADD COLUMN publish_consent INTEGER;
