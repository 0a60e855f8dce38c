-- One narrow row a case for the company, speed and root-cause reports, and one a call for the
-- hotline, each kept exact by triggers as the rows they copy change, so that a report over a year
-- of a large office reads one index in the period's order instead of looking up the timeline,
-- the clocks and the facts of a third of a million cases one by one.

-- `case_stats` now holds a row for every case: the case's own columns a report filters and
-- groups on (copied from `cases`), what the timeline says (as before), the company's response
-- clock (`response_clock_met`: 1 when every stopped response clock was met, 0 when one was
-- missed, NULL when none has stopped; `response_clock_at`: when the first was met) and how the
-- case ended (`root_cause`, `outcome`, from `case_facts`).
ALTER TABLE case_stats ADD COLUMN opened_at BIGINT;
ALTER TABLE case_stats ADD COLUMN closed_at BIGINT;
ALTER TABLE case_stats ADD COLUMN status TEXT;
ALTER TABLE case_stats ADD COLUMN office TEXT;
ALTER TABLE case_stats ADD COLUMN company_id BIGINT;
ALTER TABLE case_stats ADD COLUMN category_id BIGINT;
ALTER TABLE case_stats ADD COLUMN response_clock_met BIGINT;
ALTER TABLE case_stats ADD COLUMN response_clock_at BIGINT;
ALTER TABLE case_stats ADD COLUMN root_cause TEXT;
ALTER TABLE case_stats ADD COLUMN outcome TEXT;

INSERT INTO case_stats AS s (case_id, opened_at, closed_at, status, office, company_id, category_id)
SELECT c.id, c.opened_at, c.closed_at, c.status, c.office, c.company_id, c.category_id FROM cases c
ON CONFLICT (case_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
    status = excluded.status, office = excluded.office, company_id = excluded.company_id,
    category_id = excluded.category_id;

-- The response clock's part of a case's row, from its clocks.
CREATE FUNCTION redress_response_clock(which BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE case_stats SET
        response_clock_met = (SELECT MIN(CASE WHEN k.outcome = 'met' THEN 1 ELSE 0 END) FROM clocks k
            WHERE k.case_id = $1 AND k.name = 'company_response' AND k.stopped_at IS NOT NULL),
        response_clock_at = (SELECT MIN(k.stopped_at) FROM clocks k
            WHERE k.case_id = $1 AND k.name = 'company_response' AND k.outcome = 'met')
    WHERE case_id = $1
$$;

-- How a case ended, from its facts.
CREATE FUNCTION redress_case_end(which BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE case_stats SET
        root_cause = (SELECT f.value FROM case_facts f WHERE f.case_id = $1 AND f.name = 'root_cause'),
        outcome = (SELECT f.value FROM case_facts f WHERE f.case_id = $1 AND f.name = 'outcome')
    WHERE case_id = $1
$$;

SELECT redress_response_clock(c.case_id) FROM (SELECT DISTINCT case_id FROM clocks WHERE name = 'company_response') c;
SELECT redress_case_end(f.case_id) FROM (SELECT DISTINCT case_id FROM case_facts WHERE name IN ('root_cause', 'outcome')) f;

CREATE FUNCTION redress_case_stats_case() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_stats AS s (case_id, opened_at, closed_at, status, office, company_id, category_id)
    VALUES (NEW.id, NEW.opened_at, NEW.closed_at, NEW.status, NEW.office, NEW.company_id, NEW.category_id)
    ON CONFLICT (case_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
        status = excluded.status, office = excluded.office, company_id = excluded.company_id,
        category_id = excluded.category_id;
    RETURN NULL;
END $$;

CREATE TRIGGER case_stats_case AFTER INSERT ON cases FOR EACH ROW EXECUTE FUNCTION redress_case_stats_case();
CREATE TRIGGER case_stats_case_change AFTER UPDATE OF opened_at, closed_at, status, office, company_id, category_id
    ON cases FOR EACH ROW EXECUTE FUNCTION redress_case_stats_case();

CREATE FUNCTION redress_case_stats_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.case_id <> NEW.case_id THEN
        PERFORM redress_response_clock(OLD.case_id);
    END IF;
    PERFORM redress_response_clock(NEW.case_id);
    RETURN NULL;
END $$;

CREATE TRIGGER case_stats_clock AFTER INSERT ON clocks FOR EACH ROW WHEN (NEW.name = 'company_response')
    EXECUTE FUNCTION redress_case_stats_clock();
CREATE TRIGGER case_stats_clock_change AFTER UPDATE OF name, stopped_at, outcome, case_id ON clocks FOR EACH ROW
    WHEN (NEW.name = 'company_response' OR OLD.name = 'company_response')
    EXECUTE FUNCTION redress_case_stats_clock();

CREATE FUNCTION redress_case_stats_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM redress_case_end(OLD.case_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM redress_case_end(NEW.case_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_stats_fact AFTER INSERT ON case_facts FOR EACH ROW
    WHEN (NEW.name IN ('root_cause', 'outcome')) EXECUTE FUNCTION redress_case_stats_fact();
CREATE TRIGGER case_stats_fact_change AFTER UPDATE ON case_facts FOR EACH ROW
    WHEN (NEW.name IN ('root_cause', 'outcome') OR OLD.name IN ('root_cause', 'outcome'))
    EXECUTE FUNCTION redress_case_stats_fact();
CREATE TRIGGER case_stats_fact_gone AFTER DELETE ON case_facts FOR EACH ROW
    WHEN (OLD.name IN ('root_cause', 'outcome')) EXECUTE FUNCTION redress_case_stats_fact();

-- Complaints opened in a period, by company (the company report).
CREATE INDEX case_stats_opened ON case_stats (opened_at, company_id, status, office, response_clock_met,
    responses, timely_responses, escalated);
-- Cases closed in a period (the speed and root-cause reports).
CREATE INDEX case_stats_closed ON case_stats (closed_at, status, office, opened_at, first_contact_at,
    response_entry_at, response_clock_at, reopenings, root_cause, outcome, company_id, category_id);

-- A row a call, copied from the timeline (append-only) as each call is recorded: the direction,
-- the handle time and the caller's wait, when the entry gives them as whole seconds.
CREATE TABLE call_stats (
    entry_id BIGINT PRIMARY KEY,
    case_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    inbound BIGINT NOT NULL,
    duration_seconds BIGINT,
    wait_seconds BIGINT
);

-- A whole number of seconds from an entry's data, as the application reads one (else NULL).
CREATE FUNCTION redress_seconds(data TEXT, field TEXT) RETURNS BIGINT LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v JSONB;
BEGIN
    v := data::jsonb -> field;
    IF jsonb_typeof(v) = 'number' AND v::text ~ '^-?[0-9]{1,18}$' THEN
        RETURN v::text::bigint;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- Whether a call's entry is inbound (anything but a direction of "outbound").
CREATE FUNCTION redress_inbound(data TEXT) RETURNS BIGINT LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE WHEN data::jsonb ->> 'direction' = 'outbound' AND jsonb_typeof(data::jsonb -> 'direction') = 'string'
        THEN 0 ELSE 1 END;
EXCEPTION WHEN others THEN
    RETURN 1;
END $$;

INSERT INTO call_stats (entry_id, case_id, at, inbound, duration_seconds, wait_seconds)
SELECT t.id, t.case_id, t.at, redress_inbound(t.data), redress_seconds(t.data, 'duration_seconds'),
    redress_seconds(t.data, 'wait_seconds')
FROM timeline t WHERE t.entry_type = 'call';

CREATE FUNCTION redress_call_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_stats (entry_id, case_id, at, inbound, duration_seconds, wait_seconds)
    VALUES (NEW.id, NEW.case_id, NEW.at, redress_inbound(NEW.data), redress_seconds(NEW.data, 'duration_seconds'),
        redress_seconds(NEW.data, 'wait_seconds'));
    RETURN NULL;
END $$;

CREATE TRIGGER call_stats_entry AFTER INSERT ON timeline FOR EACH ROW WHEN (NEW.entry_type = 'call')
    EXECUTE FUNCTION redress_call_stats();

-- Calls in a period (the hotline report), in place of the index over the entries' text.
CREATE INDEX call_stats_at ON call_stats (at, inbound, duration_seconds, wait_seconds, case_id);
DROP INDEX timeline_calls;

-- Deadlines that ended in a period (the speed report), met or missed.
CREATE INDEX clocks_ended ON clocks (stopped_at, outcome, name, case_id);
