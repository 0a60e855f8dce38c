-- Private status links for consumers who filed on the public portal (tokens stored hashed).
CREATE TABLE portal_access (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX cases_consumer_id ON cases(consumer_id, id);
