-- Two reports read their rows in the order they group them, so that the database adds them up as
-- it goes instead of sorting a year of rows first.

-- The company report counts company by company: its index leads with the company, then the
-- opening date, so each company's complaints of a period are one range.
DROP INDEX case_stats_opened;
CREATE INDEX case_stats_company ON case_stats (company_id, opened_at, status, office, response_clock_met,
    responses, timely_responses, escalated);

-- The hotline report counts calls per quarter hour: the quarter hour (UTC) a call came in is a
-- column, computed from its time, and leads the index.
ALTER TABLE call_stats ADD COLUMN quarter BIGINT GENERATED ALWAYS AS (at / 900000000) STORED;
DROP INDEX call_stats_at;
CREATE INDEX call_stats_quarter ON call_stats (quarter, at, inbound, duration_seconds, wait_seconds, case_id);
