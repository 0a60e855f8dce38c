-- Full-text search over cases: one row per case, in four parts so that each reader searches only
-- what their role may read (weights in `doc`):
--   head     (A) the reference, company, category and description (every reader of the case);
--   shared   (B) the timeline entries the company sees;
--   internal (C) the other timeline entries (staff only);
--   person   (D) the consumer's name, email, phone and account number (those who see consumers).
-- Text is lower-cased, accents folded and punctuation made spaces before the `simple`
-- configuration splits it into words: the same words SQLite's FTS5 (`unicode61
-- remove_diacritics 2`) finds, so both stores answer a search alike. Triggers keep it exactly
-- in step with the cases in the same transaction. The timeline parts keep at most 200,000
-- characters of a case's entries (as on SQLite).
CREATE FUNCTION redress_search_words(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(
        translate(lower(t),
            'áàâäãåāéèêëēíìîïīóòôöõōúùûüūñçýÿ',
            'aaaaaaaeeeeeiiiiioooooouuuuuncyy'),
        '[[:punct:][:space:]]+', ' ', 'g')
$$;

CREATE TABLE case_search (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    head TEXT NOT NULL DEFAULT '',
    shared TEXT NOT NULL DEFAULT '',
    internal TEXT NOT NULL DEFAULT '',
    person TEXT NOT NULL DEFAULT '',
    doc TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, redress_search_words(head)), 'A')
        || setweight(to_tsvector('simple'::regconfig, redress_search_words(shared)), 'B')
        || setweight(to_tsvector('simple'::regconfig, redress_search_words(internal)), 'C')
        || setweight(to_tsvector('simple'::regconfig, redress_search_words(person)), 'D')
    ) STORED
);

INSERT INTO case_search (case_id, head, shared, internal, person)
SELECT c.id,
       c.reference || ' ' || COALESCE(co.name, '') || ' ' || COALESCE(cat.path, '') || ' ' || c.description,
       left(COALESCE((SELECT string_agg(t.body, ' ' ORDER BY t.seq) FROM timeline t WHERE t.case_id = c.id AND t.visibility = 'company'), ''), 200000),
       left(COALESCE((SELECT string_agg(t.body, ' ' ORDER BY t.seq) FROM timeline t WHERE t.case_id = c.id AND t.visibility <> 'company'), ''), 200000),
       COALESCE(p.name, '') || ' ' || COALESCE(p.email, '') || ' ' || COALESCE(p.phone, '') || ' ' || COALESCE(c.account_number, '')
FROM cases c
LEFT JOIN companies co ON co.id = c.company_id
LEFT JOIN categories cat ON cat.id = c.category_id
LEFT JOIN consumers p ON p.id = c.consumer_id;

CREATE INDEX case_search_doc ON case_search USING GIN (doc);

CREATE FUNCTION case_search_head(c cases) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT c.reference || ' ' || COALESCE((SELECT name FROM companies WHERE id = c.company_id), '') || ' '
        || COALESCE((SELECT path FROM categories WHERE id = c.category_id), '') || ' ' || c.description
$$;

CREATE FUNCTION case_search_person(c cases) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT COALESCE(name, '') || ' ' || COALESCE(email, '') || ' ' || COALESCE(phone, '')
        FROM consumers WHERE id = c.consumer_id), '') || ' ' || COALESCE(c.account_number, '')
$$;

CREATE FUNCTION case_search_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_search (case_id, head, person) VALUES (NEW.id, case_search_head(NEW), case_search_person(NEW));
    RETURN NULL;
END $$;
CREATE TRIGGER case_search_opened AFTER INSERT ON cases FOR EACH ROW EXECUTE FUNCTION case_search_opened();

CREATE FUNCTION case_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_search SET head = case_search_head(NEW), person = case_search_person(NEW) WHERE case_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER case_search_changed AFTER UPDATE OF description, company_id, category_id, account_number, consumer_id ON cases
    FOR EACH ROW EXECUTE FUNCTION case_search_changed();

CREATE FUNCTION case_search_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.visibility = 'company' THEN
        UPDATE case_search SET shared = left(shared || ' ' || NEW.body, 200000)
        WHERE case_id = NEW.case_id AND length(shared) < 200000;
    ELSE
        UPDATE case_search SET internal = left(internal || ' ' || NEW.body, 200000)
        WHERE case_id = NEW.case_id AND length(internal) < 200000;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER case_search_entry AFTER INSERT ON timeline FOR EACH ROW EXECUTE FUNCTION case_search_entry();

CREATE FUNCTION case_search_person_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_search s SET person = case_search_person(c) FROM cases c
    WHERE c.consumer_id = NEW.id AND s.case_id = c.id;
    RETURN NULL;
END $$;
CREATE TRIGGER case_search_person AFTER UPDATE OF name, email, phone ON consumers
    FOR EACH ROW EXECUTE FUNCTION case_search_person_changed();

CREATE FUNCTION case_search_company_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_search s SET head = case_search_head(c) FROM cases c
    WHERE c.company_id = NEW.id AND s.case_id = c.id;
    RETURN NULL;
END $$;
CREATE TRIGGER case_search_company AFTER UPDATE OF name ON companies
    FOR EACH ROW EXECUTE FUNCTION case_search_company_renamed();

-- Lists sorted by when cases were received, paged by (opened_at, id).
CREATE INDEX cases_opened_id ON cases (opened_at, id);
