-- Core schema: offices, units, companies, categories, users, tokens, sessions, consumers,
-- cases, timeline, links, idempotency keys and the hash-chained audit log.
-- Instants are INTEGER microseconds since the Unix epoch (UTC); money is INTEGER cents.

CREATE TABLE offices (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    office TEXT NOT NULL REFERENCES offices(code)
);

CREATE TABLE companies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    industry TEXT NOT NULL DEFAULT '',
    customer_count INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES categories(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id INTEGER REFERENCES units(id),
    company_id INTEGER REFERENCES companies(id),
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE consumers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    preferred_language TEXT NOT NULL DEFAULT 'en',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX consumers_phone ON consumers(phone);
CREATE INDEX consumers_email ON consumers(email);

CREATE TABLE consumer_accounts (
    id INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    account_number TEXT NOT NULL,
    UNIQUE (consumer_id, account_number)
);
CREATE INDEX consumer_accounts_number ON consumer_accounts(account_number);

CREATE TABLE reference_counters (
    office TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (office, year)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    office TEXT NOT NULL REFERENCES offices(code),
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    flags TEXT NOT NULL DEFAULT '',
    category_id INTEGER REFERENCES categories(id),
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    company_id INTEGER REFERENCES companies(id),
    account_number TEXT,
    amount_cents INTEGER,
    description TEXT NOT NULL,
    unit_id INTEGER REFERENCES units(id),
    assignee_id INTEGER REFERENCES users(id),
    merged_into_id INTEGER REFERENCES cases(id),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    updated_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_status ON cases(status, id);
CREATE INDEX cases_company ON cases(company_id, id);
CREATE INDEX cases_assignee ON cases(assignee_id, id);
CREATE INDEX cases_unit ON cases(unit_id, id);
CREATE INDEX cases_consumer ON cases(consumer_id);
CREATE INDEX cases_opened ON cases(opened_at);

CREATE TABLE timeline (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    seq INTEGER NOT NULL,
    entry_type TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    author_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;
CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
BEGIN SELECT RAISE(ABORT, 'timeline is append-only'); END;

CREATE TABLE case_links (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    other_case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (case_id, other_case_id, kind)
);
CREATE INDEX case_links_other ON case_links(other_case_id);

CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_subject ON audit_log(subject, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The head of each chain: locked while a row is appended so concurrent appends queue.
CREATE TABLE audit_chains (
    chain TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
