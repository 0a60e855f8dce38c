-- PostgreSQL keeps when each case was received beside its words from this version on (see its
-- migration 0038); SQLite walks its cases in date order and asks its FTS5 index case by case,
-- which is fast there, so nothing changes here. The migration keeps both stores' schema
-- versions in step.
SELECT 1;
