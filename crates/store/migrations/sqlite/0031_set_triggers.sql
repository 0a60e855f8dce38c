-- cases_consumer_id (consumer_id, id) finds what this one did: every index ends with the row id,
-- so the two held the same entries, and filing wrote both. (On PostgreSQL this migration also
-- turns the filing triggers into statement triggers; SQLite has only row triggers, and an
-- import's batch already inserts each table's rows with one statement.)
DROP INDEX cases_consumer;
