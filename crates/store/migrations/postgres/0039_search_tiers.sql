-- A search by relevance for words in many cases ranks the matches among the cases filed last
-- first (ids above a cut). Asked together with the words' index, the primary key listed every
-- id above the cut before a match was read (a third of a million cases: 21 ms). Search rows
-- are added in the order their cases are filed, so a block range index on the case id lists
-- the table's pages that hold those cases instead (the same third: 3.5 ms). Sixteen pages a
-- range: with the default 128, that search then read its 3,198 matches in 15 ms rather than
-- 10. New ranges are summarized by autovacuum as they fill, and a range not yet summarized is
-- read whole, so it never hides a match.
CREATE INDEX case_search_filed ON case_search USING brin (case_id)
    WITH (pages_per_range = 16, autosummarize = on);

-- How many cases the planner expects some words (a `tsquery` in the 'simple' configuration)
-- to be in, from the statistics `ANALYZE` keeps of the most common words: a search in date
-- order chooses by it, with the share among the cases filed last, whether to sort every match
-- or to look in a window of the newest (or oldest) cases. The last thousand cases misjudge a
-- rarer word: two of them held "unverifiable", in 4,370 of a million cases (the planner
-- expects 4,033), so its matches were sorted (40 ms) rather than windowed. About 0.2 ms. It
-- is volatile, as PostgreSQL requires of a function that runs `EXPLAIN`.
CREATE FUNCTION redress_estimated_matches(words TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    plan JSON;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM case_search WHERE doc @@ to_tsquery(''simple'', $1)'
        INTO plan USING words;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::BIGINT;
END
$$;
