-- Where a new case goes when whoever opened it chose no unit. Rules are tried in position order
-- (then id); the first whose conditions (each optional) all hold decides. A rule with no conditions
-- catches every case that reaches it: the office's intake unit.
CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY,
    position INTEGER NOT NULL,
    channel TEXT,
    kind TEXT,
    category TEXT,
    company_id INTEGER REFERENCES companies(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    created_at INTEGER NOT NULL
);
