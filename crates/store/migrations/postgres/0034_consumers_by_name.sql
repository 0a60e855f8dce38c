-- The work lists by consumer walk the consumers by name (lower case), each one's cases newest
-- first, instead of sorting every case by its consumer's name (5.5 s over a million cases' 280,000
-- open ones on SQLite).
CREATE INDEX consumers_by_name ON consumers (LOWER(name), id);
