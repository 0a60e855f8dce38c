-- Filing keeps its derived rows a statement at a time. An import's batch inserts its cases and
-- their timeline entries with one statement each; a trigger a row ran a PL/pgSQL function (and
-- its own UPDATE of `case_stats`) for every entry, a fifth of filing's time. These triggers see
-- the statement's new rows as a set (a transition table) and change each case's row once. A
-- single entry, the usual case, is a set of one: the rows kept are the same.

-- What the search index keeps of a text: the same words as before (lower case, accents folded,
-- punctuation and space runs made one space), without the accent folding for text that has no
-- character beyond ASCII (almost every entry in an English-speaking office), which took 40% of
-- building a case's search row.
CREATE OR REPLACE FUNCTION redress_search_words(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(
        CASE WHEN octet_length(t) = length(t) THEN lower(t) ELSE translate(lower(t),
            'áàâäãåāéèêëēíìîïīóòôöõōúùûüūñçýÿ',
            'aaaaaaaeeeeeiiiiioooooouuuuuncyy') END,
        '[[:punct:][:space:]]+', ' ', 'g')
$$;

-- New cases: their report rows, and (unless an import indexes its batch itself) their search rows.
CREATE FUNCTION redress_cases_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_stats AS s (case_id, opened_at, closed_at, status, office, company_id, category_id)
    SELECT n.id, n.opened_at, n.closed_at, n.status, n.office, n.company_id, n.category_id FROM new_cases n
    ON CONFLICT (case_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
        status = excluded.status, office = excluded.office, company_id = excluded.company_id,
        category_id = excluded.category_id;
    IF NOT EXISTS (SELECT 1 FROM search_deferred) THEN
        INSERT INTO case_search (case_id, head, person)
        SELECT n.id, case_search_head(n), case_search_person(n) FROM new_cases n;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER case_stats_case ON cases;
DROP TRIGGER case_search_opened ON cases;
CREATE TRIGGER cases_filed AFTER INSERT ON cases REFERENCING NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION redress_cases_filed();

-- New entries: what they tell the reports (first contact, company responses, escalation,
-- reopenings, per case; a row a call) and, unless deferred, the search text, in entry order.
CREATE FUNCTION redress_entries_filed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_stats s SET
        first_contact_at = LEAST(s.first_contact_at, n.contact_at),
        response_entry_at = LEAST(s.response_entry_at, n.response_at),
        responses = s.responses + n.responses,
        timely_responses = s.timely_responses + n.timely,
        escalated = CASE WHEN n.escalations > 0 THEN 1 ELSE s.escalated END,
        reopenings = s.reopenings + n.reopenings
    FROM (
        SELECT e.case_id,
            MIN(e.at) FILTER (WHERE e.contact) AS contact_at,
            MIN(e.at) FILTER (WHERE e.response) AS response_at,
            COUNT(*) FILTER (WHERE e.response) AS responses,
            COUNT(*) FILTER (WHERE e.response AND e.data LIKE '%"timely":true%') AS timely,
            COUNT(*) FILTER (WHERE e.escalation) AS escalations,
            COUNT(*) FILTER (WHERE e.reopening) AS reopenings
        FROM (
            SELECT t.case_id, t.at, t.data,
                t.entry_type = 'call' OR (t.entry_type IN ('email', 'letter') AND t.author_id IS NOT NULL) AS contact,
                t.data LIKE '%"event":"company_response"%' AS response,
                t.entry_type = 'status_change' AND t.data LIKE '%"to_status":"escalated"%' AS escalation,
                t.entry_type = 'status_change'
                    AND (t.data LIKE '%"from_status":"closed"%' OR t.data LIKE '%"from_status":"resolved"%')
                    AND t.data NOT LIKE '%"to_status":"closed"%' AND t.data NOT LIKE '%"to_status":"resolved"%'
                    AS reopening
            FROM new_entries t
        ) e
        WHERE e.contact OR e.response OR e.escalation OR e.reopening
        GROUP BY e.case_id
    ) n
    WHERE s.case_id = n.case_id
        AND (n.responses > 0 OR n.reopenings > 0 OR (n.escalations > 0 AND s.escalated = 0)
            OR (n.contact_at IS NOT NULL AND (s.first_contact_at IS NULL OR s.first_contact_at > n.contact_at)));

    INSERT INTO call_stats (entry_id, case_id, at, inbound, duration_seconds, wait_seconds)
    SELECT t.id, t.case_id, t.at, redress_inbound(t.data), redress_seconds(t.data, 'duration_seconds'),
        redress_seconds(t.data, 'wait_seconds')
    FROM new_entries t WHERE t.entry_type = 'call';

    IF NOT EXISTS (SELECT 1 FROM search_deferred) THEN
        -- Appending each entry and cutting at 200,000 characters, entry by entry, keeps the same
        -- text as appending them all and cutting once.
        UPDATE case_search s SET
            shared = CASE WHEN n.shared IS NULL OR length(s.shared) >= 200000 THEN s.shared
                ELSE left(s.shared || n.shared, 200000) END,
            internal = CASE WHEN n.internal IS NULL OR length(s.internal) >= 200000 THEN s.internal
                ELSE left(s.internal || n.internal, 200000) END
        FROM (
            SELECT t.case_id,
                string_agg(' ' || t.body, '' ORDER BY t.id) FILTER (WHERE t.visibility = 'company') AS shared,
                string_agg(' ' || t.body, '' ORDER BY t.id) FILTER (WHERE t.visibility <> 'company') AS internal
            FROM new_entries t GROUP BY t.case_id
        ) n
        WHERE s.case_id = n.case_id;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER case_stats_entry ON timeline;
DROP TRIGGER call_stats_entry ON timeline;
DROP TRIGGER case_search_entry ON timeline;
CREATE TRIGGER entries_filed AFTER INSERT ON timeline REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION redress_entries_filed();

-- cases_consumer_id (consumer_id, id) finds what this one did.
DROP INDEX cases_consumer;
