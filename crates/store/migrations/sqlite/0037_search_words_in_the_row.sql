-- PostgreSQL keeps a case's words in the search table's row from this version on (see its
-- migration 0037); SQLite's FTS5 index holds the words apart from the texts already, so nothing
-- changes here. The migration keeps both stores' schema versions in step.
SELECT 1;
