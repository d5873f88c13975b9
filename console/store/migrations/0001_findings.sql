-- Findings the duty officer flags, their evidence, their history, and the
-- outbox that forwards every change to the relay (issue 6). A finding and its
-- outbox entry are written in one transaction: nothing is flagged that is not
-- also queued for the site.
CREATE TABLE findings (
    id               TEXT PRIMARY KEY,            -- UUIDv7, also the relay's idempotency key
    site             TEXT NOT NULL,
    camera           TEXT NOT NULL,
    zone             TEXT NOT NULL DEFAULT '',
    template_id      TEXT NOT NULL DEFAULT '',
    template_version INTEGER NOT NULL DEFAULT 0,
    step             TEXT NOT NULL DEFAULT '',
    deviation        TEXT NOT NULL DEFAULT '',    -- catalogue id; '' for free text
    deviation_text   TEXT NOT NULL,               -- what the officer saw, in words
    severity         TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
    note             TEXT NOT NULL DEFAULT '',
    observer         TEXT NOT NULL,
    observed_at      TEXT NOT NULL,               -- wall-clock time of the video frame on screen
    flagged_at       TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'acknowledged', 'rectified', 'verified', 'reopened', 'withdrawn')),
    status_note      TEXT NOT NULL DEFAULT '',    -- the withdrawal reason, the re-check note
    revision         INTEGER NOT NULL DEFAULT 1,  -- bumped by every change
    updated_at       TEXT NOT NULL
);
CREATE INDEX findings_flagged ON findings (flagged_at);

CREATE TABLE evidence (
    finding_id  TEXT NOT NULL REFERENCES findings (id),
    kind        TEXT NOT NULL CHECK (kind IN ('snapshot', 'clip')),
    state       TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'incomplete')),
    file        TEXT NOT NULL DEFAULT '',         -- name under evidence/: sha256 + extension, once final
    sha256      TEXT NOT NULL DEFAULT '',
    bytes       INTEGER NOT NULL DEFAULT 0,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    starts_at   TEXT NOT NULL DEFAULT '',         -- clip: wall-clock time of its first frame
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (finding_id, kind)
);

CREATE TABLE finding_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,                     -- flagged, edited, withdrawn, evidence, …
    detail     TEXT NOT NULL DEFAULT '{}'         -- JSON
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, id);

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id      TEXT NOT NULL REFERENCES findings (id),
    kind            TEXT NOT NULL,                -- finding (its state at a revision), evidence
    revision        INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL DEFAULT '',
    sent_at         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (sent_at, seq);
