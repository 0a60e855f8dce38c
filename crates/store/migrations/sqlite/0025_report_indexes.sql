-- The reports read a third of a million cases a year at a million cases; these indexes carry
-- every column they read (not the description), so the cases table itself is not read.
DROP INDEX cases_closed;
DROP INDEX cases_still_open;
-- Cases opened in a period (workload, trends, companies).
CREATE INDEX cases_report_opened ON cases (opened_at, status, closed_at, kind, channel, unit_id, assignee_id,
    category_id, company_id, reference);
-- Cases closed in a period (speed, and the cases opened before a period but open in it).
CREATE INDEX cases_report_closed ON cases (closed_at, opened_at, status, kind, channel, unit_id, assignee_id,
    category_id, company_id, reference);
-- Cases still open (backlog).
CREATE INDEX cases_report_open ON cases (opened_at, status, kind, channel, unit_id, assignee_id, category_id,
    company_id, reference) WHERE closed_at IS NULL;
-- Calls in a period (hotline).
CREATE INDEX timeline_calls ON timeline (at, data) WHERE entry_type = 'call';
