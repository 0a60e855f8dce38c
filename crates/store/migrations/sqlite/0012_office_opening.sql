-- The hour each office opens: working-hour clocks count from then to its closing hour.
ALTER TABLE offices ADD COLUMN opens_at INTEGER NOT NULL DEFAULT 9;
