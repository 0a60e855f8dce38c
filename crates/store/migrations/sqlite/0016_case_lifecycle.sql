-- The lifecycle a case follows, by id (its file's name): a kind may have several (a utility's
-- customers, everyone else). Cases opened before this column existed follow their kind's
-- general lifecycle.
ALTER TABLE cases ADD COLUMN lifecycle TEXT;
