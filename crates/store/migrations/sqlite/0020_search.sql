-- Full-text search over cases: one row per case (rowid = the case's id), in four columns so that
-- each reader searches only what their role may read:
--   head     the reference, company, category and description (every reader of the case);
--   shared   the timeline entries the company sees;
--   internal the other timeline entries (staff only);
--   person   the consumer's name, email, phone and account number (those who see consumers).
-- Accents are folded (`remove_diacritics 2`), so "Díaz" finds "diaz" and the other way round.
-- Triggers keep it exactly in step with the cases in the same transaction. The timeline
-- columns keep at most 200,000 characters of a case's entries (PostgreSQL keeps the same).
CREATE VIRTUAL TABLE case_search USING fts5(
    head, shared, internal, person,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO case_search (rowid, head, shared, internal, person)
SELECT c.id,
       c.reference || ' ' || COALESCE(co.name, '') || ' ' || COALESCE(cat.path, '') || ' ' || c.description,
       substr(COALESCE((SELECT group_concat(t.body, ' ') FROM (SELECT body FROM timeline WHERE case_id = c.id AND visibility = 'company' ORDER BY seq) t), ''), 1, 200000),
       substr(COALESCE((SELECT group_concat(t.body, ' ') FROM (SELECT body FROM timeline WHERE case_id = c.id AND visibility <> 'company' ORDER BY seq) t), ''), 1, 200000),
       COALESCE(p.name, '') || ' ' || COALESCE(p.email, '') || ' ' || COALESCE(p.phone, '') || ' ' || COALESCE(c.account_number, '')
FROM cases c
LEFT JOIN companies co ON co.id = c.company_id
LEFT JOIN categories cat ON cat.id = c.category_id
LEFT JOIN consumers p ON p.id = c.consumer_id;

CREATE TRIGGER case_search_opened AFTER INSERT ON cases BEGIN
    INSERT INTO case_search (rowid, head, shared, internal, person) VALUES (
        NEW.id,
        NEW.reference || ' ' || COALESCE((SELECT name FROM companies WHERE id = NEW.company_id), '') || ' '
            || COALESCE((SELECT path FROM categories WHERE id = NEW.category_id), '') || ' ' || NEW.description,
        '', '',
        COALESCE((SELECT COALESCE(name, '') || ' ' || COALESCE(email, '') || ' ' || COALESCE(phone, '') FROM consumers WHERE id = NEW.consumer_id), '')
            || ' ' || COALESCE(NEW.account_number, ''));
END;

CREATE TRIGGER case_search_changed AFTER UPDATE OF description, company_id, category_id, account_number, consumer_id ON cases BEGIN
    UPDATE case_search SET
        head = NEW.reference || ' ' || COALESCE((SELECT name FROM companies WHERE id = NEW.company_id), '') || ' '
            || COALESCE((SELECT path FROM categories WHERE id = NEW.category_id), '') || ' ' || NEW.description,
        person = COALESCE((SELECT COALESCE(name, '') || ' ' || COALESCE(email, '') || ' ' || COALESCE(phone, '') FROM consumers WHERE id = NEW.consumer_id), '')
            || ' ' || COALESCE(NEW.account_number, '')
    WHERE rowid = NEW.id;
END;

CREATE TRIGGER case_search_entry AFTER INSERT ON timeline BEGIN
    UPDATE case_search SET shared = substr(shared || ' ' || NEW.body, 1, 200000)
    WHERE rowid = NEW.case_id AND NEW.visibility = 'company' AND length(shared) < 200000;
    UPDATE case_search SET internal = substr(internal || ' ' || NEW.body, 1, 200000)
    WHERE rowid = NEW.case_id AND NEW.visibility <> 'company' AND length(internal) < 200000;
END;

CREATE TRIGGER case_search_person AFTER UPDATE OF name, email, phone ON consumers BEGIN
    UPDATE case_search SET person = COALESCE(NEW.name, '') || ' ' || COALESCE(NEW.email, '') || ' ' || COALESCE(NEW.phone, '')
        || ' ' || COALESCE((SELECT account_number FROM cases WHERE id = case_search.rowid), '')
    WHERE rowid IN (SELECT id FROM cases WHERE consumer_id = NEW.id);
END;

CREATE TRIGGER case_search_company AFTER UPDATE OF name ON companies BEGIN
    UPDATE case_search SET head = (
        SELECT c.reference || ' ' || NEW.name || ' ' || COALESCE(cat.path, '') || ' ' || c.description
        FROM cases c LEFT JOIN categories cat ON cat.id = c.category_id WHERE c.id = case_search.rowid)
    WHERE rowid IN (SELECT id FROM cases WHERE company_id = NEW.id);
END;

-- Lists sorted by when cases were received, paged by (opened_at, id).
CREATE INDEX cases_opened_id ON cases (opened_at, id);
