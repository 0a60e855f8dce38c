-- Letters on paper. Every letter a step writes is kept here as written (with the address it
-- goes to), so that any of them can be printed; those to be mailed wait in the print queue
-- (state `queued`) until a batch gathers them (`batched`) and is marked mailed (`mailed`, with
-- the date). A letter whose step left its mailing date to the print queue names that field in
-- `awaiting_field`: marking it mailed records the date on the case and starts the clocks that
-- count from it. `emailed`: went by email only; `not_queued`: for the record (a company's copy).
CREATE TABLE letter_batches (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    -- The day the batch is printed for (its letters carry it as their mailing date).
    mail_on TEXT NOT NULL,
    mailed_on TEXT,
    mailed_at INTEGER,
    mailed_by TEXT
);

CREATE TABLE letters (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    transition TEXT NOT NULL,
    addressee TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The address block, one line per line: name, street, city, state and ZIP.
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    awaiting_field TEXT,
    batch_id INTEGER REFERENCES letter_batches(id),
    mailed_on TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX letters_state ON letters(state, id);
CREATE INDEX letters_case ON letters(case_id, id);
CREATE INDEX letters_batch ON letters(batch_id, id);
