-- The work lists show a page of cases in the order of a column without ordering every case
-- first: they walk an index in that order and keep the cases the filters keep.

-- By next deadline: each running clock by its due instant (a case's next deadline is its first
-- running clock in this order).
CREATE INDEX clocks_running ON clocks (due_at, case_id) WHERE stopped_at IS NULL AND paused_at IS NULL;

-- By last activity (the home page's recent cases).
CREATE INDEX cases_updated ON cases (updated_at, id);
