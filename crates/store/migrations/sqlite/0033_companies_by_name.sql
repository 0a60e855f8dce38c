-- The work lists by company walk the companies by name (as the lists compare them: lower case),
-- each company's cases newest first, instead of sorting every case by its company's name.
CREATE INDEX companies_by_name ON companies (LOWER(name), id);
