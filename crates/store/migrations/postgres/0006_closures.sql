-- Days an office is closed beyond the rule-based New York State holidays (snow days, proclaimed days).
CREATE TABLE office_closures (
    office TEXT NOT NULL REFERENCES offices(code),
    day TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (office, day)
);
