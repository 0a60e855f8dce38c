-- A consumer record that staff decided is the same person as another points at the record kept.
-- Its own values stay as they were, so nothing that was entered is lost.
ALTER TABLE consumers ADD COLUMN merged_into INTEGER REFERENCES consumers(id);
