-- The hour each office closes: deadlines fall due then, in the office's time zone.
ALTER TABLE offices ADD COLUMN closes_at INTEGER NOT NULL DEFAULT 17;
