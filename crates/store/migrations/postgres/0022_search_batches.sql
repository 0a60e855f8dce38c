-- An import files a batch of cases in one transaction; keeping the search index in step entry by
-- entry would index each case's text again at every entry. While a row is in `search_deferred`
-- (only ever inside such a transaction, removed before it commits, so no other transaction sees
-- it) the triggers leave the new cases to the import, which indexes the whole batch at once.
CREATE TABLE search_deferred (id INTEGER PRIMARY KEY CHECK (id = 1));

CREATE OR REPLACE FUNCTION case_search_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_deferred) THEN
        RETURN NULL;
    END IF;
    INSERT INTO case_search (case_id, head, person) VALUES (NEW.id, case_search_head(NEW), case_search_person(NEW));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_search_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_deferred) THEN
        RETURN NULL;
    END IF;
    IF NEW.visibility = 'company' THEN
        UPDATE case_search SET shared = left(shared || ' ' || NEW.body, 200000)
        WHERE case_id = NEW.case_id AND length(shared) < 200000;
    ELSE
        UPDATE case_search SET internal = left(internal || ' ' || NEW.body, 200000)
        WHERE case_id = NEW.case_id AND length(internal) < 200000;
    END IF;
    RETURN NULL;
END $$;
