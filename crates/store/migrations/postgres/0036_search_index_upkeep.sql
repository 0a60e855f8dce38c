-- SQLite's search index is merged by the minute from this version on (see its migration 0036);
-- PostgreSQL's GIN index keeps its pending entries itself (`gin_pending_list_limit`, merged by
-- vacuum and when the list is full), so nothing changes here. The migration keeps both stores'
-- schema versions in step.
SELECT 1;
