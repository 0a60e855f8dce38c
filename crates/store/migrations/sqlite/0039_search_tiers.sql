-- PostgreSQL lists the pages of the cases filed last with a block range index from this
-- version on (see its migration 0039); SQLite's search index holds each case under its id,
-- so a range of ids is already one range of it, and nothing changes here. The migration keeps
-- both stores' schema versions in step.
SELECT 1;
