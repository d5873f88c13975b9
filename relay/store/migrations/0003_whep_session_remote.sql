-- Where a viewer asked from (its HTTP client address), for the record.
ALTER TABLE whep_sessions ADD COLUMN remote_addr TEXT NOT NULL DEFAULT '';
