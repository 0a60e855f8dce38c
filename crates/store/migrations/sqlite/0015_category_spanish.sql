-- What a category is called in Spanish, for the public portal and Spanish-speaking staff. Empty
-- until an administrator names it; the English name stands in until then.
ALTER TABLE categories ADD COLUMN name_es TEXT;
