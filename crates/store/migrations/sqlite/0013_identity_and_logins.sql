-- A consumer record that staff decided is the same person as another points at the record kept.
-- Its own values stay as they were, so nothing that was entered is lost.
ALTER TABLE consumers ADD COLUMN merged_into INTEGER REFERENCES consumers(id);

-- Failed logins, counted per username as typed (whether or not it exists, so that answers never
-- tell which names are real) and address, and per address over every username ('*'). A lock
-- holds that pair (or that address) only: nobody elsewhere can lock a user out.
CREATE TABLE login_throttle (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER,
    last_failed_at INTEGER NOT NULL,
    PRIMARY KEY (username, address)
);
