-- Searches of the case list kept under a name: a person's own, or a unit's (shared with
-- everyone in it). The filters are a JSON object of the case list's parameters.
CREATE TABLE saved_searches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    unit_id INTEGER REFERENCES units(id),
    params TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (unit_id IS NULL))
);
CREATE UNIQUE INDEX saved_searches_user_name ON saved_searches(user_id, name) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX saved_searches_unit_name ON saved_searches(unit_id, name) WHERE unit_id IS NOT NULL;
CREATE INDEX saved_searches_unit ON saved_searches(unit_id) WHERE unit_id IS NOT NULL;
