-- The reports count a third of a million cases a year at a million cases. These indexes carry
-- every column the counts read (never the description), so the cases table itself is not read.
DROP INDEX cases_closed;
DROP INDEX cases_still_open;
-- cases_opened_id (opened_at, id) serves what this one did.
DROP INDEX cases_opened;
-- Cases opened in a period (workload, trends, companies).
CREATE INDEX cases_report_opened ON cases (opened_at, status, company_id, category_id, channel, kind, unit_id,
    assignee_id);
-- Cases closed in a period (workload, speed), and those opened before a moment and closed after it.
CREATE INDEX cases_report_closed ON cases (closed_at, opened_at, status, company_id, category_id, channel, kind,
    unit_id, assignee_id);
-- Cases still open (backlog, and the open count of every period).
CREATE INDEX cases_report_open ON cases (opened_at, status, company_id, category_id, channel, kind, unit_id,
    assignee_id) WHERE closed_at IS NULL;
-- Calls in a period (hotline).
CREATE INDEX timeline_calls ON timeline (at, data) WHERE entry_type = 'call';
