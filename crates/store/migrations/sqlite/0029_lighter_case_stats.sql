-- Keeping `case_stats` costs filing less: every case now has its row (0028), so an entry only
-- updates what it changes, and only when it changes it. The one trigger that set all six of the
-- timeline's columns on every call, email, letter and status change (rewriting both report
-- indexes each time) becomes four, each setting its own columns: a first contact only when it
-- is earlier than the one known, an escalation only the first time. A change to a case copies
-- its columns only when one of them took a new value.
DROP TRIGGER case_stats_entry;

CREATE TRIGGER case_stats_contact AFTER INSERT ON timeline
WHEN NEW.entry_type = 'call' OR (NEW.entry_type IN ('email', 'letter') AND NEW.author_id IS NOT NULL)
BEGIN
    UPDATE case_stats SET first_contact_at = NEW.at
    WHERE case_id = NEW.case_id AND (first_contact_at IS NULL OR first_contact_at > NEW.at);
END;

CREATE TRIGGER case_stats_response AFTER INSERT ON timeline
WHEN NEW.data LIKE '%"event":"company_response"%'
BEGIN
    UPDATE case_stats SET
        response_entry_at = MIN(COALESCE(response_entry_at, NEW.at), NEW.at),
        responses = responses + 1,
        timely_responses = timely_responses + (CASE WHEN NEW.data LIKE '%"timely":true%' THEN 1 ELSE 0 END)
    WHERE case_id = NEW.case_id;
END;

CREATE TRIGGER case_stats_escalation AFTER INSERT ON timeline
WHEN NEW.entry_type = 'status_change' AND NEW.data LIKE '%"to_status":"escalated"%'
BEGIN
    UPDATE case_stats SET escalated = 1 WHERE case_id = NEW.case_id AND escalated = 0;
END;

CREATE TRIGGER case_stats_reopening AFTER INSERT ON timeline
WHEN NEW.entry_type = 'status_change'
    AND (NEW.data LIKE '%"from_status":"closed"%' OR NEW.data LIKE '%"from_status":"resolved"%')
    AND NEW.data NOT LIKE '%"to_status":"closed"%' AND NEW.data NOT LIKE '%"to_status":"resolved"%'
BEGIN
    UPDATE case_stats SET reopenings = reopenings + 1 WHERE case_id = NEW.case_id;
END;

DROP TRIGGER case_stats_case_change;
CREATE TRIGGER case_stats_case_change AFTER UPDATE OF opened_at, closed_at, status, office, company_id, category_id
ON cases
WHEN NEW.opened_at IS NOT OLD.opened_at OR NEW.closed_at IS NOT OLD.closed_at OR NEW.status IS NOT OLD.status
    OR NEW.office IS NOT OLD.office OR NEW.company_id IS NOT OLD.company_id OR NEW.category_id IS NOT OLD.category_id
BEGIN
    UPDATE case_stats SET opened_at = NEW.opened_at, closed_at = NEW.closed_at, status = NEW.status,
        office = NEW.office, company_id = NEW.company_id, category_id = NEW.category_id
    WHERE case_id = NEW.id;
END;
