-- Keeping `case_stats` costs filing less: every case now has its row (0028), so an entry only
-- updates it when it changes something (a first contact earlier than the one known, a
-- response, the first escalation, a reopening), instead of an upsert on every call, email,
-- letter and status change. A change to a case copies its columns only when one of them took a
-- new value.
CREATE OR REPLACE FUNCTION redress_case_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    contact BOOLEAN := NEW.entry_type = 'call' OR (NEW.entry_type IN ('email', 'letter') AND NEW.author_id IS NOT NULL);
    response BOOLEAN := NEW.data LIKE '%"event":"company_response"%';
    escalation BOOLEAN := NEW.entry_type = 'status_change' AND NEW.data LIKE '%"to_status":"escalated"%';
    reopening BOOLEAN := NEW.entry_type = 'status_change'
        AND (NEW.data LIKE '%"from_status":"closed"%' OR NEW.data LIKE '%"from_status":"resolved"%')
        AND NEW.data NOT LIKE '%"to_status":"closed"%' AND NEW.data NOT LIKE '%"to_status":"resolved"%';
BEGIN
    IF NOT (contact OR response OR escalation OR reopening) THEN
        RETURN NULL;
    END IF;
    UPDATE case_stats s SET
        first_contact_at = CASE WHEN contact THEN LEAST(s.first_contact_at, NEW.at) ELSE s.first_contact_at END,
        response_entry_at = CASE WHEN response THEN LEAST(s.response_entry_at, NEW.at) ELSE s.response_entry_at END,
        responses = s.responses + CASE WHEN response THEN 1 ELSE 0 END,
        timely_responses = s.timely_responses
            + CASE WHEN response AND NEW.data LIKE '%"timely":true%' THEN 1 ELSE 0 END,
        escalated = CASE WHEN escalation THEN 1 ELSE s.escalated END,
        reopenings = s.reopenings + CASE WHEN reopening THEN 1 ELSE 0 END
    WHERE s.case_id = NEW.case_id
        AND (response OR reopening OR (escalation AND s.escalated = 0)
            OR (contact AND (s.first_contact_at IS NULL OR s.first_contact_at > NEW.at)));
    RETURN NULL;
END $$;

DROP TRIGGER case_stats_case_change ON cases;
CREATE TRIGGER case_stats_case_change AFTER UPDATE OF opened_at, closed_at, status, office, company_id, category_id
    ON cases FOR EACH ROW
    WHEN (OLD.opened_at IS DISTINCT FROM NEW.opened_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.office IS DISTINCT FROM NEW.office
        OR OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.category_id IS DISTINCT FROM NEW.category_id)
    EXECUTE FUNCTION redress_case_stats_case();
