-- When a clock's due-soon warning and its missed-deadline escalation were done (each once).
ALTER TABLE clocks ADD COLUMN warned_at BIGINT;
ALTER TABLE clocks ADD COLUMN escalated_at BIGINT;
