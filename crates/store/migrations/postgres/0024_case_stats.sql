-- What the speed and company reports need of each case's timeline, kept as the timeline grows
-- (it is append-only, so an insert trigger keeps it exact): when someone first reached the
-- consumer, when the company first answered and how often (on time or not), whether the case
-- was ever escalated and how often it was reopened. The reports read one row a case instead of
-- searching each case's entries.
CREATE TABLE case_stats (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    first_contact_at BIGINT,
    response_entry_at BIGINT,
    responses BIGINT NOT NULL DEFAULT 0,
    timely_responses BIGINT NOT NULL DEFAULT 0,
    escalated BIGINT NOT NULL DEFAULT 0,
    reopenings BIGINT NOT NULL DEFAULT 0
);

INSERT INTO case_stats (case_id, first_contact_at, response_entry_at, responses, timely_responses, escalated, reopenings)
SELECT t.case_id,
    MIN(CASE WHEN t.entry_type = 'call' OR (t.entry_type IN ('email', 'letter') AND t.author_id IS NOT NULL) THEN t.at END),
    MIN(CASE WHEN t.data LIKE '%"event":"company_response"%' THEN t.at END),
    SUM(CASE WHEN t.data LIKE '%"event":"company_response"%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.data LIKE '%"event":"company_response"%' AND t.data LIKE '%"timely":true%' THEN 1 ELSE 0 END),
    MAX(CASE WHEN t.entry_type = 'status_change' AND t.data LIKE '%"to_status":"escalated"%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.entry_type = 'status_change'
        AND (t.data LIKE '%"from_status":"closed"%' OR t.data LIKE '%"from_status":"resolved"%')
        AND t.data NOT LIKE '%"to_status":"closed"%' AND t.data NOT LIKE '%"to_status":"resolved"%' THEN 1 ELSE 0 END)
FROM timeline t
WHERE t.entry_type IN ('call', 'email', 'letter', 'status_change') OR t.data LIKE '%"event":"company_response"%'
GROUP BY t.case_id;

CREATE FUNCTION redress_case_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    response BOOLEAN := NEW.data LIKE '%"event":"company_response"%';
BEGIN
    INSERT INTO case_stats AS s (case_id, first_contact_at, response_entry_at, responses, timely_responses, escalated, reopenings)
    VALUES (NEW.case_id,
        CASE WHEN NEW.entry_type = 'call' OR (NEW.entry_type IN ('email', 'letter') AND NEW.author_id IS NOT NULL) THEN NEW.at END,
        CASE WHEN response THEN NEW.at END,
        CASE WHEN response THEN 1 ELSE 0 END,
        CASE WHEN response AND NEW.data LIKE '%"timely":true%' THEN 1 ELSE 0 END,
        CASE WHEN NEW.entry_type = 'status_change' AND NEW.data LIKE '%"to_status":"escalated"%' THEN 1 ELSE 0 END,
        CASE WHEN NEW.entry_type = 'status_change'
            AND (NEW.data LIKE '%"from_status":"closed"%' OR NEW.data LIKE '%"from_status":"resolved"%')
            AND NEW.data NOT LIKE '%"to_status":"closed"%' AND NEW.data NOT LIKE '%"to_status":"resolved"%' THEN 1 ELSE 0 END)
    ON CONFLICT (case_id) DO UPDATE SET
        first_contact_at = LEAST(s.first_contact_at, excluded.first_contact_at),
        response_entry_at = LEAST(s.response_entry_at, excluded.response_entry_at),
        responses = s.responses + excluded.responses,
        timely_responses = s.timely_responses + excluded.timely_responses,
        escalated = GREATEST(s.escalated, excluded.escalated),
        reopenings = s.reopenings + excluded.reopenings;
    RETURN NULL;
END $$;

CREATE TRIGGER case_stats_entry AFTER INSERT ON timeline FOR EACH ROW
    WHEN (NEW.entry_type IN ('call', 'email', 'letter', 'status_change') OR NEW.data LIKE '%"event":"company_response"%')
    EXECUTE FUNCTION redress_case_stats();

-- The reports' periods: cases closed in a period, and cases still open by when they opened.
CREATE INDEX cases_closed ON cases (closed_at);
CREATE INDEX cases_still_open ON cases (opened_at) WHERE closed_at IS NULL;
