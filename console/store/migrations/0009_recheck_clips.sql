-- The clip around a re-check (issue 11 §1): a verify or reopen made on a
-- camera keeps the video around that moment as a flag does (the same pre-
-- and post-roll, recorded, filed, recovered after a crash and forwarded the
-- same way). One clip a re-check, keyed by its history entry: a finding
-- re-checked twice keeps both. It is recorded as partial/recheck-EVENT.mp4
-- and filed under its SHA-256 as the finding's clip is; once filed it is
-- queued for the relay (outbox kind 'recheck_clip', event_id its
-- re-check), after the change it documents.
CREATE TABLE recheck_clips (
    event_id    INTEGER PRIMARY KEY REFERENCES finding_events (id),
    finding_id  TEXT NOT NULL REFERENCES findings (id),
    revision    INTEGER NOT NULL,                 -- the finding's revision the re-check made: its relay action id
    site        TEXT NOT NULL,
    camera      TEXT NOT NULL,                    -- the camera re-checked on
    stream      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'incomplete')),
    file        TEXT NOT NULL DEFAULT '',
    sha256      TEXT NOT NULL DEFAULT '',
    bytes       INTEGER NOT NULL DEFAULT 0,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    starts_at   TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recheck_clips_finding ON recheck_clips (finding_id);
CREATE INDEX recheck_clips_file ON recheck_clips (file);
