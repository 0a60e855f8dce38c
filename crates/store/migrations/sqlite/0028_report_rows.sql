-- One narrow row a case for the company, speed and root-cause reports, and one a call for the
-- hotline, each kept exact by triggers as the rows they copy change, so that a report over a year
-- of a large office reads one index in the period's order instead of looking up the timeline,
-- the clocks and the facts of a third of a million cases one by one.

-- `case_stats` now holds a row for every case: the case's own columns a report filters and
-- groups on (copied from `cases`), what the timeline says (as before), the company's response
-- clock (`response_clock_met`: 1 when every stopped response clock was met, 0 when one was
-- missed, NULL when none has stopped; `response_clock_at`: when the first was met) and how the
-- case ended (`root_cause`, `outcome`, from `case_facts`).
ALTER TABLE case_stats ADD COLUMN opened_at INTEGER;
ALTER TABLE case_stats ADD COLUMN closed_at INTEGER;
ALTER TABLE case_stats ADD COLUMN status TEXT;
ALTER TABLE case_stats ADD COLUMN office TEXT;
ALTER TABLE case_stats ADD COLUMN company_id INTEGER;
ALTER TABLE case_stats ADD COLUMN category_id INTEGER;
ALTER TABLE case_stats ADD COLUMN response_clock_met INTEGER;
ALTER TABLE case_stats ADD COLUMN response_clock_at INTEGER;
ALTER TABLE case_stats ADD COLUMN root_cause TEXT;
ALTER TABLE case_stats ADD COLUMN outcome TEXT;

INSERT INTO case_stats (case_id, opened_at, closed_at, status, office, company_id, category_id)
SELECT c.id, c.opened_at, c.closed_at, c.status, c.office, c.company_id, c.category_id FROM cases c WHERE 1
ON CONFLICT (case_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
    status = excluded.status, office = excluded.office, company_id = excluded.company_id,
    category_id = excluded.category_id;

UPDATE case_stats SET
    response_clock_met = (SELECT MIN(CASE WHEN k.outcome = 'met' THEN 1 ELSE 0 END) FROM clocks k
        WHERE k.case_id = case_stats.case_id AND k.name = 'company_response' AND k.stopped_at IS NOT NULL),
    response_clock_at = (SELECT MIN(k.stopped_at) FROM clocks k
        WHERE k.case_id = case_stats.case_id AND k.name = 'company_response' AND k.outcome = 'met')
WHERE case_id IN (SELECT case_id FROM clocks WHERE name = 'company_response');

UPDATE case_stats SET
    root_cause = (SELECT f.value FROM case_facts f WHERE f.case_id = case_stats.case_id AND f.name = 'root_cause'),
    outcome = (SELECT f.value FROM case_facts f WHERE f.case_id = case_stats.case_id AND f.name = 'outcome')
WHERE case_id IN (SELECT case_id FROM case_facts WHERE name IN ('root_cause', 'outcome'));

CREATE TRIGGER case_stats_case AFTER INSERT ON cases
BEGIN
    INSERT INTO case_stats (case_id, opened_at, closed_at, status, office, company_id, category_id)
    VALUES (NEW.id, NEW.opened_at, NEW.closed_at, NEW.status, NEW.office, NEW.company_id, NEW.category_id)
    ON CONFLICT (case_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
        status = excluded.status, office = excluded.office, company_id = excluded.company_id,
        category_id = excluded.category_id;
END;

CREATE TRIGGER case_stats_case_change AFTER UPDATE OF opened_at, closed_at, status, office, company_id, category_id
ON cases
BEGIN
    UPDATE case_stats SET opened_at = NEW.opened_at, closed_at = NEW.closed_at, status = NEW.status,
        office = NEW.office, company_id = NEW.company_id, category_id = NEW.category_id
    WHERE case_id = NEW.id;
END;

CREATE TRIGGER case_stats_clock AFTER INSERT ON clocks WHEN NEW.name = 'company_response'
BEGIN
    UPDATE case_stats SET
        response_clock_met = (SELECT MIN(CASE WHEN k.outcome = 'met' THEN 1 ELSE 0 END) FROM clocks k
            WHERE k.case_id = NEW.case_id AND k.name = 'company_response' AND k.stopped_at IS NOT NULL),
        response_clock_at = (SELECT MIN(k.stopped_at) FROM clocks k
            WHERE k.case_id = NEW.case_id AND k.name = 'company_response' AND k.outcome = 'met')
    WHERE case_id = NEW.case_id;
END;

CREATE TRIGGER case_stats_clock_change AFTER UPDATE OF name, stopped_at, outcome, case_id ON clocks
WHEN NEW.name = 'company_response' OR OLD.name = 'company_response'
BEGIN
    UPDATE case_stats SET
        response_clock_met = (SELECT MIN(CASE WHEN k.outcome = 'met' THEN 1 ELSE 0 END) FROM clocks k
            WHERE k.case_id = case_stats.case_id AND k.name = 'company_response' AND k.stopped_at IS NOT NULL),
        response_clock_at = (SELECT MIN(k.stopped_at) FROM clocks k
            WHERE k.case_id = case_stats.case_id AND k.name = 'company_response' AND k.outcome = 'met')
    WHERE case_id IN (NEW.case_id, OLD.case_id);
END;

CREATE TRIGGER case_stats_fact AFTER INSERT ON case_facts WHEN NEW.name IN ('root_cause', 'outcome')
BEGIN
    UPDATE case_stats SET
        root_cause = CASE WHEN NEW.name = 'root_cause' THEN NEW.value ELSE root_cause END,
        outcome = CASE WHEN NEW.name = 'outcome' THEN NEW.value ELSE outcome END
    WHERE case_id = NEW.case_id;
END;

CREATE TRIGGER case_stats_fact_change AFTER UPDATE ON case_facts
WHEN NEW.name IN ('root_cause', 'outcome') OR OLD.name IN ('root_cause', 'outcome')
BEGIN
    UPDATE case_stats SET
        root_cause = (SELECT f.value FROM case_facts f WHERE f.case_id = case_stats.case_id AND f.name = 'root_cause'),
        outcome = (SELECT f.value FROM case_facts f WHERE f.case_id = case_stats.case_id AND f.name = 'outcome')
    WHERE case_id IN (NEW.case_id, OLD.case_id);
END;

CREATE TRIGGER case_stats_fact_gone AFTER DELETE ON case_facts WHEN OLD.name IN ('root_cause', 'outcome')
BEGIN
    UPDATE case_stats SET
        root_cause = (SELECT f.value FROM case_facts f WHERE f.case_id = OLD.case_id AND f.name = 'root_cause'),
        outcome = (SELECT f.value FROM case_facts f WHERE f.case_id = OLD.case_id AND f.name = 'outcome')
    WHERE case_id = OLD.case_id;
END;

-- Complaints opened in a period, by company (the company report).
CREATE INDEX case_stats_opened ON case_stats (opened_at, company_id, status, office, response_clock_met,
    responses, timely_responses, escalated);
-- Cases closed in a period (the speed and root-cause reports).
CREATE INDEX case_stats_closed ON case_stats (closed_at, status, office, opened_at, first_contact_at,
    response_entry_at, response_clock_at, reopenings, root_cause, outcome, company_id, category_id);

-- A row a call, copied from the timeline (append-only) as each call is recorded: the direction,
-- the handle time and the caller's wait, when the entry gives them as whole seconds.
CREATE TABLE call_stats (
    entry_id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    inbound INTEGER NOT NULL,
    duration_seconds INTEGER,
    wait_seconds INTEGER
);

INSERT INTO call_stats (entry_id, case_id, at, inbound, duration_seconds, wait_seconds)
SELECT t.id, t.case_id, t.at,
    CASE WHEN json_valid(t.data) AND json_extract(t.data, '$.direction') = 'outbound' THEN 0 ELSE 1 END,
    CASE WHEN json_valid(t.data) AND json_type(t.data, '$.duration_seconds') = 'integer'
        THEN json_extract(t.data, '$.duration_seconds') END,
    CASE WHEN json_valid(t.data) AND json_type(t.data, '$.wait_seconds') = 'integer'
        THEN json_extract(t.data, '$.wait_seconds') END
FROM timeline t WHERE t.entry_type = 'call';

CREATE TRIGGER call_stats_entry AFTER INSERT ON timeline WHEN NEW.entry_type = 'call'
BEGIN
    INSERT INTO call_stats (entry_id, case_id, at, inbound, duration_seconds, wait_seconds)
    VALUES (NEW.id, NEW.case_id, NEW.at,
        CASE WHEN json_valid(NEW.data) AND json_extract(NEW.data, '$.direction') = 'outbound' THEN 0 ELSE 1 END,
        CASE WHEN json_valid(NEW.data) AND json_type(NEW.data, '$.duration_seconds') = 'integer'
            THEN json_extract(NEW.data, '$.duration_seconds') END,
        CASE WHEN json_valid(NEW.data) AND json_type(NEW.data, '$.wait_seconds') = 'integer'
            THEN json_extract(NEW.data, '$.wait_seconds') END);
END;

-- Calls in a period (the hotline report), in place of the index over the entries' text.
CREATE INDEX call_stats_at ON call_stats (at, inbound, duration_seconds, wait_seconds, case_id);
DROP INDEX timeline_calls;

-- Deadlines that ended in a period (the speed report), met or missed.
CREATE INDEX clocks_ended ON clocks (stopped_at, outcome, name, case_id);
