-- An import files a batch of cases in one transaction; keeping the search index in step entry by
-- entry would index each case's text again at every entry. While a row is in `search_deferred`
-- (only ever inside such a transaction, removed before it commits) the triggers leave the new
-- cases to the import, which indexes the whole batch at once before committing.
CREATE TABLE search_deferred (id INTEGER PRIMARY KEY CHECK (id = 1));

DROP TRIGGER case_search_opened;
CREATE TRIGGER case_search_opened AFTER INSERT ON cases WHEN NOT EXISTS (SELECT 1 FROM search_deferred) BEGIN
    INSERT INTO case_search (rowid, head, shared, internal, person) VALUES (
        NEW.id,
        NEW.reference || ' ' || COALESCE((SELECT name FROM companies WHERE id = NEW.company_id), '') || ' '
            || COALESCE((SELECT path FROM categories WHERE id = NEW.category_id), '') || ' ' || NEW.description,
        '', '',
        COALESCE((SELECT COALESCE(name, '') || ' ' || COALESCE(email, '') || ' ' || COALESCE(phone, '') FROM consumers WHERE id = NEW.consumer_id), '')
            || ' ' || COALESCE(NEW.account_number, ''));
END;

DROP TRIGGER case_search_entry;
CREATE TRIGGER case_search_entry AFTER INSERT ON timeline WHEN NOT EXISTS (SELECT 1 FROM search_deferred) BEGIN
    UPDATE case_search SET shared = substr(shared || ' ' || NEW.body, 1, 200000)
    WHERE rowid = NEW.case_id AND NEW.visibility = 'company' AND length(shared) < 200000;
    UPDATE case_search SET internal = substr(internal || ' ' || NEW.body, 1, 200000)
    WHERE rowid = NEW.case_id AND NEW.visibility <> 'company' AND length(internal) < 200000;
END;
