-- Forwarding findings to the relay and following them there (issue 6).

-- A change the relay refused for good (409, 422, …) is failed, with the
-- reason in last_error: it is not sent again, and the finding's later
-- changes go on without it.
ALTER TABLE outbox ADD COLUMN failed_at TEXT NOT NULL DEFAULT '';
-- When the last attempt was made (last_error says how it went).
ALTER TABLE outbox ADD COLUMN attempted_at TEXT NOT NULL DEFAULT '';
-- For a finding change after the first: the history entry that made the
-- revision, which says what the relay action is (edit, withdraw, …).
ALTER TABLE outbox ADD COLUMN event_id INTEGER REFERENCES finding_events (id);
CREATE INDEX outbox_finding ON outbox (finding_id, seq);

-- Every revision-bumping change writes its history entry and then its
-- outbox entry in one transaction (store.bump): the newest entry of the
-- finding is the one that made the revision.
CREATE TRIGGER outbox_event AFTER INSERT ON outbox
WHEN NEW.kind = 'finding' AND NEW.revision > 1
BEGIN
    UPDATE outbox SET event_id = (SELECT max(id) FROM finding_events WHERE finding_id = NEW.finding_id)
    WHERE seq = NEW.seq;
END;

-- Entries queued before this migration: the n-th change after the flag is
-- the n-th edit or withdrawal of the history.
UPDATE outbox SET event_id = (
    SELECT e.id FROM finding_events e
    WHERE e.finding_id = outbox.finding_id AND e.action IN ('edited', 'withdrawn')
      AND (SELECT count(*) FROM finding_events p
           WHERE p.finding_id = e.finding_id AND p.action IN ('edited', 'withdrawn') AND p.id <= e.id) = outbox.revision - 1)
WHERE kind = 'finding' AND revision > 1;

-- The fields an edit may change, as first flagged: the relay is sent the
-- finding as flagged and then each edit as an action, so that a resent
-- PUT after a crash is the same content, never a conflict.
CREATE TABLE finding_originals (
    id       TEXT PRIMARY KEY REFERENCES findings (id),
    severity TEXT NOT NULL,
    note     TEXT NOT NULL,
    deadline TEXT NOT NULL
);
CREATE TRIGGER findings_original AFTER INSERT ON findings
BEGIN
    INSERT INTO finding_originals (id, severity, note, deadline) VALUES (NEW.id, NEW.severity, NEW.note, NEW.deadline);
END;
-- Findings flagged before this migration: exact for those never edited,
-- and those edited were sent as they are now by no one yet.
INSERT INTO finding_originals (id, severity, note, deadline) SELECT id, severity, note, deadline FROM findings;

-- History entries brought from the relay (the site's acknowledgement and
-- rectification, another console's actions) carry the relay's change
-- cursor, so that a change applied twice is recorded once.
ALTER TABLE finding_events ADD COLUMN relay_cursor INTEGER;
ALTER TABLE finding_events ADD COLUMN role TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX finding_events_relay ON finding_events (finding_id, relay_cursor) WHERE relay_cursor IS NOT NULL;
