-- Findings shared across consoles (issue 11 §1). The console keeps a copy
-- of every finding the relay's changes feed (or the first list after a
-- sign-in) tells it of that it did not flag itself: origin 'relay'. A copy
-- is never filed with the relay again (it has no outbox entry of revision
-- 1); the officer's verify or reopen of it goes through the outbox like
-- one of their own findings'.
ALTER TABLE findings ADD COLUMN origin TEXT NOT NULL DEFAULT 'console' CHECK (origin IN ('console', 'relay'));

-- The relay's action id of a change made on a copy: revisions are counted
-- by each console apart, so a copy's change cannot take its action id from
-- the finding and revision as the console's own findings' do. '' for the
-- console's own.
ALTER TABLE finding_events ADD COLUMN action_id TEXT NOT NULL DEFAULT '';

-- The evidence the relay lists for a finding (any: a copy's snapshot and
-- clip, the site's photos, the re-checks' snapshots), by the relay's name
-- for it. file is the name it has under evidence/ (its SHA-256 and an
-- extension): fetched from the relay when first asked for, and served
-- from there after, the relay reachable or not.
CREATE TABLE relay_evidence (
    finding_id   TEXT NOT NULL REFERENCES findings (id),
    name         TEXT NOT NULL,                -- snapshot, clip, photo-N, recheck-CURSOR
    sha256       TEXT NOT NULL,
    bytes        INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    added_at     TEXT NOT NULL DEFAULT '',
    file         TEXT NOT NULL,
    PRIMARY KEY (finding_id, name)
);
CREATE INDEX relay_evidence_file ON relay_evidence (file);

-- The snapshot an officer re-checked a finding on, kept as the evidence of
-- their verify or reopen (the history entry event_id) and forwarded after
-- it (outbox kind 'recheck').
CREATE TABLE recheck_evidence (
    event_id   INTEGER PRIMARY KEY REFERENCES finding_events (id),
    finding_id TEXT NOT NULL REFERENCES findings (id),
    file       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recheck_evidence_file ON recheck_evidence (file);
