//! Every SQL statement Redress runs, by name. The same text runs on SQLite and PostgreSQL
//! (`$n` placeholders work on both); nothing is ever built from user input.

macro_rules! case_select {
    () => {
        "SELECT c.id, c.reference, c.office, c.kind, c.channel, c.status, c.stage, c.lifecycle, c.priority, c.flags, \
         cat.path AS category_path, c.consumer_id, c.company_id, co.name AS company_name, c.account_number, \
         c.amount_cents, c.description, un.code AS unit_code, a.username AS assignee, m.reference AS merged_into, \
         c.opened_at, c.closed_at, c.updated_at, c.version \
         FROM cases c \
         LEFT JOIN categories cat ON cat.id = c.category_id \
         LEFT JOIN companies co ON co.id = c.company_id \
         LEFT JOIN units un ON un.id = c.unit_id \
         LEFT JOIN users a ON a.id = c.assignee_id \
         LEFT JOIN cases m ON m.id = c.merged_into_id "
    };
}

macro_rules! user_select {
    () => {
        "SELECT u.id, u.username, u.display_name, u.role, un.code AS unit_code, u.company_id, u.active, u.created_at \
         FROM users u LEFT JOIN units un ON un.id = u.unit_id "
    };
}

pub const SCHEMA_VERSIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
pub const PING: &str = "SELECT 1";

pub const UPSERT_OFFICE: &str = "INSERT INTO offices (code, name, time_zone, closes_at, opens_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, closes_at = excluded.closes_at, \
     opens_at = excluded.opens_at";
pub const OFFICE: &str =
    "SELECT code, name, time_zone, opens_at, closes_at FROM offices WHERE code = $1";
pub const OFFICES: &str =
    "SELECT code, name, time_zone, opens_at, closes_at FROM offices ORDER BY code";

pub const INSERT_UNIT: &str =
    "INSERT INTO units (code, name, office) VALUES ($1, $2, $3) RETURNING id";
pub const UNITS: &str = "SELECT id, code, name, office FROM units ORDER BY name";
pub const UNIT_BY_CODE: &str = "SELECT id, code, name, office FROM units WHERE code = $1";

pub const ROUTING_RULES: &str = "SELECT r.id, r.position, r.channel, r.kind, r.category, r.company_id, \
     u.code AS unit FROM routing_rules r JOIN units u ON u.id = r.unit_id ORDER BY r.position, r.id";
pub const INSERT_ROUTING_RULE: &str = "INSERT INTO routing_rules \
     (position, channel, kind, category, company_id, unit_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
pub const DELETE_ROUTING_RULE: &str = "DELETE FROM routing_rules WHERE id = $1";

pub const INSERT_COMPANY: &str = "INSERT INTO companies (name, industry, customer_count, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
pub const UPDATE_COMPANY: &str =
    "UPDATE companies SET name = $2, industry = $3, customer_count = $4 WHERE id = $1";
pub const COMPANIES: &str =
    "SELECT id, name, industry, customer_count, created_at FROM companies ORDER BY name";
pub const COMPANY: &str =
    "SELECT id, name, industry, customer_count, created_at FROM companies WHERE id = $1";
pub const COMPANY_BY_NAME: &str =
    "SELECT id, name, industry, customer_count, created_at FROM companies WHERE name = $1";

pub const CATEGORY_BY_PATH: &str =
    "SELECT id, parent_id, name, name_es, path FROM categories WHERE path = $1";
pub const CATEGORY: &str =
    "SELECT id, parent_id, name, name_es, path FROM categories WHERE id = $1";
pub const NAME_CATEGORY_ES: &str = "UPDATE categories SET name_es = $2 WHERE id = $1";
pub const INSERT_CATEGORY: &str =
    "INSERT INTO categories (parent_id, name, path) VALUES ($1, $2, $3) RETURNING id";
pub const CATEGORIES: &str =
    "SELECT id, parent_id, name, name_es, path FROM categories ORDER BY path";

pub const INSERT_USER: &str = "INSERT INTO users (username, display_name, role, unit_id, company_id, password_hash, active, created_at, email) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
pub const USERS: &str = concat!(user_select!(), "ORDER BY u.username");
pub const USER: &str = concat!(user_select!(), "WHERE u.id = $1");
pub const CREDENTIALS: &str = "SELECT x.password_hash, x.failed_logins, x.locked_until, x.id, x.totp_secret, x.totp_last_step FROM users x WHERE x.username = $1";
pub const SET_TOTP: &str = "UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1";
/// Records a used TOTP step; changes nothing (so the code is refused) when it was used already.
pub const USE_TOTP_STEP: &str = "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";
pub const SET_PASSWORD: &str =
    "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1";
pub const LOGIN_OK: &str = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1";
pub const LOGIN_FAILED: &str =
    "UPDATE users SET failed_logins = failed_logins + 1, locked_until = $2 WHERE id = $1";

pub const INSERT_TOKEN: &str = "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
pub const TOKENS: &str =
    "SELECT id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id";
pub const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
pub const USER_BY_TOKEN: &str = concat!(
    user_select!(),
    "JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active"
);

pub const INSERT_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub const EXTEND_SESSION: &str =
    "UPDATE sessions SET expires_at = $2 WHERE id_hash = $1 AND expires_at > $3";
pub const SESSION: &str = "SELECT s.user_id, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active";
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";
/// A new password ends every session the user had.
pub const UNIT_ID_OF_USER: &str = "SELECT unit_id FROM users WHERE id = $1";
/// A user's email address (kept for notices, not part of the user record shown).
pub const USER_EMAIL: &str = "SELECT email FROM users WHERE id = $1";
pub const UPDATE_USER: &str = "UPDATE users SET display_name = $2, role = $3, unit_id = $4, company_id = $5, \
     email = $6, active = $7 WHERE id = $1";
pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

pub const CONSUMER: &str = "SELECT id, name, phone, email, address_line1, address_line2, city, state, zip, \
     preferred_language, created_at, merged_into FROM consumers WHERE id = $1";
pub const CONSUMER_ACCOUNTS: &str =
    "SELECT account_number FROM consumer_accounts WHERE consumer_id = $1 ORDER BY id";
pub const CONSUMERS_BY_PHONE: &str =
    "SELECT id FROM consumers WHERE phone = $1 AND merged_into IS NULL ORDER BY id LIMIT $2";
pub const CONSUMERS_BY_EMAIL: &str =
    "SELECT id FROM consumers WHERE email = $1 AND merged_into IS NULL ORDER BY id LIMIT $2";
pub const CONSUMERS_BY_ACCOUNT: &str = "SELECT DISTINCT a.consumer_id AS id FROM consumer_accounts a \
     JOIN consumers c ON c.id = a.consumer_id WHERE a.account_number = $1 AND c.merged_into IS NULL \
     ORDER BY a.consumer_id LIMIT $2";
/// Other records that share a phone number, an email address or an account number with this one:
/// possibly the same person, for staff to decide.
pub const CONSUMER_DUPLICATES: &str = "SELECT c.id FROM consumers c, consumers me WHERE me.id = $1 \
     AND c.id <> me.id AND c.merged_into IS NULL AND ( \
       (c.phone IS NOT NULL AND c.phone = me.phone) \
       OR (c.email IS NOT NULL AND c.email = me.email) \
       OR c.id IN (SELECT o.consumer_id FROM consumer_accounts mine \
                   JOIN consumer_accounts o ON o.account_number = mine.account_number \
                   WHERE mine.consumer_id = me.id)) \
     ORDER BY c.id LIMIT $2";
/// A merged record points at the one kept; its own values are left as they were.
pub const MARK_CONSUMER_MERGED: &str =
    "UPDATE consumers SET merged_into = $2, updated_at = $3 WHERE id = $1 AND merged_into IS NULL";
/// The kept record gains the merged one's account numbers.
pub const COPY_CONSUMER_ACCOUNTS: &str = "INSERT INTO consumer_accounts (consumer_id, account_number) \
     SELECT $2, account_number FROM consumer_accounts WHERE consumer_id = $1 \
     ON CONFLICT (consumer_id, account_number) DO NOTHING";
/// The merged record's cases move to the kept one (each move is audited on the case's chain).
pub const MOVE_CONSUMER_CASES: &str = "UPDATE cases SET consumer_id = $2, version = version + 1, updated_at = $3 \
     WHERE consumer_id = $1 RETURNING id, reference, version";
pub const INSERT_CONSUMER: &str = "INSERT INTO consumers (name, phone, email, address_line1, address_line2, city, state, zip, \
     preferred_language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id";
/// Fills in what a repeat contact adds, never overwriting what is on file.
/// Staff's correction of a consumer's contact details (never a merged record's).
pub const CORRECT_CONSUMER: &str = "UPDATE consumers SET name = $2, phone = $3, email = $4, address_line1 = $5, \
     address_line2 = $6, city = $7, state = $8, zip = $9, preferred_language = $10, updated_at = $11 \
     WHERE id = $1 AND merged_into IS NULL";
/// The consumer a case is about.
pub const CASE_CONSUMER_ID: &str = "SELECT consumer_id FROM cases WHERE id = $1";
/// A new version of a case whose row did not otherwise change (its consumer's details did).
pub const BUMP_CASE: &str =
    "UPDATE cases SET updated_at = $3, version = version + 1 WHERE id = $1 AND version = $2";
pub const ENRICH_CONSUMER: &str = "UPDATE consumers SET phone = COALESCE(phone, $2), email = COALESCE(email, $3), \
     address_line1 = COALESCE(address_line1, $4), address_line2 = COALESCE(address_line2, $5), \
     city = COALESCE(city, $6), state = COALESCE(state, $7), zip = COALESCE(zip, $8), \
     preferred_language = $9, updated_at = $10 WHERE id = $1";
pub const INSERT_ACCOUNT: &str = "INSERT INTO consumer_accounts (consumer_id, account_number) VALUES ($1, $2) \
     ON CONFLICT (consumer_id, account_number) DO NOTHING";

pub const IDEMPOTENCY: &str =
    "SELECT request_hash, case_id FROM idempotency_keys WHERE user_id = $1 AND key = $2";
pub const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency_keys (user_id, key, request_hash, case_id, created_at) VALUES ($1, $2, $3, $4, $5)";

/// Takes `$3` reference numbers at once; returns the last.
pub const NEXT_REFERENCES: &str = "INSERT INTO reference_counters (office, year, last_seq) VALUES ($1, $2, $3) \
     ON CONFLICT (office, year) DO UPDATE SET last_seq = reference_counters.last_seq + $3 RETURNING last_seq";
/// PostgreSQL only, for the reference-counter sessions: commits do not wait for their own
/// WAL flush (the case's later, synchronous commit flushes them).
pub const ASYNC_COMMIT_SESSION: &str = "SET synchronous_commit TO OFF";
/// PostgreSQL only: a job that only reads sees one snapshot throughout, and cannot write.
pub const READ_SNAPSHOT_POSTGRES: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
pub const INSERT_CASE: &str = "INSERT INTO cases (reference, office, kind, channel, status, priority, flags, category_id, \
     consumer_id, company_id, account_number, amount_cents, description, unit_id, assignee_id, opened_at, closed_at, \
     updated_at, created_by, version, stage, lifecycle, publish_consent) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $16, $18, 1, $19, $20, $21) RETURNING id";
/// Leaves the search index to the end of this transaction (an import's batch).
pub const DEFER_SEARCH: &str = "INSERT INTO search_deferred (id) VALUES (1)";
pub const UNDEFER_SEARCH: &str = "DELETE FROM search_deferred";
macro_rules! index_cases {
    ($key:literal, $agg:literal, $more:literal, $more_values:literal) => {
        concat!(
            "INSERT INTO case_search (", $key, ", head, shared, internal, person", $more, ") \
             SELECT c.id, \
             c.reference || ' ' || COALESCE(co.name, '') || ' ' || COALESCE(cat.path, '') || ' ' || c.description, \
             COALESCE((SELECT ", $agg, " FROM timeline t WHERE t.case_id = c.id AND t.visibility = 'company'), ''), \
             COALESCE((SELECT ", $agg, " FROM timeline t WHERE t.case_id = c.id AND t.visibility <> 'company'), ''), \
             COALESCE(p.name, '') || ' ' || COALESCE(p.email, '') || ' ' || COALESCE(p.phone, '') || ' ' || COALESCE(c.account_number, '')",
            $more_values,
            " FROM cases c \
             LEFT JOIN companies co ON co.id = c.company_id \
             LEFT JOIN categories cat ON cat.id = c.category_id \
             LEFT JOIN consumers p ON p.id = c.consumer_id \
             WHERE c.id BETWEEN $1 AND $2 AND NOT EXISTS (SELECT 1 FROM case_search s WHERE s.", $key, " = c.id)"
        )
    };
}
/// Indexes the cases of ids `$1`–`$2` that have no search row yet (a batch filed with the index
/// deferred), their entries in order, at most 200,000 characters a part.
pub const INDEX_CASES_SQLITE: &str = index_cases!(
    "rowid",
    "substr(group_concat(t.body, ' ' ORDER BY t.seq), 1, 200000)",
    "",
    ""
);
pub const INDEX_CASES_POSTGRES: &str = index_cases!(
    "case_id",
    "left(string_agg(t.body, ' ' ORDER BY t.seq), 200000)",
    ", opened_at",
    ", c.opened_at"
);
/// The case an imported row became.
pub const CASE_BY_SOURCE: &str =
    "SELECT case_id FROM case_sources WHERE source = $1 AND external_id = $2";
pub const INSERT_CASE_SOURCE: &str =
    "INSERT INTO case_sources (source, external_id, case_id, imported_at) VALUES ($1, $2, $3, $4)";

pub const CASE_BY_ID: &str = concat!(case_select!(), "WHERE c.id = $1");
pub const CASE_BY_REFERENCE: &str = concat!(
    case_select!(),
    "WHERE c.reference = $1 AND ($2 IS NULL OR c.company_id = $2)"
);
/// The case list's filters, `$1`–`$12` (`$9` is the page size): status, kind, unit, assignee,
/// company, opened after, before id (cursor), the caller's company, consumer, open only,
/// unassigned only. Shared by the API's list and the work lists.
macro_rules! case_filters {
    () => {
        "WHERE ($1 IS NULL OR c.status = $1) AND ($2 IS NULL OR c.kind = $2) AND ($3 IS NULL OR c.unit_id = $3) \
     AND ($4 IS NULL OR c.assignee_id = $4) AND ($5 IS NULL OR c.company_id = $5) AND ($6 IS NULL OR c.opened_at > $6) \
     AND ($7 IS NULL OR c.id < $7) AND ($8 IS NULL OR c.company_id = $8) AND ($10 IS NULL OR c.consumer_id = $10) \
     AND ($11 IS NULL OR c.status NOT IN ('resolved', 'closed', 'merged')) AND ($12 IS NULL OR c.assignee_id IS NULL)"
    };
}

pub const CASE_LIST: &str = concat!(
    case_select!(),
    case_filters!(),
    " ORDER BY c.id DESC LIMIT $9"
);
// ---- work lists (see `work_list.rs`) ----
//
// Every work-list statement takes the case list's filters `$1`–`$12` (as in `CASE_LIST`; `$9` is
// the number of rows wanted), `$13` (only cases with a running clock due before it), `$14` (only
// cases whose entry in the search index matches it: an FTS5 query on SQLite, a `tsquery` on
// PostgreSQL, limited to the parts the reader may search); the pages also `$15` (the rows to
// skip), and the sorted page `$16` (a `WorkOrder` word, `-desc` for the other way).

/// Only cases whose search entry matches `$14`, on SQLite (`$id` names the case's id).
macro_rules! work_text_sqlite {
    ($id:literal) => {
        concat!(
            " AND ($14 IS NULL OR ",
            $id,
            " IN (SELECT rowid FROM case_search WHERE case_search MATCH $14))"
        )
    };
}
/// The same on PostgreSQL, asked of each case in turn (a walk stops after a page of matches). An
/// `IN (SELECT ...)` under `OR` is never turned into a join: PostgreSQL ran it again for each case
/// when the matches did not fit in `work_mem`, and a list with "credit" did not answer in minutes.
macro_rules! work_text_postgres {
    ($id:literal) => {
        concat!(
            " AND ($14::TEXT IS NULL OR (SELECT s.doc @@ to_tsquery('simple', $14::TEXT) \
             FROM case_search s WHERE s.case_id = ",
            $id,
            "))"
        )
    };
}
/// The matches of `$14` as a set PostgreSQL joins the cases with (for counts and sorted pages of
/// lists with words).
macro_rules! work_words_postgres {
    () => {
        " AND c.id IN (SELECT case_id FROM case_search WHERE doc @@ to_tsquery('simple', $14::TEXT))"
    };
}
/// Only cases with a running clock due before `$13`.
macro_rules! work_due {
    () => {
        " AND ($13 IS NULL OR EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id \
         AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $13))"
    };
}
/// The cases a work list keeps among `$from` (which names the cases `c`), then `$tail`.
macro_rules! work_kept_from {
    ($from:literal, $text:expr, $tail:expr) => {
        concat!($from, " ", case_filters!(), $text, work_due!(), $tail)
    };
}
/// Their ids.
macro_rules! work_kept {
    ($from:literal, $text:expr, $tail:expr) => {
        concat!("SELECT c.id FROM ", work_kept_from!($from, $text, $tail))
    };
}
/// How many rows `$select` gives, up to `$9` (its tail must not end in a `LIMIT`).
macro_rules! counted {
    ($select:expr) => {
        concat!("SELECT COUNT(*) AS n FROM (", $select, " LIMIT $9) kept")
    };
}
/// How many cases a work list holds, counted up to `$9`. `$from` and `$driver` repeat one filter
/// that is set in a form an index answers (SQLite cannot use one through `$n IS NULL OR`).
macro_rules! work_count {
    ($from:literal, $text:expr, $driver:expr) => {
        counted!(work_kept!($from, $text, $driver))
    };
}
/// A page of a work list, every case it holds ordered by `$16`: for lists of a few thousand
/// cases, and the orders no index gives. Each order's key is read only for its own order.
macro_rules! work_sorted {
    ($from:literal, $text:expr, $driver:expr) => {
        concat!(
            "SELECT w.id FROM (SELECT c.id, c.status, c.opened_at, c.updated_at, c.company_id, c.consumer_id, \
             CASE WHEN $16 IN ('due', 'due-desc') THEN (SELECT MIN(k.due_at) FROM clocks k WHERE k.case_id = c.id \
               AND k.stopped_at IS NULL AND k.paused_at IS NULL) END AS next_due, \
             CASE WHEN $16 IN ('consumer', 'consumer-desc') THEN \
               (SELECT LOWER(p.name) FROM consumers p WHERE p.id = c.consumer_id) END AS consumer_key, \
             CASE WHEN $16 IN ('company', 'company-desc') THEN \
               (SELECT LOWER(co.name) FROM companies co WHERE co.id = c.company_id) END AS company_key \
             FROM ",
            work_kept_from!($from, $text, $driver),
            ") w ORDER BY \
             CASE WHEN $16 IN ('due', 'due-desc') THEN (CASE WHEN w.next_due IS NULL THEN 1 ELSE 0 END) END, \
             CASE WHEN $16 = 'due' THEN w.next_due END ASC, CASE WHEN $16 = 'due-desc' THEN w.next_due END DESC, \
             CASE WHEN $16 = 'due' THEN w.id END ASC, \
             CASE WHEN $16 = 'reference' THEN w.id END ASC, CASE WHEN $16 = 'reference-desc' THEN w.id END DESC, \
             CASE WHEN $16 IN ('consumer', 'consumer-desc') THEN (CASE WHEN w.consumer_key IS NULL THEN 1 ELSE 0 END) END, \
             CASE WHEN $16 = 'consumer' THEN w.consumer_key END ASC, CASE WHEN $16 = 'consumer' THEN w.consumer_id END ASC, \
             CASE WHEN $16 = 'consumer-desc' THEN w.consumer_key END DESC, CASE WHEN $16 = 'consumer-desc' THEN w.consumer_id END DESC, \
             CASE WHEN $16 IN ('company', 'company-desc') THEN (CASE WHEN w.company_key IS NULL THEN 1 ELSE 0 END) END, \
             CASE WHEN $16 = 'company' THEN w.company_key END ASC, CASE WHEN $16 = 'company' THEN w.company_id END ASC, \
             CASE WHEN $16 = 'company-desc' THEN w.company_key END DESC, CASE WHEN $16 = 'company-desc' THEN w.company_id END DESC, \
             CASE WHEN $16 = 'stage' THEN w.status END ASC, CASE WHEN $16 = 'stage-desc' THEN w.status END DESC, \
             CASE WHEN $16 = 'age' THEN w.opened_at END DESC, CASE WHEN $16 = 'age-desc' THEN w.opened_at END ASC, \
             CASE WHEN $16 = 'activity' THEN w.updated_at END DESC, CASE WHEN $16 = 'activity-desc' THEN w.updated_at END ASC, \
             w.id DESC \
             LIMIT $9 OFFSET $15"
        )
    };
}
/// Each case once, at its first running clock (by due instant), when that is due before `$13`
/// (or whenever it is due, when `$13` is not set): the clock `k` of the case `c`.
macro_rules! first_running_clock {
    () => {
        " AND c.id = k.case_id AND k.stopped_at IS NULL AND k.paused_at IS NULL \
         AND k.due_at < COALESCE($13, 9223372036854775807) \
         AND k.id = (SELECT k2.id FROM clocks k2 WHERE k2.case_id = k.case_id AND k2.stopped_at IS NULL \
           AND k2.paused_at IS NULL ORDER BY k2.due_at, k2.id LIMIT 1)"
    };
}
/// The filters that drive a SQLite count or sorted page through an index, in the order of
/// `work_list::Driver`: none, the consumer, the assignee, the caller's company, the company, the
/// unit, the running clocks due before `$13` (walked by due instant, each case at its first),
/// nobody assigned, the words (the matches as the index lists them), the status.
macro_rules! sqlite_drivers {
    ($each:ident) => {
        [
            $each!("cases c", work_text_sqlite!("c.id"), ""),
            $each!(
                "cases c",
                work_text_sqlite!("c.id"),
                " AND c.consumer_id = $10"
            ),
            $each!(
                "cases c",
                work_text_sqlite!("c.id"),
                " AND c.assignee_id = $4"
            ),
            $each!(
                "cases c",
                work_text_sqlite!("c.id"),
                " AND c.company_id = $8"
            ),
            $each!(
                "cases c",
                work_text_sqlite!("c.id"),
                " AND c.company_id = $5"
            ),
            $each!("cases c", work_text_sqlite!("c.id"), " AND c.unit_id = $3"),
            $each!(
                "clocks k INDEXED BY clocks_running CROSS JOIN cases c",
                work_text_sqlite!("k.case_id"),
                first_running_clock!()
            ),
            $each!(
                "cases c",
                work_text_sqlite!("c.id"),
                " AND c.assignee_id IS NULL"
            ),
            $each!(
                "case_search s CROSS JOIN cases c",
                "",
                " AND c.id = s.rowid AND s.case_search MATCH $14"
            ),
            $each!("cases c", work_text_sqlite!("c.id"), " AND c.status = $1"),
        ]
    };
}
pub const WORK_COUNT_SQLITE: [&str; 10] = sqlite_drivers!(work_count);
pub const WORK_SORTED_SQLITE: [&str; 10] = sqlite_drivers!(work_sorted);
/// PostgreSQL plans each statement for its values (`plan_cache_mode`), so the filters left
/// empty fall away and its planner picks the index itself.
/// Without words, and with them.
pub const WORK_COUNT_POSTGRES: [&str; 2] = [
    work_count!("cases c", work_text_postgres!("c.id"), ""),
    work_count!("cases c", "", work_words_postgres!()),
];
pub const WORK_SORTED_POSTGRES: [&str; 2] = [
    work_sorted!("cases c", work_text_postgres!("c.id"), ""),
    work_sorted!("cases c", "", work_words_postgres!()),
];

/// A page of a long list by next deadline: the running clocks walked by due instant (`$dir`),
/// each case at its first running clock (its next deadline), kept when the filters keep its case
/// and due before `$13` when set. The cases without a running clock follow (`WORK_UNCLOCKED_*`).
macro_rules! work_due_walk {
    ($indexed:literal, $text:expr, $tail:literal) => {
        concat!(
            "SELECT c.id FROM clocks k ",
            $indexed,
            " CROSS JOIN cases c ",
            case_filters!(),
            $text,
            first_running_clock!(),
            $tail
        )
    };
}
pub const WORK_DUE_WALK_SQLITE: [&str; 2] = [
    work_due_walk!(
        "INDEXED BY clocks_running",
        work_text_sqlite!("k.case_id"),
        " ORDER BY k.due_at ASC, k.case_id ASC LIMIT $9 OFFSET $15"
    ),
    work_due_walk!(
        "INDEXED BY clocks_running",
        work_text_sqlite!("k.case_id"),
        " ORDER BY k.due_at DESC, k.case_id DESC LIMIT $9 OFFSET $15"
    ),
];
pub const WORK_DUE_WALK_POSTGRES: [&str; 2] = [
    work_due_walk!(
        "",
        work_text_postgres!("k.case_id"),
        " ORDER BY k.due_at ASC, k.case_id ASC LIMIT $9 OFFSET $15"
    ),
    work_due_walk!(
        "",
        work_text_postgres!("k.case_id"),
        " ORDER BY k.due_at DESC, k.case_id DESC LIMIT $9 OFFSET $15"
    ),
];
/// How many cases of a list have a running clock (counted up to `$9`).
pub const WORK_CLOCKED_SQLITE: &str = counted!(work_due_walk!(
    "INDEXED BY clocks_running",
    work_text_sqlite!("k.case_id"),
    ""
));
pub const WORK_CLOCKED_POSTGRES: &str =
    counted!(work_due_walk!("", work_text_postgres!("k.case_id"), ""));
/// The cases of a list without a running clock, by id (they follow the others in the orders by
/// next deadline: the oldest first, or the newest when the order is reversed).
macro_rules! work_unclocked {
    ($text:expr, $direction:literal) => {
        work_kept!(
            "cases c",
            $text,
            concat!(
                " AND NOT EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL \
                 AND k.paused_at IS NULL) ORDER BY c.id ",
                $direction,
                " LIMIT $9 OFFSET $15"
            )
        )
    };
}
pub const WORK_UNCLOCKED_SQLITE: [&str; 2] = [
    work_unclocked!(work_text_sqlite!("c.id"), "ASC"),
    work_unclocked!(work_text_sqlite!("c.id"), "DESC"),
];
pub const WORK_UNCLOCKED_POSTGRES: [&str; 2] = [
    work_unclocked!(work_text_postgres!("c.id"), "ASC"),
    work_unclocked!(work_text_postgres!("c.id"), "DESC"),
];
/// A page of a long list by company: the companies walked by name (lower case; then by id, so
/// that each company's cases stay together), each one's cases newest first. The cases about no
/// company follow (`WORK_NO_COMPANY_*`).
/// Cases walked through a table of names (`$join` ties the case to its row), in `$tail`'s order.
macro_rules! work_named_walk {
    ($from:literal, $text:expr, $join:literal, $tail:expr) => {
        work_kept!($from, $text, concat!($join, $tail))
    };
}
/// Through the names of `$t` (`co` or `p`) one way (`$dir`), each one's cases newest first.
macro_rules! work_named_walk_one_way {
    ($from:literal, $text:expr, $join:literal, $t:literal, $dir:literal) => {
        work_named_walk!(
            $from,
            $text,
            $join,
            concat!(
                " ORDER BY LOWER(",
                $t,
                ".name) ",
                $dir,
                ", ",
                $t,
                ".id ",
                $dir,
                ", c.id DESC LIMIT $9 OFFSET $15"
            )
        )
    };
}
/// Both ways through the names of `$t`.
macro_rules! work_named_walks {
    ($from:literal, $text:expr, $join:literal, $t:literal) => {
        [
            work_named_walk_one_way!($from, $text, $join, $t, "ASC"),
            work_named_walk_one_way!($from, $text, $join, $t, "DESC"),
        ]
    };
}
pub const WORK_COMPANY_WALK_SQLITE: [&str; 2] = work_named_walks!(
    "companies co INDEXED BY companies_by_name CROSS JOIN cases c INDEXED BY cases_company",
    work_text_sqlite!("c.id"),
    " AND c.company_id = co.id",
    "co"
);
pub const WORK_COMPANY_WALK_POSTGRES: [&str; 2] = work_named_walks!(
    "companies co CROSS JOIN cases c",
    work_text_postgres!("c.id"),
    " AND c.company_id = co.id",
    "co"
);
/// A page of a long list by consumer: the consumers walked by name (lower case; then by id, so
/// that each person's cases stay together), each one's cases newest first. Every case has a
/// consumer.
pub const WORK_CONSUMER_WALK_SQLITE: [&str; 2] = work_named_walks!(
    "consumers p INDEXED BY consumers_by_name CROSS JOIN cases c INDEXED BY cases_consumer_id",
    work_text_sqlite!("c.id"),
    " AND c.consumer_id = p.id",
    "p"
);
pub const WORK_CONSUMER_WALK_POSTGRES: [&str; 2] = work_named_walks!(
    "consumers p CROSS JOIN cases c",
    work_text_postgres!("c.id"),
    " AND c.consumer_id = p.id",
    "p"
);
/// How many cases of a list are about a company (counted up to `$9`).
pub const WORK_WITH_COMPANY_SQLITE: &str = counted!(work_named_walk!(
    "companies co CROSS JOIN cases c INDEXED BY cases_company",
    work_text_sqlite!("c.id"),
    " AND c.company_id = co.id",
    ""
));
pub const WORK_WITH_COMPANY_POSTGRES: &str = counted!(work_named_walk!(
    "companies co CROSS JOIN cases c",
    work_text_postgres!("c.id"),
    " AND c.company_id = co.id",
    ""
));
/// The cases of a list about no company, newest first (last in the orders by company).
macro_rules! work_no_company {
    ($from:literal, $text:expr) => {
        work_kept!(
            $from,
            $text,
            " AND c.company_id IS NULL ORDER BY c.id DESC LIMIT $9 OFFSET $15"
        )
    };
}
pub const WORK_NO_COMPANY_SQLITE: &str = work_no_company!(
    "cases c INDEXED BY cases_company",
    work_text_sqlite!("c.id")
);
pub const WORK_NO_COMPANY_POSTGRES: &str = work_no_company!("cases c", work_text_postgres!("c.id"));
/// The words of `$1` (a JSON array of the statuses) in the order the database sorts them, as
/// the orders by stage compare them.
pub const STATUS_ORDER_SQLITE: &str = "SELECT value AS status FROM json_each($1) ORDER BY value";
pub const STATUS_ORDER_POSTGRES: &str =
    "SELECT value AS status FROM jsonb_array_elements_text($1::jsonb) ORDER BY value";
/// A page of a long list by stage, one status (`$16`) at a time: the status's cases, newest
/// first.
macro_rules! work_in_status {
    ($from:literal, $text:expr, $status:literal, $tail:literal) => {
        work_kept!($from, $text, concat!(" AND c.status = ", $status, $tail))
    };
}
pub const WORK_IN_STATUS_SQLITE: &str = work_in_status!(
    "cases c INDEXED BY cases_status",
    work_text_sqlite!("c.id"),
    "$16",
    " ORDER BY c.id DESC LIMIT $9 OFFSET $15"
);
pub const WORK_IN_STATUS_POSTGRES: &str = work_in_status!(
    "cases c",
    work_text_postgres!("c.id"),
    "$16",
    " ORDER BY c.id DESC LIMIT $9 OFFSET $15"
);
/// How many cases of a list have the status `$15` (counted up to `$9`).
pub const WORK_IN_STATUS_COUNT_SQLITE: &str = counted!(work_in_status!(
    "cases c INDEXED BY cases_status",
    work_text_sqlite!("c.id"),
    "$15",
    ""
));
pub const WORK_IN_STATUS_COUNT_POSTGRES: &str = counted!(work_in_status!(
    "cases c",
    work_text_postgres!("c.id"),
    "$15",
    ""
));
/// A page of a long list walked in the order of an index: `$from` names the cases (on SQLite
/// with the index to walk), `$order` the order.
macro_rules! work_walk {
    ($from:literal, $text:expr, $order:literal) => {
        work_kept!(
            $from,
            $text,
            concat!(" ORDER BY ", $order, " LIMIT $9 OFFSET $15")
        )
    };
}
/// By reference (the order cases were filed), each way; by age (newest first, then oldest first);
/// by last activity (latest first, then earliest first). Ties go to the newest case.
macro_rules! work_walks {
    ($text:expr, $by_id:literal, $by_opened:literal, $by_updated:literal) => {
        [
            work_walk!($by_id, $text, "c.id ASC"),
            work_walk!($by_id, $text, "c.id DESC"),
            work_walk!($by_opened, $text, "c.opened_at DESC, c.id DESC"),
            work_walk!($by_opened, $text, "c.opened_at ASC, c.id DESC"),
            work_walk!($by_updated, $text, "c.updated_at DESC, c.id DESC"),
            work_walk!($by_updated, $text, "c.updated_at ASC, c.id DESC"),
        ]
    };
}
pub const WORK_WALK_SQLITE: [&str; 6] = work_walks!(
    work_text_sqlite!("c.id"),
    "cases c",
    "cases c INDEXED BY cases_opened_id",
    "cases c INDEXED BY cases_updated"
);
pub const WORK_WALK_POSTGRES: [&str; 6] =
    work_walks!(work_text_postgres!("c.id"), "cases c", "cases c", "cases c");
/// What a work list shows of each case of a page: the case's summary, the consumer's and the
/// assignee's names, and its next running deadline; `$1` is the array of the page's case ids.
macro_rules! work_rows {
    ($ids:literal) => {
        concat!(
            "SELECT c.id, c.reference, c.office, c.kind, c.channel, c.status, c.stage, c.priority, c.flags, \
             cat.path AS category_path, c.consumer_id, c.company_id, co.name AS company_name, un.code AS unit_code, \
             a.username AS assignee, a.display_name AS assignee_name, p.name AS consumer_name, \
             c.opened_at, c.updated_at, c.version, \
             (SELECT MIN(k.due_at) FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL) AS next_due, \
             (SELECT k.name FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL \
              ORDER BY k.due_at, k.id LIMIT 1) AS next_clock \
             FROM cases c \
             LEFT JOIN categories cat ON cat.id = c.category_id \
             LEFT JOIN companies co ON co.id = c.company_id \
             LEFT JOIN units un ON un.id = c.unit_id \
             LEFT JOIN users a ON a.id = c.assignee_id \
             LEFT JOIN consumers p ON p.id = c.consumer_id \
             WHERE c.id ",
            $ids
        )
    };
}
pub const WORK_ROWS_SQLITE: &str = work_rows!("IN (SELECT value FROM json_each($1))");
pub const WORK_ROWS_POSTGRES: &str =
    work_rows!("= ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))");
/// Each active user (in unit `$4`, or all; the caller keeps those whose role works cases): open cases assigned to them, those with a
/// running clock already due (`$1` is now), due by `$2`, and opened since `$3`.
pub const AGENT_LOADS: &str = "SELECT u.id, u.username, u.display_name, u.role, un.code AS unit_code, \
     (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id AND c.status NOT IN ('resolved', 'closed', 'merged')) AS open_cases, \
     (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id AND c.status NOT IN ('resolved', 'closed', 'merged') \
      AND EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $1)) AS overdue, \
     (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id AND c.status NOT IN ('resolved', 'closed', 'merged') \
      AND NOT EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $1) \
      AND EXISTS (SELECT 1 FROM clocks k WHERE k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at <= $2)) AS due_soon, \
     (SELECT COUNT(*) FROM cases c WHERE c.assignee_id = u.id AND c.opened_at >= $3) AS new_today \
     FROM users u LEFT JOIN units un ON un.id = u.unit_id \
     WHERE u.active AND ($4 IS NULL OR u.unit_id = $4) \
     ORDER BY u.display_name, u.id";
/// The raw, editable columns of a case, for changes.
/// `timeline_seq` is the case's last timeline position before the change: the change's audit
/// row covers the entries after it.
pub const CASE_FOR_CHANGE: &str = "SELECT id, version, status, office, priority, flags, category_id, company_id, account_number, \
     amount_cents, description, unit_id, assignee_id, \
     (SELECT COALESCE(MAX(t.seq), 0) FROM timeline t WHERE t.case_id = cases.id) AS timeline_seq \
     FROM cases WHERE reference = $1 AND ($2 IS NULL OR company_id = $2)";
macro_rules! case_audited {
    () => {
        "SELECT id, reference, office, kind, channel, status, stage, priority, flags, category_id, consumer_id, \
         company_id, account_number, amount_cents, description, unit_id, assignee_id, merged_into_id, opened_at, \
         closed_at, created_by, version FROM cases "
    };
}
/// The columns of a case an audit row's digest covers (all but `updated_at`), by id.
pub const CASE_AUDITED: &str = concat!(case_audited!(), "WHERE id = $1");
/// The same, by reference (for the verifier).
pub const CASE_AUDITED_BY_REFERENCE: &str = concat!(case_audited!(), "WHERE reference = $1");
/// A case's last timeline position.
pub const TIMELINE_LAST_SEQ: &str =
    "SELECT COALESCE(MAX(seq), 0) AS seq FROM timeline WHERE case_id = $1";
/// A case's timeline entries after position `$2`, as stored (for their digests).
pub const TIMELINE_SINCE: &str = "SELECT case_id, seq, entry_type, body, visibility, data, author_id, at \
     FROM timeline WHERE case_id = $1 AND seq > $2 ORDER BY seq";
pub const UPDATE_CASE: &str = "UPDATE cases SET priority = $3, flags = $4, description = $5, category_id = $6, company_id = $7, \
     account_number = $8, amount_cents = $9, updated_at = $10, version = version + 1 WHERE id = $1 AND version = $2";
pub const UPDATE_STATUS: &str = "UPDATE cases SET status = $3, closed_at = $4, merged_into_id = $5, updated_at = $6, \
     version = version + 1 WHERE id = $1 AND version = $2";
pub const UPDATE_ASSIGNMENT: &str = "UPDATE cases SET unit_id = $3, assignee_id = $4, updated_at = $5, version = version + 1 \
     WHERE id = $1 AND version = $2";
/// Takes the case row's lock (PostgreSQL) and marks it touched.
pub const TOUCH_CASE: &str = "UPDATE cases SET updated_at = CASE WHEN updated_at < $2 THEN $2 ELSE updated_at END WHERE id = $1";
pub const CASE_LINKS: &str = "SELECT l.kind, o.reference, 'outgoing' AS direction, o.company_id FROM case_links l \
     JOIN cases o ON o.id = l.other_case_id WHERE l.case_id = $1 \
     UNION ALL SELECT l.kind, o.reference, 'incoming' AS direction, o.company_id FROM case_links l \
     JOIN cases o ON o.id = l.case_id WHERE l.other_case_id = $1";
pub const INSERT_LINK: &str = "INSERT INTO case_links (case_id, other_case_id, kind, created_by, created_at) VALUES ($1, $2, $3, $4, $5)";

pub const INSERT_ENTRY: &str = "INSERT INTO timeline (case_id, seq, entry_type, body, visibility, data, author_id, at) \
     VALUES ($1, (SELECT COALESCE(MAX(t.seq), 0) + 1 FROM timeline t WHERE t.case_id = $1), $2, $3, $4, $5, $6, $7) \
     RETURNING seq";
pub const TIMELINE: &str = "SELECT t.seq, t.entry_type, t.body, t.visibility, t.data, u.username AS author, t.at \
     FROM timeline t LEFT JOIN users u ON u.id = t.author_id WHERE t.case_id = $1 AND ($2 IS NULL OR t.visibility = $2) \
     ORDER BY t.seq";
pub const TIMELINE_ENTRY: &str = "SELECT t.seq, t.entry_type, t.body, t.visibility, t.data, u.username AS author, t.at \
     FROM timeline t LEFT JOIN users u ON u.id = t.author_id WHERE t.case_id = $1 AND t.seq = $2";

pub const NEW_CHAIN: &str = "INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 1, $2)";
pub const ENSURE_CHAIN: &str =
    "INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING";
/// Advances a chain's head, locking it until commit; returns the new position and the
/// previous hash.
pub const ADVANCE_CHAIN: &str =
    "UPDATE audit_chains SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash";
pub const SET_CHAIN_HASH: &str = "UPDATE audit_chains SET hash = $2 WHERE chain = $1";
pub const INSERT_AUDIT: &str = "INSERT INTO audit_log (chain, seq, at, actor, action, subject, detail, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const AUDIT_FOR_SUBJECT: &str = "SELECT id, chain, seq, at, actor, action, subject, detail, prev_hash, hash \
     FROM audit_log WHERE subject = $1 ORDER BY id DESC LIMIT $2";
/// One page of a subject's trail, newest first, with how many rows it has in all.
pub const AUDIT_FOR_SUBJECT_PAGE: &str = "SELECT id, chain, seq, at, actor, action, subject, detail, prev_hash, hash, \
     COUNT(*) OVER () AS total FROM audit_log WHERE subject = $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
pub const AUDIT_PAGE: &str = "SELECT id, chain, seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
     WHERE chain > $1 OR (chain = $1 AND seq > $2) ORDER BY chain, seq LIMIT $3";
pub const AUDIT_HEADS: &str = "SELECT chain, seq, hash FROM audit_chains ORDER BY chain";
pub const CASES_WITHOUT_CHAIN: &str = "SELECT c.reference FROM cases c \
     WHERE NOT EXISTS (SELECT 1 FROM audit_chains h WHERE h.chain = 'case:' || c.reference) LIMIT 1";

pub const INSERT_PORTAL_ACCESS: &str = "INSERT INTO portal_access (case_id, token_hash, created_at) SELECT id, $2, $3 FROM cases WHERE reference = $1";
pub const CASE_BY_PORTAL_TOKEN: &str = "SELECT c.reference FROM portal_access p JOIN cases c ON c.id = p.case_id WHERE p.token_hash = $1";
pub const UNIT_QUEUES: &str = "SELECT u.code, u.name, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') THEN 1 ELSE 0 END), 0) AS open_cases, \
     COALESCE(SUM(CASE WHEN c.status = 'new' AND c.assignee_id IS NULL THEN 1 ELSE 0 END), 0) AS new_unassigned \
     FROM units u LEFT JOIN cases c ON c.unit_id = u.id GROUP BY u.code, u.name ORDER BY u.name";

pub const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (case_id, filename, content_type, size_bytes, sha256, visibility, uploaded_by, uploaded_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
pub const ATTACHMENTS: &str = "SELECT a.id, a.filename, a.content_type, a.size_bytes, a.sha256, a.visibility, a.uploaded_by, a.uploaded_at \
     FROM attachments a JOIN cases c ON c.id = a.case_id \
     WHERE c.reference = $1 AND ($2 IS NULL OR c.company_id = $2) AND ($3 IS NULL OR a.visibility = $3) ORDER BY a.id";
pub const ATTACHMENT: &str = "SELECT a.id, a.filename, a.content_type, a.size_bytes, a.sha256, a.visibility, a.uploaded_by, a.uploaded_at \
     FROM attachments a JOIN cases c ON c.id = a.case_id \
     WHERE c.reference = $1 AND ($2 IS NULL OR c.company_id = $2) AND ($3 IS NULL OR a.visibility = $3) AND a.id = $4";
pub const UNIT_DASHBOARD: &str = "SELECT u.code, u.name, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') THEN 1 ELSE 0 END), 0) AS open_cases, \
     COALESCE(SUM(CASE WHEN c.opened_at >= $1 THEN 1 ELSE 0 END), 0) AS new_today, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') AND c.opened_at >= $2 THEN 1 ELSE 0 END), 0) AS age_0_2, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') AND c.opened_at < $2 AND c.opened_at >= $3 THEN 1 ELSE 0 END), 0) AS age_3_7, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') AND c.opened_at < $3 AND c.opened_at >= $4 THEN 1 ELSE 0 END), 0) AS age_8_30, \
     COALESCE(SUM(CASE WHEN c.status NOT IN ('resolved', 'closed', 'merged') AND c.opened_at < $4 THEN 1 ELSE 0 END), 0) AS age_over_30 \
     FROM units u LEFT JOIN cases c ON c.unit_id = u.id GROUP BY u.code, u.name ORDER BY u.name";
pub const ENQUEUE_MAIL: &str = "INSERT INTO outbox (recipient, subject, body, reference, created_at, next_attempt_at, in_reply_to, refs, automatic) \
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) RETURNING id";
/// Claims the oldest due message for a while. The lock condition is repeated outside the
/// sub-select so that on PostgreSQL a second claimer re-checks it and gets nothing.
pub const CLAIM_MAIL: &str = "UPDATE outbox SET locked_until = $2, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 AND (locked_until IS NULL OR locked_until < $1) AND attempts < $3 ORDER BY id LIMIT 1) \
     AND sent_at IS NULL AND (locked_until IS NULL OR locked_until < $1) \
     RETURNING id, recipient, subject, body, reference, attempts, message_id, in_reply_to, refs, automatic";
/// PostgreSQL: the same claim with `FOR UPDATE SKIP LOCKED`.
pub const CLAIM_MAIL_SKIP_LOCKED: &str = "UPDATE outbox SET locked_until = $2, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 AND (locked_until IS NULL OR locked_until < $1) AND attempts < $3 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, recipient, subject, body, reference, attempts, message_id, in_reply_to, refs, automatic";
/// Files an incoming message with the case it opens (in the case's transaction).
pub const FILE_INBOUND_MAIL: &str = "UPDATE inbound_mail SET case_id = $2 WHERE id = $1";
/// The files sent with a message, in order.
pub const MAIL_ATTACHMENTS: &str = "SELECT filename, content_type, content_hex FROM outbox_attachments \
     WHERE mail_id = $1 ORDER BY position";
pub const INSERT_MAIL_ATTACHMENT: &str = "INSERT INTO outbox_attachments \
     (mail_id, position, filename, content_type, content_hex) VALUES ($1, $2, $3, $4, $5)";
/// Names a message before its first sending, so that every retry carries the same Message-ID.
pub const NAME_MAIL: &str =
    "UPDATE outbox SET message_id = $2 WHERE id = $1 AND message_id IS NULL";
pub const MAIL_SENT: &str =
    "UPDATE outbox SET sent_at = $2, locked_until = NULL, last_error = NULL WHERE id = $1";
pub const MAIL_FAILED: &str =
    "UPDATE outbox SET next_attempt_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1";
pub const MAIL_WAITING: &str = "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL";

pub const ADD_CLOSURE: &str = "INSERT INTO office_closures (office, day, reason, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (office, day) DO UPDATE SET reason = excluded.reason";
pub const CLOSURES: &str = "SELECT day, reason FROM office_closures WHERE office = $1 ORDER BY day";

pub const INSERT_CLOCK: &str = "INSERT INTO clocks (case_id, name, source, started_at, due_at, warn_at, policy) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
pub const CASE_CLOCKS: &str = "SELECT id, name, source, started_at, due_at, warn_at, paused_at, stopped_at, outcome, policy \
     FROM clocks WHERE case_id = $1 ORDER BY id";
pub const STOP_CLOCK: &str = "UPDATE clocks SET stopped_at = $2, outcome = $3, paused_at = NULL WHERE id = $1 AND stopped_at IS NULL";
pub const PAUSE_CLOCK: &str =
    "UPDATE clocks SET paused_at = $2 WHERE id = $1 AND stopped_at IS NULL AND paused_at IS NULL";
pub const RESUME_CLOCK: &str = "UPDATE clocks SET paused_at = NULL, due_at = $2, warn_at = $3 WHERE id = $1 AND paused_at IS NOT NULL";
pub const CASE_ID_BY_REFERENCE: &str =
    "SELECT id, kind, office FROM cases WHERE reference = $1 AND ($2 IS NULL OR company_id = $2)";
/// Open, running clocks due by `$2` on cases assigned to `$1`, soonest first: the person's cases
/// first, then their clocks (`CROSS JOIN` keeps SQLite from walking every running clock due by
/// then, which at a million cases with a backlog took 1.5 s against 2 ms).
pub const DEADLINES_FOR: &str = "SELECT c.reference, c.kind, k.name, k.due_at FROM cases c CROSS JOIN clocks k \
     WHERE c.assignee_id = $1 AND k.case_id = c.id AND k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at <= $2 \
     ORDER BY k.due_at LIMIT 100";
/// Running clocks whose due-soon instant has come (`$1`) and not yet warned about (through the
/// index on the warning instant).
pub const CLOCKS_TO_WARN: &str = "SELECT k.id, k.case_id, k.name, k.due_at, k.policy, c.reference, c.priority FROM clocks k JOIN cases c ON c.id = k.case_id \
     WHERE k.stopped_at IS NULL AND k.paused_at IS NULL AND k.warn_at <= $1 AND k.warned_at IS NULL ORDER BY k.warn_at LIMIT $2";
macro_rules! clocks_to_escalate {
    () => {
        "SELECT k.id, k.case_id, k.name, k.due_at, k.policy, c.reference, c.priority FROM clocks k JOIN cases c ON c.id = k.case_id \
         WHERE k.stopped_at IS NULL AND k.paused_at IS NULL AND k.due_at < $1 AND k.escalated_at IS NULL ORDER BY k.due_at LIMIT $2"
    };
}
/// Running clocks past due (`$1`) and not yet escalated (through the index on the due instant).
pub const CLOCKS_TO_ESCALATE: &str = clocks_to_escalate!();
/// How SQLite finds them (for the benchmark's proof that the index is used).
pub const EXPLAIN_CLOCKS_TO_ESCALATE_SQLITE: &str =
    concat!("EXPLAIN QUERY PLAN ", clocks_to_escalate!());
pub const EXPLAIN_CLOCKS_TO_ESCALATE_PG: &str = concat!("EXPLAIN ", clocks_to_escalate!());

/// Marks a warning done; changes nothing when another node did it first.
pub const MARK_WARNED: &str =
    "UPDATE clocks SET warned_at = $2 WHERE id = $1 AND warned_at IS NULL";
pub const MARK_ESCALATED: &str = "UPDATE clocks SET escalated_at = $2, warned_at = COALESCE(warned_at, $2) WHERE id = $1 AND escalated_at IS NULL";
pub const RAISE_PRIORITY: &str =
    "UPDATE cases SET priority = $2, updated_at = $3, version = version + 1 WHERE id = $1";

pub const ENQUEUE_JOB: &str = "INSERT INTO jobs (kind, payload, dedupe_key, run_at, created_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (dedupe_key) DO NOTHING";
/// Claims the oldest due job for a lease. The conditions are repeated outside the sub-select
/// so that on PostgreSQL a concurrent claimer re-checks them on the locked row and gets nothing.
pub const CLAIM_JOB: &str = "UPDATE jobs SET locked_until = $2, locked_by = $3, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND dead_at IS NULL AND run_at <= $1 \
                 AND (locked_until IS NULL OR locked_until < $1) ORDER BY run_at, id LIMIT 1) \
     AND done_at IS NULL AND dead_at IS NULL AND (locked_until IS NULL OR locked_until < $1) \
     RETURNING id, kind, payload, attempts";
/// PostgreSQL: the same claim, passing over rows another node is claiming this instant
/// (`FOR UPDATE SKIP LOCKED`), so that claimers do not queue behind each other.
pub const CLAIM_JOB_SKIP_LOCKED: &str = "UPDATE jobs SET locked_until = $2, locked_by = $3, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND dead_at IS NULL AND run_at <= $1 \
                 AND (locked_until IS NULL OR locked_until < $1) ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, payload, attempts";
/// Completes a job only if this node still holds its lease.
pub const COMPLETE_JOB: &str = "UPDATE jobs SET done_at = $2, locked_until = NULL WHERE id = $1 AND locked_by = $3 AND done_at IS NULL";
pub const RETRY_JOB: &str = "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1 AND locked_by = $4 AND done_at IS NULL";
pub const KILL_JOB: &str = "UPDATE jobs SET dead_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1 AND locked_by = $4 AND done_at IS NULL";
/// Dead jobs, newest first.
pub const DEAD_JOBS: &str = "SELECT id, kind, payload, attempts, last_error, dead_at FROM jobs WHERE dead_at IS NOT NULL \
     ORDER BY dead_at DESC, id DESC LIMIT $1";
/// Gives a dead job another round of attempts, now.
pub const REVIVE_JOB: &str = "UPDATE jobs SET dead_at = NULL, attempts = 0, run_at = $2, locked_until = NULL, locked_by = NULL \
     WHERE id = $1 AND dead_at IS NOT NULL";
pub const JOB_COUNTS: &str = "SELECT \
     COALESCE(SUM(CASE WHEN done_at IS NULL AND dead_at IS NULL THEN 1 ELSE 0 END), 0) AS waiting, \
     COALESCE(SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS done, \
     COALESCE(SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS dead FROM jobs";
/// An office's time zone with its closures, in one exchange (one row per closure, or one row
/// with no day).
pub const OFFICE_CALENDAR: &str = "SELECT o.time_zone, o.opens_at, o.closes_at, c.day, c.reason FROM offices o \
     LEFT JOIN office_closures c ON c.office = o.code WHERE o.code = $1 ORDER BY c.day";

pub const CASE_LIFECYCLE: &str = "SELECT lifecycle FROM cases WHERE id = $1";
/// Another lifecycle for a case still at its start: its id, state and status.
pub const UPDATE_LIFECYCLE: &str = "UPDATE cases SET lifecycle = $3, stage = $4, status = $5, updated_at = $6, \
     version = version + 1 WHERE id = $1 AND version = $2";
/// A transition: the new status, state and priority, checked against the version read.
pub const UPDATE_STAGE: &str = "UPDATE cases SET status = $3, stage = $4, closed_at = $5, priority = $6, updated_at = $7, \
     version = version + 1 WHERE id = $1 AND version = $2";
pub const SET_FACT: &str = "INSERT INTO case_facts (case_id, name, value, set_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (case_id, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at";
/// Whether `$2` authored any timeline entry on case `$1` (by reference).
pub const HAS_WORKED_ON: &str = "SELECT COUNT(*) AS n FROM timeline t JOIN cases c ON c.id = t.case_id \
     WHERE c.reference = $1 AND t.author_id = $2";
/// Where a case's consumer reads their mail, if they gave an address.
pub const CASE_FACTS: &str =
    "SELECT name, value, set_at FROM case_facts WHERE case_id = $1 ORDER BY name";
/// Who hears about a deadline: the assignee and the supervisors of the case's unit.
pub const NOTIFY_RECIPIENTS: &str = "SELECT DISTINCT u.email FROM users u JOIN cases c ON c.id = $1 \
     WHERE u.email IS NOT NULL AND u.active AND (u.id = c.assignee_id OR (u.role = 'supervisor' AND u.unit_id = c.unit_id)) \
     ORDER BY u.email";
/// Moves a case to the unit with code `$2` (the next tier), clearing its assignee; nothing when
/// there is no such unit.
pub const MOVE_TO_UNIT: &str = "UPDATE cases SET unit_id = (SELECT id FROM units WHERE code = $2), assignee_id = NULL, \
     updated_at = $3, version = version + 1 WHERE id = $1 AND EXISTS (SELECT 1 FROM units WHERE code = $2)";

/// Benchmark load: open cases `BENCH-$1` to `BENCH-$2`, all for one consumer.
pub const SEED_CASES: &str = "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
     INSERT INTO cases (reference, office, kind, channel, status, stage, priority, flags, consumer_id, description, opened_at, updated_at, version) \
     SELECT 'BENCH-' || i, $3, 'complaint', 'phone', 'open', 'investigating', 'normal', '', $4, 'Benchmark case', $5, $5, 1 FROM n";
pub const SEED_CASE_ID: &str = "SELECT id FROM cases WHERE reference = $1";
/// Benchmark load: one running clock per case with id `$7`..`$6`, due `$4` microseconds apart
/// counting from case id `$3`, which is due at `$2`.
pub const SEED_CLOCKS: &str = "INSERT INTO clocks (case_id, name, source, started_at, due_at, policy) \
     SELECT id, 'resolution_target', 'bench', $1, $2 + (id - $3) * $4, $5 FROM cases WHERE id >= $7 AND id <= $6";

pub const LOGIN_THROTTLE: &str = "SELECT failures, locked_until, last_failed_at FROM login_throttle WHERE username = $1 AND address = $2";
pub const SET_LOGIN_THROTTLE: &str = "INSERT INTO login_throttle (username, address, failures, locked_until, last_failed_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username, address) DO UPDATE SET failures = $3, locked_until = $4, \
     last_failed_at = $5";
pub const CLEAR_LOGIN_THROTTLE: &str =
    "DELETE FROM login_throttle WHERE username = $1 AND address = $2";

// Filing an import's batch as a set. On PostgreSQL each insert takes the whole batch as one JSON
// array (`jsonb_array_elements`, a row per element, a column per position), so a batch of 500
// cases is a dozen round trips instead of ten thousand; SQLite, with no round trips to save,
// runs the row statements, prepared once.

/// Which `[source, external_id]` pairs of the array `$1` were imported before.
pub const SOURCES_FOUND_SQLITE: &str = "SELECT s.source, s.external_id, s.case_id FROM json_each($1) j \
     JOIN case_sources s ON s.source = json_extract(j.value, '$[0]') AND s.external_id = json_extract(j.value, '$[1]')";
pub const SOURCES_FOUND_POSTGRES: &str = "SELECT s.source, s.external_id, s.case_id FROM jsonb_array_elements($1::jsonb) j \
     JOIN case_sources s ON s.source = j.value->>0 AND s.external_id = j.value->>1";
/// The last id in use (SQLite: the one writer takes the next ones in its transaction).
pub const LAST_CONSUMER_ID_SQLITE: &str = "SELECT COALESCE(MAX(id), 0) AS id FROM consumers";
pub const LAST_CASE_ID_SQLITE: &str = "SELECT COALESCE(MAX(id), 0) AS id FROM cases";
/// `$1` ids taken from the identity sequence (other nodes may take ids in between).
pub const NEW_CONSUMER_IDS_POSTGRES: &str =
    "SELECT nextval(pg_get_serial_sequence('consumers', 'id')) AS id FROM generate_series(1, $1)";
pub const NEW_CASE_IDS_POSTGRES: &str =
    "SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS id FROM generate_series(1, $1)";
/// An import's batch on SQLite. The cases and their timeline entries, whose tables have
/// triggers, go in as one JSON array `$1` a table (a row an array, a column per position),
/// inserted by one statement: every statement with triggers journals the pages it changes
/// first, so a statement a row journaled the same index pages again for every row (a quarter of
/// filing's time), and a statement a table journals each page once. The other tables (consumers,
/// accounts, sources, audit rows) have no insert triggers and take a prepared statement a row,
/// which spares writing and parsing the JSON (consumers 0.91 s → 0.37 s and audit rows
/// 1.59 s → 0.42 s at 100,000 cases; cases and entries a row at a time took 4.5 s and 9.9 s
/// instead of 2.6 s and 5.1 s).
pub const FILE_CONSUMERS_SQLITE: &str = "INSERT INTO consumers (id, name, phone, email, address_line1, address_line2, \
     city, state, zip, preferred_language, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";
pub const FILE_ACCOUNTS_SQLITE: &str = "INSERT INTO consumer_accounts (consumer_id, account_number) \
     VALUES ($1, $2) ON CONFLICT (consumer_id, account_number) DO NOTHING";
pub const FILE_CASES_SQLITE: &str = "INSERT INTO cases (id, reference, office, kind, channel, status, priority, flags, \
     category_id, consumer_id, company_id, account_number, amount_cents, description, unit_id, assignee_id, opened_at, \
     closed_at, updated_at, created_by, version, stage, lifecycle, publish_consent) \
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
     value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15, value->>16, \
     value->>17, value->>16, value->>18, 1, value->>19, value->>20, value->>21 FROM json_each($1)";
pub const FILE_SOURCES_SQLITE: &str = "INSERT INTO case_sources (source, external_id, case_id, imported_at) \
     VALUES ($1, $2, $3, $4)";
pub const FILE_ENTRIES_SQLITE: &str = "INSERT INTO timeline (case_id, seq, entry_type, body, visibility, data, author_id, at) \
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each($1)";
pub const NEW_CHAINS_SQLITE: &str =
    "INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 1, $2)";
pub const FILE_AUDIT_SQLITE: &str = "INSERT INTO audit_log (chain, seq, at, actor, action, subject, detail, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const FILE_CONSUMERS_POSTGRES: &str = "INSERT INTO consumers (id, name, phone, email, address_line1, address_line2, \
     city, state, zip, preferred_language, created_at, updated_at) \
     SELECT (value->>0)::bigint, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
     value->>8, value->>9, (value->>10)::bigint, (value->>10)::bigint FROM jsonb_array_elements($1::jsonb)";
pub const FILE_ACCOUNTS_POSTGRES: &str = "INSERT INTO consumer_accounts (consumer_id, account_number) \
     SELECT (value->>0)::bigint, value->>1 FROM jsonb_array_elements($1::jsonb) \
     ON CONFLICT (consumer_id, account_number) DO NOTHING";
pub const FILE_CASES_POSTGRES: &str = "INSERT INTO cases (id, reference, office, kind, channel, status, priority, flags, \
     category_id, consumer_id, company_id, account_number, amount_cents, description, unit_id, assignee_id, opened_at, \
     closed_at, updated_at, created_by, version, stage, lifecycle, publish_consent) \
     SELECT (value->>0)::bigint, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
     (value->>8)::bigint, (value->>9)::bigint, (value->>10)::bigint, value->>11, (value->>12)::bigint, value->>13, \
     (value->>14)::bigint, (value->>15)::bigint, (value->>16)::bigint, (value->>17)::bigint, (value->>16)::bigint, \
     (value->>18)::bigint, 1, value->>19, value->>20, (value->>21)::boolean FROM jsonb_array_elements($1::jsonb)";
pub const FILE_SOURCES_POSTGRES: &str = "INSERT INTO case_sources (source, external_id, case_id, imported_at) \
     SELECT value->>0, value->>1, (value->>2)::bigint, (value->>3)::bigint FROM jsonb_array_elements($1::jsonb)";
pub const FILE_ENTRIES_POSTGRES: &str = "INSERT INTO timeline (case_id, seq, entry_type, body, visibility, data, author_id, at) \
     SELECT (value->>0)::bigint, (value->>1)::bigint, value->>2, value->>3, value->>4, value->>5, (value->>6)::bigint, \
     (value->>7)::bigint FROM jsonb_array_elements($1::jsonb)";
pub const NEW_CHAINS_POSTGRES: &str = "INSERT INTO audit_chains (chain, seq, hash) \
     SELECT value->>0, 1, value->>1 FROM jsonb_array_elements($1::jsonb)";
pub const FILE_AUDIT_POSTGRES: &str = "INSERT INTO audit_log (chain, seq, at, actor, action, subject, detail, prev_hash, hash) \
     SELECT value->>0, (value->>1)::bigint, (value->>2)::bigint, value->>3, value->>4, value->>5, value->>6, value->>7, \
     value->>8 FROM jsonb_array_elements($1::jsonb)";

/// While an import files its batches (SQLite), FTS5 does not merge the search index's segments
/// as each batch's transaction adds one: it merges them once, at the import's end (see
/// `refresh_statistics`), and when a level holds 16 (FTS5's `crisismerge`). Filing 100,000
/// cases: 3,810–4,456 cases/s merging as it goes, 4,591–4,956 held (`redress bench --only data
/// --data-cases 100000`, builds alternated); FTS5 alone, the same texts: 17,600–18,000 against
/// 23,800–24,000 cases/s with the final merge.
pub const HOLD_SEARCH_MERGES_SQLITE: &str =
    "INSERT INTO case_search (case_search, rank) VALUES ('automerge', 0)";
/// FTS5's own merging as each write adds a segment, four at a time (its default), again: at an
/// import's end, and when the store opens (an import that stopped half way).
pub const RESUME_SEARCH_MERGES_SQLITE: &str =
    "INSERT INTO case_search (case_search, rank) VALUES ('automerge', 4)";
/// Whether FTS5's merging is held (1) or not (0), from its settings table.
pub const SEARCH_MERGES_HELD_SQLITE: &str =
    "SELECT COUNT(*) FROM case_search_config WHERE k = 'automerge' AND v = 0";
/// The search index's segments merged into one (SQLite; see `refresh_statistics`).
pub const MERGE_SEARCH_INDEX_SQLITE: &str =
    "INSERT INTO case_search (case_search) VALUES ('optimize')";
/// The write-ahead log copied into the database and its file emptied (SQLite; after the merge
/// above, see `refresh_statistics`): busy (1 if it could not finish), pages in the log, pages copied.
pub const CHECKPOINT_SQLITE: &str = "PRAGMA wal_checkpoint(TRUNCATE)";
/// The cases the planner's statistics last counted, and the cases added or changed since
/// (PostgreSQL; the server's own counts).
pub const STATISTICS_BASIS_POSTGRES: &str = "SELECT CAST(GREATEST(c.reltuples, 0) AS BIGINT), \
     COALESCE(s.n_mod_since_analyze, 0) FROM pg_class c \
     LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass('cases')";
/// The tables filing fills, brought up to date after an import (PostgreSQL; outside a
/// transaction).
pub const REFRESH_STATISTICS_POSTGRES: [&str; 9] = [
    "VACUUM (ANALYZE) cases",
    "VACUUM (ANALYZE) case_stats",
    "VACUUM (ANALYZE) call_stats",
    "VACUUM (ANALYZE) timeline",
    "VACUUM (ANALYZE) case_search",
    "VACUUM (ANALYZE) consumers",
    "VACUUM (ANALYZE) case_sources",
    "VACUUM (ANALYZE) audit_log",
    "VACUUM (ANALYZE) audit_chains",
];
